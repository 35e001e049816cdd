// `mssearch analytics`: what visitors searched for, what found nothing, what nobody clicked and
// what is rising, from the file the server writes when `analytics` is set (analytics/analytics.h).
#include <fmt/color.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "analytics/analytics.h"
#include "cli/commands.h"
#include "cli/terminal.h"
#include "schema/utf8.h"
#include "searcher/search_types.h"
#include "server/server_options.h"

namespace mssearch::cli {
namespace {

struct AnalyticsArgs {
  std::string file, config, since = "7d";
  std::size_t limit = 10;
  bool json = false;
};

int run_analytics(const AnalyticsArgs& args) {
  auto fail_with = [&](const Error& e) {
    if (args.json)
      fmt::print("{}\n", dump_json({{"error", {{"code", to_string(e.code)}, {"message", e.message}}}}));
    else
      fmt::print(stderr, "mssearch analytics: error: {}\n", printable(e.message));
    return kExitFatal;
  };
  const auto window = parse_duration(args.since);
  if (!window) return fail_with({ErrorCode::kBadQuery, "--since must be a number and a unit (m, h, d, w), e.g. 7d, not '" + args.since + "'"});
  std::filesystem::path file = args.file;
  if (file.empty() && !args.config.empty()) {
    auto options = load_server_options(args.config);
    if (!options) return fail_with(options.error());
    if (options->analytics_path.empty()) return fail_with({ErrorCode::kIo, args.config + " does not turn analytics on (no 'analytics:' file)"});
    file = options->analytics_path;
  }
  if (file.empty()) file = "data/analytics.sqlite";
  auto report = analytics_report(file, *window, args.limit);
  if (!report) return fail_with(report.error());
  if (args.json) {
    fmt::print("{}\n", dump_json(to_json(*report), 2));
    return kExitOk;
  }
  const bool colour = colour_enabled(stdout);
  auto heading = [&](const std::string& text) { return colour ? fmt::format(fmt::emphasis::bold, "{}", text) : text; };
  fmt::print("{} searches, {} clicks on results, {} searches found nothing (last {})\n", report->searches, report->clicks,
             report->zero_hit_searches, args.since);
  auto table = [&](const char* title, const char* hint, const std::vector<QueryStat>& rows, bool show_previous) {
    fmt::print("\n{} {}\n", heading(title), hint);
    if (rows.empty()) {
      fmt::print("  (none)\n");
      return;
    }
    for (const auto& q : rows) {
      std::string line = fmt::format("  {:>5}  {}", q.searches, printable(q.query));
      if (show_previous) line += fmt::format("  (was {})", q.previous);
      else line += fmt::format("  · {} hits · {} clicked", q.hits, q.clicks);
      if (!q.missing.empty()) line += fmt::format(" · no article has: {}", printable(q.missing));
      fmt::print("{}\n", line);
    }
  };
  table("Top queries", "", report->top, false);
  table("Found nothing", "(what to write next)", report->zero_hits, false);
  table("A word no article has", "(found the other words; what to write next too)", report->missing_words, false);
  table("Nobody clicked", "(results that did not look like answers)", report->no_clicks, false);
  table("Rising", "(against the window before)", report->rising, true);
  return kExitOk;
}

}  // namespace

void add_analytics_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<AnalyticsArgs>();
  auto* cmd = app.add_subcommand("analytics", "What visitors searched for: top, zero-hit, unclicked and rising queries");
  cmd->add_option("--file", args->file, "The analytics file the server writes (default: --config's, else data/analytics.sqlite)")->check(path_not_empty());
  cmd->add_option("--config", args->config, "Read the file's name from this server configuration (mssearch.yaml)")->check(path_not_empty());
  cmd->add_option("--since", args->since, "The window, up to now: 90m, 24h, 7d, 2w (default 7d)");
  cmd->add_option("--limit", args->limit, "Queries per list (default 10)")->check(whole_number(1, 1000));
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([args, &exit_code] { exit_code = run_analytics(*args); });
}

}  // namespace mssearch::cli
