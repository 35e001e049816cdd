#include "server/request_params.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <map>

#include <fmt/format.h>

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

constexpr const char* kSingleValued[] = {"q", "sort", "page", "per_page", "partial", "since", "until", "min_credibility", "facets", "related"};
constexpr const char* kFilters[] = {"topic", "journal", "year"};

// The parameters once checked. `dropped` null: the first value refused is the answer (the API's
// 400). Else a refused value is left out, the default taken, and what was left out is added to
// `dropped` ("page", "sort", "date", …) for the page to say so; only `q` itself still refuses.
std::expected<PageRequest, HttpError> parse(const httplib::Request& request, const ServerOptions& options,
                                            std::vector<std::string>* dropped) {
  auto drop = [&](std::string key) {
    if (!key.empty() && std::find(dropped->begin(), dropped->end(), key) == dropped->end()) dropped->push_back(std::move(key));
  };
  // A refused value: the error, or, leniently, nothing (the caller keeps its default).
  auto refuse = [&](std::string key, std::unexpected<HttpError> error) -> std::optional<std::unexpected<HttpError>> {
    if (dropped == nullptr) return error;
    drop(std::move(key));
    return std::nullopt;
  };
  if (request.params.size() > kMaxParams)
    return bad("too many parameters (" + std::to_string(request.params.size()) + "; the limit is " +
               std::to_string(kMaxParams) + ")");
  if (auto ok = check_params_utf8(request); !ok) return std::unexpected(ok.error());
  for (const char* name : kSingleValued)
    if (request.get_param_value_count(name) > 1)
      return bad(std::string("parameter '") + name + "' given more than once");
  for (const char* name : kFilters)
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
    if (!year) {
      if (auto e = refuse("year", std::unexpected(year.error()))) return *e;
      continue;
    }
    r.years.push_back(static_cast<int>(*year));
  }
  for (const char* name : {"since", "until"}) {
    const std::string d = request.get_param_value(name);
    if (!d.empty() && !iso_date(d)) {
      if (auto e = refuse("date", bad(std::string("parameter '") + name + "' must be a date YYYY-MM-DD"))) return *e;
      continue;
    }
    (std::string_view(name) == "since" ? r.since : r.until) = d;
  }
  // Dates the wrong way round match nothing: the API says so (the searcher's 400); the page
  // leaves both out.
  if (dropped != nullptr && !r.since.empty() && !r.until.empty() && r.since > r.until) {
    drop("dates_reversed");
    r.since.clear();
    r.until.clear();
  }
  if (request.has_param("min_credibility") && !request.get_param_value("min_credibility").empty()) {
    auto c = integer("min_credibility", request.get_param_value("min_credibility"), 1, 5);
    if (c) r.min_credibility = static_cast<int>(*c);
    else if (auto e = refuse("min_credibility", std::unexpected(c.error()))) return *e;
  }
  if (const std::string sort = request.get_param_value("sort"); !sort.empty()) {
    if (sort != "relevance" && sort != "date" && sort != "credibility") {
      if (auto e = refuse("sort", bad("parameter 'sort' must be 'relevance', 'date' or 'credibility'"))) return *e;
    } else {
      r.sort = sort == "date" ? SortOrder::kDate : sort == "credibility" ? SortOrder::kCredibility : SortOrder::kRelevance;
    }
  }
  // Yes/no parameters: `partial` (the last word is being typed), and what to compute besides
  // the page (an as-you-type list shows neither facets nor related articles: `related=0` saves
  // a search of the collection per keystroke; `facets=0` also the exact counting, the total
  // then being Xapian's estimate). The page's script sends them; leniently, a bad one is the
  // default, unsaid (a visitor never typed it).
  for (auto [name, flag] : {std::pair{"partial", &r.partial}, std::pair{"facets", &r.facets}, std::pair{"related", &r.related}}) {
    const std::string value = request.get_param_value(name);
    if (value.empty()) continue;
    if (value != "0" && value != "1" && value != "true" && value != "false") {
      if (auto e = refuse("", bad(std::string("parameter '") + name + "' must be 0, 1, true or false"))) return *e;
      continue;
    }
    *flag = value == "1" || value == "true";
  }
  if (request.has_param("per_page")) {
    auto n = integer("per_page", request.get_param_value("per_page"), 1,
                     static_cast<long>(options.searcher.max_limit));
    if (n) p.per_page = static_cast<std::size_t>(*n);
    else if (auto e = refuse("per_page", std::unexpected(n.error()))) return *e;
  }
  const long max_page = static_cast<long>(options.searcher.max_offset / p.per_page) + 1;
  if (request.has_param("page")) {
    auto n = integer("page", request.get_param_value("page"), 1, max_page);
    if (n) p.page = static_cast<std::size_t>(*n);
    else if (auto e = refuse("page", std::unexpected(n.error()))) return *e;
  }
  r.limit = p.per_page;
  r.offset = (p.page - 1) * p.per_page;
  return p;
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
  return parse(request, options, nullptr);
}

