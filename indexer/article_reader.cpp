#include "indexer/article_reader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <optional>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include "indexer/markdown_text.h"
#include "schema/edit_distance.h"
#include "schema/schema.h"
#include "schema/utf8.h"

namespace mssearch {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

int line_at(std::string_view text, std::size_t offset) {
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(
                                                                          std::min(offset, text.size())),
                                         '\n'));
}

// A size for messages: exact bytes when that is what tells (1,048,577 bytes against a limit
// of 1 MiB), MiB for large ones.
std::string bytes_text(std::size_t bytes) {
  if (bytes >= (16u << 20)) return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB";
  if (bytes % (1 << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  return fmt::format("{} bytes", bytes);
}

// At most `max` bytes of `text`, not cutting a UTF-8 sequence, for messages.
std::string utf8_prefix(std::string_view text, std::size_t max) {
  if (text.size() <= max) return std::string(text);
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

// YAML -> JSON, scalars as strings. Aliases are followed, so a node budget bounds the work.
struct YamlConverter {
  std::size_t budget;
  bool exhausted = false;
  // The first tag met that is not one of YAML's plain types (`!!binary aGVsbG8=` was indexed
  // as the text "aGVsbG8=", without a word), and its line (0-based, in the front matter).
  std::string foreign_tag;
  int foreign_tag_line = 0;

  json convert(const YAML::Node& node, int depth) {
    if (budget == 0 || depth > 32) {
      exhausted = true;
      return nullptr;
    }
    --budget;
    if (const std::string& tag = node.Tag(); foreign_tag.empty() && !plain_tag(tag)) {
      foreign_tag = tag.starts_with("tag:yaml.org,2002:") ? "!!" + tag.substr(18) : tag;
      foreign_tag_line = node.Mark().line;
    }
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

  // No tag (`?`, `!` for a quoted scalar) or one of the types the fields are read as anyway
  // (`!!timestamp 2025-05-27` is the date as written, and was indexed so).
  static bool plain_tag(std::string_view tag) {
    if (tag.empty() || tag == "?" || tag == "!") return true;
    for (std::string_view core : {"str", "int", "float", "bool", "null", "seq", "map", "timestamp"})
      if (tag.starts_with("tag:yaml.org,2002:") && tag.substr(18) == core) return true;
    return false;
  }
};

// The years an article may carry: those `/api/search?year=` accepts (server/request_params.cpp).
constexpr int kMinYear = 1900, kMaxYear = 2200;

// Whether text shows nothing: only white space (ASCII's, a no-break space, an ideographic
// space) and invisible format characters (zero-width space, joiners, direction marks).
bool blank(std::string_view text) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const auto length = static_cast<int32_t>(text.size());
  for (int32_t i = 0; i < length;) {
    UChar32 c;
    U8_NEXT(s, i, length, c);
    if (c < 0 || (!u_isUWhiteSpace(c) && u_charType(c) != U_FORMAT_CHAR)) return false;
  }
  return true;
}

// The fields an article may have. Another is ignored, with a warning naming the one it
// resembles (its first three letters): `topic:` is a typo of `topics:` that would otherwise
// index the article without its topics and say nothing.
// (`body` only in a JSON Lines record: a Markdown article's body follows its front matter.)
std::optional<std::string> unknown_field(const std::string& key, bool jsonl) {
  static constexpr std::string_view kKnown[] = {"id", "title", "date", "credibility", "interest", "takeaway",
                                                "topics", "journal", "url", "body"};
  const std::size_t known_count = std::size(kKnown) - (jsonl ? 0 : 1);
  for (std::size_t i = 0; i < known_count; ++i)
    if (key == kKnown[i]) return std::nullopt;
  std::string lower = key;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  // The nearest known name within a third of its letters (`tittle`, `Topcis`, `jounral`), or
  // one it begins like (`cred`, `publication_date` aside).
  std::size_t best = 0, best_edits = SIZE_MAX;
  for (std::size_t i = 0; i < known_count; ++i)
    if (const std::size_t e = edits_between(lower, kKnown[i]); e < best_edits) best = i, best_edits = e;
  if (best_edits <= std::max<std::size_t>(1, kKnown[best].size() / 3))
    return fmt::format("unknown field '{}' ignored: did you mean '{}'?", key, kKnown[best]);
  for (std::size_t i = 0; i < known_count; ++i)
    if (lower.size() >= 3 && kKnown[i].starts_with(std::string_view(lower).substr(0, 3)))
      return fmt::format("unknown field '{}' ignored: did you mean '{}'?", key, kKnown[i]);
  std::vector<std::string_view> names(kKnown, kKnown + known_count);
  return fmt::format("unknown field '{}' ignored (known: {})", key, fmt::join(names, ", "));
}

// A `url` that is this server's page of another article (`/articles/other` on `url`): results
// link there, to that article's page (a 404 when no article has that id). Read all the same.
std::optional<std::string> url_of_another_article(const Article& a) {
  constexpr std::string_view pages = "/articles/";
  if (!a.url.starts_with(pages)) return std::nullopt;
  const std::string_view rest = std::string_view(a.url).substr(pages.size());
  const std::string_view page = rest.substr(0, rest.find_first_of("?#"));
  if (page == a.id) return std::nullopt;
  return "'url' " + a.url + " is the page of " + (page.empty() ? std::string("no article") : "article '" + std::string(page) + "'") +
         ", not of this one ('" + a.id + "'): results will link there";
}

// Shared by both formats: turns the fields of one article into an Article, or says which
// field is wrong. `line_of(key)` gives the line to report for a field.
std::expected<Article, ReadError> article_from_fields(const json& fields,
                                                      const std::function<int(const char*)>& line_of,
                                                      const std::string& source,
                                                      const std::string& default_id,
                                                      const std::string& body,
                                                      const ReaderLimits& limits) {
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

  // A field over its limit: the message gives the size and the limit.
  auto too_long = [&](const char* key, std::size_t size, std::size_t limit) {
    return error(key, fmt::format("'{}' is {} bytes; the limit is {}", key, size, limit));
  };

  std::string id = default_id;
  if (!scalar("id", id)) return error("id", "'id' must be a string");
  // Blank is left out, as the README says (`id: ''` was refused as "invalid id ''").
  if (id.find_first_not_of(" \t") == std::string::npos) id = default_id;
  if (id.size() > limits.max_id_bytes) return too_long("id", id.size(), limits.max_id_bytes);
  a.id = id;
  if (!schema::valid_article_id(id)) {
    // Without an `id:` field the id is the file's name (`with space.md`): say what mends it.
    const bool from_file_name = !fields.contains("id") || fields["id"].is_null();
    return error("id", "invalid id '" + id + "': use letters, digits, '-', '_' or '.', starting with a letter or digit" +
                           (from_file_name ? std::string("; the id comes from the file name: add an 'id:' field to the "
                                                         "front matter, or rename the file")
                                           : std::string()));
  }

  // A one-line field's spaces around it and runs of spaces, tabs and line breaks in it are an
  // editor's typo or a YAML block (`title: |`): one space ("Fatigue " made a facet of its own
  // next to "Fatigue"; a title's line break split `mssearch search`'s result line; helper-91).
  const auto one_line = [](std::string_view text) { return spaces_as_one(text, true); };
  if (!scalar("title", a.title)) return error("title", "'title' must be a string");
  a.title = one_line(a.title);
  if (blank(a.title)) return error("title", "missing required field 'title'");
  if (a.title.size() > limits.max_title_bytes) return too_long("title", a.title.size(), limits.max_title_bytes);

  if (!scalar("date", a.date)) return error("date", "'date' must be a string YYYY-MM-DD");
  if (a.date.empty()) return error("date", "missing required field 'date'");
  if (!schema::is_iso_date(a.date)) {
    // In the form but no day of the calendar (2025-02-29, 2025-04-31): said so, not "expected
    // YYYY-MM-DD", which it is (helper-97).
    bool shaped = a.date.size() == 10;
    for (std::size_t i = 0; shaped && i < a.date.size(); ++i)
      shaped = (i == 4 || i == 7) ? a.date[i] == '-' : std::isdigit(static_cast<unsigned char>(a.date[i])) != 0;
    return error("date", "bad date '" + a.date + "': " + (shaped ? "no such day in the calendar" : "expected an ISO date YYYY-MM-DD"));
  }
  // The years the search API and the page's year filter accept (a typo such as 0205 or 2205
  // would otherwise be offered as a year facet that answers 400, or sort first by date forever).
  if (const int year = std::stoi(a.date.substr(0, 4)); year < kMinYear || year > kMaxYear)
    return error("date", fmt::format("bad date '{}': the year must be from {} to {}", a.date, kMinYear, kMaxYear));

  if (fields.contains("topics") && !fields["topics"].is_null()) {
    const json& t = fields["topics"];
    if (!t.is_array()) return error("topics", "'topics' must be a list, e.g. [Astrocytes, Demyelination]");
    if (t.size() > limits.max_topics)
      return error("topics", fmt::format("{} topics; the limit is {}", t.size(), limits.max_topics));
    std::set<std::string> filters;  // each topic's filter term (schema::topic_term)
    for (const auto& topic : t) {
      if (!topic.is_string()) return error("topics", "every topic must be a non-empty string");
      std::string name = one_line(topic.get_ref<const std::string&>());
      if (name.empty()) return error("topics", "every topic must be a non-empty string");
      if (name.size() > limits.max_topic_bytes)
        return error("topics", fmt::format("topic '{}…' is {} bytes; the limit is {}", utf8_prefix(name, 40),
                                           name.size(), limits.max_topic_bytes));
      // The same topic twice (`[Fatigue, fatigue]`): once, as first written. Its filter matches
      // both, so two would count the article twice in the topic's facet.
      if (filters.insert(schema::topic_term(name)).second) a.topics.push_back(std::move(name));
    }
  }
  if (!scalar("journal", a.journal)) return error("journal", "'journal' must be a string");
  a.journal = one_line(a.journal);
  if (a.journal.size() > limits.max_journal_bytes)
    return too_long("journal", a.journal.size(), limits.max_journal_bytes);
  if (!scalar("takeaway", a.takeaway)) return error("takeaway", "'takeaway' must be a string");
  if (a.takeaway.size() > limits.max_takeaway_bytes)
    return too_long("takeaway", a.takeaway.size(), limits.max_takeaway_bytes);
  if (!scalar("url", a.url)) return error("url", "'url' must be a string");
  if (a.url.size() > limits.max_url_bytes) return too_long("url", a.url.size(), limits.max_url_bytes);
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
    if (const auto bad = find_invalid_utf8(*value); bad != std::string::npos)
      return error(key, std::string("'") + key + "' " +
                            ((*value)[bad] == '\0' ? "contains a NUL character (U+0000) once its escapes are decoded"
                                                    : "is not valid UTF-8 once its escapes are decoded"));
  for (const auto& topic : a.topics)
    if (const auto bad = find_invalid_utf8(topic); bad != std::string::npos)
      return error("topics", topic[bad] == '\0' ? "a topic contains a NUL character (U+0000) once its escapes are decoded"
                                                 : "a topic is not valid UTF-8 once its escapes are decoded");
  // Control characters other than tab and line ends (ESC, BEL, backspace, C1 CSI…) would reach
  // a terminal as escape sequences through `mssearch search`, `suggest` and `stats`, and mean
  // nothing on a page: refused like a NUL byte, naming the character.
  // The length of a control character other than tab and line ends at `i` (1, or 2 for C1's
  // UTF-8), or 0.
  const auto control_at = [](std::string_view text, std::size_t i) -> std::size_t {
    const std::size_t n = control_char_length(text, i);
    return n != 0 && text[i] != '\t' && text[i] != '\n' && text[i] != '\r' ? n : 0;
  };
  auto control = [&](std::string_view text) -> std::optional<std::string> {
    for (std::size_t i = 0; i < text.size(); ++i)
      if (const std::size_t n = control_at(text, i); n != 0) {
        const unsigned code = n == 1 ? static_cast<unsigned char>(text[i]) : static_cast<unsigned char>(text[i + 1]);
        return fmt::format("U+{:04X}", code);
      }
    return std::nullopt;
  };
  for (const auto& [key, value] : strings)
    if (auto c = control(*value))
      return error(key, fmt::format("'{}' contains a control character ({})", key, *c));
  for (const auto& topic : a.topics)
    if (auto c = control(topic)) return error("topics", fmt::format("a topic contains a control character ({})", *c));
  // In the body (text pasted from a PDF brings form feeds) they are spaces: the article is
  // indexed, and nothing of it reaches a terminal or a page as a control.
  std::string clean_body;
  if (control(body)) {
    clean_body.reserve(body.size());
    for (std::size_t i = 0; i < body.size();) {
      if (const std::size_t n = control_at(body, i); n != 0) {
        clean_body += ' ';
        i += n;
      } else {
        clean_body += body[i++];
      }
    }
  }
  const std::string& text = clean_body.empty() ? body : clean_body;

  if (!is_link_url(a.url))
    return error("url", "'url' must be a path on the site (/articles/…) or an http(s) URL, not '" +
                            utf8_prefix(a.url, 60) + "'");
  // Folding can lengthen a name (ß -> ss): the terms themselves are checked too.
  if (auto term = schema::overlong_term(a))
    return error(term->first.c_str(), fmt::format("'{}' makes an index term of {} bytes; Xapian's limit is {}",
                                                  term->first, term->second.size(), schema::kMaxTermBytes));
  // Nothing of it is left out silently: HTML nested past the parser's depth lost its text.
  if (!set_body(a, text))
    return error("body", "the body holds HTML nested more than 256 elements deep; "
                         "its text past that depth would be left out: flatten the nesting");
  if (a.sections.size() > limits.max_sections)
    return error("body", fmt::format("the body has {} sections (headings); the limit is {}", a.sections.size(),
                                      limits.max_sections));
  return a;
}

// The whole of a file of at most `limit` bytes. Its size is checked before anything is read
// (and the read stops past the limit, should the file grow meanwhile): a 1 GiB file costs
// nothing. Errors say what failed, with the system's reason.
std::string read_bounded(const fs::path& path, std::size_t limit, std::string& error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    error = std::string("cannot open file: ") + std::strerror(errno);
    return {};
  }
  struct stat st {};
  std::string out;
  if (::fstat(fd, &st) != 0) {
    error = std::string("cannot read file: ") + std::strerror(errno);
  } else if (!S_ISREG(st.st_mode)) {
    error = "not a regular file";
  } else if (static_cast<std::size_t>(st.st_size) > limit) {
    error = "article is " + bytes_text(static_cast<std::size_t>(st.st_size)) + ", over the limit of " +
            bytes_text(limit);
  } else {
    out.resize(static_cast<std::size_t>(st.st_size) + 1);
    std::size_t got = 0;
    while (got < out.size()) {
      const ssize_t n = ::read(fd, out.data() + got, out.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        error = std::string("read error: ") + std::strerror(errno);
        break;
      }
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
    }
    out.resize(got);
    if (error.empty() && got > limit)
      error = "article is over the limit of " + bytes_text(limit) + " (it grew while being read)";
  }
  ::close(fd);
  if (!error.empty()) out.clear();
  return out;
}

// Reads a JSON Lines file one line at a time; a line over `limit` bytes is skipped to its end
// without being held, and reported.
class LineReader {
 public:
  LineReader(int fd, std::size_t limit) : fd_(fd), limit_(limit) {}
  ~LineReader() { ::close(fd_); }
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  enum class Got { kLine, kTooLong, kEnd, kError };
  // The next line (without its '\n') in `line`; kTooLong with its length in `too_long_bytes`.
  Got next(std::string& line, std::size_t& too_long_bytes, std::string& error) {
    line.clear();
    std::size_t length = 0;
    bool overflow = false;
    for (;;) {
      if (at_ == size_) {
        const ssize_t n = fill(error);
        if (n < 0) return Got::kError;
        if (n == 0) {
          if (length == 0 && !overflow) return Got::kEnd;
          break;  // a last line without '\n'
        }
      }
      const char* begin = buffer_.data() + at_;
      const char* nl = static_cast<const char*>(std::memchr(begin, '\n', size_ - at_));
      const std::size_t take = nl != nullptr ? static_cast<std::size_t>(nl - begin) : size_ - at_;
      length += take;
      if (length > limit_) {
        overflow = true;
        line.clear();
        line.shrink_to_fit();
      } else {
        line.append(begin, take);
      }
      at_ += take;
      if (nl != nullptr) {
        ++at_;
        break;
      }
    }
    if (overflow) {
      too_long_bytes = length;
      return Got::kTooLong;
    }
    return Got::kLine;
  }

 private:
  ssize_t fill(std::string& error) {
    for (;;) {
      const ssize_t n = ::read(fd_, buffer_.data(), buffer_.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) error = std::string("read error: ") + std::strerror(errno);
      at_ = 0;
      size_ = n > 0 ? static_cast<std::size_t>(n) : 0;
      return n;
    }
  }

  int fd_;
  std::size_t limit_;
  std::array<char, 1 << 16> buffer_{};
  std::size_t at_ = 0, size_ = 0;
};

// A JSON Lines file's records, one at a time: each line that is not blank (a '\r' before its
// '\n' cut) to `record(line, text)`, which returns false to stop there; a line over `limit`
// bytes to `too_long(line, bytes)`, unread. A file that cannot be opened or read (the line the
// read failed at; 0 for the whole file) is a problem, with the system's reason.
struct RecordsProblem {
  int line = 0;
  std::string message;
};
template <typename OnRecord, typename OnTooLong>
std::optional<RecordsProblem> for_each_record(const fs::path& path, std::size_t limit, OnRecord&& record,
                                              OnTooLong&& too_long) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return RecordsProblem{0, std::string("cannot open file: ") + std::strerror(errno)};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return RecordsProblem{0, "not a regular file"};
  }
  LineReader reader(fd, limit);
  std::string text, io_error;
  std::size_t too_long_bytes = 0;
  for (int line = 1;; ++line) {
    const auto got = reader.next(text, too_long_bytes, io_error);
    if (got == LineReader::Got::kEnd) return std::nullopt;
    if (got == LineReader::Got::kError) return RecordsProblem{line, io_error};
    if (got == LineReader::Got::kTooLong) {
      too_long(line, too_long_bytes);
      continue;
    }
    std::string_view view = text;
    if (view.ends_with('\r')) view.remove_suffix(1);
    if (view.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (!record(line, view)) return std::nullopt;
  }
}

// The "id" of a JSON Lines record, read up to it and no further: the first top-level "id" when
// it is text. Nothing for a record that is no object, whose id is missing or not text, or that
// breaks before it. A look, not a check: the record gives that id only if parse_jsonl_article
// reads it (a line's body is most of it, and most lines are not asked about).
std::optional<std::string> record_id(std::string_view record) {
  struct Sax : json::json_sax_t {
    int depth = 0;
    bool id_next = false;  // the key just read is the record's "id"
    std::optional<std::string> id;
    // A value other than text: if it is the id's, the record has no id to give.
    bool other() { return !std::exchange(id_next, false); }
    bool null() override { return other(); }
    bool boolean(bool) override { return other(); }
    bool number_integer(number_integer_t) override { return other(); }
    bool number_unsigned(number_unsigned_t) override { return other(); }
    bool number_float(number_float_t, const string_t&) override { return other(); }
    bool binary(binary_t&) override { return other(); }
    bool string(string_t& value) override {
      if (!id_next) return true;
      id = std::move(value);
      return false;  // found: the rest is not read
    }
    bool start_object(std::size_t) override { return other() && ++depth > 0; }
    bool end_object() override { return --depth, true; }
    bool start_array(std::size_t) override { return other() && ++depth > 0; }
    bool end_array() override { return --depth, true; }
    bool key(string_t& name) override {
      id_next = depth == 1 && name == "id";
      return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }
  } sax;
  json::sax_parse(record.begin(), record.end(), &sax, json::input_format_t::json, false);
  return std::move(sax.id);
}

}  // namespace

