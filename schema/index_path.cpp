#include "schema/index_path.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <xxhash.h>

#include "schema/schema.h"

namespace mssearch {
namespace fs = std::filesystem;

std::optional<fs::path> live_database_dir(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir / "XAPIANDB", ec)) {
    // "BACKEND NAME" lines; '#' comments (xapian-replicate writes some) are skipped.
    std::ifstream in(dir / "XAPIANDB");
    for (std::string line; std::getline(in, line);) {
      std::istringstream words(line);
      std::string backend, name;
      if (!(words >> backend) || backend.starts_with('#')) continue;
      if (words >> name) return dir / name;
    }
    return std::nullopt;
  }
  if (fs::exists(dir / "iamglass", ec)) return dir;
  return std::nullopt;
}

std::vector<fs::path> shard_dirs(const fs::path& dir) {
  std::vector<fs::path> out;
  if (const auto recorded = recorded_shard_count(dir)) {
    for (std::size_t i = 0; i < *recorded; ++i) out.push_back(shard_dir(dir, i));
    return out;
  }
  for (std::size_t i = 0;; ++i) {
    std::error_code ec;
    if (!fs::is_directory(shard_dir(dir, i), ec)) break;
    out.push_back(shard_dir(dir, i));
  }
  return out;
}

fs::path shard_dir(const fs::path& dir, std::size_t shard) { return dir / fmt::format("shard-{:02}", shard); }

std::optional<std::size_t> recorded_shard_count(const fs::path& dir) {
  std::ifstream in(dir / "shards");
  std::size_t n = 0;
  if (!(in >> n) || n == 0 || n > 1000) return std::nullopt;
  return n;
}

void record_shard_count(const fs::path& dir, std::size_t shards) {
  if (recorded_shard_count(dir) == shards) return;
  const fs::path temp = dir / "shards.tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << shards << "\n";
    if (!out.flush()) return;
  }
  std::error_code ec;
  fs::rename(temp, dir / "shards", ec);
}

namespace {

std::vector<std::string> generation_names(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() == 10 && name.starts_with("gen-") && entry.is_directory(ec) &&
        std::all_of(name.begin() + 4, name.end(), [](char c) { return c >= '0' && c <= '9'; }))
      out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::optional<Error> index_layout_problem(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir / "XAPIANDB", ec) && !fs::exists(dir / "iamglass", ec)) {
    if (const auto generations = generation_names(dir); !generations.empty())
      return Error{ErrorCode::kCorrupt,
                   fmt::format("index {} has no XAPIANDB naming its live database, but holds {}: restore it (one line "
                               "'glass gen-NNNNNN', the newest generation `mssearch check --db {}/gen-NNNNNN` accepts) "
                               "or rebuild with `mssearch index --full`",
                               dir.string(), fmt::join(generations, ", "), dir.string())};
  }
  const auto recorded = recorded_shard_count(dir);
  if (!recorded) {
    if (!live_database_dir(dir))
      for (const auto& shard : shard_dirs(dir))
        if (auto problem = index_layout_problem(shard)) return problem;
    return std::nullopt;
  }
  for (std::size_t i = 0; i < *recorded; ++i)
    if (!fs::is_directory(shard_dir(dir, i), ec))
      return Error{ErrorCode::kCorrupt, fmt::format("index {} has {} shards, and {} is missing: restore it, or rebuild "
                                                    "the index with `mssearch index --full`",
                                                    dir.string(), *recorded, shard_dir(dir, i).filename().string())};
  if (fs::exists(shard_dir(dir, *recorded), ec))
    return Error{ErrorCode::kCorrupt, fmt::format("index {} has {} shards; {} is none of them (a copy would count its "
                                                  "articles twice): move it out of the index",
                                                  dir.string(), *recorded, shard_dir(dir, *recorded).filename().string())};
  for (std::size_t i = 0; i < *recorded; ++i)
    if (auto problem = index_layout_problem(shard_dir(dir, i))) return problem;
  return std::nullopt;
}

