// The coordinator's way to its shard servers: HTTP to `mssearch serve --shard-server`, one
// persistent connection per replica per Searcher. Each shard lists one or more replicas (copies
// kept by xapian-replicate, docs/scaling.md): calls go round the replicas in turn; a replica
// that fails or misses the deadline is marked down and the call goes to the next one within
// the same query (as Manticore's mirrors do). A replica marked down gets traffic again after
// `retry_seconds` (its probe: the next query's call); a shard with no replica up is left out of
// the answer, which names it (SearchResult::failed_shards). The last replica up of a shard is
// not marked down for missing a deadline while it answers other calls in time: it is slow, not
// gone, and the searches it misses are partial while the others are whole.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "schema/error.h"
#include "searcher/shard_protocol.h"

namespace mssearch {

struct ClusterOptions {
  // Each shard's replicas: http://HOST:PORT of servers with --shard-server.
  std::vector<std::vector<std::string>> shards;
  // Sent as "Authorization: Bearer SECRET" (the shard servers' shard_secret); empty: none.
  std::string secret;
  double connect_timeout_seconds = 1.0;
  double timeout_seconds = 2.0;  // for each answer: past it, the next replica is asked
  double retry_seconds = 1.0;    // a replica marked down gets traffic again after this long
};

// One shard's replicas as a command line lists them (`mssearch serve --shard URL,URL…`,
// `search_bench --shard-server`): the pieces between commas, as they are. An empty piece is kept
// so that check_cluster_options refuses it (`URL,,URL`), except after a last comma (`URL,`, as
// std::getline reads a list); an empty list gives no replica.
std::vector<std::string> parse_shard_replicas(std::string_view list);

// Errors: kIo naming a replica URL that is not http://HOST:PORT, or no shards. `at`, when
// given, is set to the shard and replica the error is about (a configuration file's error then
// names that entry's line, not the list's); the replica is npos for a shard's own problem.
struct ClusterProblemAt {
  std::size_t shard = 0, replica = static_cast<std::size_t>(-1);
};
Result<void> check_cluster_options(const ClusterOptions& options, ClusterProblemAt* at = nullptr);

// Makes a transport per Searcher (SearcherOptions::shard_transport); they share what is down.
std::function<std::unique_ptr<ShardTransport>()> http_shard_transports(const ClusterOptions& options);

// The internal endpoint's path, and the header its protocol version travels in.
inline constexpr const char* kShardEndpoint = "/internal/v1/shard";

}  // namespace mssearch
