// Reading articles: valid input and every kind of invalid input, each named with file and line.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "indexer/article_reader.h"
#include "indexer/markdown_text.h"
#include "tests/test_support.h"

using namespace mssearch;

namespace {

std::expected<Article, ReadError> parse(const std::string& text) {
  return parse_markdown_article(text, "x.md", "default-id");
}

}  // namespace

TEST_CASE("front matter: a complete article parses into every field", "[reader]") {
  auto a = parse(R"(---
id: astro-1
title: "Understanding Astrocytes: Key to Better MS Treatments"
date: 2026-02-10
topics: [Astrocytes, Demyelination]
journal: Brain Research Bulletin
credibility: 3
interest: 4
takeaway: Astrocytes can both harm and help.
---
## What They Found

Astrocytes have *two* faces.

## Who Should Care and Why

Patients.
)");
  REQUIRE(a);
  CHECK(a->id == "astro-1");
  CHECK(a->title == "Understanding Astrocytes: Key to Better MS Treatments");
  CHECK(a->date == "2026-02-10");
  CHECK(a->topics == std::vector<std::string>{"Astrocytes", "Demyelination"});
  CHECK(a->journal == "Brain Research Bulletin");
  CHECK(a->credibility == 3);
  CHECK(a->interest == 4);
  CHECK(a->url == "/articles/astro-1");
  REQUIRE(a->sections.size() == 2);
  CHECK(a->sections[0].heading == "What They Found");
  CHECK(a->sections[0].text == "Astrocytes have two faces.");
  CHECK(a->year() == 2026);
}

TEST_CASE("front matter: id defaults to the file name, url to /articles/<id>", "[reader]") {
  auto a = parse("---\ntitle: T\ndate: 2025-01-01\n---\nbody\n");
  REQUIRE(a);
  CHECK(a->id == "default-id");
  CHECK(a->url == "/articles/default-id");
  CHECK(a->topics.empty());
  CHECK_FALSE(a->credibility);
  // Blank is left out too (helper-91: `id: ''` was refused as "invalid id ''").
  for (const char* blank : {"id: ''", "id: \"  \"", "id:"}) {
    INFO(blank);
    auto b = parse(std::string("---\n") + blank + "\ntitle: T\ndate: 2025-01-01\n---\nbody\n");
    REQUIRE(b);
    CHECK(b->id == "default-id");
  }
  // A one-line field written over lines (`title: |`) is one line (its line break split
  // `mssearch search`'s result line; helper-91).
  auto block = parse("---\ntitle: |\n  Brain fog\n  in MS\njournal: \" Brain \"\ndate: 2025-01-01\n---\nbody\n");
  REQUIRE(block);
  CHECK(block->title == "Brain fog in MS");
  CHECK(block->journal == "Brain");
}

