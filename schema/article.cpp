#include "schema/article.h"

#include "schema/compression.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <memory>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace mssearch {

bool is_site_section_heading(std::string_view heading) {
  // Its words, in any case, whatever punctuation or space is between or around them, a leading
  // number aside: `WHAT THEY FOUND`, `1. What They Found:`, `What they found?`, a no-break space
  // (helper-92: these were searched as words, "found" in every such article). A word more is
  // another heading (`What They Found 2026`, `What They Found: 疲労`; helper-93).
  const auto words = [](std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const auto c = static_cast<unsigned char>(text[i]);
      const bool nbsp = c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0xA0;
      const bool word = !nbsp && (std::isalnum(c) != 0 || c >= 0x80);
      if (nbsp) ++i;
      if (!word && (out.empty() || out.back() == ' ')) continue;
      out += word ? static_cast<char>(std::tolower(c)) : ' ';
    }
    if (!out.empty() && out.back() == ' ') out.pop_back();
    // A leading number (`1.`, `2)`): the heading's numbering.
    if (const std::size_t digits = out.find_first_not_of("0123456789"); digits > 0 && digits != std::string::npos && out[digits] == ' ')
      out.erase(0, digits + 1);
    return out;
  };
  const std::string typed = words(heading);
  return std::any_of(std::begin(kSiteSectionHeadings), std::end(kSiteSectionHeadings),
                     [&](std::string_view site) { return words(site) == typed; });
}

bool is_link_url(std::string_view url) {
  if (url.empty() || url.size() > 2048) return false;
  for (unsigned char c : url)
    if (c <= 0x20 || c == 0x7f || c == '\\') return false;
  auto starts_with_nocase = [&](std::string_view prefix) {
    if (url.size() <= prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(url[i])) != prefix[i]) return false;
    return true;
  };
  if (url[0] == '/') return url.size() == 1 || url[1] != '/';
  return starts_with_nocase("https://") || starts_with_nocase("http://");
}

std::string site_url_problem(std::string_view u) {
  const auto is = [](int (*test)(int)) { return [test](char c) { return test(static_cast<unsigned char>(c)) != 0; }; };
  const auto digit = is(std::isdigit), xdigit = is(std::isxdigit), alnum = is(std::isalnum);
  std::string lower(u);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::size_t scheme = lower.starts_with("https://") ? 8 : lower.starts_with("http://") ? 7 : 0;
  if (scheme == 0) return "it does not begin with http:// or https://";
  if (!std::none_of(u.begin(), u.end(), [](char c) {
        return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || std::string_view("\"<>\\^`{|}?#@").find(c) != std::string_view::npos;
      }))
    return "it holds a space, a quote, `<`, `>`, `@`, a query (`?`) or a fragment (`#`)";
  // host[:port], the host a name or an address (`[::1]` too).
  const std::string_view authority = u.substr(scheme, u.find('/', scheme) - scheme);
  const std::size_t host_end = authority.starts_with('[') ? authority.find(']') + 1 : authority.find(':');
  const std::string_view host = authority.substr(0, std::min(host_end, authority.size()));
  const std::string_view port = host_end < authority.size() ? authority.substr(host_end) : std::string_view();
  // A host name of letters, digits, dots and hyphens (an IDN in its xn-- form), or an IPv6
  // address in brackets (`https://-.-`, `exa%20mple.org` and `[zz]` went into /opensearch.xml).
  const bool ipv6 = host.size() > 2 && host.front() == '[' && host.back() == ']' &&
                    std::all_of(host.begin() + 1, host.end() - 1, [&](char c) { return xdigit(c) || c == ':' || c == '.'; });
  const bool name = !host.empty() && host.front() != '-' && host.front() != '.' && host.back() != '-' &&
                    std::any_of(host.begin(), host.end(), alnum) &&
                    std::all_of(host.begin(), host.end(), [&](char c) { return alnum(c) || c == '.' || c == '-'; });
  if (!ipv6 && !name) return "its host is no host name (letters, digits, dots and hyphens; an IDN in its xn-- form) or [IPv6] address";
  const bool port_ok = port.empty() || (port.size() >= 2 && port.size() <= 6 && port[0] == ':' &&
                                        std::all_of(port.begin() + 1, port.end(), digit) &&
                                        std::stoul(std::string(port.substr(1))) >= 1 && std::stoul(std::string(port.substr(1))) <= 65535);
  if (!port_ok) return "its port is not a number from 1 to 65535";
  for (std::size_t at = u.find('%'); at != std::string_view::npos; at = u.find('%', at + 1))
    if (at + 2 >= u.size() || !xdigit(u[at + 1]) || !xdigit(u[at + 2])) return "a `%` is not followed by two hex digits";
  return {};
}

