// Reads articles from their sources: Markdown files with YAML front matter, and JSON Lines
// exports (one article object per line, body in "body"). Every problem becomes a ReadError
// naming the file and line; a bad article never stops the others.
//
// Thread-safety: free functions without shared state; safe to call from several threads.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "schema/article.h"
#include "schema/schema.h"
#include "schema/error.h"
#include "schema/utf8.h"

namespace mssearch {

// Limits on what one article may hold: past one, the article is refused with a message that
// names the field, the file and line, and the limit (README "Bad input"). The field limits keep
// answers small whatever an export holds, and every term an article makes within Xapian's
// term length limit.
struct ReaderLimits {
  std::size_t max_article_bytes = 1 << 20;  // one Markdown file or one JSONL line (summaries are ~5 KB)
  std::size_t max_sections = 100;           // headings in the body
  std::size_t max_yaml_nodes = 10000;       // guards against alias ("billion laughs") bombs
  std::size_t max_id_bytes = schema::kMaxIdBytes;  // not above it: the server names no longer id
  std::size_t max_title_bytes = 500;
  std::size_t max_takeaway_bytes = 4000;
  std::size_t max_journal_bytes = 200;
  std::size_t max_url_bytes = 2000;
  std::size_t max_topics = 32;
  std::size_t max_topic_bytes = 120;
};

struct ReadError {
  std::string source;   // the path as the user gave it
  int line = 0;         // 1-based; 0 when the whole file is concerned
  std::string message;
  std::string id;       // the article's id when it could still be told, else empty

  std::string where_what() const;  // "source:line: message" ("source: message" for no line), as reports list warnings
};

// `path` made absolute with its symbolic links resolved as they are now (as written when that
// fails): one file however a run names it (through a link, relative, absolute).
std::string resolved_path(const std::string& path);

struct ReadBatch {
  std::vector<Article> articles;
  std::vector<ReadError> errors;
  // Read all the same, but probably not as the editor meant: a field mssearch does not know
  // (`topic:` for `topics:`), which is ignored.
  std::vector<ReadError> warnings;
  // Sources (absolute paths) that could not be read or parsed as a whole: articles the index
  // already holds from them are kept as they are.
  std::set<std::string> broken_sources;
  // Directories (absolute paths) that could not be listed, or not to the end (unreadable,
  // vanished, an I/O error): the index keeps every article it holds from under them.
  std::vector<std::string> broken_directories;
  // Of those, the symbolic links whose target is gone (a linked folder retired, its link left):
  // the index job names each one it keeps articles from under, as an error.
  std::vector<std::string> dangling_links;
  // Each source file read: its identity (an article's `source`) to its path as given, for
  // messages, which name a file as the user gave it.
  std::map<std::string, std::string> given_paths;
  // The sources that gave at least one article, of the whole batch (a shard's part is given its
  // batch's): a file read but empty (a failed export) gave none. Filled by the index job.
  std::set<std::string> yielded;

  // `source` (an article's) as the user gave it; itself when not read from a file here.
  const std::string& shown(const std::string& source) const {
    const auto it = given_paths.find(source);
    return it == given_paths.end() ? source : it->second;
  }
};

// A source file found under the paths given on the command line.
struct SourceFile {
  std::filesystem::path path;  // as found (relative to the current directory if given so)
  std::string absolute;        // source_identity(path): the identity stored in the index
  bool jsonl = false;
};

// Where an article came from, as the index records it: the absolute, lexically normal path as
// reached from the paths given, symbolic links kept as they are. "articles/x.md" stays the same
// article when `articles` is a link swapped to a new release folder (and is deleted when it is
// gone from it); resolving links instead made such articles undeletable.
std::string source_identity(const std::filesystem::path& path);

// Whether `path` names a JSON Lines source (`.jsonl`, in any case) rather than one article.
bool is_jsonl_source(const std::filesystem::path& path);

// Walks the given files and directories (recursively; symbolic links to directories are
// followed, each directory entered once) for *.md, *.markdown and *.jsonl files. README.md
// files and names starting with '.' or '_' are not articles. Sorted, deduplicated. A directory
// that cannot be listed or searched (EACCES, vanished mid-walk, EIO) and an article path that
// cannot be resolved (a dangling or looping symbolic link, a FIFO or device) is an error for
// that path, recorded in `problems` (errors, broken_directories, broken_sources), and the walk
// goes on. Fails (kIo) only when a path given does not exist at all.
Result<std::vector<SourceFile>> find_sources(const std::vector<std::filesystem::path>& paths,
                                             ReadBatch& problems);

// find_sources, then read_source for each file found, into one batch.
Result<ReadBatch> read_sources(const std::vector<std::filesystem::path>& paths,
                               const ReaderLimits& limits = {});

// Parses one Markdown article. `default_id` is used when the front matter has no id.
// On failure the error's line is the line in the file.
// A field given twice is an error (which one was meant?); `warnings`, when given, gets one
// for each field mssearch does not know (ignored).
std::expected<Article, ReadError> parse_markdown_article(std::string_view content,
                                                         const std::string& source,
                                                         const std::string& default_id,
                                                         const ReaderLimits& limits = {},
                                                         std::vector<ReadError>* warnings = nullptr);

// Parses one JSON Lines record (line is its 1-based line number).
std::expected<Article, ReadError> parse_jsonl_article(std::string_view record,
                                                      const std::string& source, int line,
                                                      const ReaderLimits& limits = {},
                                                      std::vector<ReadError>* warnings = nullptr);

// Reads one source file into the batch. A Markdown file over max_article_bytes is refused from
// its size, before it is read; a JSONL file is read line by line, each line bounded by the same
// limit: memory stays bounded by the limits whatever the input.
void read_source(const SourceFile& file, ReadBatch& batch, const ReaderLimits& limits = {});

// Which of the `wanted` ids the article file at `path` gives, as read_source would read it
// (an article that fails to parse gives none), without keeping its articles: a Markdown file
// is parsed (bounded by max_article_bytes); a JSONL file is read line by line, a line that does
// not hold a wanted id (as written or escaped) passed over, another one's id looked at alone
// (the parse stops at it), only a line with a wanted id parsed whole, and the read stops once
// every wanted id is found: memory stays bounded by one line. A file that cannot be read gives
// none.
std::set<std::string> ids_given(const std::filesystem::path& path, const std::set<std::string>& wanted,
                                const ReaderLimits& limits = {});

// Sets the Markdown body and what is derived from it (sections, plain text). False when an
// HTML block in it nests past the parser's depth (its text past that depth is left out).
bool set_body(Article& article, std::string markdown);


}  // namespace mssearch
