#include "searcher/reranker.h"

#include <algorithm>

#include "schema/schema.h"

namespace mssearch {

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
      std::vector<Xapian::Query> ids;
      for (const auto& [docid, score] : matched.ranked)
        if (auto a = stored.get(db_.get_document(docid), StoredParts::kFields)) ids.emplace_back(schema::id_term(a->id));
      only = Xapian::Query(Xapian::Query::OP_OR, ids.begin(), ids.end());
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
