// Builds the Xapian document for one article, following schema.h: weighted text fields,
// boolean filter terms, value slots and the stored fields. Also computes the content hash that
// lets an incremental run skip unchanged articles.
//
// Thread-safety: a DocumentBuilder holds a TermGenerator: one per thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <xapian.h>

#include "schema/article.h"
#include "schema/text_analyzer.h"

namespace mssearch {

// Hex digest of everything that ends up in the document (fields, body, schema version) but
// the source file's path, which the indexer compares apart.
std::string content_hash(const Article& article);

class DocumentBuilder {
 public:
  // With spelling_db set, words are also added to its spelling dictionary.
  DocumentBuilder(const TextAnalyzer& analyzer, Xapian::WritableDatabase* spelling_db);

  // Throws std::length_error naming the term when one is over Xapian's term length limit
  // (schema::kMaxTermBytes), which Xapian would otherwise throw at commit for the whole job:
  // the job fails that article alone.
  Xapian::Document build(const Article& article, const std::string& hash);

  // The common words whose side-by-side pairs each article also gets as boolean terms
  // (schema::kMetaPairWords): the index's list, the same for every article of it. None by default.
  void set_pair_words(std::shared_ptr<const schema::PairWords> words) { pair_words_ = std::move(words); }

  // The distinct words (unprefixed positional terms) the article's fields give, for choosing
  // pair words; nothing is stored.
  std::vector<std::string> words(const Article& article);

 private:
  // The fields' text into the generator's document (build's terms, without values or data).
  void index_fields(const Article& a);
  void add_pair_terms(Xapian::Document& doc) const;

  const TextAnalyzer& analyzer_;
  Xapian::TermGenerator generator_;
  std::shared_ptr<const schema::PairWords> pair_words_;
};

// The pair words of a full build of `articles` (schema::kMetaPairWords) from a sample of them:
// the words at least `share` of the sample hold, and so about `min_articles` of the build at
// least, the most widely held first, at most kMaxPairWords. A sample of fewer than 20 chooses
// none (a share of a handful says nothing).
schema::PairWords choose_pair_words(const std::vector<const Article*>& sample, std::size_t articles,
                                    const TextAnalyzer& analyzer, double share = schema::kPairWordShare,
                                    std::size_t min_articles = schema::kPairMinArticles);

}  // namespace mssearch
