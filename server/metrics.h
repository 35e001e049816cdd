// Metrics in the Prometheus text format (prometheus-cpp): requests by route and status, a
// latency histogram by route, the index's document count and revision, and the connections the
// connection gate cut or refused, by reason.
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "searcher/options.h"

namespace mssearch {

class Metrics {
 public:
  Metrics();
  void observe(const std::string& route, int status, double seconds);
  void set_index(double documents, double revision);
  void set_ready(bool ready);
  // One gauge per configured database (1 up, 0 left out of answers).
  // A shard's state: up, and how many of its replicas are failing (a shard still up on its
  // other replicas is mended before the last one goes).
  void set_shard(const ShardStatus& shard);
  // A connection cut or refused (connection_gate.h lists the reasons).
  void count_cut(std::string_view reason);
  void set_connections(double open, double queued);
  // Analytics events dropped so far (queue full or database errors), as the recorder counts
  // them: the counter mssearch_analytics_dropped_events_total follows it.
  void set_analytics_dropped(double dropped);
  // What search answers had to say: cut by the time limit ("timed_out"), articles left out
  // because their stored data is damaged ("damaged_article"), a long question's words dropped
  // ("words_dropped"), shards left out ("partial").
  void count_answer(std::string_view what);
  // A coordinator's search: the round trips to its shard servers it took.
  void count_round_trips(std::size_t trips);
  // A search whose match was cut into slices matched at once (SearcherOptions::match_slices).
  void count_sliced();
  // The shared result cache's lookups (hits, misses since start) and its entries.
  void set_result_cache(double hits, double misses, double entries);
  std::string render() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Gauge& documents_;
  prometheus::Gauge& revision_;
  prometheus::Gauge& ready_;
  prometheus::Family<prometheus::Gauge>& shards_;
  prometheus::Family<prometheus::Gauge>& replicas_failing_;
  prometheus::Family<prometheus::Gauge>& replicas_behind_;
  prometheus::Family<prometheus::Counter>& cuts_;
  prometheus::Family<prometheus::Counter>& answers_;
  prometheus::Gauge& open_connections_;
  prometheus::Gauge& queued_requests_;
  prometheus::Counter& analytics_dropped_;
  prometheus::Counter& round_trips_;
  prometheus::Counter& sliced_;
  prometheus::Histogram& round_trips_per_search_;
  prometheus::Family<prometheus::Counter>& cache_lookups_;
  prometheus::Gauge& cache_entries_;
  std::mutex cache_mutex_;
  double hits_counted_ = 0, misses_counted_ = 0;
  std::mutex dropped_mutex_;
  double dropped_counted_ = 0;
};

}  // namespace mssearch
