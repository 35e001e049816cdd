#include "eval/evaluation.h"

#include <chrono>
#include <cstdlib>

#include <xapian.h>
#include <yaml-cpp/yaml.h>

#include "indexer/article_reader.h"
#include "indexer/indexer.h"
#include "schema/yaml_file.h"

namespace mssearch::eval {
namespace fs = std::filesystem;

namespace {

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "mssearch-eval-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The engine's floor: what a plain Xapian program does with the same collection.
std::map<std::string, std::vector<std::string>> run_baseline(const Dataset& d, const fs::path& dir) {
  Xapian::Stem stemmer("english");
  {
    Xapian::WritableDatabase db(dir.string(), Xapian::DB_CREATE_OR_OVERWRITE | Xapian::DB_NO_SYNC);
    Xapian::TermGenerator generator;
    generator.set_stemmer(stemmer);
    for (const auto& doc : d.docs) {
      Xapian::Document xdoc;
      generator.set_document(xdoc);
      generator.index_text(doc.title);
      generator.increase_termpos();
      generator.index_text(doc.text);
      xdoc.set_data(doc.id);
      db.add_document(xdoc);
    }
    db.commit();
  }
  Xapian::Database db(dir.string());
  Xapian::QueryParser parser;
  parser.set_stemmer(stemmer);
  parser.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
  parser.set_database(db);
  Xapian::Enquire enquire(db);
  std::map<std::string, std::vector<std::string>> ranked;
  for (const auto& [qid, text] : d.queries) {
    Xapian::Query query;
    try {
      query = parser.parse_query(text);
    } catch (const Xapian::QueryParserError&) {
      query = parser.parse_query(text, 0);
    }
    enquire.set_query(query);
    Xapian::MSet mset = enquire.get_mset(0, 100);
    auto& list = ranked[qid];
    for (auto it = mset.begin(); it != mset.end(); ++it) list.push_back(it.get_document().get_data());
  }
  return ranked;
}

}  // namespace

EvalOptions::Split half_of(std::string_view query_id) {
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : query_id) hash = (hash ^ c) * 1099511628211ull;
  return hash % 2 == 0 ? EvalOptions::Split::kTune : EvalOptions::Split::kTest;
}

