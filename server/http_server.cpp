#include "server/http_server.h"
#include "server/http_server_testing.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <condition_variable>
#include <map>
#include <mutex>
#include <stop_token>
#include <thread>
#include <optional>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "analytics/analytics.h"
#include "schema/index_path.h"
#include "schema/schema.h"
#include "schema/utf8.h"
#include "schema/verify.h"
#include "searcher/result_cache.h"
#include "searcher/shard_protocol.h"
#include "server/access_log.h"
#include "server/assets.h"
#include "server/connection_gate.h"
#include "server/metrics.h"
#include "server/pages.h"
#include "server/public_text.h"
#include "server/request_params.h"
#include "server/searcher_pool.h"

namespace mssearch {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// Set when a request reaches routing; requests refused before (414, timeouts) log no time.
thread_local std::optional<Clock::time_point> request_start;
// The client of the request a worker is serving: cpp-httplib fills req.remote_addr only once
// the request parses, and the log must name the client of an unparsable one too.
thread_local std::string current_peer;
thread_local std::string current_route;  // "GET /api/search", for the error log (no query: it may be private)
// Whether the last request a worker answered could be parsed (set by the logger).
thread_local bool last_parsed = true;

constexpr const char* kSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'";

// Errors of the libraries become HTTP statuses here, and only here.
HttpError http_error(const Error& e) {
  switch (e.code) {
    case ErrorCode::kBadQuery: return {400, "bad_query", e.message};
    case ErrorCode::kNotFound: return {404, "not_found", e.message};
    case ErrorCode::kIndexMissing:
    case ErrorCode::kCorrupt:
    case ErrorCode::kSchemaMismatch:
    case ErrorCode::kUnavailable: return {503, std::string(to_string(e.code)), e.message};
    default: return {500, std::string(to_string(e.code)), e.message};
  }
}

// No searcher could be opened (index missing, corrupt, or of another schema): the service is
// unavailable until the next good index, whatever the cause.
HttpError unavailable(const Error& e) {
  HttpError h = http_error(e);
  h.status = 503;
  return h;
}

// The content codings a request's Accept-Encoding headers accept, as cpp-httplib should read
// them: in lower case, without those refused (`gzip;q=0`, RFC 9110 12.4.2: cpp-httplib ignores
// q-values and case) and without Brotli. cpp-httplib compresses at Brotli's slowest quality: a
// page a browser asked for with "gzip, deflate, br" took 45 ms instead of 3 (3.2 KB against
// gzip's 4.2 KB), and it reads any "br" in the header as Brotli.
std::string offered_codings(const httplib::Headers& headers) {
  std::string kept;
  for (auto [it, end] = headers.equal_range("Accept-Encoding"); it != end; ++it)
    for (std::size_t at = 0; at <= it->second.size();) {
      const std::size_t comma = std::min(it->second.find(',', at), it->second.size());
      std::string item;  // the coding and its parameters, lower case, without white space
      for (const char c : std::string_view(it->second).substr(at, comma - at))
        if (c != ' ' && c != '\t') item += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      at = comma + 1;
      const std::string coding = item.substr(0, item.find(';'));
      bool refused = false;
      if (const std::size_t q = item.find(";q="); q != std::string::npos) {
        const std::string value = item.substr(q + 3, std::min(item.find(';', q + 3), item.size()) - (q + 3));
        refused = !value.empty() && value.front() == '0' && value.find_first_not_of("0.") == std::string::npos;
      }
      if (!coding.empty() && !refused && coding.find("br") == std::string::npos) kept += (kept.empty() ? "" : ", ") + coding;
    }
  return kept;
}

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  // No charset parameter: JSON is UTF-8 (RFC 8259, which defines none), and cpp-httplib
  // compresses application/json only as that exact type (the API's answers went out whole to
  // a client asking for gzip, helper-98).
  res.set_content(dump_json(body), "application/json");
}

// The shards an answer names as left out: a shard server's or tcp:// address as it is, a local
// database by its last parts (public_database_name, among the server's own paths), not its path.
std::vector<std::string> public_names(std::vector<std::string> shards, const std::vector<std::string>& own_paths) {
  for (auto& s : shards) s = public_database_name(s, own_paths);
  return shards;
}

// Over shard servers, an answer some of them did not contribute to (down, late) says so and
// names them, as a search's answer does (SearchResult::failed_shards): suggestions, related
// articles and topic counts.
void mark_partial(json& answer, const std::vector<std::string>& failed_shards, const std::vector<std::string>& own_paths) {
  if (failed_shards.empty()) return;
  answer["partial"] = true;
  answer["failed_shards"] = public_names(failed_shards, own_paths);
}

// Shard servers configured amiss (fewer listed than their index has: those articles are in no
// answer), named in every answer drawn from them, as a search's `warnings` names them.
void add_configuration_warnings(json& answer, const Searcher& searcher) {
  if (auto warnings = searcher.configuration_warnings(); !warnings.empty()) answer["warnings"] = std::move(warnings);
}

// The parameters of a request target's query, each value from its name's first '=' on,
// percent-decoded ('+' a space, %2B a plus); a name without '=' has an empty value.
httplib::Params query_params(const std::string& target) {
  httplib::Params params;
  const std::size_t question = target.find('?');
  if (question == std::string::npos) return params;
  const std::string_view query = std::string_view(target).substr(question + 1);
  for (std::size_t at = 0; at <= query.size();) {
    std::size_t end = query.find('&', at);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view part = query.substr(at, end - at);
    if (!part.empty()) {
      const std::size_t eq = part.find('=');
      const std::string_view name = part.substr(0, eq);
      const std::string_view value = eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
      // '+' is a space; decoded here (the library's own flag for it did not, measured: "a=b+c").
      const auto decoded = [](std::string_view raw) {
        std::string text(raw);
        std::replace(text.begin(), text.end(), '+', ' ');
        return httplib::detail::decode_url(text, false);
      };
      params.emplace(decoded(name), decoded(value));
    }
    at = end + 1;
  }
  return params;
}

// A failure on the server's side, as its operator reads it: written to the server's log
// (stderr) whole, index path and all, with the route it answered; the same message at most once
// a minute.
void log_failure(const HttpError& e) {
  static std::mutex mutex;
  static std::string last;
  static std::chrono::steady_clock::time_point last_at;
  std::lock_guard lock(mutex);
  const auto now = std::chrono::steady_clock::now();
  if (e.message == last && now - last_at <= std::chrono::minutes(1)) return;
  print_log_line(fmt::format("mssearch serve: error: {} answered {} ({}): {}\n",
                             current_route.empty() ? std::string("a request") : current_route, e.status, e.code,
                             printable(e.message)));
  last = e.message;
  last_at = now;
}

// What a visitor is told of a failure on the server's side (5xx): that search is unavailable,
// not the index's path, a shard's address or the command that would mend it. Those are the
// operator's: written to the server's log (log_failure), and /readyz's `reason` says what
// failed with paths cut to their last part. The code still says which failure it is.
HttpError for_visitors(HttpError e) {
  if (e.status < 500) return e;
  log_failure(e);
  e.message = e.status == 503 ? "search is not available right now; please try again in a moment"
                              : "search failed on the server; please try again";
  return e;
}

// A path (or an id) as an error message names it: its first 80 characters (whole UTF-8 ones),
// then "…". A request line may be 8 KiB; the answer need not carry it all back.
std::string shown_path(std::string_view path) {
  constexpr std::size_t kMaxCharacters = 80;
  std::size_t end = 0;
  for (std::size_t characters = 0; end < path.size() && characters < kMaxCharacters; ++characters) {
    ++end;
    while (end < path.size() && (static_cast<unsigned char>(path[end]) & 0xC0) == 0x80) ++end;
  }
  return end >= path.size() ? std::string(path) : std::string(path.substr(0, end)) + "…";
}

void send_error(httplib::Response& res, const HttpError& error) {
  const HttpError e = for_visitors(error);
  send_json(res, e.status, {{"error", {{"code", e.code}, {"message", e.message}}}});
}

// The HTML page for an address under /articles/ that names no article, sent 404.
void send_article_not_found(httplib::Response& res, const ServerOptions& options) {
  res.status = 404;
  res.set_content(render_article({nullptr, {}, "Article not found",
                                  "There is no article at this address: it may have been moved or removed. Search for its subject instead."},
                                 options),
                  "text/html; charset=utf-8");
}

