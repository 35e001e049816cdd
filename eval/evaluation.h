// Runs a relevance collection through mssearch (the normal indexer and search path) and,
// in the same run, through a plain-Xapian baseline (TermGenerator + QueryParser, English
// stemmer, default BM25, nothing else), and scores both.
#pragma once

#include <filesystem>
#include <string>

#include "eval/relevance.h"
#include "searcher/searcher.h"

namespace mssearch::eval {

struct EvalOptions {
  // Search settings to evaluate. db_path is set by evaluate(); the query limits are raised so
  // that long test queries (CISI's run to 2 KB) are searched, not refused.
  SearcherOptions searcher;
  bool baseline = true;
  std::size_t max_query_words = 0;  // only judged queries with at most this many words (0: all)
};

struct EvalReport {
  std::string dataset;
  std::size_t documents = 0;
  Metrics mssearch, baseline;
  double index_seconds = 0, search_seconds = 0;
  bool has_baseline = false;
};

Result<EvalReport> evaluate(const std::filesystem::path& dataset_dir, const EvalOptions& options);

}  // namespace mssearch::eval
