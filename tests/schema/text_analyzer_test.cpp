// The analysis contract: text indexed through TextAnalyzer is found by queries parsed through
// the same TextAnalyzer, for the forms readers actually type.
#include <cerrno>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "schema/article.h"
#include "schema/compression.h"
#include "schema/schema.h"
#include "schema/text_analyzer.h"
#include "schema/utf8.h"

using namespace mssearch;

namespace {

// One in-memory database holding `text` as the body of one document; returns whether `query`
// (parsed exactly as the searcher parses it) matches it.
bool matches(const std::string& text, const std::string& query) {
  TextAnalyzer analyzer;
  Xapian::WritableDatabase db(std::string(), Xapian::DB_BACKEND_INMEMORY);
  Xapian::TermGenerator generator = analyzer.make_term_generator(nullptr);  // in-memory: no spelling table
  Xapian::Document doc;
  generator.set_document(doc);
  analyzer.index_field(generator, schema::kBody, text);
  doc.add_boolean_term(schema::topic_term("Autoimmune neuroinflammatory response"));
  db.add_document(doc);
  Xapian::QueryParser parser = analyzer.make_query_parser(db);
  Xapian::Enquire enquire(db);
  enquire.set_query(parser.parse_query(analyzer.fold_query(query),
                                       Xapian::QueryParser::FLAG_DEFAULT |
                                           Xapian::QueryParser::FLAG_WILDCARD));
  return enquire.get_mset(0, 10).size() == 1;
}

}  // namespace

TEST_CASE("folding: NFKC case folding removes accents and compatibility forms", "[analysis]") {
  CHECK(fold_text("Sjögren") == "sjogren");
  CHECK(fold_text("ÉCOLE Français") == "ecole francais");
  CHECK(fold_text("ﬁbre") == "fibre");           // ligature
  CHECK(fold_text("Straße") == "strasse");        // case folding, not just lower-casing
  CHECK(fold_text("ＭＳ") == "ms");                // full-width letters
  CHECK(fold_text("brain\u200Bfog") == "brain fog");  // a zero-width space parts words
  CHECK(fold_text("pins\u00ADneedles") == "pinsneedles");  // a soft hyphen joins them
  // The replacement character (a byte that was not UTF-8, replaced) joins: the word's letters
  // around it are one word to mend, not two ("Sj\ufffdgren" was searched as "sj" and "gren").
  CHECK(fold_text("fat\uFFFDgue") == "fatgue");
  CHECK(TextAnalyzer().fold_query("Sj\uFFFDgren") == "sjgren");
  // So do the marks of writing direction (text copied from a page of two scripts): each one
  // of Bidi_Control, in the text and in a query's operators.
  for (const char* mark : {"\u061C", "\u200E", "\u200F", "\u202A", "\u202B", "\u202C", "\u202D", "\u202E", "\u2066",
                           "\u2067", "\u2068", "\u2069"}) {
    CHECK(fold_text(std::string("fatigue") + mark + "sleep") == "fatigue sleep");
    CHECK(TextAnalyzer().fold_query(std::string("fatigue") + mark + "AND" + mark + "sleep") == "fatigue AND sleep");
  }
  // Chinese, Japanese or Korean letters beside Latin letters or digits are a word of their own,
  // joined by a hyphen as a hyphenated word's parts are (`fatigue疲労` was one word: 0
  // articles); within a script, nothing changes.
  CHECK(fold_text("fatigue疲労") == "fatigue-疲労");
  CHECK(fold_text("疲労fatigue") == "疲労-fatigue");
  CHECK(fold_text("MSの疲労") == "ms-の疲労");
  CHECK(fold_text("2025년") == "2025-년");
  CHECK(fold_text("エネルギーloss") == "エネルキー-loss");  // a long vowel mark ends it (marks dropped, as accents)
  CHECK(fold_text("疲労") == "疲労");
  CHECK(fold_text("sjögren") == "sjogren");
  CHECK(TextAnalyzer().fold_query("fatigue疲労 AND sleep") == "fatigue-疲労 AND sleep");
}

