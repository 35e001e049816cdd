// `mssearch search`, `mssearch related` and `mssearch suggest`.
#include <cmath>
#include <filesystem>
#include <optional>
#include <string>

#include <fmt/color.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/terminal.h"
#include "searcher/searcher.h"

namespace mssearch::cli {
namespace {

// Options every read command shares.
struct ReadArgs {
  std::string db = default_db_path();
  std::optional<std::string> synonyms;
  std::vector<std::string> databases;
  std::string spelling_database;
  bool json = false;
  double recency_boost = 0, credibility_boost = 0;

  void add_to(CLI::App* cmd) {
    cmd->add_option("--db", db, "Index directory (default: $MSSEARCH_DB or data/index)")->check(path_not_empty());
    cmd->add_option("--database", databases,
                    "Search these instead of --db, as one: index directories and remote shards tcp://HOST:PORT (repeat)")
        // One value each time, as --topic: `--database DIR brain fog` took `brain` for a second
        // database (searching "fog"), and with --json after it the whole query ("query is required").
        ->allow_extra_args(false)
        ->check(path_not_empty());
    cmd->add_option("--spelling-database", spelling_database,
                    "Local spelling data for remote shards (DIR/spelling of a sharded index)");
    cmd->add_option("--synonyms", synonyms,
                    "Synonyms file (default: $MSSEARCH_SYNONYMS, else corpus/synonyms.yaml if present; '': none, as serve's)");
    cmd->add_flag("--json", json, "Print JSON (the same as the HTTP API)");
    // CLI::NonNegativeNumber lets "nan" through (every comparison with it is false); 1e308 made
    // every score infinite ("score": null), hence the bound the config file has too.
    const CLI::Validator finite_non_negative(
        [](std::string& text) {
          return is_ranking_number(std::strtod(text.c_str(), nullptr))
                     ? std::string()
                     : fmt::format("must be a number from 0 to {}, not {}", kMaxRankingNumber, text);
        },
        fmt::format("NUMBER 0-{}", kMaxRankingNumber));
    cmd->add_option("--recency-boost", recency_boost, "Score added for this year's articles, halving every 2 years (0: off)")
        ->check(CLI::Number & finite_non_negative);
    cmd->add_option("--credibility-boost", credibility_boost, "Score added for credibility 5, less for lower (0: off)")
        ->check(CLI::Number & finite_non_negative);
  }

