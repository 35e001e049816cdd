#include "cluster/http_shard_transport.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <regex>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>
#include <httplib.h>

namespace mssearch {
namespace {

using Clock = std::chrono::steady_clock;

// What every transport of one coordinator shares: which replica of each shard is down until
// when, why, and whose turn is next.
class ReplicaHealth {
 public:
  explicit ReplicaHealth(const ClusterOptions& options) : options_(options) {
    for (const auto& replicas : options.shards) {
      down_until_.emplace_back(replicas.size());
      errors_.emplace_back(replicas.size());
      last_answer_.emplace_back(replicas.size());
      late_.emplace_back(replicas.size(), false);
      behind_.emplace_back(replicas.size(), false);
      probing_.emplace_back(replicas.size(), false);
    }
    turns_ = std::vector<std::atomic<std::size_t>>(options.shards.size());
  }

  const ClusterOptions& options() const { return options_; }
  std::size_t next_turn(std::size_t shard) { return turns_[shard].fetch_add(1, std::memory_order_relaxed); }

  // Whether to send to this replica now. A replica that failed is probed again after
  // retry_seconds by one call only: the others keep skipping it until that call's deadline has
  // passed (a hung replica would otherwise hold every search that arrives while it is probed),
  // unless it is the shard's last and down for lateness only (call() asks it all the same).
  bool use(std::size_t shard, std::size_t replica, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    auto& until = down_until_[shard][replica];
    if (until > now) return false;
    if (!errors_[shard][replica].empty()) {
      const double deadline = options_.connect_timeout_seconds + 2 * options_.timeout_seconds;
      until = now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(deadline));
    }
    return true;
  }
  // Marks the replica down: it refused, reset or broke the call (or was no shard server).
  void failed(std::size_t shard, std::size_t replica, std::string why) {
    std::lock_guard lock(mutex_);
    mark_down(shard, replica, std::move(why), false);
  }
  // Whether the replica is down for missing deadlines only (it took the calls).
  bool late(std::size_t shard, std::size_t replica) const {
    std::lock_guard lock(mutex_);
    return late_[shard][replica];
  }
  // A call sent at `sent` missed its deadline. The replica is marked down (its traffic goes to
  // the others) when another replica of the shard is up, or when it answered no call since this
  // one was sent (hung, or too slow for any answer in time). The last replica of a shard that
  // still answers other calls in time is only slow: marking it down would refuse every search
  // for retry_seconds, including those it would have answered (a loaded machine's shards
  // each missing a deadline now and then took every search down). Returns whether it was.
  bool missed_deadline(std::size_t shard, std::size_t replica, Clock::time_point sent, std::string why) {
    std::lock_guard lock(mutex_);
    if (!other_up_locked(shard, replica) && last_answer_[shard][replica] >= sent) return false;
    mark_down(shard, replica, std::move(why), true);
    return true;
  }
  // Whether another replica of the shard than `replica` is up.
  bool other_up(std::size_t shard, std::size_t replica) const {
    std::lock_guard lock(mutex_);
    return other_up_locked(shard, replica);
  }
  void set_behind(std::size_t shard, std::size_t replica, bool behind) {
    std::lock_guard lock(mutex_);
    behind_[shard][replica] = behind;
  }
  // Whether `replica` is behind (set_behind) while another replica of the shard that is not
  // behind is up: its turn goes to that one.
  bool passed_over(std::size_t shard, std::size_t replica) const {
    std::lock_guard lock(mutex_);
    if (!behind_[shard][replica]) return false;
    const auto now = Clock::now();
    for (std::size_t r = 0; r < down_until_[shard].size(); ++r)
      if (r != replica && !behind_[shard][r] && down_until_[shard][r] <= now && errors_[shard][r].empty()) return true;
    return false;
  }
  void answered(std::size_t shard, std::size_t replica) {
    std::lock_guard lock(mutex_);
    down_until_[shard][replica] = {};
    errors_[shard][replica].clear();
    late_[shard][replica] = false;
    last_answer_[shard][replica] = Clock::now();
  }