TEST_CASE("folding: Greek letters are spelled out and stay one hyphenated token", "[analysis]") {
  CHECK(fold_text("β-interferon") == "beta-interferon");
  CHECK(fold_text("TNFα") == "tnf-alpha");
  CHECK(fold_text("IFN-γ levels") == "ifn-gamma levels");
  CHECK(fold_text("αβ T cells") == "alpha-beta t cells");  // two letters: still symbols
}

TEST_CASE("folding: a Greek word is no run of symbols to spell out", "[analysis]") {
  // "Multiple sclerosis" in Greek was searched as sigma-kappa-lambda-… and found kappa chains.
  CHECK(fold_text("σκλήρυνση κατά πλάκας") == "σκληρυνση κατα πλακασ");  // final sigma folded
  CHECK(fold_text("ΚΑΠΠΑ") == "καππα");
  CHECK(fold_text("β-interferon και TNFα") == "beta-interferon και tnf-alpha");
}

TEST_CASE("folding: invalid UTF-8 does not crash and is replaced", "[analysis]") {
  const std::string bad = std::string("ab") + char(0xC3) + char(0x28) + "cd";
  const std::string folded = fold_text(bad);
  CHECK(folded.find("ab") == 0);
  CHECK(folded.find("cd") != std::string::npos);
}

TEST_CASE("utf8: control characters are C0, DEL and C1 (U+0080..U+009F), nothing else", "[analysis]") {
  using namespace std::string_view_literals;
  CHECK(control_char_length("\0"sv, 0) == 1);
  CHECK(control_char_length("\x1b[31m", 0) == 1);
  CHECK(control_char_length("\x1f", 0) == 1);
  CHECK(control_char_length(" ", 0) == 0);
  CHECK(control_char_length("~", 0) == 0);
  CHECK(control_char_length("\x7f", 0) == 1);
  CHECK(control_char_length("\xc2\x80", 0) == 2);  // U+0080, C1's first
  CHECK(control_char_length("\xc2\x9b", 0) == 2);  // CSI
  CHECK(control_char_length("\xc2\x9f", 0) == 2);  // C1's last
  CHECK(control_char_length("\xc2\xa0", 0) == 0);  // no-break space, just past C1
  CHECK(control_char_length("\xc3\x80", 0) == 0);  // À
  CHECK(control_char_length("\xc2", 0) == 0);      // cut short
  CHECK(control_char_length("ab\x7f", 2) == 1);
  CHECK(control_char_length("ab\x7f", 1) == 0);
  CHECK(control_char_length("ab\x7f", 3) == 0);    // past the end
}

TEST_CASE("compound terms: hyphenated letter-digit tokens get a joined form", "[analysis]") {
  using V = std::vector<std::string>;
  CHECK(compound_terms("il-10 and covid-19") == V{"il10", "covid19"});
  CHECK(compound_terms("anti-cd20 therapy") == V{"anticd20"});
  CHECK(compound_terms("relapsing-remitting ms").empty());  // letters only: phrase is enough
  CHECK(compound_terms("trem2").empty());                   // already one token
  CHECK(compound_terms("-10 x- -").empty());
}

TEST_CASE("queries: hyphenated words become words, compounds also their joined form", "[analysis]") {
  CHECK(hyphenated_as_words("beta-band coherence") == "beta band coherence");
  CHECK(hyphenated_as_words("il-10, and anti-cd20.") == "il 10 il10, and anti cd20 anticd20.");
  CHECK(hyphenated_as_words("e2f-1, -2, -3 cells") == "e2f 1 e2f1, 2, 3 cells");
  // Syntax is kept: phrases, field queries, love/hate on words, a hyphen with nothing after it.
  CHECK(hyphenated_as_words("\"double-strand breaks\" x-y") == "\"double-strand breaks\" x y");
  CHECK(hyphenated_as_words("\"a b-c\" d-e") == "\"a b-c\" d e");
  CHECK(hyphenated_as_words("title:beta-band -lactate +il-10") == "title:beta-band -lactate +il-10");
  CHECK(hyphenated_as_words("relapsing- -") == "relapsing- -");
  CHECK(hyphenated_as_words("") == "");
  CHECK(hyphenated_as_words("a--b") == "a--b");
}

