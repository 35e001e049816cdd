// Search analytics for editors, private by design: what visitors search for, what finds nothing
// and what nobody clicks — for a site of summaries, the zero-hit queries are the list of what to
// write next (as Typesense's and Algolia's analytics show them).
//
// What is kept: each submitted search's normalised words (folded, spaces collapsed, at most
// 200 bytes), its number of hits and the time; each click on a result, by the search's random id
// and the result's position. Nothing else: no IP address, no cookie, no user id, no user agent.
// Rows older than the retention period are deleted, and the oldest beyond max_searches.
// Stored in SQLite (one file, WAL).
//
// Recording never slows or fails a search: record_search() and record_click() only queue (a
// bounded queue; when it is full the event is dropped and counted), and one writer thread
// writes the queue in batches. A database that cannot be written is counted the same way.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "schema/error.h"

namespace mssearch {

struct AnalyticsOptions {
  std::filesystem::path path;   // the SQLite file; empty: analytics off
  int retention_days = 90;      // rows older than this are deleted (at start, then hourly)
  // Searches kept at most: beyond, the oldest go (and their clicks), so that a flood of made-up
  // queries cannot fill the disk within the retention period (each row is up to ~250 bytes).
  std::size_t max_searches = 2'000'000;
  std::size_t max_queue = 10000;  // events waiting for the writer; beyond: dropped, counted
};

// The words of a query as analytics keeps them: folded as the index folds text (so "Fatigue" and
// "fatigue " are one query), runs of spaces as one, at most 200 bytes (whole characters).
std::string normalise_query(std::string_view query);

class AnalyticsRecorder {
 public:
  // Opens (creating) the file and starts the writer. Errors: kIo naming the file and SQLite's
  // reason (the server then does not start: an operator asked for analytics).
  static Result<std::unique_ptr<AnalyticsRecorder>> open(const AnalyticsOptions& options);
  ~AnalyticsRecorder();  // writes what is queued, then stops
  AnalyticsRecorder(const AnalyticsRecorder&) = delete;
  AnalyticsRecorder& operator=(const AnalyticsRecorder&) = delete;

  // Queues one submitted search (already normalised words; blank ones are not recorded).
  // Returns the search's id for click beacons: random, of 16 digits (from kFirstSearchId),
  // below 2^53 (exact as a JSON number), or 0 when nothing was recorded.
  static constexpr std::uint64_t kFirstSearchId = 1'000'000'000'000'000;
  // `missing_words`: its words no article has (SearchResult::missing_words), kept normalised.
  std::uint64_t record_search(const std::string& normalised_query, std::uint32_t hits,
                              const std::vector<std::string>& missing_words = {});
  // Queues a click on the result at `position` (1-based) of search `search_id`.
  void record_click(std::uint64_t search_id, std::uint32_t position);

  std::uint64_t dropped() const;  // events dropped: queue full or database errors
  void flush();                   // waits until everything queued so far is written (tests)

  struct Impl;

 private:
  explicit AnalyticsRecorder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct QueryStat {
  std::string query;
  std::uint64_t searches = 0;
  std::uint64_t clicks = 0;
  std::uint64_t hits = 0;       // of its latest search
  std::uint64_t previous = 0;   // rising: searches in the window before
  std::string missing;          // missing_words: the words no article had, in its latest search
};

struct AnalyticsReport {
  std::int64_t since = 0, until = 0;  // the window, Unix seconds
  std::uint64_t searches = 0, clicks = 0, zero_hit_searches = 0;
  std::vector<QueryStat> top;        // most searched
  std::vector<QueryStat> zero_hits;  // searched, nothing found: what to write next
  // Found something, but a word no article has (`ms anxiety`: every article says "MS").
  std::vector<QueryStat> missing_words;
  std::vector<QueryStat> no_clicks;  // found something, nobody clicked a result
  std::vector<QueryStat> rising;     // searched more than in the window before
};

// The report over the last `window` (up to now). Errors: kIo (the file cannot be read),
// kIndexMissing (no such file).
Result<AnalyticsReport> analytics_report(const std::filesystem::path& path, std::chrono::seconds window,
                                         std::size_t limit = 10);
nlohmann::json to_json(const AnalyticsReport& report);

// "7d", "24h", "90m", "2w" -> seconds; nothing for anything else.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

}  // namespace mssearch