std::optional<Error> inside_sharded_index(const fs::path& dir) {
  const fs::path absolute = fs::absolute(dir).lexically_normal();
  const fs::path self = absolute.has_filename() ? absolute : absolute.parent_path();
  const std::string name = self.filename().string();
  if (name.size() != 8 || !name.starts_with("shard-") || !std::isdigit(static_cast<unsigned char>(name[6])) ||
      !std::isdigit(static_cast<unsigned char>(name[7])))
    return std::nullopt;
  const fs::path parent = self.parent_path();
  std::error_code ec;
  if (!recorded_shard_count(parent) && !(fs::is_directory(shard_dir(parent, 0), ec) && fs::is_directory(shard_dir(parent, 1), ec)))
    return std::nullopt;
  return Error{ErrorCode::kIo, fmt::format("{} is one shard of the sharded index {}: index into {} (a shard written "
                                           "alone takes in the articles of the others)",
                                           dir.string(), parent.string(), parent.string())};
}

fs::path spelling_dir(const fs::path& dir) { return dir / "spelling"; }

std::size_t shard_of(const std::string& id, std::size_t shards) {
  if (shards <= 1) return 0;
  return static_cast<std::size_t>(XXH3_64bits(id.data(), id.size()) % shards);
}

std::string index_identity(const fs::path& dir) {
  if (!live_database_dir(dir)) {
    std::string joined;
    for (const auto& shard : shard_dirs(dir)) joined += index_identity(shard) + ";";
    return joined;
  }
  struct stat st {};
  const auto live = live_database_dir(dir);
  if (!live || ::stat((dir / "XAPIANDB").c_str(), &st) != 0) return live ? live->string() : "";
  return live->string() + ":" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_mtim.tv_sec) +
         "." + std::to_string(st.st_mtim.tv_nsec);
}

bool names_a_file(const fs::path& dir) {
  // `afile/` too: the slash makes the path itself unreachable (ENOTDIR), not a directory.
  const fs::path path = dir.has_filename() ? dir : dir.parent_path();
  std::error_code ec;
  return !path.empty() && fs::exists(path, ec) && !fs::is_directory(path, ec);
}

std::optional<Error> index_access_problem(const fs::path& dir) {
  // A file where the index's directory belongs (a typo, an article named instead): the README's
  // io_error, not "no index" with a suggestion to build one there, which then fails too.
  if (names_a_file(dir)) return Error{ErrorCode::kIo, "cannot open index " + dir.string() + ": it is a file, not an index directory"};
  if (live_database_dir(dir)) return std::nullopt;
  // An index this user may not read (a directory without permission, or its XAPIANDB) is not
  // a missing one: "no index ... build one there" sent the operator to rebuild it.
  for (const char* name : {"XAPIANDB", "iamglass"}) {
    struct stat st {};
    const fs::path path = dir / name;
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) continue;
      return Error{ErrorCode::kIo, "cannot read index " + dir.string() + ": " + std::strerror(errno)};
    }
    if (std::ifstream probe(path); !probe)
      return Error{ErrorCode::kIo, "cannot read index " + dir.string() + ": " + path.filename().string() + ": " + std::strerror(errno)};
  }
  return std::nullopt;
}

Result<Xapian::Database> open_index(const fs::path& dir) {
  if (auto problem = index_layout_problem(dir)) return std::unexpected(std::move(*problem));
  if (!live_database_dir(dir) && !shard_dirs(dir).empty()) {
    Xapian::Database all;
    std::vector<std::pair<std::string, fs::path>> uuids;
    for (const auto& shard : shard_dirs(dir)) {
      auto one = open_index(shard);
      if (!one) return one;
      // A shard folder copied over another's (or two pointing at one database) would count
      // its articles twice.
      const std::string uuid = one->get_uuid();
      for (const auto& [other, where] : uuids)
        if (!uuid.empty() && uuid == other)
          return fail(ErrorCode::kCorrupt, fmt::format("index {}: {} is the same database as {} (a copy): its articles "
                                                       "would count twice; rebuild with `mssearch index --full`",
                                                       dir.string(), shard.filename().string(), where.filename().string()));
      uuids.emplace_back(uuid, shard);
      all.add_database(*one);
    }
    return all;
  }
  if (auto problem = index_access_problem(dir)) return std::unexpected(std::move(*problem));
  if (!live_database_dir(dir))
    return fail(ErrorCode::kIndexMissing, "no index at " + dir.string() +
                                              ": build one with `mssearch index corpus/ --db " +
                                              dir.string() + "`");
  try {
    Xapian::Database db(dir.string());
    if (auto ok = schema::check_version(db); !ok) return std::unexpected(ok.error());
    return db;
  } catch (const Xapian::Error& e) {
    return fail(schema::error_code_of(e), "cannot open index " + dir.string() + ": " + e.get_description());
  }
}

}  // namespace mssearch
