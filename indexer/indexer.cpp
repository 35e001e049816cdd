#include "indexer/indexer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <numeric>
#include <set>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "indexer/document_builder.h"
#include "indexer/index_directory.h"
#include "schema/index_path.h"
#include "schema/schema.h"
#include "schema/text_analyzer.h"
#include "schema/verify.h"

namespace mssearch {
namespace fs = std::filesystem;

namespace {

struct IndexedArticle {
  Xapian::docid docid;
  std::string hash;
  std::string source;
};

// id -> what the index holds now.
std::map<std::string, IndexedArticle> indexed_articles(const Xapian::Database& db) {
  // The hash and source slots read as two value streams, in docid order, rather than two value
  // lookups per document (each a B-tree search and a chunk decoded up to the document).
  auto stream = [&db](Xapian::valueno slot) {
    std::unordered_map<Xapian::docid, std::string> values;
    for (auto v = db.valuestream_begin(slot); v != db.valuestream_end(slot); ++v) values.emplace(v.get_docid(), *v);
    return values;
  };
  auto hashes = stream(schema::kSlotContentHash), sources = stream(schema::kSlotSource);
  std::map<std::string, IndexedArticle> out;
  const std::string prefix(schema::kIdPrefix);
  for (auto t = db.allterms_begin(prefix); t != db.allterms_end(prefix); ++t) {
    auto p = db.postlist_begin(*t);
    if (p == db.postlist_end(*t)) continue;
    const Xapian::docid docid = *p;
    auto& entry = out[(*t).substr(prefix.size())];
    entry.docid = docid;
    if (auto h = hashes.find(docid); h != hashes.end()) entry.hash = std::move(h->second);
    if (auto s = sources.find(docid); s != sources.end()) entry.source = std::move(s->second);
  }
  return out;
}

bool in_scope(const std::string& source, const std::vector<std::string>& scopes) {
  for (const auto& s : scopes)
    if (source == s || (source.starts_with(s) && source.size() > s.size() && source[s.size()] == '/'))
      return true;
  return false;
}

// --full on a plain database (no XAPIANDB: one generation of an index given itself, say): the
// new generation could not be swapped in. Incremental runs build on it.
Error plain_database_refusal(const fs::path& db) {
  return Error{ErrorCode::kIo, db.string() + " is a plain Xapian database, not an mssearch index directory (no XAPIANDB "
                                             "naming a live generation), so --full cannot swap a new generation in: give "
                                             "--full a new directory or an index directory (without --full, an index "
                                             "job builds on this database as it is)"};
}

std::string now_iso() {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr)));
}

struct Plan {
  std::vector<const Article*> write;      // added or updated
  std::vector<const Article*> unchanged;
  // Unchanged, but named another way this time (through a link, relative): its recorded path
  // brought up to date, its terms untouched (docid, the article as read).
  std::vector<std::pair<Xapian::docid, const Article*>> renamed;
  std::vector<std::string> deletions;     // ids
  std::vector<std::string> keep_as_is;    // ids the index holds that this job cannot vouch for
};

// Refuses the articles of a batch that cannot be indexed as they are: a term over Xapian's
// limit (the reader checks this for the files it reads; articles given in memory are checked
// here: one overlong term would make Xapian end the whole job), a url that is not a link, and a
// second article with an id already seen. Of two with one id, the one whose file the index
// holds that id from wins (a draft copied from a published article, its id left as it was,
// must not replace it); else the first in path order. A Markdown file whose
// article is refused as a duplicate keeps what the index holds from it, as any failed file does
// (its article may have had another id before this edit). Run on the whole batch, before it is
// split over shards: both copies of an id go to one shard, but the file's indexed article may
// live in another.
// The file the index in `dir` holds article `id` from; "" when none (no index, no such
// article, or an index that cannot be read: then the first in path order wins).
std::string indexed_source_of(const fs::path& dir, const std::string& id) {
  try {
    Xapian::Database db(dir.string());
    const std::string term = schema::id_term(id);
    auto p = db.postlist_begin(term);
    if (p == db.postlist_end(term)) return "";
    return db.get_document(*p).get_value(schema::kSlotSource);
  } catch (const Xapian::Error&) {
    return "";
  }
}

// `indexed_source(id)`: the file the index holds article `id` from ("" when none or unknown).
void screen_articles(ReadBatch& batch, const std::function<std::string(const std::string&)>& indexed_source = {}) {
  std::map<std::string, std::string> first_source;
  std::map<std::string, int> first_line;  // of the kept one, in a JSON Lines file
  if (indexed_source) {
    // The ids given twice, each to the article from the file the index holds it from.
    std::map<std::string, std::size_t> copies;
    for (const auto& a : batch.articles) ++copies[a.id];
    for (const auto& [id, n] : copies) {
      if (n < 2) continue;
      // Compared as their links resolve now too: the folder the index holds the article from
      // may be named through a link this run, or the other way round.
      const std::string held = resolved_path(indexed_source(id));
      if (held.empty()) continue;
      for (const auto& a : batch.articles)
        if (a.id == id && (a.source == held || resolved_path(a.source) == held)) {
          first_source.emplace(id, a.source);
          first_line.emplace(id, a.line);
          break;
        }
    }
  }
  std::vector<Article> unique;
  std::set<std::string> kept;
  for (auto& a : batch.articles) {
    if (auto term = schema::overlong_term(a)) {
      batch.errors.push_back({batch.shown(a.source), a.line, fmt::format("'{}' makes an index term of {} bytes; Xapian's limit is {}",
                                                            term->first, term->second.size(), schema::kMaxTermBytes), a.id});
      continue;
    }
    if (!a.url.empty() && !is_link_url(a.url)) {
      batch.errors.push_back({batch.shown(a.source), a.line, "'url' must be a path on the site (/articles/…) or an http(s) URL", a.id});
      continue;
    }
    auto [it, inserted] = first_source.emplace(a.id, a.source);
    if (inserted || (it->second == a.source && !kept.contains(a.id))) {
      kept.insert(a.id);
      first_line.emplace(a.id, a.line);
      unique.push_back(std::move(a));
      continue;
    }
    // Both files named as given, as every other error names them (these were absolute).
    const int line = first_line[a.id];
    const std::string& other = batch.shown(it->second);
    const std::string where = it->second == a.source ? fmt::format("on line {} of this file", line)
                              : line > 0             ? fmt::format("in {}:{}", other, line)
                                                     : "in " + other;
    // Which one keeps it, and why: a draft indexed alone keeps the id from the published file in
    // every run that reads both, and "which keeps it" alone read as if the published file were
    // at fault (helper-97).
    const bool held = indexed_source && it->second != a.source &&
                      resolved_path(indexed_source(a.id)) == resolved_path(it->second);
    batch.errors.push_back({batch.shown(a.source), a.line,
                            "duplicate id '" + a.id + "' (also " + where + ", which keeps it" +
                                (held ? ", as the index holds the id from there: give one of them another id" : "") + ")",
                            ""});
    if (!is_jsonl_source(a.source)) batch.broken_sources.insert(a.source);
  }
  batch.articles = std::move(unique);
}

class Job {
 public:
  Job(const std::vector<fs::path>& paths, const IndexerOptions& options)
      : paths_(paths), options_(options), dir_(options.db_path) {}

