// Ranking choices (searcher/ranking.h) on small fixtures and the sample corpus, through real
// Xapian databases: each does what it claims and leaves the match set alone.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <regex>
#include <set>

#include "indexer/article_reader.h"
#include "indexer/indexer.h"
#include "schema/schema.h"
#include "schema/text_analyzer.h"
#include "searcher/ranking.h"
#include "searcher/searcher.h"
#include "tests/test_support.h"

using namespace mssearch;

namespace {

Article article(const std::string& id, const std::string& title, const std::string& body,
                const std::string& date = "2025-03-01", std::optional<int> credibility = std::nullopt) {
  Article a;
  a.id = id;
  a.title = title;
  a.date = date;
  a.url = "/articles/" + id;
  a.credibility = credibility;
  a.source = "/fixture/" + id + ".md";
  set_body(a, body);
  return a;
}

struct Fixture {
  test::TempDir tmp;
  explicit Fixture(std::vector<Article> articles) {
    IndexerOptions io;
    io.db_path = tmp / "db";
    REQUIRE(index_articles(std::move(articles), io));
  }
  Searcher open(RankingOptions ranking = {}) {
    SearcherOptions o;
    o.db_path = tmp / "db";
    o.ranking = ranking;
    auto s = Searcher::open(o);
    REQUIRE(s);
    return std::move(*s);
  }
};

SearchResult search(Searcher& s, const std::string& query) {
  SearchRequest r;
  r.query = query;
  r.limit = 100;
  auto result = s.search(r);
  if (!result) FAIL(result.error().message);
  return *result;
}

std::vector<std::string> ids(const SearchResult& r) {
  std::vector<std::string> out;
  for (const auto& h : r.hits) out.push_back(h.id);
  return out;
}

// The stems of the words a snippet marks.
std::set<std::string> marked_stems(const std::string& snippet) {
  static const std::regex mark("<mark>([^<]*)</mark>");
  static const Xapian::Stem stem("english");
  std::set<std::string> out;
  for (auto it = std::sregex_iterator(snippet.begin(), snippet.end(), mark); it != std::sregex_iterator(); ++it)
    out.insert(stem(fold_text((*it)[1].str())));
  return out;
}

int this_year() {
  const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  return static_cast<int>(std::chrono::year_month_day(today).year());
}

}  // namespace

TEST_CASE("ranking: stop words are dropped from questions, kept when nothing else is left", "[ranking]") {
  Fixture f({article("what-heat", "Heat and symptoms", "What is the effect of heat? What is it? What is this?"),
             article("heat-only", "Heat and symptoms", "Heat makes symptoms worse for a while.")});
  RankingOptions off;
  off.stop_words = false;
  auto with = f.open();
  auto without = f.open(off);
  // Without the stop list, the article full of "what is the" wins a question about heat.
  CHECK(ids(search(without, "what is the effect of heat"))[0] == "what-heat");
  const auto r = search(with, "what is the heat");
  CHECK(ids(r) == ids(search(with, "heat")));
  // A query of stop words only still finds what has them.
  CHECK(search(with, "what is").total == 1);
}

TEST_CASE("ranking: the exact form typed ranks above another word of the same stem", "[ranking]") {
  Fixture f({article("organs", "Food and the body", "Organ damage in the organs of the body, organ by organ."),
             article("organic", "Food and the body", "Organic food in the diet of the body.")});
  auto s = f.open();
  const auto r = search(s, "organic");
  REQUIRE(r.total == 2);  // "organic" and "organ" share the stem "organ": both match
  CHECK(r.hits[0].id == "organic");
  RankingOptions off;
  off.exact_weight = 0;
  auto plain = f.open(off);
  CHECK(search(plain, "organic").hits[0].id == "organs");  // without it, wdf decides
}

TEST_CASE("ranking: feedback re-ranks but never changes totals, facets or snippet marks", "[ranking]") {
  test::TempDir tmp;
  IndexerOptions io;
  io.db_path = tmp / "db";
  REQUIRE(run_index_job({test::corpus_dir()}, io));
  SearcherOptions on, off;
  on.db_path = off.db_path = io.db_path;
  off.ranking.feedback_docs = 0;
  REQUIRE(on.ranking.feedback_docs > 0);  // on by default
  auto a = Searcher::open(on);
  auto b = Searcher::open(off);
  REQUIRE(a);
  REQUIRE(b);
  bool reordered = false;
  for (const char* q : {"astrocytes", "vitamin d relapses", "fatigue", "why do symptoms get worse in heat",
                        "myelin repair", "pregnancy"}) {
    SearchRequest r;
    r.query = q;
    r.limit = 100;
    auto x = a->search(r);
    auto y = b->search(r);
    REQUIRE(x);
    REQUIRE(y);
    INFO(q);
    CHECK(x->total == y->total);
    const auto ix = ids(*x), iy = ids(*y);
    CHECK(std::set<std::string>(ix.begin(), ix.end()) == std::set<std::string>(iy.begin(), iy.end()));
    CHECK(x->topic_facets.size() == y->topic_facets.size());
    for (std::size_t i = 0; i < x->topic_facets.size() && i < y->topic_facets.size(); ++i)
      CHECK(x->topic_facets[i].count == y->topic_facets[i].count);
    reordered |= ix != iy;
    // The same words are marked with and without feedback: only what was typed (and its stems),
    // never a feedback term. (Between equally good passages, either may be shown.)
    for (const auto& hx : x->hits) {
      const auto match = std::find_if(y->hits.begin(), y->hits.end(), [&](const SearchHit& h) { return h.id == hx.id; });
      REQUIRE(match != y->hits.end());
      CHECK(marked_stems(hx.snippet.html()) == marked_stems(match->snippet.html()));
    }
  }
  CHECK(reordered);  // and it does change some order, or it would be doing nothing
}

