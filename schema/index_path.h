// Where an index lives on disk, shared by the writer (indexer) and the readers (searcher).
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <xapian.h>

#include "schema/error.h"

namespace mssearch {

// The live glass database of a managed index directory (named by DIR/XAPIANDB), or DIR itself
// for a plain database; nullopt when there is no index at DIR.
std::optional<std::filesystem::path> live_database_dir(const std::filesystem::path& dir);

// Changes when a full rebuild swaps a new generation in (the stub's target, inode and mtime).
// Database::reopen() does not follow such a swap: a reader that sees this change must open a
// new Database.
std::string index_identity(const std::filesystem::path& dir);

// Opens the index at DIR for reading and checks its schema version. A sharded index (DIR holds
// shard-00, shard-01, … as written by `mssearch index --shards N`) opens as one database.
// Errors: kIndexMissing (nothing there), kSchemaMismatch, kDatabase (corrupt, unreadable), kIo
// (unreadable, a file, another program's database: schema::foreign_database_error).
Result<Xapian::Database> open_index(const std::filesystem::path& dir);

// When the database at DIR (a plain one, or the one its XAPIANDB names) is another program's
// (schema::is_foreign_database): that error, for a command to give before it reads or writes
// anything there. nullopt otherwise, also when there is no database or it cannot be opened.
std::optional<Error> foreign_database_problem(const std::filesystem::path& dir);

// Whether `dir`, given where an index directory belongs, is a file (`afile` or `afile/`): an
// io_error, not a missing index.
bool names_a_file(const std::filesystem::path& dir);

// Why the index at `dir` cannot be opened before Xapian is asked, when it is not simply absent:
// a file where its directory belongs, or a directory (or its XAPIANDB) this user may not read.
// Always kIo. nullopt: readable, or nothing there.
std::optional<Error> index_access_problem(const std::filesystem::path& dir);

// --- shards: DIR/shard-00 … DIR/shard-(N-1), each a managed index directory of its own ---

// The shard directories of DIR, in order; empty when DIR is not sharded. With a recorded
// count (DIR/shards), that many, whether each exists or not (index_layout_problem tells).
std::vector<std::filesystem::path> shard_dirs(const std::filesystem::path& dir);
// DIR/shards: the number of shards the index job wrote (one line); nullopt for an index that is
// not sharded or was written before the count was recorded (its shard-NN folders tell).
// Writes `text` as the whole of `path` (a temporary file the caller renames into place): the
// failure names the system's reason (`No space left on device`); the file is removed then.
Result<void> write_whole_file(const std::filesystem::path& path, std::string_view text);
std::optional<std::size_t> recorded_shard_count(const std::filesystem::path& dir);
// Atomically; the failure names the system's reason.
Result<void> record_shard_count(const std::filesystem::path& dir, std::size_t shards);

// What makes DIR's layout untrustworthy before any database is opened (kCorrupt): generations
// (gen-NNNNNN) but no XAPIANDB naming the live one (an incremental run would have rebuilt the
// index from the sources given, losing the articles of others); a shard missing against the
// recorded count, or a shard-NN folder beyond it (a copy would count its articles twice).
// nullopt when DIR looks whole (or holds nothing).
std::optional<Error> index_layout_problem(const std::filesystem::path& dir);
// When DIR is one shard of a sharded index (PARENT/shard-NN beside PARENT's other shards): the
// index job must be given PARENT (one shard written alone takes in the other shards' articles).
std::optional<Error> inside_sharded_index(const std::filesystem::path& dir);
// When DIR (or one of its shards) is a replica that xapian-replicate keeps (its XAPIANDB names a
// replica_N database): the index job must write the primary it follows. A job's commit there
// made the replica's revisions the primary's no longer, and the next changeset damaged it.
std::optional<Error> replica_of_another_index(const std::filesystem::path& dir);
std::filesystem::path shard_dir(const std::filesystem::path& dir, std::size_t shard);
// Whether a folder's name is one shard_dir() gives (`shard-00`, `shard-123`).
bool is_shard_dir_name(std::string_view name);
// DIR/spelling: all shards' spelling data, no documents (for searches over remote shards).
std::filesystem::path spelling_dir(const std::filesystem::path& dir);

// The shard an article belongs to: a stable hash (XXH3-64 of the id) modulo the shard count,
// so that reindexing an article always updates the same shard.
std::size_t shard_of(const std::string& id, std::size_t shards);

}  // namespace mssearch