  // Reads the sources under paths_, then applies them.
  Result<IndexReport> run() {
    auto batch = read_sources(paths_, options_.limits);
    if (!batch) return std::unexpected(batch.error());
    return apply(std::move(*batch));
  }

  // Brings the index in line with an already read batch. Deletions are limited to sources
  // under paths_ (none when paths_ is empty).
  Result<IndexReport> apply(ReadBatch batch) {
    if (batch.yielded.empty())
      for (const auto& a : batch.articles) batch.yielded.insert(a.source);
    return locked_job([&]() -> Result<void> {
      drop_duplicates(batch);
      for (const auto& w : batch.warnings) report_.warnings.push_back(w.where_what());
      report_.errors = batch.errors;
      report_.failed = batch.errors.size();
      std::vector<std::string> scopes;
      for (const auto& p : paths_) scopes.push_back(source_identity(p));
      std::optional<Xapian::Database> old;
      std::map<std::string, IndexedArticle> indexed;
      // A stub that names no database: not a new index (an incremental run would rebuild from the
      // sources alone and lose what it keeps of unreadable ones), and which generation is live
      // cannot be told. --full rebuilds and publishes a new stub.
      if (auto problem = index_layout_problem(options_.db_path); problem && !options_.full)
        return std::unexpected(std::move(*problem));
      if (dir_.stub_unreadable() && !options_.full)
        return fail(ErrorCode::kCorrupt, (options_.db_path / "XAPIANDB").string() +
                                             " names no database (unreadable, empty or garbled): restore it "
                                             "(one line 'glass gen-NNNNNN', the newest generation `mssearch check` accepts) "
                                             "or rebuild with `mssearch index --full`");
      try {
        if (dir_.live_generation() || dir_.is_plain_database()) old.emplace(options_.db_path.string());
        if (old) indexed = indexed_articles(*old);
      } catch (const Xapian::DatabaseError& e) {
        // A corrupt or unreadable index: --full rebuilds it from the sources alone.
        // A table that cannot be read whole (a truncated file: "EOF reading block") is a plain
        // DatabaseError, not a DatabaseCorruptError: say what the operator can do about it, as
        // for other damage (not for its subclasses: a lock, a version or a permission problem).
        // Nor is a revision overtaken while this job holds the index's lock, which no writer
        // but it may take: a block whose header claims a later revision (each night's job
        // failed with "database_error ... call reopen() and retry").
        const std::string_view type = e.get_type();
        if (!options_.full && ((type == "DatabaseError" && schema::error_code_of(e) == ErrorCode::kCorrupt) ||
                               type == "DatabaseModifiedError"))
          return fail(ErrorCode::kCorrupt, "index " + options_.db_path.string() + " cannot be read (" + e.get_description() +
                                               "): it is damaged; `mssearch check` shows what is wrong, "
                                               "`mssearch index --full` rebuilds it from the sources");
        if (!options_.full) throw;
        report_.warnings.push_back("the old index could not be read (" + e.get_description() +
                                   "): rebuilt from the sources alone");
        old.reset();
        indexed.clear();
      }
      const bool rebuild = options_.full || !old;
      if (old && !rebuild) {
        if (auto ok = schema::check_version(*old); !ok) return std::unexpected(ok.error());
      }
      if (old) {
        // Built on, a damaged index would stay damaged (an unreadable article kept as
        // "unchanged", a lost id term making a duplicate): an incremental run refuses it;
        // --full rebuilds, carrying over only stored articles that verify.
        if (auto whole = verify_old(*old); !whole) {
          if (!rebuild) return std::unexpected(whole.error());
          report_.warnings.push_back(whole.error().message);
        }
      }
      if (!rebuild) warn_taken_ids(batch, indexed, scopes);
      const Plan plan = make_plan(batch, indexed, scopes);
      if (auto emptied = emptied_source(batch, indexed, plan); emptied && !options_.allow_empty)
        return std::unexpected(std::move(*emptied));
      // Most of the index rewritten: a new generation, swapped in as --full's is (the same
      // plan: the articles kept for unreadable sources are carried over from `old`), with the
      // pair words the index has, as an incremental run keeps them (shards filter alike).
      const bool most_rewritten = !rebuild && old && options_.rebuild_from_rewrites > 0 && !dir_.is_plain_database() &&
                                  plan.write.size() >= options_.rebuild_from_rewrites &&
                                  plan.write.size() * 2 >= plan.write.size() + plan.unchanged.size() + plan.keep_as_is.size();
      if (most_rewritten) kept_pair_words_ = schema::pair_words_of(*old);
      return rebuild || most_rewritten ? write_generation(plan, old ? &*old : nullptr, indexed) : write_incremental(plan);
    });
  }

  // A full build of the articles `stream` makes at `indices` (this job's share), one at a time:
  // none is held after it is written. What db_path held is replaced, as by --full.
  Result<IndexReport> apply_stream(const ArticleStream& stream, const std::vector<std::size_t>& indices) {
    return locked_job([&]() -> Result<void> {
      std::optional<Xapian::Database> old;  // read only for the revision to count on from
      try {
        if (dir_.live_generation()) old.emplace(options_.db_path.string());
      } catch (const Xapian::DatabaseError& e) {
        report_.warnings.push_back("the old index could not be read (" + e.get_description() + "): replaced");
      }
      report_.added = indices.size();
      return write_parts(
          indices.size(),
          [&](std::size_t i, Article& made, std::string& hash) -> const Article& {
            made = stream.make(indices[i]);
            // What drop_duplicates checks of articles given in memory (ids are the stream's to
            // keep unique); refused alone, as the builder refuses an overlong term.
            if (const std::string id = stream.id_of(indices[i]); made.id != id)
              throw std::invalid_argument("the stream made '" + made.id + "' as article '" + id + "'");
            if (!made.url.empty() && !is_link_url(made.url))
              throw std::invalid_argument("'url' must be a path on the site (/articles/…) or an http(s) URL");
            hash = content_hash(made);
            return made;
          },
          {}, old ? &*old : nullptr, {});
    });
  }

 private:
  // Who owns the live database, when it is not the user running the job: "; gen-000004 is owned
  // by uid 0, and this job runs as uid 65534 (…)".
  std::string owner_note() const {
    const auto live = live_database_dir(options_.db_path);
    struct stat st {};
    if (!live || ::stat(live->c_str(), &st) != 0 || st.st_uid == ::geteuid()) return {};
    return fmt::format("; {} is owned by uid {}, and this job runs as uid {} (was a job run as another user, with "
                       "sudo?): give the index's files to this user (chown -R), or rebuild it as this user with --full",
                       live->filename().string(), st.st_uid, ::geteuid());
  }