  // Whether a probe of the replica may start now (none running): at most one thread a replica.
  bool start_probe(std::size_t shard, std::size_t replica) {
    std::lock_guard lock(mutex_);
    if (probing_[shard][replica]) return false;
    probing_[shard][replica] = true;
    return true;
  }
  void end_probe(std::size_t shard, std::size_t replica) {
    std::lock_guard lock(mutex_);
    probing_[shard][replica] = false;
  }

  // Each failing replica of `shard` with its failure ("URL: why; URL: why"), as status() gives it.
  std::string errors(std::size_t shard) const {
    std::lock_guard lock(mutex_);
    return errors_locked(shard);
  }

  std::vector<ShardStatus> status() const {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    std::vector<ShardStatus> out;
    for (std::size_t s = 0; s < options_.shards.size(); ++s) {
      ShardStatus st;
      st.replicas = options_.shards[s].size();
      for (std::size_t r = 0; r < options_.shards[s].size(); ++r) {
        st.name += (r == 0 ? "" : " | ") + options_.shards[s][r];
        if (down_until_[s][r] <= now) st.up = true;
        if (!errors_[s][r].empty()) ++st.replicas_failing;
      }
      st.error = errors_locked(s);
      out.push_back(std::move(st));
    }
    return out;
  }

 private:
  bool other_up_locked(std::size_t shard, std::size_t replica) const {
    const auto now = Clock::now();
    // Up: not marked down, and not a failed one merely due for its probe (a dead replica past
    // retry_seconds is no replica to send this one's traffic to).
    for (std::size_t r = 0; r < down_until_[shard].size(); ++r)
      if (r != replica && down_until_[shard][r] <= now && errors_[shard][r].empty()) return true;
    return false;
  }
  std::string errors_locked(std::size_t shard) const {
    std::string out;
    for (std::size_t r = 0; r < options_.shards[shard].size(); ++r)
      if (!errors_[shard][r].empty()) out += (out.empty() ? "" : "; ") + options_.shards[shard][r] + ": " + errors_[shard][r];
    return out;
  }
  void mark_down(std::size_t shard, std::size_t replica, std::string why, bool late) {
    down_until_[shard][replica] =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.retry_seconds));
    errors_[shard][replica] = std::move(why);
    late_[shard][replica] = late;
  }

  ClusterOptions options_;
  mutable std::mutex mutex_;
  std::vector<std::vector<Clock::time_point>> down_until_;
  std::vector<std::vector<Clock::time_point>> last_answer_;  // its last answer in time
  std::vector<std::vector<bool>> late_;  // down for missing deadlines only
  std::vector<std::vector<bool>> behind_;  // at an older revision than another replica (set_behind)
  std::vector<std::vector<bool>> probing_;  // a probe apart (probe_apart) is running
  std::vector<std::vector<std::string>> errors_;
  std::vector<std::atomic<std::size_t>> turns_;
};

// The shard's error in an answer (encode_error), if it is one.
std::optional<Error> error_of(const std::string& body) {
  bool damaged = false;
  auto decoded = decode_shard_answer(body, &damaged);
  if (decoded || damaged) return std::nullopt;
  return decoded.error();
}

void set_timeout(double seconds, auto&& setter) {
  const double whole = std::floor(seconds);
  setter(static_cast<time_t>(whole), static_cast<time_t>((seconds - whole) * 1e6));
}

