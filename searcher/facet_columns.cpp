#include "searcher/facet_columns.h"

#include <unordered_map>

#include "schema/schema.h"

namespace mssearch {
namespace {

constexpr Xapian::valueno kSlots[FacetColumns::kCount] = {schema::kSlotTopics, schema::kSlotYear,
                                                          schema::kSlotJournal};

}  // namespace

void FacetColumns::load(const Xapian::Database& db) {
  const Xapian::docid last = db.get_lastdocid();
  for (std::size_t f = 0; f < kCount; ++f) {
    Column column;
    column.by_docid.assign(static_cast<std::size_t>(last) + 1, 0);
    std::unordered_map<std::string, std::uint32_t> index;
    for (auto v = db.valuestream_begin(kSlots[f]); v != db.valuestream_end(kSlots[f]); ++v) {
      auto [it, added] = index.try_emplace(*v, static_cast<std::uint32_t>(column.values.size() + 1));
      if (added) column.values.push_back(*v);
      if (v.get_docid() <= last) column.by_docid[v.get_docid()] = it->second;
    }
    columns_[f] = std::move(column);
  }
}

FacetColumns::Spy::Spy(const FacetColumns& columns) : columns_(columns) {
  for (std::size_t f = 0; f < kCount; ++f) counts_[f].assign(columns.columns_[f].values.size() + 1, 0);
}

void FacetColumns::Spy::operator()(const Xapian::Document& doc, double) {
  const Xapian::docid id = doc.get_docid();
  for (std::size_t f = 0; f < kCount; ++f) {
    const auto& by_docid = columns_.columns_[f].by_docid;
    // A document added after the columns were loaded (the reader moved on mid-search) is not
    // counted; the searcher reloads the columns with every new revision.
    if (id < by_docid.size()) ++counts_[f][by_docid[id]];
  }
}

std::map<std::string, Xapian::doccount> FacetColumns::Spy::counts(std::size_t facet) const {
  std::map<std::string, Xapian::doccount> out;
  const auto& values = columns_.columns_[facet].values;
  for (std::size_t i = 1; i < counts_[facet].size(); ++i) {
    if (counts_[facet][i] == 0) continue;
    if (facet == 0) {
      for (auto& topic : schema::decode_topic_set(values[i - 1])) out[topic] += counts_[facet][i];
    } else {
      out[values[i - 1]] += counts_[facet][i];
    }
  }
  return out;
}

}  // namespace mssearch
