#include "searcher/shard_set.h"

#include <algorithm>
#include <charconv>
#include <thread>

#include "schema/index_path.h"
#include "schema/schema.h"

namespace mssearch {
namespace {

using Clock = std::chrono::steady_clock;

unsigned milliseconds(double seconds) { return static_cast<unsigned>(seconds * 1000); }

// A remote shard's error as Xapian describes it, without a context that is the far server's own
// (the path of the database xapian-tcpsrv serves, which /readyz showed: `context was:
// sh/shard-01`; helper-101): a context naming the connection (`remote:tcp(…)`) is kept.
std::string described(const Xapian::Error& e, const std::string& spec) {
  if (!is_remote_spec(spec)) return e.get_description();
  std::string out = std::string(e.get_type()) + ": " + e.get_msg();
  const std::string& context = e.get_context();
  if (!context.empty() && context.starts_with("remote:")) out += " (context: " + context + ")";
  if (const char* why = e.get_error_string(); why != nullptr && *why != '\0') out += std::string(" (") + why + ")";
  return out;
}

// How long a request waits for a remote shard's reconnect it started, for a shard that was down
// or did not answer in time (hung): one that answers again does so in this time on a local
// network, and a hung one is left to its thread. A connection that failed otherwise (one
// xapian-tcpsrv closed, idle) is waited for as long as connecting may take: its server answers.
constexpr auto kRetryWait = std::chrono::milliseconds(100);

// tcp://HOST:PORT -> (host, port)
std::optional<std::pair<std::string, unsigned>> parse_remote(const std::string& spec) {
  const std::string rest = spec.substr(6);
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  unsigned port = 0;
  const char* end = rest.data() + rest.size();
  auto [p, ec] = std::from_chars(rest.data() + colon + 1, end, port);
  if (ec != std::errc() || p != end || port == 0 || port > 65535) return std::nullopt;
  return std::pair{rest.substr(0, colon), port};
}

// A local database's path for comparing with another's: absolute, `.`, `..` and symlinks
// resolved as far as the path exists, no trailing slash.
std::filesystem::path comparable_path(const std::string& spec) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::weakly_canonical(spec, ec);
  if (ec) p = std::filesystem::absolute(spec, ec).lexically_normal();
  if (!p.has_filename() && p.has_parent_path() && p != p.root_path()) p = p.parent_path();
  return p;
}

}  // namespace

std::optional<SameDatabase> same_database_twice(const std::vector<std::string>& specs) {
  // Each spec's path, and for a sharded directory (`index --shards N`) its shards' too: DIR and
  // DIR/shard-00 given together searched that shard twice (63 hits for "ms" where one index has 49).
  std::vector<std::filesystem::path> paths;
  std::vector<std::vector<std::filesystem::path>> shards(specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const std::string& spec = specs[i];
    const bool local = !is_remote_spec(spec) && !spec.empty();
    paths.push_back(local ? comparable_path(spec) : std::filesystem::path());
    if (local && !live_database_dir(spec))
      for (const auto& dir : shard_dirs(spec)) shards[i].push_back(comparable_path(dir.string()));
  }
  auto same_path = [](const std::filesystem::path& a, const std::filesystem::path& b) {
    std::error_code ec;  // equivalent(): a bind mount too; an error (a path not there) is "not shown the same"
    return !a.empty() && !b.empty() && (a == b || std::filesystem::equivalent(a, b, ec));
  };
  // A shard of the sharded directory `whole` that `part` names.
  auto shard_of = [&](std::size_t whole, std::size_t part) {
    return std::any_of(shards[whole].begin(), shards[whole].end(),
                       [&](const std::filesystem::path& s) { return same_path(s, paths[part]); });
  };
  for (std::size_t i = 0; i < specs.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      std::string what;
      if (is_remote_spec(specs[i]) || is_remote_spec(specs[j])) {
        if (specs[i] == specs[j]) what = "'" + specs[i] + "' is given twice";
      } else if (same_path(paths[i], paths[j])) {
        what = specs[i] == specs[j]
                   ? "'" + specs[i] + "' is given twice"
                   : "'" + specs[j] + "' and '" + specs[i] + "' are one database (" + paths[i].string() + ")";
      } else if (shard_of(j, i) || shard_of(i, j)) {
        const bool first_whole = shard_of(j, i);
        what = "'" + specs[first_whole ? i : j] + "' is a shard of the sharded index '" + specs[first_whole ? j : i] +
               "', given too";
      }
      if (what.empty()) continue;
      return SameDatabase{j, i, what + ": searched twice, its articles would be counted twice; give it once"};
    }
  }
  return std::nullopt;
}

