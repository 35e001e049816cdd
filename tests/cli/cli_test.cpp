// The mssearch binary as editors and cron jobs run it: output, JSON, exit codes, and what
// survives a job killed half way.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <thread>

#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <xapian.h>

#include "analytics/analytics.h"
#include "indexer/index_directory.h"
#include "schema/index_path.h"
#include "schema/schema.h"
#include "schema/verify.h"
#include "schema/utf8.h"
#include "tests/test_support.h"

using namespace mssearch;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

std::set<std::string> indexed_ids(const fs::path& db_path) {
  Xapian::Database db(db_path.string());
  std::set<std::string> ids;
  for (auto t = db.allterms_begin("Q"); t != db.allterms_end("Q"); ++t) ids.insert((*t).substr(1));
  return ids;
}

}  // namespace

TEST_CASE("cli: --help and --version", "[cli]") {
  auto help = test::run_mssearch("--help");
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Catch::Contains("index"));
  CHECK_THAT(help.out, Catch::Contains("search"));
  auto version = test::run_mssearch("--version");
  CHECK(version.exit_code == 0);
  CHECK_THAT(version.out, Catch::StartsWith("mssearch 0."));
  auto unknown = test::run_mssearch("no-such-command");
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("unknown command 'no-such-command'") && Catch::Contains("search"));
  // No command at all: the commands listed (it said only "A subcommand is required").
  auto none = test::run_mssearch("");
  CHECK(none.exit_code == 2);
  CHECK_THAT(none.err, Catch::Contains("search") && Catch::Contains("serve") && Catch::Contains("A command is required"));
  // A word where a number goes is said to be no number (it was "Value abc not in range 1 to 100").
  auto word = test::run_mssearch("search ms --limit abc --db /nonexistent-db");
  CHECK(word.exit_code == 2);
  CHECK_THAT(word.err, Catch::Contains("--limit: must be a whole number from 1 to 100, not 'abc'"));
  auto unknown_json = test::run_mssearch("no-such-command --json");
  CHECK(unknown_json.exit_code == 2);
  CHECK(json::parse(unknown_json.out)["error"]["code"] == "bad_parameter");
  CHECK(unknown_json.err.empty());
  // A synonyms file that is not there is named as such (it said "FILE:0: bad file: FILE").
  auto synonyms = test::run_mssearch("search ms --db /nonexistent-db --synonyms /nonexistent-synonyms.yaml");
  CHECK(synonyms.exit_code == 2);
  CHECK_THAT(synonyms.err, Catch::Contains("cannot read the synonyms file /nonexistent-synonyms.yaml: No such file"));
}

TEST_CASE("cli: the sample corpus indexes with at least 40 articles and 15 topics", "[cli]") {
  test::TempDir tmp;
  auto r = test::run_mssearch("index " + q(test::corpus_dir()) + " --db " + q(tmp / "db") + " --json");
  REQUIRE(r.exit_code == 0);
  auto summary = json::parse(r.out);
  CHECK(summary["added"].get<int>() >= 40);
  CHECK(summary["failed"] == 0);
  CHECK(summary["errors"].empty());
  for (const char* key : {"added", "updated", "deleted", "unchanged", "failed", "seconds", "errors"})
    CHECK(summary.contains(key));
  // When the run ended, in UTC, for the nightly log (its lines did not say which night).
  REQUIRE(summary.contains("finished_at"));
  const std::string finished = summary["finished_at"];
  CHECK(finished.size() == 20);
  CHECK(finished[4] == '-');
  CHECK(finished[10] == 'T');
  CHECK(finished.ends_with('Z'));
  const std::time_t now = std::time(nullptr);
  std::tm parsed{};
  REQUIRE(::strptime(finished.c_str(), "%Y-%m-%dT%H:%M:%SZ", &parsed) != nullptr);
  CHECK(std::abs(static_cast<long>(::timegm(&parsed) - now)) < 120);

  auto stats = test::run_mssearch("stats --json --db " + q(tmp / "db"));
  REQUIRE(stats.exit_code == 0);
  auto s = json::parse(stats.out);
  CHECK(s["documents"].get<int>() >= 40);
  CHECK(s["topics"].size() >= 15);
  CHECK(s["first_date"].get<std::string>().starts_with("2024"));
  CHECK(s["last_date"].get<std::string>().starts_with("2026"));
  CHECK(s["bytes"].get<long>() > 0);
  CHECK(s["revision"].get<int>() >= 1);

  auto human = test::run_mssearch("index " + q(test::corpus_dir()) + " --db " + q(tmp / "db"));
  CHECK(human.exit_code == 0);
  CHECK_THAT(human.out, Catch::Contains("0 added, 0 updated, 0 deleted"));
}

TEST_CASE("cli: stats gives the dates the index holds after articles are deleted or redated", "[cli]") {
  // Xapian's value bounds never narrow: with the newest article deleted, stats still gave its
  // date until a --full rebuild. Compared with what a rebuild of the same articles says.
  for (const char* shards : {"", " --shards 2"}) {
    INFO(shards);
    test::TempDir tmp;
    const fs::path dir = tmp / "articles", db = tmp / "db", rebuilt = tmp / "rebuilt";
    test::write_file(dir / "old.md", test::markdown_article("Oldest", "2019-05-01"));
    test::write_file(dir / "mid.md", test::markdown_article("Middle", "2022-02-02"));
    test::write_file(dir / "new.md", test::markdown_article("Newest", "2026-11-02"));
    REQUIRE(test::run_mssearch("index " + q(dir) + " --db " + q(db) + shards + " -q").exit_code == 0);
    auto dates = [](const fs::path& at) {
      auto stats = test::run_mssearch("stats --json --db " + q(at));
      REQUIRE(stats.exit_code == 0);
      const auto s = json::parse(stats.out);
      return std::pair{s["first_date"].get<std::string>(), s["last_date"].get<std::string>()};
    };
    CHECK(dates(db) == std::pair<std::string, std::string>{"2019-05-01", "2026-11-02"});
    fs::remove(dir / "new.md");
    test::write_file(dir / "old.md", test::markdown_article("Oldest", "2020-07-07"));
    REQUIRE(test::run_mssearch("index " + q(dir) + " --db " + q(db) + shards + " -q").exit_code == 0);
    REQUIRE(test::run_mssearch("index " + q(dir) + " --db " + q(rebuilt) + shards + " -q").exit_code == 0);
    CHECK(dates(db) == std::pair<std::string, std::string>{"2020-07-07", "2022-02-02"});
    CHECK(dates(db) == dates(rebuilt));
    // Every article deleted: no dates, null in JSON (it was "", and the text said "dates:  to ").
    for (const char* name : {"old.md", "mid.md"}) fs::remove(dir / name);
    REQUIRE(test::run_mssearch("index " + q(dir) + " --db " + q(db) + shards + " --allow-empty -q").exit_code == 0);
    const auto empty = test::run_mssearch("stats --json --db " + q(db));
    CHECK(json::parse(empty.out)["first_date"].is_null());
    CHECK(json::parse(empty.out)["last_date"].is_null());
    CHECK_THAT(test::run_mssearch("stats --db " + q(db)).out, Catch::Contains("dates: none"));
  }
}

TEST_CASE("cli: exit codes of index say what happened", "[cli]") {
  test::TempDir tmp;
  test::write_file(tmp / "a/good.md", test::markdown_article("Good"));
  SECTION("1 when some articles failed, with file:line on stderr") {
    test::write_file(tmp / "a/bad.md", "---\ntitle: Bad\ndate: 2025-02-30\n---\n");
    auto r = test::run_mssearch("index " + q(tmp / "a") + " --db " + q(tmp / "db"));
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("bad.md:3: bad date '2025-02-30'"));
    CHECK_THAT(r.out, Catch::Contains("1 added"));
  }
  SECTION("1 for a duplicate id, both files named as given, as every other error names them") {
    // They were absolute (/tmp/…/a/good.md) while the bad date beside them was `a/bad.md`.
    test::write_file(tmp / "a/copy.md", "---\nid: good\ntitle: Copy\ndate: 2025-02-01\n---\n");
    test::write_file(tmp / "a/bad.md", "---\ntitle: Bad\ndate: 2025-02-30\n---\n");
    for (const char* flags : {"", " --shards 2"}) {
      auto r = test::run_mssearch("index a --db db" + std::string(flags), "", "cd " + q(tmp.path()) + " &&");
      CHECK(r.exit_code == 1);
      CHECK_THAT(r.err, Catch::Contains("a/bad.md:3: bad date '2025-02-30'"));
      CHECK_THAT(r.err, Catch::Contains("error: a/good.md: duplicate id 'good' (also in a/copy.md, which keeps it)") ||
                            Catch::Contains("error: a/copy.md: duplicate id 'good' (also in a/good.md, which keeps it)"));
      CHECK(r.err.find(tmp.path().string()) == std::string::npos);
      fs::remove_all(tmp / "db");
    }
  }
  SECTION("2 on a fatal error") {
    auto r = test::run_mssearch("index " + q(tmp / "missing") + " --db " + q(tmp / "db"));
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("no such file or directory"));
  }
  SECTION("3 when another index job holds the index") {
    auto lock = IndexLock::acquire(tmp / "db");
    REQUIRE(lock);
    auto r = test::run_mssearch("index " + q(tmp / "a") + " --db " + q(tmp / "db") + " --json");
    CHECK(r.exit_code == 3);
    CHECK(json::parse(r.out)["error"]["code"] == "index_locked");
  }
  SECTION("stats on a table changed since the last job says so, exits 1, and keeps quiet while a job runs") {
    // A truncated table that still opens counted and listed as ever, exit 0.
    REQUIRE(test::run_mssearch("index " + q(tmp / "a") + " --db " + q(tmp / "db") + " -q").exit_code == 0);
    CHECK(test::run_mssearch("stats --db " + q(tmp / "db")).exit_code == 0);
    const auto dirs = glass_directories(tmp / "db");
    REQUIRE(dirs.size() == 1);
    {  // a stray write into a table stats does not read (the spelling data)
      std::fstream table(dirs[0] / "spelling.glass", std::ios::in | std::ios::out | std::ios::binary);
      table.seekp(-1, std::ios::end);
      table.put('\x5a');
    }
    auto r = test::run_mssearch("stats --json --db " + q(tmp / "db"));
    CHECK(r.exit_code == 1);
    CHECK(json::parse(r.out)["tables_changed"].dump().find("spelling.glass changed") != std::string::npos);
    CHECK_THAT(r.err, Catch::Contains("run `mssearch check`"));
    auto lock = IndexLock::acquire(tmp / "db");
    REQUIRE(lock);
    auto running = test::run_mssearch("stats --json --db " + q(tmp / "db"));
    CHECK(running.exit_code == 0);
    CHECK(json::parse(running.out)["tables_changed"].empty());
    CHECK(json::parse(running.out)["tables_compared"] == false);
    CHECK(json::parse(r.out)["tables_compared"] == true);
    CHECK(json::parse(r.out)["tables_not_compared"].empty());
  }
  SECTION("stats on tables with no checksums recorded says it did not compare them") {
    // A restore that left the checksums out: "tables_compared": true over a damaged table
    // (helper-86).
    REQUIRE(test::run_mssearch("index " + q(tmp / "a") + " --db " + q(tmp / "db") + " -q").exit_code == 0);
    const auto dirs = glass_directories(tmp / "db");
    REQUIRE(dirs.size() == 1);
    REQUIRE(fs::remove(dirs[0] / kChecksumFile));
    auto r = test::run_mssearch("stats --json --db " + q(tmp / "db"));
    CHECK(r.exit_code == 0);
    CHECK(json::parse(r.out)["tables_compared"] == false);
    CHECK(json::parse(r.out)["tables_not_compared"].size() == 1);
    CHECK_THAT(r.err, Catch::Contains("no checksums recorded"));
  }
  SECTION("stats on a missing index is an error that says how to build one") {
    auto r = test::run_mssearch("stats --db " + q(tmp / "nothing"));
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("mssearch index"));
  }
}

