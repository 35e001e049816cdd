// MatchSet against Xapian's own matcher: for each query, the documents a bitset read off the
// posting lists holds are exactly those an exhaustive boolean match returns.
#include <catch2/catch.hpp>

#include <algorithm>

#include "indexer/indexer.h"
#include "schema/index_path.h"
#include "schema/schema.h"
#include "searcher/match_set.h"
#include "tests/test_support.h"

using namespace mssearch;
using Q = Xapian::Query;

namespace {

constexpr Xapian::termcount kMaxExpansion = 200;

std::vector<Xapian::docid> by_matcher(const Xapian::Database& db, const Q& query) {
  Xapian::Enquire enquire(db);
  enquire.set_query(query);
  enquire.set_weighting_scheme(Xapian::BoolWeight());
  const Xapian::MSet mset = enquire.get_mset(0, db.get_doccount());
  std::vector<Xapian::docid> out(mset.begin(), mset.end());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Xapian::docid> by_bitset(const Xapian::Database& db, const Q& query) {
  const MatchSet set = MatchSet::of(db, query, kMaxExpansion);
  std::vector<Xapian::docid> out;
  set.for_each([&](Xapian::docid id) { out.push_back(id); });
  CHECK(out.size() == set.count());
  return out;
}

}  // namespace

TEST_CASE("match set: the same documents as Xapian's matcher, for every kind of query", "[searcher]") {
  test::TempDir tmp;
  IndexerOptions io;
  io.db_path = tmp / "db";
  REQUIRE(run_index_job({test::corpus_dir()}, io));
  const Xapian::Database db(*live_database_dir(io.db_path));
  const Xapian::doccount n = db.get_doccount();
  // Stems held by some but not all articles, the most informative for set operations.
  std::vector<std::string> stems;
  for (auto t = db.allterms_begin("Z"); t != db.allterms_end("Z") && stems.size() < 6; ++t)
    if (t.get_termfreq() >= 5 && t.get_termfreq() + 5 <= n && (*t).size() > 4) stems.push_back(*t);
  REQUIRE(stems.size() == 6);
  const Q a(stems[0]), b(stems[1]), c(stems[2]);
  const Q topic(schema::topic_term("Demyelination"));
  const std::vector<Q> queries = {
      a,
      Q(Q::OP_OR, a, b),
      Q(Q::OP_AND, a, b),
      Q(Q::OP_AND_NOT, a, b),
      Q(Q::OP_XOR, a, b),
      Q(Q::OP_SYNONYM, b, c),
      Q(Q::OP_MAX, a, c),
      Q(Q::OP_AND_MAYBE, a, b),  // matches what a matches
      Q(Q::OP_SCALE_WEIGHT, Q(Q::OP_OR, b, c), 2.5),
      Q(Q::OP_FILTER, Q(Q::OP_OR, a, b), topic),
      Q(Q::OP_AND_NOT, Q::MatchAll, a),
      Q::MatchAll,
      Q::MatchNothing,
      Q("no-such-term"),
      Q(Q::OP_OR, Q("no-such-term"), c),
      // Phrases and value ranges (left to the matcher) and wildcards, nested in boolean operators.
      Q(Q::OP_PHRASE, Q("multiple"), Q("sclerosis")),
      Q(Q::OP_OR, Q(Q::OP_PHRASE, Q("multiple"), Q("sclerosis")), a),
      Q(Q::OP_WILDCARD, "Zremy"),
      Q(Q::OP_AND, Q(Q::OP_WILDCARD, "Zmyel"), b),
      Q(Q::OP_WILDCARD, "remy", kMaxExpansion, Q::WILDCARD_LIMIT_MOST_FREQUENT, Q::OP_SYNONYM),
      // More terms than the limit: Xapian keeps the most frequent, so the matcher decides.
      Q(Q::OP_WILDCARD, "Z", kMaxExpansion, Q::WILDCARD_LIMIT_MOST_FREQUENT),
      Q(Q::OP_FILTER, a, Q(Q::OP_VALUE_RANGE, schema::kSlotDate, "20240101", "20991231")),
  };
  for (const auto& q : queries) {
    INFO(q.get_description());
    CHECK(by_bitset(db, q) == by_matcher(db, q));
  }
  // A wildcard expanded here reads its terms' posting lists: "Zremy" is not in the index as a
  // term, so a set equal to the matcher's proves the pattern was parsed and expanded.
  CHECK_FALSE(db.term_exists("Zremy"));
  // The fixture is not trivial: the operators give different sets.
  CHECK(by_matcher(db, Q(Q::OP_AND, a, b)) != by_matcher(db, Q(Q::OP_OR, a, b)));
  CHECK_FALSE(by_matcher(db, Q(Q::OP_PHRASE, Q("multiple"), Q("sclerosis"))).empty());
  CHECK_FALSE(by_matcher(db, Q(Q::OP_WILDCARD, "Zremy")).empty());
}
