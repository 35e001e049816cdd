#include "searcher/stored_articles.h"

#include <stdexcept>
#include <utility>

#include "schema/schema.h"

namespace mssearch {

namespace {

// The id of a document, from its id term (for naming a damaged article).
std::string id_of(const Xapian::Document& doc) {
  try {
    auto t = doc.termlist_begin();
    t.skip_to(std::string(schema::kIdPrefix));
    if (t != doc.termlist_end() && (*t).starts_with(schema::kIdPrefix)) return (*t).substr(schema::kIdPrefix.size());
  } catch (const Xapian::Error&) {
  }
  return "document " + std::to_string(doc.get_docid());
}

}  // namespace

std::optional<Article> StoredArticles::get(const Xapian::Document& doc, StoredParts parts) {
  try {
    return decode_stored(doc.get_data(), parts);
  } catch (const std::runtime_error& e) {  // zstd, MessagePack and length errors
    warnings_.push_back("article '" + id_of(doc) + "' was left out: its stored data is damaged (" + e.what() +
                        "); `mssearch check` verifies the index, `mssearch index --full` rebuilds it");
    return std::nullopt;
  }
}

Result<Article> StoredArticles::get_or_error(const Xapian::Document& doc, const std::string& id, StoredParts parts) {
  try {
    return decode_stored(doc.get_data(), parts);
  } catch (const std::runtime_error& e) {
    return fail(ErrorCode::kCorrupt,
                "article '" + id + "' is damaged in the index (" + e.what() + "); `mssearch index --full` rebuilds it");
  }
}

SearchHit hit_of(const Article& a, double score) {
  return SearchHit{a.id, a.title, a.url, a.date, a.journal, a.takeaway, a.topics, a.credibility, a.interest, score, {}};
}

}  // namespace mssearch
