// Match slices: a heavy match cut into slices of the docid space, matched at once on threads of
// their own (Lucene's concurrent search over index slices), then merged. Each slice is the
// query filtered to its share of every database's docids, on a database handle of its own at
// the same revision: the same collection statistics, so the same weights, and the merged best
// hits are the best hits of one pass, in the same order (weight, then docid). What it is for:
// the matches Xapian cannot stop early, such as an as-you-type prefix's OR of up to 200
// completions (every article holding one is weighed), which one thread on one core gives a
// visitor its slowest answers from.
//
// A match whose every match the matcher must see (a phrase's or a date range's counting: its
// positions or values are the matcher's work) is sliced too: each slice sees all of its own
// matches, feeding a facet spy of its own, and the counts and bounds are the slices' summed.
//
// A search slices only when the database is large enough to gain and cores are free: the
// searches running in the process and the slices' threads together never outnumber the cores,
// so that a loaded server answers one search per core as before instead of queueing slices
// behind other searches.
// (Other processes' load is not seen: on a machine shared with other work, `match_slices: 1`.)
// Internal to the searcher. Not thread-safe: one per Searcher.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <xapian.h>

#include "searcher/ranking.h"
#include "searcher/shard_set.h"

namespace mssearch {

class FacetCounter;
class WorkerGroup;

class MatchSlices {
 public:
  // `slices`: how many to cut a match into (0: one per core); `min_documents`: smaller
  // databases are matched in one pass.
  MatchSlices(std::size_t slices, Xapian::doccount min_documents);
  ~MatchSlices();
  MatchSlices(const MatchSlices&) = delete;
  MatchSlices& operator=(const MatchSlices&) = delete;

  struct Top {
    ScoredDocs hits;  // the best `want`, best first (ties: lower docid first, as Xapian orders them)
    Xapian::doccount lower = 0, upper = 0;  // the bounds on the matches, the slices' summed
    Xapian::doccount estimated = 0;         // Xapian's estimate of all the matches, within them
    Xapian::MSet marks;  // the first slice's: its query's terms are the query's (snippets' marks)
    bool cut = false;    // a slice's counting stopped at the time limit (get_mset_within)
  };
  // The best `want` hits of `query` over `db` (made of `parts`, ShardSet::local_parts()), each
  // with its weight by `weight`. nullopt: matched in one pass instead (too small, no thread
  // free, a part moved on since, a query that cannot be copied to another thread, a counter
  // that cannot be split).
  // `exhaustive`: a counter whose attach() asked the matcher to see every match (a phrase's
  // counting: FacetCounter::split); each slice then sees every match of its own, feeding its
  // own spy, so the bounds are exact and the counter's counts are the slices' summed.
  std::optional<Top> top(const Xapian::Database& db, const std::vector<ShardRevision>& parts,
                         const Xapian::Query& query, const Xapian::Weight& weight, Xapian::doccount want,
                         double time_limit_seconds, FacetCounter* exhaustive = nullptr);

  // Matches of this process cut into slices so far.
  static std::uint64_t sliced_matches();

  // Held by each search of the process while it runs: a match is sliced only while the
  // searches running and the slices' threads leave a core free for each slice.
  class Running {
   public:
    Running();
    ~Running();
    Running(const Running&) = delete;
    Running& operator=(const Running&) = delete;
  };

 private:
  struct Handle;
  bool open_handles(const std::vector<ShardRevision>& parts);

  std::size_t slices_;
  Xapian::doccount min_documents_;
  std::vector<ShardRevision> opened_for_;
  std::vector<std::unique_ptr<Handle>> handles_;  // slices 1 … n - 1
  std::unique_ptr<WorkerGroup> workers_;          // started at the first sliced match
};

// A query matching every document in slice `slice` of `slices` of each database's docid
// space (boolean: it adds no weight). For a database of several, each sub-database is cut
// alike.
Xapian::Query slice_query(std::size_t slice, std::size_t slices);

}  // namespace mssearch
