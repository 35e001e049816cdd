// peer_sphinx: Sphinx 2.2 (Debian's sphinxsearch) on the benchmark's collection and query mix.
// Writes the articles as a tsvpipe source and a config into a temporary directory, builds the
// index with `indexer` (stem_en, dict=keywords, prefixes of 3+ letters), starts `searchd` on a
// free 127.0.0.1 port (SphinxQL only: Sphinx 2.2 has no HTTP API) and asks it over SphinxQL
// with libmariadb: `SELECT … WHERE MATCH(…) LIMIT 10 FACET topic FACET year`, then CALL
// SNIPPETS on the bodies of the ten hits, which the client holds (Sphinx keeps no text).
// Times are client-side (the round trips over 127.0.0.1 included); searchd's own time of each
// SELECT (SHOW META `time`, 1 ms resolution, snippets not included) is reported beside them.
//
// --agents N: the same collection split into N parts by document id modulo N, each part its
// own local index served by its own searchd (an agent, binary API on its own 127.0.0.1 port, as
// N shard servers would be), and one front searchd (SphinxQL) whose `articles` is a
// `type = distributed` index over the N agents (`agent_persistent`: connections kept open
// between queries). The same SELECT goes to the front. CALL SNIPPETS cannot name a distributed
// index without exactly one `local` in it (2.2: "The distributed index for snippets must have
// exactly one local agent"), so the front also holds a `type = template` index with the parts'
// settings and no data, and the snippets name it. --with-local also builds the single local
// index and times both, interleaved pass by pass (local, distributed, local, distributed, …),
// printing the local line first.
//
// Every searchd is this program's child (killed with it: PR_SET_PDEATHSIG; `watchdog = 0`),
// stopped at the end, on an error and on SIGINT/SIGTERM; every wait is bounded. Prints one JSON
// line per engine.
#include <arpa/inet.h>
#include <fcntl.h>
#include <mysql.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "bench/bench_common.h"

using namespace mssearch;
using namespace mssearch::bench;
namespace fs = std::filesystem;

