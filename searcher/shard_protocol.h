// The shard protocol: what a coordinator asks of a shard server and what the shard answers,
// and their encoding (MessagePack, through nlohmann::json), with a protocol version.
//
// A search costs at most two round trips per shard, as Elasticsearch's query-then-fetch:
//   1. match: the shard plans and matches the query over its own index and answers its exact
//      total and facet counts, the scores of its best candidates and, for the best of them,
//      what feedback learns from (their stored expansion terms). When the answer is not
//      re-ranked (feedback off, sorted by date), this phase also gives the shard's share of the
//      page (stored fields, snippets) and its related articles: one round trip.
//   2. page: the coordinator has merged the candidates, chosen feedback's terms from the
//      global best hits and tells each shard how many of its candidates are in the global
//      window; the shard re-ranks those by the terms and answers its share of the page and its
//      related articles.
// Shards score with their own collection statistics (document count, term frequencies): a
// shard built by `index --shards N` holds a random N-th of the articles (a hash of the id).
//
// The request's search is carried as the public API's parameters (q, topic, journal, year,
// since, until, min_credibility, sort, partial): a shard server checks them with the same code
// as /api/search, so the internal endpoint refuses what the public API refuses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "schema/error.h"
#include "searcher/search_types.h"
#include "searcher/searcher.h"

namespace mssearch {

// 2: the ranking settings as [name, value] pairs; 3: related_fill; 4: kStats says whether the
// last word is a prefix here (and gives the whole word's terms too); 5: kRelated answers the
// article's terms and topics, and searches another shard's article's (related_topics); a
// shard that found few says its short query's correction too (typo); 6: a match's feedback
// frequencies as one front-coded list (feedback_freqs), each term once with both figures.
inline constexpr int kShardProtocolVersion = 6;
// Bounds on what either side accepts: a request (a query of max_query_bytes and feedback's
// terms fit many times over) and an answer (a deep window of candidates with fields).
inline constexpr std::size_t kMaxShardRequestBytes = 64 * 1024;
inline constexpr std::size_t kMaxShardAnswerBytes = 64 * 1024 * 1024;

using ShardParams = std::vector<std::pair<std::string, std::string>>;
// (name, value) of each setting a shard ranks with: ranking_settings().
using RankingSettings = std::vector<std::pair<std::string, std::string>>;

// A search as the public API's parameters (page and per_page aside: the window is sent apart).
ShardParams shard_params(const SearchRequest& request);

// kFetch: a deep page's second phase (Elasticsearch's query-then-fetch): the hits the merged
// page keeps, by id, with their snippets; the match and page phases then carry none.
enum class ShardOp { kMatch, kPage, kInfo, kArticle, kRelated, kSuggest, kStats, kFetch };

// A whole collection's statistics for the terms a search weighs: every shard's documents, their
// length, and each term's document frequency, summed.
struct CollectionStats {
  std::uint64_t documents = 0;
  std::uint64_t total_length = 0;
  std::vector<std::pair<std::string, std::uint32_t>> term_freqs;
  // As you type: some shard has the last word as typed, so one index reads it whole (not sent
  // to shards: the coordinator then asks for the whole word).
  bool last_word_known = false;
};

struct ShardRequest {
  ShardOp op = ShardOp::kMatch;
  ShardParams params;            // kMatch, kPage: the search
  std::size_t window = 10;       // kMatch, kPage: the coordinator's offset + limit; kSuggest: terms wanted
  bool facets = true, snippets = true, related = true;
  // kPage: feedback's terms with their weights, and how many of this shard's candidates (its
  // best, in its order) are in the global window of candidates.
  std::vector<std::pair<std::string, double>> feedback;
  std::size_t candidates = 0;
  // kPage: where each step of the global candidates ends (MatchWindow::steps), counted in this
  // shard's candidates: each step is re-ranked apart. Empty: one step.
  std::vector<std::size_t> candidate_steps;
  // kPage: those candidates by docid (the first `candidates` of the match answer's), and the
  // index state they are docids of (ShardAnswer::docid_key). A shard whose state is that one
  // ranks only these documents instead of matching again (Elasticsearch's fetch by document);
  // any other (another replica's index, a commit since) matches again. Empty: match again.
  std::vector<std::uint32_t> candidate_docids;
  std::string docid_key;
  // kPage with related: the shard answers its candidates by feedback's terms alone (the best
  // page (`limit`) + related_count, none left out: the coordinator leaves out the global page's) and,
  // with related_fill, as many articles of its whole index like those terms (or, when feedback
  // found none, like `related_terms`): one index's related articles, merged.
  bool related_fill = false;
  // kMatch, kPage: each hit as its keys only (id, score, date, credibility: what the merge
  // orders by), its fields and snippet fetched later (kFetch) for the hits the page keeps.
  bool keys_only = false;
  std::vector<std::string> related_terms;
  // kRelated with related_terms: the topics of the article (another shard's) they describe.
  std::vector<std::string> related_topics;
  // kMatch, kPage: score with these instead of the shard's own statistics.
  std::optional<CollectionStats> stats;
  std::vector<std::string> ids;  // kFetch: the page's articles held by this shard, in the page's order
  std::string id;                // kArticle, kRelated: the article; kSuggest: the prefix
  std::size_t limit = 0;         // kRelated, kSuggest; kMatch, kPage: the page's size
  // kMatch, kPage, kFetch: the coordinator's snippet_length (its shard servers' own was used, and
  // `--snippet-length 60` on a coordinator changed nothing; helper-94). 0: the shard's own.
  std::size_t snippet_length = 0;
};

// The collection and document frequencies of many terms, in increasing term order: a shard's
// feedback documents' terms (~1,500 a search), looked up by the coordinator for the few it
// weighs. One buffer of names, not a string each: built, sent and read with every search.
class TermFreqTable {
 public:
  struct Freqs {
    std::uint32_t collection_freq = 0;  // occurrences in all the shard's documents
    std::uint32_t termfreq = 0;         // documents holding it
    bool operator==(const Freqs&) const = default;
  };
  // Returns false (and adds nothing) unless `term` comes after the last term added.
  bool add(std::string_view term, Freqs freqs);
  const Freqs* find(std::string_view term) const;
  std::size_t size() const { return entries_.size(); }
  std::string_view term(std::size_t i) const { return std::string_view(names_).substr(entries_[i].at, entries_[i].size); }
  const Freqs& freqs(std::size_t i) const { return entries_[i].freqs; }
  void reserve(std::size_t terms, std::size_t bytes) {
    entries_.reserve(terms);
    names_.reserve(bytes);
  }
  bool operator==(const TermFreqTable& other) const;