ShardSet::ShardSet(std::vector<Shard> shards, const RemoteOptions& remote)
    : shards_(std::move(shards)), remote_(remote) {
  rebuild();
}

Result<Xapian::Database> ShardSet::open_one(Shard& shard) const {
  if (!is_remote_spec(shard.spec)) {
    // The shard's parts, directories and identity change only once all of it opened: a shard
    // that fails to reopen keeps what its combined database still reads.
    if (auto problem = index_layout_problem(shard.spec)) return std::unexpected(std::move(*problem));
    const std::string identity = index_identity(shard.spec);
    std::vector<std::filesystem::path> dirs =
        live_database_dir(shard.spec) ? std::vector<std::filesystem::path>{} : shard_dirs(shard.spec);
    std::vector<Xapian::Database> parts;
    Xapian::Database all;
    const bool sharded = !dirs.empty();
    if (!sharded) {
      auto db = open_index(shard.spec);
      if (!db) return db;
      all = *db;
      parts = {*db};
      dirs = {shard.spec};
    } else {
      // A sharded directory: each shard opened on its own (as open_index() would), so that its
      // revision can be read (a combined database has none) and its parts counted apart.
      for (const auto& dir : dirs) {
        auto one = open_index(dir);
        if (!one) return one;
        all.add_database(*one);
        parts.push_back(*one);
      }
    }
    shard.identity = identity;
    shard.sharded = sharded;
    shard.parts = std::move(parts);
    shard.part_dirs = std::move(dirs);
    if (shard.sharded) {
      open_spelling(shard);
    } else {
      shard.spelling.reset();
      shard.spelling_identity.clear();
    }
    return all;
  }
  return open_remote(shard.spec, remote_);
}

Result<Xapian::Database> ShardSet::open_remote(const std::string& spec, const RemoteOptions& remote) {
  auto address = parse_remote(spec);
  if (!address) return fail(ErrorCode::kIo, "bad remote shard '" + spec + "': expected tcp://HOST:PORT");
  try {
    Xapian::Database db = Xapian::Remote::open(address->first, address->second,
                                               milliseconds(remote.timeout_seconds),
                                               milliseconds(remote.connect_timeout_seconds));
    if (schema::is_foreign_database(db)) return std::unexpected(schema::foreign_database_error("shard " + spec));
    if (auto ok = schema::check_version(db); !ok) return std::unexpected(ok.error());
    return db;
  } catch (const Xapian::Error& e) {
    return fail(schema::error_code_of(e), "shard " + spec + ": " + described(e, spec));
  }
}

std::chrono::milliseconds ShardSet::connecting() const {
  return std::chrono::milliseconds(milliseconds(remote_.connect_timeout_seconds) + milliseconds(remote_.timeout_seconds));
}

void ShardSet::start_reconnect(Shard& shard, std::chrono::milliseconds wait) const {
  if (shard.reconnect) return;
  // The thread reads its own copies; the database it makes is this set's once taken (a handle
  // used by one thread at a time).
  // A detached thread, not std::async: that future's destructor waits for the thread, and a
  // set dropped (a searcher replaced) would wait out the hung server's timeout after all.
  auto promise = std::make_shared<std::promise<Result<Xapian::Database>>>();
  shard.reconnect = std::make_shared<std::future<Result<Xapian::Database>>>(promise->get_future());
  std::thread([promise, spec = shard.spec, remote = remote_] { promise->set_value(open_remote(spec, remote)); }).detach();
  shard.reconnect->wait_for(wait);
}

bool ShardSet::take_reconnect(Shard& shard, Clock::time_point now) const {
  if (!shard.reconnect || shard.reconnect->wait_for(std::chrono::seconds(0)) != std::future_status::ready) return false;
  auto db = shard.reconnect->get();
  shard.reconnect.reset();
  if (db) {
    shard.db = std::move(*db);
    return true;
  }
  shard.identity = db.error().message;
  shard.next_try = now + std::chrono::milliseconds(milliseconds(remote_.retry_seconds));
  return false;
}

