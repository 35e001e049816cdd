// What the benchmark programs share: timing, percentiles, peak memory, and the one JSON line
// each prints (bench/report.cpp turns those lines into the README's table and plot).
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/corpus_generator.h"

namespace CLI {
class App;
}

namespace mssearch::bench {

// The generated collection and query mix every benchmark program measures: the same options,
// the same defaults, so that their figures compare.
struct CollectionOptions {
  std::size_t articles = 10000;
  std::size_t queries = 600;
  std::uint64_t seed = 42;
};

// --articles, --queries and --seed.
void add_collection_options(CLI::App& app, CollectionOptions& options);

// A --dir the program empties at the start and removes at the end: one that holds anything
// already (`--dir .`, a home directory, another run's files) is refused, not wiped. Says why on
// stderr, as `tool: --dir DIR: ...`, and returns true when refused.
bool refuse_used_dir(std::string_view tool, const std::string& dir);

using Clock = std::chrono::steady_clock;

inline double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// Peak resident memory of this process so far, in MiB.
inline double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// {"p50","p95","p99","mean"} of latencies in ms.
inline nlohmann::json latency_json(const std::vector<double>& ms) {
  double sum = 0;
  for (double v : ms) sum += v;
  return {{"p50", percentile(ms, 50)}, {"p95", percentile(ms, 95)}, {"p99", percentile(ms, 99)},
          {"mean", ms.empty() ? 0.0 : sum / static_cast<double>(ms.size())}};
}

// Bytes of article text (title, takeaway, body) in the collection: the "corpus size" that
// index sizes and MB/s are measured against.
inline std::uint64_t article_bytes(const Article& a) { return a.title.size() + a.takeaway.size() + a.body_text.size(); }
inline std::uint64_t corpus_bytes(const std::vector<Article>& articles) {
  std::uint64_t n = 0;
  for (const auto& a : articles) n += article_bytes(a);
  return n;
}

std::uint64_t directory_bytes(const std::string& path);

// The figures of one full index build, named as every benchmark program reports them.
nlohmann::json index_json(std::size_t articles, double index_ms, double rss_before_mib, double rss_after_mib,
                          std::uint64_t corpus_bytes, const std::string& index_dir);

}  // namespace mssearch::bench
