// The HTTP server against hostile and odd clients: one table whose rows are (name, what the
// client sends and how, what must happen), each run against a real server on 127.0.0.1 with
// raw sockets. The slow rows hold hundreds of connections open while ordinary requests are
// made, and check the order of events (the slow ones still open when the ordinary ones are
// answered, then cut), never how long anything took: the machine is shared and noisy. The
// latency figures are printed, not asserted.
#include <catch2/catch.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "tests/server/live_server.h"
#include "tests/server/raw_client.h"
#include "tests/test_support.h"

using namespace mssearch;
using namespace std::chrono_literals;
using test::LiveServer;
using test::RawConnection;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

// The matrix's server: four workers, and deadlines short enough for a test, yet long enough
// that 50 ordinary requests are answered well before the slow connections' deadline even on a
// busy machine under the sanitizers (the order is what is checked, not the time).
constexpr int kRequestTimeout = 6;
constexpr int kWriteTimeout = 2;
constexpr std::size_t kSlowConnections = 256;
constexpr std::size_t kOrdinaryRequests = 50;

std::string get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n";
}

using Facts = std::map<std::string, long>;

struct Ordinary {
  long ok = 0;
  std::vector<double> ms;
  double p99() const {
    if (ms.empty()) return 0;
    std::vector<double> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    return sorted[std::min(sorted.size() - 1, static_cast<std::size_t>(0.99 * static_cast<double>(sorted.size())))];
  }
};

// `count` ordinary requests (a search or a health check), each on a new connection, from four
// client threads; 200 within 20 s counts as answered.
Ordinary ordinary_requests(int port, std::size_t count) {
  Ordinary result;
  std::mutex mutex;
  std::vector<std::thread> clients;
  for (std::size_t t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      for (std::size_t i = t; i < count; i += 4) {
        const auto start = Clock::now();
        RawConnection c(port);
        const bool sent = c.send(get(i % 2 == 0 ? "/api/search?q=astrocytes" : "/healthz", "Connection: close\r\n"));
        const auto r = sent ? c.read_response(20s) : std::nullopt;
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        std::lock_guard lock(mutex);
        result.ms.push_back(ms);
        if (r && r->status == 200) ++result.ok;
      }
    });
  }
  for (auto& c : clients) c.join();
  return result;
}

// What the server answers to `bytes` sent at once: the statuses in order, and whether it then
// closed the connection.
Facts send_and_read(int port, const std::string& bytes, std::size_t expected_answers = 1) {
  RawConnection c(port);
  c.send(bytes);
  Facts f;
  std::string statuses;
  for (std::size_t i = 0; i < expected_answers; ++i) {
    auto r = c.read_response(15s);
    if (!r) break;
    statuses += (statuses.empty() ? "" : ",") + std::to_string(r->status);
    f["status"] = r->status;
    if (r->header("connection") == "close") f["says Connection: close"] = 1;
  }
  f["answers"] = statuses.empty() ? 0 : static_cast<long>(std::count(statuses.begin(), statuses.end(), ',') + 1);
  f["closed by the server"] = c.wait_closed(10s) ? 1 : 0;
  return f;
}

