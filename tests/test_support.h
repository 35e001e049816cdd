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
};

// Runs the real mssearch binary with the given arguments (shell-quoted by the caller where
// needed) and optional environment assignments ("NAME=value ...").
CommandResult run_mssearch(const std::string& args, const std::string& env = "");

std::filesystem::path source_dir();
std::filesystem::path corpus_dir();

}  // namespace mssearch::test
