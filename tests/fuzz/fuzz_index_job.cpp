// Fuzz target: whole index jobs. The input is a script of operations on a small corpus
// directory (write a valid, invalid, oversized or arbitrary article into one of six files, four
// at the top and two in sub/; delete one; make a file or sub/ unreadable and readable again;
// run an incremental or a --full job). After every job the index must hold exactly the valid
// articles at their latest valid version, nothing more or less:
//   * a file that is gone takes its article with it;
//   * a file that reads and parses gives its article as it is now;
//   * a file that cannot be read (or sits in a directory that cannot be) or does not parse
//     keeps the version the index had;
// and the index must verify whole (verify_database). Any difference aborts with a report.
// The process drops the capabilities that let root bypass file permissions, so that an
// unreadable file is unreadable here too.
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <xapian.h>

#include "indexer/article_reader.h"
#include "indexer/document_builder.h"
#include "indexer/indexer.h"
#include "schema/schema.h"
#include "schema/verify.h"

namespace fs = std::filesystem;
using namespace mssearch;

namespace {

constexpr std::size_t kSlots = 6;
constexpr std::size_t kMaxBytes = 2048;  // the article size limit, small to reach it cheaply

// Root bypasses file permissions through these two capabilities: without them, chmod 000 means
// unreadable for this process as for anyone else.
void drop_permission_bypass() {
  if (::geteuid() != 0) return;
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0) return;
  for (int cap : {CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH}) {
    data[cap / 32].effective &= ~(1u << (cap % 32));
    data[cap / 32].permitted &= ~(1u << (cap % 32));
    data[cap / 32].inheritable &= ~(1u << (cap % 32));
  }
  if (::syscall(SYS_capset, &header, data) != 0) {
    fmt::print(stderr, "fuzz_index_job: cannot drop CAP_DAC_OVERRIDE\n");
    std::abort();
  }
}

