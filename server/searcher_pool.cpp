#include "server/searcher_pool.h"

namespace mssearch {

SearcherPool::SearcherPool(const SearcherOptions& options, std::size_t size)
    : options_(options), size_(size) {}

SearcherPool::Lease::~Lease() {
  if (slot_) pool_->release(std::move(slot_));
}

Result<std::shared_ptr<const SynonymTable>> SearcherPool::synonyms() {
  std::lock_guard lock(mutex_);
  if (!synonyms_) {
    auto table = SynonymTable::load(options_.synonyms_path);
    if (!table) return std::unexpected(table.error());
    synonyms_ = std::make_shared<const SynonymTable>(std::move(*table));
  }
  return synonyms_;
}

Result<SearcherPool::Lease> SearcherPool::acquire() {
  std::unique_ptr<Slot> slot;
  {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [&] { return !idle_.empty() || created_ < size_; });
    if (!idle_.empty()) {
      slot = std::move(idle_.back());
      idle_.pop_back();
    } else {
      ++created_;
    }
  }
  if (!slot) {
    // A new Searcher, opened outside the lock.
    auto table = synonyms();
    Result<Searcher> opened = fail(ErrorCode::kDatabase, "not opened");
    try {
      opened = table ? Searcher::open(options_, *table) : Result<Searcher>(std::unexpected(table.error()));
    } catch (const std::exception& e) {
      // (Out of threads or memory.) The place in the pool is given back either way: a place
      // lost for good would leave every later request waiting.
      opened = fail(ErrorCode::kDatabase, std::string("opening a searcher: ") + e.what());
    }
    if (!opened) {
      std::lock_guard lock(mutex_);
      --created_;
      available_.notify_one();
      return std::unexpected(opened.error());
    }
    slot = std::make_unique<Slot>();
    slot->searcher.emplace(std::move(*opened));
    slot->checked = std::chrono::steady_clock::now();
  } else if (std::chrono::steady_clock::now() - slot->checked > std::chrono::seconds(1)) {
    slot->checked = std::chrono::steady_clock::now();
    try {
      if (auto refreshed = slot->searcher->refresh(); !refreshed) {
        // The new index cannot be read (e.g. half-deleted by hand): keep answering from the
        // one this Searcher has open, and try again in a second.
      }
    } catch (const std::exception&) {
      // Likewise (out of threads or memory): the slot stays in the pool.
    }
  }
  return Lease(this, std::move(slot));
}

void SearcherPool::release(std::unique_ptr<Slot> slot) {
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(slot));
  available_.notify_one();
}

}  // namespace mssearch
