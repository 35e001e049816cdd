// search_bench: mssearch on a generated collection with a fixed query mix — full index build,
// incremental reindex of 1 % changed articles, latency of the full answer (top 10 + snippets +
// exact topic/year/journal facets + related articles), of the same without related articles (what
// the peers answer) and of top-10 alone. A benchmark, not a
// test: it prints figures (text, or one JSON line for bench/report) and asserts nothing.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <httplib.h>

#include "bench/bench_common.h"
#include "indexer/indexer.h"
#include "cluster/http_shard_transport.h"
#include "searcher/searcher.h"

using namespace mssearch;
using namespace mssearch::bench;
namespace fs = std::filesystem;

namespace {

// The search a query of the mix stands for; what the answer computes besides the hits is the
// caller's (SearchRequest's defaults: all of it).
SearchRequest request_of(const CorpusGenerator::Query& q) {
  SearchRequest r;
  r.query = q.text;
  r.partial = q.partial;
  if (!q.topic.empty()) r.topics = {q.topic};
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"search_bench: mssearch on a generated collection"};
  CollectionOptions collection;
  std::size_t shards = 0, related = 5;
  std::size_t flush_every = IndexerOptions{}.flush_every;
  std::string db, export_queries;
  std::vector<std::string> databases;
  bool skip_index = false, stream = false, json = false, no_facets = false, no_snippets = false, no_feedback = false;
  add_collection_options(app, collection);
  app.add_option("--related", related, "Related articles in each answer (default 5; 0: none)");
  app.add_option("--db", db, "Index directory (default: a temporary one, removed afterwards)");
  app.add_option("--shards", shards, "Index into N shards (written in parallel)");
  app.add_option("--flush-every", flush_every, "Full build: each part commits after N documents (0: Xapian's threshold)")
      ->capture_default_str();
  app.add_option("--database", databases, "Search these instead of --db (paths, tcp://HOST:PORT); repeat");
  app.add_flag("--stream", stream,
               "Full build from articles made as they are written, none held in memory (for 1 M articles); no "
               "incremental run");
  app.add_flag("--skip-index", skip_index, "Search what --db/--database already hold (same --articles/--seed)");
  app.add_flag("--no-facets", no_facets, "Leave out facet counting");
  app.add_flag("--no-snippets", no_snippets, "Leave out snippets");
  auto* no_feedback_flag = app.add_flag("--no-feedback", no_feedback, "Rank without pseudo-relevance feedback");
  bool serial_shards = false;
  std::string engine = "mssearch";
  app.add_option("--engine", engine, "The name the JSON line gives this run (default mssearch)");
  app.add_flag("--serial-shards", serial_shards, "Count a sharded index's matches one shard after another (as before)");
  std::size_t match_slices = 0;
  app.add_option("--match-slices", match_slices, "Cut a heavy match into N slices matched at once (0: one per core; 1: one pass, as before)");
  bool no_pair_words = false, no_pair_filters = false, only_partial = false;
  app.add_flag("--only-as-you-type", only_partial, "Search only the mix's as-you-type prefixes (to profile them)");
  app.add_flag("--no-pair-words", no_pair_words, "Build without pair terms for phrases of common words (as before)");
  double pair_share = IndexerOptions{}.pair_word_share;
  app.add_option("--pair-share", pair_share, "Build: a pair word is in at least this share of the sampled articles")->capture_default_str();
  app.add_flag("--no-pair-filters", no_pair_filters, "Search phrases without their pair terms' filters (as before)");
  std::size_t feedback_depth = RankingOptions{}.feedback_depth;
  app.add_option("--feedback-depth", feedback_depth, "First-pass hits feedback re-ranks for a first page")
      ->capture_default_str();
  app.add_option("--export-queries", export_queries, "Write the mix as /api/search URLs, one a line (for wrk)");
  app.add_flag("--json", json, "Print one JSON line (for bench/report)");
  std::size_t slowest = 0;
  std::vector<std::string> shard_servers;
  app.add_option("--shard-server", shard_servers,
                 "Search these shard servers as a coordinator (each: replica URLs, comma-separated); repeat per shard")
      ->excludes(no_feedback_flag);  // shard servers rank with their own settings
  std::string synonyms;
  app.add_option("--synonyms", synonyms,
                 "Expand words with this synonyms file (default none); shard servers must be given the same");
  std::string compare_with;
  app.add_option("--compare-with", compare_with,
                 "Also compare every answer with one index in DIR: top-10 equal, totals and facets exact");
  app.add_option("--slowest", slowest, "Also print the N slowest queries of the full answer (to stderr)");
  std::string latencies_path;
  app.add_option("--latencies", latencies_path,
                 "Write each query's full-answer time (ms) here, one a line in the mix's order (for bench/fanout_sim)");
  CLI11_PARSE(app, argc, argv);
  const auto [articles, queries, seed] = collection;