// Holds `wanted` connections that each send `first`, then `piece` once a second, while
// ordinary requests are made; then waits for the server to cut them.
Facts slow_clients(LiveServer& s, std::size_t wanted, const std::string& first, const std::string& piece) {
  // Each connection takes two descriptors in this process (the client's and the server's).
  const std::size_t limit = test::raise_open_file_limit(2 * wanted + 256);
  const std::size_t n = std::min(wanted, limit > 300 ? (limit - 256) / 2 : std::size_t{16});
  if (n < wanted) WARN("open-file limit " << limit << ": holding " << n << " slow connections, not " << wanted);

  const Ordinary quiet = ordinary_requests(s.port, kOrdinaryRequests);
  std::vector<RawConnection> slow;
  slow.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    slow.emplace_back(s.port);
    if (!first.empty()) slow.back().send(first);
  }
  std::atomic<bool> done{false};
  std::atomic<std::size_t> cut{0}, answered_408{0}, answered_other{0};
  std::thread trickle([&] {
    std::vector<char> is_cut(n, 0);
    auto next = Clock::now() + 1s;
    while (!done) {
      for (std::size_t i = 0; i < n; ++i) {
        if (is_cut[i] || slow[i].poll_open()) continue;
        is_cut[i] = 1;
        ++cut;
        if (slow[i].received().starts_with("HTTP/1.1 408")) ++answered_408;
        else if (!slow[i].received().empty()) ++answered_other;
      }
      if (!piece.empty() && Clock::now() >= next) {
        for (std::size_t i = 0; i < n; ++i)
          if (!is_cut[i]) slow[i].send(piece);
        next += 1s;
      }
      std::this_thread::sleep_for(50ms);
    }
  });
  const Ordinary busy = ordinary_requests(s.port, kOrdinaryRequests);
  const std::size_t cut_when_answered = cut;
  const auto give_up = Clock::now() + std::chrono::seconds(kRequestTimeout + 30);
  while (cut < n && Clock::now() < give_up) std::this_thread::sleep_for(100ms);
  done = true;
  trickle.join();
  WARN(fmt::format("{} slow connections: ordinary requests p99 {:.1f} ms without them, {:.1f} ms with them "
                   "({} and {} of {} answered)",
                   n, quiet.p99(), busy.p99(), quiet.ok, busy.ok, kOrdinaryRequests));
  Facts f;
  f["ordinary requests not answered"] = static_cast<long>(kOrdinaryRequests) - busy.ok;
  f["slow connections cut before the ordinary requests were answered"] = static_cast<long>(cut_when_answered);
  f["slow connections never cut"] = static_cast<long>(n - cut);
  f["slow connections answered 408"] = static_cast<long>(answered_408);
  f["slow connections answered otherwise"] = static_cast<long>(answered_other);
  f["slow connections held"] = static_cast<long>(n);
  f["cuts counted in /metrics"] = static_cast<long>(s.metric("mssearch_http_connections_cut_total{reason=\"request_timeout\"}"));
  return f;
}

// A client that pipelines big answers and never reads them (or reads a few bytes at a time),
// against a server with one worker; then an ordinary request from someone else.
Facts stuck_reader(LiveServer& s, bool trickle_read) {
  RawConnection stuck(s.port, 4096);
  std::string burst;
  for (int i = 0; i < 200; ++i) burst += get("/?q=ms&per_page=50");
  stuck.send(burst);
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done && trickle_read) {
      char buf[512];
      if (::recv(stuck.fd(), buf, sizeof buf, 0) == 0) break;
      std::this_thread::sleep_for(100ms);
    }
  });
  const Ordinary other = ordinary_requests(s.port, 4);
  // Cut by the write deadline: a reset, seen without reading what is waiting.
  bool reset = false;
  for (auto give_up = Clock::now() + 40s; !reset && Clock::now() < give_up;) {
    pollfd p{stuck.fd(), 0, 0};
    reset = ::poll(&p, 1, 100) == 1 && (p.revents & (POLLERR | POLLHUP)) != 0;
  }
  done = true;
  reader.join();
  Facts f;
  f["ordinary requests not answered"] = 4 - other.ok;
  f["stuck client cut"] = reset ? 1 : 0;
  f["cuts counted in /metrics"] = static_cast<long>(s.metric("mssearch_http_connections_cut_total{reason=\"write_timeout\"}"));
  return f;
}

// Runs the real binary: `mssearch serve ARGS`, ended after `seconds` if it has not exited.
struct Process {
  int exit_code = -1;
  std::string out, err;
};
Process run_serve(const std::string& args, int seconds) {
  test::TempDir tmp;
  const std::string cmd = fmt::format("timeout {} '{}' serve {} >'{}' 2>'{}' </dev/null", seconds, MSSEARCH_BIN, args,
                                      (tmp / "out").string(), (tmp / "err").string());
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, test::read_file(tmp / "out"), test::read_file(tmp / "err")};
}

