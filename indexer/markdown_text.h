// Turns an article's Markdown body into plain-text sections (split at headings) with cmark,
// for indexing and for snippets. Raw HTML in the Markdown is never passed through: an HTML
// block gives its text (tags, scripts, styles and comments dropped), inline tags nothing.
#pragma once

#include <string_view>
#include <vector>

#include "schema/article.h"

namespace mssearch {

// `html_too_deep`, when given, is set when an HTML block nested its elements past libxml2's
// depth limit (256 levels): its text past that depth is missing from the sections.
std::vector<ArticleSection> markdown_sections(std::string_view markdown, bool* html_too_deep = nullptr);

}  // namespace mssearch
