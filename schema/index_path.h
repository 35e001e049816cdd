// Where an index lives on disk, shared by the writer (indexer) and the readers (searcher).
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
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
// Errors: kIndexMissing (nothing there), kSchemaMismatch, kDatabase (corrupt, unreadable).
Result<Xapian::Database> open_index(const std::filesystem::path& dir);

// Whether `dir`, given where an index directory belongs, is a file (`afile` or `afile/`): an
// io_error, not a missing index.
bool names_a_file(const std::filesystem::path& dir);

// Why the index at `dir` cannot be opened before Xapian is asked, when it is not simply absent:
// a file where its directory belongs, or a directory (or its XAPIANDB) this user may not read.
// Always kIo. nullopt: readable, or nothing there.
std::optional<Error> index_access_problem(const std::filesystem::path& dir);

// --- shards: DIR/shard-00 … DIR/shard-(N-1), each a managed index directory of its own ---

// The shard directories of DIR, in order; empty when DIR is not sharded.
std::vector<std::filesystem::path> shard_dirs(const std::filesystem::path& dir);
std::filesystem::path shard_dir(const std::filesystem::path& dir, std::size_t shard);
// DIR/spelling: all shards' spelling data, no documents (for searches over remote shards).
std::filesystem::path spelling_dir(const std::filesystem::path& dir);

// The shard an article belongs to: a stable hash (XXH3-64 of the id) modulo the shard count,
// so that reindexing an article always updates the same shard.
std::size_t shard_of(const std::string& id, std::size_t shards);

}  // namespace mssearch
