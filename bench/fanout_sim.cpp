// fanout_sim: what a search costs when a coordinator fans it out to N shards, replayed from
// measured per-shard times (docs/scaling.md's sizing rests on it).
//
// Input: one file per measured shard, each the full-answer time of every query of the mix over
// that shard alone, one a line in the mix's order (search_bench --latencies, run as a
// coordinator over that one shard server, or over that shard's directory). The model: a search
// is a query of the mix drawn at random; each of its N shards takes the time one of the
// measured shards took for that query (drawn for each shard, so a hard query stays hard on
// every shard while shards still differ); the search takes as long as its slowest shard plus
// the coordinator's own time. Shards on machines of their own, no queueing: the tail this
// gives is the fan-out's alone (the p99 of the slowest of N), the floor under a loaded system.
#include <algorithm>
#include <cstdint>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/bench_common.h"

using namespace mssearch::bench;

namespace {

std::vector<double> read_times(const std::string& path, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = "cannot read " + path;
    return {};
  }
  std::vector<double> out;
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    try {
      std::size_t used = 0;
      const double ms = std::stod(line, &used);
      if (used != line.size() || !(ms >= 0)) throw std::invalid_argument(line);
      out.push_back(ms);
    } catch (const std::logic_error&) {
      error = fmt::format("{}:{}: '{}' is not a time in ms", path, n, line);
      return {};
    }
  }
  if (out.empty()) error = path + " holds no times";
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fanout_sim: a search fanned out to N shards, replayed from measured per-shard times"};
  std::vector<std::string> shard_files;
  std::vector<std::size_t> fanouts{1, 2, 4, 8, 16, 32, 64, 128};
  double overhead_ms = 0;
  std::size_t draws = 100000;
  std::uint64_t seed = 42;
  bool json = false;
  app.add_option("--shard", shard_files, "A shard's time for each query of the mix (search_bench --latencies); repeat")
      ->required();
  app.add_option("--shards", fanouts, "Fan-outs to replay (default 1 2 4 8 16 32 64 128)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100000}));
  app.add_option("--overhead-ms", overhead_ms, "The coordinator's own time per search, added (default 0)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--draws", draws, "Searches replayed per fan-out (default 100000)")->check(CLI::Range(1, 10000000));
  app.add_option("--seed", seed, "Random seed (default 42)");
  app.add_flag("--json", json, "One JSON line per fan-out");
  CLI11_PARSE(app, argc, argv);

  if (shard_files.size() < 2) {
    // With one, every shard of a fan-out would take that shard's time for the query: no tail.
    fmt::print(stderr, "fanout_sim: give the times of at least two shards (--shard FILE, repeated): how shards "
                       "differ on one query is what makes the slowest of N\n");
    return 2;
  }
  std::vector<std::vector<double>> shards;
  for (const auto& f : shard_files) {
    std::string error;
    shards.push_back(read_times(f, error));
    if (!error.empty()) {
      fmt::print(stderr, "fanout_sim: {}\n", error);
      return 2;
    }
    if (shards.back().size() != shards.front().size()) {
      fmt::print(stderr, "fanout_sim: {} has {} times, {} has {}: give each shard the same mix\n", f,
                 shards.back().size(), shard_files.front(), shards.front().size());
      return 2;
    }
  }
  const std::size_t queries = shards.front().size();
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::size_t> query(0, queries - 1), shard(0, shards.size() - 1);
  if (!json)
    fmt::print("{} measured shard(s), {} queries each; coordinator {:.2f} ms a search; {} searches a fan-out\n"
               "{:>8} {:>10} {:>10} {:>10} {:>16}\n",
               shards.size(), queries, overhead_ms, draws, "shards", "p50 ms", "p95 ms", "p99 ms", "shard ms/search");
  for (const std::size_t n : fanouts) {
    std::vector<double> searches;
    searches.reserve(draws);
    double work = 0;  // the shards' summed time: what the fan-out costs in CPU
    for (std::size_t d = 0; d < draws; ++d) {
      const std::size_t q = query(rng);
      double slowest = 0;
      for (std::size_t s = 0; s < n; ++s) {
        const double t = shards[shard(rng)][q];
        slowest = std::max(slowest, t);
        work += t;
      }
      searches.push_back(slowest + overhead_ms);
    }
    const double per_search = work / static_cast<double>(draws);
    if (json) {
      fmt::print("{}\n", nlohmann::json{{"shards", n},
                                        {"p50", percentile(searches, 50)},
                                        {"p95", percentile(searches, 95)},
                                        {"p99", percentile(searches, 99)},
                                        {"shard_ms_per_search", per_search}}
                             .dump());
    } else {
      fmt::print("{:>8} {:>10.2f} {:>10.2f} {:>10.2f} {:>16.1f}\n", n, percentile(searches, 50),
                 percentile(searches, 95), percentile(searches, 99), per_search);
    }
  }
  return 0;
}
