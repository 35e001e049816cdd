// The server-rendered search page: templates in server/assets, filled with kainjow::mustache,
// which HTML-escapes every value ({{x}}). Snippets are inserted as rendered by
// Highlighted::html() ({{{snippet}}}): the text escaped, only <mark> tags added.
#pragma once

#include <string>
#include <vector>

#include "schema/article.h"

#include "searcher/search_types.h"
#include "server/request_params.h"
#include "server/server_options.h"

namespace mssearch {

// Where a page links an article: its own `url` when the article names one (a page elsewhere on
// the site or another site); else the configured `article_url` template with {id} replaced;
// else the server's own article page, /articles/{id}.
std::string article_link(const std::string& url, const std::string& id, const ServerOptions& options);

struct PageContent {
  const PageRequest* request = nullptr;  // what was asked (for links and form state)
  const SearchResult* result = nullptr;  // null when there is no answer (error)
  std::vector<FacetValue> all_topics;    // facets to show for an empty query
  std::string error;                     // shown above the results
  const ServerOptions* options = nullptr;  // for article links (article_url); null: defaults
  std::uint64_t search_id = 0;            // analytics: the id click beacons name (0: none)
  std::vector<std::string> notices = {};  // what of the request was left out, in plain words
  bool articles_missing = false;          // though every shard answered (configured amiss, damage)
};

// An article's own page (/articles/{id}), in the shape of the site's pages: title, date,
// journal, ratings, key takeaway, the sections, topics linking to a topic search, and "You May
// Also Like". Without an article: a page saying `message` under the heading `title`.
struct ArticlePage {
  const Article* article = nullptr;
  std::vector<SearchHit> related;
  std::string title, message;  // when there is no article
  bool related_missing = false;  // some articles could not be searched (a shard down, configured amiss, damage)
};
std::string render_article(const ArticlePage& page, const ServerOptions& options);

// The results fragment (what the script swaps in) and the whole page around it.
std::string render_results(const PageContent& content);
std::string render_page(const PageContent& content, const ServerOptions& options);
// The address of a page asset (search.css, search.js) with its content's fingerprint in the
// name (/static/search.0123456789abcdef.css): it can be cached for a year, and a new build's
// pages ask for the new file.
std::string static_href(std::string_view name);

// The OpenSearch description; its ShortName is opensearch_short_name(site_name).
std::string render_opensearch(const ServerOptions& options, const std::string& base_url);
// At most 16 characters of `name`, cut at a word boundary when there is one, never inside a
// character's UTF-8 bytes.
std::string opensearch_short_name(std::string_view name);

}  // namespace mssearch
