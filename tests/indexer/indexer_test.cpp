// The index job against real Xapian databases in temporary directories.
#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "indexer/document_builder.h"
#include "indexer/index_directory.h"
#include "indexer/indexer.h"
#include "schema/index_path.h"
#include "schema/schema.h"
#include "searcher/searcher.h"
#include "tests/test_support.h"

using namespace mssearch;
namespace fs = std::filesystem;

namespace {

struct Fixture {
  test::TempDir tmp;
  fs::path articles = tmp / "articles";
  fs::path db = tmp / "db";

  Fixture() {
    test::write_file(articles / "astro.md",
                     test::markdown_article("Astrocytes in MS", "2026-02-10", "[Astrocytes, Demyelination]",
                                            "## What They Found\n\nAstrocytes have two faces.\n"));
    test::write_file(articles / "gut.md",
                     test::markdown_article("Gut bacteria and MS", "2025-10-15", "[Gut microbiome]",
                                            "## What They Found\n\nBacteria in the gut.\n"));
    test::write_file(articles / "trem2.md",
                     test::markdown_article("TREM2 helps microglia", "2024-03-01", "[Microglia]",
                                            "## What They Found\n\nTREM2 helps repair myelin.\n"));
  }

  IndexReport index(bool full = false, std::vector<fs::path> paths = {}) {
    IndexerOptions options;
    options.db_path = db;
    options.full = full;
    if (paths.empty()) paths = {articles};
    auto report = run_index_job(paths, options);
    REQUIRE(report);
    return *report;
  }

  // Options for a job into `shards` shards of this fixture's index.
  IndexerOptions sharded(std::size_t shards = 3) const {
    IndexerOptions options;
    options.db_path = db;
    options.shards = shards;
    return options;
  }

  // Article ids that a search for `query` finds.
  std::vector<std::string> find(const std::string& query) {
    SearcherOptions options;
    options.db_path = db;
    auto searcher = Searcher::open(options);
    REQUIRE(searcher);
    SearchRequest request;
    request.query = query;
    auto result = searcher->search(request);
    REQUIRE(result);
    std::vector<std::string> ids;
    for (const auto& h : result->hits) ids.push_back(h.id);
    std::sort(ids.begin(), ids.end());
    return ids;
  }
};

using Ids = std::vector<std::string>;

// Bytes this process has read so far (read(2) and the like: /proc/self/io's rchar).
std::uint64_t bytes_read() {
  std::ifstream io("/proc/self/io");
  std::string name;
  std::uint64_t value = 0;
  while (io >> name >> value)
    if (name == "rchar:") return value;
  FAIL("no rchar in /proc/self/io");
  return 0;
}

}  // namespace

TEST_CASE("index: a first run builds the index and stamps the schema", "[indexer]") {
  Fixture f;
  auto r = f.index();
  CHECK(r.added == 3);
  CHECK(r.failed == 0);
  CHECK(r.full);  // no index yet: built as a new generation
  CHECK(r.documents == 3);
  Xapian::Database db(f.db.string());
  CHECK(db.get_metadata(std::string(schema::kMetaSchemaVersion)) == std::to_string(schema::kSchemaVersion));
  CHECK(fs::exists(f.db / "XAPIANDB"));
}

TEST_CASE("index: round trip keeps fields, filters and values", "[indexer]") {
  Fixture f;
  f.index();
  Xapian::Database db(f.db.string());
  auto p = db.postlist_begin(schema::id_term("astro"));
  REQUIRE(p != db.postlist_end(schema::id_term("astro")));
  Xapian::Document doc = db.get_document(*p);
  const Article stored = decode_stored(doc.get_data());
  CHECK(stored.title == "Astrocytes in MS");
  CHECK(stored.journal == "Test Journal");
  CHECK(doc.get_value(schema::kSlotDate) == "20260210");
  CHECK(doc.get_value(schema::kSlotTopics) == "Astrocytes\nDemyelination");
  CHECK(doc.get_value(schema::kSlotYear) == "2026");
  // Feedback's terms: exactly the expansion terms of the article's term list, with their wdf.
  schema::TermWdfs expected, stored_terms;
  for (auto t = db.termlist_begin(*p); t != db.termlist_end(*p); ++t)
    if (is_expansion_term(*t)) expected.emplace_back(*t, t.get_wdf());
  REQUIRE(expected.size() > 3);
  CHECK(schema::decode_feedback_terms(doc.get_value(schema::kSlotFeedbackTerms),
                                      [&](const std::string& t, Xapian::termcount w) { stored_terms.emplace_back(t, w); }));
  CHECK(stored_terms == expected);
  CHECK(db.get_termfreq(schema::topic_term("Demyelination")) == 1);
  CHECK(db.get_termfreq(schema::journal_term("Test Journal")) == 3);
  CHECK(db.get_termfreq(schema::year_term(2025)) == 1);
  CHECK(f.find("astrocytes") == Ids{"astro"});
  CHECK(f.find("title:microglia") == Ids{"trem2"});
  CHECK(f.find("trem2") == Ids{"trem2"});
  CHECK(db.get_spelling_suggestion("astrocites") == "astrocytes");
}

