#include "schema/index_path.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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
#include "schema/verify.h"

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

bool is_shard_dir_name(std::string_view name) {
  constexpr std::string_view kStem = "shard-";
  return name.size() >= kStem.size() + 2 && name.starts_with(kStem) &&
         std::all_of(name.begin() + kStem.size(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<std::size_t> recorded_shard_count(const fs::path& dir) {
  std::ifstream in(dir / "shards");
  std::size_t n = 0;
  if (!(in >> n) || n == 0 || n > 1000) return std::nullopt;
  return n;
}

Result<void> write_whole_file(const fs::path& path, std::string_view text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail(ErrorCode::kIo, "cannot write " + path.string() + ": " + std::strerror(errno));
  int why = 0;
  for (std::size_t done = 0; done < text.size() && why == 0;) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno != EINTR) why = errno;
    if (n > 0) done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0 && why == 0) why = errno;
  if (why == 0) return {};
  std::error_code ec;
  fs::remove(path, ec);
  return fail(ErrorCode::kIo, "cannot write " + path.string() + ": " + std::strerror(why));
}

Result<void> record_shard_count(const fs::path& dir, std::size_t shards) {
  if (recorded_shard_count(dir) == shards) return {};
  const fs::path temp = dir / "shards.tmp";
  if (auto written = write_whole_file(temp, std::to_string(shards) + "\n"); !written) return written;
  std::error_code ec;
  fs::rename(temp, dir / "shards", ec);
  if (!ec) return {};
  fs::remove(temp, ec);
  return fail(ErrorCode::kIo, "cannot write " + (dir / "shards").string() + ": " + ec.message());
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

// A shard folder copied over another's (the same database UUID): its articles would count twice.
std::optional<Error> copied_shard(const fs::path& dir) {
  const auto shards = shard_dirs(dir);
  if (shards.size() < 2) return std::nullopt;
  std::vector<std::pair<std::string, fs::path>> seen;
  for (const auto& shard : shards) {
    std::string uuid;
    try {
      uuid = Xapian::Database(shard.string()).get_uuid();
    } catch (const Xapian::Error&) {
      continue;  // opening it fails later, with its own message
    }
    for (const auto& [other, where] : seen)
      if (!uuid.empty() && uuid == other)
        return Error{ErrorCode::kCorrupt, fmt::format("index {}: {} is the same database as {} (a copy): its articles "
                                                      "would count twice; rebuild with `mssearch index --full`",
                                                      dir.string(), shard.filename().string(), where.filename().string())};
    seen.emplace_back(uuid, shard);
  }
  return std::nullopt;
}

}  // namespace

namespace {

std::optional<Error> stub_problem(const fs::path& dir) {
  const fs::path stub = dir / "XAPIANDB";
  // Xapian reads the rest of the line after "glass " as the name, a space or a carriage return
  // after it included (`gen-000002\r`, from an editor on Windows): every search failed with
  // DatabaseNotFoundError while `check`, which trims, said the index was whole.
  std::ifstream in(stub);
  for (std::string line; std::getline(in, line);) {
    const std::size_t begin = line.find_first_not_of(" \t");
    if (begin == std::string::npos || line[begin] == '#') continue;
    if (const std::size_t end = line.find_last_not_of(" \t\r\n"); end + 1 != line.size())
      return Error{ErrorCode::kCorrupt,
                   fmt::format("the index is damaged: {}: its line '{}' ends in a space or a carriage return, which "
                               "Xapian reads as part of the name: write it without (one line 'glass gen-NNNNNN'), or rebuild with "
                               "`mssearch index --full`",
                               stub.string(), line.substr(0, end + 1))};
    break;
  }
  // Read again when its generation holds no database: two `--full` jobs publishing in between
  // remove the generation it named (a job keeps the live one and the one before), which is no
  // damage.
  for (int attempt = 0;; ++attempt) {
    const auto live = live_database_dir(dir);
    if (!live)
      return Error{ErrorCode::kCorrupt,
                   fmt::format("the index is damaged: {} names no database (empty or garbled): restore it (one line "
                               "'glass gen-NNNNNN', the newest generation `mssearch check --db {}/gen-NNNNNN` accepts) "
                               "or rebuild with `mssearch index --full`",
                               stub.string(), dir.string())};
    std::error_code live_ec;
    if (fs::exists(*live / "iamglass", live_ec) || live_ec) return std::nullopt;
    if (attempt < 3 && live_database_dir(dir) != live) continue;
    return Error{ErrorCode::kCorrupt,
                 fmt::format("the index is damaged: {} names {}, which holds no database (deleted or moved?): restore "
                             "it, or rebuild with `mssearch index --full`",
                             stub.string(), live->filename().string())};
  }
}

}  // namespace

std::optional<Error> index_layout_problem(const fs::path& dir) {
  std::error_code ec;
  // A stub that names no database (empty or garbled), or a generation that holds none (deleted
  // by hand, the wrong one): damage, named so by every command. Searches said "no index, build
  // one" or gave Xapian's DatabaseNotFoundError, check exited 2, the job gave database_error.
  // (A stub or generation this user may not read is io_error: index_access_problem.)
  if (fs::exists(dir / "XAPIANDB", ec) && std::ifstream(dir / "XAPIANDB").good())
    if (auto problem = stub_problem(dir)) return problem;
  // Lost only if a job ever finished here (it writes DIR/revision after publishing the stub):
  // generations without either are a first build's, interrupted (the next run starts afresh)
  // or still running (its lock says so).
  if (!fs::exists(dir / "XAPIANDB", ec) && !fs::exists(dir / "iamglass", ec) && fs::exists(dir / "revision", ec)) {
    if (const auto generations = generation_names(dir); !generations.empty())
      return Error{ErrorCode::kCorrupt,
                   fmt::format("index {} has no XAPIANDB naming its live database, but holds {}: restore it (one line "
                               "'glass gen-NNNNNN', the newest generation `mssearch check --db {}/gen-NNNNNN` accepts) "
                               "or rebuild with `mssearch index --full`",
                               dir.string(), fmt::join(generations, ", "), dir.string())};
  }
  const auto recorded = recorded_shard_count(dir);
  if (!recorded && fs::exists(dir / "shards", ec))
    return Error{ErrorCode::kCorrupt, fmt::format("index {}: its file 'shards' does not hold the number of shards (1 to 1000): "
                                                  "write it back (one line, the number of shard-NN folders the index has) "
                                                  "or rebuild with `mssearch index --full`",
                                                  dir.string())};
  if (!recorded) {
    if (!live_database_dir(dir)) {
      for (const auto& shard : shard_dirs(dir))
        if (auto problem = index_layout_problem(shard)) return problem;
      // Sharded before the count was recorded: a gap in the numbers is a lost shard.
      const std::size_t found = shard_dirs(dir).size();
      if (found > 0)
        for (std::size_t i = found + 1; i < found + 64; ++i)
          if (fs::is_directory(shard_dir(dir, i), ec))
            return Error{ErrorCode::kCorrupt, fmt::format("index {}: {} is missing (there is {}): restore it, or rebuild the "
                                                          "index with `mssearch index --full`",
                                                          dir.string(), shard_dir(dir, found).filename().string(),
                                                          shard_dir(dir, i).filename().string())};
      if (auto copy = copied_shard(dir)) return copy;
    }
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
  return copied_shard(dir);
}

std::optional<Error> inside_sharded_index(const fs::path& dir) {
  std::error_code canonical_ec;
  fs::path absolute = fs::weakly_canonical(fs::absolute(dir), canonical_ec);  // through links too
  if (canonical_ec) absolute = fs::absolute(dir).lexically_normal();
  const fs::path self = absolute.has_filename() ? absolute : absolute.parent_path();
  const std::string name = self.filename().string();
  if (!is_shard_dir_name(name)) return std::nullopt;
  const fs::path parent = self.parent_path();
  std::error_code ec;
  // A sharded index records its count; one from before that has its spelling database beside
  // the shards (independent indexes merely named shard-NN do not).
  if (!recorded_shard_count(parent) &&
      !(fs::is_directory(shard_dir(parent, 0), ec) && fs::is_directory(shard_dir(parent, 1), ec) &&
        fs::is_directory(spelling_dir(parent), ec)))
    return std::nullopt;
  return Error{ErrorCode::kIo, fmt::format("{} is one shard of the sharded index {}: index into {} (a shard written "
                                           "alone takes in the articles of the others)",
                                           dir.string(), parent.string(), parent.string())};
}

std::optional<Error> replica_of_another_index(const fs::path& dir) {
  std::vector<fs::path> dirs{dir};
  for (const auto& shard : shard_dirs(dir)) dirs.push_back(shard);
  for (const auto& d : dirs) {
    // xapian-replicate's stub names the live copy replica_N (mssearch's own generations are
    // gen-NNNNNN); a plain database (no stub) in a folder so named is no replica.
    std::error_code ec;
    if (!fs::exists(d / "XAPIANDB", ec)) continue;
    const auto live = live_database_dir(d);
    if (!live || !live->filename().string().starts_with("replica_")) continue;
    return Error{ErrorCode::kIo,
                 fmt::format("{} is a replica that xapian-replicate keeps ({} names {}): index the primary it follows, "
                             "never the replica (a commit here breaks its next changeset)",
                             dir.string(), (d / "XAPIANDB").string(), live->filename().string())};
  }
  return std::nullopt;
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

namespace {

// `db`, opened at DIR, when it is another program's: also nothing on disk mssearch writes (a
// stub naming a generation, DIR/revision, the tables' checksums), so that an index whose
// metadata cannot be read (damage) is never taken for one.
std::optional<Error> foreign_database_problem(const fs::path& dir, const Xapian::Database& db) {
  const auto live = live_database_dir(dir);
  std::error_code ec;
  if (!live || live->filename().string().starts_with("gen-") || fs::exists(dir / "revision", ec) ||
      fs::exists(*live / kChecksumFile, ec) || !schema::is_foreign_database(db))
    return std::nullopt;
  return schema::foreign_database_error(dir.string());
}

}  // namespace

std::optional<Error> foreign_database_problem(const fs::path& dir) {
  if (!live_database_dir(dir)) return std::nullopt;
  try {
    return foreign_database_problem(dir, Xapian::Database(dir.string()));
  } catch (const Xapian::Error&) {
    return std::nullopt;  // opening it fails later, with its own message
  }
}

Result<Xapian::Database> open_index(const fs::path& dir) {
  if (auto problem = index_layout_problem(dir)) return std::unexpected(std::move(*problem));
  if (!live_database_dir(dir) && !shard_dirs(dir).empty()) {
    Xapian::Database all;
    for (const auto& shard : shard_dirs(dir)) {
      auto one = open_index(shard);
      if (!one) return one;
      all.add_database(*one);
    }
    return all;
  }
  if (auto problem = index_access_problem(dir)) return std::unexpected(std::move(*problem));
  if (!live_database_dir(dir))
    return fail(ErrorCode::kIndexMissing, "no index at " + dir.string() +
                                              ": build one with `mssearch index corpus/ --db " +
                                              dir.string() + "` (a replica's comes with xapian-replicate's first copy: never index into it)");
  try {
    Xapian::Database db(dir.string());
    if (auto foreign = foreign_database_problem(dir, db)) return std::unexpected(std::move(*foreign));
    if (auto ok = schema::check_version(db); !ok) return std::unexpected(ok.error());
    return db;
  } catch (const Xapian::Error& e) {
    return fail(schema::error_code_of(e), "cannot open index " + dir.string() + ": " + e.get_description());
  }
}

}  // namespace mssearch
