// The server-rendered search page: templates in server/assets, filled with kainjow::mustache,
// which HTML-escapes every value ({{x}}). Snippets are inserted as they are ({{{snippet}}}):
// Xapian has already escaped the article text in them and added only <mark> tags.
#pragma once

#include <string>

#include "searcher/search_types.h"
#include "server/request_params.h"
#include "server/server_options.h"

namespace mssearch {

struct PageContent {
  const PageRequest* request = nullptr;  // what was asked (for links and form state)
  const SearchResult* result = nullptr;  // null when there is no answer (error)
  std::vector<FacetValue> all_topics;    // facets to show for an empty query
  std::string error;                     // shown above the results
};

// The results fragment (what the script swaps in) and the whole page around it.
std::string render_results(const PageContent& content);
std::string render_page(const PageContent& content, const ServerOptions& options);
std::string render_opensearch(const ServerOptions& options, const std::string& base_url);

}  // namespace mssearch
