// bench_report: turns the JSON lines of one bench/run.sh run into the README's Markdown tables
// (figures, and ratios mssearch ÷ each peer measured in the same run or round) and gnuplot input for
// the plot of latency and throughput against collection size.
#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <set>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

using nlohmann::json;

namespace {

double at(const json& j, const char* a, const char* b = nullptr) {
  const json& v = b ? j.value(a, json::object()).value(b, json()) : j.value(a, json());
  return v.is_number() ? v.get<double>() : 0.0;
}
std::string ms(double v) { return v > 0 ? fmt::format("{:.2f}", v) : "—"; }
// A figure the run did not measure (an engine that searched an index built before) is a dash.
std::string num(double v, int decimals) { return v > 0 ? fmt::format("{:.{}f}", v, decimals) : "—"; }
std::string ratio(double a, double b) { return a > 0 && b > 0 ? fmt::format("{:.2f}×", a / b) : "—"; }

// The figures of several rounds (bench/run.sh --rounds R runs every engine in turn once a round):
// each figure is the median over the rounds; each ratio is taken within a round (mssearch and the
// peer measured minutes apart) and shown as the median over the rounds with their min–max.
double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
}
std::string ratios(const std::vector<double>& per_round) {
  if (per_round.empty()) return "—";
  if (per_round.size() == 1) return fmt::format("{:.2f}×", per_round[0]);
  const auto [lo, hi] = std::minmax_element(per_round.begin(), per_round.end());
  return fmt::format("{:.2f}× ({:.2f}–{:.2f})", median(per_round), *lo, *hi);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_report: Markdown table and gnuplot data from bench/run.sh results"};
  std::string input, plot_prefix, machine;
  app.add_option("results", input, "JSON lines written by bench/run.sh")->required();
  app.add_option("--plot", plot_prefix, "Write PREFIX.dat and PREFIX.gp (gnuplot renders PREFIX.png)");
  app.add_option("--machine", machine, "Where the figures came from (printed under the tables)");
  CLI11_PARSE(app, argc, argv);

  // round -> articles -> engine -> figures (a line without "round" is round 1)
  std::map<int, std::map<std::size_t, std::map<std::string, json>>> runs;
  // round -> articles -> server -> connections -> wrk
  std::map<int, std::map<std::size_t, std::map<std::string, std::map<int, json>>>> http_runs;
  std::map<std::size_t, std::set<std::string>> engines;  // articles -> engines seen in any round
  std::map<std::size_t, std::map<std::string, std::set<int>>> http;  // articles -> server -> connections
  std::ifstream in(input);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    json j = json::parse(line);
    const auto n = j.at("articles").get<std::size_t>();
    const int round = j.value("round", 1);
    if (j.contains("connections")) {
      const std::string server = j.value("engine", "mssearch serve");
      const int c = j["connections"].get<int>();
      http_runs[round][n][server][c] = j;
      http[n][server].insert(c);
    } else {
      const std::string name = j.at("engine").get<std::string>();
      runs[round][n][name] = j;
      engines[n].insert(name);
    }
  }
  const std::size_t rounds = std::max(runs.size(), http_runs.size());
  // A figure: its median over the rounds that measured it.
  auto fig = [&](std::size_t n, const std::string& name, const char* a, const char* b = nullptr) {
    std::vector<double> v;
    for (auto& [round, by_n] : runs) {
      auto e = by_n[n].find(name);
      if (e != by_n[n].end() && at(e->second, a, b) > 0) v.push_back(at(e->second, a, b));
    }
    return median(v);
  };
  // A ratio X(first engine) ÷ Y(second engine) in each round that measured both.
  using Pick = std::function<double(const json&)>;
  auto per_round = [&](std::size_t n, const std::string& x_name, const Pick& x, const std::string& y_name, const Pick& y) {
    std::vector<double> v;
    for (auto& [round, by_n] : runs) {
      auto& by_engine = by_n[n];
      if (!by_engine.contains(x_name) || !by_engine.contains(y_name)) continue;
      const double a = x(by_engine.at(x_name)), b = y(by_engine.at(y_name));
      if (a > 0 && b > 0) v.push_back(a / b);
    }
    return ratios(v);
  };
  auto pick = [](const char* a, const char* b = nullptr) { return Pick([=](const json& j) { return at(j, a, b); }); };
  auto http_fig = [&](std::size_t n, const std::string& server, int c, const char* a) {
    std::vector<double> v;
    for (auto& [round, by_n] : http_runs) {
      auto s = by_n[n].find(server);
      if (s == by_n[n].end() || !s->second.contains(c)) continue;
      v.push_back(at(s->second.at(c), a));
    }
    return median(v);
  };

  if (rounds > 1)
    fmt::print("{} interleaved rounds (every engine in turn on the same size in each round): figures are the median "
               "over the rounds; ratios are taken within a round, median over the rounds (min–max).\n\n",
               rounds);
  // "full": each engine's whole answer (mssearch's includes related articles, which no peer
  // computes); "question": mssearch without related articles, the question the peers answer.
  fmt::print("| articles | engine | index docs/s | index MB/s | peak RSS (MiB) | index ÷ text | as built ÷ text | "
             "1 % reindex (s) | top-10 p50 (ms) | without feedback | full p50 | full p95 | full p99 | without related p50 | p99 |\n"
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
  for (const auto& [n, names] : engines)
    for (const auto& name : names) {
      const double reindex = fig(n, name, "incremental_seconds");
      fmt::print("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", n, name,
                 num(fig(n, name, "index_docs_per_s"), 0), num(fig(n, name, "index_mb_per_s"), 2),
                 num(fig(n, name, "index_peak_rss_mib"), 0),
                 ratio(fig(n, name, "index_bytes"), fig(n, name, "corpus_bytes")),
                 ratio(fig(n, name, "index_bytes_full_build"), fig(n, name, "corpus_bytes")),
                 reindex > 0 ? fmt::format("{:.2f}", reindex) : "—", ms(fig(n, name, "top10", "p50")),
                 ms(fig(n, name, "top10_no_feedback", "p50")), ms(fig(n, name, "full", "p50")),
                 ms(fig(n, name, "full", "p95")), ms(fig(n, name, "full", "p99")), ms(fig(n, name, "question", "p50")),
                 ms(fig(n, name, "question", "p99")));
    }

  // Engines that report a server's own time beside the client's (Sphinx: SHOW META). Its 0 ms
  // (under its resolution) is a figure here, not a missing one.
  auto has = [&](std::size_t n, const std::string& name, const char* key) {
    for (auto& [round, by_n] : runs)
      if (by_n[n].contains(name) && by_n[n][name].contains(key)) return true;
    return false;
  };
  auto server_fig = [&](std::size_t n, const std::string& name, const char* a, const char* b) {
    std::vector<double> v;
    for (auto& [round, by_n] : runs)
      if (by_n[n].contains(name) && by_n[n][name].contains(a)) v.push_back(at(by_n[n][name], a, b));
    return fmt::format("{:.2f}", median(v));
  };
  bool server_times = false;
  for (const auto& [n, names] : engines)
    for (const auto& name : names) server_times = server_times || has(n, name, "top10_searchd");
  if (server_times) {
    fmt::print("\nSearch server's own time (searchd's SHOW META `time`: 1 ms resolution, so 0 is under a millisecond; "
               "the SELECT with its FACETs, not the snippets; the table above is client-side):\n\n"
               "| articles | engine | top-10 p50 | top-10 p99 | full p50 | full p95 | full p99 |\n"
               "| --- | --- | --- | --- | --- | --- | --- |\n");
    for (const auto& [n, names] : engines)
      for (const auto& name : names) {
        if (!has(n, name, "top10_searchd")) continue;
        fmt::print("| {} | {} | {} | {} | {} | {} | {} |\n", n, name, server_fig(n, name, "top10_searchd", "p50"),
                   server_fig(n, name, "top10_searchd", "p99"), server_fig(n, name, "full_searchd", "p50"),
                   server_fig(n, name, "full_searchd", "p95"), server_fig(n, name, "full_searchd", "p99"));
      }
  }

  // A distributed engine against the same engine on one local index (its JSON names it in
  // "local_engine"), each ratio taken within a round (issue #20: the distributed ÷ local ratio).
  std::map<std::size_t, std::map<std::string, std::string>> local_of;  // articles -> distributed -> local
  for (auto& [round, by_n] : runs)
    for (auto& [n, by_engine] : by_n)
      for (auto& [name, j] : by_engine)
        if (j.contains("local_engine") && engines[n].contains(j["local_engine"].get<std::string>()))
          local_of[n][name] = j["local_engine"].get<std::string>();
  if (!local_of.empty()) {
    fmt::print("\nDistributed ÷ local, same run (the same engine, the same mix; client-side, and the server's own "
               "time for the SELECT with its FACETs):\n\n"
               "| articles | distributed | local | full p50 | full p95 | full p99 | top-10 p50 | server's own full p50 (ms) |\n"
               "| --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (const auto& [n, pairs] : local_of)
      for (const auto& [dist, local] : pairs)
        fmt::print("| {} | {} | {} | {} | {} | {} | {} | {} ÷ {} |\n", n, dist, local,
                   per_round(n, dist, pick("full", "p50"), local, pick("full", "p50")),
                   per_round(n, dist, pick("full", "p95"), local, pick("full", "p95")),
                   per_round(n, dist, pick("full", "p99"), local, pick("full", "p99")),
                   per_round(n, dist, pick("top10", "p50"), local, pick("top10", "p50")),
                   server_fig(n, dist, "full_searchd", "p50"), server_fig(n, local, "full_searchd", "p50"));
  }

  fmt::print("\nRatios mssearch ÷ peer, same run (latency: lower is better; docs/s: higher is better). "
             "Same question: mssearch without related articles against the peer's full answer; "
             "with related: mssearch's whole answer against the same:\n\n"
             "| articles | peer | full p50, same question | full p99, same question | full p50, with related | "
             "top-10 p50 | top-10 p50 without feedback | index docs/s | index size | mssearch p99 ÷ p50 | "
             "1 % reindex ÷ full build |\n"
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
  const std::string self = "mssearch";
  for (const auto& [n, names] : engines) {
    if (!names.contains(self)) continue;
    for (const auto& name : names) {
      if (name == self) continue;
      fmt::print("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", n, name,
                 per_round(n, self, pick("question", "p50"), name, pick("full", "p50")),
                 per_round(n, self, pick("question", "p99"), name, pick("full", "p99")),
                 per_round(n, self, pick("full", "p50"), name, pick("full", "p50")),
                 per_round(n, self, pick("top10", "p50"), name, pick("top10", "p50")),
                 per_round(n, self, pick("top10_no_feedback", "p50"), name, pick("top10", "p50")),
                 per_round(n, self, pick("index_docs_per_s"), name, pick("index_docs_per_s")),
                 per_round(n, self, pick("index_bytes"), name, pick("index_bytes")),
                 per_round(n, self, pick("full", "p99"), self, pick("full", "p50")),
                 per_round(n, self, pick("incremental_seconds"), self, pick("index_seconds")));
    }
  }

  if (!http.empty()) {
    fmt::print("\nHTTP: `wrk` on 127.0.0.1, the same query mix as each server's search URLs (full answers):\n\n"
               "| articles | server | connections | requests/s | p50 (ms) | p99 (ms) | errors | server RSS (MiB) |\n"
               "| --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (const auto& [n, by_server] : http)
      for (const auto& [server, conns] : by_server)
        for (int c : conns)
          fmt::print("| {} | {} | {} | {:.0f} | {} | {} | {:.0f} | {:.0f} |\n", n, server, c,
                     http_fig(n, server, c, "requests_per_s"), ms(http_fig(n, server, c, "p50_ms")),
                     ms(http_fig(n, server, c, "p99_ms")), http_fig(n, server, c, "errors"), http_fig(n, server, c, "rss_mib"));
    fmt::print("\nHTTP ratios, mssearch serve ÷ peer server at the same connections (requests/s: higher is better; "
               "p99 ÷ mssearch's in-process full p99):\n\n"
               "| articles | peer | connections | requests/s | p99 | mssearch HTTP p99 ÷ in-process p99 |\n"
               "| --- | --- | --- | --- | --- | --- |\n");
    const std::string self_server = "mssearch serve";
    for (const auto& [n, by_server] : http) {
      if (!by_server.contains(self_server)) continue;
      for (const auto& [server, conns] : by_server) {
        if (server == self_server) continue;
        for (int c : conns) {
          std::vector<double> rps, p99, in_process;
          for (auto& [round, by_n] : http_runs) {
            auto& servers = by_n[n];
            if (!servers.contains(self_server) || !servers.contains(server) || !servers[self_server].contains(c) ||
                !servers[server].contains(c))
              continue;
            const json& m = servers[self_server][c];
            const json& j = servers[server][c];
            if (at(m, "requests_per_s") > 0 && at(j, "requests_per_s") > 0) rps.push_back(at(m, "requests_per_s") / at(j, "requests_per_s"));
            if (at(m, "p99_ms") > 0 && at(j, "p99_ms") > 0) p99.push_back(at(m, "p99_ms") / at(j, "p99_ms"));
            auto r = runs.find(round);
            if (r != runs.end() && r->second[n].contains(self) && at(r->second[n][self], "full", "p99") > 0 && at(m, "p99_ms") > 0)
              in_process.push_back(at(m, "p99_ms") / at(r->second[n][self], "full", "p99"));
          }
          if (rps.empty() && p99.empty()) continue;
          fmt::print("| {} | {} | {} | {} | {} | {} |\n", n, server, c, ratios(rps), ratios(p99), ratios(in_process));
        }
      }
    }
  }
  if (!machine.empty()) fmt::print("\nMachine: {}\n", machine);

  if (!plot_prefix.empty()) {
    std::set<std::string> names;
    for (const auto& [n, engine_names] : engines) names.insert(engine_names.begin(), engine_names.end());
    std::ofstream dat(plot_prefix + ".dat");
    dat << "# articles";
    for (const auto& name : names) dat << " \"" << name << " full p50\"";
    std::set<std::string> servers;
    for (const auto& [n, by_server] : http)
      for (const auto& [server, conns] : by_server) servers.insert(server);
    for (const auto& server : servers) dat << " \"" << server << " req/s (8 conn.)\"";
    dat << "\n";
    for (const auto& [n, engine_names] : engines) {
      dat << n;
      for (const auto& name : names) dat << " " << fig(n, name, "full", "p50");
      for (const auto& server : servers) dat << " " << http_fig(n, server, 8, "requests_per_s");
      dat << "\n";
    }
    std::ofstream gp(plot_prefix + ".gp");
    gp << "set terminal pngcairo size 1000,420 font ',10'\nset output '" << plot_prefix << ".png'\n"
       << "set multiplot layout 1,2\nset logscale x\nset xlabel 'articles'\nset key top left\nset grid\n"
       << "set ylabel 'full answer p50 (ms)'\nset title 'Latency of the full answer'\nplot ";
    std::size_t col = 2;
    for (const auto& name : names) {
      gp << (col > 2 ? ", " : "") << "'" << plot_prefix << ".dat' using 1:" << col << " with linespoints title '" << name << "'";
      ++col;
    }
    gp << "\nset ylabel 'requests/s'\nset title 'HTTP servers, 8 connections (wrk)'\nset yrange [0:*]\nplot ";
    bool first = true;
    for (const auto& server : servers) {
      gp << (first ? "" : ", ") << "'" << plot_prefix << ".dat' using 1:" << col << " with linespoints title '" << server << "'";
      first = false;
      ++col;
    }
    gp << "\nunset multiplot\n";
  }
  return 0;
}
