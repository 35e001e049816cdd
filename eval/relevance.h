// Relevance evaluation on test collections with human judgments (the format of
// ../shared/relevance: docs.jsonl, queries.tsv, qrels.tsv), with the metric definitions of
// that collection's README so that figures compare with its baselines.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "schema/error.h"

namespace mssearch::eval {

struct Document {
  std::string id, title, text;
};

struct Dataset {
  std::string name;
  std::vector<Document> docs;
  // A collection of the site's own articles (DIR/collection.yaml names them): Markdown files in
  // `corpus`, indexed with every field as the site indexes them, searched with `synonyms` (may
  // be empty). Empty for the public collections, whose docs.jsonl has titles and text only.
  std::filesystem::path corpus, synonyms;
  std::vector<std::pair<std::string, std::string>> queries;   // judged queries only: (qid, text)
  std::map<std::string, std::map<std::string, int>> qrels;    // qid -> docid -> grade (> 0)
};

// DIR holds queries.tsv, qrels.tsv and either docs.jsonl or collection.yaml
// (`corpus: PATH`, `synonyms: PATH`, relative to DIR). Errors name the file and line.
Result<Dataset> load_dataset(const std::filesystem::path& dir);

struct Metrics {
  double map100 = 0, ndcg10 = 0, p10 = 0, r100 = 0;
  std::size_t queries = 0;
};

// Averages over every judged query; `ranked` maps qid -> document ids, best first.
Metrics score(const Dataset& dataset, const std::map<std::string, std::vector<std::string>>& ranked);

}  // namespace mssearch::eval
