// Runs a relevance collection through mssearch (the normal indexer and search path) and,
// in the same run, through a plain-Xapian baseline (TermGenerator + QueryParser, English
// stemmer, default BM25, nothing else), and scores both.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "eval/relevance.h"
#include "searcher/searcher.h"

namespace mssearch::eval {

struct EvalOptions {
  // Search settings to evaluate. db_path is set by evaluate(); the byte limit is raised so that
  // long test queries (CISI's run to 2 KB) are searched as served: a question past the word
  // budget (SearcherOptions::max_query_words) keeps its most informative words.
  SearcherOptions searcher;
  bool baseline = true;
  std::size_t max_query_words = 0;  // only judged queries with at most this many words (0: all)
  std::size_t min_query_words = 0;  // only judged queries with at least this many words (0: all)
  // Which half of the judged queries: every ranking choice is made on the tune half and kept
  // only if the test half gains or holds. The halves are fixed by a stable hash of the query id.
  enum class Split { kAll, kTune, kTest };
  Split split = Split::kAll;
};

// The half a judged query belongs to: FNV-1a of its id, even = tune, odd = test. Fixed for good:
// never change it, or every figure measured on a half changes meaning.
EvalOptions::Split half_of(std::string_view query_id);

struct EvalReport {
  std::string dataset;
  std::size_t documents = 0;
  Metrics mssearch, baseline;
  // mssearch's ranking of each judged query (qid -> document ids, best first), for a run file.
  std::map<std::string, std::vector<std::string>> ranked;
  double index_seconds = 0, search_seconds = 0;
  bool has_baseline = false;
};

Result<EvalReport> evaluate(const std::filesystem::path& dataset_dir, const EvalOptions& options);

// Quality floors, CI's regression guard: per collection, the least nDCG@10 and MAP@100 that
// mssearch must reach. A YAML file of `collection: {ndcg@10: 0.39, map@100: 0.32}` entries.
struct Floor {
  std::string dataset, metric;  // metric: "ndcg@10" or "map@100"
  double value = 0;
};
// Errors name the file and line (kIo).
Result<std::vector<Floor>> load_floors(const std::filesystem::path& path);
// One message for each floor of report's collection that it falls below.
std::vector<std::string> below_floors(const EvalReport& report, const std::vector<Floor>& floors);

}  // namespace mssearch::eval