// Probes a replica that is down for missing deadlines (hung) and due for its probe, in a thread
// of its own, while the search that found it due goes to another replica that is up: the search
// probed it and waited its deadline (helper-87: beside a live replica, every other search on a
// quiet site took 2 s while one replica hung). Its info answered in time puts it back; no
// answer marks it down again. At most one probe a replica runs (one that answers a byte at a
// time holds only its own thread).
void probe_apart(const std::shared_ptr<ReplicaHealth>& health, std::size_t shard, std::size_t replica) {
  if (!health->start_probe(shard, replica)) return;
  try {
    std::thread([health, shard, replica] {
      const ClusterOptions& o = health->options();
      try {
        httplib::Client c(o.shards[shard][replica]);
        set_timeout(o.connect_timeout_seconds, [&](time_t s, time_t us) { c.set_connection_timeout(s, us); });
        set_timeout(o.timeout_seconds, [&](time_t s, time_t us) { c.set_read_timeout(s, us); });
        set_timeout(o.timeout_seconds, [&](time_t s, time_t us) { c.set_write_timeout(s, us); });
        httplib::Headers headers;
        if (!o.secret.empty()) headers.emplace("Authorization", "Bearer " + o.secret);
        ShardRequest info;
        info.op = ShardOp::kInfo;
        const auto sent = Clock::now();
        auto res = c.Post(kShardEndpoint, headers, encode(info), "application/x-msgpack");
        const bool in_time = Clock::now() - sent < std::chrono::duration<double>(o.timeout_seconds);
        if (res && res->status == 200 && res->get_header_value("Content-Type") == "application/x-msgpack" && in_time)
          health->answered(shard, replica);
        else if (!res && res.error() == httplib::Error::Connection)
          health->failed(shard, replica, fmt::format("cannot connect (refused, unreachable, or no answer within {:g} s)",
                                                     o.connect_timeout_seconds));
        else if (res && res->status != 200)
          health->failed(shard, replica, "HTTP " + std::to_string(res->status) + " to its probe");
        else
          health->missed_deadline(shard, replica, sent, fmt::format("no answer within {:g} s", o.timeout_seconds));
      } catch (...) {
        // The replica stays as it was marked; its next probe is due after retry_seconds.
      }
      health->end_probe(shard, replica);
    }).detach();
  } catch (const std::system_error&) {
    health->end_probe(shard, replica);  // no thread to be had: probed another time
  }
}

// Stops the shard calls that outlive their deadline, from one thread for all the coordinator's
// transports. Headers are read before cpp-httplib calls any of ask()'s callbacks: a replica
// sending header lines without end held every search for a minute and grew the coordinator by
// 3 GB (helper-81). A thread started for each call to watch it cost as much as the thread per
// round trip the fan-out once had (31 % of the coordinator's time on this machine,
// docs/scaling.md).
class CallWatch {
 public:
  CallWatch() : thread_([this] { run(); }) {}
  ~CallWatch() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  CallWatch(const CallWatch&) = delete;
  CallWatch& operator=(const CallWatch&) = delete;

  // Stops `client`'s call in flight if it still runs at `deadline`, until unwatch(the id).
  std::uint64_t watch(Clock::time_point deadline, httplib::Client& client) {
    std::uint64_t id = 0;
    {
      std::lock_guard lock(mutex_);
      id = ++last_id_;
      calls_.emplace(id, Call{deadline, &client});
    }
    wake_.notify_all();
    return id;
  }
  // Once it returns, the call's client is not stopped by this watch.
  void unwatch(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    calls_.erase(id);
  }

 private:
  struct Call {
    Clock::time_point deadline;
    httplib::Client* client;
  };
  void run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      if (calls_.empty()) {
        wake_.wait(lock);
        continue;
      }
      const auto first = std::min_element(calls_.begin(), calls_.end(), [](const auto& a, const auto& b) {
                           return a.second.deadline < b.second.deadline;
                         })->second.deadline;
      wake_.wait_until(lock, first);
      const auto now = Clock::now();
      for (auto it = calls_.begin(); it != calls_.end();) {
        if (it->second.deadline <= now) {
          it->second.client->stop();  // under the lock: unwatch() has not returned
          it = calls_.erase(it);
        } else {
          ++it;
        }
      }
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::uint64_t last_id_ = 0;
  std::unordered_map<std::uint64_t, Call> calls_;
  std::thread thread_;  // last: started once the rest is built
};

