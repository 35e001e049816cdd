#include "searcher/searcher.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <chrono>
#include <map>
#include <set>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include "schema/index_path.h"
#include "schema/schema.h"
#include "searcher/coordinator.h"
#include "searcher/matcher.h"
#include "searcher/page_builder.h"
#include "searcher/related_finder.h"
#include "searcher/reranker.h"
#include "searcher/result_cache.h"
#include "searcher/searcher_impl.h"

namespace mssearch {

namespace {

// The statistics' mark of a wildcard's expansion (a name no index term has): each shard reports
// it with 0 when its whole expansion is in its answer, 1 when not; summed, 0 means every shard's.
std::string expansion_mark(std::string_view prefix) { return std::string("\0expansion-incomplete:", 22) + std::string(prefix); }

}  // namespace

namespace {

// A Xapian error as an answer: damage (a corrupt table, or one cut short: "EOF reading block")
// says so and what to do; anything else names what failed.
std::unexpected<Error> xapian_failure(const Xapian::Error& e, const std::string& what) {
  if (schema::error_code_of(e) == ErrorCode::kCorrupt)
    return fail(ErrorCode::kCorrupt, "the index is damaged: " + e.get_description() +
                                         "; `mssearch check` verifies it, `mssearch index --full` rebuilds it");
  // Still failing after the retries (Impl::retrying): the remote shards are there but do not
  // answer in time (a search heavier than remote_timeout_seconds allows, or overloaded
  // shards): unavailable for now, not a fault of the index.
  if (const std::string_view type = e.get_type(); type == "NetworkError" || type == "NetworkTimeoutError")
    return fail(ErrorCode::kUnavailable, what + ": the remote shards did not answer (" + e.get_description() +
                                             "); try again, or raise remote_timeout_seconds");
  return fail(ErrorCode::kDatabase, what + ": " + e.get_description());
}

}  // namespace

Result<Searcher> Searcher::open(const SearcherOptions& options) {
  auto synonyms = SynonymTable::load(options.synonyms_path);
  if (!synonyms) return std::unexpected(synonyms.error());
  return open(options, std::make_shared<const SynonymTable>(std::move(*synonyms)));
}

Result<Searcher> Searcher::open(const SearcherOptions& options, std::shared_ptr<const SynonymTable> synonyms) {
  if (options.shard_transport) {
    auto coordinator = Coordinator::open(options, synonyms ? *synonyms : SynonymTable());
    if (!coordinator) return std::unexpected(coordinator.error());
    return Searcher(std::move(*coordinator));
  }
  std::vector<std::string> specs =
      options.databases.empty() ? std::vector<std::string>{options.db_path.string()} : options.databases;
  // No documents, only spelling data: Database::add_database merges it into the suggestions.
  if (!options.spelling_database.empty()) specs.push_back(options.spelling_database.string());
  if (const auto same = same_database_twice(specs)) return fail(ErrorCode::kIo, same->message);
  std::optional<Xapian::rev> overtaken_at;  // the revision a DatabaseModifiedError was met at
  for (int attempt = 1;; ++attempt) {
    auto shards = ShardSet::open(specs, options.remote);
    if (!shards) return std::unexpected(shards.error());
    // The spelling database is searched with the shards (it adds its spelling data): one that
    // holds articles (an index given for it) counted each of them once more, every hit twice
    // (helper-101: 20 hits of 10, "100 articles").
    if (!options.spelling_database.empty())
      for (const auto& status : shards->status())
        if (status.up && status.name == options.spelling_database.string()) {
          if (const auto held = shards->spelling(status.name).get_doccount(); held > 0)
            return fail(ErrorCode::kIo, fmt::format("spelling database {} holds {} articles: it would be searched as "
                                                    "one more shard, every hit twice; give the spelling data of a "
                                                    "sharded index (DIR/spelling), which holds none",
                                                    status.name, held));
        }
    const auto revision = Impl::revision_of(shards->database());
    try {
      return Searcher(std::make_unique<Impl>(options, std::move(*shards), synonyms));
    } catch (const Xapian::DatabaseModifiedError& e) {
      // Overtaken by commits while it opened, a reader opens again at a newer revision; met
      // twice at the same one, the index is damaged, not busy.
      const bool damaged = Impl::revision_unreached(overtaken_at, revision);
      if (!damaged && attempt < 3) {
        overtaken_at = revision;
        continue;
      }
      return fail(damaged ? ErrorCode::kCorrupt : ErrorCode::kDatabase,
                  "reading index " + specs.front() + ": " + e.get_description() +
                      (damaged ? fmt::format("; {}: `mssearch check` verifies it, `mssearch index --full` rebuilds it",
                                           Impl::kRevisionUnreached)
                               : std::string()));
    } catch (const Xapian::Error& e) {
      return fail(schema::error_code_of(e), "reading index " + specs.front() + ": " + e.get_description());
    }
  }
}

Searcher::Searcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Searcher::Searcher(std::unique_ptr<Coordinator> coordinator) : coordinator_(std::move(coordinator)) {}
Searcher::Searcher(Searcher&&) noexcept = default;
Searcher& Searcher::operator=(Searcher&&) noexcept = default;
Searcher::~Searcher() = default;

const std::vector<FacetValue>& Searcher::topics() const {
  return coordinator_ ? coordinator_->topics() : impl_->topics;
}
std::uint32_t Searcher::document_count() const {
  return coordinator_ ? coordinator_->document_count() : impl_->db.get_doccount();
}
const std::vector<ShardStatus>& Searcher::shard_status() const {
  return coordinator_ ? coordinator_->shard_status() : impl_->shards.status();
}
std::uint64_t Searcher::revision() const { return coordinator_ ? coordinator_->revision() : impl_->shards.revision(); }
std::vector<std::string> Searcher::configuration_warnings() const {
  return coordinator_ ? coordinator_->configuration_warnings() : std::vector<std::string>();
}

Searcher::Impl::Impl(const SearcherOptions& opts, ShardSet shard_set, std::shared_ptr<const SynonymTable> synonyms)
    : options(opts),
      remote(std::any_of(options.databases.begin(), options.databases.end(), is_remote_spec)),
      shards(std::move(shard_set)),
      db(shards.database()),
      planner(options, std::move(synonyms), db),
      weight(make_weight(options.ranking)),
      slices(options.match_slices, options.match_slice_min_documents) {
  planner.set_database(db, spelling());
  load_topics();
}

void Searcher::Impl::use_database() {
  db = shards.database();
  planner.set_database(db, spelling());
  load_topics();
}

Xapian::Database Searcher::Impl::spelling() const {
  // A configured spelling database holds the whole collection's data (a sharded index's
  // DIR/spelling): read alone, a local shard's own data is not counted twice beside it.
  return shards.spelling(options.spelling_database.empty() ? std::string() : options.spelling_database.string());
}

std::vector<std::string> Searcher::Impl::spelling_damage_warnings() {
  const auto why = planner.take_spelling_failure();
  if (!why) return {};
  std::vector<std::string> out;
  const std::string only = options.spelling_database.empty() ? std::string() : options.spelling_database.string();
  for (const auto& dir : shards.spelling_damaged(*why, only))
    out.push_back(fmt::format("the spelling data {} was left out: it cannot be read ({}); \"did you mean\" reads the "
                              "shards' own until the next `mssearch index` rebuilds it (`mssearch check` verifies the index)",
                              dir.string(), *why));
  planner.set_database(db, spelling());
  return out;
}

double Searcher::Impl::count_limit() const {
  return remote ? 0 : options.time_limit_seconds;
}

void Searcher::Impl::load_pair_words() {
  // Only a list every database searched holds: the filter must hold in each of them.
  const auto common = options.phrase_pair_filters ? shards.common_pair_words() : std::nullopt;
  planner.set_pair_words(common ? *common : schema::PairWords());
}

void Searcher::Impl::load_topics() {
  // Columns are keyed by docid, which a match spy sees per sub-database: one local database only.
  single_local = db.size() == 1 && !remote;
  const auto local = shards.local_parts();
  docid_shards = single_local ? std::optional<std::vector<std::string>>(std::vector<std::string>{})
                 : local.empty() ? std::nullopt
                                 : local_shard_uuids(db);
  // Counted shard by shard only when the parts are exactly the databases ranked, in order (a
  // shard that failed to reopen, or a copy sharing another's UUID, is counted by the spies).
  const bool parts_are_db =
      docid_shards && docid_shards->size() == local.size() &&
      std::equal(local.begin(), local.end(), docid_shards->begin(), [](const auto& p, const std::string& uuid) { return p.uuid == uuid; });
  std::vector<ShardRevision> parts;
  if (!single_local && options.parallel_shards && parts_are_db) parts = local;
  // One local index only: a sharded one already counts its shards in threads of their own
  // while it ranks (FacetCounting), and slices beside them outnumbered the cores (at 100k over
  // 4 shards on 2 cores, top 10 p50 6.0 ms in one pass, 10.3 ms sliced).
  slice_parts = single_local && local.size() == 1 ? local : std::vector<ShardRevision>{};
  facets.reset();  // its threads end before another set starts
  const Xapian::doccount remote_count = remote_count_bound(options.time_limit_seconds);
  auto counting = FacetCounting::for_database(db, single_local, options.max_wildcard_expansion, parts, remote, remote_count);
  // A shard that cannot be opened a second time for counting (removed since): the spies count
  // what the searcher reads.
  facets = counting ? std::move(*counting)
                    : std::move(*FacetCounting::for_database(db, false, options.max_wildcard_expansion, {}, remote, remote_count));
  collection_freqs.clear();
  feedback_docs.clear();
  topics = collection_values(db, remote, schema::kSlotTopics);
  journals = collection_values(db, remote, schema::kSlotJournal);
  load_pair_words();
}

Result<bool> Searcher::refresh() {
  if (coordinator_) return coordinator_->refresh();
  try {
    auto changed = impl_->shards.refresh();
    if (!changed) return std::unexpected(changed.error());
    if (*changed) impl_->use_database();
    return *changed;
  } catch (const Xapian::Error& e) {
    return fail(ErrorCode::kDatabase, "reopening index " + impl_->options.db_path.string() + ": " + e.get_description());
  }
}

namespace {

// What the result cache keys an index's state by: each local database's UUID and revision (and
// the shards that are down). Not revision(): a sharded directory (index --shards N) has no
// single revision (it read 0 whatever its shards committed), and a sum of revisions can come
// back to a value it had before when a shard goes down.
std::string index_version(const ShardSet& shards) {
  std::string version;
  for (const auto& part : shards.local_parts())
    version += part.uuid + ':' + std::to_string(part.revision) + ';';
  for (const auto& down : shards.failed()) version += "down " + down + ';';
  return version;
}

}  // namespace

Result<SearchResult> Searcher::search(const SearchRequest& request) {
  if (coordinator_) return coordinator_->search(request);
  const MatchSlices::Running running;
  impl_->stored.take_warnings();
  const auto start = std::chrono::steady_clock::now();
  ResultCache* cache = impl_->options.result_cache.get();
  if (cache != nullptr && impl_->remote) cache = nullptr;
  std::string key;
  const std::string searched_version = cache != nullptr ? index_version(impl_->shards) : std::string();
  if (cache != nullptr) {
    key = ResultCache::key(request, searched_version);
    if (auto kept = cache->get(key)) {
      kept->took_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      return std::move(*kept);
    }
  }
  try {
    auto result = impl_->retrying([&]() -> Result<SearchResult> {
      if (auto down = impl_->every_shard_down()) return std::unexpected(std::move(*down));
      return impl_->search_once(request);
    });
    std::vector<std::string> spelling_damage = impl_->spelling_damage_warnings();
    if (result) {
      result->warnings = impl_->stored.take_warnings();
      result->damaged_articles = result->warnings.size();
      for (auto& warning : spelling_damage) result->warnings.push_back(std::move(warning));
    }
    // Kept under the revision searched: a retry after the index moved on searched a newer one.
    if (result && cache != nullptr && index_version(impl_->shards) == searched_version) cache->put(key, *result);
    return result;
  } catch (const Xapian::WildcardError& e) {
    return std::unexpected(wildcard_refusal(e, impl_->options.max_wildcard_expansion));
  } catch (const Xapian::Error& e) {
    return xapian_failure(e, "search failed");
  }
}

std::optional<Error> Searcher::Impl::every_shard_down() const {
  const std::vector<std::string> failed = shards.failed();
  if (failed.empty()) return std::nullopt;
  const std::string spelling = options.spelling_database.string();
  const std::size_t with_documents = options.databases.empty() ? 1 : options.databases.size();
  std::vector<std::string> down;
  for (const auto& name : failed)
    if (spelling.empty() || name != spelling) down.push_back(name);
  if (down.size() < with_documents) return std::nullopt;
  return Error{ErrorCode::kUnavailable, fmt::format("every shard is down ({}): no article can be searched", fmt::join(down, ", "))};
}

Result<SearchResult> Searcher::Impl::search_once(const SearchRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  auto plan = planner.plan(request);
  if (!plan) return std::unexpected(plan.error());
  auto result = run(request, *plan);
  if (!result) return result;

  // "Did you mean": offered only when the correction finds more than the query as typed, or as
  // many where it found some (`brian fog` found the 2 articles of "fog" that `brain fog` finds,
  // and nothing was offered); when the query found nothing, the corrected query's hits are
  // shown instead.
  if (!plan->blank && result->total < 3) {
    const std::string corrected = planner.spelling_correction(*plan);
    if (!corrected.empty() && corrected != plan->folded) {
      // The offer as typed is searched, as clicking it searches it (and as a coordinator does):
      // the correction as read searched `topic:symptom managment NEAR fatigue` as the topic
      // "symptom" beside `management NEAR fatigue`, 3 articles shown as the offer's, which found
      // 5 (`topic:"symptom management" NEAR fatigue`).
      const std::string offered = correction_as_typed(*plan, corrected);
      SearchRequest again = request;
      again.query = offered;
      auto replanned = offered.empty() ? planner.plan_words(request, corrected) : planner.plan(again);
      if (!replanned && !offered.empty()) replanned = planner.plan_words(request, corrected);
      auto better = replanned ? run(again, *replanned) : Result<SearchResult>(std::unexpected(replanned.error()));
      if (better && (better->total > result->total || (result->total > 0 && better->total == result->total))) {
        better->timed_out = better->timed_out || result->timed_out;
        if (result->total == 0) {
          better->query = request.query;
          better->showing_corrected = true;
          result = std::move(better);
        }
        result->did_you_mean = offered;
      }
    }
  } else if (const std::string corrected = planner.typo_correction(*plan); !corrected.empty() && corrected != plan->folded) {
    // Found enough without a word it does not know: offered, not searched (no second search).
    result->did_you_mean = correction_as_typed(*plan, corrected);
  }
  // Nothing still: the last word read as the beginning of words, as the page did while it was
  // typed (`astro` showed 4 articles as the visitor typed; Enter showed none).
  if (!plan->blank && !plan->partial && result->total == 0 && !result->showing_corrected)
    if (auto completed = completions_instead(request)) result = std::move(*completed);
  // The words no article has, beside hits of the others (not over xapian-tcpsrv, where each
  // look-up is a round trip).
  if (!remote && result->total > 0 && !result->did_you_mean && !result->showing_completions)
    result->missing_words = planner.missing_words(*plan);
  result->query_terms_dropped = plan->words_dropped;  // also when the answer is the corrected query's
  result->query_phrases_relaxed = plan->phrases_relaxed;
  result->last_word_prefix = plan->partial;
  result->took_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return result;
}

std::optional<SearchResult> Searcher::Impl::completions_instead(const SearchRequest& request) {
  SearchRequest as_typed = request;
  as_typed.partial = true;
  auto plan = planner.plan(as_typed);
  if (!plan || !plan->partial) return std::nullopt;  // its last word is no prefix (`ms `, `"a b"`)
  auto found = run(as_typed, *plan);
  if (!found || found->total == 0) return std::nullopt;
  found->query = request.query;
  found->showing_completions = true;
  return std::move(*found);
}

// The pipeline, once the plan is made.
Result<SearchResult> Searcher::Impl::run(const SearchRequest& request, const QueryPlan& plan) {
  const MatchWindow window = match_window(request, plan, options);
  const auto began = std::chrono::steady_clock::now();
  const Matched matched = match(db, *weight, plan, window, request.facets ? facets.get() : nullptr,
                                count_limit(), &slices, slice_parts);
  const Reranked reranked = Reranker(db, *weight, options.ranking, collection_freqs, docid_shards)
                                .rerank(plan, matched, window);
  const Xapian::Stem stemmer = request.snippets ? planner.analyzer().snippet_stemmer(plan.query) : Xapian::Stem();
  Page page = build_page(db, reranked.page, matched.mset, stemmer, {request.snippets, options.snippet_length}, stored);

  SearchResult result;
  result.query = request.query;
  result.failed_shards = shards.failed();
  result.total = matched.total;
  result.total_is_exact = matched.total_is_exact;
  result.order = plan.by_date ? SortOrder::kDate : plan.by_credibility ? SortOrder::kCredibility : SortOrder::kRelevance;
  result.timed_out = matched.timed_out;
  result.sliced = matched.sliced;
  FacetCounts counts = matched.facets;
  if (request.facets && count_without_own_filters(request, plan, began, counts)) result.timed_out = true;
  result.topic_facets = std::move(counts.topics);
  result.year_facets = std::move(counts.years);
  result.journal_facets = std::move(counts.journals);
  // Not while the last word is a prefix being typed: they would be like the best hits of a
  // word not yet written, other ones at each keystroke, and they were a third of such an
  // answer's time (a search of the whole collection). They come once the word is whole.
  if (request.related && !plan.partial) {
    RelatedFinder related = related_finder(*weight);
    result.related = related.of_answer(plan, matched, reranked, page, options.related_count);
  }
  result.hits = std::move(page.hits);
  return result;
}

bool Searcher::Impl::count_without_own_filters(const SearchRequest& request, const QueryPlan& plan,
                                               std::chrono::steady_clock::time_point began,
                                               FacetCounts& counts) {
  bool timed_out = false;
  for (const auto& [facet, own] : planner.own_filter_plans(request, plan)) {
    // Counted only: the smallest window (the counter sees every match, or counts by itself).
    MatchWindow count_only;
    count_only.limit = 1;
    // What the search's limit leaves (a millisecond at least: 0 would be no limit).
    double limit = count_limit();
    if (limit > 0)
      limit = std::max(0.001, limit - std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
    // Weighed by nothing and never sliced (slices rank): only counted. A ranked pass cost a
    // filtered search twice as much as this at 60,000 articles (helper-62).
    static const Xapian::BoolWeight kCountOnly;
    const Matched m = match(db, kCountOnly, own, count_only, facets.get(), limit);
    timed_out = timed_out || m.timed_out;
    if (facet == 0) counts.topics = m.facets.topics;
    else if (facet == 1) counts.years = m.facets.years;
    else counts.journals = m.facets.journals;
  }
  return timed_out;
}

RelatedFinder Searcher::Impl::related_finder(const Xapian::Weight& scoring) {
  RelatedFinder related(db, scoring, planner.parser(), options.ranking, collection_freqs, stored);
  related.use_slices(&slices, slice_parts, count_limit());
  return related;
}

Result<Xapian::docid> Searcher::Impl::docid_of(const std::string& id) const {
  const std::string term = schema::id_term(id);
  auto p = db.postlist_begin(term);
  if (p == db.postlist_end(term)) return fail(ErrorCode::kNotFound, "no article with id '" + id + "'");
  return *p;
}

Result<std::vector<SearchHit>> Searcher::related(const std::string& id, std::size_t limit,
                                                 std::vector<std::string>* failed_shards) {
  if (coordinator_) return coordinator_->related(id, limit, failed_shards);
  auto found = impl_->related_of(id, limit, nullptr);
  if (!found) return std::unexpected(found.error());
  return std::move(found->hits);
}

// An article's related articles, with the terms and topics they were searched for (a shard
// server's part: the coordinator asks the other shards for articles like them). Given `like`,
// the article is another shard's: articles like its terms and topics, the article left out.
Result<Searcher::Impl::RelatedOf> Searcher::Impl::related_of(const std::string& id, std::size_t limit,
                                                            const RelatedOf* like) {
  const MatchSlices::Running running;
  try {
    return retrying([&]() -> Result<RelatedOf> {
      RelatedFinder related = related_finder(*weight);
      RelatedOf out;
      limit = std::min(limit, options.max_limit);
      if (like != nullptr) {
        out.hits = related.like({}, {id}, like->topics, limit, 0, &like->terms);
        return out;
      }
      auto docid = docid_of(id);
      if (!docid) return std::unexpected(docid.error());
      auto a = StoredArticles::get_or_error(db.get_document(*docid), id, StoredParts::kFields);
      if (!a) return std::unexpected(a.error());
      out.terms = related.terms_like({*docid}, 1);
      out.topics = a->topics;
      out.hits = related.like({*docid}, {id}, a->topics, limit, 1, &out.terms);
      return out;
    });
  } catch (const Xapian::Error& e) {
    return xapian_failure(e, "related articles failed");
  }
}

Result<Article> Searcher::article(const std::string& id) {
  if (coordinator_) return coordinator_->article(id);
  Impl& s = *impl_;
  try {
    return s.retrying([&]() -> Result<Article> {
      auto docid = s.docid_of(id);
      if (!docid) return std::unexpected(docid.error());
      return StoredArticles::get_or_error(s.db.get_document(*docid), id, StoredParts::kAll);
    });
  } catch (const Xapian::Error& e) {
    return xapian_failure(e, "reading article failed");
  }
}

// A shard server's part of a coordinator's search (shard_protocol.h): the first `window` hits
// of this shard, counted and ranked with its own statistics.
Result<ShardAnswer> Searcher::Impl::shard_once(const ShardRequest& r, SearchRequest request) {
  request.offset = 0;
  request.facets = r.facets && r.op == ShardOp::kMatch;
  request.snippets = r.snippets;
  request.related = r.related;
  auto plan = planner.plan(request);
  if (!plan) return std::unexpected(plan.error());
  ShardAnswer a;
  a.revision = shards.revision();
  if (r.op == ShardOp::kStats) {
    // What the coordinator sums into the collection's statistics for this plan.
    a.documents = db.get_doccount();
    a.total_length = db.get_total_length();
    for (auto t = plan->query.get_unique_terms_begin(); t != plan->query.get_unique_terms_end(); ++t)
      a.term_freqs.emplace_back(*t, collection_freqs.termfreq(db, *t));
    // As you type, a last word unknown here may be another shard's word: one index reads it
    // whole then, and so does the coordinator (it asks every shard for the whole word when
    // one knows it). That reading's terms too, so that it scores with the collection's counts.
    a.last_word_prefix = plan->partial;
    // Each wildcard's expansion here, so that the coordinator's sums give the collection's
    // frequency of every term one index would expand it to (the synonym's weight below). Not
    // past the expansion limit: one index would then keep only the most frequent. At most
    // kMaxExpansionTerms in all, whole wildcards first come: the coordinator sends the terms
    // back with the match, whose size is bounded (kMaxShardRequestBytes: 96 wildcards of 150
    // terms each were refused with 413 where one index answered). A wildcard left out is
    // weighed with the shard's estimate, scaled.
    {
      constexpr std::size_t kMaxExpansionTerms = 1000;
      std::size_t reported = 0;
      std::set<std::string> seen;
      for (const auto& [term, freq] : a.term_freqs) seen.insert(term);
      for (const auto& prefix : wildcard_prefixes(plan->query)) {
        std::vector<std::pair<std::string, Xapian::doccount>> expansion;
        bool over_limit = false;
        for (auto t = db.allterms_begin(prefix); t != db.allterms_end(prefix); ++t) {
          if (expansion.size() >= options.max_wildcard_expansion) {
            over_limit = true;
            break;
          }
          expansion.emplace_back(*t, t.get_termfreq());
        }
        // Whether this shard's expansion is all there (none is whole too): the coordinator sums
        // the marks, so the match phase knows every shard's was (0), or weighs it as before.
        const bool whole = !over_limit && reported + expansion.size() <= kMaxExpansionTerms;
        a.term_freqs.emplace_back(expansion_mark(prefix), whole ? 0 : 1);
        if (!whole) continue;
        reported += expansion.size();
        for (auto& [term, freq] : expansion)
          if (seen.insert(term).second) a.term_freqs.emplace_back(std::move(term), freq);
      }
    }
    if (plan->partial) {
      request.partial = false;
      if (auto whole = planner.plan(request)) {
        std::set<std::string> seen;
        for (const auto& [term, freq] : a.term_freqs) seen.insert(term);
        for (auto t = whole->query.get_unique_terms_begin(); t != whole->query.get_unique_terms_end(); ++t)
          if (seen.insert(*t).second) a.term_freqs.emplace_back(*t, collection_freqs.termfreq(db, *t));
      }
    }
    return a;
  }
  // Scored with the collection's statistics when the coordinator sent them.
  std::unique_ptr<Xapian::Weight> global;
  if (r.stats && r.stats->documents > 0) {
    auto stats = std::make_shared<GlobalStats>();
    stats->documents = static_cast<double>(r.stats->documents);
    stats->average_length = static_cast<double>(r.stats->total_length) / stats->documents;
    stats->local_documents = db.get_doccount();
    // A term is known to the weight by its counts here: the query's own terms first, so that a
    // feedback or related term with the same counts here does not move their weights (the
    // related articles' terms, sent only when asked for, changed the hits' scores: their order
    // through a coordinator depended on `related`).
    std::set<std::string> planned;
    for (auto t = plan->query.get_unique_terms_begin(); t != plan->query.get_unique_terms_end(); ++t) planned.insert(*t);
    std::map<GlobalStats::Key, std::pair<double, int>> sums, others;
    const std::vector<std::string> prefixes = wildcard_prefixes(plan->query);
    const auto expanded = [&](const std::string& term) {
      return std::any_of(prefixes.begin(), prefixes.end(), [&](const std::string& p) { return term.starts_with(p); });
    };
    for (const auto& [term, freq] : r.stats->term_freqs) {
      // A wildcard's expansion is weighed as its synonym only (below): its terms need no
      // lookup here (thousands of them for a query of many wildcards); nor do the marks.
      if (term.starts_with('\0') || (!planned.contains(term) && expanded(term))) continue;
      const auto local = collection_freqs.both(db, term);
      if (local.termfreq == 0) continue;  // never weighed here
      auto& sum = (planned.contains(term) ? sums : others)[{local.termfreq, local.collection_freq}];
      sum.first += freq;
      ++sum.second;
    }
    for (const auto& [key, sum] : sums) stats->by_local.emplace(key, sum.first / sum.second);
    // A wildcard weighs as one synonym of its expansion, with frequencies Xapian estimates from
    // its terms' (synonym_freqs): here from this shard's terms, as the weight will be told
    // them; across the collection from every shard's, as one index holding them all would.
    // Within the expansion limit on both sides (past it, the expansions differ anyway). Only
    // where the synonym's counts here are no term's and no other wildcard's: the weight knows
    // them apart by those counts alone (a shard whose expansion of `ladad*` is the one term
    // `ladada`, typed too, or two wildcards estimated alike here). There, the scaled estimate.
    std::map<GlobalStats::Key, std::optional<double>> synonyms;  // nullopt: two of them alike
    std::map<std::string_view, std::uint32_t> incomplete;  // by mark: shards whose expansion is missing
    for (const auto& [term, freq] : r.stats->term_freqs)
      if (term.starts_with('\0')) incomplete.emplace(term, freq);
    for (const auto& prefix : prefixes) {
      // Every shard's expansion must be in the statistics, else their union is not the
      // collection's (a shard past the limits, a coordinator or shard of an older version).
      if (const auto mark = incomplete.find(expansion_mark(prefix)); mark == incomplete.end() || mark->second != 0) continue;
      std::vector<GlobalStats::Key> here, everywhere;
      for (auto t = db.allterms_begin(prefix); t != db.allterms_end(prefix) && here.size() <= options.max_wildcard_expansion; ++t)
        here.push_back(GlobalStats::Key{t.get_termfreq(), collection_freqs.get(db, *t)});
      std::vector<std::pair<std::string_view, std::uint32_t>> named;
      for (const auto& [term, freq] : r.stats->term_freqs)
        if (term.starts_with(prefix) && freq > 0) named.emplace_back(term, freq);
      std::sort(named.begin(), named.end());  // in term order, as the wildcard expands them
      for (const auto& [term, freq] : named) everywhere.push_back(GlobalStats::Key{freq, 0});
      if (here.empty() || here.size() > options.max_wildcard_expansion || everywhere.size() > options.max_wildcard_expansion)
        continue;
      const auto local = synonym_freqs(here, db.get_doccount(), static_cast<double>(db.get_total_length()));
      const auto whole = synonym_freqs(everywhere, stats->documents, static_cast<double>(r.stats->total_length));
      if (const auto [it, first] = synonyms.emplace(local, whole.first); !first && it->second != whole.first) it->second.reset();
    }
    for (const auto& [key, value] : synonyms)
      if (value && !sums.contains(key) && !others.contains(key)) stats->by_local.emplace(key, *value);
    for (const auto& [key, sum] : others) stats->by_local.emplace(key, sum.first / sum.second);  // never over the query's
    global = make_global_weight(options.ranking, std::move(stats));
  }
  const Xapian::Weight& scoring = global ? *global : *weight;
  if (r.op == ShardOp::kFetch) {
    // A deep page's hits held here, by id, with fields and snippets as the page phase would
    // have given them: the snippets marked from a match of the same query (the page's ids its
    // filter), so the same words and the same passages.
    std::vector<Xapian::Query> id_terms;
    for (const auto& id : r.ids) id_terms.emplace_back(schema::id_term(id));
    Xapian::Enquire enquire(db);
    enquire.set_query(Xapian::Query(Xapian::Query::OP_FILTER, plan->query,
                                    Xapian::Query(Xapian::Query::OP_OR, id_terms.begin(), id_terms.end())));
    enquire.set_weighting_scheme(scoring);
    const Xapian::MSet mset = enquire.get_mset(0, static_cast<Xapian::doccount>(r.ids.size()));
    ScoredDocs found;  // an article gone since the match is not among them, and left out
    for (auto it = mset.begin(); it != mset.end(); ++it) found.emplace_back(*it, it.get_weight());
    const Xapian::Stem stemmer = r.snippets ? planner.analyzer().snippet_stemmer(plan->query) : Xapian::Stem();
    a.hits = build_page(db, found, mset, stemmer, {r.snippets, r.snippet_length > 0 ? r.snippet_length : options.snippet_length}, stored).hits;
    // In the order asked (the page's).
    std::unordered_map<std::string, std::size_t> place;
    for (std::size_t i = 0; i < r.ids.size(); ++i) place.emplace(r.ids[i], i);
    std::sort(a.hits.begin(), a.hits.end(), [&](const SearchHit& x, const SearchHit& y) { return place[x.id] < place[y.id]; });
    return a;
  }
  MatchWindow window = shard_window(r.window, *plan, options);
  // kPage: the steps of the global candidates, as many of them as are this shard's.
  if (r.op == ShardOp::kPage && window.candidates()) window.steps = r.candidate_steps;
  // kPage re-ranks only its candidates in the global window (~a quarter of them over 4 shards):
  // matched that deep, not to the whole window's depth (the same first hits, found sooner).
  MatchWindow matching = window;
  if (r.op == ShardOp::kPage && plan->feedback && window.candidates())
    matching.depth = std::clamp<Xapian::doccount>(static_cast<Xapian::doccount>(std::min<std::size_t>(r.candidates, window.depth)), 1, window.depth);
  // kPage with the candidates' docids from this very index state: only those documents are
  // ranked (the plan's query filtered by them: the same scores, no weight added), not the
  // whole match again (0.8 of the page round trip's 2.3 ms in a shard of 25,000 articles).
  std::optional<QueryPlan> by_docid;
  if (r.op == ShardOp::kPage && plan->feedback && window.candidates() && !r.candidate_docids.empty() && docid_shards &&
      r.docid_key == index_version(shards)) {
    ScoredDocs ids;
    for (const auto docid : r.candidate_docids) ids.emplace_back(docid, 0.0);
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end(), [](const auto& x, const auto& y) { return x.first == y.first; }), ids.end());
    by_docid = *plan;
    by_docid->query = Xapian::Query(Xapian::Query::OP_FILTER, plan->query, candidates_query(ids, *docid_shards));
  }
  const auto began = std::chrono::steady_clock::now();
  Matched matched = by_docid ? match(db, scoring, *by_docid, matching, nullptr, count_limit())
                             : match(db, scoring, *plan, matching, request.facets ? facets.get() : nullptr,
                                     count_limit(), &slices, slice_parts);
  a.order = plan->by_date ? "date" : plan->by_credibility ? "credibility" : "score";
  a.reranked = plan->feedback;
  if (r.op == ShardOp::kMatch) {
    a.total = matched.total;
    a.total_is_exact = matched.total_is_exact;
    a.timed_out = matched.timed_out;
    if (request.facets && count_without_own_filters(request, *plan, began, matched.facets)) a.timed_out = true;
    a.topic_facets = std::move(matched.facets.topics);
    a.year_facets = std::move(matched.facets.years);
    a.journal_facets = std::move(matched.facets.journals);
    a.folded = plan->folded;
    a.query_terms_dropped = plan->words_dropped;
    a.query_phrases_relaxed = plan->phrases_relaxed;
    a.last_word_prefix = plan->partial;
    a.documents = db.get_doccount();
    // As one index offers it (Impl::search_once); the coordinator counts the proposals.
    bool unknown = false;
    const std::string corrected = plan->blank                ? std::string()
                                  : matched.total < 3        ? planner.spelling_correction(*plan)
                                                             : planner.typo_correction(*plan, &unknown);
    if (!corrected.empty() && corrected != plan->folded) a.spelling = correction_as_typed(*plan, corrected);
    else a.spelling_unknown = unknown;
    if (!plan->blank && matched.total < 3) {
      bool typo_unknown = false;
      if (const std::string typo = planner.typo_correction(*plan, &typo_unknown); !typo.empty() && typo != plan->folded)
        a.typo = correction_as_typed(*plan, typo);
      else a.typo_unknown = typo_unknown;
    }
    // Also when this shard found nothing (filtered out here, the word may still be here).
    if (!remote) a.missing_words = planner.missing_words(*plan);
    if (plan->feedback) {
      // What the coordinator needs to choose feedback's terms from the global best hits.
      for (const auto& [docid, score] : matched.ranked) a.candidates.push_back(score);
      // Named by docid for the page round trip, when this searcher can name them so.
      if (docid_shards) {
        for (const auto& [docid, score] : matched.ranked) a.candidate_docids.push_back(docid);
        a.docid_key = index_version(shards);
      }
      a.depth = window.depth;
      feedback_docs.start();
      std::vector<const FeedbackDocCache::Doc*> docs;
      for (auto it = matched.ranked.begin(); it != matched.ranked.end() && docs.size() < options.ranking.feedback_docs; ++it) {
        docs.push_back(&feedback_docs.get(db, it->first, collection_freqs));
        a.feedback_docs.push_back({it->second, docs.back()->stored});
      }
      a.feedback_freqs = feedback_freqs(docs);
      for (auto t = plan->query.get_unique_terms_begin(); t != plan->query.get_unique_terms_end(); ++t)
        a.query_terms.push_back(*t);
      return a;
    }
  } else if (plan->feedback) {
    if (matched.ranked.size() > r.candidates) matched.ranked.resize(r.candidates);
  }
  const Reranked reranked = Reranker(db, scoring, options.ranking, collection_freqs, docid_shards)
                                .rerank(*plan, matched, window, plan->feedback ? &r.feedback : nullptr);
  const bool snippets = request.snippets && !r.keys_only;
  const Xapian::Stem stemmer = snippets ? planner.analyzer().snippet_stemmer(plan->query) : Xapian::Stem();
  Page page = build_page(db, reranked.page, matched.mset, stemmer,
                         {snippets, r.snippet_length > 0 ? r.snippet_length : options.snippet_length, r.keys_only}, stored);
  if (request.related && !plan->partial) {  // as Impl::run: none for a prefix being typed
    RelatedFinder related = related_finder(scoring);
    if (r.op == ShardOp::kPage) {
      // Its share of one index's related articles (shard_protocol.h): the coordinator merges.
      // The coordinator leaves out the global page's hits, a page at most of this shard's
      // list: a page and the related articles' count are enough (the window, deep down, cost
      // every shard thousands of related hits with their fields: 1.6 s of page 1001's 3.7 s).
      const std::size_t page_size = r.limit > 0 ? std::min(r.limit, r.window) : r.window;
      const std::size_t enough = page_size + options.related_count;
      a.related = related.of_candidates(*plan, reranked, page, enough);
      std::vector<std::string> terms;
      for (const auto& entry : reranked.terms) terms.push_back(entry.first);
      if (terms.empty()) terms = r.related_terms;
      if (r.related_fill && !terms.empty() && plan->words.get_type() != Xapian::Query::LEAF_MATCH_ALL)
        a.related_more = related.like({}, {}, {}, enough, 0, &terms, plan->query);
    } else {
      // Its window's hits are not all on the coordinator's page, which leaves out the page's
      // own: as many more as the page holds (ShardRequest::limit; older coordinators: the
      // window), none left out here. Leaving out the whole window starved deeper pages: on
      // page 3 of a 17-article shard, 1 related article where one index gives 5.
      const std::size_t page_size = r.limit > 0 ? std::min(r.limit, r.window) : r.window;
      a.related = related.of_answer(*plan, matched, reranked, page, options.related_count + page_size, true);
    }
  }
  if (plan->feedback) {
    // Each hit's step, as the page kept it (a damaged article is left out of the page).
    std::unordered_map<Xapian::docid, std::uint32_t> step_of;
    for (std::size_t i = 0; i < reranked.page.size() && i < reranked.page_steps.size(); ++i)
      step_of.emplace(reranked.page[i].first, reranked.page_steps[i]);
    for (const Xapian::docid docid : page.docids) a.hit_steps.push_back(step_of[docid]);
  }
  a.hits = std::move(page.hits);
  return a;
}

