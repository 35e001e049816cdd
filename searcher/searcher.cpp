#include "searcher/searcher.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "schema/article.h"
#include "schema/index_path.h"
#include "schema/schema.h"
#include "searcher/match_set.h"

namespace mssearch {

namespace {

using QP = Xapian::QueryParser;
constexpr unsigned kPartialFlag = QP::FLAG_PARTIAL;
constexpr unsigned kSyntaxFlags = QP::FLAG_PHRASE | QP::FLAG_BOOLEAN | QP::FLAG_LOVEHATE |
                                  QP::FLAG_WILDCARD | QP::FLAG_PURE_NOT;

std::vector<FacetValue> sorted_facets(const std::map<std::string, Xapian::doccount>& counts) {
  std::vector<FacetValue> out;
  for (const auto& [value, count] : counts)
    if (!value.empty()) out.push_back({value, count});
  std::stable_sort(out.begin(), out.end(),
                   [](const FacetValue& a, const FacetValue& b) { return a.count > b.count; });
  return out;
}

// A ValueCountMatchSpy counts one string per slot; the topic slot holds an article's whole
// topic set, so each counted set is split and its count added to every topic in it.
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

std::string plain_words(const std::string& text) {
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x80 || std::isalnum(u) != 0) ? c : ' ';
  }
  return out;
}

int current_year() {
  const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  return static_cast<int>(std::chrono::year_month_day(today).year());
}

// The parts joined by spaces, on one line: newlines become spaces, runs of spaces one space.
std::string one_line(std::initializer_list<std::string_view> parts) {
  std::size_t size = 0;
  for (auto part : parts) size += part.size() + 1;
  std::string out;
  out.resize_and_overwrite(size, [&](char* begin, std::size_t) {
    char* end = begin;
    for (auto part : parts) {
      if (end != begin && end[-1] != ' ') *end++ = ' ';
      for (char c : part) {
        if (c == '\n') c = ' ';
        if (c != ' ' || (end != begin && end[-1] != ' ')) *end++ = c;
      }
    }
    return static_cast<std::size_t>(end - begin);
  });
  return out;
}

// The text a snippet is taken from: the takeaway and the body on one line, at most the first
// 64 KiB (a summary is a few KB; an article of megabytes must not cost seconds a hit).
std::string snippet_source(const Article& a) {
  constexpr std::size_t kMaxSnippetSource = 64 << 10;
  std::string_view body = a.body_text;
  if (body.size() > kMaxSnippetSource) {
    std::size_t end = kMaxSnippetSource;
    while (end > 0 && (static_cast<unsigned char>(body[end]) & 0xC0) == 0x80) --end;  // whole characters
    body = body.substr(0, end);
  }
  return one_line({a.takeaway, body});
}

}  // namespace

Result<Searcher> Searcher::open(const SearcherOptions& options) {
  auto synonyms = SynonymTable::load(options.synonyms_path);
  if (!synonyms) return std::unexpected(synonyms.error());
  return open(options, std::make_shared<const SynonymTable>(std::move(*synonyms)));
}

Result<Searcher> Searcher::open(const SearcherOptions& options,
                                std::shared_ptr<const SynonymTable> synonyms) {
  std::vector<std::string> specs =
      options.databases.empty() ? std::vector<std::string>{options.db_path.string()} : options.databases;
  // No documents, only spelling data: Database::add_database merges it into the suggestions.
  if (!options.spelling_database.empty()) specs.push_back(options.spelling_database.string());
  auto shards = ShardSet::open(specs, options.remote);
  if (!shards) return std::unexpected(shards.error());
  try {
    return Searcher(options, std::move(*shards), std::move(synonyms));
  } catch (const Xapian::Error& e) {
    return fail(schema::error_code_of(e), "reading index " + specs.front() + ": " + e.get_description());
  }
}

Searcher::Searcher(const SearcherOptions& options, ShardSet shards,
                   std::shared_ptr<const SynonymTable> synonyms)
    : options_(options),
      shards_(std::move(shards)),
      db_(shards_.database()),
      parser_(analyzer_.make_query_parser(db_)),
      synonyms_(std::move(synonyms)),
      weight_(make_weight(options_.ranking)),
      single_local_(false),
      this_year_(current_year()) {
  // A wildcard that matches too much is an error the editor should see; a prefix being typed
  // just uses its most frequent completions.
  parser_.set_max_expansion(options_.max_wildcard_expansion, Xapian::Query::WILDCARD_LIMIT_ERROR,
                            QP::FLAG_WILDCARD);
  parser_.set_max_expansion(options_.max_wildcard_expansion,
                            Xapian::Query::WILDCARD_LIMIT_MOST_FREQUENT, QP::FLAG_PARTIAL);
  parser_.set_default_op(options_.ranking.default_and ? Xapian::Query::OP_AND : Xapian::Query::OP_OR);
  if (options_.ranking.stop_words) parser_.set_stopper(&english_stop_words());
  load_topics();
}

