// IndexStats: what an index holds, for `mssearch stats` and the server's /api/topics.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "schema/error.h"

namespace mssearch {

struct FacetValue {
  std::string value;
  std::uint32_t count = 0;
  bool operator==(const FacetValue&) const = default;
};

struct IndexStats {
  std::uint32_t documents = 0;
  std::vector<FacetValue> topics;  // every topic, by count (desc), then name
  std::string first_date, last_date;  // ISO dates; empty for an empty index
  std::uint64_t revision = 0;
  std::size_t shards = 1;  // DIR/shard-NN databases (1: not sharded)
  std::uintmax_t bytes = 0;           // size of the live database on disk
  std::string indexed_at;             // when the last job committed (UTC)
};

// Counts topics exactly over all documents (an article with three topics counts in each).
Result<IndexStats> index_stats(const std::filesystem::path& db_path);

nlohmann::json to_json(const IndexStats& stats);

}  // namespace mssearch
