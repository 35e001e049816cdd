// peer_fts5: SQLite FTS5 on the benchmark's collection and query mix: porter tokenizer,
// bm25() ranking, snippet(), and tables of topics and years for the facet counts. Prints one
// JSON line.
#include <sqlite3.h>

#include <filesystem>
#include <stdexcept>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "bench/bench_common.h"

using namespace mssearch;
using namespace mssearch::bench;
namespace fs = std::filesystem;

namespace {

void check(int rc, sqlite3* db) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) throw std::runtime_error(sqlite3_errmsg(db));
}

struct Statement {
  sqlite3_stmt* s = nullptr;
  Statement(sqlite3* db, const char* sql) { check(sqlite3_prepare_v2(db, sql, -1, &s, nullptr), db); }
  ~Statement() { sqlite3_finalize(s); }
};

// The query mix in FTS5 syntax: words joined by OR, "phrases" kept, the as-you-type word a prefix.
std::string fts_query(const CorpusGenerator::Query& q) {
  if (q.text.starts_with('"')) return q.text;
  std::string out;
  std::size_t at = 0;
  while (at < q.text.size()) {
    std::size_t space = q.text.find(' ', at);
    if (space == std::string::npos) space = q.text.size();
    const std::string word = q.text.substr(at, space - at);
    const bool last = space == q.text.size();
    out += (out.empty() ? "" : " OR ") + ("\"" + word + "\"") + (last && q.partial ? "*" : "");
    at = space + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"peer_fts5: SQLite FTS5 on the benchmark collection"};
  CollectionOptions collection;
  std::string dir;
  add_collection_options(app, collection);
  app.add_option("--dir", dir, "Directory for the database file (default: a temporary one)");
  CLI11_PARSE(app, argc, argv);
  const auto [articles, queries, seed] = collection;
  const bool temporary = dir.empty();
  if (temporary) dir = (fs::temp_directory_path() / fmt::format("peer-fts5-{}", ::getpid())).string();
  fs::create_directories(dir);
  const std::string file = dir + "/fts.db";
  fs::remove(file);

  CorpusGenerator generator({articles, seed});
  const auto all = generator.all();
  const double rss_before = peak_rss_mib();
  sqlite3* db = nullptr;
  check(sqlite3_open(file.c_str(), &db), db);
  auto exec = [&](const char* sql) { check(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), db); };
  auto t = Clock::now();
  exec("CREATE VIRTUAL TABLE docs USING fts5(title, takeaway, body, tokenize='porter unicode61');"
       "CREATE TABLE topics(doc INTEGER, topic TEXT); CREATE TABLE meta(doc INTEGER PRIMARY KEY, year INTEGER);"
       "BEGIN;");
  {
    Statement doc(db, "INSERT INTO docs(rowid, title, takeaway, body) VALUES (?, ?, ?, ?)");
    Statement topic(db, "INSERT INTO topics(doc, topic) VALUES (?, ?)");
    Statement meta(db, "INSERT INTO meta(doc, year) VALUES (?, ?)");
    sqlite3_int64 rowid = 0;
    for (const auto& a : all) {
      ++rowid;
      sqlite3_bind_int64(doc.s, 1, rowid);
      sqlite3_bind_text(doc.s, 2, a.title.c_str(), -1, SQLITE_STATIC);
      sqlite3_bind_text(doc.s, 3, a.takeaway.c_str(), -1, SQLITE_STATIC);
      sqlite3_bind_text(doc.s, 4, a.body_text.c_str(), -1, SQLITE_STATIC);
      check(sqlite3_step(doc.s), db);
      sqlite3_reset(doc.s);
      for (const auto& name : a.topics) {
        sqlite3_bind_int64(topic.s, 1, rowid);
        sqlite3_bind_text(topic.s, 2, name.c_str(), -1, SQLITE_STATIC);
        check(sqlite3_step(topic.s), db);
        sqlite3_reset(topic.s);
      }
      sqlite3_bind_int64(meta.s, 1, rowid);
      sqlite3_bind_int(meta.s, 2, a.year());
      check(sqlite3_step(meta.s), db);
      sqlite3_reset(meta.s);
    }
  }
  exec("CREATE INDEX topics_by_topic ON topics(topic); CREATE INDEX topics_by_doc ON topics(doc); COMMIT;");
  const double index_ms = ms_since(t);
  const double index_rss = peak_rss_mib();

  const char* kMatch = "SELECT rowid FROM docs WHERE docs MATCH ?1 AND (?2 IS NULL OR rowid IN (SELECT doc FROM topics WHERE topic = ?2))";
  Statement top(db, "SELECT rowid, title FROM docs WHERE docs MATCH ?1 AND (?2 IS NULL OR rowid IN "
                    "(SELECT doc FROM topics WHERE topic = ?2)) ORDER BY rank LIMIT 10");
  Statement top_snippets(db, "SELECT rowid, title, snippet(docs, -1, '<mark>', '</mark>', '…', 40) FROM docs "
                             "WHERE docs MATCH ?1 AND (?2 IS NULL OR rowid IN (SELECT doc FROM topics WHERE topic = ?2)) "
                             "ORDER BY rank LIMIT 10");
  Statement topic_counts(db, fmt::format("SELECT topic, count(*) FROM topics WHERE doc IN ({}) GROUP BY topic", kMatch).c_str());
  Statement year_counts(db, fmt::format("SELECT year, count(*) FROM meta WHERE doc IN ({}) GROUP BY year", kMatch).c_str());
  const auto mix = generator.query_mix(queries);
  auto run = [&](bool full, std::vector<double>* ms) {
    for (const auto& q : mix) {
      const auto start = Clock::now();
      const std::string match = fts_query(q);
      std::size_t sink = 0;
      for (Statement* s : full ? std::vector<Statement*>{&top_snippets, &topic_counts, &year_counts}
                               : std::vector<Statement*>{&top}) {
        sqlite3_bind_text(s->s, 1, match.c_str(), -1, SQLITE_TRANSIENT);
        if (q.topic.empty()) sqlite3_bind_null(s->s, 2);
        else sqlite3_bind_text(s->s, 2, q.topic.c_str(), -1, SQLITE_TRANSIENT);
        int rc;
        while ((rc = sqlite3_step(s->s)) == SQLITE_ROW) sink += static_cast<std::size_t>(sqlite3_column_bytes(s->s, 1));
        check(rc, db);
        sqlite3_reset(s->s);
      }
      if (ms) ms->push_back(ms_since(start));
      if (sink == 42424242) fmt::print(" ");
    }
  };
  run(true, nullptr);
  std::vector<double> full_ms, top10_ms;
  run(true, &full_ms);
  run(false, &top10_ms);
  sqlite3_close(db);
  nlohmann::json out = {{"engine", "SQLite FTS5"}, {"articles", articles}, {"queries", mix.size()},
                        {"full", latency_json(full_ms)}, {"top10", latency_json(top10_ms)}};
  out.update(index_json(articles, index_ms, rss_before, index_rss, corpus_bytes(all), dir));
  fmt::print("{}\n", out.dump());
  if (temporary) fs::remove_all(dir);
  return 0;
}