 private:
  struct Entry {
    std::uint32_t at = 0, size = 0;
    Freqs freqs;
  };
  std::string names_;
  std::vector<Entry> entries_;
};

// One of the shard's best hits as feedback learns from it.
struct FeedbackDoc {
  double score = 0;
  std::string terms;  // its stored expansion terms (schema::kSlotFeedbackTerms)
};

struct ShardAnswer {
  // kMatch
  std::uint32_t total = 0;
  bool total_is_exact = true;
  bool timed_out = false;
  std::vector<FacetValue> topic_facets, year_facets, journal_facets;
  bool reranked = false;            // the plan re-ranks by feedback: phase 2 follows
  std::string order = "score";      // how its hits are ordered: "score", "date", "credibility"
  std::vector<double> candidates;   // scores of its best candidates, best first
  // Their docids, in the same order, and the index state they belong to (each part's UUID and
  // revision): sent back with the page request (ShardRequest::candidate_docids). Empty when
  // the shard cannot name its documents so (remote parts).
  std::vector<std::uint32_t> candidate_docids;
  std::string docid_key;
  std::size_t depth = 0;            // how many candidates one index would re-rank
  std::vector<FeedbackDoc> feedback_docs;
  std::vector<std::string> query_terms;  // the plan's terms (never expansion terms)
  // The frequencies here of the feedback documents' terms, each once.
  TermFreqTable feedback_freqs;
  // kStats: the document frequencies of the plan's terms. The documents here and their total length.
  std::vector<std::pair<std::string, std::uint32_t>> term_freqs;
  std::uint32_t documents = 0;
  std::uint64_t total_length = 0;
  std::string folded;               // the words searched, folded
  std::optional<std::string> spelling;  // its correction, when the shard found few (< 3)
  // No correction, but a word of the query is unknown here too (`ocrevous` on a shard whose
  // spelling data has no neighbour for it): the shard abstains rather than vetoes another
  // shard's proposal. Absent from older shard servers (then: a veto, as before).
  bool spelling_unknown = false;
  // A shard that found few (< 3) also says what it would offer had it found enough (the short
  // query's correction, Searcher::typo_correction): the coordinator's shards together may have.
  std::optional<std::string> typo;
  bool typo_unknown = false;
  // The query's words no article here has (QueryPlanner::missing_words): the coordinator names
  // those no shard has. Absent from older shard servers: none.
  std::vector<std::string> missing_words;
  std::size_t query_terms_dropped = 0;
  std::size_t query_phrases_relaxed = 0;
  bool last_word_prefix = false;
  // kMatch without re-ranking, kPage, kRelated: hits with fields (and snippets when asked);
  // kFetch: the ids asked that it holds, with fields and snippets, in the order asked.
  std::vector<SearchHit> hits;
  std::vector<std::uint32_t> hit_steps;  // kPage: the step of the candidates each hit is in
  std::vector<SearchHit> related;   // kMatch without re-ranking, kPage
  std::vector<SearchHit> related_more;  // kPage with related_fill
  std::vector<std::string> warnings;
  // kInfo, kStats, kMatch: the revision answered from
  std::uint64_t revision = 0;
  std::vector<FacetValue> topics;
  // kInfo: the settings its part of a search runs with (ranking_settings), which a
  // coordinator's must equal. Empty from a shard server that does not say.
  RankingSettings ranking;
  // kInfo: the limits it checks a request against (shard_limits), which a coordinator's must
  // equal. Empty from a shard server that does not say.
  RankingSettings limits;
  // kInfo: the UUIDs of the databases it answers from (one per part of a sharded directory), so
  // that a coordinator finds one index listed as two shards (localhost and 127.0.0.1).
  std::vector<std::string> uuids;
  // kInfo: the number of shards of the index whose shard it answers from (a `shard-NN` folder of
  // `index --shards N`: its parent's record), 0 when it is no such shard. A coordinator listing
  // fewer or more shards says so.
  std::uint32_t of_shards = 0;
  // kInfo: whether its internal endpoint checks a shard secret; unknown from an older server.
  std::optional<bool> checks_secret;
  // kInfo: why the shard server's own /readyz says not ready while it still answers (its index
  // gone from disk since it opened it, or found damaged); empty when ready, or from an older
  // server. A coordinator names it (its shards were all "up", its /readyz "ready").
  std::string not_ready;
  // kArticle: the stored article (schema's stored form), empty when not held here.
  std::string article;
  // kSuggest
  std::vector<Suggestion> suggestions;
};

// What a shard's part of a search depends on beyond the request: every ranking setting
// (visit_ranking_settings), the related articles' count and the synonyms it expands words with
// (SynonymTable::fingerprint), as (name, value) in that order. A
// coordinator merges with its own, so both must give the same.
// settings_differ: the entries of two such lists (ranking settings, or limits) that differ
// ("feedback_docs 15 here, 0 there"), "" when none.
RankingSettings ranking_settings(const SearcherOptions& options, const SynonymTable& synonyms);
std::string settings_differ(const RankingSettings& ours, const RankingSettings& theirs);
// The limits a shard server checks a search against, as mssearch.yaml names them (max_query_bytes,
// max_offset, max_per_page, max_wildcard_expansion: a request over one is refused, 400; and
// max_query_words, max_query_terms: past them words are dropped), as (name, value). A shard
// server with other limits than its coordinator's refuses or cuts searches the coordinator
// accepts whole; settings_differ names the entries that differ.
RankingSettings shard_limits(const SearcherOptions& options);
// The limits by which `theirs` refuses requests that `ours` accepts (a lower max_query_bytes,
// max_offset, max_per_page or max_wildcard_expansion), named as settings_differ names
// them; "" when none.
std::string stricter_limits(const RankingSettings& ours, const RankingSettings& theirs);

std::string encode(const ShardRequest& request);
// Errors: kSchemaMismatch for another protocol version (another mssearch: the server's fault,
// not the request's); kBadQuery naming what is wrong (not MessagePack, a field of the wrong
// type, a bound exceeded).
Result<ShardRequest> decode_shard_request(std::string_view bytes);

// An error travels as {"error": message, "code": ErrorCode}.
std::string encode(const ShardAnswer& answer);
std::string encode_error(const Error& error);
// Errors: the shard's own error (its code and message), or kDatabase for an answer that is not
// one (a shard of another version, a damaged answer), which sets `*damaged` when given.
Result<ShardAnswer> decode_shard_answer(std::string_view bytes, bool* damaged = nullptr);
// The answer encoded and read back as a coordinator reads it (decode_shard_answer), for a shard
// server to send. Errors: kInternal, naming what the coordinator would refuse, when the answer
// breaks a bound of the protocol. Such an answer is caused by the request (a typed word or a
// filter value past a term's length took every shard of a coordinator down twice): sent as it
// was, it marked each replica that gave it down, and every other search failed with them.
Result<std::string> encode_checked(const ShardAnswer& answer);

// A coordinator's cache of collection statistics (query_then_fetch's "dfs" phase, kept): each
// search's plan terms by its parameters, each term's document frequency over all shards, the
// collection's size and length, and the shards' revisions they hold for: a commit on any shard
// empties it. Bounded (emptied when full). Shared by a coordinator's Searchers.
//
// Thread-safety: all methods may be called from any thread.
class StatsCache {
 public:
  std::optional<CollectionStats> find(const std::string& key) const;
  // The statistics of the search `key`, summed over the shards that answered, at their revisions.
  void store(const std::string& key, const CollectionStats& stats, std::vector<std::uint64_t> revisions);
  // Forgets everything if a shard answered from another revision than the cache holds. Returns
  // whether the answer's revision is newer (a commit since: the statistics just used were old);
  // not for an older one (a replica still catching up), whose searches would otherwise each be
  // asked twice while two replicas of a shard differ.
  bool check(std::size_t shard, std::uint64_t revision);
  // Forgets everything: a shard answers from another index (its UUIDs changed) at what may be
  // the same revision (a shard server restarted over an index built apart).
  void clear();
  // The highest revision a coordinator over these shards has said, raised to `known` (the sum
  // of the shards' revisions): shared by every searcher of one server (not forgotten by
  // clear()), so that one opened while a shard is down does not say the lower sum of the shards
  // up (/readyz's revision went 3 -> 2). After a shard's index changed (note_index), it goes
  // one up and then grows with the new index's commits (it stayed at the old sum until the new
  // one passed it, and monitoring saw no change; helper-94).
  std::uint64_t said_revision(std::uint64_t known);
  // The databases (UUIDs) shard `shard` answers from, as a searcher's info refresh found them:
  // another than the last noted (by any searcher of the server) is another index.
  void note_index(std::size_t shard, const std::vector<std::string>& uuids);

