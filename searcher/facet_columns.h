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
      for (std::size_t f = 0; f < kCount; ++f) {
        const auto& by_docid = columns_.columns_[f].by_docid;
        // A document added after the columns were loaded (the reader moved on mid-search) is
        // not counted; the searcher reloads the columns with every new revision.
        if (id < by_docid.size()) ++counts_[f][by_docid[id]];
      }
    }
    // Display value -> count for facet `facet`; topic sets are split into their topics.
    std::map<std::string, Xapian::doccount> counts(std::size_t facet) const;

   private:
    const FacetColumns& columns_;
    std::vector<Xapian::doccount> counts_[kCount];
  };

 private:
  struct Column {
    std::vector<std::uint32_t> by_docid;            // 0: no value; else 1 + index into sets
    std::vector<std::vector<std::uint32_t>> sets;   // each distinct slot value: indices into names
    std::vector<std::string> names;                 // display values (one topic, year or journal)
  };
  Column columns_[kCount];
};

}  // namespace mssearch
