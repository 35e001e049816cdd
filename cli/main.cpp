// mssearch: full-text search for plain-language summaries of MS research.
#include <fcntl.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <poll.h>
#include <sys/stat.h>
#include <system_error>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <xapian.h>

#include "cli/commands.h"
#include "cli/terminal.h"

namespace mssearch::cli {

namespace {
bool stdout_closed = false;
}  // namespace

void hold_standard_files() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    // The lowest free descriptor: this one, the lower ones being open.
    if (::open(fd == 1 ? "/dev/full" : "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd) continue;
    if (fd == 1) stdout_closed = true;
  }
}

namespace {
std::string work_done;  // note_work_done()
bool output_failure_said = false;  // said already (a write that threw): not said twice
}  // namespace

void note_work_done(std::string what) { work_done = std::move(what); }

std::string standard_output_failure(int why) {
  if (stdout_closed) return "it is closed";
  // A write that failed before the last one (errno since overwritten): a pipe whose reader has
  // gone says so to poll().
  struct stat st {};
  pollfd out{1, POLLOUT, 0};
  if (why == 0 && ::fstat(1, &st) == 0 && S_ISFIFO(st.st_mode) && ::poll(&out, 1, 0) == 1 && (out.revents & POLLERR) != 0)
    why = EPIPE;
  return why != 0 ? std::strerror(why) : "a write failed (a full disk?)";
}

std::string default_db_path() {
  const char* env = std::getenv("MSSEARCH_DB");
  return env != nullptr && *env != '\0' ? env : "data/index";
}

const CLI::Validator& path_not_empty() {
  static const CLI::Validator check(
      [](std::string& value) { return value.empty() ? std::string("the path is empty") : std::string(); }, "PATH");
  return check;
}

CLI::Validator whole_number(long long lo, long long hi) {
  return CLI::Validator(
      [lo, hi](std::string& text) {
        // CLI11's Range said "Value abc not in range 1 to 100" of a word that is no number.
        long long value = 0;
        const char* end = text.data() + text.size();
        const auto [at, ec] = std::from_chars(text.data(), end, value);
        if (ec == std::errc() && at == end && value >= lo && value <= hi) return std::string();
        return fmt::format("must be a whole number from {} to {}, not '{}'", lo, hi, printable(text));
      },
      fmt::format("INT {}-{}", lo, hi));
}

namespace {

// A word with one minus before `--` (an excluded word: `search -fatigue`) is an option to CLI11,
// one the read commands do not have: `search -fatigue` was refused with "query is required" and
// the hint below it, `search brain -fatigue` with "The following argument was not expected", and
// `search -headache` printed the help (`-h`), exit 0. Such a word is found before CLI11 parses,
// and refused with one message that names it and the command with `--`.
struct ReadCommandLine {
  std::string minus_word;          // the first word CLI11 would take for an option it does not have
  bool help = false;               // -h or --help: the help, as CLI11 prints it
  bool json = false;               // --json as an option (not a word after `--`)
  std::vector<std::string> words;  // the positional arguments (query words, an id, a prefix), in order
  std::vector<std::string> options;  // the other arguments before `--` (options and their values), in order
  bool refused = false;              // an unknown option, or one short of its value: CLI11 refuses the line
};

// argv[2…] of a read command as CLI11 classifies them (CLI/Split.hpp): `--name[=value]` is a long
// option, `-x…` a short one unless x is a digit, `--` ends the options.
ReadCommandLine read_command_line(CLI::App& command, int argc, char** argv) {
  ReadCommandLine line;
  int i = 2;
  for (; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") {
      ++i;
      break;
    }
    std::string name, value;
    if (CLI::detail::split_long(arg, name, value)) {
      const CLI::Option* option = command.get_option_no_throw("--" + name);
      line.options.push_back(arg);
      if (option == nullptr) {  // an unknown option: CLI11 says so
        line.refused = true;
        continue;
      }
      if (option == command.get_help_ptr()) line.help = true;
      if (name == "json") line.json = true;
      // Its value, when not after `=`, whatever it looks like: CLI11 takes the next argument
      // (`--topic -hemi` is the topic "-hemi", as `--topic=-hemi`), so it is no query word and
      // no minus word (`-hemi` was refused as one, and `--topic -fatigue` with no query was
      // told to put -fatigue after `--`).
      const int values = std::min(option->get_type_size_min(), option->get_items_expected_min());
      if (values > 0 && value.empty() && arg.find('=') != std::string::npos) {
        // `--db=`: CLI11 reads it as `--db` without its value and takes the next argument for it
        // (`search --db= brain fog --json` looked for an index at "--json", without JSON, and
        // `search --db= brain` for one at the `--` put before the words below). Its value is
        // the empty one it was given, as `--db ''`.
        line.options.back() = "--" + name;
        line.options.emplace_back();
        continue;
      }
      if (arg.find('=') == std::string::npos) {
        if (i + std::max(values, 0) > argc - 1) line.refused = true;
        for (const int last = std::min(i + std::max(values, 0), argc - 1); i < last;) line.options.push_back(argv[++i]);
      }
      continue;
    }
    if (CLI::detail::split_short(arg, name, value) && !(name[0] >= '0' && name[0] <= '9')) {
      // The read commands' only short option is -h: `-h` alone is the help, any longer word a
      // minus word (CLI11 reads `-hemi` as -h -e -m -i).
      const CLI::Option* option = command.get_option_no_throw("-" + name);
      if (option != nullptr && value.empty()) {
        if (option == command.get_help_ptr()) line.help = true;
        line.options.push_back(arg);
        continue;
      }
      if (line.minus_word.empty()) line.minus_word = arg;
    }
    line.words.push_back(arg);
  }
  for (; i < argc; ++i) line.words.push_back(argv[i]);
  return line;
}

// A word as a POSIX shell reads it back: in single quotes unless it is plain.
std::string shell_word(const std::string& word) {
  const bool plain = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || std::string_view("-_.,:/+@%=").find(c) != std::string_view::npos;
  });
  if (plain) return word;
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// What to do instead of a minus word before `--`, or nothing (none, or a help asked for).
std::string minus_word_message(const std::string& command, const ReadCommandLine& line) {
  if (line.minus_word.empty() || line.help) return {};
  const std::string what = command == "search"    ? "a query word that starts with '-' (an excluded word)"
                           : command == "suggest" ? "text that starts with '-'"
                                                  : "an id that starts with '-'";
  // With the options as given (`--db DIR` left out of it, the example searched another index).
  std::string example = "mssearch " + command;
  for (const auto& o : line.options) example += " " + shell_word(o);
  example += " --";
  for (const auto& w : line.words) example += " " + shell_word(w);
  return fmt::format("'{}' is no option: {} goes after `--`, which ends the options (they go before it): `{}`",
                     line.minus_word, what, example);
}

}  // namespace

}  // namespace mssearch::cli

