// SynonymTable: groups of equivalent expressions (corpus/synonyms.yaml): abbreviations such as
// MS = multiple sclerosis, and the lay words readers type for the articles' terms
// (nerve coating = myelin). Xapian's own synonyms map one term to single terms only, so
// multi-word equivalents are expanded here, in the query text, into OR groups of phrases.
//
// Thread-safety: immutable after load(); share freely.
#pragma once

#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "schema/error.h"

namespace mssearch {

class SynonymTable {
 public:
  SynonymTable() = default;

  // Reads every list of expressions under the file's top-level keys. Errors name the file and
  // the YAML line. An empty path gives an empty table.
  static Result<SynonymTable> load(const std::filesystem::path& path);

  // Adds one group of equivalent expressions (any case and accents).
  void add_group(const std::vector<std::string>& expressions) { add_group(expressions, expressions.size(), true); }
  // One way: the first `triggers` expressions typed also find the others; the others typed
  // find only themselves.
  void add_one_way(const std::vector<std::string>& from, const std::vector<std::string>& to) {
    std::vector<std::string> all = from;
    all.insert(all.end(), to.begin(), to.end());
    add_group(all, from.size(), true);
  }

  // Rewrites folded query text: each expression found (outside quotes, not after a field
  // prefix or +/-, and not the unfinished last word when `partial`) becomes
  // (expr OR "other expr" …). Longest match wins. Text without matches comes back unchanged.
  std::string expand(std::string_view folded_query, bool partial) const;

  // Whether the last word of `folded`, at its very end, is read as (the end of) an expression:
  // as-you-type, such a word is whole, not a prefix (`nerve coatings`).
  bool ends_with_expression(std::string_view folded) const;

  std::size_t group_count() const { return groups_.size(); }
  // The one-word expression (folded) that typing expands, nearest to `word` within
  // `max_edits` (edits_between), or empty: a typo of a word only the table knows (`tierd`,
  // `gilenia`), which the index's spelling data cannot offer.
  std::string nearest_word(std::string_view word, std::size_t max_edits) const;
  // What the table holds, in a few characters ("none", or "63 groups 9f3a…"): shard servers
  // and their coordinator compare it, since each shard expands the words it searches.
  std::string fingerprint() const;

 private:
  void add_group(const std::vector<std::string>& expressions, std::size_t triggers, bool sort);
  void sort_longest_first();  // each first word's expressions, longest first (stable)
  struct Expression {
    std::vector<std::string> tokens;
    std::size_t group;
  };
  template <class OnMatch>
  void each_match(std::string_view q, bool partial, OnMatch&& on_match) const;
  std::vector<std::vector<std::string>> groups_;  // folded expressions as written
  std::vector<std::size_t> triggers_;              // of each group: how many of its first expand it
  std::unordered_map<std::string, std::vector<Expression>> by_first_token_;
  // The one-word expressions typing expands, by length in bytes (nearest_word reads only the
  // lengths within its edits: a file of 110,000 groups read them all for each word).
  std::vector<std::vector<std::string>> one_words_by_length_;  // each sorted, unique (sort_longest_first)
};

// Splits folded text into alphanumeric tokens (bytes >= 0x80 count as letters).
// Whether `c` is part of a word of a query (a letter or digit, or any byte of a non-ASCII
// character): how the synonyms and the planner cut a query into words.
bool is_word_byte(char c);
std::vector<std::string> synonym_tokens(std::string_view folded);

}  // namespace mssearch
