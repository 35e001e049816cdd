#include "server/public_text.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace mssearch {
namespace {

constexpr std::string_view kEllipsis = "…/";

// A character a path may hold where a known path's match must not end (`/data/db` is not the
// start of `/data/db2`).
bool path_character(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
         (static_cast<unsigned char>(c) & 0x80) != 0;
}

// The last part of a path, without the slashes after it ("" for "/").
std::string_view last_part(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool remote(std::string_view spec) { return spec.find("://") != std::string_view::npos; }

// Where an absolute path may begin in a message: at its start, or after a space, a quote or a
// bracket ("at /x", "'/x'", "(/x)", "--db=/x"); not inside a word or an address ("a/b", "tcp://").
bool path_may_start(std::string_view text, std::size_t at) {
  if (text[at] != '/' || at + 1 >= text.size()) return false;
  const char next = text[at + 1];
  if (next == ' ' || next == '\t' || next == '\n' || next == '/') return false;
  if (at == 0) return true;
  return std::strchr(" \t\n'\"`([{<=,;", text[at - 1]) != nullptr;
}

// Where that path ends: at a space, a quote or a closing bracket, a ", " or ": ", or the end; a
// sentence's full stop is not the path's.
std::size_t path_end(std::string_view text, std::size_t at) {
  std::size_t end = at;
  while (end < text.size()) {
    const char c = text[end];
    if (std::strchr(" \t\n'\"`)]}>;", c) != nullptr) break;
    if ((c == ':' || c == ',') && (end + 1 == text.size() || text[end + 1] == ' ')) break;
    ++end;
  }
  while (end > at + 1 && text[end - 1] == '.' && (end == text.size() || text[end] == ' ')) --end;
  return end;
}

// A local path's parts, made absolute and normal (`index`, `./index/` and `/srv/index` are one
// database when the server runs in /srv), without the root.
std::vector<std::string> path_parts(std::string_view path) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(std::filesystem::path(path), ec);
  if (ec) p = std::filesystem::path(path);
  std::vector<std::string> parts;
  for (const auto& part : p.lexically_normal().relative_path())
    if (!part.empty()) parts.push_back(part.string());
  return parts;
}

}  // namespace

std::string public_database_name(std::string_view spec, const std::vector<std::string>& among) {
  if (spec.empty() || remote(spec)) return std::string(spec);
  const std::vector<std::string> mine = path_parts(spec);
  if (mine.empty()) return std::string(kEllipsis) + std::string(last_part(spec));
  // The fewest last parts no other path ends with: one more than the parts they end with alike.
  std::size_t shown = 1;
  for (const auto& other : among) {
    if (other.empty() || remote(other)) continue;
    const std::vector<std::string> theirs = path_parts(other);
    if (theirs == mine) continue;  // the same database, given again
    std::size_t alike = 0;
    while (alike < mine.size() && alike < theirs.size() && mine[mine.size() - 1 - alike] == theirs[theirs.size() - 1 - alike])
      ++alike;
    shown = std::max(shown, std::min(alike + 1, mine.size()));
  }
  std::string out(kEllipsis);
  for (std::size_t i = mine.size() - shown; i < mine.size(); ++i) out += (i + shown == mine.size() ? "" : "/") + mine[i];
  return out;
}

std::string without_paths(std::string_view text, const std::vector<std::string>& known) {
  // The configured paths as given and made absolute, longest first (a shard's folder inside the
  // index's is replaced as itself), each with its name as given.
  std::vector<std::pair<std::string, std::string>> paths;  // a form of a path, its public name
  for (const auto& k : known) {
    if (k.empty() || remote(k)) continue;
    std::string given = k;
    while (given.size() > 1 && given.back() == '/') given.pop_back();
    const std::string name = public_database_name(given, known);
    // A bare name (`--db index`) discloses no folder, and as a word it is in other text too
    // (`date:index`, "no index at", "stored data"): only its absolute forms are cut.
    if (given.find('/') != std::string::npos) paths.emplace_back(given, name);
    std::error_code ec;
    for (const auto& other : {std::filesystem::absolute(given, ec), std::filesystem::weakly_canonical(given, ec)})
      // (weakly_canonical of a relative name that does not exist is that name, not absolute)
      if (!ec && other.is_absolute()) paths.emplace_back(other.lexically_normal().string(), name);
  }
  std::sort(paths.begin(), paths.end(), [](const auto& a, const auto& b) {
    return a.first.size() != b.first.size() ? a.first.size() > b.first.size() : a.first < b.first;
  });
  paths.erase(std::unique(paths.begin(), paths.end(), [](const auto& a, const auto& b) { return a.first == b.first; }),
              paths.end());

  std::string out(text);
  for (const auto& [path, shown] : paths) {
    if (path == "/" || path == "." || last_part(path).empty()) continue;
    for (std::size_t at = out.find(path); at != std::string::npos; at = out.find(path, at)) {
      const std::size_t end = at + path.size();
      // A whole path only: not the middle of a longer name, nor a part of a path already cut.
      const bool starts = at == 0 || (!path_character(out[at - 1]) && out[at - 1] != '/');
      const bool ends = end == out.size() || !path_character(out[end]);
      if (!starts || !ends) {
        ++at;
        continue;
      }
      out.replace(at, path.size(), shown);
      at += shown.size();
    }
  }
  // Any other absolute path: its last part.
  std::string result;
  result.reserve(out.size());
  for (std::size_t at = 0; at < out.size();) {
    if (!path_may_start(out, at)) {
      result += out[at++];
      continue;
    }
    const std::size_t end = path_end(out, at);
    const std::string_view path = std::string_view(out).substr(at, end - at);
    result += public_database_name(path);
    at = end;
  }
  return result;
}

}  // namespace mssearch
