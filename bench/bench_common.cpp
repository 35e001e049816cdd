#include "bench/bench_common.h"

#include <filesystem>

namespace mssearch::bench {

std::uint64_t directory_bytes(const std::string& path) {
  std::uint64_t n = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(path, ec))
    if (e.is_regular_file(ec)) n += e.file_size(ec);
  return n;
}

}  // namespace mssearch::bench