  // Runs `write` under the index's lock, turns Xapian's and the file system's exceptions into
  // errors, and reports the database it leaves.
  template <typename Write>
  Result<IndexReport> locked_job(Write write) {
    const auto start = std::chrono::steady_clock::now();
    auto lock = IndexLock::acquire(options_.db_path);
    if (!lock) return std::unexpected(lock.error());
    if (!dir_.is_plain_database())
      for (auto& kept : dir_.remove_stale_generations()) report_.warnings.push_back(std::move(kept));
    Result<void> written;
    try {
      written = write();
    } catch (const Xapian::DatabaseLockError& e) {
      // The job holds the index's own lock: Xapian's lock file that cannot be opened is a
      // permission (a `sudo mssearch index` left files this user cannot write), not another
      // writer (exit 3, "harmless, try later", every night; helper-91).
      const std::string why = e.get_msg() + " " + (e.get_error_string() != nullptr ? e.get_error_string() : "");
      if (why.find("Couldn't open lockfile") != std::string::npos || why.find("Permission denied") != std::string::npos ||
          why.find("Read-only file system") != std::string::npos)
        return fail(ErrorCode::kIo, "index " + options_.db_path.string() + " cannot be written by this user: " + e.get_msg() +
                                        owner_note());
      return fail(ErrorCode::kLocked, "index " + options_.db_path.string() +
                                          " is locked by another writer: " + e.get_msg());
    } catch (const Xapian::DatabaseCorruptError& e) {
      return fail(ErrorCode::kCorrupt, "index " + options_.db_path.string() + " is damaged: " + e.get_description() +
                                           " (rebuild it with `mssearch index --full`)");
    } catch (const Xapian::Error& e) {
      // A table this user may not write (a `sudo` run's files): named as such, with the owner.
      const char* errno_text = e.get_error_string();
      if (e.get_description().find("Permission denied") != std::string::npos ||
          (errno_text != nullptr && std::string_view(errno_text) == "Permission denied"))
        return fail(ErrorCode::kIo, "index " + options_.db_path.string() + " cannot be written by this user: " +
                                        e.get_description() + owner_note());
      return fail(ErrorCode::kDatabase, "index " + options_.db_path.string() + ": " + e.get_description());
    } catch (const fs::filesystem_error& e) {
      return fail(ErrorCode::kIo, e.what());
    } catch (const std::exception& e) {  // e.g. from an ArticleStream's functions: never past the job
      return fail(ErrorCode::kInternal, "index " + options_.db_path.string() + ": " + e.what());
    }
    if (!written) return std::unexpected(written.error());

    Xapian::Database after(options_.db_path.string());
    report_.revision = schema::revision(after);
    if (!dir_.is_plain_database())
      if (auto recorded = dir_.record_revision(report_.revision); !recorded) {
        report_.warnings.push_back(recorded.error().message + ": the index is written, its revision not recorded beside it");
        report_.records_lost = true;
      }
    report_.documents = after.get_doccount();
    report_.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report_;
  }

  void drop_duplicates(ReadBatch& batch) {
    screen_articles(batch, [&](const std::string& id) {
      return dir_.live_generation() || dir_.is_plain_database() ? indexed_source_of(options_.db_path, id) : std::string();
    });
    articles_ = std::move(batch.articles);
    broken_sources_ = batch.broken_sources;
    broken_directories_ = batch.broken_directories;
    dangling_links_ = batch.dangling_links;
    given_paths_ = std::move(batch.given_paths);
    for (const auto& e : batch.errors)
      if (!e.id.empty()) failed_ids_.emplace(e.id, e.source);
  }

  // A path named that gave no article and no error (nothing there to read), while the plan
  // deletes articles indexed from it: an unmounted mount point or a folder emptied by mistake,
  // not an editor's deletions.
  std::optional<Error> emptied_source(const ReadBatch& batch, const std::map<std::string, IndexedArticle>& indexed,
                                      const Plan& plan) const {
    for (const auto& path : paths_) {
      const std::vector<std::string> as_named{source_identity(path)}, as_resolved{resolved_path(as_named.front())};
      const auto within = [&](const std::string& source) {
        return in_scope(source, as_named) || in_scope(resolved_path(source), as_resolved);
      };
      // An article from there (the whole batch's, whichever shard this is), or a file there that
      // failed (its articles are kept as they are); a file read that gave nothing (an emptied
      // export) counts as nothing.
      if (std::any_of(batch.yielded.begin(), batch.yielded.end(), [&](const std::string& source) { return within(source); }) ||
          std::any_of(batch.errors.begin(), batch.errors.end(), [&](const ReadError& e) { return within(e.source); }))
        continue;
      const std::size_t gone = static_cast<std::size_t>(std::count_if(plan.deletions.begin(), plan.deletions.end(), [&](const std::string& id) {
        const auto it = indexed.find(id);
        return it != indexed.end() && within(it->second.source);
      }));
      if (gone == 0) continue;
      return Error{ErrorCode::kIo, fmt::format("{} holds no article now, but the index has {} from it (an unmounted or "
                                               "emptied folder, an empty export?): nothing was changed; to delete them, run again with "
                                               "--allow-empty",
                                               path.string(), gone)};
    }
    return std::nullopt;
  }

  // An article whose id the index holds from another file that this run did not read, and
  // which still gives that id, replaces it (as a document store's write by id does) with a
  // warning naming that file: a draft copied from a published article (id and all) and indexed
  // on its own replaced the published text without a word, and the nightly job put it back, by
  // turns. (Refusing it instead refused a whole corpus indexed from a new folder while the old
  // one was still there.) Within one run the file the index holds the id from keeps it
  // (screen_articles); here the other file is asked for those ids alone (ids_given: a JSONL
  // export is read up to the last of them, its other lines not parsed; it was read whole, each
  // article parsed and kept, for one warning). One that is gone, or that gives another id now,
  // is an article moved: no warning.
  void warn_taken_ids(const ReadBatch& batch, const std::map<std::string, IndexedArticle>& indexed,
                      const std::vector<std::string>& scopes) {
    std::vector<std::string> resolved_scopes;
    for (const auto& scope : scopes) resolved_scopes.push_back(resolved_path(scope));
    std::vector<std::pair<const Article*, std::string>> taken;  // an article, the other file
    std::map<std::string, std::set<std::string>> asked;         // each other file, the ids to ask it
    for (const auto& a : articles_) {
      const auto it = indexed.find(a.id);
      const std::string held = it == indexed.end() ? std::string() : it->second.source;
      if (held.empty() || held == a.source || resolved_path(held) == resolved_path(a.source) ||
          in_scope(held, scopes) || in_scope(resolved_path(held), resolved_scopes))
        continue;
      taken.emplace_back(&a, held);
      asked[held].insert(a.id);
    }
    std::map<std::string, std::set<std::string>> given;  // each other file, those of its ids it still gives
    for (const auto& [held, ids] : asked) {
      std::error_code ec;
      if (fs::is_regular_file(held, ec)) given[held] = ids_given(held, ids, options_.limits);
    }
    for (const auto& [a, held] : taken) {
      if (!given[held].contains(a->id)) continue;
      report_.warnings.push_back(ReadError{batch.shown(a->source), a->line,
                                           "id '" + a->id + "' replaced the article of " + held +
                                               ", which this run did not read and which still gives that id (a run "
                                               "that reads it and not this file puts it back; one that reads both "
                                               "keeps this file's): give one of them another id",
                                           a->id}
                                     .where_what());
    }
  }