// The HTML page for an address no route serves, for a browser (prefers_html) that followed a
// mistyped or old link, sent 404: the article page's "not found", with the search box and a link
// to the search page.
void send_page_not_found(httplib::Response& res, const ServerOptions& options) {
  res.status = 404;
  res.set_content(render_article({nullptr, {}, "Page not found",
                                  "There is no page at this address: the link may be mistyped or out of date. Search for what you were looking for instead."},
                                 options),
                  "text/html; charset=utf-8");
}

// Whether a request's Accept header prefers a page to JSON: text/html (or application/xhtml+xml)
// named, with a higher q than application/json gets (named, or through application/* or */*).
// A browser's "text/html,application/xhtml+xml,…,*/*;q=0.8" does; "application/json", "*/*",
// "text/html, application/json" (a tie) and no Accept at all do not.
bool prefers_html(std::string_view accept) {
  double html = 0, json_named = -1, application = -1, any = -1;
  while (!accept.empty()) {
    const auto comma = accept.find(',');
    std::string_view item = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
    auto trim = [](std::string_view v) {
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
      return v;
    };
    std::string media(trim(item.substr(0, item.find(';'))));
    std::transform(media.begin(), media.end(), media.begin(), [](unsigned char c) { return std::tolower(c); });
    double q = 1;
    for (auto at = item.find(';'); at != std::string_view::npos;) {
      const auto next = item.find(';', at + 1);
      const std::string_view param = trim(item.substr(at + 1, next == std::string_view::npos ? std::string_view::npos : next - at - 1));
      if (param.size() > 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
        const std::string value(param.substr(2));
        char* end = nullptr;
        const double parsed = std::strtod(value.c_str(), &end);
        if (end != value.c_str() && *end == '\0' && parsed >= 0 && parsed <= 1) q = parsed;
      }
      at = next;
    }
    if (media == "text/html" || media == "application/xhtml+xml") html = std::max(html, q);
    else if (media == "application/json") json_named = q;
    else if (media == "application/*") application = q;
    else if (media == "*/*") any = q;
  }
  const double json_q = json_named >= 0 ? json_named : application >= 0 ? application : std::max(any, 0.0);
  return html > json_q;
}

// The methods that carry a body. No route takes one: they are answered 405 (404 off the routes)
// from their head alone, before any body is read.
bool takes_body(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

const char* reason_phrase(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
  }
}

