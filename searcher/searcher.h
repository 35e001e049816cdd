// Searcher: answers a SearchRequest from one index — ranked hits with highlighted snippets,
// exact facet counts over the whole match set, filters, sorting, paging, synonyms,
// "did you mean", related articles and as-you-type suggestions.
//
// A search runs as a pipeline of stages, each with its own small interface (searcher/*.h):
//   plan (QueryPlanner: fold, cut, parse, synonyms, filters, boosts)
//   → match (match(): hits, totals, and facet counts behind FacetCounter, whose strategy is
//     chosen once when the database opens)
//   → rerank (Reranker: pseudo-relevance feedback)
//   → page (build_page(): stored fields, snippets)
//   → related (RelatedFinder).
// This header shows no Xapian type: callers see requests, answers and counts only.
//
// With SearcherOptions::shard_transport set, a Searcher is a coordinator: the same answers,
// from shard servers (searcher/coordinator.h).
//
// Thread-safety: a Searcher owns its Xapian::Database and QueryParser, which are not
// thread-safe: use one Searcher per thread (they can share one SynonymTable).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "schema/article.h"
#include "schema/error.h"
#include "searcher/index_stats.h"
#include "searcher/options.h"
#include "searcher/search_types.h"
#include "searcher/synonyms.h"

namespace mssearch {

struct ShardRequest;
struct ShardAnswer;
class Coordinator;

struct Suggestion {
  std::string text;
  std::string kind;  // "title", "topic" or "term"
  std::string id, url;     // for titles
  std::uint32_t count = 0;  // articles with this topic or term
};

// Whether the word being typed at the end of `prefix` is excluded (`fatigue -sl`, `fatigue NOT
// sl`; not a minus before a number): its completions are exclusions, shown with no count.
bool completes_exclusion(std::string_view prefix);

class Searcher {
 public:
  // Errors: kIndexMissing, kSchemaMismatch, kDatabase, kIo (synonyms file).
  static Result<Searcher> open(const SearcherOptions& options);
  // Shares an already loaded synonym table (servers: one table, one Searcher per thread).
  static Result<Searcher> open(const SearcherOptions& options,
                               std::shared_ptr<const SynonymTable> synonyms);

  Searcher(Searcher&&) noexcept;
  Searcher& operator=(Searcher&&) noexcept;
  ~Searcher();

  // Errors: kBadQuery (a limit exceeded, named in the message), kCorrupt (Xapian found the index
  // damaged), kDatabase. Invalid syntax is not an error: such a query falls back to its plain
  // words. An article whose stored data is damaged is left out, named in the answer's warnings.
  Result<SearchResult> search(const SearchRequest& request);

  // Articles most like article `id` (never itself). Errors: kNotFound, kCorrupt, kDatabase.
  // Over shard servers, `failed_shards` (when given) names those left out (late, down).
  Result<std::vector<SearchHit>> related(const std::string& id, std::size_t limit,
                                         std::vector<std::string>* failed_shards = nullptr);

  // Completions for what a visitor has typed so far: titles, topics, frequent terms. Over shard
  // servers, `failed_shards` (when given) names those left out (late, down), as related() does.
  Result<std::vector<Suggestion>> suggest(const std::string& prefix, std::size_t limit = 8,
                                          std::vector<std::string>* failed_shards = nullptr);

  // Moves to the newest committed index: reopen() after incremental commits, a new Database
  // after a full rebuild was swapped in. Returns true when what it answers from changed.
  // Errors: kIndexMissing, kSchemaMismatch, kDatabase (the old index keeps serving).
  Result<bool> refresh();

  // One stored article by id, with its sections (what a site needs to render it). Errors:
  // kNotFound, kCorrupt (its stored data is damaged).
  Result<Article> article(const std::string& id);

  // The shard server's side of the shard protocol (searcher/shard_protocol.h): `search` is the
  // request's parameters as the public API checked them. Errors as search(), related(),
  // article() and suggest().
  Result<ShardAnswer> shard(const ShardRequest& request, const SearchRequest& search);

  // Every topic with its number of articles, by count.
  const std::vector<FacetValue>& topics() const;
  // Articles in the databases answered from (the shards that are up).
  std::uint32_t document_count() const;
  // Each configured database, up or not, and the sum of their revisions.
  const std::vector<ShardStatus>& shard_status() const;
  std::uint64_t revision() const;
  // A coordinator's shard servers configured amiss, as the last look at them found (other
  // ranking settings or limits, replicas of one shard answering from different indexes): what
  // every search answer's `warnings` say, for /readyz too. Empty for a local searcher.
  std::vector<std::string> configuration_warnings() const;

  struct Impl;  // searcher/searcher_impl.h

 private:
  explicit Searcher(std::unique_ptr<Impl> impl);
  explicit Searcher(std::unique_ptr<Coordinator> coordinator);
  std::unique_ptr<Impl> impl_;                // over its own databases
  std::unique_ptr<Coordinator> coordinator_;  // or over shard servers (options.shard_transport)
};

nlohmann::json to_json(const Suggestion& suggestion);

}  // namespace mssearch
