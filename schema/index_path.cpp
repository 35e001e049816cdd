#include "schema/index_path.h"

#include <fstream>

#include "schema/schema.h"

namespace mssearch {
namespace fs = std::filesystem;

std::optional<fs::path> live_database_dir(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir / "XAPIANDB", ec)) {
    std::ifstream in(dir / "XAPIANDB");
    std::string backend, name;
    if (in >> backend >> name) return dir / name;
    return std::nullopt;
  }
  if (fs::exists(dir / "iamglass", ec)) return dir;
  return std::nullopt;
}

Result<Xapian::Database> open_index(const fs::path& dir) {
  if (!live_database_dir(dir))
    return fail(ErrorCode::kIndexMissing, "no index at " + dir.string() +
                                              ": build one with `mssearch index corpus/ --db " +
                                              dir.string() + "`");
  try {
    Xapian::Database db(dir.string());
    if (auto ok = schema::check_version(db); !ok) return std::unexpected(ok.error());
    return db;
  } catch (const Xapian::Error& e) {
    return fail(ErrorCode::kDatabase, "cannot open index " + dir.string() + ": " + e.get_description());
  }
}

}  // namespace mssearch