  SearcherOptions options() const {
    SearcherOptions o;
    o.db_path = db;
    o.databases = databases;
    o.spelling_database = spelling_database;
    o.ranking.recency_boost = recency_boost;
    o.ranking.credibility_boost = credibility_boost;
    if (synonyms) {
      o.synonyms_path = *synonyms;  // '' searches without any, as `serve --synonyms ''` does
    } else if (const char* env = std::getenv("MSSEARCH_SYNONYMS"); env != nullptr && *env != '\0') {
      o.synonyms_path = env;
    } else if (std::filesystem::exists("corpus/synonyms.yaml")) {
      o.synonyms_path = "corpus/synonyms.yaml";
    }
    return o;
  }
};

struct Style {
  bool colour = colour_enabled(stdout);
  std::string operator()(fmt::text_style s, const std::string& text) const {
    return colour ? fmt::format(s, "{}", text) : text;
  }
};

int print_error(const char* command, const Error& error, bool json) {
  if (json)
    fmt::print("{}\n", dump_json({{"error", {{"code", to_string(error.code)}, {"message", error.message}}}}));
  else  // it may quote what was typed: a query, an id (`related`), a prefix (`suggest`)
    fmt::print(stderr, "mssearch {}: error: {}\n", command, printable(error.message));
  return kExitFatal;
}

void print_hit_line(const Style& style, int rank, const SearchHit& h) {
  fmt::print("{:>2}. {}  {}\n", rank, style(fmt::emphasis::bold, h.title),
             style(fmt::fg(fmt::terminal_color::bright_black), h.url));
  std::string meta = h.date;
  for (const auto& t : h.topics) meta += " · " + t;
  if (!h.journal.empty()) meta += " · " + h.journal;
  if (h.credibility) meta += fmt::format(" · credibility {}/5", *h.credibility);
  if (h.interest) meta += fmt::format(" · interest {}/5", *h.interest);
  fmt::print("    {}\n", style(fmt::fg(fmt::terminal_color::cyan), meta));
}

std::string facet_line(const std::vector<FacetValue>& facets) {
  std::string line;
  for (const auto& f : facets) line += fmt::format("{}{} ({})", line.empty() ? "" : ", ", f.value, f.count);
  return line;
}

void print_human(const SearchRequest& request, const SearchResult& r) {
  const Style style;
  // The query as typed, escapes and all (`a ESC[31m b` turned the terminal red): as printable()
  // writes other text from outside.
  // The order when it is not the one asked for: nothing typed weighs (filters or exclusions
  // alone), so the list is newest first, as the page says.
  const bool newest_first = r.order == SortOrder::kDate && request.sort == SortOrder::kRelevance && r.total > 1;
  fmt::print("{}{} {} for \"{}\"{} ({:.1f} ms)\n", r.total_is_exact ? "" : "about ", r.total,
             r.total == 1 ? "result" : "results", printable(r.query), newest_first ? ", newest first" : "", r.took_ms);
  // The query found nothing: the hits are its correction's, said as the page says it ("Did you
  // mean" alone read as an offer, over hits that were already the correction's).
  if (r.did_you_mean && r.showing_corrected)
    fmt::print("Nothing found for \"{}\": showing results for {}\n", printable(r.query),
               style(fmt::emphasis::bold | fmt::emphasis::italic, printable(*r.did_you_mean)));
  else if (r.did_you_mean)
    fmt::print("Did you mean {}?\n", style(fmt::emphasis::bold | fmt::emphasis::italic, printable(*r.did_you_mean)));
  if (r.showing_completions)
    fmt::print("Nothing found for \"{}\" as typed: its last word was searched as the beginning of words\n",
               printable(r.query));
  for (const auto& word : r.missing_words)
    fmt::print("No article has \"{}\": these results have the other words\n", printable(word));
  if (r.hits.empty() && r.total > 0)
    fmt::print("(no results from {} on: there {} {})\n", request.offset + 1, r.total == 1 ? "is" : "are", r.total);
  int rank = 0;
  for (const auto& h : r.hits) {
    fmt::print("\n");
    print_hit_line(style, ++rank, h);
    fmt::print("    {}\n", snippet_for_terminal(h.snippet, style.colour));
  }
  // A facet filtered by is counted without its own filter (the counts of the results above
  // would be only the values asked for): said, as a total of 1 beside "Sleep (1), Fatigue (3)"
  // read as wrong.
  if (!r.topic_facets.empty())
    fmt::print("\n{} {}\n", style(fmt::emphasis::bold, request.topics.empty() ? "Topics:" : "Topics (any topic):"),
               facet_line(r.topic_facets));
  if (!r.year_facets.empty())
    fmt::print("{} {}\n", style(fmt::emphasis::bold, request.years.empty() ? "Years:" : "Years (any year):"),
               facet_line(r.year_facets));
  if (!r.related.empty()) {
    fmt::print("\n{}\n", style(fmt::emphasis::bold, "You may also like"));
    for (const auto& h : r.related) fmt::print("  - {}  {}\n", h.title, style(fmt::fg(fmt::terminal_color::bright_black), h.url));
  }
}

// The words of a query as given on the command line, quoted or not (`search brain fog` was
// refused: "The following argument was not expected: fog").
std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

struct SearchArgs : ReadArgs {
  std::vector<std::string> query;
  std::vector<std::string> topics, journals;
  std::vector<int> years;
  std::string since, until, sort = "relevance";
  std::size_t limit = 10, offset = 0;
  std::optional<int> min_credibility;
  std::size_t snippet_length = SearcherOptions{}.snippet_length;
  bool partial = false;
};

int run_search(const SearchArgs& args) {
  SearcherOptions options = args.options();
  options.snippet_length = args.snippet_length;
  auto searcher = Searcher::open(options);
  if (!searcher) return print_error("search", searcher.error(), args.json);
  SearchRequest request;
  request.query = joined(args.query);
  request.topics = args.topics;
  request.journals = args.journals;
  request.years = args.years;
  request.since = args.since;
  request.until = args.until;
  request.min_credibility = args.min_credibility;
  request.sort = args.sort == "date" ? SortOrder::kDate : args.sort == "credibility" ? SortOrder::kCredibility : SortOrder::kRelevance;
  request.limit = args.limit;
  request.offset = args.offset;
  request.partial = args.partial;
  auto result = searcher->search(request);
  if (!result) return print_error("search", result.error(), args.json);
  if (args.json) fmt::print("{}\n", dump_json(to_json(*result)));
  else print_human(request, *result);
  for (const auto& w : result->warnings) fmt::print(stderr, "mssearch search: warning: {}\n", printable(w));
  return result->hits.empty() ? kExitPartial : kExitOk;
}

}  // namespace

void add_search_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<SearchArgs>();
  auto* cmd = app.add_subcommand("search", "Search the index");
  cmd->add_option("query", args->query,
                  "Query: words, \"a phrase\", -exclude, AND/OR/NOT, title:/topic:/journal:/year:, "
                  "date:2025-01-01..2025-12-31, remyelin* (several arguments are one query; put -- before one "
                  "starting with -)")
      ->required();
  args->add_to(cmd);
  cmd->add_option("--topic", args->topics, "Only articles with this topic (repeatable: any of them)")
      ->allow_extra_args(false);
  cmd->add_option("--journal", args->journals, "Only articles from this journal (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--year", args->years, "Only articles from this year (repeatable)")
      ->allow_extra_args(false)->check(whole_number(1900, 2200));
  cmd->add_option("--since", args->since, "Only articles dated on or after YYYY-MM-DD");
  cmd->add_option("--until", args->until, "Only articles dated on or before YYYY-MM-DD");
  cmd->add_option("--min-credibility", args->min_credibility, "Only articles rated at least this (1-5)")
      ->check(whole_number(1, 5));
  cmd->add_option("--sort", args->sort, "relevance (default), date (newest first) or credibility (best rated first)")
      ->check(CLI::IsMember({"relevance", "date", "credibility"}));
  cmd->add_option("--limit", args->limit, fmt::format("Hits per page (default 10, at most {})", kDefaultMaxLimit))
      ->check(whole_number(1, static_cast<long long>(kDefaultMaxLimit)));
  cmd->add_option("--offset", args->offset, "Hits to skip (default 0, at most 10000)")->check(whole_number(0, 10000));
  cmd->add_flag("--partial", args->partial, "Match the last word as a prefix (as-you-type)");
  cmd->add_option("--snippet-length", args->snippet_length, "Characters of text per snippet (default 240)")
      ->check(whole_number(20, 2000));
  cmd->callback([args, &exit_code] { exit_code = run_search(*args); });