// A parameter given once as a whole number from 1 to `max` (at most 16 digits, so it converts
// without overflow); nothing otherwise.
std::optional<std::uint64_t> parse_count(const httplib::Request& req, const char* name, std::uint64_t max) {
  if (req.get_param_value_count(name) != 1) return std::nullopt;
  const std::string v = req.get_param_value(name);
  if (v.empty() || v.size() > 16 || v.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const std::uint64_t n = std::stoull(v);
  return n >= 1 && n <= max ? std::optional(n) : std::nullopt;
}

// A search id as analytics hands them out (1 to 2^53 - 1, exact as a JSON number), in `name`.
std::optional<std::uint64_t> parse_search_id(const httplib::Request& req, const char* name) {
  return parse_count(req, name, (std::uint64_t{1} << 53) - 1);
}

// cpp-httplib's request processing is protected; this exposes it for the connection gate's
// streams and for requests held in memory.
class InspectableServer : public httplib::Server {
 public:
  using httplib::Server::process_request;
};

// A connection whose bytes come from a buffer and whose answer goes to a string.
class MemoryStream final : public httplib::Stream {
 public:
  MemoryStream(std::string_view in, std::string& out) : in_(in), out_(out) {}
  bool is_readable() const override { return true; }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, std::size_t size) override {
    const std::size_t n = std::min(size, in_.size() - pos_);
    std::memcpy(ptr, in_.data() + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, std::size_t size) override {
    out_.append(ptr, size);
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override { ip = "127.0.0.1", port = 0; }
  void get_local_ip_and_port(std::string& ip, int& port) const override { ip = "127.0.0.1", port = 0; }
  socket_t socket() const override { return INVALID_SOCKET; }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
  std::string& out_;
};

}  // namespace

struct HttpServer::Impl {
  ServerOptions options;
  InspectableServer server;
  SearcherPool pool;
  Metrics metrics;
  ConnectionGate gate;
  std::string listen_address;  // host:port, for /opensearch.xml when nothing better is known
  std::unique_ptr<AnalyticsRecorder> analytics;  // null: off (opened by bind())
  // Records a search for analytics; its id for click beacons, 0 when nothing was recorded. A
  // search is a GET for new words: not a further page, another order or a filter on the same
  // words, and not while the last word is still being typed (a live answer for complete words
  // counts). The page's script sends back the id of the search it already recorded for these
  // words (`search_id`, e.g. Enter after a live answer, or a filter ticked): that id is reused.
  // A HEAD is not a search: nothing is recorded, but its answer names an id of the same width
  // (every id has 16 digits) wherever the GET's would, so its headers (Content-Length) are the GET's.
  std::uint64_t record(const httplib::Request& req, const PageRequest& request, const SearchResult& result) {
    if (!analytics || (req.method != "GET" && req.method != "HEAD")) return 0;
    if (const auto seen = parse_search_id(req, "search_id")) return *seen;
    const SearchRequest& r = request.search;
    const bool refinement = r.offset != 0 || r.sort != SortOrder::kRelevance || !r.topics.empty() || !r.journals.empty() ||
                            !r.years.empty() || !r.since.empty() || !r.until.empty() || r.min_credibility.has_value();
    if (refinement || (r.partial && result.last_word_prefix)) return 0;
    std::string words = normalise_query(r.query);
    if (req.method == "HEAD") return words.empty() ? 0 : AnalyticsRecorder::kFirstSearchId;
    return analytics->record_search(words, result.total, result.missing_words);
  }
  void click(const httplib::Request& req, httplib::Response& res);

  explicit Impl(const ServerOptions& o);

  void setup();
  bool serve(httplib::Stream& stream, bool close_connection);
  std::string refusal(int status, std::string_view message, const std::string& peer, std::string_view request_line);
  // The body limit of a request (its method and target): the shard endpoint's is the shard
  // protocol's (gate_options), every other's max_request_bytes.
  std::size_t body_limit(std::string_view method, std::string_view target) const {
    const bool shard_endpoint = options.shard_server && method == "POST" && target.substr(0, target.find('?')) == kShardEndpoint;
    return shard_endpoint ? std::max(options.max_request_bytes, kMaxShardRequestBytes) : options.max_request_bytes;
  }
  void not_allowed(const httplib::Request& req, httplib::Response& res);

  // The one route table: each GET route's path pattern (cpp-httplib's, a regex over the path),
  // its name in /metrics (a small fixed set, so labels stay few) and its handler. Registering
  // the routes, naming a request for metrics and telling 405 from 404 all read it.
  struct Route {
    std::string pattern;
    std::string label;
    httplib::Server::Handler handler;
    std::regex regex;
    bool post = false;  // the shard server's internal endpoint; every other route is GET
  };
  std::vector<Route> routes;
  void add_route(std::string pattern, std::string label, httplib::Server::Handler handler, bool post = false);
  // A shard server's side of the shard protocol (POST kShardEndpoint, MessagePack).
  void shard(const httplib::Request& req, httplib::Response& res);
  // The route's metrics name, or "other" for a path no route serves.
  const std::string& route_of(const std::string& path) const;
  std::string opensearch_base(const httplib::Request& req, httplib::Response& res) const;
  void api_search(const httplib::Request& req, httplib::Response& res);
  void page(const httplib::Request& req, httplib::Response& res);
  void suggest(const httplib::Request& req, httplib::Response& res);
  void article(const httplib::Request& req, httplib::Response& res, bool related);
  void article_page(const httplib::Request& req, httplib::Response& res);
  // Each hit's url as pages link it (article_link: article_url's template when configured).
  void link(std::vector<SearchHit>& hits) const {
    for (auto& h : hits) h.url = article_link(h.url, h.id, options);
  }
  void topics(httplib::Response& res);
  void ready(httplib::Response& res);
  // Why the index the server opened is no longer on disk (deleted, moved, emptied), or
  // nullopt: a sharded index missing any shard (it no longer opens: "shard-01 is missing"), or
  // every database it searches gone (one of several named databases gone would be a shard down
  // after a restart, the answers partial).
  // Where a local index the server opened is gone from disk since (deleted, moved, emptied):
  // the folder itself, or the missing shard of a sharded one; nullopt while it is all there.
  static std::optional<std::filesystem::path> gone_from_disk(const std::filesystem::path& dir) {
    const auto shards = shard_dirs(dir);
    for (const auto& one : shards)
      if (!live_database_dir(one)) return one;
    if (shards.empty() && !live_database_dir(dir)) return dir;
    return std::nullopt;
  }
  static std::string gone_message(const std::filesystem::path& dir) {
    return fmt::format("the index at {} is gone from disk since the server opened it (deleted or moved): "
                       "searches answer from the files still open, and a restart would not open it; "
                       "build it again there (`mssearch index`)",
                       dir.string());
  }
  // Why the served index cannot be opened again: its one database, or a shard of a sharded
  // one, is gone; or every one of several listed databases is (one of them gone is a shard
  // down: ready, partial, named under /readyz's shards).
  std::optional<std::string> index_gone_from_disk() const {
    if (options.searcher.shard_transport) return std::nullopt;
    if (options.searcher.databases.empty()) {
      const auto gone = gone_from_disk(options.searcher.db_path);
      return gone ? std::optional(gone_message(*gone)) : std::nullopt;
    }
    std::optional<std::filesystem::path> first_gone;
    for (const auto& d : options.searcher.databases) {
      if (is_remote_spec(d)) return std::nullopt;
      const auto gone = gone_from_disk(d);
      if (!gone) return std::nullopt;
      if (!first_gone) first_gone = gone;
    }
    return gone_message(*first_gone);
  }
  // The searcher's shards, with one of several local databases gone from disk since it opened
  // them shown down: it answers from its open files until they are opened again (a restart),
  // then is down; /readyz and /metrics say so now, as for a shard down.
  std::vector<ShardStatus> shard_status_on_disk(const Searcher& searcher) const {
    std::vector<ShardStatus> out = searcher.shard_status();
    if (options.searcher.shard_transport || options.searcher.databases.size() < 2) return out;
    for (auto& shard : out)
      if (shard.up && !is_remote_spec(shard.name))
        if (const auto gone = gone_from_disk(shard.name)) {
          shard.up = false;
          shard.error = gone_message(*gone);
        }
    return out;
  }
  // Whether no shard of documents answers: none is up, or only the spelling database beside
  // remote shards, which holds no article (it alone up was "ready", 0 documents).
  bool no_shard_up(const std::vector<ShardStatus>& shards) const {
    const std::string spelling = options.searcher.spelling_database.string();
    return !shards.empty() && std::none_of(shards.begin(), shards.end(), [&](const ShardStatus& s) {
      return s.up && (spelling.empty() || s.name != spelling);
    });
  }
  static std::string shards_down(const std::vector<ShardStatus>& shards) {
    std::string out;
    for (const auto& s : shards)
      if (!s.up) out += (out.empty() ? "" : "; ") + (s.error.empty() ? s.name : s.error);  // the error names its replicas
    return out;
  }
  // After every search or article read: counts what the answer had to say, and remembers a
  // damaged index (kCorrupt) for /readyz until the revision it was found in is replaced.
  void note(const SearchResult& result);
  void note(const Error& error, std::uint64_t revision);
  std::optional<std::string> damaged(std::uint64_t revision);

  std::mutex damage_mutex;
  std::optional<std::pair<std::uint64_t, std::string>> damage;  // revision, reason
  // Damage no search trips over (a table's blocks overwritten: a phrase search found nothing,
  // and nothing said so): each revision of a local index served has its table files compared,
  // in the background, with the checksums its index job recorded; where they differ (damage,
  // or a job killed part way, whose uncommitted blocks are harmless) Xapian's checker decides.
  // Damage found is /readyz's "damaged" and a warning in every answer, until an index job
  // replaces the revision.
  void watch_for_damage(std::stop_token stop);
  // The local databases served (their folders as configured) with each glass folder in them.
  std::vector<std::pair<std::filesystem::path, std::filesystem::path>> local_tables() const;
  std::optional<std::string> damage_on_disk(const std::filesystem::path& dir, const std::filesystem::path& glass,
                                            Xapian::rev revision) const;
  std::mutex watch_mutex;
  std::condition_variable_any watch_wake;

  // The paths the server was given (its index, databases, spelling database, synonyms,
  // analytics): public answers name each by its last parts only, as many as tell it from the
  // others (without_paths, public_database_name).
  std::vector<std::string> own_paths;
  std::string shown(std::string_view text) const { return without_paths(text, own_paths); }
  // A shard's status as /readyz and /metrics show it: a local database by its last parts, and
  // its error without paths.
  ShardStatus shown(ShardStatus shard) const {
    shard.name = public_database_name(shard.name, own_paths);
    shard.error = shown(shard.error);
    return shard;
  }
  // `immutable`: the address names the content (static_href): cached for a year.
  void static_asset(httplib::Response& res, std::string_view name, const char* type, bool immutable = false);
  void add_common_headers(const httplib::Request& req, httplib::Response& res);
  std::jthread damage_watch;  // last: stopped and joined before the rest goes
};

GateOptions gate_options(const ServerOptions& o) {
  GateOptions g;
  g.host = o.host;
  g.port = o.port;
  g.workers = o.threads;
  g.max_connections = o.max_connections;
  g.max_connections_per_client = o.max_connections_per_client;
  g.max_queued = o.max_queued_requests;
  g.keep_alive_requests = o.keep_alive_requests;
  g.request_timeout = std::chrono::seconds(o.request_timeout_seconds);
  g.keep_alive_timeout = std::chrono::seconds(o.keep_alive_seconds);
  g.write_timeout = std::chrono::seconds(o.write_timeout_seconds);
  g.limits.max_body_bytes = o.max_request_bytes;
  if (o.shard_server) {
    // A coordinator's request may be as large as the shard protocol allows (a long query's
    // statistics and filters), whatever max_request_bytes says of the public API.
    g.limits.body_path = kShardEndpoint;
    g.limits.max_body_path_bytes = kMaxShardRequestBytes;
  }
  return g;
}

namespace {

// The options with a coordinator's shard transports when shards are configured.
ServerOptions with_cluster(ServerOptions o) {
  if (const char* secret = std::getenv("MSSEARCH_SHARD_SECRET"); secret != nullptr && *secret != '\0')
    o.shard_secret = secret;
  // A shard server says whether it checks a secret; a coordinator names those that do not
  // while it sends one.
  o.searcher.checks_shard_secret = o.cluster.shards.empty() && !o.shard_secret.empty();
  o.searcher.sends_shard_secret = !o.cluster.shards.empty() && (!o.cluster.secret.empty() || !o.shard_secret.empty());
  if (!o.cluster.shards.empty() && !o.searcher.shard_transport) {
    if (o.cluster.secret.empty()) o.cluster.secret = o.shard_secret;
    o.searcher.shard_transport = http_shard_transports(o.cluster);
  }
  if (o.result_cache_entries > 0 && o.result_cache_mb > 0 && !o.searcher.shard_transport && !o.searcher.result_cache)
    o.searcher.result_cache = std::make_shared<ResultCache>(o.result_cache_entries, o.result_cache_mb << 20);
  return o;
}

// Equal strings, in a time that does not depend on where they differ.
// The refusal of a request's article id that cannot be one (not echoed: it may be long, or not
// text at all).
std::string bad_article_id() {
  return "an article id is 1 to " + std::to_string(schema::kMaxIdBytes) +
         " letters, digits, '.', '_' or '-', starting with a letter or digit";
}

bool same_secret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

}  // namespace

void HttpServer::Impl::shard(const httplib::Request& req, httplib::Response& res) {
  auto reply = [&](int status, std::string body) {
    res.status = status;
    res.set_content(std::move(body), "application/x-msgpack");
  };
  // Whoever reaches the port reads it: the server's files by their last part only (the log
  // keeps them whole).
  auto refuse = [&](int status, ErrorCode code, const std::string& message) {
    if (status >= 500) log_failure({status, std::string(to_string(code)), message});
    reply(status, encode_error({code, shown(message)}));
  };
  if (!options.shard_secret.empty() &&
      !same_secret(req.get_header_value("Authorization"), "Bearer " + options.shard_secret))
    return refuse(401, ErrorCode::kBadQuery, "the shard secret is missing or wrong");
  auto request = decode_shard_request(req.body);
  // Another protocol version is no request's fault (409: the coordinator asks another replica,
  // as during a rolling upgrade, instead of passing a 400 on to the visitor).
  if (!request)
    return refuse(request.error().code == ErrorCode::kSchemaMismatch ? 409 : 400, request.error().code,
                  request.error().message);
  SearchRequest search;
  const SearcherOptions& so = options.searcher;
  switch (request->op) {
    case ShardOp::kMatch:
    case ShardOp::kPage:
    case ShardOp::kFetch:
    case ShardOp::kStats: {
      // A fetch names the page's articles, each as an article's id is named anywhere.
      if (request->op == ShardOp::kFetch) {
        if (request->ids.empty() || request->ids.size() > so.max_limit)
          return refuse(400, ErrorCode::kBadQuery, "a fetch names 1 to " + std::to_string(so.max_limit) + " articles");
        for (const auto& id : request->ids)
          if (!schema::valid_article_id(id)) return refuse(400, ErrorCode::kBadQuery, bad_article_id());
      }
      // The search's parameters pass the public API's checks, word for word.
      httplib::Request params;
      for (const auto& [name, value] : request->params) params.params.emplace(name, value);
      auto parsed = parse_search_params(params, options);
      if (!parsed) return refuse(400, ErrorCode::kBadQuery, parsed.error().message);
      search = parsed->search;
      if (request->window == 0 || request->window > so.max_offset + so.max_limit)
        return refuse(400, ErrorCode::kBadQuery, "the window must be from 1 to " + std::to_string(so.max_offset + so.max_limit));
      break;
    }
    case ShardOp::kArticle:
    case ShardOp::kRelated:
      if (!schema::valid_article_id(request->id)) return refuse(400, ErrorCode::kBadQuery, bad_article_id());
      if (request->op == ShardOp::kRelated && (request->limit == 0 || request->limit > so.max_limit))
        return refuse(400, ErrorCode::kBadQuery, "parameter 'limit' must be from 1 to " + std::to_string(so.max_limit));
      break;
    case ShardOp::kSuggest:
      if (find_invalid_utf8(request->id) != std::string::npos)
        return refuse(400, ErrorCode::kBadQuery, "parameter 'q' is not valid UTF-8");
      if (request->limit == 0 || request->limit > so.max_limit)
        return refuse(400, ErrorCode::kBadQuery, "parameter 'limit' must be from 1 to " + std::to_string(so.max_limit));
      break;
    case ShardOp::kInfo:
      break;
  }
  auto searcher = pool.acquire();
  if (!searcher) return refuse(503, searcher.error().code, searcher.error().message);
  auto answer = (*searcher)->shard(*request, search);
  // What this server's /readyz would say against it, for the coordinator's (paths cut as there).
  if (answer && request->op == ShardOp::kInfo) {
    if (const auto gone = index_gone_from_disk()) answer->not_ready = shown(*gone);
    else if (const auto reason = damaged((*searcher)->revision()))
      answer->not_ready = reason->find("damaged") != std::string::npos ? shown(*reason) : "damaged: " + shown(*reason);
  }
  if (!answer) {
    const Error& e = answer.error();
    note(e, (*searcher)->revision());
    // 400 and 404: the request's fault (a coordinator passes them on); anything else makes
    // the coordinator ask another replica.
    const int status = e.code == ErrorCode::kBadQuery ? 400 : e.code == ErrorCode::kNotFound ? 404 : 503;
    return refuse(status, e.code, e.message);
  }
  // An answer the coordinator would refuse as damaged (and mark this replica down for) is this
  // request's failure: 500 with the error, which the coordinator takes for this search only.
  auto bytes = encode_checked(*answer);
  if (!bytes) return refuse(500, bytes.error().code, bytes.error().message);
  reply(200, std::move(*bytes));
}

HttpServer::Impl::Impl(const ServerOptions& o)
    : options(with_cluster(o)),
      pool(options.searcher, options.threads),
      gate(gate_options(options),
           {.serve = [this](httplib::Stream& stream, bool close) { return serve(stream, close); },
            .refuse = [this](int status, std::string_view message, const std::string& peer,
                             std::string_view line) { return refusal(status, message, peer, line); },
            .cut = [this](std::string_view reason) { metrics.count_cut(reason); }}) {
  const SearcherOptions& so = options.searcher;
  own_paths = {so.spelling_database.string(), so.synonyms_path.string(), options.analytics_path.string()};
  // The index when it is what is searched: beside `databases` the default `data/index` is not,
  // and it made a database given as `/srv/x/index` "…/x/index" (its name among these paths).
  // An absolute path is cut to its last part all the same (without_paths).
  if (so.databases.empty()) own_paths.push_back(so.db_path.string());
  own_paths.insert(own_paths.end(), so.databases.begin(), so.databases.end());
}

bool HttpServer::Impl::serve(httplib::Stream& stream, bool close_connection) {
  int port = 0;
  stream.get_remote_ip_and_port(current_peer, port);
  last_parsed = true;
  bool closed = false;
  // Ranges are ignored, as a server of generated pages may (RFC 9110): cpp-httplib would cut
  // every answer into as many parts as a Range header lists, with no cap (one 8 KiB header made
  // a 100 MB answer of a results page), and answer "200" with part of a page a cache could keep.
  static const std::function<void(httplib::Request&)> ignore_ranges = [](httplib::Request& req) {
    req.ranges.clear();
    req.headers.erase("Range");
  };
  const bool ok = server.process_request(stream, close_connection, closed, ignore_ranges);
  // cpp-httplib keeps a connection open after a request it could not parse; where the next
  // request would begin is then a guess, so close instead.
  return ok && !closed && last_parsed;
}

// An answer the connection gate gives by itself (the request was too large, too slow or could
// not be framed, or no worker could take it): the same JSON error and headers as the others.
std::string HttpServer::Impl::refusal(int status, std::string_view message, const std::string& peer,
                                      std::string_view request_line) {
  std::string code = "bad_request", text(message);
  switch (status) {
    case 408:
      code = "request_timeout";
      text = fmt::format("the request did not arrive within {} s", options.request_timeout_seconds);
      break;
    case 411: code = "length_required"; break;
    case 413: {
      code = "payload_too_large";
      // The request line's method and target: the limit this request was held to.
      const std::string_view method = request_line.substr(0, request_line.find(' '));
      std::string_view target = request_line.substr(std::min(request_line.size(), method.size() + 1));
      target = target.substr(0, target.find(' '));
      text = fmt::format("request body is over the limit of {} bytes", body_limit(method, target));
      break;
    }
    case 414: code = "uri_too_long"; text = "request URI is too long"; break;
    case 431: code = "header_too_large"; text = "request header fields are over the limit of 8192 bytes"; break;
    case 501: code = "not_implemented"; break;
    case 503: code = "overloaded"; break;
    case 505: code = "http_version_not_supported"; break;
    default: break;
  }
  // A search from the page's form too long for an address (text pasted past 8 KiB): the visitor
  // gets the search page saying so, not JSON. The API and everything else keep the JSON error.
  const bool page = status == 414 && (request_line.starts_with("GET /?") || request_line.starts_with("GET / "));
  std::string body;
  if (page) {
    PageRequest empty;
    body = render_page({&empty, nullptr, {}, "This search is too long. Please shorten it and search again."}, options);
  } else {
    body = dump_json({{"error", {{"code", code}, {"message", text}}}});
  }
  std::string answer = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n"
      "Connection: close\r\nAccept-Ranges: none\r\nX-Content-Type-Options: nosniff\r\nContent-Security-Policy: {}\r\n"
      "Referrer-Policy: strict-origin-when-cross-origin\r\n{}\r\n",
      status, reason_phrase(status), page ? "text/html; charset=utf-8" : "application/json", body.size(),
      kSecurityPolicy, status == 503 ? "Retry-After: 1\r\n" : "");
  answer += body;
  if (options.access_log) {
    const auto space = request_line.find(' ');
    const std::string_view method = request_line.substr(0, space);
    std::string_view target = space == std::string_view::npos ? std::string_view() : request_line.substr(space + 1);
    target = target.substr(0, target.find(' '));
    print_log_line(access_log_line(peer, method, target, status, std::nullopt));
  }
  return answer;
}