TEST_CASE("contract: biomedical tokens are found as people type them", "[analysis]") {
  SECTION("IL-10") {
    const std::string text = "Cells made less IL-10 in the second half of the cycle.";
    CHECK(matches(text, "IL-10"));
    CHECK(matches(text, "il10"));
    CHECK(matches(text, "IL10"));
    CHECK(matches(text, "interleukin") == false);
  }
  SECTION("CD20 and anti-CD20") {
    const std::string text = "Ocrelizumab is an anti-CD20 antibody.";
    CHECK(matches(text, "CD20"));
    CHECK(matches(text, "anti-CD20"));
    CHECK(matches(text, "anticd20"));
  }
  SECTION("TREM2") {
    CHECK(matches("TREM2 is a receptor on microglia.", "trem2"));
    CHECK(matches("TREM2 is a receptor on microglia.", "TREM2"));
  }
  SECTION("COVID-19") {
    const std::string text = "Responses to COVID-19 vaccines were measured.";
    CHECK(matches(text, "COVID-19"));
    CHECK(matches(text, "covid19"));
    CHECK(matches(text, "covid"));
  }
  SECTION("β-interferon") {
    const std::string text = "β-interferon was the first approved therapy.";
    CHECK(matches(text, "β-interferon"));
    CHECK(matches(text, "beta-interferon"));
    CHECK(matches(text, "beta interferon"));
    CHECK(matches(text, "interferon"));
  }
  SECTION("accents") {
    CHECK(matches("When Sjögren's syndrome and MS look alike", "sjogren"));
    CHECK(matches("When Sjögren's syndrome and MS look alike", "SJÖGREN"));
    CHECK(matches("Sjogren syndrome", "Sjögren"));
  }
}

TEST_CASE("contract: English stemming joins word forms", "[analysis]") {
  CHECK(matches("Astrocytes release growth factors.", "astrocyte"));
  CHECK(matches("The demyelinating lesions grew.", "demyelination"));
  CHECK(matches("Relapses became less common.", "relapse"));
  CHECK_FALSE(matches("Relapses became less common.", "\"relapse became\""));  // phrases are exact
  CHECK(matches("Relapses became less common.", "\"relapses became\""));
}

TEST_CASE("snippets: the snippet stemmer marks exactly what the full stemmer marks", "[analysis]") {
  TextAnalyzer analyzer;
  Xapian::WritableDatabase db(std::string(), Xapian::DB_BACKEND_INMEMORY);
  Xapian::TermGenerator generator = analyzer.make_term_generator(nullptr);
  // Irregular English forms included: "dying" stems to "die", "skies" to "sky", "studies" to
  // "studi", "early" to "earli".
  const std::string text =
      "Dying oligodendrocytes leave lesions. Studies of early relapses under grey skies found "
      "that astrocytes remyelinated axons, and the dead cells were cleared by microglia.";
  Xapian::Document doc;
  generator.set_document(doc);
  analyzer.index_field(generator, schema::kBody, text);
  db.add_document(doc);
  Xapian::QueryParser parser = analyzer.make_query_parser(db);
  for (const std::string q : {"die", "sky", "study early", "relapse astrocyte", "lesion microglia cell",
                              "remyelination axon", "xyz", "\"dead cells\""}) {
    const Xapian::Query query = parser.parse_query(analyzer.fold_query(q), Xapian::QueryParser::FLAG_DEFAULT);
    Xapian::Enquire enquire(db);
    enquire.set_query(query);
    const Xapian::MSet mset = enquire.get_mset(0, 10);
    const std::string full = mset.snippet(text, 300, analyzer.stemmer(), 0, "[", "]", "…");
    const std::string fast = mset.snippet(text, 300, analyzer.snippet_stemmer(query), 0, "[", "]", "…");
    INFO(q);
    CHECK(fast == full);
    if (q != "xyz") CHECK(full.find('[') != std::string::npos);  // the comparison means something
  }
  // It stems only the words that begin like one of the query's stems.
  const Xapian::Query query = parser.parse_query("dying", Xapian::QueryParser::FLAG_DEFAULT);
  Xapian::Stem stem = analyzer.snippet_stemmer(query);
  CHECK(stem("dying") == "die");
  CHECK(stem("lesions").empty());
}

