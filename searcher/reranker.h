// The pipeline's third stage, rerank: pseudo-relevance feedback over the match's candidates.
// The best hits give their most distinctive terms (ranking.h: feedback_terms), which re-rank
// the candidates without a second search of the collection; the page is then cut from them.
// Internal to the searcher.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <xapian.h>

#include "searcher/matcher.h"
#include "searcher/ranking.h"

namespace mssearch {

struct Reranked {
  ScoredDocs page;         // the page's docids and scores, best first (within each step)
  // With feedback: the step of the candidates (MatchWindow::steps) each hit of the page is in.
  std::vector<std::uint32_t> page_steps;
  WeightedTerms terms;     // feedback's terms (none when feedback is off or found nothing)
  ScoredDocs like_best;    // the candidates by those terms alone, best first: related articles
};

class Reranker {
 public:
  // `docid_shards`: local_shard_uuids() of `db` when its docids can name the candidates (all
  // its databases local), else nullopt (remote shards: the first pass's query bounds them).
  Reranker(const Xapian::Database& db, const Xapian::Weight& weight, const RankingOptions& options,
           CollectionFreqs& freqs, const std::optional<std::vector<std::string>>& docid_shards)
      : db_(db), weight_(weight), options_(options), freqs_(freqs), docid_shards_(docid_shards) {}

  // Without feedback (or candidates), the match's window is the page as it is. `given`: the
  // terms to re-rank by (a coordinator's, chosen from all shards' best hits) instead of those
  // of this match's best hits.
  Reranked rerank(const QueryPlan& plan, const Matched& matched, const MatchWindow& window,
                  const WeightedTerms* given = nullptr);


 private:
  const Xapian::Database& db_;
  const Xapian::Weight& weight_;
  const RankingOptions& options_;
  CollectionFreqs& freqs_;
  const std::optional<std::vector<std::string>>& docid_shards_;
};

}  // namespace mssearch
