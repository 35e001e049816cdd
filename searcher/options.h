// What a Searcher is opened with: the databases, limits, ranking and remote-shard options.
// No Xapian types: the CLI, the server and their configuration read and set these without
// seeing the engine.
#pragma once

#include <cmath>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace mssearch {

// The most hits a page holds, and completions or related articles an answer holds: the API's
// `max_per_page` unless configured, and the command line's `--limit` range for search, related
// and suggest (suggest stopped at 50 there while the API took 100).
inline constexpr std::size_t kDefaultMaxLimit = 100;

// Ranking: how the searcher orders matches. Every choice here was measured on the judged
// collections with `mssearch eval` (README, "Relevance"); the defaults are the settings that
// helped across them. The site boosts (recency, credibility) are off by default and always off
// in `mssearch eval`, whose collections have neither dates nor ratings.
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

// What is wrong with these ranking settings, named as the config file names them
// ("ranking.scheme is one of bm25, ..."), or "" when nothing: a scheme Xapian has, numbers
// finite, from 0 to kMaxRankingNumber and within what a shard's answer may carry (feedback_depth <= 100,000,
// feedback_docs and feedback_terms <= 1,000). For the config file and `mssearch eval`.
std::string ranking_settings_problem(const RankingOptions& r);
// The largest a ranking setting's number may be (scores run 2-10; 1e308 made them infinite).
inline constexpr double kMaxRankingNumber = 1e6;
// Whether `v` may be a ranking setting's number: finite, from 0 to kMaxRankingNumber (NaN is not).
inline bool is_ranking_number(double v) { return std::isfinite(v) && v >= 0 && v <= kMaxRankingNumber; }

// Every ranking setting with its name, in one list: the config file's `ranking:` keys
// (server/server_options.cpp) and the settings a coordinator and its shard servers compare
// (ranking_settings in shard_protocol.h) both come from here, so a field added to
// RankingOptions and listed here is configurable and checked across shards at once.
// `visit(name, field)` is called for each; Ranking is RankingOptions, const or not.
template <typename Ranking, typename Visit>
void visit_ranking_settings(Ranking& r, Visit&& visit) {
  visit("scheme", r.scheme);
  visit("bm25_k1", r.bm25_k1);
  visit("bm25_b", r.bm25_b);
  visit("stop_words", r.stop_words);
  visit("hyphens_as_words", r.hyphens_as_words);
  visit("exact_weight", r.exact_weight);
  visit("feedback_docs", r.feedback_docs);
  visit("feedback_terms", r.feedback_terms);
  visit("feedback_min_docs", r.feedback_min_docs);
  visit("feedback_score_power", r.feedback_score_power);
  visit("feedback_scheme", r.feedback_scheme);
  visit("feedback_weight", r.feedback_weight);
  visit("feedback_depth", r.feedback_depth);
  visit("default_and", r.default_and);
  visit("all_words_boost", r.all_words_boost);
  visit("recency_boost", r.recency_boost);
  visit("recency_half_life_years", r.recency_half_life_years);
  visit("credibility_boost", r.credibility_boost);
}

// Whether a database spec names a remote shard (tcp://HOST:PORT, served by xapian-tcpsrv)
// rather than a local index directory.
inline bool is_remote_spec(const std::string& spec) { return spec.starts_with("tcp://"); }

// Two database specs that name one database: `first` and `second` index the list, `message`
// names both as given.
struct SameDatabase {
  std::size_t first = 0, second = 0;
  std::string message;
};
// The first database of `specs` given twice: an index directory under two spellings (relative
// and absolute, `..`, a symlink, a trailing slash: compared as weakly_canonical paths, and by
// std::filesystem::equivalent), or a remote shard given twice (tcp://HOST:PORT compared as
// written). Searched as two, its articles were counted twice (totals, facets) and /metrics
// had its shard label twice. Nothing when each names another database.
std::optional<SameDatabase> same_database_twice(const std::vector<std::string>& specs);

struct RemoteOptions {
  double connect_timeout_seconds = 1.0;  // to establish a connection to a remote shard
  double timeout_seconds = 2.0;          // for each answer of a remote shard
  double retry_seconds = 1.0;            // a shard that is down is tried again after this long
};

