// The hostile-input matrix of the index job: every limit at and past its value, every state a
// source path can be in, and damage to every table of the index, each row with its expected
// outcome. The job runs as the real binary, as cron runs it, over a corpus already indexed:
// whatever the row does, the articles indexed before are still there (nothing indexed is lost
// by accident). The README's "Bad input" table is checked against these rows.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <set>

#include <nlohmann/json.hpp>
#include <xapian.h>

#include "schema/index_path.h"
#include "tests/test_support.h"

using namespace mssearch;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

std::set<std::string> indexed_ids(const fs::path& db) {
  Xapian::Database d(db.string());
  std::set<std::string> ids;
  for (auto t = d.allterms_begin("Q"); t != d.allterms_end("Q"); ++t) ids.insert((*t).substr(1));
  return ids;
}

// Three articles, indexed: keep-a at the top, keep-b and keep-c under sub/.
struct Corpus {
  test::TempDir tmp;
  fs::path dir = tmp / "corpus";
  fs::path db = tmp / "db";
  Corpus() {
    test::write_file(dir / "keep-a.md", test::markdown_article("Kept A"));
    test::write_file(dir / "sub/keep-b.md", test::markdown_article("Kept B"));
    test::write_file(dir / "sub/keep-c.md", test::markdown_article("Kept C"));
    // Everything readable by anyone: unprivileged rows run without root's bypass.
    fs::permissions(tmp.path(), fs::perms::all);
    auto r = test::run_mssearch("index " + q(dir) + " --db " + q(db) + " -q");
    REQUIRE(r.exit_code == 0);
  }
  ~Corpus() {
    // Give back what a row took away, so that the directory can be removed.
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(tmp.path(), fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec))
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::permissions(dir / "sub", fs::perms::owner_all, fs::perm_options::add, ec);
  }
  void article(const std::string& name, const std::string& front, const std::string& body = "Some text.\n") {
    test::write_file(dir / name, "---\n" + front + "\n---\n" + body);
  }
};

std::string repeat(char c, std::size_t n) { return std::string(n, c); }
std::string topics_list(std::size_t n) {
  std::string out = "[";
  for (std::size_t i = 0; i < n; ++i) out += (i ? ", T" : "T") + std::to_string(i);
  return out + "]";
}

struct Row {
  std::string input;    // the README's "input" column
  std::string outcome;  // its "what happens" column
  std::function<void(Corpus&)> make;
  int exit_code;                  // of `mssearch index corpus --json`
  std::string message = {};       // in errors[] (empty: no error)
  std::vector<std::string> present = {}, absent = {};  // ids, besides keep-a/b/c which must stay
  bool unprivileged = false;      // file permissions must hold for this row
};

