#include "indexer/document_builder.h"

#include <xxhash.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "schema/schema.h"

namespace mssearch {

std::string content_hash(const Article& article) {
  nlohmann::json j = to_stored_json(article);
  j["body_markdown"] = article.body_markdown;
  j["schema"] = schema::kSchemaVersion;
  const std::string canonical = j.dump();
  return fmt::format("{:016x}", XXH3_64bits(canonical.data(), canonical.size()));
}

DocumentBuilder::DocumentBuilder(const TextAnalyzer& analyzer,
                                 Xapian::WritableDatabase* spelling_db)
    : analyzer_(analyzer), generator_(analyzer.make_term_generator(spelling_db)) {}

Xapian::Document DocumentBuilder::build(const Article& a, const std::string& hash) {
  Xapian::Document doc;
  doc.set_data(encode_stored(a));
  generator_.set_document(doc);
  generator_.set_termpos(0);

  std::string topics_text;
  for (const auto& t : a.topics) topics_text += t + ". ";
  analyzer_.index_field(generator_, schema::kTitle, a.title);
  analyzer_.index_field(generator_, schema::kTakeaway, a.takeaway);
  analyzer_.index_field(generator_, schema::kTopicText, topics_text);
  analyzer_.index_field(generator_, schema::kBody, a.body_text);
  analyzer_.index_field(generator_, schema::kJournalText, a.journal);

  doc.add_boolean_term(schema::id_term(a.id));
  for (const auto& t : a.topics) doc.add_boolean_term(schema::topic_term(t));
  if (!a.journal.empty()) doc.add_boolean_term(schema::journal_term(a.journal));
  doc.add_boolean_term(schema::year_term(a.year()));

  doc.add_value(schema::kSlotDate, schema::date_value(a.date));
  doc.add_value(schema::kSlotTopics, schema::encode_topic_set(a.topics));
  if (a.credibility)
    doc.add_value(schema::kSlotCredibility, Xapian::sortable_serialise(*a.credibility));
  if (a.interest) doc.add_value(schema::kSlotInterest, Xapian::sortable_serialise(*a.interest));
  doc.add_value(schema::kSlotContentHash, hash);
  doc.add_value(schema::kSlotYear, std::to_string(a.year()));
  if (!a.journal.empty()) doc.add_value(schema::kSlotJournal, a.journal);
  doc.add_value(schema::kSlotSource, a.source);
  return doc;
}

}  // namespace mssearch
