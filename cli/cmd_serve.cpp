// `mssearch serve`: the HTTP server, until SIGTERM or SIGINT.
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/terminal.h"
#include "cluster/http_shard_transport.h"
#include "searcher/english_words.h"
#include "server/access_log.h"
#include "server/http_server.h"

namespace mssearch::cli {
namespace {

// One of the server's own lines on stdout. One that cannot be written (stdout on a full disk) is
// said once on stderr, and the server serves on: it exited 2 after a SIGTERM, a failed unit to
// systemd, for a line nobody could read.
void stdout_line(const std::string& line) {
  static bool warned = false;
  std::fputs(line.c_str(), stdout);
  errno = 0;
  if (std::fflush(stdout) == 0 && std::ferror(stdout) == 0) return;
  const int why = errno;
  std::clearerr(stdout);
  if (!std::exchange(warned, true))
    print_log_line(fmt::format("mssearch serve: warning: standard output cannot be written ({}): its lines are lost\n",
                               standard_output_failure(why)));
}

struct ServeArgs {
  std::string config;
  std::optional<std::string> db, host, synonyms;
  std::vector<std::string> databases;
  std::optional<std::string> spelling_database;
  std::optional<int> port;
  std::optional<std::size_t> threads, snippet_length, max_per_page;
  std::vector<std::string> cors_origins;
  bool no_access_log = false;
  bool no_result_cache = false;
  std::optional<std::string> analytics;
  bool shard_server = false;
  std::vector<std::string> shards;  // each: a shard's replica URLs, comma-separated
};

// Each connection is a descriptor, and the index needs some too. Debian's soft limit (1024) is
// below the default max_connections, so raise it as far as the hard limit allows; connections
// beyond what it allows are refused by the server rather than failing anything else.
void make_room_for_connections(std::size_t connections) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  const rlim_t wanted = static_cast<rlim_t>(connections) + 256;
  if (limit.rlim_cur >= wanted) return;
  limit.rlim_cur = std::min(wanted, limit.rlim_max);
  ::setrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < wanted)
    fmt::print(stderr, "mssearch serve: warning: the open-file limit ({}) is below max_connections + 256; "
                       "connections beyond it are refused\n", limit.rlim_cur);
}