TEST_CASE("index: incremental runs touch only what changed", "[indexer]") {
  Fixture f;
  f.index();
  const auto revision = Xapian::Database(f.db.string()).get_revision();

  SECTION("rerun: all unchanged, nothing committed") {
    auto r = f.index();
    CHECK(r.unchanged == 3);
    CHECK(r.added + r.updated + r.deleted + r.failed == 0);
    CHECK_FALSE(r.full);
    CHECK(r.revision == revision);
  }
  SECTION("edit one file: exactly one updated") {
    test::write_file(f.articles / "gut.md",
                     test::markdown_article("Gut bacteria and MS", "2025-10-15", "[Gut microbiome]",
                                            "## What They Found\n\nFibre feeds helpful bacteria.\n"));
    auto r = f.index();
    CHECK(r.updated == 1);
    CHECK(r.unchanged == 2);
    CHECK(r.revision == revision + 1);
    CHECK(f.find("fibre") == Ids{"gut"});
  }
  SECTION("line ends changed to CRLF and back (a checkout's autocrlf): nothing updated") {
    // Every article was "updated" (a full changeset to every replica), the text unchanged.
    for (const char* name : {"astro.md", "gut.md", "trem2.md"}) {
      std::string text = test::read_file(f.articles / name), crlf;
      for (const char c : text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
      test::write_file(f.articles / name, crlf);
    }
    auto r = f.index();
    CHECK(r.unchanged == 3);
    CHECK(r.updated == 0);
    CHECK(r.revision == revision);
    CHECK(f.find("fibre").empty());
    CHECK(f.find("bacteria") == Ids{"gut"});
  }
  SECTION("delete one file: exactly one deleted") {
    fs::remove(f.articles / "gut.md");
    auto r = f.index();
    CHECK(r.deleted == 1);
    CHECK(r.unchanged == 2);
    CHECK(r.documents == 2);
    CHECK(f.find("bacteria").empty());
  }
  SECTION("add one file: exactly one added") {
    test::write_file(f.articles / "ebv.md", test::markdown_article("EBV and MS", "2025-06-12"));
    auto r = f.index();
    CHECK(r.added == 1);
    CHECK(r.unchanged == 3);
  }
  SECTION("indexing a single file never deletes articles from other sources") {
    auto r = f.index(false, {f.articles / "gut.md"});
    CHECK(r.unchanged == 1);
    CHECK(r.deleted == 0);
    CHECK(r.documents == 3);
  }
}

TEST_CASE("index: each field and section numbers its words from its own base", "[indexer]") {
  Fixture f;
  const std::string body = "## What They Found\n\nAstrocytes have two faces here.\n\n"
                           "## Important Considerations\n\nStarts small, with mice.\n";
  test::write_file(f.articles / "astro.md",
                   test::markdown_article("Astrocytes in MS", "2026-02-10", "[Astrocytes, Demyelination]", body));
  f.index();
  auto positions = [&](const std::string& term) {
    Xapian::Database db(f.db.string());
    const Xapian::docid did = *db.postlist_begin(schema::id_term("astro"));
    return std::vector<Xapian::termpos>(db.positionlist_begin(did, term), db.positionlist_end(did, term));
  };
  const auto faces = positions("faces"), mice = positions("mice");
  REQUIRE(faces.size() == 1);
  REQUIRE(mice.size() == 1);
  CHECK(faces[0] > 4 * schema::kFieldPositions);
  CHECK(mice[0] > 5 * schema::kFieldPositions);
  // A longer title moves no other field's words: the position lists are rewritten as they were.
  test::write_file(f.articles / "astro.md",
                   test::markdown_article("Astrocytes in multiple sclerosis, two faces of one cell", "2026-02-10",
                                          "[Astrocytes, Demyelination]", body));
  CHECK(f.index().updated == 1);
  const auto faces_after = positions("faces");  // now in the title too
  REQUIRE(faces_after.size() == 2);
  CHECK(faces_after[0] < schema::kFieldPositions);
  CHECK(faces_after[1] == faces[0]);
  CHECK(positions("mice") == mice);
  // A phrase never spans two sections, but does within one.
  CHECK(f.find("\"two faces here\"") == Ids{"astro"});
  CHECK(f.find("\"here starts\"").empty());
}

TEST_CASE("index: a section's own heading is searched with its text, the site's headings are not", "[indexer]") {
  // helper-91: `## Ocrelizumab in pregnancy` found nothing by its words; the site's headings,
  // in every article, would make "care" and "found" words of every article.
  Fixture f;
  const std::string body = "## What They Found\n\nAstrocytes have two faces here.\n\n"
                           "## Zebrawordhead in pregnancy\n\nStarts small, with mice.\n\n"
                           "## who should  CARE and why\n\nResearchers.\n";
  test::write_file(f.articles / "astro.md",
                   test::markdown_article("Astrocytes in MS", "2026-02-10", "[Astrocytes]", body));
  f.index();
  CHECK(f.find("zebrawordhead") == Ids{"astro"});
  CHECK(f.find("\"zebrawordhead in pregnancy\"") == Ids{"astro"});
  CHECK(f.find("\"pregnancy starts\"").empty());   // no phrase runs from the heading into its text
  CHECK(f.find("\"mice zebrawordhead\"").empty());  // nor from another section's
  Xapian::Database db(f.db.string());
  CHECK(db.term_exists("zebrawordhead"));
  for (const char* site_word : {"care", "found", "why", "should"}) {
    CAPTURE(site_word);
    CHECK_FALSE(db.term_exists(site_word));
  }
  CHECK(is_site_section_heading("What They Found"));
  CHECK(is_site_section_heading(" important   considerations "));
  for (const char* variant : {"What They Found.", "What they found?", "1. What They Found", "What They Found :",
                              "What\u00a0They Found", "**Who Should Care and Why?**"}) {
    CAPTURE(variant);
    CHECK(is_site_section_heading(variant));
  }
  CHECK_FALSE(is_site_section_heading("What They Found in Mice"));
  CHECK_FALSE(is_site_section_heading("What They Foundation"));
}

TEST_CASE("index: a word of Chinese, Japanese or Korean letters joined to a Latin one is found by each", "[indexer]") {
  // `fatigue疲労` was one word (0 articles for fatigue); parted by a space, a sign, a field or a
  // filter covered its first part alone (helper-93: `brain -疲労bladder` searched bladder).
  Fixture f;
  test::write_file(f.articles / "mixed.md", test::markdown_article("Fatigue疲労 in MS", "2025-03-01", "[Fatigue疲労]",
                                                                   "## What They Found\n\nThe 疲労bladder study.\n"));
  test::write_file(f.articles / "bladder.md", test::markdown_article("Bladder problems", "2025-03-02", "[Bladder]",
                                                                     "## What They Found\n\nBladder and the brain.\n"));
  f.index();
  CHECK(f.find("fatigue") == Ids{"mixed"});
  CHECK(f.find("疲労") == Ids{"mixed"});
  CHECK(f.find("fatigue疲労") == Ids{"mixed"});
  CHECK(f.find("topic:fatigue疲労") == Ids{"mixed"});
  CHECK(f.find("title:疲労bladder").empty());
  CHECK(f.find("brain -疲労bladder") == Ids{"bladder"});
  CHECK(f.find("bladder -疲労bladder") == Ids{"bladder"});
}

TEST_CASE("index: a link to a folder that is gone keeps its articles and is named as an error", "[indexer]") {
  // helper-91: a linked subject folder retired, its link left: its articles stayed for good,
  // exit 0, `errors` empty, --full too.
  Fixture f;
  const fs::path elsewhere = f.tmp / "elsewhere" / "sub";
  test::write_file(elsewhere / "menopause.md",
                   test::markdown_article("Menopause and MS", "2025-05-01", "[Women's health]", "## What They Found\n\nHot flushes.\n"));
  fs::create_directory_symlink(elsewhere, f.articles / "sub");
  for (const std::size_t shards : {std::size_t{0}, std::size_t{3}}) {
    CAPTURE(shards);
    std::error_code none_yet;  // the second round puts the folder back
    fs::rename(f.tmp / "elsewhere.gone", f.tmp / "elsewhere", none_yet);
    fs::remove_all(f.db);
    IndexerOptions options = shards > 0 ? f.sharded(shards) : IndexerOptions{};
    options.db_path = f.db;
    auto first = run_index_job({f.articles}, options);
    REQUIRE(first);
    CHECK(first->added == 4);
    CHECK(first->errors.empty());
    fs::rename(f.tmp / "elsewhere", f.tmp / "elsewhere.gone");
    for (const bool full : {false, true}) {
      CAPTURE(full);
      options.full = full;
      auto again = run_index_job({f.articles}, options);
      REQUIRE(again);
      CHECK(again->deleted == 0);
      REQUIRE(again->errors.size() == 1);  // once, also over shards
      CHECK(again->errors[0].source == (f.articles / "sub").string());  // as given
      CHECK_THAT(again->errors[0].message, Catch::Contains("symbolic link whose target is gone") &&
                                               Catch::Contains("articles indexed from under it are kept"));
      CHECK(again->failed == 1);
      CHECK(again->documents == 4);
    }
  }
  // The link removed: its articles go; a dangling link with nothing under it is no error.
  fs::remove(f.articles / "sub");
  fs::create_symlink(f.tmp / "nowhere.txt", f.articles / "notes");
  IndexerOptions options = f.sharded(3);
  auto removed = run_index_job({f.articles}, options);
  REQUIRE(removed);
  CHECK(removed->deleted == 1);
  CHECK(removed->errors.empty());
}

TEST_CASE("index: a bad article keeps its previous version searchable", "[indexer]") {
  Fixture f;
  f.index();
  SECTION("invalid field, id still known") {
    test::write_file(f.articles / "gut.md", "---\ntitle: Gut bacteria and MS\ndate: 2025-13-45\n---\n");
  }
  SECTION("broken YAML, id unknown") {
    test::write_file(f.articles / "gut.md", "---\ntitle: [unclosed\n---\n");
  }
  SECTION("invalid UTF-8") {
    test::write_file(f.articles / "gut.md", "---\ntitle: Gut\xff\ndate: 2025-01-01\n---\n");
  }
  auto r = f.index();
  CHECK(r.deleted == 0);
  CHECK(r.documents == 3);
  CHECK(f.find("bacteria") == Ids{"gut"});
  // --full rebuilds keep it too, copied from the live index.
  auto full = f.index(true);
  CHECK(full.documents == 3);
  CHECK(f.find("bacteria") == Ids{"gut"});
}

TEST_CASE("index: a Markdown file that fails keeps its indexed article, also when it names another id now", "[indexer]") {
  Fixture f;
  // Sharded too: the file's indexed article ('gut') and the id it now names ('astro') in
  // different shards, so that the shard that refuses the duplicate is not the one holding 'gut'.
  const bool sharded = GENERATE(false, true);
  std::size_t shards = 0;
  for (std::size_t n = 2; sharded && n < 16 && shards == 0; ++n)
    if (shard_of("gut", n) != shard_of("astro", n)) shards = n;
  REQUIRE(sharded == (shards != 0));
  INFO("shards: " << shards);
  auto index = [&] {
    IndexerOptions options;
    options.db_path = f.db;
    options.shards = shards;
    auto report = run_index_job({f.articles}, options);
    REQUIRE(report);
    return *report;
  };
  REQUIRE(index().documents == 3);
  SECTION("a new id and a bad date in the same edit") {
    test::write_file(f.articles / "gut.md", "---\nid: gut-microbes\ntitle: Gut bacteria and MS\ndate: 2025-13-45\n---\n");
  }
  SECTION("an invalid id") {
    test::write_file(f.articles / "gut.md", "---\nid: gut microbes!\ntitle: Gut bacteria and MS\ndate: 2025-10-15\n---\n");
  }
  SECTION("the id of another file: the first file in path order wins, the second fails") {
    test::write_file(f.articles / "gut.md", "---\nid: astro\ntitle: Gut bacteria and MS\ndate: 2025-10-15\n---\n");
  }
  // Moved and broken in one edit (helper-91: the article was deleted, its old path gone): the
  // file's id line, or its name, keeps it.
  SECTION("moved to a subfolder and its YAML broken, its name the id") {
    fs::create_directories(f.articles / "sub");
    fs::rename(f.articles / "gut.md", f.articles / "sub" / "gut.md");
    test::write_file(f.articles / "sub" / "gut.md", "---\ntitle: [broken\ndate: 2025-10-15\n---\n");
  }
  SECTION("renamed and its YAML broken, its id line intact") {
    fs::remove(f.articles / "gut.md");
    test::write_file(f.articles / "gut-bacteria.md", "---\nid: \"gut\"\ntitle: [broken\ndate: 2025-10-15\n---\n");
  }
  const IndexReport r = index();
  CHECK(r.failed == 1);
  CHECK(r.deleted == 0);
  CHECK(r.documents == 3);
  CHECK(f.find("bacteria") == Ids{"gut"});
  CHECK(f.find("astrocytes") == Ids{"astro"});
}

TEST_CASE("index: a sharded job holds the whole index: a second one changes no shard", "[indexer]") {
  Fixture f;
  IndexerOptions options = f.sharded();
  REQUIRE(run_index_job({f.articles}, options));
  test::write_file(f.articles / "new.md", test::markdown_article("Vitamin D and relapses"));
  test::write_file(f.articles / "new2.md", test::markdown_article("Sleep and fatigue"));
  test::write_file(f.articles / "new3.md", test::markdown_article("Walking and balance"));
  std::vector<Xapian::rev> before;
  for (std::size_t s = 0; s < 3; ++s) before.push_back(Xapian::Database(shard_dir(f.db, s).string()).get_revision());
  {
    auto lock = IndexLock::acquire(f.db);  // what a running sharded job holds
    REQUIRE(lock);
    auto second = run_index_job({f.articles}, options);
    REQUIRE_FALSE(second);
    CHECK(second.error().code == ErrorCode::kLocked);
    for (std::size_t s = 0; s < 3; ++s)
      CHECK(Xapian::Database(shard_dir(f.db, s).string()).get_revision() == before[s]);
  }
  auto after = run_index_job({f.articles}, options);  // and the next run reports what changed
  REQUIRE(after);
  CHECK(after->added == 3);
}

namespace {

Xapian::doccount documents_in(const std::filesystem::path& db) {
  auto opened = open_index(db);
  REQUIRE(opened);
  return opened->get_doccount();
}

}  // namespace

TEST_CASE("index: a folder named that holds no article now deletes nothing unless allowed", "[indexer]") {
  for (const std::size_t shards : {0u, 2u}) {
    INFO("shards " << shards);
    Fixture f;
    IndexerOptions options;
    options.db_path = f.db;
    options.shards = shards;
    REQUIRE(run_index_job({f.articles}, options));
    const auto held = documents_in(f.db);
    REQUIRE(held >= 3);
    // An unmounted mount point, a folder emptied by mistake: every article was deleted, exit 0.
    const auto away = f.tmp / "away";
    std::filesystem::rename(f.articles, away);
    std::filesystem::create_directories(f.articles);
    auto job = run_index_job({f.articles}, options);
    REQUIRE_FALSE(job);
    CHECK(job.error().code == ErrorCode::kIo);
    CHECK_THAT(job.error().message, Catch::Contains("holds no article now") && Catch::Contains("--allow-empty"));
    CHECK(documents_in(f.db) == held);
    // An editor's deletions with one article left go through, in whichever shard they are.
    std::filesystem::remove_all(f.articles);
    std::filesystem::rename(away, f.articles);
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(f.articles)) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (std::size_t i = 1; i < files.size(); ++i) std::filesystem::remove(files[i]);
    auto some = run_index_job({f.articles}, options);
    REQUIRE(some);
    CHECK(some->deleted == held - 1);
    // Allowed: the last one goes too.
    std::filesystem::remove(files[0]);
    options.allow_empty = true;
    auto all = run_index_job({f.articles}, options);
    REQUIRE(all);
    CHECK(all->deleted == 1);
    CHECK(documents_in(f.db) == 0);
  }
  // An export emptied (a failed dump): read, but no article in it.
  test::TempDir tmp;
  const auto jsonl = tmp.path() / "export.jsonl";
  test::write_file(jsonl, R"({"id":"j1","title":"One","date":"2025-01-01","body":"fatigue"})" "\n"
                          R"({"id":"j2","title":"Two","date":"2025-01-01","body":"fatigue"})" "\n");
  IndexerOptions options;
  options.db_path = tmp.path() / "db";
  REQUIRE(run_index_job({jsonl}, options));
  test::write_file(jsonl, "");
  auto job = run_index_job({jsonl}, options);
  REQUIRE_FALSE(job);
  CHECK_THAT(job.error().message, Catch::Contains("holds no article now"));
  CHECK(documents_in(options.db_path) == 2);
}

