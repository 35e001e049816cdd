// `mssearch index` and `mssearch stats`.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <ctime>
#include <iostream>

#include <fmt/chrono.h>
#include <fmt/color.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/terminal.h"
#include "indexer/indexer.h"
#include "searcher/index_stats.h"
#include "schema/index_path.h"
#include "schema/verify.h"
#include "searcher/search_types.h"

namespace mssearch::cli {
namespace {

struct IndexArgs {
  std::vector<std::string> paths{"corpus"};
  std::string db = default_db_path();
  bool full = false;
  bool allow_empty = false;
  std::size_t shards = 0;
  unsigned changesets = 0;
  bool json = false;
  bool quiet = false;
};

nlohmann::json report_json(const IndexReport& r) {
  nlohmann::json errors = nlohmann::json::array();
  for (const auto& e : r.errors)
    errors.push_back({{"source", e.source}, {"line", e.line}, {"message", e.message}});
  return {{"added", r.added},       {"updated", r.updated}, {"deleted", r.deleted},
          {"unchanged", r.unchanged}, {"failed", r.failed}, {"seconds", r.seconds},
          {"errors", errors},       {"full", r.full},       {"revision", r.revision},
          {"documents", r.documents}, {"warnings", r.warnings}, {"shards", r.shards}, {"records_lost", r.records_lost},
          // When the run ended (UTC, ISO 8601), so that each line of the nightly log says which night it is.
          {"finished_at", fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr)))}};
}

// What the terminate handler reports: the index job's database and output format.
const IndexArgs* g_job = nullptr;

// Xapian 1.4.22 can end the process from inside a commit whose writes fail: when the disk fills
// up part way through writing a block at commit_transaction(), its clean-up throws again and
// std::terminate is called (SIGABRT, exit 134, and no summary in the nightly log). The job is
// then like one killed part way -- the index is left at its last complete commit, which the
// next job verifies -- so it ends as a fatal error: one line (or the JSON error), exit 2.
[[noreturn]] void index_job_terminated() {
  const int err = errno;
  std::string why;
  struct statvfs vfs {};
  if (g_job != nullptr && ::statvfs(g_job->db.c_str(), &vfs) == 0 &&
      static_cast<unsigned long long>(vfs.f_bavail) * vfs.f_frsize < (1ULL << 20))
    why = std::string(std::strerror(ENOSPC)) + ": the file system holding the index is full";
  else
    why = std::string("the last system error was: ") + std::strerror(err);
  // Another cause (an exception that escaped where none may) is named rather than hidden.
  if (const std::exception_ptr in_flight = std::current_exception()) {
    try {
      std::rethrow_exception(in_flight);
    } catch (const std::exception& e) {
      why += std::string("; uncaught: ") + e.what();
    } catch (...) {
      why += "; uncaught: an exception of unknown type";
    }
  }
  const std::string db = g_job != nullptr ? g_job->db : "";
  const std::string message =
      "index " + db + ": the job was stopped part way by the index library (" + why +
      "); like a job killed part way, it leaves the index at its last complete commit, which the next job verifies";
  if (g_job != nullptr && g_job->json)
    fmt::print("{}\n", dump_json({{"error", {{"code", to_string(ErrorCode::kDatabase)}, {"message", message}}}}));
  else
    fmt::print(stderr, "mssearch index: error: {}\n", printable(message));
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(kExitFatal);
}

// What the job says when SIGTERM (a systemd stop, a cron timeout) or SIGINT (Ctrl-C) ends it
// part way: made before the job starts, written by the handler with write(2), which is all a
// signal handler may do. Like a job killed part way, the index stays as it was before the run.
struct StoppedLine {
  int fd = STDERR_FILENO;
  std::string text[2];  // [0]: SIGTERM, [1]: SIGINT
};
StoppedLine g_stopped;

extern "C" void index_job_stopped(int sig) {
  const std::string& text = g_stopped.text[sig == SIGINT ? 1 : 0];
  for (std::size_t at = 0; at < text.size();) {
    const ssize_t n = ::write(g_stopped.fd, text.data() + at, text.size() - at);
    if (n <= 0) break;
    at += static_cast<std::size_t>(n);
  }
  ::_exit(kExitFatal);
}

