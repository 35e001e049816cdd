#include "schema/text_analyzer.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uscript.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <array>
#include <bitset>
#include <cctype>
#include <cstdint>
#include <iterator>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

namespace mssearch {
namespace {

struct Normalizers {
  const icu::Normalizer2* nfd = nullptr;
  const icu::Normalizer2* nfkc_casefold = nullptr;
};

// ICU owns these singletons; they are immutable and thread-safe. Looked up once per process.
const Normalizers& normalizers() {
  static const Normalizers instance = [] {
    UErrorCode status = U_ZERO_ERROR;
    Normalizers n;
    n.nfd = icu::Normalizer2::getNFDInstance(status);
    n.nfkc_casefold = icu::Normalizer2::getNFKCCasefoldInstance(status);
    if (U_FAILURE(status)) throw std::runtime_error("ICU normalizers unavailable");
    return n;
  }();
  return instance;
}

// Lower-case Greek letters common in biomedical names, spelled out as readers type them.
const char* greek_name(UChar32 c) {
  switch (c) {
    case 0x03B1: return "alpha";
    case 0x03B2: return "beta";
    case 0x03B3: return "gamma";
    case 0x03B4: return "delta";
    case 0x03B5: return "epsilon";
    case 0x03BA: return "kappa";
    case 0x03BB: return "lambda";
    case 0x03BC: return "mu";
    case 0x03C3: case 0x03C2: return "sigma";
    case 0x03C4: return "tau";
    case 0x03C9: return "omega";
    default: return nullptr;
  }
}

bool is_alnum(UChar32 c) { return u_isalnum(c) != 0; }

}  // namespace

namespace {

// Articles, pronouns, auxiliaries, prepositions and question words: what a question adds
// around its subject. Written for mssearch; folded forms (lower case, no apostrophes).
constexpr const char* kStopWords[] = {
    "a", "about", "also", "am", "an", "and", "are", "as", "at", "be", "because", "been",
    "being", "but", "by", "can", "could", "did", "do", "does", "doing", "for", "from", "had",
    "has", "have", "having", "he", "her", "here", "hers", "herself", "him", "himself", "his",
    "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "may", "me", "might",
    "must", "my", "myself", "of", "on", "or", "ought", "our", "ours", "ourselves", "she",
    "should", "so", "than", "that", "the", "their", "theirs", "them", "themselves", "then",
    "there", "these", "they", "this", "those", "through", "to", "was", "we", "were", "what",
    "when", "where", "which", "while", "whom", "why", "will", "with", "would", "you", "your",
    "yours", "yourself", "yourselves",
    // Contractions of the words above, as questions are typed (`what's fatigue` searched the word
    // "what's": 17 articles beside fatigue's 14), and `whats` as it is typed without its apostrophe.
    "aren't", "can't", "couldn't", "didn't", "doesn't", "don't", "hadn't", "hasn't", "haven't",
    "he's", "here's", "how's", "i'd", "i'll", "i'm", "i've", "isn't", "it's", "let's", "she's",
    "shouldn't", "that's", "there's", "they'd", "they'll", "they're", "they've", "wasn't", "we'd",
    "we'll", "we're", "we've", "weren't", "what's", "whats", "when's", "where's", "who's", "why's",
    "won't", "wouldn't", "you'd", "you'll", "you're", "you've",
    // and as they are typed without it, where no word of their own is spelt so (not "im", "id",
    // "ill", "well", "wed", "hell", "shell", "were")
    "arent", "couldnt", "didnt", "doesnt", "dont", "hadnt", "hasnt", "havent", "hows", "isnt",
    "shouldnt", "thats", "theres", "theyre", "theyve", "wasnt", "werent", "whens", "wheres", "whos",
    "whys", "wouldnt", "youre", "youve"};

}  // namespace

const Xapian::Stopper& english_stop_words() {
  static const Xapian::SimpleStopper stopper(std::begin(kStopWords), std::end(kStopWords));
  return stopper;
}

bool is_expansion_term(std::string_view term) {
  if (term.size() < 4 || term[0] != 'Z') return false;
  if (term[1] >= 'A' && term[1] <= 'Z') return false;  // a field-prefixed stem
  const std::string_view stem = term.substr(1);
  if (std::all_of(stem.begin(), stem.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }))
    return false;
  // The stop words as a hash set of views (the stopper's std::set<std::string> needs a string
  // built for each lookup).
  static const std::unordered_set<std::string_view> stop(std::begin(kStopWords), std::end(kStopWords));
  return !stop.contains(stem);
}

bool cjk_beside_latin(char32_t before_char, char32_t after_char) {
  const auto before = static_cast<UChar32>(before_char), after = static_cast<UChar32>(after_char);
  const auto cjk = [](UChar32 c) {
    if (c < 0x80) return false;
    if (c == 0x30FC || c == 0xFF70) return true;  // the katakana long vowel mark (script Common)
    UErrorCode script_status = U_ZERO_ERROR;
    const UScriptCode script = uscript_getScript(c, &script_status);
    return script == USCRIPT_HAN || script == USCRIPT_HIRAGANA || script == USCRIPT_KATAKANA || script == USCRIPT_HANGUL;
  };
  const auto latin = [](UChar32 c) {
    UErrorCode script_status = U_ZERO_ERROR;
    return c < 0x80 ? std::isalnum(static_cast<int>(c)) != 0 : uscript_getScript(c, &script_status) == USCRIPT_LATIN;
  };
  return (latin(before) && cjk(after)) || (cjk(before) && latin(after));
}

