#include "searcher/query_planner.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <unordered_set>

#include "schema/edit_distance.h"
#include "schema/schema.h"
#include "schema/utf8.h"
#include "searcher/english_words.h"
#include "searcher/ranking.h"

namespace mssearch {

namespace {

using schema::at_chunk_start;
using schema::filter_field_length;
// How often one word of a long question is searched (each a subquery for the matcher: 1,365
// times `ms` in 4 KiB, each expanded to a synonym's phrase, took seconds).
constexpr std::size_t kMaxRepeats = 4;
// The words all of a query's quoted phrases may hold together. Each phrase's words are checked
// position by position in every article holding them all; Xapian's time limit cannot stop that
// work (it only ends the counting of matches), and 73 phrases of two words common to every
// article took 9.7 s at 100,000 articles (about 0.1 s each), with nothing for the time limit to
// cut. Past this, phrases in the order typed are searched as their words.
constexpr std::size_t kMaxPhraseWords = 16;

// Marks QueryPlanner::bad_date_ as a signed date range parse() cannot place (see there).
constexpr char kSignedRangeMark = '\x01';

// Every article, as a query of this thread's own: Xapian::Query::MatchAll is one object, and its
// reference count is no atomic, so copies of it made by several searches at once (shard servers
// answering `-fatigue` together) corrupted it: a crash in the next search's query.
Xapian::Query match_all() { return Xapian::Query(std::string()); }

// `text` with ASCII letters in lower case (operators and stop words are ASCII).
std::string ascii_lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// A stop word, whatever its case (english_stop_words() holds them in lower case).
bool is_stop_word(std::string_view word) { return english_stop_words()(ascii_lower(word)); }

// The words of a text as Xapian's parser reads them, as [begin, end) offsets: runs of word
// bytes, an apostrophe between two of them inside the word (`what's`, as one term).
std::vector<std::pair<std::size_t, std::size_t>> word_spans(std::string_view text) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (std::size_t i = 0; i < text.size();) {
    if (!is_word_byte(text[i])) {
      ++i;
      continue;
    }
    const std::size_t begin = i;
    while (i < text.size() && (is_word_byte(text[i]) || (text[i] == '\'' && i + 1 < text.size() && is_word_byte(text[i + 1]))))
      ++i;
    out.emplace_back(begin, i);
  }
  return out;
}

// Whether a chunk signed with a minus is a number (`-2,` in `E2f-1, -2, -3`), not an
// exclusion: digits after the minus, then the end or punctuation (`-3T` excludes 3T), as
// hyphenated_as_words reads it.
bool signed_number(std::string_view chunk) {
  if (chunk.size() < 2 || chunk[0] != '-' || std::isdigit(static_cast<unsigned char>(chunk[1])) == 0) return false;
  std::size_t k = 1;
  while (k < chunk.size() && std::isdigit(static_cast<unsigned char>(chunk[k])) != 0) ++k;
  return k == chunk.size() || !is_word_byte(chunk[k]);
}

// Where a field's value that begins at `at` (after `topic:`) ends, as Xapian's parser reads a
// filter's value: a quoted value after its closing quote (at the end when none closes it), a
// bracketed group after its closing bracket, else at a space or a closing bracket. The one
// reading of a value for the exact forms, "did you mean" and the planner's checks.
std::size_t field_value_end(std::string_view text, std::size_t at) {
  if (at < text.size() && text[at] == '"') {
    const std::size_t close = text.find('"', at + 1);
    return close == std::string_view::npos ? text.size() : close + 1;
  }
  if (at < text.size() && text[at] == '(') {
    int depth = 0;
    for (std::size_t end = at; end < text.size(); ++end) {
      depth += text[end] == '(' ? 1 : text[end] == ')' ? -1 : 0;
      if (depth == 0) return end + 1;
    }
    return text.size();
  }
  std::size_t end = at;
  while (end < text.size() && std::string_view(" \t\r\n)").find(text[end]) == std::string_view::npos) ++end;
  return end;
}

// Whether `text` is a filter field with its value (`topic:diet`), not the field alone.
bool is_filter_value(std::string_view text) {
  const std::size_t field = filter_field_length(text);
  return field > 0 && text.size() > field;
}

// Whether a chunk is one of the parser's operators.
bool is_operator_word(std::string_view w) {
  return is_query_operator(w);
}

// One chunk of a query at its top level, as the parser groups them: a word or a field and its
// value with its sign (`-fatigue`, `topic:"multiple sclerosis"`), a phrase (`-"white matter"`),
// a bracketed group that closes (`-(a OR b)`), an operator. A quote never closed runs to the
// end; a bracket never closed is a character of its chunk, not a group.
struct Chunk {
  std::size_t begin, end;  // [begin, end) of the text, the sign included
  char sign = 0;           // '+' or '-' (never a number's minus), else 0
  bool group = false;      // a bracketed group (after its sign)
};

// Where the bracket at `open` closes (after its ')'), npos when it never does; quotes inside
// are skipped.
std::size_t group_end(std::string_view text, std::size_t open) {
  int depth = 0;
  bool quoted = false;
  for (std::size_t k = open; k < text.size(); ++k) {
    if (text[k] == '"') quoted = !quoted;
    else if (!quoted && text[k] == '(') ++depth;
    else if (!quoted && text[k] == ')' && --depth == 0) return k + 1;
  }
  return std::string::npos;
}

std::vector<Chunk> top_chunks(std::string_view text) {
  static constexpr std::string_view kSpace = " \t\r\n";
  std::vector<Chunk> out;
  for (std::size_t i = 0; i < text.size();) {
    if (kSpace.find(text[i]) != std::string_view::npos) {
      ++i;
      continue;
    }
    Chunk c{i, i};
    std::size_t body = i;
    // A sign before a word, a phrase or a bracket (`->sleep` and `+/-` are text, not signs).
    if ((text[i] == '+' || text[i] == '-') && i + 1 < text.size() &&
        (is_word_byte(text[i + 1]) || text[i + 1] == '"' || text[i + 1] == '(')) {
      c.sign = text[i];
      body = i + 1;
    }
    if (text[body] == '(') {
      // A group is its brackets, ending the chunk: `(H2A)-histone` is one word of text, not a
      // group and an exclusion.
      if (const std::size_t end = group_end(text, body);
          end != std::string::npos && (end == text.size() || kSpace.find(text[end]) != std::string_view::npos || text[end] == ')')) {
        c.group = true;
        c.end = end;
        out.push_back(c);
        i = end;
        continue;
      }
    }
    bool quoted = false;
    std::size_t end = body;
    for (; end < text.size(); ++end) {
      if (text[end] == '"') quoted = !quoted;
      else if (quoted) continue;
      else if (kSpace.find(text[end]) != std::string_view::npos) break;
      // An operator written against its bracket (`NOT(fatigue)`) is the operator, then the group.
      else if (text[end] == '(' && c.sign == 0) {
        const std::string_view before = text.substr(body, end - body);
        if (before == "NOT" || before == "AND" || before == "OR" || before == "XOR") break;
      }
    }
    c.end = end;
    if (c.sign == '-' && signed_number(text.substr(i, end - i))) c.sign = 0;
    out.push_back(c);
    i = end;
  }
  return out;
}

// How deep brackets may nest: a bound on cost (each level is a subquery for the parser and the
// matcher; 2,000 levels took a shard server seconds, past a coordinator's deadline), far above
// what anyone types.
constexpr std::size_t kMaxBracketDepth = 32;

// Whether every bracket outside quotes closes and every quote does.
bool balanced(std::string_view text) {
  long open = 0;
  bool quoted = false;
  for (char c : text) {
    if (c == '"') quoted = !quoted;
    else if (!quoted && c == '(') ++open;
    else if (!quoted && c == ')' && --open < 0) return false;
  }
  return open == 0 && !quoted;
}

// The text without the brackets (outside quotes) that pair with none.
// Every field a query can name (`title`, `topic`, `date`…), as typed before the colon.
const std::vector<std::string_view>& field_names() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> all;
    for (const auto& f : schema::kQueryTextFields) all.push_back(f.name);
    for (const auto& f : schema::kFilterFields) all.push_back(f.name);
    all.push_back(schema::kDateFieldName);
    return all;
  }();
  return names;
}

// Whether `word` names a field (in any case: `Topic`, as filter_field_length reads it).
bool is_field_name(std::string_view word) {
  return std::any_of(field_names().begin(), field_names().end(), [&](std::string_view name) {
    return word.size() == name.size() && std::equal(word.begin(), word.end(), name.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) == b;
           });
  });
}

// Whether `word` names a text field (`title`, `takeaway`) as folded text writes it.
bool is_text_field_name(std::string_view word) {
  return std::any_of(std::begin(schema::kQueryTextFields), std::end(schema::kQueryTextFields),
                     [&](const auto& f) { return word == f.name; });
}

// `text` without a field's name that names nothing (`title:`, `fatigue year:`, as typed so far
// or left by an edit), outside quotes: each field read it its own way (`title:` alone matched
// nothing, `topic:` the word "topic", `fatigue year:` also every article writing "year").
std::string without_empty_fields(const std::string& text) {
  const std::vector<std::string_view>& names = field_names();
  std::string out = text;
  bool quoted = false;
  for (std::size_t at = 0; at < out.size(); ++at) {
    if (out[at] == '"') quoted = !quoted;
    if (quoted || !at_chunk_start(out, at)) continue;
    for (const std::string_view name : names) {
      const std::size_t end = at + name.size() + 1;
      if (end > out.size() || std::string_view(out).substr(at, name.size()) != name || out[end - 1] != ':') continue;
      if (end < out.size() && std::string_view(" \t\r\n)").find(out[end]) == std::string_view::npos) continue;
      const std::size_t from = at > 0 && (out[at - 1] == '+' || out[at - 1] == '-') ? at - 1 : at;
      out.replace(from, end - from, end - from, ' ');
      break;
    }
  }
  return out;
}

}  // namespace

// `text` with two words joined by `/`, `\`, `@`, `_` or a colon that names no field
// (`heat/fatigue`, `said:fatigue`, pasted) as two words, outside quotes and a field's value.
// Xapian's parser made an exact phrase of them, and 0 articles have "heat fatigue" side by side,
// where `heat fatigue` finds 14; a hyphen is hyphenated_as_words'. Between two digits (`10:30`,
// `1/2`) the parser's phrase stays.
std::string joined_words_apart(const std::string& text, bool typing) {
  std::string out = text;
  bool quoted = false, in_field = false;
  const auto joiner = [](char ch) { return std::string_view("/\\@_:").find(ch) != std::string_view::npos; };
  const auto digit = [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)) != 0; };
  for (std::size_t at = 0; at < out.size(); ++at) {
    const char c = out[at];
    if (c == '"') quoted = !quoted;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '(' || c == ')') in_field = false;
    if (quoted || at == 0 || !joiner(c) || !is_word_byte(out[at - 1])) continue;
    std::size_t run = at;  // a run of them too (`heat::fatigue`)
    while (run < out.size() && joiner(out[run])) ++run;
    if (run >= out.size() || !is_word_byte(out[run])) continue;
    if (in_field) {
      // In a field's value, the phrase stays; `_` joins one too (`title:brain_fog` was one
      // unknown term: 0 articles, where `title:brain/fog` finds the article).
      std::replace(out.begin() + static_cast<std::ptrdiff_t>(at), out.begin() + static_cast<std::ptrdiff_t>(run), '_', '-');
      at = run - 1;
      continue;
    }
    std::size_t begin = at;
    while (begin > 0 && is_word_byte(out[begin - 1])) --begin;
    const std::string_view before = std::string_view(out).substr(begin, at - begin);
    if (run == at + 1 && c == ':' && schema::at_chunk_start(out, begin) && is_field_name(before)) {
      in_field = true;  // its value is the field's (`title:heat/fatigue`)
      continue;
    }
    std::size_t after_end = run;
    while (after_end < out.size() && is_word_byte(out[after_end])) ++after_end;
    const std::string_view after = std::string_view(out).substr(run, after_end - run);
    // A code stays the parser's phrase: a side of one or two characters or with a digit
    // (`10:30`, `G2/M`, `P/CAF`, `CD4/CD8`, `mg/day`), whose words apart lost the code's
    // precision (SciFact's test half, nDCG@10: 0.690 as a phrase, 0.688 as words).
    // A word still being typed at the end is no code for its length (`brain/f`, as-you-type,
    // found 0 articles on the way to `brain/fog`).
    const auto code = [&](std::string_view w) { return w.size() < 3 || std::any_of(w.begin(), w.end(), digit); };
    const bool typed_last = typing && after_end == out.size() && std::none_of(after.begin(), after.end(), digit);
    if (code(before) || (!typed_last && code(after))) {
      at = run - 1;
      continue;
    }
    std::fill(out.begin() + static_cast<std::ptrdiff_t>(at), out.begin() + static_cast<std::ptrdiff_t>(run), ' ');
    // An operator's name so joined is a word (`fatigue/NOT/sleep`: Xapian's NOT, 46 articles).
    for (const auto& [from, to] : {std::pair{begin, at}, std::pair{run, after_end}})
      if (is_query_operator(std::string_view(out).substr(from, to - from)))
        std::transform(out.begin() + static_cast<std::ptrdiff_t>(from), out.begin() + static_cast<std::ptrdiff_t>(to),
                       out.begin() + static_cast<std::ptrdiff_t>(from), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    at = run - 1;
  }
  return out;
}

std::string typed_words_apart(std::string_view typed) {
  // Runs of spaces as one (`fatigue — sl` was offered "fatigue   sleep"); one at the end stays:
  // the last word is whole.
  return spaces_as_one(joined_words_apart(ascii_spaces_and_dashes(typed), true), false);
}

namespace {

// `text` with its last quote, which pairs with none, closed or taken out (see plan()).
std::string with_last_quote_closed(std::string text, bool typing) {
  const std::size_t q = text.rfind('"');
  std::size_t name = q > 0 && text[q - 1] == ':' ? q - 1 : q;
  while (name > 0 && is_word_byte(text[name - 1])) --name;
  if (q == 0 || text[q - 1] != ':') {
    text[q] = ' ';
  } else if (schema::at_chunk_start(text, name) && is_text_field_name(std::string_view(text).substr(name, q - 1 - name))) {
    if (typing) {
      text.erase(q, 1);
    } else {
      std::size_t close = text.size();
      for (std::size_t at = q + 1; at < text.size();) {
        const std::size_t begin = text.find_first_not_of(" \t\r\n", at);
        if (begin == std::string::npos) break;
        const std::size_t end = std::min(text.find_first_of(" \t\r\n", begin), text.size());
        const std::string_view token = std::string_view(text).substr(begin, end - begin);
        if (begin > q + 1 && (is_query_operator(token) || std::string_view("+-(").find(token[0]) != std::string_view::npos ||
                              token.find(':') != std::string_view::npos)) {
          close = text.find_last_not_of(" \t\r\n", begin - 1) + 1;
          break;
        }
        at = end;
      }
      text.insert(close, 1, '"');
    }
  }
  return text;
}

std::string paired_brackets_only(const std::string& text) {
  std::vector<std::size_t> open, stray;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '"') quoted = !quoted;
    else if (!quoted && text[i] == '(') open.push_back(i);
    else if (!quoted && text[i] == ')') {
      if (open.empty()) stray.push_back(i);
      else open.pop_back();
    }
  }
  stray.insert(stray.end(), open.begin(), open.end());
  if (stray.empty()) return text;
  std::sort(stray.begin(), stray.end());
  std::string out;
  std::size_t at = 0;
  for (const std::size_t i : stray) {
    out.append(text, at, i - at);
    out += ' ';
    at = i + 1;
  }
  out.append(text, at, std::string::npos);
  return out;
}

// How deep brackets that close nest (a `(` never closed is a character, as pasted text has).
std::size_t bracket_depth(std::string_view text) {
  std::size_t open = 0, most = 0;
  bool quoted = false;
  for (char c : text) {
    if (c == '"') quoted = !quoted;
    else if (!quoted && c == '(') ++open;
    else if (!quoted && c == ')' && open > 0) most = std::max(most, open--);
  }
  return most;
}

// A run of signs before a chunk (`--fatigue`, `-+-x`) is one sign, a minus if it holds one:
// read one level at a time, 4,000 minuses took seconds to plan.
std::string single_signs(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  bool quoted = false;
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    const bool at_chunk = !quoted && (i == 0 || std::string_view(" \t\r\n(").find(text[i - 1]) != std::string_view::npos);
    if (at_chunk && (c == '-' || c == '+') && i + 1 < text.size() && (text[i + 1] == '-' || text[i + 1] == '+')) {
      std::size_t end = i;
      bool minus = false;
      for (; end < text.size() && (text[end] == '-' || text[end] == '+'); ++end)
        if (text[end] == '-') minus = true;
      out += minus ? '-' : '+';
      i = end;
      continue;
    }
    if (c == '"') quoted = !quoted;
    out += c;
    ++i;
  }
  return out;
}

// Which of a run of chunks a rewrite takes out: those `take` names, each with the operator that
// joined it (`fatigue OR -sleep`: the OR; `-fatigue AND brain`, nothing before it: the AND), so
// that what is left is still syntax. One rule for the top level (QueryPlanner::parse) and for a
// bracket's words (exclusions_written_as_signs).
template <typename Take>
std::vector<bool> taken_with_operators(const std::vector<Chunk>& chunks, std::string_view text, const Take& take) {
  std::vector<bool> taken(chunks.size(), false);
  const auto is_operator = [&](std::size_t k) {
    const Chunk& c = chunks[k];
    return c.sign == 0 && !c.group && is_operator_word(text.substr(c.begin, c.end - c.begin));
  };
  for (std::size_t k = 0; k < chunks.size(); ++k) {
    if (!take(chunks[k])) continue;
    taken[k] = true;
    if (k > 0 && !taken[k - 1] && is_operator(k - 1)) taken[k - 1] = true;
    else if (k + 1 < chunks.size() && is_operator(k + 1) &&
             std::all_of(taken.begin(), taken.begin() + static_cast<std::ptrdiff_t>(k), [](bool t) { return t; }))
      taken[k + 1] = true;
  }
  return taken;
}

// A word excluded that is a stop word (`fatigue -and heat`, pasted prose) is never searched: it
// would leave out nearly every article.
bool excludes_nothing(std::string_view body) { return is_stop_word(body); }

