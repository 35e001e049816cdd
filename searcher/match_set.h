// The documents a query matches, as a bitset over document ids, for counting a match (the
// total, the facet counts) without weighing every match. Terms and boolean operators, which is
// most of what the searcher builds for a visitor's words, topic/journal/year filters and its
// boosts, are read straight off the posting lists: one bit per posting, where Xapian's matcher
// would spend a weight calculation and a match-spy call per document; so are wildcards of up
// to a given number of terms. Anything else (a phrase, a value range) is matched by Xapian
// without weights.
#pragma once

#include <bit>
#include <cstdint>
#include <vector>

#include <xapian.h>

namespace mssearch {

class MatchSet {
 public:
  // The documents of `db` that `query` matches. Operators whose right side only adds weight
  // (AND_MAYBE, the boosts and bonuses the searcher adds) count their left side. A wildcard of
  // at most `max_expansion` terms (at most the searcher's expansion limit) is expanded here.
  static MatchSet of(const Xapian::Database& db, const Xapian::Query& query, Xapian::termcount max_expansion);

  // Whether of() needs nothing but posting lists for `query`: no phrase, value range or the
  // like, which Xapian's matcher must check document by document, and no wildcard over
  // `max_expansion` terms, where the matcher picks the terms. For any other query, a searcher
  // that wants the weighted best hits as well does better with one exhaustive weighted pass
  // than with of() plus a weighted pass: both would repeat that work.
  static bool reads_postings_only(const Xapian::Database& db, const Xapian::Query& query,
                                  Xapian::termcount max_expansion);

  explicit MatchSet(std::size_t words) : words_(words, 0) {}

  void set(Xapian::docid id) {
    if (id / 64 < words_.size()) words_[id / 64] |= std::uint64_t{1} << (id % 64);
  }
  // this = this OP other, for the sides of a boolean operator.
  void combine(Xapian::Query::op op, const MatchSet& other);

  std::size_t count() const {
    std::size_t n = 0;
    for (auto word : words_) n += static_cast<std::size_t>(std::popcount(word));
    return n;
  }

  // Calls f(docid) for every matching document, in docid order.
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t w = 0; w < words_.size(); ++w)
      for (std::uint64_t word = words_[w]; word != 0; word &= word - 1)
        f(static_cast<Xapian::docid>(w * 64 + static_cast<std::size_t>(std::countr_zero(word))));
  }

 private:
  std::vector<std::uint64_t> words_;
};

}  // namespace mssearch