std::string fold_text(std::string_view utf8) {
  const auto& n = normalizers();
  UErrorCode status = U_ZERO_ERROR;
  icu::UnicodeString input = icu::UnicodeString::fromUTF8(
      icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())));
  // Decompose, drop combining marks (accents), then NFKC + case folding.
  icu::UnicodeString decomposed = n.nfd->normalize(input, status);
  icu::UnicodeString stripped;
  for (int32_t i = 0; i < decomposed.length();) {
    UChar32 c = decomposed.char32At(i);
    i += U16_LENGTH(c);
    if (u_charType(c) == U_NON_SPACING_MARK) continue;
    // A zero-width space parts words (text pasted from a web page holds them where a line may
    // break); NFKC_Casefold drops it as ignorable, which joined them (`brain<ZWSP>fog` was
    // "brainfog": 0 articles). So do the marks of writing direction (LRM, RLM, ALM, embeddings,
    // overrides and isolates), which text copied from a page of two scripts holds between
    // words (`fatigue<RLO>sleep` was one word: 0 articles). The other ignorables (a soft hyphen,
    // a joiner) join, as they should.
    if (c == 0x200B || u_hasBinaryProperty(c, UCHAR_BIDI_CONTROL)) c = ' ';
    // The replacement character stands where a byte was not UTF-8 (a Latin-1 terminal's
    // `Sj\xf6gren`, replaced by the CLI): the word's letters around it are one word, which "did
    // you mean" can mend (`sjgren` -> "sjogren"). Parting them searched "sj" and "gren", and
    // "Sj\ufffdgrew" was offered and shown.
    if (c == 0xFFFD) continue;
    stripped.append(c);
  }
  icu::UnicodeString folded = n.nfkc_casefold->normalize(stripped, status);
  if (U_FAILURE(status)) return std::string(utf8);

  // A Greek letter is spelled out as a symbol (β-interferon, TNF-α, αβ T cells), not inside a
  // Greek word: a run of three Greek letters or more is left as it is (`σκλήρυνση κατά
  // πλάκας` was searched as "sigma-kappa-lambda-…" and found the article on kappa chains).
  std::vector<UChar32> chars;
  for (int32_t i = 0; i < folded.length();) {
    chars.push_back(folded.char32At(i));
    i += U16_LENGTH(chars.back());
  }
  const auto greek = [](UChar32 c) {
    UErrorCode script_status = U_ZERO_ERROR;
    return u_isalpha(c) != 0 && uscript_getScript(c, &script_status) == USCRIPT_GREEK;
  };
  std::vector<bool> in_word(chars.size(), false);
  for (std::size_t k = 0; k < chars.size();) {
    std::size_t end = k;
    while (end < chars.size() && greek(chars[end])) ++end;
    if (end - k >= 3) std::fill(in_word.begin() + static_cast<std::ptrdiff_t>(k), in_word.begin() + static_cast<std::ptrdiff_t>(end), true);
    k = end > k ? end : k + 1;
  }
  // Chinese, Japanese and Korean letters beside a word of Latin letters or digits are a word of
  // their own joined by a hyphen (`fatigue疲労`, pasted from a page in two languages, was one word:
  // 0 articles). A hyphen, not a space: a sign, a field or a filter still covers both
  // (`-疲労bladder`, `title:疲労bladder`, `topic:fatigue疲労`; helper-93), and a word alone
  // finds it as a hyphenated word's part does.
  icu::UnicodeString spelled;
  UChar32 last = 0;
  for (int32_t i = 0, k = 0; i < folded.length(); ++k) {
    UChar32 c = folded.char32At(i);
    i += U16_LENGTH(c);
    if (last != 0 && cjk_beside_latin(static_cast<char32_t>(last), static_cast<char32_t>(c))) spelled.append(UChar32{'-'});
    last = c;
    const char* name = in_word[static_cast<std::size_t>(k)] ? nullptr : greek_name(c);
    if (name == nullptr) {
      spelled.append(c);
      continue;
    }
    // "tnfα" -> "tnf-alpha", "β-interferon" -> "beta-interferon": a hyphen keeps it one phrase.
    if (spelled.length() > 0 && is_alnum(spelled.char32At(spelled.length() - 1)))
      spelled.append(UChar32{'-'});
    spelled.append(icu::UnicodeString::fromUTF8(name));
    if (i < folded.length() && is_alnum(folded.char32At(i))) spelled.append(UChar32{'-'});
  }
  std::string out;
  spelled.toUTF8String(out);
  return out;
}

