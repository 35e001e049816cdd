// SearcherPool: one Searcher (with its own Xapian::Database) per request in flight, never
// shared between threads. A Searcher checked out more than a second after its last check
// first moves to the newest committed index (incremental commits and --full swaps alike), so
// the server follows the nightly job without a restart.
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "searcher/searcher.h"

namespace mssearch {

class SearcherPool {
 public:
  SearcherPool(const SearcherOptions& options, std::size_t size);

  struct Slot {
    std::optional<Searcher> searcher;
    std::chrono::steady_clock::time_point checked;
  };

  // A checked-out Searcher, returned to the pool on destruction.
  class Lease {
   public:
    Lease(SearcherPool* pool, std::unique_ptr<Slot> slot) : pool_(pool), slot_(std::move(slot)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = default;
    ~Lease();
    Searcher& operator*() { return *slot_->searcher; }
    Searcher* operator->() { return &*slot_->searcher; }

   private:
    SearcherPool* pool_;
    std::unique_ptr<Slot> slot_;
  };

  // Waits for a free Searcher. Errors: the index cannot be opened (kIndexMissing,
  // kSchemaMismatch, kDatabase) or the synonyms file is broken (kIo).
  Result<Lease> acquire();

 private:
  void release(std::unique_ptr<Slot> slot);
  Result<std::shared_ptr<const SynonymTable>> synonyms();

  SearcherOptions options_;
  std::size_t size_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Slot>> idle_;
  std::size_t created_ = 0;
  std::shared_ptr<const SynonymTable> synonyms_;
};

}  // namespace mssearch
