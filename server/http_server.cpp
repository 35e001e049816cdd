#include "server/http_server.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "server/assets.h"
#include "server/metrics.h"
#include "server/pages.h"
#include "server/request_params.h"
#include "server/searcher_pool.h"

namespace mssearch {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// Set when a request reaches routing; requests refused before (414, timeouts) log no time.
thread_local std::optional<Clock::time_point> request_start;

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
    case ErrorCode::kSchemaMismatch: return {503, std::string(to_string(e.code)), e.message};
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

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(dump_json(body), "application/json; charset=utf-8");
}

void send_error(httplib::Response& res, const HttpError& e) {
  send_json(res, e.status, {{"error", {{"code", e.code}, {"message", e.message}}}});
}

// A small, fixed set of route names, so that metrics labels stay few.
std::string route_of(const std::string& path) {
  static const std::pair<std::regex, const char*> kRoutes[] = {
      {std::regex("^/$"), "/"},
      {std::regex("^/api/search$"), "/api/search"},
      {std::regex("^/api/suggest$"), "/api/suggest"},
      {std::regex("^/api/topics$"), "/api/topics"},
      {std::regex("^/api/articles/[^/]+/related$"), "/api/articles/:id/related"},
      {std::regex("^/api/articles/[^/]+$"), "/api/articles/:id"},
      {std::regex("^/(healthz|readyz|metrics|opensearch\\.xml|favicon\\.ico|widget\\.js|widget\\.css|widget-demo\\.html)$"), nullptr},
      {std::regex("^/static/[^/]+$"), "/static"},
  };
  for (const auto& [re, name] : kRoutes)
    if (std::regex_match(path, re)) return name != nullptr ? name : path;
  return "other";
}

// cpp-httplib's request processing is protected; this exposes it for requests held in memory.
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
  int port = 0;

  explicit Impl(const ServerOptions& o) : options(o), pool(o.searcher, o.threads) {}

  void setup();
  void api_search(const httplib::Request& req, httplib::Response& res);
  void page(const httplib::Request& req, httplib::Response& res);
  void suggest(const httplib::Request& req, httplib::Response& res);
  void article(const httplib::Request& req, httplib::Response& res, bool related);
  void topics(httplib::Response& res);
  void ready(httplib::Response& res);
  void static_asset(httplib::Response& res, std::string_view name, const char* type);
  void add_common_headers(const httplib::Request& req, httplib::Response& res);
};

void HttpServer::Impl::add_common_headers(const httplib::Request& req, httplib::Response& res) {
  // Called from the post-routing and the error handler alike: set each header once.
  if (res.has_header("X-Content-Type-Options")) return;
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Content-Security-Policy", kSecurityPolicy);
  res.set_header("Referrer-Policy", "strict-origin-when-cross-origin");
  const std::string origin = req.get_header_value("Origin");
  if (!origin.empty()) {
    const auto& allowed = options.cors_origins;
    const bool any = std::find(allowed.begin(), allowed.end(), "*") != allowed.end();
    if (any || std::find(allowed.begin(), allowed.end(), origin) != allowed.end()) {
      res.set_header("Access-Control-Allow-Origin", any ? "*" : origin);
      res.set_header("Vary", "Origin");
    }
  }
}

void HttpServer::Impl::api_search(const httplib::Request& req, httplib::Response& res) {
  auto params = parse_search_params(req, options);
  if (!params) return send_error(res, params.error());
  auto searcher = pool.acquire();
  if (!searcher) return send_error(res, unavailable(searcher.error()));
  auto result = (*searcher)->search(params->search);
  if (!result) return send_error(res, http_error(result.error()));
  send_json(res, 200, to_json(*result));
}

void HttpServer::Impl::page(const httplib::Request& req, httplib::Response& res) {
  const bool fragment = req.get_param_value("fragment") == "1";
  auto deliver = [&](int status, const PageContent& content) {
    res.status = status;
    res.set_content(fragment ? render_results(content) : render_page(content, options),
                    "text/html; charset=utf-8");
  };
  PageRequest fallback;
  auto params = parse_search_params(req, options);
  if (!params) return deliver(params.error().status, {&fallback, nullptr, {}, params.error().message});
  auto searcher = pool.acquire();
  if (!searcher) {
    const HttpError e = unavailable(searcher.error());
    return deliver(e.status, {&*params, nullptr, {}, "Search is not available right now: " + e.message});
  }
  auto result = (*searcher)->search(params->search);
  if (!result) {
    const HttpError e = http_error(result.error());
    return deliver(e.status, {&*params, nullptr, (*searcher)->topics(), e.message});
  }
  deliver(200, {&*params, &*result, (*searcher)->topics(), ""});
}

