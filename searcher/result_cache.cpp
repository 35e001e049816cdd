#include "searcher/result_cache.h"

namespace mssearch {

namespace {

std::size_t bytes_of(const SearchHit& h) {
  std::size_t n = sizeof h + h.id.size() + h.title.size() + h.url.size() + h.date.size() + h.journal.size() +
                  h.takeaway.size() + h.snippet.text.size() + h.snippet.marks.size() * sizeof(Highlighted::Span);
  for (const auto& t : h.topics) n += sizeof t + t.size();
  return n;
}

std::size_t bytes_of(const SearchResult& r) {
  std::size_t n = sizeof r + r.query.size() + (r.did_you_mean ? r.did_you_mean->size() : 0);
  for (const auto* hits : {&r.hits, &r.related})
    for (const auto& h : *hits) n += bytes_of(h);
  for (const auto* facets : {&r.topic_facets, &r.year_facets, &r.journal_facets})
    for (const auto& f : *facets) n += sizeof f + f.value.size();
  return n;
}

}  // namespace

ResultCache::ResultCache(std::size_t max_entries, std::size_t max_bytes)
    : max_entries_(max_entries), max_bytes_(max_bytes) {}

std::string ResultCache::key(const SearchRequest& r, std::string_view version) {
  // Each string with its length before it (raw bytes: two invalid UTF-8 queries never share a
  // key), each number in decimal and ';' after it.
  std::string key;
  auto number = [&](std::uint64_t n) { key += std::to_string(n) + ';'; };
  auto text = [&](const std::string& t) {
    number(t.size());
    key += t;
  };
  text(std::string(version));
  text(r.query);
  for (const auto* list : {&r.topics, &r.journals}) {
    number(list->size());
    for (const auto& t : *list) text(t);
  }
  number(r.years.size());
  for (int y : r.years) number(static_cast<std::uint64_t>(static_cast<std::int64_t>(y)));
  text(r.since);
  text(r.until);
  number(r.min_credibility ? static_cast<std::uint64_t>(*r.min_credibility) + 1 : 0);
  number(static_cast<std::uint64_t>(r.sort));
  number(r.offset);
  number(r.limit);
  number((r.partial ? 1u : 0u) | (r.facets ? 2u : 0u) | (r.snippets ? 4u : 0u) | (r.related ? 8u : 0u));
  return key;
}

std::optional<SearchResult> ResultCache::get(const std::string& key) {
  std::lock_guard lock(mutex_);
  const auto it = index_.find(key);
  if (it == index_.end()) {
    ++misses_;
    return std::nullopt;
  }
  ++hits_;
  entries_.splice(entries_.begin(), entries_, it->second);
  return it->second->result;
}

void ResultCache::put(const std::string& key, const SearchResult& result) {
  if (max_entries_ == 0 || result.timed_out || !result.warnings.empty() || !result.failed_shards.empty()) return;
  const std::size_t bytes = bytes_of(result) + 2 * key.size();
  if (bytes > max_bytes_ / 10) return;
  std::lock_guard lock(mutex_);
  if (const auto it = index_.find(key); it != index_.end()) {
    bytes_ -= it->second->bytes;
    entries_.erase(it->second);
    index_.erase(it);
  }
  entries_.push_front(Entry{key, result, bytes});
  index_.emplace(key, entries_.begin());
  bytes_ += bytes;
  while (!entries_.empty() && (entries_.size() > max_entries_ || bytes_ > max_bytes_)) {
    bytes_ -= entries_.back().bytes;
    index_.erase(entries_.back().key);
    entries_.pop_back();
  }
}

std::uint64_t ResultCache::hits() const {
  std::lock_guard lock(mutex_);
  return hits_;
}

std::uint64_t ResultCache::misses() const {
  std::lock_guard lock(mutex_);
  return misses_;
}

std::size_t ResultCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace mssearch
