// What a Searcher holds: the databases and what each stage of the pipeline keeps between
// searches (searcher.h). Internal to the searcher.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <xapian.h>

#include "searcher/facet_counter.h"
#include "searcher/match_slices.h"
#include "searcher/query_planner.h"
#include "searcher/ranking.h"
#include "searcher/related_finder.h"
#include "searcher/searcher.h"
#include "searcher/shard_set.h"
#include "searcher/stored_articles.h"

namespace mssearch {

struct Searcher::Impl {
  Impl(const SearcherOptions& options, ShardSet shards, std::shared_ptr<const SynonymTable> synonyms);

  SearcherOptions options;
  // A database named is remote (tcp://): its parts run no code of ours (no spy, no slice).
  bool remote = false;
  ShardSet shards;
  Xapian::Database db;  // shards.database()
  QueryPlanner planner;
  std::unique_ptr<Xapian::Weight> weight;  // options.ranking's BM25
  std::vector<FacetValue> topics;
  std::vector<FacetValue> journals;  // each journal with its count (a journal's filter completed)
  bool single_local = false;                // one local database: docids name documents
  // local_shard_uuids(db) when every database is local: docids name documents across them.
  std::optional<std::vector<std::string>> docid_shards;
  std::unique_ptr<FacetCounting> facets;    // chosen for this database
  CollectionFreqs collection_freqs;         // feedback's statistics, this revision's
  FeedbackDocCache feedback_docs;           // a shard server's best hits' material, this revision's
  MatchSlices slices;                       // a heavy match cut into slices matched at once
  // What `db` is made of, part by part, when every part is local (else empty: never sliced).
  std::vector<ShardRevision> slice_parts;
  StoredArticles stored;                    // the answer being made: damaged articles left out
  // options.time_limit_seconds, or 0 when a database is remote: the limit is kept by a spy of
  // ours (get_mset_within), which a remote database cannot run.
  double count_limit() const;

  void use_database();  // after the shard set changed
  Xapian::Database spelling() const;  // what "did you mean" reads (ShardSet::spelling)
  // After corrections: spelling data the planner could not read (and read around) is taken as
  // damaged by the shard set until it opens a new one (ShardSet::spelling_damaged). The
  // answer's warnings that say so, one for each failed read: once per damaged DIR/spelling
  // (for each searcher: a server's each worker), not on every search that follows.
  std::vector<std::string> spelling_damage_warnings();
  void load_topics();   // after the database moved to another revision
  void load_pair_words();  // the planner's phrase filters (schema::kMetaPairWords), in load_topics
  Result<SearchResult> search_once(const SearchRequest& request);
  // kUnavailable when every shard holding documents is down (a spelling database alone still
  // opens: the answer was an empty 200 marked partial, or a 500 from an empty combination).
  std::optional<Error> every_shard_down() const;
  Result<SearchResult> run(const SearchRequest& request, const QueryPlan& plan);
  // The answer with `request`'s last word read as a prefix (as-you-type), when that finds
  // something: for a search that found nothing, nor its correction.
  std::optional<SearchResult> completions_instead(const SearchRequest& request);
  // Each facet `request` filters by counted without its own filter (QueryPlanner::
  // own_filter_plans), in `counts`, by a matcher that weighs nothing: one more count per
  // facet filtered, within what is left of the time limit since the search's match `began`
  // (the limit bounds the search's counting, not each count). Returns whether it cut one.
  bool count_without_own_filters(const SearchRequest& request, const QueryPlan& plan,
                                 std::chrono::steady_clock::time_point began, FacetCounts& counts);
  Result<ShardAnswer> shard_once(const ShardRequest& request, SearchRequest search);
  // `one_form_per_stem`: of the completions, the most frequent form of each stem only (not for
  // a shard's answer: its coordinator sums each form's counts over the shards first).
  // `list_limit` (at least `limit`): the list's length, the terms filling it past `limit`'s
  // titles and topics (a shard's answer: its coordinator sums more terms' counts than it shows).
  Result<std::vector<Suggestion>> suggest_once(const std::string& prefix, std::size_t limit, bool one_form_per_stem,
                                               std::size_t list_limit);
  // A finder of related articles over `db` scored by `scoring`, its searches sliced as matches are.
  RelatedFinder related_finder(const Xapian::Weight& scoring);
  // The document of article `id`. Errors: kNotFound.
  Result<Xapian::docid> docid_of(const std::string& id) const;

  // An article's related articles and what they were searched for (Searcher::related_of).
  struct RelatedOf {
    std::vector<SearchHit> hits;
    std::vector<std::string> terms;   // the article's terms that tell it apart
    std::vector<std::string> topics;  // its topics, which add weight
  };
  Result<RelatedOf> related_of(const std::string& id, std::size_t limit, const RelatedOf* like);

  // Runs a read; if many commits overtook this reader (DatabaseModifiedError), moves to the
  // newest revision and runs it once more; a remote shard that died is left out.
  // A database's revision; none over several shards, nor over one remote (xapian-tcpsrv)
  // database: Xapian 1.4 gives none for those (InvalidOperationError, UnimplementedError; one
  // `tcp://` database alone made every command exit 2 without a word: helper-100).
  static std::optional<Xapian::rev> revision_of(const Xapian::Database& database) {
    try {
      return database.get_revision();
    } catch (const Xapian::InvalidOperationError&) {
      return std::nullopt;
    } catch (const Xapian::UnimplementedError&) {
      return std::nullopt;
    }
  }
  // A DatabaseModifiedError met at revision `before` and again (or after a reopen) at `after`.
  // Overtaken by commits, a reader moves on to a newer revision; one that stays where it was was
  // not overtaken: a block claims a revision the index has not reached (its header overwritten).
  // Damage, which every search met as "try again" (HTTP 500).
  static bool revision_unreached(std::optional<Xapian::rev> before, std::optional<Xapian::rev> after) {
    return before && before == after;
  }
  static constexpr const char* kRevisionUnreached = "a block of the index claims a revision it has not reached";
  template <typename Read>
  auto retrying(Read&& read) -> decltype(read()) {
    for (int attempt = 1;; ++attempt) {
      try {
        return read();
      } catch (const Xapian::DatabaseModifiedError& e) {
        if (attempt == 3) throw;
        const auto before = revision_of(db);
        db.reopen();
        if (revision_unreached(before, revision_of(db)))
          throw Xapian::DatabaseCorruptError(std::string(kRevisionUnreached) + " (" + e.get_msg() + ")");
        load_topics();
      } catch (const Xapian::NetworkError&) {
        // A remote shard died or timed out: answer from the others (a partial answer).
        if (attempt == 3 || !shards.drop_failed_shards()) throw;
        use_database();
      }
    }
  }
};

}  // namespace mssearch