// Whether a bracket's text as typed holds words beside a minus, or a required filter (`+year:`),
// which the parser cannot read there. A bracket whose exclusions are written with NOT is left
// to the parser, as NOT in a bracket is Xapian's (`(fatigue OR heat NOT sleep)`).
bool bracket_needs_rewrite(std::string_view typed) {
  const std::vector<Chunk> chunks = top_chunks(typed);
  bool sign = false;
  for (const Chunk& c : chunks) {
    const std::string_view w = typed.substr(c.begin, c.end - c.begin);
    if (c.sign == 0 && !c.group && w == "NOT" && &c != &chunks.back()) return false;  // a NOT that excludes
    if (c.sign == '-') sign = true;
    if (c.sign == '+' && !c.group && is_filter_value(w.substr(1))) sign = true;
  }
  return sign;
}

// What `NOT` leaves out is an exclusion from the whole query, as `-` is: `NOT x` (and `AND NOT
// x`) at the top level is written `-x`, and a bracket holding exclusions only, `(-x -y)`, is
// written `-(x y)`. Xapian reads `a NOT b -c` as a without (b without c), bringing c back;
// `NOT fatigue brain` as neither word; `fatigue (-sleep)` as sleep. After OR (or another
// operator) `NOT` stays Xapian's.
std::string exclusions_written_as_signs(const std::string& text, bool recurse = true) {
  const std::vector<Chunk> chunks = top_chunks(text);
  // Operators left at the end (`fatigue NOT`, `(fatigue AND NOT)`, as typed so far) join
  // nothing: dropped (the text was no syntax, and its plain words searched the word "not").
  std::size_t meaningful = chunks.size();
  while (meaningful > 0 && chunks[meaningful - 1].sign == 0 && !chunks[meaningful - 1].group &&
         is_operator_word(std::string_view(text).substr(chunks[meaningful - 1].begin,
                                                        chunks[meaningful - 1].end - chunks[meaningful - 1].begin)))
    --meaningful;
  if (meaningful == 0) meaningful = chunks.size();  // operators alone: as typed
  std::string out;
  const auto piece = [&](const Chunk& c) { return std::string_view(text).substr(c.begin, c.end - c.begin); };
  std::string_view previous;  // the chunk before, as typed
  bool changed = false;
  for (std::size_t k = 0; k < chunks.size(); ++k) {
    const Chunk& c = chunks[k];
    std::string_view now = piece(c);
    if (k >= meaningful) {
      changed = true;
      continue;
    }
    // A sign alone (`((fatigue -sleep) -)`, `fatigue -`) signs nothing: no syntax to fail on.
    if (!now.empty() && now.find_first_not_of("+-") == std::string_view::npos) {
      changed = true;
      continue;
    }
    std::string written(now);
    const bool after_operator = previous == "OR" || previous == "XOR" || previous.starts_with("NEAR") ||
                                previous.starts_with("ADJ") || previous == "NOT";
    if (now == "NOT" && k + 1 < chunks.size() && chunks[k + 1].sign == 0 && piece(chunks[k + 1]) != "NOT" &&
        !after_operator) {
      // `AND NOT x`: the AND goes with it.
      if (previous == "AND" && out.ends_with("AND ")) out.resize(out.size() - 4);
      const std::string excluded(piece(chunks[k + 1]));
      // `NOT 2`: the number in brackets, or its minus would make it a number again.
      out += signed_number("-" + excluded) ? "-(" + excluded + ")" : "-" + excluded;
      changed = true;
      out += ' ';
      previous = piece(chunks[k + 1]);
      ++k;
      continue;
    }
    if (c.group && c.sign == 0 && recurse) {
      // The brackets inside it read first, each once (`((-sleep))`, `((-a) (-b))`), a sign alone
      // dropped; then its own NOT looked through (`(NOT fatigue)`).
      std::string nested_text;
      bool nested_changed = false;
      {
        const std::string_view typed = now.substr(1, now.size() - 2);
        std::vector<Chunk> parts = top_chunks(typed);
        // Operators left at its end join nothing (`(fatigue NOT)`), unless there is nothing else.
        std::size_t keep = parts.size();
        while (keep > 0 && parts[keep - 1].sign == 0 && !parts[keep - 1].group &&
               is_operator_word(typed.substr(parts[keep - 1].begin, parts[keep - 1].end - parts[keep - 1].begin)))
          --keep;
        if (keep > 0 && keep < parts.size()) {
          parts.resize(keep);
          nested_changed = true;
        }
        for (const Chunk& i : parts) {
          std::string part(typed.substr(i.begin, i.end - i.begin));
          if (part.find_first_not_of("+-") == std::string::npos) {  // a sign alone signs nothing
            nested_changed = true;
            continue;
          }
          if (i.group && i.sign == 0) {
            std::string again = exclusions_written_as_signs(part);
            nested_changed = nested_changed || again != part;
            part = std::move(again);
          }
          nested_text += (nested_text.empty() ? "" : " ") + part;
        }
        if (!nested_changed) nested_text = typed;
      }
      const std::string inside = exclusions_written_as_signs(nested_text, false);
      const std::vector<Chunk> inner = top_chunks(inside);
      const auto joins = [&](const Chunk& i) {
        const std::string_view w = std::string_view(inside).substr(i.begin, i.end - i.begin);
        return i.sign == 0 && (w == "AND" || w == "OR");
      };
      // Exclusions alone in brackets (whatever joins them) are exclusions from the whole query,
      // each on its own (as `-(a b)` two filters were ANDed: only articles of both were left out).
      if (std::any_of(inner.begin(), inner.end(), [](const Chunk& i) { return i.sign == '-'; }) &&
          std::all_of(inner.begin(), inner.end(), [&](const Chunk& i) { return i.sign == '-' || joins(i); })) {
        written.clear();
        for (const Chunk& i : inner)
          if (!joins(i)) written += inside.substr(i.begin, i.end - i.begin) + " ";
        written.pop_back();
        changed = true;
      } else if (bracket_needs_rewrite(nested_text)) {
        // Words and exclusions in one bracket: the bracket's words without those, as `NOT` in a
        // bracket reads (`brain (fatigue -sleep)`: brain, or fatigue without sleep), and a
        // required filter in it filters the bracket (`(fatigue +year:2025)`). The parser cannot
        // read a sign there, and the query fell back to its plain words: the sleep articles
        // were found, and the word "date". A bracket of filters and excluded filters is left to
        // parse(), which filters the whole query by it.
        const auto text_of = [&](const Chunk& i) { return std::string_view(inside).substr(i.begin, i.end - i.begin); };
        const auto is_operator = [&](const Chunk& i) { return i.sign == 0 && !i.group && is_operator_word(text_of(i)); };
        const auto is_filter_chunk = [&](const Chunk& i) { return !i.group && is_filter_value(text_of(i).substr(i.sign != 0 ? 1 : 0)); };
        const bool filters_only =
            std::all_of(inner.begin(), inner.end(), [&](const Chunk& i) { return is_operator(i) || is_filter_chunk(i); });
        if (!filters_only) {
          const auto required_filter = [&](const Chunk& i) { return i.sign == '+' && is_filter_chunk(i); };
          const std::vector<bool> dropped = taken_with_operators(
              inner, inside, [&](const Chunk& i) { return i.sign == '-' || required_filter(i); });
          std::vector<std::string> excluded, required;
          for (std::size_t k2 = 0; k2 < inner.size(); ++k2) {
            if (!dropped[k2] || is_operator(inner[k2])) continue;
            std::string body(text_of(inner[k2]).substr(1));
            if (required_filter(inner[k2])) required.push_back(std::move(body));
            else if (!excludes_nothing(body)) excluded.push_back(std::move(body));
          }
          std::vector<std::string> kept;
          for (std::size_t k2 = 0; k2 < inner.size(); ++k2) {
            if (dropped[k2]) continue;
            std::string_view part = text_of(inner[k2]);
            if (inner[k2].sign == '+') part.remove_prefix(1);  // a word required in a bracket: a word
            // A sign or a character alone (`(fatigue -sleep -)`) is no word to keep.
            if (!is_operator(inner[k2]) && std::none_of(part.begin(), part.end(), [](char ch) { return is_word_byte(ch); }))
              continue;
            kept.emplace_back(part);
          }
          // No operator at either end (`(fatigue -sleep AND)` left `fatigue AND`).
          while (!kept.empty() && is_operator_word(kept.back())) kept.pop_back();
          while (!kept.empty() && is_operator_word(kept.front())) kept.erase(kept.begin());
          std::string joined;
          for (const auto& part : kept) joined += (joined.empty() ? "" : " ") + part;
          written = joined.empty() ? std::string() : "(" + joined + ")";
          for (const auto& f : required) written = written.empty() ? f : "(" + written + " AND " + f + ")";
          if (!excluded.empty()) {
            if (written.empty()) {
              // Nothing but exclusions left: each left out, as a bracket of exclusions alone.
              for (const auto& e : excluded) written += (written.empty() ? "-" : " -") + e;
            } else {
              written = "(" + written + " AND NOT (";
              for (std::size_t e = 0; e < excluded.size(); ++e) written += (e ? " OR " : "") + excluded[e];
              written += "))";
            }
          }
          changed = true;
        }
      } else if (nested_changed) {
        // A bracket inside it was rewritten (`brain ((fatigue -sleep) OR heat)`); this
        // bracket's own NOT stays Xapian's (`(topic:fatigue NOT year:2025)`).
        written = "(" + nested_text + ")";
        changed = true;
      }
    }
    out += written;
    out += ' ';
    previous = now;
  }
  if (!changed) return text;  // as typed, its spacing too
  if (!out.empty()) out.pop_back();
  return out;
}

// A filter field before a bracket is that field for each value in it: `topic:(fatigue OR
// sleep)` is `(topic:fatigue OR topic:sleep)`, as Elasticsearch's query_string reads it (Xapian's
// parser took `(fatigue` as the topic: nothing was found). Words with no operator between them
// are one name (`topic:(multiple sclerosis)`, `journal:(annals of neurology OR glia)`); a quoted
// name, a sign and a bracket inside keep theirs. A date or year bracket without an operator is
// left to date_filters (`year:(2025)` is the year, `year:(2025 2026)` is refused by name).
std::optional<std::string> field_over_group(std::string_view field, std::string_view inside) {
  const std::vector<Chunk> chunks = top_chunks(inside);
  const auto piece = [&](const Chunk& c) { return inside.substr(c.begin, c.end - c.begin); };
  const bool any_operator = std::any_of(chunks.begin(), chunks.end(), [&](const Chunk& c) {
    return c.sign == 0 && !c.group && is_operator_word(piece(c));
  });
  const bool dated = field == "date:" || field == "year:";
  // `year:(2025 2026)` is left to date_filters, which names it; `year:(2025)` is the year.
  if (chunks.empty() || (dated && !any_operator && chunks.size() > 1)) return std::nullopt;
  std::string out;
  std::vector<std::string_view> name;  // plain words of one value, in order
  const auto flush = [&] {
    if (name.empty()) return;
    out += (out.empty() ? "" : " ") + std::string(field);
    if (name.size() == 1) {
      out += name[0];
    } else {
      out += '"';
      for (std::size_t k = 0; k < name.size(); ++k) {
        if (k > 0) out += ' ';
        out += name[k];
      }
      out += '"';
    }
    name.clear();
  };
  for (const Chunk& c : chunks) {
    const std::string_view w = piece(c);
    const std::string_view body = w.substr(c.sign != 0 ? 1 : 0);
    if (c.sign == 0 && !c.group && body.front() != '"' && !is_operator_word(w)) {
      name.push_back(w);
      continue;
    }
    flush();
    out += out.empty() ? "" : " ";
    if (c.sign == 0 && !c.group && is_operator_word(w)) {
      out += w;
    } else if (c.group) {
      const std::string_view in = body.substr(1, body.size() - 2);
      const std::optional<std::string> nested = field_over_group(field, in);
      out += std::string(w.substr(0, c.sign != 0 ? 1 : 0)) + "(" + (nested ? *nested : std::string(field) + "(" + std::string(in) + ")") + ")";
    } else {
      out += std::string(w.substr(0, c.sign != 0 ? 1 : 0)) + std::string(field) + std::string(body);
    }
  }
  flush();
  return out;
}

std::string fields_over_groups(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  bool quoted = false;
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    const bool at_chunk = !quoted && at_chunk_start(text, i);
    if (at_chunk) {
      const std::size_t f = filter_field_length(std::string_view(text).substr(i));
      const std::size_t end = f > 0 && i + f < text.size() && text[i + f] == '(' ? group_end(text, i + f) : std::string::npos;
      if (end != std::string::npos) {
        const std::string field = ascii_lower(std::string_view(text).substr(i, f));
        const std::string_view inside = std::string_view(text).substr(i + f + 1, end - i - f - 2);
        if (inside.find_first_not_of(" \t\r\n()") == std::string_view::npos) {
          i = end;  // `topic:()`: no value, no filter (it found nothing, beside words too)
          continue;
        }
        if (auto written = field_over_group(field, inside)) {
          out += "(" + *written + ")";
          i = end;
          continue;
        }
      }
    }
    if (c == '"') quoted = !quoted;
    out += c;
    ++i;
  }
  return out;
}

// `text` with each date filter in the form the range processor reads: a day alone
// (`date:2026-03-01`, which Xapian read as words: 0 hits, or ignored beside others) as the
// range of that day, and `year:2024..2025` as the range of those years (it matched nothing).
// Another `date:` value without "..", or with two, is written to `bad` (the first) and left as
// typed; outside quotes only.
std::string date_filters(const std::string& text, std::string& bad, std::map<std::string, std::string>& typed) {
  std::string out;
  out.reserve(text.size());
  // The same filter again (with the same sign) adds nothing: kept once, so that its numbers
  // never count as words repeated past a long question's bound (14 times date:2026-03-01
  // had its digits cut, and the rest was refused).
  std::set<std::string> seen;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == '"') quoted = !quoted;
    const bool at_word = i == 0 || std::string_view(" \t\n(+-").find(text[i - 1]) != std::string_view::npos;
    const bool is_date = text.compare(i, 5, "date:") == 0, is_year = text.compare(i, 5, "year:") == 0;
    if (quoted || !at_word || (!is_date && !is_year)) {
      out += c;
      ++i;
      continue;
    }
    std::size_t from = i + 5, to = std::min(text.find_first_of(" \t\n()\"", from), text.size());
    // A sentence's punctuation after it (`date:2025-03-01,`) is not part of the value.
    while (to > from && std::string_view(",.;:!?").find(text[to - 1]) != std::string_view::npos &&
           text.compare(to - 2, 2, "..") != 0)
      --to;
    std::string value = text.substr(from, to - from);
    bool unwrapped = false;
    // A value in quotes or brackets (`date:"2026-03-01"`, `year:(2025)`) is the value: the
    // parser searched the word "date" for it. Two values in them are named, never words.
    if (from < text.size() && (text[from] == '"' || text[from] == '(')) {
      const std::size_t close = text.find(text[from] == '"' ? '"' : ')', from + 1);
      const std::size_t end = close == std::string::npos ? std::min(text.find_first_of(" \t\n", from), text.size()) : close;
      value = text.substr(from + 1, end - from - 1);
      to = close == std::string::npos ? end : close + 1;
      if (value.empty() || value.find_first_of(" \t\n\"()") != std::string::npos) {
        if (bad.empty()) bad = (is_year ? "year:" : "") + text.substr(from, to - from);
        out += text.substr(i, to - i);
        i = to;
        continue;
      }
      unwrapped = true;
    }
    const auto all_digits = [](std::string_view y) {
      return y.size() == 4 && std::all_of(y.begin(), y.end(), [](char d) { return d >= '0' && d <= '9'; });
    };
    // Two years or two dates joined by a dash (`year:2024-2025`, `year:2024–2025`, an em dash,
    // `date:2025-01-01–2025-06-30`) are the range between them, as people write one: the
    // em dash searched year 2024 and the word 2025 (0 articles), the hyphen was refused.
    // So are two with spaces round the dash (`year:2024 - 2025`, `year:2024 – 2025`: 0 articles,
    // the second year searched as a word or excluded; helper-90).
    if (const std::size_t width = is_year ? 4 : 10;
        !unwrapped && (value.size() == width || (value.size() == width + 1 && value.back() == '-')) &&
        (is_year ? all_digits(value.substr(0, width)) : schema::is_iso_date(value.substr(0, width)))) {
      const bool dash_typed = value.size() == width + 1;  // `year:2024- 2025`
      std::size_t k = to;
      while (k < text.size() && text[k] == ' ') ++k;
      if (k > to && (dash_typed || (k < text.size() && text[k] == '-'))) {
        value.resize(width);
        if (!dash_typed) ++k;
        while (k < text.size() && text[k] == ' ') ++k;
        const std::string second = text.substr(k, width);
        const std::size_t end = k + width;
        if (second.size() == width && (is_year ? all_digits(second) : schema::is_iso_date(second)) &&
            (end == text.size() || std::string_view(" \t\n),.;!?").find(text[end]) != std::string_view::npos)) {
          value += "-" + second;
          to = end;
          unwrapped = true;
        }
      }
    }
    if (const std::size_t half = is_year ? 4 : 10;
        value.find("..") == std::string::npos && value.size() == 2 * half + 1 && value[half] == '-' &&
        (is_year ? all_digits(value.substr(0, half)) && all_digits(value.substr(half + 1))
                 : schema::is_iso_date(value.substr(0, half)) && schema::is_iso_date(value.substr(half + 1)))) {
      value = value.substr(0, half) + ".." + value.substr(half + 1);
      unwrapped = true;
    }
    const std::size_t dots = value.find("..");
    std::string as = unwrapped ? text.substr(i, 5) + value : text.substr(i, to - i);
    if (is_year) {
      // A year (year:2025) is a term; a range of years is a range of dates. Anything else
      // (year:abcd..2025, year:.., year:25) is named, never 0 hits in silence.
      bool good = all_digits(value);
      // With a sign, a year is the range of its days, which the sign applies to the whole query
      // as it does to a range (`fatigue OR sleep -year:2025` left out 2025's only beside sleep).
      if (good && i > 0 && (text[i - 1] == '-' || text[i - 1] == '+')) as = "date:" + value + "-01-01.." + value + "-12-31";
      if (dots != std::string::npos && value.find("..", dots + 2) == std::string::npos) {
        const std::string a = value.substr(0, dots), b = value.substr(dots + 2);
        if ((a.empty() || all_digits(a)) && (b.empty() || all_digits(b)) && !(a.empty() && b.empty())) {
          good = true;
          if (!a.empty() && !b.empty() && a > b) {
            if (bad.empty()) bad = "year:" + value;
          } else {
            as = "date:" + (a.empty() ? "" : a + "-01-01") + ".." + (b.empty() ? "" : b + "-12-31");
          }
        }
      }
      if (!good && !value.empty() && bad.empty()) bad = "year:" + value;
    } else if (value.find("...") != std::string::npos || value == "..") {
      if (bad.empty()) bad = value;  // `date:..` names no date (`-date:..` left out every article)
    } else if (!value.empty() && dots == std::string::npos) {
      if (schema::is_iso_date(value)) as = "date:" + value + ".." + value;
      else if (bad.empty()) bad = value;
    } else if (dots != std::string::npos && value.find("..", dots + 2) != std::string::npos && bad.empty()) {
      bad = value;
    }
    if (!seen.insert((i > 0 ? text.substr(i - 1, 1) : std::string()) + as).second) {
      // Its sign goes with it (a `-` left alone read the rest as its exclusion: 0 hits).
      if (i > 0 && (text[i - 1] == '-' || text[i - 1] == '+') && !out.empty() && out.back() == text[i - 1]) out.pop_back();
      i = to;
      continue;
    }
    if (as != text.substr(i, to - i)) typed.emplace(as, text.substr(i, to - i));
    out += as;
    if (to < text.size() && std::string_view(",.;:!?").find(text[to]) != std::string_view::npos) out += ' ';
    i = to;
  }
  return out;
}