std::vector<Row> index_rows() {
  constexpr std::size_t kMiB = 1 << 20;
  std::vector<Row> rows = {
      // Field limits, at the limit and one past it.
      {"title of 500 bytes / 501", "indexed / refused: `'title' is 501 bytes; the limit is 500`",
       [](Corpus& c) {
         c.article("t-ok.md", "title: " + repeat('t', 500) + "\ndate: 2025-01-01");
         c.article("t-bad.md", "title: " + repeat('t', 501) + "\ndate: 2025-01-01");
       },
       1, "'title' is 501 bytes; the limit is 500", {"t-ok"}, {"t-bad"}},
      {"takeaway of 4,000 bytes / 4,001", "indexed / refused, naming the field and the limit",
       [](Corpus& c) {
         c.article("k-ok.md", "title: K\ndate: 2025-01-01\ntakeaway: " + repeat('k', 4000));
         c.article("k-bad.md", "title: K\ndate: 2025-01-01\ntakeaway: " + repeat('k', 4001));
       },
       1, "'takeaway' is 4001 bytes; the limit is 4000", {"k-ok"}, {"k-bad"}},
      {"journal of 200 bytes / 201", "indexed / refused, naming the field and the limit",
       [](Corpus& c) {
         c.article("j-ok.md", "title: J\ndate: 2025-01-01\njournal: " + repeat('j', 200));
         c.article("j-bad.md", "title: J\ndate: 2025-01-01\njournal: " + repeat('j', 201));
       },
       1, "'journal' is 201 bytes; the limit is 200", {"j-ok"}, {"j-bad"}},
      {"32 topics / 33", "indexed / refused: `33 topics; the limit is 32`",
       [](Corpus& c) {
         c.article("n-ok.md", "title: N\ndate: 2025-01-01\ntopics: " + topics_list(32));
         c.article("n-bad.md", "title: N\ndate: 2025-01-01\ntopics: " + topics_list(33));
       },
       1, "33 topics; the limit is 32", {"n-ok"}, {"n-bad"}},
      {"a topic of 120 bytes / 121 (one of 300 bytes ended the whole job: Xapian's term limit)",
       "indexed / refused: `topic '…' is 121 bytes; the limit is 120`; the rest of the run goes on",
       [](Corpus& c) {
         c.article("p-ok.md", "title: P\ndate: 2025-01-01\ntopics: [" + repeat('p', 120) + "]");
         c.article("p-bad.md", "title: P\ndate: 2025-01-01\ntopics: [" + repeat('p', 121) + "]");
         c.article("p-huge.md", "title: P\ndate: 2025-01-01\ntopics: [" + repeat('p', 300) + "]");
       },
       1, "is 121 bytes; the limit is 120", {"p-ok"}, {"p-bad", "p-huge"}},
      {"id of 200 bytes / 201", "indexed / refused, naming the field and the limit",
       [](Corpus& c) {
         c.article("i-ok.md", "id: " + repeat('i', 200) + "\ntitle: I\ndate: 2025-01-01");
         c.article("i-bad.md", "id: " + repeat('i', 201) + "\ntitle: I\ndate: 2025-01-01");
       },
       1, "'id' is 201 bytes; the limit is 200", {repeat('i', 200)}, {repeat('i', 201)}},
      {"url of 2,000 bytes / 2,001", "indexed / refused, naming the field and the limit",
       [](Corpus& c) {
         c.article("u-ok.md", "title: U\ndate: 2025-01-01\nurl: /" + repeat('u', 1999));
         c.article("u-bad.md", "title: U\ndate: 2025-01-01\nurl: /" + repeat('u', 2000));
       },
       1, "'url' is 2001 bytes; the limit is 2000", {"u-ok"}, {"u-bad"}},
      {"`url: \"javascript:alert(1)\"`, `url: //evil.example/x`",
       "refused: `'url' must be a path on the site (/articles/…) or an http(s) URL`; pages and the widget "
       "link only such URLs too",
       [](Corpus& c) {
         c.article("js.md", "title: U\ndate: 2025-01-01\nurl: \"javascript:alert(1)\"");
         c.article("pr.md", "title: U\ndate: 2025-01-01\nurl: //evil.example/x");
         c.article("ok-url.md", "title: U\ndate: 2025-01-01\nurl: https://site.example/a");
       },
       1, "'url' must be a path on the site", {"ok-url"}, {"js", "pr"}},
      {"an article file of 1 MiB / 1 MiB + 1 byte",
       "indexed / refused from its size before it is read: `article is 1048577 bytes, over the limit of 1 MiB`",
       [](Corpus& c) {
         const std::string head = "---\ntitle: Big\ndate: 2025-01-01\n---\n";
         test::write_file(c.dir / "big-ok.md", head + repeat('w', kMiB - head.size()));
         test::write_file(c.dir / "big-bad.md", head + repeat('w', kMiB - head.size() + 1));
       },
       1, "article is 1048577 bytes, over the limit of 1 MiB", {"big-ok"}, {"big-bad"}},
      {"a 1 GiB `.md` file", "refused from its size, nothing read: memory stays that of a normal run",
       [](Corpus& c) {
         std::ofstream(c.dir / "huge.md").close();
         fs::resize_file(c.dir / "huge.md", std::uintmax_t{1} << 30);
       },
       1, "article is 1024 MiB, over the limit of 1 MiB", {}, {"huge"}},
      {"a JSONL line of 1 MiB + 1 byte among good lines",
       "that line refused with its number, never held whole; the file's other lines indexed",
       [](Corpus& c) {
         test::write_file(c.dir / "export.jsonl",
                          R"({"id":"l1","title":"L","date":"2025-01-01"})"
                          "\n{\"id\":\"l2\",\"title\":\"" + repeat('x', kMiB) + "\"}\n" +
                              R"({"id":"l3","title":"L","date":"2025-01-01"})" "\n");
       },
       1, "over the limit of 1 MiB", {"l1", "l3"}, {"l2"}},
      {"an article of 101 sections (headings)", "refused: `the body has 101 sections (headings); the limit is 100`",
       [](Corpus& c) {
         std::string body;
         for (int i = 0; i < 101; ++i) body += "## H" + std::to_string(i) + "\n\nText.\n\n";
         c.article("sections.md", "title: S\ndate: 2025-01-01", body);
       },
       1, "the limit is 100", {}, {"sections"}},
      {"a 300-character hyphenated slug of letters and digits in the text (it ended the whole job: Xapian's term limit)",
       "indexed: its joined form is left out like any word over 64 bytes",
       [](Corpus& c) {
         std::string slug = "il10";
         for (int i = 0; i < 150; ++i) slug += "-ab";
         c.article("slug.md", "title: Slug\ndate: 2025-01-01", "Read " + slug + " here.\n");
       },
       0, "", {"slug"}, {}},
      // The state of a source path.
      {"an unreadable article file", "an error for that file (exit 1); its indexed version stays",
       [](Corpus& c) { fs::permissions(c.dir / "sub/keep-b.md", fs::perms::none); }, 1, "Permission denied", {}, {}, true},
      {"an unreadable directory (`chmod 000 corpus/sub`)",
       "an error naming it (exit 1): `cannot read directory: Permission denied`; every article indexed from under it stays",
       [](Corpus& c) { fs::permissions(c.dir / "sub", fs::perms::none); }, 1, "cannot read directory: Permission denied", {}, {},
       true},
      {"the corpus directory itself unreadable", "the same: exit 1, every indexed article stays (before: all were deleted, exit 0)",
       [](Corpus& c) { fs::permissions(c.dir, fs::perms::none); }, 1, "cannot read directory", {}, {}, true},
      {"an article replaced by a symbolic link loop", "an error for that path (`Too many levels of symbolic links`); its indexed version stays",
       [](Corpus& c) {
         fs::remove(c.dir / "sub/keep-c.md");
         fs::create_symlink("keep-c.md", c.dir / "sub/keep-c.md");
       },
       1, "Too many levels of symbolic links"},
      {"an article replaced by a dangling symbolic link", "an error for that path; its indexed version stays",
       [](Corpus& c) {
         fs::remove(c.dir / "sub/keep-c.md");
         fs::create_symlink("gone.md", c.dir / "sub/keep-c.md");
       },
       1, "cannot follow symbolic link"},
      {"a FIFO or a device named `*.md`", "`not a regular file`, never opened for reading (no hang)",
       [](Corpus& c) {
         REQUIRE(::mkfifo((c.dir / "fifo.md").c_str(), 0644) == 0);
         fs::create_symlink("/dev/zero", c.dir / "zero.md");
       },
       1, "not a regular file"},
      {"a symbolic link to an article beside it (`sub/alias.md -> keep-c.md`)",
       "read once, under the article's own name, with a warning naming the link (it was the same id given twice: "
       "the article named as the one refused, its recorded path moved to the link)",
       [](Corpus& c) { fs::create_symlink("keep-c.md", c.dir / "sub/alias.md"); }, 0, ""},
      {"a symbolic link back up the tree (`sub/loop -> ..`)", "not followed, with a warning naming it: no loop",
       [](Corpus& c) { fs::create_symlink(c.dir, c.dir / "sub/loop"); }, 0, ""},
      {"a symbolic link to a folder that holds the corpus (`sub/up -> ../..`)",
       "not followed, with a warning naming it (it took in every folder beside the corpus: 4,068 articles)",
       [](Corpus& c) {
         test::write_file(c.tmp / "beside/beside-x.md", "---\ntitle: Beside\ndate: 2025-01-01\n---\nbody\n");
         fs::create_symlink(c.tmp.path(), c.dir / "sub/up");
       },
       0, "", {}, {"beside-x"}},
      {"a directory that can be listed but not searched (`chmod 644 corpus/sub`)",
       "an error for each entry it cannot reach (exit 1); everything indexed from under it stays",
       [](Corpus& c) { fs::permissions(c.dir / "sub", fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read); },
       1, "cannot reach it (its folder can be listed but not searched): Permission denied", {}, {}, true},
      {"a subject folder moved elsewhere and linked back (`mv corpus/sub archive/; ln -s ../archive/sub corpus/sub`)",
       "followed: its articles stay, unchanged (the identity is the path through the link)",
       [](Corpus& c) {
         fs::rename(c.dir / "sub", c.tmp / "archive-sub");
         fs::create_symlink(c.tmp / "archive-sub", c.dir / "sub");
       },
       0, "", {}, {}},
      // Articles that are wrong in themselves (more rows in tests/indexer/article_reader_test.cpp).
      {"duplicate article ids", "one is skipped and reported with both file names (exit 1): the file the index already holds the id from keeps it (a draft copied from a published article, its id left as it was, no longer replaces it; before, the first in path order won and the error named the published file), else the first in path order. Across runs the last run's file has it (a write by id, as a document store's), with a warning naming the other file when that file still gives the id and the run did not read it (a draft indexed on its own replaced the published text without a word until 2026-12-05)",
       [](Corpus& c) { c.article("sub/again.md", "id: keep-a\ntitle: Again\ndate: 2025-01-01"); }, 1, "duplicate id 'keep-a'"},
      {"YAML alias bomb (\"billion laughs\")", "refused: `front matter too large or too deeply nested (YAML aliases?): over 10000 nodes`",
       [](Corpus& c) {
         std::string yaml = "title: Bomb\ndate: 2025-01-01\na: &a [x, x, x, x, x, x, x, x, x, x]\n";
         for (char n = 'b'; n <= 'i'; ++n)
           yaml += std::string(1, n) + ": &" + n + " [*" + char(n - 1) + ", *" + char(n - 1) + ", *" + char(n - 1) + ", *" +
                   char(n - 1) + ", *" + char(n - 1) + ", *" + char(n - 1) + ", *" + char(n - 1) + ", *" + char(n - 1) + "]\n";
         test::write_file(c.dir / "bomb.md", "---\n" + yaml + "---\nbody\n");
       },
       1, "over 10000 nodes", {}, {"bomb"}},
      {"an HTML block nested 300 elements deep (`<div>` 300 times)",
       "refused, naming the nesting: the HTML parser stops at 256 levels, and the text past them was left out without a word; the version already indexed stays searchable",
       [](Corpus& c) {
         const std::string deep = "## What They Found\n\n";
         std::string html;
         for (int i = 0; i < 300; ++i) html += "<div>";
         html += "\nhidden words\n";
         for (int i = 0; i < 300; ++i) html += "</div>";
         c.article("keep-a.md", "title: Kept A\ndate: 2025-01-01", deep + html + "\n\nAfter the block.\n");
         c.article("deep-new.md", "title: Deep\ndate: 2025-01-01", deep + html + "\n");
       },
       1, "HTML nested more than 256 elements deep", {}, {"deep-new"}},
      {"invalid UTF-8 or NUL in an article, also once YAML escapes are decoded",
       "refused with file, line and byte offset (or field); the version already indexed stays searchable",
       [](Corpus& c) {
         test::write_file(c.dir / "keep-a.md", "---\ntitle: \"Bad \xff byte\"\ndate: 2025-01-01\n---\nbody\n");
       },
       1, "invalid UTF-8"},
  };
  return rows;
}

}  // namespace

