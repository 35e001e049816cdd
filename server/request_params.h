// Turns an HTTP request's query parameters into a SearchRequest, or says which parameter is
// wrong. Shared by /api/search and the search page, so both accept exactly the same input.
#pragma once

#include <expected>
#include <string>
#include <vector>

#include <httplib.h>

#include "searcher/search_types.h"
#include "server/server_options.h"

namespace mssearch {

struct HttpError {
  int status = 400;
  std::string code;     // e.g. "bad_parameter"
  std::string message;  // names the parameter and what is wrong
};

struct PageRequest {
  SearchRequest search;
  std::size_t page = 1, per_page = 10;
};

// Parameters: q, topic (repeatable), journal (repeatable), year (repeatable), since, until,
// min_credibility, sort (relevance|date), page (from 1), per_page, partial (0/1/true/false).
// Unknown parameters are ignored. Errors: a value that is not UTF-8, a single-valued parameter
// given twice, a number out of range, a bad date, too many parameters or values.
std::expected<PageRequest, HttpError> parse_search_params(const httplib::Request& request,
                                                          const ServerOptions& options);

// The search page's reading of the same parameters: a value the API refuses is left out where
// the search still makes sense without it (a page number, a sort order, a date, a year, a
// rating, a page size, a filter that cannot be read or is one too many: the default instead),
// and `notices` say so in plain words for the page. What cannot be left out (the words
// searched: not UTF-8, given twice, over max_query_bytes; or over 64 parameters) is a 400 whose
// message is a visitor's, not the API's.
struct PageParams {
  PageRequest request;
  std::vector<std::string> notices;
};
std::expected<PageParams, HttpError> parse_page_params(const httplib::Request& request, const ServerOptions& options);

// Every parameter value must be valid UTF-8; returns the first offender.
std::expected<void, HttpError> check_params_utf8(const httplib::Request& request);

// The `limit` parameter (suggestions, related articles): a whole number from 1 to `max`, given
// at most once; `fallback` when absent. Anything else is a 400 naming the range.
std::expected<std::size_t, HttpError> parse_limit(const httplib::Request& request, std::size_t fallback,
                                                  std::size_t max);

// A Host header value that is only a host and an optional port: a DNS name or IPv4 address
// (letters, digits, '-' and '.') or a bracketed IPv6 address, then `:` and 1 to 5 digits. What
// may be echoed into a URL when no public_url is configured; anything else is not trusted.
bool is_plain_host(std::string_view host);

}  // namespace mssearch
