#include "server/connection_gate.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "schema/utf8.h"
#include "server/access_log.h"

namespace mssearch {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::size_t kReadChunk = 16 * 1024;
// Deadlines are seconds long; checking them ten times a second is plenty.
constexpr milliseconds kSweepInterval{100};
// A connection closed after an answer is first shut for writing and drained (up to this long,
// up to this many bytes): closing a socket with unread bytes sends a reset, which can destroy
// the answer before the client reads it (nginx's "lingering close").
constexpr milliseconds kLingerTime{2000};
constexpr std::size_t kLingerBytes = 1 << 20;
// Pipelined requests a worker serves in a row before the connection queues again behind the
// others, so one client cannot keep a worker to itself.
constexpr std::size_t kPipelineBatch = 4;
// An answer is far smaller (a page of 100 hits is ~100 KB); past this, something is wrong.
constexpr std::size_t kMaxPendingOutput = 8 << 20;
// When the connection table is full, a connection still sending its request may be closed to
// make room, but only once its request has taken this long (a slow one, not one in progress).
constexpr milliseconds kEvictableAfter{1000};

enum class State {
  kIdle,     // waiting for a request (a new connection, or keep-alive between requests)
  kReading,  // part of a request has arrived
  kQueued,   // a whole request is with the workers
  kWriting,  // the rest of an answer the socket could not take at once is being sent
  kLinger,   // answered and shut for writing: draining until the client closes
};

struct Connection {
  int fd = -1;
  std::string peer_ip, local_ip;
  int peer_port = 0, local_port = 0;
  std::string buffer;  // bytes read and not yet served
  std::string output;  // answer bytes the socket has not taken yet (sent by the event thread)
  std::size_t output_sent = 0;
  bool close_after_output = false;
  State state = State::kIdle;
  bool fresh = true;   // no request yet: silence is cut at the request deadline, not keep-alive's
  // kIdle: idle since; kReading: the request's first byte; kWriting: the answer was ready;
  // kLinger: shut for writing.
  Clock::time_point since;
  std::size_t served = 0;   // requests answered on this connection
  std::size_t drained = 0;  // kLinger: bytes discarded
};

// What a worker asks the event thread to do with a connection it gives back.
enum class After {
  kWait,     // wait for (the rest of) the next request, or send what is left of the answer
  kClose,    // close gracefully once the answer is sent
  kAbort,    // the answer could not be written (the client went away): close at once
  kWaiting,  // answered, nothing left over: the worker has set it idle and armed it in epoll
};

// Closes with a reset, so that the kernel drops an unsent answer at once instead of trying on.
void close_with_reset(int fd) {
  const struct linger hard {1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  ::close(fd);
}

std::string address_of(const sockaddr_storage& a, int& port) {
  char host[INET6_ADDRSTRLEN] = "";
  if (a.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&a);
    ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
  } else if (a.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    port = ntohs(in6->sin6_port);
  }
  return host;
}

// What arrived of a request's first line, for the log of a refused request.
std::string_view first_line(std::string_view buffer) {
  buffer = buffer.substr(0, std::min<std::size_t>(buffer.size(), 512));
  return buffer.substr(0, buffer.find_first_of("\r\n"));
}

// The stream a worker hands cpp-httplib for one request. Reads come from the request's bytes,
// already buffered by the event thread, and writes go to the socket as far as it takes them
// without waiting; the rest is kept for the event thread to send. So a worker never waits for a
// client, neither for its request nor for it to read the answer.
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(Connection& c, std::string_view request) : c_(c), request_(request) {}

  bool is_readable() const override { return pos_ < request_.size(); }
  bool is_writable() const override { return !failed_; }

