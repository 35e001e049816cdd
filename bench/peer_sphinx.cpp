// peer_sphinx: Sphinx 2.2 (Debian's sphinxsearch) on the benchmark's collection and query mix.
// Writes the articles as a tsvpipe source and a config into a temporary directory, builds the
// index with `indexer` (stem_en, dict=keywords, prefixes of 3+ letters), starts `searchd` on a
// free 127.0.0.1 port (SphinxQL only: Sphinx 2.2 has no HTTP API) and asks it over SphinxQL
// with libmariadb: `SELECT … WHERE MATCH(…) LIMIT 10 FACET topic FACET year`, then CALL
// SNIPPETS on the bodies of the ten hits, which the client holds (Sphinx keeps no text).
// Times are client-side (the round trips over 127.0.0.1 included); searchd's own time of each
// SELECT (SHOW META `time`, 1 ms resolution, snippets not included) is reported beside them.
// searchd is this program's child (killed with it: PR_SET_PDEATHSIG), stopped at the end, on
// an error and on SIGINT/SIGTERM; every wait is bounded. Prints one JSON line.
#include <arpa/inet.h>
#include <fcntl.h>
#include <mysql.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "bench/bench_common.h"

using namespace mssearch;
using namespace mssearch::bench;
namespace fs = std::filesystem;