TEST_CASE("front matter: each kind of invalid input names its line", "[reader]") {
  SECTION("missing title") {
    auto a = parse("---\ndate: 2025-01-01\n---\n");
    REQUIRE_FALSE(a);
    CHECK(a.error().message == "missing required field 'title'");
    CHECK(a.error().source == "x.md");
    CHECK(a.error().id == "default-id");  // known: the indexed version can be kept
  }
  SECTION("bad date: not ISO") {
    auto a = parse("---\ntitle: T\ndate: 12/31/2026\n---\n");
    REQUIRE_FALSE(a);
    CHECK(a.error().line == 3);
    CHECK_THAT(a.error().message, Catch::Contains("bad date '12/31/2026'"));
  }
  SECTION("bad date: no such day") {
    auto a = parse("---\ntitle: T\ndate: 2025-02-30\n---\n");
    REQUIRE_FALSE(a);
    // In the form asked for: not told to write the form (helper-97).
    CHECK_THAT(a.error().message, Catch::Contains("bad date '2025-02-30': no such day in the calendar"));
    for (const char* date : {"2025-2-3", "----------", "2025-02--1", "2025--2-28"}) {
      auto b = parse(std::string("---\ntitle: T\ndate: \"") + date + "\"\n---\n");
      REQUIRE_FALSE(b);
      CHECK_THAT(b.error().message, Catch::Contains("expected an ISO date YYYY-MM-DD"));
    }
  }
  SECTION("bad date: a year the search filters do not accept") {
    for (const char* date : {"0001-01-01", "0205-03-01", "1899-12-31", "2205-03-01", "9999-12-31"}) {
      auto a = parse(std::string("---\ntitle: T\ndate: ") + date + "\n---\n");
      REQUIRE_FALSE(a);
      CHECK(a.error().line == 3);
      CHECK_THAT(a.error().message, Catch::Contains("the year must be from 1900 to 2200"));
    }
    CHECK(parse("---\ntitle: T\ndate: 1900-01-01\n---\n"));
    CHECK(parse("---\ntitle: T\ndate: 2200-12-31\n---\n"));
  }
  SECTION("control characters, which a terminal would take as escape sequences") {
    // YAML escapes decode to ESC, BEL, C1 CSI; a raw ESC in the body; JSON's \u001b.
    for (const char* text : {"---\ntitle: \"Evil \\e]0;pwned\\a\"\ndate: 2025-01-01\n---\n",
                             "---\ntitle: T\ndate: 2025-01-01\ntopics: [\"A\\e[5mB\"]\n---\n",
                             "---\ntitle: T\ndate: 2025-01-01\njournal: \"J\\x9b2J\"\n---\n",
                             "---\ntitle: T\ndate: 2025-01-01\ntakeaway: \"\\x08\\x08\"\n---\n"}) {
      INFO(text);
      auto a = parse(text);
      REQUIRE_FALSE(a);
      CHECK_THAT(a.error().message, Catch::Contains("control character"));
    }
    auto j = parse_jsonl_article(R"({"id":"j","title":"T\u001b[31m","date":"2025-01-01","body":"x"})", "e.jsonl", 4);
    REQUIRE_FALSE(j);
    CHECK_THAT(j.error().message, Catch::Contains("control character (U+001B)"));
    // In the body (a PDF's form feeds, a stray ESC) they become spaces and the article is indexed.
    auto b = parse("---\ntitle: T\ndate: 2025-01-01\n---\n## What They Found\n\nbody \x1b[2J here\x0cnext page\xc2\x9b\n");
    REQUIRE(b);
    REQUIRE_FALSE(b->sections.empty());
    for (const auto& section : b->sections)
      for (unsigned char ch : section.text) CHECK((ch >= 0x20 || ch == '\n' || ch == '\t' || ch == '\r'));
    auto bj = parse_jsonl_article(R"({"id":"j","title":"T","date":"2025-01-01","body":"x\u001b[31my"})", "e.jsonl", 4);
    REQUIRE(bj);
    // Tabs and line ends (CRLF files) are text.
    CHECK(parse("---\r\ntitle: T\r\ndate: 2025-01-01\r\ntakeaway: |\r\n  two\r\n  lines\r\n---\r\nbody\twith a tab\r\n"));
  }
  SECTION("blank title") {
    auto a = parse("---\ntitle: \"   \"\ndate: 2025-01-01\n---\n");
    REQUIRE_FALSE(a);
    CHECK(a.error().message == "missing required field 'title'");
    // Blank in other white space too: a no-break space, an ideographic space and a zero-width one.
    for (const char* title : {"\"\u00a0\"", "\"\u3000\u200b \""}) {
      INFO(title);
      auto u = parse(std::string("---\ntitle: ") + title + "\ndate: 2025-01-01\n---\n");
      REQUIRE_FALSE(u);
      CHECK(u.error().message == "missing required field 'title'");
    }
    CHECK(parse("---\ntitle: \"\u00a0\u00e9\"\ndate: 2025-01-01\n---\n"));  // a letter shows
  }
  SECTION("missing date") {
    auto a = parse("---\ntitle: T\n---\n");
    REQUIRE_FALSE(a);
    CHECK(a.error().message == "missing required field 'date'");
  }
  SECTION("topics not a list") {
    auto a = parse("---\ntitle: T\ndate: 2025-01-01\n\ntopics: Astrocytes\n---\n");
    REQUIRE_FALSE(a);
    CHECK(a.error().line == 5);
    CHECK_THAT(a.error().message, Catch::Contains("'topics' must be a list"));
  }
  SECTION("credibility out of range") {
    auto a = parse("---\ntitle: T\ndate: 2025-01-01\ncredibility: 7\n---\n");
    REQUIRE_FALSE(a);
    CHECK(a.error().line == 4);
    CHECK_THAT(a.error().message, Catch::Contains("from 1 to 5"));
  }
  SECTION("YAML syntax error with line and column") {
    auto a = parse("---\ntitle: T\ndate: [2025-01-01\n---\n");
    REQUIRE_FALSE(a);
    CHECK_THAT(a.error().message, Catch::StartsWith("YAML syntax error at line"));
    CHECK_THAT(a.error().message, Catch::Contains("column"));
    // The whole source counts as broken; the id it most likely gives is its name's (the article
    // the index holds by it stays, also from another path).
    CHECK(a.error().id == "default-id");
    auto with_id = parse("---\nid: brain-fog\ntitle: T\ndate: [2025-01-01\n---\n");
    REQUIRE_FALSE(with_id);
    CHECK(with_id.error().id == "brain-fog");
    // Only a front matter's `id:` line: one in a notes file's text named an article it kept for
    // good (helper-92).
    auto notes = parse("Editor notes\n\nid: sleep-fatigue\n\nmore\n");
    REQUIRE_FALSE(notes);
    CHECK(notes.error().id == "default-id");
    auto after = parse("---\ntitle: [T\n---\nid: sleep-fatigue\n");
    REQUIRE_FALSE(after);
    CHECK(after.error().id == "default-id");
  }
  SECTION("a quote never closed: the fields after it are not taken into its value") {
    // yaml-cpp reads such a quote to the end of the front matter: the topics and rating became
    // part of the title, and the article was indexed without them (exit 0).
    auto a = parse("---\ndate: 2025-01-01\ntitle: \"Unclosed quote\ntopics: [Fatigue]\ncredibility: 4\n---\nbody\n");
    REQUIRE_FALSE(a);
    CHECK(a.error().line == 4);
    CHECK(a.error().message == "'topics:' was read as part of the value of 'title' (line 3): its quote is not closed");
    // Single quotes alike; a date swallowed is named as such, not as a missing date.
    auto b = parse("---\ntitle: 'Single unclosed\ndate: 2025-01-01\ntopics: [Fatigue]\n---\nbody\n");
    REQUIRE_FALSE(b);
    CHECK(b.error().line == 3);
    CHECK_THAT(b.error().message, Catch::StartsWith("'date:' was read as part of the value of 'title' (line 2)"));
    // A quoted value over several lines is fine, also with a line that has a colon in it.
    auto c = parse("---\ndate: 2025-01-01\ntitle: \"A title over\n  two lines\"\ntakeaway: \"Clear\nNote: more work needed\"\n"
                   "topics: [Fatigue]\n---\nbody\n");
    REQUIRE(c);
    CHECK(c->title == "A title over two lines");
    CHECK(c->topics == std::vector<std::string>{"Fatigue"});
    // Closed on a later line that reads like a field, last in the front matter; in a list item.
    for (const char* front : {"date: 2025-01-01\ntitle: T\ntakeaway: \"This is long and\ninterest: rated highly\"",
                              "date: 2025-01-01\ntitle: T\ntakeaway: 'Long and\ninterest: rated highly'  # a comment",
                              "date: 2025-01-01\ntitle: T\ntopics:\n- A\n- \"B\njournal: J\""}) {
      CAPTURE(front);
      CHECK(parse(std::string("---\n") + front + "\n---\nbody\n"));
    }
    // A field mssearch does not know is taken in all the same: named too.
    auto d = parse("---\ndate: 2025-01-01\ntitle: \"Unclosed\nauthor: someone\n---\nbody\n");
    REQUIRE_FALSE(d);
    CHECK_THAT(d.error().message, Catch::StartsWith("'author:' was read as part of the value of 'title'"));
  }
  SECTION("invalid UTF-8 names the line") {
    auto a = parse("---\ntitle: T\ndate: 2025-01-01\n---\nok\nbad \xff here\n");
    REQUIRE_FALSE(a);
    CHECK(a.error().line == 6);
    CHECK_THAT(a.error().message, Catch::Contains("invalid UTF-8"));
  }
  SECTION("NUL byte") {
    using namespace std::string_literals;
    auto a = parse("---\ntitle: T\ndate: 2025-01-01\n---\na\0b"s);
    REQUIRE_FALSE(a);
    CHECK_THAT(a.error().message, Catch::Contains("NUL"));
  }
  SECTION("no front matter") {
    auto a = parse("# Just markdown\n");
    REQUIRE_FALSE(a);
    CHECK_THAT(a.error().message, Catch::Contains("missing YAML front matter"));
  }
  SECTION("a YAML tag other than the plain types is refused, naming it and its line") {
    // `!!binary aGVsbG8=` was indexed as the title "aGVsbG8=", without a word.
    for (const char* text : {"---\nid: x\ntitle: !!binary aGVsbG8=\ndate: 2025-01-01\n---\nbody\n",
                             "---\nid: x\ntitle: T\ndate: 2025-01-01\ntopics: [a, !custom b]\n---\nbody\n"}) {
      CAPTURE(text);
      auto a = parse(text);
      REQUIRE_FALSE(a);
      CHECK_THAT(a.error().message, Catch::Contains("YAML tag") && (Catch::Contains("!!binary") || Catch::Contains("!custom")));
      CHECK(a.error().line >= 3);
    }
    // The plain types' tags are what the fields are read as anyway, a timestamp too; a field
    // the article does not read is ignored whatever its tag (with a warning).
    auto plain = parse("---\nid: x\ntitle: !!str 2025\ndate: !!timestamp 2025-05-27\ncredibility: !!int 4\n"
                       "notes: !!binary aGVsbG8=\nx-editor: !reviewed yes\n---\nbody\n");
    REQUIRE(plain);
    CHECK(plain->title == "2025");
    CHECK(plain->date == "2025-05-27");
  }
  SECTION("old Mac line ends (a lone CR) are named, not taken for no front matter") {
    for (const char* text : {"---\rid: x\rtitle: T\rdate: 2025-01-01\r---\rbody\r", "---  \rid: x\rtitle: T\r---\r"}) {
      CAPTURE(text);
      auto a = parse(text);
      REQUIRE_FALSE(a);
      CHECK_THAT(a.error().message, Catch::Contains("lone carriage return") && !Catch::Contains("missing YAML front matter"));
    }
  }
  SECTION("unclosed front matter") {
    auto a = parse("---\ntitle: T\n");
    REQUIRE_FALSE(a);
    CHECK_THAT(a.error().message, Catch::Contains("not closed"));
  }
  SECTION("spaces or tabs after a fence") {
    // `--- ` was refused as "missing YAML front matter".
    for (const char* text : {"--- \ntitle: T\ndate: 2025-01-01\n---\t \nBody\n",
                             "---\t\r\ntitle: T\r\ndate: 2025-01-01\r\n...  \r\nBody\r\n"}) {
      auto a = parse(text);
      REQUIRE(a);
      CHECK(a->title == "T");
    }
    // Anything else after the dashes is still no fence.
    auto b = parse("--- x\ntitle: T\ndate: 2025-01-01\n---\n");
    REQUIRE_FALSE(b);
    CHECK_THAT(b.error().message, Catch::Contains("missing YAML front matter"));
    auto c = parse("---\ntitle: T\ndate: 2025-01-01\n--- x\n");
    REQUIRE_FALSE(c);
    CHECK_THAT(c.error().message, Catch::Contains("not closed"));
  }
  SECTION("invalid id") {
    auto a = parse("---\nid: ../etc/passwd\ntitle: T\ndate: 2025-01-01\n---\n");
    REQUIRE_FALSE(a);
    CHECK_THAT(a.error().message, Catch::Contains("invalid id"));
    CHECK_THAT(a.error().message, !Catch::Contains("file name"));
    // From the file name (`with space.md`): the message says how to mend it.
    auto b = parse_markdown_article("---\ntitle: T\ndate: 2025-01-01\n---\n", "with space.md", "with space");
    REQUIRE_FALSE(b);
    CHECK(b.error().message ==
          "invalid id 'with space': use letters, digits, '-', '_' or '.', starting with a letter or digit; the id "
          "comes from the file name: add an 'id:' field to the front matter, or rename the file");
  }
  SECTION("front matter that is not a mapping") {
    auto a = parse("---\n- a\n- b\n---\n");
    REQUIRE_FALSE(a);
    CHECK_THAT(a.error().message, Catch::Contains("mapping"));
  }
}

TEST_CASE("front matter: escapes that decode to invalid UTF-8 are refused, not indexed", "[reader]") {
  // Found by fuzz_article: yaml-cpp decodes "\_" (a no-break space) to a lone 0xA0 byte, and
  // the JSON of the stored article then threw out of the whole index job.
  auto a = parse_markdown_article("---\ntitle: T\ndate: 2025-01-01\ntopics:\n  - \"Auto \\_ immune\"\n---\nBody\n",
                                  "esc.md", "esc");
  REQUIRE_FALSE(a);
  CHECK(a.error().message == "a topic is not valid UTF-8 once its escapes are decoded");
}

TEST_CASE("front matter: a YAML alias bomb is refused, not expanded", "[reader]") {
  std::string yaml = "---\ntitle: T\ndate: 2025-01-01\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i)
    yaml += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [*a" + std::to_string(i - 1) +
            ", *a" + std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + ", *a" +
            std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + ", *a" +
            std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + ", *a" +
            std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + ", *a" +
            std::to_string(i - 1) + "]\n";
  yaml += "---\n";
  auto a = parse(yaml);
  REQUIRE_FALSE(a);
  CHECK_THAT(a.error().message, Catch::Contains("too large"));
}

TEST_CASE("front matter: an article over the size limit is refused", "[reader]") {
  ReaderLimits limits;
  limits.max_article_bytes = 1000;
  auto a = parse_markdown_article("---\ntitle: T\ndate: 2025-01-01\n---\n" + std::string(2000, 'x'),
                                  "big.md", "big", limits);
  REQUIRE_FALSE(a);
  CHECK_THAT(a.error().message, Catch::Contains("over the limit"));
}

TEST_CASE("jsonl: records parse with the same fields and validation", "[reader]") {
  auto a = parse_jsonl_article(
      R"({"id":"j1","title":"T","date":"2025-05-05","topics":["A","B"],"credibility":4,"body":"## What They Found\n\nText."})",
      "e.jsonl", 7);
  REQUIRE(a);
  CHECK(a->id == "j1");
  CHECK(a->credibility == 4);
  CHECK(a->sections.at(0).text == "Text.");

  auto bad = parse_jsonl_article(R"({"id":"j2","title":"T","date":"2025-5-5"})", "e.jsonl", 8);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().line == 8);
  CHECK(bad.error().id == "j2");

  auto broken = parse_jsonl_article(R"({"id":"j3", "title": )", "e.jsonl", 9);
  REQUIRE_FALSE(broken);
  CHECK_THAT(broken.error().message, Catch::StartsWith("invalid JSON"));

  // Found by fuzz_jsonl: a number too large for a double threw out of the parser.
  auto huge = parse_jsonl_article(R"({"title":"No id","dat":5e2025-03-04"})", "e.jsonl", 12);
  REQUIRE_FALSE(huge);
  CHECK_THAT(huge.error().message, Catch::StartsWith("invalid JSON"));

  auto no_id = parse_jsonl_article(R"({"title":"T","date":"2025-05-05"})", "e.jsonl", 10);
  REQUIRE_FALSE(no_id);
  CHECK_THAT(no_id.error().message, Catch::Contains("'id'"));

  // An id that is a number is named as such (it read "missing"); with a body that is no text
  // either, the line threw out of the reader and stopped the whole job.
  auto number = parse_jsonl_article(R"({"id":5,"title":"T","date":"2025-05-05"})", "e.jsonl", 13);
  REQUIRE_FALSE(number);
  CHECK_THAT(number.error().message, Catch::Contains("'id' must be a string, not a number"));
  auto both = parse_jsonl_article(R"({"id":5,"body":7})", "e.jsonl", 14);
  REQUIRE_FALSE(both);
  CHECK_THAT(both.error().message, Catch::Contains("'body' must be a string"));

  auto topics = parse_jsonl_article(R"({"id":"j4","title":"T","date":"2025-05-05","topics":"A"})",
                                    "e.jsonl", 11);
  REQUIRE_FALSE(topics);
  CHECK_THAT(topics.error().message, Catch::Contains("must be a list"));
}

TEST_CASE("jsonl: ids_given tells which ids a file gives as read_sources reads it, parsing only their lines", "[reader]") {
  test::TempDir tmp;
  const std::filesystem::path jsonl = tmp / "export.jsonl";
  test::write_file(jsonl,
                   // an id after a title that quotes another's
                   R"({"title":"On \"id\":\"b\"","id":"a","date":"2025-01-01","body":"x"})" "\n"
                   R"({"id":"b","title":"B","date":"2025-01-01","body":"x"})" "\r\n"
                   "\n"
                   R"({"id":"c","date":"2025-01-01","body":"no title: refused"})" "\n"
                   R"({"id":"d","title":"D","date":"2025-01-01","body":"x","id":"e"})" "\n"  // id twice: refused
                   R"({"nested":{"id":"f"},"id":5,"title":"F","date":"2025-01-01"})" "\n"    // no text id
                   R"({"id":"\u0067","title":"G","date":"2025-01-01","body":"x"})" "\n"      // "g", escaped
                   R"([{"id":"h","title":"H","date":"2025-01-01"}])" "\n"                    // no object
                   R"({"id":"i","title":"I","date":"2025-01-01","body":"x"} trailing)" "\n"  // not JSON
                   R"({"id":"j","title":"J","date":"2025-01-01","body":"the last, no newline"})");
  const std::set<std::string> all{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "z"};
  const std::set<std::string> given{"a", "b", "g", "j"};
  auto batch = read_sources({jsonl});
  REQUIRE(batch);
  std::set<std::string> read;
  for (const auto& a : batch->articles) read.insert(a.id);
  CHECK(read == given);
  CHECK(ids_given(jsonl, all) == given);
  CHECK(ids_given(jsonl, {"b", "z"}) == std::set<std::string>{"b"});
  CHECK(ids_given(jsonl, {"c", "d", "e", "f", "h", "i"}).empty());
  CHECK(ids_given(jsonl, {}).empty());
  CHECK(ids_given(tmp / "gone.jsonl", all).empty());

  // A Markdown file: its id (or its file name's), when it parses.
  test::write_file(tmp / "sleep.md", "---\nid: sleep\ntitle: Sleep\ndate: 2025-01-01\n---\nText.\n");
  test::write_file(tmp / "naps.md", "---\ntitle: Naps\ndate: 2025-01-01\n---\nText.\n");
  test::write_file(tmp / "bad.md", "---\nid: bad\ntitle: Bad\ndate: someday\n---\nText.\n");
  CHECK(ids_given(tmp / "sleep.md", {"sleep", "naps"}) == std::set<std::string>{"sleep"});
  CHECK(ids_given(tmp / "naps.md", {"sleep", "naps"}) == std::set<std::string>{"naps"});
  CHECK(ids_given(tmp / "bad.md", {"bad"}).empty());
}