  ssize_t read(char* ptr, std::size_t size) override {
    const std::size_t n = std::min(size, request_.size() - pos_);
    std::memcpy(ptr, request_.data() + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, std::size_t size) override {
    if (failed_) return -1;
    std::size_t done = 0;
    while (c_.output.empty() && done < size) {  // once bytes wait, the rest goes after them
      const ssize_t n = ::send(c_.fd, ptr + done, size - done, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) done += static_cast<std::size_t>(n);
      else if (n < 0 && errno == EINTR) continue;
      else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      else {
        failed_ = true;  // the client went away
        return -1;
      }
    }
    if (c_.output.size() + (size - done) > kMaxPendingOutput) {
      failed_ = true;
      return -1;
    }
    c_.output.append(ptr + done, size - done);
    return static_cast<ssize_t>(size);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = c_.peer_ip;
    port = c_.peer_port;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = c_.local_ip;
    port = c_.local_port;
  }
  // cpp-httplib (built without CPPHTTPLIB_USE_POLL) answers 500 to any request on a socket
  // numbered FD_SETSIZE or more, a limit of its select() loop, which is not used here.
  socket_t socket() const override { return INVALID_SOCKET; }

  bool failed() const { return failed_; }

 private:
  Connection& c_;
  std::string_view request_;
  std::size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace

struct ConnectionGate::Impl {
  GateOptions options;
  GateHandlers handlers;
  int listen_fd = -1, epoll_fd = -1, wake_fd = -1;
  std::atomic<bool> stop_requested{false}, running{false}, stopping{false};
  std::atomic<std::size_t> open{0}, queued{0};

  // The event thread's own.
  std::unordered_map<int, std::unique_ptr<Connection>> conns;
  std::size_t with_workers = 0;  // queued or being served
  bool accepting_paused = false;
  std::vector<char> scratch = std::vector<char>(kReadChunk);

  // Shared with the workers, under `mutex`.
  std::mutex mutex;
  std::condition_variable work_ready;
  std::deque<std::unique_ptr<Connection>> queue;
  std::vector<std::pair<std::unique_ptr<Connection>, After>> returned;
  bool workers_exit = false;
  std::vector<std::thread> workers;

  Impl(GateOptions o, GateHandlers h) : options(std::move(o)), handlers(std::move(h)) {}
  ~Impl() {
    for (auto& [fd, c] : conns) ::close(fd);
    for (int fd : {listen_fd, epoll_fd, wake_fd})
      if (fd >= 0) ::close(fd);
  }

  void cut(std::string_view reason) {
    if (handlers.cut) handlers.cut(reason);
  }
  void wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd, &one, sizeof one);
  }
  void watch(int fd, std::uint32_t events = EPOLLIN, int op = EPOLL_CTL_ADD) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    ::epoll_ctl(epoll_fd, op, fd, &ev);
  }
  // Connections are in epoll one-shot: an event disarms the connection until it is armed again,
  // so a connection handed to a worker needs no removal, and an idle one the worker gives back
  // needs one call. Every connection in `conns` is armed, except while the event thread is
  // handling it: for the rest of an answer to send, or else for bytes to read.
  void arm(const Connection& c, int op = EPOLL_CTL_MOD) {
    watch(c.fd, (c.state == State::kWriting ? EPOLLOUT : EPOLLIN) | EPOLLONESHOT, op);
  }
  void rearm_if_open(int fd) {
    if (const auto it = conns.find(fd); it != conns.end()) arm(*it->second);
  }

  void event_loop();
  void accept_all();
  void on_event(int fd);
  void on_readable(int fd);
  void flush(Connection& c);
  void after_answer(Connection& c, bool close);
  void route(Connection& c);
  void dispatch(int fd);
  void refuse(Connection& c, int status, std::string_view message, std::string_view reason);
  void linger(Connection& c);
  void close_connection(int fd);
  bool evict_one(Clock::time_point now);
  void forget(const std::string& peer_ip);  // a connection of this address closed
  std::unordered_map<std::string, std::size_t> per_client;  // open connections by address
  void take_back();
  void sweep(Clock::time_point now);
  void begin_stop();

  void worker_loop();
  After serve(Connection& c);
};