TEST_CASE("cli: output that cannot be written (a full disk under the log) is exit 2, said on stderr", "[cli]") {
  // The nightly job's summary was lost with exit 0 (`index --json > /dev/full`), as were
  // stats and check; a search said it.
  test::TempDir tmp;
  test::write_file(tmp / "a/good.md", test::markdown_article("Good"));
  REQUIRE(test::run_mssearch("index " + q(tmp / "a") + " --db " + q(tmp / "db") + " -q").exit_code == 0);
  for (const std::string& args : {"index " + q(tmp / "a") + " --db " + q(tmp / "db") + " --json",
                                 "stats --db " + q(tmp / "db") + " --json", "stats --db " + q(tmp / "db"),
                                 "check --db " + q(tmp / "db"), "search --db " + q(tmp / "db") + " -- good",
                                 std::string("--version"), std::string("--help")}) {
    CAPTURE(args);
    const std::string cmd = "'" MSSEARCH_BIN "' " + args + " >/dev/full 2>" + q(tmp / "err") + " </dev/null";
    const int status = std::system(cmd.c_str());
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 2);
    CHECK_THAT(test::read_file(tmp / "err"), Catch::Contains("No space left on device") || Catch::Contains("cannot write"));
  }
  // Closed (`>&-`): the next file opened could take its place (serve's listening socket took it),
  // and the reason said was "a full disk?". Named so, exit 2, the index whole.
  for (const std::string& args : {"search --db " + q(tmp / "db") + " --json -- good", "index " + q(tmp / "a") + " --db " + q(tmp / "db") + " --json"}) {
    CAPTURE(args);
    const std::string cmd = "'" MSSEARCH_BIN "' " + args + " >&- 2>" + q(tmp / "err") + " </dev/null";
    const int status = std::system(cmd.c_str());
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 2);
    CHECK_THAT(test::read_file(tmp / "err"), Catch::Contains("cannot write to standard output: it is closed"));
  }
  // An index job that committed says so after its summary failed (exit 2 is "nothing changed"
  // to its caller; helper-86).
  test::write_file(tmp / "a/second.md", test::markdown_article("Second"));
  {
    const std::string cmd = "'" MSSEARCH_BIN "' index " + q(tmp / "a") + " --db " + q(tmp / "db") + " --json >/dev/full 2>" +
                            q(tmp / "err") + " </dev/null";
    const int status = std::system(cmd.c_str());
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 2);
    CHECK_THAT(test::read_file(tmp / "err"), Catch::Contains("the index job itself completed (1 added"));
  }
  // A pipe closed before the output (`| head -c1` once head has gone): exit 2 naming the broken
  // pipe, not killed by SIGPIPE (exit 141 and no word), nor "internal error".
  for (const std::string& args : {"search --db " + q(tmp / "db") + " -- good", "stats --db " + q(tmp / "db") + " --json"}) {
    CAPTURE(args);
    const std::string cmd = "{ sleep 0.3; '" MSSEARCH_BIN "' " + args + " 2>" + q(tmp / "err") + " </dev/null; echo $? >" +
                            q(tmp / "status") + "; } | true";
    REQUIRE(std::system(cmd.c_str()) == 0);
    CHECK(test::read_file(tmp / "status") == "2\n");
    CHECK_THAT(test::read_file(tmp / "err"), Catch::Contains("cannot write to standard output: Broken pipe") &&
                                                 !Catch::Contains("internal error"));
  }
  CHECK(test::run_mssearch("check --db " + q(tmp / "db")).exit_code == 0);
}

TEST_CASE("cli: on a terminal, index erases its progress bar before the errors and the summary", "[cli]") {
  test::TempDir tmp;
  for (int i = 0; i < 3; ++i) test::write_file(tmp / "a" / fmt::format("good{}.md", i), test::markdown_article("Good"));
  test::write_file(tmp / "a/bad.md", "---\ntitle: Bad\ndate: 2025-02-30\n---\n");
  // stdout and stderr on one pseudo-terminal (util-linux's script), as an editor sees them.
  const std::string inner = "env TERM=xterm '" MSSEARCH_BIN "' index " + q(tmp / "a") + " --db " + q(tmp / "db");
  const std::string cmd = "script -qec \"" + inner + "\" /dev/null > " + q(tmp / "out") + " 2>&1 </dev/null";
  std::system(cmd.c_str());
  const std::string out = test::read_file(tmp / "out");
  REQUIRE_THAT(out, Catch::Contains("ETA"));  // the bar was drawn
  // Each line as the terminal shows it: what follows the last carriage return or erase-line.
  std::vector<std::string> shown;
  std::size_t begin = 0;
  while (begin < out.size()) {
    std::size_t end = out.find('\n', begin);
    if (end == std::string::npos) end = out.size();
    std::string line = out.substr(begin, end - begin);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    for (const std::string mark : {"\r", "\x1b[2K"})
      if (const auto at = line.rfind(mark); at != std::string::npos) line = line.substr(at + mark.size());
    shown.push_back(line);
    begin = end + 1;
  }
  const auto error_line = std::find_if(shown.begin(), shown.end(), [](const std::string& l) { return l.find("bad.md:3") != std::string::npos; });
  REQUIRE(error_line != shown.end());
  CHECK_THAT(*error_line, !Catch::Contains("ETA"));
  CHECK_THAT(*error_line, Catch::StartsWith("\x1b[31merror"));
  const auto summary = std::find_if(shown.begin(), shown.end(), [](const std::string& l) { return l.find("added") != std::string::npos; });
  REQUIRE(summary != shown.end());
  CHECK_THAT(*summary, Catch::StartsWith("mssearch index: 3 added"));
}

TEST_CASE("cli: check on an index the user may read but not write says it cannot verify, never 'damaged'", "[cli]") {
  test::TempDir tmp;
  test::write_file(tmp / "a/good.md", test::markdown_article("Good"));
  REQUIRE(test::run_mssearch("index " + q(tmp / "a") + " --db " + q(tmp / "db") + " -q").exit_code == 0);
  REQUIRE(test::run_mssearch("check --db " + q(tmp / "db")).exit_code == 0);
  auto set_writable = [&](bool writable) {
    for (const auto& e : fs::recursive_directory_iterator(tmp / "db"))
      fs::permissions(e.path(), fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write,
                      writable ? fs::perm_options::add : fs::perm_options::remove);
  };
  set_writable(false);
  auto r = test::run_mssearch("check --db " + q(tmp / "db"), "", test::unprivileged());
  auto j = test::run_mssearch("check --json --db " + q(tmp / "db"), "", test::unprivileged());
  set_writable(true);
  CHECK(r.exit_code == 2);  // not 1: nothing is damaged
  CHECK_THAT(r.out, !Catch::Contains("DAMAGED"));
  CHECK_THAT(r.err, Catch::Contains("cannot verify") && Catch::Contains("Permission denied"));
  CHECK(j.exit_code == 2);
  CHECK(json::parse(j.out)["error"]["code"] == "io_error");
  // The search itself reads it as ever.
  CHECK(test::run_mssearch("search good --db " + q(tmp / "db"), "", test::unprivileged()).exit_code == 0);
}

TEST_CASE("cli: an index the user may not read is io_error naming the permission, not 'no index, build one'", "[cli]") {
  test::TempDir tmp;
  test::write_file(tmp / "a/good.md", test::markdown_article("Good"));
  REQUIRE(test::run_mssearch("index " + q(tmp / "a") + " --db " + q(tmp / "db") + " -q").exit_code == 0);
  for (const auto& locked : std::vector<fs::path>{tmp / "db", tmp / "db" / "XAPIANDB"}) {
    CAPTURE(locked);
    const auto before = fs::status(locked).permissions();
    fs::permissions(locked, fs::perms::all, fs::perm_options::remove);
    auto r = test::run_mssearch("search good --db " + q(tmp / "db"), "", test::unprivileged());
    auto j = test::run_mssearch("stats --json --db " + q(tmp / "db"), "", test::unprivileged());
    auto c = test::run_mssearch("check --json --db " + q(tmp / "db"), "", test::unprivileged());
    fs::permissions(locked, before);
    if (geteuid() != 0) {  // the owner may read it anyway
      WARN("not root: the index stays readable by its owner; skipped");
      return;
    }
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("cannot read index") && Catch::Contains("Permission denied"));
    CHECK_THAT(r.err, !Catch::Contains("build one"));
    CHECK(j.exit_code == 2);
    CHECK(json::parse(j.out)["error"]["code"] == "io_error");
    CHECK(c.exit_code == 2);  // check too (it said "no index")
    CHECK(json::parse(c.out)["error"]["code"] == "io_error");
  }
  // A generation this user may not read: io_error too (it was database_error).
  const auto live = live_database_dir(tmp / "db");
  REQUIRE(live);
  const auto before = fs::status(*live).permissions();
  fs::permissions(*live, fs::perms::all, fs::perm_options::remove);
  auto g = test::run_mssearch("search good --json --db " + q(tmp / "db"), "", test::unprivileged());
  fs::permissions(*live, before);
  CHECK(g.exit_code == 2);
  CHECK(json::parse(g.out)["error"]["code"] == "io_error");
  CHECK_THAT(g.err + g.out, Catch::Contains("Permission denied"));
}

TEST_CASE("cli: an index job that may not write the live generation is io_error (exit 2), not 'locked' (exit 3)", "[cli]") {
  // helper-91: one `sudo mssearch index --full` left a generation the service user could not
  // write; every night after was "locked by another writer", exit 3, which run.sh and cron
  // wrappers read as harmless.
  test::TempDir tmp;
  test::write_file(tmp / "a/good.md", test::markdown_article("Good"));
  REQUIRE(test::run_mssearch("index " + q(tmp / "a") + " --db " + q(tmp / "db") + " -q").exit_code == 0);
  test::write_file(tmp / "a/second.md", test::markdown_article("Second"));
  const auto live = live_database_dir(tmp / "db");
  REQUIRE(live);
  // As another user's: its folder and Xapian's lock file in it not writable.
  const auto no_write = fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write;
  for (const auto& p : {*live / "flintlock", *live}) fs::permissions(p, no_write, fs::perm_options::remove);
  auto r = test::run_mssearch("index " + q(tmp / "a") + " --db " + q(tmp / "db") + " --json", "", test::unprivileged());
  for (const auto& p : {*live, *live / "flintlock"}) fs::permissions(p, fs::perms::owner_write, fs::perm_options::add);
  CHECK(r.exit_code == 2);
  const auto j = json::parse(r.out, nullptr, false);
  REQUIRE(j.contains("error"));
  CHECK(j["error"]["code"] == "io_error");
  CHECK_THAT(j["error"]["message"].get<std::string>(), Catch::Contains("cannot be written by this user") &&
                                                          Catch::Contains("Permission denied"));
  // Nothing lost: the index as it was, and the next job as its owner brings it up to date.
  CHECK(test::run_mssearch("search good --db " + q(tmp / "db")).exit_code == 0);
  CHECK(test::run_mssearch("index " + q(tmp / "a") + " --db " + q(tmp / "db") + " -q").exit_code == 0);
}