// The quoted phrase opening at text[i]: where it ends (past its closing quote, or the text's
// end), its words as the parser reads them (other spacing or punctuation inside is the same
// phrase), and its field (`title:"…"`) as already copied to `out`, its colon included.
struct QuotedPhrase {
  std::size_t close = 0;
  std::vector<std::string> words;
  std::string field;
};

QuotedPhrase quoted_at(const std::string& text, std::size_t i, const std::string& out) {
  QuotedPhrase q;
  q.close = text.find('"', i + 1);
  q.close = q.close == std::string::npos ? text.size() : q.close + 1;
  for (std::size_t k = i + 1; k < q.close;) {
    if (!is_word_byte(text[k])) {
      ++k;
      continue;
    }
    const std::size_t b = k;
    while (k < q.close && is_word_byte(text[k])) ++k;
    q.words.push_back(text.substr(b, k - b));
  }
  if (i > 0 && text[i - 1] == ':' && !out.empty()) {
    std::size_t f = out.size() - 1;
    while (f > 0 && is_word_byte(out[f - 1])) --f;
    q.field = out.substr(f);
  }
  return q;
}

// Whether `out` ends in the operator `op` (a word of its own), and if `drop`, without it: what
// followed it left out, it would dangle (`a OR`: no syntax, searched as its plain words).
bool ends_in_operator(std::string& out, std::string_view op, bool drop) {
  const std::size_t end = out.find_last_not_of(" \t\r\n");
  if (end == std::string::npos || end + 1 < op.size() || std::string_view(out).substr(end + 1 - op.size(), op.size()) != op ||
      !(end + 1 == op.size() || std::string_view(" \t\r\n(").find(out[end - op.size()]) != std::string_view::npos))
    return false;
  if (drop) out.erase(end + 1 - op.size());
  return true;
}

// `out` without a last operator (`OR`, `AND`, `XOR`, `NOT`) once what followed it is left out.
void drop_dangling_operator(std::string& out) {
  for (std::string_view op : {"OR", "AND", "XOR", "NOT"})
    if (ends_in_operator(out, op, true)) return;
}

// `text` with each signed chunk (`-ms`, `+"optic neuritis"`, `-(a b)`) once (a requirement
// where OR or XOR parts its level: kMaxRepeats times) and each bracketed group at most
// kMaxRepeats times, with the operator that joined a copy left out. An exclusion or a
// requirement holds once, and each copy was matched again: 1,000 times `-ms`, each
// `(ms OR "multiple sclerosis")` once its synonyms are in, took 3 s a search at 3,900 articles,
// and 16 such searches held every worker of a server for a minute. Plain words, wildcards and
// phrases typed again are bounded_repeats()'s (below): they count again, up to a bound.
std::string once_each_constraint(const std::string& text) {
  std::map<std::string, std::size_t> seen;
  std::string out;
  std::size_t copied = 0;
  const std::vector<Chunk> chunks = top_chunks(text);
  // A requirement holds for its OR branch only: `trial +mri OR fatigue +mri` needs each copy
  // (without the second, fatigue's articles without mri came in). An exclusion holds for the
  // whole query or bracket, whatever stands beside it.
  const bool branches = std::any_of(chunks.begin(), chunks.end(), [&](const Chunk& c) {
    const std::string_view w = std::string_view(text).substr(c.begin, c.end - c.begin);
    return w == "OR" || w == "XOR";
  });
  for (const Chunk& c : chunks) {
    if (c.sign == 0 && !c.group) continue;
    std::string whole = text.substr(c.begin, c.end - c.begin);
    out.append(text, copied, c.begin - copied);
    copied = c.end;
    // Past kMaxRepeats copies across OR branches, a requirement too (`+ms OR` 500 times: 1.5 s).
    if (++seen[whole] > (c.sign == '-' || (c.sign == '+' && !branches) ? 1 : kMaxRepeats)) {
      drop_dangling_operator(out);
      continue;
    }
    if (c.group) {  // and within its brackets (their depth is bounded: kMaxBracketDepth)
      const std::size_t open = c.begin + (c.sign != 0 ? 1 : 0);
      whole = text.substr(c.begin, open + 1 - c.begin) + once_each_constraint(text.substr(open + 1, c.end - open - 2)) + ')';
    }
    out += whole;
  }
  out.append(text, copied, std::string::npos);
  return out;
}

// `text` with its quoted phrases (in the order typed) searched as phrases while their words
// together stay within kMaxPhraseWords; each one past that as its words (its quotes taken
// out; a field's phrase, `title:"…"`, as each word in that field), or left out when it is
// excluded (`-"a b"`, `NOT "a b"`, or within a bracket so excluded: its words alone would
// exclude more), with the operators that joined it and a bracket it leaves empty. Only what
// was typed in quotes counts (not the phrases of synonyms).
// A filter's quoted value (`topic:"multiple sclerosis"`) is one term with no positions: kept.
// `relaxed`: how many phrases were searched as words or left out.
std::string phrases_within_budget(const std::string& text, std::size_t& relaxed) {
  std::string out;
  std::size_t used = 0;
  std::vector<bool> brackets;  // for each open bracket: whether it is excluded (`-(`, `NOT (`)
  std::vector<std::size_t> skip_closing;  // brackets whose content was all left out: their `)`
  std::vector<std::size_t> opened_at;     // where each open bracket's `(` stands in `out`
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '(') {
      const bool excluded = (!out.empty() && out.back() == '-') || ends_in_operator(out, "NOT", false);
      brackets.push_back(excluded || (!brackets.empty() && brackets.back()));
      opened_at.push_back(out.size());
    } else if (text[i] == ')' && !brackets.empty()) {
      brackets.pop_back();
      opened_at.pop_back();
      if (!skip_closing.empty() && skip_closing.back() == i) {
        skip_closing.pop_back();
        ++i;
        continue;
      }
    }
    if (text[i] != '"') {
      out += text[i++];
      continue;
    }
    const auto [close, words, field] = quoted_at(text, i, out);
    if (filter_field_length(field) > 0 || words.size() < 2 || used + words.size() <= kMaxPhraseWords) {
      if (filter_field_length(field) == 0 && words.size() >= 2) used += words.size();
      out += text.substr(i, close - i);
      i = close;
      continue;
    }
    ++relaxed;
    const std::size_t sign_at = i - field.size();
    out.erase(out.size() - field.size());
    const bool signed_out = sign_at > 0 && text[sign_at - 1] == '-';
    const bool excluded = signed_out || ends_in_operator(out, "NOT", false) || (!brackets.empty() && brackets.back());
    if (!excluded) {
      for (const auto& w : words) out += ' ' + field + w;
      out += ' ';
      i = close;
      continue;
    }
    if (signed_out && !out.empty() && out.back() == '-') out.pop_back();
    if (ends_in_operator(out, "NOT", true)) ends_in_operator(out, "AND", true);
    else drop_dangling_operator(out);
    i = close;
    // A bracket left with nothing in it (`-("…")`, `AND NOT ("…")`) goes too, with what excluded
    // it: an empty bracket is no syntax (the whole text was then searched as plain words).
    const std::size_t next = text.find_first_not_of(" \t\r\n", i);
    if (!opened_at.empty() && next != std::string::npos && text[next] == ')' &&
        out.find_first_not_of(" \t\r\n", opened_at.back() + 1) == std::string::npos) {
      out.erase(opened_at.back());
      if (!out.empty() && out.back() == '-') out.pop_back();
      if (ends_in_operator(out, "NOT", true)) ends_in_operator(out, "AND", true);
      else drop_dangling_operator(out);
      skip_closing.push_back(next);
      opened_at.back() = out.size();
    }
    out += ' ';
  }
  return out;
}

// `text` with each plain word (not an operator) kept at most kMaxRepeats times; the rest of the
// text as it was, so that its filters, phrases and exclusions hold. A word counts as plain when nothing binds it to syntax: not in quotes, not after a field's
// colon or a +/-, and not before a colon; punctuation around it (`ms, ms.`) does not bind it.
// A wildcard (`a*`, `-a*`) and a quoted phrase are cut whole, each counted as typed.
// `costly_only`: only wildcards and phrases are cut (each repeat expands the same terms or
// checks the same positions again: cost with no meaning).
std::string bounded_repeats(const std::string& text, bool costly_only = false) {
  std::map<std::string, std::size_t> seen;
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '"') {
      // Counted by its words as the parser reads them, with its field (`title:"…"`) or sign.
      const auto [close, phrase_words, field] = quoted_at(text, i, out);
      std::string words;
      for (const auto& w : phrase_words) words += (words.empty() ? "" : " ") + w;
      const std::size_t sign_at = i - field.size();
      const char sign = sign_at > 0 && (text[sign_at - 1] == '+' || text[sign_at - 1] == '-') ? text[sign_at - 1] : ' ';
      // A filter's quoted value (`topic:"multiple sclerosis"`) is one term, no positions: kept.
      if (filter_field_length(field) > 0 || ++seen[std::string(1, sign) + field + "\"" + words] <= kMaxRepeats) {
        out += text.substr(i, close - i);
      } else {
        out.erase(out.size() - field.size());
        if (sign != ' ' && !out.empty() && out.back() == sign) out.pop_back();
        // The operator that joined it goes too.
        drop_dangling_operator(out);
      }
      i = close;
      continue;
    }
    if (!is_word_byte(text[i])) {
      out += text[i++];
      continue;
    }
    const std::size_t begin = i;
    while (i < text.size() && is_word_byte(text[i])) ++i;
    const bool wildcard = i < text.size() && text[i] == '*';
    const std::size_t end = wildcard ? i + 1 : i;
    const std::string word = text.substr(begin, i - begin);
    const char before = begin > 0 ? text[begin - 1] : ' ';
    const char after = end < text.size() ? text[end] : ' ';
    const bool sign = before == '+' || before == '-';
    const bool plain = before != ':' && (wildcard || !sign) && after != ':' && !is_word_byte(after) && !is_query_operator(word);
    const std::string key = wildcard ? std::string(1, sign ? before : ' ') + word + "*" : word;
    const bool cut = plain && (wildcard || !costly_only) && ++seen[key] > kMaxRepeats;
    if (!cut) out += text.substr(begin, end - begin);
    else if (sign) out.pop_back();
    i = end;
  }
  return out;
}

// A long question split into what its cut may choose from and what it must keep: the filters
// (topic:, journal:, year:, id:, date:, each with its value, quoted or not) and the words
// excluded (`-word`, `-"a phrase"`, `-topic:x`) are kept whole, as typed; so is a bracketed
// group holding a filter (`(topic:a OR journal:b)`, `-(topic:a)`). What follows `NOT` (a filter,
// a word, a phrase, a bracket) is kept as an exclusion, two filters joined by `OR` as their OR;
// text in quotes is words. The rest is words.
struct Kept {
  std::string rest;     // the text the words are chosen from
  std::string filters;  // to keep, one space between chunks
};

Kept split_filters(const std::string& text) {
  static constexpr std::string_view kSpace = " \t\r\n";
  const auto field_at = [&](std::size_t at) { return filter_field_length(std::string_view(text).substr(at)) > 0; };
  const auto holds_filter = [&](std::size_t from, std::size_t to) {
    bool q = false;
    for (std::size_t k = from; k < to; ++k) {
      if (text[k] == '"') q = !q;
      else if (!q && k > from && at_chunk_start(text, k) && field_at(k))
        return true;
    }
    return false;
  };
  Kept out;
  std::vector<std::string> kept;
  std::size_t rest_after_kept = std::string::npos;  // out.rest's size when the last chunk was kept
  // The word of out.rest before `at` (spaces skipped), and where it begins.
  const auto word_before = [&](std::size_t at) {
    std::size_t e = out.rest.find_last_not_of(kSpace, at == 0 ? std::string::npos : at - 1);
    if (at == 0 || e == std::string::npos) return std::pair<std::string, std::size_t>{"", at};
    std::size_t b = out.rest.find_last_of(kSpace, e);
    b = b == std::string::npos ? 0 : b + 1;
    return std::pair{out.rest.substr(b, e + 1 - b), b};
  };
  const auto keep = [&](std::string chunk) {
    auto [before, at] = word_before(out.rest.size());
    if (before == "NOT") {
      out.rest.resize(at);
      if (auto [and_word, and_at] = word_before(at); and_word == "AND") out.rest.resize(and_at);
      if (chunk.front() == '+') chunk.erase(0, 1);
      if (chunk.front() != '-') chunk.insert(0, 1, '-');
    } else if (before == "OR" && !kept.empty() && rest_after_kept != std::string::npos &&
               out.rest.find_first_not_of(kSpace, rest_after_kept) == at) {
      out.rest.resize(at);
      kept.back() = "(" + kept.back() + " OR " + chunk + ")";
      rest_after_kept = out.rest.size();
      return;
    }
    kept.push_back(std::move(chunk));
    rest_after_kept = out.rest.size();
  };
  bool quoted = false;
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    const bool at_chunk = !quoted && (i == 0 || std::string_view(" \t\r\n(").find(text[i - 1]) != std::string_view::npos);
    if (at_chunk) {
      const std::size_t body = c == '+' || c == '-' ? i + 1 : i;
      // What `NOT` leaves out (a word, a phrase, a bracket) is an exclusion too: cut as words,
      // `NOT fatigue` searched for fatigue.
      const bool after_not = c != '+' && c != '-' && word_before(out.rest.size()).first == "NOT";
      if (body < text.size() && text[body] == '(') {
        // A group excluded (`-(a OR b)`, `NOT (a b)`) or holding a filter is kept whole.
        if (const std::size_t end = group_end(text, body); end != std::string::npos && (after_not || c == '-' || holds_filter(body, end))) {
          keep(text.substr(i, end - i));
          out.rest += ' ';
          i = end;
          continue;
        }
      }
      // A minus before a bare number is a number (`-2`), as parse() reads it.
      const bool excluded = c == '-' && i + 1 < text.size() && (is_word_byte(text[i + 1]) || text[i + 1] == '"') &&
                            !signed_number(std::string_view(text).substr(i, text.find_first_of(" \t\r\n)", i) - i));
      if (excluded || field_at(body) || (after_not && (is_word_byte(c) || c == '"'))) {
        std::size_t end = i;
        bool q = false;
        for (; end < text.size(); ++end) {
          if (text[end] == '"') q = !q;
          else if (!q && std::string_view(" \t\r\n)").find(text[end]) != std::string_view::npos) break;
        }
        std::string chunk = text.substr(i, end - i);
        // A quote never closed (`topic:"multiple sclerosis`) runs to the end of the text, as
        // the parser reads it, and is closed: it is kept after the words. A long run (the
        // question pasted after it) is its first word only.
        if (q) {
          if (chunk.size() > 64) {
            end = std::min(text.find_first_of(" \t\r\n)", i), text.size());
            chunk = text.substr(i, end - i);
          }
          chunk += '"';
        }
        keep(std::move(chunk));
        out.rest += ' ';
        i = end;
        continue;
      }
    }
    if (c == '"') quoted = !quoted;
    out.rest += c;
    ++i;
  }
  // Once each: a filter or an exclusion typed again adds nothing.
  std::set<std::string> seen;
  for (const auto& chunk : kept)
    if (seen.insert(chunk).second) out.filters += (out.filters.empty() ? "" : " ") + chunk;
  return out;
}
}  // namespace

namespace {

using QP = Xapian::QueryParser;
constexpr unsigned kPartialFlag = QP::FLAG_PARTIAL;
constexpr unsigned kSyntaxFlags = QP::FLAG_PHRASE | QP::FLAG_BOOLEAN | QP::FLAG_LOVEHATE |
                                  QP::FLAG_WILDCARD | QP::FLAG_PURE_NOT;

std::string plain_words(const std::string& text) {
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x80 || std::isalnum(u) != 0) ? c : ' ';
  }
  return out;
}

int current_year() {
  const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  return static_cast<int>(std::chrono::year_month_day(today).year());
}

// The query's distinct terms, not counting the pair terms a phrase is filtered by
// (schema::kPairPrefix): the same count, and so the same words kept, with filters as without.
std::size_t distinct_terms(const Xapian::Query& q) {
  return static_cast<std::size_t>(std::count_if(q.get_unique_terms_begin(), q.get_unique_terms_end(), [](const std::string& t) {
    return !t.starts_with(schema::kPairPrefix);
  }));
}