namespace {

// What --json promises for an error: one JSON object on stdout.
void print_json_error(std::string_view code, const std::string& message) {
  fmt::print("{}\n", nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// `code`, or exit 2 when what was printed could not be written: a nightly job whose log's disk
// was full (`index --json > /dev/full`) exited 0, its summary line lost and nothing said.
int output_written(int code) {
  std::cout.flush();
  errno = 0;
  if (std::fflush(stdout) == 0 && std::ferror(stdout) == 0 && std::cout) return code;
  const int why = errno;
  if (!mssearch::cli::output_failure_said)
    fmt::print(stderr, "mssearch: cannot write to standard output: {}{}\n", mssearch::cli::standard_output_failure(why),
               mssearch::cli::work_done.empty() ? "" : "; " + mssearch::cli::work_done);
  return mssearch::cli::kExitFatal;
}

}  // namespace

// A defect, not the input's fault: said as an error with an exit code, not an abort (as a JSON
// error when --json was asked for).
static int internal_error(int argc, char** argv, std::string_view what) {
  using namespace mssearch::cli;
  const std::string message = fmt::format("internal error: {}", what);
  char** const options_end = std::find_if(argv + 1, argv + argc, [](const char* a) { return std::string_view(a) == "--"; });
  if (std::any_of(argv + 1, options_end, [](const char* a) { return std::string_view(a) == "--json"; }))
    print_json_error("internal_error", message);
  else
    fmt::print(stderr, "mssearch: {}\n", printable(message));
  return kExitFatal;
}

static int run_command(int argc, char** argv) {
  using namespace mssearch::cli;
  // Over a file-size limit (ulimit -f), fail the write with EFBIG and report it, rather than
  // being killed by SIGXFSZ without a word.
  std::signal(SIGXFSZ, SIG_IGN);
  // A closed pipe (`mssearch search fatigue | head -c1`) fails the write with EPIPE, said and
  // exit 2 as any output that cannot be written, not a silent death by SIGPIPE (exit 141); nor
  // is an index job killed by it part way.
  std::signal(SIGPIPE, SIG_IGN);
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
      if (std::any_of(argv + 1, argv + argc, [](const char* a) { return std::string_view(a) == "--json"; }))
        print_json_error("bad_parameter", message);
      else
        fmt::print(stderr, "mssearch: {}\n", printable(message));  // the command as typed, escapes and all
      return kExitFatal;
    }
  }
  // The arguments CLI11 parses: a read command's as `COMMAND OPTIONS… -- WORDS…` (below).
  std::vector<std::string> arguments;
  std::vector<char*> arguments_argv;
  if (argc > 2 && (std::string_view(argv[1]) == "search" || std::string_view(argv[1]) == "suggest" ||
                   std::string_view(argv[1]) == "related")) {
    const std::string command = argv[1];
    const ReadCommandLine line = read_command_line(*app.get_subcommand(command), argc, argv);
    // One id: more words were refused by CLI11 naming a `--` never typed (`related a b`: "The
    // following arguments were not expected: b --", the `--` this rewriting adds below).
    std::string message = minus_word_message(command, line);
    if (message.empty() && command == "related" && line.words.size() > 1 && !line.help)
      message = fmt::format("related takes one article id, not {} words ('{}'): an id has no spaces", line.words.size(),
                            fmt::join(line.words, " "));
    if (!message.empty()) {
      if (line.json)
        print_json_error("bad_parameter", message);
      else
        std::cerr << "mssearch " << command << ": " << printable(message) << '\n';
      return kExitFatal;
    }
    // CLI11 (2.1) takes a `--` after the first query word for the end of the command's
    // arguments: `search brain -- -fatigue` was refused ("The following argument was not
    // expected: -fatigue"), as was `search --database DIR -- -fatigue` (the repeatable option
    // ate the `--`). Its words, in order, all after one `--`, are what it was asked.
    // A query's words are one argument, joined as the command joins them: CLI11 read one in
    // square brackets as a list (`[fatigue, sleep]` searched "fatigue  sleep"; helper-89), which
    // a single-argument query does not (`allow_extra_args(false)`).
    if (!line.words.empty() && !line.refused) {
      arguments = {argv[0], command};
      arguments.insert(arguments.end(), line.options.begin(), line.options.end());
      arguments.emplace_back("--");
      if (command == "related") {
        arguments.insert(arguments.end(), line.words.begin(), line.words.end());
      } else {
        arguments.push_back(fmt::format("{}", fmt::join(line.words, " ")));
        app.get_subcommand(command)->get_option(command == "search" ? "query" : "prefix")->allow_extra_args(false);
      }
      for (auto& a : arguments) arguments_argv.push_back(a.data());
      arguments_argv.push_back(nullptr);
      argc = static_cast<int>(arguments.size());
      argv = arguments_argv.data();
    }
  }
  // No command at all: the commands listed (it said only "A subcommand is required"), exit 2.
  if (argc == 1) {
    std::cerr << app.help() << "A command is required: one of the above, e.g. `mssearch search brain fog`.\n";
    return kExitFatal;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11's message quotes the argument it refused: written line by line through printable().
    std::ostringstream refused;
    const int rc = app.exit(e, std::cout, refused);
    // A script that asked for --json reads one JSON object on stdout, also for an argument
    // refused here (`--limit 1000`, an unknown --sort), and nothing else: a nightly job's log
    // (`--json -q >>log 2>&1`) got CLI11's two lines of text before it. Only options count:
    // after "--" every argument is a positional one (a query word "--json").
    char** const options_end = std::find_if(argv + 1, argv + argc, [](const char* a) { return std::string_view(a) == "--"; });
    if (rc != 0 && std::any_of(argv + 1, options_end, [](const char* a) { return std::string_view(a) == "--json"; })) {
      print_json_error("bad_parameter", e.what());
    } else {
      std::istringstream lines(refused.str());
      for (std::string line; std::getline(lines, line);) std::cerr << printable(line) << '\n';
    }
    return rc == 0 ? kExitOk : kExitFatal;
  } catch (const std::system_error& e) {
    // A write that failed (a closed pipe, a full disk: fmt throws), not a defect: said as output
    // that cannot be written (it said "internal error: cannot write to file: Broken pipe").
    const int why = e.code().value();
    if (e.code().category() != std::generic_category() && e.code().category() != std::system_category()) throw;
    if (why != EPIPE && why != ENOSPC && why != EIO && why != EFBIG && why != EBADF && why != EDQUOT) throw;
    fmt::print(stderr, "mssearch: cannot write to standard output: {}{}\n", standard_output_failure(why),
               work_done.empty() ? "" : "; " + work_done);
    output_failure_said = true;
    return kExitFatal;
  } catch (const std::exception& e) {
    return internal_error(argc, argv, e.what());
  } catch (const Xapian::Error& e) {
    // Xapian's errors are no std::exception: one that escaped was caught by main alone, which
    // said nothing (one `tcp://` database: exit 2, not a word on stdout or stderr; helper-100).
    return internal_error(argc, argv, e.get_description());
  }
  return exit_code;
}

int main(int argc, char** argv) {
  // A message that cannot be written either (stderr on a full disk too): fmt throws, and an
  // exception out of main aborted (SIGABRT, a core dump) where exit 2 was due.
  mssearch::cli::hold_standard_files();
  int code = mssearch::cli::kExitFatal;
  try {
    code = run_command(argc, argv);
  } catch (...) {
    // Said when it can be (a message that cannot be written is why most get here).
    try {
      fmt::print(stderr, "mssearch: internal error: an exception of no known type\n");
    } catch (...) {
    }
  }
  try {
    return output_written(code);
  } catch (...) {
    return mssearch::cli::kExitFatal;
  }
}
