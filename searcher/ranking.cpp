#include "searcher/ranking.h"

#include <algorithm>
#include <cmath>

#include "schema/schema.h"
#include "schema/text_analyzer.h"

namespace mssearch {
namespace {

// Expansion terms: stemmed words (the Z-prefixed forms that queries match), not the unstemmed
// copies, field-prefixed or boolean terms, numbers, stop words ("and" stems to itself), or
// anything shorter than three letters.
class StemmedWordDecider : public Xapian::ExpandDecider {
 public:
  bool operator()(const std::string& term) const override {
    if (term.size() < 4 || term[0] != 'Z') return false;
    const auto second = static_cast<unsigned char>(term[1]);
    if (second >= 'A' && second <= 'Z') return false;
    if (english_stop_words()(term.substr(1))) return false;
    return !std::all_of(term.begin() + 1, term.end(),
                        [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
  }
};

Xapian::Query maybe(const Xapian::Query& query, const Xapian::Query& extra) {
  return Xapian::Query(Xapian::Query::OP_AND_MAYBE, query, extra);
}

}  // namespace

std::unique_ptr<Xapian::Weight> make_weight(const RankingOptions& o) {
  if (o.scheme == "bm25+")
    return std::make_unique<Xapian::BM25PlusWeight>(o.bm25_k1, 0.0, 1.0, o.bm25_b, 0.5, 1.0);
  if (o.scheme == "pl2") return std::make_unique<Xapian::PL2Weight>();
  if (o.scheme == "dph") return std::make_unique<Xapian::DPHWeight>();
  if (o.scheme == "lm") return std::make_unique<Xapian::LMWeight>();
  return std::make_unique<Xapian::BM25Weight>(o.bm25_k1, 0.0, 1.0, o.bm25_b, 0.5);
}

Xapian::Query with_exact_forms(const Xapian::Query& query, const std::vector<std::string>& words,
                               const RankingOptions& o) {
  if (o.exact_weight <= 0 || words.empty()) return query;
  return maybe(query, Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT,
                                    Xapian::Query(Xapian::Query::OP_OR, words.begin(), words.end()),
                                    o.exact_weight));
}

Xapian::Query with_boosts(const Xapian::Query& query, const RankingOptions& o, int this_year) {
  std::vector<Xapian::Query> boosts;
  if (o.recency_boost > 0) {
    auto* source = new Xapian::ValueMapPostingSource(schema::kSlotYear);
    const double half_life = std::max(o.recency_half_life_years, 0.1);
    // Dated up to two years ahead (an embargoed article) counts as this year.
    for (int age = -2; age <= 50; ++age)
      source->add_mapping(std::to_string(this_year - age),
                          o.recency_boost * std::pow(0.5, std::max(age, 0) / half_life));
    boosts.emplace_back(source->release());
  }
  if (o.credibility_boost > 0) {
    auto* source = new Xapian::ValueMapPostingSource(schema::kSlotCredibility);
    for (int rating = 2; rating <= 5; ++rating)
      source->add_mapping(Xapian::sortable_serialise(rating), o.credibility_boost * (rating - 1) / 4.0);
    boosts.emplace_back(source->release());
  }
  if (boosts.empty()) return query;
  return maybe(query, Xapian::Query(Xapian::Query::OP_OR, boosts.begin(), boosts.end()));
}

Xapian::Query with_feedback(const Xapian::Database& db, const Xapian::Query& query,
                            const RankingOptions& o, Feedback* found) {
  if (o.feedback_docs == 0 || o.feedback_terms == 0 || o.feedback_weight <= 0) return query;
  Xapian::Enquire enquire(db);
  enquire.set_query(query);
  enquire.set_weighting_scheme(*make_weight(o));
  enquire.set_expansion_scheme(o.feedback_scheme);
  const Xapian::MSet top = enquire.get_mset(0, static_cast<Xapian::doccount>(o.feedback_docs));
  if (found != nullptr) found->first_pass = top;
  if (top.empty()) return query;

  // Each feedback document counts by its score relative to the best hit (RM3 weighs documents
  // by how well they match the query): the vocabulary of the best hits leads.
  const double best = std::max(top.begin().get_weight(), 1e-9);
  Xapian::RSet rset;
  std::vector<std::pair<Xapian::docid, double>> hits;  // by docid, with their weights
  double total = 0;
  for (auto it = top.begin(); it != top.end(); ++it) {
    rset.add_document(*it);
    hits.emplace_back(*it, std::pow(std::max(it.get_weight(), 0.0) / best, o.feedback_score_power));
    total += hits.back().second;
  }
  std::sort(hits.begin(), hits.end());
  // Xapian's expand weights pick four times the terms needed (exact term frequencies, so that
  // shards choose what one database would); the score-weighted share of the feedback documents
  // holding each (found by skipping along its posting list) decides.
  StemmedWordDecider decider;
  const auto wanted = static_cast<Xapian::termcount>(o.feedback_terms);
  const Xapian::ESet candidates =
      enquire.get_eset(wanted * 4, rset, Xapian::Enquire::USE_EXACT_TERMFREQ, &decider);
  std::vector<std::pair<std::string, double>> chosen;
  for (auto it = candidates.begin(); it != candidates.end(); ++it) {
    double share = 0;
    std::size_t docs = 0;
    Xapian::PostingIterator p = db.postlist_begin(*it);
    for (const auto& [docid, weight] : hits) {
      p.skip_to(docid);
      if (p == db.postlist_end(*it)) break;
      if (*p != docid) continue;
      share += weight;
      ++docs;
    }
    if (docs >= o.feedback_min_docs) chosen.emplace_back(*it, std::max(it.get_weight(), 0.0) * share / total);
  }
  std::stable_sort(chosen.begin(), chosen.end(), [](const auto& x, const auto& y) { return x.second > y.second; });
  if (chosen.size() > wanted) chosen.resize(wanted);
  double sum = 0;
  for (const auto& term : chosen) sum += term.second;
  if (chosen.empty() || sum <= 0) return query;

  std::vector<Xapian::Query> terms;
  for (const auto& [term, weight] : chosen) {
    if (found != nullptr) found->terms.push_back(term);
    terms.emplace_back(Xapian::Query::OP_SCALE_WEIGHT, Xapian::Query(term), o.feedback_weight * weight / sum);
  }
  return maybe(query, Xapian::Query(Xapian::Query::OP_OR, terms.begin(), terms.end()));
}

}  // namespace mssearch
