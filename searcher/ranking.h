// Ranking: how the searcher orders matches. Every choice here was measured on the four judged
// collections with `mssearch eval` (README, "Relevance"); the defaults are the settings that
// helped across them. The site boosts (recency, credibility) are off by default and always off
// in `mssearch eval`, whose collections have neither dates nor ratings.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <xapian.h>

namespace mssearch {

struct RankingOptions {
  // Xapian's BM25Weight(k1, k2 = 0, k3 = 1, b, min_normlen = 0.5). Xapian's own defaults,
  // k1 = 1 and b = 0.5, were measured lower on every collection. (k3 changes nothing here:
  // QueryParser gives a repeated word a subquery of its own, so repeats already count.)
  double bm25_k1 = 2.0;
  double bm25_b = 0.9;
  // "bm25", or for comparison Xapian's "bm25+", "pl2", "dph" and "lm" with their defaults
  // (all measured lower).
  std::string scheme = "bm25";
  // Drop common English function words (english_stop_words()) from queries, but not from
  // phrases (a query of stop words only keeps them: Xapian's QueryParser). Questions ("why do
  // ms symptoms get worse in the heat") rank by their subject.
  bool stop_words = true;
  // Hyphenated words typed as words (hyphenated_as_words(): "double-strand" is "double strand"
  // and "il-10" also "il10"), as FTS5 and most engines read them, instead of the phrase
  // Xapian's QueryParser makes of them, which misses the same words written with a space, a
  // slash or a word between ("beta- and gamma-band"). A number after a minus in a list
  // ("e2f-1, -2, -3") is a number, not a word to exclude. Off under AND.
  bool hyphens_as_words = true;
  // Exact forms: an article with a query word exactly as typed (not only a word of the same
  // stem) gets this share of that word's weight on top ("organic" over "organ"), once for
  // each time the query has the word (long questions repeat what matters to them). 0: off.
  double exact_weight = 0.3;

  // Pseudo-relevance feedback: the best `feedback_docs` hits of a first pass give their most
  // distinctive terms (Xapian's RSet + Enquire::get_eset with the `feedback_scheme` expand
  // weights), kept only when at least `feedback_min_docs` of those hits hold them and ranked by
  // the share of the hits holding them, each hit counting (score / best score) ^
  // `feedback_score_power`. The best `feedback_terms` re-rank the answer with `feedback_weight`
  // shared between them (about one more query word at 1); they never add matches, so totals,
  // facets and filters stay those of the words typed. Not used as-you-type. 0 docs: off.
  std::size_t feedback_docs = 15;
  std::size_t feedback_terms = 10;
  std::size_t feedback_min_docs = 4;
  double feedback_score_power = 2.0;
  std::string feedback_scheme = "bo1";  // "trad" or "bo1"
  double feedback_weight = 1.0;
  // How far down the first pass feedback re-ranks: this many hits, times four as often as
  // needed to reach twice the page's end (50, 200, 800, ...: pages within one step re-rank the
  // same candidates, so paging neither repeats nor skips a hit). Measured on the judged
  // collections: a first page of 10 gets the same nDCG@10 from 50 candidates as from 200 or
  // from every match; 100 hits need 200 to keep recall@100. Related articles are the best of
  // these by the feedback terms alone.
  std::size_t feedback_depth = 50;

  // Words joined by AND instead of OR (measured: AND loses most relevant articles).
  bool default_and = false;
  // Articles that match every word get this share of the all-words (AND) weight on top; 0: off
  // (measured neutral).
  double all_words_boost = 0.0;

  // Site boosts, added to the relevance score of matching articles (the BM25 score of a
  // typical query is 2-10): up to `recency_boost` for an article of this year, halving every
  // `recency_half_life_years`; up to `credibility_boost` for a credibility rating of 5 (0 for 1
  // or none). Built from Xapian's ValueMapPostingSource, so they work over remote shards too.
  double recency_boost = 0.0;
  double recency_half_life_years = 2.0;
  double credibility_boost = 0.0;
};

// The weighting scheme the options describe.
std::unique_ptr<Xapian::Weight> make_weight(const RankingOptions& options);

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
  Xapian::termcount get(const Xapian::Database& db, std::string_view term);
  void clear() { freqs_.clear(); }

 private:
  // Looked up by view: no name is copied unless it is new.
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  static constexpr std::size_t kMaxTerms = 1 << 18;
  std::unordered_map<std::string, Xapian::termcount, Hash, std::equal_to<>> freqs_;
};

WeightedTerms feedback_terms(const Xapian::Database& db, const Xapian::Query& query,
                             const Xapian::MSet& top, const RankingOptions& options,
                             CollectionFreqs& freqs);
// The terms as one query, each scaled by its weight: what re-ranks the answer.
Xapian::Query feedback_query(const WeightedTerms& terms);

// Re-ranking without a second search of the collection: `extra`'s weight (Xapian's, from
// `weight`) added to each of `candidates` (docid and score of a first pass over `db`) that it
// matches; Xapian visits only the postings of the documents `only` matches, a query for the
// candidates (candidates_query for one local database, else their id terms). Returned best
// first, ties in the candidates' order. `matched`, when given, gets the candidates `extra`
// matches with `extra`'s weight alone, best first.
using ScoredDocs = std::vector<std::pair<Xapian::docid, double>>;
ScoredDocs rerank(const Xapian::Database& db, const Xapian::Weight& weight, const Xapian::Query& extra,
                  const Xapian::Query& only, const ScoredDocs& candidates, ScoredDocs* matched = nullptr);
// A query matching exactly these documents of one local database (no weight of its own).
Xapian::Query candidates_query(const ScoredDocs& candidates);

}  // namespace mssearch
