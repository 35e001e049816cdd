// The searcher's pipeline, stage by stage (searcher.h): plan, match with each facet-counting
// strategy, rerank, page and related, each on a real index of the sample corpus.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "indexer/indexer.h"
#include "schema/index_path.h"
#include "searcher/facet_counter.h"
#include "searcher/matcher.h"
#include "searcher/page_builder.h"
#include "searcher/query_planner.h"
#include "searcher/related_finder.h"
#include "searcher/reranker.h"
#include "tests/test_support.h"

using namespace mssearch;

namespace {

// The sample corpus indexed once for every test case here.
struct Stages {
  test::TempDir tmp;
  SearcherOptions options;
  Xapian::Database db;
  std::unique_ptr<QueryPlanner> planner;
  std::unique_ptr<Xapian::Weight> weight;
  CollectionFreqs freqs;
  StoredArticles stored;

  Stages() {
    IndexerOptions io;
    io.db_path = tmp / "db";
    REQUIRE(run_index_job({test::corpus_dir()}, io));
    options.db_path = io.db_path;
    auto opened = open_index(io.db_path);
    REQUIRE(opened);
    db = *opened;
    auto synonyms = SynonymTable::load(test::corpus_dir() / "synonyms.yaml");
    REQUIRE(synonyms);
    planner = std::make_unique<QueryPlanner>(options, std::make_shared<const SynonymTable>(std::move(*synonyms)), db);
    weight = make_weight(options.ranking);
  }

  QueryPlan plan(const SearchRequest& request) {
    auto p = planner->plan(request);
    if (!p) FAIL(p.error().message);
    return *p;
  }
  Matched match_with(const QueryPlan& plan, const SearchRequest& request, const FacetCounting* facets) {
    return match(db, *weight, plan, match_window(request, plan, options), facets, 0);
  }
};

Stages& stages() {
  static Stages s;
  return s;
}

SearchRequest ask(const std::string& q) {
  SearchRequest r;
  r.query = q;
  return r;
}

std::set<std::string> names(const std::vector<FacetValue>& facets) {
  std::set<std::string> out;
  for (const auto& f : facets) out.insert(f.value + "=" + std::to_string(f.count));
  return out;
}

}  // namespace

TEST_CASE("pipeline, plan: an exclusion or a requirement typed again is matched once", "[pipeline]") {
  // 1,000 times `-ms` (each `(ms OR "multiple sclerosis")` with the site's synonyms) took 3 s
  // a search at 3,900 articles, and 16 such searches held every worker of a server for a
  // minute: each copy was matched again. The plan is now the one of a single copy.
  Stages& s = stages();
  auto query_of = [&](const std::string& q) { return s.plan(ask(q)).query.serialise(); };
  auto times = [](const std::string& chunk, std::size_t n, const std::string& join = " ") {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out += (i == 0 ? "" : join) + chunk;
    return out;
  };
  CHECK(query_of(times("-ms", 1000)) == query_of("-ms"));
  CHECK(query_of(times("NOT ms", 500)) == query_of("-ms"));
  CHECK(query_of(times("+ms", 1000)) == query_of("+ms"));
  CHECK(query_of("fatigue " + times("-ms", 900)) == query_of("fatigue -ms"));
  CHECK(query_of("fatigue AND NOT ms AND NOT ms") == query_of("fatigue AND NOT ms"));
  CHECK(query_of("(" + times("-ms", 900) + " fatigue)") == query_of("(-ms fatigue)"));
  CHECK(query_of(times("(-ms)", 600)) == query_of("(-ms)"));
  CHECK(query_of("sleep OR -ms OR -ms") == query_of("sleep OR -ms"));
  // What differs stays: other exclusions, a phrase beside the word, a plain word's repeats.
  CHECK(query_of("-ms -fatigue") != query_of("-ms"));
  CHECK(query_of("-ms -\"ms\"") != query_of("-ms"));
  CHECK(query_of("sleep sleep -ms") != query_of("sleep -ms"));
  // A requirement holds for its OR branch: each copy stays (without the second, fatigue's
  // articles without mri came in).
  CHECK(query_of("trial +mri OR fatigue +mri") != query_of("trial +mri OR fatigue"));
  CHECK(query_of("exercise (trial +mri OR fatigue +mri)") != query_of("exercise (trial +mri OR fatigue)"));
  CHECK(query_of("fatigue +mri +mri") == query_of("fatigue +mri"));
  // Past kMaxRepeats copies there too (500 times `+ms OR`: 1.5 s a search at 3,900 articles).
  CHECK(query_of(times("+ms", 500, " OR ")) == query_of(times("+ms", 4, " OR ")));
}

