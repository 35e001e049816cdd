#include "searcher/english_words.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include "schema/text_analyzer.h"

namespace mssearch {

EnglishWords::EnglishWords(const std::vector<std::filesystem::path>& lists) {
  std::vector<std::string> lower_case;  // words listed at least once without a capital
  for (const auto& path : lists) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();  // a list saved with CRLF line ends
      if (line.empty() || line.find('\'') != std::string::npos) continue;
      UChar32 first = 0;
      std::int32_t at = 0;
      U8_NEXT(line.data(), at, static_cast<std::int32_t>(line.size()), first);
      const bool capitalised = first >= 0 && u_isupper(first) != 0;
      const bool ascii = std::all_of(line.begin(), line.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
      if (ascii) {
        std::transform(line.begin(), line.end(), line.begin(),
                       [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
      } else {
        line = fold_text(line);  // "éclair" is searched as "eclair"
      }
      if (!capitalised) lower_case.push_back(line);
      words_.push_back(std::move(line));
    }
  }
  const auto sort_unique = [](std::vector<std::string>& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  };
  sort_unique(words_);
  sort_unique(lower_case);
  std::set_difference(words_.begin(), words_.end(), lower_case.begin(), lower_case.end(), std::back_inserter(names_));
  words_.shrink_to_fit();
  names_.shrink_to_fit();
}

const EnglishWords& EnglishWords::system() {
  static const EnglishWords words = [] {
    std::vector<std::filesystem::path> lists;
    if (const char* env = std::getenv("MSSEARCH_WORD_LISTS")) {
      const std::string_view all = env;
      for (std::size_t start = 0; start <= all.size();) {
        const std::size_t end = std::min(all.find(':', start), all.size());
        if (end > start) lists.emplace_back(std::string(all.substr(start, end - start)));
        start = end + 1;
      }
    } else {
      lists = {"/usr/share/dict/american-english", "/usr/share/dict/british-english"};
    }
    return EnglishWords(lists);
  }();
  return words;
}

bool EnglishWords::knows(std::string_view folded) const {
  return std::binary_search(words_.begin(), words_.end(), folded,
                            [](std::string_view a, std::string_view b) { return a < b; });
}

bool EnglishWords::is_name(std::string_view folded) const {
  return std::binary_search(names_.begin(), names_.end(), folded,
                            [](std::string_view a, std::string_view b) { return a < b; });
}

}  // namespace mssearch