Facts port_in_use(LiveServer& s) {
  const Process p = run_serve(fmt::format("--db '{}' --port {}", test::shared_index().string(), s.port), 20);
  INFO(p.err);
  Facts f;
  f["exit code"] = p.exit_code;
  f["says the port is in use"] =
      p.err.find(fmt::format("mssearch serve: error: cannot listen on 127.0.0.1:{}: Address already in use", s.port)) !=
      std::string::npos;
  f["still answers"] = s.get("/healthz") && s.get("/healthz")->status == 200;
  return f;
}

// The access log of the real binary, for a request target full of terminal escapes and for a
// request that does not parse.
Facts access_log(LiveServer&) {
  test::TempDir tmp;
  const std::string cmd = fmt::format("'{}' serve --db '{}' --port 0 --threads 2 >'{}' 2>'{}' & echo $!", MSSEARCH_BIN,
                                      test::shared_index().string(), (tmp / "out").string(), (tmp / "err").string());
  FILE* p = ::popen(cmd.c_str(), "r");
  int pid = 0;
  REQUIRE(std::fscanf(p, "%d", &pid) == 1);
  ::pclose(p);
  int port = 0;
  for (int i = 0; i < 500 && port == 0; ++i) {
    std::this_thread::sleep_for(20ms);
    const std::string out = test::read_file(tmp / "out");
    if (auto at = out.find("http://127.0.0.1:"); at != std::string::npos) port = std::atoi(out.c_str() + at + 17);
  }
  REQUIRE(port > 0);
  send_and_read(port, get("/\x1b[2J\x1b]0;owned\x07?q=\x1b[31mred\r"));
  send_and_read(port, get("/api/search?q=\x1b[1;31mbold\x08\x7f"));
  send_and_read(port, "\x1b[31mNOT HTTP\x1b[0m\r\n\r\n");
  ::kill(pid, SIGTERM);
  for (int i = 0; i < 500 && ::kill(pid, 0) == 0; ++i) std::this_thread::sleep_for(20ms);
  const std::string log = test::read_file(tmp / "err");
  INFO(log);
  Facts f;
  f["control bytes in the log"] = std::count_if(log.begin(), log.end(), [](char c) {
    return (static_cast<unsigned char>(c) < 0x20 && c != '\n') || c == 0x7f;
  });
  f["escaped ESC in the log"] = log.find("\\x1b[2J") != std::string::npos && log.find("\\x1b[1;31mbold\\x08\\x7f") != std::string::npos;
  long lines = 0, without_address = 0, bad_request = 0;
  for (std::size_t pos = 0, next; (next = log.find('\n', pos)) != std::string::npos; pos = next + 1) {
    const std::string line = log.substr(pos, next - pos);
    if (line.starts_with("mssearch serve:")) continue;
    ++lines;
    if (!line.starts_with("127.0.0.1 ")) ++without_address;
    if (line.find(" 400 ") != std::string::npos) ++bad_request;
  }
  f["request lines"] = lines;
  f["lines without the client's address"] = without_address;
  f["line for the unparsable request"] = bad_request;
  return f;
}

struct Row {
  std::string name;
  std::string how;              // what the client sends, and how
  test::OptionsTweak options;   // the server's options for this row, beyond the matrix's own
  std::function<Facts(LiveServer&)> run;
  Facts expected;               // each fact named here must have this value
  Facts at_least = {};          // and each named here at least this value
};

