// The pipeline's first stage, plan: what a request searches for. Folds the words typed, cuts a
// long question to its most informative words, parses them (syntax, synonyms, exact forms),
// adds the filters and the site boosts, and decides how the answer is ordered (relevance with
// or without feedback, or date). Also "did you mean". Internal to the searcher.
//
// Not thread-safe (a Xapian::QueryParser): one planner per Searcher.
#pragma once

#include <cstddef>
#include <memory>
#include <map>
#include <set>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <xapian.h>

#include "schema/error.h"
#include "schema/text_analyzer.h"
#include "searcher/options.h"
#include "searcher/search_types.h"
#include "searcher/synonyms.h"

namespace mssearch {

struct QueryPlan {
  std::string folded;        // the words searched, folded (after any cut)
  std::string typed;         // folded as typed, before the syntax was rewritten for the parser
  std::string raw;           // the query as the visitor typed it (its letters' case too)
  bool blank = false;        // nothing typed: every article, newest first
  Xapian::Query words;       // the words as parsed (MatchAll when blank)
  Xapian::Query query;       // words, filters and boosts: what the matcher runs
  bool by_date = false;      // ordered by date (asked, or nothing typed)
  bool by_credibility = false;  // ordered by credibility rating (asked), then relevance
  // Nothing typed weighs (blank, filters or exclusions alone): no relevance order; by date, or
  // by credibility then date.
  bool weightless = false;
  bool feedback = false;     // re-ranked by pseudo-relevance feedback
  std::size_t words_dropped = 0;  // distinct words of a long question left out
  std::size_t phrases_relaxed = 0;  // quoted phrases past the budget on positions, searched as words
  // As-you-type with the last word still a prefix. A request asked as-you-type whose last word
  // is complete (followed by a space, or a word some article has) is planned as if submitted,
  // so the live answer and the submitted one agree (order and count).
  bool partial = false;
};

// A correction of `plan.folded` (the text as rewritten for the parser: `NOT x` as `-x`,
// `topic:(a OR b)` as `(topic:a OR topic:b)`, a bracket's exclusions as its AND NOT) written
// onto the text as typed: each word it changes, changed there. The correction itself when the
// two do not pair word for word.
std::string correction_as_typed(const QueryPlan& plan, const std::string& corrected);

// `text` with two words joined by `/`, `\`, `@`, `_` or a colon that names no field as two words
// (`heat/fatigue`), outside quotes, a field's value and a code (`G2/M`, `10:30`): see the .cpp.
// The same length as `text`. The planner reads a query so; suggestions read the prefix so.
// `typing`: the last word is being typed, no code for its length alone (`brain/f`).
std::string joined_words_apart(const std::string& text, bool typing = false);
// Text as typed with the words apart that a search reads apart: ascii_spaces_and_dashes, then
// joined_words_apart, runs of spaces as one. What suggestions read of a prefix.
std::string typed_words_apart(std::string_view typed);

// `text` parsed as words for the stages' small queries (suggestions' titles and head words,
// related articles' topics), never throwing for syntax: text the parser refuses (a stray `..`,
// which the date range processor takes for a range) is parsed again as its plain words. `op`
// joins the words, and the parser's default operator is as it was afterwards.
Xapian::Query parse_words(Xapian::QueryParser& parser, const std::string& text, unsigned flags,
                          const std::string& prefix = {}, Xapian::Query::op op = Xapian::Query::OP_OR);

// The refusal of a wildcard that expands past `limit` terms, naming it as typed (`k*`, its field
// prefix left out): Xapian expands a wildcard when it parses or when it matches, so either may
// throw.
Error wildcard_refusal(const Xapian::WildcardError& e, std::uint32_t limit);

class QueryPlanner {
 public:
  QueryPlanner(const SearcherOptions& options, std::shared_ptr<const SynonymTable> synonyms,
               const Xapian::Database& db);
  // After the searcher moved to another database or revision. `spelling`: the spelling data
  // corrections read (ShardSet::spelling), when not the database's own.
  void set_database(const Xapian::Database& db, std::optional<Xapian::Database> spelling = std::nullopt);
  // The pair words every database searched was indexed with (schema::kMetaPairWords): a phrase
  // of two of them side by side is filtered by their pair term. Empty: none.
  void set_pair_words(schema::PairWords words) { pair_words_ = std::move(words); }

  // Errors: kBadQuery (a bound exceeded, a bad date or rating, a wildcard over the expansion
  // limit), named in the message. Invalid syntax is not an error: such a query falls back to
  // its plain words.
  Result<QueryPlan> plan(const SearchRequest& request);
  // The plan of `request` for other words (did-you-mean's correction), never as-you-type.
  Result<QueryPlan> plan_words(const SearchRequest& request, const std::string& folded);