class HttpShardTransport : public ShardTransport {
 public:
  HttpShardTransport(std::shared_ptr<ReplicaHealth> health, std::shared_ptr<StatsCache> cache,
                     std::shared_ptr<CallWatch> watch)
      : health_(std::move(health)), cache_(std::move(cache)), watch_(std::move(watch)) {
    for (const auto& replicas : health_->options().shards) clients_.emplace_back(replicas.size());
    pinned_.assign(clients_.size(), kNone);
    answered_by_.assign(clients_.size(), kNone);
  }
  void begin_search() override {
    std::fill(pinned_.begin(), pinned_.end(), kNone);
    pinning_ = true;
  }
  void end_search() override {
    std::fill(pinned_.begin(), pinned_.end(), kNone);
    pinning_ = false;
  }

  std::size_t shard_count() const override { return clients_.size(); }
  std::vector<ShardStatus> status() const override { return health_->status(); }
  StatsCache& stats_cache() override { return *cache_; }

  Result<std::string> call(std::size_t shard, const std::string& body) override { return call(shard, body, true); }
  Result<std::string> call_if_up(std::size_t shard, const std::string& body) override {
    return call(shard, body, false);
  }
  std::size_t replica_count(std::size_t shard) const override { return clients_[shard].size(); }
  void reject(std::size_t shard, const std::string& why, const std::string& replica) override {
    const std::size_t r = replica.empty() ? answered_by_[shard] : replica_index(shard, replica);
    if (r == kNone) return;
    if (answered_by_[shard] == r) answered_by_[shard] = kNone;
    clients_[shard][r].reset();
    if (pinned_[shard] == r) pinned_[shard] = kNone;
    health_->failed(shard, r, why);
  }
  bool refuse_replica(std::size_t shard, const std::string& why) override {
    const std::size_t r = answered_by_[shard];
    if (r == kNone || !health_->other_up(shard, r)) return false;
    reject(shard, why, "");
    return true;
  }
  void restore(std::size_t shard, const std::string& replica) override {
    if (const std::size_t r = replica_index(shard, replica); r != kNone) health_->answered(shard, r);
  }
  void set_behind(std::size_t shard, const std::string& replica, bool behind) override {
    if (const std::size_t r = replica_index(shard, replica); r != kNone) health_->set_behind(shard, r, behind);
  }
  std::string answered_by(std::size_t shard) const override {
    const std::size_t r = answered_by_[shard];
    return r == kNone ? std::string() : health_->options().shards[shard][r];
  }
  std::vector<std::pair<std::string, Result<std::string>>> call_each(std::size_t shard, const std::string& body,
                                                                     bool if_up) override {
    const auto& replicas = health_->options().shards[shard];
    std::vector<std::pair<std::string, Result<std::string>>> out;
    std::string why;
    bool waited = false;
    const auto now = Clock::now();
    for (std::size_t r = 0; r < replicas.size(); ++r) {
      // `if_up`: one down for missing deadlines (hung) is not asked here, even when due: the
      // refresh before every search would pay its deadline. When due beside a live replica, it is
      // probed apart (a quiet site's /readyz named a replica that had come back until a search
      // came: helper-88); a shard's last replica is probed by the searches, which ask it anyway.
      if (if_up && health_->late(shard, r)) {
        if (health_->other_up(shard, r) && health_->use(shard, r, now)) probe_apart(health_, shard, r);
        continue;
      }
      if (!health_->use(shard, r, now)) continue;
      if (auto answer = ask(shard, r, body, why, waited)) out.emplace_back(replicas[r], std::move(*answer));
    }
    if (out.empty() && if_up)
      out.emplace_back("", fail(ErrorCode::kUnavailable, "shard " + std::to_string(shard) + " did not answer: " +
                                                            (why.empty() ? std::string("its replicas are marked down") : why)));
    else if (out.empty())
      out.emplace_back("", call(shard, body, true));
    return out;
  }