std::string link_url(const std::string& url, const std::string& id) {
  return is_link_url(url) ? url : "/articles/" + id;
}

nlohmann::json to_stored_json(const Article& a) {
  nlohmann::json sections = nlohmann::json::array();
  for (const auto& s : a.sections) sections.push_back({{"heading", s.heading}, {"text", s.text}});
  nlohmann::json j = {
      {"id", a.id},           {"title", a.title},     {"date", a.date},
      {"topics", a.topics},   {"journal", a.journal}, {"takeaway", a.takeaway},
      {"url", a.url},         {"sections", sections}, {"source", a.source},
  };
  if (a.credibility) j["credibility"] = *a.credibility;
  if (a.interest) j["interest"] = *a.interest;
  return j;
}

Article from_stored_json(const nlohmann::json& j) {
  Article a;
  a.id = j.value("id", "");
  a.title = j.value("title", "");
  a.date = j.value("date", "");
  a.topics = j.value("topics", std::vector<std::string>{});
  a.journal = j.value("journal", "");
  a.takeaway = j.value("takeaway", "");
  a.url = j.value("url", "");
  a.source = j.value("source", "");
  if (j.contains("credibility")) a.credibility = j["credibility"].get<int>();
  if (j.contains("interest")) a.interest = j["interest"].get<int>();
  for (const auto& s : j.value("sections", nlohmann::json::array())) {
    a.sections.push_back({s.value("heading", ""), s.value("text", "")});
    if (!a.body_text.empty()) a.body_text += "\n\n";
    a.body_text += a.sections.back().text;
  }
  return a;
}

namespace {

// A stored article is at most this large once decompressed (a frame claiming more is damage).
constexpr unsigned long long kMaxStoredBytes = 64ull << 20;

}  // namespace

std::string encode_stored(const Article& a) {
  // The fields as MessagePack, each section with its heading and its text's length; then the
  // texts themselves, joined, as they are: read back with one copy each, where MessagePack
  // strings are read a byte at a time (nlohmann's reader), most of an article's bytes.
  nlohmann::json sections = nlohmann::json::array();
  std::size_t text_bytes = 0;
  for (const auto& s : a.sections) {
    sections.push_back({{"heading", s.heading}, {"bytes", s.text.size()}});
    text_bytes += s.text.size();
  }
  nlohmann::json j = {
      {"id", a.id},           {"title", a.title},     {"date", a.date},
      {"topics", a.topics},   {"journal", a.journal}, {"takeaway", a.takeaway},
      {"url", a.url},         {"sections", sections}, {"source", a.source},
      {"text_bytes", text_bytes},
  };
  if (a.credibility) j["credibility"] = *a.credibility;
  if (a.interest) j["interest"] = *a.interest;
  std::string fields, texts;
  nlohmann::json::to_msgpack(j, fields);
  texts.reserve(text_bytes);
  for (const auto& s : a.sections) texts += s.text;
  return zstd_compress(fields, ZstdFrame::kSmall) + zstd_compress(texts);
}