  const bool temporary = db.empty();
  if (temporary) db = (fs::temp_directory_path() / fmt::format("mssearch-bench-{}", ::getpid())).string();
  CorpusGenerator generator({articles, seed});
  auto mix = generator.query_mix(queries);
  if (only_partial) std::erase_if(mix, [](const auto& q) { return !q.partial; });
  if (!export_queries.empty()) {
    std::ofstream out(export_queries);
    for (const auto& q : mix) {
      httplib::Params params{{"q", q.text}};
      if (!q.topic.empty()) params.emplace("topic", q.topic);
      if (q.partial) params.emplace("partial", "1");
      out << "/api/search?" << httplib::detail::params_to_query_str(params) << "\n";
    }
  }

  nlohmann::json out = {{"engine", engine}, {"articles", articles}, {"queries", mix.size()}};
  if (!skip_index && stream) {
    // Articles made as they are written, none held: the full build alone (an incremental run
    // would need the whole collection again).
    std::atomic<std::uint64_t> bytes{0};
    ArticleStream source{articles, &CorpusGenerator::id, [&](std::size_t i) {
                           Article a = generator.article(i);
                           bytes += article_bytes(a);
                           return a;
                         }};
    const double rss_before = peak_rss_mib();
    IndexerOptions io;
    io.db_path = db;
    io.shards = shards;
    io.flush_every = flush_every;
    if (no_pair_words) io.pair_words = schema::PairWords();
    io.pair_word_share = pair_share;
    const auto t = Clock::now();
    auto report = index_stream(source, io);
    if (!report) {
      fmt::print(stderr, "search_bench: {}\n", report.error().message);
      return 2;
    }
    out.update(index_json(articles, ms_since(t), rss_before, peak_rss_mib(), bytes.load(), db));
    out.update({{"shards", shards}, {"streamed", true}});
  } else if (!skip_index) {
    auto all = generator.all();
    const auto bytes = corpus_bytes(all);
    const double rss_before = peak_rss_mib();
    IndexerOptions io;
    io.db_path = db;
    io.full = true;
    io.shards = shards;
    io.flush_every = flush_every;
    if (no_pair_words) io.pair_words = schema::PairWords();
    io.pair_word_share = pair_share;
    auto t = Clock::now();
    auto report = index_articles(std::move(all), io);  // moved: the harness holds no second copy
    if (!report) {
      fmt::print(stderr, "search_bench: {}\n", report.error().message);
      return 2;
    }
    const double index_ms = ms_since(t);
    const double index_rss = peak_rss_mib();
    const auto built_bytes = directory_bytes(db);
    // Incremental: the same collection again (regenerated: deterministic) with 1 % of the
    // articles edited, the rest unchanged (compared by content hash).
    all = generator.all();
    for (std::size_t i = 0; i < all.size(); i += 100) all[i].takeaway += " Updated.";
    io.full = false;
    t = Clock::now();
    auto incremental = index_articles(std::move(all), io);
    if (!incremental) {
      fmt::print(stderr, "search_bench: {}\n", incremental.error().message);
      return 2;
    }
    const double incremental_ms = ms_since(t);
    out.update(index_json(articles, index_ms, rss_before, index_rss, bytes, db));
    out.update({{"incremental_seconds", incremental_ms / 1000}, {"incremental_updated", incremental->updated},
                {"index_bytes_full_build", built_bytes},
                {"shards", shards}});
  }

