#include "analytics/analytics.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <variant>

#include <nlohmann/json.hpp>

#include "schema/text_analyzer.h"
#include "schema/utf8.h"

namespace mssearch {

namespace {

using Clock = std::chrono::system_clock;

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count();
}

constexpr const char* kSchema = R"sql(
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS searches (
  id INTEGER PRIMARY KEY,      -- random, below 2^53; no other identifier is kept
  at INTEGER NOT NULL,         -- Unix seconds
  query TEXT NOT NULL,         -- normalised words
  hits INTEGER NOT NULL,
  missing TEXT                 -- its words no article has (space-separated), or NULL
);
CREATE TABLE IF NOT EXISTS clicks (
  search_id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  position INTEGER NOT NULL    -- 1-based rank of the result clicked
);
CREATE INDEX IF NOT EXISTS searches_at ON searches(at);
CREATE UNIQUE INDEX IF NOT EXISTS clicks_once ON clicks(search_id, position);
CREATE INDEX IF NOT EXISTS searches_query ON searches(query, at);
)sql";

struct Db {
  sqlite3* db = nullptr;
  ~Db() { sqlite3_close(db); }
};

Result<void> exec(sqlite3* db, const char* sql, const std::filesystem::path& path) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string why = message != nullptr ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    return fail(ErrorCode::kIo, "analytics database " + path.string() + ": " + why);
  }
  return {};
}

// A prepared statement, finalised when it goes.
struct Statement {
  sqlite3_stmt* s = nullptr;
  Statement(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &s, nullptr); }
  ~Statement() { sqlite3_finalize(s); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  explicit operator bool() const { return s != nullptr; }
};

struct SearchRow {
  std::uint64_t id;
  std::int64_t at;
  std::string query;
  std::uint32_t hits;
  std::string missing;
};
struct ClickRow {
  std::uint64_t search_id;
  std::int64_t at;
  std::uint32_t position;
};
using Event = std::variant<SearchRow, ClickRow>;

}  // namespace

std::string normalise_query(std::string_view query) {
  const std::string folded = fold_text(query);
  // Control characters (C0, DEL and C1: control_char_length) become spaces: what visitors typed
  // is printed on editors' terminals by `mssearch analytics`, where they would be escape
  // sequences.
  std::string spaced;
  for (std::size_t i = 0; i < folded.size();) {
    const std::size_t control = control_char_length(folded, i);
    spaced += control > 0 ? ' ' : folded[i];
    i += control > 0 ? control : 1;
  }
  std::string out = spaces_as_one(spaced, true);
  constexpr std::size_t kMax = 200;
  if (out.size() > kMax) {
    std::size_t end = kMax;
    while (end > 0 && (static_cast<unsigned char>(out[end]) & 0xC0) == 0x80) --end;  // whole characters
    out.resize(end);
    while (!out.empty() && (out.back() == ' ' || out.back() == '-')) out.pop_back();  // nor a space or hyphen left at the cut
  }
  return out;
}

struct AnalyticsRecorder::Impl {
  AnalyticsOptions options;
  Db db;
  dev_t device = 0;
  ino_t inode = 0;