namespace {

// Reads the stored MessagePack straight into an Article through nlohmann's SAX interface: no
// JSON tree is built in between (a hit shown costs one such read).
class StoredReader : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit StoredReader(Article& a, bool to_id = false) : a_(a), to_id_(to_id) {}

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t v) override { return number(v); }
  bool number_unsigned(number_unsigned_t v) override { return number(static_cast<std::int64_t>(v)); }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool string(string_t& v) override {
    if (depth_ == 1) {
      if (std::string* field = top_field()) *field = std::move(v);
      if (to_id_ && key_ == "id") return false;  // the rest is not read (kKeys)
    } else if (depth_ == 2 && key_ == "topics") {
      a_.topics.push_back(std::move(v));
    } else if (depth_ == 3 && key_ == "sections" && !a_.sections.empty()) {
      if (inner_key_ == "heading") a_.sections.back().heading = std::move(v);
      else if (inner_key_ == "text") a_.sections.back().text = std::move(v);
    }
    return true;
  }
  bool start_object(std::size_t) override {
    if (++depth_ == 3 && key_ == "sections") a_.sections.emplace_back();
    return true;
  }
  bool end_object() override { return --depth_, true; }
  bool start_array(std::size_t) override { return ++depth_, true; }
  bool end_array() override { return --depth_, true; }
  bool key(string_t& k) override {
    if (depth_ == 1) key_ = std::move(k);
    else if (depth_ == 3) inner_key_ = std::move(k);
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    throw std::runtime_error(std::string("stored article data: ") + e.what());
  }

 private:
  bool number(std::int64_t v) {
    if (depth_ == 1 && key_ == "credibility") a_.credibility = static_cast<int>(v);
    if (depth_ == 1 && key_ == "interest") a_.interest = static_cast<int>(v);
    if (depth_ == 1 && key_ == "text_bytes") text_bytes_ = v;
    if (depth_ == 3 && key_ == "sections" && inner_key_ == "bytes" && !a_.sections.empty()) {
      section_bytes_.resize(a_.sections.size(), -1);
      section_bytes_.back() = v;
    }
    return true;
  }
  std::string* top_field() {
    if (key_ == "id") return &a_.id;
    if (key_ == "title") return &a_.title;
    if (key_ == "date") return &a_.date;
    if (key_ == "journal") return &a_.journal;
    if (key_ == "takeaway") return &a_.takeaway;
    if (key_ == "url") return &a_.url;
    if (key_ == "source") return &a_.source;
    return nullptr;
  }

  Article& a_;
  bool to_id_;
  int depth_ = 0;
  std::string key_, inner_key_;

 public:
  // Format 3: the sections' texts follow the MessagePack, `text_bytes` in all (-1: older data,
  // the texts inside it).
  std::int64_t text_bytes_ = -1;
  std::vector<std::int64_t> section_bytes_;  // per section; -1 where none was given
};

// Format 3's texts, joined in `texts`, into the sections.
void take_texts(const std::string& texts, const StoredReader& reader, Article& a) {
  std::vector<std::int64_t> bytes = reader.section_bytes_;
  bytes.resize(a.sections.size(), -1);
  std::int64_t sum = 0;
  for (auto b : bytes) sum = b < 0 || sum < 0 ? -1 : sum + b;
  if (sum != reader.text_bytes_ || sum != static_cast<std::int64_t>(texts.size()))
    throw std::runtime_error("stored article data: the section lengths do not add up");
  std::size_t at = 0;
  for (std::size_t i = 0; i < a.sections.size(); ++i) {
    a.sections[i].text.assign(texts, at, static_cast<std::size_t>(bytes[i]));
    at += static_cast<std::size_t>(bytes[i]);
  }
}

}  // namespace

Article decode_stored(const std::string& data, StoredParts parts) {
  if (!data.empty() && data.front() == '{') return from_stored_json(nlohmann::json::parse(data));
  Article a;
  // Keys only: nlohmann writes an object's members in name order, so credibility and date come
  // before the id, where reading stops.
  StoredReader reader(a, parts == StoredParts::kKeys);
  if (is_zstd_frame(data)) {
    // Format 3: a frame of MessagePack, then one of the texts; format 2: the first alone.
    const std::string_view frames(data);
    const std::size_t first = zstd_frame_bytes(frames);
    nlohmann::json::sax_parse(zstd_decompress(frames.substr(0, first), kMaxStoredBytes), &reader,
                              nlohmann::json::input_format_t::msgpack);
    if (parts != StoredParts::kAll) return a;
    if (first < data.size() || reader.text_bytes_ >= 0)
      take_texts(zstd_decompress(frames.substr(first), kMaxStoredBytes), reader, a);
  } else {
    nlohmann::json::sax_parse(data, &reader, nlohmann::json::input_format_t::msgpack);
  }
  std::size_t length = 0;
  for (const auto& s : a.sections) length += s.text.size() + 2;
  a.body_text.reserve(length);
  for (const auto& s : a.sections) {
    if (!a.body_text.empty()) a.body_text += "\n\n";
    a.body_text += s.text;
  }
  return a;
}

}  // namespace mssearch
