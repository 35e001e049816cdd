// Fuzz target: a Markdown article with YAML front matter, through the parser and, when it
// parses, the document builder (analysis, terms, values) into an in-memory Xapian document.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "indexer/article_reader.h"
#include "indexer/document_builder.h"
#include "schema/text_analyzer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const mssearch::TextAnalyzer analyzer;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto article = mssearch::parse_markdown_article(text, "fuzz.md", "fuzz");
  if (article) {
    mssearch::DocumentBuilder builder(analyzer, nullptr);
    Xapian::Document doc = builder.build(*article, mssearch::content_hash(*article));
    (void)doc.termlist_count();
  }
  return 0;
}