TEST_CASE("cli: check on an index on a read-only file system says it cannot verify, never 'damaged'", "[cli]") {
  // The usual way a server is given its index in a container: a read-only bind mount. Xapian's
  // checker opens the tables for writing and is refused with EROFS, not EACCES.
  test::TempDir tmp;
  test::write_file(tmp / "a/good.md", test::markdown_article("Good"));
  REQUIRE(test::run_mssearch("index " + q(tmp / "a") + " --db " + q(tmp / "db") + " -q").exit_code == 0);
  fs::create_directories(tmp / "ro");
  if (geteuid() != 0 || ::mount((tmp / "db").c_str(), (tmp / "ro").c_str(), nullptr, MS_BIND, nullptr) != 0) {
    WARN("cannot bind-mount here: skipped");
    return;
  }
  struct Unmount {
    fs::path at;
    ~Unmount() { ::umount(at.c_str()); }
  } unmount{tmp / "ro"};
  if (::mount(nullptr, (tmp / "ro").c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0) {
    WARN("cannot make the bind mount read-only here: skipped");
    return;
  }
  auto r = test::run_mssearch("check --db " + q(tmp / "ro"));
  auto j = test::run_mssearch("check --json --db " + q(tmp / "ro"));
  CHECK(r.exit_code == 2);  // not 1: nothing is damaged
  CHECK_THAT(r.out, !Catch::Contains("DAMAGED"));
  CHECK_THAT(r.err, Catch::Contains("cannot verify") && Catch::Contains("Read-only file system"));
  CHECK(j.exit_code == 2);
  CHECK(json::parse(j.out, nullptr, false)["error"]["code"] == "io_error");
  CHECK(test::run_mssearch("search good --db " + q(tmp / "ro")).exit_code == 0);
}

TEST_CASE("cli: a job killed half way leaves the last committed index", "[cli][faults]") {
  test::TempDir tmp;
  const fs::path db = tmp / "db";
  REQUIRE(test::run_mssearch("index " + q(test::corpus_dir()) + " --db " + q(db) + " -q").exit_code == 0);
  const auto before = indexed_ids(db);
  const auto revision = Xapian::Database(db.string()).get_revision();

  SECTION("interrupted --full: the current index is untouched, the next run cleans up") {
    auto r = test::run_mssearch("index " + q(test::corpus_dir()) + " --db " + q(db) + " --full -q",
                                "MSSEARCH_FAULT_KILL_AFTER_DOCS=20");
    CHECK(r.exit_code == 137);
    CHECK(indexed_ids(db) == before);
    CHECK(Xapian::Database(db.string()).get_revision() == revision);
    auto rerun = test::run_mssearch("index " + q(test::corpus_dir()) + " --db " + q(db) + " --full --json");
    REQUIRE(rerun.exit_code == 0);
    CHECK(json::parse(rerun.out)["unchanged"] == before.size());
    int generations = 0;
    for (const auto& e : fs::directory_iterator(db)) generations += e.path().filename().string().starts_with("gen-");
    CHECK(generations == 2);  // live + the one before; the half-written one is gone
  }
  SECTION("interrupted incremental run: readers still see the old revision") {
    test::TempDir copy;
    fs::copy(test::corpus_dir(), copy / "corpus", fs::copy_options::recursive);
    // Touch every article so that all of them must be rewritten, then kill after a few.
    for (const auto& e : fs::directory_iterator(copy / "corpus"))
      if (e.path().extension() == ".md") {
        std::string text = test::read_file(e.path());
        test::write_file(e.path(), text + "\nEdited.\n");
      }
    auto r = test::run_mssearch("index " + q(copy / "corpus") + " --db " + q(db) + " -q",
                                "MSSEARCH_FAULT_KILL_AFTER_DOCS=5");
    CHECK(r.exit_code == 137);
    CHECK(Xapian::Database(db.string()).get_revision() == revision);
    auto rerun = test::run_mssearch("index " + q(copy / "corpus") + " --db " + q(db) + " --json");
    REQUIRE(rerun.exit_code == 0);
    CHECK(json::parse(rerun.out)["updated"] == before.size());
  }
  SECTION("stopped by SIGTERM (a systemd stop, a timeout): one line for the log, exit 2, the index as before") {
    // It died without a word (exit 143): a cron `--json` log had nothing for that night.
    test::TempDir copy;
    fs::copy(test::corpus_dir(), copy / "corpus", fs::copy_options::recursive);
    for (const auto& e : fs::directory_iterator(copy / "corpus"))
      if (e.path().extension() == ".md") test::write_file(e.path(), test::read_file(e.path()) + "\nEdited.\n");
    auto j = test::run_mssearch("index " + q(copy / "corpus") + " --db " + q(db) + " --json", "MSSEARCH_FAULT_TERM_AFTER_DOCS=5");
    CHECK(j.exit_code == 2);
    const auto answer = json::parse(j.out, nullptr, false);
    REQUIRE(answer.is_object());
    CHECK(answer["error"]["code"] == "interrupted");
    CHECK_THAT(answer["error"]["message"].get<std::string>(),
               Catch::Contains("stopped by SIGTERM") && Catch::Contains("as it was before this run"));
    CHECK(Xapian::Database(db.string()).get_revision() == revision);
    CHECK(indexed_ids(db) == before);
    auto t = test::run_mssearch("index " + q(copy / "corpus") + " --db " + q(db) + " --full -q", "MSSEARCH_FAULT_TERM_AFTER_DOCS=5");
    CHECK(t.exit_code == 2);
    CHECK_THAT(t.err, Catch::StartsWith("mssearch index: error: index ") && Catch::Contains("stopped by SIGTERM"));
    CHECK(Xapian::Database(db.string()).get_revision() == revision);
    // After the commit, while the report is written (a log pipe slow to read): the new revision
    // is said, not "as it was" (it said so).
    auto late = test::run_mssearch("index " + q(copy / "corpus") + " --db " + q(db) + " --json", "MSSEARCH_FAULT_TERM_AFTER_COMMIT=1");
    CHECK(late.exit_code == 2);
    const auto said = json::parse(late.out, nullptr, false);
    REQUIRE(said.is_object());
    CHECK(said["error"]["code"] == "interrupted");
    const auto now = Xapian::Database(db.string()).get_revision();
    CHECK(now == revision + 1);
    CHECK_THAT(said["error"]["message"].get<std::string>(),
               Catch::Contains(fmt::format("the job had finished and committed revision {}", now)));
    // Between a --full run's swap and its report (old generations removed, checksums
    // written): the new generation is live, and the line says so (it said "as it was").
    auto swapped = test::run_mssearch("index " + q(copy / "corpus") + " --db " + q(db) + " --full -q",
                                      "MSSEARCH_FAULT_TERM_AFTER_LIVE=1");
    CHECK(swapped.exit_code == 2);
    CHECK_THAT(swapped.err, Catch::Contains("after this run's revision went live") && !Catch::Contains("as it was"));
    CHECK(schema::revision(Xapian::Database(db.string())) > now);
    auto rerun = test::run_mssearch("index " + q(copy / "corpus") + " --db " + q(db) + " --json");
    REQUIRE(rerun.exit_code == 0);
    CHECK(json::parse(rerun.out)["unchanged"] == before.size());
  }
}

TEST_CASE("cli: index's errors and warnings reach a terminal without the escapes an article holds", "[cli]") {
  // An id or a field name with ESC, BEL or a NUL (JSON escapes in a CMS export) went to stderr
  // raw: a terminal's title set, its screen cleared.
  test::TempDir tmp;
  test::write_file(tmp / "a/export.jsonl",
                   "{\"id\":\"e\\u001b]0;pwned\\u0007\",\"title\":\"T\",\"date\":\"2025-01-01\"}\n"
                   "{\"id\":\"k\",\"title\":\"T\",\"date\":\"2025-01-01\",\"z\\u001b[2J\":1,\"topics\":[\"\\u0000\"]}\n");
  auto r = test::run_mssearch("index " + q(tmp / "a") + " --db " + q(tmp / "db"));
  CHECK(r.exit_code == 1);
  CHECK(r.err.find('\x1b') == std::string::npos);
  CHECK(r.err.find('\x07') == std::string::npos);
  CHECK(r.err.find('\0') == std::string::npos);
  CHECK_THAT(r.err, Catch::Contains("invalid id 'e\\x1b]0;pwned\\x07'") && Catch::Contains("unknown field 'z\\x1b[2J'") &&
                        Catch::Contains("a topic contains a NUL character"));
}

TEST_CASE("cli: search prints hits, exit 1 when there are none", "[cli]") {
  test::TempDir tmp;
  REQUIRE(test::run_mssearch("index " + q(test::corpus_dir()) + " --db " + q(tmp / "db") + " -q").exit_code == 0);
  auto hit = test::run_mssearch("search astrocytes --json --db " + q(tmp / "db"));
  CHECK(hit.exit_code == 0);
  auto j = json::parse(hit.out);
  CHECK(j["hits"].size() > 0);
  CHECK_THAT(j["hits"][0]["snippet"].get<std::string>(), Catch::Contains("<mark>"));
  auto none = test::run_mssearch("search zzzzqqq --db " + q(tmp / "db"));
  CHECK(none.exit_code == 1);
  CHECK_THAT(none.out, Catch::StartsWith("0 results for"));
  auto one = test::run_mssearch("search id:ebv-ms-risk --db " + q(tmp / "db"));
  CHECK(one.exit_code == 0);
  CHECK_THAT(one.out, Catch::StartsWith("1 result for"));  // not "1 results"
  // A filter alone is listed newest first, and says so (as the page does); words typed do not.
  auto filter_alone = test::run_mssearch("search topic:fatigue --db " + q(tmp / "db"));
  CHECK_THAT(filter_alone.out, Catch::StartsWith("3 results for \"topic:fatigue\", newest first ("));
  CHECK_THAT(test::run_mssearch("search fatigue --db " + q(tmp / "db")).out, !Catch::Contains("newest first"));
  // Words not quoted are one query, as quoted (the second word was refused as unexpected);
  // options may follow them, and `--` lets the query start with a minus.
  auto quoted = test::run_mssearch("search \"brain fog\" --json --db " + q(tmp / "db"));
  auto words = test::run_mssearch("search brain fog --json --db " + q(tmp / "db"));
  REQUIRE(words.exit_code == 0);
  CHECK(json::parse(words.out)["query"] == "brain fog");
  CHECK(json::parse(words.out)["total"] == json::parse(quoted.out)["total"]);
  auto excluded = test::run_mssearch("search --json --db " + q(tmp / "db") + " -- -fatigue brain fog");
  REQUIRE(excluded.exit_code == 0);
  CHECK(json::parse(excluded.out)["query"] == "-fatigue brain fog");
  auto suggested = test::run_mssearch("suggest mult scl --json --db " + q(tmp / "db"));
  REQUIRE(suggested.exit_code == 0);
  CHECK(json::parse(suggested.out)["query"] == "mult scl");
}

TEST_CASE("cli: what was typed reaches a terminal without its escapes: query, related id, suggest prefix, command", "[cli]") {
  // `0 results for "a<ESC>[31mb"` turned the terminal red: the query was echoed raw.
  test::TempDir tmp;
  REQUIRE(test::run_mssearch("index " + q(test::corpus_dir()) + " --db " + q(tmp / "db") + " -q").exit_code == 0);
  const std::string typed = "\"$(printf 'a\\033[31mb')\"";
  auto clean = [](const test::CommandResult& r) {
    CHECK(r.out.find('\x1b') == std::string::npos);
    CHECK(r.err.find('\x1b') == std::string::npos);
  };
  auto search = test::run_mssearch("search " + typed + " --db " + q(tmp / "db"));
  CHECK(search.exit_code == 1);
  clean(search);
  CHECK_THAT(search.out, Catch::StartsWith("0 results for \"a\\x1b[31mb\""));
  auto related = test::run_mssearch("related " + typed + " --db " + q(tmp / "db"));
  CHECK(related.exit_code == 2);
  clean(related);
  CHECK_THAT(related.err, Catch::Contains("no article with id 'a\\x1b[31mb'"));
  auto suggest = test::run_mssearch("suggest " + typed + " --db " + q(tmp / "db"));
  clean(suggest);
  auto command = test::run_mssearch(typed + " --db " + q(tmp / "db"));
  CHECK(command.exit_code == 2);
  clean(command);
  CHECK_THAT(command.err, Catch::Contains("unknown command 'a\\x1b[31mb'"));
  auto option = test::run_mssearch("search x --sort " + typed + " --db " + q(tmp / "db"));
  CHECK(option.exit_code == 2);
  clean(option);
  CHECK_THAT(option.err, Catch::Contains("a\\x1b[31mb"));
}

TEST_CASE("cli: --json prints one JSON error object on stdout when there is no index, for every read command", "[cli]") {
  test::TempDir tmp;
  const std::string db = " --db " + q(tmp / "missing");
  for (const std::string command : {"stats", "check", "search x", "related x", "suggest x"}) {
    INFO(command);
    auto r = test::run_mssearch(command + " --json" + db);
    CHECK(r.exit_code == 2);
    REQUIRE_FALSE(r.out.empty());
    auto j = json::parse(r.out);
    CHECK(j["error"]["code"] == "index_missing");
    CHECK_THAT(j["error"]["message"].get<std::string>(), Catch::Contains("no index at"));
    // A file where the index belongs: io_error naming it, not "build one there" (which fails).
    test::write_file(tmp / "a-file", "not an index\n");
    for (const std::string& given : {(tmp / "a-file").string(), (tmp / "a-file").string() + "/"}) {
      auto file = test::run_mssearch(command + " --json --db " + q(given));
      CHECK(file.exit_code == 2);
      auto f = json::parse(file.out);
      CHECK(f["error"]["code"] == "io_error");
      CHECK_THAT(f["error"]["message"].get<std::string>(), Catch::Contains("it is a file"));
    }
  }
}

TEST_CASE("cli: --json prints one JSON error object on stdout for an argument it refuses", "[cli]") {
  test::TempDir tmp;
  for (const std::string args : {"search astrocytes --limit 1000 --json", "search astrocytes --json --sort bogus",
                                 "index --json --shards 0", "stats --json --no-such-flag", "related x --json --limit 0",
                                 // 1e308 made every score infinite ("score": null)
                                 "search astrocytes --json --recency-boost 1e308", "search ms --json --credibility-boost 2e6"}) {
    INFO(args);
    auto r = test::run_mssearch(args + " --db " + q(tmp / "db"));
    CHECK(r.exit_code == 2);
    const auto j = json::parse(r.out, nullptr, false);
    REQUIRE(j.is_object());
    CHECK(j["error"]["code"] == "bad_parameter");
    CHECK_FALSE(j["error"]["message"].get<std::string>().empty());
    // Nothing else: a nightly job's log (`--json -q >>log 2>&1`) got CLI11's usage message too.
    CHECK(r.err.empty());
  }
  // Nor for an error of the command itself: no index, another program's files.
  for (const std::string args : {"stats --json --db /nonexistent-db", "check --json --db /nonexistent-db",
                                 "search ms --json --db /nonexistent-db"}) {
    INFO(args);
    auto r = test::run_mssearch(args);
    CHECK(r.exit_code == 2);
    CHECK(json::parse(r.out, nullptr, false).is_object());
    CHECK(r.err.empty());
  }
  // Without --json, stdout stays empty.
  CHECK(test::run_mssearch("search astrocytes --limit 1000").out.empty());
  // A query word "--json" after "--" is a word, not the flag: no JSON either.
  const auto word = test::run_mssearch("search --limit 1000 --db " + q(tmp / "db") + " -- --json");
  CHECK(word.exit_code == 2);
  CHECK(word.out.empty());
}

TEST_CASE("cli: search --json has the documented shape, and so do related and suggest", "[cli]") {
  test::TempDir tmp;
  const std::string db = " --db " + q(tmp / "db");
  const std::string synonyms = " --synonyms " + q(test::corpus_dir() / "synonyms.yaml");
  REQUIRE(test::run_mssearch("index " + q(test::corpus_dir()) + db + " -q").exit_code == 0);

  // A query that begins with '-' after "--", beside a repeatable filter (--year, --topic): the
  // filter took the query as a second value ("query is required").
  for (const char* filter : {" --year=2025", " --year 2025", " --topic Fatigue", " --journal glia"}) {
    INFO(filter);
    auto excluded = test::run_mssearch(std::string("search --json") + filter + db + " -- -date:2025-01-01..2025-06-30");
    CHECK(excluded.exit_code != 2);
    CHECK(json::parse(excluded.out, nullptr, false).contains("hits"));
  }
  CHECK(json::parse(test::run_mssearch("search --json --year 2025 --year 2026" + db + " fatigue").out)["total"] > 0);

  auto r = test::run_mssearch("search astrocytes --json --limit 3" + db + synonyms);
  REQUIRE(r.exit_code == 0);
  auto j = json::parse(r.out);
  for (const char* key : {"query", "total", "total_is_exact", "took_ms", "hits", "facets", "did_you_mean", "related"})
    CHECK(j.contains(key));
  CHECK(j["hits"].size() == 3);
  for (const char* key : {"id", "title", "url", "date", "topics", "journal", "score", "snippet"})
    CHECK(j["hits"][0].contains(key));
  CHECK(j["facets"]["topics"][0]["value"] == "Astrocytes");
  CHECK(j["facets"]["topics"][0]["count"] == 3);
  CHECK(j["facets"].contains("years"));
  CHECK(j["facets"].contains("journals"));
  CHECK_FALSE(j["related"].empty());

  // --synonyms '' searches without any (as serve's does), not with the default file.
  auto lay = json::parse(test::run_mssearch("search 'nerve coating' --json" + db + synonyms).out);
  auto bare = json::parse(test::run_mssearch("search 'nerve coating' --json --synonyms ''" + db, "MSSEARCH_SYNONYMS=" + (test::corpus_dir() / "synonyms.yaml").string()).out);
  CHECK(bare["total"].get<int>() != lay["total"].get<int>());  // the lay group reads "nerve coating" as one idea
  auto ms = json::parse(test::run_mssearch("search MS --json" + db + synonyms).out);
  auto spelled = json::parse(test::run_mssearch("search 'multiple sclerosis' --json" + db + synonyms).out);
  CHECK(ms["total"].get<int>() >= 40);
  CHECK(ms["total"] == spelled["total"]);

  auto typo = json::parse(test::run_mssearch("search astrocites --json" + db + synonyms).out);
  CHECK(typo["did_you_mean"] == "astrocytes");

  auto bad = test::run_mssearch("search " + q(std::string(5000, 'x')) + " --json" + db);
  CHECK(bad.exit_code == 2);
  CHECK(json::parse(bad.out)["error"]["code"] == "bad_query");

  auto human = test::run_mssearch("search 'nerve coating' --topic Remyelination" + db + synonyms);
  CHECK(human.exit_code == 0);
  // Counted without the topic filter (disjunctive facets): said so.
  CHECK_THAT(human.out, Catch::Contains("Topics (any topic):") && Catch::Contains("Years:") &&
                            !Catch::Contains("Years (any year)"));
  CHECK_THAT(human.out, !Catch::Contains("\x1b["));  // no colour when not a terminal
  auto unfiltered = test::run_mssearch("search 'nerve coating'" + db + synonyms);
  CHECK_THAT(unfiltered.out, Catch::Contains("Topics:") && !Catch::Contains("(any topic)"));

  // On a terminal (a pseudo-terminal from util-linux's script): colour, but not for TERM=dumb
  // or NO_COLOR.
  auto on_terminal = [&](const std::string& env) {
    test::TempDir t;
    const std::string inner = "env " + env + " '" MSSEARCH_BIN "' search astrocytes" + db;
    const std::string cmd = "script -qec \"" + inner + "\" /dev/null > " + q(t / "out") + " 2>&1 </dev/null";
    REQUIRE(std::system(cmd.c_str()) == 0);
    return test::read_file(t / "out");
  };
  CHECK_THAT(on_terminal("TERM=xterm"), Catch::Contains("\x1b["));
  CHECK_THAT(on_terminal("TERM=dumb"), !Catch::Contains("\x1b["));
  CHECK_THAT(on_terminal("TERM=xterm NO_COLOR=1"), !Catch::Contains("\x1b["));

  auto related = test::run_mssearch("related astrocytes-two-faces --json --limit 4" + db);
  REQUIRE(related.exit_code == 0);
  auto rj = json::parse(related.out);
  CHECK(rj["related"].size() == 4);
  for (const auto& h : rj["related"]) CHECK(h["id"] != "astrocytes-two-faces");
  CHECK(test::run_mssearch("related no-such-id" + db).exit_code == 2);

  auto suggest = test::run_mssearch("suggest astro --json" + db);
  REQUIRE(suggest.exit_code == 0);
  CHECK_FALSE(json::parse(suggest.out)["suggestions"].empty());
  // An empty list is exit 1, as a search without hits (README, "Exit codes").
  auto none = test::run_mssearch("suggest zzqqxx --json" + db);
  CHECK(none.exit_code == 1);
  CHECK(json::parse(none.out)["suggestions"].empty());
  test::TempDir lone;
  test::write_file(lone / "a/only.md", test::markdown_article("The only one"));
  REQUIRE(test::run_mssearch("index " + q(lone / "a") + " --db " + q(lone / "db") + " -q").exit_code == 0);
  auto alone = test::run_mssearch("related only --json --db " + q(lone / "db"));
  CHECK(alone.exit_code == 1);
  CHECK(json::parse(alone.out)["related"].empty());
  // --limit takes what the API takes (1 to max_per_page, 100): suggest stopped at 50.
  CHECK(test::run_mssearch("suggest astro --limit 100 --json" + db).exit_code == 0);
  CHECK(test::run_mssearch("related astrocytes-two-faces --limit 100 --json" + db).exit_code == 0);
  for (const char* over : {"suggest astro --limit 101", "related astrocytes-two-faces --limit 101", "search a --limit 101"}) {
    CAPTURE(over);
    CHECK(test::run_mssearch(over + db).exit_code == 2);
  }
}

TEST_CASE("cli: serve refuses an index named beside shard servers, which it would ignore", "[cli][server]") {
  // Port 9 (discard): never reached, the arguments are refused first.
  for (const char* index : {"--db /tmp/some-index", "--database /tmp/some-index"}) {
    CAPTURE(index);
    auto r = test::run_mssearch(std::string("serve ") + index + " --port 0 --shard http://127.0.0.1:9");
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("a coordinator (shards) searches its shard servers, not an index"));
  }
}