TEST_CASE("hostile input matrix: index jobs over bad articles and bad paths keep what is indexed", "[hostile]") {
  for (const auto& row : index_rows()) {
    DYNAMIC_SECTION(row.input) {
      Corpus c;
      row.make(c);
      const auto r = test::run_mssearch("index " + q(c.dir) + " --db " + q(c.db) + " --json", "",
                                        row.unprivileged ? test::unprivileged() : "");
      INFO(r.out << r.err);
      CHECK(r.exit_code == row.exit_code);
      REQUIRE_FALSE(r.out.empty());
      const json report = json::parse(r.out);
      if (row.message.empty()) {
        CHECK(report["errors"].empty());
      } else {
        bool found = false;
        for (const auto& e : report["errors"]) found = found || e["message"].get<std::string>().find(row.message) != std::string::npos;
        CHECK(found);
      }
      const auto ids = indexed_ids(c.db);
      for (const char* kept : {"keep-a", "keep-b", "keep-c"}) CHECK(ids.contains(kept));
      for (const auto& id : row.present) CHECK(ids.contains(id));
      for (const auto& id : row.absent) CHECK_FALSE(ids.contains(id));
      // Nothing is read whole before its size is checked: a 1 GiB file costs no 1 GiB.
      CHECK(r.max_rss_kib < 512 * 1024);
    }
  }
}

