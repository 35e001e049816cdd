// mssearch: full-text search for plain-language summaries of MS research.
#include <csignal>
#include <cstdlib>

#include <fmt/format.h>

#include "cli/commands.h"

namespace mssearch::cli {

std::string default_db_path() {
  const char* env = std::getenv("MSSEARCH_DB");
  return env != nullptr && *env != '\0' ? env : "data/index";
}

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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitFatal;
  }
  return exit_code;
}
