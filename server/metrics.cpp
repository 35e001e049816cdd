#include "server/metrics.h"

#include <algorithm>

#include <prometheus/text_serializer.h>

namespace mssearch {

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(prometheus::BuildCounter()
                    .Name("mssearch_http_requests_total")
                    .Help("HTTP requests by route and status")
                    .Register(*registry_)),
      latency_(prometheus::BuildHistogram()
                   .Name("mssearch_http_request_duration_seconds")
                   .Help("HTTP request latency by route")
                   .Register(*registry_)),
      documents_(prometheus::BuildGauge()
                     .Name("mssearch_index_documents")
                     .Help("Articles in the index")
                     .Register(*registry_)
                     .Add({})),
      revision_(prometheus::BuildGauge()
                    .Name("mssearch_index_revision")
                    .Help("Revision of the index being served")
                    .Register(*registry_)
                    .Add({})),
      ready_(prometheus::BuildGauge()
                 .Name("mssearch_ready")
                 .Help("1 when the index is open and answering")
                 .Register(*registry_)
                 .Add({})),
      shards_(prometheus::BuildGauge()
                  .Name("mssearch_shard_up")
                  .Help("1 when a configured database (shard) answers, 0 when it is left out")
                  .Register(*registry_)),
      replicas_failing_(prometheus::BuildGauge()
                            .Name("mssearch_shard_replicas_failing")
                            .Help("Replicas of a shard whose last call failed or missed its deadline (the shard may "
                                  "still be up on the others)")
                            .Register(*registry_)),
      replicas_behind_(prometheus::BuildGauge()
                           .Name("mssearch_shard_replicas_behind")
                           .Help("Replicas of a shard at an older revision than another replica (searched only "
                                 "when no current one answers): a replication that is late or stuck")
                           .Register(*registry_)),
      cuts_(prometheus::BuildCounter()
                .Name("mssearch_http_connections_cut_total")
                .Help("Connections cut or refused by the server, by reason (request_timeout, idle_timeout, "
                      "write_timeout, too_large, bad_framing, queue_full, evicted, refused)")
                .Register(*registry_)),
      answers_(prometheus::BuildCounter()
                   .Name("mssearch_search_answers_total")
                   .Help("Search answers that had to say something: timed_out (cut by the time limit, counts are "
                         "estimates), damaged_article (an article left out: its stored data is damaged), "
                         "words_dropped (a long question searched by its most informative words), "
                         "partial (shards left out: down or too slow)")
                   .Register(*registry_)),
      open_connections_(prometheus::BuildGauge()
                            .Name("mssearch_http_connections_open")
                            .Help("Open HTTP connections")
                            .Register(*registry_)
                            .Add({})),
      queued_requests_(prometheus::BuildGauge()
                           .Name("mssearch_http_requests_queued")
                           .Help("Whole requests waiting for a worker thread")
                           .Register(*registry_)
                           .Add({})),
      analytics_dropped_(prometheus::BuildCounter()
                             .Name("mssearch_analytics_dropped_events_total")
                             .Help("Search analytics events dropped since start (queue full or database errors); "
                                   "searches are never slowed or failed by analytics")
                             .Register(*registry_)
                             .Add({})),
      round_trips_(prometheus::BuildCounter()
                       .Name("mssearch_shard_round_trips_total")
                       .Help("Round trips from this coordinator to its shard servers, for searches")
                       .Register(*registry_)
                       .Add({})),
      sliced_(prometheus::BuildCounter()
                  .Name("mssearch_sliced_matches_total")
                  .Help("Searches whose match was cut into slices of the index matched at once on free cores "
                        "(match_slices)")
                  .Register(*registry_)
                  .Add({})),
      round_trips_per_search_(prometheus::BuildHistogram()
                                  .Name("mssearch_shard_round_trips_per_search")
                                  .Help("Round trips to shard servers one search took, all shards together (at "
                                        "most 2 per shard once its statistics are known, one more when related articles run short and one more "
                                        "for a page far down's hits, two more once after a shard's commit, one more for each damaged "
                                        "answer sent again to another replica; a corrected query is a second search)")
                                  .Register(*registry_)
                                  .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128})),
      cache_lookups_(prometheus::BuildCounter()
                         .Name("mssearch_result_cache_lookups_total")
                         .Help("Searches looked up in the result cache since start, by outcome (hit: answered "
                               "from an answer kept for the same search of the same index revision)")
                         .Register(*registry_)),
      cache_entries_(prometheus::BuildGauge()
                         .Name("mssearch_result_cache_entries")
                         .Help("Answers kept in the result cache")
                         .Register(*registry_)
                         .Add({})) {}

void Metrics::set_result_cache(double hits, double misses, double entries) {
  // Counters only go up: each takes what the cache counted since the last scrape.
  std::lock_guard lock(cache_mutex_);
  if (hits > hits_counted_) cache_lookups_.Add({{"outcome", "hit"}}).Increment(hits - hits_counted_);
  if (misses > misses_counted_) cache_lookups_.Add({{"outcome", "miss"}}).Increment(misses - misses_counted_);
  hits_counted_ = std::max(hits_counted_, hits);
  misses_counted_ = std::max(misses_counted_, misses);
  cache_entries_.Set(entries);
}

void Metrics::count_round_trips(std::size_t trips) {
  round_trips_.Increment(static_cast<double>(trips));
  round_trips_per_search_.Observe(static_cast<double>(trips));
}

void Metrics::count_sliced() { sliced_.Increment(); }

void Metrics::set_analytics_dropped(double dropped) {
  // A counter only goes up: it takes what the recorder dropped since the last scrape.
  std::lock_guard lock(dropped_mutex_);
  if (dropped > dropped_counted_) analytics_dropped_.Increment(dropped - dropped_counted_);
  dropped_counted_ = std::max(dropped_counted_, dropped);
}

void Metrics::count_answer(std::string_view what) { answers_.Add({{"what", std::string(what)}}).Increment(); }

void Metrics::count_cut(std::string_view reason) { cuts_.Add({{"reason", std::string(reason)}}).Increment(); }

void Metrics::set_connections(double open, double queued) {
  open_connections_.Set(open);
  queued_requests_.Set(queued);
}

void Metrics::set_shard(const ShardStatus& shard) {
  shards_.Add({{"shard", shard.name}}).Set(shard.up ? 1 : 0);
  replicas_failing_.Add({{"shard", shard.name}}).Set(static_cast<double>(shard.replicas_failing));
  replicas_behind_.Add({{"shard", shard.name}}).Set(static_cast<double>(shard.replicas_behind));
}

void Metrics::observe(const std::string& route, int status, double seconds) {
  requests_.Add({{"route", route}, {"status", std::to_string(status)}}).Increment();
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
  latency_.Add({{"route", route}}, kBuckets).Observe(seconds);
}

void Metrics::set_index(double documents, double revision) {
  documents_.Set(documents);
  revision_.Set(revision);
}

void Metrics::set_ready(bool ready) { ready_.Set(ready ? 1 : 0); }

std::string Metrics::render() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace mssearch