void Searcher::use_database() {
  db_ = shards_.database();
  parser_.set_database(db_);
  load_topics();
}

Result<bool> Searcher::refresh() {
  try {
    auto changed = shards_.refresh();
    if (!changed) return std::unexpected(changed.error());
    if (*changed) use_database();
    return *changed;
  } catch (const Xapian::Error& e) {
    return fail(ErrorCode::kDatabase, "reopening index " + options_.db_path.string() + ": " + e.get_description());
  }
}

void Searcher::load_topics() {
  // Columns are keyed by docid, which a match spy sees per sub-database: one local database only.
  single_local_ = db_.size() == 1 &&
                  std::none_of(options_.databases.begin(), options_.databases.end(), &ShardSet::is_remote);
  if (single_local_) columns_.load(db_);
  collection_freqs_.clear();
  std::map<std::string, Xapian::doccount> counts;
  for (auto v = db_.valuestream_begin(schema::kSlotTopics); v != db_.valuestream_end(schema::kSlotTopics); ++v)
    for (auto& topic : schema::decode_topic_set(*v)) ++counts[topic];
  topics_ = sorted_facets(counts);
}

Xapian::Query Searcher::parse(const std::string& folded, bool partial) {
  const unsigned partial_flag = partial ? kPartialFlag : 0u;
  // Hyphenated words as words (RankingOptions::hyphens_as_words); under AND, the phrase Xapian
  // makes of them is the stricter reading, and a compound's joined form is not required.
  const bool split = options_.ranking.hyphens_as_words && !options_.ranking.default_and;
  std::string text = synonyms_->expand(split ? hyphenated_as_words(folded) : folded, partial);
  unsigned flags = kSyntaxFlags | partial_flag;
  Xapian::Query query;
  try {
    query = parser_.parse_query(text, flags);
  } catch (const Xapian::QueryParserError&) {
    // Not valid syntax (a stray quote, bracket or operator): search its plain words, with
    // operators lower-cased into words; the synonym groups added are always well formed.
    text = synonyms_->expand(fold_text(plain_words(folded)), partial);
    flags = QP::FLAG_BOOLEAN | QP::FLAG_PHRASE | partial_flag;
    try {
      query = parser_.parse_query(text, flags);
    } catch (const Xapian::QueryParserError&) {
      text = fold_text(plain_words(folded));
      flags = partial_flag;
      query = parser_.parse_query(text, flags);
    }
  }
  if (!partial) query = with_exact_forms(query, plain_terms(text), options_.ranking);
  if (options_.ranking.all_words_boost <= 0 || options_.ranking.default_and) return query;
  // All words matter: the same query with AND between the words adds its weight to the
  // articles that have them all.
  parser_.set_default_op(Xapian::Query::OP_AND);
  Xapian::Query all_words = parser_.parse_query(text, flags);
  parser_.set_default_op(Xapian::Query::OP_OR);
  if (all_words.get_num_subqueries() <= 1 && query.get_num_subqueries() <= 1) return query;
  return Xapian::Query(Xapian::Query::OP_AND_MAYBE, query,
                       Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, all_words, options_.ranking.all_words_boost));
}

std::vector<std::string> Searcher::plain_words_of(const std::string& text) {
  parser_.set_stemming_strategy(Xapian::QueryParser::STEM_NONE);
  Xapian::Query words;
  try {
    words = parser_.parse_query(plain_words(text), 0);
  } catch (const Xapian::QueryParserError&) {
  }
  parser_.set_stemming_strategy(analyzer_.query_stemming());
  return {words.get_terms_begin(), words.get_terms_end()};
}

std::vector<std::string> Searcher::plain_terms(const std::string& text) {
  // The query's words as unstemmed index terms, in order and with repeats (stop words dropped),
  // without syntax.
  if (options_.ranking.exact_weight <= 0) return {};
  return plain_words_of(text);
}