int run_serve(const ServeArgs& args) {
  ServerOptions options;
  if (!args.config.empty()) {
    auto loaded = load_server_options(args.config);
    if (!loaded) {
      fmt::print(stderr, "mssearch serve: error: {}\n", printable(loaded.error().message));  // a config of binary junk echoed its bytes
      return kExitFatal;
    }
    options = *loaded;
  } else {
    options.searcher.db_path = default_db_path();
    // As the read commands choose (`mssearch search --json` is what the API sends).
    if (const char* env = std::getenv("MSSEARCH_SYNONYMS"); env != nullptr && *env != '\0')
      options.searcher.synonyms_path = env;
    else if (std::filesystem::exists("corpus/synonyms.yaml"))
      options.searcher.synonyms_path = "corpus/synonyms.yaml";
  }
  if (args.db) options.searcher.db_path = *args.db;
  if (!args.databases.empty()) options.searcher.databases = args.databases;
  if (args.spelling_database) options.searcher.spelling_database = *args.spelling_database;
  if (args.synonyms) options.searcher.synonyms_path = *args.synonyms;
  if (args.host) options.host = *args.host;
  if (args.port) options.port = *args.port;
  if (args.threads) options.threads = *args.threads;
  if (args.snippet_length) options.searcher.snippet_length = *args.snippet_length;
  if (args.max_per_page) options.searcher.max_limit = *args.max_per_page;
  if (!args.cors_origins.empty()) options.cors_origins = args.cors_origins;
  if (args.no_access_log) options.access_log = false;
  if (args.no_result_cache) options.result_cache_entries = 0;
  if (args.analytics) options.analytics_path = *args.analytics;
  if (args.shard_server) options.shard_server = true;
  if (!args.shards.empty()) {
    options.cluster.shards.clear();
    for (const auto& shard : args.shards) options.cluster.shards.push_back(parse_shard_replicas(shard));
    if (auto ok = check_cluster_options(options.cluster); !ok) {
      fmt::print(stderr, "mssearch serve: error: --shard: {}\n", printable(ok.error().message));
      return kExitFatal;
    }
  }
  if (!options.cluster.shards.empty() && (args.db || !args.databases.empty())) {
    // A coordinator searches its shard servers only: an index named too would be ignored.
    fmt::print(stderr, "mssearch serve: error: {} names an index, but a coordinator (shards) searches its shard "
                       "servers, not an index: give one or the other\n", args.db ? "--db" : "--database");
    return kExitFatal;
  }
  if (options.cluster.shards.empty() && !options.searcher.databases.empty()) {
    // Also one given in the config and again by --database's spelling, or as the spelling database.
    std::vector<std::string> specs = options.searcher.databases;
    if (!options.searcher.spelling_database.empty()) specs.push_back(options.searcher.spelling_database.string());
    if (const auto same = same_database_twice(specs)) {
      fmt::print(stderr, "mssearch serve: error: {}\n", printable(same->message));
      return kExitFatal;
    }
  }
  // Set but empty (`Environment=MSSEARCH_SHARD_SECRET=` in a unit, an unset shell variable
  // exported): it said "(secret required)" and every request was answered without one.
  // Spaces at either end never match either: HTTP drops them from the header a coordinator sends.
  if (const char* secret = std::getenv("MSSEARCH_SHARD_SECRET"); secret != nullptr) {
    const std::string_view s(secret);
    if (s.empty()) {
      fmt::print(stderr, "mssearch serve: error: MSSEARCH_SHARD_SECRET is set but empty: give it the secret, or "
                         "unset it\n");
      return kExitFatal;
    }
    if (std::isspace(static_cast<unsigned char>(s.front())) != 0 || std::isspace(static_cast<unsigned char>(s.back())) != 0) {
      fmt::print(stderr, "mssearch serve: error: MSSEARCH_SHARD_SECRET begins or ends with a space, which an HTTP "
                         "header cannot carry: remove it\n");
      return kExitFatal;
    }
  }
  if (options.shard_server && !options.cluster.shards.empty()) {
    fmt::print(stderr, "mssearch serve: error: a coordinator (shards) cannot also be a shard server\n");
    return kExitFatal;
  }

  // Signals are taken by one thread with sigwait(), never by a handler in a worker.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  make_room_for_connections(options.max_connections);
  HttpServer server(options);
  auto port = server.bind();
  if (!port) {
    fmt::print(stderr, "mssearch serve: error: {}\n", printable(port.error().message));
    return kExitFatal;
  }
  // Read the word lists now rather than in the first search that needs them (~0.1 s).
  if (options.cluster.shards.empty() && EnglishWords::system().empty())
    fmt::print(stderr, "mssearch serve: warning: no English word list in /usr/share/dict (Debian's wamerican, "
                       "wbritish): \"did you mean\" is offered only when a query finds little\n");
  if (auto state = server.index_state()) {
    std::string from = options.searcher.db_path.string();
    if (!options.cluster.shards.empty()) {
      // The articles counted are those of the shards that answered: a shard down is said here too.
      const auto down = server.shards_down();
      from = down == 0 ? fmt::format("{} shard server{}", options.cluster.shards.size(),
                                     options.cluster.shards.size() == 1 ? "" : "s")
                       : fmt::format("{} of {} shard servers ({} down)", options.cluster.shards.size() - down,
                                     options.cluster.shards.size(), down);
    } else if (!options.searcher.databases.empty()) {
      from.clear();
      for (const auto& d : options.searcher.databases) from += (from.empty() ? "" : ", ") + d;
    }
    stdout_line(fmt::format("mssearch serve: {} articles (revision {}) from {}\n", state->first, state->second, printable(from)));
    // A shard left out from the start (another version, unreachable) is said now, not only in /readyz.
    for (const auto& problem : server.shard_problems())
      fmt::print(stderr, "mssearch serve: warning: shard {}\n", printable(problem));
    // So is a coordinator listing fewer shards than their index has (their articles in no answer).
    for (const auto& warning : server.configuration_warnings())
      fmt::print(stderr, "mssearch serve: warning: {}\n", printable(warning));
  } else {
    fmt::print(stderr, "mssearch serve: warning: {} — /readyz answers 503 until it can be opened\n",
               printable(state.error().message));
  }
  // An IPv6 literal in brackets (`http://::1:8080/` is no URL a browser opens).
  stdout_line(fmt::format("mssearch serve: listening on http://{}:{}/ ({} threads){}\n", url_host(options.host), *port, options.threads,
                          options.shard_server ? fmt::format(", shard server on {}{}", kShardEndpoint,
                                                            std::getenv("MSSEARCH_SHARD_SECRET") != nullptr || !options.shard_secret.empty()
                                                                ? " (secret required)" : " (no secret: keep it off the internet)")
                                               : ""));

  std::thread signal_thread([&] {
    int received = 0;
    sigwait(&signals, &received);
    if (received == SIGUSR1) return;  // asked to end by run_serve itself
    // Never throws (fmt::print to a full disk did, and the server was never stopped).
    print_log_line(fmt::format("mssearch serve: {} received, finishing requests in flight\n",
                               received == SIGTERM ? "SIGTERM" : "SIGINT"));
    server.stop();
  });
  const bool ok = server.run();
  if (signal_thread.joinable()) {
    pthread_kill(signal_thread.native_handle(), SIGTERM);
    signal_thread.join();
  }
  stdout_line("mssearch serve: stopped\n");
  return ok ? kExitOk : kExitFatal;
}

}  // namespace

