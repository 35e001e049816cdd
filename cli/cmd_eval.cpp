// `mssearch eval`: ranking quality on judged test collections, next to a plain-Xapian baseline.
#include <cstdio>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/terminal.h"
#include "eval/evaluation.h"
#include "searcher/ranking.h"

namespace mssearch::cli {
namespace {

struct EvalArgs {
  std::vector<std::string> dirs;
  std::string synonyms, run_file, floors_file;
  bool json = false, no_baseline = false;
  RankingOptions ranking;
  std::size_t max_query_words = 0, min_query_words = 0;
  std::size_t word_budget = SearcherOptions{}.max_query_words;
  std::string split = "all";
};

nlohmann::json metrics_json(const eval::Metrics& m) {
  return {{"map@100", m.map100}, {"ndcg@10", m.ndcg10}, {"p@10", m.p10}, {"recall@100", m.r100},
          {"queries", m.queries}};
}

std::string ratio(double a, double b) { return b > 0 ? fmt::format("{:.3f}", a / b) : "-"; }

int run_eval(const EvalArgs& args) {
  if (const std::string problem = ranking_settings_problem(args.ranking); !problem.empty()) {
    fmt::print(stderr, "mssearch eval: error: {}\n", printable(problem));
    return kExitFatal;
  }
  eval::EvalOptions options;
  options.baseline = !args.no_baseline;
  options.searcher.synonyms_path = args.synonyms;
  options.searcher.ranking = args.ranking;
  options.max_query_words = args.max_query_words;
  options.min_query_words = args.min_query_words;
  options.split = args.split == "tune" ? eval::EvalOptions::Split::kTune
                : args.split == "test" ? eval::EvalOptions::Split::kTest : eval::EvalOptions::Split::kAll;
  options.searcher.max_query_words = args.word_budget;
  std::vector<eval::Floor> floors;
  if (!args.floors_file.empty()) {
    auto loaded = eval::load_floors(args.floors_file);
    if (!loaded) {
      fmt::print(stderr, "mssearch eval: error: {}\n", printable(loaded.error().message));
      return kExitFatal;
    }
    floors = std::move(*loaded);
  }
  std::vector<std::string> regressions;
  nlohmann::json all = nlohmann::json::array();
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> run_file(nullptr, &std::fclose);
  if (!args.run_file.empty()) run_file.reset(std::fopen(args.run_file.c_str(), "w"));
  std::FILE* run = run_file.get();
  if (!args.run_file.empty() && run == nullptr) {
    fmt::print(stderr, "mssearch eval: error: cannot write {}\n", printable(args.run_file));
    return kExitFatal;
  }
  if (!args.json)
    fmt::print("| set | docs | queries | engine | MAP@100 | nDCG@10 | P@10 | R@100 |\n"
               "| --- | --- | --- | --- | --- | --- | --- | --- |\n");
  for (const auto& dir : args.dirs) {
    auto report = eval::evaluate(dir, options);
    if (!report) {
      fmt::print(stderr, "mssearch eval: error: {}\n", printable(report.error().message));
      return kExitFatal;
    }
    const auto& r = *report;
    for (auto& message : eval::below_floors(r, floors)) regressions.push_back(std::move(message));
    if (run != nullptr) {
      // TREC run format (trec_eval reads it): qid Q0 docid rank score tag; the rank stands for
      // the score, which the searcher's answer does not carry to this level.
      for (const auto& [qid, ids] : r.ranked)
        for (std::size_t i = 0; i < ids.size(); ++i)
          fmt::print(run, "{} Q0 {} {} {} mssearch-{}\n", qid, ids[i], i + 1, ids.size() - i, r.dataset);
    }
    if (args.json) {
      nlohmann::json j = {{"dataset", r.dataset}, {"split", args.split}, {"documents", r.documents},
                          {"index_seconds", r.index_seconds}, {"search_seconds", r.search_seconds},
                          {"mssearch", metrics_json(r.mssearch)}};
      if (r.has_baseline) {
        j["baseline"] = metrics_json(r.baseline);
        j["ratio"] = {{"map@100", r.mssearch.map100 / r.baseline.map100},
                      {"ndcg@10", r.mssearch.ndcg10 / r.baseline.ndcg10},
                      {"p@10", r.mssearch.p10 / r.baseline.p10},
                      {"recall@100", r.mssearch.r100 / r.baseline.r100}};
      }
      all.push_back(j);
      continue;
    }
    const std::string name = printable(args.split == "all" ? r.dataset : r.dataset + " (" + args.split + ")");
    auto row = [&](const char* engine, const eval::Metrics& m) {
      fmt::print("| {} | {} | {} | {} | {:.3f} | {:.3f} | {:.3f} | {:.3f} |\n", name, r.documents,
                 m.queries, engine, m.map100, m.ndcg10, m.p10, m.r100);
    };
    row("mssearch", r.mssearch);
    if (r.has_baseline) {
      row("plain Xapian", r.baseline);
      fmt::print("| {} | | | ratio | {} | {} | {} | {} |\n", name, ratio(r.mssearch.map100, r.baseline.map100),
                 ratio(r.mssearch.ndcg10, r.baseline.ndcg10), ratio(r.mssearch.p10, r.baseline.p10),
                 ratio(r.mssearch.r100, r.baseline.r100));
    }
    std::fflush(stdout);
  }
  if (args.json) fmt::print("{}\n", dump_json(all, 2));
  for (const auto& message : regressions) fmt::print(stderr, "mssearch eval: quality regression: {}\n", printable(message));
  if (!floors.empty() && regressions.empty()) fmt::print(stderr, "mssearch eval: every quality floor met\n");
  return regressions.empty() ? kExitOk : kExitPartial;
}

}  // namespace

void add_eval_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<EvalArgs>();
  auto* cmd = app.add_subcommand(
      "eval", "Measure ranking on judged collections (docs.jsonl, queries.tsv, qrels.tsv)");
  cmd->add_option("dataset", args->dirs, "Collection directories, e.g. ../shared/relevance/scifact")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--synonyms", args->synonyms, "Synonyms file to search with (default: none)");
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->add_option("--floors", args->floors_file,
                  "Exit 1 if nDCG@10 or MAP@100 falls below these floors (YAML, e.g. eval/quality_floors.yaml)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--run", args->run_file, "Also write mssearch's rankings to this file (TREC run format)")->check(path_not_empty());
  cmd->add_flag("--no-baseline", args->no_baseline, "Skip the plain-Xapian baseline");
  // Every ranking choice (searcher/ranking.h), so that each can be measured against the defaults.
  auto& r = args->ranking;
  auto knob = [&](const char* name, auto& value, const std::string& help) {
    cmd->add_option(name, value, help)->capture_default_str()->group("Ranking");
  };
  knob("--bm25-k1", r.bm25_k1, "BM25 k1 (term frequency saturation)");
  knob("--bm25-b", r.bm25_b, "BM25 b (document length normalisation)");
  knob("--scheme", r.scheme, fmt::format("Weighting: {}", fmt::join(weight_scheme_names(), ", ")));
  knob("--stop-words", r.stop_words, "Drop English function words from queries (true/false)");
  knob("--hyphens-as-words", r.hyphens_as_words,
       "Hyphenated words are words, not a phrase; a compound also joined (true/false)");
  knob("--exact-weight", r.exact_weight, "Bonus for query words in the exact form typed (0: off)");
  knob("--feedback-docs", r.feedback_docs, "Pseudo-relevance feedback: top hits used (0: off)");
  knob("--feedback-terms", r.feedback_terms, "Pseudo-relevance feedback: terms added");
  knob("--feedback-min-docs", r.feedback_min_docs, "Pseudo-relevance feedback: only terms held by this many of the hits");
  knob("--feedback-score-power", r.feedback_score_power, "Pseudo-relevance feedback: a hit counts (score/best)^P");
  knob("--feedback-scheme", r.feedback_scheme,
       fmt::format("Pseudo-relevance feedback: expand weights, {}", fmt::join(feedback_scheme_names(), " or ")));
  knob("--feedback-weight", r.feedback_weight, "Pseudo-relevance feedback: weight of the added terms together");
  knob("--feedback-depth", r.feedback_depth, "Pseudo-relevance feedback: re-rank this many of the first pass's hits");
  knob("--all-words-boost", r.all_words_boost, "Extra weight for matching every word (0: plain OR)");
  cmd->add_flag("--and", r.default_and, "Join words with AND instead of OR (for comparison)")->group("Ranking");
  cmd->add_option("--max-query-words", args->max_query_words,
                  "Only judged queries of at most this many words (like the site's search box)");
  cmd->add_option("--split", args->split,
                  "Which half of the judged queries: tune (choose ranking on it), test (keep a choice only if it "
                  "gains here too), all")
      ->check(CLI::IsMember({"tune", "test", "all"}))
      ->capture_default_str();
  cmd->add_option("--min-query-words", args->min_query_words, "Only judged queries of at least this many words");
  cmd->add_option("--word-budget", args->word_budget,
                  "Distinct words a long question keeps, its most informative (0: all; the server's max_query_words)")
      ->capture_default_str()->group("Ranking");
  cmd->callback([args, &exit_code] { exit_code = run_eval(*args); });
}

}  // namespace mssearch::cli
