#include "schema/verify.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <xxhash.h>

#include "schema/article.h"
#include "schema/index_path.h"
#include "schema/schema.h"

namespace mssearch {
namespace fs = std::filesystem;

namespace {

class DamageList {
 public:
  DamageList(VerifyReport& report, std::size_t max) : report_(report), max_(max) {}
  void add(std::string what, std::string message) {
    if (report_.damage.size() < max_) report_.damage.push_back({std::move(what), std::move(message)});
    ++report_.damaged_total;
  }

 private:
  VerifyReport& report_;
  std::size_t max_;
};

// The table files Xapian writes (not the lock, not our own checksum file).
std::vector<fs::path> table_files(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".glass") || name == "iamglass") out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// XXH3-64 of a whole file, or an error message.
std::expected<std::string, std::string> file_checksum(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::unexpected(std::strerror(errno));
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  std::vector<char> buffer(1 << 20);
  std::string error;
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) error = std::strerror(errno);
    if (n <= 0) break;
    XXH3_64bits_update(state, buffer.data(), static_cast<std::size_t>(n));
  }
  const auto digest = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  ::close(fd);
  if (!error.empty()) return std::unexpected(error);
  return fmt::format("{:016x}", digest);
}

void check_stored(const Xapian::Database& db, DamageList& damage) {
  // The id terms: each names one document, and each document has one.
  std::map<Xapian::docid, std::string> ids;
  const std::string prefix(schema::kIdPrefix);
  for (auto t = db.allterms_begin(prefix); t != db.allterms_end(prefix); ++t) {
    const std::string id = (*t).substr(prefix.size());
    Xapian::doccount postings = 0;
    for (auto p = db.postlist_begin(*t); p != db.postlist_end(*t); ++p) {
      ++postings;
      auto [it, inserted] = ids.emplace(*p, id);
      if (!inserted)
        damage.add(fmt::format("document {}", *p), fmt::format("two ids: '{}' and '{}'", it->second, id));
    }
    if (postings != 1) damage.add(fmt::format("article '{}'", id), fmt::format("its id term names {} documents", postings));
  }
  // Every document: its id, its stored article (the zstd checksums of both frames), its
  // feedback terms.
  for (auto p = db.postlist_begin(""); p != db.postlist_end(""); ++p) {
    const Xapian::docid docid = *p;
    const auto known = ids.find(docid);
    const std::string what = known != ids.end() ? fmt::format("article '{}' (document {})", known->second, docid)
                                                : fmt::format("document {}", docid);
    if (known == ids.end()) damage.add(what, "no id term names it");
    try {
      const Xapian::Document doc = db.get_document(docid);
      const Article article = decode_stored(doc.get_data());
      if (known != ids.end() && article.id != known->second)
        damage.add(what, fmt::format("its stored article is '{}'", article.id));
      // The values filters, facets and sorting read, against the stored article they came from
      // (a changed byte in a value stream is well formed to Xapian's checker).
      const std::pair<Xapian::valueno, std::string> values[] = {
          {schema::kSlotDate, schema::date_value(article.date)},
          {schema::kSlotYear, std::to_string(article.year())},
          {schema::kSlotTopics, schema::encode_topic_set(article.topics)},
          {schema::kSlotJournal, article.journal},
          {schema::kSlotSource, article.source},
      };
      for (const auto& [slot, expected] : values)
        if (doc.get_value(slot) != expected)
          damage.add(what, fmt::format("its value in slot {} does not match its stored article", slot));
      if (!schema::decode_feedback_terms(doc.get_value(schema::kSlotFeedbackTerms), [](const std::string&, Xapian::termcount) {}))
        damage.add(what, "its feedback terms are damaged");
    } catch (const Xapian::Error& e) {
      damage.add(what, e.get_description());
    } catch (const std::exception& e) {
      damage.add(what, std::string("stored article: ") + e.what());
    }
  }
  if (ids.size() != db.get_doccount())
    damage.add("id terms", fmt::format("{} ids for {} documents", ids.size(), db.get_doccount()));
}

struct CheckerRun {
  bool clean = true;
  std::string where;    // "table postlist.glass", or "database"
  std::string problem;  // the checker's first line that names one
};

