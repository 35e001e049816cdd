// The pipeline's second stage, match: runs a plan's query once with Xapian's matcher and
// gives the ranked window (the page, or the deeper list that feedback re-ranks), the total and
// the facet counts over the whole match set. Internal to the searcher.
#pragma once

#include <cstddef>
#include <vector>

#include <xapian.h>

#include "searcher/facet_counter.h"
#include "searcher/match_slices.h"
#include "searcher/query_planner.h"
#include "searcher/ranking.h"

namespace mssearch {

struct MatchWindow {
  Xapian::doccount offset = 0, limit = 10;  // the page asked for
  Xapian::doccount depth = 0;               // with feedback: the candidates, from the top
  // With feedback: where each step of candidates ends (the last: depth). Each step is
  // re-ranked apart and keeps its places, so that a page further on, which re-ranks more
  // steps, shows the same articles as the pages before it did in the steps they share.
  std::vector<std::size_t> steps;
  // Whether a KeyMaker may order the match: not over a remote database (`xapian-tcpsrv`, which
  // refuses one: "KeyMaker not supported for the remote backend").
  bool sort_keys = true;
  bool candidates() const { return depth > 0; }
};

// Where each step of feedback's candidates ends for a page ending at `end` (offset + limit):
// RankingOptions::feedback_depth (at least feedback_docs), times four until twice `end`.
std::vector<std::size_t> feedback_steps(std::size_t end, const RankingOptions& ranking);

// The window of `request` under `options` (caps on paging, feedback's depth).
MatchWindow match_window(const SearchRequest& request, const QueryPlan& plan, const SearcherOptions& options);
// A shard's window for a coordinator's page ending at `end` (offset + limit, already capped):
// the first `end` hits, and the candidates one index would re-rank for that page.
MatchWindow shard_window(std::size_t end, const QueryPlan& plan, const SearcherOptions& options);

struct Matched {
  Xapian::MSet mset;       // of the plan's query: gives the snippets their terms to mark (its
                           // documents: those of `ranked`, or none when the match was sliced)
  ScoredDocs ranked;       // the window's matches, docid and score, best first
  Xapian::doccount total = 0;
  bool total_is_exact = true;
  bool timed_out = false;  // the time limit cut the counting (get_mset_within), or a remote bound
  bool sliced = false;     // matched as slices at once (MatchSlices)
  FacetCounts facets;      // empty unless counting was given
};

// `facets`: the database's counting strategy, or null for no facets (counting then stops
// where ranking does, and the total is Xapian's estimate). `slices`: when given, a match that
// need not see every match (the counting is the counter's) and is ranked by relevance may be
// cut into slices matched at once (searcher/match_slices.h); `parts`: what `db` is made of.
Matched match(const Xapian::Database& db, const Xapian::Weight& weight, const QueryPlan& plan,
              const MatchWindow& window, const FacetCounting* facets, double time_limit_seconds,
              MatchSlices* slices = nullptr, const std::vector<ShardRevision>& parts = {});

}  // namespace mssearch