std::expected<PageParams, HttpError> parse_page_params(const httplib::Request& request, const ServerOptions& options) {
  auto refused = [](std::string message) { return std::unexpected(HttpError{400, "bad_parameter", std::move(message)}); };
  const std::size_t q_count = request.get_param_value_count("q");
  std::string q = q_count == 1 ? request.get_param_value("q") : std::string();
  if (request.params.size() > kMaxParams)
    return refused("This address has too many parts to be read. Please type your search again.");
  if (q_count > 1) return refused("This address holds more than one search. Please type your search again.");
  if (find_invalid_utf8(q) != std::string::npos)
    return refused("This search has characters that could not be read. Please type it again.");
  // A paragraph pasted into the box, past the API's limit: its beginning is searched (cut at
  // the last space within the limit, never inside a character), and the page says so. The
  // results shown were replaced by "This search is too long" (the API still refuses, naming
  // the limit).
  const bool q_cut = q.size() > options.searcher.max_query_bytes;
  if (q_cut) {
    const std::size_t end = utf8_prefix_length(q, options.searcher.max_query_bytes);
    const std::size_t space = q.find_last_of(" \t\r\n", end);
    q.resize(space != std::string::npos && space > 0 ? space : end);
  }

  // What cannot be read, or is given more often than it may be, is left out before the values
  // are read: a name or value that is not UTF-8, a second sort or page, a 21st topic.
  std::vector<std::string> dropped;
  auto note = [&](std::string key) {
    if (std::find(dropped.begin(), dropped.end(), key) == dropped.end()) dropped.push_back(std::move(key));
  };
  // What the notice calls a single-valued parameter left out (none for the script's own yes/no).
  auto single_key = [](const std::string& name) -> std::string {
    if (name == "since" || name == "until") return "date";
    if (name == "partial" || name == "facets" || name == "related") return "";
    return name;
  };
  httplib::Request kept;
  std::map<std::string, std::size_t> filter_values;
  for (const auto& [name, value] : request.params) {
    const bool single = std::find_if(std::begin(kSingleValued), std::end(kSingleValued), [&](const char* n) { return name == n; }) != std::end(kSingleValued);
    const bool filter = std::find_if(std::begin(kFilters), std::end(kFilters), [&](const char* n) { return name == n; }) != std::end(kFilters);
    if (find_invalid_utf8(name) != std::string::npos) continue;  // no parameter the page knows
    if (find_invalid_utf8(value) != std::string::npos) {
      // A page number that cannot be read is an invalid page number, not "a filter".
      if (filter) note("unreadable");
      else if (single) note(single_key(name));
      continue;
    }
    if (single && request.get_param_value_count(name.c_str()) > 1) {
      note(single_key(name));
      continue;
    }
    if (filter && ++filter_values[name] > kMaxValuesPerFilter) {
      note("too_many_" + name);
      continue;
    }
    kept.params.emplace(name, name == "q" ? q : value);
  }
  if (q_cut) note("q_cut");
  auto parsed = parse(kept, options, &dropped);
  if (!parsed) return refused("This search could not be read. Please type it again.");  // not expected: all checked
  PageParams out{std::move(*parsed), {}};
  const std::size_t limit = kMaxValuesPerFilter;
  for (const auto& key : dropped) {
    std::string notice;
    if (key == "q_cut") notice = "Your search was long, so only its beginning was searched.";
    else if (key == "page") notice = "That page number isn't valid, so this is the first page of results.";
    else if (key == "per_page") notice = fmt::format("That number of results per page isn't valid, so {} are shown per page.", out.request.per_page);
    else if (key == "sort") notice = "That sort order isn't available, so the results are sorted by relevance.";
    else if (key == "date") notice = "A date that isn't valid was left out of the search (dates are written like 2024-06-30).";
    else if (key == "dates_reversed") notice = "The dates ended before they began, so they were left out of the search.";
    else if (key == "year") notice = "A year that isn't valid was left out of the search.";
    else if (key == "min_credibility") notice = "That credibility rating isn't valid (ratings go from 1 to 5), so it was left out of the search.";
    else if (key == "unreadable") notice = "A filter that could not be read was left out of the search.";
    else if (key == "too_many_topic") notice = fmt::format("Only the first {} topics were used.", limit);
    else if (key == "too_many_journal") notice = fmt::format("Only the first {} journals were used.", limit);
    else if (key == "too_many_year") notice = fmt::format("Only the first {} years were used.", limit);
    if (!notice.empty()) out.notices.push_back(std::move(notice));
  }
  return out;
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