  Plan make_plan(const ReadBatch&, const std::map<std::string, IndexedArticle>& indexed,
                 const std::vector<std::string>& scopes) {
    Plan plan;
    std::set<std::string> seen;
    for (const auto& a : articles_) {
      seen.insert(a.id);
      hashes_[a.id] = content_hash(a);
      auto it = indexed.find(a.id);
      if (it == indexed.end()) {
        ++report_.added;
        plan.write.push_back(&a);
      } else if (it->second.hash != hashes_[a.id] ||
                 // Another file: neither named alike nor resolving alike (see content_hash).
                 (it->second.source != a.source && resolved_path(it->second.source) != resolved_path(a.source))) {
        ++report_.updated;
        updating_.insert(a.id);
        plan.write.push_back(&a);
      } else {
        ++report_.unchanged;
        plan.unchanged.push_back(&a);
        // The path as named now: a name that stops existing later (a link removed) would leave
        // its articles outside every folder a job names, undeletable even by --full.
        if (it->second.source != a.source) plan.renamed.emplace_back(it->second.docid, &a);
      }
    }
    // Paths compared as stored and as they resolve now (symbolic links followed): the same
    // folder given through a link and by its own name in turn must cover the same articles. By
    // the stored spelling alone, an article indexed through one and removed while the job
    // named the other stayed in the index for good, even after --full.
    const auto resolve = [](const std::string& path) { return resolved_path(path); };
    const auto resolve_all = [&](const auto& paths) {
      std::vector<std::string> out;
      for (const auto& p : paths) out.push_back(resolve(p));
      return out;
    };
    const std::vector<std::string> resolved_scopes = resolve_all(scopes);
    const std::vector<std::string> resolved_broken_dirs = resolve_all(broken_directories_);
    const std::vector<std::string> broken_list = resolve_all(broken_sources_);
    const std::set<std::string> resolved_broken(broken_list.begin(), broken_list.end());
    std::map<std::string, std::size_t> kept_under_link;
    std::map<std::string, std::vector<std::string>> kept_from_broken_jsonl;
    for (const auto& [id, held] : indexed) {
      if (seen.contains(id)) continue;
      const std::string resolved = resolve(held.source);
      const bool cannot_vouch = failed_ids_.contains(id) || broken_sources_.contains(held.source) ||
                                resolved_broken.contains(resolved) || in_scope(held.source, broken_directories_) ||
                                in_scope(resolved, resolved_broken_dirs) ||
                                !(in_scope(held.source, scopes) || in_scope(resolved, resolved_scopes));
      if (cannot_vouch) {
        plan.keep_as_is.push_back(id);
        // Kept for another file that fails and gives its id: said, naming both (a draft copied
        // from a deleted article, or from one whose id changed, kept the old article on the site,
        // and nothing said which).
        if (const auto failed = failed_ids_.find(id); failed != failed_ids_.end() && resolve(failed->second) != resolved) {
          std::error_code ec;
          report_.warnings.push_back(fmt::format(
              "article '{}' (indexed from {}{}) is kept: {} fails and gives its id (mend that file, or give it another "
              "id, and the next run deletes or replaces the article)",
              id, held.source, fs::exists(held.source, ec) ? ", which no longer gives it" : ", now gone", failed->second));
        }
        // Gone from a JSON Lines file in which a line fails without an id (it might be theirs):
        // kept, and said, naming them (a withdrawn article stayed on the site in silence, for
        // as long as an unrelated line was broken: helper-97).
        else if (is_jsonl_source(held.source) && (broken_sources_.contains(held.source) || resolved_broken.contains(resolved)))
          kept_from_broken_jsonl[held.source].push_back(id);
        for (const auto& link : dangling_links_)
          if (in_scope(held.source, {link})) ++kept_under_link[link];
      } else {
        ++report_.deleted;
        plan.deletions.push_back(id);
      }
    }
    for (const auto& [source, ids] : kept_from_broken_jsonl) {
      constexpr std::size_t kNamed = 10;
      const std::vector<std::string> named(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), kNamed)));
      report_.warnings.push_back(fmt::format(
          "{}: kept though no line of it gives them now, as a line of it fails and gives no id (mend that line, and "
          "the next run deletes them): {}{}",
          source, fmt::join(named, ", "), ids.size() > kNamed ? fmt::format(" and {} more", ids.size() - kNamed) : std::string()));
    }
    // A dangling link the index keeps articles from under: an error for that path, as the
    // README promises, not kept in silence (exit 0, `errors` empty, the summary not adding up).
    for (const auto& [link, kept] : kept_under_link) {
      const auto given = given_paths_.find(link);
      report_.errors.push_back({given == given_paths_.end() ? link : given->second, 0,
                                "a symbolic link whose target is gone: the articles indexed from under it are kept "
                                "(restore what it links to, or remove the link and the next run deletes them)",
                                ""});
      ++report_.failed;
    }
    return plan;
  }

  // Whether the live database is whole. Its table files are compared with the checksums the
  // last job recorded: when they match, nothing has touched them since that job verified or
  // wrote them. Otherwise (a flipped byte; an index written before checksums were kept; or a
  // job killed part way, whose uncommitted blocks changed the files but not the committed
  // revision) the database is verified whole, once. kCorrupt names what is damaged.
  Result<void> verify_old(const Xapian::Database& old) {
    const auto glass = live_database_dir(options_.db_path);
    if (!glass) return {};
    std::string detail;
    if (compare_checksums(*glass, old.get_revision(), detail) == ChecksumState::kMatch) return {};
    auto report = verify_database(*glass);
    if (!report) return std::unexpected(report.error());
    if (!report->ok()) {
      const auto& first = report->damage.front();
      return fail(ErrorCode::kCorrupt, fmt::format("index {} is damaged ({} problem(s); first: {}: {}); "
                                                   "`mssearch check` shows them, `mssearch index --full` rebuilds it",
                                                   options_.db_path.string(), report->damaged_total, first.what, first.message));
    }
    verified_ = true;
    return {};
  }

  // After a commit: the checksums the next job compares.
  void record_live_checksums() {
    const auto glass = live_database_dir(options_.db_path);
    if (!glass) return;
    try {
      const Xapian::Database db(glass->string());
      if (auto r = record_checksums(*glass, db.get_revision()); !r) {
        report_.warnings.push_back(r.error().message + ": the index is written, its checksums not recorded");
        report_.records_lost = true;
      }
    } catch (const Xapian::Error& e) {
      report_.warnings.push_back("cannot record the index's checksums: " + e.get_description());
      report_.records_lost = true;
    }
  }

  void written_one(std::size_t done, std::size_t total) {
    if (options_.progress) options_.progress(done, total);
  }

  Result<void> write_incremental(const Plan& plan) {
    const bool changes = !plan.write.empty() || !plan.deletions.empty() || !plan.renamed.empty();
    if (!changes) {
      if (verified_) record_live_checksums();  // verified whole just now: vouch for it
      return {};
    }
    Xapian::WritableDatabase db(options_.db_path.string(), Xapian::DB_OPEN);
    db.begin_transaction();
    DocumentBuilder builder(analyzer_, &db);
    // The index's pair words: every article of it has the pairs of the same list. A list the
    // last commit did not vouch for (an mssearch without pairs wrote since) is dropped: its
    // articles are not all paired; `--full` pairs them again.
    const bool stale = schema::pair_words_stale(db);
    const auto pair_words = std::make_shared<const schema::PairWords>(schema::pair_words_of(db));
    if (stale) {
      db.set_metadata(std::string(schema::kMetaPairWords), "");
      db.set_metadata(std::string(schema::kMetaPairWordsRevision), "");
      report_.warnings.push_back("the index was written by an mssearch that does not pair phrases' common words since it was "
                                 "built: their pairs are dropped (phrases search as before, slower); `mssearch index --full` "
                                 "pairs them again");
    }
    builder.set_pair_words(pair_words);
    const std::size_t total = plan.write.size() + plan.deletions.size();
    std::size_t done = 0;
    for (const Article* a : plan.write) {
      try {
        db.replace_document(schema::id_term(a->id), builder.build(*a, hashes_[a->id]));
      } catch (const std::length_error& e) {
        refuse_built(*a, e);  // its indexed version, if any, stays
      }
      written_one(++done, total);
    }
    for (const auto& id : plan.deletions) {
      db.delete_document(schema::id_term(id));
      written_one(++done, total);
    }
    for (const auto& [docid, a] : plan.renamed) {
      // Only its stored copy and source value change: Xapian rewrites those and leaves the
      // terms, postings and positions of a document whose terms were not touched.
      try {
        Xapian::Document doc = db.get_document(docid);
        Article stored = decode_stored(doc.get_data());
        if (stored.id != a->id) continue;
        stored.source = a->source;
        doc.set_data(encode_stored(stored));
        doc.add_value(schema::kSlotSource, a->source);
        db.replace_document(docid, doc);
      } catch (const std::runtime_error&) {
        // A damaged stored copy: the job's verification names it; left as it is here.
      } catch (const Xapian::DocNotFoundError&) {
      }
    }
    db.set_metadata(std::string(schema::kMetaSchemaVersion), std::to_string(schema::kSchemaVersion));
    db.set_metadata(std::string(schema::kMetaIndexedAt), now_iso());
    // This commit pairs what it writes: the list holds at its revision.
    if (!pair_words->empty())
      db.set_metadata(std::string(schema::kMetaPairWordsRevision), std::to_string(db.get_revision() + 1));
    db.commit_transaction();
    db.close();
    if (options_.committed) options_.committed();
    record_live_checksums();
    return {};
  }

  // An article the builder refused (a term over Xapian's limit): an error naming it; its
  // indexed version, if any, stays (incremental runs do not replace it).
  void refuse_built(const Article& a, const std::length_error& e) {
    const auto given = given_paths_.find(a.source);
    report_.errors.push_back({given == given_paths_.end() ? a.source : given->second, a.line, e.what(), a.id});
    ++report_.failed;
    uncount(a.id);
  }

  // An article planned as added or updated that was not written after all.
  void uncount(const std::string& id) { --(updating_.contains(id) ? report_.updated : report_.added); }

  // An article the sources did not give this time, into the new generation: rebuilt from its
  // stored copy in the old index, never copied as Xapian data (damage would travel with it).
  // The stored copy is decoded first (its zstd frames carry checksums): a damaged one is left
  // out and reported, naming the article.
  void carry_over(const Xapian::Database& old, const IndexedArticle& held, const std::string& id,
                  DocumentBuilder& builder, Xapian::WritableDatabase& db, std::vector<ReadError>& errors) {
    std::string why;
    try {
      const Xapian::Document doc = old.get_document(held.docid);
      const Article kept = decode_stored(doc.get_data());
      if (kept.id != id) {
        why = "its stored copy is of '" + kept.id + "'";
      } else {
        db.add_document(builder.build(kept, held.hash));
        return;
      }
    } catch (const Xapian::DatabaseCorruptError& e) {
      why = e.get_description();
    } catch (const std::runtime_error& e) {  // zstd and MessagePack errors
      why = e.what();
    }
    errors.push_back({held.source, 0,
                            "article '" + id + "' was not carried over: its copy in the old index is damaged (" + why +
                                ") and its source was not read this time; index its source again",
                            id});
  }

  Result<void> write_generation(const Plan& plan, const Xapian::Database* old,
                                const std::map<std::string, IndexedArticle>& indexed) {
    std::vector<const Article*> articles(plan.write.begin(), plan.write.end());
    articles.insert(articles.end(), plan.unchanged.begin(), plan.unchanged.end());
    return write_parts(
        articles.size(),
        [&](std::size_t i, Article&, std::string& hash) -> const Article& {
          hash = hashes_.at(articles[i]->id);
          return *articles[i];
        },
        plan.keep_as_is, old, indexed);
  }

  // Article i of a full build (0 <= i < count), with its content hash: one already held, or one
  // made into `made`. Called from the parts' threads.
  using ArticleAt = std::function<const Article&(std::size_t i, Article& made, std::string& hash)>;

  // The pair words of a full build, from its first articles (those `at` refuses are skipped).
  schema::PairWords sample_pair_words(std::size_t count, const ArticleAt& at) const {
    std::vector<Article> made(std::min(count, schema::kPairWordSample));
    std::vector<const Article*> sample;
    std::string hash;
    for (std::size_t i = 0; i < made.size(); ++i) {
      try {
        sample.push_back(&at(i, made[i], hash));
      } catch (const std::invalid_argument&) {
      }
    }
    return choose_pair_words(sample, count, analyzer_, options_.pair_word_share, options_.pair_min_articles);
  }

  // A full build: `count` articles from `at`, then those of `keep_as_is` rebuilt from their
  // stored copies in `old`, written as parts in parallel, compacted into a new generation and
  // published.
  Result<void> write_parts(std::size_t count, const ArticleAt& at, const std::vector<std::string>& keep_as_is,
                           const Xapian::Database* old, const std::map<std::string, IndexedArticle>& indexed) {
    if (dir_.is_plain_database()) return std::unexpected(plain_database_refusal(options_.db_path));
    report_.full = true;
    const std::size_t total = count + keep_as_is.size();
    std::size_t parts = options_.write_threads;
    if (parts == 0) parts = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 4);
    if (total < 1000) parts = 1;  // not worth a thread

    // The parts are written in a scratch generation (an interrupted job's leftovers are stale
    // generations, removed by the next job), then compacted into the new generation.
    const fs::path scratch = dir_.next_generation();
    std::error_code ec;
    fs::create_directories(scratch, ec);
    const fs::path generation = dir_.next_generation();
    std::vector<std::vector<ReadError>> part_errors(parts);  // articles refused or not carried over
    std::vector<std::vector<std::string>> refused(parts);    // ids the builder refused
    try {
      const auto pair_words = std::make_shared<const schema::PairWords>(
          options_.pair_words ? *options_.pair_words : kept_pair_words_ ? *kept_pair_words_ : sample_pair_words(count, at));
      std::mutex progress;
      std::size_t done = 0;
      std::vector<std::exception_ptr> failures(parts);
      std::vector<std::thread> writers;
      for (std::size_t p = 0; p < parts; ++p) {
        writers.emplace_back([&, p] {
          try {
            // No fsync: the compacted generation is synced by publish() before the swap.
            Xapian::WritableDatabase db((scratch / fmt::format("part-{}", p)).string(),
                                        Xapian::DB_CREATE | Xapian::DB_NO_SYNC);
            const TextAnalyzer analyzer(analyzer_.options());  // its own stemmer: see text_analyzer.h
            DocumentBuilder builder(analyzer, &db);
            builder.set_pair_words(pair_words);
            auto wrote = [&] {
              std::lock_guard lock(progress);
              written_one(++done, total);
            };
            std::size_t since_commit = 0;
            std::optional<Xapian::Database> own;
            auto old_handle = [&]() -> const Xapian::Database& {
              return p == 0 ? *old : own ? *own : own.emplace(options_.db_path.string());
            };
            Article made;
            std::string hash;
            for (std::size_t i = p; i < count; i += parts) {
              const Article* article = nullptr;
              // Refused; what the old index held of it is rebuilt from its stored copy.
              auto refuse = [&](const std::exception& e) {
                const Article& a = article != nullptr ? *article : made;  // at() refused what it made
                part_errors[p].push_back({a.source, a.line, e.what(), a.id});
                refused[p].push_back(a.id);
                if (old != nullptr && indexed.contains(a.id)) carry_over(old_handle(), indexed.at(a.id), a.id, builder, db, part_errors[p]);
              };
              try {
                article = &at(i, made, hash);
                db.add_document(builder.build(*article, hash));
              } catch (const std::length_error& e) {  // the builder: a term over Xapian's limit
                refuse(e);
              } catch (const std::invalid_argument& e) {  // at(): a made article that fails a check
                refuse(e);
              }
              wrote();
              if (options_.flush_every > 0 && ++since_commit == options_.flush_every) {
                db.commit();  // unsynced: a scratch part, compacted and synced once at the end
                since_commit = 0;
              }
            }
            // Articles whose source could not be read this time stay, rebuilt from their stored
            // copies; each part takes its share, with a handle of its own on the old index
            // (Xapian handles are not thread-safe).
            for (std::size_t i = p; i < keep_as_is.size(); i += parts) {
              const std::string& id = keep_as_is[i];
              carry_over(old_handle(), indexed.at(id), id, builder, db, part_errors[p]);
              wrote();
            }
            if (p == 0) {
              db.set_metadata(std::string(schema::kMetaSchemaVersion), std::to_string(schema::kSchemaVersion));
              db.set_metadata(std::string(schema::kMetaIndexedAt), now_iso());
              db.set_metadata(std::string(schema::kMetaPairWords), schema::encode_pair_words(*pair_words));
              // The new database's revisions count on from the old one's: anything keyed on the
              // revision (a cache, an ETag, a replica) never sees it go back.
              // (When the old index cannot be read, from the revision the last job recorded.)
              const Xapian::rev base = std::max(old != nullptr ? schema::revision(*old) : 0, dir_.recorded_revision());
              if (base > 0) db.set_metadata(std::string(schema::kMetaRevisionBase), std::to_string(base));
            }
            db.commit();
            db.close();
          } catch (...) {
            failures[p] = std::current_exception();
          }
        });
      }
      for (auto& w : writers) w.join();
      for (const auto& f : failures)
        if (f) std::rethrow_exception(f);
      Xapian::Database merged;
      for (std::size_t p = 0; p < parts; ++p) merged.add_database(Xapian::Database((scratch / fmt::format("part-{}", p)).string()));
      merged.compact(generation.string());
      fs::remove_all(scratch, ec);
      if (!pair_words->empty()) {
        // Every article of the generation is paired: vouched for at its revision.
        Xapian::WritableDatabase made(generation.string(), Xapian::DB_OPEN);
        made.set_metadata(std::string(schema::kMetaPairWordsRevision), std::to_string(made.get_revision() + 1));
        made.commit();
      }
    } catch (...) {
      fs::remove_all(scratch, ec);
      fs::remove_all(generation, ec);
      throw;
    }
    if (auto published = dir_.publish(generation); !published) {
      fs::remove_all(generation, ec);
      return published;
    }
    if (options_.committed) options_.committed();
    for (auto& kept : dir_.remove_stale_generations())
      if (std::find(report_.warnings.begin(), report_.warnings.end(), kept) == report_.warnings.end())
        report_.warnings.push_back(std::move(kept));
    record_live_checksums();
    for (auto& part : part_errors)
      for (auto& e : part) {
        report_.errors.push_back(std::move(e));
        ++report_.failed;
      }
    for (const auto& part : refused)
      for (const auto& id : part) uncount(id);
    return {};
  }

  const std::vector<fs::path>& paths_;
  const IndexerOptions& options_;
  IndexDirectory dir_;
  TextAnalyzer analyzer_;
  IndexReport report_;
  std::vector<Article> articles_;
  std::set<std::string> broken_sources_;
  std::optional<schema::PairWords> kept_pair_words_;  // a rewrite of most articles: the index's
  std::vector<std::string> broken_directories_;
  std::vector<std::string> dangling_links_;
  std::map<std::string, std::string> given_paths_;  // ReadBatch::given_paths
  std::map<std::string, std::string> failed_ids_;  // an id a file that failed gives, to that file (as given)
  std::map<std::string, std::string> hashes_;
  bool verified_ = false;  // the old index was verified whole by this job
  std::set<std::string> updating_;  // planned writes that replace an indexed version
};

}  // namespace