void HttpServer::Impl::suggest(const httplib::Request& req, httplib::Response& res) {
  if (auto ok = check_params_utf8(req); !ok) return send_error(res, ok.error());
  if (req.get_param_value_count("q") > 1) return send_error(res, {400, "bad_parameter", "parameter 'q' given more than once"});
  const std::string q = req.get_param_value("q");
  auto searcher = pool.acquire();
  if (!searcher) return send_error(res, unavailable(searcher.error()));
  auto list = (*searcher)->suggest(q, 8);
  if (!list) return send_error(res, http_error(list.error()));
  if (req.get_param_value("format") == "opensearch") {
    // The OpenSearch suggestions format: [query, [completions]].
    json completions = json::array();
    for (const auto& s : *list) completions.push_back(s.text);
    return send_json(res, 200, json::array({q, completions}));
  }
  json items = json::array();
  for (const auto& s : *list) items.push_back(to_json(s));
  send_json(res, 200, {{"query", q}, {"suggestions", items}});
}

void HttpServer::Impl::article(const httplib::Request& req, httplib::Response& res, bool related) {
  const std::string id = req.matches[1];
  auto searcher = pool.acquire();
  if (!searcher) return send_error(res, unavailable(searcher.error()));
  if (!related) {
    auto found = (*searcher)->article(id);
    if (!found) return send_error(res, http_error(found.error()));
    return send_json(res, 200, article_json(*found));
  }
  std::size_t limit = 6;
  if (req.has_param("limit")) {
    const std::string l = req.get_param_value("limit");
    if (l.empty() || l.size() > 3 || !std::all_of(l.begin(), l.end(), ::isdigit) || std::stoul(l) < 1 ||
        std::stoul(l) > options.searcher.max_limit)
      return send_error(res, {400, "bad_parameter", fmt::format("parameter 'limit' must be from 1 to {}", options.searcher.max_limit)});
    limit = std::stoul(l);
  }
  auto hits = (*searcher)->related(id, limit);
  if (!hits) return send_error(res, http_error(hits.error()));
  json items = json::array();
  for (const auto& h : *hits) items.push_back(to_json(h));
  send_json(res, 200, {{"id", id}, {"related", items}});
}

void HttpServer::Impl::topics(httplib::Response& res) {
  auto searcher = pool.acquire();
  if (!searcher) return send_error(res, unavailable(searcher.error()));
  json items = json::array();
  for (const auto& t : (*searcher)->topics()) items.push_back({{"value", t.value}, {"count", t.count}});
  send_json(res, 200, {{"topics", items}});
}

void HttpServer::Impl::ready(httplib::Response& res) {
  auto searcher = pool.acquire();
  if (!searcher) {
    metrics.set_ready(false);
    return send_json(res, 503, {{"status", "not_ready"}, {"reason", searcher.error().message}});
  }
  const auto& db = (*searcher)->database();
  const auto documents = db.get_doccount();
  const auto revision = (*searcher)->revision();
  metrics.set_ready(true);
  metrics.set_index(documents, static_cast<double>(revision));
  json shards = json::array();
  bool partial = false;
  for (const auto& shard : (*searcher)->shard_status()) {
    metrics.set_shard(shard.name, shard.up);
    partial = partial || !shard.up;
    json one = {{"name", shard.name}, {"up", shard.up}};
    if (!shard.up) one["error"] = shard.error;
    shards.push_back(std::move(one));
  }
  // Ready while at least one shard answers; "partial" says some are left out.
  send_json(res, 200, {{"status", "ready"}, {"documents", documents}, {"revision", revision},
                       {"partial", partial}, {"shards", shards}});
}

void HttpServer::Impl::static_asset(httplib::Response& res, std::string_view name, const char* type) {
  const std::string_view body = asset(name);
  if (body.empty()) return send_error(res, {404, "not_found", "no such file"});
  res.set_header("Cache-Control", "public, max-age=300");
  res.set_content(std::string(body), type);
}