void add_serve_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ServeArgs>();
  auto* cmd = app.add_subcommand("serve", "Serve the search API, page and widget over HTTP");
  cmd->add_option("--config", args->config, "YAML config file (see mssearch.yaml)")->check(path_not_empty());
  cmd->add_option("--db", args->db, "Index directory")->check(path_not_empty());
  cmd->add_option("--database", args->databases,
                  "Serve these instead of the database setting, as one: index directories and tcp://HOST:PORT shards (repeat)")
      ->check(path_not_empty());
  cmd->add_option("--spelling-database", args->spelling_database,
                  "Local spelling data for remote shards (DIR/spelling of a sharded index)");
  cmd->add_option("--synonyms", args->synonyms, "Synonyms file");
  cmd->add_option("--host", args->host, "Address to listen on (default 127.0.0.1)");
  cmd->add_option("--port", args->port, "Port (default 8080; 0: any free port)")->check(whole_number(0, 65535));
  cmd->add_option("--threads", args->threads, "Worker threads (default 8)")->check(whole_number(1, 256));
  cmd->add_option("--cors-origin", args->cors_origins, "Origin allowed to call the API (repeatable; * for any)");
  cmd->add_option("--snippet-length", args->snippet_length, "Characters per snippet")->check(whole_number(20, 2000));
  cmd->add_option("--max-per-page", args->max_per_page, "Cap on hits per page")->check(whole_number(1, 1000));
  cmd->add_flag("--no-access-log", args->no_access_log, "No line per request on stderr");
  cmd->add_flag("--no-result-cache", args->no_result_cache,
                "Search every request, also one answered before for the same index revision (benchmarks)");
  cmd->add_option("--analytics", args->analytics, "Record search analytics in this SQLite file (empty: off)");
  cmd->add_flag("--shard-server", args->shard_server,
                "Also answer coordinators on POST /internal/v1/shard (never on a public address without shard_secret)");
  cmd->add_option("--shard", args->shards,
                  "Be a coordinator: search this shard, given as its replicas' http://HOST:PORT, comma-separated (repeat per shard)");
  cmd->callback([args, &exit_code] { exit_code = run_serve(*args); });
}

}  // namespace mssearch::cli