namespace {

// How many shards the job writes: what the index has, or what was asked for when it is new.
// Also where the job refuses a --db it must not write, before it writes anything there (its lock
// included).
Result<std::size_t> shard_count(const IndexerOptions& options) {
  if (auto inside = inside_sharded_index(options.db_path)) return std::unexpected(std::move(*inside));
  if (auto replica = replica_of_another_index(options.db_path)) return std::unexpected(std::move(*replica));
  if (auto foreign = foreign_database_problem(options.db_path)) return std::unexpected(std::move(*foreign));
  if (options.full && IndexDirectory(options.db_path).is_plain_database())
    return std::unexpected(plain_database_refusal(options.db_path));
  // A shard missing or one too many is damage an incremental run must not build on (it re-sharded
  // the index into what was left, or counted a copy's articles twice); --full may rebuild over a
  // missing one, never over a folder it would not write.
  if (auto problem = index_layout_problem(options.db_path)) {
    const bool extra = recorded_shard_count(options.db_path) &&
                       fs::exists(shard_dir(options.db_path, *recorded_shard_count(options.db_path)));
    if (!options.full || extra) return std::unexpected(std::move(*problem));
  }
  const std::size_t existing = shard_dirs(options.db_path).size();
  const bool unsharded = live_database_dir(options.db_path).has_value();
  const std::size_t asked = options.shards;
  if (asked == 0) return existing == 0 ? 1 : existing;
  if ((existing != 0 && existing != asked) || (unsharded && asked > 1) || (existing > 1 && asked == 1))
    return fail(ErrorCode::kIo, fmt::format("{} holds an index of {} shard(s), not {}: write a new --db to change the number",
                                            options.db_path.string(), unsharded ? 1 : existing, asked));
  return asked;
}

// DIR/spelling: the shards' spelling data summed into one database without documents, rebuilt
// after each sharded job and swapped in atomically. A search over remote shards (whose spelling
// data Xapian's remote backend does not carry) adds it locally for "did you mean".
Result<void> write_spelling_database(const fs::path& dir, std::size_t shards) {
  const fs::path target = spelling_dir(dir);
  std::error_code ec;
  fs::create_directories(target, ec);
  auto lock = IndexLock::acquire(target);
  if (!lock) return std::unexpected(lock.error());
  IndexDirectory spelling(target);
  spelling.remove_stale_generations();
  const fs::path generation = spelling.next_generation();
  try {
    Xapian::WritableDatabase out(generation.string(), Xapian::DB_CREATE | Xapian::DB_NO_SYNC);
    for (std::size_t i = 0; i < shards; ++i) {
      Xapian::Database shard(shard_dir(dir, i).string());
      for (auto it = shard.spellings_begin(); it != shard.spellings_end(); ++it)
        out.add_spelling(*it, it.get_termfreq());
    }
    out.set_metadata(std::string(schema::kMetaSchemaVersion), std::to_string(schema::kSchemaVersion));
    out.commit();
    const Xapian::rev revision = out.get_revision();
    out.close();
    // As each shard's: `stats` (and a later check) can tell its tables changed since.
    if (auto recorded = record_checksums(generation, revision); !recorded) {
      fs::remove_all(generation, ec);
      return std::unexpected(recorded.error());
    }
  } catch (const Xapian::Error& e) {
    fs::remove_all(generation, ec);
    return fail(ErrorCode::kDatabase, "spelling database " + target.string() + ": " + e.get_description());
  }
  if (auto published = spelling.publish(generation); !published) {
    fs::remove_all(generation, ec);
    return published;
  }
  spelling.remove_stale_generations();
  return {};
}

// One job per shard, in parallel (`job(i, options)` runs shard i's with the options given), their
// reports summed after the read errors every shard was given, and the spelling database rebuilt.
template <typename ShardJob>
Result<IndexReport> run_shards(const IndexerOptions& options, std::size_t shards, const std::vector<ReadError>& read_errors,
                               std::chrono::steady_clock::time_point start, ShardJob job) {
  // The whole sharded index is one job's: each shard's job also locks its own shard, but two
  // sharded jobs that each got some shards first would both commit those and fail on the
  // others (exit 3, "nothing changed", with some shards changed and their changes reported by
  // no run). The lock on DIR itself makes the second job fail before it touches any shard.
  auto whole_index = IndexLock::acquire(options.db_path);
  if (!whole_index) return std::unexpected(whole_index.error());
  // The count, recorded once the shards' folders are there (a job stopped in between left a
  // count with no folder: a lost shard to the next run) and before any shard is written.
  for (std::size_t i = 0; i < shards; ++i) {
    std::error_code ec;
    fs::create_directories(shard_dir(options.db_path, i), ec);
  }
  if (auto recorded = record_shard_count(options.db_path, shards); !recorded) return std::unexpected(recorded.error());
  std::mutex progress_mutex;
  std::vector<std::size_t> done(shards, 0), totals(shards, 0);
  std::vector<Result<IndexReport>> results(shards, fail(ErrorCode::kIo, "not run"));
  std::vector<IndexerOptions> shard_options(shards, options);
  std::vector<std::thread> workers;
  for (std::size_t i = 0; i < shards; ++i) {
    shard_options[i].db_path = shard_dir(options.db_path, i);
    shard_options[i].shards = 0;
    shard_options[i].write_threads = 1;  // the shards are the parallelism
    std::error_code ec;
    fs::create_directories(shard_options[i].db_path, ec);
    if (options.progress) {
      shard_options[i].progress = [&, i](std::size_t d, std::size_t t) {
        std::lock_guard lock(progress_mutex);
        done[i] = d, totals[i] = t;
        options.progress(std::accumulate(done.begin(), done.end(), std::size_t{0}),
                         std::accumulate(totals.begin(), totals.end(), std::size_t{0}));
      };
    }
    workers.emplace_back([&, i] { results[i] = job(i, shard_options[i]); });
  }
  for (auto& w : workers) w.join();

  // Each shard commits on its own (Xapian has no commit across databases): when one fails, the
  // others' commits stand. The error says so, with what they changed, so that no change goes
  // unreported (the next run sees them as unchanged).
  if (const auto failed = std::find_if(results.begin(), results.end(), [](const auto& r) { return !r.has_value(); });
      failed != results.end()) {
    auto e = failed->error();
    e.message = fmt::format("shard {}: {}", failed - results.begin(), e.message);
    std::vector<std::string> committed;
    std::size_t added = 0, updated = 0, deleted = 0;
    for (std::size_t i = 0; i < shards; ++i) {
      if (!results[i]) {
        if (i != static_cast<std::size_t>(failed - results.begin()))
          e.message += fmt::format("; shard {}: {}", i, results[i].error().message);
        continue;
      }
      if (results[i]->added + results[i]->updated + results[i]->deleted == 0) continue;
      committed.push_back(std::to_string(i));
      added += results[i]->added, updated += results[i]->updated, deleted += results[i]->deleted;
    }
    if (!committed.empty()) {
      e.message += fmt::format(" ({} {} committed {} changes all the same: {} added, {} updated, {} deleted; "
                               "once shard {} is mended (or rebuilt with --full), the next run brings the rest up to date)",
                               committed.size() == 1 ? "shard" : "shards", fmt::join(committed, ", "),
                               committed.size() == 1 ? "its" : "their", added, updated, deleted,
                               failed - results.begin());
      // Their words join "did you mean" over remote shards now (DIR/spelling was left as the
      // last run's until a whole job: each failing night, new words went uncorrected), when
      // every shard can still be read (a failed shard keeps its last commit). One that cannot
      // be read leaves DIR/spelling as it was: rebuilt without it, its words would be lost.
      if (auto spelling = write_spelling_database(options.db_path, shards); !spelling)
        e.message += "; the spelling database keeps the last run's words: " + spelling.error().message;
    }
    return std::unexpected(e);
  }
  IndexReport all;
  all.shards = shards;
  all.errors = read_errors;
  std::set<std::string> shard_errors;
  for (std::size_t i = 0; i < shards; ++i) {
    const IndexReport& r = *results[i];
    all.added += r.added, all.updated += r.updated, all.deleted += r.deleted, all.unchanged += r.unchanged;
    // Errors found by the shard itself (duplicate ids) follow the copies of the read errors.
    // Once each (a dangling link keeps articles in several shards).
    for (auto e = r.errors.begin() + static_cast<std::ptrdiff_t>(read_errors.size()); e != r.errors.end(); ++e)
      if (shard_errors.insert(e->where_what() + '\n' + e->id).second) all.errors.push_back(*e);
    all.warnings.insert(all.warnings.end(), r.warnings.begin(), r.warnings.end());
    all.full = all.full || r.full;
    all.records_lost = all.records_lost || r.records_lost;
    // The shards' sum, as stats, /readyz and the searcher's cache count it: it grows with any
    // shard's commit (the largest one did not when another shard changed).
    all.revision += r.revision;
    all.documents += r.documents;
  }
  all.failed = all.errors.size();
  // Every shard has committed: a spelling database that cannot be written (a full disk, a
  // folder made read-only) loses this run's new words for "did you mean" over remote shards, not
  // the run. It was the job's error, exit 2 "nothing changed", after every shard's commit
  // (helper-86: 2,000 updates committed and searchable).
  if (auto spelling = write_spelling_database(options.db_path, shards); !spelling) {
    all.records_lost = true;
    all.warnings.push_back("every shard committed, but the spelling database keeps the last run's words: " +
                           spelling.error().message);
  }
  all.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return all;
}

// One job per shard, in parallel; the batch read once and split by shard_of(id).
Result<IndexReport> apply_sharded(ReadBatch batch, const std::vector<fs::path>& paths,
                                  const IndexerOptions& options, std::size_t shards) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<ReadBatch> parts(shards);
  // Duplicates across the whole batch: a file's indexed article may be in another shard.
  screen_articles(batch, [&](const std::string& id) {
    const fs::path dir = shard_dir(options.db_path, shard_of(id, shards));
    return fs::exists(dir) ? indexed_source_of(dir, id) : std::string();
  });
  for (auto& part : parts) {
    part.errors = batch.errors;  // failed ids and broken sources: every shard keeps what it holds
    part.broken_sources = batch.broken_sources;
    part.broken_directories = batch.broken_directories;
    part.dangling_links = batch.dangling_links;
    part.given_paths = batch.given_paths;
    for (const auto& a : batch.articles) part.yielded.insert(a.source);
  }
  // One list of pair words for every shard (used by those that are built in full).
  IndexerOptions with_pairs = options;
  if (!with_pairs.pair_words) {
    std::vector<const Article*> sample;
    for (std::size_t i = 0; i < batch.articles.size() && i < schema::kPairWordSample; ++i) sample.push_back(&batch.articles[i]);
    with_pairs.pair_words = choose_pair_words(sample, batch.articles.size(), TextAnalyzer(), options.pair_word_share,
                                              options.pair_min_articles);
  }
  for (auto& a : batch.articles) parts[shard_of(a.id, shards)].articles.push_back(std::move(a));
  auto report = run_shards(with_pairs, shards, batch.errors, start, [&](std::size_t i, const IndexerOptions& o) {
    return Job(paths, o).apply(std::move(parts[i]));
  });
  if (report) {
    std::vector<std::string> read;  // the reader's, once (the shards' parts have none)
    for (const auto& w : batch.warnings) read.push_back(w.where_what());
    report->warnings.insert(report->warnings.begin(), read.begin(), read.end());
  }
  return report;
}

}  // namespace