void HttpServer::Impl::add_route(std::string pattern, std::string label, httplib::Server::Handler handler, bool post) {
  std::regex regex(pattern);
  routes.push_back({std::move(pattern), std::move(label), std::move(handler), std::move(regex), post});
}

const std::string& HttpServer::Impl::route_of(const std::string& path) const {
  static const std::string other = "other";
  for (const auto& route : routes)
    if (std::regex_match(path, route.regex)) return route.label;
  return other;
}

void HttpServer::Impl::not_allowed(const httplib::Request& req, httplib::Response& res) {
  // CONNECT names a host, not a path (`CONNECT example.com:443`): no proxy here, whatever it
  // names (it was a 404, "no route example.com:443").
  if (route_of(req.path) == "other" && req.method != "CONNECT")
    return send_error(res, {404, "not_found", "no route " + shown_path(req.path)});
  res.set_header("Allow", "GET, HEAD, OPTIONS");  // as a preflight on the same path says
  if (req.method == "CONNECT")
    return send_error(res, {405, "method_not_allowed", "CONNECT is not allowed: this server is no proxy; use GET"});
  send_error(res, {405, "method_not_allowed", req.method + " is not allowed on " + shown_path(req.path) + "; use GET"});
}

// /opensearch.xml's links. From the Host header only for development (no public_url), and only
// when it is a plain host[:port]: a cache in front would otherwise keep a description whose links
// point wherever the first requester's Host said (cache poisoning).
std::string HttpServer::Impl::opensearch_base(const httplib::Request& req, httplib::Response& res) const {
  if (!options.public_url.empty()) {
    std::string base = options.public_url;
    while (base.ends_with('/')) base.pop_back();
    return base;
  }
  res.set_header("Vary", "Host");
  const std::string host = req.get_header_value("Host");
  return "http://" + (is_plain_host(host) ? host : listen_address);
}

