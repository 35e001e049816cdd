// mssearch: full-text search for plain-language summaries of MS research.
#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/terminal.h"

namespace mssearch::cli {

std::string default_db_path() {
  const char* env = std::getenv("MSSEARCH_DB");
  return env != nullptr && *env != '\0' ? env : "data/index";
}

namespace {

// A query word with a minus (an excluded word: `-fatigue`) before `--` is an option to CLI11, one
// `search` does not have: `search -fatigue` was refused with "query is required", `search brain
// -fatigue` with "The following argument was not expected". What to do instead, or nothing.
std::string minus_word_message(std::string_view arg) {
  return fmt::format("'{}' is no option: a query word that starts with '-' (an excluded word) goes after `--`, "
                     "which ends the options: `mssearch search -- brain -fatigue`",
                     arg);
}

std::string minus_word_hint(CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  // (Not by get_name(): an ExtrasError of a subcommand is named after the subcommand.)
  if (argc < 3 || std::string_view(argv[1]) != "search" ||
      (dynamic_cast<const CLI::RequiredError*>(&e) == nullptr && dynamic_cast<const CLI::ExtrasError*>(&e) == nullptr))
    return {};
  CLI::App* search = app.get_subcommand("search");
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") break;
    // `-x…`: an option only when `search` has -x (`--…` is a long option, known or not).
    if (arg.size() < 2 || arg[0] != '-' || arg[1] == '-' || search->get_option_no_throw(std::string(arg.substr(0, 2))) != nullptr)
      continue;
    return minus_word_message(arg);
  }
  return {};
}

// `search -headache`: CLI11 reads `-h` and the letters after it as flags, and printed the help
// with exit 0 (a script took the search for done). `search`'s only short option is -h: a longer
// word after one minus before `--` is an excluded query word. The hint, or nothing.
std::string help_flag_word(int argc, char** argv) {
  if (argc < 3 || std::string_view(argv[1]) != "search") return {};
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg.size() > 2 && arg.starts_with("-h")) return minus_word_message(arg);
  }
  return {};
}

}  // namespace

}  // namespace mssearch::cli

int main(int argc, char** argv) {
  using namespace mssearch::cli;
  // Over a file-size limit (ulimit -f), fail the write with EFBIG and report it, rather than
  // being killed by SIGXFSZ without a word.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"mssearch: full-text search for plain-language summaries of MS research"};
  app.set_version_flag("--version", std::string("mssearch " MSSEARCH_VERSION));
  app.require_subcommand(1);
  int exit_code = kExitOk;
  add_index_command(app, exit_code);
  add_stats_command(app, exit_code);
  add_check_command(app, exit_code);
  add_search_command(app, exit_code);
  add_eval_command(app, exit_code);
  add_serve_command(app, exit_code);
  add_analytics_command(app, exit_code);
  // An unknown command is named (CLI11 says only "A subcommand is required").
  if (argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> names;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) names.push_back(sub->get_name());
    if (std::find(names.begin(), names.end(), argv[1]) == names.end()) {
      const std::string message = fmt::format("unknown command '{}' (commands: {}; mssearch --help)", argv[1], fmt::join(names, ", "));
      fmt::print(stderr, "mssearch: {}\n", printable(message));  // the command as typed, escapes and all
      if (std::any_of(argv + 1, argv + argc, [](const char* a) { return std::string_view(a) == "--json"; }))
        fmt::print("{}\n", nlohmann::json{{"error", {{"code", "bad_parameter"}, {"message", message}}}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      return kExitFatal;
    }
  }
  if (const std::string hint = help_flag_word(argc, argv); !hint.empty()) {
    std::cerr << "mssearch search: " << printable(hint) << '\n';
    char** const options_end = std::find_if(argv + 1, argv + argc, [](const char* a) { return std::string_view(a) == "--"; });
    if (std::any_of(argv + 1, options_end, [](const char* a) { return std::string_view(a) == "--json"; }))
      fmt::print("{}\n", nlohmann::json{{"error", {{"code", "bad_parameter"}, {"message", hint}}}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return kExitFatal;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11's message quotes the argument it refused: written line by line through printable().
    std::ostringstream refused;
    const int rc = app.exit(e, std::cout, refused);
    std::istringstream lines(refused.str());
    for (std::string line; std::getline(lines, line);) std::cerr << printable(line) << '\n';
    const std::string hint = minus_word_hint(app, e, argc, argv);
    if (!hint.empty()) std::cerr << "mssearch search: " << printable(hint) << '\n';
    // A script that asked for --json reads one JSON object on stdout, also for an argument
    // refused here (`--limit 1000`, an unknown --sort): the usage message above is on stderr.
    // Only options count: after "--" every argument is a positional one (a query word "--json").
    char** const options_end = std::find_if(argv + 1, argv + argc, [](const char* a) { return std::string_view(a) == "--"; });
    if (rc != 0 && std::any_of(argv + 1, options_end, [](const char* a) { return std::string_view(a) == "--json"; }))
      fmt::print("{}\n", nlohmann::json{{"error", {{"code", "bad_parameter"}, {"message", std::string(e.what()) + (hint.empty() ? "" : "; " + hint)}}}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return rc == 0 ? kExitOk : kExitFatal;
  } catch (const std::exception& e) {
    // A defect, not the input's fault: said as an error with an exit code, not an abort.
    const std::string message = fmt::format("internal error: {}", e.what());
    fmt::print(stderr, "mssearch: {}\n", message);
    char** const options_end = std::find_if(argv + 1, argv + argc, [](const char* a) { return std::string_view(a) == "--"; });
    if (std::any_of(argv + 1, options_end, [](const char* a) { return std::string_view(a) == "--json"; }))
      fmt::print("{}\n", nlohmann::json{{"error", {{"code", "internal_error"}, {"message", message}}}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return kExitFatal;
  }
  return exit_code;
}