struct ShardStatus {
  std::string name;   // the spec: a path or tcp://host:port
  bool up = false;
  std::string error;  // why it is down (or, for a shard server's shard, which replicas are failing)
  std::size_t replicas = 1;          // its replicas (shard servers behind a coordinator)
  std::size_t replicas_failing = 0;  // those whose last call failed or missed its deadline
  // Those at an older revision than another replica of the shard (not searched while a current
  // one answers): up, but a replication that is late or stuck.
  std::size_t replicas_behind = 0;
};

class ShardTransport;  // searcher/shard_protocol.h
class ResultCache;     // searcher/result_cache.h

// The snippet lengths a server accepts (snippet_length), in characters.
inline constexpr std::size_t kMinSnippetLength = 20, kMaxSnippetLength = 2000;

struct SearcherOptions {
  std::filesystem::path db_path = "data/index";
  // When not empty, searched instead of db_path: local index directories and remote shards
  // (tcp://HOST:PORT, served by xapian-tcpsrv), as one database.
  std::vector<std::string> databases;
  RemoteOptions remote;
  // A local database holding the spelling data of all of `databases` (DIR/spelling, written by
  // `index --shards N`), added for "did you mean" when the shards are remote. Empty: none.
  std::filesystem::path spelling_database;
  std::filesystem::path synonyms_path;      // corpus/synonyms.yaml format; empty: none
  std::size_t snippet_length = 240;         // characters of article text in a snippet
  std::size_t max_limit = kDefaultMaxLimit;  // cap on hits per page
  std::size_t max_offset = 10000;           // cap on paging depth
  // A coordinator: from this offset on, the shards answer their window without snippets and the
  // page's snippets are fetched from their shards after the merge (a round trip more).
  std::size_t fetch_from_offset = 100;
  // A shard server: whether its internal endpoint checks a shard secret (it says so to
  // coordinators).
  bool checks_shard_secret = false;
  // A coordinator: whether it sends one (it names the shard servers that check none).
  bool sends_shard_secret = false;
  std::size_t max_query_bytes = 4096;       // longer queries are refused (a pasted abstract fits)
  // A long question (a pasted paragraph, a letter) is not refused: past this many distinct
  // words (stop words aside) it keeps the ones that tell most, the rarest in the collection (by
  // the document frequency of their stems, as Elasticsearch's more_like_this keeps its
  // max_query_terms), in the order typed; the answer says how many it dropped. 0: no cut.
  std::size_t max_query_words = 96;
  // The bound on cost: distinct terms of the query once parsed and expanded (stems, exact
  // forms, synonyms, compounds). Past it, words are dropped as above until it fits.
  std::size_t max_query_terms = 256;
  std::uint32_t max_wildcard_expansion = 200;  // `remyelin*` may expand to this many terms
  double time_limit_seconds = 0.5;          // bound on exact counting (facets, totals)
  std::size_t related_count = 5;            // related articles in a search answer
  // Several local databases (a sharded index): each shard's share of the exact counting
  // (totals, facets) in a thread of its own, alongside the ranking over all of them. false:
  // Xapian's match spies count in the ranking's pass, one shard after another.
  bool parallel_shards = true;
  // A match Xapian cannot stop early (an as-you-type prefix's OR of up to 200 completions) cut
  // into this many slices of the docid space, matched at once on threads of their own when
  // cores are free (searcher/match_slices.h): the same answer. 0: one per core; 1: one pass.
  // Databases of fewer than `match_slice_min_documents` articles are matched in one pass.
  std::size_t match_slices = 0;
  std::uint32_t match_slice_min_documents = 20000;
  // A phrase of two words the index pairs (schema::kMetaPairWords) filtered by the pair's term,
  // so that positions are read only where the words stand side by side: the same answer. false
  // (search_bench --no-pair-filters, the tests) checks positions wherever the words both are.
  bool phrase_pair_filters = true;
  RankingOptions ranking;                   // BM25, stop words, feedback, site boosts
  // Set: search shard servers (`serve --shard-server`) through what it makes, one per Searcher,
  // instead of any database (a coordinator: searcher/coordinator.h).
  std::function<std::unique_ptr<ShardTransport>()> shard_transport;
  // Set: answers kept for the same search of the same index revision (searcher/result_cache.h),
  // shared by every Searcher given it. Local databases only (a remote shard's revision is not
  // known without asking it, and a coordinator's shards change unseen).
  std::shared_ptr<ResultCache> result_cache;
};

}  // namespace mssearch