  struct RelatedArgs : ReadArgs {
    std::string id;
    std::size_t limit = 6;
  };
  auto rargs = std::make_shared<RelatedArgs>();
  auto* related = app.add_subcommand("related", "Articles like one article (\"You May Also Like\")");
  related->add_option("id", rargs->id, "Article id")->required();
  rargs->add_to(related);
  related->add_option("--limit", rargs->limit, fmt::format("How many (default 6, at most {})", kDefaultMaxLimit))
      ->check(whole_number(1, static_cast<long long>(kDefaultMaxLimit)));
  related->callback([rargs, &exit_code] {
    auto searcher = Searcher::open(rargs->options());
    if (!searcher) { exit_code = print_error("related", searcher.error(), rargs->json); return; }
    auto hits = searcher->related(rargs->id, rargs->limit);
    if (!hits) { exit_code = print_error("related", hits.error(), rargs->json); return; }
    if (rargs->json) {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& h : *hits) j.push_back(to_json(h));
      fmt::print("{}\n", dump_json(nlohmann::json{{"id", rargs->id}, {"related", j}}));
    } else {
      const Style style;
      int rank = 0;
      for (const auto& h : *hits) print_hit_line(style, ++rank, h);
    }
    exit_code = hits->empty() ? kExitPartial : kExitOk;
  });

  struct SuggestArgs : ReadArgs {
    std::vector<std::string> prefix;
    std::size_t limit = 8;
  };
  auto sargs = std::make_shared<SuggestArgs>();
  auto* suggest = app.add_subcommand("suggest", "Complete what a visitor has typed so far");
  suggest->add_option("prefix", sargs->prefix, "Text typed so far")->required();
  sargs->add_to(suggest);
  // The range the API takes (`/api/suggest?limit=`, 1 to max_per_page): it stopped at 50 here.
  suggest->add_option("--limit", sargs->limit, fmt::format("How many (default 8, at most {})", kDefaultMaxLimit))
      ->check(whole_number(1, static_cast<long long>(kDefaultMaxLimit)));
  suggest->callback([sargs, &exit_code] {
    auto searcher = Searcher::open(sargs->options());
    if (!searcher) { exit_code = print_error("suggest", searcher.error(), sargs->json); return; }
    auto list = searcher->suggest(joined(sargs->prefix), sargs->limit);
    if (!list) { exit_code = print_error("suggest", list.error(), sargs->json); return; }
    if (sargs->json) {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& s : *list) j.push_back(to_json(s));
      fmt::print("{}\n", dump_json(nlohmann::json{{"query", joined(sargs->prefix)}, {"suggestions", j}}));
    } else {
      for (const auto& s : *list) fmt::print("{:<6} {}\n", s.kind, s.text);
    }
    exit_code = list->empty() ? kExitPartial : kExitOk;
  });
}

}  // namespace mssearch::cli