  SearcherOptions so;
  so.db_path = db;
  so.databases = databases;
  so.related_count = related;
  so.synonyms_path = synonyms;
  if (no_feedback) so.ranking.feedback_docs = 0;
  so.parallel_shards = !serial_shards;
  so.match_slices = match_slices;
  so.phrase_pair_filters = !no_pair_filters;
  so.ranking.feedback_depth = feedback_depth;
  if (!shard_servers.empty()) {
    ClusterOptions cluster;
    for (const auto& shard : shard_servers) cluster.shards.push_back(parse_shard_replicas(shard));
    if (auto ok = check_cluster_options(cluster); !ok) {
      fmt::print(stderr, "search_bench: --shard-server: {}\n", ok.error().message);
      return 2;
    }
    cluster.timeout_seconds = 30;
    so.shard_transport = http_shard_transports(cluster);
  }
  auto searcher = Searcher::open(so);
  if (!searcher) {
    fmt::print(stderr, "search_bench: {}\n", searcher.error().message);
    return 2;
  }
  // full: the whole answer the site shows; question: the same without related articles, which
  // is the question the peers answer (top 10 + snippets + exact facets); top-10: hits alone.
  enum class Answer { kFull, kQuestion, kTop10 };
  auto run_mix = [&](Answer answer, std::vector<double>* latencies, Searcher* with = nullptr) {
    Searcher& used = with ? *with : *searcher;
    std::size_t hits = 0;
    for (const auto& q : mix) {
      SearchRequest r = request_of(q);
      r.facets = answer != Answer::kTop10 && !no_facets;
      r.snippets = answer != Answer::kTop10 && !no_snippets;
      r.related = answer == Answer::kFull;
      const auto start = Clock::now();
      auto result = used.search(r);
      if (latencies) latencies->push_back(ms_since(start));
      if (result) hits += result->hits.size();
    }
    return hits;
  };
  run_mix(Answer::kFull, nullptr);  // warm the page cache and Xapian's tables
  std::vector<double> full, question, top10;
  const std::size_t hits = run_mix(Answer::kFull, &full);
  run_mix(Answer::kQuestion, &question);
  run_mix(Answer::kTop10, &top10);
  // Top-10 without feedback's second look at the best hits: what the layers above Xapian cost
  // (parsing with synonyms and exact forms, the stored fields read back) next to plain Xapian's.
  // Not over shard servers: they rank with their own settings, feedback included, whatever
  // this coordinator's say (start them without feedback to measure that).
  std::vector<double> top10_plain;
  if (!no_feedback && shard_servers.empty()) {
    SearcherOptions plain_options = so;
    plain_options.ranking.feedback_docs = 0;
    auto plain = Searcher::open(plain_options);
    if (!plain) {
      fmt::print(stderr, "search_bench: {}\n", plain.error().message);
      return 2;
    }
    run_mix(Answer::kTop10, nullptr, &*plain);  // its own tables and caches, warmed
    run_mix(Answer::kTop10, &top10_plain, &*plain);
  }
  if (!latencies_path.empty()) {
    std::ofstream latencies(latencies_path);
    for (const double ms : full) latencies << fmt::format("{:.4f}\n", ms);
    if (!latencies) {
      fmt::print(stderr, "search_bench: cannot write {}\n", latencies_path);
      return 2;
    }
  }
  if (slowest > 0) {
    std::vector<std::size_t> order(mix.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](auto a, auto b) { return full[a] > full[b]; });
    for (std::size_t i = 0; i < std::min(slowest, order.size()); ++i) {
      const auto& q = mix[order[i]];
      fmt::print(stderr, "{:8.2f} ms  {}{}{}\n", full[order[i]], q.text, q.topic.empty() ? "" : "  topic:" + q.topic,
                 q.partial ? "  (as you type)" : "");
    }
  }
  if (!compare_with.empty()) {
    // The same answers as one index? Totals and facets must be exact; the top 10 may differ
    // where shards score with their own statistics (each difference is printed).
    SearcherOptions one = so;
    one.shard_transport = nullptr;
    one.databases.clear();
    one.db_path = compare_with;
    one.match_slices = 1;  // one index matched in one pass: what slices must answer alike
    auto reference = Searcher::open(one);
    if (!reference) {
      fmt::print(stderr, "search_bench: {}\n", reference.error().message);
      return 2;
    }
    std::size_t same_order = 0, same_set = 0, same_counts = 0, asked = 0, submitted = 0, submitted_same = 0;
    std::size_t trips = 0;
    for (const auto& q : mix) {
      const SearchRequest r = request_of(q);
      auto a = reference->search(r);
      auto b = searcher->search(r);
      if (!a || !b) continue;
      ++asked;
      trips += b->shard_round_trips;
      std::vector<std::string> ia, ib;
      for (const auto& h : a->hits) ia.push_back(h.id);
      for (const auto& h : b->hits) ib.push_back(h.id);
      auto facets_equal = [](const std::vector<FacetValue>& x, const std::vector<FacetValue>& y) {
        return std::equal(x.begin(), x.end(), y.begin(), y.end(),
                          [](const FacetValue& u, const FacetValue& v) { return u.value == v.value && u.count == v.count; });
      };
      if (a->total == b->total && facets_equal(a->topic_facets, b->topic_facets) &&
          facets_equal(a->year_facets, b->year_facets) && facets_equal(a->journal_facets, b->journal_facets))
        ++same_counts;
      else
        fmt::print(stderr, "counts differ: {} ({} / {})\n", q.text, a->total, b->total);
      if (ia == ib) ++same_order;
      auto sa = ia, sb = ib;
      std::sort(sa.begin(), sa.end());
      std::sort(sb.begin(), sb.end());
      if (sa == sb) ++same_set;
      if (ia != ib && slowest > 0)
        fmt::print(stderr, "top 10 differs: {}{}{}\n", q.text, q.partial ? " (as you type)" : "", sa == sb ? " (same set)" : "");
      if (!q.partial) {
        ++submitted;
        if (ia == ib) ++submitted_same;
      }
    }
    out["compared"] = {{"queries", asked},
                       {"top10_same_order", static_cast<double>(same_order) / static_cast<double>(std::max<std::size_t>(asked, 1))},
                       {"top10_same_set", static_cast<double>(same_set) / static_cast<double>(std::max<std::size_t>(asked, 1))},
                       {"top10_same_order_submitted", static_cast<double>(submitted_same) / static_cast<double>(std::max<std::size_t>(submitted, 1))},
                       {"counts_exact", static_cast<double>(same_counts) / static_cast<double>(std::max<std::size_t>(asked, 1))},
                       {"round_trips_per_query", static_cast<double>(trips) / static_cast<double>(std::max<std::size_t>(asked, 1))}};
    if (!json)
      fmt::print("compared with one index: top 10 in the same order {:.1f} % ({:.1f} % of submitted queries, as-you-type "
                 "aside), the same set {:.1f} %; totals and facets exact {:.1f} %; {:.2f} round trips per query\n",
                 100 * out["compared"]["top10_same_order"].get<double>(),
                 100 * out["compared"]["top10_same_order_submitted"].get<double>(), 100 * out["compared"]["top10_same_set"].get<double>(),
                 100 * out["compared"]["counts_exact"].get<double>(), out["compared"]["round_trips_per_query"].get<double>());
  }
  out["full"] = latency_json(full);
  out["question"] = latency_json(question);
  out["top10"] = latency_json(top10);
  if (no_feedback || shard_servers.empty()) out["top10_no_feedback"] = latency_json(no_feedback ? top10 : top10_plain);
  out["mean_hits"] = static_cast<double>(hits) / static_cast<double>(mix.size());

  if (json) {
    fmt::print("{}\n", out.dump());
  } else {
    fmt::print("search_bench: {} articles, {} queries (seed {})\n", articles, mix.size(), seed);
    if (!skip_index)
      fmt::print("index: {:.1f} s, {:.0f} articles/s, {:.2f} MB/s{}; {}; index {:.1f} MB for {:.1f} MB of text\n",
                 out["index_seconds"].get<double>(), out["index_docs_per_s"].get<double>(),
                 out["index_mb_per_s"].get<double>(), shards > 1 ? fmt::format(" ({} shards in parallel)", shards) : "",
                 // A streamed build has no incremental run.
                 out.contains("incremental_seconds")
                     ? fmt::format("1 % changed: {:.2f} s", out["incremental_seconds"].get<double>())
                     : std::string("streamed: no incremental run"),
                 out["index_bytes"].get<double>() / 1e6, out["corpus_bytes"].get<double>() / 1e6);
    for (const auto& [name, key] : {std::pair{"full answer (top 10 + snippets + facets + related)", "full"},
                                    std::pair{"peers' question (top 10 + snippets + facets)", "question"},
                                    std::pair{"top-10 alone", "top10"},
                                    std::pair{"top-10 without feedback", "top10_no_feedback"}})
      if (!out.contains(key))
        fmt::print("{}: not measured (shard servers rank with their own settings)\n", name);
      else
        fmt::print("{}: p50 {:.2f} ms, p95 {:.2f} ms, p99 {:.2f} ms\n", name, out[key]["p50"].get<double>(),
                 out[key]["p95"].get<double>(), out[key]["p99"].get<double>());
  }
  if (temporary && !skip_index) fs::remove_all(db);
  return 0;
}
