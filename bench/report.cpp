// bench_report: turns the JSON lines of one bench/run.sh run into the README's Markdown tables
// (figures, and ratios mssearch ÷ each peer measured in the same run) and gnuplot input for
// the plot of latency and throughput against collection size.
#include <fstream>
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_report: Markdown table and gnuplot data from bench/run.sh results"};
  std::string input, plot_prefix, machine;
  app.add_option("results", input, "JSON lines written by bench/run.sh")->required();
  app.add_option("--plot", plot_prefix, "Write PREFIX.dat and PREFIX.gp (gnuplot renders PREFIX.png)");
  app.add_option("--machine", machine, "Where the figures came from (printed under the tables)");
  CLI11_PARSE(app, argc, argv);

  std::map<std::size_t, std::map<std::string, json>> engines;  // articles -> engine -> figures
  // articles -> server -> connections -> wrk
  std::map<std::size_t, std::map<std::string, std::map<int, json>>> http;
  std::ifstream in(input);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    json j = json::parse(line);
    const auto n = j.at("articles").get<std::size_t>();
    if (j.contains("connections")) http[n][j.value("engine", "mssearch serve")][j["connections"].get<int>()] = j;
    else engines[n][j.at("engine").get<std::string>()] = j;
  }

  // "full": each engine's whole answer (mssearch's includes related articles, which no peer
  // computes); "question": mssearch without related articles, the question the peers answer.
  fmt::print("| articles | engine | index docs/s | index MB/s | peak RSS (MiB) | index ÷ text | as built ÷ text | "
             "1 % reindex (s) | top-10 p50 (ms) | without feedback | full p50 | full p95 | full p99 | without related p50 | p99 |\n"
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
  for (const auto& [n, by_engine] : engines)
    for (const auto& [name, j] : by_engine)
      fmt::print("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", n, name,
                 num(at(j, "index_docs_per_s"), 0), num(at(j, "index_mb_per_s"), 2), num(at(j, "index_peak_rss_mib"), 0),
                 ratio(at(j, "index_bytes"), at(j, "corpus_bytes")),
                 ratio(at(j, "index_bytes_full_build"), at(j, "corpus_bytes")),
                 j.contains("incremental_seconds") ? fmt::format("{:.2f}", at(j, "incremental_seconds")) : "—",
                 ms(at(j, "top10", "p50")), ms(at(j, "top10_no_feedback", "p50")), ms(at(j, "full", "p50")), ms(at(j, "full", "p95")), ms(at(j, "full", "p99")),
                 ms(at(j, "question", "p50")), ms(at(j, "question", "p99")));

  fmt::print("\nRatios mssearch ÷ peer, same run (latency: lower is better; docs/s: higher is better). "
             "Same question: mssearch without related articles against the peer's full answer; "
             "with related: mssearch's whole answer against the same:\n\n"
             "| articles | peer | full p50, same question | full p99, same question | full p50, with related | "
             "top-10 p50 | top-10 p50 without feedback | index docs/s | index size | mssearch p99 ÷ p50 | "
             "1 % reindex ÷ full build |\n"
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
  for (const auto& [n, by_engine] : engines) {
    auto self = by_engine.find("mssearch");
    if (self == by_engine.end()) continue;
    const json& m = self->second;
    for (const auto& [name, j] : by_engine) {
      if (name == "mssearch") continue;
      fmt::print("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", n, name,
                 ratio(at(m, "question", "p50"), at(j, "full", "p50")), ratio(at(m, "question", "p99"), at(j, "full", "p99")),
                 ratio(at(m, "full", "p50"), at(j, "full", "p50")), ratio(at(m, "top10", "p50"), at(j, "top10", "p50")),
                 ratio(at(m, "top10_no_feedback", "p50"), at(j, "top10", "p50")),
                 ratio(at(m, "index_docs_per_s"), at(j, "index_docs_per_s")), ratio(at(m, "index_bytes"), at(j, "index_bytes")),
                 ratio(at(m, "full", "p99"), at(m, "full", "p50")), ratio(at(m, "incremental_seconds"), at(m, "index_seconds")));
    }
  }

  if (!http.empty()) {
    fmt::print("\nHTTP: `wrk` on 127.0.0.1, the same query mix as /api/search URLs (full answers):\n\n"
               "| articles | server | connections | requests/s | p50 (ms) | p99 (ms) | errors | server RSS (MiB) |\n"
               "| --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (const auto& [n, by_server] : http)
      for (const auto& [server, by_conn] : by_server)
        for (const auto& [c, j] : by_conn)
          fmt::print("| {} | {} | {} | {:.0f} | {} | {} | {:.0f} | {:.0f} |\n", n, server, c, at(j, "requests_per_s"),
                     ms(at(j, "p50_ms")), ms(at(j, "p99_ms")), at(j, "errors"), at(j, "rss_mib"));
    fmt::print("\nHTTP ratios, mssearch serve ÷ peer server at the same connections (requests/s: higher is better; "
               "p99 ÷ mssearch's in-process full p99):\n\n"
               "| articles | peer | connections | requests/s | p99 | mssearch HTTP p99 ÷ in-process p99 |\n"
               "| --- | --- | --- | --- | --- | --- |\n");
    for (const auto& [n, by_server] : http) {
      auto self = by_server.find("mssearch serve");
      if (self == by_server.end()) continue;
      const double in_process_p99 = engines[n].count("mssearch") ? at(engines[n]["mssearch"], "full", "p99") : 0;
      for (const auto& [server, by_conn] : by_server) {
        if (server == "mssearch serve") continue;
        for (const auto& [c, j] : by_conn) {
          auto m = self->second.find(c);
          if (m == self->second.end()) continue;
          fmt::print("| {} | {} | {} | {} | {} | {} |\n", n, server, c,
                     ratio(at(m->second, "requests_per_s"), at(j, "requests_per_s")),
                     ratio(at(m->second, "p99_ms"), at(j, "p99_ms")), ratio(at(m->second, "p99_ms"), in_process_p99));
        }
      }
    }
  }
  if (!machine.empty()) fmt::print("\nMachine: {}\n", machine);

  if (!plot_prefix.empty()) {
    std::set<std::string> names;
    for (const auto& [n, by_engine] : engines)
      for (const auto& [name, j] : by_engine) names.insert(name);
    std::ofstream dat(plot_prefix + ".dat");
    dat << "# articles";
    for (const auto& name : names) dat << " \"" << name << " full p50\"";
    std::set<std::string> servers;
    for (const auto& [n, by_server] : http)
      for (const auto& [server, by_conn] : by_server) servers.insert(server);
    for (const auto& server : servers) dat << " \"" << server << " req/s (8 conn.)\"";
    dat << "\n";
    for (const auto& [n, by_engine] : engines) {
      dat << n;
      for (const auto& name : names) {
        auto it = by_engine.find(name);
        dat << " " << (it == by_engine.end() ? 0.0 : at(it->second, "full", "p50"));
      }
      for (const auto& server : servers) {
        auto h = http.find(n);
        const bool has = h != http.end() && h->second.contains(server) && h->second.at(server).contains(8);
        dat << " " << (has ? at(h->second.at(server).at(8), "requests_per_s") : 0.0);
      }
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
