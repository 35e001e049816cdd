// Expected failures as values: an Error names what failed so that a user can act on it.
// Library code returns Result<T>; Xapian, ICU and yaml-cpp exceptions are translated at the
// component edge. HTTP statuses and exit codes are chosen by the callers, never here.
#pragma once

#include <expected>
#include <string>
#include <string_view>

namespace mssearch {

enum class ErrorCode {
  kInvalidArticle,   // an article failed validation (the message names file and line)
  kIo,               // a file or directory could not be read or written
  kLocked,           // another index job holds the index
  kIndexMissing,     // no index at the given path
  kSchemaMismatch,   // the index was written by an incompatible mssearch
  kBadQuery,         // a query that cannot be answered (too long, too many terms, ...)
  kNotFound,         // an article id that is not in the index
  kDatabase,         // Xapian reported a failure (disk full, unreadable, ...)
  kCorrupt,          // the index is damaged (a failed check, a checksum, Xapian's corruption error)
  kUnavailable,      // no replica of a shard answered (down, or past its deadline): try again later
  kInternal,
};

std::string_view to_string(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

template <typename T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(ErrorCode code, std::string message) {
  return std::unexpected<Error>(Error{code, std::move(message)});
}

}  // namespace mssearch