std::vector<std::string> compound_terms(std::string_view folded) {
  std::vector<std::string> out;
  icu::UnicodeString text = icu::UnicodeString::fromUTF8(
      icu::StringPiece(folded.data(), static_cast<int32_t>(folded.size())));
  int32_t i = 0;
  const int32_t len = text.length();
  while (i < len) {
    // Collect a run of alphanumerics joined by single hyphens.
    icu::UnicodeString joined;
    int parts = 0;
    bool has_digit = false, has_letter = false;
    int32_t j = i;
    while (j < len) {
      int32_t start = j;
      while (j < len && is_alnum(text.char32At(j))) {
        UChar32 c = text.char32At(j);
        has_digit |= u_isdigit(c) != 0;
        has_letter |= u_isalpha(c) != 0;
        joined.append(c);
        j += U16_LENGTH(c);
      }
      if (j == start) break;
      ++parts;
      if (j + 1 < len && text.charAt(j) == '-' && is_alnum(text.char32At(j + 1))) {
        ++j;
        continue;
      }
      break;
    }
    if (parts >= 2 && has_digit && has_letter) {
      std::string term;
      joined.toUTF8String(term);
      if (term.size() <= kMaxWordBytes) out.push_back(std::move(term));
    }
    i = (j > i) ? j : i + U16_LENGTH(text.char32At(i));
  }
  return out;
}

std::string hyphenated_as_words(std::string_view q) {
  auto word_byte = [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x80 || std::isalnum(u) != 0;
  };
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  std::string out;
  out.reserve(q.size() + 16);
  bool in_quotes = false;
  std::size_t i = 0;
  while (i < q.size()) {
    if (space(q[i])) {
      out += q[i++];
      continue;
    }
    std::size_t end = i;
    while (end < q.size() && !space(q[end])) ++end;
    std::string_view token = q.substr(i, end - i);
    const bool quoted = in_quotes || token.find('"') != std::string_view::npos;
    for (char c : token) in_quotes ^= c == '"';
    i = end;
    if (quoted || token.find(':') != std::string_view::npos) {
      out += token;
      continue;
    }
    if (token.size() > 1 && token[0] == '-' && std::isdigit(static_cast<unsigned char>(token[1]))) {
      // "-2," in a list of numbers: the number.
      std::size_t k = 1;
      while (k < token.size() && std::isdigit(static_cast<unsigned char>(token[k]))) ++k;
      if (k == token.size() || !word_byte(token[k])) token.remove_prefix(1);
    }
    if (token[0] == '+' || token[0] == '-') {
      out += token;
      continue;
    }
    // Each run of word characters joined by single hyphens.
    for (std::size_t k = 0; k < token.size();) {
      if (!word_byte(token[k])) {
        out += token[k++];
        continue;
      }
      std::size_t run_end = k;
      bool hyphenated = false;
      while (true) {
        while (run_end < token.size() && word_byte(token[run_end])) ++run_end;
        if (run_end + 1 < token.size() && token[run_end] == '-' && word_byte(token[run_end + 1])) {
          hyphenated = true;
          ++run_end;
          continue;
        }
        break;
      }
      std::string_view run = token.substr(k, run_end - k);
      k = run_end;
      if (!hyphenated) {
        out += run;
        continue;
      }
      for (char c : run) out += c == '-' ? ' ' : c;
      for (const auto& joined : compound_terms(run)) {
        out += ' ';
        out += joined;
      }
    }
  }
  return out;
}

namespace {

// Snowball with a memory: the same words come back again and again (every snippet stems each
// word of its text; every article indexed stems each of its words), and a hash lookup costs a
// fraction of running the stemmer. Bounded: emptied when full. Not thread-safe, like the
// stemmer it wraps; each TextAnalyzer has its own.
class CachingStem : public Xapian::StemImplementation {
 public:
  explicit CachingStem(const std::string& language) : stem_(language), description_(stem_.get_description()) {}
  std::string operator()(const std::string& word) override {
    if (auto it = cache_.find(word); it != cache_.end()) return it->second;
    if (cache_.size() >= kMaxWords) cache_.clear();
    return cache_.emplace(word, stem_(word)).first->second;
  }
  std::string get_description() const override { return description_; }

 private:
  static constexpr std::size_t kMaxWords = 1 << 16;
  Xapian::Stem stem_;
  std::string description_;
  std::unordered_map<std::string, std::string> cache_;
};

// Stems only the words whose first byte begins one of the stems looked for.
class FirstByteStem : public Xapian::StemImplementation {
 public:
  FirstByteStem(Xapian::Stem stem, std::bitset<256> firsts) : stem_(std::move(stem)), firsts_(firsts) {}
  std::string operator()(const std::string& word) override {
    if (word.empty() || !firsts_.test(static_cast<unsigned char>(word[0]))) return {};
    return stem_(word);
  }
  std::string get_description() const override { return stem_.get_description(); }

 private:
  Xapian::Stem stem_;
  std::bitset<256> firsts_;
};

}  // namespace

