#include "tests/server/raw_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <utility>

namespace mssearch::test {

using Clock = std::chrono::steady_clock;

RawConnection::RawConnection(int port, int receive_buffer) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  if (receive_buffer > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
    return;
  }
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
}

RawConnection::~RawConnection() { close(); }

RawConnection::RawConnection(RawConnection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), closed_by_peer_(other.closed_by_peer_),
      pending_(std::move(other.pending_)), total_(other.total_) {}

void RawConnection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RawConnection::send(std::string_view bytes) {
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (!bytes.empty() && fd_ >= 0) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR) && Clock::now() < deadline) {
      pollfd p{fd_, POLLOUT, 0};
      ::poll(&p, 1, 100);
      continue;
    }
    return false;
  }
  return bytes.empty();
}

// Reads what is there, waiting until `deadline` for something; false once the peer closed.
bool RawConnection::fill(Clock::time_point deadline) {
  if (fd_ < 0 || closed_by_peer_) return false;
  for (;;) {
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      pending_.append(buf, static_cast<std::size_t>(n));
      total_ += static_cast<std::size_t>(n);
      return true;
    }
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      closed_by_peer_ = true;
      return false;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return true;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) == 0) return true;
  }
}

std::optional<RawResponse> RawConnection::read_response(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const auto head_end = pending_.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      RawResponse r;
      const std::string head = pending_.substr(0, head_end);
      if (head.size() >= 12 && head.starts_with("HTTP/1.")) r.status = std::atoi(head.c_str() + 9);
      std::size_t pos = head.find("\r\n");
      while (pos != std::string::npos && pos < head.size()) {
        const std::size_t next = head.find("\r\n", pos + 2);
        const std::string line = head.substr(pos + 2, (next == std::string::npos ? head.size() : next) - pos - 2);
        const auto colon = line.find(':');
        if (colon != std::string::npos) {
          std::string name = line.substr(0, colon);
          std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
          std::string value = line.substr(colon + 1);
          while (!value.empty() && value.front() == ' ') value.erase(0, 1);
          r.headers[name] = value;
        }
        pos = next;
      }
      if (r.status == 100) {  // an interim answer: the real one follows
        pending_.erase(0, head_end + 4);
        continue;
      }
      const std::size_t length = std::strtoul(r.header("content-length").c_str(), nullptr, 10);
      if (pending_.size() >= head_end + 4 + length) {
        r.body = pending_.substr(head_end + 4, length);
        pending_.erase(0, head_end + 4 + length);
        return r;
      }
    }
    if (Clock::now() >= deadline) return std::nullopt;
    if (!fill(deadline)) return std::nullopt;
  }
}

bool RawConnection::poll_open() {
  while (fd_ >= 0 && !closed_by_peer_) {
    const std::size_t before = total_;
    if (!fill(Clock::now())) break;
    if (total_ == before) break;
  }
  return fd_ >= 0 && !closed_by_peer_;
}

bool RawConnection::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (fill(deadline))
    if (Clock::now() >= deadline) return false;
  return true;
}

std::size_t raise_open_file_limit(std::size_t wanted) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < wanted) {
    limit.rlim_cur = std::min<rlim_t>(wanted, limit.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur;
}

}  // namespace mssearch::test