 private:
  // The index of the replica `url` in the shard's list, or kNone.
  std::size_t replica_index(std::size_t shard, const std::string& url) const {
    const auto& replicas = health_->options().shards[shard];
    const auto it = std::find(replicas.begin(), replicas.end(), url);
    return it == replicas.end() ? kNone : static_cast<std::size_t>(it - replicas.begin());
  }

  // `ask_slow`: a replica down for missing deadlines only is asked when no other answered.
  Result<std::string> call(std::size_t shard, const std::string& body, bool ask_slow) {
    const ClusterOptions& o = health_->options();
    const std::size_t n = o.shards[shard].size();
    // Within a search, the replica that answered this shard before (begin_search()).
    const std::size_t first = pinned_[shard] != kNone ? pinned_[shard] : health_->next_turn(shard) % n;
    std::string why;
    std::optional<std::size_t> slow;  // skipped, down for missing deadlines only
    std::optional<std::size_t> old;   // skipped, behind a current replica that is up
    bool waited = false;              // a replica asked here already cost a deadline
    const auto now = Clock::now();
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t r = (first + i) % n;
      // A replica at an older revision answers only when no current one does: taken in turn,
      // the same search gave old and new answers by turns while replication was stuck. (Not
      // within a search that began on it: its match and page come from one index state.)
      if (pinned_[shard] == kNone && health_->passed_over(shard, r)) {
        if (!old) old = r;
        continue;
      }
      // After a replica cost this call a deadline, another that is down for missing deadlines
      // too is not probed (due or not): a shard of hung replicas cost a deadline each.
      if (waited && health_->late(shard, r)) continue;
      if (!health_->use(shard, r, now)) {
        if (!slow && health_->late(shard, r)) slow = r;
        continue;
      }
      // Hung (down for missing deadlines), due for its probe, beside a replica that is up: it is
      // probed apart and this call goes to that one.
      if (pinned_[shard] == kNone && health_->late(shard, r) && health_->other_up(shard, r)) {
        probe_apart(health_, shard, r);
        continue;
      }
      if (auto answer = ask(shard, r, body, why, waited)) {
        if (pinning_) pinned_[shard] = r;
        answered_by_[shard] = r;
        return std::move(*answer);
      }
    }
    // No current replica answered: the one behind (it answers, from an older revision).
    if (old && health_->use(shard, *old, now))
      if (auto answer = ask(shard, *old, body, why, waited)) {
        if (pinning_) pinned_[shard] = *old;
        answered_by_[shard] = *old;
        return std::move(*answer);
      }
    // No replica answered, but one that only missed deadlines (it is reachable): asked all the
    // same, as a load balancer in panic routes to every host. Skipping it would refuse every
    // search for retry_seconds although it answers many in time; this one gets a late or no
    // answer. Also after replicas that failed at once (a dead one's probe), not after one that
    // already cost this call a deadline.
    if (slow && !waited && ask_slow)
      if (auto answer = ask(shard, *slow, body, why, waited)) {
        if (pinning_) pinned_[shard] = *slow;
        answered_by_[shard] = *slow;
        return std::move(*answer);
      }
    if (why.empty()) {
      // Each replica's own failure, as /readyz gives it: "every replica is marked down" alone
      // hid a shard server of another version whose only replica it was.
      const std::string failures = health_->errors(shard);
      why = fmt::format("every replica is marked down (tried again {:g} s after it failed){}", o.retry_seconds,
                        failures.empty() ? "" : ": " + failures);
    }
    return fail(ErrorCode::kUnavailable, "shard " + std::to_string(shard) + " did not answer: " + why);
  }

  // Sends `body` to one replica: its answer (or the request's own fault), or nothing when the
  // replica failed, which is marked down and added to `why`.
  // `waited` is set when it missed the deadline.
  std::optional<Result<std::string>> ask(std::size_t shard, std::size_t r, const std::string& body, std::string& why,
                                         bool& waited) {
    const ClusterOptions& o = health_->options();
    const auto& replicas = o.shards[shard];
    httplib::Request request;
    request.method = "POST";
    request.path = kShardEndpoint;
    if (!o.secret.empty()) request.headers.emplace("Authorization", "Bearer " + o.secret);
    request.headers.emplace("Content-Type", "application/x-msgpack");
    request.body = body;
    const bool reused = clients_[shard][r] != nullptr;
    auto sent = Clock::now();
    // The deadline is the whole answer's: cpp-httplib's read timeout bounds each read only, and
    // an answer that comes a byte at a time (a slow host, a lossy link) held a search for a
    // minute. The body's reader calls this with each part; false cancels the call.
    // The body is read here, not by cpp-httplib into the response: its progress callback is
    // called for a body of a declared length only, so an answer sent chunked, or without a
    // length until the connection closed, a byte at a time, held every search for a minute,
    // and an endless one grew the coordinator by 2 GB in 16 s. Each part read is checked
    // against the deadline and the protocol's bound on an answer's size.
    const auto deadline = std::chrono::duration<double>(o.timeout_seconds);
    std::string answer;
    bool oversized = false;
    request.response_handler = [&sent, deadline](const httplib::Response&) { return Clock::now() - sent < deadline; };
    request.content_receiver = [&](const char* data, std::size_t length, std::uint64_t, std::uint64_t) {
      if (answer.size() + length > kMaxShardAnswerBytes) {
        oversized = true;
        return false;
      }
      answer.append(data, length);
      return Clock::now() - sent < deadline;
    };
    // Headers are read before either callback runs: the watch shuts the connection down when
    // the deadline has passed with the call still running (CallWatch).
    const auto send = [&](httplib::Client& c) {
      struct Watched {
        CallWatch& watch;
        std::uint64_t id;
        ~Watched() { watch.unwatch(id); }  // also when send throws: the client may be freed after
      } watched{*watch_, watch_->watch(sent + std::chrono::duration_cast<Clock::duration>(deadline) +
                                           std::chrono::milliseconds(100), c)};
      return c.send(request);
    };
    auto res = send(client(shard, r));
    // A call that failed at once was refused or closed by the replica; one that failed after
    // half the deadline timed out (and a new connection would wait as long again).
    auto at_once = [&] { return Clock::now() - sent < std::chrono::duration<double>(o.timeout_seconds / 2); };
    if (!res && reused && at_once() && res.error() != httplib::Error::Connection) {
      // A kept connection the replica had closed (its idle timeout): once more on a new one.
      clients_[shard][r].reset();
      sent = Clock::now();
      answer.clear();
      res = send(client(shard, r));
    }
    if (res) res->body = std::move(answer);
    std::string failure;
    bool late = false;  // sent, and no answer within the deadline
    if (!res && oversized) {
      failure = fmt::format("an answer larger than the protocol's {} MiB", kMaxShardAnswerBytes >> 20);
    } else if (!res) {
      // cpp-httplib's names ("Connection", "Read") say little in /readyz and the logs.
      switch (res.error()) {
        case httplib::Error::Connection:
          failure = "cannot connect (refused, unreachable, or no answer within " +
                    fmt::format("{:g}", o.connect_timeout_seconds) + " s)";
          break;
        case httplib::Error::Read: failure = "the connection broke while reading the answer"; break;
        case httplib::Error::Write: failure = "the connection broke while sending the request"; break;
        default: failure = httplib::to_string(res.error());
      }
      late = res.error() == httplib::Error::Canceled ||
             (!at_once() && (res.error() == httplib::Error::Read || res.error() == httplib::Error::Write));
      if (late) failure = fmt::format("no answer within {:g} s", o.timeout_seconds);
      waited = waited || late;
    } else if (res->get_header_value("Content-Type") != "application/x-msgpack" &&
               (res->status == 200 || res->status == 400 || res->status == 404)) {
      // Not the shard protocol's answer (a public server's 404 "no route", a web server): a
      // replica that is no shard server is down, not a shard that refuses every request.
      failure = "HTTP " + std::to_string(res->status) + " without a shard answer (is it serve --shard-server?)";
    } else if (auto refusal = res->status == 200 ? std::optional<Error>() : error_of(res->body);
               refusal && refusal->code == ErrorCode::kSchemaMismatch) {
      // Another mssearch (a rolling upgrade; an older shard server answers this with 400): this
      // replica's failure, not the visitor's.
      failure = "HTTP " + std::to_string(res->status) + ": " + refusal->message;
    } else if (res->status == 500 && refusal && refusal->code == ErrorCode::kInternal &&
               res->get_header_value("Content-Type") == "application/x-msgpack") {
      // A shard server that could not put its answer into the protocol (encode_checked): this
      // request's failure on this shard, which every replica would give alike; the replica is up.
      health_->answered(shard, r);
      return std::move(res->body);
    } else if (res->status == 200 || res->status == 400 || res->status == 404) {
      // 400 and 404 carry the shard's answer that the request is at fault (encode_error).
      health_->answered(shard, r);
      return std::move(res->body);
    } else if (res->status == 413 || res->status == 414 || res->status == 431) {
      // Too large for the replica's limits: this request's fault, which every replica would
      // refuse alike, not the replica's (marking it down would fail every other search).
      health_->answered(shard, r);
      // The visitor's error: it names no shard server (their addresses are the operator's).
      return fail(ErrorCode::kBadQuery, "the search is too large for the shard servers (HTTP " +
                                            std::to_string(res->status) + "): make it shorter");
    } else {
      failure = "HTTP " + std::to_string(res->status);
      if (auto why_refused = error_of(res->body)) failure += ": " + why_refused->message;
    }
    // Down (refused, reset, 5xx; late, unless only slow): its connection is dropped (a late
    // answer would come on it), the next replica asked.
    clients_[shard][r].reset();
    if (!late) health_->failed(shard, r, failure);
    else if (!health_->missed_deadline(shard, r, sent, failure)) failure += " (kept up: it answers other calls in time)";
    why += (why.empty() ? "" : "; ") + replicas[r] + ": " + failure;
    return std::nullopt;
  }

  httplib::Client& client(std::size_t shard, std::size_t replica) {
    auto& c = clients_[shard][replica];
    if (!c) {
      const ClusterOptions& o = health_->options();
      c = std::make_unique<httplib::Client>(o.shards[shard][replica]);
      c->set_keep_alive(true);
      c->set_tcp_nodelay(true);  // a request is written in parts: no waiting for the ACK of the first
      set_timeout(o.connect_timeout_seconds, [&](time_t s, time_t us) { c->set_connection_timeout(s, us); });
      set_timeout(o.timeout_seconds, [&](time_t s, time_t us) { c->set_read_timeout(s, us); });
      set_timeout(o.timeout_seconds, [&](time_t s, time_t us) { c->set_write_timeout(s, us); });
    }
    return *c;
  }

  std::shared_ptr<ReplicaHealth> health_;
  std::shared_ptr<StatsCache> cache_;
  std::shared_ptr<CallWatch> watch_;
  std::vector<std::vector<std::unique_ptr<httplib::Client>>> clients_;
  // Each shard's replica for the rest of this search (kNone: its turn). One thread per shard
  // at a time uses a shard's slot.
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::vector<std::size_t> pinned_;
  std::vector<std::size_t> answered_by_;  // each shard's replica that gave its last answer (reject())
  bool pinning_ = false;  // between begin_search() and end_search()
};

}  // namespace