TEST_CASE("markdown: sections split at headings, raw HTML dropped", "[reader]") {
  auto sections = markdown_sections(
      "Intro line.\n\n## What They Found\n\nA **bold** claim\nover two lines.\n\n<script>alert(1)</script>\n\n"
      "## Important Considerations\n\n- one\n- two\n");
  REQUIRE(sections.size() == 3);
  CHECK(sections[0].heading.empty());
  CHECK(sections[0].text == "Intro line.");
  CHECK(sections[1].heading == "What They Found");
  CHECK(sections[1].text == "A bold claim over two lines.");
  CHECK(sections[2].text == "one\n\ntwo");
}

TEST_CASE("markdown: an HTML block gives its text, never its tags, scripts, styles or comments", "[reader]") {
  // Written as HTML, a paragraph was dropped whole: neither searched nor shown.
  auto sections = markdown_sections(
      "## What They Found\n\n<div class=\"note\">Important: take <b>divword</b> with food &amp; water&#33;</div>\n\n"
      "<details><summary>More</summary>\nHidden &lt;detail&gt;\n</details>\n\n"
      "<script>alert(1)</script>\n\n<style>p { color: red }</style>\n\n<!-- an editor's note -->\n\n"
      "<p>Last &#x263A; &bogus; <3</p>\n\nAfter.\n");
  REQUIRE(sections.size() == 1);
  CHECK(sections[0].text ==
        "Important: take divword with food & water!\n\nMore Hidden <detail>\n\nLast \u263A &bogus; <3\n\nAfter.");
}