TEST_CASE("index: a lost stub is damage: refused, nothing lost", "[indexer]") {
  const auto documents = documents_in;
  Fixture f;
  test::TempDir other;
  test::write_file(other.path() / "elsewhere.md", test::markdown_article("Indexed from another folder"));
  {
    IndexerOptions options;
    options.db_path = f.db;
    REQUIRE(run_index_job({f.articles}, options));
    REQUIRE(run_index_job({other.path()}, options));
    const auto all = documents(f.db);
    std::filesystem::remove(f.db / "XAPIANDB");
    // An incremental run rebuilt the index from these sources alone, the other folder's article lost.
    auto job = run_index_job({f.articles}, options);
    REQUIRE_FALSE(job);
    CHECK(job.error().code == ErrorCode::kCorrupt);
    CHECK_THAT(job.error().message, Catch::Contains("no XAPIANDB") && Catch::Contains("gen-000"));
    auto search = open_index(f.db);
    REQUIRE_FALSE(search);
    CHECK(search.error().code == ErrorCode::kCorrupt);
    std::string live;
    for (const auto& e : std::filesystem::directory_iterator(f.db))
      if (e.path().filename().string().starts_with("gen-")) live = std::max(live, e.path().filename().string());
    test::write_file(f.db / "XAPIANDB", "glass " + live + "\n");
    CHECK(documents(f.db) == all);  // restored as the message says, nothing was lost
  }
}