namespace {

// What mssearch keeps in an index folder (one database, sharded, or a plain Xapian one).
bool index_entry(const std::string& name) {
  return name == "XAPIANDB" || name == "iamglass" || name == "shards" || name == "revision" || name == "index.lock" ||
         name == "spelling" || name.starts_with("gen-") || name.starts_with("shard-") || name.ends_with(".glass") ||
         name.starts_with("revision.") || name.starts_with("XAPIANDB.");
}

// The index's folder must be its own: not the folder of articles being indexed (`index c9 --db
// c9` wrote XAPIANDB, gen-* and a lock among the articles, and --full runs made and removed
// folders there), nor one holding other files and no index (a typo'd --db into a site's tree).
// A new or empty folder, or a volume's own lost+found and dot files, is fine.
Result<void> check_index_folder(const std::vector<fs::path>& sources, const fs::path& db) {
  std::error_code ec;
  const fs::path own = fs::weakly_canonical(fs::absolute(db, ec), ec);
  for (const auto& source : sources) {
    std::error_code source_ec;
    if (fs::weakly_canonical(fs::absolute(source, source_ec), source_ec) == own && !source_ec && !ec)
      return fail(ErrorCode::kIo, fmt::format("--db {} is the folder of articles being indexed: give the index a folder "
                                              "of its own (e.g. data/index)", db.string()));
  }
  if (!fs::is_directory(db, ec)) return {};
  std::optional<std::string> other;
  for (const auto& entry : fs::directory_iterator(db, ec)) {
    const std::string name = entry.path().filename().string();
    if (index_entry(name)) return {};
    if (!other && name != "lost+found" && !name.starts_with('.')) other = name;
  }
  if (!other) return {};
  return fail(ErrorCode::kIo, fmt::format("--db {} holds other files ('{}') and no mssearch index: give the index a "
                                          "new or empty folder of its own (e.g. data/index)", db.string(), *other));
}

}  // namespace

