// Fuzz target: raw HTTP requests through the server's routing, parameter parsing, limits and
// handlers (mssearch::testing::handle_raw: no socket), on the sample index. Every answer must be a
// well-formed HTTP response with a status below 500.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "server/http_server.h"
#include "server/http_server_testing.h"
#include "tests/fuzz/fuzz_index.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static mssearch::HttpServer& server = *[] {
    mssearch::ServerOptions options;
    options.searcher.db_path = mssearch::fuzz::sample_index();
    options.searcher.synonyms_path = std::filesystem::path(MSSEARCH_SOURCE_DIR) / "corpus" / "synonyms.yaml";
    options.threads = 1;
    options.access_log = false;
    return new mssearch::HttpServer(options);
  }();
  const std::string response = mssearch::testing::handle_raw(server, {reinterpret_cast<const char*>(data), size});
  // No answer at all is fine (cpp-httplib drops what is not HTTP); a 5xx is a bug.
  if (response.size() >= 12 && response.starts_with("HTTP/1.1 5")) {
    fmt::print(stderr, "server error for this request:\n{}\n", response.substr(0, 400));
    std::abort();
  }
  return 0;
}
