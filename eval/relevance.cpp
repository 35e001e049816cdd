#include "eval/relevance.h"

#include <algorithm>
#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "indexer/article_reader.h"
#include "schema/yaml_file.h"

namespace mssearch::eval {
namespace fs = std::filesystem;

namespace {

Result<std::vector<std::vector<std::string>>> read_tsv(const fs::path& path, std::size_t columns) {
  std::ifstream in(path);
  if (!in) return fail(ErrorCode::kIo, "cannot open " + path.string());
  std::vector<std::vector<std::string>> rows;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    std::vector<std::string> fields;
    std::size_t start = 0;
    for (std::size_t tab; (tab = line.find('\t', start)) != std::string::npos; start = tab + 1)
      fields.push_back(line.substr(start, tab - start));
    fields.push_back(line.substr(start));
    if (fields.size() < columns)
      return fail(ErrorCode::kIo, path.string() + ":" + std::to_string(number) + ": expected " +
                                      std::to_string(columns) + " tab-separated columns");
    rows.push_back(std::move(fields));
  }
  return rows;
}

}  // namespace

Result<Dataset> load_dataset(const fs::path& dir) {
  Dataset d;
  d.name = fs::weakly_canonical(dir).filename().string();
  if (fs::exists(dir / "collection.yaml")) {
    // The site's own articles: read as the indexer reads them; the baseline sees title, takeaway
    // and body as text.
    const fs::path manifest = dir / "collection.yaml";
    auto loaded = load_yaml_file(manifest, "collection manifest");
    if (!loaded) return std::unexpected(loaded.error());
    try {
      const YAML::Node root = *loaded;
      if (!root.IsMap() || !root["corpus"]) return fail(ErrorCode::kIo, manifest.string() + ": no 'corpus' (the articles' folder)");
      d.corpus = dir / root["corpus"].as<std::string>();
      if (root["synonyms"]) d.synonyms = dir / root["synonyms"].as<std::string>();
    } catch (const YAML::Exception& e) {  // a value of the wrong kind (as<>)
      return fail(ErrorCode::kIo, manifest.string() + ": " + e.what());
    }
    auto batch = read_sources({d.corpus});
    if (!batch) return std::unexpected(batch.error());
    if (!batch->errors.empty())
      return fail(ErrorCode::kIo, batch->errors.front().source + ": " + batch->errors.front().message);
    for (const auto& a : batch->articles) d.docs.push_back({a.id, a.title, a.takeaway + "\n\n" + a.body_text});
  }
  std::ifstream docs(dir / "docs.jsonl");
  if (!docs && d.corpus.empty()) return fail(ErrorCode::kIo, "cannot open " + (dir / "docs.jsonl").string());
  std::string line;
  int number = 0;
  while (docs && std::getline(docs, line)) {
    ++number;
    if (line.empty()) continue;
    try {
      auto j = nlohmann::json::parse(line);
      d.docs.push_back({j.at("id").get<std::string>(), j.value("title", ""), j.value("text", "")});
    } catch (const nlohmann::json::exception& e) {
      return fail(ErrorCode::kIo, (dir / "docs.jsonl").string() + ":" + std::to_string(number) + ": " + e.what());
    }
  }
  auto qrels = read_tsv(dir / "qrels.tsv", 3);
  if (!qrels) return std::unexpected(qrels.error());
  for (const auto& row : *qrels) {
    const int grade = std::stoi(row[2]);
    if (grade > 0) d.qrels[row[0]][row[1]] = grade;
  }
  auto queries = read_tsv(dir / "queries.tsv", 2);
  if (!queries) return std::unexpected(queries.error());
  for (const auto& row : *queries)
    if (d.qrels.contains(row[0])) d.queries.emplace_back(row[0], row[1]);
  return d;
}

Metrics score(const Dataset& dataset, const std::map<std::string, std::vector<std::string>>& ranked) {
  Metrics m;
  for (const auto& [qid, text] : dataset.queries) {
    const auto& rel = dataset.qrels.at(qid);
    static const std::vector<std::string> kNone;
    auto it = ranked.find(qid);
    const auto& list = it == ranked.end() ? kNone : it->second;
    double ap = 0, dcg = 0;
    std::size_t found = 0, top10 = 0;
    for (std::size_t i = 0; i < list.size() && i < 100; ++i) {
      auto r = rel.find(list[i]);
      if (r == rel.end()) continue;
      ++found;
      ap += static_cast<double>(found) / static_cast<double>(i + 1);
      if (i < 10) {
        ++top10;
        dcg += r->second / std::log2(static_cast<double>(i) + 2.0);
      }
    }
    std::vector<int> grades;
    for (const auto& [doc, grade] : rel) grades.push_back(grade);
    std::sort(grades.rbegin(), grades.rend());
    double ideal = 0;
    for (std::size_t i = 0; i < grades.size() && i < 10; ++i)
      ideal += grades[i] / std::log2(static_cast<double>(i) + 2.0);
    m.map100 += ap / static_cast<double>(rel.size());
    m.ndcg10 += ideal > 0 ? dcg / ideal : 0;
    m.p10 += static_cast<double>(top10) / 10.0;
    m.r100 += static_cast<double>(found) / static_cast<double>(rel.size());
    ++m.queries;
  }
  if (m.queries > 0) {
    const auto n = static_cast<double>(m.queries);
    m.map100 /= n;
    m.ndcg10 /= n;
    m.p10 /= n;
    m.r100 /= n;
  }
  return m;
}

}  // namespace mssearch::eval