TEST_CASE("cli: serve refuses a shard secret that is set but empty, which would guard nothing", "[cli][server]") {
  // It printed "(secret required)" and answered every coordinator's request without one.
  test::TempDir tmp;
  // Under `timeout`: a server that starts after all is ended, and fails the test.
  auto env = test::run_mssearch("serve --db /tmp/some-index --port 0 --shard-server", "MSSEARCH_SHARD_SECRET=", "timeout 20");
  CHECK(env.exit_code == 2);
  CHECK_THAT(env.err, Catch::Contains("MSSEARCH_SHARD_SECRET is set but empty"));
  test::write_file(tmp / "server.yaml", "shard_server: true\nshard_secret: \"\"\n");
  auto yaml = test::run_mssearch("serve --config " + q(tmp / "server.yaml") + " --db /tmp/some-index --port 0", "",
                                 "timeout 20");
  CHECK(yaml.exit_code == 2);
  CHECK_THAT(yaml.err, Catch::Contains("'shard_secret' is empty"));
  // Spaces at either end: HTTP drops them from the coordinator's header, so it never matched.
  auto spaced = test::run_mssearch("serve --db /tmp/some-index --port 0 --shard-server", "MSSEARCH_SHARD_SECRET=' '",
                                   "timeout 20");
  CHECK(spaced.exit_code == 2);
  CHECK_THAT(spaced.err, Catch::Contains("begins or ends with a space"));
  test::write_file(tmp / "server.yaml", "shard_server: true\nshard_secret: \"abc \"\n");
  auto spaced_yaml = test::run_mssearch("serve --config " + q(tmp / "server.yaml") + " --db /tmp/some-index --port 0", "",
                                        "timeout 20");
  CHECK(spaced_yaml.exit_code == 2);
  CHECK_THAT(spaced_yaml.err, Catch::Contains("begins or ends with a space"));
}