void HttpServer::Impl::setup() {
  server.new_task_queue = [n = options.threads] { return new httplib::ThreadPool(n); };
  server.set_payload_max_length(options.max_request_bytes);
  // Headers and body go out in separate writes: without TCP_NODELAY, Nagle + delayed ACK add
  // ~40 ms to every keep-alive answer (measured: 44 ms p50 before, see README "Load").
  server.set_tcp_nodelay(true);
  server.set_read_timeout(options.read_timeout_seconds, 0);
  server.set_write_timeout(options.write_timeout_seconds, 0);
  server.set_keep_alive_timeout(options.keep_alive_seconds);

  server.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
    request_start = Clock::now();
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server.set_post_routing_handler(
      [this](const httplib::Request& req, httplib::Response& res) { add_common_headers(req, res); });
  server.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    add_common_headers(req, res);
    if (!res.body.empty()) return;
    const int status = res.status;
    const std::string code = status == 404 ? "not_found" : status == 405 ? "method_not_allowed"
                           : status == 413 ? "payload_too_large" : status == 414 ? "uri_too_long"
                           : status >= 500 ? "internal_error" : "bad_request";
    const std::string message = status == 404 ? "no route " + req.path
                              : status == 413 ? "request body is over the limit of " + std::to_string(options.max_request_bytes) + " bytes"
                              : status == 414 ? "request URI is too long"
                              : status >= 500 ? "internal error" : "bad request";
    send_json(res, status, {{"error", {{"code", code}, {"message", message}}}});
  });
  server.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    const double seconds =
        request_start ? std::chrono::duration<double>(Clock::now() - *request_start).count() : 0.0;
    request_start.reset();
    metrics.observe(route_of(req.path), res.status, seconds);
    if (options.access_log)
      fmt::print(stderr, "{} {} {} {} {:.1f}ms\n", req.remote_addr, req.method, req.target, res.status, seconds * 1000);
  });

  server.Get("/", [this](const httplib::Request& req, httplib::Response& res) { page(req, res); });
  server.Get("/api/search", [this](const httplib::Request& req, httplib::Response& res) { api_search(req, res); });
  server.Get("/api/suggest", [this](const httplib::Request& req, httplib::Response& res) { suggest(req, res); });
  server.Get("/api/topics", [this](const httplib::Request&, httplib::Response& res) { topics(res); });
  server.Get(R"(/api/articles/([A-Za-z0-9._-]{1,200}))",
             [this](const httplib::Request& req, httplib::Response& res) { article(req, res, false); });
  server.Get(R"(/api/articles/([A-Za-z0-9._-]{1,200})/related)",
             [this](const httplib::Request& req, httplib::Response& res) { article(req, res, true); });
  server.Get("/favicon.ico", [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { send_json(res, 200, {{"status", "ok"}}); });
  server.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) { ready(res); });
  server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    if (auto s = pool.acquire()) {
      metrics.set_index((*s)->database().get_doccount(), static_cast<double>((*s)->revision()));
      metrics.set_ready(true);
      for (const auto& shard : (*s)->shard_status()) metrics.set_shard(shard.name, shard.up);
    } else {
      metrics.set_ready(false);
    }
    res.set_content(metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server.Get("/opensearch.xml", [this](const httplib::Request& req, httplib::Response& res) {
    const std::string base = !options.public_url.empty() ? options.public_url
                                                         : "http://" + req.get_header_value("Host");
    res.set_content(render_opensearch(options, base), "application/opensearchdescription+xml; charset=utf-8");
  });
  server.Get("/static/search.js", [this](const httplib::Request&, httplib::Response& res) { static_asset(res, "search.js", "text/javascript; charset=utf-8"); });
  server.Get("/static/search.css", [this](const httplib::Request&, httplib::Response& res) { static_asset(res, "search.css", "text/css; charset=utf-8"); });
  server.Get("/widget.js", [this](const httplib::Request&, httplib::Response& res) { static_asset(res, "widget.js", "text/javascript; charset=utf-8"); });
  server.Get("/widget.css", [this](const httplib::Request&, httplib::Response& res) { static_asset(res, "widget.css", "text/css; charset=utf-8"); });
  server.Get("/widget-demo.html", [this](const httplib::Request&, httplib::Response& res) { static_asset(res, "widget-demo.html", "text/html; charset=utf-8"); });

  // Only GET (and HEAD) are served; CORS preflight is answered for the API.
  auto not_allowed = [](const httplib::Request& req, httplib::Response& res) {
    if (route_of(req.path) == "other") return send_error(res, {404, "not_found", "no route " + req.path});
    res.set_header("Allow", "GET, HEAD");
    send_error(res, {405, "method_not_allowed", req.method + " is not allowed on " + req.path + "; use GET"});
  };
  server.Post(".*", not_allowed);
  server.Put(".*", not_allowed);
  server.Patch(".*", not_allowed);
  server.Delete(".*", not_allowed);
  server.Options(".*", [this](const httplib::Request& req, httplib::Response& res) {
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

Result<int> HttpServer::bind() {
  const auto& o = impl_->options;
  int port = o.port == 0 ? impl_->server.bind_to_any_port(o.host)
                         : (impl_->server.bind_to_port(o.host, o.port) ? o.port : -1);
  if (port < 0)
    return fail(ErrorCode::kIo, fmt::format("cannot listen on {}:{} (in use, or not an address of this machine)", o.host, o.port));
  impl_->port = port;
  return port;
}

std::string HttpServer::handle_raw(std::string_view request) {
  std::string response;
  MemoryStream stream(request, response);
  bool closed = false;
  impl_->server.process_request(stream, /*close_connection=*/true, closed, nullptr);
  return response;
}

bool HttpServer::run() { return impl_->server.listen_after_bind(); }
void HttpServer::stop() { impl_->server.stop(); }
bool HttpServer::is_running() const { return impl_->server.is_running(); }

Result<std::pair<unsigned, unsigned>> HttpServer::index_state() {
  auto s = impl_->pool.acquire();
  if (!s) return std::unexpected(s.error());
  return std::pair<unsigned, unsigned>{(*s)->database().get_doccount(), static_cast<unsigned>((*s)->revision())};
}

}  // namespace mssearch
