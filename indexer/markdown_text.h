// Turns an article's Markdown body into plain-text sections (split at headings) with cmark,
// for indexing and for snippets. Raw HTML in the Markdown is never passed through: an HTML
// block gives its text (tags, scripts, styles and comments dropped), inline tags nothing.
#pragma once

#include <string_view>
#include <vector>

#include "schema/article.h"

namespace mssearch {

std::vector<ArticleSection> markdown_sections(std::string_view markdown);

}  // namespace mssearch