std::string Searcher::informative_words(const std::string& folded, std::size_t budget, std::size_t& dropped) {
  const std::vector<std::string> words = plain_words_of(folded);
  // Each distinct word once, with the number of articles its stem is in: the fewer, the more
  // it tells (a word no article has tells nothing and goes first).
  std::map<std::string, Xapian::doccount> frequency;
  for (const auto& w : words)
    if (!frequency.contains(w)) {
      const Xapian::doccount df = db_.get_termfreq("Z" + analyzer_.stemmer()(w));
      frequency[w] = df == 0 ? std::numeric_limits<Xapian::doccount>::max() : df;
    }
  std::vector<std::pair<Xapian::doccount, std::size_t>> order;  // (frequency, first position)
  std::map<std::string, std::size_t> first;
  for (std::size_t i = 0; i < words.size(); ++i)
    if (first.emplace(words[i], i).second) order.emplace_back(frequency[words[i]], i);
  std::sort(order.begin(), order.end());
  const std::size_t keep = std::min(budget, order.size());
  dropped = order.size() - keep;
  std::vector<std::size_t> kept;
  for (std::size_t i = 0; i < keep; ++i) kept.push_back(order[i].second);
  std::sort(kept.begin(), kept.end());
  std::string out;
  for (std::size_t i : kept) out += (out.empty() ? "" : " ") + words[i];
  return out;
}

