#include "searcher/facet_counter.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <stop_token>
#include <string>
#include <system_error>
#include <thread>

#include "schema/index_path.h"

#include "schema/schema.h"
#include "searcher/facet_columns.h"
#include "searcher/limited_match.h"
#include "searcher/match_set.h"

namespace mssearch {

std::vector<FacetValue> sorted_facets(const std::map<std::string, Xapian::doccount>& counts) {
  // Spellings of one value that its filter does not tell apart ("Fatigue", "fatigue", both
  // filtered by the slug `fatigue`) are one facet, named as most of its articles spell it: its
  // count is then what its filter finds (an article holds one spelling of a value: the reader
  // keeps the first).
  std::map<std::string, std::vector<std::pair<std::string, Xapian::doccount>>> by_filter;
  for (const auto& [value, count] : counts)
    if (!value.empty()) by_filter[schema::topic_term(value)].emplace_back(value, count);
  std::vector<FacetValue> out;
  for (auto& [filter, spellings] : by_filter) {
    Xapian::doccount total = 0;
    const std::pair<std::string, Xapian::doccount>* name = &spellings.front();
    for (const auto& s : spellings) {
      total += s.second;
      if (s.second > name->second) name = &s;
    }
    out.push_back({name->first, total});
  }
  std::stable_sort(out.begin(), out.end(), [](const FacetValue& a, const FacetValue& b) { return a.count > b.count; });
  return out;
}

namespace {

// A ValueCountMatchSpy counts one string per slot; the topic slot holds an article's whole
// topic set, so each counted set is split and its count added to every topic in it.
std::map<std::string, Xapian::doccount> spy_counts(const Xapian::ValueCountMatchSpy& spy, bool split_topic_sets) {
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

std::vector<FacetValue> collection_values(const Xapian::Database& db, bool remote, Xapian::valueno slot) {
  const bool topic_sets = slot == schema::kSlotTopics;
  if (!remote) {
    std::map<std::string, Xapian::doccount> counts;
    for (auto v = db.valuestream_begin(slot); v != db.valuestream_end(slot); ++v) {
      if (!topic_sets) {
        ++counts[*v];
        continue;
      }
      for (auto& topic : schema::decode_topic_set(*v)) ++counts[topic];
    }
    return sorted_facets(counts);  // spellings one filter finds alike counted as one value
  }
  if (db.size() == 0 || db.get_doccount() == 0) return {};  // every shard down: no match to run
  Xapian::Enquire enquire(db);
  enquire.set_query(Xapian::Query::MatchAll);
  enquire.set_weighting_scheme(Xapian::BoolWeight());
  enquire.set_docid_order(Xapian::Enquire::DONT_CARE);
  Xapian::ValueCountMatchSpy values(slot);
  enquire.add_matchspy(&values);
  const Xapian::doccount every = db.get_doccount();
  (void)enquire.get_mset(0, 0, every);
  return sorted_facets(spy_counts(values, topic_sets));
}

namespace {

class SpyCounter final : public FacetCounter {
 public:
  Xapian::doccount attach(Xapian::Enquire& enquire) override {
    if (own_pass_) return 0;  // counted already: the matcher may stop once the page is known
    enquire.add_matchspy(&topics_);
    enquire.add_matchspy(&years_);
    enquire.add_matchspy(&journals_);
    return every_;  // the spies must see every match
  }
  std::optional<Xapian::doccount> total() const override {
    if (own_pass_ && own_exact_) return own_total_;
    return std::nullopt;
  }
  FacetCounts counts() const override {
    return {sorted_facets(spy_counts(topics_, true)), sorted_facets(spy_counts(years_, false)),
            sorted_facets(spy_counts(journals_, false))};
  }
  bool timed_out(Xapian::doccount matches) const override {
    if (own_pass_) return !own_exact_ || topics_.get_total() < own_total_;
    return topics_.get_total() < matches;
  }
  Xapian::doccount counted() const override { return topics_.get_total(); }
  explicit SpyCounter(Xapian::doccount every) : every_(every) {}

  // Counts `query` over `db` in a pass of its own, by relevance (without weights) and without
  // a page: each remote sub-database's spies count its matches there and send no document to
  // this side, whose spies count the local ones; none is seen twice. (A match sorted by a value
  // calls this side's spies also for the remote documents that sort below its page, which the
  // remote spies counted already: `ms` by date over 3 xapian-tcpsrv shards, 49 matches, gave
  // year counts summing to 57.)
  //
  // Not cut by the time limit: the database has remote parts, where a spy of ours does not go
  // (get_mset_within), and Xapian's own limit is not safe to use. Bounded instead by the
  // matches each part counts (`every_`: remote_count_bound); bounds that then disagree, or
  // spies that saw fewer than the total, say the counting was cut (timed_out).
  void count_apart(const Xapian::Database& db, const Xapian::Query& query) {
    own_pass_ = true;
    Xapian::Enquire enquire(db);
    enquire.set_query(query);
    enquire.set_weighting_scheme(Xapian::BoolWeight());
    enquire.add_matchspy(&topics_);
    enquire.add_matchspy(&years_);
    enquire.add_matchspy(&journals_);
    const Xapian::MSet mset = enquire.get_mset(0, 0, every_);
    own_exact_ = mset.get_matches_lower_bound() == mset.get_matches_upper_bound();
    own_total_ = own_exact_ ? mset.get_matches_lower_bound() : mset.get_matches_estimated();
  }

 private:
  Xapian::doccount every_;
  bool own_pass_ = false, own_exact_ = false;
  Xapian::doccount own_total_ = 0;
  Xapian::ValueCountMatchSpy topics_{schema::kSlotTopics}, years_{schema::kSlotYear}, journals_{schema::kSlotJournal};
};

class SpyCounting final : public FacetCounting {
 public:
  SpyCounting(const Xapian::Database& db, bool remote, Xapian::doccount remote_count)
      : db_(db), remote_(remote), remote_count_(remote_count) {}
  std::unique_ptr<FacetCounter> start(const Xapian::Query& query, bool by_value, double) const override {
    // Over remote databases each counts at most remote_count_ matches (check_at_least goes to
    // each as it is), the bound on their work that the time limit is locally.
    const Xapian::doccount every = db_.get_doccount();
    auto counter = std::make_unique<SpyCounter>(remote_ && remote_count_ > 0 ? std::min(every, remote_count_) : every);
    if (by_value && remote_) counter->count_apart(db_, query);
    return counter;
  }

 private:
  Xapian::Database db_;
  bool remote_;
  Xapian::doccount remote_count_;
};

// Columns fed by the matcher's spy (one exhaustive weighted pass), or by a MatchSet read off
// the posting lists before the match (the matcher then need not visit every match).
class ColumnCounter final : public FacetCounter {
 public:
  ColumnCounter(const FacetColumns& columns, std::optional<MatchSet> matched, Xapian::doccount every)
      : columns_(columns), spy_(columns), matched_(std::move(matched)), every_(every) {
    if (matched_) matched_->for_each([&](Xapian::docid id) { spy_.add(id); });
  }
  Xapian::doccount attach(Xapian::Enquire& enquire) override {
    if (matched_) return 0;
    enquire.add_matchspy(&spy_);
    return every_;
  }
  std::optional<Xapian::doccount> total() const override {
    if (!matched_) return std::nullopt;
    return static_cast<Xapian::doccount>(matched_->count());
  }
  std::vector<Xapian::MatchSpy*> split(std::size_t n) override {
    if (matched_ || n == 0) return {};
    std::vector<Xapian::MatchSpy*> out{&spy_};
    while (out.size() < n) out.push_back(slices_.emplace_back(std::make_unique<FacetColumns::Spy>(columns_)).get());
    return out;
  }
  bool timed_out(Xapian::doccount matches) const override {
    if (matched_) return false;
    return counted() < matches;
  }
  Xapian::doccount counted() const override {
    if (matched_) return static_cast<Xapian::doccount>(matched_->count());
    std::size_t seen = spy_.seen();
    for (const auto& slice : slices_) seen += slice->seen();
    return static_cast<Xapian::doccount>(seen);
  }
  FacetCounts counts() const override {
    if (slices_.empty()) return counts_of(spy_);
    FacetColumns::Spy all(columns_);
    all.merge(spy_);
    for (const auto& slice : slices_) all.merge(*slice);
    return counts_of(all);
  }

 private:
  static FacetCounts counts_of(const FacetColumns::Spy& spy) {
    return {sorted_facets(spy.counts(0)), sorted_facets(spy.counts(1)), sorted_facets(spy.counts(2))};
  }

  const FacetColumns& columns_;
  std::vector<std::unique_ptr<FacetColumns::Spy>> slices_;  // split(): slices 1 … n - 1
  FacetColumns::Spy spy_;
  std::optional<MatchSet> matched_;
  Xapian::doccount every_;
};

class ColumnCounting final : public FacetCounting {
 public:
  ColumnCounting(const Xapian::Database& db, Xapian::termcount max_expansion) : db_(db), max_expansion_(max_expansion) {
    columns_.load(db_);
  }
  std::unique_ptr<FacetCounter> start(const Xapian::Query& query, bool, double) const override {
    // A phrase, a value range or a wildcard past the expansion limit is the matcher's work
    // either way: then one exhaustive weighted pass counts.
    std::optional<MatchSet> matched;
    if (MatchSet::reads_postings_only(db_, query, max_expansion_)) matched = MatchSet::of(db_, query, max_expansion_);
    return std::make_unique<ColumnCounter>(columns_, std::move(matched), db_.get_doccount());
  }

 private:
  Xapian::Database db_;
  Xapian::termcount max_expansion_;
  FacetColumns columns_;
};

// One of several local shards, counted as one local database: a handle of its own (Xapian
// objects are not thread-safe, and the searcher's combined database shares the handles it was
// made of) with its columns. One task at a time uses it: a search's counter waits for its
// tasks before the search ends.
struct CountedShard {
  Xapian::Database db;
  FacetColumns columns;
  Xapian::Registry registry;  // built once: a default Registry costs ~100 allocations
};

struct ShardCount {
  std::map<std::string, Xapian::doccount> counts[FacetColumns::kCount];
  Xapian::doccount total = 0;
  bool exact = true;
};

// `serialised`: the query, which each task rebuilds for itself (a Query's copies share
// reference counts that are not atomic).
ShardCount count_shard(CountedShard& shard, const std::string& serialised, Xapian::termcount max_expansion,
                       double time_limit_seconds) {
  const Xapian::Query query = Xapian::Query::unserialise(serialised, shard.registry);
  FacetColumns::Spy spy(shard.columns);
  ShardCount out;
  if (MatchSet::reads_postings_only(shard.db, query, max_expansion)) {
    const MatchSet matched = MatchSet::of(shard.db, query, max_expansion);
    matched.for_each([&](Xapian::docid id) { spy.add(id); });
    out.total = static_cast<Xapian::doccount>(matched.count());
  } else {
    // A phrase or a value range: Xapian's matcher, without weights, over every match.
    Xapian::Enquire enquire(shard.db);
    enquire.set_query(query);
    enquire.set_weighting_scheme(Xapian::BoolWeight());
    enquire.add_matchspy(&spy);
    const LimitedMSet limited = get_mset_within(enquire, 0, 0, shard.db.get_doccount(), time_limit_seconds);
    const Xapian::MSet& mset = limited.mset;
    // Cut: at least what the spy counted (the page's pass estimates below it).
    out.total = limited.cut ? std::max<Xapian::doccount>(mset.get_matches_estimated(), static_cast<Xapian::doccount>(spy.seen()))
                            : mset.get_matches_estimated();
    out.exact = !limited.cut && mset.get_matches_lower_bound() == mset.get_matches_upper_bound() &&
                spy.seen() >= mset.get_matches_lower_bound();
  }
  for (std::size_t f = 0; f < FacetColumns::kCount; ++f) out.counts[f] = spy.counts(f);
  return out;
}

// A thread of its own for one shard's counts, kept while the searcher reads one revision (a
// thread started for every search cost more than the counting: its stack mapped and unmapped).
// Runs what it is given in order, so that one shard's handle is never used by two threads.
class ShardWorker {
 public:
  ShardWorker() : thread_([this](std::stop_token stop) { loop(stop); }) {}
  ~ShardWorker() { thread_.request_stop(); }  // the thread ends the tasks it has first
  ShardWorker(const ShardWorker&) = delete;
  ShardWorker& operator=(const ShardWorker&) = delete;

  std::future<ShardCount> submit(std::function<ShardCount()> work) {
    std::packaged_task<ShardCount()> task(std::move(work));
    auto done = task.get_future();
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(task));
    }
    wake_.notify_one();
    return done;
  }

 private:
  void loop(std::stop_token stop) {
    for (;;) {
      std::packaged_task<ShardCount()> task;
      {
        std::unique_lock lock(mutex_);
        if (!wake_.wait(lock, stop, [&] { return !queue_.empty(); })) return;  // stopped, nothing left
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();  // an exception goes to the future
    }
  }

  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::deque<std::packaged_task<ShardCount()>> queue_;
  std::jthread thread_;  // last: started once the members it uses are
};

class ShardedCounter final : public FacetCounter {
 public:
  explicit ShardedCounter(std::vector<std::future<ShardCount>> tasks) : tasks_(std::move(tasks)) {}
  // A search that failed before gathering (its match threw) still waits for its tasks: they
  // read the shards' handles, which the next search (or a reload) may use.
  ~ShardedCounter() override {
    for (auto& task : tasks_)
      if (task.valid()) task.wait();
  }
  ShardedCounter(const ShardedCounter&) = delete;
  ShardedCounter& operator=(const ShardedCounter&) = delete;
  // The tasks count; the matcher ranks meanwhile and may stop once the best hits are known.
  Xapian::doccount attach(Xapian::Enquire&) override { return 0; }
  std::optional<Xapian::doccount> total() const override {
    gather();
    if (cut_) return std::nullopt;  // then the matcher's estimate
    return total_;
  }
  FacetCounts counts() const override {
    gather();
    return {sorted_facets(counts_[0]), sorted_facets(counts_[1]), sorted_facets(counts_[2])};
  }
  bool timed_out(Xapian::doccount) const override {
    gather();
    return cut_;
  }
  Xapian::doccount counted() const override {
    gather();
    return total_;  // a cut shard's: the larger of its estimate and what it counted
  }

 private:
  // Waits for every task; a task's exception (the index moved on: DatabaseModifiedError) is
  // the search's, after the others have ended (the destructor waits for them).
  void gather() const {
    for (; next_ < tasks_.size(); ++next_) {
      ShardCount c = tasks_[next_].get();
      total_ += c.total;
      cut_ = cut_ || !c.exact;
      for (std::size_t f = 0; f < FacetColumns::kCount; ++f)
        for (const auto& [value, count] : c.counts[f]) counts_[f][value] += count;
    }
  }

  mutable std::vector<std::future<ShardCount>> tasks_;
  mutable std::size_t next_ = 0;
  mutable Xapian::doccount total_ = 0;
  mutable bool cut_ = false;
  mutable std::map<std::string, Xapian::doccount> counts_[FacetColumns::kCount];
};

class ShardedCounting final : public FacetCounting {
 public:
  ShardedCounting(const Xapian::Database& db, std::vector<std::unique_ptr<CountedShard>> shards,
                  Xapian::termcount max_expansion)
      : spies_(db, false, 0), shards_(std::move(shards)), max_expansion_(max_expansion) {
    // Throws std::system_error when no thread can be started (for_database falls back).
    for (std::size_t i = 0; i < shards_.size(); ++i) workers_.push_back(std::make_unique<ShardWorker>());
  }
  std::unique_ptr<FacetCounter> start(const Xapian::Query& query, bool by_value, double time_limit_seconds) const override {
    std::shared_ptr<const std::string> serialised;
    try {
      serialised = std::make_shared<const std::string>(query.serialise());
    } catch (const Xapian::UnimplementedError&) {
      // A posting source that cannot be serialised (none the searcher builds today): the
      // spies count in the ranking's pass.
      return spies_.start(query, by_value, time_limit_seconds);
    }
    std::vector<std::future<ShardCount>> tasks;
    tasks.reserve(shards_.size());
    for (std::size_t i = 0; i < shards_.size(); ++i)
      tasks.push_back(workers_[i]->submit([shard = shards_[i].get(), serialised, this, time_limit_seconds] {
        return count_shard(*shard, *serialised, max_expansion_, time_limit_seconds);
      }));
    return std::make_unique<ShardedCounter>(std::move(tasks));
  }

 private:
  SpyCounting spies_;
  std::vector<std::unique_ptr<CountedShard>> shards_;
  Xapian::termcount max_expansion_;
  std::vector<std::unique_ptr<ShardWorker>> workers_;  // last: they end first
};

}  // namespace

Xapian::doccount remote_count_bound(double seconds) {
  if (!(seconds > 0)) return 0;
  return static_cast<Xapian::doccount>(std::clamp(seconds * 200000.0, 10000.0, 4e9));
}

Result<std::unique_ptr<FacetCounting>> FacetCounting::for_database(
    const Xapian::Database& db, bool single_local, Xapian::termcount max_expansion,
    const std::vector<ShardRevision>& local_shards, bool remote, Xapian::doccount remote_count) {
  if (single_local) return std::make_unique<ColumnCounting>(db, max_expansion);
  if (local_shards.size() < 2) return std::make_unique<SpyCounting>(db, remote, remote_count);
  std::vector<std::unique_ptr<CountedShard>> shards;
  for (const auto& [dir, revision, uuid] : local_shards) {
    auto opened = open_index(dir);
    if (!opened) return std::unexpected(opened.error());
    // A commit or a new generation between the opening of the searcher's database and this
    // one: these counts would not be of the documents it ranks. Spies count what it reads
    // until the searcher follows that change (its next refresh) and asks again.
    if (opened->get_revision() != revision || opened->get_uuid() != uuid) return std::make_unique<SpyCounting>(db, remote, remote_count);
    auto shard = std::make_unique<CountedShard>(CountedShard{std::move(*opened), {}, {}});
    shard->columns.load(shard->db);
    shards.push_back(std::move(shard));
  }
  try {
    return std::make_unique<ShardedCounting>(db, std::move(shards), max_expansion);
  } catch (const std::system_error&) {
    // No more threads (a process or container limit): counted as before, in the ranking's pass.
    return std::make_unique<SpyCounting>(db, remote, remote_count);
  }
}

}  // namespace mssearch