void ShardSet::open_spelling(Shard& shard) {
  const std::filesystem::path dir = spelling_dir(shard.spec);
  shard.spelling_identity = index_identity(dir);
  // None (an index written before DIR/spelling was, or a first job not yet past it) or one that
  // cannot be read: the shards' own spelling data, as before; refresh() takes it up once it is
  // there (`check` names one that is damaged).
  auto db = open_index(dir);
  if (db) shard.spelling = std::move(*db);
  else shard.spelling.reset();
  shard.spelling_damage.clear();
}

Result<ShardSet> ShardSet::open(const std::vector<std::string>& specs, const RemoteOptions& remote) {
  if (specs.empty()) return fail(ErrorCode::kIo, "no databases configured");
  std::vector<Shard> shards;
  std::vector<ShardStatus> down;
  ShardSet probe({}, remote);
  std::optional<Error> last_error;
  for (const auto& spec : specs) {
    Shard shard;
    shard.spec = spec;
    auto db = probe.open_one(shard);
    if (db) {
      shard.db = std::move(*db);
    } else {
      // One database: its own error is the answer. Several: serve what can be served.
      if (specs.size() == 1) return std::unexpected(db.error());
      last_error = db.error();
      shard.identity = db.error().message;  // kept as the reason until it is up
      shard.next_try = Clock::now() + std::chrono::milliseconds(milliseconds(remote.retry_seconds));
    }
    shards.push_back(std::move(shard));
  }
  ShardSet set(std::move(shards), remote);
  if (set.failed().size() == specs.size())
    return fail(ErrorCode::kDatabase, "no shard could be opened; last error: " + last_error->message);
  return set;
}

void ShardSet::rebuild() {
  combined_ = Xapian::Database();
  status_.clear();
  for (const auto& s : shards_) {
    if (s.db) combined_.add_database(*s.db);
    status_.push_back({s.spec, s.db.has_value(), s.db ? "" : s.identity});
  }
}

bool ShardSet::partial() const {
  for (const auto& s : status_)
    if (!s.up) return true;
  return false;
}

std::vector<std::string> ShardSet::failed() const {
  std::vector<std::string> out;
  for (const auto& s : status_)
    if (!s.up) out.push_back(s.name);
  return out;
}

Xapian::rev ShardSet::revision() const {
  Xapian::rev sum = 0;
  for (const auto& s : shards_) {
    if (!s.db) continue;
    try {
      if (!is_remote_spec(s.spec) && s.parts.size() > 1) {
        // A local sharded directory: a combined database has no revision; its shards' sum
        // grows with any shard's commit.
        for (const auto& part : s.parts) sum += schema::revision(part);
        continue;
      }
      sum += schema::revision(*s.db);
    } catch (const Xapian::Error&) {
      // A remote shard that does not report one.
    }
  }
  return sum;
}

std::vector<ShardRevision> ShardSet::local_parts() const {
  std::vector<ShardRevision> out;
  for (const auto& s : shards_) {
    if (!s.db) continue;  // not in the combined database either
    if (is_remote_spec(s.spec)) return {};
    for (std::size_t i = 0; i < s.parts.size(); ++i)
      out.push_back({s.part_dirs[i], s.parts[i].get_revision(), s.parts[i].get_uuid()});
  }
  return out;
}

Xapian::Database ShardSet::spelling(const std::string& only) const {
  Xapian::Database out;
  for (const auto& s : shards_)
    if (s.db && !only.empty() && s.spec == only) return *s.db;
  for (const auto& s : shards_) {
    if (!s.db || is_remote_spec(s.spec)) continue;  // a remote shard carries no spelling data
    out.add_database(s.spelling && s.spelling_damage.empty() ? *s.spelling : *s.db);
  }
  return out;
}

std::vector<std::filesystem::path> ShardSet::spelling_damaged(const std::string& why, const std::string& only) {
  std::vector<std::filesystem::path> out;
  for (const auto& s : shards_)
    if (s.db && !only.empty() && s.spec == only) return out;  // read alone: no DIR/spelling was
  // Which of several DIR/spelling failed, Xapian does not say: each is left out (their shards'
  // own data answers as it did before DIR/spelling was written).
  for (auto& s : shards_) {
    if (!s.db || is_remote_spec(s.spec) || !s.spelling) continue;
    if (s.spelling_damage.empty()) s.spelling_damage = why;
    out.push_back(spelling_dir(s.spec));
  }
  return out;
}