Xapian::Stem TextAnalyzer::snippet_stemmer(const Xapian::Query& query) const {
  if (options_.language != "english" && options_.language != "en") return stemmer_;
  std::bitset<256> firsts;
  for (auto t = query.get_unique_terms_begin(); t != query.get_unique_terms_end(); ++t) {
    const std::string& term = *t;
    if (term.size() > 1 && term[0] == 'Z') firsts.set(static_cast<unsigned char>(term[1]));
  }
  return Xapian::Stem(new FirstByteStem(stemmer_, firsts));
}

TextAnalyzer::TextAnalyzer(const AnalyzerOptions& options)
    : options_(options), stemmer_(new CachingStem(options.language)) {}

Xapian::TermGenerator TextAnalyzer::make_term_generator(
    Xapian::WritableDatabase* spelling_db) const {
  Xapian::TermGenerator generator;
  generator.set_stemmer(stemmer_);
  generator.set_stemming_strategy(options_.index_stemming);
  if (spelling_db != nullptr) {
    generator.set_database(*spelling_db);
    generator.set_flags(Xapian::TermGenerator::FLAG_SPELLING);
  }
  return generator;
}

void TextAnalyzer::index_field(Xapian::TermGenerator& generator, const schema::TextField& field,
                               std::string_view text) const {
  if (text.empty()) return;
  const std::string folded = fold_text(text);
  // Unprefixed (positional): plain queries, phrases and snippet highlighting see every field.
  generator.index_text(folded, field.weight);
  if (!field.prefix.empty()) {
    // Prefixed copy for field queries; no spelling data for it (the dictionary is unprefixed).
    // set_flags(toggle, mask) returns the old flags: new = (old & mask) ^ toggle.
    const auto flags = generator.set_flags(
        Xapian::TermGenerator::flags(0),
        static_cast<Xapian::TermGenerator::flags>(~Xapian::TermGenerator::FLAG_SPELLING));
    // Without positions: phrases are matched on the unprefixed copy; field queries need terms.
    generator.index_text_without_positions(folded, 1, std::string(field.prefix));
    generator.set_flags(flags);
  }
  // A gap so that a phrase never spans two fields.
  generator.increase_termpos(100);

  Xapian::Document doc = generator.get_document();
  for (const auto& term : compound_terms(folded)) {
    doc.add_term(term, field.weight);
    doc.add_term("Z" + stemmer_(term), field.weight);
    if (!field.prefix.empty()) doc.add_term(std::string(field.prefix) + term);
  }
}

namespace {

// topic:Astrocytes, topic:"Multiple sclerosis" and topic:multiple-sclerosis all become the
// boolean term XT<slug>, exactly what the indexer writes.
class SlugFieldProcessor : public Xapian::FieldProcessor {
 public:
  explicit SlugFieldProcessor(std::string_view prefix) : prefix_(prefix) {}
  Xapian::Query operator()(const std::string& value) override {
    return Xapian::Query(prefix_ + schema::slug(fold_text(value)));
  }

 private:
  std::string prefix_;
};

// date:BEGIN..END with real ISO dates only; see make_query_parser.
class IsoDateRangeProcessor : public Xapian::DateRangeProcessor {
 public:
  explicit IsoDateRangeProcessor(std::string* bad_date)
      : Xapian::DateRangeProcessor(schema::kSlotDate, std::string(schema::kDateFieldName) + ":"), bad_date_(bad_date) {}
  Xapian::Query operator()(const std::string& begin, const std::string& end) override {
    for (const std::string* e : {&begin, &end})
      if (!e->empty() && !schema::is_iso_date(*e)) {
        if (bad_date_ != nullptr && bad_date_->empty()) *bad_date_ = *e;  // the first named
        return Xapian::Query::MatchNothing;
      }
    // Reversed (date:2025-12-31..2025-01-01): refused as the since/until parameters are.
    if (!begin.empty() && !end.empty() && begin > end) {
      if (bad_date_ != nullptr && bad_date_->empty()) *bad_date_ = begin + ".." + end;
      return Xapian::Query::MatchNothing;
    }
    return Xapian::DateRangeProcessor::operator()(begin, end);
  }

 private:
  std::string* bad_date_;
};

}  // namespace

Xapian::QueryParser TextAnalyzer::make_query_parser(const Xapian::Database& db, std::string* bad_date) const {
  Xapian::QueryParser parser;
  parser.set_database(db);
  parser.set_stemmer(stemmer_);
  parser.set_stemming_strategy(options_.query_stemming);
  for (const auto& field : schema::kQueryTextFields) parser.add_prefix(std::string(field.name), std::string(field.prefix));
  for (const auto& field : schema::kFilterFields) {
    // Exclusive: two values of one field are either (`topic:a topic:b`), of two fields both.
    const std::string name(field.name);
    if (field.slug_value)
      parser.add_boolean_prefix(name, (new SlugFieldProcessor(field.prefix))->release(), true);
    else
      parser.add_boolean_prefix(name, std::string(field.prefix), true);
  }
  parser.add_rangeprocessor((new IsoDateRangeProcessor(bad_date))->release());
  return parser;
}

