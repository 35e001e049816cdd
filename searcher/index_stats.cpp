#include "searcher/index_stats.h"

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "schema/index_path.h"
#include "schema/schema.h"
#include "searcher/facet_counter.h"

namespace mssearch {
namespace fs = std::filesystem;

namespace {

std::string iso_date(const std::string& yyyymmdd) {
  if (yyyymmdd.size() != 8) return yyyymmdd;
  return yyyymmdd.substr(0, 4) + "-" + yyyymmdd.substr(4, 2) + "-" + yyyymmdd.substr(6, 2);
}

}  // namespace

Result<IndexStats> index_stats(const fs::path& db_path) {
  auto db = open_index(db_path);
  if (!db) return std::unexpected(db.error());
  try {
    IndexStats stats;
    stats.documents = db->get_doccount();
    if (const auto shards = shard_dirs(db_path); !live_database_dir(db_path) && !shards.empty()) {
      stats.shards = shards.size();
      for (const auto& shard : shards)
        if (auto one = open_index(shard)) stats.revision += schema::revision(*one);
    } else {
      stats.revision = schema::revision(*db);
    }
    stats.indexed_at = db->get_metadata(std::string(schema::kMetaIndexedAt));
    // Read from the dates themselves: Xapian's value bounds are bounds, not the values held (an
    // update or a deletion never narrows them), so the newest article deleted was still "last".
    std::string first, last;
    for (auto v = db->valuestream_begin(schema::kSlotDate); v != db->valuestream_end(schema::kSlotDate); ++v) {
      const std::string date = *v;
      if (first.empty() || date < first) first = date;
      if (last.empty() || date > last) last = date;
    }
    stats.first_date = iso_date(first);
    stats.last_date = iso_date(last);
    std::map<std::string, Xapian::doccount> counts;
    for (auto v = db->valuestream_begin(schema::kSlotTopics); v != db->valuestream_end(schema::kSlotTopics); ++v)
      for (auto& topic : schema::decode_topic_set(*v)) ++counts[topic];
    stats.topics = sorted_facets(counts);  // spellings one filter finds alike counted as one topic
    std::error_code ec;
    std::vector<fs::path> lives;
    if (auto live = live_database_dir(db_path)) lives.push_back(*live);
    for (const auto& shard : shard_dirs(db_path))
      if (auto live = live_database_dir(shard)) lives.push_back(*live);
    for (const auto& live : lives)
      for (const auto& entry : fs::directory_iterator(live, ec))
        if (entry.is_regular_file(ec)) stats.bytes += entry.file_size(ec);
    return stats;
  } catch (const Xapian::Error& e) {
    return fail(ErrorCode::kDatabase, "reading index " + db_path.string() + ": " + e.get_description());
  }
}

nlohmann::json to_json(const IndexStats& s) {
  nlohmann::json topics = nlohmann::json::array();
  for (const auto& t : s.topics) topics.push_back({{"value", t.value}, {"count", t.count}});
  // An index without articles has no dates: null, not "" (which a script would read as one).
  const auto date = [](const std::string& d) { return d.empty() ? nlohmann::json() : nlohmann::json(d); };
  return {{"documents", s.documents}, {"topics", topics},
          {"first_date", date(s.first_date)}, {"last_date", date(s.last_date)},
          {"revision", s.revision},   {"bytes", s.bytes}, {"shards", s.shards},
          {"indexed_at", s.indexed_at}};
}

}  // namespace mssearch
