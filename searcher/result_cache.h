// ResultCache: answers of searches kept for the same search of the same index revision, shared
// by the searchers of one server (a pool, one per thread). The index's revision is part of the
// key, so an answer is never served once the index has changed (after an incremental commit
// or a rebuild swapped in, each searcher asks with its new revision and misses); the old
// entries age out. What it bounds: a search visitors repeat (the three letters every visitor
// typing "fatigue" sends as-you-type, a popular topic's page) costs its matching and exact
// counting once per revision, not once per visitor. Least recently used entries go first,
// beyond `max_entries` or about `max_bytes` of answers.
//
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "searcher/search_types.h"

namespace mssearch {

class ResultCache {
 public:
  ResultCache(std::size_t max_entries, std::size_t max_bytes);

  // The key of a request over the index at `version` (what identifies the index's state: each
  // database's UUID and revision): every field of the request.
  static std::string key(const SearchRequest& request, std::string_view version);
  static std::string key(const SearchRequest& request, std::uint64_t revision) {
    return key(request, std::to_string(revision));
  }

  std::optional<SearchResult> get(const std::string& key);
  // Keeps a copy, unless the answer is not the index's whole answer (cut short by the time
  // limit, or with warnings about damaged articles) or is larger than a tenth of max_bytes.
  void put(const std::string& key, const SearchResult& result);

  std::uint64_t hits() const;
  std::uint64_t misses() const;
  std::size_t size() const;

 private:
  struct Entry {
    std::string key;
    SearchResult result;
    std::size_t bytes;
  };
  mutable std::mutex mutex_;
  std::size_t max_entries_, max_bytes_, bytes_ = 0;
  std::list<Entry> entries_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  std::uint64_t hits_ = 0, misses_ = 0;
};

}  // namespace mssearch
