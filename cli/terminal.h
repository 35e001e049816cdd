// Terminal output for the CLI: colour only on a terminal (and never with NO_COLOR set), a
// progress bar on stderr, and snippets' marks as ANSI highlighting.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>

#include "searcher/search_types.h"

namespace mssearch::cli {

bool colour_enabled(std::FILE* stream);

// Text from outside (a recorded query, an article's id or field name in an error) as a terminal
// may show it: the control characters the server strips (control_char_length: C0, DEL, C1)
// written as \xNN with their code point, a byte that is not part of a well-formed UTF-8
// character as \xNN too (a lone 0x9B is CSI to a terminal in 8-bit mode), and \ as \\.
std::string printable(std::string_view text);

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