 private:
  static constexpr std::size_t kMaxPlans = 20000, kMaxTerms = 200000;
  mutable std::mutex mutex_;
  struct Plan {
    std::vector<std::string> terms;
    bool last_word_known = false;
  };
  std::unordered_map<std::string, Plan> plan_terms_;
  std::unordered_map<std::string, std::uint32_t> term_freqs_;
  std::uint64_t documents_ = 0, length_ = 0;
  std::vector<std::uint64_t> revisions_;
  std::uint64_t said_revision_ = 0, said_offset_ = 0;
  std::vector<std::vector<std::string>> noted_indexes_;
  bool index_changed_ = false;
};

// How a coordinator reaches its shards: one call, one round trip to one replica of a shard
// (another replica when that one fails or misses its deadline). One transport per Searcher, used
// by one thread per shard at a time; what replicas are down may be shared between transports.
class ShardTransport {
 public:
  virtual ~ShardTransport() = default;
  virtual std::size_t shard_count() const = 0;
  // Each shard, up (some replica answers or may) or down, with why.
  virtual std::vector<ShardStatus> status() const = 0;
  // Sends an encoded ShardRequest; the encoded answer (which may be an error, encode_error).
  // Errors: kUnavailable naming the shard and why no replica answered.
  virtual Result<std::string> call(std::size_t shard, const std::string& body) = 0;
  // As call(), but a shard whose every replica is marked down is not asked (an error at once):
  // for what may wait (the shards' info, refreshed each second), not a search, which still asks
  // a shard's last replica that only misses deadlines. Without it, a hung shard cost each search
  // a second deadline, and /readyz one, on the refresh before it.
  virtual Result<std::string> call_if_up(std::size_t shard, const std::string& body) { return call(shard, body); }
  // The answer the shard's last call returned is the replica's failure though it came (damaged:
  // not a shard answer, as decode_shard_answer said; or a refusal by limits stricter than the
  // coordinator's), or that of `replica` (its URL, from call_each): the replica is marked down,
  // `why` being its error, and the shard's next call goes to another replica, as for one that
  // broke the connection.
  virtual void reject(std::size_t /*shard*/, const std::string& /*why*/, const std::string& /*replica*/ = "") {}
  // The shard's last answer was a refusal (400) by a replica whose limits are stricter than the
  // coordinator's, `why`: the replica is marked down, as by reject(), when another replica of
  // the shard is up, and the call goes there (true); the last one up is not (false: that call
  // fails, the searches within its limits still reach it).
  virtual bool refuse_replica(std::size_t shard, const std::string& why) {
    reject(shard, why);
    return true;
  }
  // `replica` (its URL), marked down by refuse_replica() for an answer the next replica gave
  // too, is up again: the answer was the request's doing, not the replica's.
  virtual void restore(std::size_t /*shard*/, const std::string& /*replica*/) {}
  // The URL of the replica that gave the shard's last answer ("" when not known).
  virtual std::string answered_by(std::size_t /*shard*/) const { return ""; }
  // How many replicas the shard lists: how many damaged answers one call may meet at most.
  virtual std::size_t replica_count(std::size_t /*shard*/) const { return 1; }
  // Sends to every replica of the shard that is not marked down, in order: each one's answer and
  // its name (a shard's info, which must agree between replicas). When none is asked or none
  // answers, one result: as call() (`if_up`: as call_if_up()).
  virtual std::vector<std::pair<std::string, Result<std::string>>> call_each(std::size_t shard, const std::string& body,
                                                                             bool if_up) {
    std::vector<std::pair<std::string, Result<std::string>>> out;
    out.emplace_back("", if_up ? call_if_up(shard, body) : call(shard, body));
    return out;
  }
  // The shard's replica `replica` (its URL) holds an older revision of the shard's index than
  // the last known revision of another of its replicas, which may be down now (xapian-replicate
  // has not brought it up to date yet, or cannot): searches go to the replicas that are current
  // while one of them is up, to this one only when none answers (an old answer is better than
  // none). A search pinned to it stays on it (its match and page come from one index state).
  virtual void set_behind(std::size_t /*shard*/, const std::string& /*replica*/, bool /*behind*/) {}
  // The statistics cache shared by every transport of one coordinator.
  virtual StatsCache& stats_cache() = 0;
  // A search begins: until end_search(), each shard's calls go to the replica that answered its
  // first call while that one answers (replicas being updated by xapian-replicate are at
  // different revisions for a while, and a search's match and page must come from one). Other
  // calls take the replicas in turn.
  virtual void begin_search() {}
  virtual void end_search() {}
};

}  // namespace mssearch
