// The index job: reads the article sources, and brings the index at `db_path` in line with
// them in one atomic step.
//
// Incremental (default): articles whose content hash is unchanged are not rewritten, changed
// ones are replaced, and articles gone from the given sources are deleted, all in one Xapian
// transaction. Full (`full`, or when no index exists yet): everything is written into a new
// generation that replaces the live one atomically (see index_directory.h).
//
// Only articles whose source lies under one of the given paths can be deleted; an article
// that failed to read, or whose whole source failed, keeps its indexed version.
//
// Thread-safety: one job per index directory at a time, enforced with a lock (kLocked).
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <xapian.h>

#include "indexer/article_reader.h"
#include "schema/error.h"
#include "schema/schema.h"

namespace mssearch {

struct IndexerOptions {
  std::filesystem::path db_path = "data/index";
  bool full = false;  // rebuild into a new generation and swap it in
  // A folder or file named that yields no article and no error at all, while the index holds
  // articles from it, refuses the job (an unmounted or emptied folder deleted every article);
  // true lets the job delete them.
  bool allow_empty = false;
  ReaderLimits limits;
  // Called after each document written: (done, total). For progress bars; may be empty.
  std::function<void(std::size_t, std::size_t)> progress;
  // Called once this run's revision is live (its commit, or a --full generation swapped in),
  // before the job tidies up (old generations, checksums, the revision record): a stop after it
  // must not say the index is as it was. Per shard for a sharded index. May be empty.
  std::function<void()> committed;
  // Shards: 0 keeps the index as it is (sharded or not; one database when new); N >= 2 splits
  // the articles over DIR/shard-00 … by shard_of(id), written in parallel, each with its own
  // lock, incremental transaction and --full generation swap.
  std::size_t shards = 0;
  // Full rebuilds: the articles are written as this many parts in parallel, then merged by
  // Xapian's compactor (which also packs the tables). 0: one per core, at most 4; sharded jobs,
  // already one thread per shard, write one part each.
  std::size_t write_threads = 0;
  // Full rebuilds: each part commits after this many documents (0: Xapian's own threshold,
  // 10,000 or $XAPIAN_FLUSH_THRESHOLD). Measured with search_bench --flush-every, 2 parts:
  // docs/s at 10k articles 740 (Xapian's default) / 950 (50) / 1020 (100) / 1000 (250) / 950
  // (500); at 100k 672 / 973 (100) / 928 (250), the writer's peak memory a third. Small batches
  // keep its buffers in cache; the compaction that merges the parts packs the tables anyway.
  std::size_t flush_every = 100;
  // Incremental runs that rewrite at least this many articles, and at least half of the index
  // (a format bump, a template edited site-wide), build a new generation as --full does, the
  // index's phrase pair words kept: rewritten in place, 8,000 articles took 70-106 s against
  // --full's 36-39 s and left the index 3 times the size (helper-97). 0: never.
  std::size_t rebuild_from_rewrites = 500;
  // Full builds: the pair words (schema::kMetaPairWords) to write with, instead of choosing them
  // from the build's own first articles. A sharded job chooses once for all its shards, so that
  // a phrase is filtered alike in each. Incremental runs keep the list the index has.
  std::optional<schema::PairWords> pair_words;
  // A pair word is in at least this share of the sampled articles, and so in about this many
  // articles of the build (schema.h; the tests pair a small collection's words).
  double pair_word_share = schema::kPairWordShare;
  std::size_t pair_min_articles = schema::kPairMinArticles;
};

struct IndexReport {
  std::size_t added = 0, updated = 0, deleted = 0, unchanged = 0, failed = 0;
  double seconds = 0;
  std::vector<ReadError> errors;  // one per failed article or source
  std::vector<std::string> warnings;  // e.g. an unreadable old index that --full replaced
  bool full = false;              // a new generation was built and swapped in
  Xapian::rev revision = 0;       // of the live database after the job
  Xapian::doccount documents = 0;
  std::size_t shards = 1;
  // The index is written, but what the job records beside it (its revision, its tables'
  // checksums) could not be (a full disk; said in `warnings`): the next `stats` and `check`
  // cannot tell a job killed part way from damage until a job records them.
  bool records_lost = false;
};

// Fails (no change made) with kLocked, kIo (a path that does not exist, or a shard count that
// does not match the index's: use a new --db to change it), kSchemaMismatch
// (incremental run on an index of another schema version) or kDatabase (Xapian, disk full).
// Article problems are not failures: they are listed in the report.
Result<IndexReport> run_index_job(const std::vector<std::filesystem::path>& sources,
                                  const IndexerOptions& options);

// Indexes articles that are already in memory (e.g. converted from another collection), the
// same way as run_index_job; nothing is deleted. Same errors.
Result<IndexReport> index_articles(std::vector<Article> articles, const IndexerOptions& options);

// Articles made one at a time, for a collection too large to hold in memory (the benchmark's
// 1 M articles): `count` of them; `make(i)` makes article i (from the writing threads, each i
// once, any order); `id_of(i)` is its id, cheaply (it decides the shard before it is made).
// Ids must be unique: they are not checked, since they are not held.
struct ArticleStream {
  std::size_t count = 0;
  std::function<std::string(std::size_t)> id_of;
  std::function<Article(std::size_t)> make;
};

// A full build (as with `full`) of the stream's articles into options.db_path, shards as in
// run_index_job; only one article per writing thread is held at a time. Same errors.
Result<IndexReport> index_stream(const ArticleStream& stream, const IndexerOptions& options);

}  // namespace mssearch
