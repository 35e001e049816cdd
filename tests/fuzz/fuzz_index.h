// Shared by the fuzz targets that need an index: the sample corpus indexed once per process
// into a temporary directory (removed at exit).
#pragma once

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "indexer/indexer.h"

namespace mssearch::fuzz {

inline std::filesystem::path sample_index() {
  static const std::filesystem::path dir = [] {
    char tmpl[] = "/tmp/mssearch-fuzz-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) std::abort();
    // Removed at exit; the root is kept in a string that is never destroyed, because atexit
    // handlers registered here run after this function's static is gone.
    static const char* root = strdup(tmpl);
    std::atexit([] { std::error_code ec; std::filesystem::remove_all(root, ec); });
    std::filesystem::path db = std::filesystem::path(tmpl) / "db";
    IndexerOptions options;
    options.db_path = db;
    auto report = run_index_job({std::filesystem::path(MSSEARCH_SOURCE_DIR) / "corpus"}, options);
    if (!report || report->documents == 0) {
      fmt::print(stderr, "fuzz: cannot index the sample corpus\n");
      std::abort();
    }
    return db;
  }();
  return dir;
}

}  // namespace mssearch::fuzz
