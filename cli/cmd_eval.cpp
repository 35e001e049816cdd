// `mssearch eval`: ranking quality on judged test collections, next to a plain-Xapian baseline.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "eval/evaluation.h"

namespace mssearch::cli {
namespace {

struct EvalArgs {
  std::vector<std::string> dirs;
  std::string synonyms;
  bool json = false, no_baseline = false, default_and = false;
  double all_words_boost = SearcherOptions{}.all_words_boost;
  std::size_t max_query_words = 0;
};

nlohmann::json metrics_json(const eval::Metrics& m) {
  return {{"map@100", m.map100}, {"ndcg@10", m.ndcg10}, {"p@10", m.p10}, {"recall@100", m.r100},
          {"queries", m.queries}};
}

std::string ratio(double a, double b) { return b > 0 ? fmt::format("{:.3f}", a / b) : "-"; }

int run_eval(const EvalArgs& args) {
  eval::EvalOptions options;
  options.baseline = !args.no_baseline;
  options.searcher.synonyms_path = args.synonyms;
  options.searcher.default_and = args.default_and;
  options.searcher.all_words_boost = args.all_words_boost;
  options.max_query_words = args.max_query_words;
  nlohmann::json all = nlohmann::json::array();
  if (!args.json)
    fmt::print("| set | docs | queries | engine | MAP@100 | nDCG@10 | P@10 | R@100 |\n"
               "| --- | --- | --- | --- | --- | --- | --- | --- |\n");
  for (const auto& dir : args.dirs) {
    auto report = eval::evaluate(dir, options);
    if (!report) {
      fmt::print(stderr, "mssearch eval: error: {}\n", report.error().message);
      return kExitFatal;
    }
    const auto& r = *report;
    if (args.json) {
      nlohmann::json j = {{"dataset", r.dataset}, {"documents", r.documents},
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
    auto row = [&](const char* engine, const eval::Metrics& m) {
      fmt::print("| {} | {} | {} | {} | {:.3f} | {:.3f} | {:.3f} | {:.3f} |\n", r.dataset, r.documents,
                 m.queries, engine, m.map100, m.ndcg10, m.p10, m.r100);
    };
    row("mssearch", r.mssearch);
    if (r.has_baseline) {
      row("plain Xapian", r.baseline);
      fmt::print("| {} | | | ratio | {} | {} | {} | {} |\n", r.dataset, ratio(r.mssearch.map100, r.baseline.map100),
                 ratio(r.mssearch.ndcg10, r.baseline.ndcg10), ratio(r.mssearch.p10, r.baseline.p10),
                 ratio(r.mssearch.r100, r.baseline.r100));
    }
    std::fflush(stdout);
  }
  if (args.json) fmt::print("{}\n", dump_json(all, 2));
  return kExitOk;
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
  cmd->add_flag("--no-baseline", args->no_baseline, "Skip the plain-Xapian baseline");
  cmd->add_flag("--and", args->default_and, "Join words with AND instead of OR (for comparison)");
  cmd->add_option("--all-words-boost", args->all_words_boost,
                  "Extra weight for matching every word (0: plain OR)");
  cmd->add_option("--max-query-words", args->max_query_words,
                  "Only judged queries of at most this many words (like the site's search box)");
  cmd->callback([args, &exit_code] { exit_code = run_eval(*args); });
}

}  // namespace mssearch::cli