// Sets what the handler writes for each signal: `message(name)` as the error line, or as JSON
// with --json. The signals are held meanwhile: the handler must never read a text half changed.
void say_when_stopped(const IndexArgs& args, bool newline_first, const std::function<std::string(const char*)>& message) {
  sigset_t stops, before;
  sigemptyset(&stops);
  sigaddset(&stops, SIGTERM);
  sigaddset(&stops, SIGINT);
  ::sigprocmask(SIG_BLOCK, &stops, &before);
  for (const int sig : {SIGTERM, SIGINT}) {
    const std::string said = message(sig == SIGINT ? "SIGINT" : "SIGTERM");
    g_stopped.text[sig == SIGINT ? 1 : 0] =
        args.json ? dump_json({{"error", {{"code", "interrupted"}, {"message", said}}}}) + "\n"
                  : std::string(newline_first ? "\n" : "") + "mssearch index: error: " + printable(said) + "\n";
  }
  g_stopped.fd = args.json ? STDOUT_FILENO : STDERR_FILENO;
  ::sigprocmask(SIG_SETMASK, &before, nullptr);
}

void on_stop_say_so(const IndexArgs& args, bool bar_shown) {
  // The shards of a sharded index commit one after another: some may hold this run's work.
  const bool sharded = args.shards > 1 || !shard_dirs(args.db).empty();
  say_when_stopped(args, bar_shown, [&](const char* signal) {
    return fmt::format("index {}: stopped by {} before it finished; {} (the next run does the rest)", args.db, signal,
                       sharded ? "each shard of the index is at its last complete commit"
                               : "the index is as it was before this run");
  });
  struct sigaction action {};
  action.sa_handler = index_job_stopped;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGINT, &action, nullptr);
}

// Once the job has committed, a signal while its report is written (a log pipe that is slow to
// read, then a systemd stop) must not say the index is as it was: it is the new revision.
void on_stop_after_commit(const IndexArgs& args, std::uint64_t revision) {
  say_when_stopped(args, true, [&](const char* signal) {
    return fmt::format("index {}: stopped by {} while it reported; the job had finished and committed revision {} "
                       "(its summary is missing from this log)",
                       args.db, signal, revision);
  });
}