TEST_CASE("contract: boolean operators survive query folding", "[analysis]") {
  TextAnalyzer analyzer;
  CHECK(analyzer.fold_query("Astrocytes AND Microglia NOT Tübingen") ==
        "astrocytes AND microglia NOT tubingen");
  CHECK(analyzer.fold_query("myelin NEAR/3 repair") == "myelin NEAR/3 repair");
  CHECK(matches("astrocytes and microglia", "astrocytes AND microglia"));
  CHECK_FALSE(matches("astrocytes and microglia", "astrocytes NOT microglia"));
}

// Where Xapian's parser would refuse them (and 1.4.22 leaked memory refusing some), NEAR and
// ADJ are words; between two words they stay operators.
TEST_CASE("query folding: NEAR and ADJ join two words or are words", "[analysis]") {
  TextAnalyzer analyzer;
  CHECK(analyzer.fold_query("Myelin NEAR Repair ADJ/2 Brain") == "myelin NEAR repair ADJ/2 brain");
  CHECK(analyzer.fold_query("title:Myelin NEAR oligodendrocyte's") == "title:myelin NEAR oligodendrocyte's");
  CHECK(analyzer.fold_query("Müller NEAR glia") == "muller NEAR glia");
  CHECK(analyzer.fold_query("-fatigue NEAR brain sleep") == "-fatigue near brain sleep");
  CHECK(analyzer.fold_query("fatigue NEAR -brain") == "fatigue near -brain");
  CHECK(analyzer.fold_query("AND NEAR/2 fatigue") == "AND near/2 fatigue");
  // Last, it joins nothing and goes (as a word "near" it found more; `fatigue NEAR`, as typed so
  // far, or before a field with no value); first, it is the word.
  CHECK(analyzer.fold_query("fatigue OR NEAR/2") == "fatigue OR       ");
  CHECK(analyzer.fold_query("fatigue NEAR title:") == "fatigue      title:");
  CHECK(analyzer.fold_query("NEAR") == "near");
  // Before marks and operators only, as typed on the way to a bracket, an exclusion or a phrase.
  CHECK(analyzer.fold_query("fatigue NEAR )") == "fatigue      )");
  CHECK(analyzer.fold_query("fatigue NEAR -") == "fatigue      -");
  CHECK(analyzer.fold_query("fatigue NEAR \"") == "fatigue      \"");
  // Marks against it, typed before a pause: the same (as the word "near" it found 2 more).
  CHECK(analyzer.fold_query("fatigue NEAR,") == "fatigue     ,");
  CHECK(analyzer.fold_query("fatigue NEAR.") == "fatigue     .");
  CHECK(analyzer.fold_query("fatigue ADJ/2\u2026") == "fatigue      ..");
  CHECK(analyzer.fold_query("fatigue NEAR, sleep") == "fatigue near, sleep");
  CHECK(analyzer.fold_query("NEAR.") == "near.");
  // A sentence's mark after the second word leaves it joined (it was the word "near").
  CHECK(analyzer.fold_query("fatigue NEAR sleep.") == "fatigue NEAR sleep.");
  CHECK(analyzer.fold_query("fatigue NEAR sleep?") == "fatigue NEAR sleep?");
  CHECK(analyzer.fold_query("fatigue NEAR sleep.brain") == "fatigue near sleep.brain");
}

