// Ranking's building blocks over Xapian (internal to the searcher): the weighting scheme, the
// exact-form bonus, the site boosts, pseudo-relevance feedback and re-ranking. Their options,
// RankingOptions, are in searcher/options.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <xapian.h>

#include "searcher/options.h"
#include "searcher/shard_protocol.h"

namespace mssearch {



// The weighting scheme the options describe.
std::unique_ptr<Xapian::Weight> make_weight(const RankingOptions& options);
// The names RankingOptions::scheme and ::feedback_scheme take, in the order help lists them.
std::vector<std::string_view> weight_scheme_names();
std::vector<std::string_view> feedback_scheme_names();

// Collection statistics of a whole sharded collection, as a coordinator gathers them from its
// shards (Xapian's remote matcher exchanges the same): a shard scores with them so that its
// scores are those one index would give. Xapian 1.4 tells a weighting scheme a term's
// statistics but not its name, so a shard finds each term's global document frequency by the
// term's local (frequency, collection frequency): `by_local`, built per request for the terms
// the coordinator sent. Two such terms alike here but not across the shards (rare words seen
// once in this shard) share the mean of their global frequencies; a term the coordinator did
// not send (a wildcard's expansion, a synonym group) has its local frequency scaled by the
// collections' sizes.
struct GlobalStats {
  double documents = 0;       // in all shards
  double average_length = 0;  // over all shards
  double local_documents = 0; // in this shard
  using Key = std::pair<Xapian::doccount, Xapian::termcount>;
  std::map<Key, double> by_local;
};

// BM25 with `stats` instead of the shard's own (the formula of Xapian::BM25Weight, which
// make_weight gives one index). Null when the options name another scheme: the shard then
// scores with its own statistics.
std::unique_ptr<Xapian::Weight> make_global_weight(const RankingOptions& options, std::shared_ptr<const GlobalStats> stats);

// The prefixes of the wildcards in `query` (`remyelin*`, and the last word being typed, which
// Xapian's parser makes a wildcard): each expands to the terms that begin with it, weighed as
// one synonym. Only those whose prefix reads back plainly from Xapian's description.
std::vector<std::string> wildcard_prefixes(const Xapian::Query& query);

// The frequencies Xapian 1.4 gives a synonym of terms (a wildcard's expansion) when it weighs
// it: the terms' OR built as a Huffman-like tree by document frequency, each pair's union
// estimated as if independent and rounded (OrContext::postlist, OrPostList's estimates), over
// a collection of `documents` holding `total_length` words. `terms`: each term's (document
// frequency, collection frequency), in term order, as the wildcard expands them.
GlobalStats::Key synonym_freqs(const std::vector<GlobalStats::Key>& terms, double documents, double total_length);

// `query` with the exact-form bonus for `words`, the query's words as unstemmed index terms.
Xapian::Query with_exact_forms(const Xapian::Query& query, const std::vector<std::string>& words,
                               const RankingOptions& options);

// `query` with the site boosts (when on) added as extra weight for the articles it matches;
// the match set stays the query's own. `this_year`: the calendar year now.
Xapian::Query with_boosts(const Xapian::Query& query, const RankingOptions& options, int this_year);

// Pseudo-relevance feedback. `feedback_terms`: the terms that best describe `top`, the best
// hits of `query` (already filtered as the answer will be), each with its share of
// `feedback_weight`; none when feedback is off or found nothing to add.
using WeightedTerms = std::vector<std::pair<std::string, double>>;

// Collection frequencies, looked up once per term and revision: feedback asks for the same
// common words query after query. Bounded (emptied when full); the owner empties it whenever it
// moves to another revision of the index.
class CollectionFreqs {
 public:
  struct Freqs {
    Xapian::doccount termfreq;  // documents holding the term
    Xapian::termcount collection_freq;  // its occurrences in all of them
  };
  Xapian::termcount get(const Xapian::Database& db, std::string_view term) {
    return of(db, term, false, true).collection_freq;
  }
  // The term's document frequency, kept the same way (a shard reports both to its coordinator).
  Xapian::doccount termfreq(const Xapian::Database& db, std::string_view term) {
    return of(db, term, true, false).termfreq;
  }
  // Both, found by one lookup.
  Freqs both(const Xapian::Database& db, std::string_view term) { return of(db, term, true, true); }
  void clear() { freqs_.clear(); }