TEST_CASE("hostile input matrix: the README's bad-input table has every row", "[hostile]") {
  const std::string readme = test::read_file(test::source_dir() / "README.md");
  std::string expected;
  for (const auto& row : index_rows()) expected += "| " + row.input + " | " + row.outcome + " |\n";
  // The rows as they must read, in a file to paste from (Catch wraps long lines).
  const fs::path table = fs::temp_directory_path() / "mssearch-bad-articles-table.md";
  test::write_file(table, expected);
  INFO("README.md's \"Bad articles and paths\" table must hold every row of " << table.string());
  for (const auto& row : index_rows()) CHECK(readme.find("| " + row.input + " | " + row.outcome + " |") != std::string::npos);
}

namespace {

// The sample corpus, indexed, then damaged on disk.
struct Damaged {
  test::TempDir tmp;
  fs::path dir = tmp / "corpus";
  fs::path db = tmp / "db";
  Damaged() {
    fs::copy(test::corpus_dir(), dir, fs::copy_options::recursive);
    REQUIRE(test::run_mssearch("index " + q(dir) + " --db " + q(db) + " -q").exit_code == 0);
  }
  fs::path table(const std::string& name) const { return *live_database_dir(db) / (name + ".glass"); }
};

void overwrite_bytes(const fs::path& file, std::streamoff at, const std::string& bytes) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(at);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(f);
}