  // The plan's words corrected where the index does not know them, or empty.
  std::string spelling_correction(const QueryPlan& plan);
  // The same for a plan that found enough without its misspelt word (`ocrevous side effects`):
  // only short queries (a few words, typed, not pasted), not as-you-type, and only for a word
  // neither the index nor a synonym group knows; empty otherwise.
  // `unknown`, when given, is set when such a word was found, corrected or not.
  std::string typo_correction(const QueryPlan& plan, bool* unknown = nullptr);
  // The words of a short query (a few words, typed, not as-you-type) that no article has in
  // any form, nor a synonym group bridges (`is ms contagious`: contagious), folded, in the
  // order typed; the hits are those of its other words. Not a wildcard, an exclusion, a stop
  // word, a filter, or a word with a digit or a non-ASCII letter (read otherwise by the index).
  std::vector<std::string> missing_words(const QueryPlan& plan);
  // A word the index has only as a stem (`relaps`, `breastfeed`), which Snowball stems
  // otherwise so that it finds nothing: the nearest word the articles use with that stem
  // (`relapse`, `breastfeeding`), else empty.
  std::string word_of_stem(const std::string& lower);
  // Why the spelling data set_database gave could not be read, when a correction found so and
  // read the database's own instead (as it does from then on, until set_database). Cleared by
  // taking it: the searcher tells its shard set (ShardSet::spelling_damaged) and says so once.
  std::optional<std::string> take_spelling_failure() { return std::exchange(spelling_failure_, std::nullopt); }

  // Disjunctive facets: for each facet `request` filters by (topics, years, journals, in that
  // order of FacetColumns), the plan that counts that facet as a visitor choosing among its
  // values sees it: `plan`'s words under every filter but the facet's own (several values of
  // one facet mean OR, so ticking another adds its articles: its count must not be cut by
  // the values already ticked). Ordered by relevance, no feedback, no boosts: only counted.
  struct FacetPlan {
    std::size_t facet;  // 0 topics, 1 years, 2 journals
    QueryPlan plan;
  };
  std::vector<FacetPlan> own_filter_plans(const SearchRequest& request, const QueryPlan& plan) const;

  // The parser, for the other stages' small queries (related articles' topic words,
  // suggestions): its stemming and stop words are the plan's.
  Xapian::QueryParser& parser() { return parser_; }
  const TextAnalyzer& analyzer() const { return analyzer_; }
  const SynonymTable& synonyms() const { return *synonyms_; }

 private:
  // spelling_correction's, of words alone; text the parser cannot read as plain words, or not at all
  std::string corrected_words(const std::string& folded, bool as_plain_words = true);
  std::string words_correction(const std::string& folded);  // spelling_correction's words
  // `text` with each date filter as typed (`year:2025`, not the range of days it is read as).
  std::string dates_as_typed(std::string text) const;
  // `text` with each topic:/journal: value no article has (as typed) made the nearest one that
  // an article has, within typos_allowed; `text` itself when none is. `missing`, when given, is
  // set when a value no article has was found, corrected or not.
  std::string filter_values_corrected(const std::string& text, bool* missing = nullptr);
  // `exclusion`: the text is what a sign leaves out, where a hyphenated word stays the phrase it
  // is (`-heat-sensitivity` left out every article with heat or sensitivity).
  Xapian::Query parse(const std::string& folded, bool partial, bool exclusion = false);
  Xapian::Query filters(const SearchRequest& request) const;
  Result<QueryPlan> finish(const SearchRequest& request, QueryPlan plan);
  // Whether the last word of `folded` is still being typed (see QueryPlan::partial).
  bool last_word_incomplete(const std::string& folded);
  std::vector<std::string> plain_terms(const std::string& text);
  // The query's words without syntax, unstemmed, stop words out, in order with repeats.
  std::vector<std::string> plain_words_of(const std::string& text);
  // `folded` cut to its `budget` most informative distinct words (see max_query_words), as
  // plain words in the order typed, a word's repeats bounded; `dropped` counts the distinct
  // words left out.
  // `typing`: the last word is being typed (as-you-type): kept, and kept last.
  std::string informative_words(const std::string& folded, std::size_t budget, std::size_t& dropped, bool typing = false);

  // A date: range's end that was not a date, from the parser (see make_query_parser): the
  // query is refused naming it. Cleared by take_bad_date.
  Result<void> take_bad_date();
  std::string bad_date_;
  std::map<std::string, std::string> typed_dates_;  // a date filter as read -> as typed (plan())
  // The words of the query being corrected that were typed capitalised on purpose
  // (capitalised_words in query_planner.cpp), set by spelling_correction and typo_correction.
  std::set<std::string> capitalised_;
  const SearcherOptions& options_;
  std::shared_ptr<const SynonymTable> synonyms_;
  Xapian::Database db_;
  Xapian::Database spelling_;
  std::optional<std::string> spelling_failure_;  // take_spelling_failure()
  TextAnalyzer analyzer_;
  Xapian::QueryParser parser_;
  int this_year_;  // for the recency boost
  schema::PairWords pair_words_;
};

}  // namespace mssearch