void HttpServer::Impl::add_common_headers(const httplib::Request& req, httplib::Response& res) {
  // Called from the post-routing and the error handler alike: set each header once.
  if (res.has_header("X-Content-Type-Options")) return;
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Content-Security-Policy", kSecurityPolicy);
  res.set_header("Referrer-Policy", "strict-origin-when-cross-origin");
  // Ranges are ignored (serve): every answer says so, HEAD as GET (cpp-httplib added
  // "Accept-Ranges: bytes" to HEAD answers alone).
  res.headers.erase("Accept-Ranges");
  res.set_header("Accept-Ranges", "none");
  // cpp-httplib gzips a text answer for a client that accepts it: a cache in front (a CDN,
  // a proxy) must key on that, or it hands the gzip bytes of a year-long immutable asset to a
  // client that cannot read them.
  std::string vary = res.get_header_value("Vary");  // Host, set by a handler
  vary += std::string(vary.empty() ? "" : ", ") + "Accept-Encoding";
  // Unavailable for now (no index yet, every shard down): when to ask again. A coordinator
  // tries a shard that failed again after retry_seconds, so asking sooner finds it still down.
  if (res.status == 503 && !res.has_header("Retry-After"))
    res.set_header("Retry-After", std::to_string(options.cluster.shards.empty()
                                                     ? 1
                                                     : std::max(1, static_cast<int>(std::ceil(options.cluster.retry_seconds)))));
  const std::string origin = req.get_header_value("Origin");
  const auto& allowed = options.cors_origins;
  if (!origin.empty()) {
    const bool any = std::find(allowed.begin(), allowed.end(), "*") != allowed.end();
    if (any || std::find(allowed.begin(), allowed.end(), origin) != allowed.end())
      res.set_header("Access-Control-Allow-Origin", any ? "*" : origin);
  }
  // With origins configured every answer depends on Origin (allowed, another, or none: with and
  // without the header): a cache that kept one keyed without it would hand an allowed site an
  // answer without Access-Control-Allow-Origin, or another site one with it.
  if (!allowed.empty()) vary += ", Origin";
  res.headers.erase("Vary");
  res.set_header("Vary", vary);
}

void HttpServer::Impl::api_search(const httplib::Request& req, httplib::Response& res) {
  auto params = parse_search_params(req, options);
  if (!params) return send_error(res, params.error());
  auto searcher = pool.acquire();
  if (!searcher) return send_error(res, unavailable(searcher.error()));
  auto result = (*searcher)->search(params->search);
  if (!result) {
    note(result.error(), (*searcher)->revision());
    return send_error(res, http_error(result.error()));
  }
  note(*result);
  link(result->hits);
  link(result->related);
  result->failed_shards = public_names(std::move(result->failed_shards), own_paths);
  // Damage the background check found (watch_for_damage): this answer may lack articles.
  if (auto problem = damaged((*searcher)->revision())) result->warnings.push_back(*problem);
  for (auto& warning : result->warnings) warning = shown(warning);
  json answer = to_json(*result);
  if (const std::uint64_t id = record(req, *params, *result)) answer["search_id"] = id;
  send_json(res, 200, answer);
}

void HttpServer::Impl::note(const SearchResult& result) {
  if (!result.failed_shards.empty()) metrics.count_answer("partial");
  if (result.shard_round_trips > 0) metrics.count_round_trips(result.shard_round_trips);
  if (result.timed_out) metrics.count_answer("timed_out");
  if (result.sliced) metrics.count_sliced();
  if (result.query_terms_dropped > 0) metrics.count_answer("words_dropped");
  // Not every warning: a coordinator's own (a shard server with other settings) are no article.
  for (std::size_t i = 0; i < result.damaged_articles; ++i) metrics.count_answer("damaged_article");
}

void HttpServer::Impl::note(const Error& error, std::uint64_t revision) {
  if (error.code != ErrorCode::kCorrupt) return;
  std::lock_guard lock(damage_mutex);
  damage = {revision, error.message};
}

std::vector<std::pair<std::filesystem::path, std::filesystem::path>> HttpServer::Impl::local_tables() const {
  std::vector<std::pair<std::filesystem::path, std::filesystem::path>> out;
  if (options.searcher.shard_transport) return out;
  std::vector<std::filesystem::path> dirs;
  if (options.searcher.databases.empty()) dirs.push_back(options.searcher.db_path);
  for (const auto& d : options.searcher.databases)
    if (!is_remote_spec(d)) dirs.emplace_back(d);
  for (const auto& dir : dirs)
    for (auto& glass : glass_directories(dir)) out.emplace_back(dir, std::move(glass));
  return out;
}

std::optional<std::string> HttpServer::Impl::damage_on_disk(const std::filesystem::path& dir, const std::filesystem::path& glass,
                                                            Xapian::rev revision) const {
  std::string detail;
  if (compare_checksums(glass, revision, detail) != ChecksumState::kMismatch) return std::nullopt;
  const auto report = verify_database(glass);
  if (!report || report->ok()) return std::nullopt;
  try {  // an index job committed meanwhile: its revision is checked next
    if (Xapian::Database(glass.string()).get_revision() != revision) return std::nullopt;
  } catch (const Xapian::Error&) {
    return std::nullopt;
  }
  const auto& first = report->damage.front();
  return fmt::format("index {} is damaged ({} problem(s); first: {}: {}): searches may miss articles without an "
                     "error; `mssearch check` lists the damage, `mssearch index --full` rebuilds it",
                     dir.string(), report->damaged_total, first.what, first.message);
}

void HttpServer::Impl::watch_for_damage(std::stop_token stop) {
  // What was checked: each table folder at its revision. Read from disk, not through a pooled
  // searcher (one opened here ahead of the visitors' searches would hold blocks they then read).
  std::map<std::filesystem::path, Xapian::rev> checked;
  std::unique_lock lock(watch_mutex);
  while (!stop.stop_requested()) {
    lock.unlock();
    for (const auto& [dir, glass] : local_tables()) {
      Xapian::rev revision = 0;
      try {
        revision = Xapian::Database(glass.string()).get_revision();
      } catch (const Xapian::Error&) {
        continue;  // one that cannot be opened is the searcher's to say
      }
      if (auto seen = checked.find(glass); seen != checked.end() && seen->second == revision) continue;
      checked[glass] = revision;
      if (auto problem = damage_on_disk(dir, glass, revision)) {
        print_log_line(fmt::format("mssearch serve: error: the check of {} found: {}\n", printable(glass.string()),
                                   printable(*problem)));
        if (auto searcher = pool.acquire()) note(Error{ErrorCode::kCorrupt, *problem}, (*searcher)->revision());
      }
    }
    lock.lock();
    watch_wake.wait_for(lock, stop, std::chrono::seconds(2), [] { return false; });
  }
}

std::optional<std::string> HttpServer::Impl::damaged(std::uint64_t revision) {
  std::lock_guard lock(damage_mutex);
  if (damage && damage->first != revision) damage.reset();  // a new index replaced the damaged one
  return damage ? std::optional(damage->second) : std::nullopt;
}

