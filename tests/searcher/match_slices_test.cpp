// Match slices (searcher/match_slices.h): a match cut into slices of the docid space, matched
// at once and merged, must answer exactly as one pass: the same hits in the same order with the
// same scores, totals, facets, snippets and related articles, on one index and on a sharded
// one, for plain words, as-you-type prefixes, filters and pages further on; and for the
// matches each slice must see whole (phrases, date ranges, wildcards: their facets are counted
// by a spy per slice, summed).
#include <catch2/catch.hpp>

#include <functional>
#include <thread>

#include <nlohmann/json.hpp>

#include "indexer/indexer.h"
#include "searcher/limited_match.h"
#include "searcher/match_slices.h"
#include "searcher/searcher.h"
#include "tests/test_support.h"

using namespace mssearch;

namespace {

Searcher open_searcher(const std::filesystem::path& db, std::size_t slices) {
  SearcherOptions options;
  options.db_path = db;
  options.match_slices = slices;
  options.match_slice_min_documents = 1;  // the sample corpus is small
  auto s = Searcher::open(options);
  if (!s) FAIL(s.error().message);
  return std::move(*s);
}

nlohmann::json answer(Searcher& s, const SearchRequest& request) {
  auto result = s.search(request);
  if (!result) FAIL(request.query << ": " << result.error().message);
  nlohmann::json j = to_json(*result);
  j.erase("took_ms");
  return j;
}

std::vector<SearchRequest> requests() {
  std::vector<SearchRequest> out;
  // Each query as asked, a page further on, and as `vary` changes it.
  auto with_page = [&](const char* q, const std::function<void(SearchRequest&)>& vary) {
    SearchRequest r;
    r.query = q;
    out.push_back(r);
    r.offset = 4;
    r.limit = 3;
    out.push_back(r);
    r = {};
    r.query = q;
    vary(r);
    out.push_back(r);
  };
  for (const char* q : {"astrocytes", "fatigue heat", "remyelination therapy trial", "vitamin d", "brain fog",
                        "multiple sclerosis", "mri lesion", "ms", "the", "zzzznotaword"})
    with_page(q, [](SearchRequest& r) { r.facets = false; });  // Xapian's estimate of the total
  for (const char* prefix : {"a", "de", "rem", "fat", "mult", "multiple scl", "vitamin d", "brain f"}) {
    SearchRequest r;
    r.query = prefix;
    r.partial = true;
    out.push_back(r);
    r.related = false;
    r.limit = 6;
    out.push_back(r);
  }
  // Counted by the matcher: each slice sees every match of its own.
  for (const char* q : {"\"multiple sclerosis\"", "\"white matter\" lesions", "\"the\" brain", "remyelin*",
                        "\"vitamin d\" fatigue -heat", "\"no such phrase here\""})
    with_page(q, [](SearchRequest& r) {
      r.since = "2024-01-01";
      r.until = "2025-12-31";
    });
  SearchRequest filtered;
  filtered.query = "sclerosis";
  filtered.topics = {"Demyelination"};
  out.push_back(filtered);
  // Every hit of equal weight: the order is the docids'.
  SearchRequest browse;
  browse.topics = {"Demyelination"};
  out.push_back(browse);
  browse.topics = {};
  browse.offset = 7;
  out.push_back(browse);
  return out;
}

void same_answers(const std::filesystem::path& db, bool sliceable) {
  Searcher one_pass = open_searcher(db, 1);
  Searcher sliced = open_searcher(db, 2);
  const auto before = MatchSlices::sliced_matches();
  for (const auto& r : requests()) {
    INFO(r.query << (r.partial ? " (as you type)" : "") << " offset " << r.offset << " facets " << r.facets);
    CHECK(answer(sliced, r) == answer(one_pass, r));
  }
  // The searches above were sliced (one search at a time leaves the second core free); a
  // sharded index counts its shards in threads of its own and is matched in one pass.
  if (!sliceable)
    CHECK(MatchSlices::sliced_matches() == before);
  else if (std::thread::hardware_concurrency() >= 2)
    CHECK(MatchSlices::sliced_matches() - before >= requests().size() / 2);
  else
    WARN("one core: nothing was sliced, only the one-pass answers were compared");
}

}  // namespace

TEST_CASE("match slices: the same answers as one pass, on one index", "[slices]") {
  test::TempDir dir;
  IndexerOptions io;
  io.db_path = dir.path() / "db";
  REQUIRE(run_index_job({test::corpus_dir()}, io));
  same_answers(io.db_path, true);
}

TEST_CASE("match slices: a sharded index is matched in one pass, its answers as before", "[slices]") {
  test::TempDir dir;
  IndexerOptions io;
  io.db_path = dir.path() / "db";
  io.shards = 3;
  REQUIRE(run_index_job({test::corpus_dir()}, io));
  same_answers(io.db_path, false);
}

