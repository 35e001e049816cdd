#include "server/server_options.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <string_view>
#include <type_traits>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "schema/article.h"
#include "schema/yaml_file.h"

namespace mssearch {

namespace {

// The `ranking:` section: the site's boosts and the measured ranking choices (searcher/ranking.h),
// every setting visit_ranking_settings names.
std::optional<Error> load_ranking(const std::filesystem::path& path, const YAML::Node& node, RankingOptions& r) {
  if (!node.IsMap()) return Error{ErrorCode::kIo, yaml_where(path, node) + ": 'ranking' must be a mapping"};
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    bool known = false;
    try {
      visit_ranking_settings(r, [&](std::string_view name, auto& field) {
        if (name != key) return;
        known = true;
        field = v.as<std::remove_reference_t<decltype(field)>>();
      });
    } catch (const YAML::Exception&) {
      return Error{ErrorCode::kIo, yaml_where(path, v) + ": bad value for 'ranking." + key + "'"};
    }
    if (!known) return Error{ErrorCode::kIo, yaml_where(path, kv.first) + ": unknown ranking setting '" + key + "'"};
  }
  if (const std::string problem = ranking_settings_problem(r); !problem.empty())
    return Error{ErrorCode::kIo, yaml_where(path, node) + ": " + problem};
  return std::nullopt;
}

}  // namespace