struct DamageRow {
  std::string what;                     // README column
  std::function<void(Damaged&)> damage;
  std::string check_names;              // in `mssearch check`'s report
};

std::vector<DamageRow> damage_rows() {
  return {
      {"postlist table", [](Damaged& d) { test::overwrite_blocks(d.table("postlist")); }, "postlist.glass"},
      {"termlist table", [](Damaged& d) { test::overwrite_blocks(d.table("termlist")); }, "termlist.glass"},
      {"position table", [](Damaged& d) { test::overwrite_blocks(d.table("position")); }, "position.glass"},
      {"docdata table", [](Damaged& d) { test::overwrite_blocks(d.table("docdata")); }, "docdata.glass"},
      {"spelling table", [](Damaged& d) { test::overwrite_blocks(d.table("spelling")); }, "spelling.glass"},
      {"a table file deleted (termlist.glass)", [](Damaged& d) { fs::remove(d.table("termlist")); }, "table termlist.glass"},
      {"a date value changed in place in the posting lists (well formed to Xapian's checker)",
       [](Damaged& d) {
         std::string bytes = test::read_file(d.table("postlist"));
         const auto at = bytes.find("20260210");  // astrocytes-two-faces's date
         REQUIRE(at != std::string::npos);
         bytes.replace(at, 8, "20250210");
         test::write_file(d.table("postlist"), bytes);
       },
       "does not match its stored article"},
      {"one article's stored data (a byte inside its zstd frame)",
       [](Damaged& d) { test::flip_stored_article(d.db, "astrocytes-two-faces"); }, "astrocytes-two-faces"},
      // Four bytes of a block's header: the block claims a revision the index has not reached,
      // which Xapian reports as a reader overtaken by commits (searches answered "try again",
      // HTTP 500, for ever; an incremental job failed with database_error each night).
      // The stub naming no database, or a generation that holds none: searches said "no index,
      // build one" or gave Xapian's DatabaseNotFoundError, check exited 2, the job gave
      // database_error.
      {"XAPIANDB garbled", [](Damaged& d) { test::write_file(d.db / "XAPIANDB", "hello\n"); }, "names no database"},
      {"XAPIANDB's line ending in a carriage return (saved on Windows)",
       [](Damaged& d) {
         test::write_file(d.db / "XAPIANDB", "glass " + live_database_dir(d.db)->filename().string() + "\r\n");
       },
       "ends in a space or a carriage return"},
      {"the live generation deleted", [](Damaged& d) { fs::remove_all(*live_database_dir(d.db)); }, "holds no database"},
      {"the live generation's iamglass deleted", [](Damaged& d) { fs::remove(*live_database_dir(d.db) / "iamglass"); },
       "holds no database"},
      {"a block's header claiming a later revision (docdata)",
       [](Damaged& d) { overwrite_bytes(d.table("docdata"), 32768, std::string("\0\0\1\0", 4)); }, "docdata.glass"},
      {"a block's header claiming a later revision (postlist)",
       [](Damaged& d) { overwrite_bytes(d.table("postlist"), 8192, std::string("\0\0\1\0", 4)); }, "postlist.glass"},
  };
}

}  // namespace