TEST_CASE("pipeline, plan: order, feedback, filters and bounds are decided before matching", "[pipeline]") {
  Stages& s = stages();
  SECTION("nothing typed: every article, newest first, no feedback") {
    const QueryPlan p = s.plan(ask("   "));
    CHECK(p.blank);
    CHECK(p.by_date);
    CHECK_FALSE(p.feedback);
    CHECK(p.words.get_type() == Xapian::Query::LEAF_MATCH_ALL);
  }
  SECTION("words: by relevance with feedback, but not as-you-type") {
    CHECK(s.plan(ask("fatigue")).feedback);
    SearchRequest typing = ask("fatig");
    typing.partial = true;
    CHECK_FALSE(s.plan(typing).feedback);
    SearchRequest dated = ask("fatigue");
    dated.sort = SortOrder::kDate;
    CHECK(s.plan(dated).by_date);
    CHECK_FALSE(s.plan(dated).feedback);
  }
  SECTION("a filter narrows what is matched, not the words") {
    SearchRequest r = ask("fatigue");
    r.topics = {"Fatigue"};
    const QueryPlan p = s.plan(r);
    CHECK(p.words.get_description() == s.plan(ask("fatigue")).words.get_description());
    CHECK(p.query.get_description().find("FILTER") != std::string::npos);
  }
  SECTION("a long question keeps its rarest words and counts the rest") {
    std::string question;
    for (int i = 0; i < 120; ++i) question += "word" + std::to_string(i) + " ";
    question += "remyelination";
    const QueryPlan p = s.plan(ask(question));
    CHECK(p.words_dropped == 121 - s.options.max_query_words);
    // Unknown words tell nothing and go first; "remyelination" is in the index, so it is kept
    // only if the cut left room: here it does not, and the plan says how many went.
    CHECK(p.folded.find("word0") != std::string::npos);
  }
  SECTION("bad requests are errors naming what is wrong") {
    SearchRequest r = ask("ms");
    r.since = "2024-02-30";
    auto p = s.planner->plan(r);
    REQUIRE_FALSE(p);
    CHECK(p.error().code == ErrorCode::kBadQuery);
    CHECK_THAT(p.error().message, Catch::Contains("since"));
    auto long_one = s.planner->plan(ask(std::string(5000, 'a')));
    REQUIRE_FALSE(long_one);
    CHECK_THAT(long_one.error().message, Catch::Contains("4096"));
  }
}

TEST_CASE("pipeline, match: both facet strategies count the same, exactly", "[pipeline]") {
  Stages& s = stages();
  const auto columns = *FacetCounting::for_database(s.db, true, s.options.max_wildcard_expansion);
  const auto spies = *FacetCounting::for_database(s.db, false, s.options.max_wildcard_expansion);
  // Plain words (counted from the posting lists), a phrase and a date range (counted by the
  // matcher's spy), a wildcard, a filter, nothing typed.
  for (const std::string q : {"fatigue", "myelin repair", "\"optic neuritis\"", "remyel*", "ms", ""}) {
    for (bool dated : {false, true}) {
      INFO(q << (dated ? " (since 2023)" : ""));
      SearchRequest r = ask(q);
      if (dated) r.since = "2023-01-01";
      const QueryPlan plan = s.plan(r);
      const Matched by_columns = s.match_with(plan, r, columns.get());
      const Matched by_spies = s.match_with(plan, r, spies.get());
      CHECK(by_columns.total_is_exact);
      CHECK(by_spies.total_is_exact);
      CHECK(by_columns.total == by_spies.total);
      CHECK(names(by_columns.facets.topics) == names(by_spies.facets.topics));
      CHECK(names(by_columns.facets.years) == names(by_spies.facets.years));
      CHECK(names(by_columns.facets.journals) == names(by_spies.facets.journals));
      // The topic counts add up: every match with topics is counted under each of them.
      Xapian::doccount with_topics = 0;
      for (const auto& f : by_columns.facets.topics) with_topics += f.count;
      CHECK(with_topics >= (by_columns.total > 0 ? 1u : 0u));
      // Without counting, the same best hits.
      const Matched bare = s.match_with(plan, r, nullptr);
      CHECK(bare.facets.topics.empty());
      REQUIRE(bare.ranked.size() == by_columns.ranked.size());
      for (std::size_t i = 0; i < bare.ranked.size(); ++i) CHECK(bare.ranked[i].first == by_columns.ranked[i].first);
    }
  }
}