TEST_CASE("index: a first build cut short is no damage, and independent indexes named shard-NN are no shards", "[indexer]") {
  Fixture f;
  // What a first build leaves when it is stopped before it publishes (no stub, no revision).
  test::write_file(f.db / "gen-000001" / "postlist.glass", "");
  auto search = open_index(f.db);
  REQUIRE_FALSE(search);
  CHECK(search.error().code == ErrorCode::kIndexMissing);
  IndexerOptions options;
  options.db_path = f.db;
  REQUIRE(run_index_job({f.articles}, options));
  // Two indexes of their own in one folder, named like shards (one per shard server, say).
  test::TempDir dep;
  for (const char* name : {"shard-00", "shard-01"}) {
    options.db_path = dep.path() / name;
    REQUIRE(run_index_job({f.articles}, options));
  }
  options.db_path = dep.path() / "shard-00";
  CHECK(run_index_job({f.articles}, options));
}

TEST_CASE("index: a lost or copied shard, a shard given as the index: damage, refused, nothing lost", "[indexer]") {
  const auto documents = documents_in;
  Fixture f;
  test::TempDir other;
  test::write_file(other.path() / "elsewhere.md", test::markdown_article("Indexed from another folder"));
  IndexerOptions options = f.sharded();
  REQUIRE(run_index_job({f.articles}, options));
  REQUIRE(run_index_job({other.path()}, options));
  const auto all = documents(f.db);
  options.shards = 0;  // as the nightly job runs: the index's own count
  SECTION("a shard lost") {
    std::filesystem::rename(shard_dir(f.db, 2), f.db.parent_path() / "away");
    auto job = run_index_job({f.articles}, options);
    REQUIRE_FALSE(job);  // it re-sharded what was left into 2, unasked
    CHECK(job.error().code == ErrorCode::kCorrupt);
    CHECK_THAT(job.error().message, Catch::Contains("shard-02 is missing"));
    CHECK_FALSE(open_index(f.db));  // a search no longer answers from two thirds, unmarked
    std::filesystem::rename(f.db.parent_path() / "away", shard_dir(f.db, 2));
    CHECK(documents(f.db) == all);
  }
  SECTION("a shard's stub lost") {
    std::filesystem::remove(shard_dir(f.db, 1) / "XAPIANDB");
    auto job = run_index_job({f.articles}, options);
    REQUIRE_FALSE(job);
    CHECK_THAT(job.error().message, Catch::Contains("shard-01") && Catch::Contains("no XAPIANDB"));
    CHECK_FALSE(open_index(f.db));
  }
  SECTION("a shard copied beside the others") {
    std::filesystem::copy(shard_dir(f.db, 0), shard_dir(f.db, 3), std::filesystem::copy_options::recursive);
    auto job = run_index_job({f.articles}, options);
    REQUIRE_FALSE(job);
    CHECK_THAT(job.error().message, Catch::Contains("shard-03 is none of them"));
    options.full = true;
    CHECK_FALSE(run_index_job({f.articles}, options));  // --full would keep it, counted twice
    CHECK_FALSE(open_index(f.db));
    // An index from before the count was recorded: the copy is the same database as shard-00.
    std::filesystem::remove(f.db / "shards");
    auto legacy = open_index(f.db);
    REQUIRE_FALSE(legacy);
    CHECK_THAT(legacy.error().message, Catch::Contains("shard-03 is the same database as shard-00"));
  }
  SECTION("one shard given as the index, also through a link") {
    IndexerOptions one;
    one.db_path = shard_dir(f.db, 0);
    auto job = run_index_job({f.articles}, one);
    REQUIRE_FALSE(job);
    CHECK_THAT(job.error().message, Catch::Contains("is one shard of the sharded index"));
    std::filesystem::create_directory_symlink(shard_dir(f.db, 0), other.path() / "link");
    one.db_path = other.path() / "link";
    CHECK_FALSE(run_index_job({f.articles}, one));
    CHECK(documents(f.db) == all);
  }
  SECTION("a shard count that is no number") {
    test::write_file(f.db / "shards", "garbage\n");
    auto search = open_index(f.db);
    REQUIRE_FALSE(search);
    CHECK(search.error().code == ErrorCode::kCorrupt);
    CHECK_FALSE(run_index_job({f.articles}, options));
  }
}

TEST_CASE("index: a shard that fails leaves the others' commits, and the error says what they changed", "[indexer]") {
  Fixture f;
  IndexerOptions options = f.sharded();
  REQUIRE(run_index_job({f.articles}, options));
  std::size_t elsewhere = 0;  // new articles that go to a shard other than the damaged one
  for (int k = 0; k < 9; ++k) {
    const std::string id = "new-" + std::to_string(k);
    test::write_file(f.articles / (id + ".md"), test::markdown_article("Vitamin D and relapses " + id));
    if (shard_of(id, 3) != 1) ++elsewhere;
  }
  REQUIRE(elsewhere > 0);
  // Its database cannot be opened (an empty iamglass; a stub naming no database is refused
  // before any shard is written, as damage to the whole index).
  std::ofstream(*live_database_dir(shard_dir(f.db, 1)) / "iamglass", std::ios::trunc).close();
  auto r = run_index_job({f.articles}, options);
  REQUIRE_FALSE(r);
  // Before: "shard 1: ..." alone, exit 2 ("nothing changed"), while shards 0 and 2 had
  // committed their new articles, which the next run then counted as unchanged.
  CHECK_THAT(r.error().message, Catch::StartsWith("shard 1: "));
  CHECK_THAT(r.error().message, Catch::Contains("once shard 1 is mended") && (Catch::Contains(fmt::format("committed their changes all the same: {} added, 0 updated, 0 deleted", elsewhere)) ||
                                    Catch::Contains(fmt::format("committed its changes all the same: {} added, 0 updated, 0 deleted", elsewhere))));
}

