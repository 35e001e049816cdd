// A real HttpServer for the server tests: on 127.0.0.1 at any free port, over an index of the
// sample corpus, run on a thread of its own and stopped on destruction.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "indexer/indexer.h"
#include "server/http_server.h"
#include "tests/test_support.h"

namespace mssearch::test {

using OptionsTweak = std::function<void(ServerOptions&)>;

struct LiveServer {
  TempDir tmp;
  std::filesystem::path articles = tmp / "articles";
  std::filesystem::path db = tmp / "db";
  std::unique_ptr<HttpServer> server;
  std::thread thread;
  int port = 0;

  // Its own copy of the corpus (indexed unless build_index is false), 4 threads, no access log.
  explicit LiveServer(bool build_index = true, std::vector<std::string> cors = {}, const OptionsTweak& tweak = {});
  // Serves an index built elsewhere (shared_index()), with the options tweaked.
  LiveServer(const std::filesystem::path& index, const OptionsTweak& tweak);
  ~LiveServer();

  IndexReport index(bool full = false);
  httplib::Client client() const;
  httplib::Result get(const std::string& path, const httplib::Headers& headers = {}) const;
  nlohmann::json get_json(const std::string& path, int expected_status = 200) const;
  // Polls until `path` answers with total == expected (the pool rechecks the index each second).
  nlohmann::json wait_for_total(const std::string& path, int expected) const;
  // The value of a Prometheus sample line of /metrics (e.g. `name{label="x"}`), 0 if absent.
  double metric(const std::string& sample) const;

 private:
  void start(ServerOptions options);
};

// An index of the sample corpus built once per test process, for servers that only read it.
const std::filesystem::path& shared_index();

}  // namespace mssearch::test