bool set_body(Article& article, std::string markdown) {
  bool html_too_deep = false;
  article.sections = markdown_sections(markdown, &html_too_deep);
  article.body_markdown = std::move(markdown);
  article.body_text.clear();
  for (const auto& s : article.sections) {
    if (!article.body_text.empty()) article.body_text += "\n\n";
    article.body_text += s.text;
  }
  return !html_too_deep;
}

namespace {

std::string lowercase(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// In any case: `Foo.MD` (an editor on another system) was passed over without a word.
bool article_extension(const fs::path& p) {
  const std::string ext = lowercase(p.extension().string());
  return ext == ".md" || ext == ".markdown" || ext == ".jsonl";
}

bool article_name(const fs::path& p) {
  const std::string name = p.filename().string();
  // A readme in any of the article extensions (`README.markdown` was read as an article and
  // failed every night; helper-91).
  return !name.starts_with('.') && !name.starts_with('_') && lowercase(p.stem().string()) != "readme" && article_extension(p);
}

}  // namespace

bool is_jsonl_source(const fs::path& p) { return lowercase(p.extension().string()) == ".jsonl"; }

std::string source_identity(const fs::path& p) {
  std::error_code ec;
  std::string out = fs::absolute(p, ec).lexically_normal().string();
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

namespace {

// Collects the article files under the given paths, recording what cannot be listed or
// resolved. Symbolic links to directories are followed (a release folder swapped under a
// link, a subject folder linked in); each directory is entered once, so a link back up the
// tree is no loop.
class SourceWalk {
 public:
  SourceWalk(std::vector<SourceFile>& out, ReadBatch& problems) : out_(out), problems_(problems) {}

  void directory(const fs::path& dir) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) return unreadable(dir, std::error_code(errno, std::generic_category()));
    if (!entered_.insert({st.st_dev, st.st_ino}).second) return;  // reached before (a link back up)
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    std::vector<fs::path> subdirectories;
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
      const fs::path& p = it->path();
      // Hidden and underscore names are no articles, and neither are folders so named
      // (`.git/`, `_drafts/`: an editor's drafts were indexed and published).
      if (const std::string name = p.filename().string(); name.starts_with('.') || name.starts_with('_')) continue;
      std::error_code type_ec;
      const fs::file_status own = it->symlink_status(type_ec);
      if (type_ec) {
        // Listed but not reachable (a directory that may be read but not searched): it may be
        // a directory or an article (it was called a directory, a file too); whatever the
        // index holds from it stays.
        unreadable(p, type_ec, "cannot reach it (its folder can be listed but not searched)");
        continue;
      }
      if (fs::is_directory(own)) {
        subdirectories.push_back(p);
      } else if (fs::is_symlink(own)) {
        std::error_code target_ec;
        const fs::file_status target = fs::status(p, target_ec);
        if (!target_ec && fs::is_directory(target)) {
          if (const auto holds = holds_a_root(p)) {
            // `sub/up -> ../..`: everything beside the folder being indexed came in with it (an
            // editor's link to a parent: 4,068 articles from the folders around the corpus).
            problems_.warnings.push_back(
                {p.string(), 0,
                 holds->first == holds->second
                     ? "a link back to " + holds->first + ", the folder being indexed: not followed"
                     : "a link to " + holds->first + ", which holds " + holds->second +
                           ", the folder being indexed: not followed (it would index everything beside it)",
                 ""});
            continue;
          }
          subdirectories.push_back(p);
        }
        else if (article_name(p)) {
          // A link to an article the walk reads under its own name (`alias.md -> a.md`): read
          // once. Read twice, the two were one id given twice, the article itself named as the
          // one refused and its recorded path moved to the link (helper-82).
          if (const auto real = read_under_own_name(p))
            problems_.warnings.push_back({p.string(), 0, "a link to " + *real + ", which is read under its own name: not read again", ""});
          else
            file(p);
        }
        else if (target_ec) {
          // A dangling link, maybe to a directory once: what the index holds from under it
          // stays, and the job names it when there is some (a link to a retired folder kept its
          // articles for good, and nothing said so; helper-91).
          keep_quietly(p);
          problems_.dangling_links.push_back(source_identity(p));
          problems_.given_paths.emplace(source_identity(p), p.string());  // named as given
        }
      } else if (article_name(p)) {
        file(p);
      }
    }
    if (ec) unreadable(dir, ec);
    for (const auto& sub : subdirectories) directory(sub);
  }