TEST_CASE("index: a shard that fails leaves the spelling database with the others' new words, or as it was", "[indexer]") {
  Fixture f;
  IndexerOptions options = f.sharded();
  REQUIRE(run_index_job({f.articles}, options));
  auto spelled = [&](const std::string& typo) {
    auto spelling = open_index(spelling_dir(f.db));
    REQUIRE(spelling);
    return spelling->get_spelling_suggestion(typo);
  };
  REQUIRE(spelled("quokkavirux").empty());
  std::string id;
  for (int k = 0; id.empty(); ++k)
    if (shard_of("quokka-" + std::to_string(k), 3) != 1) id = "quokka-" + std::to_string(k);
  test::write_file(f.articles / (id + ".md"), test::markdown_article("Quokkavirus and relapses"));
  {
    // Shard 1 fails (another job holds it), readable: the others commit, and their words are
    // corrected to (DIR/spelling stayed the last whole run's: "quokkavirux" unanswered).
    auto held = IndexLock::acquire(shard_dir(f.db, 1));
    REQUIRE(held);
    auto r = run_index_job({f.articles}, options);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::StartsWith("shard 1: ") && !Catch::Contains("spelling"));
  }
  CHECK(spelled("quokkavirux") == "quokkavirus");
  CHECK(spelled("astrocites") == "astrocytes");
  // Shard 1 unreadable: DIR/spelling is left as it was (rebuilt without shard 1, its words would
  // be lost), and the error says so.
  test::write_file(f.articles / (id + ".md"), test::markdown_article("Wallabyvirus and relapses"));
  std::ofstream(*live_database_dir(shard_dir(f.db, 1)) / "iamglass", std::ios::trunc).close();
  auto r = run_index_job({f.articles}, options);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("the spelling database keeps the last run's words"));
  CHECK(spelled("quokkavirux") == "quokkavirus");
  CHECK(spelled("astrocites") == "astrocytes");
}

TEST_CASE("index: a spelling database that cannot be written after every shard committed is a warning, not 'nothing changed'",
          "[indexer]") {
  // helper-86: the job's error (exit 2, "nothing changed") after every shard's commit.
  Fixture f;
  IndexerOptions options = f.sharded();
  REQUIRE(run_index_job({f.articles}, options));
  test::write_file(f.articles / "new-one.md", test::markdown_article("Quokkavirus and relapses"));
  fs::remove_all(spelling_dir(f.db));
  test::write_file(spelling_dir(f.db), "not a folder");  // the spelling database cannot be written
  auto r = run_index_job({f.articles}, options);
  REQUIRE(r);
  CHECK(r->added == 1);
  CHECK(r->records_lost);
  REQUIRE(r->warnings.size() == 1);
  CHECK_THAT(r->warnings.front(), Catch::Contains("every shard committed") && Catch::Contains("spelling database"));
}

TEST_CASE("index: failures are reported with source and line, the rest is indexed", "[indexer]") {
  Fixture f;
  test::write_file(f.articles / "bad.md", "---\ndate: 2025-01-01\n---\n");
  test::write_file(f.articles / "dup.md", "---\nid: astro\ntitle: Copy\ndate: 2025-01-01\n---\n");
  test::write_file(f.articles / "export.jsonl",
                   "{\"id\":\"j1\",\"title\":\"From the CMS\",\"date\":\"2025-05-05\"}\n"
                   "not json\n"
                   "\n"
                   "{\"id\":\"j2\",\"title\":\"Also from the CMS\",\"date\":\"2025-05-06\"}\n"
                   "{\"id\":\"j1\",\"title\":\"Again\",\"date\":\"2025-05-07\"}\n"
                   "{\"id\":\"j3\",\"title\":\"\\u0000\",\"date\":\"2025-05-07\"}\n"
                   "{\"id\":\"j4\",\"title\":\"Body\",\"date\":\"2025-05-07\",\"body\":\"a \\u0000 b\"}\n");
  auto r = f.index();
  CHECK(r.added == 5);  // 3 Markdown + 2 JSONL
  CHECK(r.failed == 6);
  REQUIRE(r.errors.size() == 6);
  std::vector<std::string> messages;
  for (const auto& e : r.errors) messages.push_back(e.source + ":" + std::to_string(e.line) + ": " + e.message);
  std::sort(messages.begin(), messages.end());
  CHECK_THAT(messages[0], Catch::Contains("bad.md:1: missing required field 'title'"));
  CHECK_THAT(messages[1], Catch::Contains("duplicate id 'astro'"));
  // A record's duplicate names both lines (it said line 0, and the same file "also"); a NUL
  // escape is named as such (it was "not valid UTF-8").
  CHECK_THAT(messages[2], Catch::Contains("export.jsonl:2: invalid JSON"));
  CHECK_THAT(messages[3], Catch::EndsWith("export.jsonl:5: duplicate id 'j1' (also on line 1 of this file, which keeps it)"));
  CHECK_THAT(messages[4], Catch::Contains("export.jsonl:6: 'title' contains a NUL character"));
  // A body's too (it was indexed, the NUL dropped silently).
  CHECK_THAT(messages[5], Catch::Contains("export.jsonl:7: 'body' contains a NUL character"));
}

TEST_CASE("index: articles gone from a JSON Lines file with a broken line are kept and named", "[indexer]") {
  // A line that fails without an id might be any article's: those no longer in the file are
  // kept, but said (j3 withdrawn stayed searchable while j1's line was broken, and the summary
  // said nothing: helper-97).
  Fixture f;
  const auto line = [](int n) { return fmt::format("{{\"id\":\"j{}\",\"title\":\"Record {}\",\"date\":\"2025-05-05\"}}\n", n, n); };
  test::write_file(f.articles / "export.jsonl", line(0) + line(1) + line(2) + line(3) + line(4));
  REQUIRE(f.index().added == 8);
  test::write_file(f.articles / "export.jsonl", line(0) + "{\"id\": broken\n" + line(2) + line(4));
  auto r = f.index();
  CHECK(r.deleted == 0);
  CHECK(r.failed == 1);
  const auto named = std::find_if(r.warnings.begin(), r.warnings.end(), [](const std::string& w) { return w.find("kept though no line") != std::string::npos; });
  REQUIRE(named != r.warnings.end());
  CHECK_THAT(*named, Catch::Contains("export.jsonl") && Catch::Contains("j1, j3") && Catch::Contains("mend that line"));
  // Mended: both deleted, nothing more to say.
  test::write_file(f.articles / "export.jsonl", line(0) + line(2) + line(4));
  r = f.index();
  CHECK(r.deleted == 2);
  for (const auto& w : r.warnings) CHECK_THAT(w, !Catch::Contains("kept though"));
}

TEST_CASE("index: an incremental run that rewrites most articles builds a new generation, keeping what it keeps", "[indexer]") {
  // Rewritten in place, every article of 8,000 took twice --full's time and left the index 3
  // times the size (helper-97). Past the threshold the run is built as --full builds it, and an
  // article kept for a file that fails stays.
  Fixture f;
  test::write_file(f.articles / "kept.md", test::markdown_article("Kept while broken", "2024-01-01", "[Fatigue]", "Kept text.\n"));
  REQUIRE(f.index().added == 4);
  const auto edit_all = [&](const std::string& word) {
    for (const char* name : {"astro.md", "gut.md", "trem2.md"})
      test::write_file(f.articles / name, test::markdown_article(std::string(name) + " " + word, "2025-01-01", "[Microglia]",
                                                                 "## What They Found\n\nNow about " + word + ".\n"));
  };
  test::write_file(f.articles / "kept.md", "---\ntitle: [broken\n---\n");
  edit_all("zebrafish");
  IndexerOptions options;
  options.db_path = f.db;
  options.rebuild_from_rewrites = 3;
  auto r = run_index_job({f.articles}, options);
  REQUIRE(r);
  CHECK(r->full);
  CHECK(r->updated == 3);
  CHECK(r->failed == 1);
  Xapian::Database db(f.db.string());
  CHECK(db.get_doccount() == 4);
  CHECK(db.get_termfreq("Zzebrafish") == 3);
  CHECK(db.term_exists("Qkept"));  // the broken file's article, carried over
  // Below the threshold (or fewer than half): rewritten in place, as before.
  edit_all("axolotl");
  options.rebuild_from_rewrites = 4;
  r = run_index_job({f.articles}, options);
  REQUIRE(r);
  CHECK_FALSE(r->full);
  CHECK(r->updated == 3);
  CHECK(Xapian::Database(f.db.string()).get_termfreq("Zaxolotl") == 3);
}

