#include "schema/index_path.h"

#include <sys/stat.h>

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

std::string index_identity(const fs::path& dir) {
  struct stat st {};
  const auto live = live_database_dir(dir);
  if (!live || ::stat((dir / "XAPIANDB").c_str(), &st) != 0) return live ? live->string() : "";
  return live->string() + ":" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_mtim.tv_sec) +
         "." + std::to_string(st.st_mtim.tv_nsec);
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