  // An article path: a regular file (or a link to one) is a source; anything else is an error
  // for that path, and what the index holds from it stays.
  void file(const fs::path& p) {
    std::error_code ec;
    const fs::file_status status = fs::status(p, ec);
    if (!ec && fs::is_regular_file(status)) {
      out_.push_back({p, source_identity(p), is_jsonl_source(p)});
      return;
    }
    std::string why;
    if (ec) {
      std::error_code link_ec;
      why = (fs::is_symlink(fs::symlink_status(p, link_ec)) ? "cannot follow symbolic link: " : "cannot read: ") +
            ec.message();
    } else {
      why = fs::is_directory(status) ? "a directory named like an article" : "not a regular file";
    }
    problems_.errors.push_back({p.string(), 0, why, ""});
    problems_.broken_sources.insert(source_identity(p));
  }

  // A path that cannot be read, listed or resolved: an error naming it; what the index holds
  // from it, or from under it, stays.
  void unreadable(const fs::path& p, const std::error_code& ec, std::string_view what = "cannot read directory") {
    problems_.errors.push_back({p.string(), 0, std::string(what) + ": " + ec.message() +
                                                   " (articles indexed from it or under it are kept)", ""});
    keep_quietly(p);
  }

  void keep_quietly(const fs::path& p) {
    problems_.broken_sources.insert(source_identity(p));
    problems_.broken_directories.push_back(source_identity(p));
  }