bool is_query_operator(std::string_view word) {
  for (std::string_view op : kQueryOperators)
    if (word == op || (word.starts_with(op) && word.size() > op.size() && word[op.size()] == '/')) return true;
  return false;
}

// The query with the spaces and dashes other than ASCII's that phones and word processors type
// written as ASCII's: a no-break or thin space around `NOT` made it a word, and `brain −fatigue`
// (a minus sign, an en dash) searched for fatigue.
std::string ascii_spaces_and_dashes(std::string_view q) {
  static constexpr std::pair<std::string_view, char> kAs[] = {
      {"\u00a0", ' '}, {"\u1680", ' '}, {"\u2000", ' '}, {"\u2001", ' '}, {"\u2002", ' '}, {"\u2003", ' '},
      {"\u2004", ' '}, {"\u2005", ' '}, {"\u2006", ' '}, {"\u2007", ' '}, {"\u2008", ' '}, {"\u2009", ' '},
      {"\u200a", ' '}, {"\u202f", ' '}, {"\u205f", ' '}, {"\u3000", ' '}, {"\u2010", '-'}, {"\u2011", '-'},
      // A zero-width space, line and paragraph separators and NEL part words: as spaces before the
      // operators and fields are read (`fatigue<ZWSP>AND<ZWSP>sleep`, `topic:<ZWSP>fatigue`).
      {"\u200b", ' '}, {"\u2028", ' '}, {"\u2029", ' '}, {"\u0085", ' '},
      {"\u2012", '-'}, {"\u2013", '-'}, {"\u2212", '-'}, {"\ufe63", '-'},
      // Typographic quotes are quotes, an em dash and Spanish opening marks part words: `ms “gait”`
      // was offered "gain" (the word with its quotes is no word of the index).
      {"\u201c", '"'}, {"\u201d", '"'}, {"\u201e", '"'}, {"\u00ab", '"'}, {"\u00bb", '"'},
      {"\u2014", ' '}, {"\u00bf", ' '}, {"\u00a1", ' '}};
  // (A typographic apostrophe stays: `Alzheimer’s` is indexed as typed in the articles, and
  // written as ASCII's it ranked other articles first.)
  std::string out;
  out.reserve(q.size());
  for (std::size_t i = 0; i < q.size();) {
    bool replaced = false;
    // An em dash typed before a word after a space (`fatigue —sleep`: a word processor's `--`)
    // is a minus; between words it parts them.
    if (q.substr(i, 3) == "\u2014" && (out.empty() || out.back() == ' ' || out.back() == '\t' || out.back() == '(') &&
        i + 3 < q.size() && (std::isalnum(static_cast<unsigned char>(q[i + 3])) != 0 || static_cast<unsigned char>(q[i + 3]) >= 0x80 ||
                             q[i + 3] == '"' || q[i + 3] == '(')) {
      out += '-';
      i += 3;
      continue;
    }
    // Between two digits it joins a range (`year:2024—2025`, `year:2024 — 2025`), as an en dash does.
    if (q.substr(i, 3) == "\u2014") {
      const std::size_t before = out.find_last_not_of(' '), after = q.find_first_not_of(' ', i + 3);
      if (before != std::string::npos && out[before] >= '0' && out[before] <= '9' && after != std::string_view::npos &&
          q[after] >= '0' && q[after] <= '9') {
        out += '-';
        i += 3;
        continue;
      }
    }
    // Three dots or more are an ellipsis typed in ASCII, read as `…` is: beside a digit a range's
    // two dots (`year:2024...2025`), elsewhere they part words: after a filter's quote
    // (`topic:"symptom management"...`) Xapian's parser read a range, failed, and the filter's
    // words were searched (21 articles, not the topic's 8).
    if (q[i] == '.' && q.substr(i, 3) == "...") {
      std::size_t end = i;
      while (end < q.size() && q[end] == '.') ++end;
      const auto digit = [](char ch) { return ch >= '0' && ch <= '9'; };
      out += (!out.empty() && digit(out.back())) || (end < q.size() && digit(q[end])) ? ".." : " ";
      i = end;
      continue;
    }
    // Curly single quotes typed as quote marks (`‘tired’`, a phone's default) part words; a
    // U+2019 between letters stays the apostrophe it is (`Alzheimer’s`).
    if (q.substr(i, 3) == "\u2018" ||
        (q.substr(i, 3) == "\u2019" && (i + 3 >= q.size() || !(std::isalnum(static_cast<unsigned char>(q[i + 3])) != 0 ||
                                                                static_cast<unsigned char>(q[i + 3]) >= 0x80)))) {
      out += ' ';
      i += 3;
      continue;
    }
    // After a field's colon it parts nothing (`topic:<ZWSP>fatigue` reads as it looks).
    if (q.substr(i, 3) == "\u200b" && !out.empty() && out.back() == ':') {
      i += 3;
      continue;
    }
    if (static_cast<unsigned char>(q[i]) >= 0xc2)
      for (const auto& [from, to] : kAs)
        if (q.substr(i, from.size()) == from) {
          out += to;
          i += from.size();
          replaced = true;
          break;
        }
    if (!replaced && static_cast<unsigned char>(q[i]) >= 0xc2) {
      // Any other punctuation, symbol or space parts words as it does for Xapian's parser, also
      // for what reads the words before it (`what•is•fatigue` was one word to the synonyms and
      // to "did you mean", which offered "that•is•fatigue"; `Astrocites…`). Not the apostrophes
      // (`Alzheimer’s`), nor the full-width and small forms, which folding makes ASCII syntax.
      std::int32_t at = static_cast<std::int32_t>(i);
      UChar32 c = 0;
      U8_NEXT(q.data(), at, static_cast<std::int32_t>(q.size()), c);
      // The leaders (`…`, `‥`, `․`) beside a digit are a range's two dots (`year:2024…2025`,
      // `year:2024…`: a phone's ellipsis folded to three dots, refused as no year). Elsewhere
      // they part words: `topic:"symptom management"…` was read as a range, refused, and
      // searched as 21 articles' words, not the topic's 8.
      const auto digit = [](char ch) { return ch >= '0' && ch <= '9'; };
      const bool leader = c >= 0x2024 && c <= 0x2026;
      if (leader && ((!out.empty() && digit(out.back())) || (static_cast<std::size_t>(at) < q.size() && digit(q[static_cast<std::size_t>(at)])))) {
        out += "..";
        i = static_cast<std::size_t>(at);
        continue;
      }
      // So do the marks of writing direction (Bidi_Control), as in fold_text.
      if (c >= 0 && u_hasBinaryProperty(c, UCHAR_BIDI_CONTROL)) {
        out += ' ';
        i = static_cast<std::size_t>(at);
        continue;
      }
      if (c >= 0 && c != 0x2018 && c != 0x2019 && c != 0xFFFD && !(c >= 0xfe10 && c <= 0xfe6f) && !(c >= 0xff00 && c <= 0xffef)) {
        switch (u_charType(c)) {
          case U_OTHER_PUNCTUATION: case U_INITIAL_PUNCTUATION: case U_FINAL_PUNCTUATION: case U_MATH_SYMBOL:
          case U_OTHER_SYMBOL: case U_CURRENCY_SYMBOL: case U_SPACE_SEPARATOR: case U_LINE_SEPARATOR:
          case U_PARAGRAPH_SEPARATOR:
            out += ' ';
            i = static_cast<std::size_t>(at);
            replaced = true;
            break;
          default:
            break;
        }
      }
    }
    if (!replaced) out += q[i++];
  }
  return out;
}