  // Opens the file (creating it and its tables) and notes which file it is.
  Result<void> open_file() {
    sqlite3_close(db.db);
    db.db = nullptr;
    if (sqlite3_open_v2(options.path.c_str(), &db.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK)
      return fail(ErrorCode::kIo, "analytics database " + options.path.string() + ": " +
                                      (db.db != nullptr ? sqlite3_errmsg(db.db) : "cannot open"));
    sqlite3_busy_timeout(db.db, 2000);  // a report being read meanwhile
    if (auto ok = exec(db.db, kSchema, options.path); !ok) return ok;
    // A file written before searches had their missing words (2026-12-07): the column added.
    if (sqlite3_exec(db.db, "SELECT missing FROM searches LIMIT 0", nullptr, nullptr, nullptr) != SQLITE_OK)
      if (auto ok = exec(db.db, "ALTER TABLE searches ADD COLUMN missing TEXT", options.path); !ok) return ok;
    // The report's list of them reads these rows alone (grouping every query first took 7 s
    // over 1,000,000 searches of 300,000 queries; with this index 0.3 s: helper-99).
    if (auto ok = exec(db.db, "CREATE INDEX IF NOT EXISTS searches_missing ON searches(query, at) WHERE missing IS NOT NULL",
                       options.path);
        !ok)
      return ok;
    struct stat st {};
    if (::stat(options.path.c_str(), &st) == 0) device = st.st_dev, inode = st.st_ino;
    return {};
  }

  // The file deleted or replaced under the server (an operator's rm, a restore): write to the
  // file now at the path, not to the unlinked one. False when it cannot be opened (counted).
  bool same_file_or_reopened() {
    struct stat st {};
    if (::stat(options.path.c_str(), &st) == 0 && st.st_dev == device && st.st_ino == inode) return true;
    return static_cast<bool>(open_file());
  }
  std::mutex mutex;
  std::condition_variable wake, written;
  std::deque<Event> queue;
  std::uint64_t queued = 0, done = 0;  // events queued and written (or dropped by the writer)
  std::uint64_t dropped = 0;
  bool stopping = false;
  std::mt19937_64 random{std::random_device{}()};
  std::thread writer;
  std::int64_t next_cleanup = 0;
  std::uint64_t searches_kept = 0, clicks_kept = 0;  // rows, counted at each cleanup, then added to

  // Only the newest max_searches searches stay, and as many clicks (the oldest go first): run
  // when a table has grown a tenth past the cap, and at each cleanup, so not on every batch.
  void keep_newest() {
    const std::uint64_t cap = std::max<std::uint64_t>(options.max_searches, 1);
    if (searches_kept > cap) {
      // The oldest searches, and their clicks with them (the report would count clicks whose
      // search is gone).
      const std::string oldest = "(SELECT id FROM searches ORDER BY at, id LIMIT " + std::to_string(searches_kept - cap) + ")";
      sqlite3_exec(db.db, ("BEGIN; DELETE FROM clicks WHERE search_id IN " + oldest + "; DELETE FROM searches WHERE id IN " +
                           oldest + "; COMMIT;").c_str(), nullptr, nullptr, nullptr);
      sqlite3_exec(db.db, "ROLLBACK", nullptr, nullptr, nullptr);  // when a statement failed: no half trim
    }
    if (clicks_kept > cap)  // rowids grow as clicks are written: the lowest are the oldest
      sqlite3_exec(db.db, ("DELETE FROM clicks WHERE rowid IN (SELECT rowid FROM clicks ORDER BY rowid LIMIT " +
                           std::to_string(clicks_kept - cap) + ")").c_str(), nullptr, nullptr, nullptr);
    count_rows();
  }

  void count_rows() {
    const auto rows = [&](const char* sql) {
      Statement count(db.db, sql);
      return count && sqlite3_step(count.s) == SQLITE_ROW ? static_cast<std::uint64_t>(sqlite3_column_int64(count.s, 0)) : 0;
    };
    searches_kept = rows("SELECT count(*) FROM searches");
    clicks_kept = rows("SELECT count(*) FROM clicks");
  }

  void run() {
    write({});  // retention first: what is past it goes at start
    for (;;) {
      std::deque<Event> batch;
      {
        std::unique_lock lock(mutex);
        wake.wait_for(lock, std::chrono::minutes(10), [&] { return stopping || !queue.empty(); });
        if (queue.empty() && stopping) return;
        batch.swap(queue);
      }
      const bool ok = write(batch);
      {
        std::lock_guard lock(mutex);
        if (!ok) dropped += batch.size();
        done += batch.size();
      }
      written.notify_all();
    }
  }

  bool write(const std::deque<Event>& batch) {
    if (!same_file_or_reopened()) return false;
    const std::int64_t now = now_seconds();
    if (now >= next_cleanup) {
      // Retention: nothing older than the period stays.
      const std::string sql = "DELETE FROM searches WHERE at < " + std::to_string(now - options.retention_days * 86400LL) +
                              "; DELETE FROM clicks WHERE at < " + std::to_string(now - options.retention_days * 86400LL) + ";";
      sqlite3_exec(db.db, sql.c_str(), nullptr, nullptr, nullptr);
      next_cleanup = now + 3600;
      count_rows();
      keep_newest();
    }
    if (batch.empty()) return true;
    if (sqlite3_exec(db.db, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) return false;
    Statement search(db.db, "INSERT OR IGNORE INTO searches (id, at, query, hits, missing) VALUES (?, ?, ?, ?, ?)");
    // A click counts once per search and rank, and only for a search that was recorded: a
    // client sending made-up beacons adds nothing (ids are random, below 2^53).
    Statement click(db.db, "INSERT OR IGNORE INTO clicks (search_id, at, position) "
                           "SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM searches WHERE id = ?1 AND hits >= ?3)");
    bool ok = search && click;
    std::uint64_t searches_added = 0, clicks_added = 0;  // rows written (INSERT OR IGNORE)
    for (const auto& event : batch) {
      if (!ok) break;
      if (const auto* s = std::get_if<SearchRow>(&event)) {
        sqlite3_bind_int64(search.s, 1, static_cast<sqlite3_int64>(s->id));
        sqlite3_bind_int64(search.s, 2, s->at);
        sqlite3_bind_text(search.s, 3, s->query.data(), static_cast<int>(s->query.size()), SQLITE_TRANSIENT);
        sqlite3_bind_int64(search.s, 4, s->hits);
        if (s->missing.empty()) sqlite3_bind_null(search.s, 5);
        else sqlite3_bind_text(search.s, 5, s->missing.data(), static_cast<int>(s->missing.size()), SQLITE_TRANSIENT);
        ok = sqlite3_step(search.s) == SQLITE_DONE;
        if (ok) searches_added += static_cast<std::uint64_t>(sqlite3_changes(db.db));
        sqlite3_reset(search.s);
      } else {
        const auto& c = std::get<ClickRow>(event);
        sqlite3_bind_int64(click.s, 1, static_cast<sqlite3_int64>(c.search_id));
        sqlite3_bind_int64(click.s, 2, c.at);
        sqlite3_bind_int64(click.s, 3, c.position);
        ok = sqlite3_step(click.s) == SQLITE_DONE;
        // Only the clicks written count: a made-up or repeated beacon is ignored, and counted it
        // made the trim delete real clicks (helper-74: 1,100 made-up beacons left none).
        if (ok) clicks_added += static_cast<std::uint64_t>(sqlite3_changes(db.db));
        sqlite3_reset(click.s);
      }
    }
    ok = sqlite3_exec(db.db, ok ? "COMMIT" : "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK && ok;
    if (ok) {
      searches_kept += searches_added;
      clicks_kept += clicks_added;
      const std::uint64_t grown = options.max_searches + options.max_searches / 10;
      if (searches_kept > grown || clicks_kept > grown) keep_newest();
    }
    return ok;
  }

  bool enqueue(Event event) {
    std::lock_guard lock(mutex);
    if (queue.size() >= options.max_queue) {
      ++dropped;
      return false;
    }
    queue.push_back(std::move(event));
    ++queued;
    wake.notify_one();
    return true;
  }
};

Result<std::unique_ptr<AnalyticsRecorder>> AnalyticsRecorder::open(const AnalyticsOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  // Its folder, one level only (`data/` beside a fresh checkout): a mistyped path
  // (`/nonexistent/dir/a.sqlite`) made every folder on the way without a word; now opening it
  // fails, naming the path.
  if (options.path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directory(options.path.parent_path(), ec);
  }
  if (auto ok = impl->open_file(); !ok) return std::unexpected(ok.error());
  Impl* raw = impl.get();
  impl->writer = std::thread([raw] { raw->run(); });
  return std::unique_ptr<AnalyticsRecorder>(new AnalyticsRecorder(std::move(impl)));
}

AnalyticsRecorder::AnalyticsRecorder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AnalyticsRecorder::~AnalyticsRecorder() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->writer.joinable()) impl_->writer.join();
}

std::uint64_t AnalyticsRecorder::record_search(const std::string& normalised_query, std::uint32_t hits,
                                              const std::vector<std::string>& missing_words) {
  if (normalised_query.empty()) return 0;
  std::uint64_t id;
  {
    std::lock_guard lock(impl_->mutex);
    // 10^15 .. 2^53 - 1: always 16 digits, so an answer that names it is as long whatever the
    // id (a HEAD request's headers say the length of the GET's answer; server/http_server.cpp).
    id = kFirstSearchId + (impl_->random() >> 11) % ((std::uint64_t{1} << 53) - kFirstSearchId);
  }
  std::string missing;
  for (const auto& w : missing_words) {
    const std::string word = normalise_query(w);
    if (word.empty() || missing.size() + word.size() + 1 > 200) continue;
    missing += (missing.empty() ? "" : " ") + word;
  }
  return impl_->enqueue(SearchRow{id, now_seconds(), normalised_query, hits, std::move(missing)}) ? id : 0;
}

void AnalyticsRecorder::record_click(std::uint64_t search_id, std::uint32_t position) {
  if (search_id == 0 || position == 0) return;
  impl_->enqueue(ClickRow{search_id, now_seconds(), position});
}

std::uint64_t AnalyticsRecorder::dropped() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->dropped;
}