// Every hostile client the server is tried with. The README's "Hostile clients, row by row"
// table is checked against these rows (hostile_table_row).
std::vector<Row> hostile_rows() {
  static const std::string slow_head = "GET /healthz HTTP/1.1\r\n";
  static const std::string slow_body = "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n";
  const auto one_worker = [](ServerOptions& o) { o.threads = 1; };
  return {
      {"slow headers (slowloris)", "256 connections each send a request line, then one header line a second", {},
       [](LiveServer& s) { return slow_clients(s, kSlowConnections, slow_head, "X-Slow: 1\r\n"); },
       {{"ordinary requests not answered", 0}, {"slow connections cut before the ordinary requests were answered", 0},
        {"slow connections never cut", 0}, {"slow connections answered otherwise", 0}},
       {{"slow connections answered 408", 16}, {"cuts counted in /metrics", 16}}},
      {"slow body", "256 connections each send a head with Content-Length: 100, then one body byte a second", {},
       [](LiveServer& s) { return slow_clients(s, kSlowConnections, slow_body, "x"); },
       {{"ordinary requests not answered", 0}, {"slow connections cut before the ordinary requests were answered", 0},
        {"slow connections never cut", 0}, {"slow connections answered otherwise", 0}},
       {{"slow connections answered 408", 16}, {"cuts counted in /metrics", 16}}},
      {"silent connections", "300 connections that send nothing at all", {},
       [](LiveServer& s) { return slow_clients(s, 300, "", ""); },
       {{"ordinary requests not answered", 0}, {"slow connections cut before the ordinary requests were answered", 0},
        {"slow connections never cut", 0}, {"slow connections answered 408", 0}, {"slow connections answered otherwise", 0}},
       {{"cuts counted in /metrics", 16}}},
      {"bodiless POST", "a POST head declaring a 1,000-byte body, and no body", {},
       [](LiveServer& s) { return send_and_read(s.port, "POST /api/search HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"); },
       {{"status", 405}, {"says Connection: close", 1}, {"closed by the server", 1}}},
      {"bodiless PUT", "a PUT head declaring a body, and no body", {},
       [](LiveServer& s) { return send_and_read(s.port, "PUT /api/search HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n"); },
       {{"status", 405}, {"closed by the server", 1}}},
      {"bodiless PATCH", "a PATCH head declaring a body, and no body", {},
       [](LiveServer& s) { return send_and_read(s.port, "PATCH /api/topics HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n"); },
       {{"status", 405}, {"closed by the server", 1}}},
      {"unknown method", "a PROPFIND head, and a GET pipelined behind it", {},
       [](LiveServer& s) {
         return send_and_read(s.port, "PROPFIND /api/search HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 2);
       },
       {{"status", 501}, {"answers", 1}, {"says Connection: close", 1}, {"closed by the server", 1}}},
      {"POST expecting 100-continue", "a POST head with Expect: 100-continue, waiting for the go-ahead", {},
       [](LiveServer& s) {
         return send_and_read(s.port, "POST /api/search HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n");
       },
       {{"status", 405}, {"answers", 1}, {"closed by the server", 1}}},
      {"more slow clients than max_connections, and more arriving",
       "max_connections 64: 64 connections sending a header line a second, and a new silent connection every 10 ms, "
       "while 50 ordinary requests are made",
       [](ServerOptions& o) { o.max_connections = 64; },
       [](LiveServer& s) {
         std::vector<RawConnection> slow;
         for (int i = 0; i < 64; ++i) {
           slow.emplace_back(s.port);
           slow.back().send(slow_head);
         }
         std::atomic<bool> done{false};
         std::thread trickle([&] {
           while (!done) {
             for (auto& c : slow) c.send("X-Slow: 1\r\n");
             for (int i = 0; i < 20 && !done; ++i) std::this_thread::sleep_for(50ms);
           }
         });
         std::this_thread::sleep_for(1500ms);  // the slow ones are now older than a visitor's connection
         std::thread churn([&] {
           std::deque<RawConnection> newcomers;
           while (!done) {
             newcomers.emplace_back(s.port);
             if (newcomers.size() > 200) newcomers.pop_front();
             std::this_thread::sleep_for(10ms);
           }
         });
         const Ordinary busy = ordinary_requests(s.port, kOrdinaryRequests);
         done = true;
         churn.join();
         trickle.join();
         return Facts{{"ordinary requests not answered", static_cast<long>(kOrdinaryRequests) - busy.ok}};
       },
       {{"ordinary requests not answered", 0}}},
      {"a Range header of 200 parts on a results page", "Range: bytes=0-,0-,… (200 parts) on /?q=ms&per_page=100", {},
       [](LiveServer& s) {
         std::string ranges = "Range: bytes=0-";
         for (int i = 1; i < 200; ++i) ranges += ",0-";
         RawConnection c(s.port);
         c.send(get("/?q=ms&per_page=100", ranges + "\r\n") + get("/?q=ms&per_page=100"));
         auto ranged = c.read_response(15s), whole = c.read_response(15s);
         Facts f;
         f["status"] = ranged ? ranged->status : 0;
         f["the whole page, once"] = ranged && whole && ranged->body == whole->body;
         return f;
       },
       {{"status", 200}, {"the whole page, once", 1}}},
      {"pipelining, three requests", "three requests in one write", {},
       [](LiveServer& s) {
         RawConnection c(s.port);
         c.send(get("/healthz") + get("/nope") + get("/api/topics"));
         Facts f;
         auto a = c.read_response(15s), b = c.read_response(15s), d = c.read_response(15s);
         f["answers in order"] = a && b && d && a->body == "{\"status\":\"ok\"}" && b->status == 404 &&
                                 b->body.find("no route /nope") != std::string::npos && d->status == 200 &&
                                 d->body.starts_with("{\"topics\"");
         f["open after"] = c.poll_open();
         return f;
       },
       {{"answers in order", 1}, {"open after", 1}}},
      {"pipelining, a hundred requests", "100 requests in one write, every third a health check, the others 404s naming their path", {},
       [](LiveServer& s) {
         RawConnection c(s.port);
         std::string burst;
         for (int i = 0; i < 100; ++i) burst += i % 3 == 0 ? get("/healthz") : get("/nope-" + std::to_string(i));
         c.send(burst);
         long in_order = 0;
         for (int i = 0; i < 100; ++i) {
           auto r = c.read_response(15s);
           if (!r) break;
           const bool right = i % 3 == 0 ? r->status == 200
                                         : r->body.find("no route /nope-" + std::to_string(i) + "\"") != std::string::npos;
           in_order += right ? 1 : 0;
         }
         return Facts{{"answers in order", in_order}};
       },
       {{"answers in order", 100}}},
      {"keep-alive", "20 requests one after the other on one connection", {},
       [](LiveServer& s) {
         RawConnection c(s.port);
         Facts f;
         for (int i = 0; i < 20; ++i) {
           c.send(get("/healthz"));
           auto r = c.read_response(15s);
           if (!r || r->status != 200) break;
           ++f["answered"];
           f["says timeout=60, max=1000"] = r->header("keep-alive") == "timeout=60, max=1000";
         }
         f["open after"] = c.poll_open();
         return f;
       },
       {{"answered", 20}, {"says timeout=60, max=1000", 1}, {"open after", 1}}},
      {"keep_alive_requests honoured", "4 requests on one connection to a server with keep_alive_requests: 3",
       [](ServerOptions& o) { o.keep_alive_requests = 3; },
       [](LiveServer& s) { return send_and_read(s.port, get("/healthz") + get("/healthz") + get("/healthz") + get("/healthz"), 4); },
       {{"answers", 3}, {"says Connection: close", 1}, {"closed by the server", 1}}},
      {"keep_alive_seconds honoured", "one request, then silence, to a server with keep_alive_seconds: 1",
       [](ServerOptions& o) { o.keep_alive_seconds = 1; },
       [](LiveServer& s) { return send_and_read(s.port, get("/healthz")); },
       {{"status", 200}, {"closed by the server", 1}}},
      {"HTTP/1.0", "an HTTP/1.0 request without keep-alive", {},
       [](LiveServer& s) { return send_and_read(s.port, "GET /healthz HTTP/1.0\r\n\r\n"); },
       {{"status", 200}, {"closed by the server", 1}}},
      {"oversized URI", "a 20 KB request target", {},
       [](LiveServer& s) { return send_and_read(s.port, get("/api/search?q=" + std::string(20000, 'a'))); },
       {{"status", 414}, {"closed by the server", 1}}},
      {"oversized header", "a 100 KB header field", {},
       [](LiveServer& s) { return send_and_read(s.port, get("/healthz", "X-Big: " + std::string(100000, 'b') + "\r\n")); },
       {{"status", 431}, {"closed by the server", 1}}},
      {"2 GB body declared on GET", "Content-Length: 2147483648 and no body", {},
       [](LiveServer& s) { return send_and_read(s.port, get("/healthz", "Content-Length: 2147483648\r\n")); },
       {{"status", 413}, {"closed by the server", 1}}},
      {"2 GB body declared on POST", "Content-Length: 2147483648 and no body", {},
       [](LiveServer& s) { return send_and_read(s.port, "POST /api/search HTTP/1.1\r\nHost: x\r\nContent-Length: 2147483648\r\n\r\n"); },
       {{"status", 413}, {"closed by the server", 1}}},
      {"body over the limit, sent", "a POST with a 100 KB body", {},
       [](LiveServer& s) {
         return send_and_read(s.port, "POST /api/search HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + std::string(100000, 'x'));
       },
       {{"status", 413}, {"closed by the server", 1}}},
      {"small body on GET", "a GET with a 5-byte body, then a second request", {},
       [](LiveServer& s) { return send_and_read(s.port, get("/healthz", "Content-Length: 5\r\n") + "hello" + get("/healthz", "Connection: close\r\n"), 2); },
       {{"answers", 2}, {"status", 200}, {"closed by the server", 1}}},
      {"chunked body", "Transfer-Encoding: chunked", {},
       [](LiveServer& s) { return send_and_read(s.port, get("/healthz", "Transfer-Encoding: chunked\r\n") + "5\r\nhello\r\n0\r\n\r\n"); },
       {{"status", 411}, {"closed by the server", 1}}},
      {"Content-Length twice", "two different Content-Length values", {},
       [](LiveServer& s) { return send_and_read(s.port, get("/healthz", "Content-Length: 1\r\nContent-Length: 2\r\n") + "ab"); },
       {{"status", 400}, {"closed by the server", 1}}},
      {"bare LF", "lines ending in LF only", {},
       [](LiveServer& s) { return send_and_read(s.port, "GET /healthz HTTP/1.1\nHost: x\n\n"); },
       {{"status", 400}, {"closed by the server", 1}}},
      {"not HTTP", "binary junk ending in an empty line", {},
       [](LiveServer& s) { return send_and_read(s.port, std::string("\x16\x03\x01\x00\xff junk\r\n\r\n", 15)); },
       {{"status", 400}, {"closed by the server", 1}}},
      {"many connections at once", "300 connections each send a search in one burst, then read", {},
       [](LiveServer& s) {
         test::raise_open_file_limit(1024);
         std::vector<RawConnection> conns;
         for (int i = 0; i < 300; ++i) conns.emplace_back(s.port);
         for (auto& c : conns) c.send(get("/api/search?q=ms", "Connection: close\r\n"));
         long answered = 0, ok = 0;
         for (auto& c : conns) {
           auto r = c.read_response(30s);
           answered += r && (r->status == 200 || r->status == 503);
           ok += r && r->status == 200;
         }
         return Facts{{"unanswered", 300 - answered}, {"answered 200", ok}};
       },
       {{"unanswered", 0}}, {{"answered 200", 1}}},
      {"queue overflow", "50 searches at once to a server with one worker and max_queued_requests: 1",
       [](ServerOptions& o) {
         o.threads = 1;
         o.max_queued_requests = 1;
       },
       [](LiveServer& s) {
         std::vector<RawConnection> conns;
         for (int i = 0; i < 50; ++i) conns.emplace_back(s.port);
         for (auto& c : conns) c.send(get("/?q=ms&per_page=50", "Connection: close\r\n"));
         Facts f;
         for (auto& c : conns) {
           auto r = c.read_response(30s);
           ++f[r ? "answered " + std::to_string(r->status) : "unanswered"];
         }
         f["unanswered"] += 0;
         f["counted in /metrics"] = static_cast<long>(s.metric("mssearch_http_connections_cut_total{reason=\"queue_full\"}"));
         return f;
       },
       {{"unanswered", 0}}, {{"answered 503", 1}, {"answered 200", 1}, {"counted in /metrics", 1}}},
      {"a client that never reads", "200 pipelined page requests, nothing read, to a server with one worker", one_worker,
       [](LiveServer& s) { return stuck_reader(s, false); },
       {{"ordinary requests not answered", 0}, {"stuck client cut", 1}}, {{"cuts counted in /metrics", 1}}},
      {"a client that reads a trickle", "200 pipelined page requests, 512 bytes read every 0.1 s, to a server with one worker",
       one_worker, [](LiveServer& s) { return stuck_reader(s, true); },
       {{"ordinary requests not answered", 0}, {"stuck client cut", 1}}, {{"cuts counted in /metrics", 1}}},
      {"close half-way through an answer", "a page request, 100 bytes read, then close; then an ordinary request", {},
       [](LiveServer& s) {
         {
           RawConnection c(s.port, 4096);
           c.send(get("/?q=ms&per_page=50") + get("/?q=ms&per_page=50"));
           char buf[100];
           for (int i = 0; i < 100 && ::recv(c.fd(), buf, sizeof buf, 0) <= 0; ++i) std::this_thread::sleep_for(10ms);
         }
         return Facts{{"ordinary requests not answered", 4 - ordinary_requests(s.port, 4).ok}};
       },
       {{"ordinary requests not answered", 0}}},
      {"connection churn", "2,000 connections opened and closed at once, half of them after sending half a request", {},
       [](LiveServer& s) {
         for (int i = 0; i < 2000; ++i) {
           RawConnection c(s.port);
           if (i % 2 == 0) c.send("GET /healthz HT");
         }
         return Facts{{"ordinary requests not answered", 8 - ordinary_requests(s.port, 8).ok}};
       },
       {{"ordinary requests not answered", 0}}},
      {"connection table full of idle ones", "16 connections silent for over a second, then a request, to a server with max_connections: 16",
       [](ServerOptions& o) { o.max_connections = 16; },
       [](LiveServer& s) {
         std::vector<RawConnection> idle;
         for (int i = 0; i < 16; ++i) idle.emplace_back(s.port);
         // A connection younger than a second that has sent nothing is never evicted (it may be
         // a visitor about to send): these have had their chance.
         std::this_thread::sleep_for(1500ms);
         Facts f = send_and_read(s.port, get("/healthz", "Connection: close\r\n"));
         f["idle ones closed"] = std::count_if(idle.begin(), idle.end(), [](RawConnection& c) { return !c.poll_open(); });
         f["counted in /metrics"] = static_cast<long>(s.metric("mssearch_http_connections_cut_total{reason=\"evicted\"}"));
         return f;
       },
       {{"status", 200}}, {{"idle ones closed", 1}, {"counted in /metrics", 1}}},
      {"connection table full of slow ones", "16 slow requests for over a second, then a request, to a server with max_connections: 16",
       [](ServerOptions& o) { o.max_connections = 16; },
       [](LiveServer& s) {
         std::vector<RawConnection> slow;
         for (int i = 0; i < 16; ++i) {
           slow.emplace_back(s.port);
           slow.back().send(slow_head);
         }
         std::this_thread::sleep_for(1500ms);  // only a request arriving for over a second may be closed for room
         return send_and_read(s.port, get("/healthz", "Connection: close\r\n"));
       },
       {{"status", 200}}},
      {"one client holding many connections", "8 silent connections from one address, then a request from it, and another after one closed, to a server with max_connections_per_client: 8",
       [](ServerOptions& o) { o.max_connections_per_client = 8; },
       [](LiveServer& s) {
         std::vector<RawConnection> held;
         for (int i = 0; i < 8; ++i) held.emplace_back(s.port);
         std::this_thread::sleep_for(200ms);  // accepted by the server
         Facts f = send_and_read(s.port, get("/healthz", "Connection: close\r\n"));
         held.pop_back();  // one closed: room for one more
         std::this_thread::sleep_for(300ms);
         f["status after one closed"] = send_and_read(s.port, get("/healthz", "Connection: close\r\n"))["status"];
         return f;
       },
       {{"status", 503}, {"status after one closed", 200}}},
      {"port in use", "a second `mssearch serve` on the port this server listens on", {},
       [](LiveServer& s) { return port_in_use(s); },
       {{"exit code", 2}, {"says the port is in use", 1}, {"still answers", 1}}},
      {"terminal escapes in the request", "ESC, BEL, BS and DEL in the target, and a request line that is not HTTP (real binary)", {},
       [](LiveServer& s) { return access_log(s); },
       {{"control bytes in the log", 0}, {"escaped ESC in the log", 1}, {"request lines", 3},
        {"lines without the client's address", 0}},
       {{"line for the unparsable request", 1}}},
  };
}

// A row as the README's table shows it: the client, what it does, and each expected fact.
std::string hostile_table_row(const Row& row) {
  std::string outcome;
  for (const auto& [name, value] : row.expected) outcome += (outcome.empty() ? "" : "; ") + name + " " + std::to_string(value);
  for (const auto& [name, value] : row.at_least) outcome += (outcome.empty() ? "" : "; ") + name + " ≥ " + std::to_string(value);
  return "| " + row.name + " | " + row.how + " | " + outcome + " |";
}

}  // namespace

TEST_CASE("hostile clients: the README's table has every row, with its expected outcome", "[server][hostile]") {
  const std::string readme = test::read_file(test::source_dir() / "README.md");
  std::string expected;
  for (const auto& row : hostile_rows()) expected += hostile_table_row(row) + "\n";
  const fs::path table = fs::temp_directory_path() / "mssearch-hostile-clients-table.md";
  test::write_file(table, expected);
  INFO("README.md's \"Hostile clients, row by row\" table must hold every row of " << table.string());
  for (const auto& row : hostile_rows()) CHECK(readme.find(hostile_table_row(row)) != std::string::npos);
}

TEST_CASE("hostile clients: each row gets the documented outcome and the server keeps answering",
          "[server][hostile]") {
  for (const auto& row : hostile_rows()) {
    SECTION(row.name) {
      LiveServer server(test::shared_index(), [&](ServerOptions& o) {
        o.request_timeout_seconds = kRequestTimeout;
        o.write_timeout_seconds = kWriteTimeout;
        if (row.options) row.options(o);
      });
      INFO(row.name << ": " << row.how);
      Facts facts = row.run(server);
      for (const auto& [name, value] : row.expected) {
        INFO(name);
        CHECK(facts[name] == value);
      }
      for (const auto& [name, value] : row.at_least) {
        INFO(name << " (at least)");
        CHECK(facts[name] >= value);
      }
      // Whatever was done to it, the server answers an ordinary request afterwards.
      auto after = server.get("/healthz");
      REQUIRE(after);
      CHECK(after->status == 200);
    }
  }
}

TEST_CASE("requests with a target in absolute form are routed by their path", "[server]") {
  // RFC 9112, 3.2.2: `GET http://host/path HTTP/1.1` (from a proxy or a monitor) was a 404.
  LiveServer s(test::shared_index(), {});
  RawConnection c(s.port);
  REQUIRE(c.send("GET http://127.0.0.1/api/search?q=astrocytes HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                 "GET HTTP://example.org HTTP/1.1\r\nHost: example.org\r\n\r\n"
                 "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  auto search = c.read_response(15s);
  REQUIRE(search);
  CHECK(search->status == 200);
  CHECK(nlohmann::json::parse(search->body)["total"].get<int>() > 0);
  auto root = c.read_response(15s);  // no path: the page at /
  REQUIRE(root);
  CHECK(root->status == 200);
  CHECK(root->header("content-type").starts_with("text/html"));
  auto health = c.read_response(15s);  // the next request on the connection is intact
  REQUIRE(health);
  CHECK(health->status == 200);
}