namespace {

// A word Xapian's parser reads as one term, which NEAR and ADJ join: letters and digits (and
// an apostrophe inside), optionally after a text field's name (`title:myelin`); no sign,
// bracket, quote, wildcard or joining punctuation (`myelin-repair` is a phrase of two).
bool joinable_by_near(std::string_view word) {
  for (const auto& field : schema::kQueryTextFields)
    if (word.starts_with(field.name) && word.size() > field.name.size() + 1 && word[field.name.size()] == ':') {
      word.remove_prefix(field.name.size() + 1);
      break;
    }
  if (word.empty() || word.front() == '\'' || word.back() == '\'') return false;
  if (is_query_operator(word)) return false;
  // Letters, marks and digits of any script, as Xapian reads a word; no other character (a
  // `⟨` or `―` folding leaves as it is was taken for part of a word, and NEAR beside it reached
  // the parser misplaced: helper-74). An apostrophe (ASCII's or U+2019) only inside.
  for (std::int32_t i = 0; i < static_cast<std::int32_t>(word.size());) {
    const std::int32_t at = i;
    UChar32 c = 0;
    U8_NEXT(word.data(), i, static_cast<std::int32_t>(word.size()), c);
    if (c < 0) return false;  // not UTF-8
    if (c == '\'' || c == 0x2019) {
      if (at == 0 || i == static_cast<std::int32_t>(word.size())) return false;
      continue;
    }
    switch (u_charType(c)) {
      case U_UPPERCASE_LETTER: case U_LOWERCASE_LETTER: case U_TITLECASE_LETTER: case U_MODIFIER_LETTER:
      case U_OTHER_LETTER: case U_NON_SPACING_MARK: case U_ENCLOSING_MARK: case U_COMBINING_SPACING_MARK:
      case U_DECIMAL_DIGIT_NUMBER: case U_LETTER_NUMBER: case U_OTHER_NUMBER:
        break;
      default:
        return false;
    }
  }
  return true;
}

bool is_positional_operator(std::string_view word) {
  for (std::string_view op : {"NEAR", "ADJ"}) {
    if (word == op) return true;
    if (word.starts_with(op) && word.size() > op.size() + 1 && word[op.size()] == '/' &&
        word.substr(op.size() + 1).find_first_not_of("0123456789") == std::string_view::npos)
      return true;
  }
  return false;
}

// The length of NEAR or ADJ (`NEAR/3`) at the start of `word` when only marks follow it
// (`NEAR,`, `NEAR.`, `NEAR…`); 0 otherwise.
std::size_t operator_before_marks(std::string_view word) {
  std::string_view op = word;
  for (;;) {
    if (op.ends_with("\u2026")) op.remove_suffix(3);
    else if (!op.empty() && op.back() != '/' && std::ispunct(static_cast<unsigned char>(op.back())) != 0) op.remove_suffix(1);
    else break;
  }
  return op.size() < word.size() && is_positional_operator(op) ? op.size() : 0;
}

// NEAR and ADJ (`NEAR/3`) left operators only between two words they can join, lower-cased into
// words elsewhere (`-fatigue NEAR sleep`, `OR NEAR/2`, `"white matter" NEAR lesions`). Xapian's
// parser refuses those as syntax errors, and in Xapian 1.4.22 some of its refusals leaked memory
// (96 bytes a search, `-fatigue NEAR brain sleep`: found by the query fuzzer); refused, their
// text was searched as plain words, as it is now.
std::string near_only_between_words(std::string folded) {
  std::vector<std::pair<std::size_t, std::size_t>> words;  // [begin, end) of each word
  for (std::size_t i = 0; i < folded.size();) {
    const std::size_t begin = folded.find_first_not_of(" \t\r\n", i);
    if (begin == std::string::npos) break;
    const std::size_t end = std::min(folded.find_first_of(" \t\r\n", begin), folded.size());
    words.emplace_back(begin, end);
    i = end;
  }
  const auto word = [&](std::size_t k) {
    return std::string_view(folded).substr(words[k].first, words[k].second - words[k].first);
  };
  for (std::size_t k = 0; k < words.size(); ++k) {
    const std::string_view w = word(k);
    if (w.find("NEAR") == std::string_view::npos && w.find("ADJ") == std::string_view::npos) continue;
    std::string_view core = w;  // `(NEAR`, `NEAR)`: an operator against a bracket
    while (!core.empty() && (core.front() == '(' || core.front() == ')')) core.remove_prefix(1);
    while (!core.empty() && (core.back() == '(' || core.back() == ')')) core.remove_suffix(1);
    // `NEAR,` and `ADJ/3,x` as well: the parser may read an operator there too; and after a
    // slash (`AND/ADJ/3`, `OR/NEAR/2`: two operators in a row to the parser, which leaked
    // again: helper-75).
    bool operator_like = false;
    for (std::string_view op : {"NEAR", "ADJ"})
      for (std::size_t at = core.find(op); at != std::string_view::npos; at = core.find(op, at + 1))
        operator_like |= (at == 0 || core[at - 1] == '/') &&
                         (at + op.size() == core.size() || std::isalnum(static_cast<unsigned char>(core[at + op.size()])) == 0);
    if (!operator_like) continue;
    bool joins = is_positional_operator(core) && core.size() == w.size() && k > 0 && k + 1 < words.size();
    if (joins) {
      // Brackets may open before the first word (`(fatigue`, `-(fatigue`) and close after the
      // second (`brain)`); a sign on the word itself (`-fatigue`) is no place for NEAR.
      std::string_view before = word(k - 1);
      std::size_t open = before.front() == '+' || before.front() == '-' ? 1 : 0;
      // A text field before the bracket (`title:(fatigue NEAR sleep)`) is that field's words.
      for (const auto& field : schema::kQueryTextFields)
        if (before.substr(open).starts_with(field.name) && before.substr(open + field.name.size()).starts_with(":(")) {
          open += field.name.size() + 1;
          break;
        }
      if (open < before.size() && before[open] == '(') {
        while (open < before.size() && before[open] == '(') ++open;
        before.remove_prefix(open);
      }
      std::string_view after = word(k + 1);
      // A sentence's mark after the second word (`fatigue NEAR sleep.`, pasted) ends it: NEAR
      // was made a word there, 17 articles where `fatigue NEAR sleep` finds 4 (helper-88).
      while (!after.empty() && (after.back() == ')' || after.back() == '.' || after.back() == ',' || after.back() == ';' ||
                                after.back() == '!' || after.back() == '?'))
        after.remove_suffix(1);
      joins = joinable_by_near(before) && joinable_by_near(after);
    }
    if (joins) continue;
    // Last, or before nothing but fields with no value, operators and marks (`fatigue NEAR`,
    // as typed so far; `fatigue NEAR title:`, `fatigue NEAR )`, `fatigue NEAR -`, `NEAR,`): it
    // joins nothing, and is left out (as a word "near" it found 2 more articles).
    std::string_view bare = core;
    while (!bare.empty() && std::ispunct(static_cast<unsigned char>(bare.back())) != 0 && bare.back() != '/') bare.remove_suffix(1);
    bool last = k > 0 && is_positional_operator(bare) && (core.size() == w.size() || core.size() == bare.size());
    const auto no_word = [](std::string_view x) {
      return std::none_of(x.begin(), x.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || static_cast<unsigned char>(c) >= 0x80; });
    };
    for (std::size_t n = k + 1; last && n < words.size(); ++n)
      last = word(n).ends_with(':') || no_word(word(n)) || is_query_operator(word(n)) || word(n) == "\u2026";
    if (last) {
      // The operator's letters only: brackets and marks around it stay.
      const std::size_t from = words[k].first + static_cast<std::size_t>(core.data() - w.data());
      for (std::size_t at = from; at < from + bare.size(); ++at) folded[at] = ' ';
      continue;
    }
    for (std::size_t at = words[k].first; at < words[k].second; ++at)
      folded[at] = static_cast<char>(std::tolower(static_cast<unsigned char>(folded[at])));
  }
  return folded;
}

}  // namespace