void ConnectionGate::Impl::event_loop() {
  std::vector<epoll_event> events(256);
  auto next_sweep = Clock::now() + kSweepInterval;
  for (;;) {
    if (stop_requested && !stopping) begin_stop();
    if (stopping && conns.empty() && with_workers == 0) return;
    const auto wait = std::chrono::ceil<milliseconds>(next_sweep - Clock::now()).count();
    const int n = ::epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()),
                               static_cast<int>(std::clamp<long long>(wait, 0, 1000)));
    if (n < 0 && errno != EINTR) {
      print_log_line(fmt::format("mssearch serve: epoll_wait failed: {}\n", std::strerror(errno)));
      begin_stop();
    }
    take_back();  // first: an event may be for a connection a worker has just armed
    for (int i = 0; i < n; ++i) {
      const int fd = events[static_cast<std::size_t>(i)].data.fd;
      if (fd == listen_fd) {
        accept_all();
      } else if (fd == wake_fd) {
        std::uint64_t value = 0;
        [[maybe_unused]] auto r = ::read(wake_fd, &value, sizeof value);
      } else {
        on_event(fd);
      }
    }
    take_back();
    const auto now = Clock::now();
    if (now >= next_sweep) {
      sweep(now);
      next_sweep = now + kSweepInterval;
    }
  }
}

void ConnectionGate::Impl::accept_all() {
  // A bounded batch, so that a flood of connections cannot starve the ones already open.
  for (int i = 0; i < 256 && listen_fd >= 0; ++i) {
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    const auto now = Clock::now();
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      // Out of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM): free one for the next
      // try, and stop watching the listening socket until the next sweep, or its pending
      // connections would wake this loop again at once, forever.
      cut("refused");
      evict_one(now);
      ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, listen_fd, nullptr);
      accepting_paused = true;
      return;
    }
    auto c = std::make_unique<Connection>();
    c->fd = fd;
    c->peer_ip = address_of(peer, c->peer_port);
    // One address past its share: refused, whatever is free (evicting for it would let one
    // client cycle through the whole table). Else a full table with nothing to evict.
    const auto held = per_client.find(c->peer_ip);
    const bool over_share = options.max_connections_per_client > 0 && held != per_client.end() &&
                            held->second >= options.max_connections_per_client;
    if (over_share || (open >= options.max_connections && !evict_one(now))) {
      cut("refused");
      const std::string answer = handlers.refuse(503, over_share ? "too many connections from this address" : "too many connections",
                                                 c->peer_ip, "");
      [[maybe_unused]] auto n = ::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      ::shutdown(fd, SHUT_WR);
      ::close(fd);
      continue;
    }
    // Answers go out as a header write and a body write: without TCP_NODELAY, Nagle's
    // algorithm and the client's delayed ACK add ~40 ms to each keep-alive answer.
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_storage local{};
    length = sizeof local;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) == 0) c->local_ip = address_of(local, c->local_port);
    c->since = now;
    arm(*c, EPOLL_CTL_ADD);
    ++per_client[c->peer_ip];
    conns.emplace(fd, std::move(c));
    ++open;
  }
}

void ConnectionGate::Impl::on_event(int fd) {
  on_readable(fd);
  rearm_if_open(fd);  // unless it was closed, or handed to a worker
}

void ConnectionGate::Impl::on_readable(int fd) {
  const auto it = conns.find(fd);
  if (it == conns.end()) return;
  Connection& c = *it->second;
  if (c.state == State::kWriting) return flush(c);
  if (c.state == State::kLinger) {
    for (;;) {
      const ssize_t n = ::recv(fd, scratch.data(), scratch.size(), 0);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
      if (n <= 0 || (c.drained += static_cast<std::size_t>(n)) > kLingerBytes) return close_connection(fd);
    }
  }
  // One read per wake-up: epoll comes back for the rest (the connection is armed again), after
  // the others.
  const ssize_t n = ::recv(fd, scratch.data(), scratch.size(), 0);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  if (n <= 0) return close_connection(fd);  // the client closed (or reset) before a whole request
  if (c.state == State::kIdle) {
    c.state = State::kReading;
    c.since = Clock::now();
  }
  c.buffer.append(scratch.data(), static_cast<std::size_t>(n));
  route(c);
}

