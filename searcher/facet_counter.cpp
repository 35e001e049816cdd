#include "searcher/facet_counter.h"

#include <algorithm>
#include <map>
#include <string>

#include "schema/schema.h"
#include "searcher/facet_columns.h"
#include "searcher/match_set.h"

namespace mssearch {

namespace {

std::vector<FacetValue> sorted_facets(const std::map<std::string, Xapian::doccount>& counts) {
  std::vector<FacetValue> out;
  for (const auto& [value, count] : counts)
    if (!value.empty()) out.push_back({value, count});
  std::stable_sort(out.begin(), out.end(), [](const FacetValue& a, const FacetValue& b) { return a.count > b.count; });
  return out;
}

// A ValueCountMatchSpy counts one string per slot; the topic slot holds an article's whole
// topic set, so each counted set is split and its count added to every topic in it.
std::map<std::string, Xapian::doccount> spy_counts(const Xapian::ValueCountMatchSpy& spy, bool split_topic_sets) {
  std::map<std::string, Xapian::doccount> counts;
  for (auto it = spy.values_begin(); it != spy.values_end(); ++it) {
    if (split_topic_sets) {
      for (auto& topic : schema::decode_topic_set(*it)) counts[topic] += it.get_termfreq();
    } else {
      counts[*it] += it.get_termfreq();
    }
  }
  return counts;
}

class SpyCounter final : public FacetCounter {
 public:
  Xapian::doccount attach(Xapian::Enquire& enquire) override {
    enquire.add_matchspy(&topics_);
    enquire.add_matchspy(&years_);
    enquire.add_matchspy(&journals_);
    return every_;  // the spies must see every match
  }
  std::optional<Xapian::doccount> total() const override { return std::nullopt; }
  FacetCounts counts() const override {
    return {sorted_facets(spy_counts(topics_, true)), sorted_facets(spy_counts(years_, false)),
            sorted_facets(spy_counts(journals_, false))};
  }
  explicit SpyCounter(Xapian::doccount every) : every_(every) {}

 private:
  Xapian::doccount every_;
  Xapian::ValueCountMatchSpy topics_{schema::kSlotTopics}, years_{schema::kSlotYear}, journals_{schema::kSlotJournal};
};

class SpyCounting final : public FacetCounting {
 public:
  explicit SpyCounting(const Xapian::Database& db) : db_(db) {}
  std::unique_ptr<FacetCounter> start(const Xapian::Query&) const override {
    return std::make_unique<SpyCounter>(db_.get_doccount());
  }

 private:
  Xapian::Database db_;
};

// Columns fed by the matcher's spy (one exhaustive weighted pass), or by a MatchSet read off
// the posting lists before the match (the matcher then need not visit every match).
class ColumnCounter final : public FacetCounter {
 public:
  ColumnCounter(const FacetColumns& columns, std::optional<MatchSet> matched, Xapian::doccount every)
      : spy_(columns), matched_(std::move(matched)), every_(every) {
    if (matched_) matched_->for_each([&](Xapian::docid id) { spy_.add(id); });
  }
  Xapian::doccount attach(Xapian::Enquire& enquire) override {
    if (matched_) return 0;
    enquire.add_matchspy(&spy_);
    return every_;
  }
  std::optional<Xapian::doccount> total() const override {
    if (!matched_) return std::nullopt;
    return static_cast<Xapian::doccount>(matched_->count());
  }
  FacetCounts counts() const override {
    return {sorted_facets(spy_.counts(0)), sorted_facets(spy_.counts(1)), sorted_facets(spy_.counts(2))};
  }

 private:
  FacetColumns::Spy spy_;
  std::optional<MatchSet> matched_;
  Xapian::doccount every_;
};

class ColumnCounting final : public FacetCounting {
 public:
  ColumnCounting(const Xapian::Database& db, Xapian::termcount max_expansion) : db_(db), max_expansion_(max_expansion) {
    columns_.load(db_);
  }
  std::unique_ptr<FacetCounter> start(const Xapian::Query& query) const override {
    // A phrase, a value range or a wildcard past the expansion limit is the matcher's work
    // either way: then one exhaustive weighted pass counts.
    std::optional<MatchSet> matched;
    if (MatchSet::reads_postings_only(db_, query, max_expansion_)) matched = MatchSet::of(db_, query, max_expansion_);
    return std::make_unique<ColumnCounter>(columns_, std::move(matched), db_.get_doccount());
  }

 private:
  Xapian::Database db_;
  Xapian::termcount max_expansion_;
  FacetColumns columns_;
};

}  // namespace

std::unique_ptr<FacetCounting> FacetCounting::for_database(const Xapian::Database& db, bool single_local,
                                                           Xapian::termcount max_expansion) {
  if (single_local) return std::make_unique<ColumnCounting>(db, max_expansion);
  return std::make_unique<SpyCounting>(db);
}

}  // namespace mssearch
