// The mssearch subcommands. Each registers itself on the CLI11 app and, when chosen, sets the
// process exit code (see README "Exit codes").
#pragma once

#include <CLI/CLI.hpp>

namespace mssearch::cli {

// Exit codes shared by every subcommand.
enum ExitCode : int {
  kExitOk = 0,
  kExitPartial = 1,   // index: some articles failed; search: no hits; eval: below a floor
  kExitFatal = 2,     // nothing done: bad arguments, missing index, database error
  kExitLocked = 3,    // index: another index job holds the index
};

std::string default_db_path();  // $MSSEARCH_DB or "data/index"

// Standard input, output and error held open (main does it first): one closed (`>&-`) could be
// the next file opened (serve's listening socket took stdout's place, and its lines went there).
// A closed stdout writes to /dev/full, so that its output fails as it would have, and is named so.
void hold_standard_files();
// Why standard output could not be written, from the errno of the failed write.
std::string standard_output_failure(int why);
// What the command did that stands whatever its output (an index job's commit): said after the
// failure to write its output, which is exit 2 ("nothing changed" to an index job's caller).
void note_work_done(std::string what);

// For an option naming a file or directory: '' is refused by name ("--db: the path is empty"),
// not taken for the current directory (`index --db ''` failed with "internal error: cannot make
// absolute path", `serve --config ''` served the defaults, `search --db ''` said "no index at :").
// Options where '' means "none" (--synonyms, --analytics) do not use it.
const CLI::Validator& path_not_empty();
// A whole number from lo to hi, said so of anything else ("must be a whole number from 1 to 100, not 'abc'").
CLI::Validator whole_number(long long lo, long long hi);

void add_index_command(CLI::App& app, int& exit_code);
void add_stats_command(CLI::App& app, int& exit_code);
void add_check_command(CLI::App& app, int& exit_code);
void add_search_command(CLI::App& app, int& exit_code);
void add_eval_command(CLI::App& app, int& exit_code);
void add_serve_command(CLI::App& app, int& exit_code);
void add_analytics_command(CLI::App& app, int& exit_code);

}  // namespace mssearch::cli
