#include "indexer/article_reader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "indexer/markdown_text.h"

namespace mssearch {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

int line_at(std::string_view text, std::size_t offset) {
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(
                                                                          std::min(offset, text.size())),
                                         '\n'));
}

std::string bytes_text(std::size_t bytes) {
  return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB";
}

// YAML -> JSON, scalars as strings. Aliases are followed, so a node budget bounds the work.
struct YamlConverter {
  std::size_t budget;
  bool exhausted = false;

  json convert(const YAML::Node& node, int depth) {
    if (budget == 0 || depth > 32) {
      exhausted = true;
      return nullptr;
    }
    --budget;
    switch (node.Type()) {
      case YAML::NodeType::Scalar: return node.Scalar();
      case YAML::NodeType::Sequence: {
        json arr = json::array();
        for (const auto& child : node) {
          arr.push_back(convert(child, depth + 1));
          if (exhausted) break;
        }
        return arr;
      }
      case YAML::NodeType::Map: {
        json obj = json::object();
        for (const auto& kv : node) {
          obj[kv.first.IsScalar() ? kv.first.Scalar() : std::string("?")] =
              convert(kv.second, depth + 1);
          if (exhausted) break;
        }
        return obj;
      }
      default: return nullptr;
    }
  }
};

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 200) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.';
  });
}

bool valid_date(std::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (d[i] < '0' || d[i] > '9') return false;
  const int y = std::stoi(std::string(d.substr(0, 4)));
  const unsigned m = static_cast<unsigned>(std::stoi(std::string(d.substr(5, 2))));
  const unsigned day = static_cast<unsigned>(std::stoi(std::string(d.substr(8, 2))));
  return std::chrono::year_month_day{std::chrono::year{y}, std::chrono::month{m},
                                     std::chrono::day{day}}
      .ok();
}

// Shared by both formats: turns the fields of one article into an Article, or says which
// field is wrong. `line_of(key)` gives the line to report for a field.
std::expected<Article, ReadError> article_from_fields(const json& fields,
                                                      const std::function<int(const char*)>& line_of,
                                                      const std::string& source,
                                                      const std::string& default_id,
                                                      const std::string& body) {
  Article a;
  a.source = source;
  auto error = [&](const char* key, std::string message) {
    return std::unexpected(ReadError{source, line_of(key), std::move(message), a.id});
  };
  auto scalar = [&](const char* key, std::string& out) -> bool {
    if (!fields.contains(key) || fields[key].is_null()) return true;
    const json& v = fields[key];
    if (v.is_string()) out = v.get<std::string>();
    else if (v.is_number() || v.is_boolean()) out = v.dump();
    else return false;
    return true;
  };

  std::string id = default_id;
  if (!scalar("id", id)) return error("id", "'id' must be a string");
  a.id = id;
  if (!valid_id(id))
    return error("id", "invalid id '" + id + "': use letters, digits, '-', '_' or '.'");

  if (!scalar("title", a.title)) return error("title", "'title' must be a string");
  if (a.title.empty()) return error("title", "missing required field 'title'");

  if (!scalar("date", a.date)) return error("date", "'date' must be a string YYYY-MM-DD");
  if (a.date.empty()) return error("date", "missing required field 'date'");
  if (!valid_date(a.date))
    return error("date", "bad date '" + a.date + "': expected an ISO date YYYY-MM-DD");

  if (fields.contains("topics") && !fields["topics"].is_null()) {
    const json& t = fields["topics"];
    if (!t.is_array()) return error("topics", "'topics' must be a list, e.g. [Astrocytes, Demyelination]");
    for (const auto& topic : t) {
      if (!topic.is_string() || topic.get<std::string>().empty())
        return error("topics", "every topic must be a non-empty string");
      a.topics.push_back(topic.get<std::string>());
    }
  }
  if (!scalar("journal", a.journal)) return error("journal", "'journal' must be a string");
  if (!scalar("takeaway", a.takeaway)) return error("takeaway", "'takeaway' must be a string");
  if (!scalar("url", a.url)) return error("url", "'url' must be a string");
  if (a.url.empty()) a.url = "/articles/" + a.id;

  for (const char* key : {"credibility", "interest"}) {
    std::string text;
    if (!scalar(key, text) || text.empty()) {
      if (!text.empty() || (fields.contains(key) && !fields[key].is_null()))
        return error(key, std::string("'") + key + "' must be an integer from 1 to 5");
      continue;
    }
    if (text.size() != 1 || text[0] < '1' || text[0] > '5')
      return error(key, std::string("'") + key + "' must be an integer from 1 to 5, not '" + text + "'");
    (std::string_view(key) == "credibility" ? a.credibility : a.interest) = text[0] - '0';
  }

  // The raw text was checked, but escapes decode afterwards (a YAML "\x.." or an odd "\_"):
  // what reaches the index must be valid UTF-8 without NUL bytes too. (Found by fuzz_article.)
  const std::pair<const char*, const std::string*> strings[] = {
      {"id", &a.id}, {"title", &a.title}, {"journal", &a.journal}, {"takeaway", &a.takeaway}, {"url", &a.url}};
  for (const auto& [key, value] : strings)
    if (find_invalid_utf8(*value) != std::string::npos)
      return error(key, std::string("'") + key + "' is not valid UTF-8 once its escapes are decoded");
  for (const auto& topic : a.topics)
    if (find_invalid_utf8(topic) != std::string::npos)
      return error("topics", "a topic is not valid UTF-8 once its escapes are decoded");

  set_body(a, body);
  return a;
}

