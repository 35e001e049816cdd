// Terminal output for the CLI: colour only on a terminal (and never with NO_COLOR set), a
// progress bar on stderr, and snippets' marks as ANSI highlighting.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>

#include "schema/utf8.h"
#include "searcher/search_types.h"

namespace mssearch::cli {

bool colour_enabled(std::FILE* stream);

// printable() (schema/utf8.h): text from outside as a terminal may show it.
using mssearch::printable;

// A snippet with its marked words in bold yellow (ESC[1;33m … ESC[0m), or plain without colour.
std::string snippet_for_terminal(const Highlighted& snippet, bool colour);

// Progress bar with rate and ETA, redrawn at most every 100 ms; a no-op when stderr is not a
// terminal.
class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  ~ProgressBar();
  void update(std::size_t done, std::size_t total);
  // Erases the bar, if drawn: before anything else is printed, which would otherwise begin on
  // the bar's line.
  void clear();

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace mssearch::cli
