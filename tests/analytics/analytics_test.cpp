// Search analytics on a real SQLite file: what is kept (and what never is), the report's lists,
// retention, and that recording never blocks: a full queue drops and counts.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <set>

#include "analytics/analytics.h"
#include "tests/test_support.h"

using namespace mssearch;
namespace fs = std::filesystem;

namespace {

// Runs SQL on the file directly (as an editor's tool or an old row would).
void sql(const fs::path& file, const std::string& statement) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &error);
  INFO((error != nullptr ? error : ""));
  sqlite3_free(error);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

std::set<std::string> columns(const fs::path& file, const std::string& table) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, ("PRAGMA table_info(" + table + ")").c_str(), -1, &st, nullptr);
  std::set<std::string> out;
  while (sqlite3_step(st) == SQLITE_ROW) out.insert(reinterpret_cast<const char*>(sqlite3_column_text(st, 1)));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

std::vector<std::string> queries(const std::vector<QueryStat>& stats) {
  std::vector<std::string> out;
  for (const auto& q : stats) out.push_back(q.query);
  return out;
}

}  // namespace

TEST_CASE("analytics: queries are kept normalised, with hits and clicks, and nothing about who searched", "[analytics]") {
  CHECK(normalise_query("  Brain   FOG\t") == "brain fog");
  CHECK(normalise_query("Ocrévus") == normalise_query("ocrevus"));
  CHECK(normalise_query(std::string(300, 'x')).size() == 200);
  CHECK(normalise_query(std::string(199, 'x') + "中").size() == 199);  // whole characters

  test::TempDir tmp;
  const fs::path file = tmp / "a" / "analytics.sqlite";
  {
    auto recorder = AnalyticsRecorder::open({file});
    REQUIRE(recorder);
    auto& r = **recorder;
    for (int i = 0; i < 5; ++i) r.record_search("fatigue", 12);
    const std::uint64_t fog = r.record_search("brain fog", 3);
    r.record_search("brain fog", 3);
    r.record_search("ocrevus hair loss", 0);
    r.record_search("ocrevus hair loss", 0);
    r.record_search("tysabri", 0);
    const std::uint64_t clicked = r.record_search("fatigue", 12);
    CHECK(r.record_search("", 4) == 0);  // nothing typed: not a query
    CHECK(fog != clicked);
    CHECK(fog < (std::uint64_t{1} << 53));
    // Every id has 16 digits: a page naming one is as long whatever it is (HEAD says GET's length).
    for (const std::uint64_t id : {fog, clicked}) CHECK(std::to_string(id).size() == 16);
    r.record_click(clicked, 2);
    r.record_click(fog, 1);
    for (int i = 0; i < 50; ++i) r.record_click(fog, 1);        // the same click again: once
    for (std::uint64_t made_up = 2; made_up < 200; made_up += 2) r.record_click(made_up, 1);  // no such search
    r.flush();
    CHECK(r.dropped() == 0);
  }
  // Only these columns exist: no address, agent, cookie or user.
  CHECK(columns(file, "searches") == std::set<std::string>{"id", "at", "query", "hits", "missing"});
  CHECK(columns(file, "clicks") == std::set<std::string>{"search_id", "at", "position"});

  auto report = analytics_report(file, std::chrono::hours(24));
  REQUIRE(report);
  CHECK(report->searches == 11);
  CHECK(report->clicks == 2);
  CHECK(report->zero_hit_searches == 3);
  REQUIRE_FALSE(report->top.empty());
  CHECK(report->top.front().query == "fatigue");
  CHECK(report->top.front().searches == 6);
  CHECK(report->top.front().clicks == 1);
  CHECK(queries(report->zero_hits) == std::vector<std::string>{"ocrevus hair loss", "tysabri"});
  CHECK(queries(report->no_clicks).empty());  // fatigue and brain fog were both clicked once
  // Everything is new in this window: rising, the most searched first.
  CHECK(queries(report->rising) == std::vector<std::string>{"fatigue", "brain fog", "ocrevus hair loss"});
}

TEST_CASE("analytics: a search that found articles but not one of its words lists that word", "[analytics]") {
  // `ms anxiety` found the 49 articles saying MS and never showed in "found nothing" (helper-98).
  test::TempDir tmp;
  const fs::path file = tmp / "analytics.sqlite";
  // A file from before the column: it is added when the server opens it, and read before that.
  sql(file, "CREATE TABLE searches (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, query TEXT NOT NULL, hits INTEGER NOT NULL);"
            "CREATE TABLE clicks (search_id INTEGER NOT NULL, at INTEGER NOT NULL, position INTEGER NOT NULL);");
  auto old = analytics_report(file, std::chrono::hours(24));
  REQUIRE(old);
  CHECK(old->missing_words.empty());
  {
    auto recorder = AnalyticsRecorder::open({file});
    REQUIRE(recorder);
    auto& r = **recorder;
    r.record_search("ms anxiety", 49, {"anxiety"});
    r.record_search("ms anxiety", 49, {"anxiety"});
    r.record_search("is ms contagious", 49, {"Contagious"});
    r.record_search("ms fatigue", 14);
    r.flush();
    CHECK(r.dropped() == 0);
  }
  auto report = analytics_report(file, std::chrono::hours(24));
  REQUIRE(report);
  REQUIRE(queries(report->missing_words) == std::vector<std::string>{"ms anxiety", "is ms contagious"});
  CHECK(report->missing_words[0].missing == "anxiety");
  CHECK(report->missing_words[0].searches == 2);
  CHECK(report->missing_words[1].missing == "contagious");
  CHECK(to_json(*report)["missing_words"][0]["missing"] == "anxiety");
  CHECK(queries(report->zero_hits).empty());
}