std::string Searcher::spelling_correction(const std::string& folded) {
  // Parsed without FLAG_PARTIAL: under it the last word would never be corrected.
  std::string corrected;
  try {
    parser_.parse_query(folded, kSyntaxFlags | QP::FLAG_SPELLING_CORRECTION);
    corrected = parser_.get_corrected_query_string();
  } catch (const Xapian::QueryParserError&) {
    parser_.parse_query(plain_words(folded), QP::FLAG_SPELLING_CORRECTION);
    corrected = parser_.get_corrected_query_string();
  }
  // Xapian may "correct" a word the index has into a more frequent neighbour
  // (needles -> needed): only words the index does not know are corrected.
  const auto before = synonym_tokens(folded), after = synonym_tokens(corrected);
  if (corrected.empty() || before.size() != after.size()) return {};
  for (std::size_t i = 0; i < before.size(); ++i)
    if (before[i] != after[i] && db_.term_exists(before[i])) return {};
  return corrected;
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

namespace {

// The id of a document, from its id term (for naming a damaged article).
std::string id_of(const Xapian::Document& doc) {
  try {
    auto t = doc.termlist_begin();
    t.skip_to(std::string(schema::kIdPrefix));
    if (t != doc.termlist_end() && (*t).starts_with(schema::kIdPrefix)) return (*t).substr(schema::kIdPrefix.size());
  } catch (const Xapian::Error&) {
  }
  return "document " + std::to_string(doc.get_docid());
}

}  // namespace

Result<void> Searcher::check_request(const SearchRequest& r) const {
  // The same checks whoever asks (the HTTP parameters are checked on their way in too): a date
  // that is not one is an error, never a filter silently dropped.
  auto iso_date = [](const std::string& d) {
    if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
    for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
      if (d[i] < '0' || d[i] > '9') return false;
    const std::chrono::year_month_day ymd{std::chrono::year{std::stoi(d.substr(0, 4))},
                                          std::chrono::month{static_cast<unsigned>(std::stoi(d.substr(5, 2)))},
                                          std::chrono::day{static_cast<unsigned>(std::stoi(d.substr(8, 2)))}};
    return ymd.ok();
  };
  for (const auto& [name, value] : {std::pair{"since", &r.since}, std::pair{"until", &r.until}})
    if (!value->empty() && !iso_date(*value))
      return fail(ErrorCode::kBadQuery, std::string("'") + name + "' must be a date YYYY-MM-DD, not '" + *value + "'");
  if (r.min_credibility && (*r.min_credibility < 1 || *r.min_credibility > 5))
    return fail(ErrorCode::kBadQuery, "the minimum credibility must be from 1 to 5");
  return {};
}

std::optional<Article> Searcher::stored(const Xapian::Document& doc, StoredParts parts) {
  try {
    return decode_stored(doc.get_data(), parts);
  } catch (const std::runtime_error& e) {  // zstd, MessagePack and length errors
    warnings_.push_back("article '" + id_of(doc) + "' was left out: its stored data is damaged (" + e.what() +
                        "); `mssearch check` verifies the index, `mssearch index --full` rebuilds it");
    return std::nullopt;
  }
}

Result<Article> Searcher::stored_or_error(const Xapian::Document& doc, const std::string& id, StoredParts parts) {
  try {
    return decode_stored(doc.get_data(), parts);
  } catch (const std::runtime_error& e) {
    return fail(ErrorCode::kCorrupt, "article '" + id + "' is damaged in the index (" + e.what() +
                                         "); `mssearch index --full` rebuilds it");
  }
}

SearchHit Searcher::make_hit(const Article& a, double score) const {
  return SearchHit{a.id, a.title, a.url, a.date, a.journal, a.takeaway, a.topics, score, ""};
}

Result<SearchResult> Searcher::run(const SearchRequest& request, const Xapian::Query& text_query) {
  Xapian::Query query = text_query;
  if (Xapian::Query f = filters(request); !f.empty())
    query = Xapian::Query(Xapian::Query::OP_FILTER, query, f);

  const bool by_date =
      request.sort == SortOrder::kDate || text_query.get_type() == Xapian::Query::LEAF_MATCH_ALL;
  // Feedback not as-you-type: the next keystroke asks again, and a prefix's completions are no topic.
  const bool feedback = !by_date && !request.partial && options_.ranking.feedback_docs > 0 &&
                        options_.ranking.feedback_terms > 0 && options_.ranking.feedback_weight > 0;
  if (!by_date) query = with_boosts(query, options_.ranking, this_year_);

  Xapian::Enquire enquire(db_);
  enquire.set_query(query);
  enquire.set_weighting_scheme(*weight_);
  enquire.set_time_limit(options_.time_limit_seconds);
  if (by_date) enquire.set_sort_by_value_then_relevance(schema::kSlotDate, true);
  // Facets: from the in-memory columns for one local database, else from Xapian's
  // ValueCountMatchSpy (remote shards run the spies themselves and know only Xapian's own;
  // over several databases a spy sees each one's own document ids).
  Xapian::ValueCountMatchSpy topics(schema::kSlotTopics), years(schema::kSlotYear),
      journals(schema::kSlotJournal);
  FacetColumns::Spy columns(columns_);
  // One local database: the match set is read off the posting lists as a bitset (MatchSet), so
  // the weighted matcher need not visit every match for the total and the facets and can stop
  // early (check_at_least 0) once nothing else can reach the page. A phrase, a value range or a
  // wildcard past the expansion limit is the matcher's work either way: then one exhaustive
  // weighted pass counts.
  std::optional<MatchSet> matched;
  if (request.facets && single_local_ && MatchSet::reads_postings_only(db_, query, options_.max_wildcard_expansion))
    matched = MatchSet::of(db_, query, options_.max_wildcard_expansion);
  if (request.facets && !single_local_) {
    enquire.add_matchspy(&topics);
    enquire.add_matchspy(&years);
    enquire.add_matchspy(&journals);
  } else if (request.facets && !matched) {
    enquire.add_matchspy(&columns);
  }

  const auto offset = static_cast<Xapian::doccount>(std::min(request.offset, options_.max_offset));
  const auto limit = static_cast<Xapian::doccount>(std::min(request.limit, options_.max_limit));
  // One pass of the query as typed gives the total and the facets (or MatchSet does) and, with
  // feedback, the best hits that feedback learns from and the candidates it re-ranks (how many:
  // RankingOptions::feedback_depth).
  std::size_t steps = std::max<std::size_t>(options_.ranking.feedback_depth, 1);
  while (steps < 2 * (offset + limit)) steps *= 4;
  const auto depth = static_cast<Xapian::doccount>(std::max(options_.ranking.feedback_docs, steps));
  // Without MatchSet, checkatleast = every document: facet counts and the total are exact, not
  // estimates (unless the time limit cuts the counting short; total_is_exact then says so).
  const Xapian::doccount check = request.facets && !matched ? db_.get_doccount() : 0;
  const auto match_start = std::chrono::steady_clock::now();
  const Xapian::MSet mset = feedback ? enquire.get_mset(0, depth, check) : enquire.get_mset(offset, limit, check);
  const double match_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - match_start).count();

  SearchResult result;
  result.query = request.query;
  result.failed_shards = shards_.failed();
  result.total = mset.get_matches_estimated();
  result.total_is_exact = mset.get_matches_lower_bound() == mset.get_matches_upper_bound();
  // Xapian says nothing when its time limit cut the match: an inexact count of a match that
  // took the whole limit is that cut.
  result.timed_out = check > 0 && options_.time_limit_seconds > 0 && !result.total_is_exact &&
                     match_seconds >= options_.time_limit_seconds;
  if (matched) {
    result.total = matched->count();
    result.total_is_exact = true;
    matched->for_each([&](Xapian::docid id) { columns.add(id); });
  }

  // The page: docids and scores, re-ranked by feedback when it found terms.
  ScoredDocs ranked;
  for (auto it = mset.begin(); it != mset.end(); ++it) ranked.emplace_back(*it, it.get_weight());
  WeightedTerms added;
  ScoredDocs like_best;  // the candidates by feedback's terms alone: related articles
  if (feedback) added = feedback_terms(db_, query, mset, options_.ranking, collection_freqs_);
  if (!added.empty()) {
    // The candidates: by docid on one local database; otherwise by id term (a docid query
    // cannot travel to a remote shard), the same documents either way.
    Xapian::Query only;
    if (single_local_) {
      only = candidates_query(ranked);
    } else {
      mset.fetch();
      std::vector<Xapian::Query> ids;
      for (auto it = mset.begin(); it != mset.end(); ++it)
        if (auto a = stored(it.get_document(), StoredParts::kFields)) ids.emplace_back(schema::id_term(a->id));
      only = Xapian::Query(Xapian::Query::OP_OR, ids.begin(), ids.end());
    }
    ranked = rerank(db_, *weight_, feedback_query(added), only, ranked, &like_best);
  }
  if (feedback) {
    ranked.erase(ranked.begin(), ranked.begin() + std::min<std::size_t>(offset, ranked.size()));
    if (ranked.size() > limit) ranked.resize(limit);
  }

  // Snippets mark the words typed (and their stems), never the feedback terms: the MSet of the
  // query as typed gives the marks. Not exhaustive (the first passage that holds the words best
  // is taken) and without Xapian's background model, which looks up the frequency of every
  // word of the text in the index to prefer passages with rarer words: that lookup was half the
  // cost of a snippet and a tenth of a full answer.
  std::vector<Xapian::docid> page;
  std::vector<std::string> page_ids;
  const Xapian::Stem snippet_stemmer = request.snippets ? analyzer_.snippet_stemmer(query) : Xapian::Stem();
  for (const auto& [docid, score] : ranked) {
    const auto loaded = stored(db_.get_document(docid), request.snippets ? StoredParts::kAll : StoredParts::kFields);
    if (!loaded) continue;
    const Article& article = *loaded;
    SearchHit hit = make_hit(article, score);
    if (request.snippets)
      hit.snippet = mset.snippet(snippet_source(article), options_.snippet_length,
                                 snippet_stemmer,
                                 0,
                                 "<mark>", "</mark>", "…");
    result.hits.push_back(std::move(hit));
    page.push_back(docid);
    page_ids.push_back(article.id);
  }
  if (request.facets && !single_local_) {
    result.topic_facets = sorted_facets(spy_counts(topics, true));
    result.year_facets = sorted_facets(spy_counts(years, false));
    result.journal_facets = sorted_facets(spy_counts(journals, false));
  } else if (request.facets) {
    result.topic_facets = sorted_facets(columns.counts(0));
    result.year_facets = sorted_facets(columns.counts(1));
    result.journal_facets = sorted_facets(columns.counts(2));
  }
  if (request.related && !page.empty() && options_.related_count > 0 &&
      text_query.get_type() != Xapian::Query::LEAF_MATCH_ALL) {
    // Related: like the best hits (the terms feedback chose from them), but not on the page:
    // first the candidates feedback re-ranked, by those terms alone (no extra search), then,
    // when those run out, a search for those terms (without feedback: for the ESet of the top
    // three).
    for (const auto& [docid, score] : like_best) {
      if (result.related.size() >= options_.related_count) break;
      if (std::find(page.begin(), page.end(), docid) != page.end()) continue;
      const auto a = stored(db_.get_document(docid), StoredParts::kFields);
      if (!a) continue;
      page_ids.push_back(a->id);
      result.related.push_back(make_hit(*a, score));
    }
    if (result.related.size() < options_.related_count) {
      // Without feedback's terms (as-you-type, feedback off, or too few hits sharing terms):
      // the same Bo1 choice over the three best hits, each term held by one of them being
      // enough, read from the stored expansion terms (Enquire::get_eset would read and inflate
      // their term lists and look up every term's frequency).
      if (added.empty()) {
        RankingOptions seeds = options_.ranking;
        seeds.feedback_docs = 3;
        seeds.feedback_min_docs = 1;
        seeds.feedback_terms = 10;
        seeds.feedback_scheme = "bo1";
        seeds.feedback_weight = 1;
        added = feedback_terms(db_, query, mset, seeds, collection_freqs_);
      }
      std::vector<std::string> terms;
      for (const auto& term : added) terms.push_back(term.first);
      for (auto& hit : related_to(page, page_ids, {}, options_.related_count - result.related.size(), 3,
                                  terms.empty() ? nullptr : &terms))
        result.related.push_back(std::move(hit));
    }
  }
  return result;
}

