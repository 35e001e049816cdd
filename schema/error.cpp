#include "schema/error.h"

namespace mssearch {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArticle: return "invalid_article";
    case ErrorCode::kIo: return "io_error";
    case ErrorCode::kLocked: return "index_locked";
    case ErrorCode::kIndexMissing: return "index_missing";
    case ErrorCode::kSchemaMismatch: return "schema_mismatch";
    case ErrorCode::kBadQuery: return "bad_query";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kDatabase: return "database_error";
    case ErrorCode::kCorrupt: return "index_damaged";
    case ErrorCode::kUnavailable: return "shards_unavailable";
    case ErrorCode::kInternal: return "internal_error";
  }
  return "internal_error";
}

}  // namespace mssearch
