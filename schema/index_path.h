// Where an index lives on disk, shared by the writer (indexer) and the readers (searcher).
#pragma once

#include <filesystem>
#include <optional>

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

// Opens the index at DIR for reading and checks its schema version.
// Errors: kIndexMissing (nothing there), kSchemaMismatch, kDatabase (corrupt, unreadable).
Result<Xapian::Database> open_index(const std::filesystem::path& dir);

}  // namespace mssearch