TEST_CASE("cli: serve listens on loopback, answers, and stops cleanly on SIGTERM", "[cli][server]") {
  test::TempDir tmp;
  REQUIRE(test::run_mssearch("index " + q(test::corpus_dir()) + " --db " + q(tmp / "db") + " -q").exit_code == 0);
  // Synonyms from $MSSEARCH_SYNONYMS, as `search` takes them (serve ignored it: the API's
  // answers differed from `search --json`'s without a word).
  test::write_file(tmp / "syn.yaml", "words:\n  - [zzqstar, astrocytes]\n");
  const std::string env = "MSSEARCH_SYNONYMS=" + q(tmp / "syn.yaml");
  const std::string cmd = env + " '" MSSEARCH_BIN "' serve --db " + q(tmp / "db") + " --port 0 --threads 2 >" +
                          q(tmp / "out") + " 2>" + q(tmp / "err") + " & echo $!";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  int pid = 0;
  REQUIRE(std::fscanf(p, "%d", &pid) == 1);
  ::pclose(p);
  int port = 0;
  for (int i = 0; i < 300 && port == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const std::string out = test::read_file(tmp / "out");
    auto at = out.find("http://127.0.0.1:");
    if (at != std::string::npos) port = std::atoi(out.c_str() + at + 17);
  }
  REQUIRE(port > 0);
  CHECK_THAT(test::read_file(tmp / "out"), Catch::Contains("50 articles"));
  httplib::Client c("127.0.0.1", port);
  auto r = c.Get("/api/search?q=astrocytes");
  REQUIRE(r);
  CHECK(r->status == 200);
  auto by_synonym = c.Get("/api/search?q=zzqstar");
  REQUIRE(by_synonym);
  const auto cli = test::run_mssearch("search zzqstar --json --db " + q(tmp / "db"), env);
  REQUIRE(cli.exit_code == 0);
  CHECK(json::parse(by_synonym->body)["total"].get<int>() > 0);
  CHECK(json::parse(by_synonym->body)["total"] == json::parse(cli.out)["total"]);
  ::kill(pid, SIGTERM);
  int status = 0;
  for (int i = 0; i < 300; ++i) {
    if (::waitpid(pid, &status, WNOHANG) == pid) break;
    if (::kill(pid, 0) != 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(::kill(pid, 0) != 0);  // it ended by itself
  CHECK_THAT(test::read_file(tmp / "out"), Catch::Contains("stopped"));
  CHECK_THAT(test::read_file(tmp / "err"), Catch::Contains("GET /api/search?q=astrocytes 200"));
}

TEST_CASE("cli: serve whose stdout cannot be written serves on, says so once, and ends 0 on SIGTERM", "[cli][server]") {
  // Its lines lost on a full disk, it exited 2 after SIGTERM: a failed unit to systemd.
  test::TempDir tmp;
  REQUIRE(test::run_mssearch("index " + q(test::corpus_dir()) + " --db " + q(tmp / "db") + " -q").exit_code == 0);
  const int port = test::free_port();
  const std::string inner = "'" MSSEARCH_BIN "' serve --db " + q(tmp / "db") + " --port " + std::to_string(port) +
                            " --threads 1 >/dev/full 2>" + q(tmp / "err") + " </dev/null & echo $! >" + q(tmp / "pid") +
                            "; wait $!; echo $? >" + q(tmp / "rc");
  test::write_file(tmp / "run.sh", inner + "\n");
  REQUIRE(std::system(("sh " + q(tmp / "run.sh") + " >/dev/null 2>&1 &").c_str()) == 0);
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(1);
  int status = 0;
  for (int i = 0; i < 300 && status == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (auto r = c.Get("/api/search?q=astrocytes")) status = r->status;
  }
  CHECK(status == 200);
  const int pid = std::atoi(test::read_file(tmp / "pid").c_str());
  REQUIRE(pid > 0);
  ::kill(pid, SIGTERM);
  for (int i = 0; i < 500 && !fs::exists(tmp / "rc"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(fs::exists(tmp / "rc"));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the shell's write of it
  CHECK(std::atoi(test::read_file(tmp / "rc").c_str()) == 0);
  const std::string err = test::read_file(tmp / "err");
  CHECK_THAT(err, Catch::Contains("standard output cannot be written (No space left on device)"));
  CHECK(err.find("standard output cannot be written") == err.rfind("standard output cannot be written"));  // once
}

TEST_CASE("cli: serve on an IPv6 address prints its URL with the address in brackets", "[cli][server]") {
  // `listening on http://::1:PORT/` was no URL a browser or curl opens.
  test::TempDir tmp;
  REQUIRE(test::run_mssearch("index " + q(test::corpus_dir()) + " --db " + q(tmp / "db") + " -q").exit_code == 0);
  const std::string cmd = "'" MSSEARCH_BIN "' serve --db " + q(tmp / "db") + " --host ::1 --port 0 --threads 1 >" +
                          q(tmp / "out") + " 2>" + q(tmp / "err") + " & echo $!";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  int pid = 0;
  REQUIRE(std::fscanf(p, "%d", &pid) == 1);
  ::pclose(p);
  std::string out;
  for (int i = 0; i < 300 && out.find("listening") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    out = test::read_file(tmp / "out");
    if (::kill(pid, 0) != 0) break;  // ended: no IPv6 here
  }
  ::kill(pid, SIGTERM);
  for (int i = 0; i < 300 && ::kill(pid, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (test::read_file(tmp / "err").find("cannot listen on") != std::string::npos) return;  // no IPv6 loopback here
  CHECK_THAT(out, Catch::Contains("listening on http://[::1]:"));
  CHECK_THAT(out, !Catch::Contains("http://::1:"));
}

TEST_CASE("cli: eval scores a judged collection and --floors fails below a floor", "[cli][eval]") {
  test::TempDir tmp;
  const auto set = tmp / "tiny";
  fs::create_directories(set);
  test::write_file(set / "docs.jsonl",
                   "{\"id\":\"d1\",\"title\":\"Vitamin D and relapses\",\"text\":\"Vitamin D levels and relapse rates.\"}\n"
                   "{\"id\":\"d2\",\"title\":\"Gut bacteria\",\"text\":\"The gut microbiome in multiple sclerosis.\"}\n"
                   "{\"id\":\"d3\",\"title\":\"Walking\",\"text\":\"Walking aids reduce falls.\"}\n");
  test::write_file(set / "queries.tsv", "q1\tvitamin d\nq2\tgut bacteria\nq3\tunjudged query\n");
  test::write_file(set / "qrels.tsv", "q1\td1\t1\nq2\td2\t2\n");
  auto r = test::run_mssearch("eval " + q(set) + " --json --run " + q(tmp / "run.txt"));
  REQUIRE(r.exit_code == 0);
  auto j = json::parse(r.out);
  REQUIRE(j.size() == 1);
  CHECK(j[0]["mssearch"]["queries"] == 2);  // only judged queries count
  CHECK(j[0]["mssearch"]["ndcg@10"].get<double>() == Approx(1.0));
  CHECK(j[0]["baseline"]["ndcg@10"].get<double>() == Approx(1.0));
  CHECK_THAT(test::read_file(tmp / "run.txt"), Catch::Contains("q1 Q0 d1 1 "));

  test::write_file(tmp / "met.yaml", "tiny: {ndcg@10: 0.99, map@100: 0.99}\nother: {ndcg@10: 1.0}\n");
  auto met = test::run_mssearch("eval " + q(set) + " --no-baseline --floors " + q(tmp / "met.yaml"));
  CHECK(met.exit_code == 0);
  CHECK_THAT(met.err, Catch::Contains("every quality floor met"));

  // A floor above what the ranking reaches is what a regression looks like to CI.
  test::write_file(tmp / "unmet.yaml", "tiny: {ndcg@10: 1.01, map@100: 0.5}\n");
  auto unmet = test::run_mssearch("eval " + q(set) + " --no-baseline --floors " + q(tmp / "unmet.yaml"));
  CHECK(unmet.exit_code == 1);
  CHECK_THAT(unmet.err, Catch::Contains("quality regression: tiny ndcg@10 is 1.0"));
  CHECK_THAT(unmet.err, !Catch::Contains("map@100 is"));

  test::write_file(tmp / "bad.yaml", "tiny: {precision: 0.5}\n");
  auto bad = test::run_mssearch("eval " + q(set) + " --no-baseline --floors " + q(tmp / "bad.yaml"));
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("unknown metric 'precision'"));
}

TEST_CASE("cli: analytics reports what the server recorded, exit 2 when there is nothing to read", "[cli]") {
  test::TempDir tmp;
  const fs::path file = tmp / "analytics.sqlite";
  // What a server with analytics on writes (same tables), through SQLite's own command.
  const std::string now = "CAST(strftime('%s','now') AS INTEGER)";
  const std::string sql = "CREATE TABLE searches (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, query TEXT NOT NULL, hits INTEGER NOT NULL);"
                          "CREATE TABLE clicks (search_id INTEGER NOT NULL, at INTEGER NOT NULL, position INTEGER NOT NULL);"
                          "INSERT INTO searches (id, at, query, hits) VALUES (1, " + now + ", 'fatigue', 9), (2, " + now + ", 'fatigue', 9),"
                          " (3, " + now + ", 'ocrevus hair loss', 0), (4, " + now + ", 'heat', 4);"
                          "INSERT INTO clicks VALUES (1, " + now + ", 2);";
  REQUIRE(std::system(("sqlite3 " + q(file) + " \"" + sql + "\"").c_str()) == 0);
  auto as_json = test::run_mssearch("analytics --file " + q(file) + " --since 24h --json");
  REQUIRE(as_json.exit_code == 0);
  auto report = nlohmann::json::parse(as_json.out);
  CHECK(report["searches"] == 4);
  CHECK(report["clicks"] == 1);
  CHECK(report["top"][0]["query"] == "fatigue");
  CHECK(report["top"][0]["searches"] == 2);
  CHECK(report["zero_hits"][0]["query"] == "ocrevus hair loss");
  CHECK(report["no_clicks"][0]["query"] == "heat");
  auto human = test::run_mssearch("analytics --file " + q(file));
  CHECK(human.exit_code == 0);
  CHECK_THAT(human.out, Catch::Contains("Found nothing"));
  CHECK_THAT(human.out, Catch::Contains("ocrevus hair loss"));
  auto missing = test::run_mssearch("analytics --file " + q(tmp / "none.sqlite"));
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Catch::Contains("no analytics database"));
  auto bad = test::run_mssearch("analytics --file " + q(file) + " --since yesterday");
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("--since"));
  // From the server's configuration: its `analytics:` file, relative to the configuration.
  test::write_file(tmp / "server.yaml", "analytics: analytics.sqlite\n");
  auto configured = test::run_mssearch("analytics --config " + q(tmp / "server.yaml") + " --json");
  CHECK(configured.exit_code == 0);
  CHECK_THAT(configured.out, Catch::Contains("ocrevus hair loss"));
}

TEST_CASE("cli: analytics escapes bytes that are no UTF-8 character, as a foreign file may hold", "[cli]") {
  test::TempDir tmp;
  const fs::path file = tmp / "analytics.sqlite";
  const std::string now = "CAST(strftime('%s','now') AS INTEGER)";
  // Raw bytes stored as text: a lone 0x9B (CSI to a terminal in 8-bit mode), 0xFF, a cut
  // three-byte character, and a whole one (é) that stays.
  const std::string sql =
      "CREATE TABLE searches (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, query TEXT NOT NULL, hits INTEGER NOT NULL);"
      "CREATE TABLE clicks (search_id INTEGER NOT NULL, at INTEGER NOT NULL, position INTEGER NOT NULL);"
      "INSERT INTO searches (id, at, query, hits) VALUES (1, " + now + ", CAST(X'6B9B6C' AS TEXT), 1);"
      "INSERT INTO searches (id, at, query, hits) VALUES (2, " + now + ", CAST(X'6DFF6E' AS TEXT), 1);"
      "INSERT INTO searches (id, at, query, hits) VALUES (3, " + now + ", CAST(X'6FE282' AS TEXT), 1);"
      "INSERT INTO searches (id, at, query, hits) VALUES (4, " + now + ", CAST(X'70C3A971' AS TEXT), 1);";
  REQUIRE(std::system(("sqlite3 " + q(file) + " \"" + sql + "\"").c_str()) == 0);
  auto human = test::run_mssearch("analytics --file " + q(file));
  REQUIRE(human.exit_code == 0);
  CHECK_THAT(human.out, Catch::Contains("  k\\x9bl  "));
  CHECK_THAT(human.out, Catch::Contains("  m\\xffn  "));
  CHECK_THAT(human.out, Catch::Contains("  o\\xe2\\x82  "));
  CHECK_THAT(human.out, Catch::Contains("  p\xc3\xa9q  "));
  CHECK(human.out.find('\x9b') == std::string::npos);
  CHECK(human.out.find('\xff') == std::string::npos);
}

TEST_CASE("cli: analytics escapes the control characters that the server strips from recorded words", "[cli]") {
  // Each query as an older or foreign file may hold it (written by SQLite: char() is a code
  // point), as `mssearch analytics` prints it and as the server records it (normalise_query): the
  // characters escaped in the one are the ones that became spaces in the other.
  struct Case {
    std::string sql, raw, shown, recorded;
  };
  const std::vector<Case> cases = {
      {"'a' || char(27) || '[31mb'", "a\x1b[31mb", "a\\x1b[31mb", "a [31mb"},                // ESC (C0)
      {"'c' || char(127) || 'd'", "c\x7f" "d", "c\\x7fd", "c d"},                            // DEL
      {"'e' || char(155) || '31mf'", "e\xc2\x9b" "31mf", "e\\x9b31mf", "e 31mf"},             // CSI (C1)
      {"'g' || char(128, 159) || 'h'", "g\xc2\x80\xc2\x9fh", "g\\x80\\x9fh", "g h"},        // C1's ends
      {"'i' || char(169) || 'j'", "i\xc2\xa9j", "i\xc2\xa9j", "i\xc2\xa9j"},                      // ©: no control
  };
  test::TempDir tmp;
  const fs::path file = tmp / "analytics.sqlite";
  const std::string now = "CAST(strftime('%s','now') AS INTEGER)";
  std::string sql = "CREATE TABLE searches (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, query TEXT NOT NULL, hits INTEGER NOT NULL);"
                    "CREATE TABLE clicks (search_id INTEGER NOT NULL, at INTEGER NOT NULL, position INTEGER NOT NULL);";
  for (std::size_t i = 0; i < cases.size(); ++i)
    sql += "INSERT INTO searches (id, at, query, hits) VALUES (" + std::to_string(i + 1) + ", " + now + ", " + cases[i].sql + ", 1);";
  REQUIRE(std::system(("sqlite3 " + q(file) + " \"" + sql + "\"").c_str()) == 0);
  auto as_json = test::run_mssearch("analytics --file " + q(file) + " --json");
  REQUIRE(as_json.exit_code == 0);
  const json report = json::parse(as_json.out);
  std::set<std::string> held;
  for (const auto& row : report["top"]) held.insert(row["query"].get<std::string>());
  auto human = test::run_mssearch("analytics --file " + q(file));
  REQUIRE(human.exit_code == 0);
  for (const auto& c : cases) {
    INFO(c.shown);
    CHECK(held.count(c.raw) == 1);  // the file does hold the characters
    CHECK_THAT(human.out, Catch::Contains("  " + c.shown + "  "));
    CHECK(normalise_query(c.raw) == c.recorded);
  }
  std::size_t controls = 0;  // none reaches the terminal, wherever it is in the file
  for (std::size_t i = 0; i < human.out.size(); ++i) controls += human.out[i] != '\n' && control_char_length(human.out, i) > 0;
  CHECK(controls == 0);
}

namespace {

// A plain Xapian database as another program writes it: documents, no mssearch metadata.
void write_foreign_database(const fs::path& dir) {
  Xapian::WritableDatabase w(dir.string(), Xapian::DB_CREATE);
  for (const char* word : {"hello", "world"}) {
    Xapian::Document doc;
    doc.set_data(std::string("a note that says ") + word);
    doc.add_term(word);
    doc.add_term(std::string("Q") + word);
    w.add_document(doc);
  }
  w.set_metadata("otherprogram.version", "7");
  w.commit();
}

// Each file under `dir` with its size and modification time: what a command must leave as it was.
std::map<std::string, std::string> files_of(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    out[e.path().lexically_relative(dir).string()] =
        e.is_regular_file() ? fmt::format("{} {}", e.file_size(), e.last_write_time().time_since_epoch().count()) : "dir";
  return out;
}

// `mssearch serve ARGS --port 0` in the background until it says it listens (or ends), then
// `during(port)` (0 when it never listened), then SIGTERM: its stdout and stderr.
std::pair<std::string, std::string> serve_for_a_while(const test::TempDir& tmp, const std::string& args,
                                                      const std::function<void(int)>& during) {
  const std::string cmd = "'" MSSEARCH_BIN "' serve " + args + " --port 0 --threads 1 >" + q(tmp / "serve.out") + " 2>" +
                          q(tmp / "serve.err") + " </dev/null & echo $!";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  int pid = 0;
  REQUIRE(std::fscanf(p, "%d", &pid) == 1);
  ::pclose(p);
  int port = 0;
  for (int i = 0; i < 500 && port == 0 && ::kill(pid, 0) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const std::string out = test::read_file(tmp / "serve.out");
    if (const auto at = out.find("http://127.0.0.1:"); at != std::string::npos) port = std::atoi(out.c_str() + at + 17);
  }
  during(port);
  ::kill(pid, SIGTERM);
  for (int i = 0; i < 500 && ::kill(pid, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return {test::read_file(tmp / "serve.out"), test::read_file(tmp / "serve.err")};
}

}  // namespace

TEST_CASE("cli: another program's Xapian database is named as such by every command, and nothing is written there", "[cli]") {
  // search said "rebuild it with `mssearch index --full`", and index --full then refused it;
  // check called it DAMAGED (exit 1); index left its index.lock in the other program's folder.
  test::TempDir tmp;
  const fs::path foreign = tmp / "foreigndb";
  write_foreign_database(foreign);
  const auto before = files_of(foreign);
  auto says_foreign = [&](const test::CommandResult& r) {
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(foreign.string() + " is another program's Xapian database") &&
                          Catch::Contains("not an mssearch index"));
    // No advice to build or rebuild into it.
    CHECK_THAT(r.err, !Catch::Contains("--full") && !Catch::Contains("rebuild") && !Catch::Contains("DAMAGED") &&
                          !Catch::Contains("build one with"));
  };
  for (const std::string& command : std::vector<std::string>{"search hello", "related hello", "suggest hel", "stats", "check",
                                                             "index " + q(test::corpus_dir()) + " -q",
                                                             "index " + q(test::corpus_dir()) + " -q --full"}) {
    CAPTURE(command);
    says_foreign(test::run_mssearch(command + " --db " + q(foreign)));
    auto j = test::run_mssearch(command + " --json --db " + q(foreign));
    CHECK(j.exit_code == 2);
    const json answer = json::parse(j.out);
    const json error = answer.contains("error") ? answer["error"] : json::object();  // check printed its report
    CHECK(error.value("code", "") == "io_error");
    CHECK_THAT(error.value("message", ""), Catch::Contains("is another program's Xapian database"));
  }
  CHECK(files_of(foreign) == before);  // no index.lock, no generation, no stub
  CHECK_FALSE(fs::exists(foreign / "index.lock"));
  const auto [out, err] = serve_for_a_while(tmp, "--db " + q(foreign), [](int) {});
  CHECK_THAT(err, Catch::Contains(foreign.string() + " is another program's Xapian database"));
  CHECK_THAT(err, !Catch::Contains("--full") && !Catch::Contains("rebuild"));
  CHECK(files_of(foreign) == before);
  // Its documents are its own: still the two it wrote, readable by it.
  CHECK(Xapian::Database(foreign.string()).get_doccount() == 2);
}

TEST_CASE("cli: an mssearch database given as a plain folder is refused by --full before anything is written", "[cli]") {
  // One generation of an index, given itself as --db: incremental runs build on it; --full
  // cannot swap a new generation into it, and said so only after taking its lock.
  test::TempDir tmp;
  REQUIRE(test::run_mssearch("index " + q(test::corpus_dir()) + " --db " + q(tmp / "db") + " -q").exit_code == 0);
  const auto live = live_database_dir(tmp / "db");
  REQUIRE(live);
  fs::copy(*live, tmp / "plain", fs::copy_options::recursive);
  const auto before = files_of(tmp / "plain");
  auto r = test::run_mssearch("index " + q(test::corpus_dir()) + " --full -q --db " + q(tmp / "plain"));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("is a plain Xapian database") && !Catch::Contains("another program"));
  CHECK(files_of(tmp / "plain") == before);
  CHECK(test::run_mssearch("search astrocytes --db " + q(tmp / "plain")).exit_code == 0);
  CHECK(test::run_mssearch("check --db " + q(tmp / "plain")).exit_code == 0);
}

TEST_CASE("cli: control characters in an index path are escaped in every line that names it", "[cli][server]") {
  // stats, check and serve printed the path raw: a newline split the line, ESC[31m turned the terminal red.
  test::TempDir tmp;
  const fs::path db = tmp / "sp ace\nnl\x1b[31mdb";
  const std::string shown = (tmp / "sp ace\\x0anl\\x1b[31mdb").string();
  REQUIRE(test::run_mssearch("index " + q(test::corpus_dir()) + " -q --db " + q(db)).exit_code == 0);
  auto raw_free = [](const std::string& text) {
    for (const char c : text)
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\n') || c == 0x7f) return false;
    return text.find("nl\x1b") == std::string::npos && text.find("\nnl") == std::string::npos;
  };
  auto stats = test::run_mssearch("stats --db " + q(db));
  CHECK(stats.exit_code == 0);
  CHECK_THAT(stats.out, Catch::Contains("index: " + shown + "\n"));
  CHECK(raw_free(stats.out + stats.err));
  auto check = test::run_mssearch("check --db " + q(db));
  CHECK(check.exit_code == 0);
  CHECK_THAT(check.out, Catch::Contains(shown + "/gen-") && Catch::Contains("50 documents, ok"));
  CHECK(raw_free(check.out + check.err));
  // Errors that name it (a missing index below it, a table changed since the last job).
  auto missing = test::run_mssearch("stats --db " + q(db / "none"));
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Catch::Contains(shown + "/none"));
  CHECK(raw_free(missing.out + missing.err));
  auto missing_check = test::run_mssearch("check --db " + q(db / "none"));
  CHECK(missing_check.exit_code == 2);
  CHECK(raw_free(missing_check.out + missing_check.err));
  // --json: JSON-escaped, the path itself when parsed.
  auto stats_json = test::run_mssearch("stats --json --db " + q(db));
  CHECK(stats_json.exit_code == 0);
  CHECK_NOTHROW(json::parse(stats_json.out));
  auto check_json = test::run_mssearch("check --json --db " + q(db));
  REQUIRE(check_json.exit_code == 0);
  CHECK_THAT(json::parse(check_json.out)["databases"][0]["database"].get<std::string>(), Catch::StartsWith(db.string() + "/gen-"));
  // serve: the line that says what it serves, and the log lines of a server without its index.
  const auto [out, err] = serve_for_a_while(tmp, "--db " + q(db), [](int port) { CHECK(port > 0); });
  CHECK_THAT(out, Catch::Contains("50 articles") && Catch::Contains("from " + shown + "\n"));
  CHECK(raw_free(out + err));
  const auto [none_out, none_err] = serve_for_a_while(tmp, "--db " + q(db / "none"), [](int port) {
    REQUIRE(port > 0);
    httplib::Client c("127.0.0.1", port);
    auto r = c.Get("/api/search?q=astrocytes");
    REQUIRE(r);
    CHECK(r->status == 503);
  });
  CHECK_THAT(none_err, Catch::Contains("no index at " + shown + "/none"));
  CHECK_THAT(none_err, Catch::Contains("answered 503"));
  CHECK(raw_free(none_out + none_err));
}

TEST_CASE("cli: a query that starts with or holds a minus word is told to go after --", "[cli]") {
  // "query is required" and "argument was not expected" said nothing of the README's `--`.
  test::TempDir tmp;
  REQUIRE(test::run_mssearch("index " + q(test::corpus_dir()) + " -q --db " + q(tmp / "db")).exit_code == 0);
  // One message, naming the word and the command as it goes (CLI11's "query is required" came
  // first, the hint on a line below it, and both in the JSON message).
  // The example keeps the options as given, before `--`: without them (`--db DIR`) the command
  // it showed searched another index.
  const std::string db = (tmp / "db").string();
  REQUIRE(db.find_first_of(" '\"\\$") == std::string::npos);  // shown as it is, unquoted
  const std::map<std::string, std::string> typed_as = {
      {"-fatigue", "`mssearch search --db DB -- -fatigue`"},
      {"brain -fatigue", "`mssearch search --db DB -- brain -fatigue`"},
      {"-fatigue brain", "`mssearch search --db DB -- -fatigue brain`"},
      {"-fatigue --limit 3", "`mssearch search --limit 3 --db DB -- -fatigue`"},
      {"--limit 3 -fatigue 'brain fog'", "`mssearch search --limit 3 --db DB -- -fatigue 'brain fog'`"}};
  for (const auto& [query, shown] : typed_as) {
    CAPTURE(query);
    const std::string example = shown.substr(0, shown.find(" DB ")) + " " + db + shown.substr(shown.find(" DB ") + 3);
    auto r = test::run_mssearch("search " + query + " --db " + q(tmp / "db"));
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Catch::StartsWith("mssearch search: '-fatigue' is no option") && Catch::Contains("after `--`") &&
                          Catch::Contains(example));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_THAT(r.err, !Catch::Contains("required") && !Catch::Contains("not expected"));
    // What it says to type searches that index.
    const auto copied = test::run_mssearch(example.substr(std::string("`mssearch ").size(), example.size() - 11));
    CHECK(copied.exit_code <= 1);
    CHECK_THAT(copied.err, !Catch::Contains("no index"));
    auto j = test::run_mssearch("search " + query + " --json --db " + q(tmp / "db"));
    CHECK(j.exit_code == 2);
    const auto message = json::parse(j.out)["error"]["message"].get<std::string>();
    const std::string with_json = example.substr(0, example.find(" --db")) + " --json" + example.substr(example.find(" --db"));
    CHECK_THAT(message, Catch::StartsWith("'-fatigue' is no option") && Catch::Contains(with_json));
    CHECK_THAT(message, !Catch::Contains("required") && !Catch::Contains("not expected"));
  }
  // suggest and related take their text and id the same way: a prefix `-fat` printed "prefix is
  // required", `-help` (-h) the help with exit 0.
  for (const std::string command : {"suggest -fat", "suggest -help", "suggest multiple -scl", "related -x1", "related -h2"}) {
    CAPTURE(command);
    auto r = test::run_mssearch(command + " --db " + q(tmp / "db"));
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::StartsWith("mssearch " + command.substr(0, command.find(' ')) + ": '-") &&
                          Catch::Contains("after `--`") && !Catch::Contains("required"));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    auto j = test::run_mssearch(command + " --json --db " + q(tmp / "db"));
    CHECK(j.exit_code == 2);
    CHECK_THAT(json::parse(j.out)["error"]["message"].get<std::string>(), Catch::Contains("after `--`"));
    CHECK(j.err.empty());  // with --json, the JSON alone
  }
  CHECK(test::run_mssearch("suggest --db " + q(tmp / "db") + " -- -fat").exit_code <= 1);
  CHECK(test::run_mssearch("related -h").exit_code == 0);
  // The help asked for is the help, a minus word beside it or not.
  CHECK(test::run_mssearch("search -fatigue --help").exit_code == 0);
  // A minus word that starts with h: CLI11 read -h and printed the help, exit 0.
  for (const std::string query : {"-headache", "brain -headache", "-help"}) {
    CAPTURE(query);
    auto r = test::run_mssearch("search " + query + " --db " + q(tmp / "db"));
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("'-h") && Catch::Contains("after `--`"));
    CHECK_THAT(r.out, !Catch::Contains("Usage"));
    auto j = test::run_mssearch("search " + query + " --json --db " + q(tmp / "db"));
    CHECK(j.exit_code == 2);
    CHECK_THAT(json::parse(j.out)["error"]["message"].get<std::string>(), Catch::Contains("after `--`"));
  }
  CHECK(test::run_mssearch("search -h").exit_code == 0);
  CHECK(test::run_mssearch("search --db " + q(tmp / "db") + " -- -headache brain").exit_code == 0);
  // What the hint says works.
  auto after = test::run_mssearch("search --db " + q(tmp / "db") + " -- brain -fatigue");
  CHECK(after.exit_code == 0);
  CHECK_THAT(after.out, Catch::Contains("for \"brain -fatigue\""));
  // An unknown option that is no query word is still refused as before, without the hint.
  auto option = test::run_mssearch("search brain --limt 3 --db " + q(tmp / "db"));
  CHECK(option.exit_code == 2);
  CHECK_THAT(option.err, !Catch::Contains("after `--`"));
  // A missing query is only that.
  auto none = test::run_mssearch("search --db " + q(tmp / "db"));
  CHECK(none.exit_code == 2);
  CHECK_THAT(none.err, Catch::Contains("query is required") && !Catch::Contains("after `--`"));
}