class Script {
 public:
  Script(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool more() const { return at_ < size_; }
  std::uint8_t byte() { return at_ < size_ ? data_[at_++] : 0; }
  std::string bytes(std::size_t n) {
    n = std::min(n, size_ - at_);
    std::string out(reinterpret_cast<const char*>(data_ + at_), n);
    at_ += n;
    return out;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_, at_ = 0;
};

struct Corpus {
  fs::path root, dir, db;
  std::array<bool, kSlots> unreadable{};
  bool sub_unreadable = false;

  explicit Corpus(const fs::path& r) : root(r), dir(r / "corpus"), db(r / "db") {
    fs::create_directories(dir / "sub");
  }
  fs::path file(std::size_t slot) const {
    return slot < 4 ? dir / fmt::format("a{}.md", slot) : dir / "sub" / fmt::format("a{}.md", slot);
  }
  std::string id(std::size_t slot) const { return fmt::format("a{}", slot); }
  bool readable(std::size_t slot) const { return !unreadable[slot] && !(slot >= 4 && sub_unreadable); }

  void write(std::size_t slot, std::string content) {
    // Keep the model simple: a file is article a<slot> or nothing. Content that would parse as
    // another id (an "id:" field) is spoiled so that it does not parse at all.
    ReaderLimits limits;
    limits.max_article_bytes = kMaxBytes;
    auto parsed = parse_markdown_article(content, "x.md", id(slot), limits);
    const std::string other = parsed ? parsed->id : parsed.error().id;
    if (!other.empty() && other != id(slot)) content.insert(0, "x");
    const bool was_unreadable = unreadable[slot];
    if (was_unreadable) set_unreadable(slot, false);
    if (sub_unreadable && slot >= 4) return;  // cannot be written either; leave it as it is
    std::ofstream(file(slot), std::ios::binary | std::ios::trunc) << content;
    if (was_unreadable) set_unreadable(slot, true);
  }
  void remove(std::size_t slot) {
    if (slot >= 4 && sub_unreadable) return;
    std::error_code ec;
    fs::remove(file(slot), ec);
    unreadable[slot] = false;
  }
  void set_unreadable(std::size_t slot, bool on) {
    if (slot >= 4 && sub_unreadable) return;
    std::error_code ec;
    if (!fs::exists(file(slot), ec)) return;
    fs::permissions(file(slot), on ? fs::perms::none : fs::perms::owner_read | fs::perms::owner_write, ec);
    unreadable[slot] = on;
  }
  void set_sub_unreadable(bool on) {
    fs::permissions(dir / "sub", on ? fs::perms::none : fs::perms::owner_all);
    sub_unreadable = on;
  }
};

// What the index must hold: id -> content hash.
using Expected = std::map<std::string, std::string>;

void after_job(const Corpus& c, Expected& expected) {
  ReaderLimits limits;
  limits.max_article_bytes = kMaxBytes;
  for (std::size_t slot = 0; slot < kSlots; ++slot) {
    const std::string id = c.id(slot);
    std::error_code ec;
    const bool under_unreadable = slot >= 4 && c.sub_unreadable;
    if (!under_unreadable && !fs::exists(c.file(slot), ec)) {
      expected.erase(id);
      continue;
    }
    if (!c.readable(slot)) continue;  // kept as it was
    std::ifstream in(c.file(slot), std::ios::binary);
    const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto article = parse_markdown_article(content, c.file(slot).string(), id, limits);
    if (!article) continue;  // kept as it was
    article->source = source_identity(c.file(slot));
    expected[id] = content_hash(*article);
  }
}

[[noreturn]] void mismatch(const std::string& what) {
  fmt::print(stderr, "fuzz_index_job: the index does not hold what it must: {}\n", what);
  std::abort();
}

void check(const Corpus& c, const Expected& expected) {
  Expected held;
  {
    Xapian::Database db(c.db.string());
    for (auto t = db.allterms_begin("Q"); t != db.allterms_end("Q"); ++t) {
      auto p = db.postlist_begin(*t);
      held[(*t).substr(1)] = db.get_document(*p).get_value(schema::kSlotContentHash);
      if (t.get_termfreq() != 1) mismatch("id " + *t + " names several documents");
    }
    if (db.get_doccount() != held.size()) mismatch("documents without an id term");
  }
  for (const auto& [id, hash] : expected) {
    auto it = held.find(id);
    if (it == held.end()) mismatch("'" + id + "' is missing");
    if (it->second != hash) mismatch("'" + id + "' is not at its latest valid version");
  }
  for (const auto& [id, hash] : held)
    if (!expected.contains(id)) mismatch("'" + id + "' should not be there");
  for (const auto& glass : glass_directories(c.db)) {
    VerifyOptions options;
    options.xapian_check = false;  // the stored articles and id terms; Xapian's checker is slow per input
    auto report = verify_database(glass, options);
    if (!report || !report->ok()) mismatch("the index does not verify");
  }
}

std::string valid_article(std::uint8_t version, std::size_t pad) {
  std::string body = fmt::format("## What They Found\n\nVersion {} of this finding about myelin.\n", version);
  body += std::string(pad, 'w');
  return fmt::format("---\ntitle: Version {}\ndate: 2025-0{}-01\ntopics: [T{}]\n---\n", version, 1 + version % 9,
                     version % 4) +
         body;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  drop_permission_bypass();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  char tmpl[] = "/tmp/mssearch-fuzz-job-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) std::abort();
  {
    Corpus c{fs::path(tmpl)};
    Expected expected;
    bool indexed = false;
    Script script(data, size);
    for (int ops = 0; script.more() && ops < 24; ++ops) {
      const std::uint8_t op = script.byte();
      const std::size_t slot = script.byte() % kSlots;
      switch (op % 8) {
        case 0: c.write(slot, valid_article(script.byte(), 0)); break;
        case 1: {
          const std::uint8_t kind = script.byte() % 4;
          if (kind == 0) c.write(slot, "---\ntitle: Bad date\ndate: 2025-13-01\n---\nbody\n");
          if (kind == 1) c.write(slot, "---\ndate: 2025-01-01\n---\nno title\n");
          if (kind == 2) c.write(slot, valid_article(script.byte(), kMaxBytes));  // over the size limit
          if (kind == 3) c.write(slot, "no front matter at all\n");
          break;
        }
        case 2: c.write(slot, script.bytes(script.byte())); break;
        case 3: c.remove(slot); break;
        case 4: c.set_unreadable(slot, !c.unreadable[slot]); break;
        case 5: c.set_sub_unreadable(!c.sub_unreadable); break;
        default: {
          IndexerOptions options;
          options.db_path = c.db;
          options.full = op % 8 == 7;
          options.limits.max_article_bytes = kMaxBytes;
          // This script's model deletes an article with its file, the last one too: a corpus
          // emptied is refused without --allow-empty (CI's fuzzer found it: write, remove all, job).
          options.allow_empty = true;
          auto report = run_index_job({c.dir}, options);
          if (!report) mismatch("the job failed: " + report.error().message);
          indexed = true;
          after_job(c, expected);
          check(c, expected);
        }
      }
    }
    (void)indexed;
  }
  std::error_code ec;
  fs::permissions(fs::path(tmpl) / "corpus" / "sub", fs::perms::owner_all, ec);
  for (auto it = fs::recursive_directory_iterator(tmpl, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
  fs::remove_all(tmpl, ec);
  return 0;
}
