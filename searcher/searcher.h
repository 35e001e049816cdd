// Searcher: answers a SearchRequest from one index — ranked hits with highlighted snippets,
// exact facet counts over the whole match set, filters, sorting, paging, synonyms,
// "did you mean", related articles and as-you-type suggestions.
//
// Thread-safety: a Searcher owns its Xapian::Database and QueryParser, which are not
// thread-safe: use one Searcher per thread (they can share one SynonymTable).
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>

#include <xapian.h>

#include "schema/article.h"
#include "schema/error.h"
#include "schema/text_analyzer.h"
#include "searcher/facet_columns.h"
#include "searcher/ranking.h"
#include "searcher/search_types.h"
#include "searcher/shard_set.h"
#include "searcher/synonyms.h"

namespace mssearch {

struct SearcherOptions {
  std::filesystem::path db_path = "data/index";
  // When not empty, searched instead of db_path: local index directories and remote shards
  // (tcp://HOST:PORT, served by xapian-tcpsrv), as one database.
  std::vector<std::string> databases;
  RemoteOptions remote;
  // A local database holding the spelling data of all of `databases` (DIR/spelling, written by
  // `index --shards N`), added for "did you mean" when the shards are remote. Empty: none.
  std::filesystem::path spelling_database;
  std::filesystem::path synonyms_path;      // corpus/synonyms.yaml format; empty: none
  std::size_t snippet_length = 240;         // characters of article text in a snippet
  std::size_t max_limit = 100;              // cap on hits per page
  std::size_t max_offset = 10000;           // cap on paging depth
  std::size_t max_query_bytes = 4096;       // longer queries are refused (a pasted abstract fits)
  // A long question (a pasted paragraph, a letter) is not refused: past this many distinct
  // words (stop words aside) it keeps the ones that tell most, the rarest in the collection (by
  // the document frequency of their stems, as Elasticsearch's more_like_this keeps its
  // max_query_terms), in the order typed; the answer says how many it dropped. 0: no cut.
  std::size_t max_query_words = 96;
  // The bound on cost: distinct terms of the query once parsed and expanded (stems, exact
  // forms, synonyms, compounds). Past it, words are dropped as above until it fits.
  std::size_t max_query_terms = 256;
  Xapian::termcount max_wildcard_expansion = 200;  // `remyelin*` may expand to this many terms
  double time_limit_seconds = 0.5;          // bound on exact counting (facets, totals)
  std::size_t related_count = 5;            // related articles in a search answer
  RankingOptions ranking;                   // BM25, stop words, feedback, site boosts
};

struct Suggestion {
  std::string text;
  std::string kind;  // "title", "topic" or "term"
  std::string id, url;     // for titles
  Xapian::doccount count = 0;  // articles with this topic or term
};

class Searcher {
 public:
  // Errors: kIndexMissing, kSchemaMismatch, kDatabase, kIo (synonyms file).
  static Result<Searcher> open(const SearcherOptions& options);
  // Shares an already loaded synonym table (servers: one table, one Searcher per thread).
  static Result<Searcher> open(const SearcherOptions& options,
                               std::shared_ptr<const SynonymTable> synonyms);

  // Errors: kBadQuery (a limit exceeded, named in the message), kCorrupt (Xapian found the index
  // damaged), kDatabase. Invalid syntax is not an error: such a query falls back to its plain
  // words. An article whose stored data is damaged is left out, named in the answer's warnings.
  Result<SearchResult> search(const SearchRequest& request);

  // Articles most like article `id` (never itself). Errors: kNotFound, kCorrupt, kDatabase.
  Result<std::vector<SearchHit>> related(const std::string& id, std::size_t limit);

  // Completions for what a visitor has typed so far: titles, topics, frequent terms.
  Result<std::vector<Suggestion>> suggest(const std::string& prefix, std::size_t limit = 8);

  // Moves to the newest committed index: reopen() after incremental commits, a new Database
  // after a full rebuild was swapped in. Returns true when what it answers from changed.
  // Errors: kIndexMissing, kSchemaMismatch, kDatabase (the old index keeps serving).
  Result<bool> refresh();