TEST_CASE("markdown: a line break written as inline HTML separates words, other inline tags do not", "[reader]") {
  auto sections = markdown_sections("line one<br>line two<BR/>three <br />four re<b>myelin</b>ation<bring>\n");
  REQUIRE(sections.size() == 1);
  CHECK(sections[0].text == "line one line two three four remyelination");
}

TEST_CASE("markdown: an HTML block's every character reference is decoded, words split at blocks only", "[reader]") {
  // The indexer's own tag stripper knew six references (`&mdash;` stayed as written) and split
  // a word at any tag (`re<b>myelin</b>ation` was three words).
  auto sections = markdown_sections(
      "<p>Caf&eacute; &mdash; re<b>myelin</b>ation&nbsp;of T<sub>2</sub> lesions<br>next&hellip;</p>\n"
      "<ul><li>one</li><li>two</li></ul>\n\n"
      "<div><![CDATA[x]]> <?php echo 1 ?> <unknown-tag>kept</unknown-tag></div>\n\n"
      "<div>" + std::string(5000, '<') + "</div>\n\n<div>\xC3\xA9t\xC3\xA9</div>\n");
  REQUIRE(sections.size() == 1);
  const std::string& text = sections[0].text;
  CHECK_THAT(text, Catch::StartsWith("Caf\u00E9 \u2014 remyelination\u00A0of T2 lesions next\u2026"));
  CHECK_THAT(text, Catch::Contains("one two"));
  CHECK_THAT(text, Catch::Contains("kept"));
  CHECK_THAT(text, Catch::EndsWith("\u00E9t\u00E9"));
  CHECK(text.find("<div") == std::string::npos);
  CHECK(text.find("php") == std::string::npos);
}

