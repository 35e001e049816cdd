// The index schema: every term prefix, value slot and metadata key mssearch writes, in one
// place. The indexer writes with these names and the searcher reads with them, so the two
// sides cannot disagree. Bump kSchemaVersion whenever a change here makes old indexes unreadable.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <xapian.h>

#include "schema/article.h"
#include "schema/error.h"

namespace mssearch::schema {

inline constexpr int kSchemaVersion = 2;
// What each document holds, within one schema version: an index written by an older format
// stays readable, and the content hash (which includes this) makes the next incremental run
// rewrite each article once in the current one. 2: stored articles compressed with zstd, and
// kSlotFeedbackTerms. 3: the stored sections' texts in a frame after the fields' (encode_stored), and
// each field's positions from a base of its own (kFieldPositions). 4: a section's heading
// searched with its text, unless it is one of the site's own (is_site_section_heading).
inline constexpr int kDocumentFormat = 4;

// The positions of the words of each field begin at a multiple of this: title 0, takeaway 4096,
// topics 8192, journal 12288, then the body's sections, one after the other from 16384 (a field
// longer than its share pushes the next one on). A phrase never spans two fields or sections.
inline constexpr unsigned kFieldPositions = 1u << 12;

// Metadata keys stored in the database.
inline constexpr std::string_view kMetaSchemaVersion = "mssearch.schema_version";
inline constexpr std::string_view kMetaIndexedAt = "mssearch.indexed_at";
// The index's revision before this generation: a --full rebuild starts a new database, whose
// Xapian revision starts again at 1; revision() adds this, so that it only ever grows.
inline constexpr std::string_view kMetaRevisionBase = "mssearch.revision_base";

// Phrases of common words (a bound on the slowest phrases, as Lucene's CommonGrams): a full
// build picks the words that at least kPairWordShare of a sample of its articles hold (the
// first kPairWordSample; at most kMaxPairWords words) and stores them here, sorted and
// space-separated; every article then also has the boolean term pair_term(a, b) for each two of
// these words that stand side by side in it (positions p and p + 1, as an exact phrase checks).
// Incremental runs keep the list the index has (none for an index built before it). A phrase
// of such a pair is searched filtered by that term: the same matches and weights (a filter adds
// none), with positions read only where the pair occurs.
inline constexpr std::string_view kMetaPairWords = "mssearch.pair_words";
// The Xapian revision of the last commit that paired its articles with the list: a commit by an
// mssearch that does not know pairs (a rollback) writes articles without them and leaves the
// list, so the list holds only while this is the database's revision (pair_words_of()).
inline constexpr std::string_view kMetaPairWordsRevision = "mssearch.pair_words_revision";
inline constexpr std::string_view kPairPrefix = "XP";
inline constexpr double kPairWordShare = 0.5;
inline constexpr std::size_t kPairWordSample = 500;
// ... and that many articles of the whole build at least (a phrase is cheap where few hold it):
// a collection of fewer than twice this has none.
inline constexpr std::size_t kPairMinArticles = 1000;
inline constexpr std::size_t kMaxPairWords = 1000;
using PairWords = std::set<std::string, std::less<>>;
std::string pair_term(std::string_view first, std::string_view second);
std::string encode_pair_words(const PairWords& words);
PairWords decode_pair_words(std::string_view stored);
// The database's pair words when every article of it was paired with them (its last commit
// was one that paired); none otherwise.
PairWords pair_words_of(const Xapian::Database& db);
// The list stored but no longer vouched for by the last commit (see kMetaPairWordsRevision).
bool pair_words_stale(const Xapian::Database& db);
// A word a pair list may hold: an unprefixed, positional index term (not a field's prefixed
// copy or a stem, which begin with a capital letter), short enough for a pair term.
bool is_pair_word(std::string_view term);

// The longest term a glass database accepts (Xapian throws "Term too long" past it, which
// would end the whole job): every term an article makes is checked against it first.
inline constexpr std::size_t kMaxTermBytes = 245;

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

// The fields a query names (`title:microglia`, `topic:fatigue`), one list for the parser, the
// planner, "did you mean" and the operator folding, so that none of them knows a field the
// others do not. Text fields search their prefixed copy; filter fields are exact terms, their
// values slugs (`slug_value`) or as typed (`year:2025`, `id:…`). `date:` is a range, not a
// term: kDateFieldName.
inline constexpr TextField kQueryTextFields[] = {kTitle, kTakeaway};
struct FilterField {
  std::string_view name;    // as typed before ':'
  std::string_view prefix;  // its terms' prefix
  bool slug_value;          // the value is slugged (topic and journal names)
};
inline constexpr FilterField kFilterFields[] = {
    {"topic", kTopicPrefix, true}, {"journal", kJournalPrefix, true}, {"year", kYearPrefix, false}, {"id", kIdPrefix, false}};
inline constexpr std::string_view kDateFieldName = "date";
// The length of the filter field `text` starts with (`topic:`, `Journal:`…, any case), else 0.
std::size_t filter_field_length(std::string_view text);
// Whether a chunk of a query may begin at `at`: a field's name is one there (`topic:` after a
// space, a bracket or a sign), not inside a word (`mytopic:`).
bool at_chunk_start(std::string_view text, std::size_t at);

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
  // encode_feedback_terms(): the article's possible expansion terms with their wdf, what
  // feedback reads from its best hits instead of their whole term lists (which Xapian inflates).
  kSlotFeedbackTerms = 8,
};

