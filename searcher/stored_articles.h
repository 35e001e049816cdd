// Reading the stored articles of an answer's documents. Damaged stored data (a zstd checksum,
// a cut frame) never ends the process: in an answer the article is left out and named in the
// warnings; asked for by id, it is an error (kCorrupt) naming it. Xapian's own errors still
// propagate. Internal to the searcher.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <xapian.h>

#include "schema/article.h"
#include "schema/error.h"
#include "searcher/search_types.h"

namespace mssearch {

class StoredArticles {
 public:
  // The article, or nothing (and a warning) when its stored data is damaged.
  std::optional<Article> get(const Xapian::Document& doc, StoredParts parts);
  // One article asked for by id: damage is an error.
  static Result<Article> get_or_error(const Xapian::Document& doc, const std::string& id, StoredParts parts);

  // What was left out since the last take.
  std::vector<std::string> take_warnings() { return std::exchange(warnings_, {}); }

 private:
  std::vector<std::string> warnings_;
};

// A hit of an answer: the article's fields and its score (no snippet yet).
SearchHit hit_of(const Article& article, double score);

}  // namespace mssearch