std::string TextAnalyzer::fold_query(std::string_view typed) const {
  // Control characters part words, as spaces (`ADJ/3\x05brain` was one word here and an
  // operator and a word to Xapian's parser).
  std::string spaced(typed);
  std::replace_if(spaced.begin(), spaced.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }, ' ');
  return near_only_between_words(fold_query_text(spaced));
}

std::string TextAnalyzer::fold_query_text(std::string_view typed) const {
  const std::string ascii = ascii_spaces_and_dashes(typed);
  const std::string_view query = ascii;
  std::string out;
  int id_depth = 0;  // inside `id:(…)`: ids, kept as written
  size_t i = 0;
  while (i < query.size()) {
    size_t ws = query.find_first_of(" \t\r\n", i);
    std::string_view word = query.substr(i, ws == std::string_view::npos ? ws : ws - i);
    bool is_operator = false;
    // Brackets against it (`(NOT fatigue)`, `(a OR`) leave it an operator.
    std::string_view core = word;
    while (!core.empty() && core.front() == '(') core.remove_prefix(1);
    while (!core.empty() && core.back() == ')') core.remove_suffix(1);
    is_operator = is_query_operator(core);
    // An operator against its bracket (`NOT(fatigue)`) stays one; what follows is folded.
    for (auto op : kQueryOperators)
      if (!is_operator && word.size() > op.size() + 1 && word.starts_with(op) && word[op.size()] == '(') {
        out += op;
        out += ' ';  // as the parser reads an operator (`AND(sleep)` was a word)
        word.remove_prefix(op.size());
        break;
      }
    // An operator right after a field's bracket (`topic:(NOT fatigue)`) stays one.
    if (const std::size_t open = word.find(":("); !is_operator && open != std::string_view::npos) {
      std::size_t after = open + 2;
      while (after < word.size() && word[after] == '(') ++after;
      std::string_view rest = word.substr(after);
      while (!rest.empty() && rest.back() == ')') rest.remove_suffix(1);
      for (auto op : kQueryOperators)
        if (rest == op) {
          const std::string field = fold_text(word.substr(0, after));
          out += field;
          out += word.substr(after);
          // `id:(NOT MS-Hug-2025)`: what follows in the bracket is ids, kept as written.
          const std::size_t lead_at = field.find_first_not_of("(+-");
          if (lead_at != std::string::npos && std::string_view(field).substr(lead_at).starts_with("id:"))
            for (char c : word) id_depth += c == '(' ? 1 : c == ')' ? -1 : 0;
          word = {};
          break;
        }
    }
    // An id is matched as written (ids are case-sensitive: `id:MS-Hug-2025`, `ID:MS-Hug-2025`),
    // and so is each value of an id's bracket (`id:(MS-Hug-2025 OR Other-Art)`).
    const std::size_t lead = word.find_first_not_of("(+-");
    bool id = lead != std::string_view::npos && word.size() >= lead + 3 &&
              (word[lead] == 'i' || word[lead] == 'I') && (word[lead + 1] == 'd' || word[lead + 1] == 'D') && word[lead + 2] == ':';
    const bool in_id_bracket = id_depth > 0;
    if (id) {
      out += word.substr(0, lead);
      out += "id:";
      out += word.substr(lead + 3);
      if (lead + 3 < word.size() && word[lead + 3] == '(') id_depth = 0;  // counted below
    } else if (const std::size_t op = operator_before_marks(word); op > 0 && !in_id_bracket) {
      // `NEAR,`, `NEAR.`, `ADJ/2…` (the operator typed before a pause): it stays an operator,
      // for near_only_between_words to judge; lower-cased, it was searched as the word "near".
      out += word.substr(0, op);
      out += fold_text(word.substr(op));
    } else {
      out += is_operator || in_id_bracket ? std::string(word) : fold_text(word);
    }
    if (id || in_id_bracket) {
      // Brackets opened after `id:` hold ids until they close.
      const std::string_view counted = id ? word.substr(lead + 3) : word;
      if (id && (counted.empty() || counted.front() != '(')) {
        // a single id: no bracket of ids
      } else {
        for (char c : counted) id_depth += c == '(' ? 1 : c == ')' ? -1 : 0;
        if (id_depth < 0) id_depth = 0;
      }
    }
    if (ws == std::string_view::npos) break;
    out += query[ws];
    i = ws + 1;
  }
  return out;
}

}  // namespace mssearch