  // A directory named on the command line, as the walk starts from it.
  void root(const fs::path& dir) {
    std::error_code ec;
    if (auto real = fs::canonical(dir, ec); !ec) roots_.push_back(std::move(real));
  }

 private:
  // Whether the directory `link` leads to holds (or is) a directory named on the command line:
  // that directory's real path and the root's, when it does.
  std::optional<std::pair<std::string, std::string>> holds_a_root(const fs::path& link) const {
    std::error_code ec;
    const fs::path target = fs::canonical(link, ec);
    if (ec) return std::nullopt;
    for (const auto& r : roots_) {
      const auto [t, in_root] = std::mismatch(target.begin(), target.end(), r.begin(), r.end());
      if (t == target.end()) return std::pair{target.string(), r.string()};
    }
    return std::nullopt;
  }

  // The real path of the article file `link` leads to, when the walk reads it there too: inside
  // a directory named on the command line, named as an article, in no hidden or underscore
  // folder (a link to a draft in `_drafts/` is the only way it is read).
  std::optional<std::string> read_under_own_name(const fs::path& link) const {
    std::error_code ec;
    const fs::path target = fs::canonical(link, ec);
    if (ec || !article_name(target) || !fs::is_regular_file(target, ec)) return std::nullopt;
    for (const auto& r : roots_) {
      const auto [t, in_root] = std::mismatch(target.begin(), target.end(), r.begin(), r.end());
      if (in_root != r.end() || t == target.end()) continue;
      bool skipped = false;
      for (auto part = t; part != target.end(); ++part)
        if (const std::string name = part->string(); name.starts_with('.') || name.starts_with('_')) skipped = true;
      if (!skipped) return target.string();
    }
    return std::nullopt;
  }