TEST_CASE("cli: an option's value that starts with a minus is the option's value, --topic -x as --topic=-x", "[cli]") {
  // `--topic -hemi` was refused as a minus word that belongs after `--` (`-h…`: the help flag
  // word), and `--topic -fatigue` with no query was told the same instead of "query is required".
  test::TempDir tmp;
  REQUIRE(test::run_mssearch("index " + q(test::corpus_dir()) + " -q --db " + q(tmp / "db")).exit_code == 0);
  const auto all = test::run_mssearch("search ms --json --db " + q(tmp / "db"));
  REQUIRE(all.exit_code == 0);
  REQUIRE(json::parse(all.out)["total"].get<int>() > 0);
  for (const std::string filter : {"--topic -hemi", "--topic=-hemi", "--topic -zzqx", "--journal -x", "--journal=-x"}) {
    CAPTURE(filter);
    // A filter no article matches: no hits, exit 1, and no error.
    auto r = test::run_mssearch("search ms " + filter + " --json --db " + q(tmp / "db"));
    CHECK(r.exit_code == 1);
    const auto j = json::parse(r.out, nullptr, false);
    REQUIRE(j.is_object());
    CHECK_FALSE(j.contains("error"));
    CHECK(j.value("total", -1) == 0);
    CHECK_THAT(r.err, !Catch::Contains("after `--`"));
    // Before the query too, and a minus word after it is still one.
    auto before = test::run_mssearch("search " + filter + " --db " + q(tmp / "db") + " ms");
    CHECK(before.exit_code == 1);
    CHECK_THAT(before.out, Catch::StartsWith("0 results"));
    auto word = test::run_mssearch("search " + filter + " --db " + q(tmp / "db") + " ms -brain");
    CHECK(word.exit_code == 2);
    CHECK_THAT(word.err, Catch::Contains("'-brain' is no option") && Catch::Contains(" -- ms -brain`"));
    // Without a query: that is what is missing.
    auto none = test::run_mssearch("search " + filter + " --db " + q(tmp / "db"));
    CHECK(none.exit_code == 2);
    CHECK_THAT(none.err, Catch::Contains("query is required") && !Catch::Contains("after `--`"));
  }
  auto fatigue = test::run_mssearch("search --topic -fatigue --db " + q(tmp / "db"));
  CHECK(fatigue.exit_code == 2);
  CHECK_THAT(fatigue.err, Catch::Contains("query is required") && !Catch::Contains("after `--`"));
  // related takes one id: two words were refused naming a `--` never typed ("not expected: b --").
  auto two = test::run_mssearch("related --db " + q(tmp / "db") + " a b");
  CHECK(two.exit_code == 2);
  CHECK_THAT(two.err, Catch::Contains("one article id, not 2 words ('a b')") && !Catch::Contains("--"));
}