namespace {

// The pids of the searchd processes while they run, for the signal handler (a front and up to
// 16 agents, or a local one beside them).
constexpr int kMaxAgents = 16;
volatile sig_atomic_t g_searchd[kMaxAgents + 2] = {};

void on_signal(int sig) {
  for (const auto& pid : g_searchd)
    if (pid > 0) ::kill(pid, SIGKILL);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// Runs ARGV with stdout and stderr into LOG; returns its exit status, or throws (after killing
// it) when it runs longer than SECONDS; USAGE gets its resource use. With KEEP, returns at once
// with the pid in *KEEP.
int spawn(const std::vector<std::string>& argv, const std::string& log, int seconds, pid_t* keep = nullptr,
          rusage* usage = nullptr) {
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
    if (::wait4(pid, &status, WNOHANG, usage) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (Clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      throw std::runtime_error(fmt::format("{} ran longer than {} s (log: {})", argv[0], seconds, log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// A port nobody listens on now (the kernel's pick for port 0), other than those in TAKEN.
int free_port(std::vector<int>& taken) {
  for (int tries = 0; tries < 100; ++tries) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      if (fd >= 0) ::close(fd);
      throw std::runtime_error("no free port");
    }
    ::close(fd);
    const int port = ntohs(addr.sin_port);
    if (std::find(taken.begin(), taken.end(), port) == taken.end()) {
      taken.push_back(port);
      return port;
    }
  }
  throw std::runtime_error("no free port");
}

// Whether something accepts TCP connections on 127.0.0.1:PORT.
bool listening(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  if (fd >= 0) ::close(fd);
  return ok;
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
    for (auto& slot : g_searchd)
      if (slot == 0) {
        slot = pid;
        break;
      }
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
    for (auto& slot : g_searchd)
      if (slot == pid_) slot = 0;
    pid_ = 0;
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

  // SHOW META for the last query: searchd's time in ms (`time`, in seconds with 3 decimals), its
  // `total_found`, and its `warning` (a distributed index answers with what the agents that
  // replied sent, and says which did not in a warning: such an answer is an error here).
  struct Meta {
    double ms = -1;
    std::size_t total_found = 0;
  };
  Meta meta() {
    Meta m;
    std::string warning;
    query("SHOW META", [&](int, const std::vector<std::string_view>& r) {
      if (r.size() < 2) return;
      if (r[0] == "time") m.ms = std::stod(std::string(r[1])) * 1000;
      if (r[0] == "total_found") m.total_found = std::stoul(std::string(r[1]));
      if (r[0] == "warning") warning = r[1];
    });
    if (!warning.empty()) throw std::runtime_error("searchd warned: " + warning);
    return m;
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

// The text settings every index here has (the single one, each part, the front's template).
constexpr const char* kTextSettings = "  dict = keywords\n  morphology = stem_en\n  min_prefix_len = 3\n  html_strip = 0\n";

// A tsvpipe source NAME reading TSV and its plain index NAME at PATH.
std::string index_config(const std::string& name, const std::string& tsv, const std::string& path) {
  return fmt::format(
      "source {0} {{\n"
      "  type = tsvpipe\n"
      "  tsvpipe_command = cat {1}\n"
      "  tsvpipe_field = title\n  tsvpipe_field = takeaway\n  tsvpipe_field = body\n"
      "  tsvpipe_attr_uint = year\n  tsvpipe_attr_multi = topic\n"
      "}}\n"
      "index {0} {{\n"
      "  source = {0}\n  path = {2}\n  docinfo = extern\n{3}"
      "}}\n",
      name, tsv, path, kTextSettings);
}

// A searchd section: LISTEN (host:port[:protocol]), its files named NAME.* in DIR, one process
// (`watchdog = 0`), a thread a connection.
std::string searchd_config(const std::string& dir, const std::string& name, const std::string& listen,
                           const std::string& extra = "") {
  return fmt::format(
      "searchd {{\n"
      "  listen = {2}\n  log = {0}/{1}.log\n  query_log = {0}/{1}.query.log\n"
      "  pid_file = {0}/{1}.pid\n  binlog_path =\n  workers = threads\n  read_timeout = 10\n"
      "  max_children = 8\n  watchdog = 0\n{3}"
      "}}\n",
      dir, name, listen, extra);
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

// Runs indexer on CONFIG (every index in it, one after another); returns its time in ms and its
// peak resident memory in MiB.
std::pair<double, double> run_indexer(const std::string& config, const std::string& log, int timeout) {
  rusage usage{};
  const auto t = Clock::now();
  const int rc = spawn({"indexer", "--config", config, "--all", "--quiet"}, log, timeout, nullptr, &usage);
  const double ms = ms_since(t);
  if (rc != 0) throw std::runtime_error(fmt::format("indexer exited with {} (log: {})", rc, log));
  return {ms, static_cast<double>(usage.ru_maxrss) / 1024.0};
}

// SphinxQL to the searchd listening on PORT, once it answers (up to 30 s while it runs).
std::unique_ptr<SphinxQL> connect(Searchd& searchd, int port, const std::string& log) {
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  for (;;) {
    try {
      return std::make_unique<SphinxQL>(port, 10);
    } catch (const std::exception& e) {
      if (!searchd.running() || Clock::now() > deadline)
        throw std::runtime_error(fmt::format("searchd did not answer on 127.0.0.1:{} ({}; log: {})", port, e.what(), log));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

// One engine under test: its searchd processes, the SphinxQL connection to the one that answers,
// and what the passes measured.
struct Target {
  std::string engine;
  std::string snippets_index;  // what CALL SNIPPETS names
  double index_ms = 0, index_rss_mib = 0;
  std::string index_dir;
  std::vector<std::unique_ptr<Searchd>> agents;
  std::unique_ptr<Searchd> front;
  std::unique_ptr<SphinxQL> ql;
  std::vector<double> full_ms, top10_ms, full_searchd, top10_searchd;
  std::size_t hits = 0, empty = 0, snippets = 0, facet_mismatches = 0;
  std::vector<std::vector<std::size_t>> first_pages;  // the ids of each query's page (warm-up pass)

  // The front first (it holds persistent connections to the agents), then the agents.
  void stop() {
    ql.reset();
    if (front) front->stop();
    for (auto& a : agents) a->stop();
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"peer_sphinx: Sphinx 2.2 (indexer + searchd over SphinxQL) on the benchmark collection"};
  CollectionOptions collection;
  int timeout = 600, agents = 0, passes = 1;
  bool with_local = false;
  std::string dir;
  add_collection_options(app, collection);
  app.add_option("--dir", dir, "Working directory (default: a temporary one); removed at the end");
  app.add_option("--timeout", timeout, "Seconds indexer may run (default 600); searchd gets 30 to listen, a query 10");
  app.add_option("--agents", agents,
                 "Split the collection into N parts (id modulo N), one searchd agent each, asked through a front "
                 "searchd's distributed index (default 0: one local index)")
      ->check(CLI::Range(0, kMaxAgents));
  app.add_flag("--with-local", with_local, "With --agents: also the single local index, timed interleaved with it");
  app.add_option("--passes", passes, "Timed passes over the mix per engine (default 1), interleaved between engines")
      ->check(CLI::Range(1, 100));
  CLI11_PARSE(app, argc, argv);
  const auto [articles, queries, seed] = collection;
  if (!dir.empty() && refuse_used_dir("peer_sphinx", dir)) return 2;
  if (dir.empty()) dir = (fs::temp_directory_path() / fmt::format("peer-sphinx-{}", ::getpid())).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
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
    std::vector<int> ports;

    // A source: id, title, takeaway, body, year, topics (ids), in the config's order; the
    // articles whose id modulo PARTS is PART (all of them with PARTS = 1).
    auto write_tsv = [&](const std::string& path, std::size_t part, std::size_t parts) {
      std::ofstream out(path);
      for (std::size_t i = 0; i < all.size(); ++i) {
        if ((i + 1) % parts != part % parts) continue;
        const auto& a = all[i];
        std::string topics;
        for (const auto& t : a.topics) topics += (topics.empty() ? "" : ",") + std::to_string(topic_id.at(t));
        out << i + 1 << '\t' << tsv_cell(a.title) << '\t' << tsv_cell(a.takeaway) << '\t' << tsv_cell(a.body_text)
            << '\t' << a.year() << '\t' << topics << '\n';
      }
      if (!out) throw std::runtime_error("cannot write " + path);
    };

    std::vector<std::unique_ptr<Target>> targets;
    // The single local index, served by one searchd (the peer as it always ran).
    if (agents == 0 || with_local) {
      auto t = std::make_unique<Target>();
      t->engine = "Sphinx 2.2";
      t->snippets_index = "articles";
      t->index_dir = dir + "/index";
      fs::create_directories(t->index_dir);
      const std::string tsv = dir + "/articles.tsv";
      write_tsv(tsv, 0, 1);
      const int port = free_port(ports);
      const std::string config = dir + "/sphinx.conf";
      write_file(config, index_config("articles", tsv, t->index_dir + "/articles") + "indexer {\n  mem_limit = 256M\n}\n" +
                             searchd_config(dir, "searchd", fmt::format("127.0.0.1:{}:mysql41", port)));
      std::tie(t->index_ms, t->index_rss_mib) = run_indexer(config, dir + "/indexer.log", timeout);
      t->front = std::make_unique<Searchd>(config, dir + "/searchd.out");
      t->ql = connect(*t->front, port, dir + "/searchd.log");
      targets.push_back(std::move(t));
    }
    // N parts, N agents, one front.
    if (agents > 0) {
      auto t = std::make_unique<Target>();
      t->engine = fmt::format("Sphinx 2.2, {} agent{}", agents, agents > 1 ? "s" : "");
      t->snippets_index = "snippets";
      t->index_dir = dir + "/index-parts";
      fs::create_directories(t->index_dir);
      const auto n = static_cast<std::size_t>(agents);
      std::string parts_config;
      for (std::size_t k = 0; k < n; ++k) {
        const std::string tsv = fmt::format("{}/part{}.tsv", dir, k);
        write_tsv(tsv, k, n);
        parts_config += index_config(fmt::format("part{}", k), tsv, fmt::format("{}/part{}", t->index_dir, k));
      }
      write_file(dir + "/parts.conf", parts_config + "indexer {\n  mem_limit = 256M\n}\n");
      std::tie(t->index_ms, t->index_rss_mib) = run_indexer(dir + "/parts.conf", dir + "/indexer-parts.log", timeout);

      std::vector<int> agent_ports;
      for (std::size_t k = 0; k < n; ++k) {
        agent_ports.push_back(free_port(ports));
        const std::string config = fmt::format("{}/agent{}.conf", dir, k);
        write_file(config, index_config(fmt::format("part{}", k), fmt::format("{}/part{}.tsv", dir, k),
                                        fmt::format("{}/part{}", t->index_dir, k)) +
                               searchd_config(dir, fmt::format("agent{}", k), fmt::format("127.0.0.1:{}", agent_ports[k])));
        t->agents.push_back(std::make_unique<Searchd>(config, fmt::format("{}/agent{}.out", dir, k)));
      }
      const auto deadline = Clock::now() + std::chrono::seconds(30);
      for (std::size_t k = 0; k < n; ++k)
        while (!listening(agent_ports[k])) {
          if (!t->agents[k]->running() || Clock::now() > deadline)
            throw std::runtime_error(fmt::format("agent {} did not listen on 127.0.0.1:{} (log: {}/agent{}.log)", k,
                                                 agent_ports[k], dir, k));
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
      // The front: the distributed index over the agents (persistent connections, at most 4 to
      // each agent's host: one client asks here), a query may take an agent 10 s before it
      // counts as failed; the template index for CALL SNIPPETS.
      std::string front = fmt::format("index snippets {{\n  type = template\n{}}}\n", kTextSettings);
      front += "index articles {\n  type = distributed\n";
      for (std::size_t k = 0; k < n; ++k) front += fmt::format("  agent_persistent = 127.0.0.1:{}:part{}\n", agent_ports[k], k);
      front += "  agent_connect_timeout = 1000\n  agent_query_timeout = 10000\n}\n";
      const int port = free_port(ports);
      write_file(dir + "/front.conf", front + searchd_config(dir, "front", fmt::format("127.0.0.1:{}:mysql41", port),
                                                             "  persistent_connections_limit = 4\n"));
      t->front = std::make_unique<Searchd>(dir + "/front.conf", dir + "/front.out");
      t->ql = connect(*t->front, port, dir + "/front.log");
      targets.push_back(std::move(t));
    }

    // CALL SNIPPETS on the bodies of IDS (the client's texts) with Q's words, naming T's index.
    auto snippets_sql = [&](Target& t, const std::vector<std::size_t>& ids, const CorpusGenerator::Query& q) {
      std::string bodies;
      for (std::size_t id : ids) bodies += (bodies.empty() ? "" : ",") + t.ql->literal(all.at(id - 1).body_text);
      return fmt::format("CALL SNIPPETS(({}), '{}', {}, '<mark>' AS before_match, '</mark>' AS after_match, "
                         "200 AS limit, 1 AS query_mode)",
                         bodies, t.snippets_index, t.ql->literal(sphinx_query(q)));
    };
    // One pass over the mix against T: the full answer (SELECT with FACETs, then CALL SNIPPETS)
    // or the top 10 alone; TIMED adds each query's times, otherwise (the warm-up) it counts hits
    // and snippets, keeps each page's ids and checks the year counts add up to total_found.
    auto run = [&](Target& t, bool full, bool timed) {
      for (std::size_t qi = 0; qi < mix.size(); ++qi) {
        const auto& q = mix[qi];
        std::string sql = "SELECT id, WEIGHT() FROM articles WHERE MATCH(" + t.ql->literal(sphinx_query(q)) + ")";
        if (!q.topic.empty()) sql += fmt::format(" AND topic = {}", topic_id.at(q.topic));
        // ORDER BY WEIGHT(), not an alias: with an alias, 2.2.11's FACETs over a distributed index
        // fail ("column 'weight()/w' not found in result set schema"); the same query either way.
        sql += " ORDER BY WEIGHT() DESC LIMIT 10";
        if (full) sql += " FACET topic ORDER BY COUNT(*) DESC LIMIT 40 FACET year ORDER BY year ASC LIMIT 20";
        const auto start = Clock::now();
        std::vector<std::size_t> ids;
        std::size_t year_counts = 0;
        t.ql->query(sql, [&](int set, const std::vector<std::string_view>& r) {
          if (set == 0) ids.push_back(std::stoul(std::string(r.at(0))));
          if (set == 2 && !timed) year_counts += std::stoul(std::string(r.at(1)));
        });
        double client = ms_since(start);
        const auto meta = t.ql->meta();  // not counted: a round trip for the figures only
        if (full && !ids.empty()) {
          const auto snippet_start = Clock::now();
          t.ql->query(snippets_sql(t, ids, q), [&](int, const std::vector<std::string_view>& r) { t.snippets += !timed && !r.empty() && !r[0].empty(); });
          client += ms_since(snippet_start);
        }
        if (timed) {
          (full ? t.full_ms : t.top10_ms).push_back(client);
          (full ? t.full_searchd : t.top10_searchd).push_back(meta.ms);
        } else {
          t.hits += ids.size();
          t.empty += ids.empty();
          t.facet_mismatches += full && year_counts != meta.total_found;
          t.first_pages.push_back(ids);
        }
      }
    };
    for (auto& t : targets) run(*t, true, false);
    for (int pass = 0; pass < passes; ++pass) {
      for (auto& t : targets) run(*t, true, true);
      for (auto& t : targets) run(*t, false, true);
    }

    // With both: how many pages hold the same ids (each agent weighs by its own part's
    // statistics, so the distributed order may differ), and whether the template index gives
    // the snippets the single index gives on the same bodies (not timed).
    nlohmann::json against_local;
    if (targets.size() == 2) {
      Target &local = *targets[0], &dist = *targets[1];
      std::size_t same_set = 0, same_order = 0, snippet_calls = 0, same_snippets = 0;
      for (std::size_t qi = 0; qi < mix.size(); ++qi) {
        const auto& a = local.first_pages[qi];
        const auto& b = dist.first_pages[qi];
        same_order += a == b;
        same_set += std::set<std::size_t>(a.begin(), a.end()) == std::set<std::size_t>(b.begin(), b.end());
        if (a.empty()) continue;
        std::vector<std::string> texts[2];
        for (int side = 0; side < 2; ++side) {
          Target& t = side ? dist : local;
          t.ql->query(snippets_sql(t, a, mix[qi]), [&](int, const std::vector<std::string_view>& r) { texts[side].emplace_back(r.empty() ? "" : r[0]); });
        }
        ++snippet_calls;
        same_snippets += texts[0] == texts[1];
      }
      const double q = static_cast<double>(mix.size());
      against_local = {{"pages_same_ids", static_cast<double>(same_set) / q},
                       {"pages_same_order", static_cast<double>(same_order) / q},
                       {"snippet_calls_identical", snippet_calls ? static_cast<double>(same_snippets) / static_cast<double>(snippet_calls) : 0.0},
                       {"full_p50_ratio", percentile(dist.full_ms, 50) / percentile(local.full_ms, 50)},
                       {"top10_p50_ratio", percentile(dist.top10_ms, 50) / percentile(local.top10_ms, 50)}};
    }
    for (auto& t : targets) t->stop();

    for (auto& t : targets) {
      const bool distributed = !t->agents.empty();
      nlohmann::json out = {
          {"engine", t->engine},
          {"articles", articles},
          {"queries", mix.size()},
          {"full", latency_json(t->full_ms)},
          {"top10", latency_json(t->top10_ms)},
          {"full_searchd", latency_json(t->full_searchd)},
          {"top10_searchd", latency_json(t->top10_searchd)},
          {"timing", "client-side over SphinxQL on 127.0.0.1; *_searchd: SHOW META time, 1 ms resolution, snippets not included"},
          {"full_answer", "top 10 ids by WEIGHT() (proximity_bm25), FACET counts of topics and years over all matches, "
                          "CALL SNIPPETS on the 10 bodies the client sends back; no titles or texts from searchd (it keeps none)"},
          {"first_page_hits", static_cast<double>(t->hits) / static_cast<double>(mix.size())},
          {"queries_without_hits", t->empty},
          {"first_page_snippets", static_cast<double>(t->snippets) / static_cast<double>(mix.size())},
          {"facet_year_counts_not_total_found", t->facet_mismatches}};
      if (passes > 1) out["passes"] = passes;
      if (targets.size() > 1) out["interleaved_with"] = targets[distributed ? 0 : 1]->engine;
      out.update(index_json(articles, t->index_ms, 0, t->index_rss_mib, corpus_bytes(all), t->index_dir));
      out["index_peak_rss_mib"] = t->index_rss_mib;
      out["index_seconds_excludes"] = "writing the tsvpipe source";
      if (distributed) {
        out["agents"] = agents;
        out["local_engine"] = "Sphinx 2.2";
        out["distributed"] = fmt::format(
            "{} parts by id modulo {}, one indexer run building them one after another; {} searchd agents (binary API, "
            "127.0.0.1) and a front searchd (SphinxQL) with a distributed index of agent_persistent agents; "
            "CALL SNIPPETS names the front's template index (the parts' settings, no data)",
            agents, agents, agents);
        if (!against_local.empty()) out["against_local"] = against_local;
      }
      fmt::print("{}\n", out.dump());
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "peer_sphinx: {}\n", e.what());
    status = 1;
  }
  fs::remove_all(dir);
  return status;
}
