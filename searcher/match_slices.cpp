#include "searcher/match_slices.h"

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>

#include "schema/index_path.h"
#include "searcher/facet_counter.h"
#include "searcher/limited_match.h"
#include "searcher/worker_group.h"

namespace mssearch {

namespace {

// Every docid of one slice of the database it is given (Xapian gives each sub-database of a
// combined one its own copy, with its own docids).
class SliceSource : public Xapian::PostingSource {
 public:
  SliceSource(std::size_t slice, std::size_t slices) : slice_(slice), slices_(slices) {}
  void init(const Xapian::Database& db) override {
    size_ = db.get_lastdocid();
    const auto last = static_cast<unsigned long long>(size_);
    first_ = static_cast<Xapian::docid>(last * slice_ / slices_ + 1);
    last_ = static_cast<Xapian::docid>(last * (slice_ + 1) / slices_);
    at_ = first_;
    started_ = false;
  }
  // Said to be as large as the database, so that Xapian's AND leads with the query's own
  // postings and asks this source only to skip (a dense slice leading would make every
  // posting list of a wide OR skip to each of its docids).
  Xapian::doccount get_termfreq_min() const override { return 0; }
  Xapian::doccount get_termfreq_est() const override { return size_; }
  Xapian::doccount get_termfreq_max() const override { return size_; }
  void next(double) override {
    if (started_) ++at_;
    started_ = true;
  }
  void skip_to(Xapian::docid did, double) override {
    started_ = true;
    at_ = std::max(at_, did);
  }
  bool at_end() const override { return at_ > last_ || last_ < first_; }
  Xapian::docid get_docid() const override { return at_; }
  SliceSource* clone() const override { return new SliceSource(slice_, slices_); }
  std::string name() const override { return "mssearch.SliceSource"; }