TEST_CASE("hostile input matrix: damage to each table of the index", "[hostile][damage]") {
  for (const auto& row : damage_rows()) {
    DYNAMIC_SECTION(row.what) {
      Damaged d;
      row.damage(d);

      // `mssearch check` finds it and names it.
      const auto check = test::run_mssearch("check --json --db " + q(d.db));
      INFO(check.out << check.err);
      CHECK(check.exit_code == 1);
      CHECK_THAT(check.out, Catch::Contains(row.check_names));

      // Searches never abort: an answer (with the damaged article left out and named), or an
      // error naming the damage, exit 2.
      for (const std::string query : {"astrocytes", "myelin", "id:astrocytes-two-faces", "fatigue walking", "remyelin*"}) {
        const auto search = test::run_mssearch("search " + q(query) + " --json --db " + q(d.db));
        INFO(query << ": " << search.out << search.err);
        CHECK(search.exit_code <= 2);
        if (search.exit_code == 2) CHECK_THAT(search.out, Catch::Contains("index_damaged"));
      }
      if (row.check_names == "astrocytes-two-faces") {
        const auto search = test::run_mssearch("search astrocytes --json --db " + q(d.db));
        CHECK_THAT(search.out, Catch::Contains("article 'astrocytes-two-faces' was left out"));
      }

      // An incremental run refuses to build on it, and says what to do.
      const auto incremental = test::run_mssearch("index " + q(d.dir) + " --db " + q(d.db));
      INFO(incremental.out << incremental.err);
      CHECK(incremental.exit_code == 2);
      CHECK_THAT(incremental.err, Catch::Contains("damaged") && Catch::Contains("--full"));

      // --full rebuilds it from the sources; then it checks clean and holds every article.
      const auto full = test::run_mssearch("index " + q(d.dir) + " --db " + q(d.db) + " --full --json");
      INFO(full.out << full.err);
      CHECK(full.exit_code == 0);
      CHECK(test::run_mssearch("check --db " + q(d.db)).exit_code == 0);
      CHECK(indexed_ids(d.db).size() >= 40);
    }
  }
}

TEST_CASE("hostile input matrix: --full from another path never carries damaged articles over", "[hostile][damage]") {
  Damaged d;
  test::flip_stored_article(d.db, "astrocytes-two-faces");
  test::write_file(d.tmp / "other/new-one.md", test::markdown_article("A new one"));
  const auto full = test::run_mssearch("index " + q(d.tmp / "other") + " --db " + q(d.db) + " --full --json");
  INFO(full.out << full.err);
  CHECK(full.exit_code == 1);
  CHECK_THAT(full.out, Catch::Contains("article 'astrocytes-two-faces' was not carried over"));
  const auto ids = indexed_ids(d.db);
  CHECK(ids.contains("new-one"));
  CHECK_FALSE(ids.contains("astrocytes-two-faces"));
  CHECK(ids.contains("trem2-microglia-repair"));  // the others, rebuilt from their stored copies
  CHECK(test::run_mssearch("check --db " + q(d.db)).exit_code == 0);
  // Its source indexed again, it is back.
  CHECK(test::run_mssearch("index " + q(d.dir) + " --db " + q(d.db) + " -q").exit_code == 0);
  CHECK(indexed_ids(d.db).contains("astrocytes-two-faces"));
}

TEST_CASE("hostile input matrix: a corpus reached through a link swapped to a new release", "[hostile]") {
  // A common deploy: `articles -> releases/r1`, then a new release folder and the link swapped.
  // The index records paths through the link, so an article gone from the new release is
  // deleted, the others are unchanged, and nothing of the old folder lingers (resolving the
  // link made r1's articles undeletable, even by --full, and rewrote every article each swap).
  test::TempDir tmp;
  const fs::path r1 = tmp / "releases/r1", r2 = tmp / "releases/r2", link = tmp / "articles", db = tmp / "db";
  test::write_file(r1 / "a.md", test::markdown_article("A"));
  test::write_file(r1 / "b.md", test::markdown_article("B"));
  test::write_file(r1 / "c.md", test::markdown_article("C"));
  fs::create_directory_symlink(r1, link);
  REQUIRE(test::run_mssearch("index " + q(link) + " --db " + q(db) + " -q").exit_code == 0);

  fs::copy(r1, r2);
  fs::remove(r2 / "c.md");
  test::write_file(r2 / "b.md", test::markdown_article("B, edited"));
  fs::remove(link);
  fs::create_directory_symlink(r2, link);
  const auto run = test::run_mssearch("index " + q(link) + " --db " + q(db) + " --json");
  REQUIRE(run.exit_code == 0);
  const json report = json::parse(run.out);
  CHECK(report["deleted"] == 1);
  CHECK(report["updated"] == 1);
  CHECK(report["unchanged"] == 1);
  CHECK(indexed_ids(db) == std::set<std::string>{"a", "b"});

  fs::remove_all(r1);
  REQUIRE(test::run_mssearch("index " + q(link) + " --db " + q(db) + " --full -q").exit_code == 0);
  CHECK(indexed_ids(db) == std::set<std::string>{"a", "b"});
}

