#include "cli/terminal.h"

#include <unistd.h>

#include <cstdlib>
#include <string_view>

#include <fmt/format.h>

namespace mssearch::cli {

namespace {

// A terminal that takes escape sequences: not a pipe or file, and not TERM=dumb (an Emacs
// shell, some CI logs).
bool escapes_shown(std::FILE* stream) {
  const char* term = std::getenv("TERM");
  return ::isatty(::fileno(stream)) != 0 && (term == nullptr || std::string_view(term) != "dumb");
}

}  // namespace

bool colour_enabled(std::FILE* stream) {
  const char* no_colour = std::getenv("NO_COLOR");
  return escapes_shown(stream) && (no_colour == nullptr || *no_colour == '\0');
}

std::string snippet_for_terminal(const Highlighted& snippet, bool colour) {
  if (!colour) return snippet.text;
  std::string out;
  std::size_t at = 0;
  for (const auto& mark : snippet.marks) {
    if (mark.begin < at || mark.end > snippet.text.size()) continue;
    out.append(snippet.text, at, mark.begin - at);
    out += "\x1b[1;33m";
    out.append(snippet.text, mark.begin, mark.end - mark.begin);
    out += "\x1b[0m";
    at = mark.end;
  }
  out.append(snippet.text, at);
  return out;
}

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)),
      // Redrawn with an erase-line escape: not on a dumb terminal (NO_COLOR is about colour only).
      enabled_(escapes_shown(stderr)),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() { clear(); }

void ProgressBar::clear() {
  if (drawn_) fmt::print(stderr, "\r\x1b[2K");
  std::fflush(stderr);
  drawn_ = false;
}

void ProgressBar::update(std::size_t done, std::size_t total) {
  if (!enabled_ || total == 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (done < total && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  drawn_ = true;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
  const double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0;
  constexpr std::size_t kWidth = 30;
  const std::size_t filled = kWidth * done / total;
  fmt::print(stderr, "\r{} [{:=<{}}{: <{}}] {}/{} {:.0f}/s ETA {:.0f}s", label_, "", filled, "",
             kWidth - filled, done, total, rate, eta);
  std::fflush(stderr);
}

}  // namespace mssearch::cli
