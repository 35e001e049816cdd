// Searcher: answers a SearchRequest from one index — ranked hits with highlighted snippets,
// exact facet counts over the whole match set, filters, sorting, paging, "did you mean".
//
// Thread-safety: a Searcher owns its Xapian::Database and QueryParser, which are not
// thread-safe: use one Searcher per thread.
#pragma once

#include <cstddef>
#include <filesystem>

#include <xapian.h>

#include "schema/error.h"
#include "schema/text_analyzer.h"
#include "searcher/search_types.h"

namespace mssearch {

struct SearcherOptions {
  std::filesystem::path db_path = "data/index";
  std::size_t snippet_length = 240;         // characters of article text in a snippet
  std::size_t max_limit = 100;              // cap on hits per page
  std::size_t max_offset = 10000;           // cap on paging depth
  std::size_t max_query_bytes = 2048;       // longer queries are refused
  std::size_t max_query_terms = 64;         // more terms are refused
  Xapian::termcount max_wildcard_expansion = 200;
};

class Searcher {
 public:
  // Errors: kIndexMissing, kSchemaMismatch, kDatabase.
  static Result<Searcher> open(const SearcherOptions& options);

  // Errors: kBadQuery (limits), kDatabase. Invalid query syntax is not an error: the query
  // falls back to its plain words.
  Result<SearchResult> search(const SearchRequest& request);

  const Xapian::Database& database() const { return db_; }

 private:
  Searcher(const SearcherOptions& options, Xapian::Database db);
  Xapian::Query parse(const std::string& text, bool partial, std::string* corrected);
  Xapian::Query filters(const SearchRequest& request) const;
  SearchHit make_hit(const Xapian::MSet& mset, const Xapian::MSetIterator& it) const;

  SearcherOptions options_;
  Xapian::Database db_;
  TextAnalyzer analyzer_;
  Xapian::QueryParser parser_;
};

}  // namespace mssearch