 private:
  std::size_t slice_, slices_;
  Xapian::docid first_ = 1, last_ = 0, at_ = 1;
  Xapian::doccount size_ = 0;
  bool started_ = false;
};

std::size_t cores() { return std::max(1u, std::thread::hardware_concurrency()); }
std::size_t spare_threads() { return cores() - 1; }
std::atomic<std::size_t> busy_threads{0};  // the slices' threads matching now, process-wide
std::atomic<std::size_t> running{0};       // searches running now (MatchSlices::Running)
std::atomic<std::uint64_t> sliced{0};      // matches sliced so far

// Claims `n` threads for slices, or none: while the searches running (the caller among them)
// and the slices' threads leave a core for each.
bool claim(std::size_t n) {
  std::size_t busy = busy_threads.load();
  do {
    if (busy + n + std::max<std::size_t>(running.load(), 1) > cores()) return false;
  } while (!busy_threads.compare_exchange_weak(busy, busy + n));
  return true;
}

struct Claimed {
  std::size_t n;
  ~Claimed() { busy_threads -= n; }
};

void keep_best(ScoredDocs& hits, Xapian::doccount want) {
  std::sort(hits.begin(), hits.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (hits.size() > want) hits.resize(want);
}

}  // namespace

std::uint64_t MatchSlices::sliced_matches() { return sliced.load(); }

MatchSlices::Running::Running() { ++running; }
MatchSlices::Running::~Running() { --running; }

Xapian::Query slice_query(std::size_t slice, std::size_t slices) {
  return Xapian::Query((new SliceSource(slice, slices))->release());
}

// A database handle of a slice's own (Xapian's objects are not thread-safe, and the searcher's
// is the first slice's), with a registry to rebuild queries with (a default Registry costs
// ~100 allocations).
struct MatchSlices::Handle {
  Xapian::Database db;
  Xapian::Registry registry;
};

MatchSlices::MatchSlices(std::size_t slices, Xapian::doccount min_documents)
    : slices_(slices == 0 ? spare_threads() + 1 : std::min(slices, spare_threads() + 1)),
      min_documents_(min_documents) {}

MatchSlices::~MatchSlices() = default;

bool MatchSlices::open_handles(const std::vector<ShardRevision>& parts) {
  handles_.clear();
  opened_for_.clear();
  for (std::size_t i = 1; i < slices_; ++i) {
    auto handle = std::make_unique<Handle>();
    for (const auto& part : parts) {
      auto opened = open_index(part.dir);
      // Moved on since the searcher opened it (its next refresh follows): one pass meanwhile.
      if (!opened || opened->get_revision() != part.revision || opened->get_uuid() != part.uuid) {
        handles_.clear();
        return false;
      }
      handle->db.add_database(*opened);
    }
    handles_.push_back(std::move(handle));
  }
  opened_for_ = parts;
  return true;
}

std::optional<MatchSlices::Top> MatchSlices::top(const Xapian::Database& db, const std::vector<ShardRevision>& parts,
                                                 const Xapian::Query& query, const Xapian::Weight& weight,
                                                 Xapian::doccount want, double time_limit_seconds,
                                                 FacetCounter* exhaustive) {
  if (slices_ < 2 || parts.empty() || db.get_doccount() < min_documents_ || want == 0) return std::nullopt;
  const bool same = parts.size() == opened_for_.size() &&
                    std::equal(parts.begin(), parts.end(), opened_for_.begin(), [](const auto& a, const auto& b) {
                      return a.dir == b.dir && a.revision == b.revision && a.uuid == b.uuid;
                    });
  if (!same && !open_handles(parts)) return std::nullopt;
  std::string serialised;
  try {
    serialised = query.serialise();
  } catch (const Xapian::UnimplementedError&) {
    return std::nullopt;  // a posting source that does not travel
  }
  const std::size_t n = handles_.size() + 1;
  if (!claim(n - 1)) return std::nullopt;  // every spare thread is busy: one pass
  Claimed claimed{n - 1};
  std::vector<Xapian::MatchSpy*> spies;
  if (exhaustive != nullptr && (spies = exhaustive->split(n)).size() != n) return std::nullopt;
  const Xapian::doccount check = exhaustive != nullptr ? db.get_doccount() : 0;
  if (!workers_) workers_ = std::make_unique<WorkerGroup>(n - 1);

  std::vector<ScoredDocs> hits(n);
  std::vector<Top> bounds(n);
  std::atomic<bool> cut{false};
  auto match = [&](std::size_t slice) {
    const bool own = slice == 0;
    const Xapian::Database& on = own ? db : handles_[slice - 1]->db;
    // Each thread its own copy of the query: a Query's copies share reference counts that are
    // not atomic.
    const Xapian::Query q = own ? query : Xapian::Query::unserialise(serialised, handles_[slice - 1]->registry);
    Xapian::Enquire enquire(on);
    enquire.set_query(Xapian::Query(Xapian::Query::OP_FILTER, q, slice_query(slice, n)));
    enquire.set_weighting_scheme(weight);
    if (!spies.empty()) enquire.add_matchspy(spies[slice]);
    LimitedMSet limited = get_mset_within(enquire, 0, want, check, time_limit_seconds);
    if (limited.cut) cut = true;
    const Xapian::MSet& mset = limited.mset;
    for (auto it = mset.begin(); it != mset.end(); ++it) hits[slice].emplace_back(*it, it.get_weight());
    // A slice's estimate is of the whole query (the slice is said to hold every document).
    bounds[slice] = {{}, mset.get_matches_lower_bound(), mset.get_matches_upper_bound(), mset.get_matches_estimated(),
                     own ? mset : Xapian::MSet()};
  };
  try {
    workers_->run(n, match);
  } catch (const Xapian::DatabaseModifiedError&) {
    opened_for_.clear();  // reopened at the next match; the search is retried as any other
    throw;
  }
  Top out;
  double estimated = 0;
  for (std::size_t i = 0; i < n; ++i) {
    out.hits.insert(out.hits.end(), hits[i].begin(), hits[i].end());
    out.lower += bounds[i].lower;
    out.upper += bounds[i].upper;
    estimated += bounds[i].estimated;
  }
  out.estimated = std::clamp(static_cast<Xapian::doccount>(estimated / static_cast<double>(n) + 0.5), out.lower,
                             std::max(out.lower, out.upper));
  out.marks = std::move(bounds[0].marks);
  out.cut = cut.load();
  keep_best(out.hits, want);
  ++sliced;
  return out;
}

}  // namespace mssearch
