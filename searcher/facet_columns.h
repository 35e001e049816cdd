// Facet values of every article held in memory by document id (rebuilt whenever the searcher
// moves to a new revision), so that counting facets over a match set costs an array increment
// per match instead of decoding three document values. One local database only: a remote
// shard runs its match spies itself (xapian-tcpsrv knows only Xapian's built-in ones), and over
// several databases a spy sees each sub-database's own document ids; the searcher uses
// ValueCountMatchSpy there.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <xapian.h>

namespace mssearch {

class FacetColumns {
 public:
  // The facets counted: topic sets, years, journals (schema slots).
  static constexpr std::size_t kCount = 3;

  // Reads the value streams of `db` once. Cost: one pass over three value slots.
  void load(const Xapian::Database& db);

  // Counts, over the documents of one match, for each facet: value index -> documents.
  class Spy : public Xapian::MatchSpy {
   public:
    explicit Spy(const FacetColumns& columns);
    void operator()(const Xapian::Document& doc, double weight) override;
    // Counts one document (when the match set is known without the matcher: MatchSet).
    void add(Xapian::docid id) {
      ++seen_;
      for (std::size_t f = 0; f < kCount; ++f) {
        const Column& column = columns_.columns_[f];
        // A document added after the columns were loaded (the reader moved on mid-search) is
        // not counted; the searcher reloads the columns with every new revision.
        if (id >= column.by_docid.size()) continue;
        const std::uint32_t set = column.by_docid[id];
        for (std::uint32_t i = column.set_begin[set]; i < column.set_begin[set + 1]; ++i)
          ++counts_[f][column.set_names[i]];
      }
    }
    // Documents counted (each once).
    std::size_t seen() const { return seen_; }
    // Adds another spy's counts over the same columns (a slice of the same match).
    void merge(const Spy& other) {
      seen_ += other.seen_;
      for (std::size_t f = 0; f < kCount; ++f)
        for (std::size_t n = 0; n < counts_[f].size() && n < other.counts_[f].size(); ++n) counts_[f][n] += other.counts_[f][n];
    }
    // Display value -> count for facet `facet`.
    std::map<std::string, Xapian::doccount> counts(std::size_t facet) const;

   private:
    const FacetColumns& columns_;
    std::vector<Xapian::doccount> counts_[kCount];
    std::size_t seen_ = 0;
  };

 private:
  // Each document's value is one of a few distinct sets of names (a topic set; one year or
  // journal), kept flat: set s holds set_names[set_begin[s]] up to set_names[set_begin[s + 1]].
  // Set 0 is empty (no value). A match counts names directly, so that a search never touches
  // every distinct set (at 100k articles there are tens of thousands of topic sets).
  struct Column {
    std::vector<std::uint32_t> by_docid;    // index into the sets
    std::vector<std::uint32_t> set_begin;   // sets + 1 offsets into set_names
    std::vector<std::uint32_t> set_names;   // indices into names
    std::vector<std::string> names;         // display values (one topic, year or journal)
  };
  Column columns_[kCount];
};

}  // namespace mssearch