TEST_CASE("query folding: an ellipsis is a range's dots beside a digit and parts words elsewhere", "[analysis]") {
  TextAnalyzer analyzer;
  // A phone's ellipsis folded to three dots: `year:2024…2025` was refused as no year.
  CHECK(analyzer.fold_query("year:2024\u20262025") == "year:2024..2025");
  CHECK(analyzer.fold_query("year:2024\u2025") == "year:2024..");
  CHECK(analyzer.fold_query("date:\u20262020-06-30") == "date:..2020-06-30");
  // After a quoted filter it was a range, refused, and the filter's words were searched.
  CHECK(analyzer.fold_query("topic:\"Symptom management\"\u2026") == "topic:\"symptom management\" ");
  CHECK(analyzer.fold_query("Astrocites\u2026 fatigue") == "astrocites  fatigue");
  CHECK(analyzer.fold_query("NEAR fatigue") == "near fatigue");
  CHECK(analyzer.fold_query("fatigue ADJ") == "fatigue    ");
  CHECK(analyzer.fold_query("\"white matter\" NEAR lesions") == "\"white matter\" near lesions");
  CHECK(analyzer.fold_query("myelin-repair NEAR brain") == "myelin-repair near brain");
  CHECK(analyzer.fold_query("fatigue NEAR topic:sleep") == "fatigue near topic:sleep");
  CHECK(analyzer.fold_query("fatig* NEAR brain") == "fatig* near brain");
  CHECK(analyzer.fold_query("(fatigue NEAR brain)") == "(fatigue NEAR brain)");
  CHECK(analyzer.fold_query("-(fatigue NEAR brain) sleep") == "-(fatigue NEAR brain) sleep");
  CHECK(analyzer.fold_query("(-fatigue NEAR brain)") == "(-fatigue near brain)");
  CHECK(analyzer.fold_query("(fatigue) NEAR brain") == "(fatigue) near brain");
  CHECK(analyzer.fold_query("fatigue (NEAR brain") == "fatigue (near brain");
  CHECK(analyzer.fold_query("fatigue NEAR NEAR brain") == "fatigue near NEAR brain");
  CHECK(analyzer.fold_query("fatigue NEAR OR brain") == "fatigue near OR brain");
  CHECK(analyzer.fold_query("fatigue OR ADJ/3,brain") == "fatigue OR adj/3,brain");
  CHECK(analyzer.fold_query("fatigue OR ADJ/3\x05" "brain") == "fatigue OR adj/3 brain");
  CHECK(analyzer.fold_query("fatigue NEARBY brain") == "fatigue nearby brain");
  // Characters of no word beside it, which folding keeps (helper-74: `AND 〈 NEAR/2 fatigue`
  // leaked as the ASCII ones did).
  CHECK(analyzer.fold_query("AND \u3008 NEAR/2 fatigue") == "AND \u3008 near/2 fatigue");
  CHECK(analyzer.fold_query("fatigue AND \u27e8 ADJ/3 brain") == "fatigue AND \u27e8 adj/3 brain");
  CHECK(analyzer.fold_query("myelin OR \u2015 ADJ repair") == "myelin OR \u2015 adj repair");
  CHECK(analyzer.fold_query("fatigue NEAR \ue000") == "fatigue near \ue000");
  // Letters of any script, an apostrophe inside a word, a text field's bracket: operators.
  CHECK(analyzer.fold_query("Alzheimer\u2019s NEAR fatigue") == "alzheimer\u2019s NEAR fatigue");
  CHECK(analyzer.fold_query("\u041c\u0438\u0435\u043b\u0438\u043d NEAR brain") == "\u043c\u0438\u0435\u043b\u0438\u043d NEAR brain");
  CHECK(analyzer.fold_query("title:(fatigue NEAR sleep)") == "title:(fatigue NEAR sleep)");
  CHECK(analyzer.fold_query("-takeaway:(myelin NEAR/3 repair)") == "-takeaway:(myelin NEAR/3 repair)");
  CHECK(analyzer.fold_query("topic:(fatigue NEAR sleep)") == "topic:(fatigue near sleep)");
  // An operator, a slash and NEAR/ADJ as one word: two operators in a row to the parser, which
  // leaked (helper-75).
  CHECK(analyzer.fold_query("fatigue AND/ADJ/3 brain") == "fatigue and/adj/3 brain");
  CHECK(analyzer.fold_query("fatigue OR/NEAR/2 brain") == "fatigue or/near/2 brain");
  CHECK(analyzer.fold_query("(fatigue XOR/ADJ/3 brain)") == "(fatigue xor/adj/3 brain)");
  CHECK(analyzer.fold_query("id:MS-NEAR-2025 fatigue") == "id:MS-NEAR-2025 fatigue");  // ids as written
  // The operator between two words finds what the words near each other are in.
  CHECK(matches("fatigue and poor sleep", "fatigue NEAR sleep"));
  CHECK_FALSE(matches("fatigue a b c d e f g h i j k l sleep", "fatigue NEAR/2 sleep"));
  CHECK(matches("fatigue a b c d e f g h i j k l sleep", "fatigue near/2 sleep"));  // words: any of them
}

