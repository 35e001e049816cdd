#include "indexer/document_builder.h"

#include <algorithm>
#include <set>
#include <unordered_map>
#include <stdexcept>

#include <xxhash.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "schema/schema.h"

namespace mssearch {

namespace {

// XXH3 over a sequence of length-prefixed fields: two articles hash alike only when every
// field is equal (no field can run into the next), with nothing serialised in between.
class FieldHasher {
 public:
  FieldHasher() : state_(XXH3_createState()) {
    if (state_ == nullptr) throw std::bad_alloc();
    XXH3_64bits_reset(state_);
  }
  ~FieldHasher() { XXH3_freeState(state_); }
  FieldHasher(const FieldHasher&) = delete;
  FieldHasher& operator=(const FieldHasher&) = delete;

  void number(std::uint64_t n) {
    unsigned char bytes[8];
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(n >> (8 * i));
    XXH3_64bits_update(state_, bytes, sizeof bytes);
  }
  void text(std::string_view s) {
    number(s.size());
    XXH3_64bits_update(state_, s.data(), s.size());
  }
  void rating(const std::optional<int>& r) { number(r ? static_cast<std::uint64_t>(*r) + 1 : 0); }
  std::uint64_t digest() const { return XXH3_64bits_digest(state_); }

 private:
  XXH3_state_t* state_;
};

}  // namespace

std::string content_hash(const Article& a) {
  // Everything stored (to_stored_json's fields) but the file's path, the Markdown source and
  // the schema version. The path is compared apart (the indexer: as named and as it resolves),
  // so that one folder named through a link, relative or absolute is one source, and a
  // release folder swapped behind one link name is too.
  FieldHasher h;
  h.number(static_cast<std::uint64_t>(schema::kSchemaVersion));
  h.number(static_cast<std::uint64_t>(schema::kDocumentFormat));
  for (std::string_view field : {std::string_view(a.id), std::string_view(a.title), std::string_view(a.date),
                                 std::string_view(a.journal), std::string_view(a.takeaway),
                                 std::string_view(a.url),
                                 std::string_view(a.body_markdown)})
    h.text(field);
  h.number(a.topics.size());
  for (const auto& t : a.topics) h.text(t);
  h.number(a.sections.size());
  for (const auto& s : a.sections) {
    h.text(s.heading);
    h.text(s.text);
  }
  h.rating(a.credibility);
  h.rating(a.interest);
  return fmt::format("{:016x}", h.digest());
}

DocumentBuilder::DocumentBuilder(const TextAnalyzer& analyzer,
                                 Xapian::WritableDatabase* spelling_db)
    : analyzer_(analyzer), generator_(analyzer.make_term_generator(spelling_db)) {}

void DocumentBuilder::index_fields(const Article& a) {
  std::string topics_text;
  for (const auto& t : a.topics) topics_text += t + ". ";
  // Each field's words are numbered from a position of its own (past the field before it when
  // that one is longer), as Lucene numbers positions per field: an edit of one field leaves the
  // others' positions as they were, and replacing the article rewrites their position lists
  // with the same bytes, in place. Numbered on from the field before, an edited takeaway moved
  // every body word's position: each position list of the article grew or shrank a little, and
  // Xapian split nearly every full block of the position table (a 1 % reindex of 10k articles
  // took the table from 39 to 69 MB; now 41 MB).
  const auto field_at = [&](Xapian::termpos base) {
    generator_.set_termpos(std::max(base, generator_.get_termpos()));
  };
  field_at(0);
  analyzer_.index_field(generator_, schema::kTitle, a.title);
  field_at(schema::kFieldPositions);
  analyzer_.index_field(generator_, schema::kTakeaway, a.takeaway);
  field_at(2 * schema::kFieldPositions);
  analyzer_.index_field(generator_, schema::kTopicText, topics_text);
  field_at(3 * schema::kFieldPositions);
  analyzer_.index_field(generator_, schema::kJournalText, a.journal);
  // The body section by section, each from a base of its own too: an edit of one section
  // leaves the positions of the others as they were.
  if (a.sections.empty()) {
    field_at(4 * schema::kFieldPositions);
    analyzer_.index_field(generator_, schema::kBody, a.body_text);
  }
  // A section's heading is searched as its text is, unless it is one of the site's own, which
  // every article has (helper-91: `## Ocrelizumab in pregnancy` found nothing by its words).
  for (std::size_t i = 0; i < a.sections.size(); ++i) {
    field_at(static_cast<Xapian::termpos>(4 + i) * schema::kFieldPositions);
    const ArticleSection& section = a.sections[i];
    // Indexed apart, as fields are: a phrase does not run from the heading into the text
    // (`"pregnancy some text"`; helper-92).
    if (!section.heading.empty() && !is_site_section_heading(section.heading))
      analyzer_.index_field(generator_, schema::kBody, section.heading);
    analyzer_.index_field(generator_, schema::kBody, section.text);
  }
}

std::vector<std::string> DocumentBuilder::words(const Article& a) {
  Xapian::Document doc;
  generator_.set_document(doc);
  index_fields(a);
  std::vector<std::string> out;
  for (auto t = doc.termlist_begin(); t != doc.termlist_end(); ++t)
    if (schema::is_pair_word(*t)) out.push_back(*t);
  return out;
}

void DocumentBuilder::add_pair_terms(Xapian::Document& doc) const {
  if (!pair_words_ || pair_words_->empty()) return;
  // Each position the list's words stand at, with the words there (a compound's joined form
  // can share a position with a word): a pair for every word at p and every word at p + 1,
  // exactly the condition an exact phrase of two words checks.
  std::vector<std::string> words;
  std::vector<std::pair<Xapian::termpos, std::size_t>> at;  // (position, index in words)
  for (auto t = doc.termlist_begin(); t != doc.termlist_end(); ++t) {
    std::string term = *t;
    if (!pair_words_->contains(term)) continue;
    for (auto p = t.positionlist_begin(); p != t.positionlist_end(); ++p) at.emplace_back(*p, words.size());
    words.push_back(std::move(term));
  }
  std::sort(at.begin(), at.end());
  std::set<std::string> pairs;
  for (std::size_t i = 0; i < at.size(); ++i)
    for (std::size_t j = i + 1; j < at.size() && at[j].first <= at[i].first + 1; ++j)
      if (at[j].first == at[i].first + 1) pairs.insert(schema::pair_term(words[at[i].second], words[at[j].second]));
  for (const auto& term : pairs) doc.add_boolean_term(term);
}

Xapian::Document DocumentBuilder::build(const Article& a, const std::string& hash) {
  Xapian::Document doc;
  doc.set_data(encode_stored(a));
  generator_.set_document(doc);
  index_fields(a);
  add_pair_terms(doc);

  // The job checked these against Xapian's term length limit (schema::overlong_term) first.
  for (const auto& term : schema::boolean_terms(a)) doc.add_boolean_term(term);

  doc.add_value(schema::kSlotDate, schema::date_value(a.date));
  doc.add_value(schema::kSlotTopics, schema::encode_topic_set(a.topics));
  if (a.credibility)
    doc.add_value(schema::kSlotCredibility, Xapian::sortable_serialise(*a.credibility));
  if (a.interest) doc.add_value(schema::kSlotInterest, Xapian::sortable_serialise(*a.interest));
  doc.add_value(schema::kSlotContentHash, hash);
  doc.add_value(schema::kSlotYear, std::to_string(a.year()));
  if (!a.journal.empty()) doc.add_value(schema::kSlotJournal, a.journal);
  doc.add_value(schema::kSlotSource, a.source);

  // Feedback's view of the article: its possible expansion terms (the Z-prefixed stems, which
  // sort together) with their wdf.
  // Every term within Xapian's limit (the reader checks the fields that make filter terms, and
  // words past 64 bytes are skipped; this is the last line).
  schema::TermWdfs stems;
  for (auto t = doc.termlist_begin(); t != doc.termlist_end(); ++t) {
    const std::string term = *t;
    if (term.size() > schema::kMaxTermBytes)
      throw std::length_error(fmt::format("it makes an index term of {} bytes ('{}…'); Xapian's limit is {}",
                                          term.size(), term.substr(0, 40), schema::kMaxTermBytes));
    if (term[0] == 'Z' && is_expansion_term(term)) stems.emplace_back(term, t.get_wdf());
  }
  doc.add_value(schema::kSlotFeedbackTerms, schema::encode_feedback_terms(stems));
  return doc;
}

schema::PairWords choose_pair_words(const std::vector<const Article*>& sample, std::size_t articles,
                                    const TextAnalyzer& analyzer, double share, std::size_t min_articles) {
  schema::PairWords chosen;
  if (sample.size() < 20) return chosen;
  DocumentBuilder builder(analyzer, nullptr);
  std::unordered_map<std::string, std::size_t> held;
  for (const Article* a : sample)
    for (auto& w : builder.words(*a)) ++held[std::move(w)];
  const double n = static_cast<double>(sample.size());
  const double least = std::max(share * n, static_cast<double>(min_articles) * n / static_cast<double>(std::max<std::size_t>(articles, 1)));
  std::vector<std::pair<std::size_t, std::string>> common;
  for (auto& [word, count] : held)
    if (static_cast<double>(count) >= least) common.emplace_back(count, word);
  std::sort(common.begin(), common.end(), [](const auto& x, const auto& y) {
    return x.first != y.first ? x.first > y.first : x.second < y.second;
  });
  if (common.size() > schema::kMaxPairWords) common.resize(schema::kMaxPairWords);
  for (auto& [count, word] : common) chosen.insert(std::move(word));
  return chosen;
}

}  // namespace mssearch
