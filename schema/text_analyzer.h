// TextAnalyzer: the one definition of how text becomes terms, used by the indexer to build
// documents and by the searcher to parse queries, so that both sides always agree.
//
// It folds text with ICU (NFKC case folding, accents removed, Greek letters spelled out) before
// Xapian's TermGenerator/QueryParser see it, stems with the English Snowball stemmer, and adds
// joined forms of hyphenated biomedical tokens ("IL-10" is also "il10", "COVID-19" "covid19").
//
// Thread-safety: one TextAnalyzer per thread. Its Xapian::Stem holds Snowball's working state,
// shared by every copy of the handle (and by the TermGenerator and QueryParser it makes), so
// two threads stemming through one analyzer corrupt memory (seen here: parallel index writers).
// The analyzer's stemmer also remembers the words it has stemmed (a bounded cache per analyzer).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <xapian.h>

#include "schema/schema.h"

namespace mssearch {

// NFKC case folding plus accent removal ("Sjögren" -> "sjogren") and Greek letters spelled
// out ("β-interferon" -> "beta-interferon"). Invalid UTF-8 becomes U+FFFD. Uses ICU's shared,
// immutable Normalizer2 instances: nothing is built per call beyond the strings.
std::string fold_text(std::string_view utf8);
// Whether fold_text parts a word between these two characters: Chinese, Japanese or Korean
// letters beside Latin letters or digits (`fatigue疲労` is two words).
bool cjk_beside_latin(char32_t before, char32_t after);

// Joined forms of hyphenated tokens that mix letters and digits, found in already folded text:
// "il-10" -> "il10", "anti-cd20" -> "anticd20", "covid-19" -> "covid19".
// (Joined forms longer than kMaxWordBytes are left out, as the term generator leaves out such
// words: a 300-character URL slug of letters and digits must not make a term Xapian refuses.)
std::vector<std::string> compound_terms(std::string_view folded);

// The longest word the term generator indexes (Xapian's default); longer ones are skipped.
inline constexpr std::size_t kMaxWordBytes = 64;

// A folded query with its hyphenated words as separate words, the way the index sees them,
// instead of the phrase Xapian's QueryParser makes of them: "beta-band" -> "beta band",
// and a compound also by its joined form, "il-10" -> "il 10 il10". A phrase the writer
// spelled with a space, a hyphen or a slash ("double-strand" / "double strand") then finds
// the same articles. A lone number after a minus in a list ("e2f-1, -2, -3") is a number,
// not a word to exclude. Quoted phrases, field queries (title:x-y) and words marked with a
// leading + or - keep their syntax.
std::string hyphenated_as_words(std::string_view folded_query);

// Common English function words ("the", "what", "which", "does", "can"), for queries that
// are questions. Never words that carry meaning in a claim or a symptom ("ms", "us", "who",
// "not", "no", "more", "after", "before"). Shared and immutable.
const Xapian::Stopper& english_stop_words();

// A term feedback may add to a query: a stemmed word (the "Z"-prefixed form queries match) of
// three letters or more, not a field-prefixed stem, a number or a stop word ("and" stems to
// itself). The indexer stores these per article (schema::kSlotFeedbackTerms); the searcher
// applies the same test to term lists of articles indexed before.
bool is_expansion_term(std::string_view term);

struct AnalyzerOptions {
  std::string language = "english";  // Snowball stemmer name
  Xapian::TermGenerator::stem_strategy index_stemming = Xapian::TermGenerator::STEM_SOME;
  Xapian::QueryParser::stem_strategy query_stemming = Xapian::QueryParser::STEM_SOME;
};

// The operators Xapian's QueryParser reads in upper case (NEAR and ADJ also as `NEAR/3`), which
// fold_query keeps in upper case and the planner recognises.
inline constexpr std::string_view kQueryOperators[] = {"AND", "OR", "NOT", "XOR", "NEAR", "ADJ"};
// Whether `word` is one of them as the parser reads it: `NEAR/3` too, `NEARBY` not.
bool is_query_operator(std::string_view word);

// `query` with the spaces, dashes, quotes and ellipses phones and word processors type written as
// ASCII's (a no-break space is a space, an en dash a hyphen, three dots beside a digit a range's
// two, elsewhere a space). fold_query begins with it; suggestions read the text typed with it.
std::string ascii_spaces_and_dashes(std::string_view query);

class TextAnalyzer {
 public:
  explicit TextAnalyzer(const AnalyzerOptions& options = {});

  // A TermGenerator with the stemmer and stemming strategy set. With a database given, it
  // also records spelling data for "did you mean".
  Xapian::TermGenerator make_term_generator(Xapian::WritableDatabase* spelling_db) const;

  // Indexes one field of the document the generator is attached to: folded text under the
  // field's prefix and unprefixed (positional), with the field's weight, plus compound terms.
  void index_field(Xapian::TermGenerator& generator, const schema::TextField& field,
                   std::string_view text) const;

  // A QueryParser that knows every field prefix (title:, takeaway:), the boolean
  // filters (topic:, journal:, year:, id:) and the date range (date:2025-01-01..2025-12-31).
  // A date: end that is not a real date YYYY-MM-DD (2025-13-01, which Xapian's own processor
  // would read as a 13th month) matches nothing, and is written to `*bad_date` when given, for
  // the caller to refuse the query naming it (`*bad_date` must outlive the parser); so is a
  // range that ends before it begins, as BEGIN..END.
  Xapian::QueryParser make_query_parser(const Xapian::Database& db, std::string* bad_date = nullptr) const;

  // Folds query text the way index text is folded, but keeps the boolean operators (AND, OR,
  // NOT, XOR, NEAR, ADJ) in upper case so that QueryParser still recognises them.
  // NEAR and ADJ stay operators only between two words they can join (see the .cpp).
  std::string fold_query(std::string_view query) const;

  const Xapian::Stem& stemmer() const { return stemmer_; }
  // For MSet::snippet, which stems every word of the text only to look "Z" + stem up among
  // `query`'s terms: the analyzer's stemmer for the words that can stem to one of them, an
  // empty stem (matching nothing) for the rest. With the English stemmer a stem begins with
  // the word's first letter, so only words beginning like one of the query's stems are
  // stemmed; other languages (German drops umlauts) stem every word.
  Xapian::Stem snippet_stemmer(const Xapian::Query& query) const;
  const AnalyzerOptions& options() const { return options_; }
  Xapian::QueryParser::stem_strategy query_stemming() const { return options_.query_stemming; }

 private:
  std::string fold_query_text(std::string_view query) const;  // fold_query before the NEAR/ADJ check
  AnalyzerOptions options_;
  Xapian::Stem stemmer_;
};

}  // namespace mssearch