void HttpServer::Impl::page(const httplib::Request& req, httplib::Response& res) {
  const bool fragment = req.get_param_value("fragment") == "1";
  auto deliver = [&](int status, const PageContent& content) {
    res.status = status;
    // Marks the answer as this server's fragment: the page shows no other HTML in its results (a
    // proxy's or firewall's 403 or 429 page replaced them; helper-95).
    if (fragment) res.set_header("X-Mssearch-Fragment", "1");
    res.set_content(fragment ? render_results(content) : render_page(content, options),
                    "text/html; charset=utf-8");
  };
  PageRequest fallback;
  // A value the page cannot use (a mangled page number, an unknown sort, a bad date, from an
  // edited or old link) is left out and the page says so in plain words (parse_page_params);
  // the API refuses it.
  auto parsed = parse_page_params(req, options);
  if (!parsed) {
    // The words the visitor typed or pasted stay in the box, to be shortened or mended (a query
    // over the limit); not text that is not valid UTF-8.
    if (req.get_param_value_count("q") == 1) {
      std::string q = req.get_param_value("q");
      if (find_invalid_utf8(q) == std::string::npos) fallback.search.query = std::move(q);
    }
    return deliver(parsed.error().status, {&fallback, nullptr, {}, parsed.error().message});
  }
  const PageRequest* params = &parsed->request;
  auto searcher = pool.acquire();
  if (!searcher) {
    const HttpError e = for_visitors(unavailable(searcher.error()));
    return deliver(e.status, {params, nullptr, {}, "Search is not available right now. Please try again in a moment."});
  }
  auto result = (*searcher)->search(params->search);
  if (!result) {
    note(result.error(), (*searcher)->revision());
    const HttpError e = for_visitors(http_error(result.error()));
    return deliver(e.status, {params, nullptr, (*searcher)->topics(), e.message});
  }
  note(*result);
  // Articles that may be missing though every shard answered: a coordinator listing fewer shards
  // than their index has, or damage the background check found (the API's `warnings`).
  const bool missing = !(*searcher)->configuration_warnings().empty() || damaged((*searcher)->revision()).has_value();
  deliver(200, {params, &*result, (*searcher)->topics(), "", &options, record(req, *params, *result), parsed->notices, missing});
}

void HttpServer::Impl::suggest(const httplib::Request& req, httplib::Response& res) {
  if (auto ok = check_params_utf8(req); !ok) return send_error(res, ok.error());
  if (req.get_param_value_count("q") > 1) return send_error(res, {400, "bad_parameter", "parameter 'q' given more than once"});
  const auto limit = parse_limit(req, 8, options.searcher.max_limit);
  if (!limit) return send_error(res, limit.error());
  // The two formats there are; another (`format=xml`) was answered as JSON without a word.
  const std::string format = req.get_param_value("format");
  if (req.get_param_value_count("format") > 1 || (!format.empty() && format != "json" && format != "opensearch"))
    return send_error(res, {400, "bad_parameter", "parameter 'format' is 'json' (the default) or 'opensearch', given once"});
  const std::string q = req.get_param_value("q");
  auto searcher = pool.acquire();
  if (!searcher) return send_error(res, unavailable(searcher.error()));
  std::vector<std::string> failed_shards;
  auto list = (*searcher)->suggest(q, *limit, &failed_shards);
  if (!list) return send_error(res, http_error(list.error()));
  if (format == "opensearch") {
    // The OpenSearch suggestions format: [query, [completions]].
    json completions = json::array();
    for (const auto& s : *list) completions.push_back(s.text);
    return send_json(res, 200, json::array({q, completions}));
  }
  json items = json::array();
  for (auto& s : *list) {
    // A title's url as pages link it (it was the server's own page with article_url set; helper-94).
    if (s.kind == "title") s.url = article_link(s.url, s.id, options);
    items.push_back(to_json(s));
  }
  json answer = {{"query", q}, {"suggestions", items}};
  // Over shard servers, those that did not answer (their completions and counts are missing).
  mark_partial(answer, failed_shards, own_paths);
  add_configuration_warnings(answer, **searcher);
  send_json(res, 200, answer);
}

void HttpServer::Impl::article(const httplib::Request& req, httplib::Response& res, bool related) {
  const std::string id = req.matches[1];
  // An id of up to 200 characters: named in a 404's message, shortened as a path is.
  auto failed = [&id](const Error& e) {
    HttpError h = http_error(e);
    if (e.code == ErrorCode::kNotFound) h.message = "no article with id '" + shown_path(id) + "'";
    return h;
  };
  auto searcher = pool.acquire();
  if (!searcher) return send_error(res, unavailable(searcher.error()));
  if (!related) {
    auto found = (*searcher)->article(id);
    if (!found) {
      // One damaged article is that article's problem, not the index's: /readyz stays ready.
      if (found.error().code == ErrorCode::kCorrupt) metrics.count_answer("damaged_article");
      return send_error(res, failed(found.error()));
    }
    json answer = article_json(*found);
    answer["url"] = article_link(found->url, found->id, options);
    return send_json(res, 200, answer);
  }
  const auto limit = parse_limit(req, 6, options.searcher.max_limit);
  if (!limit) return send_error(res, limit.error());
  std::vector<std::string> failed_shards;
  auto hits = (*searcher)->related(id, *limit, &failed_shards);
  if (!hits) return send_error(res, failed(hits.error()));
  link(*hits);
  json items = json::array();
  for (const auto& h : *hits) items.push_back(to_json(h));
  json answer = {{"id", id}, {"related", items}};
  // Over shard servers, those that did not answer (their articles are missing), as a search says.
  mark_partial(answer, failed_shards, own_paths);
  add_configuration_warnings(answer, **searcher);
  send_json(res, 200, answer);
}

// A click beacon from the page (search.js): which result of which search was opened. 204 with
// analytics on or off; nothing about the visitor is read or kept.
void HttpServer::Impl::click(const httplib::Request& req, httplib::Response& res) {
  if (auto ok = check_params_utf8(req); !ok) return send_error(res, ok.error());
  const auto search = parse_search_id(req, "s");
  const auto position = parse_count(req, "p", options.searcher.max_offset + options.searcher.max_limit);
  // Each named as it failed: a search id given but no number said both were missing.
  const auto refusal = [&](const char* name, const char* what) {
    const std::size_t given = req.get_param_value_count(name);
    return fmt::format("parameter '{}' ({}) is {}", name, what,
                       given == 0 ? "required" : given > 1 ? "given more than once" : "not a whole number in range");
  };
  if (!search) return send_error(res, {400, "bad_parameter", refusal("s", "a search id")});
  if (!position) return send_error(res, {400, "bad_parameter", refusal("p", "a position from 1")});
  if (analytics && req.method == "GET") analytics->record_click(*search, static_cast<std::uint32_t>(*position));
  res.status = 204;
}

void HttpServer::Impl::article_page(const httplib::Request& req, httplib::Response& res) {
  const std::string id = req.matches[1];
  auto deliver = [&](int status, const ArticlePage& page) {
    res.status = status;
    res.set_content(render_article(page, options), "text/html; charset=utf-8");
  };
  auto searcher = pool.acquire();
  if (!searcher)
    return deliver(503, {nullptr, {}, "Search is not available right now", "Please try again in a moment."});
  auto found = (*searcher)->article(id);
  if (!found) {
    if (found.error().code == ErrorCode::kNotFound) return send_article_not_found(res, options);
    if (found.error().code == ErrorCode::kCorrupt) metrics.count_answer("damaged_article");
    return deliver(http_error(found.error()).status,
                   {nullptr, {}, "This article cannot be shown right now", "Please try again later, or search for its subject."});
  }
  // Related articles are a help, not the page: without them (an error) the article still shows.
  std::vector<std::string> failed_shards;
  auto related = (*searcher)->related(id, options.searcher.related_count, &failed_shards);
  // A shard that did not answer, a coordinator listing fewer shards than their index has, or
  // damage found: the list may lack some (the API's related list says so in `failed_shards` and
  // `warnings`; the page said nothing; helper-90, helper-92).
  const bool missing = !failed_shards.empty() || !(*searcher)->configuration_warnings().empty() ||
                       damaged((*searcher)->revision()).has_value();
  deliver(200, {&*found, related ? std::move(*related) : std::vector<SearchHit>{}, "", "", missing});
}

void HttpServer::Impl::topics(httplib::Response& res) {
  auto searcher = pool.acquire();
  if (!searcher) return send_error(res, unavailable(searcher.error()));
  // With every shard down there is nothing to count: unavailable, as a search is (it answered
  // 200 with the last counts known, every shard named in failed_shards).
  if (no_shard_up((*searcher)->shard_status()))
    return send_error(res, http_error({ErrorCode::kUnavailable, "no shard answered: " + shards_down((*searcher)->shard_status())}));
  json items = json::array();
  for (const auto& t : (*searcher)->topics()) items.push_back({{"value", t.value}, {"count", t.count}});
  json answer = {{"topics", items}};
  // A shard that is down: its articles are not in the counts, as a search says.
  std::vector<std::string> failed_shards;
  for (const auto& shard : (*searcher)->shard_status())
    if (!shard.up) failed_shards.push_back(shard.name);
  mark_partial(answer, failed_shards, own_paths);
  add_configuration_warnings(answer, **searcher);
  send_json(res, 200, answer);
}