TEST_CASE("analytics: rising against the window before, and retention deletes what is older", "[analytics]") {
  test::TempDir tmp;
  const fs::path file = tmp / "analytics.sqlite";
  { REQUIRE(AnalyticsRecorder::open({file})); }
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  // Last week: "heat" 4 times, "vitamin d" twice; long ago (past 90 days): "old query".
  std::string rows;
  for (int i = 0; i < 4; ++i) rows += "INSERT INTO searches (id, at, query, hits) VALUES (" + std::to_string(100 + i) + ", " + std::to_string(now - 10 * 86400) + ", 'heat', 3);";
  for (int i = 0; i < 2; ++i) rows += "INSERT INTO searches (id, at, query, hits) VALUES (" + std::to_string(200 + i) + ", " + std::to_string(now - 9 * 86400) + ", 'vitamin d', 2);";
  rows += "INSERT INTO searches (id, at, query, hits) VALUES (300, " + std::to_string(now - 200 * 86400) + ", 'old query', 1);";
  rows += "INSERT INTO clicks VALUES (300, " + std::to_string(now - 200 * 86400) + ", 1);";
  sql(file, rows);
  {
    auto recorder = AnalyticsRecorder::open({file, 90});
    REQUIRE(recorder);
    for (int i = 0; i < 3; ++i) (*recorder)->record_search("heat", 3);
    for (int i = 0; i < 5; ++i) (*recorder)->record_search("vitamin d", 2);
    (*recorder)->flush();
  }
  auto week = analytics_report(file, std::chrono::hours(24 * 7));
  REQUIRE(week);
  // vitamin d: 5 now against 2 before; heat: 3 against 4, not rising.
  CHECK(queries(week->rising) == std::vector<std::string>{"vitamin d"});
  CHECK(week->rising.front().previous == 2);
  auto all = analytics_report(file, std::chrono::hours(24 * 3650));
  REQUIRE(all);
  for (const auto& q : all->top) CHECK(q.query != "old query");  // past retention: deleted at start
}

namespace {
std::int64_t rows(const fs::path& file, const std::string& query) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, query.c_str(), -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  const std::int64_t n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}
}  // namespace

// A flood of made-up queries (each a row of up to ~250 bytes, kept 90 days) could fill the disk:
// beyond max_searches the oldest go, and clicks likewise.
TEST_CASE("analytics: at most max_searches searches and as many clicks are kept, the newest", "[analytics]") {
  test::TempDir tmp;
  const fs::path file = tmp / "analytics.sqlite";
  AnalyticsOptions options{file};
  options.max_searches = 10;
  auto recorder = AnalyticsRecorder::open(options);
  REQUIRE(recorder);
  auto& r = **recorder;
  for (int i = 0; i < 10; ++i) r.record_click(r.record_search("old query " + std::to_string(i), 50), 1);
  r.flush();
  REQUIRE(rows(file, "SELECT count(*) FROM clicks") == 10);
  sql(file, "UPDATE searches SET at = at - 1000; UPDATE clicks SET at = at - 1000");  // an older day, within retention
  std::uint64_t newest = 0;
  for (int i = 0; i < 5; ++i) {
    newest = r.record_search("new query " + std::to_string(i), 50);
    r.flush();  // one batch each: the cap is checked as each is written
  }
  REQUIRE(newest != 0);
  CHECK(rows(file, "SELECT count(*) FROM searches") <= 11);  // a tenth past the cap at most
  CHECK(rows(file, "SELECT count(*) FROM searches") >= 10);
  CHECK(rows(file, "SELECT count(*) FROM searches WHERE query LIKE 'new query %'") == 5);  // the newest stay
  CHECK(rows(file, "SELECT count(*) FROM searches WHERE query LIKE 'old query %'") >= 5);
  // The clicks of the searches that went, went with them.
  CHECK(rows(file, "SELECT count(*) FROM clicks WHERE search_id NOT IN (SELECT id FROM searches)") == 0);
  const auto old_clicks = rows(file, "SELECT count(*) FROM clicks");
  CHECK(old_clicks == rows(file, "SELECT count(*) FROM searches WHERE query LIKE 'old query %'"));
  // Made-up and repeated beacons add nothing, so they take no real click's place (helper-74:
  // 1,100 made-up beacons under a cap of 1,000 left no click).
  for (std::uint32_t i = 0; i < 30; ++i) {
    r.record_click(AnalyticsRecorder::kFirstSearchId + 12345 + i, 1);
    r.record_click(newest, 1);
    r.flush();
  }
  CHECK(rows(file, "SELECT count(*) FROM clicks") == old_clicks + 1);
  // Real clicks past the cap: the oldest go first.
  for (std::uint32_t position = 2; position <= 30; ++position) {
    r.record_click(newest, position);
    r.flush();
  }
  CHECK(rows(file, "SELECT count(*) FROM clicks") <= 11);
  CHECK(rows(file, "SELECT count(*) FROM clicks") >= 10);
  CHECK(rows(file, "SELECT count(*) FROM clicks WHERE search_id <> " + std::to_string(newest)) == 0);
  CHECK(rows(file, "SELECT min(position) FROM clicks") >= 19);
  CHECK(r.dropped() == 0);
}

