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
  std::map<std::size_t, std::map<int, json>> http;             // articles -> connections -> wrk
  std::ifstream in(input);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    json j = json::parse(line);
    const auto n = j.at("articles").get<std::size_t>();
    if (j.contains("connections")) http[n][j["connections"].get<int>()] = j;
    else engines[n][j.at("engine").get<std::string>()] = j;
  }

  fmt::print("| articles | engine | index docs/s | index MB/s | peak RSS (MiB) | index ÷ text | 1 % reindex (s) | "
             "top-10 p50 (ms) | full p50 | full p95 | full p99 |\n"
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
  for (const auto& [n, by_engine] : engines)
    for (const auto& [name, j] : by_engine)
      fmt::print("| {} | {} | {:.0f} | {:.2f} | {:.0f} | {:.2f} | {} | {} | {} | {} | {} |\n", n, name,
                 at(j, "index_docs_per_s"), at(j, "index_mb_per_s"), at(j, "index_peak_rss_mib"),
                 at(j, "corpus_bytes") > 0 ? at(j, "index_bytes") / at(j, "corpus_bytes") : 0.0,
                 j.contains("incremental_seconds") ? fmt::format("{:.2f}", at(j, "incremental_seconds")) : "—",
                 ms(at(j, "top10", "p50")), ms(at(j, "full", "p50")), ms(at(j, "full", "p95")), ms(at(j, "full", "p99")));

  fmt::print("\nRatios mssearch ÷ peer, same run (latency: lower is better; docs/s: higher is better):\n\n"
             "| articles | peer | full p50 | full p99 | top-10 p50 | index docs/s | index size | mssearch p99 ÷ p50 | 1 % reindex ÷ full build |\n"
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
  for (const auto& [n, by_engine] : engines) {
    auto self = by_engine.find("mssearch");
    if (self == by_engine.end()) continue;
    const json& m = self->second;
    for (const auto& [name, j] : by_engine) {
      if (name == "mssearch") continue;
      fmt::print("| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", n, name, ratio(at(m, "full", "p50"), at(j, "full", "p50")),
                 ratio(at(m, "full", "p99"), at(j, "full", "p99")), ratio(at(m, "top10", "p50"), at(j, "top10", "p50")),
                 ratio(at(m, "index_docs_per_s"), at(j, "index_docs_per_s")), ratio(at(m, "index_bytes"), at(j, "index_bytes")),
                 ratio(at(m, "full", "p99"), at(m, "full", "p50")), ratio(at(m, "incremental_seconds"), at(m, "index_seconds")));
    }
  }

  if (!http.empty()) {
    fmt::print("\nHTTP: `wrk` against `mssearch serve` on 127.0.0.1, the same query mix as /api/search URLs:\n\n"
               "| articles | connections | requests/s | p50 (ms) | p99 (ms) | errors | server RSS (MiB) |\n"
               "| --- | --- | --- | --- | --- | --- | --- |\n");
    for (const auto& [n, by_conn] : http)
      for (const auto& [c, j] : by_conn)
        fmt::print("| {} | {} | {:.0f} | {} | {} | {:.0f} | {:.0f} |\n", n, c, at(j, "requests_per_s"), ms(at(j, "p50_ms")),
                   ms(at(j, "p99_ms")), at(j, "errors"), at(j, "rss_mib"));
  }
  if (!machine.empty()) fmt::print("\nMachine: {}\n", machine);

  if (!plot_prefix.empty()) {
    std::set<std::string> names;
    for (const auto& [n, by_engine] : engines)
      for (const auto& [name, j] : by_engine) names.insert(name);
    std::ofstream dat(plot_prefix + ".dat");
    dat << "# articles";
    for (const auto& name : names) dat << " \"" << name << " full p50\"";
    dat << " \"mssearch serve req/s (8 conn.)\"\n";
    for (const auto& [n, by_engine] : engines) {
      dat << n;
      for (const auto& name : names) {
        auto it = by_engine.find(name);
        dat << " " << (it == by_engine.end() ? 0.0 : at(it->second, "full", "p50"));
      }
      auto h = http.find(n);
      dat << " " << (h != http.end() && h->second.contains(8) ? at(h->second.at(8), "requests_per_s") : 0.0) << "\n";
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
    gp << "\nset ylabel 'requests/s'\nset title 'mssearch serve, 8 connections (wrk)'\nset yrange [0:*]\n"
       << "plot '" << plot_prefix << ".dat' using 1:" << col << " with linespoints title 'requests/s'\nunset multiplot\n";
  }
  return 0;
}
