#include "bench/bench_common.h"

#include <filesystem>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

namespace mssearch::bench {

void add_collection_options(CLI::App& app, CollectionOptions& options) {
  app.add_option("--articles", options.articles, "Articles to generate (default 10000)");
  app.add_option("--queries", options.queries, "Queries in the mix (default 600)");
  app.add_option("--seed", options.seed, "Generator seed (default 42)");
}

bool refuse_used_dir(std::string_view tool, const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec) || (std::filesystem::is_directory(dir, ec) && std::filesystem::is_empty(dir, ec)))
    return false;
  fmt::print(stderr, "{}: --dir {}: exists and is not an empty directory (it would be wiped): give a new one\n", tool, dir);
  return true;
}

std::uint64_t directory_bytes(const std::string& path) {
  std::uint64_t n = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(path, ec))
    if (e.is_regular_file(ec)) n += e.file_size(ec);
  return n;
}

nlohmann::json index_json(std::size_t articles, double index_ms, double rss_before_mib, double rss_after_mib,
                          std::uint64_t corpus_bytes, const std::string& index_dir) {
  const double seconds = index_ms / 1000;
  return {{"index_seconds", seconds},
          {"index_docs_per_s", static_cast<double>(articles) / seconds},
          {"index_mb_per_s", static_cast<double>(corpus_bytes) / 1e6 / seconds},
          {"index_peak_rss_mib", rss_after_mib},
          {"rss_before_index_mib", rss_before_mib},
          {"corpus_bytes", corpus_bytes},
          {"index_bytes", directory_bytes(index_dir)}};
}

}  // namespace mssearch::bench