void AnalyticsRecorder::flush() {
  std::unique_lock lock(impl_->mutex);
  const std::uint64_t target = impl_->queued;
  impl_->wake.notify_one();
  impl_->written.wait(lock, [&] { return impl_->done >= target; });
}

namespace {

// Rows of (query, searches, clicks, hits, previous) from a statement with the window bound.
Result<std::vector<QueryStat>> stats(sqlite3* db, const char* sql, std::int64_t since, std::int64_t window,
                                     std::size_t limit, const std::filesystem::path& path) {
  Statement st(db, sql);
  if (!st) return fail(ErrorCode::kIo, "analytics database " + path.string() + ": " + sqlite3_errmsg(db));
  sqlite3_bind_int64(st.s, 1, since);
  sqlite3_bind_int64(st.s, 2, since - window);
  sqlite3_bind_int64(st.s, 3, static_cast<sqlite3_int64>(limit));
  std::vector<QueryStat> out;
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
    QueryStat q;
    const unsigned char* text = sqlite3_column_text(st.s, 0);  // NULL in a damaged or foreign file
    q.query = text != nullptr ? reinterpret_cast<const char*>(text) : "";
    q.searches = static_cast<std::uint64_t>(sqlite3_column_int64(st.s, 1));
    q.clicks = static_cast<std::uint64_t>(sqlite3_column_int64(st.s, 2));
    q.hits = static_cast<std::uint64_t>(sqlite3_column_int64(st.s, 3));
    q.previous = static_cast<std::uint64_t>(sqlite3_column_int64(st.s, 4));
    out.push_back(std::move(q));
  }
  if (rc != SQLITE_DONE) return fail(ErrorCode::kIo, "analytics database " + path.string() + ": " + sqlite3_errmsg(db));
  return out;
}

