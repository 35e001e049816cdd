// IndexDirectory: the on-disk layout of an mssearch index, built for atomic replacement.
//
//   DIR/XAPIANDB      stub file naming the live database ("glass gen-000003"); Xapian opens
//                     DIR itself through it, readers and writers alike
//   DIR/gen-NNNNNN/   glass databases: the live one, the one before it, and leftovers of
//                     interrupted rebuilds (removed by the next job)
//   DIR/index.lock    flock()ed by the running index job
//
// A full rebuild writes a new generation, syncs it to disk, then renames a new stub over the
// old one: a reader sees the old index or the new one, and a crash before the rename leaves
// the old one live and untouched.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <xapian.h>

#include "schema/error.h"

namespace mssearch {

// Exclusive lock held for the whole of an index job. Move-only; released on destruction.
class IndexLock {
 public:
  // Fails fast with kLocked when another job holds it.
  static Result<IndexLock> acquire(const std::filesystem::path& dir);
  IndexLock(IndexLock&& other) noexcept;
  IndexLock& operator=(IndexLock&&) = delete;
  IndexLock(const IndexLock&) = delete;
  ~IndexLock();

 private:
  explicit IndexLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

class IndexDirectory {
 public:
  explicit IndexDirectory(std::filesystem::path dir) : dir_(std::move(dir)) {}

  const std::filesystem::path& path() const { return dir_; }

  // The live generation named by the stub, if there is a stub.
  std::optional<std::filesystem::path> live_generation() const;

  // True when DIR holds a plain Xapian database instead of the managed layout.
  bool is_plain_database() const;

  // True when there is a stub that names no database (unreadable, empty, garbled): which
  // generation is live cannot be told, so none may be removed.
  bool stub_unreadable() const;

  // A fresh, not yet existing generation directory.
  std::filesystem::path next_generation() const;

  // fsyncs every file of `generation`, then points the stub at it with an atomic rename.
  Result<void> publish(const std::filesystem::path& generation) const;

  // Deletes generations other than the live one and the one before it; none while the stub
  // cannot be read.
  // Returns a warning for each one that could not be removed (files another user owns), which
  // stays on disk.
  std::vector<std::string> remove_stale_generations() const;

  // DIR/revision: the revision the last job left (schema::revision), kept outside the
  // databases so that a --full rebuild over an index that cannot be read still counts on from
  // it. 0 when there is none.
  Xapian::rev recorded_revision() const;
  // Atomically (written, synced, renamed over the old record); the old record stays on failure.
  Result<void> record_revision(Xapian::rev revision) const;

 private:
  std::filesystem::path dir_;
};

}  // namespace mssearch