TEST_CASE("pipeline, match window: feedback's candidates reach past the page", "[pipeline]") {
  Stages& s = stages();
  SearchRequest r = ask("fatigue");
  r.offset = 20;
  r.limit = 10;
  const QueryPlan plan = s.plan(r);
  const MatchWindow w = match_window(r, plan, s.options);
  CHECK(w.candidates());
  CHECK(w.depth >= 2 * 30);
  r.limit = 1000;  // capped
  CHECK(match_window(r, plan, s.options).limit == s.options.max_limit);
  SearchRequest typing = ask("fatig");
  typing.partial = true;
  CHECK_FALSE(match_window(typing, s.plan(typing), s.options).candidates());
}

TEST_CASE("pipeline, rerank: the page is cut from the re-ranked candidates", "[pipeline]") {
  Stages& s = stages();
  SearchRequest r = ask("tired all the time");
  r.limit = 5;
  const QueryPlan plan = s.plan(r);
  const MatchWindow w = match_window(r, plan, s.options);
  const Matched m = s.match_with(plan, r, nullptr);
  const std::optional<std::vector<std::string>> one_database = std::vector<std::string>{};
  Reranker reranker(s.db, *s.weight, s.options.ranking, s.freqs, one_database);
  const Reranked out = reranker.rerank(plan, m, w);
  REQUIRE(out.page.size() == 5);
  CHECK_FALSE(out.terms.empty());
  std::set<Xapian::docid> candidates;
  for (const auto& [docid, score] : m.ranked) candidates.insert(docid);
  for (const auto& [docid, score] : out.page) CHECK(candidates.contains(docid));
  for (std::size_t i = 1; i < out.page.size(); ++i) CHECK(out.page[i - 1].second >= out.page[i].second);
  // Without docids (remote shards' way: the first pass's query bounds the candidates, whose
  // weights are kept): the same page, scores and related candidates.
  const std::optional<std::vector<std::string>> no_docids;
  const Reranked by_query = Reranker(s.db, *s.weight, s.options.ranking, s.freqs, no_docids).rerank(plan, m, w);
  CHECK(by_query.page == out.page);
  CHECK(by_query.like_best == out.like_best);
  // The next page continues where this one ends: no hit twice.
  SearchRequest next = r;
  next.offset = 5;
  const Reranked second = reranker.rerank(plan, m, match_window(next, plan, s.options));
  for (const auto& [docid, score] : second.page)
    CHECK(std::none_of(out.page.begin(), out.page.end(), [&](const auto& d) { return d.first == docid; }));
  // Feedback off: the match's window as it is.
  RankingOptions off = s.options.ranking;
  off.feedback_docs = 0;
  SearcherOptions plain = s.options;
  plain.ranking = off;
  QueryPlanner no_feedback(plain, std::make_shared<const SynonymTable>(), s.db);
  const QueryPlan p2 = *no_feedback.plan(r);
  CHECK_FALSE(p2.feedback);
  const Matched m2 = s.match_with(p2, r, nullptr);
  CHECK(reranker.rerank(p2, m2, match_window(r, p2, plain)).page == m2.ranked);
}