Result<SearchResult> Searcher::search(const SearchRequest& request) {
  warnings_.clear();
  try {
    auto result = retrying([&] { return search_once(request); });
    if (result) result->warnings = std::move(warnings_);
    return result;
  } catch (const Xapian::DatabaseCorruptError& e) {
    return fail(ErrorCode::kCorrupt, "the index is damaged: " + e.get_description() +
                                         "; `mssearch check` verifies it, `mssearch index --full` rebuilds it");
  } catch (const Xapian::Error& e) {
    return fail(ErrorCode::kDatabase, "search failed: " + e.get_description());
  }
}

Result<SearchResult> Searcher::search_once(const SearchRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  if (request.query.size() > options_.max_query_bytes)
    return fail(ErrorCode::kBadQuery, "query is " + std::to_string(request.query.size()) +
                                          " bytes long; the limit is " +
                                          std::to_string(options_.max_query_bytes));
  try {
    if (auto bad = check_request(request); !bad) return std::unexpected(bad.error());
    std::string folded = analyzer_.fold_query(request.query);
    // Folding can lengthen text many times (one character, ﷺ, folds to 18): the bound holds
    // for what is searched too.
    if (folded.size() > 2 * options_.max_query_bytes)
      return fail(ErrorCode::kBadQuery, "query is " + std::to_string(folded.size()) + " bytes long once folded; the limit is " +
                                            std::to_string(2 * options_.max_query_bytes));
    const bool blank = folded.find_first_not_of(" \t\r\n") == std::string::npos;
    auto distinct_terms = [](const Xapian::Query& q) {
      return static_cast<std::size_t>(std::distance(q.get_unique_terms_begin(), q.get_unique_terms_end()));
    };
    // A long question keeps its most informative words; then, should its expansion still be
    // over the bound on cost, fewer of them (each round a quarter fewer).
    std::size_t dropped = 0;
    std::size_t budget = options_.max_query_words;
    if (!blank && budget > 0 && plain_words_of(folded).size() > budget) {
      std::size_t distinct = 0;
      const std::string cut = informative_words(folded, budget, distinct);
      if (distinct > 0) folded = cut, dropped = distinct;
    }
    Xapian::Query query = blank ? Xapian::Query::MatchAll : parse(folded, request.partial);
    while (!blank && distinct_terms(query) > options_.max_query_terms) {
      const std::size_t words = plain_words_of(folded).size();
      budget = std::min(budget == 0 ? words : budget, words) * 3 / 4;
      std::size_t more = 0;
      if (budget == 0) break;
      folded = informative_words(folded, budget, more);
      dropped += more;
      query = parse(folded, request.partial);
    }
    if (const std::size_t terms = distinct_terms(query); terms > options_.max_query_terms)
      return fail(ErrorCode::kBadQuery, "query has " + std::to_string(terms) + " distinct terms; the limit is " +
                                            std::to_string(options_.max_query_terms));
    auto result = run(request, query);
    if (!result) return result;

    // "Did you mean": offered only when the correction finds more than the query as typed;
    // when the query found nothing, the corrected query's hits are shown instead.
    if (!blank && result->total < 3) {
      const std::string corrected = spelling_correction(folded);
      if (!corrected.empty() && corrected != folded) {
        auto better = run(request, parse(corrected, false));
        if (better && better->total > result->total) {
          better->timed_out = better->timed_out || result->timed_out;
          if (result->total == 0) {
            better->query = request.query;
            better->showing_corrected = true;
            result = std::move(better);
          }
          result->did_you_mean = corrected;
        }
      }
    }
    result->query_terms_dropped = dropped;  // also when the answer is the corrected query's
    result->took_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return result;
  } catch (const Xapian::WildcardError& e) {
    return fail(ErrorCode::kBadQuery, "a wildcard matches too many terms (the limit is " +
                                          std::to_string(options_.max_wildcard_expansion) +
                                          "): make it longer");
  }
}

}  // namespace mssearch