 private:
  // A figure not asked for yet (Xapian has no call that reads both at once).
  static constexpr std::uint32_t kUnknown = ~std::uint32_t{0};
  Freqs of(const Xapian::Database& db, std::string_view term, bool termfreq, bool collection_freq);
  // Looked up by view: no name is copied unless it is new. Not noexcept on purpose: libstdc++
  // then keeps each node's hash, where it would otherwise hash a name again for every node it
  // passes in a bucket (measured: a third of a shard server's time on feedback's frequencies).
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  static constexpr std::size_t kMaxTerms = 1 << 18;
  std::unordered_map<std::string, Freqs, Hash, std::equal_to<>> freqs_;
};

// What a shard server sends its coordinator of each of its best hits (ShardAnswer::feedback_docs
// and feedback_freqs): the stored expansion terms, and each term's frequencies here. Kept per
// document for this revision, so that a hit met again costs one lookup, not a value read, a
// zstd frame and ~130 frequency lookups in a table of a quarter of a million names (a sixth of
// a shard server's time). Bounded (emptied when full, between searches); the owner empties it
// whenever it moves to another revision of the index, as CollectionFreqs.
class FeedbackDocCache {
 public:
  struct Term {
    std::uint32_t at = 0, size = 0;  // its name in `names`
    CollectionFreqs::Freqs freqs;
  };
  struct Doc {
    std::string stored;  // schema::kSlotFeedbackTerms as stored
    std::string names;   // the terms' names, one after another
    std::vector<Term> terms;  // in term order
    std::string_view name(const Term& t) const { return std::string_view(names).substr(t.at, t.size); }
  };
  // The document's material, read on first sight. References stay valid until start().
  const Doc& get(const Xapian::Database& db, Xapian::docid docid, CollectionFreqs& freqs);
  // Before a search's get() calls: empties the cache when it holds more than its bound.
  void start() {
    if (bytes_ > kMaxBytes) clear();
  }
  void clear() {
    docs_.clear();
    bytes_ = 0;
  }

 private:
  static constexpr std::size_t kMaxBytes = 8u << 20;
  std::size_t bytes_ = 0;
  std::unordered_map<Xapian::docid, Doc> docs_;
};

// The frequencies of every term `docs` hold, each once, in term order (a shard's feedback_freqs).
TermFreqTable feedback_freqs(const std::vector<const FeedbackDocCache::Doc*>& docs);

// `top`: a match's best hits (docid and score), best first.
WeightedTerms feedback_terms(const Xapian::Database& db, const Xapian::Query& query,
                             const std::vector<std::pair<Xapian::docid, double>>& top, const RankingOptions& options,
                             CollectionFreqs& freqs);
// The same choice (Bo1 only) from documents that travelled: a coordinator's global best hits
// with their stored expansion terms (schema::kSlotFeedbackTerms), best first; the query's own
// terms are left out; `mean_frequency`: a term's collection frequency per document.
WeightedTerms feedback_terms_from(const std::vector<FeedbackDoc>& top, const std::vector<std::string>& query_terms,
                                  const std::function<double(std::string_view)>& mean_frequency,
                                  const RankingOptions& options);
// The terms as one query, each scaled by its weight: what re-ranks the answer.
Xapian::Query feedback_query(const WeightedTerms& terms);

// Re-ranking without a second search of the collection: `extra`'s weight (Xapian's, from
// `weight`) added to each of `candidates` (docid and score of a first pass over `db`) that it
// matches. Returned best first within each step (`steps`: where each ends, increasing; past the
// last, one more), the steps in order, ties in the candidates' order. `matched`, when given,
// gets the candidates `extra` matches with `extra`'s weight alone, best first.
using ScoredDocs = std::vector<std::pair<Xapian::docid, double>>;
// On local databases: Xapian visits only the postings of the documents `candidates_only`
// (candidates_query()) matches.
ScoredDocs rerank_candidates(const Xapian::Database& db, const Xapian::Weight& weight, const Xapian::Query& extra,
                             const Xapian::Query& candidates_only, const ScoredDocs& candidates,
                             const std::vector<std::size_t>& steps = {}, ScoredDocs* matched = nullptr);
// On remote databases, where a docid cannot travel: `extra` is weighed over every document
// `wider` (the first pass's own query, matching all the candidates) matches, all of them come
// back, one match a shard, and only the candidates' weights count.
ScoredDocs rerank_within(const Xapian::Database& db, const Xapian::Weight& weight, const Xapian::Query& extra,
                         const Xapian::Query& wider, const ScoredDocs& candidates,
                         const std::vector<std::size_t>& steps = {}, ScoredDocs* matched = nullptr);
// A query matching exactly these documents of a local database (no weight of its own);
// `shard_uuids`: local_shard_uuids() of a database of several.
Xapian::Query candidates_query(const ScoredDocs& candidates, const std::vector<std::string>& shard_uuids = {});
// What candidates_query() needs to name documents of `db` by docid: nothing for one database,
// the UUIDs of its sub-databases for several local ones; nullopt when docids cannot be used
// (they must then be named by their id terms).
std::optional<std::vector<std::string>> local_shard_uuids(const Xapian::Database& db);

}  // namespace mssearch