Result<IndexReport> run_index_job(const std::vector<fs::path>& sources,
                                  const IndexerOptions& options) {
  if (auto folder = check_index_folder(sources, options.db_path); !folder) return std::unexpected(folder.error());
  auto shards = shard_count(options);
  if (!shards) return std::unexpected(shards.error());
  if (*shards <= 1) return Job(sources, options).run();
  auto batch = read_sources(sources, options.limits);
  if (!batch) return std::unexpected(batch.error());
  return apply_sharded(std::move(*batch), sources, options, *shards);
}

Result<IndexReport> index_articles(std::vector<Article> articles, const IndexerOptions& options) {
  const std::vector<fs::path> no_paths;
  auto shards = shard_count(options);
  if (!shards) return std::unexpected(shards.error());
  ReadBatch batch;
  batch.articles = std::move(articles);
  if (*shards > 1) return apply_sharded(std::move(batch), no_paths, options, *shards);
  return Job(no_paths, options).apply(std::move(batch));
}

Result<IndexReport> index_stream(const ArticleStream& stream, const IndexerOptions& full_options) {
  const auto start = std::chrono::steady_clock::now();
  IndexerOptions options = full_options;
  options.full = true;
  auto shards = shard_count(options);
  if (!shards) return std::unexpected(shards.error());
  const std::vector<fs::path> no_paths;
  std::vector<std::vector<std::size_t>> indices(*shards);
  try {
    for (std::size_t i = 0; i < stream.count; ++i)
      indices[*shards > 1 ? shard_of(stream.id_of(i), *shards) : 0].push_back(i);
  } catch (const std::exception& e) {
    return fail(ErrorCode::kInternal, "index " + options.db_path.string() + ": " + e.what());
  }
  // The pair words, from the first articles (one list for every shard). Each article is made
  // once (ArticleStream's contract): the writing threads are given the sample's articles.
  ArticleStream sampled = stream;
  if (!options.pair_words) {
    auto held = std::make_shared<std::vector<std::optional<Article>>>(std::min(stream.count, schema::kPairWordSample));
    // What make() threw for an article of the sample, thrown again where the writer asks for
    // it: an article the stream refuses (std::invalid_argument, std::length_error) is refused
    // alone, as it is past the sample; anything else ends the job there.
    auto threw = std::make_shared<std::vector<std::exception_ptr>>(held->size());
    std::vector<const Article*> sample;
    for (std::size_t i = 0; i < held->size(); ++i) {
      try {
        sample.push_back(&(*held)[i].emplace(stream.make(i)));
      } catch (...) {
        (*threw)[i] = std::current_exception();
      }
    }
    options.pair_words = choose_pair_words(sample, stream.count, TextAnalyzer(), options.pair_word_share, options.pair_min_articles);
    sampled.make = [held, threw, make = stream.make](std::size_t i) -> Article {
      if (i < held->size() && (*threw)[i]) std::rethrow_exception(std::exchange((*threw)[i], nullptr));
      if (i < held->size() && (*held)[i]) {  // each i is asked for once, by one thread
        Article a = std::move(*(*held)[i]);
        (*held)[i].reset();
        return a;
      }
      return make(i);
    };
  }
  if (*shards <= 1) return Job(no_paths, options).apply_stream(sampled, indices[0]);
  return run_shards(options, *shards, {}, start, [&](std::size_t i, const IndexerOptions& o) {
    return Job(no_paths, o).apply_stream(sampled, indices[i]);
  });
}

}  // namespace mssearch