TEST_CASE("analytics: a full queue drops and counts, a bad file is a clear error", "[analytics]") {
  test::TempDir tmp;
  AnalyticsOptions options{tmp / "a.sqlite"};
  options.max_queue = 3;
  auto recorder = AnalyticsRecorder::open(options);
  REQUIRE(recorder);
  // Another connection holds the file locked: the writer waits (or fails its batch), and the
  // queue, with room for 3, fills whatever the machine's speed.
  sqlite3* holder = nullptr;
  REQUIRE(sqlite3_open(options.path.c_str(), &holder) == SQLITE_OK);
  REQUIRE(sqlite3_exec(holder, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK);
  std::size_t recorded = 0;
  for (int i = 0; i < 100; ++i) recorded += (*recorder)->record_search("q" + std::to_string(i), 1) != 0;
  CHECK(recorded <= 3 + 3);  // what the queue holds, and at most one batch the writer took
  sqlite3_exec(holder, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(holder);
  (*recorder)->flush();
  const std::uint64_t dropped = (*recorder)->dropped();
  CHECK(dropped >= 100 - recorded);  // refused at the queue, or a batch that met the lock
  CHECK(dropped <= 100);
  auto report = analytics_report(options.path, std::chrono::hours(1), 10000);
  REQUIRE(report);
  CHECK(report->searches + dropped == 100);  // each event written or counted, never lost silently

  // A directory where the file should be: refused, naming it.
  fs::create_directories(tmp / "dir.sqlite");
  auto bad = AnalyticsRecorder::open({tmp / "dir.sqlite"});
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message, Catch::Contains("dir.sqlite"));
  // A mistyped path: refused, no folder made on the way (each one was, without a word); its
  // own folder alone is made (`data/` beside a fresh checkout).
  auto typo = AnalyticsRecorder::open({tmp / "no" / "such" / "a.sqlite"});
  REQUIRE_FALSE(typo);
  CHECK_THAT(typo.error().message, Catch::Contains("a.sqlite"));
  CHECK_FALSE(fs::exists(tmp / "no"));
  CHECK(AnalyticsRecorder::open({tmp / "data" / "a.sqlite"}));
  auto missing = analytics_report(tmp / "none.sqlite", std::chrono::hours(1));
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == ErrorCode::kIndexMissing);
  CHECK(parse_duration("7d") == std::chrono::seconds(7 * 86400));
  CHECK(parse_duration("90m") == std::chrono::seconds(5400));
  CHECK_FALSE(parse_duration("7"));
  CHECK_FALSE(parse_duration("d"));
  CHECK_FALSE(parse_duration("-1d"));
  CHECK_FALSE(parse_duration("0h"));
}

TEST_CASE("analytics: hostile words, a file deleted or replaced under the server, clicks past the hits", "[analytics]") {
  // What visitors type is printed on editors' terminals: no control characters survive.
  CHECK(normalise_query("\x1b]0;pwned\x07\x1b[2Jred\x08x\x7f\xc2\x9b" "31m") == "]0;pwned [2jred x 31m");
  test::TempDir tmp;
  const fs::path file = tmp / "a.sqlite";
  auto recorder = AnalyticsRecorder::open({file});
  REQUIRE(recorder);
  auto& r = **recorder;
  const std::uint64_t id = r.record_search("heat", 3);
  r.record_click(id, 3);
  r.record_click(id, 4);  // past its 3 hits: not a click on a result
  r.flush();
  auto report = analytics_report(file, std::chrono::hours(1));
  REQUIRE(report);
  CHECK(report->clicks == 1);
  // The file deleted (an operator's rm): the next events go to a new file at the path.
  fs::remove(file);
  fs::remove(tmp / "a.sqlite-wal");
  fs::remove(tmp / "a.sqlite-shm");
  r.record_search("fatigue", 5);
  r.flush();
  report = analytics_report(file, std::chrono::hours(1));
  REQUIRE(report);
  CHECK(report->searches == 1);
  CHECK(r.dropped() == 0);
  // Replaced by something that is not SQLite: each event is counted as dropped, none is lost silently.
  fs::remove(file);
  fs::remove(tmp / "a.sqlite-wal");
  fs::remove(tmp / "a.sqlite-shm");
  test::write_file(file, std::string(4096, 'x'));
  r.record_search("vitamin d", 2);
  r.flush();
  CHECK(r.dropped() == 1);
}