  // One stored article by id, with its sections (what a site needs to render it). Errors:
  // kNotFound, kCorrupt (its stored data is damaged).
  Result<Article> article(const std::string& id);

  // Every topic with its number of articles, by count.
  const std::vector<FacetValue>& topics() const { return topics_; }

  const Xapian::Database& database() const { return db_; }
  // Each configured database, up or not (see ShardSet), and the sum of their revisions.
  const std::vector<ShardStatus>& shard_status() const { return shards_.status(); }
  Xapian::rev revision() const { return shards_.revision(); }

 private:
  Searcher(const SearcherOptions& options, ShardSet shards,
           std::shared_ptr<const SynonymTable> synonyms);
  void use_database();  // after the shard set changed: parser, topics
  Xapian::Query parse(const std::string& folded, bool partial);
  std::string spelling_correction(const std::string& folded);
  std::vector<std::string> plain_terms(const std::string& text);
  // The query's words without syntax, unstemmed, stop words out, in order with repeats.
  std::vector<std::string> plain_words_of(const std::string& text);
  // `folded` cut to its `budget` most informative distinct words (see max_query_words), as
  // plain words; `dropped` counts the distinct words left out.
  std::string informative_words(const std::string& folded, std::size_t budget, std::size_t& dropped);
  Xapian::Query filters(const SearchRequest& request) const;
  Result<SearchResult> run(const SearchRequest& request, const Xapian::Query& query);
  SearchHit make_hit(const Article& article, double score) const;
  // Dates and ranges of a request. Errors: kBadQuery naming the field.
  Result<void> check_request(const SearchRequest& request) const;
  // The stored article of a document of an answer; nothing when its stored data is damaged
  // (a zstd checksum, a cut frame): the answer leaves it out and says so in warnings_, where an
  // exception would have ended the process. Xapian's own errors still propagate.
  std::optional<Article> stored(const Xapian::Document& doc, StoredParts parts);
  // stored(), for one article asked for by id: damage is an error (kCorrupt) naming it.
  Result<Article> stored_or_error(const Xapian::Document& doc, const std::string& id, StoredParts parts);
  // Articles like the first `seeds` of `docids`, excluding all of `docids`; `terms`, when
  // given, are the terms that describe them (else their ESet is computed).
  std::vector<SearchHit> related_to(const std::vector<Xapian::docid>& docids,
                                    const std::vector<std::string>& ids,
                                    const std::vector<std::string>& topics, std::size_t limit,
                                    std::size_t seeds, const std::vector<std::string>* terms = nullptr);
  void load_topics();
  Result<std::vector<Suggestion>> suggest_once(const std::string& prefix, std::size_t limit);
  // Runs a read; if many commits overtook this reader (DatabaseModifiedError), moves to the
  // newest revision and runs it once more.
  template <typename Read>
  auto retrying(Read&& read) -> decltype(read()) {
    for (int attempt = 1;; ++attempt) {
      try {
        return read();
      } catch (const Xapian::DatabaseModifiedError&) {
        if (attempt == 3) throw;
        db_.reopen();
        load_topics();
      } catch (const Xapian::NetworkError&) {
        // A remote shard died or timed out: answer from the others (a partial answer).
        if (attempt == 3 || !shards_.drop_failed_shards()) throw;
        use_database();
      }
    }
  }
  Result<SearchResult> search_once(const SearchRequest& request);

  SearcherOptions options_;
  ShardSet shards_;
  Xapian::Database db_;  // shards_.database()
  TextAnalyzer analyzer_;
  Xapian::QueryParser parser_;
  std::shared_ptr<const SynonymTable> synonyms_;
  std::vector<FacetValue> topics_;
  std::unique_ptr<Xapian::Weight> weight_;  // options_.ranking's BM25
  bool single_local_;                       // one local database: facets from columns_
  FacetColumns columns_;                    // facet values by docid
  CollectionFreqs collection_freqs_;        // feedback's statistics, this revision's
  int this_year_;                           // for the recency boost
  std::vector<std::string> warnings_;       // of the answer being made (damaged articles left out)
};

nlohmann::json to_json(const Suggestion& suggestion);

}  // namespace mssearch