// Lowercase ASCII slug: "Autoimmune neuroinflammatory response" -> "autoimmune-neuroinflammatory-response".
// Non-ASCII letters are kept as they are (after the caller's folding), separators become '-'.
std::string slug(std::string_view text);

// The code for a Xapian error: kCorrupt when Xapian says the database is damaged
// (DatabaseCorruptError, or a plain DatabaseError without an errno: a table cut short), else
// kDatabase (also a read the system refused: EIO, ESTALE).
ErrorCode error_code_of(const Xapian::Error& e);

// Whether `db` is another program's Xapian database rather than an mssearch index: it holds
// documents but neither kMetaSchemaVersion nor kMetaIndexedAt, which every mssearch commit has
// written since the first schema (an empty database is a new index). The one test: every command
// refuses such a database, before it reads or writes anything there, with foreign_database_error
// (index_path.h: foreign_database_problem, open_index; a remote shard), never advising a rebuild
// into it.
bool is_foreign_database(const Xapian::Database& db);
// What every command says of one (`where`: its path, or "shard tcp://…"): kIo.
Error foreign_database_error(const std::string& where);

// Checks the schema version stamped in the database metadata.
// Returns kSchemaMismatch, naming both versions, when it is not kSchemaVersion.
Result<void> check_version(const Xapian::Database& db);

// The topic set of one article in one value slot: sorted, '\n'-separated display names.
// Facet counting splits it again, so that an article with three topics counts in each.
std::string encode_topic_set(std::vector<std::string> topics);
std::vector<std::string> decode_topic_set(std::string_view value);

// The possible expansion terms of one article, for pseudo-relevance feedback: its stems
// ("Z"-prefixed, as queries match them) that is_expansion_term() accepts, with their wdf, in
// term order. Front-coded without the "Z" (for each term the bytes it shares with the previous
// one and the length of the rest as varints, the rest, then its wdf as a varint), in a zstd
// frame (1.5 KB -> 0.8 KB for a generated article of 400 words, 4 us to read back).
using TermWdfs = std::vector<std::pair<std::string, Xapian::termcount>>;
std::string front_coded_terms(const TermWdfs& terms);                // the plain bytes
std::string encode_feedback_terms(const TermWdfs& terms);            // those in a zstd frame
// The plain bytes of a stored value (either form); empty when the frame is damaged.
std::string feedback_terms_bytes(std::string_view value);

// Reads front-coded terms in order: while (r.next()) use r.term() ("Z" + stem), r.wdf();
// damaged() tells whether it stopped short of the end.
class FeedbackTermsReader {
 public:
  explicit FeedbackTermsReader(std::string_view bytes) : bytes_(bytes) {}
  bool next();
  const std::string& term() const { return term_; }
  Xapian::termcount wdf() const { return wdf_; }
  bool damaged() const { return damaged_; }

 private:
  bool varint(std::uint64_t& out);
  std::string_view bytes_;
  std::size_t at_ = 0;
  std::string term_ = "Z";
  Xapian::termcount wdf_ = 0;
  bool damaged_ = false;
};

// Calls visit(term, wdf) for each term of a stored value in order. Returns false (after the
// terms before the damage) if the value is damaged.
template <typename Visit>
bool decode_feedback_terms(std::string_view stored, Visit&& visit) {
  const std::string bytes = feedback_terms_bytes(stored);
  if (bytes.empty()) return stored.empty();
  FeedbackTermsReader reader(bytes);
  while (reader.next()) visit(reader.term(), reader.wdf());
  return !reader.damaged();
}

// The revision of one database as mssearch reports it (stats, the index report, /readyz):
// kMetaRevisionBase + Xapian's revision. It grows with every commit and across --full rebuilds.
Xapian::rev revision(const Xapian::Database& db);

// The boolean (filter) terms of an article: its id, topics, journal and year. Document builder
// and validation share this, so no term the builder adds escapes the length check.
std::vector<std::string> boolean_terms(const Article& article);
// The first boolean term over kMaxTermBytes, with the field it comes from ("topics"...), or
// nothing. Free-text words are cut by the term generator (64 bytes) and need no check.
std::optional<std::pair<std::string, std::string>> overlong_term(const Article& article);

// An article's id: 1 to kMaxIdBytes letters, digits, '-', '_' or '.', starting with a letter or
// digit ("." and ".." would make the links /articles/. and /articles/..). The one rule for the
// articles read, the ids a request names and the shard protocol's.
inline constexpr std::size_t kMaxIdBytes = 200;
bool valid_article_id(std::string_view id);

std::string id_term(std::string_view id);
std::string topic_term(std::string_view topic);
std::string journal_term(std::string_view journal);
std::string year_term(int year);

// "2025-03-01" -> "20250301".
std::string date_value(std::string_view iso_date);
// Whether `d` is a real date written YYYY-MM-DD (not 2025-13-01 or 2025-02-30): the one check
// for articles' dates, the since/until filters and the query's date: ranges.
bool is_iso_date(std::string_view d);

}  // namespace mssearch::schema
