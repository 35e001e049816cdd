// Whether an index on disk is whole: shared by `mssearch check`, the index job (which refuses
// to build on a damaged index) and the tests that damage one on purpose.
//
// Two kinds of evidence:
//   * verify_database(): Xapian's own checker over every table (xapian-check, run as a process
//     of its own: on damaged data it can misbehave), every stored article decoded
//     (its zstd frames carry checksums) with its feedback terms, and the id terms (one document
//     each, one per document, naming the article stored under that document). Reads the whole
//     index: ~1 s for 10k articles.
//   * table checksums: each index job records XXH3 checksums of the table files once it has
//     committed (record_checksums), and the next job compares them (compare_checksums) before
//     it writes: when they match, nothing has touched the files since, and the job need not
//     verify anything (reading 100 MB this way takes tens of milliseconds). When they differ
//     (damage, or a job killed part way, which writes blocks it never committed) or are
//     missing, the job runs verify_database() once before it builds on the index.
//
// Thread-safety: free functions without shared state.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include <xapian.h>

#include "schema/error.h"

namespace mssearch {

struct IndexDamage {
  std::string what;     // "article 'a12' (document 13)", "table postlist.glass", "id terms"
  std::string message;  // what is wrong
};

struct VerifyOptions {
  bool xapian_check = true;     // xapian-check over every table and across them
  bool stored_articles = true;  // decode every document's stored article and feedback terms
  std::size_t max_reported = 50;  // damage entries kept (damaged_total counts them all)
};

struct VerifyReport {
  std::filesystem::path database;  // the glass directory checked
  Xapian::doccount documents = 0;
  std::vector<IndexDamage> damage;  // at most VerifyOptions::max_reported
  std::size_t damaged_total = 0;
  bool ok() const { return damaged_total == 0; }
};

// The glass directories of the index at DIR: its live generation, or each shard's (and the
// spelling database's); DIR itself when it is a plain database. Empty when there is none.
std::vector<std::filesystem::path> glass_directories(const std::filesystem::path& index_dir);

// Verifies one glass database directory (a generation, a shard's, or a plain database).
// Damage is the report, not an error; errors: kIndexMissing (no database there), kIo.
Result<VerifyReport> verify_database(const std::filesystem::path& glass_dir,
                                     const VerifyOptions& options = {});

// The file in a glass directory that holds its tables' checksums.
inline constexpr const char* kChecksumFile = "mssearch.checksums";

// Records the checksums of the table files of `glass_dir` at `revision` (a file in the
// directory, replaced atomically). Errors: kIo.
Result<void> record_checksums(const std::filesystem::path& glass_dir, Xapian::rev revision);

enum class ChecksumState {
  kMatch,     // every table file is as the last job left it
  kMismatch,  // a table file changed since (damage, or a killed job's uncommitted blocks):
              // `detail` names it
  kUnknown,   // nothing recorded, or recorded for another revision (a job killed after its
              // commit, or an index written before checksums were kept): verify it instead
};
ChecksumState compare_checksums(const std::filesystem::path& glass_dir, Xapian::rev revision,
                                std::string& detail);

}  // namespace mssearch
