// search_bench: latency of the full search answer (top 10 + snippets + exact topic/year/
// journal facets + related articles) on a generated collection with a fixed query mix.
// A benchmark, not a test: it prints figures and asserts nothing about time.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "bench/corpus_generator.h"
#include "indexer/indexer.h"
#include "searcher/searcher.h"

using namespace mssearch;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"search_bench: full-answer latency on a generated collection"};
  std::size_t articles = 10000, queries = 600;
  std::uint64_t seed = 42;
  std::string db;
  app.add_option("--articles", articles, "Articles to generate (default 10000)");
  app.add_option("--queries", queries, "Queries in the mix (default 600)");
  app.add_option("--seed", seed, "Generator seed (default 42)");
  std::size_t shards = 0;
  std::vector<std::string> databases;
  bool skip_index = false;
  std::size_t related = 5;
  app.add_option("--related", related, "Related articles in each answer (default 5; 0: none)");
  app.add_option("--db", db, "Index directory (default: a temporary one, removed afterwards)");
  app.add_option("--shards", shards, "Index into N shards (written in parallel)");
  app.add_option("--database", databases, "Search these instead of --db (paths, tcp://HOST:PORT); repeat");
  app.add_flag("--skip-index", skip_index, "Search what --db/--database already hold (same --articles/--seed)");
  CLI11_PARSE(app, argc, argv);

  const bool temporary = db.empty();
  if (temporary) db = (fs::temp_directory_path() / fmt::format("mssearch-bench-{}", ::getpid())).string();
  bench::CorpusGenerator generator({articles, seed});

  auto t = Clock::now();
  double index_ms = 0;
  if (!skip_index) {
    IndexerOptions io;
    io.db_path = db;
    io.full = true;
    io.shards = shards;
    auto report = index_articles(generator.all(), io);
    if (!report) {
      fmt::print(stderr, "search_bench: {}\n", report.error().message);
      return 2;
    }
    index_ms = ms_since(t);
  }

  SearcherOptions so;
  so.db_path = db;
  so.databases = databases;
  so.related_count = related;
  auto searcher = Searcher::open(so);
  if (!searcher) {
    fmt::print(stderr, "search_bench: {}\n", searcher.error().message);
    return 2;
  }
  const auto mix = generator.query_mix(queries);
  auto run_mix = [&](std::vector<double>* latencies) {
    std::size_t hits = 0;
    for (const auto& q : mix) {
      SearchRequest r;
      r.query = q.text;
      r.partial = q.partial;
      if (!q.topic.empty()) r.topics = {q.topic};
      const auto start = Clock::now();
      auto result = searcher->search(r);
      if (latencies) latencies->push_back(ms_since(start));
      if (result) hits += result->hits.size();
    }
    return hits;
  };
  run_mix(nullptr);  // warm the page cache and Xapian's tables
  std::vector<double> full;
  const std::size_t hits = run_mix(&full);

  fmt::print("search_bench: {} articles, {} queries (seed {})\n", articles, mix.size(), seed);
  if (!skip_index)
    fmt::print("index: {:.1f} s, {:.0f} articles/s{}\n", index_ms / 1000, articles / (index_ms / 1000),
               shards > 1 ? fmt::format(" ({} shards in parallel)", shards) : "");
  double sum = 0;
  for (double v : full) sum += v;
  fmt::print("mean {:.2f} ms: {:.0f} full answers/s on one thread\n", sum / full.size(), 1000 * full.size() / sum);
  fmt::print("full answer (top 10 + snippets + facets + related): p50 {:.2f} ms, p95 {:.2f} ms, "
             "p99 {:.2f} ms, mean hits {:.1f}\n",
             percentile(full, 50), percentile(full, 95), percentile(full, 99),
             static_cast<double>(hits) / static_cast<double>(mix.size()));
  if (temporary && !skip_index) fs::remove_all(db);
  return 0;
}