TEST_CASE("index: a second concurrent job fails fast and harms nothing", "[indexer]") {
  Fixture f;
  f.index();
  auto lock = IndexLock::acquire(f.db);  // what a running job holds
  REQUIRE(lock);
  IndexerOptions options;
  options.db_path = f.db;
  auto second = run_index_job({f.articles}, options);
  REQUIRE_FALSE(second);
  CHECK(second.error().code == ErrorCode::kLocked);
  CHECK_THAT(second.error().message, Catch::Contains("another index job is running"));
  CHECK(Xapian::Database(f.db.string()).get_doccount() == 3);
}

TEST_CASE("index: the index's folder is its own, not the articles' nor one holding other files", "[indexer]") {
  // `index c9 --db c9` wrote XAPIANDB, gen-* and a lock among the articles (helper-72); a
  // typo'd --db into a site's tree did the same without a word.
  Fixture f;
  IndexerOptions options;
  options.db_path = f.articles;
  auto into_articles = run_index_job({f.articles}, options);
  REQUIRE_FALSE(into_articles);
  CHECK_THAT(into_articles.error().message, Catch::Contains("is the folder of articles being indexed"));
  CHECK_FALSE(fs::exists(f.articles / "XAPIANDB"));
  options.db_path = f.tmp / "site";
  test::write_file(f.tmp / "site/about.html", "<p>About</p>");
  auto into_other = run_index_job({f.articles}, options);
  REQUIRE_FALSE(into_other);
  CHECK_THAT(into_other.error().message, Catch::Contains("holds other files ('about.html') and no mssearch index"));
  CHECK_FALSE(fs::exists(f.tmp / "site/XAPIANDB"));
  // A new folder, an empty one, a volume's lost+found and dot files, and an index's own: fine.
  options.db_path = f.tmp / "volume";
  fs::create_directories(f.tmp / "volume/lost+found");
  test::write_file(f.tmp / "volume/.keep", "");
  REQUIRE(run_index_job({f.articles}, options));
  REQUIRE(run_index_job({f.articles}, options));  // its own index, the second time
  f.index();
  CHECK(f.index().unchanged == 3);
}

TEST_CASE("index: --full swaps in a new generation and keeps one before it", "[indexer]") {
  Fixture f;
  f.index();
  const auto first = IndexDirectory(f.db).live_generation();
  auto r = f.index(true);
  CHECK(r.full);
  CHECK(r.unchanged == 3);
  const auto second = IndexDirectory(f.db).live_generation();
  REQUIRE(first);
  REQUIRE(second);
  CHECK(*first != *second);
  CHECK(fs::exists(*first));  // readers still on it can finish
  f.index(true);
  CHECK_FALSE(fs::exists(*first));  // two rebuilds later it is gone
}

TEST_CASE("index: the revision only grows, across --full rebuilds too", "[indexer]") {
  // Anything keyed on it (a cache, an ETag, a replica) must never see time run backwards: a
  // new generation's Xapian revision starts again at 1.
  Fixture f;
  Xapian::rev last = f.index().revision;
  for (int i = 0; i < 3; ++i) {
    test::write_file(f.articles / "astro.md", test::markdown_article("Astrocytes, edit " + std::to_string(i)));
    const auto incremental = f.index();
    CHECK(incremental.revision > last);
    last = incremental.revision;
    const auto full = f.index(true);
    CHECK(full.revision > last);
    last = full.revision;
    CHECK(schema::revision(Xapian::Database(f.db.string())) == last);
  }
  // Over an index that cannot be read at all (its version file emptied), --full still counts
  // on, from the revision the last job recorded outside the database.
  std::ofstream(*live_database_dir(f.db) / "iamglass", std::ios::trunc).close();
  const auto rebuilt = f.index(true);
  CHECK_FALSE(rebuilt.warnings.empty());
  CHECK(rebuilt.revision > last);
  last = rebuilt.revision;

  // A record that cannot be written (a full disk; here its temporary name taken by a folder)
  // is said, and the last record stays as it was: on a full disk the unchecked write left an
  // empty file, and the next --full over an unreadable index began again at revision 1.
  fs::create_directory(f.db / "revision.tmp");
  test::write_file(f.articles / "astro.md", test::markdown_article("Astrocytes, edit again"));
  const auto unrecorded = f.index();
  CHECK(unrecorded.revision > last);
  CHECK(std::any_of(unrecorded.warnings.begin(), unrecorded.warnings.end(),
                    [](const std::string& w) { return w.find("its revision not recorded") != std::string::npos; }));
  CHECK(IndexDirectory(f.db).recorded_revision() == last);
  fs::remove(f.db / "revision.tmp");
  std::ofstream(*live_database_dir(f.db) / "iamglass", std::ios::trunc).close();
  CHECK(f.index(true).revision > last);
}

TEST_CASE("index: an article whose filter term is over Xapian's limit fails alone", "[indexer]") {
  // A 300-byte topic made Xapian throw "Term too long" and end the whole job (no index at all
  // on a first build). The reader refuses it by its limits; articles given in memory, which no
  // reader checked, are checked by the job itself.
  Fixture f;
  Article good;
  good.id = "good";
  good.title = "Good";
  good.date = "2025-01-01";
  Article bad = good;
  bad.id = "bad";
  bad.topics = {std::string(300, 't')};
  IndexerOptions options;
  options.db_path = f.db;
  auto r = index_articles({good, bad}, options);
  REQUIRE(r);
  CHECK(r->added == 1);
  REQUIRE(r->errors.size() == 1);
  CHECK_THAT(r->errors[0].message, Catch::Contains("Xapian's limit is 245"));
  CHECK(Xapian::Database(f.db.string()).term_exists("Qgood"));
}

TEST_CASE("index: leftovers of an interrupted rebuild are removed by the next job", "[indexer]") {
  Fixture f;
  f.index();
  const fs::path leftover = IndexDirectory(f.db).next_generation();
  fs::create_directories(leftover);
  test::write_file(leftover / "junk", "half-written");
  auto r = f.index();
  CHECK(r.unchanged == 3);
  CHECK_FALSE(fs::exists(leftover));
}

TEST_CASE("index: a truncated table is refused as damage with what to do, --full rebuilds it", "[indexer]") {
  Fixture f;
  // Enough words for posting lists of many blocks, so that a cut loses some.
  std::mt19937 rng(3);
  for (int i = 0; i < 40; ++i) {
    std::string words;
    for (int w = 0; w < 300; ++w) words += fmt::format("w{:x} ", rng() % 1000000);
    test::write_file(f.articles / fmt::format("many{}.md", i),
                     test::markdown_article(fmt::format("Many {}", i), "2025-01-01", "[Relapses]", "## What They Found\n\n" + words + "\n"));
  }
  REQUIRE(f.index().documents == 43);
  const auto live = live_database_dir(f.db);
  REQUIRE(live);
  REQUIRE(fs::file_size(*live / "postlist.glass") > 4 * 8192);
  fs::resize_file(*live / "postlist.glass", 8192);  // a copy or a disk cut short
  IndexerOptions options;
  options.db_path = f.db;
  auto r = run_index_job({f.articles}, options);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kCorrupt);
  CHECK_THAT(r.error().message, Catch::Contains("EOF reading block") && Catch::Contains("mssearch index --full"));
  // Searching it says the same (it said database_error, "search failed", with nothing to do).
  for (const std::string words : {"relapses", "many"}) {
    auto search = test::run_mssearch(fmt::format("search {} --db '{}' --json", words, f.db.string()));
    CHECK(search.exit_code == 2);
    const auto answer = nlohmann::json::parse(search.out, nullptr, false);
    REQUIRE(answer.is_object());
    CHECK(answer["error"]["code"] == "index_damaged");
  }
  // `check` names the table (it said "database" twice, naming no file).
  auto check = test::run_mssearch(fmt::format("check --db '{}' --json", f.db.string()));
  CHECK(check.exit_code == 1);
  const auto checked = nlohmann::json::parse(check.out, nullptr, false);
  REQUIRE(checked.is_object());
  REQUIRE(checked["databases"][0]["damage"].size() == 1);
  CHECK(checked["databases"][0]["damage"][0]["what"] == "table postlist.glass");
  CHECK(f.index(true).documents == 43);
  CHECK(f.find("bacteria") == Ids{"gut"});
}

