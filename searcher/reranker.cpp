#include "searcher/reranker.h"

#include <algorithm>

#include "schema/schema.h"

namespace mssearch {

Reranked Reranker::rerank(const QueryPlan& plan, const Matched& matched, const MatchWindow& window,
                          const WeightedTerms* given) {
  Reranked out;
  out.page = matched.ranked;
  if (!window.candidates()) return out;
  out.terms = given != nullptr ? *given : feedback_terms(db_, plan.query, matched.ranked, options_, freqs_);
  if (!out.terms.empty()) {
    // The candidates by docid on local databases. A docid query cannot travel to a remote
    // shard, and naming them by id term read each one's document, a round trip each (page 400
    // at 100,000 articles over 4 xapian-tcpsrv shards: 51,200 candidates, minutes): there
    // the terms are weighed over the first pass's matches, one match a shard, and the
    // candidates' weights kept.
    if (docid_shards_)
      out.page = rerank_candidates(db_, weight_, feedback_query(out.terms), candidates_query(out.page, *docid_shards_),
                                   out.page, window.steps, &out.like_best);
    else
      out.page = rerank_within(db_, weight_, feedback_query(out.terms), plan.query, out.page, window.steps,
                               &out.like_best);
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
