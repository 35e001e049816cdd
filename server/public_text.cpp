#include "server/public_text.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <optional>
#include <set>
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

// A local database's parts (path_parts), and how many of its last parts a name may show: all but
// the first of the path as given, and at least the last. The first is where the server's files
// sit (`/srv`, `/home`), and a relative path's parts above it are the working directory's.
struct LocalPath {
  std::vector<std::string> parts;
  std::size_t most = 1;
};

LocalPath local_path(std::string_view path) {
  LocalPath out{path_parts(path), 1};
  // The parts as given (`..` ahead of them names no folder: `../index` gives one part).
  std::size_t given = 0;
  for (const auto& part : std::filesystem::path(path).lexically_normal().relative_path())
    if (!part.empty() && part != "." && part != "..") ++given;
  out.most = std::min(std::max<std::size_t>(given, 2) - 1, std::max<std::size_t>(out.parts.size(), 1));
  return out;
}

// "…/" and the fewest last parts of `mine` that no other path of `all` ends with (one more than
// the parts they end with alike), at most mine.most of them.
std::string shown_parts(const LocalPath& mine, const std::vector<LocalPath>& all) {
  std::size_t shown = 1;
  for (const auto& other : all) {
    if (other.parts == mine.parts) continue;
    std::size_t alike = 0;
    while (alike < mine.parts.size() && alike < other.parts.size() &&
           mine.parts[mine.parts.size() - 1 - alike] == other.parts[other.parts.size() - 1 - alike])
      ++alike;
    shown = std::max(shown, alike + 1);
  }
  shown = std::min(shown, mine.most);
  std::string out(kEllipsis);
  for (std::size_t i = mine.parts.size() - shown; i < mine.parts.size(); ++i)
    out += (i + shown == mine.parts.size() ? "" : "/") + mine.parts[i];
  return out;
}

}  // namespace

std::string public_database_name(std::string_view spec, const std::vector<std::string>& among) {
  if (spec.empty() || remote(spec)) return std::string(spec);
  const LocalPath mine = local_path(spec);
  if (mine.parts.empty()) return std::string(kEllipsis) + std::string(last_part(spec));
  // Each local database of `among` once (`index`, `./index/` and its absolute path are one), in
  // its order, `spec` among them (last when it is not given).
  std::vector<LocalPath> all;
  std::optional<std::size_t> me;
  for (const auto& other : among) {
    if (other.empty() || remote(other)) continue;
    LocalPath path = local_path(other);
    if (path.parts.empty()) continue;
    const auto same = std::find_if(all.begin(), all.end(), [&](const LocalPath& p) { return p.parts == path.parts; });
    if (!me && path.parts == mine.parts) me = static_cast<std::size_t>(same - all.begin());
    if (same == all.end()) all.push_back(std::move(path));
  }
  if (!me) {
    me = all.size();
    all.push_back(mine);
  }
  std::vector<std::string> names;
  for (const auto& path : all) names.push_back(shown_parts(path, all));
  // Two that differ only in parts a name may not show (`/a/x/index` beside `/b/x/index`): the
  // first in `among` keeps the name, the next are "…/x/index#2", "#3", each a name that no
  // other database has.
  const std::set<std::string> plain(names.begin(), names.end());
  std::set<std::string> named;
  for (std::size_t i = 0;; ++i) {
    std::string name = names[i];
    for (int n = 2; named.contains(name) || (n > 2 && plain.contains(name)); ++n)
      name = names[i] + "#" + std::to_string(n);
    if (i == *me) return name;
    named.insert(std::move(name));
  }
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