  std::vector<fs::path> roots_;
  std::vector<SourceFile>& out_;
  ReadBatch& problems_;
  std::set<std::pair<dev_t, ino_t>> entered_;
};

}  // namespace

Result<std::vector<SourceFile>> find_sources(const std::vector<fs::path>& paths, ReadBatch& problems) {
  std::vector<SourceFile> out;
  SourceWalk walk(out, problems);
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) walk.root(p);
  }
  for (const auto& p : paths) {
    std::error_code ec, link_ec;
    const fs::file_status status = fs::status(p, ec);
    const bool link = fs::is_symlink(fs::symlink_status(p, link_ec));
    if (fs::is_directory(status)) {
      walk.directory(p);
    } else if (fs::exists(status)) {
      if (!article_extension(p))
        return fail(ErrorCode::kIo, p.string() + ": not an article source (expected .md, .markdown or .jsonl)");
      // Named, as found in a folder: a readme, a hidden or an underscore file is no article (it
      // was indexed when named, then deleted by the next run over its folder).
      if (!article_name(p))
        return fail(ErrorCode::kIo, p.string() + ": not an article (files named README.md or README.markdown and names "
                                                 "starting with '.' or '_' are skipped)");
      walk.file(p);
    } else if (link || (ec && ec != std::errc::no_such_file_or_directory)) {
      // A dangling or looping link, a path through a directory that cannot be searched: an
      // error for it, and what it gave the index stays (it may have been a directory).
      walk.unreadable(p, ec ? ec : std::make_error_code(std::errc::no_such_file_or_directory));
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

std::string resolved_path(const std::string& path) {
  if (path.empty()) return path;
  std::error_code ec;
  const fs::path r = fs::weakly_canonical(path, ec);
  return ec || r.empty() ? path : r.string();
}

std::string ReadError::where_what() const {
  // No line: the whole file ("d.md:0: …" read as a line number).
  return line > 0 ? fmt::format("{}:{}: {}", source, line, message) : fmt::format("{}: {}", source, message);
}

Result<ReadBatch> read_sources(const std::vector<fs::path>& paths, const ReaderLimits& limits) {
  ReadBatch batch;
  auto files = find_sources(paths, batch);
  if (!files) return std::unexpected(files.error());
  for (const auto& f : *files) read_source(f, batch, limits);
  return batch;
}

namespace {

// The id a front matter's `id:` line names, read line by line where the YAML as a whole cannot
// be; empty when there is none, or no closed front matter (a first line `---` to the next,
// which must come): an `id:` line in a notes file's text named an article it kept for good
// (helper-92, helper-93).
std::string front_matter_id(std::string_view content) {
  std::string_view head = content.substr(0, std::min<std::size_t>(content.size(), 64 * 1024));
  if (head.starts_with("\xEF\xBB\xBF")) head.remove_prefix(3);
  if (!head.starts_with("---")) return {};
  const auto trimmed = [](std::string_view t, bool left) {
    while (left && !t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t' || t.back() == '\r')) t.remove_suffix(1);
    return t;
  };
  std::string named;
  for (std::size_t p = head.find('\n'); p != std::string_view::npos && p + 1 < head.size();) {
    const std::size_t nl = head.find('\n', p + 1);
    const std::string_view field = trimmed(head.substr(p + 1, nl == std::string_view::npos ? std::string_view::npos : nl - p - 1), false);
    if (field == "---" || field == "...") return named;  // the front matter's end
    if (field.starts_with("id:") && named.empty()) {
      // A comment after it (`id: x # note`) is YAML's, not the id's.
      const std::size_t hash = field.find(" #");
      std::string_view value = trimmed(field.substr(3, hash == std::string_view::npos ? hash : hash - 3), true);
      if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
        value = value.substr(1, value.size() - 2);
      if (schema::valid_article_id(value)) named = std::string(value);
    }
    p = nl;
  }
  return {};
}

}  // namespace

std::expected<Article, ReadError> parse_markdown_article(std::string_view content,
                                                         const std::string& source,
                                                         const std::string& default_id,
                                                         const ReaderLimits& limits,
                                                         std::vector<ReadError>* warnings) {
  // A file that cannot be read as a whole names the id it most likely gives: its `id:` line, else
  // its file name's. The index job keeps the article it holds by that id, also from another path
  // (a file moved and broken in one edit: the article was deleted as its old path was gone;
  // helper-91).
  auto whole_file = [&](int line, std::string message) {
    std::string id = schema::valid_article_id(default_id) ? default_id : std::string();
    if (std::string named = front_matter_id(content); !named.empty()) id = std::move(named);
    return std::unexpected(ReadError{source, line, std::move(message), std::move(id)});
  };
  if (content.size() > limits.max_article_bytes)
    return whole_file(0, "article is " + bytes_text(content.size()) + ", over the limit of " +
                             bytes_text(limits.max_article_bytes));
  if (auto bad = find_invalid_utf8(content); bad != std::string_view::npos)
    return whole_file(line_at(content, bad),
                      content[bad] == '\0' ? "contains a NUL byte"
                                           : "invalid UTF-8 (byte offset " + std::to_string(bad) + ")");
  if (content.starts_with("\xEF\xBB\xBF")) content.remove_prefix(3);
  // Windows line ends read as Unix ones: the same article whichever a checkout gave it (a git
  // autocrlf flip made every article "updated", a full changeset to every replica, though
  // nothing a visitor sees changed).
  std::string unix_lines;
  if (content.find("\r\n") != std::string_view::npos) {
    unix_lines.reserve(content.size());
    for (std::size_t i = 0; i < content.size(); ++i)
      if (!(content[i] == '\r' && i + 1 < content.size() && content[i + 1] == '\n')) unix_lines += content[i];
    content = unix_lines;
  }

  // Front matter: between a first line '---' and the next line '---' (or '...'). Spaces and
  // tabs after a fence are allowed (an editor's `--- ` was refused as no front matter at all).
  auto fence = [](std::string_view line) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    return line;
  };
  auto first_nl = content.find('\n');
  const std::string_view first = fence(content.substr(0, first_nl));
  if (first != "---") {
    // A file saved with classic Mac line ends (a lone CR) is one line: named as such (it was
    // said to have no front matter, though it begins with '---').
    if (first_nl == std::string_view::npos && content.find('\r') != std::string_view::npos)
      return whole_file(1, "its lines end in a lone carriage return (CR, old Mac line ends): save it with LF or CRLF line ends");
    return whole_file(1, "missing YAML front matter: the file must start with a line '---'");
  }
  std::size_t pos = first_nl == std::string_view::npos ? content.size() : first_nl + 1;
  std::size_t front_end = std::string_view::npos, body_start = content.size();
  for (std::size_t p = pos; p < content.size();) {
    std::size_t nl = content.find('\n', p);
    const std::string_view line = fence(content.substr(p, nl == std::string_view::npos ? nl : nl - p));
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

  YamlConverter converter{limits.max_yaml_nodes, false, {}, 0};
  json fields = json::object();
  std::map<std::string, int> lines;
  for (const auto& kv : root) {
    if (!kv.first.IsScalar()) continue;
    if (const auto seen = lines.find(kv.first.Scalar()); seen != lines.end())
      return whole_file(kv.first.Mark().line + 2, fmt::format("'{}' is given twice (lines {} and {}): keep one",
                                                              kv.first.Scalar(), seen->second, kv.first.Mark().line + 2));
    lines[kv.first.Scalar()] = kv.first.Mark().line + 2;
    fields[kv.first.Scalar()] = converter.convert(kv.second, 0);
    // A field the article does not read is ignored with a warning, its tags too (`notes:
    // !!binary …` indexed before, and must not fail the article now).
    if (!converter.foreign_tag.empty() && unknown_field(kv.first.Scalar(), false)) converter.foreign_tag.clear();
  }
  if (converter.exhausted)
    return whole_file(2, "front matter too large or too deeply nested (YAML aliases?): over " +
                             std::to_string(limits.max_yaml_nodes) + " nodes");
  if (!converter.foreign_tag.empty())
    return whole_file(converter.foreign_tag_line + 2,
                      fmt::format("the YAML tag '{}' at line {} is not read here: write the value as plain text, "
                                  "without a tag",
                                  utf8_prefix(converter.foreign_tag, 80), converter.foreign_tag_line + 2));
  // yaml-cpp reads a quote that is never closed to the end of the front matter, and the fields
  // after it become part of that value (`title: "Unclosed` took the topics and ratings into
  // the title, exit 0). Such a value is the last field read, its line opens a quote that the
  // front matter's last line does not close, and a line after it reads like a field.
  if (!lines.empty()) {
    std::vector<std::string_view> text_lines;  // [i]: the file's line i + 2
    for (std::size_t at = 0; at < front.size();) {
      const std::size_t nl = std::min(front.find('\n', at), front.size());
      std::string_view line(front.data() + at, nl - at);
      if (line.ends_with('\r')) line.remove_suffix(1);
      text_lines.push_back(line);
      at = nl + 1;
    }
    const auto last = std::max_element(lines.begin(), lines.end(), [](const auto& x, const auto& y) { return x.second < y.second; });
    const std::size_t last_at = static_cast<std::size_t>(last->second - 2);
    const auto trimmed = [](std::string_view v) {
      const auto b = v.find_first_not_of(" \t"), e = v.find_last_not_of(" \t");
      return b == std::string_view::npos ? std::string_view() : v.substr(b, e - b + 1);
    };
    const std::string_view opening = last_at < text_lines.size() ? text_lines[last_at] : std::string_view();
    const std::string_view value = trimmed(opening.substr(std::min(opening.size(), opening.find(':') + 1)));
    const char quote = value.empty() ? '\0' : value.front();
    // Closed on the last line: the quote, then nothing but a comment (an escaped \" closes nothing).
    const auto closes = [&](std::string_view line) {
      if (const auto hash = line.find(" #"); hash != std::string_view::npos) line = line.substr(0, hash);
      line = trimmed(line);
      return !line.empty() && line.back() == quote && !(quote == '"' && line.size() >= 2 && line[line.size() - 2] == '\\');
    };
    std::size_t end = text_lines.size();
    while (end > 0 && trimmed(text_lines[end - 1]).empty()) --end;
    if ((quote == '"' || quote == '\'') && end > last_at + 1 && !closes(text_lines[end - 1])) {
      for (std::size_t i = last_at + 1; i < end; ++i) {
        const std::string_view line = text_lines[i];
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0 || (colon + 1 < line.size() && line[colon + 1] != ' ')) continue;
        const std::string_view key = line.substr(0, colon);
        if (!std::all_of(key.begin(), key.end(), [](unsigned char c) { return std::isalnum(c) || c == '_' || c == '-'; }))
          continue;
        return whole_file(static_cast<int>(i + 2), fmt::format("'{}:' was read as part of the value of '{}' (line {}): its quote is not closed",
                                                               key, last->first, last->second));
      }
    }
  }
  auto line_of = [&](const char* key) {
    auto it = lines.find(key);
    return it == lines.end() ? 1 : it->second;
  };
  if (warnings != nullptr) {
    std::vector<std::pair<int, std::string>> unknown;  // in the file's order
    for (const auto& [key, line] : lines)
      if (auto w = unknown_field(key, false)) unknown.emplace_back(line, std::move(*w));
    std::sort(unknown.begin(), unknown.end());
    for (auto& [line, w] : unknown) warnings->push_back({source, line, std::move(w), ""});
  }
  auto article = article_from_fields(fields, line_of, source, default_id, std::string(content.substr(body_start)), limits);
  if (article && warnings != nullptr)
    if (auto w = url_of_another_article(*article)) warnings->push_back({source, line_of("url"), std::move(*w), article->id});
  return article;
}

std::expected<Article, ReadError> parse_jsonl_article(std::string_view record,
                                                      const std::string& source, int line,
                                                      const ReaderLimits& limits,
                                                      std::vector<ReadError>* warnings) {
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
  std::set<std::string> keys;
  std::string twice;  // a field given twice: json::parse would keep the last silently
  try {
    fields = json::parse(record, [&](int depth, json::parse_event_t event, json& parsed) {
      if (event == json::parse_event_t::key && depth == 1 && !keys.insert(parsed.get<std::string>()).second && twice.empty())
        twice = parsed.get<std::string>();
      return true;
    });
  } catch (const json::exception& e) {  // syntax errors, and numbers out of range (1e999)
    return failed(std::string("invalid JSON: ") + e.what());
  }
  if (!twice.empty()) {
    const bool named = fields.is_object() && fields.contains("id") && fields["id"].is_string();
    return failed("'" + twice + "' is given twice: keep one", named ? fields["id"].get<std::string>() : "");
  }
  if (!fields.is_object()) return failed("each line must be one JSON object");
  // The line's id when it is text, to name the article a failure keeps (`value("id", "")`
  // threw on a number, and one line `{"id": 5, "body": 7}` stopped the whole job).
  const json id = fields.contains("id") ? fields["id"] : json();
  const std::string named = id.is_string() ? id.get<std::string>() : std::string();
  std::string body;
  if (fields.contains("body")) {
    if (!fields["body"].is_string()) return failed("'body' must be a string", named);
    body = fields["body"].get<std::string>();
    // The record's bytes were checked, but `\u0000` decodes to a NUL (it was indexed, dropped
    // silently, where a Markdown body with the byte and a JSONL title with the escape are refused).
    if (body.find('\0') != std::string::npos)
      return failed("'body' contains a NUL character (U+0000) once its escapes are decoded", named);
  }
  if (id.is_null()) return failed("missing required field 'id' (a JSONL record has no file name)");
  if (!id.is_string()) {
    const std::string type = id.type_name();
    const std::string what = (type == "array" || type == "object" ? "an " : "a ") + type;
    std::string shown = id.dump();
    if (shown.size() > 60) shown = shown.substr(0, 57) + "...";
    return failed("'id' must be a string, not " + what + " (\"id\": " + shown + ")");
  }
  if (warnings != nullptr)
    for (const auto& [key, value] : fields.items())
      if (auto w = unknown_field(key, true)) warnings->push_back({source, line, std::move(*w), id.get<std::string>()});
  auto article = article_from_fields(fields, [line](const char*) { return line; }, source, id.get<std::string>(), body, limits);
  if (article && warnings != nullptr)
    if (auto w = url_of_another_article(*article)) warnings->push_back({source, line, std::move(*w), article->id});
  return article;
}

void read_source(const SourceFile& file, ReadBatch& batch, const ReaderLimits& limits) {
  const std::string source = file.path.string();
  batch.given_paths.emplace(file.absolute, source);
  auto broken = [&](int line, std::string message) {
    batch.errors.push_back({source, line, std::move(message), ""});
    batch.broken_sources.insert(file.absolute);
  };
  auto take = [&](std::expected<Article, ReadError> result) {
    if (result) {
      result->source = file.absolute;
      batch.articles.push_back(std::move(*result));
    } else {
      // A Markdown file is one article: when it fails, whatever the index holds from the file
      // stays, also when the failing version names another id (an id changed in the same edit
      // as a bad date) -- otherwise the indexed article would be deleted as gone. A JSON Lines
      // file keeps the id of its failed record only (its other records were read).
      if (result.error().id.empty() || !file.jsonl) batch.broken_sources.insert(file.absolute);
      batch.errors.push_back(std::move(result.error()));
    }
  };
  if (!file.jsonl) {
    std::string io_error;
    const std::string content = read_bounded(file.path, limits.max_article_bytes, io_error);
    if (!io_error.empty()) return broken(0, io_error);
    take(parse_markdown_article(content, source, file.path.stem().string(), limits, &batch.warnings));
    return;
  }
  const auto problem = for_each_record(
      file.path, limits.max_article_bytes,
      [&](int line, std::string_view record) {
        auto parsed = parse_jsonl_article(record, source, line, limits, &batch.warnings);
        if (parsed) parsed->line = line;  // a duplicate id names it
        take(std::move(parsed));
        return true;
      },
      [&](int line, std::size_t bytes) {
        broken(line, "record is " + bytes_text(bytes) + ", over the limit of " + bytes_text(limits.max_article_bytes));
      });
  if (problem) broken(problem->line, problem->message);
}

std::set<std::string> ids_given(const fs::path& path, const std::set<std::string>& wanted, const ReaderLimits& limits) {
  std::set<std::string> found;
  if (wanted.empty()) return found;
  const std::string source = path.string();
  if (!is_jsonl_source(path)) {
    std::string io_error;
    const std::string content = read_bounded(path, limits.max_article_bytes, io_error);
    if (!io_error.empty()) return found;
    auto article = parse_markdown_article(content, source, path.stem().string(), limits);
    if (article && wanted.contains(article->id)) found.insert(article->id);
    return found;
  }
  // A record that gives a wanted id holds it as written, or escaped as \uXXXX: an id has no
  // character JSON's other escapes write (schema::valid_article_id). A record with neither is
  // passed over unparsed (a few wanted ids: each is looked for in each record).
  const bool look_first = wanted.size() <= 8 && std::all_of(wanted.begin(), wanted.end(), [](const std::string& id) {
                            return schema::valid_article_id(id);
                          });
  const auto may_give = [&](std::string_view record) {
    return !look_first || record.find("\\u") != std::string_view::npos ||
           std::any_of(wanted.begin(), wanted.end(), [&](const std::string& id) { return record.find(id) != std::string_view::npos; });
  };
  for_each_record(
      path, limits.max_article_bytes,
      [&](int line, std::string_view record) {
        if (!may_give(record)) return true;
        const auto id = record_id(record);
        if (id && wanted.contains(*id) && !found.contains(*id) && parse_jsonl_article(record, source, line, limits))
          found.insert(*id);
        return found.size() < wanted.size();
      },
      [](int, std::size_t) {});
  return found;
}

}  // namespace mssearch
