#include "searcher/searcher.h"

#include <algorithm>
#include <chrono>
#include <map>

#include <nlohmann/json.hpp>

#include "schema/article.h"
#include "schema/index_path.h"
#include "schema/schema.h"

namespace mssearch {

namespace {

constexpr unsigned kPartialFlag = Xapian::QueryParser::FLAG_PARTIAL;
constexpr unsigned kSyntaxFlags =
    Xapian::QueryParser::FLAG_DEFAULT | Xapian::QueryParser::FLAG_WILDCARD |
    Xapian::QueryParser::FLAG_PURE_NOT | Xapian::QueryParser::FLAG_SPELLING_CORRECTION;

std::vector<FacetValue> sorted_facets(std::map<std::string, Xapian::doccount> counts) {
  std::vector<FacetValue> out;
  for (auto& [value, count] : counts)
    if (!value.empty()) out.push_back({value, count});
  std::stable_sort(out.begin(), out.end(),
                   [](const FacetValue& a, const FacetValue& b) { return a.count > b.count; });
  return out;
}

std::map<std::string, Xapian::doccount> spy_counts(const Xapian::ValueCountMatchSpy& spy,
                                                   bool split_topic_sets) {
  std::map<std::string, Xapian::doccount> counts;
  for (auto it = spy.values_begin(); it != spy.values_end(); ++it) {
    if (split_topic_sets) {
      for (auto& topic : schema::decode_topic_set(*it)) counts[topic] += it.get_termfreq();
    } else {
      counts[*it] += it.get_termfreq();
    }
  }
  return counts;
}

}  // namespace

Result<Searcher> Searcher::open(const SearcherOptions& options) {
  auto db = open_index(options.db_path);
  if (!db) return std::unexpected(db.error());
  return Searcher(options, std::move(*db));
}

Searcher::Searcher(const SearcherOptions& options, Xapian::Database db)
    : options_(options), db_(std::move(db)), parser_(analyzer_.make_query_parser(db_)) {
  parser_.set_max_expansion(options_.max_wildcard_expansion,
                            Xapian::Query::WILDCARD_LIMIT_MOST_FREQUENT);
}

Xapian::Query Searcher::parse(const std::string& text, bool partial, std::string* corrected) {
  const std::string folded = analyzer_.fold_query(text);
  const unsigned flags = kSyntaxFlags | (partial ? kPartialFlag : 0u);
  try {
    Xapian::Query q = parser_.parse_query(folded, flags);
    if (corrected) *corrected = parser_.get_corrected_query_string();
    return q;
  } catch (const Xapian::QueryParserError&) {
    // Not valid syntax (a stray quote, bracket or operator): search its plain words.
    std::string plain;
    for (char c : folded) plain += (static_cast<unsigned char>(c) >= 0x80 || std::isalnum(static_cast<unsigned char>(c))) ? c : ' ';
    return parser_.parse_query(plain, partial ? kPartialFlag : 0u);
  }
}

Xapian::Query Searcher::filters(const SearchRequest& r) const {
  std::vector<Xapian::Query> all;
  auto any_of = [&](const auto& values, auto make_term) {
    if (values.empty()) return;
    std::vector<Xapian::Query> terms;
    for (const auto& v : values) terms.emplace_back(make_term(v));
    all.emplace_back(Xapian::Query::OP_OR, terms.begin(), terms.end());
  };
  any_of(r.topics, [](const std::string& t) { return schema::topic_term(t); });
  any_of(r.journals, [](const std::string& j) { return schema::journal_term(j); });
  any_of(r.years, [](int y) { return schema::year_term(y); });
  if (!r.since.empty() || !r.until.empty()) {
    const std::string lo = schema::date_value(r.since.empty() ? "0000-00-00" : r.since);
    const std::string hi = schema::date_value(r.until.empty() ? "9999-99-99" : r.until);
    all.emplace_back(Xapian::Query::OP_VALUE_RANGE, schema::kSlotDate, lo, hi);
  }
  if (r.min_credibility)
    all.emplace_back(Xapian::Query::OP_VALUE_GE, schema::kSlotCredibility,
                     Xapian::sortable_serialise(*r.min_credibility));
  if (all.empty()) return Xapian::Query();
  return Xapian::Query(Xapian::Query::OP_AND, all.begin(), all.end());
}

SearchHit Searcher::make_hit(const Xapian::MSet& mset, const Xapian::MSetIterator& it) const {
  const Article a = from_stored_json(nlohmann::json::parse(it.get_document().get_data()));
  SearchHit hit{a.id, a.title, a.url, a.date, a.journal, a.takeaway, a.topics, it.get_weight(), ""};
  // One line of text: snippets are shown inline, so paragraph breaks become spaces.
  std::string text = a.takeaway.empty() ? a.body_text : a.takeaway + " " + a.body_text;
  std::replace(text.begin(), text.end(), '\n', ' ');
  text.erase(std::unique(text.begin(), text.end(), [](char x, char y) { return x == ' ' && y == ' '; }),
             text.end());
  hit.snippet = mset.snippet(text, options_.snippet_length, analyzer_.stemmer(),
                             Xapian::MSet::SNIPPET_BACKGROUND_MODEL | Xapian::MSet::SNIPPET_EXHAUSTIVE,
                             "<mark>", "</mark>", "…");
  return hit;
}

Result<SearchResult> Searcher::search(const SearchRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  if (request.query.size() > options_.max_query_bytes)
    return fail(ErrorCode::kBadQuery, "query is " + std::to_string(request.query.size()) +
                                          " bytes long; the limit is " +
                                          std::to_string(options_.max_query_bytes));
  SearchResult result;
  result.query = request.query;
  try {
    std::string corrected;
    Xapian::Query query = request.query.find_first_not_of(" \t\r\n") == std::string::npos
                              ? Xapian::Query::MatchAll
                              : parse(request.query, request.partial, &corrected);
    if (query.get_num_subqueries() > options_.max_query_terms ||
        static_cast<std::size_t>(std::distance(query.get_unique_terms_begin(),
                                               query.get_unique_terms_end())) > options_.max_query_terms)
      return fail(ErrorCode::kBadQuery, "query has too many terms; the limit is " +
                                            std::to_string(options_.max_query_terms));
    if (Xapian::Query f = filters(request); !f.empty())
      query = Xapian::Query(Xapian::Query::OP_FILTER, query, f);

    Xapian::Enquire enquire(db_);
    enquire.set_query(query);
    if (request.sort == SortOrder::kDate || query.get_type() == Xapian::Query::LEAF_MATCH_ALL)
      enquire.set_sort_by_value_then_relevance(schema::kSlotDate, true);
    Xapian::ValueCountMatchSpy topics(schema::kSlotTopics), years(schema::kSlotYear),
        journals(schema::kSlotJournal);
    enquire.add_matchspy(&topics);
    enquire.add_matchspy(&years);
    enquire.add_matchspy(&journals);

    const std::size_t offset = std::min(request.offset, options_.max_offset);
    const std::size_t limit = std::min(request.limit, options_.max_limit);
    Xapian::MSet mset = enquire.get_mset(static_cast<Xapian::doccount>(offset),
                                         static_cast<Xapian::doccount>(limit), db_.get_doccount());
    result.total = mset.get_matches_estimated();
    result.total_is_exact = mset.get_matches_lower_bound() == mset.get_matches_upper_bound();
    for (auto it = mset.begin(); it != mset.end(); ++it) result.hits.push_back(make_hit(mset, it));
    result.topic_facets = sorted_facets(spy_counts(topics, true));
    result.year_facets = sorted_facets(spy_counts(years, false));
    result.journal_facets = sorted_facets(spy_counts(journals, false));
    if (!corrected.empty()) result.did_you_mean = corrected;
  } catch (const Xapian::Error& e) {
    return fail(ErrorCode::kDatabase, "search failed: " + e.get_description());
  }
  result.took_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace mssearch