TEST_CASE("match slices: a small index, or a search beside another on every core, is matched in one pass", "[slices]") {
  test::TempDir dir;
  IndexerOptions io;
  io.db_path = dir.path() / "db";
  REQUIRE(run_index_job({test::corpus_dir()}, io));
  SearcherOptions options;
  options.db_path = io.db_path;  // the default threshold: 20,000 articles
  auto s = Searcher::open(options);
  REQUIRE(s);
  SearchRequest r;
  r.query = "astrocytes";
  auto before = MatchSlices::sliced_matches();
  REQUIRE(s->search(r));
  CHECK(MatchSlices::sliced_matches() == before);

  // Searches running on every core already: no slices (the test holds them as a server's
  // other searches would).
  Searcher small_threshold = open_searcher(io.db_path, 2);
  std::vector<std::unique_ptr<MatchSlices::Running>> others;
  for (unsigned i = 0; i < std::max(1u, std::thread::hardware_concurrency()); ++i)
    others.push_back(std::make_unique<MatchSlices::Running>());
  before = MatchSlices::sliced_matches();
  REQUIRE(small_threshold.search(r));
  CHECK(MatchSlices::sliced_matches() == before);
  others.clear();
  if (std::thread::hardware_concurrency() >= 2) {
    r.related = false;
    REQUIRE(small_threshold.search(r));
    CHECK(MatchSlices::sliced_matches() == before + 1);
    // As you type a prefix, no related articles: the match alone, sliced (they were a search
    // of their own, a third of such an answer's time).
    r.query = "astro";
    r.partial = true;
    r.related = true;
    before = MatchSlices::sliced_matches();
    auto typed = small_threshold.search(r);
    REQUIRE(typed);
    CHECK(typed->last_word_prefix);
    CHECK(typed->related.empty());
    CHECK(MatchSlices::sliced_matches() == before + 1);
    // An article's related articles too.
    before = MatchSlices::sliced_matches();
    auto like = small_threshold.related("trem2-microglia-repair", 5);
    REQUIRE(like);
    CHECK(like->size() == 5);
    CHECK(MatchSlices::sliced_matches() == before + 1);
    Searcher one_pass = open_searcher(io.db_path, 1);
    auto same = one_pass.related("trem2-microglia-repair", 5);
    REQUIRE(same);
    REQUIRE(same->size() == like->size());
    for (std::size_t i = 0; i < like->size(); ++i) {
      CHECK((*like)[i].id == (*same)[i].id);
      CHECK((*like)[i].score == Approx((*same)[i].score));
    }
  }
}

TEST_CASE("match slices: a phrase, whose matches the matcher must see, is sliced with a spy per slice", "[slices]") {
  test::TempDir dir;
  IndexerOptions io;
  io.db_path = dir.path() / "db";
  REQUIRE(run_index_job({test::corpus_dir()}, io));
  Searcher one_pass = open_searcher(io.db_path, 1);
  Searcher sliced = open_searcher(io.db_path, 2);
  SearchRequest r;
  r.query = "\"multiple sclerosis\"";
  r.related = false;  // counted alone
  const auto before = MatchSlices::sliced_matches();
  const nlohmann::json a = answer(sliced, r);
  if (std::thread::hardware_concurrency() >= 2) CHECK(MatchSlices::sliced_matches() == before + 1);
  const nlohmann::json b = answer(one_pass, r);
  CHECK(a == b);
  // Exact, and not trivially so: the phrase matches some articles, not all, and its facets
  // count each of them once.
  REQUIRE(a["total"].get<int>() > 1);
  CHECK(a["total_is_exact"] == true);
  int counted = 0;
  for (const auto& year : a["facets"]["years"]) counted += year["count"].get<int>();
  CHECK(counted == a["total"].get<int>());
}

// get_mset_within (searcher/limited_match.h): the time limit on counting, kept by a spy of
// ours instead of Xapian's timer (whose thread could write after the match returned).
TEST_CASE("limited match: counting stops at the limit, the page is matched whole", "[searcher][limits]") {
  test::TempDir tmp;
  const std::string path = (tmp / "db").string();
  {
    Xapian::WritableDatabase db(path, Xapian::DB_CREATE | Xapian::DB_NO_SYNC);
    for (int i = 0; i < 20000; ++i) {
      Xapian::Document doc;
      doc.add_term("common");
      // Term frequency within the document varies, so the best ten are a few particular ones.
      doc.add_term("rare", static_cast<Xapian::termcount>(1 + (i * 7919) % 13));
      doc.add_value(0, std::to_string(i % 5));
      db.add_document(doc);
    }
    db.commit();
  }
  Xapian::Database db(path);
  const Xapian::Query query(Xapian::Query::OP_OR, Xapian::Query("common"), Xapian::Query("rare"));
  auto page = [](const Xapian::MSet& m) {
    std::vector<Xapian::docid> ids;
    for (auto it = m.begin(); it != m.end(); ++it) ids.push_back(*it);
    return ids;
  };
  Xapian::Enquire whole_enquire(db);
  whole_enquire.set_query(query);
  Xapian::ValueCountMatchSpy whole_spy(0);
  whole_enquire.add_matchspy(&whole_spy);
  const LimitedMSet whole = get_mset_within(whole_enquire, 0, 10, db.get_doccount(), 0);
  CHECK_FALSE(whole.cut);
  CHECK(whole_spy.get_total() == 20000);
  CHECK(whole.mset.get_matches_lower_bound() == 20000);

  for (const double limit : {1e-9, 1e-6}) {
    CAPTURE(limit);
    Xapian::Enquire enquire(db);
    enquire.set_query(query);
    Xapian::ValueCountMatchSpy spy(0);
    enquire.add_matchspy(&spy);
    const LimitedMSet cut = get_mset_within(enquire, 0, 10, db.get_doccount(), limit);
    CHECK(cut.cut);
    CHECK(spy.get_total() < 20000);
    CHECK(spy.get_total() >= 16);  // the clock is read every 16 matches
    CHECK(page(cut.mset) == page(whole.mset));
    // The enquire holds no spy of the call's (nor the counters' spies) afterwards: another
    // match on it runs without them and is not cut.
    const Xapian::MSet again = enquire.get_mset(0, 10, db.get_doccount());
    CHECK(again.get_matches_lower_bound() == 20000);
  }
  // A limit with nothing to count past the page (check_at_least within it) does nothing.
  Xapian::Enquire plain(db);
  plain.set_query(query);
  const LimitedMSet top = get_mset_within(plain, 0, 10, 10, 1e-9);
  CHECK_FALSE(top.cut);
  CHECK(page(top.mset) == page(whole.mset));
}