// Xapian's checker (xapian-check, from xapian-tools) over every table of a database and across
// them, in a process of its own: on damaged data the checker in libxapian 1.4 can misbehave
// (AddressSanitizer caught a mismatched delete inside Database::check on a damaged table), and
// it must not take the index job or the command with it. Its output names each table before
// checking it ("postlist:"), then what it found.
Result<CheckerRun> run_xapian_check(const fs::path& glass_dir) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return fail(ErrorCode::kIo, std::string("pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  const std::string target = glass_dir.string();
  char* const argv[] = {const_cast<char*>("xapian-check"), const_cast<char*>(target.c_str()), nullptr};
  pid_t pid = 0;
  const int spawned = ::posix_spawnp(&pid, "xapian-check", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (spawned != 0) {
    ::close(out[0]);
    return fail(ErrorCode::kIo, std::string("cannot run xapian-check (Debian package xapian-tools): ") + std::strerror(spawned));
  }
  std::string output;
  char buffer[8192];
  for (;;) {
    const ssize_t n = ::read(out[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (output.size() < (1u << 20)) output.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  CheckerRun run;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return run;
  run.clean = false;
  run.where = "database";
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == ':' && line.find(' ') == std::string::npos) {
      run.where = "table " + line.substr(0, line.size() - 1) + ".glass";
    } else if (line.find("rror") != std::string::npos || line.find("amage") != std::string::npos ||
               line.find("orrupt") != std::string::npos) {
      run.problem = line.starts_with("xapian-check: ") ? line.substr(14) : line;
      break;
    }
  }
  // Xapian 1.4's checker opens each table read/write: on an index the user may read but not
  // write (a monitoring user, the server's), or on a read-only file system (a container's
  // read-only mount), it fails before reading anything. That says nothing about damage, so it
  // is an error of the check, not a finding.
  if (run.problem.find("DatabaseOpeningError") != std::string::npos &&
      (run.problem.find(std::strerror(EACCES)) != std::string::npos ||
       run.problem.find(std::strerror(EROFS)) != std::string::npos))
    return fail(ErrorCode::kIo, "cannot verify " + glass_dir.string() +
                                    ": Xapian's checker opens the table files for writing and was refused (" +
                                    run.problem + "); run the check as a user who may write the index, "
                                    "where it is mounted writable");
  if (run.problem.empty())
    run.problem = WIFSIGNALED(status) ? fmt::format("Xapian's checker died of signal {}", WTERMSIG(status))
                                      : "Xapian's checker found errors";
  return run;
}

}  // namespace

std::vector<fs::path> glass_directories(const fs::path& index_dir) {
  std::vector<fs::path> out;
  if (auto live = live_database_dir(index_dir)) return {*live};
  for (const auto& shard : shard_dirs(index_dir))
    if (auto live = live_database_dir(shard)) out.push_back(*live);
  if (!out.empty())
    if (auto spelling = live_database_dir(spelling_dir(index_dir))) out.push_back(*spelling);
  return out;
}

Result<VerifyReport> verify_database(const fs::path& glass_dir, const VerifyOptions& options) {
  VerifyReport report;
  report.database = glass_dir;
  DamageList damage(report, options.max_reported);
  std::error_code ec;
  if (!fs::exists(glass_dir / "iamglass", ec))
    return fail(ErrorCode::kIndexMissing, "no glass database at " + glass_dir.string());

  bool cannot_open = false;  // what the checker said of the whole database, not said twice
  if (options.xapian_check) {
    auto run = run_xapian_check(glass_dir);
    if (!run) return std::unexpected(run.error());
    if (!run->clean && run->where == "database") {
      // The database would not open (a table cut short: "EOF reading block 2"): which table is
      // it? The checker, given each table file alone, names it.
      std::size_t named = 0;
      for (const char* table : {"postlist", "docdata", "termlist", "position", "spelling"}) {
        const fs::path file = glass_dir / (std::string(table) + ".glass");
        std::error_code exists_ec;
        if (!fs::exists(file, exists_ec)) continue;
        auto alone = run_xapian_check(file);
        if (alone && !alone->clean) {
          damage.add(fmt::format("table {}.glass", table), alone->problem);
          ++named;
        }
      }
      if (named == 0) damage.add(run->where, run->problem);
      cannot_open = true;
    } else if (!run->clean) {
      damage.add(run->where, run->problem);
    }
  }
  // The tables every mssearch index has once it holds an article (Xapian opens a database
  // without some of them, and only fails when they are needed).
  // Spelling too: every article adds its words to it ("did you mean" went silent without it).
  for (const char* table : {"postlist", "docdata", "termlist", "position", "spelling"}) {
    std::error_code exists_ec;
    if (!fs::exists(glass_dir / (std::string(table) + ".glass"), exists_ec) && fs::exists(glass_dir / "docdata.glass", exists_ec))
      damage.add(fmt::format("table {}.glass", table), "missing");
  }
  if (options.stored_articles) {
    try {
      const Xapian::Database db(glass_dir.string());
      report.documents = db.get_doccount();
      check_stored(db, damage);
    } catch (const Xapian::Error& e) {
      if (!cannot_open) damage.add("database", e.get_description());
    }
  }
  return report;
}

Result<void> record_checksums(const fs::path& glass_dir, Xapian::rev revision) {
  std::string text = fmt::format("revision {}\n", revision);
  for (const auto& file : table_files(glass_dir)) {
    auto sum = file_checksum(file);
    if (!sum) return fail(ErrorCode::kIo, file.string() + ": " + sum.error());
    text += fmt::format("{} {}\n", file.filename().string(), *sum);
  }
  const fs::path tmp = glass_dir / (std::string(kChecksumFile) + ".tmp");
  if (auto written = write_whole_file(tmp, text); !written) return written;
  std::error_code ec;
  fs::rename(tmp, glass_dir / kChecksumFile, ec);
  if (ec) return fail(ErrorCode::kIo, "cannot replace " + (glass_dir / kChecksumFile).string() + ": " + ec.message());
  return {};
}

ChecksumState compare_checksums(const fs::path& glass_dir, Xapian::rev revision, std::string& detail) {
  std::ifstream in(glass_dir / kChecksumFile);
  std::string word;
  Xapian::rev recorded = 0;
  if (!(in >> word >> recorded) || word != "revision" || recorded != revision) return ChecksumState::kUnknown;
  std::map<std::string, std::string> sums;
  for (std::string name, sum; in >> name >> sum;) sums[name] = sum;
  const auto files = table_files(glass_dir);
  for (const auto& file : files) {
    const std::string name = file.filename().string();
    auto it = sums.find(name);
    auto sum = file_checksum(file);
    if (it == sums.end() || !sum || *sum != it->second) {
      detail = it == sums.end() ? name + " is new" : !sum ? name + ": " + sum.error() : name + " changed";
      return ChecksumState::kMismatch;
    }
    sums.erase(it);
  }
  if (!sums.empty()) {
    detail = sums.begin()->first + " is missing";
    return ChecksumState::kMismatch;
  }
  return ChecksumState::kMatch;
}

}  // namespace mssearch