TEST_CASE("contract: topic filter accepts display names and slugs", "[analysis]") {
  const std::string text = "anything";
  CHECK(matches(text, "anything topic:\"Autoimmune neuroinflammatory response\""));
  CHECK(matches(text, "anything topic:autoimmune-neuroinflammatory-response"));
  CHECK_FALSE(matches(text, "anything topic:Astrocytes"));
}

TEST_CASE("schema: slugs, topic sets and dates", "[schema]") {
  CHECK(schema::slug("Autoimmune neuroinflammatory response") ==
        "autoimmune-neuroinflammatory-response");
  CHECK(schema::slug("  Multiple  sclerosis! ") == "multiple-sclerosis");
  CHECK(schema::topic_term("Sjögren's syndrome") == "XTsjogren-s-syndrome");
  CHECK(schema::encode_topic_set({"b", "a", "b"}) == "a\nb");
  CHECK(schema::decode_topic_set("a\nb") == std::vector<std::string>{"a", "b"});
  CHECK(schema::decode_topic_set("").empty());
  CHECK(schema::date_value("2025-03-01") == "20250301");
}

TEST_CASE("schema: feedback terms round-trip, and damage is reported", "[schema]") {
  CHECK(is_expansion_term("Zmyelin"));
  CHECK_FALSE(is_expansion_term("myelin"));    // unstemmed
  CHECK_FALSE(is_expansion_term("ZSmyelin"));  // a field-prefixed stem
  CHECK_FALSE(is_expansion_term("Z2025"));     // a number
  CHECK_FALSE(is_expansion_term("Zwhich"));    // a stop word
  CHECK_FALSE(is_expansion_term("Zms"));       // too short
  const schema::TermWdfs terms = {{"Zastrocyt", 3}, {"Zastrocytoma", 1}, {"Zaxon", 200}, {"Zmyelin", 70000},
                                  {"Zsjögren", 2}};
  const std::string value = schema::encode_feedback_terms(terms);
  schema::TermWdfs back;
  auto collect = [&](const std::string& t, Xapian::termcount w) { back.emplace_back(t, w); };
  CHECK(schema::decode_feedback_terms(value, collect));
  CHECK(back == terms);
  CHECK(schema::encode_feedback_terms({}).empty());
  back.clear();
  CHECK(schema::decode_feedback_terms("", collect));
  CHECK(back.empty());
  // The plain front-coded bytes (what the frame holds) read too.
  const std::string plain = schema::feedback_terms_bytes(value);
  REQUIRE_FALSE(plain.empty());
  CHECK(plain.size() < 55);  // 55 bytes if the shared prefixes were repeated (46 when not)
  CHECK(schema::decode_feedback_terms(plain, collect));
  CHECK(back == terms);
  // Damage: a cut frame, or cut plain bytes.
  back.clear();
  CHECK_FALSE(schema::decode_feedback_terms(value.substr(0, value.size() - 3), collect));
  CHECK_FALSE(schema::decode_feedback_terms(plain.substr(0, plain.size() - 1), collect));
}

