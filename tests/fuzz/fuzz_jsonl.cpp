// Fuzz target: one JSON Lines record of a CMS export, through the parser and the document builder.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "indexer/article_reader.h"
#include "indexer/document_builder.h"
#include "schema/text_analyzer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const mssearch::TextAnalyzer analyzer;
  const std::string_view record(reinterpret_cast<const char*>(data), size);
  auto article = mssearch::parse_jsonl_article(record, "fuzz.jsonl", 1);
  if (article) {
    mssearch::DocumentBuilder builder(analyzer, nullptr);
    Xapian::Document doc = builder.build(*article, mssearch::content_hash(*article));
    (void)doc.termlist_count();
  }
  return 0;
}