TEST_CASE("hostile input matrix: one folder named through a link and by its own name in turn", "[hostile]") {
  // The nightly job names the folder through a link, an editor by its own path: an article
  // removed meanwhile is deleted whichever spelling the next job uses (it stayed in the index
  // for good, even after --full), and a damaged one keeps its indexed article either way.
  test::TempDir tmp;
  const fs::path real = tmp / "corpus", link = tmp / "current", db = tmp / "db";
  test::write_file(real / "a.md", test::markdown_article("A"));
  test::write_file(real / "b.md", test::markdown_article("B"));
  test::write_file(real / "c.md", test::markdown_article("C"));
  fs::create_directory_symlink(real, link);
  REQUIRE(test::run_mssearch("index " + q(real) + " --db " + q(db) + " -q").exit_code == 0);
  REQUIRE(test::run_mssearch("index " + q(link) + " --db " + q(db) + " -q").exit_code == 0);
  fs::remove(real / "c.md");
  test::write_file(real / "b.md", "---\ntitle: [unclosed\n---\nbody\n");  // damaged: no id can be read
  const auto run = test::run_mssearch("index " + q(real) + " --db " + q(db) + " --json");
  CHECK(run.exit_code == 1);  // the damaged file is named
  const json report = json::parse(run.out);
  CHECK(report["deleted"] == 1);
  CHECK(indexed_ids(db) == std::set<std::string>{"a", "b"});
  // The other way round, and under --full.
  test::write_file(real / "d.md", test::markdown_article("D"));
  REQUIRE(test::run_mssearch("index " + q(link) + " --db " + q(db) + " -q").exit_code == 1);
  fs::remove(real / "d.md");
  CHECK(test::run_mssearch("index " + q(real) + " --db " + q(db) + " --full -q").exit_code == 1);
  CHECK(indexed_ids(db) == std::set<std::string>{"a", "b"});
}

TEST_CASE("hostile input matrix: a draft indexed on its own that takes a published article's id is warned of", "[hostile]") {
  // The draft in a folder of its own, indexed alone (a file, or its folder): it replaced the
  // published text without a word (exit 0, "1 updated"), and the nightly job put it back. Now
  // each such run says so, naming the other file; a corpus indexed from a new folder while the
  // old one is still there is the same case, so it is a warning, not a refusal.
  for (const char* shards : {"", " --shards 2"}) {
    INFO(shards);
    test::TempDir tmp;
    const fs::path dir = tmp / "articles", drafts = tmp / "drafts", db = tmp / "db";
    test::write_file(dir / "sleep.md", "---\nid: sleep\ntitle: Poor sleep and fatigue\ndate: 2025-01-01\n---\nPublished text.\n");
    test::write_file(dir / "other.md", test::markdown_article("Other"));
    REQUIRE(test::run_mssearch("index " + q(dir) + " --db " + q(db) + shards + " -q").exit_code == 0);
    test::write_file(drafts / "copy.md", "---\nid: sleep\ntitle: Draft about naps\ndate: 2025-02-01\n---\nDraft text.\n");
    test::write_file(drafts / "new.md", test::markdown_article("Brand new"));
    for (const fs::path& given : {drafts / "copy.md", drafts}) {
      INFO(given);
      const auto run = test::run_mssearch("index " + q(given) + " --db " + q(db) + shards);
      CHECK(run.exit_code == 0);
      CHECK_THAT(run.out + run.err, Catch::Contains("copy.md: id 'sleep' replaced the article of") &&
                                        Catch::Contains((dir / "sleep.md").string()));
      // The nightly job puts the published one back, and says so too.
      const auto nightly = test::run_mssearch("index " + q(dir) + " --db " + q(db) + shards);
      CHECK(nightly.exit_code == 0);
      CHECK_THAT(nightly.out + nightly.err, Catch::Contains("id 'sleep' replaced the article of") &&
                                                Catch::Contains((drafts / "copy.md").string()));
      CHECK_THAT(test::run_mssearch("search 'published' --db " + q(db) + " --json").out, Catch::Contains("Poor sleep and fatigue"));
    }
    // The rest of the drafts folder is indexed.
    CHECK_THAT(test::run_mssearch("search 'brand' --db " + q(db) + " --json").out, Catch::Contains("Brand new"));
    // The published file gone: an article moved, nothing to say.
    fs::remove(dir / "sleep.md");
    const auto moved = test::run_mssearch("index " + q(drafts) + " --db " + q(db) + shards);
    CHECK(moved.exit_code == 0);
    CHECK_THAT(moved.out + moved.err, !Catch::Contains("replaced the article of"));
    CHECK_THAT(test::run_mssearch("search 'naps' --db " + q(db) + " --json").out, Catch::Contains("Draft about naps"));
  }
}

