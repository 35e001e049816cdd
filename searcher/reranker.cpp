#include "searcher/reranker.h"

#include <algorithm>
#include <unordered_map>

#include "schema/schema.h"

namespace mssearch {

Xapian::Query Reranker::candidate_ids(const Matched& matched, const MatchWindow& window, StoredArticles& stored) const {
  // Each id is one document read, a round trip to a remote shard: as many candidates as the
  // steps within kMaxIdCandidates (the first always); the steps past them keep the first
  // pass's order on every page. The reads go out at once (MSet::fetch pipelines them).
  std::size_t count = 0;
  for (const std::size_t step : window.steps)
    if (count == 0 || step <= kMaxIdCandidates) count = step;
  count = std::min(count, matched.ranked.size());
  std::unordered_map<Xapian::docid, Xapian::Document> fetched;
  const Xapian::MSet& mset = matched.mset;
  if (count > 0 && !mset.empty()) {
    const Xapian::doccount last = static_cast<Xapian::doccount>(std::min<std::size_t>(count, mset.size()) - 1);
    mset.fetch(mset.begin(), mset[last]);
    for (auto it = mset.begin(); it != mset.end() && fetched.size() <= last; ++it) fetched.emplace(*it, it.get_document());
  }
  std::vector<Xapian::Query> ids;
  for (std::size_t i = 0; i < count; ++i) {
    const Xapian::docid docid = matched.ranked[i].first;
    const auto kept = fetched.find(docid);
    if (auto a = stored.get(kept != fetched.end() ? kept->second : db_.get_document(docid), StoredParts::kFields))
      ids.emplace_back(schema::id_term(a->id));
  }
  return Xapian::Query(Xapian::Query::OP_OR, ids.begin(), ids.end());
}

Reranked Reranker::rerank(const QueryPlan& plan, const Matched& matched, const MatchWindow& window,
                          StoredArticles& stored, const WeightedTerms* given) {
  Reranked out;
  out.page = matched.ranked;
  if (!window.candidates()) return out;
  out.terms = given != nullptr ? *given : feedback_terms(db_, plan.query, matched.ranked, options_, freqs_);
  if (!out.terms.empty()) {
    // The candidates: by docid on local databases; otherwise by id term (a docid query
    // cannot travel to a remote shard), the same documents either way.
    Xapian::Query only;
    if (docid_shards_) {
      only = candidates_query(out.page, *docid_shards_);
    } else {
      only = candidate_ids(matched, window, stored);
    }
    out.page = mssearch::rerank(db_, weight_, feedback_query(out.terms), only, out.page, window.steps, &out.like_best);
  }
  const std::size_t from = std::min<std::size_t>(window.offset, out.page.size());
  out.page.erase(out.page.begin(), out.page.begin() + static_cast<std::ptrdiff_t>(from));
  if (out.page.size() > window.limit) out.page.resize(window.limit);
  for (std::size_t i = 0; i < out.page.size(); ++i)
    out.page_steps.push_back(static_cast<std::uint32_t>(
        std::upper_bound(window.steps.begin(), window.steps.end(), from + i) - window.steps.begin()));
  return out;
}

}  // namespace mssearch