TEST_CASE("sources: directories are walked for articles, README, dotfiles and _ folders skipped", "[reader]") {
  test::TempDir dir;
  test::write_file(dir / "a.md", "x");
  test::write_file(dir / "sub/b.markdown", "x");
  test::write_file(dir / "c.jsonl", "x");
  test::write_file(dir / "README.md", "x");
  test::write_file(dir / ".hidden.md", "x");
  test::write_file(dir / "notes.txt", "x");
  // Folders named so are not entered either: `_drafts/` was indexed while `.hidden/` was not.
  test::write_file(dir / ".hidden/h.md", "x");
  test::write_file(dir / "_drafts/d.md", "x");
  test::write_file(dir / "sub/_private/p.md", "x");
  ReadBatch problems;
  auto found = find_sources({dir.path()}, problems);
  REQUIRE(found);
  REQUIRE(found->size() == 3);
  CHECK(found->at(0).path.filename() == "a.md");
  CHECK(found->at(1).jsonl);
  CHECK(problems.errors.empty());
  CHECK_FALSE(find_sources({dir / "missing"}, problems));
  // Extensions in any case (an editor on another system saves `Upper.MD`: it was passed over
  // without a word); a readme in any case is still no article.
  test::TempDir other;
  test::write_file(other / "Upper.MD", "x");
  test::write_file(other / "Lines.JSONL", "x");
  test::write_file(other / "Readme.md", "x");
  test::write_file(other / "README.markdown", "x");  // helper-91: read as an article, failed nightly
  ReadBatch more;
  auto cased = find_sources({other.path()}, more);
  REQUIRE(cased);
  REQUIRE(cased->size() == 2);
  CHECK(cased->at(0).path.filename() == "Lines.JSONL");
  CHECK(cased->at(0).jsonl);
  CHECK(cased->at(1).path.filename() == "Upper.MD");
  CHECK_FALSE(cased->at(1).jsonl);
  // Named on the command line, as in a folder: no article (it was indexed, then deleted by the
  // next run over its folder).
  for (const char* name : {"Readme.md", "README.md"}) {
    if (std::string(name) == "README.md") test::write_file(other / name, "x");
    ReadBatch named;
    auto refused = find_sources({other / name}, named);
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message, Catch::Contains("not an article"));
  }
}

