// One form of each word among as-you-type completions, shared by one index's suggestions
// (Searcher::Impl::suggest_once) and a coordinator's merge of its shards' (Coordinator::suggest),
// so that both keep the same forms.
#pragma once

#include <set>
#include <string>
#include <string_view>

#include <xapian.h>

namespace mssearch {

// The first completion offered (the most frequent) of those whose last word has the same stem,
// the text before that word alike: `-sl` offered -slow, -slowed, -slowly and -slows, which
// leave out alike, and `fat` "fatigue" and "fatigued". An exclusion's minus is kept with the
// text before the word.
class OneFormPerStem {
 public:
  // `stem` must outlive this, and is not shared with another thread while it is used.
  explicit OneFormPerStem(const Xapian::Stem& stem) : stem_(stem) {}
  // Whether `text` is the first form of its stem seen.
  bool first(std::string_view text);

 private:
  const Xapian::Stem& stem_;
  std::set<std::string> seen_;
};

}  // namespace mssearch
