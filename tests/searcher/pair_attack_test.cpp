// Phrases of common words, harder cases: edge-case phrases must give the same answer with and
// without pair filters; the filters' terms must not count against max_query_terms; a streamed
// build's sample must not turn one refused article into a failed build.
#include <catch2/catch.hpp>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "indexer/indexer.h"
#include "schema/index_path.h"
#include "schema/schema.h"
#include "searcher/searcher.h"
#include "tests/test_support.h"

using namespace mssearch;

namespace {

Searcher open_s(const std::filesystem::path& db, bool filters, bool synonyms, std::size_t max_terms = 256) {
  SearcherOptions options;
  options.db_path = db;
  options.phrase_pair_filters = filters;
  options.max_query_terms = max_terms;
  if (synonyms) options.synonyms_path = test::corpus_dir() / "synonyms.yaml";
  auto s = Searcher::open(options);
  if (!s) FAIL(s.error().message);
  return std::move(*s);
}

std::string answer(Searcher& s, const std::string& query, bool partial) {
  SearchRequest request;
  request.query = query;
  request.limit = 100;
  request.partial = partial;
  auto r = s.search(request);
  if (!r) return "ERROR " + r.error().message;
  std::string out = "total=" + std::to_string(r->total) + " exact=" + std::to_string(r->total_is_exact) +
                    " dropped=" + std::to_string(r->query_terms_dropped) + " ids=";
  for (const auto& h : r->hits) out += h.id + ",";
  return out;
}

const std::vector<std::string> kQueries = {
    "\"the the\"", "\"of the of the\"", "\"multiple sclerosis multiple sclerosis\"", "\"il-10\"", "il-10",
    "\"covid-19 vaccines\"", "covid-19", "\"anti-cd20\"", "anti-cd20", "\"sclérose\"", "\"Multiple Sclerosis\"",
    "\"MULTIPLE SCLEROSIS\"", "\"in the\"", "\"and the\"", "\"the multiple\"", "\"multiple\"", "\"of\"",
    "\"multiple scl*\"", "multiple NEAR/1 sclerosis", "multiple ADJ/1 sclerosis", "multiple ADJ/0 sclerosis",
    "multiple ADJ sclerosis", "title:\"multiple sclerosis\"", "takeaway:\"multiple sclerosis\"",
    "-\"of the\" fatigue", "\"of the\" XOR \"in the\"", "(\"of the\" AND brain) AND NOT \"in the\"",
    "\"of the\" OR (\"in the\" AND \"multiple sclerosis\")", "\"of the\" AND_NOT \"in the\"",
    "MS", "\"MS\"", "ms fatigue", "\"relapsing remitting multiple sclerosis\"", "rrms", "\"people with ms\"",
    "\"with multiple sclerosis\"", "multiple-sclerosis", "\"with-multiple sclerosis\"", "\"of the\"~",
    "+\"of the\" +\"in the\"", "\"the\" \"of\"", "\"of-the\"", "of-the", "in-the-brain", "\"and\" \"the\"",
    "\"the brain and\"", "\"of the brain\"", "\"people with\"", "\"with\"", "\"what they found\"",
    "\"they found\"", "\"found\"", "title:\"of the\"", "\"of the\" date:2020-01-01..2030-01-01",
    "\"multiple sclerosis\" topic:astrocytes", "\"it is\"", "\"is the\"", "\"to the\"", "\"for the\"",
    "\"ms\" \"the\"", "\"2025\"", "\"10 the\"", "\"the 10\"", "\"interleukin 10\"", "interleukin-10",
    "\"multiple sclerosis\" OR multiple", "multiple sclerosis \"of the\"", "\"of the\" NEAR \"in the\"",
    "\"the of\"", "\"the and\"", "\"a\"", "\"a the\"", "\"the a\"", "\"an\"",
};

}  // namespace