std::optional<schema::PairWords> ShardSet::common_pair_words() const {
  std::optional<schema::PairWords> words;
  for (const auto& s : shards_) {
    if (!s.db) continue;
    if (is_remote_spec(s.spec)) return std::nullopt;
    for (const auto& part : s.parts) {
      schema::PairWords w = schema::pair_words_of(part);
      if (words && *words != w) return std::nullopt;
      words = std::move(w);
    }
  }
  return words;
}

Result<bool> ShardSet::refresh() {
  bool changed = false;
  const auto now = Clock::now();
  for (auto& s : shards_) {
    if (!s.db && is_remote_spec(s.spec)) {
      // Connected in a thread of its own: a request never waits out a hung server's timeout.
      if (!s.reconnect && now >= s.next_try) start_reconnect(s, kRetryWait);
      if (take_reconnect(s, now)) changed = true;
      continue;
    }
    if (!s.db) {
      if (now < s.next_try) continue;
      auto db = open_one(s);
      if (db) {
        s.db = std::move(*db);
        changed = true;
      } else {
        s.identity = db.error().message;
        s.next_try = now + std::chrono::milliseconds(milliseconds(remote_.retry_seconds));
      }
      continue;
    }
    try {
      if (!is_remote_spec(s.spec) && index_identity(s.spec) != s.identity) {
        // A --full rebuild swapped a new generation in: reopen() does not follow that.
        auto db = open_one(s);
        if (!db) {
          if (shards_.size() == 1) return std::unexpected(db.error());
          continue;
        }
        s.db = std::move(*db);
        changed = true;
      } else if (s.db->reopen()) {
        changed = true;
      }
      // The index job rebuilds DIR/spelling after the shards commit, as a new generation.
      if (s.sharded && index_identity(spelling_dir(s.spec)) != s.spelling_identity) {
        open_spelling(s);
        changed = true;
      }
    } catch (const Xapian::NetworkError& e) {
      // A connection xapian-tcpsrv closed (its --idle-timeout, 60 s by default, on a quiet
      // site) is no dead server: connected again at once. It was marked down until the retry
      // time, and with every shard's connection idle alike the next searches were 503. A
      // server that did not answer in time (hung) is connected again in a thread of its own.
      s.db.reset();
      changed = true;
      s.identity = "shard " + s.spec + ": " + described(e, s.spec);  // until the reconnect's outcome
      const bool hung = std::string_view(e.get_type()) == "NetworkTimeoutError";
      start_reconnect(s, hung ? kRetryWait : connecting());
      take_reconnect(s, now);
    } catch (const Xapian::Error& e) {
      if (shards_.size() == 1) return fail(schema::error_code_of(e), "reopening index " + s.spec + ": " + described(e, s.spec));
      s.db.reset();
      s.identity = "shard " + s.spec + ": " + described(e, s.spec);
      changed = true;
    }
  }
  // Reopening a sub-database does not reach the combined handle: rebuild it.
  if (changed) rebuild();
  note_errors();
  return changed;
}

void ShardSet::note_errors() {
  // A shard still down says its last attempt's error (a hung server's timeout stayed named
  // after it was killed and nothing listened; helper-101).
  for (std::size_t i = 0; i < shards_.size() && i < status_.size(); ++i)
    if (!shards_[i].db) status_[i].error = shards_[i].identity;
}

bool ShardSet::drop_failed_shards() {
  bool changed = false;
  const auto now = Clock::now();
  // After a network error the old connections are unusable (which one failed, Xapian does not
  // say): new ones are opened, all at once, each in a thread of its own, and waited for a while
  // (a hung server's timeout is not waited out again); one not made by then is left out until
  // it is.
  std::vector<Shard*> remote;
  for (auto& s : shards_) {
    if (!s.db || !is_remote_spec(s.spec)) continue;
    s.db.reset();
    start_reconnect(s, std::chrono::milliseconds(0));
    remote.push_back(&s);
    changed = true;
  }
  // As long as a connection may take to be made (the old ones' servers answered), not the
  // answers' timeout a hung server waits out.
  const auto deadline = now + std::chrono::milliseconds(milliseconds(remote_.connect_timeout_seconds));
  for (Shard* s : remote) {
    s->reconnect->wait_until(deadline);
    take_reconnect(*s, now);
  }
  if (changed) rebuild();
  return changed;
}

}  // namespace mssearch