// The index terms the query's explicit wildcards (`remyelin*`, `title:astro*`) match together,
// each counted up to `limit` + 1 (past its limit it is refused on its own). Xapian counts a
// wildcard as one term of the query, and expands it to up to `limit` terms when it matches: 96
// wildcards of 4 letters were 2,900 terms, 1.3 s a search at 100,000 articles (helper-98).
// Not a star inside a word (`d*y`: Xapian expands none), nor after a filter's field
// (`topic:astro*` is a topic's name). A wildcard past `limit` alone: `over_one` set (its own
// refusal names it).
std::size_t wildcard_terms(const Xapian::Database& db, std::string_view folded, std::uint32_t limit, bool& over_one) {
  over_one = false;
  std::size_t total = 0;
  std::set<std::string> counted;  // a wildcard repeated is one (`a* a* a*`)
  bool in_quotes = false;
  std::size_t i = 0;
  while (i < folded.size()) {
    if (folded[i] == '"') in_quotes = !in_quotes;
    if (in_quotes || folded[i] != '*' || (i + 1 < folded.size() && is_word_byte(folded[i + 1]))) {
      ++i;
      continue;
    }
    // The word before the star, and its field.
    std::size_t begin = i;
    while (begin > 0 && is_word_byte(folded[begin - 1])) --begin;
    std::string prefix;
    if (begin > 1 && folded[begin - 1] == ':') {
      std::size_t field = begin - 1;
      while (field > 0 && std::isalpha(static_cast<unsigned char>(folded[field - 1])) != 0) --field;
      const std::string name = ascii_lower(folded.substr(field, begin - 1 - field));
      bool text_field = false;
      for (const auto& f : schema::kQueryTextFields)
        if (name == f.name) prefix = f.prefix, text_field = true;
      bool filter_field = false;
      for (const auto& f : schema::kFilterFields) filter_field = filter_field || name == f.name;
      if (filter_field && !text_field) {
        ++i;
        continue;
      }
    }
    const std::string word = ascii_lower(std::string(folded.substr(begin, i - begin)));
    ++i;
    if (word.empty()) continue;
    const std::string pattern = prefix + word;
    if (!counted.insert(pattern).second) continue;
    std::size_t n = 0;
    for (auto t = db.allterms_begin(pattern); t != db.allterms_end(pattern) && n <= limit; ++t) ++n;
    over_one = over_one || n > limit;
    total += n;
  }
  return total;
}

// The same checks whoever asks (the HTTP parameters are checked on their way in too): a date
// that is not one is an error, never a filter silently dropped.
Result<void> check_request(const SearchRequest& r) {
  for (const auto& [name, value] : {std::pair{"since", &r.since}, std::pair{"until", &r.until}})
    if (!value->empty() && !schema::is_iso_date(*value))
      return fail(ErrorCode::kBadQuery, std::string("'") + name + "' must be a date YYYY-MM-DD, not '" + *value + "'");
  // ISO dates compare as text. Reversed, Xapian's range is an empty query, which read as no
  // filter at all: every article, dates outside both bounds among them.
  if (!r.since.empty() && !r.until.empty() && r.since > r.until)
    return fail(ErrorCode::kBadQuery, "'since' (" + r.since + ") is after 'until' (" + r.until + "): nothing can match");
  if (r.min_credibility && (*r.min_credibility < 1 || *r.min_credibility > 5))
    return fail(ErrorCode::kBadQuery, "the minimum credibility must be from 1 to 5");
  return {};
}

// `q` with each phrase (OP_PHRASE, OP_NEAR) that `rewrite` gives a query for replaced by it,
// under operators without parameters of their own; anything else is left as parsed.
template <typename Rewrite>
Xapian::Query rewrite_phrases(const Xapian::Query& q, const Rewrite& rewrite, bool& changed) {
  using Q = Xapian::Query;
  const auto type = q.get_type();
  if (type == Q::OP_PHRASE || type == Q::OP_NEAR) {
    std::optional<Q> out = rewrite(q);
    if (!out) return q;
    changed = true;
    return std::move(*out);
  }
  switch (type) {
    case Q::OP_AND: case Q::OP_OR: case Q::OP_AND_NOT: case Q::OP_XOR: case Q::OP_AND_MAYBE: case Q::OP_FILTER:
      break;
    default:
      return q;
  }
  std::vector<Q> subs;
  bool any = false;
  for (std::size_t i = 0; i < q.get_num_subqueries(); ++i) subs.push_back(rewrite_phrases(q.get_subquery(i), rewrite, any));
  if (!any) return q;
  changed = true;
  return Q(type, subs.begin(), subs.end());
}

template <typename Rewrite>
Xapian::Query rewrite_phrases(const Xapian::Query& q, const Rewrite& rewrite) {
  bool changed = false;
  Xapian::Query out = rewrite_phrases(q, rewrite, changed);
  return changed ? out : q;
}

// A phrase in a field (`title:"brain fog"`, `takeaway:"pins and needles"`): the field's prefixed
// copy is indexed without positions (schema::TextField), so Xapian's phrase of prefixed terms
// matched nothing, ever. It becomes: every word in that field, and the phrase in the article's
// positional (unprefixed) text.
std::optional<Xapian::Query> field_phrase(const Xapian::Query& q) {
  using Q = Xapian::Query;
  const std::vector<std::string> terms(q.get_terms_begin(), q.get_terms_end());
  if (terms.size() < 2) return std::nullopt;
  for (const auto& field : schema::kTextFields) {
    const std::string prefix(field.prefix);
    if (prefix.empty()) continue;
    std::vector<std::string> words;
    for (const auto& t : terms)
      if (t.size() > prefix.size() && t.starts_with(prefix) && !std::isupper(static_cast<unsigned char>(t[prefix.size()])))
        words.push_back(t.substr(prefix.size()));
    if (words.size() != terms.size()) continue;
    const auto type = q.get_type();
    return Q(Q::OP_AND, Q(Q::OP_AND, terms.begin(), terms.end()),
             Q(type, words.begin(), words.end(), type == Q::OP_NEAR ? words.size() + 9 : words.size()));
  }
  return std::nullopt;
}

Xapian::Query field_phrases(const Xapian::Query& q) { return rewrite_phrases(q, field_phrase); }

// The window of an OP_PHRASE (Xapian 1.4 has no accessor; the description reads
// "(a@1 PHRASE 2 b@2)"); 0 when it cannot be read.
Xapian::termcount phrase_window(const Xapian::Query& q) {
  const std::string desc = q.get_description();
  const auto at = desc.find(" PHRASE ");
  if (at == std::string::npos) return 0;
  Xapian::termcount window = 0;
  for (std::size_t i = at + 8; i < desc.size() && std::isdigit(static_cast<unsigned char>(desc[i])) != 0; ++i)
    window = window * 10 + static_cast<Xapian::termcount>(desc[i] - '0');
  return window;
}

// An exact phrase with two pair words side by side (schema::kMetaPairWords), filtered by their
// pair term: every article the phrase matches has it, so the matches and weights are the
// phrase's, and Xapian reads positions only in the articles that have the pair. Only exact
// phrases of terms (a window of their number: `a ADJ/3 b` and NEAR allow words between).
std::optional<Xapian::Query> pair_filter(const Xapian::Query& q, const schema::PairWords& words) {
  using Q = Xapian::Query;
  if (q.get_type() != Q::OP_PHRASE) return std::nullopt;
  const std::size_t n = q.get_num_subqueries();
  std::vector<std::string> terms;
  for (std::size_t i = 0; i < n; ++i) {
    const Q sub = q.get_subquery(i);
    if (sub.get_type() != Q::LEAF_TERM) return std::nullopt;
    terms.push_back(*sub.get_terms_begin());
  }
  if (n < 2 || phrase_window(q) != n) return std::nullopt;
  std::vector<Q> pairs;
  for (std::size_t i = 0; i + 1 < n; ++i)
    if (words.contains(terms[i]) && words.contains(terms[i + 1])) pairs.emplace_back(schema::pair_term(terms[i], terms[i + 1]));
  if (pairs.empty()) return std::nullopt;
  return Q(Q::OP_FILTER, q, Q(Q::OP_AND, pairs.begin(), pairs.end()));
}

Xapian::Query pair_filters(const Xapian::Query& q, const schema::PairWords& words) {
  if (words.empty()) return q;
  return rewrite_phrases(q, [&](const Xapian::Query& phrase) { return pair_filter(phrase, words); });
}

// The stop words Xapian's parser kept beside other words. It drops a stop word from a run of
// words that holds another, and keeps a run of stop words alone (`the` still searches); but a
// synonym's bracket cuts the text into runs (`what is (fatigue OR tiredness)`), so "what is" was
// searched beside fatigue: 50 of the 50 sample articles. The terms of the stop words typed are
// taken out of each OR (or AND) that holds anything else, however the parser nested it.
using StopTerms = std::unordered_set<std::string>;

void members_of(const Xapian::Query& q, Xapian::Query::op op, std::vector<Xapian::Query>& out) {
  if (q.get_type() != op) {
    out.push_back(q);
    return;
  }
  for (std::size_t i = 0; i < q.get_num_subqueries(); ++i) members_of(q.get_subquery(i), op, out);
}

// A stop word's term, or an OR or AND of nothing else (`fatigue AND (what is)`).
bool only_stop_words(const Xapian::Query& q, const StopTerms& stops) {
  using Q = Xapian::Query;
  if (q.get_type() == Q::LEAF_TERM) return stops.contains(*q.get_terms_begin());
  if (q.get_type() != Q::OP_OR && q.get_type() != Q::OP_AND) return false;
  for (std::size_t i = 0; i < q.get_num_subqueries(); ++i)
    if (!only_stop_words(q.get_subquery(i), stops)) return false;
  return q.get_num_subqueries() > 0;
}

Xapian::Query without_stop_terms(const Xapian::Query& q, const StopTerms& stops) {
  using Q = Xapian::Query;
  const auto type = q.get_type();
  switch (type) {
    case Q::OP_AND: case Q::OP_OR: case Q::OP_XOR: {
      std::vector<Q> members, kept;
      members_of(q, type, members);
      for (const auto& m : members)
        if (!only_stop_words(m, stops)) kept.push_back(without_stop_terms(m, stops));
      if (kept.empty()) return q;  // stop words alone: searched, as the parser does
      if (kept.size() == 1) return kept.front();
      return Q(type, kept.begin(), kept.end());
    }
    case Q::OP_AND_MAYBE:
      // `what is +fatigue`: the stop words only weighed.
      if (only_stop_words(q.get_subquery(1), stops)) return without_stop_terms(q.get_subquery(0), stops);
      [[fallthrough]];
    case Q::OP_FILTER:
      // `what is year:2025`: the stop words filtered, not the filter's articles (17 of 18).
      if (only_stop_words(q.get_subquery(0), stops))
        return Q(Q::OP_FILTER, match_all(), without_stop_terms(q.get_subquery(1), stops));
      [[fallthrough]];
    case Q::OP_AND_NOT: {
      std::vector<Q> subs;
      for (std::size_t i = 0; i < q.get_num_subqueries(); ++i) subs.push_back(without_stop_terms(q.get_subquery(i), stops));
      return Q(type, subs.begin(), subs.end());
    }
    default:
      return q;
  }
}

Xapian::Query without_kept_stop_words(const Xapian::Query& q, const std::string& text, const Xapian::Stem& stem) {
  StopTerms stops;
  for (const auto& [begin, end] : word_spans(text)) {
    std::string w = ascii_lower(std::string_view(text).substr(begin, end - begin));
    if (!english_stop_words()(w)) continue;
    std::string stemmed(1, 'Z');
    stemmed += stem(w);
    stops.insert(std::move(stemmed));
    stops.insert(std::move(w));
  }
  if (stops.empty()) return q;
  return without_stop_terms(q, stops);
}

}  // namespace

Xapian::Query parse_words(Xapian::QueryParser& parser, const std::string& text, unsigned flags,
                          const std::string& prefix, Xapian::Query::op op) {
  struct RestoreOp {
    Xapian::QueryParser& parser;
    Xapian::Query::op op;
    ~RestoreOp() { parser.set_default_op(op); }
  } restore{parser, parser.get_default_op()};
  parser.set_default_op(op);
  try {
    return parser.parse_query(text, flags, prefix);
  } catch (const Xapian::QueryParserError&) {
    try {
      return parser.parse_query(plain_words(text), flags & QP::FLAG_PARTIAL, prefix);
    } catch (const Xapian::QueryParserError&) {
      return Xapian::Query();
    }
  }
}

Result<void> QueryPlanner::take_bad_date() {
  if (bad_date_.empty()) return {};
  const std::string bad = std::exchange(bad_date_, {});
  // A range named as it was typed (`year:2025-2024`, `year:2025 - 2024`), not as read
  // (`year:2025..2024`; helper-90).
  const auto as_typed = [&](const std::string& as) {
    const auto t = typed_dates_.find(as);
    return t == typed_dates_.end() ? as : t->second;
  };
  if (bad.starts_with(kSignedRangeMark)) {
    // As typed (`-year:2024..2025`, not the range of days it is read as).
    std::string range = bad.substr(1);
    if (const auto t = typed_dates_.find(range.substr(1)); t != typed_dates_.end()) range = range.substr(0, 1) + t->second;
    return fail(ErrorCode::kBadQuery, range + " inside brackets is not read: put it outside them, where it applies to the " +
                                          "whole query, or write NOT " + range.substr(1) + " inside them");
  }
  if (bad.starts_with("year:")) {
    const std::string value = bad.substr(5);
    if (const auto dots = value.find(".."); dots != std::string::npos && value.find("..", dots + 2) == std::string::npos &&
                                           dots > 0 && dots + 2 < value.size() && value.substr(0, dots) > value.substr(dots + 2) &&
                                           value.find_first_not_of("0123456789.") == std::string::npos &&
                                           value.find("...") == std::string::npos)
      return fail(ErrorCode::kBadQuery, as_typed(bad) + " ends (" + value.substr(dots + 2) + ") before it begins (" +
                                            value.substr(0, dots) + "): nothing can match");
    return fail(ErrorCode::kBadQuery, bad + " is not a year YYYY (a year: year:2025; years: year:2024..2025)");
  }
  if (bad == "..")
    return fail(ErrorCode::kBadQuery, "date:.. names no date: a range is date:BEGIN..END, either end may be left open "
                                      "(date:2025-01-01..)");
  if (bad.find("...") != std::string::npos)
    return fail(ErrorCode::kBadQuery,
                "date:" + bad + " is not a date YYYY-MM-DD (a day: date:2025-03-01; a range: date:2025-01-01..2025-12-31)");
  if (const auto dots = bad.find(".."); dots != std::string::npos && bad.find("..", dots + 2) != std::string::npos)
    return fail(ErrorCode::kBadQuery, "date:" + bad + " has more than one '..': a range is date:BEGIN..END (date:2025-01-01..2025-12-31)");
  if (const auto dots = bad.find(".."); dots != std::string::npos)
    return fail(ErrorCode::kBadQuery, as_typed("date:" + bad) + " ends (" + bad.substr(dots + 2) + ") before it begins (" +
                                          bad.substr(0, dots) + "): nothing can match");
  return fail(ErrorCode::kBadQuery,
              "date:" + bad + " is not a date YYYY-MM-DD (a day: date:2025-03-01; a range: date:2025-01-01..2025-12-31)");
}

Error wildcard_refusal(const Xapian::WildcardError& e, std::uint32_t limit) {
  // Xapian says "Wildcard PATTERN* expands to more than N terms"; PATTERN is an index term,
  // its field's prefix (capitals: terms are lower case) in front.
  const std::string& msg = e.get_msg();
  std::string pattern;
  if (const auto from = msg.find("Wildcard "), to = msg.find("* expands"); from == 0 && to != std::string::npos) {
    pattern = msg.substr(9, to - 9);
    const std::size_t word = pattern.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    pattern = word == std::string::npos ? std::string() : pattern.substr(word);
  }
  const std::string named = pattern.empty() ? "a wildcard" : "the wildcard " + pattern + "*";
  return Error{ErrorCode::kBadQuery, named + " matches more than " + std::to_string(limit) +
                                         " words (the limit): make it longer"};
}

QueryPlanner::QueryPlanner(const SearcherOptions& options, std::shared_ptr<const SynonymTable> synonyms,
                           const Xapian::Database& db)
    : options_(options),
      synonyms_(std::move(synonyms)),
      db_(db),
      spelling_(db),
      parser_(analyzer_.make_query_parser(db_, &bad_date_)),
      this_year_(current_year()) {
  // A wildcard that matches too much is an error the editor should see; a prefix being typed
  // just uses its most frequent completions.
  parser_.set_max_expansion(options_.max_wildcard_expansion, Xapian::Query::WILDCARD_LIMIT_ERROR,
                            QP::FLAG_WILDCARD);
  parser_.set_max_expansion(options_.max_wildcard_expansion,
                            Xapian::Query::WILDCARD_LIMIT_MOST_FREQUENT, QP::FLAG_PARTIAL);
  parser_.set_default_op(options_.ranking.default_and ? Xapian::Query::OP_AND : Xapian::Query::OP_OR);
  if (options_.ranking.stop_words) parser_.set_stopper(&english_stop_words());
}

void QueryPlanner::set_database(const Xapian::Database& db, std::optional<Xapian::Database> spelling) {
  db_ = db;
  spelling_ = spelling ? std::move(*spelling) : db;
  parser_.set_database(db_);
}

