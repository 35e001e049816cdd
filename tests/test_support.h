// Helpers shared by the tests: temporary directories, fixture files, running the real binary.
#pragma once

#include <filesystem>
#include <map>
#include <string>

namespace mssearch::test {

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

void write_file(const std::filesystem::path& path, const std::string& content);
std::string read_file(const std::filesystem::path& path);

// A valid Markdown article with the given id/title/topics, for building small collections.
std::string markdown_article(const std::string& title, const std::string& date = "2025-03-01",
                             const std::string& topics = "[Astrocytes]",
                             const std::string& body = "## What They Found\n\nSome text.\n");

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
  // The largest resident set of any command this process has run so far (getrusage of its
  // waited-for descendants), in KiB: a bound on this one's.
  long max_rss_kib = 0;
};

// Runs the real mssearch binary with the given arguments (shell-quoted by the caller where
// needed) and optional environment assignments ("NAME=value ..."), under `wrapper` when given
// (a command that runs the rest, e.g. unprivileged()).
CommandResult run_mssearch(const std::string& args, const std::string& env = "",
                           const std::string& wrapper = "");

// A wrapper for run_mssearch under which file permissions hold: as root, the binary runs
// without the capabilities that bypass them (setpriv drops CAP_DAC_OVERRIDE and
// CAP_DAC_READ_SEARCH); otherwise nothing is needed.
std::string unprivileged();

// Damage, as a bad sector or a stray write makes it. overwrite_blocks: two whole 8 KiB blocks in
// the middle of a glass table file (`file`) replaced by random bytes (a fixed seed).
// flip_stored_article: one byte flipped inside the stored data of article `id` of the index at
// `db` (written back through Xapian): the tables stay well formed, only the article's zstd
// checksum can tell.
void overwrite_blocks(const std::filesystem::path& file);
void flip_stored_article(const std::filesystem::path& db, const std::string& id);

// A socket listening on 127.0.0.1 at a port of the system's choosing (returned in `port`), for
// a fake server; throws when the system gives none.
int loopback_listener(int& port, int backlog);
// A port on 127.0.0.1 that was free a moment ago (xapian-tcpsrv needs a number, not 0).
int free_port();

std::filesystem::path source_dir();
std::filesystem::path corpus_dir();

}  // namespace mssearch::test
