// The index schema: every term prefix, value slot and metadata key mssearch writes, in one
// place. The indexer writes with these names and the searcher reads with them, so the two
// sides cannot disagree. Bump kSchemaVersion whenever a change here makes old indexes unreadable.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <xapian.h>

#include "schema/error.h"

namespace mssearch::schema {

inline constexpr int kSchemaVersion = 2;

// Metadata keys stored in the database.
inline constexpr std::string_view kMetaSchemaVersion = "mssearch.schema_version";
inline constexpr std::string_view kMetaIndexedAt = "mssearch.indexed_at";

// A free-text field: indexed under its prefix (for `title:` style queries; an empty prefix
// means none) and also without a prefix, so that plain queries and snippet highlighting see it. `weight` is the wdf increment
// per occurrence: title > takeaway > topics > body.
struct TextField {
  std::string_view name;    // the field name users type, e.g. "title"
  std::string_view prefix;  // Xapian term prefix
  Xapian::termcount weight;
};

inline constexpr TextField kTitle{"title", "S", 4};
inline constexpr TextField kTakeaway{"takeaway", "XA", 3};
inline constexpr TextField kTopicText{"topics", "XK", 2};
// The body has no prefixed copy: it is most of the text, and a second copy would double the
// index and halve indexing speed for a `body:` syntax nobody needs (plain words search it).
inline constexpr TextField kBody{"body", "", 1};
inline constexpr TextField kJournalText{"journaltext", "XN", 1};
inline constexpr TextField kTextFields[] = {kTitle, kTakeaway, kTopicText, kBody, kJournalText};

// Boolean (filter) prefixes. Values are lowercase slugs, so no ':' separator is ever needed.
inline constexpr std::string_view kIdPrefix = "Q";         // Q<id>: unique id term
inline constexpr std::string_view kTopicPrefix = "XT";     // XT<topic-slug>
inline constexpr std::string_view kJournalPrefix = "XJ";   // XJ<journal-slug>
inline constexpr std::string_view kYearPrefix = "Y";       // Y2025

// Value slots.
enum Slot : Xapian::valueno {
  kSlotDate = 0,         // "YYYYMMDD" (sorts as a string; DateRangeProcessor reads it)
  kSlotTopics = 1,       // encode_topic_set(): the article's sorted topic set
  kSlotCredibility = 2,  // sortable_serialise(1..5), empty when unknown
  kSlotInterest = 3,     // sortable_serialise(1..5), empty when unknown
  kSlotContentHash = 4,  // hex content hash (incremental reindex compares it)
  kSlotYear = 5,         // "2025"
  kSlotJournal = 6,      // journal display name
  kSlotSource = 7,       // absolute path of the source file (scope of deletions)
};

// Lowercase ASCII slug: "Autoimmune neuroinflammatory response" -> "autoimmune-neuroinflammatory-response".
// Non-ASCII letters are kept as they are (after the caller's folding), separators become '-'.
std::string slug(std::string_view text);

// Checks the schema version stamped in the database metadata.
// Returns kSchemaMismatch, naming both versions, when it is not kSchemaVersion.
Result<void> check_version(const Xapian::Database& db);

// The topic set of one article in one value slot: sorted, '\n'-separated display names.
// Facet counting splits it again, so that an article with three topics counts in each.
std::string encode_topic_set(std::vector<std::string> topics);
std::vector<std::string> decode_topic_set(std::string_view value);

std::string id_term(std::string_view id);
std::string topic_term(std::string_view topic);
std::string journal_term(std::string_view journal);
std::string year_term(int year);

// "2025-03-01" -> "20250301".
std::string date_value(std::string_view iso_date);

}  // namespace mssearch::schema
