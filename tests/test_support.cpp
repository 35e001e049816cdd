#include "tests/test_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include <xapian.h>

#include "schema/article.h"
#include "schema/index_path.h"

namespace mssearch::test {
namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "mssearch-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

int loopback_listener(int& port, int backlog) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 || ::listen(fd, backlog) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot listen on 127.0.0.1");
  }
  port = ntohs(addr.sin_port);
  return fd;
}

int free_port() {
  int port = 0;
  ::close(loopback_listener(port, 1));
  return port;
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

void overwrite_blocks(const fs::path& file) {
  constexpr std::size_t kBlock = 8192;
  const std::size_t size = fs::file_size(file);
  if (size < 4 * kBlock) throw std::runtime_error(file.string() + " is too small to damage two blocks in its middle");
  const std::size_t at = (size / 2 / kBlock) * kBlock;
  std::mt19937 random(2026);
  std::string junk(2 * kBlock, '\0');
  for (auto& c : junk) c = static_cast<char>(random());
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(at));
  f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  if (!f) throw std::runtime_error("cannot damage " + file.string());
}

void flip_stored_article(const fs::path& db, const std::string& id) {
  // Through Xapian, so that the table stays well formed whatever glass does to the item (it
  // compresses what it can): one byte near the end of the stored data, inside the texts' zstd
  // frame, flipped. Only the article's checksum can tell.
  {
    Xapian::WritableDatabase w(db.string(), Xapian::DB_OPEN);
    auto p = w.postlist_begin("Q" + id);
    if (p == w.postlist_end("Q" + id)) throw std::runtime_error("no article " + id);
    Xapian::Document doc = w.get_document(*p);
    std::string data = doc.get_data();
    if (data.size() <= 64) throw std::runtime_error("stored data of " + id + " too short to damage");
    data[data.size() - 10] = static_cast<char>(data[data.size() - 10] ^ 0x5a);
    doc.set_data(data);
    w.replace_document(*p, doc);
    w.commit();
  }
  Xapian::Database d(db.string());
  try {
    (void)decode_stored(d.get_document(*d.postlist_begin("Q" + id)).get_data());
  } catch (const std::runtime_error&) {
    return;  // damaged, as intended
  }
  throw std::runtime_error("flipping a byte of " + id + " did not damage it");
}

fs::path source_dir() { return MSSEARCH_SOURCE_DIR; }
fs::path corpus_dir() { return source_dir() / "corpus"; }

}  // namespace mssearch::test