// Sends what the socket takes of the answer a worker left; when all is sent, the connection
// goes on (or closes) as the worker said. Requests pipelined behind wait until then.
void ConnectionGate::Impl::flush(Connection& c) {
  while (c.output_sent < c.output.size()) {
    const ssize_t n = ::send(c.fd, c.output.data() + c.output_sent, c.output.size() - c.output_sent, MSG_NOSIGNAL);
    if (n > 0) {
      c.output_sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    return close_connection(c.fd);  // the client went away
  }
  c.output = std::string();
  c.output_sent = 0;
  after_answer(c, c.close_after_output);
}

// A worker (or flush) is done with the connection's answers: close it, or wait for the next
// request, or go on with one already buffered.
void ConnectionGate::Impl::after_answer(Connection& c, bool close) {
  if (close || stopping) return linger(c);
  c.since = Clock::now();
  if (c.buffer.empty()) {
    c.state = State::kIdle;
    c.fresh = false;
    if (c.buffer.capacity() > kReadChunk) c.buffer = std::string();
  } else {
    c.state = State::kReading;
    route(c);  // a whole request left over (the pipeline batch ran out), or a refused one
  }
}

// The buffer has new bytes: hand a whole request to the workers, refuse a bad one, or wait.
void ConnectionGate::Impl::route(Connection& c) {
  const Framing f = frame_request(c.buffer, options.limits);
  c.buffer.erase(0, f.skip);
  switch (f.kind) {
    case Framing::Kind::kIncomplete: return;
    case Framing::Kind::kComplete:
    case Framing::Kind::kHeadOnly: return dispatch(c.fd);
    case Framing::Kind::kRefuse: return refuse(c, f.status, f.message, f.reason);
  }
}

void ConnectionGate::Impl::dispatch(int fd) {
  const auto it = conns.find(fd);
  Connection& c = *it->second;
  {
    std::lock_guard lock(mutex);
    if (queue.size() < options.max_queued) {
      c.state = State::kQueued;  // not armed: no event for it until it comes back
      queue.push_back(std::move(it->second));
      ++queued;
      ++with_workers;
      conns.erase(it);
      work_ready.notify_one();
      return;
    }
  }
  refuse(c, 503, "the server is busy; try again", "queue_full");
}

void ConnectionGate::Impl::refuse(Connection& c, int status, std::string_view message, std::string_view reason) {
  cut(reason);
  const std::string answer = handlers.refuse(status, message, c.peer_ip, first_line(c.buffer));
  // Best effort: the socket is fresh or between answers, its send buffer empty; if the client
  // does not read, it loses the answer, not a worker.
  [[maybe_unused]] auto n = ::send(c.fd, answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  linger(c);
}

void ConnectionGate::Impl::linger(Connection& c) {
  ::shutdown(c.fd, SHUT_WR);
  c.state = State::kLinger;
  c.since = Clock::now();
  c.buffer = std::string();
}

void ConnectionGate::Impl::close_connection(int fd) {
  ::close(fd);  // also leaves the epoll set
  if (const auto it = conns.find(fd); it != conns.end()) forget(it->second->peer_ip);
  conns.erase(fd);
  --open;
}

void ConnectionGate::Impl::forget(const std::string& peer_ip) {
  if (const auto it = per_client.find(peer_ip); it != per_client.end() && --it->second == 0) per_client.erase(it);
}

// Makes room for a new connection: a lingering one first, then the longest idle between
// keep-alive requests, then the one that has been silent or sending its request the longest.
// A connection younger than kEvictableAfter that has not yet sent a whole request is never
// taken: it is most likely a visitor who just connected (ranking fresh connections as idle let
// 1,100 slow clients evict every visitor's new connection before it could send). False when
// none may go: the newcomer is refused.
bool ConnectionGate::Impl::evict_one(Clock::time_point now) {
  int best = -1;
  int best_rank = 3;
  Clock::time_point best_since{};
  for (const auto& [fd, c] : conns) {
    int rank = 3;
    const bool waiting_for_request = (c->state == State::kIdle && c->fresh) || c->state == State::kReading;
    if (c->state == State::kLinger) rank = 0;
    else if (c->state == State::kIdle && !c->fresh) rank = 1;
    else if (waiting_for_request && now - c->since >= kEvictableAfter) rank = 2;
    if (rank < best_rank || (rank == best_rank && rank < 3 && c->since < best_since)) {
      best = fd;
      best_rank = rank;
      best_since = c->since;
    }
  }
  if (best < 0) return false;
  if (best_rank > 0) cut("evicted");
  close_connection(best);
  return true;
}

// Connections the workers are done with.
void ConnectionGate::Impl::take_back() {
  std::vector<std::pair<std::unique_ptr<Connection>, After>> done;
  {
    std::lock_guard lock(mutex);
    done.swap(returned);
  }
  const auto now = Clock::now();
  for (auto& [c, after] : done) {
    --with_workers;
    const int fd = c->fd;
    if (after == After::kAbort) {
      close_with_reset(fd);
      forget(c->peer_ip);
      --open;
      continue;
    }
    Connection& conn = *conns.emplace(fd, std::move(c)).first->second;
    if (after == After::kWaiting) {  // idle, and armed by the worker
      if (stopping) linger(conn);      // it raced with stop(): close it like the other idle ones
      continue;
    }
    if (!conn.output.empty()) {
      // The client has not taken the whole answer yet: the event thread sends the rest, under
      // the write deadline, and reads nothing more from it meanwhile.
      conn.state = State::kWriting;
      conn.since = now;
      conn.close_after_output = after == After::kClose;
    } else {
      after_answer(conn, after == After::kClose);
    }
    rearm_if_open(fd);
  }
}

void ConnectionGate::Impl::sweep(Clock::time_point now) {
  if (accepting_paused && listen_fd >= 0) {
    accepting_paused = false;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = listen_fd;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &ev);
  }
  std::vector<int> expired;
  for (const auto& [fd, c] : conns) {
    const auto age = now - c->since;
    const bool over = c->state == State::kLinger    ? age >= kLingerTime
                      : c->state == State::kWriting ? age >= options.write_timeout
                      : c->state == State::kReading ? age >= options.request_timeout
                      : c->state == State::kIdle    ? age >= (c->fresh ? options.request_timeout : options.keep_alive_timeout)
                                                    : false;
    if (over) expired.push_back(fd);
  }
  for (const int fd : expired) {
    Connection& c = *conns.at(fd);
    if (c.state == State::kReading) {
      refuse(c, 408, "the request did not arrive in time", "request_timeout");
    } else if (c.state == State::kWriting) {
      cut("write_timeout");
      close_with_reset(fd);
      forget(c.peer_ip);
      conns.erase(fd);
      --open;
    } else {
      // A new connection that never sent anything is cut like a slow request, but silently:
      // there is no request to answer.
      if (c.state == State::kIdle) cut(c.fresh ? "request_timeout" : "idle_timeout");
      close_connection(fd);
    }
  }
}

void ConnectionGate::Impl::begin_stop() {
  stopping = true;
  if (listen_fd >= 0) {
    ::close(listen_fd);  // new connections are refused by the kernel from now on
    listen_fd = -1;
  }
  std::vector<int> idle;
  for (const auto& [fd, c] : conns)
    if (c->state == State::kIdle || c->state == State::kReading) idle.push_back(fd);
  for (const int fd : idle) close_connection(fd);
}

void ConnectionGate::Impl::worker_loop() {
  for (;;) {
    std::unique_ptr<Connection> c;
    {
      std::unique_lock lock(mutex);
      work_ready.wait(lock, [&] { return !queue.empty() || workers_exit; });
      if (queue.empty()) return;
      c = std::move(queue.front());
      queue.pop_front();
      --queued;
    }
    const After after = serve(*c);
    // The common case, a keep-alive connection answered in full: set it idle and arm it here,
    // without waking the event thread. Under the mutex, so that the event thread, which takes
    // connections back under it before it handles any event, finds it when its next request
    // arrives.
    const bool idle = after == After::kWait && c->output.empty() && c->buffer.empty() && !stopping;
    {
      std::lock_guard lock(mutex);
      if (idle) {
        c->state = State::kIdle;
        c->fresh = false;
        c->since = Clock::now();
        if (c->buffer.capacity() > kReadChunk) c->buffer = std::string();
        arm(*c);
      }
      returned.emplace_back(std::move(c), idle ? After::kWaiting : after);
    }
    if (!idle) wake();
  }
}

// Serves the whole requests the buffer holds, in order.
After ConnectionGate::Impl::serve(Connection& c) {
  for (std::size_t n = 0; n < kPipelineBatch; ++n) {
    Framing f = frame_request(c.buffer, options.limits);
    c.buffer.erase(0, f.skip);
    if (f.kind != Framing::Kind::kComplete && f.kind != Framing::Kind::kHeadOnly) return After::kWait;
    f.length -= absolute_to_origin_form(c.buffer);  // GET http://host/path: routed as /path
    // A request whose body is not read leaves the connection unusable after its answer.
    const bool last = f.kind == Framing::Kind::kHeadOnly || stopping || c.served + 1 >= options.keep_alive_requests;
    ConnectionStream stream(c, std::string_view(c.buffer).substr(0, f.length));
    bool more = false;
    try {
      more = handlers.serve(stream, last);
    } catch (const std::exception& e) {
      print_log_line(fmt::format("mssearch serve: error serving a request: {}\n", printable(e.what())));
    }
    ++c.served;
    if (stream.failed()) return After::kAbort;
    c.buffer.erase(0, f.length);  // a GET's body, if any, unread by cpp-httplib, goes too
    if (!more || last) return After::kClose;
    if (!c.output.empty()) return After::kWait;  // the next answer waits until this one is sent
  }
  return After::kWait;
}

ConnectionGate::ConnectionGate(GateOptions options, GateHandlers handlers)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handlers))) {}