namespace {

volatile sig_atomic_t g_searchd = 0;  // searchd's pid while it runs, for the signal handler

void on_signal(int sig) {
  if (g_searchd > 0) ::kill(g_searchd, SIGKILL);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// Runs ARGV with stdout and stderr into LOG; returns its exit status, or throws (after killing
// it) when it runs longer than SECONDS. With KEEP, returns at once with the pid in *PID.
int spawn(const std::vector<std::string>& argv, const std::string& log, int seconds, pid_t* keep = nullptr) {
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  if (keep) {
    *keep = pid;
    return 0;
  }
  const auto deadline = Clock::now() + std::chrono::seconds(seconds);
  for (;;) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (Clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      throw std::runtime_error(fmt::format("{} ran longer than {} s (log: {})", argv[0], seconds, log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// A port nobody listens on now (the kernel's pick for port 0).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("no free port");
  ::close(fd);
  return ntohs(addr.sin_port);
}

// searchd as a child process (`watchdog = 0` in the config: one process, no watchdog parent
// that would leave its worker behind when killed); the destructor stops it (SIGTERM, then
// SIGKILL after 10 s).
class Searchd {
 public:
  Searchd(const std::string& config, const std::string& log) {
    pid_t pid = 0;
    spawn({"searchd", "--config", config, "--nodetach"}, log, 0, &pid);
    pid_ = pid;
    g_searchd = pid;
  }
  ~Searchd() { stop(); }
  Searchd(const Searchd&) = delete;
  Searchd& operator=(const Searchd&) = delete;
  bool running() {
    int status = 0;
    return pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == 0;
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = 0;
    g_searchd = 0;
  }

 private:
  pid_t pid_ = 0;
};

class SphinxQL {
 public:
  SphinxQL(int port, int timeout_seconds) {
    db_ = mysql_init(nullptr);
    const unsigned int t = static_cast<unsigned int>(timeout_seconds);
    mysql_options(db_, MYSQL_OPT_CONNECT_TIMEOUT, &t);
    mysql_options(db_, MYSQL_OPT_READ_TIMEOUT, &t);
    mysql_options(db_, MYSQL_OPT_WRITE_TIMEOUT, &t);
    if (!mysql_real_connect(db_, "127.0.0.1", "", "", nullptr, static_cast<unsigned int>(port), nullptr, 0)) {
      const std::string error = mysql_error(db_);
      mysql_close(db_);
      throw std::runtime_error(error);
    }
  }
  ~SphinxQL() { mysql_close(db_); }
  SphinxQL(const SphinxQL&) = delete;
  SphinxQL& operator=(const SphinxQL&) = delete;

  // A SphinxQL string literal: quoted, with the client library's escaping.
  std::string literal(const std::string& s) {
    std::string out(s.size() * 2 + 1, '\0');
    out.resize(mysql_real_escape_string(db_, out.data(), s.data(), s.size()));
    return "'" + out + "'";
  }

  // Runs SQL; calls ROW(result set number, row) for every row of every result set.
  template <class Row>
  void query(const std::string& sql, Row&& row) {
    if (mysql_real_query(db_, sql.data(), sql.size()) != 0) throw std::runtime_error(fmt::format("{}: {}", mysql_error(db_), sql.substr(0, 300)));
    int set = 0;
    for (;;) {
      if (MYSQL_RES* res = mysql_store_result(db_)) {
        const unsigned int fields = mysql_num_fields(res);
        while (MYSQL_ROW r = mysql_fetch_row(res)) {
          std::vector<std::string_view> cells;
          const unsigned long* lengths = mysql_fetch_lengths(res);
          for (unsigned int i = 0; i < fields; ++i) cells.emplace_back(r[i] ? r[i] : "", r[i] ? lengths[i] : 0);
          row(set, cells);
        }
        mysql_free_result(res);
      } else if (mysql_field_count(db_) != 0) {
        throw std::runtime_error(mysql_error(db_));
      }
      ++set;
      const int next = mysql_next_result(db_);
      if (next > 0) throw std::runtime_error(fmt::format("{}: {}", mysql_error(db_), sql.substr(0, 300)));
      if (next < 0) break;
    }
  }

  // searchd's time for the last query, in ms (SHOW META's `time`, in seconds with 3 decimals).
  double last_time_ms() {
    double ms = -1;
    query("SHOW META", [&](int, const std::vector<std::string_view>& r) {
      if (r.size() >= 2 && r[0] == "time") ms = std::stod(std::string(r[1])) * 1000;
    });
    return ms;
  }

 private:
  MYSQL* db_ = nullptr;
};

// Sphinx's extended query syntax: words joined by |, "phrases" kept, the as-you-type word a
// prefix (min_prefix_len = 3 with dict=keywords: expanded at query time over the dictionary,
// which holds the words as written beside their stems: indexer forces index_exact_words = 1).
std::string sphinx_query(const CorpusGenerator::Query& q) {
  if (q.text.starts_with('"')) return q.text;
  std::string out;
  std::size_t at = 0;
  while (at < q.text.size()) {
    std::size_t space = q.text.find(' ', at);
    if (space == std::string::npos) space = q.text.size();
    const bool last = space == q.text.size();
    out += (out.empty() ? "" : " | ") + q.text.substr(at, space - at) + (last && q.partial ? "*" : "");
    at = space + 1;
  }
  return out;
}

std::string tsv_cell(std::string s) {
  for (char& c : s)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"peer_sphinx: Sphinx 2.2 (indexer + searchd over SphinxQL) on the benchmark collection"};
  std::size_t articles = 10000, queries = 600;
  std::uint64_t seed = 42;
  int timeout = 600;
  std::string dir;
  app.add_option("--articles", articles, "Articles to generate");
  app.add_option("--queries", queries, "Queries in the mix");
  app.add_option("--seed", seed, "Generator seed");
  app.add_option("--dir", dir, "Working directory (default: a temporary one); removed at the end");
  app.add_option("--timeout", timeout, "Seconds indexer may run (default 600); searchd gets 30 to listen, a query 10");
  CLI11_PARSE(app, argc, argv);
  if (dir.empty()) dir = (fs::temp_directory_path() / fmt::format("peer-sphinx-{}", ::getpid())).string();
  fs::remove_all(dir);
  fs::create_directories(dir + "/index");
  ::signal(SIGINT, on_signal);
  ::signal(SIGTERM, on_signal);
  ::signal(SIGHUP, on_signal);
  ::signal(SIGPIPE, on_signal);

  int status = 0;
  try {
    CorpusGenerator generator({articles, seed});
    const auto all = generator.all();
    const auto mix = generator.query_mix(queries);
    std::map<std::string, int> topic_id;
    for (const auto& t : generator.topics()) topic_id.emplace(t, static_cast<int>(topic_id.size()) + 1);

    // The source: id, title, takeaway, body, year, topics (ids), in the config's order.
    const std::string tsv = dir + "/articles.tsv";
    {
      std::ofstream out(tsv);
      for (std::size_t i = 0; i < all.size(); ++i) {
        const auto& a = all[i];
        std::string topics;
        for (const auto& t : a.topics) topics += (topics.empty() ? "" : ",") + std::to_string(topic_id.at(t));
        out << i + 1 << '\t' << tsv_cell(a.title) << '\t' << tsv_cell(a.takeaway) << '\t' << tsv_cell(a.body_text)
            << '\t' << a.year() << '\t' << topics << '\n';
      }
      if (!out) throw std::runtime_error("cannot write " + tsv);
    }
    const int port = free_port();
    const std::string config = dir + "/sphinx.conf";
    {
      std::ofstream out(config);
      out << fmt::format(
          "source articles {{\n"
          "  type = tsvpipe\n"
          "  tsvpipe_command = cat {0}\n"
          "  tsvpipe_field = title\n  tsvpipe_field = takeaway\n  tsvpipe_field = body\n"
          "  tsvpipe_attr_uint = year\n  tsvpipe_attr_multi = topic\n"
          "}}\n"
          "index articles {{\n"
          "  source = articles\n  path = {1}/index/articles\n  docinfo = extern\n"
          "  dict = keywords\n  morphology = stem_en\n  min_prefix_len = 3\n  html_strip = 0\n"
          "}}\n"
          "indexer {{\n  mem_limit = 256M\n}}\n"
          "searchd {{\n"
          "  listen = 127.0.0.1:{2}:mysql41\n  log = {1}/searchd.log\n  query_log = {1}/query.log\n"
          "  pid_file = {1}/searchd.pid\n  binlog_path =\n  workers = threads\n  read_timeout = 10\n"
          "  max_children = 8\n  watchdog = 0\n"
          "}}\n",
          tsv, dir, port);
      if (!out) throw std::runtime_error("cannot write " + config);
    }

    const auto t = Clock::now();
    const int rc = spawn({"indexer", "--config", config, "--all", "--quiet"}, dir + "/indexer.log", timeout);
    const double index_ms = ms_since(t);
    if (rc != 0) throw std::runtime_error(fmt::format("indexer exited with {} (log: {})", rc, dir + "/indexer.log"));
    const double rss_after_mib = [] {  // the indexer's peak resident memory (a child that was waited for)
      rusage usage{};
      getrusage(RUSAGE_CHILDREN, &usage);
      return static_cast<double>(usage.ru_maxrss) / 1024.0;
    }();

    Searchd searchd(config, dir + "/searchd.out");
    std::unique_ptr<SphinxQL> ql;
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (!ql) {
      try {
        ql = std::make_unique<SphinxQL>(port, 10);
      } catch (const std::exception& e) {
        if (!searchd.running() || Clock::now() > deadline)
          throw std::runtime_error(fmt::format("searchd did not answer on 127.0.0.1:{} ({}; log: {}/searchd.log)", port, e.what(), dir));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }

    std::size_t hits = 0, empty = 0, snippets = 0;
    auto run = [&](bool full, std::vector<double>* ms, std::vector<double>* searchd_ms) {
      for (const auto& q : mix) {
        std::string sql = "SELECT id, WEIGHT() FROM articles WHERE MATCH(" + ql->literal(sphinx_query(q)) + ")";
        if (!q.topic.empty()) sql += fmt::format(" AND topic = {}", topic_id.at(q.topic));
        // ORDER BY WEIGHT(), not an alias: with an alias, 2.2.11's FACETs over a distributed index
        // fail ("column 'weight()/w' not found in result set schema"); the same query either way.
        sql += " ORDER BY WEIGHT() DESC LIMIT 10";
        if (full) sql += " FACET topic ORDER BY COUNT(*) DESC LIMIT 40 FACET year ORDER BY year ASC LIMIT 20";
        const auto start = Clock::now();
        std::vector<std::size_t> ids;
        ql->query(sql, [&](int set, const std::vector<std::string_view>& r) {
          if (set == 0) ids.push_back(std::stoul(std::string(r.at(0))));
        });
        double client = ms_since(start);
        const double server = ql->last_time_ms();  // not counted: a round trip for the figure only
        if (full && !ids.empty()) {
          const auto snippet_start = Clock::now();
          std::string call = "CALL SNIPPETS((";
          for (std::size_t k = 0; k < ids.size(); ++k) call += (k ? "," : "") + ql->literal(all.at(ids[k] - 1).body_text);
          call += "), 'articles', " + ql->literal(sphinx_query(q)) +
                  ", '<mark>' AS before_match, '</mark>' AS after_match, 200 AS limit, 1 AS query_mode)";
          ql->query(call, [&](int, const std::vector<std::string_view>& r) { snippets += !ms && !r.empty() && !r[0].empty(); });
          client += ms_since(snippet_start);
        }
        if (ms) {
          ms->push_back(client);
          searchd_ms->push_back(server);
        } else {
          hits += ids.size();
          empty += ids.empty();
        }
      }
    };
    run(true, nullptr, nullptr);
    std::vector<double> full_ms, top10_ms, full_searchd, top10_searchd;
    run(true, &full_ms, &full_searchd);
    run(false, &top10_ms, &top10_searchd);
    ql.reset();
    searchd.stop();

    nlohmann::json out = {
        {"engine", "Sphinx 2.2"},
        {"articles", articles},
        {"queries", mix.size()},
        {"full", latency_json(full_ms)},
        {"top10", latency_json(top10_ms)},
        {"full_searchd", latency_json(full_searchd)},
        {"top10_searchd", latency_json(top10_searchd)},
        {"timing", "client-side over SphinxQL on 127.0.0.1; *_searchd: SHOW META time, 1 ms resolution, snippets not included"},
        {"full_answer", "top 10 ids by WEIGHT() (proximity_bm25), FACET counts of topics and years over all matches, "
                        "CALL SNIPPETS on the 10 bodies the client sends back; no titles or texts from searchd (it keeps none)"},
        {"first_page_hits", static_cast<double>(hits) / static_cast<double>(mix.size())},
        {"queries_without_hits", empty},
        {"first_page_snippets", static_cast<double>(snippets) / static_cast<double>(mix.size())}};
    out.update(index_json(articles, index_ms, 0, rss_after_mib, corpus_bytes(all), dir + "/index"));
    out["index_peak_rss_mib"] = rss_after_mib;
    out["index_seconds_excludes"] = "writing the tsvpipe source";
    fmt::print("{}\n", out.dump());
  } catch (const std::exception& e) {
    fmt::print(stderr, "peer_sphinx: {}\n", e.what());
    status = 1;
  }
  fs::remove_all(dir);
  return status;
}
