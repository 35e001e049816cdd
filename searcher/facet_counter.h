// Counting facets (topics, years, journals) over a query's whole match set, behind one
// interface whose strategy is chosen once, when the searcher opens a database:
//  - one local database: facet columns held in memory by docid (FacetColumns), fed from a
//    bitset read off the posting lists (MatchSet) when the query needs nothing else, so the
//    weighted matcher can stop early; else from a match spy over one exhaustive pass;
//  - several local databases (`index --shards N`, or several paths): each shard counted as
//    one local database, all shards at once in threads of their own, while the calling thread
//    ranks over all of them (the ranking stops early; the counting is what visits every match);
//  - remote shards: Xapian's ValueCountMatchSpy, the only spy xapian-tcpsrv runs, and one
//    that sees each sub-database's own docids correctly. Sorted by a value, a match over
//    remote sub-databases hands the local spies some of the remote ones' documents, which
//    their own spies have counted already (Xapian 1.4's matcher skips remote documents when
//    it calls the spies, but not on its path for documents that sort below the page): there
//    the spies count in a pass of their own, by relevance and without the page.
// Internal to the searcher.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <xapian.h>

#include "schema/error.h"
#include "searcher/index_stats.h"
#include "searcher/shard_set.h"

namespace mssearch {

struct FacetCounts {
  std::vector<FacetValue> topics, years, journals;  // each by count, descending
};

// Counts by count, descending, ties by value (as every strategy gives them); empty values out.
std::vector<FacetValue> sorted_facets(const std::map<std::string, Xapian::doccount>& counts);

// Every value of `slot` (schema::kSlotTopics: each topic of the sets; kSlotJournal) in `db`'s
// articles with its count (the page's "More topics" list, filters completed as typed). Over
// remote parts, one match per part whose spy counts there: a value stream read through
// xapian-tcpsrv costs one round trip per document (26 s at 100,000 articles over 4 shards).
std::vector<FacetValue> collection_values(const Xapian::Database& db, bool remote, Xapian::valueno slot);

// One query's counting.
class FacetCounter {
 public:
  virtual ~FacetCounter() = default;
  // Before the match: attaches what it needs to `enquire`. Returns the check_at_least the match
  // must use: the document count when the matcher must see every match, 0 when the counter
  // counts by itself (the matcher may then stop once the best hits are known).
  virtual Xapian::doccount attach(Xapian::Enquire& enquire) = 0;
  // For a match cut into `n` slices (MatchSlices) when attach() asked for every match: one spy
  // for each slice's matcher, each seeing that slice's matches only; once they have all run,
  // counts() and timed_out() are the slices' summed. Empty: not splittable (one pass then).
  // Valid while this counter lives.
  virtual std::vector<Xapian::MatchSpy*> split(std::size_t) { return {}; }
  // The exact number of matches, when the counter counted them itself.
  virtual std::optional<Xapian::doccount> total() const = 0;
  // After the match.
  virtual FacetCounts counts() const = 0;
  // Whether the time limit cut the counting short: `matches` (at least this many documents
  // match, by the matcher) were not all counted.
  virtual bool timed_out(Xapian::doccount matches) const = 0;
  // The matches it counted (a lower bound on the total when the counting was cut: the matcher's
  // estimate after a cut may be below it, 2,000 for 23,856 counted).
  virtual Xapian::doccount counted() const = 0;
};

// The strategy, for one database (rebuilt when the searcher moves to another revision).
class FacetCounting {
 public:
  virtual ~FacetCounting() = default;
  // A counter for `query` (as the matcher will run it); `by_value`: the match is sorted by a
  // value (date, credibility), not by relevance. `time_limit_seconds` (0: none): what the
  // search's time limit leaves for this match, which a counter counting in threads of its own
  // (local shards) keeps to as the matcher does.
  virtual std::unique_ptr<FacetCounter> start(const Xapian::Query& query, bool by_value, double time_limit_seconds) const = 0;

  // The strategy for `db`: columns when it is one local database (`single_local`); columns
  // per shard, counted in parallel, when `local_shards` names its sub-databases' directories
  // (two or more, all local); else match spies. `max_expansion`: the searcher's wildcard
  // expansion limit. `remote`: some sub-database of `db` is remote (xapian-tcpsrv); the spies
  // there then count about `remote_count` matches in each (remote_count_bound(); Xapian may
  // count a little past it): locally the time limit is kept by a spy of ours
  // (get_mset_within), which does not travel.
  // Errors: those of open_index() for a shard.
  static Result<std::unique_ptr<FacetCounting>> for_database(
      const Xapian::Database& db, bool single_local, Xapian::termcount max_expansion,
      const std::vector<ShardRevision>& local_shards = {}, bool remote = false,
      Xapian::doccount remote_count = 0);
};

// Over remote databases, the matches counted in each for a time limit of `seconds` (0: no
// limit, every match): 200,000 a second, at least 10,000. A bound on work, not on time: a
// remote shard's spies are Xapian's, and Xapian's time limit is not safe (limited_match.h).
Xapian::doccount remote_count_bound(double seconds);

}  // namespace mssearch
