// HttpServer: what the website talks to. JSON API (the searcher's own JSON), a server-rendered
// search page enhanced by a small script, an embeddable widget, OpenSearch, health, readiness
// and Prometheus metrics. cpp-httplib parses, routes and writes; the sockets, deadlines and
// worker threads are the connection gate's (connection_gate.h), which hands a worker only whole
// requests. Each request is served by its own Searcher. See README "The HTTP server".
//
// Thread-safety: bind() and run() from one thread; stop() from any thread (e.g. a signal
// thread). run() returns after requests in flight have finished.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "schema/error.h"
#include "server/server_options.h"

namespace mssearch {

class HttpServer;

// `host` as a URL names it: an IPv6 literal in brackets (`::1` is `[::1]`, as in
// `http://[::1]:8080/`), any other host as it is.
std::string url_host(std::string_view host);

namespace testing {
std::string handle_raw(HttpServer& server, std::string_view request);  // server/http_server_testing.h
}

class HttpServer {
 public:
  explicit HttpServer(const ServerOptions& options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the listening socket; returns the port (useful with port 0). Errors: kIo, naming the
  // address and the reason ("cannot listen on 127.0.0.1:8080: Address already in use").
  Result<int> bind();
  // Serves until stop(). Returns false if the server could not run.
  bool run();
  void stop();
  bool is_running() const;

  // Index state for the start-up message: (documents, revision), or the reason it is not ready.
  Result<std::pair<unsigned, unsigned>> index_state();
  // For the start-up message too: each shard (database or shard server) that is down or has a
  // failing replica, "NAME: why", as /readyz names them.
  std::vector<std::string> shard_problems();
  // How many of those are down (their articles are not in index_state()'s count).
  std::size_t shards_down();
  // Shard servers configured amiss (Searcher::configuration_warnings), for the start-up message.
  std::vector<std::string> configuration_warnings();

 private:
  friend std::string testing::handle_raw(HttpServer& server, std::string_view request);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mssearch