Result<QueryPlan> QueryPlanner::plan(const SearchRequest& request) {
  if (request.query.size() > options_.max_query_bytes)
    return fail(ErrorCode::kBadQuery, "query is " + std::to_string(request.query.size()) +
                                          " bytes long; the limit is " + std::to_string(options_.max_query_bytes));
  if (auto bad = check_request(request); !bad) return std::unexpected(bad.error());
  bad_date_.clear();  // other stages parse with this parser too (suggestions, related articles)
  typed_dates_.clear();
  QueryPlan plan;
  plan.folded = analyzer_.fold_query(request.query);
  // Folding can lengthen text many times (one character, ﷺ, folds to 18): the bound holds
  // for what is searched too.
  if (plan.folded.size() > 2 * options_.max_query_bytes)
    return fail(ErrorCode::kBadQuery, "query is " + std::to_string(plan.folded.size()) +
                                          " bytes long once folded; the limit is " +
                                          std::to_string(2 * options_.max_query_bytes));
  // A quote never closed (`"ocrevus side effects`, as typed so far or pasted) quotes nothing:
  // the parser made a phrase of the rest, which found nothing.
  // (A field's value, `topic:"Multiple sclerosis`, runs to the end, as the parser reads it.)
  // A text field's is its phrase up to the end, or to the first operator, sign, bracket or
  // field after it (`title:"brain fog`: the parser read the words title, brain and fog anywhere,
  // 29 articles, where `title:"brain fog"` finds 1); as it is typed, its words with the field on
  // the first (`title:"brain fo`: a phrase ending in a prefix matches nothing).
  if (std::count(plan.folded.begin(), plan.folded.end(), '"') % 2 == 1) plan.folded = with_last_quote_closed(plan.folded, request.partial);
  plan.typed = plan.folded;
  // The marks of writing direction part words there as folding parts them: an offer mended
  // onto the query as typed kept "\u202esleap" uncorrected, the mark in it (helper-88).
  plan.raw = bidi_controls_as_spaces(request.query);
  // A bracket that pairs with none (`microglia )`, as typed so far or pasted) groups nothing:
  // taken out. Xapian's parser read the text again without its syntax, and a synonym group's
  // phrase and OR became words (37 articles for `microglia )`, 5 for `microglia`).
  if (!balanced(plan.folded)) plan.folded = paired_brackets_only(plan.folded);
  if (plan.folded.find(':') != std::string::npos) plan.folded = without_empty_fields(plan.folded);
  if (plan.folded.find_first_of("/\\@_:") != std::string::npos) {
    // As-you-type, a word being typed after a joiner is no code for its length (`brain/f`), when
    // it is read as a prefix: complete (`cells/B`: the word b), the text is the submitted one
    // (19 articles live, 3 on Enter; helper-92).
    std::string apart = joined_words_apart(plan.folded);
    const std::size_t last_chunk = plan.folded.find_last_of(" \t\r\n");
    const bool joined_last =
        plan.folded.find_first_of("/\\@_:", last_chunk == std::string::npos ? 0 : last_chunk) != std::string::npos;
    if (request.partial && joined_last)
      if (std::string typing = joined_words_apart(plan.folded, true); typing != apart && last_word_incomplete(typing))
        apart = std::move(typing);
    plan.folded = std::move(apart);
  }
  plan.blank = plan.folded.find_first_not_of(" \t\r\n") == std::string::npos;
  // Typed, but nothing searchable in it (an emoji, a lone bracket or quote, `?!`): no article
  // matches, as for a word none has; it was every article, "50 articles for “😀”".
  const bool nothing_searchable =
      plan.blank && std::any_of(request.query.begin(), request.query.end(), [](char c) {
        const auto b = static_cast<unsigned char>(c);
        return b > 0x20 && b != 0x7f;
      });
  if (const std::size_t depth = bracket_depth(plan.folded); depth > kMaxBracketDepth)
    return fail(ErrorCode::kBadQuery, "brackets are nested " + std::to_string(depth) + " deep; the limit is " +
                                          std::to_string(kMaxBracketDepth));
  if (plan.folded.find("--") != std::string::npos || plan.folded.find("-+") != std::string::npos ||
      plan.folded.find("+-") != std::string::npos || plan.folded.find("++") != std::string::npos)
    plan.folded = single_signs(plan.folded);
  if (plan.folded.find(":(") != std::string::npos) plan.folded = fields_over_groups(plan.folded);
  // Before and after exclusions written as words become signs (`(-ms -ms fatigue)` is
  // `((fatigue) AND NOT (ms OR ms))` after, `NOT ms NOT ms` is `-ms -ms`).
  if (plan.folded.find_first_of("+-(") != std::string::npos) plan.folded = once_each_constraint(plan.folded);
  if (plan.folded.find("NOT") != std::string::npos || plan.folded.find("(") != std::string::npos)
    plan.folded = exclusions_written_as_signs(plan.folded);
  if (plan.folded.find_first_of("+-(") != std::string::npos) plan.folded = once_each_constraint(plan.folded);
  // As the text is read: `brain NOT remy` is `brain -remy`, whose last word is excluded, not
  // being typed (read before, `brain` became the prefix and remy was not left out).
  plan.partial = request.partial && !plan.blank && last_word_incomplete(plan.folded);
  const std::string before_dates = plan.folded;
  if (plan.folded.find("date:") != std::string::npos || plan.folded.find("year:") != std::string::npos)
    plan.folded = date_filters(plan.folded, bad_date_, typed_dates_);
  try {
    // A long question keeps its most informative words; then, should its expansion still be
    // over the bound on cost, fewer of them (each round a quarter fewer).
    std::size_t budget = options_.max_query_words;
    // Past the budget: cut to the most informative words (as plain words; phrases and operators
    // become words), its filters and exclusions kept whole; when none is dropped, the text
    // stays as typed unless a word repeats more than informative_words keeps, a cost with no
    // meaning.
    // A wildcard typed again expands the same terms again (1,300 times `a*`: 80 s of matching):
    // each is kept kMaxRepeats times, whatever the length.
    if (!plan.blank && plan.folded.find_first_of("*\"") != std::string::npos) plan.folded = bounded_repeats(plan.folded, true);
    if (!plan.blank && plan.folded.find('"') != std::string::npos) {
      plan.folded = phrases_within_budget(plan.folded, plan.phrases_relaxed);
      // Their words as plain words: each kept at most kMaxRepeats times, as for a long question.
      if (plan.phrases_relaxed > 0) plan.folded = bounded_repeats(plan.folded);
    }
    if (!plan.blank && budget > 0) {
      const std::vector<std::string> words = plain_words_of(split_filters(plan.folded).rest);
      if (words.size() > budget) {
        std::size_t distinct = 0;
        const std::string cut = informative_words(plan.folded, budget, distinct, plan.partial);
        std::map<std::string, std::size_t> repeats;
        std::size_t most = 0;
        for (const auto& w : words) most = std::max(most, ++repeats[w]);
        if (distinct > 0) plan.folded = cut, plan.words_dropped = distinct;
        else if (most > kMaxRepeats) plan.folded = bounded_repeats(plan.folded);
      }
    }
    plan.words = nothing_searchable ? Xapian::Query(Xapian::Query::MatchNothing)
                 : plan.blank      ? match_all()
                                   : parse(plan.folded, plan.partial);
    while (!plan.blank && distinct_terms(plan.words) > options_.max_query_terms) {
      const std::size_t words = plain_words_of(split_filters(plan.folded).rest).size();
      budget = std::min(budget == 0 ? words : budget, words) * 3 / 4;
      std::size_t more = 0;
      if (budget == 0) break;
      plan.folded = informative_words(plan.folded, budget, more, plan.partial);
      plan.words_dropped += more;
      plan.words = parse(plan.folded, plan.partial);
    }
    // The wildcards count as what they expand to: past the query's budget of terms, refused
    // (which words to drop is the writer's choice), as Elasticsearch refuses too many clauses.
    if (!plan.blank && plan.folded.find('*') != std::string::npos) {
      bool over_one = false;
      const std::size_t expanded = wildcard_terms(db_, plan.folded, options_.max_wildcard_expansion, over_one);
      if (!over_one && expanded + distinct_terms(plan.words) > options_.max_query_terms)
        return fail(ErrorCode::kBadQuery, fmt::format("the query's wildcards match {} words together, and a query may "
                                                      "search {} terms in all: use fewer wildcards, or longer ones",
                                                      expanded, options_.max_query_terms));
    }
  } catch (const Xapian::WildcardError& e) {
    return std::unexpected(wildcard_refusal(e, options_.max_wildcard_expansion));
  }
  // While typing (`date:2025-0`) the range matches nothing until the date is whole; a bad date
  // before the word being typed is finished, and refused as when submitted (it was dropped:
  // every date's articles suggested).
  // The word being typed is the bad value itself, after its field or its range's dots
  // (`date:2025-0`, `date:2025-01-01..2025-1`), not a word that merely ends like it.
  // A range written with a dash as typed (`year:2026-2024`, `year:2026 - 2024`), not as read.
  std::string bad_value = bad_date_;
  for (const std::string field : {"", "date:"})
    if (const auto t = typed_dates_.find(field + bad_date_); t != typed_dates_.end()) bad_value = t->second;
  if (bad_value.starts_with("year:") || bad_value.starts_with("date:")) bad_value.erase(0, 5);
  const bool being_typed = request.partial && !bad_value.empty() && before_dates.ends_with(bad_value) &&
                           before_dates.size() > bad_value.size() &&
                           std::string_view(":.\"(").find(before_dates[before_dates.size() - bad_value.size() - 1]) !=
                               std::string_view::npos;
  if (auto bad = take_bad_date(); !bad) {
    if (!being_typed) return std::unexpected(bad.error());
    // Nothing matches until it is whole (beside other words, the range was dropped: every
    // date's articles).
    plan.words = Xapian::Query::MatchNothing;
  }
  if (const std::size_t terms = distinct_terms(plan.words); terms > options_.max_query_terms)
    return fail(ErrorCode::kBadQuery, "query has " + std::to_string(terms) + " distinct terms; the limit is " +
                                          std::to_string(options_.max_query_terms));
  return finish(request, std::move(plan));
}

Result<QueryPlan> QueryPlanner::plan_words(const SearchRequest& request, const std::string& folded) {
  QueryPlan plan;
  plan.folded = folded;
  plan.typed = folded;
  // A correction names its date filters as typed (spelling_correction): read as plan() reads them.
  if (folded.find("date:") != std::string::npos || folded.find("year:") != std::string::npos) {
    std::string bad;
    std::map<std::string, std::string> typed;
    plan.folded = date_filters(folded, bad, typed);
  }
  try {
    plan.words = parse(plan.folded, false);
  } catch (const Xapian::WildcardError& e) {
    return std::unexpected(wildcard_refusal(e, options_.max_wildcard_expansion));
  }
  return finish(request, std::move(plan));
}

namespace {

// Whether `q` weighs what it matches: a word, a phrase, a wildcard, a posting source. Filters
// (`topic:fatigue`, which Xapian's parser gives a weight of 0 when nothing else is typed),
// date ranges, every article and exclusions do not: such a query has no relevance order, and
// its "best hits" would be the first articles indexed.
bool carries_weight(const Xapian::Query& q) {
  switch (q.get_type()) {
    case Xapian::Query::LEAF_MATCH_ALL:
    case Xapian::Query::LEAF_MATCH_NOTHING:
    case Xapian::Query::OP_VALUE_RANGE:
    case Xapian::Query::OP_VALUE_GE:
    case Xapian::Query::OP_VALUE_LE:
      return false;
    case Xapian::Query::LEAF_TERM: {
      // A filter's term beside an operator Xapian's parser reads no filter in (`topic:fatigue
      // XOR year:2025`) is weighed as a word, by how rare the topic or year is: no relevance.
      const std::string term = *q.get_terms_begin();
      return std::none_of(std::begin(schema::kFilterFields), std::end(schema::kFilterFields),
                          [&](const schema::FilterField& f) { return term.starts_with(f.prefix); });
    }
    case Xapian::Query::LEAF_POSTING_SOURCE:
    case Xapian::Query::OP_WILDCARD:
      return true;
    case Xapian::Query::OP_SCALE_WEIGHT:
      // Xapian 1.4 tells no scale factor but in the description ("Query(0 * XTfatigue)").
      if (q.get_description().starts_with("Query(0 * ")) return false;
      return q.get_num_subqueries() > 0 && carries_weight(q.get_subquery(0));
    case Xapian::Query::OP_AND_NOT:
    case Xapian::Query::OP_FILTER:
      return q.get_num_subqueries() > 0 && carries_weight(q.get_subquery(0));
    default:
      for (std::size_t k = 0; k < q.get_num_subqueries(); ++k)
        if (carries_weight(q.get_subquery(k))) return true;
      return false;
  }
}

}  // namespace

Result<QueryPlan> QueryPlanner::finish(const SearchRequest& request, QueryPlan plan) {
  plan.query = plan.words;
  if (Xapian::Query f = filters(request); !f.empty()) plan.query = Xapian::Query(Xapian::Query::OP_FILTER, plan.query, f);
  // Nothing typed that weighs (blank, or filters and exclusions alone: `topic:fatigue`,
  // `-fatigue`): every article it finds, newest first, as for a blank query.
  plan.weightless = !carries_weight(plan.words);
  plan.by_date = request.sort == SortOrder::kDate || (plan.weightless && request.sort != SortOrder::kCredibility);
  plan.by_credibility = request.sort == SortOrder::kCredibility;
  // Feedback not as-you-type: the next keystroke asks again, and a prefix's completions are no topic.
  const RankingOptions& r = options_.ranking;
  plan.feedback = !plan.by_date && !plan.by_credibility && !plan.partial && r.feedback_docs > 0 && r.feedback_terms > 0 && r.feedback_weight > 0;
  if (!plan.by_date && !plan.by_credibility) plan.query = with_boosts(plan.query, r, this_year_);
  return plan;
}

bool QueryPlanner::last_word_incomplete(const std::string& folded) {
  if (folded.empty() || folded.back() == ' ') return false;
  // Syntax in the last chunk (a field, a phrase, a bracket, an explicit wildcard) is typed on
  // purpose: the query is read as it would be submitted.
  const std::size_t space = folded.find_last_of(' ');
  std::string_view last = std::string_view(folded).substr(space == std::string::npos ? 0 : space + 1);
  // A text field's word is typed as any word (`title:fo`, which found nothing as typed).
  if (const std::size_t colon = last.find(':'); colon != std::string_view::npos && is_text_field_name(last.substr(0, colon)))
    last.remove_prefix(colon + 1);
  if (last.empty() || last.find_first_of(":\"()*+-") != std::string_view::npos) return false;
  // The last word with its apostrophe (`what's`: a stop word, not the prefix `s`).
  const auto spans = word_spans(folded);
  if (spans.empty()) return false;
  // AND, OR as typed
  std::string word = ascii_lower(std::string_view(folded).substr(spans.back().first, spans.back().second - spans.back().first));
  for (std::size_t at = word.find("\u2019"); at != std::string::npos; at = word.find("\u2019", at)) word.replace(at, 3, "'");
  // An operator or a stop word (never indexed alone) is a whole word; so is a word an article
  // has, as typed (the index holds every word unstemmed too).
  if (std::any_of(std::begin(kQueryOperators), std::end(kQueryOperators),
                  [&](std::string_view op) { return word == ascii_lower(op); }))
    return false;
  if (english_stop_words()(word)) return false;
  // A word a synonym group knows (`tired`, which no article uses) is searched as its group, and
  // so is the last word of an expression the words before it begin (`nerve coatings`: read as a
  // prefix, its group was lost and 18 articles found, 8 on Enter).
  if (synonyms_->expand(word, false) != word || synonyms_->ends_with_expression(folded)) return false;
  return !db_.term_exists(word);
}