std::string read_file(const fs::path& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open file";
    return {};
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) error = "read error";
  return ss.str();
}

}  // namespace

void set_body(Article& article, std::string markdown) {
  article.sections = markdown_sections(markdown);
  article.body_markdown = std::move(markdown);
  article.body_text.clear();
  for (const auto& s : article.sections) {
    if (!article.body_text.empty()) article.body_text += "\n\n";
    article.body_text += s.text;
  }
}


Result<std::vector<SourceFile>> find_sources(const std::vector<fs::path>& paths) {
  std::vector<SourceFile> out;
  auto add = [&](const fs::path& p) {
    const std::string ext = p.extension().string();
    const std::string name = p.filename().string();
    if (name.starts_with('.') || name.starts_with('_') || name == "README.md") return;
    if (ext != ".md" && ext != ".markdown" && ext != ".jsonl") return;
    std::error_code ec;
    out.push_back({p, fs::weakly_canonical(fs::absolute(p), ec).string(), ext == ".jsonl"});
  };
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec), end;
      if (ec) return fail(ErrorCode::kIo, p.string() + ": " + ec.message());
      for (; it != end; it.increment(ec)) {
        if (ec) return fail(ErrorCode::kIo, p.string() + ": " + ec.message());
        if (it->path().filename().string().starts_with('.') && it->is_directory()) {
          it.disable_recursion_pending();
          continue;
        }
        if (it->is_regular_file(ec)) add(it->path());
      }
    } else if (fs::is_regular_file(p, ec)) {
      const std::string ext = p.extension().string();
      if (ext != ".md" && ext != ".markdown" && ext != ".jsonl")
        return fail(ErrorCode::kIo, p.string() + ": not an article source (expected .md, .markdown or .jsonl)");
      std::error_code ec2;
      out.push_back({p, fs::weakly_canonical(fs::absolute(p), ec2).string(), ext == ".jsonl"});
    } else {
      return fail(ErrorCode::kIo, p.string() + ": no such file or directory");
    }
  }
  std::sort(out.begin(), out.end(),
            [](const SourceFile& a, const SourceFile& b) { return a.absolute < b.absolute; });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const SourceFile& a, const SourceFile& b) { return a.absolute == b.absolute; }),
            out.end());
  return out;
}