TEST_CASE("phrases of common words: edge-case phrases give the same answer with and without filters", "[searcher][pairs]") {
  test::TempDir tmp;
  for (double share : {0.1, 0.02}) {
    IndexerOptions io;
    io.db_path = tmp / ("db" + std::to_string(share));
    io.pair_word_share = share;
    io.pair_min_articles = 0;
    REQUIRE(run_index_job({test::corpus_dir()}, io));
    auto db = open_index(io.db_path);
    REQUIRE(db);
    const auto list = db->get_metadata(std::string(schema::kMetaPairWords));
    std::cerr << "share " << share << " list size " << schema::decode_pair_words(list).size() << "\n";
    for (bool syn : {false, true}) {
      Searcher with = open_s(io.db_path, true, syn), without = open_s(io.db_path, false, syn);
      for (const auto& q : kQueries)
        for (bool partial : {false, true}) {
          INFO(q << " syn=" << syn << " partial=" << partial << " share=" << share);
          CHECK(answer(with, q, partial) == answer(without, q, partial));
        }
      // as-you-type prefixes of each query
      for (const auto& q : kQueries)
        for (std::size_t n = 1; n < q.size(); ++n) {
          const std::string p = q.substr(0, n);
          INFO(p << " syn=" << syn << " (prefix) share=" << share);
          CHECK(answer(with, p, true) == answer(without, p, true));
        }
    }
  }
}

TEST_CASE("phrases of common words: pair terms do not count against max_query_terms", "[searcher][pairs]") {
  test::TempDir tmp;
  IndexerOptions io;
  io.db_path = tmp / "db";
  io.pair_word_share = 0.1;
  io.pair_min_articles = 0;
  REQUIRE(run_index_job({test::corpus_dir()}, io));
  const std::vector<std::string> queries = {
      "\"people with multiple sclerosis\" fatigue \"of the brain\"",
      "\"in the brain and the spinal cord of people with multiple sclerosis\"",
      "\"of the\" \"in the\" \"and the\" \"to the\" \"for the\" \"with the\" \"on the\" \"is the\" fatigue"};
  for (std::size_t max_terms : {8u, 12u, 16u, 20u, 24u, 32u, 256u}) {
    Searcher with = open_s(io.db_path, true, false, max_terms), without = open_s(io.db_path, false, false, max_terms);
    for (const auto& q : queries) {
      INFO(q << " max_query_terms=" << max_terms);
      CHECK(answer(with, q, false) == answer(without, q, false));
    }
  }
  // Default limit: a long quoted run of a few common words (16 distinct words, <= 96) whose
  // adjacent pairs are all different.
  auto db = open_index(io.db_path);
  REQUIRE(db);
  auto list = schema::decode_pair_words(db->get_metadata(std::string(schema::kMetaPairWords)));
  std::vector<std::string> w;
  for (const auto& x : list) {
    if (x.size() >= 3 && x.size() <= 8 && std::all_of(x.begin(), x.end(), [](char c) { return c >= 'a' && c <= 'z'; }))
      w.push_back(x);
    if (w.size() == 17) break;
  }
  REQUIRE(w.size() == 17);
  // A de Bruijn-like walk: every ordered pair (i, j), i != j, once.
  std::string q = "\"";
  std::size_t n = 0;
  for (std::size_t i = 0; i < w.size() && n < 560; ++i)
    for (std::size_t j = 0; j < w.size() && n < 560; ++j)
      if (i != j) { q += w[i] + " " + w[j] + " "; n += 2; }
  q.back() = '"';
  std::cerr << "long phrase bytes " << q.size() << "\n";
  Searcher with = open_s(io.db_path, true, false), without = open_s(io.db_path, false, false);
  INFO(q);
  CHECK(answer(with, q, false) == answer(without, q, false));
}

TEST_CASE("phrases of common words: a streamed build refuses a bad article of its sample alone", "[indexer][pairs]") {
  test::TempDir tmp;
  auto made = [](std::size_t i) {
    Article a;
    a.id = "made-" + std::to_string(i);
    a.title = "Made article " + std::to_string(i) + " on myelin";
    a.date = "2025-01-01";
    a.body_text = "Remyelination study number " + std::to_string(i) + " of the myelin.";
    a.sections = {{"What They Found", a.body_text}};
    return a;
  };
  for (std::size_t bad : {3u, 700u}) {
    INFO("make() throws invalid_argument for article " << bad);
    ArticleStream stream{1000, [](std::size_t i) { return "made-" + std::to_string(i); }, [&](std::size_t i) -> Article {
                           if (i == bad) throw std::invalid_argument("bad record " + std::to_string(i));
                           return made(i);
                         }};
    IndexerOptions options;
    options.db_path = tmp / ("s" + std::to_string(bad));
    auto r = index_stream(stream, options);
    REQUIRE(r.has_value());  // refused alone, in the sample or past it (as before pairs)
    CHECK(r->documents == 999);
    REQUIRE(r->errors.size() == 1);
    CHECK_THAT(r->errors[0].message, Catch::Contains("bad record"));
  }
}
