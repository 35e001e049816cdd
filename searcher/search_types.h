// What a search asks and what it answers: the types the CLI and the HTTP server share, and
// the one JSON form both print, so that `mssearch search --json` and /api/search agree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "schema/article.h"
#include "searcher/index_stats.h"

namespace mssearch {

// Relevance; newest first; or most credible first (credibility rating 5 to 1, then articles
// without one), each ties broken by relevance (most credible first with nothing that weighs:
// newest first among equals, but over remote shards).
enum class SortOrder { kRelevance, kDate, kCredibility };

struct SearchRequest {
  std::string query;
  std::vector<std::string> topics;    // OR within the list; AND with the other filters
  std::vector<std::string> journals;  // OR within the list
  std::vector<int> years;             // OR within the list
  std::string since, until;           // ISO dates, inclusive; empty: open
  std::optional<int> min_credibility;
  SortOrder sort = SortOrder::kRelevance;
  std::size_t offset = 0;
  std::size_t limit = 10;
  bool partial = false;  // the last word is a prefix (as-you-type)
  // What to compute besides the ranked page. Without facets, counting stops where ranking
  // does (the total is then Xapian's estimate, total_is_exact false unless it is exact).
  bool facets = true;
  bool snippets = true;
  bool related = true;
};

// Text with the words that matched marked, as byte ranges of the (plain, unescaped UTF-8)
// text: the page, the API and the CLI each render the marks their own way.
struct Highlighted {
  struct Span {
    std::size_t begin = 0, end = 0;  // [begin, end) in text
    bool operator==(const Span&) const = default;
  };
  std::string text;
  std::vector<Span> marks;  // in order, not overlapping

  bool empty() const { return text.empty(); }
  // HTML: the text escaped, <mark>…</mark> around each span (what /api/search's "snippet" holds).
  std::string html() const;
};

struct SearchHit {
  std::string id, title, url, date, journal, takeaway;
  std::vector<std::string> topics;
  std::optional<int> credibility, interest;  // ratings, 1..5
  double score = 0;
  Highlighted snippet;  // a passage of the text with the words searched for marked
};

struct SearchResult {
  std::string query;
  std::uint32_t total = 0;
  bool total_is_exact = true;
  double took_ms = 0;
  std::vector<SearchHit> hits;
  std::vector<FacetValue> topic_facets, year_facets, journal_facets;
  // The order the hits are in: the one asked for, except by date (newest first) when nothing
  // typed weighs (a blank query, filters or exclusions alone) and relevance was asked.
  SortOrder order = SortOrder::kRelevance;
  std::optional<std::string> did_you_mean;
  bool showing_corrected = false;  // the query found nothing: hits are did_you_mean's
  // The query found nothing, nor did a correction: the hits are those of its last word read as
  // the beginning of words (as while typing: `astro` for astrocytes), which the page showed as
  // the visitor typed and lost on Enter.
  bool showing_completions = false;
  // Words of a short query no article has in any form (QueryPlanner::missing_words): the hits
  // are those of its other words (`is ms contagious` lists articles about MS). Empty when a
  // correction is offered, or nothing was found.
  std::vector<std::string> missing_words;
  std::vector<SearchHit> related;
  // The counting stopped at the time limit (SearcherOptions::time_limit_seconds; never over
  // remote databases, see get_mset_within): the total and facets are estimates.
  bool timed_out = false;
  // Distinct words of a long question left out (SearcherOptions::max_query_words): the answer
  // is for its most informative words.
  std::size_t query_terms_dropped = 0;
  // Quoted phrases past the budget on positional work (their words together over 16), searched
  // as their words (an excluded one left out).
  std::size_t query_phrases_relaxed = 0;
  // Asked as-you-type and its last word was still a prefix (not complete: see QueryPlan::partial).
  // Not in the JSON: what the server's analytics needs to tell typing from a search.
  bool last_word_prefix = false;
  // Shards left out of this answer (down or too slow): the answer is partial.
  std::vector<std::string> failed_shards;
  // Round trips to shard servers this answer took (a coordinator's; 0 otherwise). Not in the
  // JSON: counted in the server's /metrics.
  std::size_t shard_round_trips = 0;
  // Its match was cut into slices matched at once (SearcherOptions::match_slices). Not in the
  // JSON: counted in the server's /metrics.
  bool sliced = false;
  // What the answer had to leave out and why (an article whose stored data is damaged), and
  // what an operator must mend (a coordinator's shard servers with other settings).
  std::vector<std::string> warnings;
  // Articles left out because their stored data is damaged (each named in warnings). Not in the
  // JSON: counted in the server's /metrics.
  std::size_t damaged_articles = 0;
  // A coordinator's: the same articles came from two shards (named in warnings); its totals and
  // facet counts count them twice. Not in the JSON (the warning is): the page says it.
  bool counted_twice = false;
};

nlohmann::json to_json(const SearchHit& hit);
// One article as /api/articles/{id} gives it: its fields, ratings, takeaway and sections
// ({"heading","text"}), what a site needs to render the article page.
nlohmann::json article_json(const Article& article);
nlohmann::json to_json(const SearchResult& result);

// Serializes JSON for output (HTTP answers, `--json`). Any invalid UTF-8 that reached a string
// (a route or argument echoed in an error message) becomes U+FFFD instead of throwing.
std::string dump_json(const nlohmann::json& value, int indent = -1);

}  // namespace mssearch
