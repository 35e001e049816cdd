// Coordinator: a Searcher over shard servers. Sends each query to every shard at once (on
// threads that live as long as it does), at most two round trips per shard
// (searcher/shard_protocol.h), and merges: hits by score (or date, or credibility), exact
// totals and facet counts summed, feedback's terms chosen once from the global best hits,
// related articles, "did you mean". A shard with no replica
// that answers is left out and named (SearchResult::failed_shards), as a down Xapian shard is.
// Internal to the searcher.
//
// Not thread-safe: one per Searcher.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>

#include "searcher/searcher.h"
#include "searcher/shard_protocol.h"
#include "searcher/worker_group.h"

namespace mssearch {

class Coordinator {
 public:
  // Errors: kUnavailable when no shard answers.
  // `synonyms`: what this coordinator expects every shard server to expand words with.
  static Result<std::unique_ptr<Coordinator>> open(const SearcherOptions& options, const SynonymTable& synonyms);

  Result<SearchResult> search(const SearchRequest& request);
  Result<std::vector<SearchHit>> related(const std::string& id, std::size_t limit,
                                         std::vector<std::string>* failed_shards = nullptr);
  Result<std::vector<Suggestion>> suggest(const std::string& prefix, std::size_t limit,
                                          std::vector<std::string>* failed_shards = nullptr);
  Result<Article> article(const std::string& id);
  // Asks the shards what they hold (documents, revisions, topics), at most once a second.
  Result<bool> refresh();

  const std::vector<FacetValue>& topics() const { return topics_; }
  std::uint32_t document_count() const { return documents_; }
  const std::vector<ShardStatus>& shard_status() const { return status_; }
  std::uint64_t revision() const { return revision_; }
  // Shard servers configured amiss, as the last refresh found them (Searcher::configuration_warnings).
  std::vector<std::string> configuration_warnings() const;

 private:
  Coordinator(const SearcherOptions& options, std::unique_ptr<ShardTransport> transport)
      : options_(options), transport_(std::move(transport)) {}

  // One request per shard (none: that shard is skipped), sent at once; each shard's answer.
  // `if_up`: a shard whose replicas are all marked down is not asked (ShardTransport::call_if_up).
  // `first_call`: a failure is remembered for the calls that follow (failed_at_).
  std::vector<Result<ShardAnswer>> fan_out(const std::vector<std::optional<ShardRequest>>& requests,
                                           std::size_t& round_trips, bool if_up = false, bool first_call = false);
  // `failed`, by shard: on entry those left out from the start (each that failed this visitor's
  // search already: the corrected query's search after a misspelt one); on return also those
  // that failed this time. The answer's failed_shards names them all.
  Result<SearchResult> search_once(const SearchRequest& request, std::vector<bool>& failed);
  Result<bool> load_info(bool force);
  // A shard as answers and errors name it: its replicas' URLs.
  std::string shard_name(std::size_t shard) const;
  // The collection's statistics for the terms of `first`'s plan: cached, or asked of every
  // shard (a round trip each, counted in `round_trips`). Empty when no shard answered.
  // `unavailable`: each shard that no replica answered for (left as it is for the others).
  // Not asked: each shard whose `unavailable` is already set.
  Result<std::optional<CollectionStats>> stats_for(const ShardRequest& first, std::size_t& round_trips,
                                                   std::vector<std::optional<Error>>& unavailable);

  SearcherOptions options_;
  std::unique_ptr<ShardTransport> transport_;
  std::unique_ptr<WorkerGroup> workers_;  // a thread for each shard but the first, asked in the caller
  // What the shards up hold (recount()): their documents and topics, summed.
  std::vector<FacetValue> topics_;
  std::uint32_t documents_ = 0;
  // Each shard's documents and topics as its last info answer gave them; none while it is down.
  struct Figures {
    std::uint32_t documents = 0;
    std::vector<FacetValue> topics;
  };
  std::vector<std::optional<Figures>> figures_;
  // documents_ and topics_ from figures_, over the shards status_ says are up: a shard found
  // down (by the info refresh or by a search) is out of the counts at once, and with every
  // shard down they are 0 and none, not the last ones known.
  void recount();
  std::uint64_t revision_ = 0;          // what revision() says: never lower than before
  std::uint64_t summed_revision_ = 0;   // the shards' that answered the last refresh, summed
  std::vector<std::uint64_t> shard_revisions_;  // each shard's last known
  std::vector<std::vector<std::string>> shard_uuids_;  // each shard's databases' UUIDs, last known
  std::vector<ShardStatus> status_;
  // Shards whose every replica failed the last info refresh: their articles are not in
  // documents_ and topics_, so they are down in status_ too, whatever the transport's health
  // says (a hung last replica is never marked down: /readyz said "partial": false while the
  // topics left its articles out).
  std::vector<bool> info_missing_;
  // By shard: why it is left out though it answers (it answers from the same index as a shard
  // listed before it: its articles would be counted twice); empty when it is not.
  std::vector<std::string> left_out_;
  void take_status();  // status_ from the transport's health and info_missing_
  RankingSettings ranking_;  // ranking_settings() of this coordinator
  RankingSettings limits_;   // shard_limits() of this coordinator
  std::string mismatch_;  // a shard's other ranking settings, seen since start
  // By shard, the replicas (by URL) whose limits differ from this coordinator's, as their last
  // info answer said: how (settings_differ()), named in every answer's warnings and in
  // /readyz, and how they are stricter (stricter_limits()): a refusal (400) from such a replica
  // is its failure, not the visitor's error.
  struct ReplicaLimits {
    std::string differ, stricter;
  };
  std::vector<std::map<std::string, ReplicaLimits>> replica_limits_;
  // By shard, the replicas (by URL) that the last info refresh found at an older revision than
  // another replica's last known: at which, the newest, and since when (a replication that
  // is late after a commit, or stuck). Named in /readyz; searched only when no current replica
  // answers (ShardTransport::set_behind).
  struct Behind {
    std::uint64_t revision = 0, newest = 0;
    std::chrono::steady_clock::time_point since;
  };
  std::vector<std::map<std::string, Behind>> replica_behind_;
  // By shard, each replica's revision as its last info answer gave it (also while it is down).
  std::vector<std::map<std::string, std::uint64_t>> replica_revision_;
  std::string duplicate_;  // two shards answering from one index, seen since start
  std::string count_mismatch_;  // a shard of an index of more or fewer shards than listed
  std::string unguarded_;  // shard servers that check no secret while this coordinator sends one
  std::vector<std::string> not_ready_;  // shard servers whose own /readyz says not ready, and why
  std::chrono::steady_clock::time_point info_at_{};
  // When each shard last failed the info refresh or an article's call (no replica answered): the
  // first calls of a visitor's request, which the search or the related articles follow at
  // once. A call within a second of that asks it only if a replica is up
  // (ShardTransport::call_if_up): a hung shard cost such a request a deadline per call, 4 s
  // instead of 2. (A search's own calls leave out a shard that failed an earlier one.)
  std::vector<std::chrono::steady_clock::time_point> failed_at_;
};

}  // namespace mssearch
