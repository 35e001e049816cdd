#include "indexer/markdown_text.h"

#include <cmark.h>

#include <memory>

namespace mssearch {
namespace {

void append_separator(std::string& text, const char* sep) {
  if (!text.empty() && text.back() != ' ' && text.back() != '\n') text += sep;
}

void trim_trailing(std::string& text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n')) text.pop_back();
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
      case CMARK_NODE_PARAGRAPH:
      case CMARK_NODE_ITEM:
      case CMARK_NODE_BLOCK_QUOTE:
        if (ev == CMARK_EVENT_EXIT) append_separator(out, "\n\n");
        break;
      default:
        break;  // raw HTML and other markup carry no text of their own
    }
  }
  for (auto& s : sections) trim_trailing(s.text);
  std::erase_if(sections, [](const ArticleSection& s) { return s.heading.empty() && s.text.empty(); });
  return sections;
}

}  // namespace mssearch
