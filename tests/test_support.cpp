#include "tests/test_support.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace mssearch::test {
namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "mssearch-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void write_file(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string markdown_article(const std::string& title, const std::string& date,
                             const std::string& topics, const std::string& body) {
  return "---\ntitle: \"" + title + "\"\ndate: " + date + "\ntopics: " + topics +
         "\njournal: Test Journal\n---\n" + body;
}

CommandResult run_mssearch(const std::string& args, const std::string& env, const std::string& wrapper) {
  TempDir tmp;
  const fs::path out = tmp / "out", err = tmp / "err";
  const std::string cmd = (env.empty() ? "" : "env " + env + " ") + (wrapper.empty() ? "" : wrapper + " ") +
                          "'" MSSEARCH_BIN "' " + args + " >'" + out.string() + "' 2>'" + err.string() +
                          "' </dev/null";
  const int status = std::system(cmd.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_file(out);
  r.err = read_file(err);
  struct rusage usage {};
  if (::getrusage(RUSAGE_CHILDREN, &usage) == 0) r.max_rss_kib = usage.ru_maxrss;
  return r;
}

std::string unprivileged() {
  return ::geteuid() == 0 ? "setpriv --bounding-set -dac_override,-dac_read_search" : "";
}

fs::path source_dir() { return MSSEARCH_SOURCE_DIR; }
fs::path corpus_dir() { return source_dir() / "corpus"; }

}  // namespace mssearch::test
