// Builds the Xapian document for one article, following schema.h: weighted text fields,
// boolean filter terms, value slots and the stored fields. Also computes the content hash that
// lets an incremental run skip unchanged articles.
//
// Thread-safety: a DocumentBuilder holds a TermGenerator: one per thread.
#pragma once

#include <string>

#include <xapian.h>

#include "schema/article.h"
#include "schema/text_analyzer.h"

namespace mssearch {

// Hex digest of everything that ends up in the document (fields, body, schema version).
std::string content_hash(const Article& article);

class DocumentBuilder {
 public:
  // With spelling_db set, words are also added to its spelling dictionary.
  DocumentBuilder(const TextAnalyzer& analyzer, Xapian::WritableDatabase* spelling_db);

  // Throws std::length_error naming the term when one is over Xapian's term length limit
  // (schema::kMaxTermBytes), which Xapian would otherwise throw at commit for the whole job:
  // the job fails that article alone.
  Xapian::Document build(const Article& article, const std::string& hash);

 private:
  const TextAnalyzer& analyzer_;
  Xapian::TermGenerator generator_;
};

}  // namespace mssearch
