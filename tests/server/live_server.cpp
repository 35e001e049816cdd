#include "tests/server/live_server.h"

#include <chrono>
#include <sstream>

#include <catch2/catch.hpp>

namespace mssearch::test {
namespace fs = std::filesystem;

LiveServer::LiveServer(bool build_index, std::vector<std::string> cors, const OptionsTweak& tweak) {
  fs::copy(corpus_dir(), articles, fs::copy_options::recursive);
  if (build_index) index();
  ServerOptions options;
  options.searcher.db_path = db;
  options.searcher.synonyms_path = articles / "synonyms.yaml";
  options.cors_origins = std::move(cors);
  options.threads = 4;
  options.access_log = false;
  options.port = 0;
  if (tweak) tweak(options);
  start(options);
}

LiveServer::LiveServer(const fs::path& index, const OptionsTweak& tweak) {
  ServerOptions options;
  options.searcher.db_path = index;
  options.searcher.synonyms_path = corpus_dir() / "synonyms.yaml";
  options.threads = 4;
  options.access_log = false;
  if (tweak) tweak(options);
  options.port = 0;
  start(options);
}

void LiveServer::start(ServerOptions options) {
  server = std::make_unique<HttpServer>(options);
  auto bound = server->bind();
  REQUIRE(bound);
  port = *bound;
  thread = std::thread([this] { server->run(); });
  for (int i = 0; i < 200 && !server->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(server->is_running());
}

LiveServer::~LiveServer() {
  server->stop();
  thread.join();
}

IndexReport LiveServer::index(bool full) {
  IndexerOptions io;
  io.db_path = db;
  io.full = full;
  auto r = run_index_job({articles}, io);
  REQUIRE(r);
  return *r;
}

httplib::Client LiveServer::client() const {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(5);
  c.set_read_timeout(10);
  return c;
}

httplib::Result LiveServer::get(const std::string& path, const httplib::Headers& headers) const {
  auto c = client();
  return c.Get(path, headers);
}

nlohmann::json LiveServer::get_json(const std::string& path, int expected_status) const {
  auto r = get(path);
  REQUIRE(r);
  INFO(path << " -> " << r->body);
  CHECK(r->status == expected_status);
  CHECK(r->get_header_value("Content-Type").starts_with("application/json"));
  return nlohmann::json::parse(r->body);
}

nlohmann::json LiveServer::wait_for_total(const std::string& path, int expected) const {
  nlohmann::json answer;
  for (int i = 0; i < 50; ++i) {
    answer = get_json(path);
    if (answer["total"] == expected) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return answer;
}

double LiveServer::metric(const std::string& sample) const {
  auto r = get("/metrics");
  if (!r) return -1;
  std::istringstream lines(r->body);
  for (std::string line; std::getline(lines, line);)
    if (line.starts_with(sample + " ")) return std::stod(line.substr(sample.size() + 1));
  return 0;
}

const fs::path& shared_index() {
  static TempDir dir;
  static const fs::path db = [] {
    IndexerOptions io;
    io.db_path = dir / "db";
    auto r = run_index_job({corpus_dir()}, io);
    REQUIRE(r);
    return io.db_path;
  }();
  return db;
}

}  // namespace mssearch::test