TEST_CASE("reader: a url that is another article's page on this server is a warning", "[reader]") {
  // Results link to the url: `/articles/other` sent visitors to another article's page, or to a
  // 404 when no article has that id, without a word at index time.
  std::vector<ReadError> warnings;
  auto other = parse_markdown_article("---\ntitle: T\ndate: 2025-01-01\nurl: /articles/other\n---\nBody\n", "mine.md", "mine", {},
                                      &warnings);
  REQUIRE(other);  // read all the same
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].line == 4);
  CHECK(warnings[0].message == "'url' /articles/other is the page of article 'other', not of this one ('mine'): results will link there");
  warnings.clear();
  // Its own page (with a query or a fragment), a page of the site elsewhere, an absolute URL: fine.
  for (const char* url : {"/articles/mine", "/articles/mine?ref=x", "/articles/mine#top", "/blog/mine", "https://example.org/articles/x"})
    REQUIRE(parse_markdown_article(std::string("---\ntitle: T\ndate: 2025-01-01\nurl: ") + url + "\n---\nBody\n", "mine.md", "mine", {},
                                   &warnings));
  CHECK(warnings.empty());
  auto jsonl = parse_jsonl_article(R"({"id":"j","title":"T","date":"2025-01-01","url":"/articles/k"})", "e.jsonl", 9, {}, &warnings);
  REQUIRE(jsonl);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].line == 9);
}

