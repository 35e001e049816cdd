// `mssearch search`.
#include <fmt/color.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/terminal.h"
#include "searcher/searcher.h"

namespace mssearch::cli {
namespace {

struct SearchArgs {
  std::string query;
  std::string db = default_db_path();
  std::vector<std::string> topics, journals;
  std::string since, until, sort = "relevance";
  std::size_t limit = 10, offset = 0;
  bool partial = false, json = false;
};

void print_human(const SearchResult& r) {
  const bool colour = colour_enabled(stdout);
  auto style = [&](fmt::text_style s, const std::string& text) {
    return colour ? fmt::format(s, "{}", text) : text;
  };
  fmt::print("{}{} results for \"{}\" ({:.1f} ms){}\n", r.total_is_exact ? "" : "about ", r.total, r.query,
             r.took_ms, r.did_you_mean ? fmt::format(" — did you mean \"{}\"?", *r.did_you_mean) : "");
  int rank = 0;
  for (const auto& h : r.hits) {
    fmt::print("\n{:>2}. {}  {}\n", ++rank, style(fmt::emphasis::bold, h.title),
               style(fmt::fg(fmt::terminal_color::bright_black), h.url));
    std::string meta = h.date;
    for (const auto& t : h.topics) meta += " · " + t;
    if (!h.journal.empty()) meta += " · " + h.journal;
    fmt::print("    {}\n", style(fmt::fg(fmt::terminal_color::cyan), meta));
    fmt::print("    {}\n", html_snippet_to_terminal(h.snippet, colour));
  }
  if (!r.topic_facets.empty()) {
    std::string line;
    for (const auto& f : r.topic_facets) line += fmt::format("{}{} ({})", line.empty() ? "" : ", ", f.value, f.count);
    fmt::print("\n{} {}\n", style(fmt::emphasis::bold, "Topics:"), line);
  }
}

int run_search(const SearchArgs& args) {
  SearcherOptions options;
  options.db_path = args.db;
  auto searcher = Searcher::open(options);
  if (!searcher) {
    fmt::print(stderr, "mssearch search: error: {}\n", searcher.error().message);
    return kExitFatal;
  }
  SearchRequest request;
  request.query = args.query;
  request.topics = args.topics;
  request.journals = args.journals;
  request.since = args.since;
  request.until = args.until;
  request.sort = args.sort == "date" ? SortOrder::kDate : SortOrder::kRelevance;
  request.limit = args.limit;
  request.offset = args.offset;
  request.partial = args.partial;
  auto result = searcher->search(request);
  if (!result) {
    if (args.json)
      fmt::print("{}\n", nlohmann::json{{"error", {{"code", to_string(result.error().code)},
                                                  {"message", result.error().message}}}}.dump());
    else
      fmt::print(stderr, "mssearch search: error: {}\n", result.error().message);
    return kExitFatal;
  }
  if (args.json) fmt::print("{}\n", to_json(*result).dump());
  else print_human(*result);
  return result->hits.empty() ? kExitPartial : kExitOk;
}

}  // namespace

void add_search_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<SearchArgs>();
  auto* cmd = app.add_subcommand("search", "Search the index");
  cmd->add_option("query", args->query, "Query text (editors' syntax: \"phrase\", -word, topic:X, ...)")
      ->required();
  cmd->add_option("--db", args->db, "Index directory (default: $MSSEARCH_DB or data/index)");
  cmd->add_option("--topic", args->topics, "Only articles with this topic (repeatable: any of them)");
  cmd->add_option("--journal", args->journals, "Only articles from this journal (repeatable)");
  cmd->add_option("--since", args->since, "Only articles dated on or after YYYY-MM-DD");
  cmd->add_option("--until", args->until, "Only articles dated on or before YYYY-MM-DD");
  cmd->add_option("--sort", args->sort, "relevance (default) or date")
      ->check(CLI::IsMember({"relevance", "date"}));
  cmd->add_option("--limit", args->limit, "Hits per page (default 10)")->check(CLI::Range(1, 100));
  cmd->add_option("--offset", args->offset, "Hits to skip (default 0)")->check(CLI::Range(0, 10000));
  cmd->add_flag("--partial", args->partial, "Match the last word as a prefix (as-you-type)");
  cmd->add_flag("--json", args->json, "Print the answer as JSON (the same as the HTTP API)");
  cmd->callback([args, &exit_code] { exit_code = run_search(*args); });
}

}  // namespace mssearch::cli