int run_index(const IndexArgs& args) {
  g_job = &args;
  std::set_terminate(index_job_terminated);
  IndexerOptions options;
  options.db_path = args.db;
  options.full = args.full;
  options.allow_empty = args.allow_empty;
  options.shards = args.shards;
  // Xapian writes replication changesets when this is set (read when a database is opened).
  if (args.changesets > 0) ::setenv("XAPIAN_MAX_CHANGESETS", std::to_string(args.changesets).c_str(), 1);
  ProgressBar bar("indexing");
  const bool show = !args.quiet && !args.json;
  on_stop_say_so(args, show);
  // Fault injection for the tests that prove an interrupted job loses nothing: the process
  // SIGKILLs itself once it has written this many documents (called after each one).
  // MSSEARCH_FAULT_TERM_AFTER_DOCS: the same with SIGTERM, which the job reports (on_stop_say_so).
  const auto fault_at = [](const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr ? std::strtoull(value, nullptr, 10) : 0ull;
  };
  const std::size_t kill_at = fault_at("MSSEARCH_FAULT_KILL_AFTER_DOCS"), term_at = fault_at("MSSEARCH_FAULT_TERM_AFTER_DOCS");
  if (show || kill_at != 0 || term_at != 0)
    options.progress = [&bar, show, kill_at, term_at](std::size_t done, std::size_t total) {
      if (show) bar.update(done, total);
      if (kill_at != 0 && done == kill_at) ::kill(::getpid(), SIGKILL);
      if (term_at != 0 && done == term_at) ::kill(::getpid(), SIGTERM);
    };

  // Once the new revision is live, a stop while the job tidies up must not say the index is as
  // it was (a SIGTERM just after a --full swap said so of the new generation). A sharded job's
  // line already says each shard is at its last commit.
  if (!(args.shards > 1 || !shard_dirs(args.db).empty()))
    options.committed = [&args] {
      say_when_stopped(args, true, [&](const char* signal) {
        return fmt::format("index {}: stopped by {} after this run's revision went live, while it tidied up (old "
                           "generations, checksums): the index is this run's; the next run finishes the tidying",
                           args.db, signal);
      });
      if (std::getenv("MSSEARCH_FAULT_TERM_AFTER_LIVE") != nullptr) ::kill(::getpid(), SIGTERM);  // the tests' window
    };
  std::vector<std::filesystem::path> paths(args.paths.begin(), args.paths.end());
  auto report = run_index_job(paths, options);
  if (report) {
    on_stop_after_commit(args, report->revision);
    if (fault_at("MSSEARCH_FAULT_TERM_AFTER_COMMIT") != 0) ::kill(::getpid(), SIGTERM);  // the tests' window
  }
  bar.clear();  // the errors and the summary begin lines of their own
  if (!report) {
    const bool locked = report.error().code == ErrorCode::kLocked;
    if (args.json) {
      fmt::print("{}\n", dump_json({{"error", {{"code", to_string(report.error().code)},
                                                {"message", report.error().message}}}}));
    } else {
      fmt::print(stderr, "mssearch index: error: {}\n", printable(report.error().message));
    }
    return locked ? kExitLocked : kExitFatal;
  }
  const IndexReport& r = *report;
  // Said if this summary cannot be written (exit 2 is "nothing changed" to a nightly job's caller).
  note_work_done(fmt::format("the index job itself completed ({} added, {} updated, {} deleted, revision {})", r.added,
                             r.updated, r.deleted, r.revision));
  if (args.json) {
    fmt::print("{}\n", dump_json(report_json(r)));
  } else {
    const bool colour = colour_enabled(stderr);
    for (const auto& w : r.warnings)
      fmt::print(stderr, "{}: {}\n", colour ? fmt::format(fmt::fg(fmt::terminal_color::yellow), "warning") : "warning",
                 printable(w));
    for (const auto& e : r.errors) {
      const std::string where = e.line > 0 ? fmt::format("{}:{}", e.source, e.line) : e.source;
      fmt::print(stderr, "{}: {}: {}\n",
                 colour ? fmt::format(fmt::fg(fmt::terminal_color::red), "error") : "error", printable(where),
                 printable(e.message));  // an article's id or field name may hold a terminal's escapes
    }
    fmt::print("mssearch index: {} added, {} updated, {} deleted, {} unchanged, {} failed in {:.2f} s "
               "({}{} {}{}, revision {})\n",
               r.added, r.updated, r.deleted, r.unchanged, r.failed, r.seconds,
               r.full ? "full rebuild, " : "", r.documents, r.documents == 1 ? "article" : "articles",
               r.shards > 1 ? fmt::format(" in {} shards", r.shards) : "", r.revision);
  }
  // What the job records beside the index lost (a full disk): not success, though every
  // article is indexed (a nightly job reported 0 while `stats` failed every night after).
  return r.failed > 0 || r.records_lost ? kExitPartial : kExitOk;
}

}  // namespace

void add_index_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<IndexArgs>();
  auto* cmd = app.add_subcommand("index", "Index articles (Markdown files, directories, .jsonl exports)");
  cmd->add_option("paths", args->paths, "Files and directories to index (default: corpus)")->check(path_not_empty());
  cmd->add_option("--db", args->db, "Index directory (default: $MSSEARCH_DB or data/index)")->check(path_not_empty());
  cmd->add_flag("--full", args->full, "Rebuild into a new database and swap it in atomically");
  cmd->add_flag("--allow-empty", args->allow_empty,
                "Let a folder or file that now holds no article delete the articles indexed from it "
                "(refused otherwise: an unmounted or emptied folder)");
  cmd->add_option("--shards", args->shards,
                  "Split a new index over N databases (DIR/shard-00 …) by a stable hash of the id")
      ->check(whole_number(1, 64));
  cmd->add_option("--changesets", args->changesets,
                  "Keep the last N changesets for replicas (scripts/replica-primary.sh); 0: none")
      ->check(whole_number(0, 1000));
  cmd->add_flag("--json", args->json, "Print the summary as one JSON object");
  cmd->add_flag("-q,--quiet", args->quiet, "No progress bar (the one summary line, warnings and errors still print, as cron wants)");
  cmd->callback([args, &exit_code] { exit_code = run_index(*args); });
}