TEST_CASE("pipeline, page and related: stored fields, marked snippets, related never on the page", "[pipeline]") {
  Stages& s = stages();
  SearchRequest r = ask("heat");
  const QueryPlan plan = s.plan(r);
  const MatchWindow w = match_window(r, plan, s.options);
  const Matched m = s.match_with(plan, r, nullptr);
  const std::optional<std::vector<std::string>> one_database = std::vector<std::string>{};
  const Reranked ranked = Reranker(s.db, *s.weight, s.options.ranking, s.freqs, one_database).rerank(plan, m, w);
  const Page page = build_page(s.db, ranked.page, m.mset, s.planner->analyzer().snippet_stemmer(plan.query),
                               {true, 240}, s.stored);
  REQUIRE_FALSE(page.hits.empty());
  CHECK(page.hits.size() == page.docids.size());
  CHECK_FALSE(page.hits.front().snippet.marks.empty());
  CHECK(page.hits.front().snippet.html().find("<mark>") != std::string::npos);
  CHECK_FALSE(page.hits.front().title.empty());
  const Page bare = build_page(s.db, ranked.page, m.mset, Xapian::Stem(), {false, 240}, s.stored);
  CHECK(bare.hits.front().snippet.empty());
  CHECK(bare.ids == page.ids);

  RelatedFinder finder(s.db, *s.weight, s.planner->parser(), s.options.ranking, s.freqs, s.stored);
  const auto related = finder.of_answer(plan, m, ranked, page, 5);
  CHECK(related.size() == 5);
  for (const auto& hit : related) CHECK(std::find(page.ids.begin(), page.ids.end(), hit.id) == page.ids.end());
  // Like one article: never itself.
  const auto like = finder.like({page.docids.front()}, {page.ids.front()}, page.hits.front().topics, 5, 1);
  CHECK_FALSE(like.empty());
  for (const auto& hit : like) CHECK(hit.id != page.ids.front());
  CHECK(s.stored.take_warnings().empty());
}

TEST_CASE("pipeline, page: snippets are spans over plain text, rendered to HTML escaped", "[pipeline]") {
  const Highlighted h = highlighted_from_snippet("a &lt;mark&gt; &amp; <mark>heat</mark> &quot;x&quot; <mark>hot</mark>…");
  CHECK(h.text == "a <mark> & heat \"x\" hot…");
  REQUIRE(h.marks.size() == 2);
  CHECK(h.text.substr(h.marks[0].begin, h.marks[0].end - h.marks[0].begin) == "heat");
  CHECK(h.text.substr(h.marks[1].begin, h.marks[1].end - h.marks[1].begin) == "hot");
  CHECK(h.html() == "a &lt;mark&gt; &amp; <mark>heat</mark> &quot;x&quot; <mark>hot</mark>…");
  // A snippet cut inside a matched word leaves its mark open: it is kept, and closed in HTML.
  const Highlighted cut = highlighted_from_snippet("recovery. <mark>Optic…");
  REQUIRE(cut.marks.size() == 1);
  CHECK(cut.html() == "recovery. <mark>Optic…</mark>");
  // Spans that do not fit the text are never rendered (no tag left open, nothing repeated).
  Highlighted bad{"abc", {{2, 9}, {1, 2}, {0, 1}}};
  CHECK(bad.html() == "a<mark>b</mark>c");
  Highlighted unordered{"abcdef", {{3, 4}, {0, 1}}};
  CHECK(unordered.html() == "abc<mark>d</mark>ef");
}

TEST_CASE("plan: an operator is no exact form to favour", "[pipeline]") {
  // `sleep NEAR fatigue` gave 0.3 of a word's weight to articles writing "near", and
  // `topic:fatigue XOR year:2025` to those writing "xor".
  Stages& s = stages();
  for (const std::string op : {"NEAR", "NEAR/4", "XOR", "ADJ", "ADJ/2"}) {
    CAPTURE(op);
    SearchRequest r;
    r.query = "sleep " + op + " fatigue";
    const QueryPlan plan = s.plan(r);
    const std::string word = op.starts_with("NEAR") ? "near" : op.starts_with("ADJ") ? "adj" : "xor";
    CHECK(std::find(plan.query.get_terms_begin(), plan.query.get_terms_end(), word) == plan.query.get_terms_end());
  }
  // As a word in lower case it is one.
  SearchRequest r;
  r.query = "sleep near fatigue";
  const QueryPlan plan = s.plan(r);
  CHECK(std::find(plan.query.get_terms_begin(), plan.query.get_terms_end(), "near") != plan.query.get_terms_end());
}