Result<ShardAnswer> Searcher::shard(const ShardRequest& request, const SearchRequest& search) {
  if (coordinator_) return fail(ErrorCode::kBadQuery, "a coordinator is not a shard server");
  Impl& s = *impl_;
  ShardAnswer a;
  switch (request.op) {
    case ShardOp::kMatch:
    case ShardOp::kPage:
    case ShardOp::kFetch:
    case ShardOp::kStats: {
      const MatchSlices::Running running;
      s.stored.take_warnings();
      try {
        auto answer = s.retrying([&] { return s.shard_once(request, search); });
        // A damaged DIR/spelling is learnt here too, not said: a coordinator counts each of a
        // shard's warnings as an article left out.
        s.spelling_damage_warnings();
        if (answer) answer->warnings = s.stored.take_warnings();
        return answer;
      } catch (const Xapian::WildcardError& e) {
        return std::unexpected(wildcard_refusal(e, s.options.max_wildcard_expansion));
      } catch (const Xapian::Error& e) {
        return xapian_failure(e, "search failed");
      }
    }
    case ShardOp::kInfo:
      a.documents = document_count();
      a.revision = revision();
      a.topics = topics();
      a.ranking = ranking_settings(s.options, s.planner.synonyms());
      a.limits = shard_limits(s.options);
      a.checks_secret = s.options.checks_shard_secret;
      for (const auto& part : s.shards.local_parts())
        if (!part.uuid.empty()) a.uuids.push_back(part.uuid);
      // A `shard-NN` folder of a sharded index: how many shards that index has.
      if (is_shard_dir_name(s.options.db_path.filename().string()))
        if (const auto n = recorded_shard_count(s.options.db_path.parent_path())) a.of_shards = static_cast<std::uint32_t>(*n);
      return a;
    case ShardOp::kArticle: {
      auto article = this->article(request.id);
      if (!article) {
        if (article.error().code == ErrorCode::kNotFound) return a;  // held by another shard
        return std::unexpected(article.error());
      }
      a.article = encode_stored(*article);
      return a;
    }
    case ShardOp::kRelated: {
      // With terms: another shard's article, whose related articles may be here too.
      Impl::RelatedOf like{{}, request.related_terms, request.related_topics};
      auto found = s.related_of(request.id, request.limit, request.related_terms.empty() ? nullptr : &like);
      if (!found) return std::unexpected(found.error());
      a.hits = std::move(found->hits);
      a.query_terms = std::move(found->terms);
      for (auto& t : found->topics) a.topics.push_back({std::move(t), 0});
      return a;
    }
    case ShardOp::kSuggest: {
      // Every form of each word, counted: the coordinator keeps one form per stem once the
      // shards' counts are summed (kept here, a shard's "families" hid its count of "family").
      auto list = [&]() -> Result<std::vector<Suggestion>> {
        try {
          return impl_->retrying([&] {
            return impl_->suggest_once(request.id, request.limit, false, std::max(request.limit, request.window));
          });
        } catch (const Xapian::Error& e) {
          return fail(ErrorCode::kDatabase, "suggest failed: " + e.get_description());
        }
      }();
      if (!list) return std::unexpected(list.error());
      a.suggestions = std::move(*list);
      return a;
    }
  }
  return fail(ErrorCode::kBadQuery, "unknown shard operation");
}

}  // namespace mssearch
