#include "searcher/synonyms.h"

#include <fmt/format.h>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>

#include "schema/edit_distance.h"
#include "schema/text_analyzer.h"
#include "schema/yaml_file.h"

namespace mssearch {

bool is_word_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || std::isalnum(u) != 0;
}

namespace {

struct Token {
  std::string text;
  std::size_t begin, end;  // byte offsets in the query
  bool expandable;
  // After a + or a - (`-fatigue`): expanded as a group alone (`-(fatigue OR tiredness)`, as
  // `NOT fatigue` is), never as a later word of a phrase's (`brain -fog` is not brain fog).
  bool sign = false;
  std::size_t chunk = 0;  // which run of text without spaces it is in (`-flare-up`: one)
};

// The singulars a word may be the plural of (`jabs` jab, `boxes` box, `bodies` body), of three
// letters or more (`ms` is no plural of "m"), or two after other words (`flare-ups`).
std::vector<std::string> singulars(const std::string& word, std::size_t shortest = 3) {
  std::vector<std::string> out;
  if (word.size() < shortest + 1 || word.back() != 's' || word.ends_with("ss")) return out;
  out.push_back(word.substr(0, word.size() - 1));
  if (word.ends_with("es") && word.size() >= 5) out.push_back(word.substr(0, word.size() - 2));
  if (word.ends_with("ies") && word.size() >= 6) out.push_back(word.substr(0, word.size() - 3) + "y");
  return out;
}

bool is_plural_of(const std::string& plural, const std::string& singular) {
  const auto s = singulars(plural, 2);
  return std::find(s.begin(), s.end(), singular) != s.end();
}

std::vector<Token> query_tokens(std::string_view q, bool partial) {
  std::vector<Token> out;
  bool in_quotes = false;
  // After a field's prefix, its whole value up to the next space is the filter's, never
  // expanded: `id:trem2-microglia-repair`, `topic:progressive-ms` (a slug's later parts too).
  bool in_field_value = false;
  std::size_t chunk = 0;
  for (std::size_t i = 0; i < q.size();) {
    if (std::isspace(static_cast<unsigned char>(q[i])) != 0 && !in_quotes) ++chunk;
    if (q[i] == '"') {
      in_quotes = !in_quotes;
      ++i;
      continue;
    }
    if (!is_word_byte(q[i])) {
      if (std::isspace(static_cast<unsigned char>(q[i])) != 0 && !in_quotes) in_field_value = false;
      ++i;
      continue;
    }
    const std::size_t begin = i;
    while (i < q.size() && is_word_byte(q[i])) ++i;
    const char before = begin > 0 ? q[begin - 1] : ' ';
    if (before == ':') in_field_value = true;
    const bool sign = before == '+' || (before == '-' && (begin < 2 || !is_word_byte(q[begin - 2])));
    const bool wildcard = i < q.size() && q[i] == '*';  // a pattern, not a word (`fatigue*`)
    out.push_back({std::string(q.substr(begin, i - begin)), begin, i, !in_quotes && before != ':' && !in_field_value && !wildcard,
                   sign, chunk});
  }
  // The two words NEAR or ADJ join (`ms NEAR fatigue`, `ms NEAR/3 fatigue`) stay words: a group's
  // bracket there is no syntax Xapian's parser reads, and the text was searched as plain words.
  // (fold_query leaves NEAR and ADJ in capitals only between two words.)
  for (std::size_t k = 0; k < out.size(); ++k) {
    if (out[k].text != "NEAR" && out[k].text != "ADJ") continue;
    if (k > 0) out[k - 1].expandable = false;
    std::size_t next = k + 1;
    if (out[k].end < q.size() && q[out[k].end] == '/' && next < out.size() && out[next].begin == out[k].end + 1) ++next;  // NEAR/3
    if (next < out.size()) out[next].expandable = false;
  }
  // An unfinished last word is a prefix being typed, not a word to expand.
  if (partial && !out.empty() && out.back().end == q.size()) out.back().expandable = false;
  return out;
}

std::string quoted_if_needed(const std::string& expression) {
  const bool single_word = std::all_of(expression.begin(), expression.end(), is_word_byte);
  return single_word ? expression : "\"" + expression + "\"";
}

}  // namespace

std::vector<std::string> synonym_tokens(std::string_view folded) {
  std::vector<std::string> out;
  for (const auto& t : query_tokens(folded, false)) out.push_back(t.text);
  return out;
}