// Per query in the window: searches, searches with a click, hits of its latest search, and
// searches in the window before. ?1 = since, ?2 = since - window, ?3 = limit.
constexpr const char* kPerQuery = R"sql(
WITH now AS (
  SELECT query, COUNT(*) AS searches,
         SUM(EXISTS (SELECT 1 FROM clicks c WHERE c.search_id = s.id)) AS clicked,
         (SELECT hits FROM searches l WHERE l.query = s.query ORDER BY at DESC LIMIT 1) AS hits
  FROM searches s WHERE at >= ?1 GROUP BY query),
before AS (SELECT query, COUNT(*) AS searches FROM searches WHERE at >= ?2 AND at < ?1 GROUP BY query)
SELECT now.query, now.searches, now.clicked, now.hits, COALESCE(before.searches, 0) AS previous
FROM now LEFT JOIN before USING (query)
)sql";

}  // namespace

Result<AnalyticsReport> analytics_report(const std::filesystem::path& path, std::chrono::seconds window, std::size_t limit) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return fail(ErrorCode::kIndexMissing, "no analytics database at " + path.string() +
                                              " (the server writes it when `analytics` is set in its configuration)");
  Db db;
  if (sqlite3_open_v2(path.c_str(), &db.db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
    return fail(ErrorCode::kIo, "analytics database " + path.string() + ": " +
                                    (db.db != nullptr ? sqlite3_errmsg(db.db) : "cannot open"));
  sqlite3_busy_timeout(db.db, 2000);
  // A copy in a directory this user cannot write (WAL needs its -shm file there): read it as an
  // immutable snapshot instead.
  if (sqlite3_exec(db.db, "SELECT 1 FROM searches LIMIT 1", nullptr, nullptr, nullptr) != SQLITE_OK &&
      (sqlite3_errcode(db.db) == SQLITE_READONLY || sqlite3_errcode(db.db) == SQLITE_CANTOPEN)) {
    sqlite3_close(db.db);
    db.db = nullptr;
    const std::string uri = "file:" + std::filesystem::absolute(path).string() + "?immutable=1";
    if (sqlite3_open_v2(uri.c_str(), &db.db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr) != SQLITE_OK)
      return fail(ErrorCode::kIo, "analytics database " + path.string() + ": " +
                                      (db.db != nullptr ? sqlite3_errmsg(db.db) : "cannot open"));
  }
  AnalyticsReport report;
  report.until = now_seconds();
  report.since = report.until - window.count();
  const std::string base = kPerQuery;
  const auto top = stats(db.db, (base + " ORDER BY now.searches DESC, now.query LIMIT ?3").c_str(), report.since,
                         window.count(), limit, path);
  if (!top) return std::unexpected(top.error());
  report.top = *top;
  const auto zero = stats(db.db, (base + " WHERE now.hits = 0 ORDER BY now.searches DESC, now.query LIMIT ?3").c_str(),
                          report.since, window.count(), limit, path);
  if (!zero) return std::unexpected(zero.error());
  report.zero_hits = *zero;
  const auto unclicked = stats(db.db, (base + " WHERE now.hits > 0 AND now.clicked = 0 ORDER BY now.searches DESC, now.query LIMIT ?3").c_str(),
                               report.since, window.count(), limit, path);
  if (!unclicked) return std::unexpected(unclicked.error());
  report.no_clicks = *unclicked;
  // Rising: at least 2 searches now, and more than before (by ratio, with one added to each side).
  const auto rising = stats(db.db, (base + " WHERE now.searches >= 2 AND now.searches > COALESCE(before.searches, 0) "
                                           "ORDER BY (now.searches + 1.0) / (COALESCE(before.searches, 0) + 1.0) DESC, "
                                           "now.searches DESC, now.query LIMIT ?3").c_str(),
                            report.since, window.count(), limit, path);
  if (!rising) return std::unexpected(rising.error());
  report.rising = *rising;
  // Found something, but a word of it no article has (`ms anxiety`): the other list of what to
  // write next. A file from before the column has none.
  if (sqlite3_exec(db.db, "SELECT missing FROM searches LIMIT 0", nullptr, nullptr, nullptr) == SQLITE_OK) {
    // Only the queries with a search that had missing words are grouped, found by the partial
    // index searches_missing.
    Statement missing(db.db, R"sql(
WITH some AS (SELECT DISTINCT query FROM searches WHERE missing IS NOT NULL AND at >= ?1 AND hits > 0)
SELECT s.query, COUNT(*) AS searches, SUM(EXISTS (SELECT 1 FROM clicks c WHERE c.search_id = s.id)),
       MAX(s.hits), (SELECT missing FROM searches l WHERE l.query = s.query ORDER BY at DESC LIMIT 1) AS latest
FROM some JOIN searches s ON s.query = some.query AND s.at >= ?1
GROUP BY s.query HAVING latest IS NOT NULL
ORDER BY searches DESC, s.query LIMIT ?2)sql");
    if (!missing) return fail(ErrorCode::kIo, "analytics database " + path.string() + ": " + sqlite3_errmsg(db.db));
    sqlite3_bind_int64(missing.s, 1, report.since);
    sqlite3_bind_int64(missing.s, 2, static_cast<sqlite3_int64>(limit));
    int rc;
    while ((rc = sqlite3_step(missing.s)) == SQLITE_ROW) {
      QueryStat q;
      const auto text_at = [&](int column) {
        const unsigned char* text = sqlite3_column_text(missing.s, column);
        return text != nullptr ? std::string(reinterpret_cast<const char*>(text)) : std::string();
      };
      q.query = text_at(0);
      q.searches = static_cast<std::uint64_t>(sqlite3_column_int64(missing.s, 1));
      q.clicks = static_cast<std::uint64_t>(sqlite3_column_int64(missing.s, 2));
      q.hits = static_cast<std::uint64_t>(sqlite3_column_int64(missing.s, 3));
      q.missing = text_at(4);
      report.missing_words.push_back(std::move(q));
    }
    if (rc != SQLITE_DONE) return fail(ErrorCode::kIo, "analytics database " + path.string() + ": " + sqlite3_errmsg(db.db));
  }
  Statement totals(db.db, "SELECT COUNT(*), SUM(hits = 0), (SELECT COUNT(*) FROM clicks WHERE at >= ?1) FROM searches WHERE at >= ?1");
  if (!totals) return fail(ErrorCode::kIo, "analytics database " + path.string() + ": " + sqlite3_errmsg(db.db));
  sqlite3_bind_int64(totals.s, 1, report.since);
  if (sqlite3_step(totals.s) == SQLITE_ROW) {
    report.searches = static_cast<std::uint64_t>(sqlite3_column_int64(totals.s, 0));
    report.zero_hit_searches = static_cast<std::uint64_t>(sqlite3_column_int64(totals.s, 1));
    report.clicks = static_cast<std::uint64_t>(sqlite3_column_int64(totals.s, 2));
  }
  return report;
}

nlohmann::json to_json(const AnalyticsReport& r) {
  auto list = [](const std::vector<QueryStat>& stats) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& q : stats)
      out.push_back({{"query", q.query}, {"searches", q.searches}, {"clicked", q.clicks}, {"hits", q.hits},
                     {"previous", q.previous}});
    return out;
  };
  nlohmann::json missing = list(r.missing_words);
  for (std::size_t i = 0; i < missing.size(); ++i) missing[i]["missing"] = r.missing_words[i].missing;
  return {{"since", r.since},        {"until", r.until},           {"searches", r.searches},
          {"clicks", r.clicks},      {"zero_hit_searches", r.zero_hit_searches},
          {"top", list(r.top)},      {"zero_hits", list(r.zero_hits)},
          {"missing_words", std::move(missing)}, {"no_clicks", list(r.no_clicks)}, {"rising", list(r.rising)}};
}

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  std::int64_t n = 0;
  for (char c : text.substr(0, text.size() - 1)) {
    if (c < '0' || c > '9' || n > 100000) return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n == 0) return std::nullopt;
  switch (text.back()) {
    case 'm': return std::chrono::seconds(n * 60);
    case 'h': return std::chrono::seconds(n * 3600);
    case 'd': return std::chrono::seconds(n * 86400);
    case 'w': return std::chrono::seconds(n * 7 * 86400);
    default: return std::nullopt;
  }
}

}  // namespace mssearch
