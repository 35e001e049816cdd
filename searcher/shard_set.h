// ShardSet: the databases one Searcher answers from, opened as one Xapian::Database
// (Database::add_database): a local index directory (itself possibly sharded), or several
// local paths and remote shards `tcp://HOST:PORT` served by xapian-tcpsrv (Xapian::Remote::open).
//
// A remote shard that cannot be reached, or does not answer within the timeout, is left out
// and reported (partial answers); refresh() tries it again, so it comes back without a restart.
// Not thread-safe: one ShardSet per Searcher, one Searcher per thread.
#pragma once

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <xapian.h>

#include "schema/error.h"
#include "schema/schema.h"
#include "searcher/options.h"

namespace mssearch {

// A local database a combined one is made of, at the revision the combined one reads.
struct ShardRevision {
  std::filesystem::path dir;
  Xapian::rev revision = 0;
  std::string uuid;  // a --full rebuild's new generation may start at the same revision
};

}  // namespace mssearch

namespace mssearch {

class ShardSet {
 public:
  // Errors: those of open_index() for a single local database; kDatabase when no shard of
  // several could be opened.
  static Result<ShardSet> open(const std::vector<std::string>& specs, const RemoteOptions& remote);

  // The shards that are up, as one database.
  const Xapian::Database& database() const { return combined_; }
  bool partial() const;
  std::vector<std::string> failed() const;  // names of the shards left out
  const std::vector<ShardStatus>& status() const { return status_; }
  // Sum of the shards' revisions: changes whenever any shard commits.
  Xapian::rev revision() const;

  // The local databases the combined one is made of (a sharded directory's shards one by one),
  // each with the revision the combined database reads; empty when any shard is remote.
  std::vector<ShardRevision> local_parts() const;
  // The spelling data "did you mean" reads, as one database: a local sharded directory's
  // DIR/spelling (its shards' data summed by the index job) in place of its shards, when there
  // is one; another local database's own. Xapian's corrector over several databases adds up a
  // word's trigram score in each that holds it, so a word every shard has outranked a nearer
  // one only some have (`remylination` was "demyelination" over 3 shards, "remyelination" over
  // one index). `only`: a database of the set (the configured spelling database) that, while
  // up, is read alone. A DIR/spelling found damaged (spelling_damaged()) is not read: its
  // shards' own data is, as for an index without one.
  Xapian::Database spelling(const std::string& only = {}) const;
  // A search could not read spelling(only) (`why`: Xapian's DatabaseError) though the shards'
  // own spelling data read: each sharded directory's DIR/spelling in it is taken as damaged,
  // and left out of spelling(), until refresh() opens another one (the index job's next). Else
  // every search that found little paid a failed read before reading the shards' data. Returns
  // the directories taken as damaged: none when the configured spelling database `only` was
  // read alone, or no DIR/spelling was read.
  std::vector<std::filesystem::path> spelling_damaged(const std::string& why, const std::string& only = {});
  // The pair words every database searched holds (schema::pair_words_of), when they all hold
  // the same; nothing when they differ or any shard is remote.
  std::optional<schema::PairWords> common_pair_words() const;

  // Follows new commits and generation swaps, and retries shards that are down. Returns true
  // when the combined database changed (the caller rebuilds what depends on it).
  Result<bool> refresh();
  // After a NetworkError: probes the remote shards, leaves out those that fail. Returns true
  // when the set changed (so the read is worth retrying).
  bool drop_failed_shards();

 private:
  struct Shard {
    std::string spec;
    std::optional<Xapian::Database> db;
    // A local shard's databases, each opened on its own and added to `db` (a sharded
    // directory's shards; else the one database), and their directories.
    std::vector<Xapian::Database> parts;
    std::vector<std::filesystem::path> part_dirs;
    std::string identity;  // index_identity() of a local shard
    bool sharded = false;  // a local sharded directory
    // A sharded directory's DIR/spelling, when it has one, and its index_identity(); why it
    // cannot be read, once a search found so (spelling_damaged(); empty while it reads).
    std::optional<Xapian::Database> spelling;
    std::string spelling_identity;
    std::string spelling_damage;
    std::chrono::steady_clock::time_point next_try{};
    // A remote shard's connection being made in a thread of its own (start_reconnect): a hung
    // xapian-tcpsrv (SIGSTOP) held every request that retried it for the whole timeout (2 s a
    // /readyz, helper-100). Its result is taken by a later refresh().
    std::shared_ptr<std::future<Result<Xapian::Database>>> reconnect;
  };
  ShardSet(std::vector<Shard> shards, const RemoteOptions& remote);
  // Opens `shard` (and its parts when local).
  Result<Xapian::Database> open_one(Shard& shard) const;
  // A remote shard's database (Xapian::Remote::open with the timeouts), checked as an index.
  static Result<Xapian::Database> open_remote(const std::string& spec, const RemoteOptions& remote);
  // Starts connecting a remote shard that is down in a thread of its own, and waits for it a
  // little (a server that answers does so in time); then take_reconnect() gives the outcome.
  void start_reconnect(Shard& shard, std::chrono::milliseconds wait) const;
  // The longest a remote connection takes to be made and greeted (its two timeouts).
  std::chrono::milliseconds connecting() const;
  // Whether the shard's reconnect ended: it is up again (true), or its next try is set.
  bool take_reconnect(Shard& shard, std::chrono::steady_clock::time_point now) const;
  // Opens a local sharded directory's DIR/spelling, or notes that it has none; a new one is
  // not known to be damaged.
  static void open_spelling(Shard& shard);
  void rebuild();
  void note_errors();  // status_'s errors from the shards that are down

  std::vector<Shard> shards_;
  RemoteOptions remote_;
  Xapian::Database combined_;
  std::vector<ShardStatus> status_;
};

}  // namespace mssearch