Result<SynonymTable> SynonymTable::load(const std::filesystem::path& path) {
  SynonymTable table;
  if (path.empty()) return table;
  auto loaded = load_yaml_file(path, "synonyms file");
  if (!loaded) return std::unexpected(loaded.error());
  try {
    const YAML::Node root = *loaded;
    if (!root.IsMap()) return fail(ErrorCode::kIo, path.string() + ": expected sections of synonym groups");
    // A bound on what the file expands to: YAML's aliases repeat a group without its bytes (a
    // 27 KB file of `- *g` took 6 s and 415 MB each search; 3.9 MB ran out of memory).
    constexpr std::size_t kMaxExpressions = 1'000'000;
    std::size_t expressions_read = 0;
    const auto too_many = [&](const YAML::Node& at, std::size_t more) -> std::optional<Error> {
      expressions_read += more;
      if (expressions_read <= kMaxExpressions) return std::nullopt;
      return Error{ErrorCode::kIo, yaml_where(path, at) + ": more than " + std::to_string(kMaxExpressions) +
                                       " expressions (YAML aliases count each time they are used)"};
    };
    // A list's expressions, each words: an empty one (`~`, `null`, nothing between commas) or a
    // list or map in its place is refused naming its line (`null` was searched as a word "null",
    // and a map said "bad conversion").
    // Named by the group's line: an empty item's own mark is the next line's.
    const auto expressions_of = [&](const YAML::Node& list, std::vector<std::string>& out) -> std::optional<Error> {
      if (list.size() == 0) return Error{ErrorCode::kIo, yaml_where(path, list) + ": an empty group: write its expressions or leave it out"};
      for (const auto& e : list) {
        if (!e.IsNull() && !e.IsScalar())
          return Error{ErrorCode::kIo, yaml_where(path, e) + ": each expression of a group must be words, not a list or a map"};
        // Nothing to search (`~`, `null`, `""`, `"!!"`): it was dropped without a word.
        if (e.IsNull() || synonym_tokens(fold_text(e.Scalar())).empty())
          return Error{ErrorCode::kIo, yaml_where(path, list) + ": the group holds an empty expression (" +
                                           (e.IsNull() ? std::string("~ or null") : "\"" + e.Scalar() + "\", no word") +
                                           "): write its words or leave it out"};
        out.push_back(e.Scalar());
      }
      return std::nullopt;
    };
    for (const auto& section : root) {
      if (!section.second.IsSequence())
        return fail(ErrorCode::kIo, yaml_where(path, section.second) + ": '" + section.first.as<std::string>() + "' must be a list of groups");
      for (const auto& group : section.second) {
        // One way: `{from: [jab], to: [injection, vaccine]}`: a query with "jab" also finds the
        // articles saying "injection" or "vaccine"; one with "vaccine" does not find those
        // saying "injection" (as the group [jab, injection, vaccine] made it do).
        if (group.IsMap()) {
          const YAML::Node from = group["from"], to = group["to"];
          if (group.size() != 2 || !from || !to || !from.IsSequence() || !to.IsSequence() || from.size() == 0 || to.size() == 0)
            return fail(ErrorCode::kIo, yaml_where(path, group) +
                                            ": a one-way group must be {from: [expressions typed], to: [expressions they also find]}");
          std::vector<std::string> expressions;
          if (auto e = expressions_of(from, expressions)) return std::unexpected(*e);
          const std::size_t triggers = expressions.size();
          if (auto e = expressions_of(to, expressions)) return std::unexpected(*e);
          if (auto e = too_many(group, expressions.size())) return std::unexpected(*e);
          table.add_group(expressions, triggers, false);
          continue;
        }
        if (!group.IsSequence())
          return fail(ErrorCode::kIo, yaml_where(path, group) +
                                          ": each group must be a list like [MS, multiple sclerosis], or one way, {from: [jab], to: [vaccine]}");
        if (auto e = too_many(group, group.size())) return std::unexpected(*e);
        std::vector<std::string> expressions;
        if (auto e = expressions_of(group, expressions)) return std::unexpected(*e);
        table.add_group(expressions, expressions.size(), false);
      }
    }
    table.sort_longest_first();
  } catch (const YAML::Exception& e) {  // a value of the wrong kind (as<>)
    return fail(ErrorCode::kIo, path.string() + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return table;
}

std::string SynonymTable::nearest_word(std::string_view word, std::size_t max_edits) const {
  std::string best;
  std::size_t fewest = max_edits + 1;
  const std::size_t shortest = word.size() > max_edits ? word.size() - max_edits : 0;
  for (std::size_t length = shortest; length <= word.size() + max_edits && length < one_words_by_length_.size(); ++length)
    for (const auto& candidate : one_words_by_length_[length]) {
      const std::size_t edits = edits_between(word, candidate);
      if (edits < fewest || (edits == fewest && candidate < best)) {
        fewest = edits;
        best = candidate;
      }
    }
  return best;
}

std::string SynonymTable::fingerprint() const {
  if (groups_.empty()) return "none";
  // FNV-1a over the folded expressions, each group's ended by a byte no text holds.
  std::uint64_t h = 14695981039346656037ull;
  auto add = [&](unsigned char c) {
    h ^= c;
    h *= 1099511628211ull;
  };
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    for (std::size_t k = 0; k < groups_[g].size(); ++k) {
      for (unsigned char c : groups_[g][k]) add(c);
      add(k < triggers_[g] ? 0 : 1);  // typed, or found only
    }
    add(0xff);
  }
  return fmt::format("{} groups {:016x}", groups_.size(), h);
}

void SynonymTable::add_group(const std::vector<std::string>& expressions, std::size_t triggers, bool sort) {
  const std::size_t id = groups_.size();
  std::vector<std::string> folded;
  std::size_t folded_triggers = 0;
  for (std::size_t k = 0; k < expressions.size(); ++k) {
    std::string f = fold_text(expressions[k]);
    auto tokens = synonym_tokens(f);
    if (tokens.empty()) continue;
    folded.push_back(f);
    if (k >= triggers) continue;
    ++folded_triggers;
    if (tokens.size() == 1) {
      if (one_words_by_length_.size() <= tokens.front().size()) one_words_by_length_.resize(tokens.front().size() + 1);
      one_words_by_length_[tokens.front().size()].push_back(tokens.front());
    }
    by_first_token_[tokens.front()].push_back({std::move(tokens), id});
  }
  groups_.push_back(std::move(folded));
  triggers_.push_back(folded_triggers);
  if (sort) sort_longest_first();
}

void SynonymTable::sort_longest_first() {
  // Once per file, not per group: sorting every list at each group made a file of 100,000
  // groups take a quarter of an hour to load.
  for (auto& [first, list] : by_first_token_)
    std::stable_sort(list.begin(), list.end(), [](const Expression& a, const Expression& b) {
      return a.tokens.size() > b.tokens.size();
    });
  for (auto& words : one_words_by_length_) {
    std::sort(words.begin(), words.end());
    words.erase(std::unique(words.begin(), words.end()), words.end());
  }
}

// Calls on_match(tokens, i, expression) for each expression read in `q`, left to right, the
// longest at each word; expand and ends_with_expression read the same matches.
template <class OnMatch>
void SynonymTable::each_match(std::string_view q, bool partial, OnMatch&& on_match) const {
  const auto tokens = query_tokens(q, partial);
  for (std::size_t i = 0; i < tokens.size();) {
    const Expression* match = nullptr;
    if (tokens[i].expandable) {
      // The word as typed, and as the singular of a plural (`jabs`, `relapses`, `nerve coatings`
      // found none of their group's articles: `jab` 9, `jabs` 0), which may end an expression
      // that does not begin with a stop word (`the changes` is not "the change").
      std::vector<std::string> firsts{tokens[i].text};
      for (auto& singular : singulars(tokens[i].text)) firsts.push_back(std::move(singular));
      for (std::size_t f = 0; f < firsts.size(); ++f) {
        auto it = by_first_token_.find(firsts[f]);
        if (it == by_first_token_.end()) continue;
        for (const auto& e : it->second) {
          if (i + e.tokens.size() > tokens.size() || (match != nullptr && e.tokens.size() <= match->tokens.size())) continue;
          const bool plural_ends = !english_stop_words()(e.tokens.front());
          bool ok = f == 0 || (e.tokens.size() == 1 && plural_ends);
          // After a sign, an expression of several words only as one hyphenated word
          // (`-flare-up`, as `NOT flare-up` and `-flare-up` alone read it).
          for (std::size_t k = 0; k < e.tokens.size() && ok; ++k) {
            const std::string& typed = tokens[i + k].text;
            ok = tokens[i + k].expandable && (k == 0 || !tokens[i + k].sign) &&
                 (k == 0 || typed == e.tokens[k] || (k + 1 == e.tokens.size() && plural_ends && is_plural_of(typed, e.tokens[k]))) &&
                 (!tokens[i].sign || tokens[i + k].chunk == tokens[i].chunk);
          }
          if (ok) {
            match = &e;
            break;
          }
        }
      }
    }
    if (match == nullptr) {
      ++i;
      continue;
    }
    on_match(tokens, i, *match);
    i += match->tokens.size();
  }
}

std::string SynonymTable::expand(std::string_view q, bool partial) const {
  if (groups_.empty()) return std::string(q);
  std::string out;
  std::size_t copied = 0;
  each_match(q, partial, [&](const auto& tokens, std::size_t i, const Expression& e) {
    const Expression* match = &e;
    const std::size_t begin = tokens[i].begin, end = tokens[i + match->tokens.size() - 1].end;
    out.append(q.substr(copied, begin - copied));
    out += '(';
    const auto& group = groups_[match->group];
    for (std::size_t g = 0; g < group.size(); ++g) {
      if (g > 0) out += " OR ";
      out += quoted_if_needed(group[g]);
    }
    // A plural matched: the words as typed too (a phrase's words are matched as written).
    std::string typed;
    bool plural = false;
    for (std::size_t k = 0; k < match->tokens.size(); ++k) {
      typed += (k > 0 ? " " : "") + tokens[i + k].text;
      plural = plural || tokens[i + k].text != match->tokens[k];
    }
    if (plural) out += " OR " + quoted_if_needed(typed);
    out += ')';
    copied = end;
  });
  out.append(q.substr(copied));
  return out;
}

bool SynonymTable::ends_with_expression(std::string_view folded) const {
  bool ends = false;
  each_match(folded, false, [&](const auto& tokens, std::size_t i, const Expression& e) {
    ends = ends || (i + e.tokens.size() == tokens.size() && tokens.back().end == folded.size());
  });
  return ends;
}

}  // namespace mssearch
