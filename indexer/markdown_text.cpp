#include "indexer/markdown_text.h"

#include <cmark.h>

#include <cctype>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

namespace mssearch {
namespace {

void append_separator(std::string& text, const char* sep) {
  if (!text.empty() && text.back() != ' ' && text.back() != '\n') text += sep;
}

void trim_trailing(std::string& text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n')) text.pop_back();
}

// An HTML block's text as a reader sees it: its tags dropped, a script's, a style's and a
// comment's content too, the common character references decoded. (`<div class="note">Take
// it with food.</div>` was dropped whole: neither searched nor shown.) Never markup again: the
// page escapes what it shows.
std::string html_block_text(std::string_view html) {
  std::string out;
  std::size_t i = 0;
  const auto starts = [&](std::size_t at, std::string_view what) {
    if (html.size() - at < what.size()) return false;
    for (std::size_t k = 0; k < what.size(); ++k)
      if (std::tolower(static_cast<unsigned char>(html[at + k])) != what[k]) return false;
    return true;
  };
  while (i < html.size()) {
    const char c = html[i];
    if (c == '<') {
      if (starts(i, "<!--")) {
        const std::size_t end = html.find("-->", i + 4);
        i = end == std::string_view::npos ? html.size() : end + 3;
        continue;
      }
      bool skipped = false;
      for (std::string_view raw : {"script", "style"}) {
        if (starts(i + 1, raw)) {
          const std::string close = "</" + std::string(raw);
          std::size_t end = i + 1;
          while (end < html.size() && !starts(end, close)) ++end;
          end = html.find('>', end);
          i = end == std::string_view::npos ? html.size() : end + 1;
          skipped = true;
          break;
        }
      }
      if (skipped) continue;
      const bool tag_like = i + 1 < html.size() && (std::isalpha(static_cast<unsigned char>(html[i + 1])) != 0 ||
                                                    html[i + 1] == '/' || html[i + 1] == '!' || html[i + 1] == '?');
      const std::size_t end = tag_like ? html.find('>', i) : std::string_view::npos;
      if (end == std::string_view::npos) {  // not a tag after all (`<3`)
        out += c;
        ++i;
        continue;
      }
      append_separator(out, " ");
      i = end + 1;
      continue;
    }
    if (c == '&') {
      const std::size_t semi = html.find(';', i);
      if (semi != std::string_view::npos && semi - i <= 10) {
        const std::string_view name = html.substr(i + 1, semi - i - 1);
        std::optional<char32_t> cp;
        if (name == "amp") cp = U'&';
        else if (name == "lt") cp = U'<';
        else if (name == "gt") cp = U'>';
        else if (name == "quot") cp = U'"';
        else if (name == "apos") cp = U'\'';
        else if (name == "nbsp") cp = U' ';
        else if (name.size() > 1 && name[0] == '#') {
          const bool hex = name[1] == 'x' || name[1] == 'X';
          const std::string digits(name.substr(hex ? 2 : 1));
          char* rest = nullptr;
          const unsigned long v = digits.empty() ? 0 : std::strtoul(digits.c_str(), &rest, hex ? 16 : 10);
          if (!digits.empty() && rest != nullptr && *rest == '\0' && v > 0 && v <= 0x10FFFF && (v < 0xD800 || v > 0xDFFF))
            cp = static_cast<char32_t>(v);
        }
        if (cp) {
          const char32_t v = *cp;
          if (v < 0x80) out += static_cast<char>(v);
          else if (v < 0x800) out += {static_cast<char>(0xC0 | (v >> 6)), static_cast<char>(0x80 | (v & 0x3F))};
          else if (v < 0x10000)
            out += {static_cast<char>(0xE0 | (v >> 12)), static_cast<char>(0x80 | ((v >> 6) & 0x3F)), static_cast<char>(0x80 | (v & 0x3F))};
          else
            out += {static_cast<char>(0xF0 | (v >> 18)), static_cast<char>(0x80 | ((v >> 12) & 0x3F)),
                    static_cast<char>(0x80 | ((v >> 6) & 0x3F)), static_cast<char>(0x80 | (v & 0x3F))};
          i = semi + 1;
          continue;
        }
      }
    }
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
    ++i;
  }
  // Runs of spaces left by the tags, as one.
  std::string squeezed;
  for (const char ch : out)
    if (ch != ' ' || (!squeezed.empty() && squeezed.back() != ' ')) squeezed += ch;
  trim_trailing(squeezed);
  return squeezed;
}

}  // namespace

std::vector<ArticleSection> markdown_sections(std::string_view markdown) {
  std::unique_ptr<cmark_node, decltype(&cmark_node_free)> root(
      cmark_parse_document(markdown.data(), markdown.size(), CMARK_OPT_DEFAULT),
      &cmark_node_free);
  std::unique_ptr<cmark_iter, decltype(&cmark_iter_free)> iter(cmark_iter_new(root.get()),
                                                               &cmark_iter_free);
  std::vector<ArticleSection> sections(1);
  bool in_heading = false;
  std::string heading;
  for (auto ev = cmark_iter_next(iter.get()); ev != CMARK_EVENT_DONE;
       ev = cmark_iter_next(iter.get())) {
    cmark_node* node = cmark_iter_get_node(iter.get());
    const cmark_node_type type = cmark_node_get_type(node);
    std::string& out = in_heading ? heading : sections.back().text;
    if (type == CMARK_NODE_HEADING) {
      if (ev == CMARK_EVENT_ENTER) {
        in_heading = true;
        heading.clear();
      } else {
        in_heading = false;
        trim_trailing(sections.back().text);
        if (sections.back().text.empty() && sections.back().heading.empty()) sections.pop_back();
        sections.push_back({heading, ""});
      }
      continue;
    }
    switch (type) {
      case CMARK_NODE_TEXT:
      case CMARK_NODE_CODE:
        if (ev == CMARK_EVENT_ENTER) out += cmark_node_get_literal(node);
        break;
      case CMARK_NODE_CODE_BLOCK:
        append_separator(out, "\n\n");
        out += cmark_node_get_literal(node);
        break;
      case CMARK_NODE_SOFTBREAK:
      case CMARK_NODE_LINEBREAK:
        out += ' ';
        break;
      case CMARK_NODE_HTML_BLOCK:
        if (const std::string text = html_block_text(cmark_node_get_literal(node)); !text.empty()) {
          append_separator(out, "\n\n");
          out += text;
          append_separator(out, "\n\n");
        }
        break;
      case CMARK_NODE_PARAGRAPH:
      case CMARK_NODE_ITEM:
      case CMARK_NODE_BLOCK_QUOTE:
        if (ev == CMARK_EVENT_EXIT) append_separator(out, "\n\n");
        break;
      default:
        break;  // inline HTML tags and other markup carry no text of their own
    }
  }
  for (auto& s : sections) trim_trailing(s.text);
  std::erase_if(sections, [](const ArticleSection& s) { return s.heading.empty() && s.text.empty(); });
  return sections;
}

}  // namespace mssearch