ConnectionGate::~ConnectionGate() = default;

Result<int> ConnectionGate::listen() {
  auto& o = impl_->options;
  const std::string where = fmt::format("{}:{}", o.host, o.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(o.host.c_str(), std::to_string(o.port).c_str(), &hints, &found); rc != 0)
    return fail(ErrorCode::kIo, fmt::format("cannot listen on {}: {}", where, ::gai_strerror(rc)));
  int error = 0, fd = -1;
  for (const addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      error = errno;
      continue;
    }
    // SO_REUSEADDR lets a restart bind while old connections sit in TIME_WAIT. Not
    // SO_REUSEPORT: with it, a second server on the same port starts too, and the kernel splits
    // the requests between two processes that may serve two different indexes.
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, SOMAXCONN) != 0) {
      error = errno;
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) return fail(ErrorCode::kIo, fmt::format("cannot listen on {}: {}", where, std::strerror(error)));
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  int port = 0;
  address_of(bound, port);
  impl_->listen_fd = fd;
  impl_->epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  impl_->wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl_->epoll_fd < 0 || impl_->wake_fd < 0)
    return fail(ErrorCode::kIo, fmt::format("cannot listen on {}: {}", where, std::strerror(errno)));
  return port;
}

void ConnectionGate::run() {
  Impl& m = *impl_;
  if (m.listen_fd < 0) return;
  m.watch(m.listen_fd);
  m.watch(m.wake_fd);
  for (std::size_t i = 0; i < std::max<std::size_t>(1, m.options.workers); ++i)
    m.workers.emplace_back([&m] { m.worker_loop(); });
  m.running = true;
  m.event_loop();
  {
    std::lock_guard lock(m.mutex);
    m.workers_exit = true;
  }
  m.work_ready.notify_all();
  for (auto& t : m.workers) t.join();
  m.workers.clear();
  m.running = false;
}

void ConnectionGate::stop() {
  impl_->stop_requested = true;
  if (impl_->wake_fd >= 0) impl_->wake();
}

bool ConnectionGate::is_running() const { return impl_->running; }

ConnectionGate::Counts ConnectionGate::counts() const { return {impl_->open, impl_->queued}; }

}  // namespace mssearch