TEST_CASE("hostile input matrix: a draft beside the published article, indexed alone, says what a run of both does", "[hostile]") {
  // The warning promised that a run reading the published file puts it back; the nightly job
  // reads both and keeps the draft, blaming the published file as "duplicate id … which keeps
  // it" (helper-97). Both messages now say which keeps it and why.
  test::TempDir tmp;
  const fs::path dir = tmp / "articles", db = tmp / "db";
  test::write_file(dir / "sleep.md", "---\nid: sleep\ntitle: Poor sleep and fatigue\ndate: 2025-01-01\n---\nPublished text.\n");
  REQUIRE(test::run_mssearch("index " + q(dir) + " --db " + q(db) + " -q").exit_code == 0);
  test::write_file(dir / "sleep-draft.md", "---\nid: sleep\ntitle: Draft about naps\ndate: 2025-02-01\n---\nDraft text.\n");
  const auto alone = test::run_mssearch("index " + q(dir / "sleep-draft.md") + " --db " + q(db));
  CHECK(alone.exit_code == 0);
  CHECK_THAT(alone.out + alone.err, Catch::Contains("one that reads both keeps this file's"));
  const auto nightly = test::run_mssearch("index " + q(dir) + " --db " + q(db));
  CHECK(nightly.exit_code == 1);
  CHECK_THAT(nightly.out + nightly.err, Catch::Contains("sleep.md: duplicate id 'sleep'") &&
                                            Catch::Contains("which keeps it, as the index holds the id from there"));
  CHECK_THAT(test::run_mssearch("search 'naps' --db " + q(db) + " --json").out, Catch::Contains("Draft about naps"));
}

TEST_CASE("hostile input matrix: a draft copied from a published article keeps its id", "[hostile]") {
  // The copy sorts first in path order; the published article keeps its id all the same, one
  // index or shards, incremental or --full, and the error names the copy.
  for (const char* shards : {"", " --shards 2"}) {
    INFO(shards);
    test::TempDir tmp;
    const fs::path dir = tmp / "articles", db = tmp / "db";
    test::write_file(dir / "sleep.md", "---\nid: sleep\ntitle: Poor sleep and fatigue\ndate: 2025-01-01\n---\nPublished text.\n");
    test::write_file(dir / "other.md", test::markdown_article("Other"));
    REQUIRE(test::run_mssearch("index " + q(dir) + " --db " + q(db) + shards + " -q").exit_code == 0);
    test::write_file(dir / "a-draft.md", "---\nid: sleep\ntitle: Draft about naps\ndate: 2025-02-01\n---\nDraft text.\n");
    for (const char* full : {"", " --full"}) {
      const auto run = test::run_mssearch("index " + q(dir) + " --db " + q(db) + shards + full + " --json");
      CHECK(run.exit_code == 1);
      CHECK_THAT(run.out + run.err, Catch::Contains("a-draft.md") && Catch::Contains("duplicate id 'sleep'"));
      const auto found = test::run_mssearch("search 'published' --db " + q(db) + " --json");
      CHECK_THAT(found.out, Catch::Contains("Poor sleep and fatigue"));
      CHECK_THAT(test::run_mssearch("search 'naps' --db " + q(db) + " --json").out, !Catch::Contains("Draft about naps"));
    }
    // The folder named through a link, then by its own name: the same file still keeps it.
    const fs::path link = tmp / "current";
    fs::create_directory_symlink(dir, link);
    for (const fs::path& root : {link, dir}) {
      INFO(root);
      const auto run = test::run_mssearch("index " + q(root) + " --db " + q(db) + shards + " --json");
      CHECK(run.exit_code == 1);
      CHECK_THAT(test::run_mssearch("search 'published' --db " + q(db) + " --json").out, Catch::Contains("Poor sleep and fatigue"));
    }
  }
}
