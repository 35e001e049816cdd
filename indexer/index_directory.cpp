#include "indexer/index_directory.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>

#include <fmt/format.h>

#include "schema/index_path.h"

namespace mssearch {
namespace fs = std::filesystem;

namespace {

constexpr const char* kStub = "XAPIANDB";

int generation_number(const fs::path& p) {
  const std::string name = p.filename().string();
  if (!name.starts_with("gen-")) return -1;
  try {
    return std::stoi(name.substr(4));
  } catch (...) {
    return -1;
  }
}

Result<void> fsync_path(const fs::path& p, bool directory) {
  int fd = ::open(p.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) return fail(ErrorCode::kIo, p.string() + ": " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return fail(ErrorCode::kIo, "fsync " + p.string() + ": " + std::strerror(err));
  return {};
}

}  // namespace

Result<IndexLock> IndexLock::acquire(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail(ErrorCode::kIo, "cannot create index directory " + dir.string() + ": " + ec.message());
  const fs::path lock_path = dir / "index.lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return fail(ErrorCode::kIo, "cannot open " + lock_path.string() + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char pid[32] = {};
    ssize_t n = ::pread(fd, pid, sizeof pid - 1, 0);
    ::close(fd);
    if (err == EWOULDBLOCK) {
      std::string holder = n > 0 ? std::string(pid, static_cast<size_t>(n)) : "";
      while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
      return fail(ErrorCode::kLocked,
                  "another index job is running on " + dir.string() +
                      (holder.empty() ? "" : " (pid " + holder + ")") + "; try again when it ends");
    }
    return fail(ErrorCode::kIo, "cannot lock " + lock_path.string() + ": " + std::strerror(err));
  }
  const std::string me = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, me.data(), me.size(), 0);
  return IndexLock(fd);
}

IndexLock::IndexLock(IndexLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

IndexLock::~IndexLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
}

std::optional<fs::path> IndexDirectory::live_generation() const {
  if (is_plain_database()) return std::nullopt;
  return live_database_dir(dir_);
}

bool IndexDirectory::is_plain_database() const {
  std::error_code ec;
  return !fs::exists(dir_ / kStub, ec) &&
         (fs::exists(dir_ / "iamglass", ec) || fs::exists(dir_ / "iamchert", ec));
}

bool IndexDirectory::stub_unreadable() const {
  std::error_code ec;
  return fs::exists(dir_ / kStub, ec) && !live_database_dir(dir_);
}

fs::path IndexDirectory::next_generation() const {
  int highest = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec))
    highest = std::max(highest, generation_number(entry.path()));
  return dir_ / fmt::format("gen-{:06d}", highest + 1);
}

Result<void> IndexDirectory::publish(const fs::path& generation) const {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(generation, ec)) {
    if (!entry.is_regular_file()) continue;
    if (auto r = fsync_path(entry.path(), false); !r) return r;
  }
  if (ec) return fail(ErrorCode::kIo, generation.string() + ": " + ec.message());
  if (auto r = fsync_path(generation, true); !r) return r;

  const fs::path tmp = dir_ / "XAPIANDB.tmp";
  if (auto written = write_whole_file(tmp, "glass " + generation.filename().string() + "\n"); !written) return written;
  if (auto r = fsync_path(tmp, false); !r) return r;
  fs::rename(tmp, dir_ / kStub, ec);
  if (ec) return fail(ErrorCode::kIo, "cannot replace " + (dir_ / kStub).string() + ": " + ec.message());
  return fsync_path(dir_, true);
}

std::vector<std::string> IndexDirectory::remove_stale_generations() const {
  // A stub that cannot be read would make every generation look stale, the live one included.
  if (stub_unreadable()) return {};
  const auto live = live_generation();
  const int live_number = live ? generation_number(*live) : -1;
  std::set<int> numbers;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec))
    if (int n = generation_number(entry.path()); n >= 0 && entry.is_directory()) numbers.insert(n);
  int previous = -1;
  for (int n : numbers)
    if (n < live_number) previous = n;
  std::vector<std::string> kept;
  for (int n : numbers) {
    if (n == live_number || n == previous) continue;
    const fs::path stale = dir_ / fmt::format("gen-{:06d}", n);
    // Kept in silence, a generation another user owns (left by a `sudo` run) filled the disk
    // by its size for good (helper-91).
    if (fs::remove_all(stale, ec); ec)
      kept.push_back(fmt::format("{}: an old generation of the index that cannot be removed ({}): remove it by hand",
                                 stale.string(), ec.message()));
  }
  return kept;
}

Xapian::rev IndexDirectory::recorded_revision() const {
  std::ifstream in(dir_ / "revision");
  Xapian::rev revision = 0;
  return (in >> revision) ? revision : 0;
}

Result<void> IndexDirectory::record_revision(Xapian::rev revision) const {
  const fs::path tmp = dir_ / "revision.tmp";
  std::error_code ec;
  // Checked before it replaces the record: on a full disk the empty file left by an unchecked
  // write replaced it (a later --full that could not read the old index then began again at
  // revision 1).
  if (auto written = write_whole_file(tmp, std::to_string(revision) + "\n"); !written) return written;
  if (auto r = fsync_path(tmp, false); !r) {
    fs::remove(tmp, ec);
    return r;
  }
  fs::rename(tmp, dir_ / "revision", ec);
  if (ec) return fail(ErrorCode::kIo, "cannot replace " + (dir_ / "revision").string() + ": " + ec.message());
  return {};
}

}  // namespace mssearch