std::expected<Article, ReadError> parse_markdown_article(std::string_view content,
                                                         const std::string& source,
                                                         const std::string& default_id,
                                                         const ReaderLimits& limits) {
  auto whole_file = [&](int line, std::string message) {
    return std::unexpected(ReadError{source, line, std::move(message), ""});
  };
  if (content.size() > limits.max_article_bytes)
    return whole_file(0, "article is " + bytes_text(content.size()) + ", over the limit of " +
                             bytes_text(limits.max_article_bytes));
  if (auto bad = find_invalid_utf8(content); bad != std::string_view::npos)
    return whole_file(line_at(content, bad),
                      content[bad] == '\0' ? "contains a NUL byte"
                                           : "invalid UTF-8 (byte offset " + std::to_string(bad) + ")");
  if (content.starts_with("\xEF\xBB\xBF")) content.remove_prefix(3);

  // Front matter: between a first line '---' and the next line '---' (or '...').
  auto first_nl = content.find('\n');
  std::string_view first = content.substr(0, first_nl);
  if (first.ends_with('\r')) first.remove_suffix(1);
  if (first != "---")
    return whole_file(1, "missing YAML front matter: the file must start with a line '---'");
  std::size_t pos = first_nl == std::string_view::npos ? content.size() : first_nl + 1;
  std::size_t front_end = std::string_view::npos, body_start = content.size();
  for (std::size_t p = pos; p < content.size();) {
    std::size_t nl = content.find('\n', p);
    std::string_view line = content.substr(p, nl == std::string_view::npos ? nl : nl - p);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line == "---" || line == "...") {
      front_end = p;
      body_start = nl == std::string_view::npos ? content.size() : nl + 1;
      break;
    }
    if (nl == std::string_view::npos) break;
    p = nl + 1;
  }
  if (front_end == std::string_view::npos)
    return whole_file(1, "front matter is not closed: add a line '---' after it");
  const std::string front(content.substr(pos, front_end - pos));

  YAML::Node root;
  try {
    root = YAML::Load(front);
  } catch (const YAML::Exception& e) {
    return whole_file(e.mark.line + 2, "YAML syntax error at line " + std::to_string(e.mark.line + 2) +
                                           ", column " + std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  if (!root.IsMap()) return whole_file(2, "front matter must be a YAML mapping of fields");

  YamlConverter converter{limits.max_yaml_nodes};
  json fields = json::object();
  std::map<std::string, int> lines;
  for (const auto& kv : root) {
    if (!kv.first.IsScalar()) continue;
    lines[kv.first.Scalar()] = kv.first.Mark().line + 2;
    fields[kv.first.Scalar()] = converter.convert(kv.second, 0);
  }
  if (converter.exhausted)
    return whole_file(2, "front matter too large or too deeply nested (YAML aliases?): over " +
                             std::to_string(limits.max_yaml_nodes) + " nodes");
  auto line_of = [&](const char* key) {
    auto it = lines.find(key);
    return it == lines.end() ? 1 : it->second;
  };
  return article_from_fields(fields, line_of, source, default_id,
                             std::string(content.substr(body_start)));
}

std::expected<Article, ReadError> parse_jsonl_article(std::string_view record,
                                                      const std::string& source, int line,
                                                      const ReaderLimits& limits) {
  auto failed = [&](std::string message, std::string id = "") {
    return std::unexpected(ReadError{source, line, std::move(message), std::move(id)});
  };
  if (record.size() > limits.max_article_bytes)
    return failed("record is " + bytes_text(record.size()) + ", over the limit of " +
                  bytes_text(limits.max_article_bytes));
  if (auto bad = find_invalid_utf8(record); bad != std::string_view::npos)
    return failed(record[bad] == '\0' ? "contains a NUL byte"
                                      : "invalid UTF-8 at column " + std::to_string(bad + 1));
  json fields;
  try {
    fields = json::parse(record);
  } catch (const json::exception& e) {  // syntax errors, and numbers out of range (1e999)
    return failed(std::string("invalid JSON: ") + e.what());
  }
  if (!fields.is_object()) return failed("each line must be one JSON object");
  std::string body;
  if (fields.contains("body")) {
    if (!fields["body"].is_string())
      return failed("'body' must be a string", fields.value("id", ""));
    body = fields["body"].get<std::string>();
  }
  const json id = fields.contains("id") ? fields["id"] : json();
  if (!id.is_string()) return failed("missing required field 'id' (a JSONL record has no file name)");
  return article_from_fields(fields, [line](const char*) { return line; }, source,
                             id.get<std::string>(), body);
}

void read_source(const SourceFile& file, ReadBatch& batch, const ReaderLimits& limits) {
  const std::string source = file.path.string();
  std::string io_error;
  const std::string content = read_file(file.path, io_error);
  if (!io_error.empty()) {
    batch.errors.push_back({source, 0, io_error, ""});
    batch.broken_sources.insert(file.absolute);
    return;
  }
  auto take = [&](std::expected<Article, ReadError> result) {
    if (result) {
      result->source = file.absolute;
      batch.articles.push_back(std::move(*result));
    } else {
      if (result.error().id.empty()) batch.broken_sources.insert(file.absolute);
      batch.errors.push_back(std::move(result.error()));
    }
  };
  if (!file.jsonl) {
    take(parse_markdown_article(content, source, file.path.stem().string(), limits));
    return;
  }
  std::string_view rest = content;
  int line = 0;
  while (!rest.empty()) {
    ++line;
    const auto nl = rest.find('\n');
    std::string_view record = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    if (record.ends_with('\r')) record.remove_suffix(1);
    if (record.find_first_not_of(" \t") == std::string_view::npos) continue;
    take(parse_jsonl_article(record, source, line, limits));
  }
}

}  // namespace mssearch
