// Fuzz target: the query path on the sample index. The first byte picks options (partial
// matching, sort, a topic filter, a page); the rest is the query as a visitor would type it.
// Parse, search, snippets, facets, did-you-mean, related and suggestions all run; a refused
// query must be refused with kBadQuery, nothing else.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "searcher/searcher.h"
#include "tests/fuzz/fuzz_index.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static mssearch::Searcher searcher = [] {
    mssearch::SearcherOptions options;
    options.db_path = mssearch::fuzz::sample_index();
    options.synonyms_path = std::filesystem::path(MSSEARCH_SOURCE_DIR) / "corpus" / "synonyms.yaml";
    auto s = mssearch::Searcher::open(options);
    if (!s) std::abort();
    return std::move(*s);
  }();
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  mssearch::SearchRequest request;
  request.query.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
  request.partial = (flags & 1) != 0;
  request.sort = (flags & 2) != 0 ? mssearch::SortOrder::kDate : mssearch::SortOrder::kRelevance;
  if ((flags & 4) != 0) request.topics = {"Astrocytes", "Remyelination"};
  if ((flags & 8) != 0) request.offset = 10;
  auto result = searcher.search(request);
  if (!result && result.error().code != mssearch::ErrorCode::kBadQuery) {
    fmt::print(stderr, "unexpected error: {}\n", result.error().message);
    std::abort();
  }
  auto suggestions = searcher.suggest(request.query);
  (void)suggestions;
  return 0;
}
