// The pipeline's fourth stage, page: the stored fields of the page's hits and their snippets.
// Snippets mark the words typed (and their stems), never feedback's terms: the match's MSet of
// the query as typed gives the marks. Internal to the searcher.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <xapian.h>

#include "schema/text_analyzer.h"
#include "searcher/ranking.h"
#include "searcher/stored_articles.h"

namespace mssearch {

struct Page {
  std::vector<SearchHit> hits;
  std::vector<Xapian::docid> docids;  // of the hits, in order
  std::vector<std::string> ids;       // of the hits, in order
};

struct PageOptions {
  bool snippets = true;
  std::size_t snippet_length = 240;  // characters of article text
  // Each hit's id, score, date and credibility only (a shard's window of a page far down, merged
  // by the coordinator and fetched whole for the page kept): no other field read, no snippet.
  bool keys_only = false;
};

// `marks`: the match's MSet (its query's terms are marked); `stemmer`: the stemmer its terms
// were made with (TextAnalyzer::snippet_stemmer).
Page build_page(const Xapian::Database& db, const ScoredDocs& ranked, const Xapian::MSet& marks,
                const Xapian::Stem& stemmer, const PageOptions& options, StoredArticles& stored);

// Xapian's snippet (its text HTML-escaped, `<mark>` and `</mark>` around the words matched)
// as plain text and spans.
Highlighted highlighted_from_snippet(std::string_view xapian_snippet);

// The text a snippet is taken from: the takeaway and the body on one line, at most the first
// 64 KiB (a summary is a few KB; an article of megabytes must not cost seconds a hit).
std::string snippet_source(const Article& article);

}  // namespace mssearch