TEST_CASE("ranking: feedback reads the stored expansion terms, an index without them ranks the same", "[ranking]") {
  test::TempDir tmp;
  IndexerOptions io;
  io.db_path = tmp / "db";
  REQUIRE(run_index_job({test::corpus_dir()}, io));
  // The same index with the feedback terms slot removed from every article, as an index
  // written before the slot existed holds them: feedback then reads the term lists.
  const auto older = tmp / "older";
  std::filesystem::copy(io.db_path, older, std::filesystem::copy_options::recursive);
  {
    Xapian::WritableDatabase w(older.string());  // through the index's stub file
    REQUIRE(w.get_value_freq(schema::kSlotFeedbackTerms) == w.get_doccount());
    for (auto p = w.postlist_begin(""); p != w.postlist_end(""); ++p) {
      Xapian::Document doc = w.get_document(*p);
      doc.remove_value(schema::kSlotFeedbackTerms);
      w.replace_document(*p, doc);
    }
    w.commit();
    REQUIRE(w.get_value_freq(schema::kSlotFeedbackTerms) == 0);
  }
  SearcherOptions now, before;
  now.db_path = io.db_path;
  before.db_path = older;
  auto a = Searcher::open(now);
  auto b = Searcher::open(before);
  REQUIRE(a);
  REQUIRE(b);
  for (const char* q : {"astrocytes", "vitamin d relapses", "fatigue", "why do symptoms get worse in heat",
                        "myelin repair", "pregnancy", "stem cell transplant"}) {
    SearchRequest r;
    r.query = q;
    r.limit = 20;
    auto x = a->search(r);
    auto y = b->search(r);
    REQUIRE(x);
    REQUIRE(y);
    INFO(q);
    CHECK(ids(*x) == ids(*y));
    for (std::size_t i = 0; i < x->hits.size() && i < y->hits.size(); ++i)
      CHECK(x->hits[i].score == Approx(y->hits[i].score));
    std::vector<std::string> rx, ry;
    for (const auto& h : x->related) rx.push_back(h.id);
    for (const auto& h : y->related) ry.push_back(h.id);
    CHECK(rx == ry);
  }
}

TEST_CASE("ranking: feedback is not used as-you-type", "[ranking]") {
  Fixture f({article("a", "Myelin repair", "Myelin repair by remyelination in lesions."),
             article("b", "Myelin sheath", "The myelin sheath and remyelination therapy."),
             article("c", "Lesions", "Lesions and remyelination therapy in the spinal cord.")});
  RankingOptions off;
  off.feedback_docs = 0;
  auto with = f.open();
  auto without = f.open(off);
  SearchRequest r;
  r.query = "myelin rep";
  r.partial = true;
  auto x = with.search(r), y = without.search(r);
  REQUIRE(x);
  REQUIRE(y);
  REQUIRE(!x->hits.empty());
  for (std::size_t i = 0; i < x->hits.size(); ++i) CHECK(x->hits[i].score == Approx(y->hits[i].score));
}

TEST_CASE("ranking: recency and credibility boosts are off by default and work when set", "[ranking]") {
  const int year = this_year();
  Fixture f({article("old", "Walking aids", "Walking aids and falls.", std::to_string(year - 8) + "-01-10", 5),
             article("new", "Walking aids", "Walking aids and falls.", std::to_string(year) + "-01-10", 2)});
  RankingOptions defaults;
  CHECK(defaults.recency_boost == 0);
  CHECK(defaults.credibility_boost == 0);
  auto plain = f.open();
  const auto base = search(plain, "walking aids");
  REQUIRE(base.total == 2);
  CHECK(base.hits[0].score == Approx(base.hits[1].score));  // same text: only a boost can separate them

  RankingOptions recent;
  recent.recency_boost = 1.0;
  auto r = f.open(recent);
  const auto by_recency = search(r, "walking aids");
  CHECK(ids(by_recency) == std::vector<std::string>{"new", "old"});
  // Up to 1.0 for this year, halving every two years: 8 years old gets 1/16.
  CHECK(by_recency.hits[0].score - base.hits[0].score == Approx(1.0).margin(0.01));
  CHECK(by_recency.hits[1].score - base.hits[1].score == Approx(1.0 / 16).margin(0.01));
  CHECK(by_recency.total == base.total);

  RankingOptions credible;
  credible.credibility_boost = 1.0;
  auto c = f.open(credible);
  CHECK(ids(search(c, "walking aids")) == std::vector<std::string>{"old", "new"});
}