Xapian::Query QueryPlanner::parse(const std::string& folded, bool partial, bool exclusion) {
  // A date range with a sign (a day is a range by now: date_filters): Xapian's parser reads no
  // sign before a range, so `-date:…` was ignored (every date's articles) and `+date:…` lost.
  // Outside brackets, a signed range applies to the whole query, beside AND or OR too: `+`
  // keeps only its dates, `-` leaves them out (so that the two add up to the query's total).
  // Inside brackets it is refused, naming the way to write it (`NOT date:…`, which Xapian reads
  // there): taken out, it would leave out what the query does not say.
  if (folded.find("date:") != std::string::npos) {
    std::string rest;
    std::vector<std::string> excluded, required;
    bool quoted = false, signed_range = false;
    int depth = 0;
    std::string nested;  // the first signed range inside brackets
    for (std::size_t i = 0; i < folded.size();) {
      const char c = folded[i];
      if (c == '"') quoted = !quoted;
      // A bracket that never closes is a character, not a group (a stray `(` never errors).
      if (!quoted && c == '(' && group_end(folded, i) != std::string::npos) ++depth;
      if (!quoted && c == ')' && depth > 0) --depth;
      const bool at_chunk = i == 0 || std::string_view(" \t\r\n(").find(folded[i - 1]) != std::string_view::npos;
      if (quoted || !at_chunk || (c != '-' && c != '+') || folded.compare(i + 1, 5, "date:") != 0) {
        rest += c;
        ++i;
        continue;
      }
      const std::size_t end = std::min(folded.find_first_of(" \t\r\n)", i), folded.size());
      if (depth > 0 && c == '+') {  // in its brackets, the filter it is unsigned
        rest += folded.substr(i + 1, end - i - 1);
        i = end;
        continue;
      }
      if (depth > 0 && nested.empty()) nested = folded.substr(i, end - i);
      (c == '-' ? excluded : required).push_back(folded.substr(i + 1, end - i - 1));
      signed_range = true;
      i = end;
    }
    if (!nested.empty()) {
      if (bad_date_.empty()) bad_date_ = std::string(1, kSignedRangeMark) + nested;
      return Xapian::Query::MatchNothing;
    }
    if (signed_range) {
      const auto ranges = [&](const std::vector<std::string>& list, Xapian::Query::op op) {
        std::vector<Xapian::Query> out;
        for (const auto& r : list) {
          try {
            out.push_back(parser_.parse_query(r, 0));  // a bad date: MatchNothing, and refused by name
          } catch (const Xapian::QueryParserError&) {
            if (bad_date_.empty()) bad_date_ = r.substr(5);
          }
        }
        return Xapian::Query(op, out.begin(), out.end());
      };
      // Nothing else, or only the operators that joined the ranges (`-year:2025 OR -year:2026`).
      const std::vector<Chunk> left = top_chunks(rest);
      const bool nothing_else = rest.find_first_not_of(" \t\r\n()") == std::string::npos ||
                                std::all_of(left.begin(), left.end(), [&](const Chunk& c) {
                                  const std::string_view w = std::string_view(rest).substr(c.begin, c.end - c.begin);
                                  return is_operator_word(w);
                                });
      Xapian::Query kept = nothing_else ? match_all() : parse(rest, partial, exclusion);
      if (!required.empty()) kept = Xapian::Query(Xapian::Query::OP_FILTER, kept, ranges(required, Xapian::Query::OP_AND));
      if (!excluded.empty()) kept = Xapian::Query(Xapian::Query::OP_AND_NOT, kept, ranges(excluded, Xapian::Query::OP_OR));
      return kept;
    }
  }
  // Filters joined by OR (`topic:fatigue OR topic:sleep`, alone or in brackets) are either
  // filter, as the API's repeated parameters are: Xapian's parser ANDed them (3 articles, those
  // of both topics). A bracket of filters beside words filters the whole query, as filters
  // typed without brackets do: Xapian read it as a subquery of weight 0 ORed with the words
  // (`brain (year:2025)`: 35 articles, against 12 for `brain year:2025`), and a long
  // question's `topic:a OR topic:b`, kept as such a bracket, filtered nothing.
  {
    // The query of filters and AND / OR between them (AND first, as the parser reads them), or
    // nothing when the text holds anything else or no OR.
    // A filter (`topic:a`), or a bracket of them (`((topic:a))`, `(topic:a NOT topic:b)`), as
    // the text to parse or the bracket's inside; NOT and a minus exclude (from the bracket).
    std::function<std::optional<Xapian::Query>(std::string_view, bool)> filters_joined;
    filters_joined = [&](std::string_view text, bool need_or) -> std::optional<Xapian::Query> {
      struct Item {
        std::string_view text;
        bool group;
      };
      std::vector<std::vector<Item>> alternatives(1);
      std::vector<Item> excluded;  // `(topic:fatigue -topic:sleep)`: without those
      bool negated = false;        // after NOT
      for (const Chunk& c : top_chunks(text)) {
        const std::string_view word = text.substr(c.begin, c.end - c.begin);
        const std::string_view body = word.substr(c.sign != 0 ? 1 : 0);
        if (c.sign == 0 && !c.group && word == "OR") {
          if (negated) return std::nullopt;
          alternatives.emplace_back();
          continue;
        }
        if (c.sign == 0 && !c.group && word == "AND") continue;
        if (c.sign == 0 && !c.group && word == "NOT") {
          if (negated || need_or) return std::nullopt;
          negated = true;
          continue;
        }
        Item item{body, c.group};
        if (c.group) item.text = body.substr(1, body.size() - 2);
        else if (!is_filter_value(body)) return std::nullopt;
        const bool exclude = negated || c.sign == '-';
        if (exclude && need_or) return std::nullopt;
        (exclude ? excluded : alternatives.back()).push_back(item);
        negated = false;
      }
      if (negated) return std::nullopt;
      if (!excluded.empty() && alternatives.size() == 1 && alternatives.front().empty()) return std::nullopt;
      // An OR that joined an exclusion (`topic:a OR -topic:b`) leaves an empty side: no filter of these.
      if (!excluded.empty()) std::erase_if(alternatives, [](const auto& a) { return a.empty(); });
      // Checked before any is parsed: a filter alone is parsed by the parser, not here again.
      if ((need_or && alternatives.size() < 2) || std::any_of(alternatives.begin(), alternatives.end(), [](const auto& a) { return a.empty(); }))
        return std::nullopt;
      const auto query_of = [&](const Item& item) -> std::optional<Xapian::Query> {
        if (!item.group) return parse(std::string(item.text), false, exclusion);
        return filters_joined(item.text, false);
      };
      std::vector<Xapian::Query> either;
      for (const auto& a : alternatives) {
        std::vector<Xapian::Query> all;
        for (const auto& item : a) {
          auto q = query_of(item);
          if (!q) return std::nullopt;
          all.push_back(std::move(*q));
        }
        either.emplace_back(Xapian::Query::OP_AND, all.begin(), all.end());
      }
      Xapian::Query joined(Xapian::Query::OP_OR, either.begin(), either.end());
      if (excluded.empty()) return joined;
      std::vector<Xapian::Query> out;
      for (const auto& item : excluded) {
        auto q = query_of(item);
        if (!q) return std::nullopt;
        out.push_back(std::move(*q));
      }
      return Xapian::Query(Xapian::Query::OP_AND_NOT, joined, Xapian::Query(Xapian::Query::OP_OR, out.begin(), out.end()));
    };
    if (auto alone = filters_joined(folded, true)) return *alone;
    std::string rest;
    std::vector<Xapian::Query> groups;
    const std::vector<Chunk> chunks = top_chunks(folded);
    const auto is_or = [&](std::size_t k) {
      const std::string_view w = std::string_view(folded).substr(chunks[k].begin, chunks[k].end - chunks[k].begin);
      return chunks[k].sign == 0 && !chunks[k].group && (w == "OR" || w == "XOR");
    };
    for (std::size_t k = 0; k < chunks.size(); ++k) {
      const Chunk& c = chunks[k];
      const std::string_view piece = std::string_view(folded).substr(c.begin, c.end - c.begin);
      std::optional<Xapian::Query> group;
      // Beside OR it is one side of the OR (`brain OR (topic:diet)`: either), as without brackets.
      const bool beside_or = (k > 0 && is_or(k - 1)) || (k + 1 < chunks.size() && is_or(k + 1));
      // `+(…)` requires what it holds: of filters, the same filter.
      if (c.group && c.sign != '-' && !beside_or)
        group = filters_joined(piece.substr(c.sign != 0 ? 2 : 1, piece.size() - (c.sign != 0 ? 3 : 2)), false);
      if (group) groups.push_back(std::move(*group));
      else rest += (rest.empty() ? "" : " ") + std::string(piece);
    }
    if (!groups.empty()) {
      const Xapian::Query filter(Xapian::Query::OP_AND, groups.begin(), groups.end());
      // Nothing else but stray brackets (`(topic:a OR topic:b))`: 0 articles).
      if (rest.find_first_not_of(" \t\r\n()") == std::string::npos) return filter;
      return Xapian::Query(Xapian::Query::OP_FILTER, parse(rest, partial, exclusion), filter);
    }
  }
  // Exclusions at the top level (`-fatigue`, `-topic:fatigue`, `-"white matter"`, `-(a OR b)`)
  // leave out from the whole query, each on its own, whatever stands beside them; alone, every
  // article but those. Xapian's parser read a lone `-word` as the word (`-fatigue` found the
  // fatigue articles), `-fatigue AND brain` as every article without fatigue, an exclusion
  // beside OR as one side's only, and, where the text was no valid syntax (`fatigue -sleep )`),
  // the excluded words as words to find. An operator that joined an exclusion goes with it.
  {
    const std::vector<Chunk> chunks = top_chunks(folded);
    const auto piece = [&](const Chunk& c) { return std::string_view(folded).substr(c.begin, c.end - c.begin); };
    const std::vector<bool> dropped = taken_with_operators(chunks, folded, [](const Chunk& c) { return c.sign == '-'; });
    std::vector<Xapian::Query> excluded;
    for (std::size_t k = 0; k < chunks.size(); ++k)
      if (chunks[k].sign == '-' && !excludes_nothing(piece(chunks[k]).substr(1))) {
        // A hyphenated word left out is its phrase, as Xapian reads `-heat-sensitivity`: its
        // words apart left out every article with either (7 of 14 fatigue articles where the
        // phrase's 1; helper-93's `-疲労bladder`).
        excluded.push_back(parse(std::string(piece(chunks[k]).substr(1)), false, true));
      }
    if (std::any_of(dropped.begin(), dropped.end(), [](bool d) { return d; })) {
      std::string rest;
      for (std::size_t k = 0; k < chunks.size(); ++k)
        if (!dropped[k]) rest += (rest.empty() ? "" : " ") + std::string(piece(chunks[k]));
      // Stop words alone beside the exclusions (`what -topic:fatigue`, pasted prose) search
      // nothing: every article but those, as the exclusions alone.
      const auto spans = word_spans(rest);
      const bool stop_words_only =
          !rest.empty() && rest.find_first_of("\":*") == std::string::npos &&
          std::all_of(spans.begin(), spans.end(), [&](const auto& span) {
            return excludes_nothing(std::string_view(rest).substr(span.first, span.second - span.first));
          });
      Xapian::Query kept = rest.empty() || stop_words_only ? match_all() : parse(rest, partial, exclusion);
      if (kept.empty()) kept = match_all();  // nothing to search beside them (`-sleep )`)
      if (excluded.empty()) return kept;
      return Xapian::Query(Xapian::Query::OP_AND_NOT, kept, Xapian::Query(Xapian::Query::OP_OR, excluded.begin(), excluded.end()));
    }
  }
  const unsigned partial_flag = partial ? kPartialFlag : 0u;
  // Hyphenated words as words (RankingOptions::hyphens_as_words); under AND, the phrase Xapian
  // makes of them is the stricter reading, and a compound's joined form is not required.
  const bool split = options_.ranking.hyphens_as_words && !options_.ranking.default_and && !exclusion;
  std::string text = synonyms_->expand(split ? hyphenated_as_words(folded) : folded, partial);
  unsigned flags = kSyntaxFlags | partial_flag;
  Xapian::Query query;
  try {
    query = parser_.parse_query(text, flags);
  } catch (const Xapian::QueryParserError&) {
    // Not valid syntax (a stray quote, bracket or operator): search its plain words, with
    // operators lower-cased into words; the synonym groups added are always well formed. Its
    // filters and exclusions kept as they are, when they can be read alone (`topic:fatigue
    // AND`, as typed so far, `journal:brain OR`, `topic:"symptom management" ...`: the filter
    // was searched as words, 14 articles instead of 3).
    const Kept kept = split_filters(folded);
    text = synonyms_->expand(fold_text(plain_words(kept.rest)), partial);
    if (!kept.filters.empty()) {
      try {
        query = parser_.parse_query(text + " " + kept.filters, kSyntaxFlags | partial_flag);
      } catch (const Xapian::QueryParserError&) {
        query = Xapian::Query();
      }
    }
    if (!query.empty()) {
      text += " " + kept.filters;
    } else try {
      text = synonyms_->expand(fold_text(plain_words(folded)), partial);
      flags = QP::FLAG_BOOLEAN | QP::FLAG_PHRASE | partial_flag;
      query = parser_.parse_query(text, flags);
    } catch (const Xapian::QueryParserError&) {
      text = fold_text(plain_words(folded));
      flags = partial_flag;
      query = parser_.parse_query(text, flags);
    }
  }
  if (options_.ranking.stop_words) query = without_kept_stop_words(query, text, analyzer_.stemmer());
  query = pair_filters(field_phrases(query), pair_words_);
  if (!partial) query = with_exact_forms(query, plain_terms(text), options_.ranking);
  if (options_.ranking.all_words_boost <= 0 || options_.ranking.default_and) return query;
  // All words matter: the same query with AND between the words adds its weight to the
  // articles that have them all.
  parser_.set_default_op(Xapian::Query::OP_AND);
  Xapian::Query all_words = pair_filters(field_phrases(parser_.parse_query(text, flags)), pair_words_);
  parser_.set_default_op(Xapian::Query::OP_OR);
  if (all_words.get_num_subqueries() <= 1 && query.get_num_subqueries() <= 1) return query;
  return Xapian::Query(Xapian::Query::OP_AND_MAYBE, query,
                       Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, all_words, options_.ranking.all_words_boost));
}

std::vector<std::string> QueryPlanner::plain_words_of(const std::string& text) {
  parser_.set_stemming_strategy(Xapian::QueryParser::STEM_NONE);
  Xapian::Query words;
  try {
    words = parser_.parse_query(plain_words(text), 0);
  } catch (const Xapian::QueryParserError&) {
  }
  parser_.set_stemming_strategy(analyzer_.query_stemming());
  return {words.get_terms_begin(), words.get_terms_end()};
}

std::vector<std::string> QueryPlanner::plain_terms(const std::string& text) {
  // The query's words as unstemmed index terms, in order and with repeats (stop words dropped),
  // without syntax.
  // Filters are no words (`sleep topic:fatigue year:2025` gave the forms "topic", "fatigue",
  // "year" and "2025" their bonus), nor is a text field's name (`title:`).
  if (options_.ranking.exact_weight <= 0) return {};
  // The filters cut out where they stand (split_filters keeps a whole bracket that holds one,
  // and `(sleep year:2025)` lost the bonus of "sleep" that `sleep year:2025` had).
  std::string rest = text;
  for (std::size_t at = 0; at < rest.size(); ++at) {
    if (!at_chunk_start(rest, at)) continue;
    const std::size_t field = filter_field_length(std::string_view(rest).substr(at));
    if (field == 0) continue;
    const std::size_t end = field_value_end(rest, at + field);
    rest.replace(at, end - at, end - at, ' ');
  }
  for (const auto& field : schema::kQueryTextFields) {
    const std::string name = std::string(field.name) + ":";
    for (std::size_t at = rest.find(name); at != std::string::npos; at = rest.find(name, at + 1))
      if (at == 0 || !is_word_byte(rest[at - 1])) rest.replace(at, name.size(), name.size(), ' ');
  }
  // Nor are the operators (`topic:fatigue XOR year:2025` favoured articles writing "xor", and
  // `sleep NEAR fatigue` those writing "near").
  for (std::size_t at = 0; at < rest.size();) {
    const std::size_t begin = rest.find_first_not_of(" \t\r\n()", at);
    if (begin == std::string::npos) break;
    const std::size_t end = std::min(rest.find_first_of(" \t\r\n()", begin), rest.size());
    if (is_query_operator(std::string_view(rest).substr(begin, end - begin))) rest.replace(begin, end - begin, end - begin, ' ');
    at = end;
  }
  // Stop words are no forms to favour, also where the parser keeps them because nothing else
  // is left (`what is year:2025`: "what" and "is" weighed the filter's articles).
  std::vector<std::string> words = plain_words_of(rest);
  if (options_.ranking.stop_words) std::erase_if(words, [](const std::string& w) { return english_stop_words()(w); });
  return words;
}

std::string QueryPlanner::informative_words(const std::string& folded, std::size_t budget, std::size_t& dropped, bool typing) {
  // A question's filters and exclusions are what the visitor asked for, not words to choose
  // among: kept whole, before the words chosen (a 97-word question lost its topic: filter).
  const Kept kept = split_filters(folded);
  const std::vector<std::string> words = plain_words_of(kept.rest);
  // Each distinct word once, with the number of articles its stem is in: the fewer, the more
  // it tells (a word no article has tells nothing and goes first).
  std::map<std::string, Xapian::doccount> frequency;
  for (const auto& w : words)
    if (!frequency.contains(w)) {
      const Xapian::doccount df = db_.get_termfreq("Z" + analyzer_.stemmer()(w));
      frequency[w] = df == 0 ? std::numeric_limits<Xapian::doccount>::max() : df;
    }
  std::vector<std::pair<Xapian::doccount, std::size_t>> order;  // (frequency, first position)
  std::map<std::string, std::size_t> first;
  // The word being typed is no word of the index yet (`remyel`): it is kept whatever its count.
  const bool last_typed = typing && !words.empty() && budget > 0;
  if (last_typed) frequency[words.back()] = 0;
  for (std::size_t i = 0; i < words.size(); ++i)
    if (first.emplace(words[i], i).second) order.emplace_back(frequency[words[i]], i);
  std::sort(order.begin(), order.end());
  const std::size_t keep = std::min(budget, order.size());
  dropped = order.size() - keep;
  std::map<std::string, std::size_t> repeats;  // of the words kept: how often each is searched
  for (std::size_t i = 0; i < keep; ++i) repeats[words[order[i].second]] = 0;
  // A word typed again counts again (its weight in the query grows), up to kMaxRepeats times;
  // when words were dropped each is searched once. Measured on CISI (questions of up to 342
  // words) nDCG@10, tune / test halves: every repeat 0.365 / 0.445, up to 8 the same, up to 4
  // 0.364 / 0.445, up to 2 0.362 / 0.443, once each 0.362 / 0.437.
  const std::size_t max_repeats = dropped > 0 ? 1 : kMaxRepeats;
  // The filters and exclusions first, the words after them: the last word typed stays last,
  // the one being typed as-you-type (after it, `-fatigue` was taken for it and not expanded).
  std::string out = kept.filters;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (last_typed && i + 1 < words.size() && w == words.back()) continue;  // once, at the end
    if (auto r = repeats.find(w); r != repeats.end() && r->second++ < max_repeats) out += (out.empty() ? "" : " ") + w;
  }
  return out;
}

namespace {

// Whether the word at `at` is searched in a text field: right after `title:` or `takeaway:`,
// or inside a phrase that follows one (`title:"astrocites reactive"`). Xapian's parser corrects
// only the words searched in no field, and `title:astrocites` found nothing, offering nothing.
bool in_text_field(std::string_view text, std::size_t at) {
  const auto after_field = [&](std::size_t end) {
    for (const auto& field : schema::kQueryTextFields) {
      const std::string name = std::string(field.name) + ":";
      if (end >= name.size() && text.substr(end - name.size(), name.size()) == name &&
          (end == name.size() || !is_word_byte(text[end - name.size() - 1])))
        return true;
    }
    return false;
  };
  if (after_field(at)) return true;
  const std::size_t quote = text.rfind('"', at == 0 ? 0 : at - 1);
  if (at == 0 || quote == std::string_view::npos) return false;
  const auto quotes_before = std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(quote), '"');
  return quotes_before % 2 == 0 && after_field(quote);  // the quote opens a phrase after a field
}

// Whether the word at `at` is a field's value (`title:astro`, `topic:fatigue`, or a word of its
// quoted phrase, `topic:"multiple sclerosis"`), which no synonym group expands.
bool in_field_value(std::string_view text, std::size_t at) {
  if (at == 0) return false;
  const std::size_t space = text.find_last_of(" \t\r\n", at - 1);
  const std::size_t chunk = space == std::string_view::npos ? 0 : space + 1;
  if (text.substr(chunk, at - chunk).find(':') != std::string_view::npos) return true;
  const std::size_t quote = text.rfind('"', at - 1);
  if (quote == std::string_view::npos || quote == 0) return false;
  const auto quotes_before = std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(quote), '"');
  return quotes_before % 2 == 0 && text[quote - 1] == ':';
}

// The typos a word of this length may be corrected for, as Typesense allows them by default
// (one from 4 letters, two from 7): Xapian's spelling data would take `sipo` to `so`.
std::size_t typos_allowed(std::string_view word) { return word.size() >= 7 ? 2 : word.size() >= 4 ? 1 : 0; }

// A name the word lists know only with a capital, typed in lower case, is taken for a typo
// only of a word with two neighbouring letters swapped (`brian` for brain: kept as typed, it
// found nothing and offered nothing). Other neighbours are likelier meant as the name: `thai`
// is not "that", `persian` not "person", `finnish` not "finish", `arab` not "grab".
bool name_typo(std::string_view typed, std::string_view offered) {
  if (!EnglishWords::system().is_name(typed) || typed.size() != offered.size()) return false;
  std::size_t first = 0;
  while (first < typed.size() && typed[first] == offered[first]) ++first;
  return first + 1 < typed.size() && typed[first] == offered[first + 1] && typed[first + 1] == offered[first] &&
         typed.substr(first + 2) == offered.substr(first + 2);
}