TEST_CASE("index: a stub that names no database is refused, and no generation is removed", "[indexer]") {
  Fixture f;
  f.index();
  f.index(true);  // two generations: the live one and the one before
  auto generations = [&] {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(f.db))
      if (e.path().filename().string().starts_with("gen-")) names.insert(e.path().filename().string());
    return names;
  };
  const auto before = generations();
  REQUIRE(before.size() == 2);
  SECTION("garbled") { test::write_file(f.db / "XAPIANDB", "glass\n"); }
  SECTION("empty") { test::write_file(f.db / "XAPIANDB", ""); }
  test::write_file(f.articles / "new.md", test::markdown_article("Vitamin D and relapses"));
  IndexerOptions options;
  options.db_path = f.db;
  auto r = run_index_job({f.articles}, options);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kCorrupt);
  CHECK_THAT(r.error().message, Catch::Contains("XAPIANDB names no database") && Catch::Contains("--full"));
  CHECK(generations() == before);  // before: every generation deleted, then rebuilt from the sources alone
  CHECK(f.index(true).documents == 4);
}

TEST_CASE("index: an index of another schema version is refused, --full rebuilds it", "[indexer]") {
  Fixture f;
  f.index();
  {
    Xapian::WritableDatabase w(f.db.string());
    w.set_metadata(std::string(schema::kMetaSchemaVersion), "0");
    w.commit();
  }
  IndexerOptions options;
  options.db_path = f.db;
  auto r = run_index_job({f.articles}, options);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kSchemaMismatch);
  CHECK_FALSE(open_index(f.db));
  CHECK(f.index(true).documents == 3);
  CHECK(open_index(f.db));
}

TEST_CASE("index: a missing source path is a fatal error, nothing changes", "[indexer]") {
  Fixture f;
  f.index();
  IndexerOptions options;
  options.db_path = f.db;
  auto r = run_index_job({f.tmp / "no-such-dir"}, options);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kIo);
  CHECK(Xapian::Database(f.db.string()).get_doccount() == 3);
}

TEST_CASE("index: the same folder named through a link, relative or absolute rewrites nothing", "[indexer]") {
  // The content hash took the path as each run named it: a cron job's `corpus` and an
  // editor's /srv/site/corpus rewrote every article each time (a full changeset for every
  // replica, every cached answer dropped).
  Fixture f;
  fs::create_directory_symlink(f.articles, f.tmp / "link");
  CHECK(f.index(false, {f.tmp / "link"}).added == 3);
  struct Cwd {
    fs::path was = fs::current_path();
    ~Cwd() { fs::current_path(was); }
  } cwd;
  fs::current_path(f.tmp.path());
  for (const fs::path& named : {f.articles, fs::path("articles"), fs::path("./link/"), f.tmp / "link"}) {
    CAPTURE(named);
    const IndexReport r = f.index(false, {named});
    CHECK(r.unchanged == 3);
    CHECK(r.updated == 0);
    CHECK(r.deleted == 0);
  }
  // An article removed is deleted whichever name the run uses; an edit is one update.
  test::write_file(f.articles / "gut.md", test::read_file(f.articles / "gut.md") + "\nMore.\n");
  fs::remove(f.articles / "trem2.md");
  const IndexReport r = f.index(false, {fs::path("articles")});
  CHECK(r.updated == 1);
  CHECK(r.deleted == 1);
  CHECK(r.unchanged == 1);
  // The path as named is kept up to date while nothing else changes: once the link is gone,
  // an article removed is still deleted (it stayed for good, even after --full, when the
  // index kept the link's spelling).
  CHECK(f.index(false, {f.articles}).unchanged == 2);
  fs::remove(f.tmp / "link");
  fs::remove(f.articles / "astro.md");
  CHECK(f.index(false, {f.articles}).deleted == 1);
  CHECK(f.index(true, {f.articles}).documents == 1);
  test::write_file(f.articles / "astro.md", test::markdown_article("Astrocytes in MS", "2026-02-10", "[Astrocytes]"));
  CHECK(f.index(false, {f.articles}).added == 1);
  // A folder moved is another file for each article: updated, its new path stored.
  fs::rename(f.articles, f.tmp / "moved");
  CHECK(f.index(false, {f.tmp / "moved"}).updated == 2);
  CHECK(f.index(false, {f.tmp / "moved"}).unchanged == 2);
}

TEST_CASE("content hash: equal articles hash alike, any stored field but the path changed changes it", "[indexer]") {
  Article a;
  a.id = "heat-fatigue";
  a.title = "Heat and fatigue";
  a.date = "2025-03-01";
  a.topics = {"Fatigue", "Heat"};
  a.journal = "Brain";
  a.credibility = 4;
  a.takeaway = "Cooling helps.";
  a.url = "/articles/heat-fatigue";
  a.body_markdown = "## What They Found\nCooling vests helped.";
  a.body_text = "Cooling vests helped.";
  a.sections = {{"What They Found", "Cooling vests helped."}};
  a.source = "/corpus/heat.md";
  const std::string base = content_hash(a);
  CHECK(base.size() == 16);
  CHECK(content_hash(Article(a)) == base);
  const std::vector<std::function<void(Article&)>> changes = {
      [](Article& x) { x.id += "x"; },
      [](Article& x) { x.title += "x"; },
      [](Article& x) { x.date = "2025-03-02"; },
      [](Article& x) { x.topics.push_back("Sleep"); },
      [](Article& x) { x.topics = {"FatigueHeat"}; },
      [](Article& x) { x.journal += "x"; },
      [](Article& x) { x.credibility = 5; },
      [](Article& x) { x.credibility.reset(); },
      [](Article& x) { x.interest = 4; },
      [](Article& x) { x.takeaway += "x"; },
      [](Article& x) { x.url += "x"; },
      [](Article& x) { x.body_markdown += "x"; },
      [](Article& x) { x.sections[0].heading += "x"; },
      [](Article& x) { x.sections[0].text += "x"; },
      // A boundary moved between two fields is a change too.
      [](Article& x) {
        x.id = "heat-fatigueH";
        x.title = "eat and fatigue";
      },
  };
  for (std::size_t i = 0; i < changes.size(); ++i) {
    Article changed = a;
    changes[i](changed);
    INFO("change " << i);
    CHECK(content_hash(changed) != base);
  }
  // The file's path is the indexer's to compare (as named and as it resolves), not the hash's.
  Article moved = a;
  moved.source = "/elsewhere/heat.md";
  CHECK(content_hash(moved) == base);
}