TEST_CASE("cli: a `--` after the first query words and --database before the query read the query as typed", "[cli]") {
  // CLI11 took a `--` after a first query word for the end of the command (`search brain --
  // -fatigue`: "The following argument was not expected: -fatigue"), and --database ate the
  // words after its value (`--database DIR brain fog` searched "fog" in DIR and a database
  // "brain") and the `--` after it.
  test::TempDir tmp;
  const std::string db = q(tmp / "db");
  REQUIRE(test::run_mssearch("index " + q(test::corpus_dir()) + " -q --db " + db).exit_code == 0);
  auto total = [&](const std::string& args) {
    auto r = test::run_mssearch("search " + args);
    CAPTURE(args, r.err);
    REQUIRE(r.exit_code == 0);
    const auto j = json::parse(r.out);
    CHECK(!j.contains("failed_shards"));
    return std::pair{j["query"].get<std::string>(), j["total"].get<int>()};
  };
  const auto excluded = total("--json --db " + db + " -- brain -fatigue");
  CHECK(excluded.first == "brain -fatigue");
  for (const std::string& args : std::vector<std::string>{"brain -- -fatigue", "brain --json -- -fatigue", "--limit 3 brain -- -fatigue",
                                  "brain --sort relevance --limit 3 -- -fatigue", "--database " + db + " -- brain -fatigue",
                                  "--database " + db + " brain -- -fatigue"}) {
    // The options it lacks go first (after `--` they would be query words).
    std::string line = args;
    if (args.find("--json") == std::string::npos) line = "--json " + line;
    if (args.find("--database") == std::string::npos) line = "--db " + db + " " + line;
    CHECK(total(line) == excluded);
  }
  const auto fog = total("--json --db " + db + " -- brain fog");
  CHECK(total("--database " + db + " brain fog --json") == fog);
  CHECK(total("--json --database " + db + " brain fog") == fog);
  // A word in square brackets is text, as the HTTP API reads it: CLI11 read it as a list
  // (`[fatigue, sleep]` searched "fatigue  sleep", `[]` was "query is required"; helper-89).
  CHECK(total("--json --db " + db + " -- '[fatigue] [sleep]'").first == "[fatigue] [sleep]");
  CHECK(total("--json --db " + db + " -- '[fatigue, sleep]'").first == "[fatigue, sleep]");
  CHECK(total("--json --db " + db + " '[fatigue]' sleep").first == "[fatigue] sleep");
  const auto brackets = test::run_mssearch("search --json --db " + db + " -- '[]'");
  CHECK(brackets.exit_code == 1);  // nothing found, not refused
  CHECK(json::parse(brackets.out)["query"] == "[]");
  CHECK(json::parse(test::run_mssearch("suggest --json --db " + db + " -- '[fat]'").out)["query"] == "[fat]");
  // suggest's text likewise; related's one id.
  auto s = test::run_mssearch("suggest --json --db " + db + " mult -- -x");
  CHECK(s.exit_code == 1);
  CHECK(json::parse(s.out)["query"] == "mult -x");
  CHECK(test::run_mssearch("related --db " + db + " ebv-ms-risk --limit 2 --json").exit_code == 0);
  // An option short of its value, an unknown option: CLI11's one message, as before.
  auto limit = test::run_mssearch("search brain --db " + db + " --limit");
  CHECK(limit.exit_code == 2);
  CHECK_THAT(limit.err, Catch::Contains("--limit: 1 required") && !Catch::Contains("--limit: Value"));
  auto unknown = test::run_mssearch("search brain --tpoic x --db " + db);
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("not expected: --tpoic\n"));
}

