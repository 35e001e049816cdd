// ConnectionGate: the sockets under the HTTP server, owned the way nginx owns them, so that slow
// or idle clients cannot hold the worker threads (slowloris). cpp-httplib, left to itself,
// gives each connection a worker while it reads, with a timeout per read rather than per
// request: eight clients sending a header line every two seconds stalled every other one.
//
// One event thread (epoll) accepts, reads and buffers every connection, and hands a connection
// to the worker pool only once it holds a whole request (request_framer.h): the head, and the
// body when one is declared. A client that is slow to send holds a buffer, not a thread, and is
// cut at a whole-request deadline (408). Idle keep-alive connections wait in epoll too. POST,
// PUT, PATCH and DELETE go to a worker as soon as their head is complete (405 at once, no body
// read). Oversized or unframeable requests are refused by the event thread itself.
//
// A worker runs `serve` (cpp-httplib's process_request) over a stream that reads the buffered
// request and writes to the socket only as much as it takes at once: what is left of the answer
// goes back to the event thread, which sends it as the client reads, and cuts the connection if
// the client has not taken it all within the write deadline. So a worker never waits for a
// client in either direction. Pipelined requests already buffered are served in order (the next
// one once the answer before it is sent); then the connection goes back to the event thread.
//
// Bounded: at most `max_connections` open (when full, the oldest idle connection is closed to
// make room, else the newcomer is refused), at most `max_queued` whole requests waiting for a
// worker (503 beyond), at most one request's worth of bytes buffered per connection, and one
// answer's.
//
// Thread-safety: listen() and then run() from one thread; stop(), is_running() and counts()
// from any thread (stop() from a signal thread, say). The handlers are called concurrently:
// `serve` from the workers, `refuse` and `cut` from the event thread; they must be thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <httplib.h>

#include "schema/error.h"
#include "server/request_framer.h"

namespace mssearch {

struct GateOptions {
  std::string host = "127.0.0.1";
  int port = 0;                                     // 0: any free port
  std::size_t workers = 8;
  std::size_t max_connections = 1024;
  // At most this many open from one address (0: no cap): one client holding hundreds of fresh
  // connections had every other visitor's second request refused (helper-98). Behind a reverse
  // proxy every connection comes from the proxy's address: leave it at 0 there.
  std::size_t max_connections_per_client = 0;
  std::size_t max_queued = 256;                     // whole requests waiting for a worker
  std::size_t keep_alive_requests = 1000;           // requests on one connection, then close
  std::chrono::milliseconds request_timeout{10000}; // from a request's first byte to its last
  std::chrono::milliseconds keep_alive_timeout{60000};
  // For the client to take what is left of an answer once it is ready (the socket takes the
  // first ~2-4 MB at once, so only a client that does not read meets it).
  std::chrono::milliseconds write_timeout{10000};
  FramingLimits limits;
};

struct GateHandlers {
  // Serves the one request the stream holds and writes the answer to it. close_connection:
  // the answer must say "Connection: close". Returns whether the connection may serve
  // another request.
  std::function<bool(httplib::Stream& stream, bool close_connection)> serve;
  // The whole answer (status line, headers, body) to a request the gate refuses by itself:
  // status 400, 408, 411, 413, 414, 431 or 503. `request_line` is what arrived of it (may be
  // empty or partial). Also the place to log it.
  std::function<std::string(int status, std::string_view message, const std::string& peer,
                            std::string_view request_line)>
      refuse;
  // A connection cut or refused by the gate, by reason (a metrics label): request_timeout,
  // idle_timeout, write_timeout, too_large, bad_framing, queue_full, evicted, refused.
  std::function<void(std::string_view reason)> cut;
};

class ConnectionGate {
 public:
  ConnectionGate(GateOptions options, GateHandlers handlers);
  ~ConnectionGate();
  ConnectionGate(const ConnectionGate&) = delete;
  ConnectionGate& operator=(const ConnectionGate&) = delete;

  // Binds and listens (SO_REUSEADDR, never SO_REUSEPORT: a second server on a busy port must
  // fail, not share it). Returns the port. Errors (kIo) name the address and the reason.
  Result<int> listen();
  // Serves until stop(). Requests already received are answered (their answers say
  // "Connection: close"); idle connections and requests still arriving are closed.
  void run();
  void stop();
  bool is_running() const;

  struct Counts {
    std::size_t open = 0;    // connections, whatever their state
    std::size_t queued = 0;  // whole requests waiting for a worker
  };
  Counts counts() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mssearch