TEST_CASE("reader: a field given twice is an error, an unknown one a warning naming the field it resembles", "[reader]") {
  auto twice = parse_markdown_article("---\ntitle: One\ntitle: Two\ndate: 2025-01-01\n---\nBody\n", "x.md", "x");
  REQUIRE_FALSE(twice);
  CHECK(twice.error().line == 3);
  CHECK_THAT(twice.error().message, Catch::Contains("'title' is given twice (lines 2 and 3)"));

  std::vector<ReadError> warnings;
  auto typo = parse_markdown_article("---\ntitle: T\ndate: 2025-01-01\ntopic: [Fatigue]\ncredibilty: 5\nauthor: Me\n---\nBody\n",
                                     "x.md", "x", {}, &warnings);
  REQUIRE(typo);  // read all the same, without the unknown fields
  CHECK(typo->topics.empty());
  CHECK_FALSE(typo->credibility.has_value());
  REQUIRE(warnings.size() == 3);
  CHECK(warnings[0].line == 4);
  CHECK(warnings[0].message == "unknown field 'topic' ignored: did you mean 'topics'?");
  CHECK(warnings[1].message == "unknown field 'credibilty' ignored: did you mean 'credibility'?");
  CHECK_THAT(warnings[2].message, Catch::StartsWith("unknown field 'author' ignored (known:"));

  warnings.clear();
  auto jsonl = parse_jsonl_article(R"({"id":"j","title":"T","date":"2025-01-01","takeway":"x","body":"b"})", "e.jsonl", 7, {},
                                   &warnings);
  REQUIRE(jsonl);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].line == 7);
  CHECK(warnings[0].message == "unknown field 'takeway' ignored: did you mean 'takeaway'?");

  // A JSON Lines record's field given twice is refused too (the parser kept the last).
  auto jsonl_twice = parse_jsonl_article(R"({"id":"j","title":"T","date":"2025-01-01","topics":["Fatigue"],"topics":[]})",
                                         "e.jsonl", 3);
  REQUIRE_FALSE(jsonl_twice);
  CHECK(jsonl_twice.error().message == "'topics' is given twice: keep one");
  CHECK(jsonl_twice.error().id == "j");
  // A nested object's keys are its own.
  warnings.clear();
  CHECK(parse_jsonl_article(R"({"id":"k","title":"T","date":"2025-01-01","body":"b"})", "e.jsonl", 4, {}, &warnings));
  CHECK(warnings.empty());
  // `body:` in front matter is not the body (which follows it): a warning; a capitalised
  // field is recognised too.
  warnings.clear();
  REQUIRE(parse_markdown_article("---\nTitle: T\ntitle: T\ndate: 2025-01-01\nbody: text\n---\nBody\n", "x.md", "x", {},
                                 &warnings));
  REQUIRE(warnings.size() == 2);
  CHECK(warnings[0].message == "unknown field 'Title' ignored: did you mean 'title'?");
  CHECK_THAT(warnings[1].message, Catch::StartsWith("unknown field 'body' ignored (known:") && !Catch::Contains("body)"));
  // Misspelt anywhere in the name, not only after its first three letters.
  for (const auto& [wrong, meant] : {std::pair{"jounral", "journal"}, std::pair{"itle", "title"},
                                     std::pair{"daet", "date"}, std::pair{"URL", "url"}}) {
    warnings.clear();
    REQUIRE(parse_markdown_article(fmt::format("---\ntitle: T\ndate: 2025-01-01\n{}: x\n---\nBody\n", wrong), "x.md", "x",
                                   {}, &warnings));
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].message == fmt::format("unknown field '{}' ignored: did you mean '{}'?", wrong, meant));
  }
  // Every field of the sample articles is known: no warnings for them.
  warnings.clear();
  for (const auto& entry : std::filesystem::directory_iterator(test::corpus_dir())) {
    if (entry.path().extension() != ".md" || entry.path().filename() == "README.md") continue;
    std::ifstream in(entry.path());
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(parse_markdown_article(text, entry.path().string(), entry.path().stem().string(), {}, &warnings));
  }
  CHECK(warnings.empty());
}
