#include "searcher/english_words.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "schema/text_analyzer.h"

namespace mssearch {

EnglishWords::EnglishWords(const std::vector<std::filesystem::path>& lists) {
  for (const auto& path : lists) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();  // a list saved with CRLF line ends
      if (line.empty() || line.find('\'') != std::string::npos) continue;
      const bool ascii = std::all_of(line.begin(), line.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
      if (ascii) {
        std::transform(line.begin(), line.end(), line.begin(),
                       [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
        words_.push_back(std::move(line));
      } else {
        words_.push_back(fold_text(line));  // "éclair" is searched as "eclair"
      }
    }
  }
  std::sort(words_.begin(), words_.end());
  words_.erase(std::unique(words_.begin(), words_.end()), words_.end());
  words_.shrink_to_fit();
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

}  // namespace mssearch
