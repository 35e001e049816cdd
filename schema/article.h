// Article: one summary of an MS research paper, as the site publishes it. The indexer reads
// articles from Markdown or JSON Lines; the index stores the fields needed to display a hit.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace mssearch {

struct ArticleSection {
  std::string heading;  // e.g. "What They Found"
  std::string text;     // plain text of the section (Markdown stripped)
};

// The site's own section headings, which every article has: their words find no article in
// particular, and searched they would make "care" or "found" a word of every article (a
// visitor's "caring for someone with MS" would lose its word "caring"). Other headings an editor
// writes ("Ocrelizumab in pregnancy") are indexed with the section's text.
inline constexpr std::string_view kSiteSectionHeadings[] = {"What They Found", "Who Should Care and Why",
                                                            "Important Considerations"};
// Whether `heading` is one of them (letter case and spacing aside).
bool is_site_section_heading(std::string_view heading);

struct Article {
  std::string id;       // slug, unique in the collection
  std::string title;
  std::string date;     // ISO YYYY-MM-DD, validated
  std::vector<std::string> topics;
  std::string journal;
  std::optional<int> credibility;  // 1..5
  std::optional<int> interest;     // 1..5
  std::string takeaway;
  std::string url;      // default "/articles/<id>"
  std::string body_markdown;

  // Derived from body_markdown by the reader.
  std::string body_text;  // plain text, sections joined by blank lines
  std::vector<ArticleSection> sections;

  // Where it came from, for error messages and for keeping it when its source is broken.
  std::string source;  // file path
  int line = 0;        // 1-based line in a JSONL file; 0 for Markdown

  int year() const { return date.size() >= 4 ? std::stoi(date.substr(0, 4)) : 0; }
};

// True for a URL a page may link an article to: a path on the site ("/articles/x", not "//host"),
// or an absolute http(s) URL; no spaces or control characters. Anything else ("javascript:",
// "data:") is refused at indexing and replaced by the article's own path where a link is made.
bool is_link_url(std::string_view url);
// What is wrong with `url` as a site's own address (an http(s) URL with a host name or [IPv6]
// address, a port from 1 to 65535, a path; no userinfo, query, fragment, space or bad `%`
// escape), in a few words; empty when nothing is.
std::string site_url_problem(std::string_view url);
// `url` when is_link_url(url), else "/articles/<id>".
std::string link_url(const std::string& url, const std::string& id);

// The fields stored in the Xapian document data, for display and snippets.
nlohmann::json to_stored_json(const Article& article);
Article from_stored_json(const nlohmann::json& json);
// The document data of an article in the index, two zstd frames (schema/compression.h; glass
// stores what it cannot shrink as it is): to_stored_json's fields as MessagePack (nlohmann's; a
// third of the cost of JSON text to read back for every hit shown), except that each section
// gives only the length of its text ("bytes"; "text_bytes" in all); then the texts, joined as
// they are, copied out whole instead of read a byte at a time.
// `decode_stored` also reads what indexes written before hold (the texts inside the
// MessagePack, in a zstd frame or not; JSON text); it throws std::runtime_error for data that is
// none of these.
std::string encode_stored(const Article& article);
// kFields: everything but the sections' texts (their headings stay; body_text is empty), which
// format 3 keeps in a frame of their own that is then never read: what a hit without a snippet
// or a related article shows.
// kKeys: the id, date and credibility only (what a merge of shards orders hits by): the fields'
// MessagePack is read up to the id, whose name sorts after the other two's.
enum class StoredParts { kAll, kFields, kKeys };
Article decode_stored(const std::string& data, StoredParts parts = StoredParts::kAll);

}  // namespace mssearch
