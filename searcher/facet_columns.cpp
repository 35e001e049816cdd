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
    column.set_begin = {0, 0};  // set 0: no value
    // Topic sets are split into their topics once here, not for every search.
    std::unordered_map<std::string, std::uint32_t> set_index, name_index;
    for (auto v = db.valuestream_begin(kSlots[f]); v != db.valuestream_end(kSlots[f]); ++v) {
      auto [it, added] = set_index.try_emplace(*v, static_cast<std::uint32_t>(column.set_begin.size() - 1));
      if (added) {
        for (auto& name : f == 0 ? schema::decode_topic_set(*v) : std::vector<std::string>{*v}) {
          if (name.empty()) continue;
          auto [n, new_name] = name_index.try_emplace(name, static_cast<std::uint32_t>(column.names.size()));
          if (new_name) column.names.push_back(name);
          column.set_names.push_back(n->second);
        }
        column.set_begin.push_back(static_cast<std::uint32_t>(column.set_names.size()));
      }
      if (v.get_docid() <= last) column.by_docid[v.get_docid()] = it->second;
    }
    columns_[f] = std::move(column);
  }
}

FacetColumns::Spy::Spy(const FacetColumns& columns) : columns_(columns) {
  for (std::size_t f = 0; f < kCount; ++f) counts_[f].assign(columns.columns_[f].names.size(), 0);
}

void FacetColumns::Spy::operator()(const Xapian::Document& doc, double) { add(doc.get_docid()); }

std::map<std::string, Xapian::doccount> FacetColumns::Spy::counts(std::size_t facet) const {
  const Column& column = columns_.columns_[facet];
  std::map<std::string, Xapian::doccount> out;
  for (std::size_t n = 0; n < column.names.size(); ++n)
    if (counts_[facet][n] != 0) out.emplace(column.names[n], counts_[facet][n]);
  return out;
}

}  // namespace mssearch