Result<EvalReport> evaluate(const fs::path& dataset_dir, const EvalOptions& options) {
  auto dataset = load_dataset(dataset_dir);
  if (!dataset) return std::unexpected(dataset.error());
  if (options.split != EvalOptions::Split::kAll)
    std::erase_if(dataset->queries, [&](const auto& q) { return half_of(q.first) != options.split; });
  if (options.max_query_words > 0 || options.min_query_words > 0) {
    std::erase_if(dataset->queries, [&](const auto& q) {
      std::size_t words = 0;
      bool in_word = false;
      for (char c : q.second) {
        const bool space = c == ' ' || c == '\t';
        if (!space && !in_word) ++words;
        in_word = !space;
      }
      return (options.max_query_words > 0 && words > options.max_query_words) || words < options.min_query_words;
    });
  }
  ScratchDir scratch;
  if (scratch.path().empty()) return fail(ErrorCode::kIo, "cannot create a temporary directory");

  EvalReport report;
  report.dataset = dataset->name;
  report.documents = dataset->docs.size();

  // Index through the normal indexer: the site's own articles with every field; a public
  // collection's title -> title, text -> body.
  auto start = std::chrono::steady_clock::now();
  IndexerOptions indexer;
  indexer.db_path = scratch.path() / "mssearch";
  Result<IndexReport> indexed = fail(ErrorCode::kInternal, "not indexed");
  if (!dataset->corpus.empty()) {
    indexed = run_index_job({dataset->corpus}, indexer);
  } else {
    std::vector<Article> articles;
    articles.reserve(dataset->docs.size());
    for (const auto& doc : dataset->docs) {
      Article a;
      a.id = doc.id;
      a.title = doc.title;
      a.date = "2000-01-01";
      a.url = "/" + doc.id;
      set_body(a, doc.text);
      articles.push_back(std::move(a));
    }
    indexed = index_articles(std::move(articles), indexer);
  }
  if (!indexed) return std::unexpected(indexed.error());
  report.index_seconds = seconds_since(start);

  // Every judged query, as a visitor's raw text, through the normal search path.
  start = std::chrono::steady_clock::now();
  SearcherOptions so = options.searcher;
  // Judged runs are unhurried: a time limit would make the figures depend on how busy the
  // machine is (a busy run scored 0.677 where a quiet one scored 0.686).
  so.time_limit_seconds = 0;
  so.db_path = indexer.db_path;
  // The site's collection is searched as the site searches it: with its synonyms (unless the
  // command line named a file).
  if (so.synonyms_path.empty() && !dataset->synonyms.empty()) so.synonyms_path = dataset->synonyms;
  so.max_query_bytes = std::max<std::size_t>(so.max_query_bytes, 1 << 16);
  so.related_count = 0;
  // The collections have no dates or ratings: the site boosts would only add noise.
  so.ranking.recency_boost = 0;
  so.ranking.credibility_boost = 0;
  auto searcher = Searcher::open(so);
  if (!searcher) return std::unexpected(searcher.error());
  std::map<std::string, std::vector<std::string>> ranked;
  for (const auto& [qid, text] : dataset->queries) {
    SearchRequest request;
    request.query = text;
    request.limit = 100;
    auto result = searcher->search(request);
    if (!result) return fail(result.error().code, "query " + qid + ": " + result.error().message);
    auto& list = ranked[qid];
    for (const auto& hit : result->hits) list.push_back(hit.id);
  }
  report.search_seconds = seconds_since(start);
  report.mssearch = score(*dataset, ranked);
  report.ranked = std::move(ranked);

  if (options.baseline) {
    try {
      report.baseline = score(*dataset, run_baseline(*dataset, scratch.path() / "baseline"));
      report.has_baseline = true;
    } catch (const Xapian::Error& e) {
      return fail(ErrorCode::kDatabase, "baseline: " + e.get_description());
    }
  }
  return report;
}

Result<std::vector<Floor>> load_floors(const fs::path& path) {
  auto loaded = load_yaml_file(path, "floors file");
  if (!loaded) return std::unexpected(loaded.error());
  const YAML::Node root = *loaded;
  std::vector<Floor> floors;
  if (root.IsNull()) return floors;
  if (!root.IsMap()) return fail(ErrorCode::kIo, path.string() + ": expected collection: {metric: floor} entries");
  for (const auto& set : root) {
    const std::string where = yaml_where(path, set.first);
    if (!set.second.IsMap()) return fail(ErrorCode::kIo, where + ": expected {metric: floor}");
    for (const auto& metric : set.second) {
      const auto name = metric.first.as<std::string>();
      if (name != "ndcg@10" && name != "map@100")
        return fail(ErrorCode::kIo, where + ": unknown metric '" + name + "' (ndcg@10 or map@100)");
      try {
        floors.push_back({set.first.as<std::string>(), name, metric.second.as<double>()});
      } catch (const YAML::Exception&) {
        return fail(ErrorCode::kIo, where + ": the floor of " + name + " is not a number");
      }
    }
  }
  return floors;
}

std::vector<std::string> below_floors(const EvalReport& report, const std::vector<Floor>& floors) {
  std::vector<std::string> out;
  for (const auto& f : floors) {
    if (f.dataset != report.dataset) continue;
    const double value = f.metric == "ndcg@10" ? report.mssearch.ndcg10 : report.mssearch.map100;
    if (value < f.value)
      out.push_back(report.dataset + " " + f.metric + " is " + std::to_string(value) + ", below its floor " +
                    std::to_string(f.value));
  }
  return out;
}

}  // namespace mssearch::eval