void HttpServer::Impl::ready(httplib::Response& res) {
  // Not ready: why, for the operator's probe and dashboard, as anyone may read it: paths cut to
  // their last part ("no index at …/index"); the log has them whole.
  auto not_ready = [&](const std::string& status, const Error& why, std::optional<std::uint64_t> revision) {
    metrics.set_ready(false);
    log_failure({503, std::string(to_string(why.code)), why.message});
    json answer = {{"status", status}, {"reason", shown(why.message)}};
    if (revision) answer["revision"] = *revision;
    send_json(res, 503, answer);
  };
  auto searcher = pool.acquire();
  if (!searcher)
    return not_ready(searcher.error().code == ErrorCode::kCorrupt ? "damaged" : "not_ready", searcher.error(), std::nullopt);
  // An index deleted or moved while served: the searches answer from the files still open,
  // but a restart finds none (/readyz said ready, 50 documents, over an emptied folder).
  if (const auto gone = index_gone_from_disk())
    return not_ready("not_ready", {ErrorCode::kIndexMissing, *gone}, (*searcher)->revision());
  const auto documents = (*searcher)->document_count();
  const auto revision = (*searcher)->revision();
  if (auto reason = damaged(revision)) {
    // A search found the index damaged (Xapian's own corruption error): not ready until an index
    // job replaces this revision (`mssearch index --full`).
    return not_ready("damaged", {ErrorCode::kCorrupt, *reason}, revision);
  }
  metrics.set_ready(true);
  metrics.set_index(documents, static_cast<double>(revision));
  json shards = json::array();
  bool partial = false;
  for (const ShardStatus& shard : shard_status_on_disk(**searcher)) {
    partial = partial || !shard.up;
    const ShardStatus public_shard = shown(shard);
    metrics.set_shard(public_shard);
    json one = {{"name", public_shard.name}, {"up", shard.up}};
    // Also for a shard that is up: a replica of it that is down (the shard answers from the
    // others) is named, so that it is mended before the last one goes.
    if (!shard.error.empty()) one["error"] = public_shard.error;
    if (shard.replicas_behind > 0) one["replicas_behind"] = shard.replicas_behind;
    shards.push_back(std::move(one));
  }
  // Ready while at least one shard of documents answers ("partial" says some are left out); the
  // spelling database beside remote shards holds none: it alone up was "ready", 0 documents.
  const bool none = no_shard_up((*searcher)->shard_status());
  if (none) metrics.set_ready(false);
  json answer = {{"status", none ? "not_ready" : "ready"}, {"documents", documents},
                 {"revision", revision}, {"partial", partial}, {"shards", shards}};
  // Shard servers configured amiss (replicas of one shard answering from different indexes:
  // each search took one shard's articles or another's, by turn, and /readyz said all was well).
  if (const auto warnings = (*searcher)->configuration_warnings(); !warnings.empty()) answer["warnings"] = warnings;
  send_json(res, none ? 503 : 200, answer);
}

void HttpServer::Impl::static_asset(httplib::Response& res, std::string_view name, const char* type, bool immutable) {
  const std::string_view body = asset(name);
  if (body.empty()) return send_error(res, {404, "not_found", "no such file"});
  res.set_header("Cache-Control", immutable ? "public, max-age=31536000, immutable" : "public, max-age=300");
  res.set_content(std::string(body), type);
}

