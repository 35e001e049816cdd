#include "indexer/markdown_text.h"

#include <cmark.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mssearch {
namespace {

void append_separator(std::string& text, const char* sep) {
  if (!text.empty() && text.back() != ' ' && text.back() != '\n') text += sep;
}

void trim_trailing(std::string& text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n')) text.pop_back();
}

// An HTML block's text as a reader sees it, read by libxml2's HTML parser: its tags dropped,
// a script's, a style's and a comment's content too, every HTML character reference decoded
// (`&mdash;`, `&eacute;`, `&#x263A;`); a block element or a line break separates words, an
// inline one (`<b>`, `<sup>`, `<a>`) does not. (`<div class="note">Take it with food.</div>`
// was dropped whole: neither searched nor shown.) Never markup again: the page escapes what it
// shows. Malformed HTML gives what the parser recovered (`<3` stays text). `too_deep` is set
// when elements nest past libxml2's depth limit (256): the parser stops there, and the text
// after it was silently left out.
std::string html_block_text(std::string_view html, bool& too_deep) {
  static std::once_flag init;
  std::call_once(init, [] { xmlInitParser(); });  // once, before threads share the parser's tables
  if (html.empty() || html.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) return {};
  const std::unique_ptr<xmlParserCtxt, decltype(&htmlFreeParserCtxt)> ctxt(htmlNewParserCtxt(), &htmlFreeParserCtxt);
  if (!ctxt) return {};
  const std::unique_ptr<xmlDoc, decltype(&xmlFreeDoc)> doc(
      htmlCtxtReadMemory(ctxt.get(), html.data(), static_cast<int>(html.size()), nullptr, "UTF-8",
                         HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET),
      &xmlFreeDoc);
  // The depth limit halts the parser (xmlHaltParser): no error comes after it to overwrite its
  // number or message ("Excessive depth in document: 256 use XML_PARSE_HUGE option").
  if (ctxt->errNo == XML_ERR_INTERNAL_ERROR && ctxt->lastError.message != nullptr &&
      std::string_view(ctxt->lastError.message).find("depth") != std::string_view::npos)
    too_deep = true;
  if (!doc) return {};
  std::string out;
  // Depth first, without recursion (a block nested thousands deep is one article's business).
  std::vector<xmlNode*> stack;
  for (xmlNode* n = doc->children; n != nullptr; n = n->next) stack.push_back(n);
  std::reverse(stack.begin(), stack.end());
  while (!stack.empty()) {
    xmlNode* node = stack.back();
    stack.pop_back();
    if (node == nullptr) {  // the end of a block element
      append_separator(out, " ");
      continue;
    }
    if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) {
      if (node->content != nullptr)
        for (const char* c = reinterpret_cast<const char*>(node->content); *c != '\0'; ++c)
          out += (*c == '\n' || *c == '\r' || *c == '\t') ? ' ' : *c;
      continue;
    }
    if (node->type != XML_ELEMENT_NODE && node->type != XML_DOCUMENT_NODE && node->type != XML_HTML_DOCUMENT_NODE)
      continue;  // comments, processing instructions, DTDs
    const auto* name = reinterpret_cast<const char*>(node->name);
    if (name != nullptr && (xmlStrcasecmp(node->name, BAD_CAST "script") == 0 ||
                            xmlStrcasecmp(node->name, BAD_CAST "style") == 0))
      continue;
    // Elements libxml2 does not know (HTML5's <details>, <summary>) count as blocks.
    const htmlElemDesc* desc = name != nullptr ? htmlTagLookup(node->name) : nullptr;
    const bool block = desc == nullptr || desc->isinline == 0 || xmlStrcasecmp(node->name, BAD_CAST "br") == 0;
    if (block) {
      append_separator(out, " ");
      stack.push_back(nullptr);
    }
    const std::size_t first = stack.size();
    for (xmlNode* c = node->children; c != nullptr; c = c->next) stack.push_back(c);
    std::reverse(stack.begin() + static_cast<std::ptrdiff_t>(first), stack.end());
  }
  // Runs of spaces left by the tags, as one.
  std::string squeezed;
  for (const char ch : out)
    if (ch != ' ' || (!squeezed.empty() && squeezed.back() != ' ')) squeezed += ch;
  trim_trailing(squeezed);
  return squeezed;
}

}  // namespace

std::vector<ArticleSection> markdown_sections(std::string_view markdown, bool* html_too_deep) {
  bool too_deep = false;
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
      case CMARK_NODE_HTML_INLINE: {
        // A line break written as HTML (`one<br>two`) separates words, as the page shows them;
        // other inline tags give nothing (`re<b>myelin</b>ation` is one word).
        const std::string_view tag = cmark_node_get_literal(node);
        if (tag.size() >= 3 && tag[0] == '<' && (tag[1] == 'b' || tag[1] == 'B') && (tag[2] == 'r' || tag[2] == 'R') &&
            (tag.size() == 3 || tag[3] == '>' || tag[3] == '/' || tag[3] == ' '))
          append_separator(out, " ");
        break;
      }
      case CMARK_NODE_HTML_BLOCK:
        if (const std::string text = html_block_text(cmark_node_get_literal(node), too_deep); !text.empty()) {
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
  if (html_too_deep != nullptr) *html_too_deep = too_deep;
  return sections;
}

}  // namespace mssearch