bool has_digit(const std::string& word) {
  return std::any_of(word.begin(), word.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

// Words typed capitalised on purpose, folded: a name so typed is meant as a name (`Greta
// Thunberg` is no typo of "great"). ASCII words (`Brian`, `McDonald`, not `MS` or `brian`); the
// first word counts only beside another capitalised word: a phone capitalises it for the
// visitor (`Brian fog` is brain fog).
std::set<std::string> capitalised_words(std::string_view raw) {
  std::vector<std::string> words;
  bool first_word = true, first_capitalised = false, others = false;
  for (std::size_t i = 0; i < raw.size();) {
    if (std::isalpha(static_cast<unsigned char>(raw[i])) == 0) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < raw.size() && std::isalpha(static_cast<unsigned char>(raw[end])) != 0) ++end;
    const std::string_view word = std::string_view(raw).substr(i, end - i);
    const bool capitalised = std::isupper(static_cast<unsigned char>(word[0])) != 0 &&
                             std::any_of(word.begin() + 1, word.end(), [](char c) { return std::islower(static_cast<unsigned char>(c)) != 0; });
    if (capitalised) {
      words.push_back(ascii_lower(word));
      (first_word ? first_capitalised : others) = true;
    }
    first_word = false;
    i = end;
  }
  std::set<std::string> out;
  for (std::size_t k = first_capitalised && !others ? 1 : 0; k < words.size(); ++k) out.insert(words[k]);
  return out;
}

}  // namespace

std::string QueryPlanner::spelling_correction(const QueryPlan& plan) {
  capitalised_ = capitalised_words(plan.raw);
  const std::string& folded = plan.folded;
  // The words first; then a topic or journal no article has, named as typed (`topic:astrocites`,
  // `journal:"brain reserch"`), the nearest that one has, within the typos its length allows.
  const std::string words = words_correction(folded);
  const std::string base = words.empty() ? folded : words;
  std::string filters = filter_values_corrected(base);
  return filters != base ? dates_as_typed(std::move(filters)) : words;
}

std::string QueryPlanner::filter_values_corrected(const std::string& text, bool* missing) {
  std::string out;
  std::size_t copied = 0;
  for (std::size_t at = 0; at < text.size(); ++at) {
    std::string_view prefix;
    for (const auto& field : schema::kFilterFields) {
      const std::string_view rest = std::string_view(text).substr(at);
      if (field.slug_value && rest.starts_with(field.name) && rest.substr(field.name.size()).starts_with(':') &&
          at_chunk_start(text, at)) {
        prefix = field.prefix;
        at += field.name.size() + 1;
        break;
      }
    }
    if (prefix.empty()) continue;
    const std::size_t begin = at, end = field_value_end(text, at);
    // `topic:` and a space: no value; a bracketed group (`topic:(a OR b)`, its values corrected
    // as the words they are): left as typed. A quote that never closes runs to the end, as the
    // parser reads it (`topic:"symptom managment`, Enter pressed before the quote: 0 articles and
    // nothing offered): offered closed.
    const bool open_quote = text[begin] == '"' && (end == begin + 1 || text[end - 1] != '"');
    if (end == begin || text[begin] == '(' || (open_quote && end == begin + 1)) continue;
    const std::string value = text.substr(begin, end - begin) + (open_quote ? "\"" : "");
    const std::string slug = schema::slug(fold_text(value.front() == '"' ? value.substr(1, value.size() - 2) : value));
    at = end - 1;
    if (slug.empty() || db_.term_exists(std::string(prefix) + slug)) continue;
    if (missing != nullptr) *missing = true;
    // A value of several words typed without quotes (`topic:multiple sclerosis`: the topic
    // "multiple", none, and the word sclerosis): the value with the next words, quoted, when
    // an article has that one.
    // Where the value ends, alone and with 1–6 words more (a journal's name may be long:
    // "multiple sclerosis and related disorders" was read as 4 words at most).
    std::vector<std::size_t> extents{end};
    if (value.front() != '"') {
      for (int k = 0; k < 6; ++k) {
        std::size_t b = extents.back();
        while (b < text.size() && text[b] == ' ') ++b;
        std::size_t e = b;
        while (e < text.size() && std::string_view(" \t()\":").find(text[e]) == std::string_view::npos) ++e;
        // Not past an operator (`topic:symptom managment OR fatigue`) or the next field.
        if (e == b || (e < text.size() && text[e] == ':') || text[b] == '-' || text[b] == '+' ||
            is_query_operator(std::string_view(text).substr(b, e - b)))
          break;
        extents.push_back(e);
      }
    }
    const auto extent_slug = [&](std::size_t extent_end) {
      return extent_end == end ? slug : schema::slug(fold_text(text.substr(begin, extent_end - begin)));
    };
    const auto replace = [&](std::size_t extent_end, const std::string& with) {
      out += text.substr(copied, begin - copied) + with;
      copied = extent_end;
      at = extent_end - 1;
    };
    const auto joined = std::find_if(extents.begin() + 1, extents.end(), [&](std::size_t extent_end) {
      return db_.term_exists(std::string(prefix) + extent_slug(extent_end));
    });
    if (joined != extents.end()) {
      replace(*joined, "\"" + text.substr(begin, *joined - begin) + "\"");
      continue;
    }
    // The nearest value the index has (a site has tens of topics, a few hundred journals at
    // most), within the typos the value's length allows: the value alone first, then with the
    // next words (`topic:multipel sclerosis`).
    for (const std::size_t extent_end : extents) {
      const std::string typed = extent_slug(extent_end);
      std::string nearest;
      std::size_t fewest = typos_allowed(typed) + 1;
      try {
        for (auto t = db_.allterms_begin(std::string(prefix)); t != db_.allterms_end(std::string(prefix)); ++t) {
          const std::string candidate = (*t).substr(prefix.size());
          if (candidate.size() + fewest <= typed.size() || typed.size() + fewest <= candidate.size()) continue;
          if (const std::size_t edits = edits_between(typed, candidate); edits < fewest) fewest = edits, nearest = candidate;
        }
      } catch (const Xapian::Error&) {
        return text;  // the list cannot be read (a shard down): nothing offered for filters
      }
      if (nearest.empty()) continue;
      // A value of several words offered as words, quoted (`topic:"multiple sclerosis"`, not
      // its term's `multiple-sclerosis`).
      if (nearest.find('-') == std::string::npos && !open_quote) {
        replace(extent_end, nearest);
      } else {
        std::replace(nearest.begin(), nearest.end(), '-', ' ');
        replace(extent_end, "\"" + nearest + "\"");
      }
      break;
    }
  }
  return copied == 0 ? text : out + text.substr(copied);
}

std::string QueryPlanner::dates_as_typed(std::string text) const {
  for (const auto& [as, typed] : typed_dates_)
    for (std::size_t at = text.find(as); at != std::string::npos; at = text.find(as, at + typed.size()))
      text.replace(at, as.size(), typed);
  return text;
}

std::string QueryPlanner::words_correction(const std::string& folded) {
  // The words are corrected, the filters and exclusions kept as they are, after them: beside a
  // signed date range (which the parser does not read) nothing was offered.
  const Kept kept = split_filters(folded);
  const auto as_typed = [&](std::string text) { return dates_as_typed(std::move(text)); };
  // The whole query first, its brackets and operators where they stand; the words alone only
  // when that offers nothing (moving a filter after an OR changed what the query meant).
  // Text the parser cannot read is corrected as plain words, which drops its signs: then only
  // the words are corrected, and the filters and exclusions follow them unchanged.
  if (std::string whole = corrected_words(folded, kept.filters.empty()); !whole.empty() || kept.filters.empty())
    return whole.empty() ? whole : as_typed(whole);
  if (synonym_tokens(kept.rest).empty()) return {};
  const std::string corrected = corrected_words(kept.rest);
  if (corrected.empty()) return {};
  std::string out;
  for (std::size_t i = 0; i < corrected.size(); ++i)  // the filters' places, as single spaces
    if (!(std::isspace(static_cast<unsigned char>(corrected[i])) != 0 &&
          (out.empty() || out.back() == ' ')))
      out += std::isspace(static_cast<unsigned char>(corrected[i])) != 0 ? ' ' : corrected[i];
  if (!out.empty() && out.back() == ' ') out.pop_back();
  // An operator left at either end by the filters taken out (`-fatigue AND astrocites`).
  for (const std::string_view op : {"AND ", "OR ", "NOT "})
    if (out.starts_with(op)) out.erase(0, op.size());
  for (const std::string_view op : {" AND", " OR", " NOT"})
    if (out.ends_with(op)) out.resize(out.size() - op.size());
  if (out.empty()) return {};
  return as_typed(out + " " + kept.filters);
}

std::string QueryPlanner::corrected_words(const std::string& folded, bool as_plain_words) {
  // The parser's suggestions read the spelling data alone (over a sharded index, its summed
  // DIR/spelling: see ShardSet::spelling); the query it parses is not used.
  struct RestoreDatabase {
    Xapian::QueryParser& parser;
    const Xapian::Database& db;
    ~RestoreDatabase() { parser.set_database(db); }
  } restore{parser_, db_};
  // Parsed without FLAG_PARTIAL: under it the last word would never be corrected.
  auto correct = [&](const Xapian::Database& spelling) -> std::optional<std::string> {
    parser_.set_database(spelling);
    std::string corrected;
    bool as_words = false;  // corrected as plain words
    try {
      parser_.parse_query(folded, kSyntaxFlags | QP::FLAG_SPELLING_CORRECTION);
      corrected = parser_.get_corrected_query_string();
      // Text whose brackets or quotes do not pair (`astrocites )`) Xapian's parser reads again
      // as plain words, without correcting them: nothing was offered for it. (Not other text it
      // leaves as it is: a wildcard, `topic:` values.)
      as_words = corrected.empty() && !balanced(folded);
    } catch (const Xapian::QueryParserError&) {
      as_words = true;
    }
    if (as_words) {
      if (!as_plain_words) return std::nullopt;
      parser_.parse_query(plain_words(folded), QP::FLAG_SPELLING_CORRECTION);
      corrected = parser_.get_corrected_query_string();
    }
    return corrected;
  };
  std::optional<std::string> offered;
  try {
    offered = correct(spelling_);
  } catch (const Xapian::DatabaseError& e) {
    // A sharded index's DIR/spelling that opened but cannot be read (a damaged block): the
    // shards' own spelling data, as when it is missing. Every search that found little failed
    // "index damaged" though each shard was whole. (Damage in the shards themselves throws
    // again here, as before.) Learnt once: the next corrections read the shards' data at once
    // (each search that found little paid a failed read first), and the searcher is told.
    const std::string why = e.get_description();
    offered = correct(db_);
    spelling_ = db_;
    spelling_failure_ = why;
  }
  if (!offered) return {};
  // Nothing corrected by the parser: the words in a text field may still be (in_text_field).
  const std::string& corrected = offered->empty() ? folded : *offered;
  // Xapian may "correct" a word the index has into a more frequent neighbour
  // (needles -> needed): only words the index does not know are corrected. Nor, also when a
  // query finds little (where the correction's hits replace an empty answer), an English word
  // the articles do not use (`cane` is not searched as "can", `bike` as "like") or an
  // identifier with a digit (`cd21` is not CD20, `trem1` not TREM2).
  // Such a word is kept as typed and the others are still corrected: a misspelt question
  // (`what is astrocites`, `does ocrevous cause fatigue`) had "what" made "that", "does" "do",
  // and the whole correction refused for it (nothing offered, 0 articles).
  const auto before = word_spans(folded), after = word_spans(corrected);
  if (corrected.empty() || before.size() != after.size()) return {};
  std::string out;
  std::size_t copied = 0;  // of `corrected`
  bool changed = false;
  // Where an apostrophe begins (ASCII's or U+2019), else the word's end.
  const auto apostrophe = [](const std::string& w) { return std::min(w.find('\''), std::min(w.find("\u2019"), w.size())); };
  // The synonym groups' words are looked through for the first few words only: each look reads
  // every one-word expression (a file of 110,000 groups made a 60-word question 2.7 s).
  constexpr std::size_t kMaxSynonymLookups = 8;
  std::size_t synonym_lookups = 0;
  // A word is not corrected into one the query already has (`brain brian`, `fatige fatigue`):
  // that word was searched for, and "brain brain" was offered. Its words in no field: not a
  // field's name or value (`journal:multiple sclerosis journl` is "journal").
  std::set<std::string> typed_words;
  for (const auto& [from, to] : before)
    if ((to >= folded.size() || folded[to] != ':') && !in_field_value(folded, from))
      typed_words.insert(ascii_lower(folded.substr(from, to - from)));
  for (std::size_t i = 0; i < before.size(); ++i) {
    const std::string typed = folded.substr(before[i].first, before[i].second - before[i].first);
    std::string proposed = corrected.substr(after[i].first, after[i].second - after[i].first);
    if (typed == proposed && in_text_field(corrected, after[i].first)) {
      try {
        const std::string lower = ascii_lower(typed.substr(0, apostrophe(typed)));
        const std::string offered_word = spelling_.get_spelling_suggestion(lower, static_cast<unsigned>(typos_allowed(lower)));
        if (!offered_word.empty()) proposed = offered_word + typed.substr(lower.size());
      } catch (const Xapian::DatabaseError&) {
        // damaged spelling data: the word is left as typed (the parser's pass said why)
      }
    }
    // A typo of a word only a synonym group knows (`tierd`, `copaxon`): the index's spelling
    // data has no such word, and offered nothing or a word as far off that finds nothing
    // (`tierd` was offered "tiered"). The group's word when it is no further (and kept below
    // like any other proposal: not for a word the index or the word lists know).
    if (!in_field_value(corrected, after[i].first) && synonym_lookups++ < kMaxSynonymLookups) {
      const std::string lower = ascii_lower(typed.substr(0, apostrophe(typed)));
      const std::string near = synonyms_->nearest_word(lower, typos_allowed(lower));
      const std::string proposed_base = ascii_lower(proposed.substr(0, apostrophe(proposed)));
      if (!near.empty() && near != lower && !db_.term_exists(lower) &&
          (proposed == typed || edits_between(lower, near) <= edits_between(lower, proposed_base)))
        proposed = near + typed.substr(lower.size());
    }
    // A word that is itself the stem of words the articles use but that Snowball stems
    // otherwise finds nothing: `breastfeed` (stemmed breastfee; "breastfeeding" is stemmed
    // breastfeed) was offered "breastfed", another word (helper-98); `relaps`, `diseas`, a
    // letter short, are stems too. The nearest of those words, whatever Xapian offered.
    if (!in_field_value(corrected, after[i].first)) {
      const std::string lower = ascii_lower(typed.substr(0, apostrophe(typed)));
      if (const std::string form = word_of_stem(lower); !form.empty()) {
        out += corrected.substr(copied, after[i].first - copied);
        out += form + typed.substr(lower.size());
        changed = true;
        copied = after[i].second;
        continue;
      }
    }
    if (typed == proposed) continue;
    // A contraction or a possessive is judged by its word (`what's` was made "what", `it's`
    // "its"; `microgila's` is corrected, its "'s" kept).
    const std::string base = typed.substr(0, apostrophe(typed));
    const std::string offered_base = proposed.substr(0, apostrophe(proposed));
    const std::string lower = ascii_lower(base);
    // Nor another form of a word the articles use (`probiotics` was made "probiotic",
    // `remyelin` "myelin").
    const bool keep = base.empty() || base == offered_base || db_.term_exists(lower) ||
                      edits_between(base, offered_base) > typos_allowed(base) || has_digit(base) ||
                      english_stop_words()(lower) || is_stop_word(typed) ||
                      (EnglishWords::system().knows(lower) &&
                       (capitalised_.contains(lower) || !name_typo(lower, ascii_lower(offered_base)))) ||
                      db_.term_exists("Z" + analyzer_.stemmer()(lower)) ||
                      typed_words.contains(ascii_lower(offered_base));
    out += corrected.substr(copied, after[i].first - copied);
    if (keep) {
      out += typed;
    } else {
      out += offered_base + typed.substr(base.size());
      changed = true;
    }
    copied = after[i].second;
  }
  if (!changed) return {};
  return out + corrected.substr(copied);
}

std::string QueryPlanner::word_of_stem(const std::string& lower) {
  if (lower.size() < 4 || has_digit(lower) || db_.term_exists(lower) || !db_.term_exists("Z" + lower) ||
      db_.term_exists("Z" + analyzer_.stemmer()(lower)))
    return {};
  constexpr std::size_t kMaxLooked = 64;  // the words that begin with it, a few
  std::string best;
  std::size_t best_edits = 0;
  Xapian::doccount best_freq = 0;
  std::size_t looked = 0;
  for (auto t = db_.allterms_begin(lower); t != db_.allterms_end(lower) && looked < kMaxLooked; ++t, ++looked) {
    const std::string word = *t;
    if (analyzer_.stemmer()(word) != lower) continue;
    const std::size_t edits = edits_between(lower, word);
    const Xapian::doccount freq = t.get_termfreq();
    if (best.empty() || edits < best_edits || (edits == best_edits && freq > best_freq))
      best = word, best_edits = edits, best_freq = freq;
  }
  return best;
}