void HttpServer::Impl::setup() {
  // The sockets, timeouts and worker threads are the connection gate's; cpp-httplib parses,
  // routes and writes. These two only set what its Keep-Alive header says, which the gate
  // honours.
  server.set_keep_alive_max_count(options.keep_alive_requests);
  server.set_keep_alive_timeout(options.keep_alive_seconds);
  server.set_payload_max_length(options.shard_server ? std::max(options.max_request_bytes, kMaxShardRequestBytes)
                                                    : options.max_request_bytes);

  // cpp-httplib calls this before it reads a body: a POST (PUT, PATCH, DELETE) is answered from
  // its head, and the gate, which handed it over without waiting for the body, closes after.
  // TRACE and CONNECT (which cpp-httplib parses, then answers 400 as unrouted) get the same 405.
  server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    request_start = Clock::now();
    // cpp-httplib 0.11 reads `q=brain=fog` as q = "fog" (each '=' starts the value again): read
    // again here, each parameter's value from its first '=' on, as browsers and
    // URLSearchParams do. The request is the server's own object, not a constant one.
    const_cast<httplib::Request&>(req).params = query_params(req.target);
    // Brotli is not offered, nor a coding refused (see offered_codings).
    if (req.has_header("Accept-Encoding")) {
      const std::string kept = offered_codings(req.headers);
      auto& headers = const_cast<httplib::Request&>(req).headers;
      headers.erase("Accept-Encoding");
      if (!kept.empty()) headers.emplace("Accept-Encoding", kept);
    }
    current_route = escape_log_field(req.method) + " " + escape_log_field(req.path.substr(0, 200));
    const bool internal = options.shard_server && req.path == kShardEndpoint;
    if (internal && req.method != "POST") {
      res.set_header("Allow", "POST");
      send_error(res, {405, "method_not_allowed", req.method + " is not allowed on " + req.path + "; use POST"});
      return httplib::Server::HandlerResponse::Handled;
    }
    const bool served = req.method == "GET" || req.method == "HEAD" || req.method == "OPTIONS" || internal;
    if (served) return httplib::Server::HandlerResponse::Unhandled;
    not_allowed(req, res);
    return httplib::Server::HandlerResponse::Handled;
  });
  // Nor is a client invited to send a body ("100 Continue") that no route takes.
  server.set_expect_100_continue_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!takes_body(req.method) || (req.method == "POST" && options.shard_server && req.path == kShardEndpoint)) return 100;
    request_start = Clock::now();
    not_allowed(req, res);
    return res.status;
  });
  server.set_post_routing_handler(
      [this](const httplib::Request& req, httplib::Response& res) { add_common_headers(req, res); });
  server.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    // An address no route serves, outside the API: a browser (its Accept prefers text/html) that
    // followed a bad link gets a page saying so; API clients, and anything under /api/, the JSON
    // error. The answer depends on Accept: a cache must key on it.
    const bool page_or_json = res.status == 404 && res.body.empty() && req.path != "/api" && !req.path.starts_with("/api/");
    if (page_or_json) res.set_header("Vary", "Accept");
    add_common_headers(req, res);
    if (!res.body.empty()) return;
    if (page_or_json && prefers_html(req.get_header_value("Accept"))) return send_page_not_found(res, options);
    const int status = res.status;
    const std::string code = status == 404 ? "not_found" : status == 405 ? "method_not_allowed"
                           : status == 413 ? "payload_too_large" : status == 414 ? "uri_too_long"
                           : status >= 500 ? "internal_error" : "bad_request";
    const std::string message = status == 404 ? "no route " + shown_path(req.path)
                              : status == 413 ? "request body is over the limit of " + std::to_string(body_limit(req.method, req.path)) + " bytes"
                              : status == 414 ? "request URI is too long"
                              : status >= 500 ? "internal error" : "bad request";
    send_json(res, status, {{"error", {{"code", code}, {"message", message}}}});
  });
  server.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    const double seconds =
        request_start ? std::chrono::duration<double>(Clock::now() - *request_start).count() : 0.0;
    // A 400 that never reached routing (the pre-routing handler sets request_start) is one
    // cpp-httplib could not parse.
    last_parsed = res.status != 400 || request_start.has_value();
    request_start.reset();
    metrics.observe(route_of(req.path), res.status, seconds);
    if (options.access_log)
      print_log_line(access_log_line(current_peer, req.method, req.target, res.status, seconds * 1000));
  });

  using Req = const httplib::Request&;
  using Res = httplib::Response&;
  add_route("/", "/", [this](Req req, Res res) { page(req, res); });
  add_route("/api/search", "/api/search", [this](Req req, Res res) { api_search(req, res); });
  // Where a site's own search box or a visitor's guess sends a search: the page, same question.
  // The parameters encoded again, names and values (cpp-httplib keeps the target decoded, and
  // its own query writer leaves names as they are: `q%26topic%3DX=1` became a second parameter).
  add_route("/search", "/search", [](Req req, Res res) {
    std::string query;
    for (const auto& [name, value] : req.params)
      query += (query.empty() ? "" : "&") + httplib::detail::encode_query_param(name) + "=" +
               httplib::detail::encode_query_param(value);
    res.set_redirect(query.empty() ? "/" : "/?" + query, 301);
  });
  add_route("/api/suggest", "/api/suggest", [this](Req req, Res res) { suggest(req, res); });
  add_route("/api/topics", "/api/topics", [this](Req, Res res) { topics(res); });
  add_route(R"(/api/articles/([A-Za-z0-9._-]{1,200}))", "/api/articles/:id",
            [this](Req req, Res res) { article(req, res, false); });
  add_route(R"(/api/articles/([A-Za-z0-9._-]{1,200})/related)", "/api/articles/:id/related",
            [this](Req req, Res res) { article(req, res, true); });
  add_route(R"(/articles/([A-Za-z0-9._-]{1,200}))", "/articles/:id", [this](Req req, Res res) { article_page(req, res); });
  // An article's address with a slash after it (a link written so, a visitor's edit) is the
  // article's (it was "Article not found"; helper-95).
  add_route(R"(/articles/([A-Za-z0-9._-]{1,200})/)", "/articles/:id",
            [](Req req, Res res) { res.set_redirect("/articles/" + req.matches[1].str(), 301); });
  // Any other address under /articles/ is a page a visitor followed: the page that says so.
  add_route(R"(/articles(/.*)?)", "/articles/:id", [this](Req, Res res) { send_article_not_found(res, options); });
  add_route("/favicon.ico", "/favicon.ico", [](Req, Res res) { res.status = 204; });
  add_route("/healthz", "/healthz", [](Req, Res res) { send_json(res, 200, {{"status", "ok"}}); });
  add_route("/readyz", "/readyz", [this](Req, Res res) { ready(res); });
  add_route("/metrics", "/metrics", [this](Req, Res res) {
    if (auto s = pool.acquire()) {
      metrics.set_index((*s)->document_count(), static_cast<double>((*s)->revision()));
      metrics.set_ready(true);
      for (const auto& shard : shard_status_on_disk(**s)) metrics.set_shard(shown(shard));
    } else {
      metrics.set_ready(false);
    }
    const auto counts = gate.counts();
    metrics.set_connections(static_cast<double>(counts.open), static_cast<double>(counts.queued));
    if (analytics) metrics.set_analytics_dropped(static_cast<double>(analytics->dropped()));
    if (const auto& cache = options.searcher.result_cache)
      metrics.set_result_cache(static_cast<double>(cache->hits()), static_cast<double>(cache->misses()),
                               static_cast<double>(cache->size()));
    res.set_content(metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  add_route("/opensearch.xml", "/opensearch.xml", [this](Req req, Res res) {
    res.set_content(render_opensearch(options, opensearch_base(req, res)), "application/opensearchdescription+xml; charset=utf-8");
  });
  const std::pair<const char*, const char*> assets[] = {
      {"/static/search.js", "text/javascript; charset=utf-8"}, {"/static/search.css", "text/css; charset=utf-8"},
      {"/widget.js", "text/javascript; charset=utf-8"},        {"/widget.css", "text/css; charset=utf-8"},
      {"/widget-demo.html", "text/html; charset=utf-8"}};
  for (const auto& [path, type] : assets) {
    const std::string file = std::string(path).substr(std::string(path).rfind('/') + 1);
    add_route(path, std::string(path).starts_with("/static/") ? "/static" : path,
              [this, file, type](Req, Res res) { static_asset(res, file, type); });
  }
  // The page's own assets under fingerprinted names: a year in caches. A name with another
  // fingerprint (a page cached from another build) still gets the file, briefly cached.
  for (const auto& [file, type] : {std::pair{"search.css", "text/css; charset=utf-8"}, std::pair{"search.js", "text/javascript; charset=utf-8"}}) {
    const std::string stem = std::string(file).substr(0, std::string(file).rfind('.'));
    const std::string ext = std::string(file).substr(std::string(file).rfind('.') + 1);
    add_route("/static/" + stem + R"(\.[0-9a-f]{16}\.)" + ext, "/static", [this, file, type](Req req, Res res) {
      static_asset(res, file, type, req.path == static_href(file));
    });
  }
  add_route("/api/click", "/api/click", [this](Req req, Res res) { click(req, res); });
  add_route("/robots.txt", "/robots.txt", [](Req, Res res) {
    res.set_header("Cache-Control", "public, max-age=3600");
    res.set_content("User-agent: *\nAllow: /\nAllow: /articles/\nDisallow: /api/\nDisallow: /*?*fragment=\n", "text/plain; charset=utf-8");
  });
  if (options.shard_server)
    add_route(kShardEndpoint, kShardEndpoint, [this](Req req, Res res) { shard(req, res); }, /*post=*/true);
  for (const auto& route : routes) {
    if (route.post) server.Post(route.pattern, route.handler);
    else server.Get(route.pattern, route.handler);
  }

  // Only GET (and HEAD) are served (POST and the like are refused before routing, above); CORS
  // preflight is answered for the API.
  server.Options(".*", [this](const httplib::Request& req, httplib::Response& res) {
    // `OPTIONS *` asks what the server as a whole allows (RFC 9110 9.3.7): it was a 404.
    if (req.path == "*") {
      res.set_header("Allow", "GET, HEAD, OPTIONS");
      add_common_headers(req, res);
      res.status = 204;
      return;
    }
    // A path no route serves is not found whatever the method (it answered 204, GET 404).
    if (route_of(req.path) == "other") {
      add_common_headers(req, res);
      return send_error(res, {404, "not_found", "no route " + shown_path(req.path)});
    }
    res.set_header("Allow", "GET, HEAD, OPTIONS");
    res.set_header("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
    res.set_header("Access-Control-Allow-Headers", "Content-Type");
    res.set_header("Access-Control-Max-Age", "600");
    add_common_headers(req, res);
    res.status = 204;
  });
}

HttpServer::HttpServer(const ServerOptions& options) : impl_(std::make_unique<Impl>(options)) {
  impl_->setup();
}

HttpServer::~HttpServer() = default;

std::string url_host(std::string_view host) {
  if (host.find(':') == std::string_view::npos || host.starts_with('[')) return std::string(host);
  return "[" + std::string(host) + "]";
}

Result<int> HttpServer::bind() {
  if (!impl_->options.analytics_path.empty() && !impl_->analytics) {
    AnalyticsOptions analytics{impl_->options.analytics_path, impl_->options.analytics_retention_days};
    analytics.max_searches = impl_->options.analytics_max_searches;
    auto recorder = AnalyticsRecorder::open(analytics);
    if (!recorder) return std::unexpected(recorder.error());
    impl_->analytics = std::move(*recorder);
  }
  auto port = impl_->gate.listen();
  if (!port) return port;
  const std::string& host = impl_->options.host;
  const std::string shown = host == "0.0.0.0" || host == "::" || host.empty() ? "127.0.0.1" : url_host(host);
  impl_->listen_address = fmt::format("{}:{}", shown, *port);
  return port;
}

std::string testing::handle_raw(HttpServer& server, std::string_view request) {
  std::string response;
  MemoryStream stream(request, response);
  current_peer = "127.0.0.1";
  bool closed = false;
  server.impl_->server.process_request(stream, /*close_connection=*/true, closed, nullptr);
  return response;
}

bool HttpServer::run() {
  if (impl_->listen_address.empty()) return false;  // bind() first
  if (!impl_->damage_watch.joinable())
    impl_->damage_watch = std::jthread([impl = impl_.get()](std::stop_token stop) { impl->watch_for_damage(stop); });
  impl_->gate.run();
  return true;
}
void HttpServer::stop() { impl_->gate.stop(); }
bool HttpServer::is_running() const { return impl_->gate.is_running(); }

Result<std::pair<unsigned, unsigned>> HttpServer::index_state() {
  auto s = impl_->pool.acquire();
  if (!s) return std::unexpected(s.error());
  return std::pair<unsigned, unsigned>{(*s)->document_count(), static_cast<unsigned>((*s)->revision())};
}

std::vector<std::string> HttpServer::shard_problems() {
  std::vector<std::string> out;
  auto s = impl_->pool.acquire();
  if (!s) return out;
  for (const auto& shard : (*s)->shard_status())
    if (!shard.up || !shard.error.empty()) out.push_back(shard.name + (shard.up ? " has a failing replica: " : " is down: ") + shard.error);
  return out;
}

std::vector<std::string> HttpServer::configuration_warnings() {
  auto s = impl_->pool.acquire();
  return s ? (*s)->configuration_warnings() : std::vector<std::string>();
}

std::size_t HttpServer::shards_down() {
  auto s = impl_->pool.acquire();
  if (!s) return 0;
  const auto& shards = (*s)->shard_status();
  return static_cast<std::size_t>(std::count_if(shards.begin(), shards.end(), [](const ShardStatus& shard) { return !shard.up; }));
}

}  // namespace mssearch