void add_stats_command(CLI::App& app, int& exit_code) {
  struct Args {
    std::string db = default_db_path();
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("stats", "Show what the index holds");
  cmd->add_option("--db", args->db, "Index directory (default: $MSSEARCH_DB or data/index)")->check(path_not_empty());
  cmd->add_flag("--json", args->json, "Print as JSON");
  cmd->callback([args, &exit_code] {
    auto stats = index_stats(args->db);
    if (!stats) {
      if (args->json)  // what --json promises: one JSON object on stdout, errors included, and no text
        fmt::print("{}\n", dump_json({{"error", {{"code", to_string(stats.error().code)}, {"message", stats.error().message}}}}));
      else
        fmt::print(stderr, "mssearch stats: error: {}\n", printable(stats.error().message));
      exit_code = kExitFatal;
      return;
    }
    // Table files that changed since the last index job recorded them (XXH3, tens of
    // milliseconds per 100 MB): damage (a truncated table still opens and counts) or a job
    // killed part way. `check` tells which; stats says so and exits 1.
    std::vector<std::string> changed;
    // A running job writes blocks it has not committed: not compared then. The job's lock,
    // probed and let go at once (held, it would turn a starting job away).
    bool job_running = false;
    if (const int fd = ::open((std::filesystem::path(args->db) / "index.lock").c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
      job_running = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
      ::close(fd);
    }
    // A table set with no checksums recorded for its revision (a restore that left them out, an
    // index written before they were kept) is not compared: said so, not "tables_changed": []
    // with "tables_compared": true over a damaged table (helper-86).
    std::vector<std::string> not_compared;
    for (const auto& dir : job_running ? std::vector<std::filesystem::path>{} : glass_directories(args->db)) {
      std::string detail;
      try {
        const Xapian::Database db(dir.string());
        const ChecksumState state = compare_checksums(dir, db.get_revision(), detail);
        if (state == ChecksumState::kMismatch) changed.push_back(fmt::format("{}: {}", dir.string(), detail));
        if (state == ChecksumState::kUnknown) not_compared.push_back(dir.string());
      } catch (const Xapian::Error& e) {
        changed.push_back(fmt::format("{}: {}", dir.string(), e.get_description()));
      }
    }
    for (const auto& dir : not_compared)
      fmt::print(stderr,
                 "mssearch stats: note: {}: no checksums recorded for its revision (restored without them, or "
                 "written before they were kept): not compared; `mssearch check` verifies it, the next index job records them\n",
                 printable(dir));
    if (!changed.empty()) exit_code = kExitPartial;
    for (const auto& c : changed)
      fmt::print(stderr,
                 "mssearch stats: warning: {} since the last index job (damage, or a job killed part way): run "
                 "`mssearch check`\n",
                 printable(c));
    if (args->json) {
      nlohmann::json j = to_json(*stats);
      j["tables_changed"] = changed;
      // Not compared while a job runs: "tables_changed": [] would read as whole.
      j["tables_compared"] = !job_running && not_compared.empty();
      j["tables_not_compared"] = not_compared;
      fmt::print("{}\n", dump_json(j, 2));
      return;
    }
    const bool colour = colour_enabled(stdout);
    auto bold = [&](const std::string& s) {
      return colour ? fmt::format(fmt::emphasis::bold, "{}", s) : s;
    };
    fmt::print("{} {}\n", bold("index:"), printable(args->db));
    const std::string dates = stats->first_date.empty() ? "none" : stats->first_date + " to " + stats->last_date;
    fmt::print("{} {}   {} {}   {} {}   {} {:.1f} MiB   {} {}\n", bold("articles:"),
               stats->documents, bold("dates:"), dates,
               bold("revision:"), stats->revision, bold("size:"),
               static_cast<double>(stats->bytes) / (1 << 20), bold("indexed:"), stats->indexed_at);
    fmt::print("{} ({})\n", bold("topics"), stats->topics.size());
    for (const auto& t : stats->topics) fmt::print("  {:>4}  {}\n", t.count, printable(t.value));
  });
}

void add_check_command(CLI::App& app, int& exit_code) {
  struct Args {
    std::string db = default_db_path();
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "check", "Verify the index: Xapian's checker over every table, every stored article decoded, the id terms, "
               "and whether the table files changed since the last index job (exit 1: damaged)");
  cmd->add_option("--db", args->db, "Index directory (default: $MSSEARCH_DB or data/index)")->check(path_not_empty());
  cmd->add_flag("--json", args->json, "Print as JSON");
  cmd->callback([args, &exit_code] {
    const auto dirs = glass_directories(args->db);
    // With --json the JSON object alone (a log that reads JSON lines gets no line of text).
    auto json_error = [&](ErrorCode code, const std::string& message, std::string_view kind) {
      if (args->json)
        fmt::print("{}\n", dump_json({{"error", {{"code", to_string(code)}, {"message", message}}}}));
      else
        fmt::print(stderr, "mssearch check: {}: {}\n", kind, printable(message));
    };
    // A lost stub or shard, a shard too many: damage, before the databases there are checked.
    if (auto problem = index_layout_problem(args->db)) {
      json_error(problem->code, problem->message, "damaged");
      exit_code = kExitPartial;
      return;
    }
    if (dirs.empty()) {
      // A file where the index belongs, or one this user may not read, is io_error, as for
      // every other command (open_index).
      const auto problem = index_access_problem(args->db);
      const std::string message = problem ? problem->message : "no index at " + args->db;
      json_error(problem ? problem->code : ErrorCode::kIndexMissing, message, "error");
      exit_code = kExitFatal;
      return;
    }
    // Another program's database is no damaged index: said as every other command says it.
    std::vector<std::filesystem::path> databases{args->db};
    databases.insert(databases.end(), dirs.begin(), dirs.end());
    for (const auto& dir : databases)
      if (auto foreign = foreign_database_problem(dir)) {
        json_error(foreign->code, foreign->message, "error");
        exit_code = kExitFatal;
        return;
      }
    const bool colour = colour_enabled(stdout);
    nlohmann::json all = nlohmann::json::array();
    bool damaged = false;
    for (const auto& dir : dirs) {
      auto report = verify_database(dir);
      if (!report) {
        json_error(report.error().code, report.error().message, "error");
        exit_code = kExitFatal;
        return;
      }
      // The files against what the last job recorded: information, not damage (a job killed
      // part way changes them too; the verification above is what tells damage).
      std::string detail, checksums = "unknown";
      try {
        const Xapian::Database db(dir.string());
        switch (compare_checksums(dir, db.get_revision(), detail)) {
          case ChecksumState::kMatch: checksums = "match"; break;
          case ChecksumState::kMismatch: checksums = "changed: " + detail; break;
          case ChecksumState::kUnknown: break;
        }
      } catch (const Xapian::Error&) {
        // Already reported by verify_database.
      }
      damaged = damaged || !report->ok();
      nlohmann::json damage = nlohmann::json::array();
      for (const auto& d : report->damage) damage.push_back({{"what", d.what}, {"message", d.message}});
      all.push_back({{"database", dir.string()}, {"documents", report->documents}, {"ok", report->ok()},
                     {"damaged", report->damaged_total}, {"damage", damage}, {"checksums", checksums}});
      if (args->json) continue;
      const std::string verdict =
          report->ok() ? (colour ? fmt::format(fmt::fg(fmt::terminal_color::green), "ok") : "ok")
                       : (colour ? fmt::format(fmt::fg(fmt::terminal_color::red), "DAMAGED") : "DAMAGED");
      fmt::print("{}: {} documents, {}{}\n", printable(dir.string()), report->documents, verdict,
                 report->ok() ? "" : fmt::format(" ({} problems)", report->damaged_total));
      for (const auto& d : report->damage) fmt::print("  {}: {}\n", printable(d.what), printable(d.message));
      if (report->damage.size() < report->damaged_total)
        fmt::print("  … and {} more\n", report->damaged_total - report->damage.size());
    }
    if (args->json) fmt::print("{}\n", dump_json({{"ok", !damaged}, {"databases", all}}));
    else if (damaged) fmt::print("mssearch check: the index is damaged: rebuild it with `mssearch index --full` from the sources\n");
    exit_code = damaged ? kExitPartial : kExitOk;
  });
}

}  // namespace mssearch::cli
