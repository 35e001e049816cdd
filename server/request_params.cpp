#include "server/request_params.h"

#include <cctype>
#include <charconv>
#include <chrono>

#include "schema/utf8.h"

namespace mssearch {
namespace {

constexpr std::size_t kMaxParams = 64;
constexpr std::size_t kMaxValuesPerFilter = 20;

std::unexpected<HttpError> bad(std::string message) {
  return std::unexpected(HttpError{400, "bad_parameter", std::move(message)});
}

std::expected<long, HttpError> integer(const std::string& name, const std::string& text, long lo, long hi) {
  long value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty())
    return bad("parameter '" + name + "' must be a whole number, not '" + text.substr(0, 40) + "'");
  if (value < lo || value > hi)
    return bad("parameter '" + name + "' must be from " + std::to_string(lo) + " to " + std::to_string(hi));
  return value;
}

bool iso_date(const std::string& d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (d[i] < '0' || d[i] > '9') return false;
  using namespace std::chrono;
  return year_month_day{year{std::stoi(d.substr(0, 4))}, month{static_cast<unsigned>(std::stoi(d.substr(5, 2)))},
                        day{static_cast<unsigned>(std::stoi(d.substr(8, 2)))}}
      .ok();
}

}  // namespace

std::expected<void, HttpError> check_params_utf8(const httplib::Request& request) {
  for (const auto& [name, value] : request.params) {
    if (find_invalid_utf8(name) != std::string::npos)
      return bad("a parameter name is not valid UTF-8");
    if (auto at = find_invalid_utf8(value); at != std::string::npos)
      return bad("parameter '" + name + "' " +
                 (value[at] == '\0' ? std::string("contains a NUL byte") : "is not valid UTF-8"));
  }
  return {};
}

std::expected<PageRequest, HttpError> parse_search_params(const httplib::Request& request,
                                                          const ServerOptions& options) {
  if (request.params.size() > kMaxParams)
    return bad("too many parameters (" + std::to_string(request.params.size()) + "; the limit is " +
               std::to_string(kMaxParams) + ")");
  if (auto ok = check_params_utf8(request); !ok) return std::unexpected(ok.error());
  for (const char* name : {"q", "sort", "page", "per_page", "partial", "since", "until", "min_credibility", "facets", "related"})
    if (request.get_param_value_count(name) > 1)
      return bad(std::string("parameter '") + name + "' given more than once");
  for (const char* name : {"topic", "journal", "year"})
    if (request.get_param_value_count(name) > kMaxValuesPerFilter)
      return bad(std::string("too many '") + name + "' values (the limit is " +
                 std::to_string(kMaxValuesPerFilter) + ")");

  PageRequest p;
  p.per_page = options.default_per_page;
  SearchRequest& r = p.search;
  r.query = request.get_param_value("q");
  if (r.query.size() > options.searcher.max_query_bytes)
    return bad("parameter 'q' is " + std::to_string(r.query.size()) + " bytes long; the limit is " +
               std::to_string(options.searcher.max_query_bytes));
  for (std::size_t i = 0; i < request.get_param_value_count("topic"); ++i)
    if (auto t = request.get_param_value("topic", i); !t.empty()) r.topics.push_back(t);
  for (std::size_t i = 0; i < request.get_param_value_count("journal"); ++i)
    if (auto j = request.get_param_value("journal", i); !j.empty()) r.journals.push_back(j);
  for (std::size_t i = 0; i < request.get_param_value_count("year"); ++i) {
    const std::string y = request.get_param_value("year", i);
    if (y.empty()) continue;
    auto year = integer("year", y, 1900, 2200);
    if (!year) return std::unexpected(year.error());
    r.years.push_back(static_cast<int>(*year));
  }
  for (const char* name : {"since", "until"}) {
    const std::string d = request.get_param_value(name);
    if (!d.empty() && !iso_date(d))
      return bad(std::string("parameter '") + name + "' must be a date YYYY-MM-DD");
    (std::string_view(name) == "since" ? r.since : r.until) = d;
  }
  if (request.has_param("min_credibility") && !request.get_param_value("min_credibility").empty()) {
    auto c = integer("min_credibility", request.get_param_value("min_credibility"), 1, 5);
    if (!c) return std::unexpected(c.error());
    r.min_credibility = static_cast<int>(*c);
  }
  if (const std::string sort = request.get_param_value("sort"); !sort.empty()) {
    if (sort != "relevance" && sort != "date" && sort != "credibility")
      return bad("parameter 'sort' must be 'relevance', 'date' or 'credibility'");
    r.sort = sort == "date" ? SortOrder::kDate : sort == "credibility" ? SortOrder::kCredibility : SortOrder::kRelevance;
  }
  // Yes/no parameters: `partial` (the last word is being typed), and what to compute besides
  // the page (an as-you-type list shows neither facets nor related articles: `related=0` saves
  // a search of the collection per keystroke; `facets=0` also the exact counting, the total
  // then being Xapian's estimate).
  for (auto [name, flag] : {std::pair{"partial", &r.partial}, std::pair{"facets", &r.facets}, std::pair{"related", &r.related}}) {
    const std::string value = request.get_param_value(name);
    if (value.empty()) continue;
    if (value != "0" && value != "1" && value != "true" && value != "false")
      return bad(std::string("parameter '") + name + "' must be 0, 1, true or false");
    *flag = value == "1" || value == "true";
  }
  if (request.has_param("per_page")) {
    auto n = integer("per_page", request.get_param_value("per_page"), 1,
                     static_cast<long>(options.searcher.max_limit));
    if (!n) return std::unexpected(n.error());
    p.per_page = static_cast<std::size_t>(*n);
  }
  const long max_page = static_cast<long>(options.searcher.max_offset / p.per_page) + 1;
  if (request.has_param("page")) {
    auto n = integer("page", request.get_param_value("page"), 1, max_page);
    if (!n) return std::unexpected(n.error());
    p.page = static_cast<std::size_t>(*n);
  }
  r.limit = p.per_page;
  r.offset = (p.page - 1) * p.per_page;
  return p;
}

std::expected<std::size_t, HttpError> parse_limit(const httplib::Request& request, std::size_t fallback,
                                                  std::size_t max) {
  if (!request.has_param("limit")) return fallback;
  const std::string range = "parameter 'limit' must be from 1 to " + std::to_string(max);
  if (request.get_param_value_count("limit") > 1) return bad("parameter 'limit' given more than once");
  const std::string text = request.get_param_value("limit");
  std::size_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value < 1 || value > max) return bad(range);
  return value;
}

bool is_plain_host(std::string_view host) {
  if (host.empty() || host.size() > 261) return false;
  std::string_view name = host, port;
  if (host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string_view::npos || close < 3) return false;
    for (const char c : host.substr(1, close - 1))
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
    name = host.substr(0, close + 1);
    port = host.substr(close + 1);
    if (!port.empty() && port.front() != ':') return false;
  } else {
    const auto colon = host.find(':');
    name = host.substr(0, colon);
    port = colon == std::string_view::npos ? std::string_view() : host.substr(colon);
    if (name.empty() || name.size() > 253 || name.front() == '.' || name.front() == '-') return false;
    for (const char c : name)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') return false;
    if (name.find("..") != std::string_view::npos) return false;
  }
  if (port.empty()) return true;
  port.remove_prefix(1);
  if (port.empty() || port.size() > 5) return false;
  unsigned value = 0;
  for (const char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value >= 1 && value <= 65535;
}

}  // namespace mssearch
