#include "searcher/related_finder.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

#include "schema/schema.h"
#include "schema/text_analyzer.h"
#include "searcher/query_planner.h"

namespace mssearch {

namespace {

// Keeps plain words: no prefixed terms (they start with an upper-case letter), no numbers,
// nothing shorter than three letters.
class PlainWordDecider : public Xapian::ExpandDecider {
 public:
  bool operator()(const std::string& term) const override {
    if (term.size() < 3) return false;
    const auto first = static_cast<unsigned char>(term[0]);
    if (first >= 'A' && first <= 'Z') return false;
    return !std::all_of(term.begin(), term.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  }
};

constexpr Xapian::termcount kExpandTerms = 20;
constexpr double kTopicBoost = 2.0;

// Whether every term of `q` is a phrase's pair term (QueryPlanner's filter of a phrase by the
// pairs of its words, no filter of the visitor's).
bool pair_terms_only(const Xapian::Query& q) {
  if (q.get_unique_terms_begin() == q.get_unique_terms_end()) return false;
  for (auto t = q.get_unique_terms_begin(); t != q.get_unique_terms_end(); ++t)
    if (!std::string_view(*t).starts_with(schema::kPairPrefix)) return false;
  return true;
}

// Whether `q` only filters (topics, journals, years, ids, date ranges) and weighs nothing: a
// query of filters alone (`topic:diet`, `year:2024`).
bool filters_only(const Xapian::Query& q) {
  using Q = Xapian::Query;
  switch (q.get_type()) {
    case Q::OP_VALUE_RANGE: case Q::OP_VALUE_GE: case Q::OP_VALUE_LE:
      return true;
    case Q::LEAF_TERM: {
      const std::string term = *q.get_unique_terms_begin();
      for (std::string_view prefix : {schema::kTopicPrefix, schema::kJournalPrefix, schema::kIdPrefix, schema::kYearPrefix})
        if (term.starts_with(prefix)) return true;
      return false;
    }
    case Q::OP_AND: case Q::OP_OR: case Q::OP_FILTER: case Q::OP_AND_NOT: case Q::OP_SCALE_WEIGHT:
      for (std::size_t i = 0; i < q.get_num_subqueries(); ++i)
        if (!filters_only(q.get_subquery(i))) return false;
      return q.get_num_subqueries() > 0;
    default:
      return false;
  }
}

}  // namespace

// `like` under the filters and exclusions of `scope` (an answer's query), in place of its
// words: the query's top-level AND_NOT and FILTER, through its boosts (AND_MAYBE). The related
// articles of `ms -pregnancy` sorted by date included a pregnancy article, and those of a
// search for one topic any topic's, when they came from a search of the whole collection (the
// candidates feedback re-ranks are the answer's matches already).
Xapian::Query within_scope(const Xapian::Query& scope, const Xapian::Query& like) {
  using Q = Xapian::Query;
  if (scope.empty()) return like;
  if (filters_only(scope)) return Q(Q::OP_FILTER, like, scope);  // `topic:diet`: its articles
  if (scope.get_num_subqueries() == 0) return like;
  const auto type = scope.get_type();
  if (type == Q::OP_AND_MAYBE) return within_scope(scope.get_subquery(0), like);
  if (type != Q::OP_AND_NOT && type != Q::OP_FILTER) return like;
  std::vector<Q> subs{within_scope(scope.get_subquery(0), like)};
  for (std::size_t i = 1; i < scope.get_num_subqueries(); ++i) {
    const Q sub = scope.get_subquery(i);
    if (type == Q::OP_FILTER && pair_terms_only(sub)) continue;
    subs.push_back(sub);
  }
  if (subs.size() == 1) return subs.front();
  return Q(type, subs.begin(), subs.end());
}

RankingOptions related_seed_options(const RankingOptions& ranking) {
  RankingOptions seeds = ranking;
  seeds.feedback_docs = 3;
  seeds.feedback_min_docs = 1;
  seeds.feedback_terms = 10;
  seeds.feedback_scheme = "bo1";
  seeds.feedback_weight = 1;
  return seeds;
}

std::vector<SearchHit> RelatedFinder::of_answer(const QueryPlan& plan, const Matched& matched,
                                                const Reranked& reranked, const Page& page, std::size_t count,
                                                bool on_page_too) {
  std::vector<SearchHit> out;
  if (page.docids.empty() || count == 0 || plan.words.get_type() == Xapian::Query::LEAF_MATCH_ALL) return out;
  std::vector<std::string> shown = on_page_too ? std::vector<std::string>{} : page.ids;
  for (const auto& [docid, score] : reranked.like_best) {
    if (out.size() >= count) break;
    if (!on_page_too && std::find(page.docids.begin(), page.docids.end(), docid) != page.docids.end()) continue;
    const auto a = stored_.get(db_.get_document(docid), StoredParts::kFields);
    if (!a) continue;
    shown.push_back(a->id);
    out.push_back(hit_of(*a, score));
  }
  if (out.size() >= count) return out;
  // Without feedback's terms (as-you-type, feedback off, or too few hits sharing terms): the
  // same Bo1 choice over the three best hits, each term held by one of them being enough, read
  // from the stored expansion terms (Enquire::get_eset would read and inflate their term lists
  // and look up every term's frequency).
  WeightedTerms added = reranked.terms;
  if (added.empty()) added = feedback_terms(db_, plan.query, matched.ranked, related_seed_options(ranking_), freqs_);
  std::vector<std::string> terms;
  for (const auto& term : added) terms.push_back(term.first);
  for (auto& hit : like(page.docids, shown, {}, count - out.size(), 3, terms.empty() ? nullptr : &terms, plan.query))
    out.push_back(std::move(hit));
  return out;
}

std::vector<SearchHit> RelatedFinder::of_candidates(const QueryPlan& plan, const Reranked& reranked, const Page& page,
                                                    std::size_t count) {
  std::vector<SearchHit> out;
  if (plan.words.get_type() == Xapian::Query::LEAF_MATCH_ALL) return out;  // as of_answer()
  for (const auto& [docid, score] : reranked.like_best) {
    if (out.size() >= count) break;
    const auto on_page = std::find(page.docids.begin(), page.docids.end(), docid);
    if (on_page != page.docids.end()) {
      SearchHit hit = page.hits[static_cast<std::size_t>(on_page - page.docids.begin())];
      hit.score = score;
      hit.snippet = {};
      out.push_back(std::move(hit));
    } else if (const auto a = stored_.get(db_.get_document(docid), StoredParts::kFields)) {
      out.push_back(hit_of(*a, score));
    }
  }
  return out;
}

std::vector<std::string> RelatedFinder::terms_like(const std::vector<Xapian::docid>& docids, std::size_t seeds) {
  Xapian::Enquire enquire(db_);
  enquire.set_weighting_scheme(weight_);
  Xapian::RSet rset;
  for (std::size_t i = 0; i < docids.size() && i < seeds; ++i) rset.add_document(docids[i]);
  PlainWordDecider decider;
  // Exact term frequencies: over shards, Xapian otherwise approximates them, and the terms
  // chosen would differ from those of one database holding the same articles.
  const Xapian::ESet eset = enquire.get_eset(kExpandTerms, rset, Xapian::Enquire::USE_EXACT_TERMFREQ, &decider);
  std::vector<std::string> out;
  for (auto it = eset.begin(); it != eset.end(); ++it) out.push_back(*it);
  return out;
}

std::vector<SearchHit> RelatedFinder::like(const std::vector<Xapian::docid>& docids, const std::vector<std::string>& ids,
                                           const std::vector<std::string>& topics, std::size_t limit,
                                           std::size_t seeds, const std::vector<std::string>* given,
                                           const Xapian::Query& scope) {
  Xapian::Enquire enquire(db_);
  enquire.set_weighting_scheme(weight_);
  std::vector<Xapian::Query> terms;
  if (given != nullptr) {
    terms.assign(given->begin(), given->end());
  } else {
    for (auto& t : terms_like(docids, seeds)) terms.emplace_back(std::move(t));
  }
  // Shared topics count: the topic words, indexed under their weighted prefix, scaled up.
  for (const auto& topic : topics) {
    Xapian::Query words = parse_words(parser_, fold_text(topic), 0, std::string(schema::kTopicText.prefix));
    terms.emplace_back(Xapian::Query::OP_SCALE_WEIGHT, words, kTopicBoost);
  }
  if (terms.empty()) return {};
  // Never the article itself, nor the hits already shown: excluded in the query (by id term)
  // rather than with a MatchDecider, which Xapian's remote backend does not support.
  std::vector<Xapian::Query> shown;
  for (const auto& id : ids) shown.emplace_back(schema::id_term(id));
  Xapian::Query like(Xapian::Query::OP_OR, terms.begin(), terms.end());
  if (!shown.empty())
    like = Xapian::Query(Xapian::Query::OP_AND_NOT, like, Xapian::Query(Xapian::Query::OP_OR, shown.begin(), shown.end()));
  like = within_scope(scope, like);
  std::vector<SearchHit> out;
  if (slices_ != nullptr && parts_ != nullptr && !parts_->empty()) {
    if (auto top = slices_->top(db_, *parts_, like, weight_, static_cast<Xapian::doccount>(limit), time_limit_seconds_)) {
      for (const auto& [docid, weight] : top->hits)
        if (auto a = stored_.get(db_.get_document(docid), StoredParts::kFields)) out.push_back(hit_of(*a, weight));
      return out;
    }
  }
  enquire.set_query(like);
  Xapian::MSet mset = enquire.get_mset(0, static_cast<Xapian::doccount>(limit));
  for (auto it = mset.begin(); it != mset.end(); ++it)
    if (auto a = stored_.get(it.get_document(), StoredParts::kFields)) out.push_back(hit_of(*a, it.get_weight()));
  return out;
}

}  // namespace mssearch
