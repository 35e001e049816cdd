#include "searcher/matcher.h"

#include <algorithm>

#include "schema/schema.h"
#include "searcher/limited_match.h"

namespace mssearch {

namespace {

void set_depth(MatchWindow& w, const QueryPlan& plan, const SearcherOptions& options) {
  if (plan.feedback) {
    w.steps = feedback_steps(static_cast<std::size_t>(w.offset) + w.limit, options.ranking);
    w.depth = static_cast<Xapian::doccount>(w.steps.back());
  }
}

// The counter's total (exact when it has one), facet counts and cut into `m`, whose match
// found at least `lower` matches; `all_asked`: the match was asked to see every match, so a
// total still inexact was cut.
void take_counts(Matched& m, const FacetCounter& counter, Xapian::doccount lower, bool all_asked) {
  if (auto total = counter.total()) m.total = *total, m.total_is_exact = true;
  m.timed_out = m.timed_out || (all_asked && !m.total_is_exact) || counter.timed_out(lower);
  m.facets = counter.counts();
  // Cut, the page's own pass estimates the total, at times below what was counted.
  if (m.timed_out && !m.total_is_exact) m.total = std::max(m.total, counter.counted());
}

}  // namespace

std::vector<std::size_t> feedback_steps(std::size_t end, const RankingOptions& ranking) {
  // Feedback learns from the best hits of this one pass and re-ranks its candidates (how
  // many: RankingOptions::feedback_depth, times four until twice the page's end, so pages
  // within one step re-rank the same candidates). Each step's end is a depth some page
  // re-ranks to.
  std::vector<std::size_t> out;
  std::size_t step = std::max<std::size_t>(ranking.feedback_depth, 1);
  for (;;) {
    const std::size_t depth = std::max(ranking.feedback_docs, step);
    if (out.empty() || depth > out.back()) out.push_back(depth);
    if (step >= 2 * end) break;
    step *= 4;
  }
  return out;
}

MatchWindow match_window(const SearchRequest& request, const QueryPlan& plan, const SearcherOptions& options) {
  MatchWindow w;
  w.offset = static_cast<Xapian::doccount>(std::min(request.offset, options.max_offset));
  w.limit = static_cast<Xapian::doccount>(std::min(request.limit, options.max_limit));
  set_depth(w, plan, options);
  w.sort_keys = std::none_of(options.databases.begin(), options.databases.end(), is_remote_spec);
  return w;
}

MatchWindow shard_window(std::size_t end, const QueryPlan& plan, const SearcherOptions& options) {
  MatchWindow w;
  w.limit = static_cast<Xapian::doccount>(std::min(end, options.max_offset + options.max_limit));
  set_depth(w, plan, options);
  w.sort_keys = std::none_of(options.databases.begin(), options.databases.end(), is_remote_spec);
  return w;
}

Matched match(const Xapian::Database& db, const Xapian::Weight& weight, const QueryPlan& plan,
              const MatchWindow& window, const FacetCounting* facets, double time_limit_seconds,
              MatchSlices* slices, const std::vector<ShardRevision>& parts) {
  // Most credible first; with nothing that weighs, newest first among equals (not in the order
  // the articles were indexed), as the coordinator's merge orders them. (Over a remote
  // database, which sorts by no KeyMaker, equals stay in the order indexed.)
  Xapian::MultiValueKeyMaker credibility_then_date;
  credibility_then_date.add_value(schema::kSlotCredibility, true);
  credibility_then_date.add_value(schema::kSlotDate, true);
  Xapian::Enquire enquire(db);
  enquire.set_query(plan.query);
  enquire.set_weighting_scheme(weight);
  if (plan.by_date) enquire.set_sort_by_value_then_relevance(schema::kSlotDate, true);
  if (plan.by_credibility && plan.weightless && window.sort_keys) enquire.set_sort_by_key(&credibility_then_date, false);
  else if (plan.by_credibility) enquire.set_sort_by_value_then_relevance(schema::kSlotCredibility, true);
  std::unique_ptr<FacetCounter> counter = facets != nullptr ? facets->start(plan.query, plan.by_date || plan.by_credibility, time_limit_seconds) : nullptr;
  // check_at_least = every document when the counter needs the matcher to see every match:
  // the facet counts and the total are then exact, not estimates (unless the time limit cuts
  // the counting short).
  const Xapian::doccount check = counter ? counter->attach(enquire) : 0;
  Matched m;
  const Xapian::doccount want = window.candidates() ? window.depth : window.offset + window.limit;
  std::optional<MatchSlices::Top> sliced;
  // Only with a counter: without one the total is the matcher's, and one pass that had to
  // visit every match knows it exactly where each slice, stopping early, does not (`facets=0`:
  // 2,000 about, against 2,446 exact). A counter that needs every match seen (a phrase's: its
  // positions are the matcher's work) has each slice see all of its own.
  if (slices != nullptr && counter && !plan.by_date && !plan.by_credibility)
    sliced = slices->top(db, parts, plan.query, weight, want, time_limit_seconds, check == 0 ? nullptr : counter.get());
  if (sliced) {
    m.sliced = true;
    m.mset = std::move(sliced->marks);
    m.total_is_exact = sliced->lower == sliced->upper;
    m.total = m.total_is_exact ? sliced->lower : sliced->estimated;
    const std::size_t skip = window.candidates() ? 0 : std::min<std::size_t>(window.offset, sliced->hits.size());
    m.ranked.assign(sliced->hits.begin() + static_cast<std::ptrdiff_t>(skip), sliced->hits.end());
    // Slices asked to see every match count exactly unless the time limit cut them.
    m.timed_out = sliced->cut;
    take_counts(m, *counter, sliced->lower, check > 0);
    return m;
  }
  // Sorted by a value, Xapian visits every match whatever the limit (it has no early end for a
  // value order, and its spies saw every match under its own limit too): a cut would only add
  // a second pass (24 ms against 13 ms unhurried at 100,000 articles).
  const double limit = plan.by_date || plan.by_credibility ? 0 : time_limit_seconds;
  LimitedMSet limited = window.candidates() ? get_mset_within(enquire, 0, window.depth, check, limit)
                                             : get_mset_within(enquire, window.offset, window.limit, check, limit);
  m.mset = std::move(limited.mset);
  m.total = m.mset.get_matches_estimated();
  m.total_is_exact = m.mset.get_matches_lower_bound() == m.mset.get_matches_upper_bound();
  // Counting fewer than every document (remote databases: remote_count_bound) left some
  // uncounted when the bounds disagree.
  m.timed_out = limited.cut || (check > 0 && check < db.get_doccount() && !m.total_is_exact);
  if (counter) take_counts(m, *counter, m.mset.get_matches_lower_bound(), false);
  for (auto it = m.mset.begin(); it != m.mset.end(); ++it) m.ranked.emplace_back(*it, it.get_weight());
  return m;
}

}  // namespace mssearch