TEST_CASE("synonyms: a one-way group expands its `from` expressions only", "[pipeline]") {
  test::TempDir tmp;
  test::write_file(tmp / "s.yaml", "lay:\n  - {from: [jab, the change], to: [vaccine, injection]}\n  - [tired, fatigue]\n");
  auto table = SynonymTable::load(tmp / "s.yaml");
  REQUIRE(table);
  CHECK(table->expand("covid jab", false) == "covid (jab OR \"the change\" OR vaccine OR injection)");
  CHECK(table->expand("the change", false) == "(jab OR \"the change\" OR vaccine OR injection)");
  // "vaccine" typed finds vaccines only (it found every article saying "injection").
  CHECK(table->expand("vaccine injection", false) == "vaccine injection");
  CHECK(table->expand("tired", false) == "(tired OR fatigue)");
  CHECK(table->expand("fatigue", false) == "(tired OR fatigue)");
  // The same expressions both ways are another table.
  test::write_file(tmp / "both.yaml", "lay:\n  - [jab, the change, vaccine, injection]\n  - [tired, fatigue]\n");
  auto both = SynonymTable::load(tmp / "both.yaml");
  REQUIRE(both);
  CHECK(both->fingerprint() != table->fingerprint());
  // Malformed: named, with its line. An empty expression (`null` was searched as the word
  // "null") or a list or map in one's place ("bad conversion") too.
  for (const auto& [bad, said] : std::vector<std::pair<std::string, std::string>>{
           {"lay:\n  - {from: [jab]}\n", "one-way group"},
           {"lay:\n  - {from: [jab], to: []}\n", "one-way group"},
           {"lay:\n  - {from: [jab], to: [v], also: [x]}\n", "one-way group"},
           {"lay:\n  - {from: jab, to: [v]}\n", "one-way group"},
           {"lay:\n  - [tired, null]\n", "empty expression"},
           {"lay:\n  - [tired, ~, fatigue]\n", "empty expression"},
           {"lay:\n  - [tired, , fatigue]\n", "empty expression"},
           {"lay:\n  - {from: [jab], to: [~]}\n", "empty expression"},
           {"lay:\n  - [tired, \"\"]\n", "empty expression"},
           {"lay:\n  - [tired, \"!!\"]\n", "empty expression"},
           {"lay:\n  - []\n", "empty group"},
           {"lay:\n  - [tired, {a: b}]\n", "must be words"},
           {"lay:\n  - {from: [jab, [x]], to: [v]}\n", "must be words"}}) {
    CAPTURE(bad);
    test::write_file(tmp / "bad.yaml", bad);
    auto refused = SynonymTable::load(tmp / "bad.yaml");
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message, Catch::Contains("bad.yaml:2") && Catch::Contains(said));
  }
  // A number is words (`[vitamin d, 25-hydroxyvitamin d]`, `[covid, 19]`).
  test::write_file(tmp / "number.yaml", "lay:\n  - [tired, 42]\n");
  REQUIRE(SynonymTable::load(tmp / "number.yaml"));
  // YAML aliases repeat a group without its bytes: bounded by what they expand to (a 27 KB
  // file took 6 s and 415 MB each search).
  {
    std::string bomb = "lay:\n  - &g [";
    for (int i = 0; i < 2000; ++i) bomb += (i ? ", w" : "w") + std::to_string(i);
    bomb += "]\n";
    for (int i = 0; i < 5000; ++i) bomb += "  - *g\n";
    test::write_file(tmp / "bomb.yaml", bomb);
    auto refused = SynonymTable::load(tmp / "bomb.yaml");
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message, Catch::Contains("more than 1000000 expressions"));
  }
  // The sample's: `menopause` does not find the articles saying "the change" (a change in signal
  // speed), `vaccine` none about injections; `the change`, `jab` find them.
  Stages& s = stages();
  for (const auto& [typed, absent] : {std::pair{"menopause", "change"}, std::pair{"vaccine", "injection"}}) {
    CAPTURE(typed);
    SearchRequest r;
    r.query = typed;
    const QueryPlan plan = s.plan(r);
    CHECK(std::find(plan.query.get_terms_begin(), plan.query.get_terms_end(), absent) == plan.query.get_terms_end());
  }
  SearchRequest jab;
  jab.query = "covid jab";
  const QueryPlan plan = s.plan(jab);
  CHECK(std::find(plan.query.get_terms_begin(), plan.query.get_terms_end(), "vaccine") != plan.query.get_terms_end());
}