TEST_CASE("ranking: CollectionFreqs fills a term's two frequencies as they are asked for, and stays right when full", "[ranking]") {
  Xapian::WritableDatabase db(std::string(), Xapian::DB_BACKEND_INMEMORY);
  for (int d = 0; d < 3; ++d) {
    Xapian::Document doc;
    doc.add_term("Zmyelin", static_cast<Xapian::termcount>(d + 1));  // 3 documents, 6 occurrences
    if (d == 0) doc.add_term("Zrepair", 4);                           // 1 document, 4 occurrences
    db.add_document(doc);
  }
  db.commit();
  CollectionFreqs freqs;
  // One figure first, then the other: the entry made by the first must not answer the second
  // with its placeholder.
  CHECK(freqs.get(db, "Zmyelin") == 6);
  CHECK(freqs.termfreq(db, "Zmyelin") == 3);
  CHECK(freqs.termfreq(db, "Zrepair") == 1);
  CHECK(freqs.get(db, "Zrepair") == 4);
  const auto both = freqs.both(db, "Zmyelin");
  CHECK(both.termfreq == 3);
  CHECK(both.collection_freq == 6);
  CHECK(freqs.both(db, "Zabsent").termfreq == 0);
  CHECK(freqs.get(db, "Zabsent") == 0);
  // Past its size limit the cache empties itself and answers the same.
  for (std::size_t i = 0; i < (1u << 18) + 10; ++i) freqs.termfreq(db, "Xfiller" + std::to_string(i));
  CHECK(freqs.termfreq(db, "Zrepair") == 1);
  CHECK(freqs.get(db, "Zrepair") == 4);
  CHECK(freqs.both(db, "Zmyelin").collection_freq == 6);
}

TEST_CASE("ranking: a shard's feedback frequencies hold each term of its best hits once, in order, with both figures",
          "[ranking]") {
  Xapian::WritableDatabase db(std::string(), Xapian::DB_BACKEND_INMEMORY);
  const std::vector<schema::TermWdfs> stored = {
      {{"Zastrocyt", 2}, {"Zmyelin", 3}, {"Zrepair", 1}},
      {{"Zmyelin", 1}, {"Zmyelinat", 2}, {"Zsleep", 4}},
      {{"Zfatigu", 1}, {"Zmyelin", 2}},
  };
  for (const auto& terms : stored) {
    Xapian::Document doc;
    for (const auto& [term, wdf] : terms) doc.add_term(term, wdf);
    doc.add_value(schema::kSlotFeedbackTerms, schema::encode_feedback_terms(terms));
    db.add_document(doc);
  }
  // A damaged value whose terms are out of order (never written so): still each term once.
  Xapian::Document damaged;
  damaged.add_term("Zzinc", 1);
  damaged.add_term("Zastrocyt", 1);
  damaged.add_value(schema::kSlotFeedbackTerms, schema::front_coded_terms({{"Zzinc", 1}, {"Zastrocyt", 1}}));
  db.add_document(damaged);
  db.commit();

  CollectionFreqs freqs;
  FeedbackDocCache cache;
  cache.start();
  std::vector<const FeedbackDocCache::Doc*> docs;
  for (Xapian::docid id = 1; id <= 4; ++id) docs.push_back(&cache.get(db, id, freqs));
  CHECK(docs[0]->stored == db.get_document(1).get_value(schema::kSlotFeedbackTerms));
  const TermFreqTable table = feedback_freqs(docs);
  const std::vector<std::string> expected = {"Zastrocyt", "Zfatigu", "Zmyelin", "Zmyelinat", "Zrepair", "Zsleep", "Zzinc"};
  REQUIRE(table.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CHECK(table.term(i) == expected[i]);
    CHECK(table.freqs(i).termfreq == db.get_termfreq(expected[i]));
    CHECK(table.freqs(i).collection_freq == db.get_collection_freq(expected[i]));
  }
  CHECK(table.find("Zmyelin")->collection_freq == 6);
  CHECK(table.find("Zmyelin")->termfreq == 3);
  CHECK(table.find("Zmyel") == nullptr);
  // A document met again is the one read before (no second read).
  CHECK(&cache.get(db, 2, freqs) == docs[1]);
  // One document, and none.
  CHECK(feedback_freqs({docs[2]}).size() == 2);
  CHECK(feedback_freqs({}).size() == 0);
}