TEST_CASE("schema: stored articles round-trip as zstd MessagePack with the texts after it, older formats still read", "[schema]") {
  Article a;
  a.id = "x1";
  a.title = "Astrocytes — \"two faces\"";
  a.topics = {"Astrocytes", "Demyelination"};
  a.credibility = 4;
  a.sections = {{"What They Found", "Line one.\nLine two ✓"}, {"Important Considerations", "Small study."}};
  const std::string data = encode_stored(a);
  REQUIRE_FALSE(data.empty());
  CHECK(data.substr(0, 4) == "\x28\xb5\x2f\xfd");  // a zstd frame
  // A frame of MessagePack, then one of the texts as they are.
  const std::size_t first = zstd_frame_bytes(data);
  REQUIRE(first < data.size());
  CHECK(zstd_decompress(std::string_view(data).substr(first), 1 << 20) == "Line one.\nLine two ✓Small study.");
  // Older indexes: the texts inside the MessagePack, in a zstd frame (format 2) or not (1);
  // JSON text before that.
  std::string msgpack;
  nlohmann::json::to_msgpack(to_stored_json(a), msgpack);
  for (const auto& stored : {data, zstd_compress(msgpack), msgpack, to_stored_json(a).dump()}) {
    const Article b = decode_stored(stored);
    CHECK(b.id == "x1");
    CHECK(b.title == a.title);
    CHECK(b.topics == a.topics);
    CHECK(b.credibility == 4);
    CHECK_FALSE(b.interest);
    REQUIRE(b.sections.size() == 2);
    CHECK(b.body_text == "Line one.\nLine two ✓\n\nSmall study.");
  }
  CHECK_THROWS(decode_stored(std::string("\xc1garbage", 8)));
  // Without the texts: their frame is not read at all (here: cut off).
  const Article fields = decode_stored(data.substr(0, first), StoredParts::kFields);
  CHECK(fields.title == a.title);
  REQUIRE(fields.sections.size() == 2);
  CHECK(fields.sections[1].heading == "Important Considerations");
  CHECK(fields.sections[1].text.empty());
  CHECK(fields.body_text.empty());
  // Keys only (a shard's window far down): id, date and credibility, read up to the id; the
  // fields after it are not read (a title, topics), for every format that has them.
  a.date = "2025-03-01";
  std::string packed;
  nlohmann::json::to_msgpack(to_stored_json(a), packed);
  for (const auto& stored : {encode_stored(a), zstd_compress(packed), packed}) {
    const Article keys = decode_stored(stored, StoredParts::kKeys);
    CHECK(keys.id == "x1");
    CHECK(keys.date == "2025-03-01");
    CHECK(keys.credibility == 4);
    CHECK(keys.title.empty());
    CHECK(keys.topics.empty());
    CHECK(keys.sections.empty());
  }
  Article bare;
  bare.id = "x2";
  const Article bare_back = decode_stored(encode_stored(bare));
  CHECK(bare_back.id == "x2");
  CHECK(bare_back.sections.empty());
  CHECK(bare_back.body_text.empty());
  // Lengths that do not add up, claim more than there is, or texts without lengths.
  for (const auto& lie : {nlohmann::json{{"id", "x"}, {"sections", {{{"heading", "h"}, {"bytes", 3}}}}, {"text_bytes", 5}},
                          nlohmann::json{{"id", "x"}, {"sections", {{{"heading", "h"}, {"bytes", 50}}}}, {"text_bytes", 50}},
                          nlohmann::json{{"id", "x"}, {"sections", {{{"heading", "h"}}}}, {"text_bytes", 5}},
                          nlohmann::json{{"id", "x"}, {"sections", {{{"heading", "h"}, {"bytes", 5}}}}}}) {
    std::string lie_packed;
    nlohmann::json::to_msgpack(lie, lie_packed);
    CHECK_THROWS_WITH(decode_stored(zstd_compress(lie_packed) + zstd_compress("abcde")), Catch::Contains("section lengths"));
  }
  // The texts' frame cut short, or something else after the first frame.
  CHECK_THROWS(decode_stored(data.substr(0, data.size() - 2)));
  CHECK_THROWS(decode_stored(data.substr(0, first) + "trailing"));
  // A damaged frame is an error, not a crash or a huge allocation.
  CHECK_THROWS(decode_stored(data.substr(0, data.size() / 2)));
  std::string flipped = data;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x5a);
  CHECK_THROWS(decode_stored(flipped));
  CHECK_THROWS(decode_stored(std::string("\x28\xb5\x2f\xfd\xff\xff\xff\xff\xff\xff", 10)));
}

