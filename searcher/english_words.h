// The words of English, as the system's spelling word lists know them (Debian's wamerican and
// wbritish: /usr/share/dict/american-english and british-english, ~100,000 words each with
// their inflected forms). "Did you mean" uses it to tell a typo from a word the index happens
// not to hold: a visitor who types "walking stick" or "numb hands" over articles that never
// use "stick" or "numb" is not offered "walking still" or "number hands". Read-only once
// loaded, so one list serves every thread.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace mssearch {

class EnglishWords {
 public:
  // The lists named, each read if it exists (a missing or unreadable one is skipped): words
  // folded as the index folds text, possessives ("hand's") left out.
  explicit EnglishWords(const std::vector<std::filesystem::path>& lists);
  // The system's lists, read once on first use (thread-safe). $MSSEARCH_WORD_LISTS, a
  // colon-separated list of files, replaces the default paths (an empty value: no list).
  static const EnglishWords& system();

  // Whether `folded` (lower case, accents removed) is an English word.
  bool knows(std::string_view folded) const;
  // Whether `folded` is listed only with a capital (`Brian`, `Thai`): a name, which a visitor
  // typing in lower case may mean (`thai`) or may have mistyped (`brian` for brain).
  bool is_name(std::string_view folded) const;
  // No list could be read: every word is unknown.
  bool empty() const { return words_.empty(); }
  std::size_t size() const { return words_.size(); }

 private:
  std::vector<std::string> words_;  // sorted, unique
  std::vector<std::string> names_;  // sorted, unique: those of words_ never listed in lower case
};

}  // namespace mssearch
