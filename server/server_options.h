// ServerOptions: everything `mssearch serve` can be told, with its default, built once from the
// YAML config file (see mssearch.example.yaml) and command-line overrides.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "cluster/http_shard_transport.h"
#include "schema/error.h"
#include "searcher/searcher.h"

namespace mssearch {

struct ServerOptions {
  SearcherOptions searcher;               // database, synonyms, snippet length, result caps
  std::string host = "127.0.0.1";         // loopback unless configured otherwise
  int port = 8080;                        // 0: any free port (printed at start)
  std::size_t threads = 8;                // worker threads, each with its own Searcher
  std::vector<std::string> cors_origins;  // origins allowed to call the API; "*" for any
  std::size_t default_per_page = 10;
  std::size_t max_request_bytes = 16 * 1024;  // request bodies (GET needs none): 413 beyond
  // A whole request, from its first byte (or from connecting) to its last: 408 and closed
  // after. Per request, not per read, so a client sending a byte a second is cut all the same.
  int request_timeout_seconds = 10;
  int write_timeout_seconds = 10;         // a whole answer; a client that does not read is cut
  int keep_alive_seconds = 60;            // an idle connection waits this long for its next request
  std::size_t keep_alive_requests = 1000; // requests on one connection before it is closed
  std::size_t max_connections = 1024;     // open at once; the oldest idle closed to make room
  std::size_t max_connections_per_client = 0;  // open at once from one address (0: no cap)
  std::size_t max_queued_requests = 256;  // whole requests waiting for a worker: 503 beyond
  // Answers kept for the same search of the same index revision, shared by the workers
  // (searcher/result_cache.h): this many at most, in about this many MiB. 0 entries: off.
  // Over a local index only (not a coordinator's shards, nor tcp:// ones).
  std::size_t result_cache_entries = 2000;
  std::size_t result_cache_mb = 64;
  bool access_log = true;                 // one line per request on stderr
  std::string site_name = "MS Research Summaries";
  // The site's address for /opensearch.xml. Empty: the request's Host header if it is a plain
  // host[:port], else the listening address (for development; set it in production).
  std::string public_url;
  // Where pages and the API link an article that names no URL of its own: a template with {id}
  // (e.g. https://site.example/articles/{id}) for a site that renders its own article pages.
  // Empty: the server's own article page, /articles/{id}.
  std::string article_url;
  // Search analytics (analytics/analytics.h): the SQLite file it writes; empty: off. What is
  // kept: normalised words, hit counts, clicked positions, times; never who searched.
  std::filesystem::path analytics_path;
  int analytics_retention_days = 90;
  std::size_t analytics_max_searches = 2'000'000;  // the newest kept (and as many clicks)
  // A shard server: also answers a coordinator's shard protocol on POST /internal/v1/shard
  // (searcher/shard_protocol.h). Not for the internet: bind it to a private address, or set
  // shard_secret (better both). Off by default.
  bool shard_server = false;
  // Required from coordinators as "Authorization: Bearer SECRET" when set; coordinators send
  // it too (cluster.secret). The environment's MSSEARCH_SHARD_SECRET overrides both.
  std::string shard_secret;
  // A coordinator: `shards` set, each a list of replica URLs, searched instead of any database.
  ClusterOptions cluster;
};

// Reads a YAML config file; unknown keys are errors (a typo should not be silently ignored).
// Errors name the file, line and key.
Result<ServerOptions> load_server_options(const std::filesystem::path& path);

}  // namespace mssearch