TEST_CASE("schema: a Xapian error is damage only when Xapian read something wrong, not when the system failed a read", "[schema]") {
  // A table cut short: nothing failed but the file's length; damage (index_damaged).
  CHECK(schema::error_code_of(Xapian::DatabaseError("EOF reading block 2")) == ErrorCode::kCorrupt);
  CHECK(schema::error_code_of(Xapian::DatabaseCorruptError("Bad block")) == ErrorCode::kCorrupt);
  // A read the system refused (EIO from a failing disk or an NFS server, ESTALE): the same plain
  // DatabaseError, with an errno. It says nothing about the index's contents, may pass, and must
  // not mark the index damaged (the server's /readyz would then stay 503 "damaged" until the
  // next index job, with advice to rebuild).
  CHECK(schema::error_code_of(Xapian::DatabaseError("Error reading block 2", EIO)) == ErrorCode::kDatabase);
  CHECK(schema::error_code_of(Xapian::DatabaseError("Error reading block 2", ESTALE)) == ErrorCode::kDatabase);
  CHECK(schema::error_code_of(Xapian::DatabaseLockError("locked")) == ErrorCode::kDatabase);
  CHECK(schema::error_code_of(Xapian::NetworkError("gone")) == ErrorCode::kDatabase);
}

TEST_CASE("schema: without_bidi_controls drops every Bidi_Control character and keeps the rest byte for byte", "[schema]") {
  // U+200E, U+200F, U+202A..U+202E, U+2066..U+2069, U+061C: each dropped.
  CHECK(without_bidi_controls("\u200Ea\u200Fb\u202Ac\u202Bd\u202Ce\u202Df\u202Eg\u2066h\u2067i\u2068j\u2069k\u061Cl") == "abcdefghijkl");
  // Neighbours of theirs are kept: U+200D (zero-width joiner), U+202F (narrow no-break space),
  // U+2065 (unassigned), U+061B (Arabic semicolon).
  CHECK(without_bidi_controls("a\u200Db\u202Fc\u061Bd") == "a\u200Db\u202Fc\u061Bd");
  // Bytes that are not UTF-8 stay as they were, including a control's bytes cut short.
  CHECK(without_bidi_controls(std::string("x\xE2\x80y\xFFz", 6)) == std::string("x\xE2\x80y\xFFz", 6));
  CHECK(without_bidi_controls("") == "");
}
