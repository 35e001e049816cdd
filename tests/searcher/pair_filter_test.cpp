// Phrases of common words (schema::kMetaPairWords): a full build pairs the words most articles
// hold, and a phrase of two of them side by side is searched filtered by their pair term. The
// answers must be exactly those without the filter, on real indexes: one database, a sharded
// one, after incremental runs, and one built before pairs existed.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "indexer/document_builder.h"
#include "indexer/indexer.h"
#include "schema/index_path.h"
#include "schema/schema.h"
#include "schema/text_analyzer.h"
#include "searcher/query_planner.h"
#include "searcher/searcher.h"
#include "searcher/synonyms.h"
#include "tests/test_support.h"

using namespace mssearch;

namespace {

// The sample corpus is too small for pairs by default (schema::kPairMinArticles): these tests
// pair the words a tenth of its articles hold.
IndexerOptions paired(const std::filesystem::path& db) {
  IndexerOptions io;
  io.db_path = db;
  io.pair_word_share = 0.1;
  io.pair_min_articles = 0;
  return io;
}

// The sample corpus indexed with `io`, opened.
Xapian::Database indexed_corpus(const IndexerOptions& io) {
  REQUIRE(run_index_job({test::corpus_dir()}, io));
  auto db = open_index(io.db_path);
  REQUIRE(db);
  return *db;
}

Searcher open_searcher(const std::filesystem::path& db, bool filters) {
  SearcherOptions options;
  options.db_path = db;
  options.phrase_pair_filters = filters;
  auto s = Searcher::open(options);
  if (!s) FAIL(s.error().message);
  return std::move(*s);
}

struct Answer {
  std::vector<std::string> ids;  // in rank order
  std::uint64_t total = 0;
  bool exact = false;
  bool operator==(const Answer&) const = default;
};

Answer answer(Searcher& s, const std::string& query) {
  SearchRequest request;
  request.query = query;
  request.limit = 100;
  auto r = s.search(request);
  if (!r) FAIL(query << ": " << r.error().message);
  Answer a;
  for (const auto& h : r->hits) a.ids.push_back(h.id);
  a.total = r->total;
  a.exact = r->total_is_exact;
  return a;
}

const std::vector<std::string> kPhrases = {
    "\"multiple sclerosis\"",         "\"sclerosis multiple\"",   "\"of the\"",
    "\"in the brain\"",               "\"the of\"",               "multiple ADJ/3 sclerosis",
    "fatigue \"multiple sclerosis\"", "\"people with multiple sclerosis\"", "title:\"multiple sclerosis\"",
    "fatigue -\"of the\"",            "\"multiple sclerosis\" OR \"of the\"", "\"and the\" astrocytes",
};

// The same answer for every phrase with and without the filters.
void same_answers(const std::filesystem::path& db) {
  Searcher with = open_searcher(db, true), without = open_searcher(db, false);
  for (const auto& q : kPhrases) {
    INFO(q);
    const Answer a = answer(with, q), b = answer(without, q);
    CHECK(a == b);
    CHECK(a.exact);
  }
}

}  // namespace

TEST_CASE("phrases of common words: a full build pairs the words most articles hold", "[searcher][pairs]") {
  test::TempDir tmp;
  IndexerOptions io = paired(tmp / "db");
  const auto db = indexed_corpus(io);
  const auto words = schema::decode_pair_words(db.get_metadata(std::string(schema::kMetaPairWords)));
  CHECK(words.contains("multiple"));
  CHECK(words.contains("sclerosis"));
  CHECK(words.contains("the"));
  CHECK_FALSE(words.contains("astrocytes"));  // in a few articles only

  SECTION("the pair term is in exactly the articles the phrase matches") {
    Searcher without = open_searcher(io.db_path, false);
    for (const auto& [a, b] : {std::pair{"multiple", "sclerosis"}, std::pair{"of", "the"}, std::pair{"in", "the"}}) {
      INFO(a << ' ' << b);
      const auto phrase = answer(without, std::string("\"") + a + " " + b + "\"");
      CHECK(phrase.total > 0);
      CHECK(db.get_termfreq(schema::pair_term(a, b)) == phrase.total);
    }
  }
  SECTION("and the phrases find what they found without the filter") { same_answers(io.db_path); }
}

