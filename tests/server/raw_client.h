// Raw TCP clients of 127.0.0.1 for the tests that must control exactly what is sent and when
// (slow, pipelined, malformed or never-read requests), which an HTTP client library cannot.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace mssearch::test {

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

class RawConnection {
 public:
  // Connects (blocking, then non-blocking I/O). receive_buffer > 0 sets SO_RCVBUF first, so
  // that a client that reads slowly or not at all makes the server's writes wait sooner.
  explicit RawConnection(int port, int receive_buffer = 0);
  ~RawConnection();
  RawConnection(RawConnection&& other) noexcept;
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  // Sends every byte (waiting up to 10 s for room); false when the server has closed or reset.
  bool send(std::string_view bytes);
  // Reads one response (Content-Length framed) within `timeout`; nullopt on close or time-out.
  std::optional<RawResponse> read_response(std::chrono::milliseconds timeout);
  // Reads (and keeps) whatever has arrived without waiting. False once the server has closed
  // the connection (end of stream or reset).
  bool poll_open();
  // Waits until the server closes the connection; false if it is still open after `timeout`.
  bool wait_closed(std::chrono::milliseconds timeout);
  // Bytes received and not yet taken by read_response.
  const std::string& received() const { return pending_; }
  std::size_t total_received() const { return total_; }
  void close();

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  bool closed_by_peer_ = false;
  std::string pending_;
  std::size_t total_ = 0;
};

// Raises this process's open-file limit towards `wanted`; returns the limit now in force.
std::size_t raise_open_file_limit(std::size_t wanted);

}  // namespace mssearch::test