std::vector<std::string> QueryPlanner::missing_words(const QueryPlan& plan) {
  constexpr std::size_t kMaxWords = 6;  // as typo_correction: a question typed, not pasted
  std::vector<std::string> out;
  if (plan.blank || plan.partial || plan.words_dropped > 0) return out;
  const std::string rest = split_filters(plan.folded).rest;
  std::vector<std::string> words;
  bool in_quotes = false, after_not = false;
  for (std::size_t at = 0; at < rest.size();) {
    const std::size_t begin = rest.find_first_not_of(" \t\r\n()", at);
    if (begin == std::string::npos) break;
    std::size_t end = begin;
    while (end < rest.size() && (in_quotes || std::string_view(" \t\r\n()").find(rest[end]) == std::string_view::npos)) {
      if (rest[end] == '"') in_quotes = !in_quotes;
      ++end;
    }
    at = end;
    const std::string_view chunk = std::string_view(rest).substr(begin, end - begin);
    // Excluded (`-word`, after NOT), a pattern, or an operator: no word looked for.
    if (chunk == "NOT") {
      after_not = true;
      continue;
    }
    if (std::exchange(after_not, false) || chunk.starts_with('-') || chunk.find('*') != std::string_view::npos ||
        is_query_operator(chunk))
      continue;
    // A text field's name is no word (`title:astrocytes`).
    std::string_view text = chunk;
    for (const auto& f : schema::kQueryTextFields)
      if (text.size() > f.name.size() && text[f.name.size()] == ':' && ascii_lower(text.substr(0, f.name.size())) == f.name)
        text.remove_prefix(f.name.size() + 1);
    // A phone's typographic apostrophe read as the plain one (`huntington’s` was one word with
    // a non-ASCII letter, never named).
    std::string plain(text);
    for (std::size_t quote = plain.find("\u2019"); quote != std::string::npos; quote = plain.find("\u2019", quote))
      plain.replace(quote, 3, "'");
    for (auto& w : synonym_tokens(plain)) words.push_back(std::move(w));
  }
  const auto content = std::count_if(words.begin(), words.end(), [](const std::string& w) { return !is_stop_word(w); });
  if (static_cast<std::size_t>(content) > kMaxWords) return out;
  for (const auto& w : words) {
    if (w.size() < 3 || is_stop_word(w) || has_digit(w) ||
        std::any_of(w.begin(), w.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }))
      continue;
    if (std::find(out.begin(), out.end(), w) != out.end() || synonyms_->expand(w, false) != w) continue;
    if (db_.term_exists(w) || db_.term_exists("Z" + analyzer_.stemmer()(w))) continue;
    out.push_back(w);
  }
  // Named as typed with its possessive (`ms huntington's` said "No article has “huntington”";
  // helper-99): the word is the same term either way.
  for (auto& w : out)
    for (const std::string_view s : {"'s", "\u2019s"}) {
      const std::string typed = w + std::string(s);
      const std::size_t at = rest.find(typed);
      const std::size_t end = at + typed.size();
      if (at != std::string::npos && (at == 0 || !is_word_byte(rest[at - 1])) && (end == rest.size() || !is_word_byte(rest[end]))) {
        w = typed;
        break;
      }
    }
  return out;
}

std::string QueryPlanner::typo_correction(const QueryPlan& plan, bool* unknown_word) {
  constexpr std::size_t kMaxWords = 6;
  if (plan.blank || plan.partial || plan.words_dropped > 0) return {};
  const std::vector<std::string> words = synonym_tokens(split_filters(plan.folded).rest);
  // Stop words do not count (`what do the astrocites do in ms` is a short question).
  const auto content = std::count_if(words.begin(), words.end(), [](const std::string& w) { return !is_stop_word(w); });
  if (static_cast<std::size_t>(content) > kMaxWords) return {};
  capitalised_ = capitalised_words(plan.raw);
  bool unknown = false;
  for (const auto& w : words) {
    // Short words, identifiers with a digit (gene names: `bcp1`, `rpl23`) and stop words are
    // left as typed.
    if (w.size() < 4 || has_digit(w) || english_stop_words()(w) || db_.term_exists(w)) continue;
    // Another form of a word the articles use (`probiotics` where they say "probiotic") was
    // found by its stem.
    if (db_.term_exists("Z" + analyzer_.stemmer()(w))) continue;
    // An English word the articles do not use ("walking stick", "numb hands") is not a typo;
    // a name may be (`brian`: see name_typo).
    if (EnglishWords::system().knows(w) && (!EnglishWords::system().is_name(w) || capitalised_.contains(w))) continue;
    // A brand name or lay word the synonyms bridge (`tysabri`) was searched for as its group.
    if (synonyms_->expand(w, false) != w) continue;
    unknown = true;
  }
  if (!unknown) {
    // Every word known, and a filter's value no article has beside an OR or in an exclusion
    // (`topic:"symptom managment" OR fatigue`, `fatigue -topic:"symptom managment"`), which
    // found the other words' articles: nothing was offered. The value the index has, as
    // spelling_correction offers it when a query finds nothing.
    // A value unknown here with no neighbour abstains, as a word does (a shard may have none).
    bool missing = false;
    std::string filters = filter_values_corrected(plan.folded, &missing);
    if (unknown_word != nullptr) *unknown_word = missing;
    return filters == plan.folded ? std::string() : dates_as_typed(std::move(filters));
  }
  // Without a word list a word the articles do not use cannot be told from a typo: not offered.
  if (EnglishWords::system().empty()) return {};
  if (unknown_word != nullptr) *unknown_word = true;
  // Only the typos change: spelling_correction never changes an English word ("ocrevous walking
  // stick" is not offered "ocrevus walking still").
  return spelling_correction(plan);
}

std::vector<QueryPlanner::FacetPlan> QueryPlanner::own_filter_plans(const SearchRequest& request,
                                                                    const QueryPlan& plan) const {
  std::vector<FacetPlan> out;
  const auto without = [&](std::size_t facet, SearchRequest others) {
    QueryPlan p = plan;
    p.query = plan.words;
    if (Xapian::Query f = filters(others); !f.empty()) p.query = Xapian::Query(Xapian::Query::OP_FILTER, p.query, f);
    p.by_date = p.by_credibility = p.feedback = false;
    out.push_back({facet, std::move(p)});
  };
  if (!request.topics.empty()) {
    SearchRequest r = request;
    r.topics.clear();
    without(0, std::move(r));
  }
  if (!request.years.empty()) {
    SearchRequest r = request;
    r.years.clear();
    without(1, std::move(r));
  }
  if (!request.journals.empty()) {
    SearchRequest r = request;
    r.journals.clear();
    without(2, std::move(r));
  }
  return out;
}

Xapian::Query QueryPlanner::filters(const SearchRequest& r) const {
  std::vector<Xapian::Query> all;
  auto any_of = [&](const auto& values, auto make_term) {
    if (values.empty()) return;
    std::vector<Xapian::Query> terms;
    // A value whose term is longer than Xapian keeps names no article (the indexer refuses
    // such an article): searched as a term of Xapian's length that no article can hold (a
    // byte no UTF-8 text has, at its end), not as the long term, which a coordinator's shards
    // sent each other as a statistic and refused as malformed (one `journal=` of 7,000 bytes
    // marked every shard down, and the next searches were 503). Not MatchNothing: Xapian
    // drops an empty query from an AND, which would have dropped the filter.
    for (const auto& v : values) {
      std::string term = make_term(v);
      if (term.size() > schema::kMaxTermBytes) term = term.substr(0, schema::kMaxTermBytes - 1) + '\xff';
      terms.emplace_back(std::move(term));
    }
    all.emplace_back(Xapian::Query::OP_OR, terms.begin(), terms.end());
  };
  any_of(r.topics, [](const std::string& t) { return schema::topic_term(t); });
  any_of(r.journals, [](const std::string& j) { return schema::journal_term(j); });
  any_of(r.years, [](int y) { return schema::year_term(y); });
  if (!r.since.empty() || !r.until.empty()) {
    const std::string lo = schema::date_value(r.since.empty() ? "0000-00-00" : r.since);
    const std::string hi = schema::date_value(r.until.empty() ? "9999-99-99" : r.until);
    all.emplace_back(Xapian::Query::OP_VALUE_RANGE, schema::kSlotDate, lo, hi);
  }
  if (r.min_credibility)
    all.emplace_back(Xapian::Query::OP_VALUE_GE, schema::kSlotCredibility,
                     Xapian::sortable_serialise(*r.min_credibility));
  if (all.empty()) return Xapian::Query();
  return Xapian::Query(Xapian::Query::OP_AND, all.begin(), all.end());
}

}  // namespace mssearch

namespace mssearch {

namespace {

// `fix` in the case `typed` was written in: a word typed in capitals is corrected in capitals, a
// capital first letter kept (`Astrocites NOT Sleep` was offered `astrocytes NOT sleep`).
std::string in_case_of(const std::string& typed, std::string fix) {
  const auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  const auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  const bool all_caps = typed.size() > 1 && std::any_of(typed.begin(), typed.end(), upper) && std::none_of(typed.begin(), typed.end(), lower);
  if (all_caps) {
    for (char& c : fix) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  } else if (!typed.empty() && !fix.empty() && upper(typed.front()) && lower(fix.front())) {
    fix.front() = static_cast<char>(std::toupper(static_cast<unsigned char>(fix.front())));
  }
  return fix;
}

// For each word of `text` (word_spans), whether a quote opens just before it and whether one
// closes just after it.
std::pair<std::vector<bool>, std::vector<bool>> quotes_around(std::string_view text,
                                                              const std::vector<std::pair<std::size_t, std::size_t>>& spans) {
  std::vector<bool> opens(spans.size(), false), closes(spans.size(), false);
  bool open = false;
  std::size_t at = 0;
  for (std::size_t k = 0; k <= spans.size(); ++k) {
    const std::size_t until = k < spans.size() ? spans[k].first : text.size();
    for (; at < until; ++at) {
      if (text[at] != '"') continue;
      if (open && k > 0) closes[k - 1] = true;
      if (!open && k < spans.size()) opens[k] = true;
      open = !open;
    }
    if (k < spans.size()) at = spans[k].second;
  }
  return {opens, closes};
}

// A correction that quotes a field's value (`topic:symptom managment` → `topic:"symptom
// management"`), onto the query as typed: its words aligned with the typed ones (the longest
// common subsequence of their folded forms; the words between two aligned ones paired in order
// when as many), each changed word replaced in the typed word's case, and the quotes it adds put
// around the typed words they enclose; the text between words as typed (`-year:2025`, `NOT`, the
// hyphen of `anti-cd20`). Offered as it was built, these were lost: lower case, `NOT x` as
// `-x`, hyphens dropped. nullopt when the two cannot be aligned so.
std::optional<std::string> quotes_onto_typed(const std::string& raw, const std::string& corrected) {
  const auto typed = word_spans(raw), fixed = word_spans(corrected);
  constexpr std::size_t kMaxWords = 200;  // the alignment's table is words × words
  if (typed.empty() || fixed.empty() || typed.size() > kMaxWords || fixed.size() > kMaxWords) return std::nullopt;
  std::vector<std::string> a, b;
  for (const auto& [begin, end] : typed) {
    const std::string word = raw.substr(begin, end - begin);
    a.push_back(is_query_operator(word) ? word : fold_text(word));  // `AND` stays one
  }
  for (const auto& [begin, end] : fixed) b.push_back(corrected.substr(begin, end - begin));
  // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
  std::vector<std::vector<std::uint16_t>> lcs(a.size() + 1, std::vector<std::uint16_t>(b.size() + 1, 0));
  for (std::size_t i = a.size(); i-- > 0;)
    for (std::size_t j = b.size(); j-- > 0;)
      lcs[i][j] = a[i] == b[j] ? static_cast<std::uint16_t>(lcs[i + 1][j + 1] + 1) : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  // to[i]: the corrected word typed word i stands for, or npos (kept as typed).
  constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::vector<std::size_t> to(a.size(), kNone);
  std::size_t i = 0, j = 0, gap_a = 0, gap_b = 0;
  const auto close_gap = [&](std::size_t end_a, std::size_t end_b) {
    // The typed words between, but an operator (`NOT x`, which the correction writes `-x`):
    // paired in order with the correction's when as many; none of the correction's, they stay.
    // Or all of them, an operator the correction writes as a word (`fatigue NEAR topic:…`, whose
    // NEAR joins no two words: "near") kept as typed.
    std::vector<std::size_t> words, all;
    for (std::size_t k = gap_a; k < end_a; ++k) {
      all.push_back(k);
      if (!is_query_operator(std::string_view(raw).substr(typed[k].first, typed[k].second - typed[k].first))) words.push_back(k);
    }
    for (const auto* paired : {&words, &all})
      if (paired->size() == end_b - gap_b) {
        for (std::size_t k = 0; k < paired->size(); ++k)
          to[(*paired)[k]] = fold_text(a[(*paired)[k]]) == b[gap_b + k] ? kNone : gap_b + k;
        return true;
      }
    return end_b == gap_b;
  };
  while (i < a.size() && j < b.size()) {
    if (a[i] == b[j]) {
      if (!close_gap(i, j)) return std::nullopt;
      to[i] = j;
      gap_a = ++i, gap_b = ++j;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
      ++i;
    } else {
      ++j;
    }
  }
  if (!close_gap(a.size(), b.size())) return std::nullopt;
  const auto [typed_opens, typed_closes] = quotes_around(raw, typed);
  const auto [fixed_opens, fixed_closes] = quotes_around(corrected, fixed);
  // Every quote the correction adds must stand by a typed word.
  std::vector<bool> placed_open(b.size(), false), placed_close(b.size(), false);
  for (std::size_t k = 0; k < a.size(); ++k)
    if (to[k] != kNone) placed_open[to[k]] = placed_close[to[k]] = true;
  for (std::size_t k = 0; k < b.size(); ++k)
    if ((fixed_opens[k] && !placed_open[k]) || (fixed_closes[k] && !placed_close[k])) return std::nullopt;
  // An operator last joins nothing (`astrocites -fatigue AND`): left out, as the correction did.
  std::size_t words_end = a.size();
  while (words_end > 0 && is_query_operator(a[words_end - 1])) --words_end;
  std::string out;
  std::size_t at = 0;
  for (std::size_t k = 0; k < words_end; ++k) {
    const auto [begin, end] = typed[k];
    out.append(raw, at, begin - at);
    const std::string word = raw.substr(begin, end - begin);
    const std::size_t m = to[k];
    if (m != kNone && fixed_opens[m] && !typed_opens[k]) out += '"';
    out += m == kNone || a[k] == b[m] ? word : in_case_of(word, b[m]);
    if (m != kNone && fixed_closes[m] && !typed_closes[k]) out += '"';
    at = end;
  }
  if (words_end == a.size()) out.append(raw, at, std::string::npos);
  return out;
}

}  // namespace

namespace {
std::string correction_as_typed_spaced(const QueryPlan& plan, const std::string& corrected_text);
}  // namespace

std::string correction_as_typed(const QueryPlan& plan, const std::string& corrected_text) {
  // One space between words: punctuation that parts words became spaces (`topic:symptom
  // managment — fatigue` was offered `topic:"symptom management"   fatigue`).
  std::string out;
  for (char c : correction_as_typed_spaced(plan, corrected_text)) {
    const bool space = c == ' ' || c == '\t' || c == '\r' || c == '\n';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : c;
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

namespace {

std::string correction_as_typed_spaced(const QueryPlan& plan, const std::string& corrected_text) {
  // Without the spaces that punctuation typed at either end became (`Astrocites…`).
  const std::size_t first = corrected_text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const std::string corrected = corrected_text.substr(first, corrected_text.find_last_not_of(" \t\r\n") + 1 - first);
  const auto words = [](const std::string& text) {
    std::vector<std::pair<std::size_t, std::size_t>> spans;
    for (std::size_t i = 0; i < text.size();) {
      if (!is_word_byte(text[i])) {
        ++i;
        continue;
      }
      std::size_t end = i;
      while (end < text.size() && is_word_byte(text[end])) ++end;
      spans.emplace_back(i, end - i);
      i = end;
    }
    return spans;
  };
  // Where the words cannot be paired one for one with the query's (a date filter read as a
  // range of days, a value quoted), aligned with the words as typed.
  const auto aligned = [&] { return quotes_onto_typed(plan.raw, corrected).value_or(corrected); };
  const auto from = words(plan.folded), to = words(corrected);
  if (from.size() != to.size()) return aligned();
  // A correction that quotes a field's value (`topic:multiple scelrosis` → `topic:"multiple
  // sclerosis"`): its words alone, mended onto the query as typed, lost the quotes (the offer
  // searched the topic "multiple" and the word sclerosis); aligned, the quotes are put there.
  if (std::count(plan.folded.begin(), plan.folded.end(), '"') != std::count(corrected.begin(), corrected.end(), '"'))
    return aligned();
  // The words the correction changed: those of the query it no longer holds, paired in order
  // with those it holds instead. Not word by word in place: a correction may name the query's
  // filters and exclusions after its words (`-sleep astrocites )` is corrected as "astrocytes
  // -sleep"), and pairing by place made "sleep" "astrocytes": `-astrocytes sleep )` was offered.
  std::map<std::string, int> balance;
  std::vector<std::string> gone, added_words;
  for (const auto& [begin, length] : from) ++balance[plan.folded.substr(begin, length)];
  for (const auto& [begin, length] : to) --balance[corrected.substr(begin, length)];
  std::map<std::string, int> left = balance;
  for (const auto& [begin, length] : from)
    if (std::string w = plan.folded.substr(begin, length); left[w] > 0) --left[w], gone.push_back(std::move(w));
  left = balance;
  for (const auto& [begin, length] : to)
    if (std::string w = corrected.substr(begin, length); left[w] < 0) ++left[w], added_words.push_back(std::move(w));
  if (gone.size() != added_words.size()) return aligned();
  std::map<std::string, std::string> changed;
  for (std::size_t k = 0; k < gone.size(); ++k)
    if (auto [it, added] = changed.emplace(gone[k], added_words[k]); !added && it->second != added_words[k])
      return aligned();  // two ways
  if (changed.empty()) return corrected;
  // Onto the query as typed, its case kept (`Astrocites NOT Sleep` was offered `astrocytes NOT
  // sleep`): a word typed in capitals is corrected in capitals, a capital first letter kept.
  if (!plan.raw.empty()) {
    std::string out;
    std::size_t at = 0;
    bool any = false;
    for (const auto& [begin, length] : words(plan.raw)) {
      out.append(plan.raw, at, begin - at);
      const std::string word = plan.raw.substr(begin, length);
      const auto it = changed.find(fold_text(word));
      if (it == changed.end()) {
        out += word;
      } else {
        out += in_case_of(word, it->second);
        any = true;
      }
      at = begin + length;
    }
    out.append(plan.raw, at, std::string::npos);
    if (any) return out;
  }
  if (plan.typed == plan.folded) return corrected;
  std::string out;
  std::size_t at = 0;
  for (const auto& [begin, length] : words(plan.typed)) {
    out.append(plan.typed, at, begin - at);
    const std::string word = plan.typed.substr(begin, length);
    const auto it = changed.find(word);
    out += it == changed.end() ? word : it->second;
    at = begin + length;
  }
  out.append(plan.typed, at, std::string::npos);
  return out;
}

}  // namespace

}  // namespace mssearch