Result<ServerOptions> load_server_options(const std::filesystem::path& path) {
  ServerOptions o;
  auto loaded = load_yaml_file(path, "config file");
  if (!loaded) return std::unexpected(loaded.error());
  const YAML::Node root = *loaded;
  if (root.IsNull()) return o;
  if (!root.IsMap()) return fail(ErrorCode::kIo, path.string() + ": expected a mapping of settings");
  // Relative paths in the file are relative to the file.
  const auto base = path.parent_path();
  auto relative = [&](const std::string& p) {
    std::filesystem::path fp(p);
    return fp.is_absolute() || base.empty() ? fp : base / fp;
  };
  // A file the server may go without: '' (or nothing) means none, as '' does on the command
  // line (it named the config file's directory).
  auto optional_path = [&](const YAML::Node& v) {
    return v.IsNull() || v.as<std::string>().empty() ? std::filesystem::path() : relative(v.as<std::string>());
  };
  std::string request_timeout_key;
  std::map<std::string, int> seen;  // key -> its line: a setting given twice is a mistake
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    if (const auto [at, first] = seen.emplace(key, kv.first.Mark().line + 1); !first)
      return fail(ErrorCode::kIo, yaml_where(path, kv.first) + ": '" + key + "' is already set on line " +
                                      std::to_string(at->second) + "; keep one");
    try {
      // '' names no index (it was taken for the config file's directory, or for "no index at :").
      if ((key == "database" || key == "databases") && (v.IsNull() || (v.IsScalar() && v.as<std::string>().empty()) || (v.IsSequence() && v.size() == 0)))
        return fail(ErrorCode::kIo, yaml_where(path, kv.first) + ": '" + key + "' is empty: name the index directory");
      if (key == "database") o.searcher.db_path = relative(v.as<std::string>());
      else if (key == "synonyms") o.searcher.synonyms_path = optional_path(v);
      else if (key == "databases") {
        o.searcher.databases.clear();
        for (std::size_t i = 0; const auto& d : v.as<std::vector<std::string>>()) {
          // `~` is read as the string "null": an index called null.
          if (d.empty() || (v.IsSequence() && v[i].IsNull()))
            return fail(ErrorCode::kIo, yaml_where(path, v.IsSequence() ? v[i] : v) + ": 'databases' has an empty entry: name the index directory");
          o.searcher.databases.push_back(is_remote_spec(d) ? d : relative(d).string());
          ++i;
        }
        // The line of its second listing.
        if (const auto same = same_database_twice(o.searcher.databases))
          return fail(ErrorCode::kIo, yaml_where(path, v.IsSequence() && same->second < v.size() ? v[same->second] : v) +
                                          ": 'databases': " + same->message);
      }
      // As a directory, a "shard" that was down: every answer was partial.
      else if (key == "spelling_database") o.searcher.spelling_database = optional_path(v);
      else if (key == "remote_connect_timeout_seconds") o.searcher.remote.connect_timeout_seconds = v.as<double>();
      else if (key == "remote_timeout_seconds") o.searcher.remote.timeout_seconds = v.as<double>();
      else if (key == "remote_retry_seconds") o.searcher.remote.retry_seconds = v.as<double>();
      else if (key == "shard_server") o.shard_server = v.as<bool>();
      else if (key == "shard_secret") {
        o.shard_secret = v.IsNull() ? std::string() : v.as<std::string>();
        // `shard_secret: ""` would be no secret at all, with the setting there to say otherwise.
        if (!v.IsNull() && o.shard_secret.empty())
          return fail(ErrorCode::kIo, yaml_where(path, v) + ": 'shard_secret' is empty: give the secret, or leave "
                                                            "the setting out");
        // HTTP drops spaces at either end of the header a coordinator sends: it would never match.
        if (!o.shard_secret.empty() && (std::isspace(static_cast<unsigned char>(o.shard_secret.front())) != 0 ||
                                        std::isspace(static_cast<unsigned char>(o.shard_secret.back())) != 0))
          return fail(ErrorCode::kIo, yaml_where(path, v) + ": 'shard_secret' begins or ends with a space, which an "
                                                            "HTTP header cannot carry: remove it");
      }
      else if (key == "shards") {
        // Each shard: one replica's URL, or a list of its replicas' URLs.
        if (!v.IsSequence()) return fail(ErrorCode::kIo, yaml_where(path, v) + ": 'shards' must be a list");
        o.cluster.shards.clear();
        for (const auto& shard : v)
          o.cluster.shards.push_back(shard.IsSequence() ? shard.as<std::vector<std::string>>()
                                                        : std::vector<std::string>{shard.as<std::string>()});
        // The line of the entry at fault (a duplicate: its second listing), not the list's.
        ClusterProblemAt at;
        if (auto ok = check_cluster_options(o.cluster, &at); !ok) {
          YAML::Node where = v;
          if (at.shard < v.size()) {
            where = v[at.shard];
            if (where.IsSequence() && at.replica < where.size()) where = where[at.replica];
          }
          return fail(ErrorCode::kIo, yaml_where(path, where) + ": " + ok.error().message);
        }
      }
      else if (key == "shard_connect_timeout_seconds") o.cluster.connect_timeout_seconds = v.as<double>();
      else if (key == "shard_timeout_seconds") o.cluster.timeout_seconds = v.as<double>();
      else if (key == "shard_retry_seconds") o.cluster.retry_seconds = v.as<double>();
      else if (key == "host") o.host = v.as<std::string>();
      else if (key == "port") o.port = v.as<int>();
      else if (key == "threads") o.threads = v.as<std::size_t>();
      else if (key == "cors_origins") o.cors_origins = v.as<std::vector<std::string>>();
      else if (key == "default_per_page") o.default_per_page = v.as<std::size_t>();
      else if (key == "max_per_page") o.searcher.max_limit = v.as<std::size_t>();
      else if (key == "result_cache_entries") o.result_cache_entries = v.as<std::size_t>();
      else if (key == "result_cache_mb") o.result_cache_mb = v.as<std::size_t>();
      else if (key == "max_offset") o.searcher.max_offset = v.as<std::size_t>();
      else if (key == "shard_fetch_from_offset") o.searcher.fetch_from_offset = v.as<std::size_t>();
      else if (key == "snippet_length") o.searcher.snippet_length = v.as<std::size_t>();
      else if (key == "max_query_bytes") o.searcher.max_query_bytes = v.as<std::size_t>();
      else if (key == "max_query_terms") o.searcher.max_query_terms = v.as<std::size_t>();
      else if (key == "max_query_words") o.searcher.max_query_words = v.as<std::size_t>();
      else if (key == "max_wildcard_expansion") o.searcher.max_wildcard_expansion = v.as<unsigned>();
      else if (key == "query_time_limit_seconds") o.searcher.time_limit_seconds = v.as<double>();
      else if (key == "related_count") o.searcher.related_count = v.as<std::size_t>();
      else if (key == "match_slices") o.searcher.match_slices = v.as<std::size_t>();
      else if (key == "ranking") {
        if (auto error = load_ranking(path, v, o.searcher.ranking)) return std::unexpected(*error);
      }
      else if (key == "max_request_bytes") o.max_request_bytes = v.as<std::size_t>();
      else if (key == "request_timeout_seconds" || key == "read_timeout_seconds") {
        // read_timeout_seconds: the old name, from when the limit was per read.
        if (!request_timeout_key.empty())
          return fail(ErrorCode::kIo, yaml_where(path, kv.first) + ": '" + key + "' and '" + request_timeout_key +
                                          "' set the same limit; keep request_timeout_seconds");
        request_timeout_key = key;
        o.request_timeout_seconds = v.as<int>();
      }
      else if (key == "write_timeout_seconds") o.write_timeout_seconds = v.as<int>();
      else if (key == "keep_alive_seconds") o.keep_alive_seconds = v.as<int>();
      else if (key == "keep_alive_requests") o.keep_alive_requests = v.as<std::size_t>();
      else if (key == "max_connections") o.max_connections = v.as<std::size_t>();
      else if (key == "max_connections_per_client") o.max_connections_per_client = v.as<std::size_t>();
      else if (key == "max_queued_requests") o.max_queued_requests = v.as<std::size_t>();
      else if (key == "access_log") o.access_log = v.as<bool>();
      else if (key == "site_name") o.site_name = v.as<std::string>();
      else if (key == "public_url") {
        // The site's own address, as visitors reach it: an http(s) URL with a host, no query or
        // fragment. It went unchecked into /opensearch.xml (`search.example.org` made a relative,
        // broken template; `javascript:…` a script's; helper-91).
        o.public_url = v.as<std::string>();
        const std::string wrong = site_url_problem(o.public_url);
        if (!o.public_url.empty() && !wrong.empty())
          return fail(ErrorCode::kIo, yaml_where(path, v) + ": public_url must be the site's http(s) address (" + wrong +
                                                        "), e.g. https://search.example.org");
      }
      else if (key == "analytics") o.analytics_path = optional_path(v);
      else if (key == "analytics_retention_days") o.analytics_retention_days = v.as<int>();
      else if (key == "analytics_max_searches") o.analytics_max_searches = v.as<std::size_t>();
      else if (key == "article_url") {
        o.article_url = v.IsNull() ? std::string() : v.as<std::string>();  // empty: the server's own pages
        std::string example = o.article_url;
        for (std::size_t at = example.find("{id}"); at != std::string::npos; at = example.find("{id}")) example.replace(at, 4, "x");
        // An absolute URL names its site before {id}: the id goes in the path, not the host.
        const std::size_t scheme = o.article_url.find("://");
        const std::string authority = scheme == std::string::npos ? std::string() :
            o.article_url.substr(scheme + 3, o.article_url.find('/', scheme + 3) - scheme - 3);
        const bool bad_host = scheme != std::string::npos && (authority.empty() || authority.find("{id}") != std::string::npos);
        if (!o.article_url.empty() && (example == o.article_url || !is_link_url(example) || bad_host))
          return fail(ErrorCode::kIo, yaml_where(path, v) + ": article_url must be a path or an http(s) URL with {id} in it, "
                                                        "e.g. https://site.example/articles/{id}");
      }
      else return fail(ErrorCode::kIo, yaml_where(path, kv.first) + ": unknown setting '" + key + "'");
    } catch (const YAML::Exception&) {
      return fail(ErrorCode::kIo, yaml_where(path, v) + ": bad value for '" + key + "'");
    }
  }
  if (o.analytics_retention_days < 1 || o.analytics_retention_days > 3650)
    return fail(ErrorCode::kIo, path.string() + ": analytics_retention_days must be from 1 to 3650");
  if (o.analytics_max_searches < 1000 || o.analytics_max_searches > 1'000'000'000)
    return fail(ErrorCode::kIo, path.string() + ": analytics_max_searches must be from 1000 to 1000000000");
  if (o.threads == 0 || o.threads > 256)
    return fail(ErrorCode::kIo, path.string() + ": threads must be from 1 to 256");
  if (o.port < 0 || o.port > 65535) return fail(ErrorCode::kIo, path.string() + ": port must be from 0 to 65535");
  if (o.request_timeout_seconds < 1 || o.write_timeout_seconds < 1 || o.keep_alive_seconds < 1)
    return fail(ErrorCode::kIo, path.string() + ": request_timeout_seconds, write_timeout_seconds and keep_alive_seconds must be at least 1");
  if (o.keep_alive_requests < 1 || o.max_connections < 1 || o.max_queued_requests < 1)
    return fail(ErrorCode::kIo, path.string() + ": keep_alive_requests, max_connections and max_queued_requests must be at least 1");
  if (!(o.cluster.timeout_seconds > 0) || !(o.cluster.connect_timeout_seconds > 0) || !(o.cluster.retry_seconds >= 0))
    return fail(ErrorCode::kIo, path.string() + ": shard_timeout_seconds and shard_connect_timeout_seconds must be more than 0");
  if (!(o.searcher.time_limit_seconds > 0) || !(o.searcher.time_limit_seconds <= 3600))
    return fail(ErrorCode::kIo, path.string() + ": query_time_limit_seconds must be more than 0 (and at most 3600)");
  if (!(o.searcher.remote.timeout_seconds > 0) || !(o.searcher.remote.connect_timeout_seconds > 0) ||
      !(o.searcher.remote.retry_seconds >= 0))
    return fail(ErrorCode::kIo, path.string() + ": remote_timeout_seconds and remote_connect_timeout_seconds must be "
                                                "more than 0, remote_retry_seconds at least 0");
  // The searcher's limits, each within what works: `snippet_length: 0` gave snippets of ".",
  // `max_query_bytes: 0` refused every search (the command line's flags were checked, these not).
  const struct {
    const char* name;
    std::size_t value, low, high;
  } limits[] = {
      {"snippet_length", o.searcher.snippet_length, kMinSnippetLength, kMaxSnippetLength},
      {"max_per_page", o.searcher.max_limit, 1, 1000},
      {"max_offset", o.searcher.max_offset, 0, 1000000},
      {"shard_fetch_from_offset", o.searcher.fetch_from_offset, 0, 1000000},
      {"max_query_bytes", o.searcher.max_query_bytes, 64, 65536},
      {"max_query_terms", o.searcher.max_query_terms, 16, 4096},
      {"max_query_words", o.searcher.max_query_words, 0, 4096},
      {"max_wildcard_expansion", o.searcher.max_wildcard_expansion, 1, 10000},
      {"related_count", o.searcher.related_count, 0, 100},
      {"match_slices", o.searcher.match_slices, 0, 64},
  };
  for (const auto& l : limits)
    if (l.value < l.low || l.value > l.high)
      return fail(ErrorCode::kIo, fmt::format("{}: {} must be from {} to {} (it is {})", path.string(), l.name, l.low, l.high, l.value));
  if (o.default_per_page == 0 || o.default_per_page > o.searcher.max_limit)
    return fail(ErrorCode::kIo, path.string() + ": default_per_page must be from 1 to max_per_page");
  return o;
}

}  // namespace mssearch