TEST_CASE("cli: an option given `=` and no value has the empty value, not the next argument", "[cli]") {
  // CLI11 took the argument after `--topic=` or `--db=` for its value: `search brain --topic=
  // --json` printed text (the topic "--json"), `search --db= brain fog --json` looked for an
  // index at "--json" and printed no JSON.
  test::TempDir tmp;
  const std::string db = q(tmp / "db");
  REQUIRE(test::run_mssearch("index " + q(test::corpus_dir()) + " -q --db " + db).exit_code == 0);
  auto topic = test::run_mssearch("search --db " + db + " brain --topic= --json");
  CAPTURE(topic.out, topic.err);
  REQUIRE(json::accept(topic.out));
  CHECK(json::parse(topic.out)["query"] == "brain");
  for (const std::string& args : {std::string("search --db= brain fog --json"), std::string("search brain --db= --json")}) {
    auto r = test::run_mssearch(args);
    CAPTURE(args, r.out, r.err);
    CHECK(r.exit_code == 2);
    CHECK(json::accept(r.out));
    CHECK_THAT(r.err, !Catch::Contains("at --"));
  }
}

TEST_CASE("cli: an empty path is refused by the option's name, nothing is done", "[cli]") {
  // `index --db ''` failed with "internal error: cannot make absolute path" (exit 2, as a defect),
  // `search --db ''` said "no index at :", `serve --config ''` served the defaults on port 8080
  // and `serve --db ''` served 503s.
  test::TempDir tmp;
  const std::string corpus = q(test::corpus_dir());
  for (const auto& [args, option] : std::vector<std::pair<std::string, std::string>>{
           {"index " + corpus + " --db ''", "--db"},
           {"index '' --db " + q(tmp / "db"), "paths"},
           {"search brain --db ''", "--db"},
           {"search brain --database ''", "--database"},
           {"related some-id --db ''", "--db"},
           {"stats --db ''", "--db"},
           {"check --db ''", "--db"},
           {"serve --db '' --port 0", "--db"},
           {"serve --config '' --port 0", "--config"},
           {"analytics --file ''", "--file"}}) {
    auto r = test::run_mssearch(args, "", "timeout 20");  // a server that started would be stopped
    CAPTURE(args, r.out, r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(option + ": the path is empty"));
    CHECK_THAT(r.err, !Catch::Contains("internal error"));
  }
  CHECK_FALSE(fs::exists(tmp / "db"));
  auto json_asked = test::run_mssearch("search brain --db '' --json");
  CHECK(json_asked.exit_code == 2);
  REQUIRE(json::accept(json_asked.out));
  CHECK(json::parse(json_asked.out)["error"]["message"] == "--db: the path is empty");
}

TEST_CASE("cli: one database given twice under two spellings is refused, naming both, not searched twice", "[cli][server]") {
  // `--database DIR --database DIR/../DIR` (or a symlink, or a trailing slash) searched it twice:
  // every total and facet count doubled, and serve's /metrics had its shard label twice.
  test::TempDir tmp;
  const fs::path db = tmp / "db";
  REQUIRE(test::run_mssearch("index " + q(test::corpus_dir()) + " -q --db " + q(db)).exit_code == 0);
  fs::create_directory(tmp / "x");
  fs::create_directory_symlink(db, tmp / "link");
  const auto one = test::run_mssearch("search ms --json --db " + q(db));
  REQUIRE(one.exit_code == 0);
  const int total = json::parse(one.out)["total"].get<int>();
  for (const std::string& again : {db.string(), (tmp / "x" / ".." / "db").string(), (tmp / "link").string(),
                                   db.string() + "/", (tmp / "." / "db").string()}) {
    CAPTURE(again);
    for (const std::string command : {"search ms", "suggest mult", "related ebv-ms-risk"}) {
      CAPTURE(command);
      auto r = test::run_mssearch(command + " --json --database " + q(db) + " --database " + q(again));
      CHECK(r.exit_code == 2);
      const auto j = json::parse(r.out, nullptr, false);
      REQUIRE(j.is_object());
      REQUIRE(j.contains("error"));
      const auto message = j["error"]["message"].get<std::string>();
      CHECK_THAT(message, Catch::Contains("'" + db.string() + "'") && Catch::Contains("'" + again + "'") &&
                              Catch::Contains("give it once"));
    }
    auto text = test::run_mssearch("search ms --database " + q(db) + " --database " + q(again));
    CHECK(text.exit_code == 2);
    CHECK_THAT(text.err, Catch::Contains("mssearch search: error:") && Catch::Contains("give it once"));
    // serve: refused before it listens (it served the doubled totals); under `timeout`, as a
    // server that starts after all is ended and fails the test.
    auto serve = test::run_mssearch("serve --port 0 --database " + q(db) + " --database " + q(again), "", "timeout 20");
    CHECK(serve.exit_code == 2);
    CHECK_THAT(serve.err, Catch::Contains("'" + again + "'") && Catch::Contains("give it once"));
    CHECK_THAT(serve.out, !Catch::Contains("listening"));
  }
  // In a config file: the line of its second listing (relative paths are the file's).
  test::write_file(tmp / "server.yaml", "port: 0\ndatabases:\n  - db\n  - x/../db\n");
  auto config = test::run_mssearch("serve --config " + q(tmp / "server.yaml"), "", "timeout 20");
  CHECK(config.exit_code == 2);
  CHECK_THAT(config.err, Catch::Contains("server.yaml:4") && Catch::Contains("x/../db") && Catch::Contains("give it once"));
  // The spelling database given as one of the databases would be searched twice too.
  auto spelling = test::run_mssearch("search ms --json --database " + q(db) + " --spelling-database " + q(tmp / "link"));
  CHECK(spelling.exit_code == 2);
  // A remote shard given twice, as written; another port is another shard (down here: port 9).
  auto remote = test::run_mssearch("search ms --json --database tcp://127.0.0.1:9 --database tcp://127.0.0.1:9");
  CHECK(remote.exit_code == 2);
  CHECK_THAT(json::parse(remote.out)["error"]["message"].get<std::string>(),
             Catch::Contains("'tcp://127.0.0.1:9' is given twice"));
  auto other_port = test::run_mssearch("search ms --json --database " + q(db) + " --database tcp://127.0.0.1:9");
  CHECK(other_port.exit_code == 0);
  // A sharded index and one of its own shards (`--database DIR --database DIR/shard-00`): that
  // shard was searched twice (63 hits for "ms" where the index has 49). Either order, any spelling.
  const fs::path sharded = tmp / "sharded";
  REQUIRE(test::run_mssearch("index " + q(test::corpus_dir()) + " -q --shards 3 --db " + q(sharded)).exit_code == 0);
  for (const auto& [a, b] : std::vector<std::pair<std::string, std::string>>{
           {sharded.string(), (sharded / "shard-01").string()},
           {(sharded / "shard-00").string(), sharded.string()},
           {sharded.string() + "/", (tmp / "x" / ".." / "sharded" / "shard-02" / "").string()}}) {
    CAPTURE(a, b);
    auto both = test::run_mssearch("search ms --json --database " + q(a) + " --database " + q(b));
    CHECK(both.exit_code == 2);
    const auto j = json::parse(both.out, nullptr, false);
    REQUIRE(j.is_object());
    REQUIRE(j.contains("error"));
    CHECK_THAT(j["error"]["message"].get<std::string>(),
               Catch::Contains("is a shard of the sharded index") && Catch::Contains("give it once"));
    auto serve = test::run_mssearch("serve --port 0 --database " + q(a) + " --database " + q(b), "", "timeout 20");
    CHECK(serve.exit_code == 2);
    CHECK_THAT(serve.err, Catch::Contains("give it once"));
  }
  // Its shards given one by one, without the whole: each once, as before.
  auto shards = test::run_mssearch("search ms --json --database " + q(sharded / "shard-00") + " --database " +
                                   q(sharded / "shard-01") + " --database " + q(sharded / "shard-02"));
  REQUIRE(shards.exit_code == 0);
  CHECK(json::parse(shards.out)["total"] == total);
  // Two databases that are two: searched as one, as before.
  REQUIRE(test::run_mssearch("index " + q(test::corpus_dir()) + " -q --db " + q(tmp / "db2")).exit_code == 0);
  auto two = test::run_mssearch("search ms --json --database " + q(db) + " --database " + q(tmp / "db2"));
  REQUIRE(two.exit_code == 0);
  CHECK(json::parse(two.out)["total"] == 2 * total);
}