TEST_CASE("phrases of common words: the searcher filters by the index's pairs", "[searcher][pairs]") {
  // An index that claims pairs it does not have: if the searcher filters, the phrase finds
  // nothing; without the filter it finds the articles. (The answer tests above cannot tell a
  // filter from none.)
  test::TempDir tmp;
  IndexerOptions io;
  io.db_path = tmp / "db";
  io.pair_words = schema::PairWords();  // built without pairs, as before
  REQUIRE(run_index_job({test::corpus_dir()}, io));
  auto live = live_database_dir(io.db_path);
  REQUIRE(live);
  {
    auto db = open_index(io.db_path);
    REQUIRE(db);
    CHECK(db->get_metadata(std::string(schema::kMetaPairWords)).empty());
    CHECK(db->get_termfreq(schema::pair_term("multiple", "sclerosis")) == 0);
  }
  SECTION("an index without pairs searches phrases as before") { same_answers(io.db_path); }
  SECTION("a list the articles were not paired with is used as given") {
    {
      Xapian::WritableDatabase w(live->string(), Xapian::DB_OPEN);
      w.set_metadata(std::string(schema::kMetaPairWords), "multiple sclerosis");
      w.set_metadata(std::string(schema::kMetaPairWordsRevision), std::to_string(w.get_revision() + 1));
      w.commit();
    }
    Searcher with = open_searcher(io.db_path, true), without = open_searcher(io.db_path, false);
    CHECK(answer(without, "\"multiple sclerosis\"").total > 0);
    CHECK(answer(with, "\"multiple sclerosis\"").total == 0);
    CHECK(answer(with, "multiple ADJ/3 sclerosis") == answer(without, "multiple ADJ/3 sclerosis"));  // words between allowed
    CHECK(answer(with, "\"of the\"") == answer(without, "\"of the\""));                            // not listed
  }
}

TEST_CASE("phrases of common words: the planner filters exact phrases of listed words only", "[searcher][pairs]") {
  test::TempDir tmp;
  IndexerOptions io = paired(tmp / "db");
  const auto db = indexed_corpus(io);
  SearcherOptions options;
  QueryPlanner planner(options, std::make_shared<const SynonymTable>(), db);
  planner.set_pair_words({"multiple", "sclerosis", "of", "the"});
  auto described = [&](const std::string& q) {
    SearchRequest request;
    request.query = q;
    auto plan = planner.plan(request);
    if (!plan) FAIL(plan.error().message);
    return plan->query.get_description();
  };
  CHECK(described("\"multiple sclerosis\"").find("XPmultiple sclerosis") != std::string::npos);
  CHECK(described("\"people with multiple sclerosis\"").find("XPmultiple sclerosis") != std::string::npos);
  CHECK(described("\"of the brain\"").find("XPof the") != std::string::npos);
  CHECK(described("\"the brain\"").find("XP") == std::string::npos);            // brain is not listed
  CHECK(described("multiple ADJ/3 sclerosis").find("XP") == std::string::npos);  // not an exact phrase
  CHECK(described("multiple NEAR sclerosis").find("XP") == std::string::npos);
  CHECK(described("multiple sclerosis").find("XP") == std::string::npos);        // no phrase
}

TEST_CASE("phrases of common words: incremental runs pair new articles with the index's list", "[searcher][pairs]") {
  test::TempDir tmp;
  const auto src = tmp / "articles";
  std::filesystem::copy(test::corpus_dir(), src, std::filesystem::copy_options::recursive);
  for (bool with_pairs : {true, false}) {
    INFO((with_pairs ? "an index with pairs" : "an index built before pairs"));
    IndexerOptions io = paired(tmp / (with_pairs ? "db-paired" : "db-plain"));
    if (!with_pairs) io.pair_words = schema::PairWords();
    REQUIRE(run_index_job({src}, io));
    IndexerOptions incremental;
    incremental.db_path = io.db_path;
    test::write_file(src / (with_pairs ? "zz-new-paired.md" : "zz-new-plain.md"),
                     test::markdown_article(with_pairs ? "Quokkaword and multiple sclerosis" : "Wombatword and multiple sclerosis",
                                            "2025-05-01", "[Astrocytes]",
                                            "## What They Found\n\nPeople with multiple sclerosis and of the rest.\n"));
    auto report = run_index_job({src}, incremental);
    REQUIRE(report);
    CHECK(report->added == 1);
    Searcher with = open_searcher(io.db_path, true), without = open_searcher(io.db_path, false);
    const std::string q = std::string("\"people with multiple sclerosis\" ") + (with_pairs ? "quokkaword" : "wombatword");
    const Answer a = answer(with, q);
    CHECK(a == answer(without, q));
    REQUIRE_FALSE(a.ids.empty());
    CHECK(a.ids.front() == (with_pairs ? "zz-new-paired" : "zz-new-plain"));
    auto db = open_index(io.db_path);
    REQUIRE(db);
    CHECK(db->get_metadata(std::string(schema::kMetaPairWords)).empty() == !with_pairs);
    same_answers(io.db_path);
  }
}

