// The pipeline's last stage, related: articles like the best hits of an answer, or like one
// article (more-like-this): the terms that best tell them apart from the rest of the
// collection (feedback's terms, or Xapian's relevance feedback: RSet + Enquire::get_eset),
// searched again with the article's topics as a boost. Internal to the searcher.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <xapian.h>

#include "searcher/match_slices.h"
#include "searcher/matcher.h"
#include "searcher/page_builder.h"
#include "searcher/reranker.h"
#include "searcher/stored_articles.h"

namespace mssearch {

// How an answer's related articles are found when feedback found no terms: the Bo1 terms of
// its three best hits (each term held by one of them being enough), as feedback chooses them.
RankingOptions related_seed_options(const RankingOptions& ranking);

// `like` under the filters and exclusions of an answer's query `scope`, in place of its words.
Xapian::Query within_scope(const Xapian::Query& scope, const Xapian::Query& like);

class RelatedFinder {
 public:
  // `parser`: the planner's (the topic words are analysed as queries are).
  RelatedFinder(const Xapian::Database& db, const Xapian::Weight& weight, Xapian::QueryParser& parser,
                const RankingOptions& ranking, CollectionFreqs& freqs, StoredArticles& stored)
      : db_(db), weight_(weight), parser_(parser), ranking_(ranking), freqs_(freqs), stored_(stored) {}

  // Searches for similar articles are cut into `slices` (MatchSlices::top) when it can: a
  // weighted best few that need not count, over `parts` (one local index). The same articles.
  void use_slices(MatchSlices* slices, const std::vector<ShardRevision>& parts, double time_limit_seconds) {
    slices_ = slices;
    parts_ = &parts;
    time_limit_seconds_ = time_limit_seconds;
  }

  // Related articles of an answer: like its best hits, never on its page. First the
  // candidates feedback re-ranked, by feedback's terms alone (no extra search), then, when those
  // run out, a search for those terms (or, without feedback, for the Bo1 terms of the three
  // best hits). `on_page_too`: the page's hits may be among them (a shard's window, of which the
  // coordinator's page is only a part, leaves out the page's hits itself).
  std::vector<SearchHit> of_answer(const QueryPlan& plan, const Matched& matched, const Reranked& reranked,
                                   const Page& page, std::size_t count,
                                   bool on_page_too = false);

  // The first `count` candidates feedback re-ranked, by feedback's terms alone, none left out: a
  // shard's share of an answer's related articles, which the coordinator merges (the global
  // page's hits left out there). Those on `page` are copied from it, not read again.
  std::vector<SearchHit> of_candidates(const QueryPlan& plan, const Reranked& reranked, const Page& page,
                                       std::size_t count);

  // The terms that best tell the first `seeds` of `docids` apart (Xapian's relevance feedback),
  // as `like` searches for them when given none.
  std::vector<std::string> terms_like(const std::vector<Xapian::docid>& docids, std::size_t seeds);

  // Articles like the first `seeds` of `docids`, excluding all of `ids`; `terms`, when given,
  // are the terms that describe them (else their ESet is computed); `topics` add weight.
  // `scope`, when given, is an answer's query: its filters and exclusions hold for these too.
  std::vector<SearchHit> like(const std::vector<Xapian::docid>& docids, const std::vector<std::string>& ids,
                              const std::vector<std::string>& topics, std::size_t limit, std::size_t seeds,
                              const std::vector<std::string>* terms = nullptr,
                              const Xapian::Query& scope = Xapian::Query());

 private:
  const Xapian::Database& db_;
  const Xapian::Weight& weight_;
  Xapian::QueryParser& parser_;
  const RankingOptions& ranking_;
  CollectionFreqs& freqs_;
  StoredArticles& stored_;
  MatchSlices* slices_ = nullptr;
  const std::vector<ShardRevision>* parts_ = nullptr;
  double time_limit_seconds_ = 0;
};

}  // namespace mssearch