std::vector<std::string> parse_shard_replicas(std::string_view list) {
  std::vector<std::string> replicas;
  for (std::size_t at = 0; at < list.size();) {
    const std::size_t comma = std::min(list.find(',', at), list.size());
    replicas.emplace_back(list.substr(at, comma - at));
    at = comma + 1;
  }
  // A comma last names an empty replica too (refused by check_cluster_options), not none: a
  // replica left out of `URL,URL` is a mistake to name.
  if (!list.empty() && list.back() == ',') replicas.emplace_back();
  return replicas;
}

// Longer than any http://HOST:PORT (a host name is at most 253 characters).
constexpr std::size_t kMaxReplicaUrl = 300;
constexpr std::size_t kMaxShards = 256, kMaxReplicas = 16;

Result<void> check_cluster_options(const ClusterOptions& options, ClusterProblemAt* at) {
  ClusterProblemAt ignored;
  if (at == nullptr) at = &ignored;
  if (options.shards.empty()) return fail(ErrorCode::kIo, "no shards");
  // Each search holds a thread per shard in every one of the server's searchers, for as long as
  // it runs: a list of thousands (a generated config gone wrong) would start thousands each.
  if (options.shards.size() > kMaxShards)
    return fail(ErrorCode::kIo, std::to_string(options.shards.size()) + " shards: at most " +
                                    std::to_string(kMaxShards) + " (give each shard server more articles)");
  static const std::regex url(R"(http://[A-Za-z0-9._-]+(:([0-9]{1,5}))?|http://\[[0-9A-Fa-f:.]+\](:([0-9]{1,5}))?)");
  std::vector<std::string> seen;
  for (std::size_t s = 0; s < options.shards.size(); ++s) {
    *at = {s};
    if (options.shards[s].empty()) return fail(ErrorCode::kIo, "shard " + std::to_string(s) + " lists no replica");
    if (options.shards[s].size() > kMaxReplicas)
      return fail(ErrorCode::kIo, "shard " + std::to_string(s) + " lists " + std::to_string(options.shards[s].size()) +
                                      " replicas: at most " + std::to_string(kMaxReplicas));
    for (const auto& u : options.shards[s]) {
      at->replica = static_cast<std::size_t>(&u - options.shards[s].data());
      // Checked before the pattern: libstdc++'s std::regex recurses once per character, and a
      // name of some ten thousand characters overflowed the stack (a crash, not this error).
      if (u.size() > kMaxReplicaUrl)
        return fail(ErrorCode::kIo, "shard replica '" + u.substr(0, 60) + "…' is longer than " +
                                        std::to_string(kMaxReplicaUrl) + " characters");
      if (u.empty())
        return fail(ErrorCode::kIo, "shard " + std::to_string(s) + " lists an empty replica (a comma with no URL after it?)");
      std::smatch m;
      if (!std::regex_match(u, m, url))
        return fail(ErrorCode::kIo, "shard replica '" + u + "' is not http://HOST:PORT");
      const std::string port = m[2].matched ? m[2].str() : m[4].str();
      if (!port.empty() && (std::stoul(port) == 0 || std::stoul(port) > 65535))
        return fail(ErrorCode::kIo, "shard replica '" + u + "': the port must be from 1 to 65535");
      // The same server twice would count its articles twice (or make a shard its own replica):
      // compared as host (in any case) and port (08101 is 8101, none is 80).
      std::string host = u.substr(7, u.size() - 7 - (port.empty() ? 0 : port.size() + 1));
      std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) { return std::tolower(c); });
      const std::string server = host + ':' + std::to_string(port.empty() ? 80 : std::stoul(port));
      if (std::find(seen.begin(), seen.end(), server) != seen.end())
        return fail(ErrorCode::kIo, "shard replica '" + u + "' is listed twice");
      seen.push_back(server);
    }
  }
  *at = {};
  if (!(options.timeout_seconds > 0) || !(options.connect_timeout_seconds > 0) || !(options.retry_seconds >= 0))
    return fail(ErrorCode::kIo, "shard timeouts must be more than 0");
  return {};
}

std::function<std::unique_ptr<ShardTransport>()> http_shard_transports(const ClusterOptions& options) {
  auto health = std::make_shared<ReplicaHealth>(options);
  auto cache = std::make_shared<StatsCache>();
  auto watch = std::make_shared<CallWatch>();
  return [health, cache, watch]() -> std::unique_ptr<ShardTransport> {
    return std::make_unique<HttpShardTransport>(health, cache, watch);
  };
}

}  // namespace mssearch