TEST_CASE("phrases of common words: a sharded index pairs alike in every shard", "[searcher][pairs]") {
  test::TempDir tmp;
  IndexerOptions one = paired(tmp / "one"), three = paired(tmp / "three");
  three.shards = 3;
  REQUIRE(run_index_job({test::corpus_dir()}, one));
  REQUIRE(run_index_job({test::corpus_dir()}, three));
  std::set<std::string> lists;
  for (const auto& dir : shard_dirs(three.db_path)) {
    auto db = open_index(dir);
    REQUIRE(db);
    lists.insert(db->get_metadata(std::string(schema::kMetaPairWords)));
  }
  REQUIRE(lists.size() == 1);
  CHECK_FALSE(lists.begin()->empty());
  same_answers(three.db_path);
  Searcher single = open_searcher(one.db_path, true), sharded = open_searcher(three.db_path, true);
  for (const auto& q : kPhrases) {
    INFO(q);
    CHECK(answer(single, q).total == answer(sharded, q).total);
  }
}

TEST_CASE("phrases of common words: a small collection is not paired", "[searcher][pairs]") {
  // 50 articles: a phrase reads positions in a few dozen at most (schema::kPairMinArticles).
  test::TempDir tmp;
  IndexerOptions io;
  io.db_path = tmp / "db";
  const auto db = indexed_corpus(io);
  CHECK(db.get_metadata(std::string(schema::kMetaPairWords)).empty());
  CHECK(db.allterms_begin("XP") == db.allterms_end("XP"));
}

TEST_CASE("phrases of common words: a commit by an mssearch without pairs turns the list off", "[searcher][pairs]") {
  // A rollback: an older binary's incremental run writes articles without pair terms and leaves
  // the list. The list holds only at the revision of the commit that paired.
  test::TempDir tmp;
  const auto src = tmp / "articles";
  std::filesystem::copy(test::corpus_dir(), src, std::filesystem::copy_options::recursive);
  IndexerOptions io = paired(tmp / "db");
  REQUIRE(run_index_job({src}, io));
  auto live = live_database_dir(io.db_path);
  REQUIRE(live);
  {
    auto db = open_index(io.db_path);
    REQUIRE(db);
    CHECK_FALSE(schema::pair_words_of(*db).empty());
  }
  Article older;
  older.id = "written-by-an-older-binary";
  older.title = "Zebraword notes";
  older.date = "2025-04-01";
  older.sections = {{"What They Found", "Fatigue of the zebraword kind in multiple sclerosis."}};
  {
    Xapian::WritableDatabase w(live->string(), Xapian::DB_OPEN);
    const TextAnalyzer analyzer;
    DocumentBuilder builder(analyzer, &w);  // no pair words, as before they existed
    w.replace_document(schema::id_term(older.id), builder.build(older, content_hash(older)));
    w.commit();
  }
  const std::string q = "\"of the zebraword\"";
  {
    Searcher with = open_searcher(io.db_path, true), without = open_searcher(io.db_path, false);
    CHECK(answer(without, q).ids == std::vector<std::string>{older.id});
    CHECK(answer(with, q) == answer(without, q));
    CHECK(answer(with, "\"multiple sclerosis\"") == answer(without, "\"multiple sclerosis\""));
  }
  // The next run of this mssearch that writes drops the list and says so; `--full` pairs again.
  test::write_file(src / "zz-new.md", test::markdown_article("Another article of the kind"));
  IndexerOptions incremental;
  incremental.db_path = io.db_path;
  auto report = run_index_job({src}, incremental);
  REQUIRE(report);
  REQUIRE_FALSE(report->warnings.empty());
  CHECK_THAT(report->warnings.front(), Catch::Contains("--full"));
  {
    auto db = open_index(io.db_path);
    REQUIRE(db);
    CHECK(db->get_metadata(std::string(schema::kMetaPairWords)).empty());
  }
  same_answers(io.db_path);
  io.full = true;
  REQUIRE(run_index_job({src}, io));
  auto db = open_index(io.db_path);
  REQUIRE(db);
  CHECK_FALSE(schema::pair_words_of(*db).empty());
  same_answers(io.db_path);
}