namespace {

// Article i of a made-up collection: short, with words of its own and words shared by all.
Article made_article(std::size_t i) {
  Article a;
  a.id = fmt::format("made-{}", i);
  a.title = fmt::format("Made article {} on myelin", i);
  a.date = "2025-01-01";
  a.takeaway = fmt::format("Word{} and myelin repair in case {}.", i % 97, i);
  a.topics = {i % 2 == 0 ? "Astrocytes" : "Microglia"};
  a.body_text = fmt::format("Remyelination study number {} found word{} often.", i, i % 13);
  a.body_markdown = "## What They Found\n\n" + a.body_text + "\n";
  a.sections = {{"What They Found", a.body_text}};
  return a;
}

// id -> content hash, of every document a database holds.
std::map<std::string, std::string> held_hashes(const Xapian::Database& db) {
  std::map<std::string, std::string> out;
  for (auto d = db.postlist_begin(""); d != db.postlist_end(""); ++d) {
    const Xapian::Document doc = db.get_document(*d);
    for (auto t = doc.termlist_begin(); t != doc.termlist_end(); ++t)
      if ((*t).starts_with(schema::kIdPrefix)) out[(*t).substr(schema::kIdPrefix.size())] = doc.get_value(schema::kSlotContentHash);
  }
  return out;
}

}  // namespace

TEST_CASE("index: a streamed build writes what a build from memory writes, each article made once", "[indexer]") {
  test::TempDir tmp;
  const std::size_t count = 1100;  // over 1,000: written as parts in parallel
  std::vector<std::atomic<int>> made(count + 1);
  ArticleStream stream{count, [](std::size_t i) { return fmt::format("made-{}", i); }, [&](std::size_t i) {
                         ++made[i];
                         Article a = made_article(i);
                         if (i == 7) a.topics = {std::string(300, 't')};  // refused alone
                         return a;
                       }};
  IndexerOptions options;
  options.db_path = tmp / "streamed";
  auto streamed = index_stream(stream, options);
  REQUIRE(streamed);
  for (std::size_t i = 0; i < count; ++i) REQUIRE(made[i] == 1);
  CHECK(streamed->full);
  CHECK(streamed->added == count - 1);
  REQUIRE(streamed->errors.size() == 1);
  CHECK(streamed->errors[0].id == "made-7");
  CHECK(streamed->documents == count - 1);

  std::vector<Article> all;
  for (std::size_t i = 0; i < count; ++i) all.push_back(made_article(i));
  all[7].topics = {std::string(300, 't')};
  options.db_path = tmp / "memory";
  options.full = true;
  REQUIRE(index_articles(std::move(all), options));
  const Xapian::Database a((tmp / "streamed").string()), b((tmp / "memory").string());
  CHECK(a.get_doccount() == b.get_doccount());
  CHECK(a.get_total_length() == b.get_total_length());
  CHECK(held_hashes(a) == held_hashes(b));
  CHECK(a.get_termfreq("Zmyelin") == count - 1);

  // Again, into 3 shards: each holds the ids shard_of gives it, and nothing is made twice.
  for (auto& m : made) m = 0;
  options = IndexerOptions{};
  options.db_path = tmp / "sharded";
  options.shards = 3;
  auto sharded = index_stream(stream, options);
  REQUIRE(sharded);
  for (std::size_t i = 0; i < count; ++i) REQUIRE(made[i] == 1);
  CHECK(sharded->shards == 3);
  CHECK(sharded->documents == count - 1);
  std::size_t total = 0;
  for (std::size_t s = 0; s < 3; ++s) {
    const Xapian::Database shard(shard_dir(tmp / "sharded", s).string());
    total += shard.get_doccount();
    for (const auto& [id, hash] : held_hashes(shard)) CHECK(shard_of(id, 3) == s);
  }
  CHECK(total == count - 1);

  // What the stream makes is checked as articles given in memory are: each bad one refused
  // alone, named; a stream that throws ends the job with an error, not the process.
  ArticleStream odd{30, [](std::size_t i) { return fmt::format("made-{}", i); }, [](std::size_t i) {
                      Article odd_one = made_article(i);
                      if (i == 3) odd_one.id = "not-made-3";
                      if (i == 5) odd_one.url = "javascript:alert(1)";
                      return odd_one;
                    }};
  for (const std::size_t shards : {0, 2}) {
    INFO(shards << " shards");
    options = IndexerOptions{};
    options.db_path = tmp / fmt::format("odd-{}", shards);
    options.shards = shards;
    auto checked = index_stream(odd, options);
    REQUIRE(checked);
    CHECK(checked->documents == 28);
    REQUIRE(checked->errors.size() == 2);
    CHECK_THAT(checked->errors[0].message + checked->errors[1].message,
               Catch::Contains("made 'not-made-3' as article 'made-3'") && Catch::Contains("'url' must be"));
    ArticleStream throwing = odd;
    throwing.make = [](std::size_t i) -> Article {
      if (i == 20) throw std::runtime_error("the generator ran dry");
      return made_article(i);
    };
    options.db_path = tmp / fmt::format("throwing-{}", shards);
    auto ended = index_stream(throwing, options);
    REQUIRE_FALSE(ended);
    CHECK_THAT(ended.error().message, Catch::Contains("the generator ran dry"));
  }

  // A second stream replaces the first, as --full does; the revision goes on growing.
  stream.count = 10;
  options = IndexerOptions{};
  options.db_path = tmp / "streamed";
  auto again = index_stream(stream, options);
  REQUIRE(again);
  CHECK(again->documents == 9);  // made-7 is refused again
  CHECK(again->revision > streamed->revision);
}

TEST_CASE("index: an id taken from an export this run did not read is checked without reading the export whole", "[indexer]") {
  // The warning that an article took the id the index holds from another file asks that file
  // whether it still gives the id. A JSONL export was read whole, every article parsed and kept,
  // for one warning (44 MB: 3.35 s, 193 MB); now up to the lines that give the ids asked.
  test::TempDir tmp;
  const fs::path exported = tmp / "export" / "all.jsonl";
  test::write_file(exported, R"({"id":"sleep","title":"Poor sleep and fatigue","date":"2025-01-01","body":"Published."})" "\n"
                             R"({"id":"gut","title":"Gut bacteria","date":"2025-01-01","body":"Bacteria."})" "\n");
  IndexerOptions options;
  options.db_path = tmp / "db";
  REQUIRE(run_index_job({exported}, options));
  // The export grows by 512 MiB after those lines (a hole: no disk; one line too long to parse).
  constexpr std::uintmax_t kGrown = std::uintmax_t{512} << 20;
  fs::resize_file(exported, fs::file_size(exported) + kGrown);
  test::write_file(tmp / "drafts" / "copy.md", "---\nid: sleep\ntitle: Draft about naps\ndate: 2025-02-01\n---\nDraft.\n");
  test::write_file(tmp / "drafts" / "gut-copy.md", "---\nid: gut\ntitle: Draft about guts\ndate: 2025-02-01\n---\nDraft.\n");
  const std::uint64_t before = bytes_read();
  auto job = run_index_job({tmp / "drafts"}, options);
  const std::uint64_t read = bytes_read() - before;
  REQUIRE(job);
  INFO(fmt::format("{}", fmt::join(job->warnings, "\n")));
  CHECK(job->updated == 2);
  REQUIRE(job->warnings.size() == 2);
  CHECK_THAT(job->warnings[0], Catch::Contains("copy.md: id 'sleep' replaced the article of " + exported.string()));
  CHECK_THAT(job->warnings[1], Catch::Contains("gut-copy.md: id 'gut' replaced the article of " + exported.string()));
  CHECK(read < kGrown / 16);
}
