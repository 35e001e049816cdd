// Where one request ends in a connection's bytes (server/request_framer.h): what the connection
// gate relies on to hand workers whole requests and to refuse the rest before they cost one.
#include <catch2/catch.hpp>

#include <string>

#include "server/request_framer.h"

using namespace mssearch;
using namespace std::string_literals;
using Kind = Framing::Kind;

TEST_CASE("framer: whole requests, pipelined ones and bodies", "[server][framer]") {
  const FramingLimits limits;
  const std::string get = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  CHECK(frame_request("", limits).kind == Kind::kIncomplete);
  for (std::size_t cut = 1; cut < get.size(); ++cut) {
    INFO(cut);
    CHECK(frame_request(get.substr(0, cut), limits).kind == Kind::kIncomplete);
  }
  auto f = frame_request(get + get, limits);
  CHECK(f.kind == Kind::kComplete);
  CHECK(f.length == get.size());
  // Empty lines before a request are skipped, not taken for a bad request line.
  f = frame_request("\r\n\r\n" + get, limits);
  CHECK(f.kind == Kind::kComplete);
  CHECK(f.skip == 4);
  CHECK(f.length == get.size());

  const std::string with_body = "GET / HTTP/1.1\r\nhost: x\r\ncontent-length:  5 \r\n\r\n";
  CHECK(frame_request(with_body + "hell", limits).kind == Kind::kIncomplete);
  f = frame_request(with_body + "helloGET", limits);
  CHECK(f.kind == Kind::kComplete);
  CHECK(f.length == with_body.size() + 5);
  // Repeats that agree are one length.
  CHECK(frame_request("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab", limits).kind == Kind::kComplete);
  // HTTP/1.0, an absolute target, OPTIONS *: request lines cpp-httplib reads.
  for (const char* line : {"GET /?q=a%20b HTTP/1.0", "GET http://h/x?q=1 HTTP/1.1", "OPTIONS * HTTP/1.1", "HEAD / HTTP/1.1",
                           "TRACE / HTTP/1.1", "CONNECT h:443 HTTP/1.1"})
    CHECK(frame_request(std::string(line) + "\r\nHost: h\r\n\r\n", limits).kind == Kind::kComplete);
  // HTTP/1.0 did not require Host.
  CHECK(frame_request("GET / HTTP/1.0\r\n\r\n", limits).kind == Kind::kComplete);
}

TEST_CASE("framer: POST and the like are complete at their head", "[server][framer]") {
  const FramingLimits limits;
  for (const std::string method : {"POST", "PUT", "PATCH", "DELETE"}) {
    INFO(method);
    const std::string head = method + " /api/search HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n";
    const auto f = frame_request(head, limits);
    CHECK(f.kind == Kind::kHeadOnly);
    CHECK(f.length == head.size());
  }
}

TEST_CASE("framer: refusals name the status", "[server][framer]") {
  const FramingLimits limits;
  struct Case {
    std::string bytes;
    int status;
  };
  const std::vector<Case> cases = {
      {"GET /" + std::string(9000, 'a'), 414},  // no line end yet, and already too long
      {"GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n\r\n", 414},
      {"GET / HTTP/1.1\r\nX: " + std::string(9000, 'b'), 431},
      {"GET / HTTP/1.1\r\nX: " + std::string(9000, 'b') + "\r\n\r\n", 431},
      {"GET / HTTP/1.1\r\nContent-Length: 16385\r\n\r\n", 413},
      {"POST / HTTP/1.1\r\nContent-Length: 2147483648\r\n\r\n", 413},
      {"GET / HTTP/1.1\r\nContent-Length: 99999999999999999999999999\r\n\r\n", 413},
      {"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 411},
      {"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n", 400},
      {"GET / HTTP/1.1\nHost: x\n\n", 400},
      {"GET / HTTP/1.1\r\nHost: x\n\r\n", 400},
      {"GET / HTTP/1.1\r\nContent-Length : 5\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n folded: x\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nno colon\r\n\r\n", 400},
      // RFC 9110 5.1, 5.5: a name is a token, a value holds no control character but a tab; a
      // bare CR inside a line (read as a line's end by another parser: a request smuggled past
      // one Content-Length) was taken in.
      {"GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: x\r\nX(y): z\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n"s, 400},  // `s`: the NUL and what follows it kept
      {"GET / HTTP/1.1\r\nHost: x\r\nX\0: a\r\n\r\n"s, 400},
      {"GET / HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: x\rContent-Length: 49\r\n\r\nGET /api/articles/SMUGGLED HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: x\r\nX: a\x7f\r\n\r\n", 400},
      // Request lines cpp-httplib cannot read (it answered 400 saying Keep-Alive, then closed).
      {"GET / HTTP/2.0\r\n\r\n", 505},
      {"GET / HTTP/1.2\r\n\r\n", 505},
      {"get / HTTP/1.1\r\n\r\n", 400},
      {"GET  / HTTP/1.1\r\n\r\n", 400},
      {"GET /\r\n\r\n", 400},
      {"GET / HTTP/1.1 x\r\n\r\n", 400},
      {"GET / FTP/1.1\r\n\r\n", 400},
      {std::string("GET /a\0b HTTP/1.1\r\n\r\n", 21), 400},
      {"GET /a\x01b HTTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\r\nHost: x\r\n\r\n", 400},  // a bare CR before the line's end: was 505
      {"GET / HTTP/1.1\x7f\r\n\r\n", 400},
      // RFC 9112 3.2: a target is a path, a whole URL or (OPTIONS) `*` (this was a 404).
      {"GET api/search?q=ms HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"GET ftp://x/ HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      // RFC 9112, 3.2: HTTP/1.1 without Host, and any request with two.
      {"GET / HTTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nX-Host: x\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400},
      {"GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", 400},
      // A method the server does not know: not implemented, from the head (cpp-httplib said 400).
      {"PROPFIND / HTTP/1.1\r\nHost: x\r\n\r\n", 501},
      {"FOO /api/search?q=ms HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n", 501},
      // Methods are case-sensitive tokens: `get` is one this server does not implement (it was
      // a 400, "not one HTTP defines"); a method that is no token is malformed.
      {"get / HTTP/1.1\r\nHost: x\r\n\r\n", 501},
      {"G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
  };
  for (const auto& c : cases) {
    INFO(c.bytes.substr(0, 80));
    const auto f = frame_request(c.bytes, limits);
    CHECK(f.kind == Kind::kRefuse);
    CHECK(f.status == c.status);
    CHECK_FALSE(f.reason.empty());
  }
  // A buffer of the largest request there can be is always whole or refused, never "more".
  const std::string most = std::string(max_request_size(limits), 'x');
  CHECK(frame_request(most, limits).kind == Kind::kRefuse);
}

TEST_CASE("framer: header values may hold tabs and bytes past ASCII", "[server][framer]") {
  const FramingLimits limits;
  for (const std::string bytes : {"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\tb\r\n\r\n",
                                  "GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: caf\xc3\xa9 \xff\r\n\r\n",
                                  "GET / HTTP/1.1\r\nHost: x\r\nX!#$%&'*+-.^_`|~9: y\r\n\r\n"}) {
    INFO(bytes);
    CHECK(frame_request(bytes, limits).kind == Kind::kComplete);
  }
}

TEST_CASE("framer: a target in absolute form becomes its origin form", "[server][framer]") {
  auto origin = [](std::string request) {
    const std::size_t before = request.size();
    const std::size_t shrunk = absolute_to_origin_form(request);
    CHECK(before - shrunk == request.size());
    return request;
  };
  CHECK(origin("GET http://h:8080/api/search?q=x HTTP/1.1\r\nHost: h\r\n\r\n") ==
        "GET /api/search?q=x HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(origin("GET HTTPS://h HTTP/1.1\r\n\r\n") == "GET / HTTP/1.1\r\n\r\n");
  CHECK(origin("GET http://h?q=1 HTTP/1.1\r\n\r\n") == "GET /?q=1 HTTP/1.1\r\n\r\n");
  // Origin form, other schemes, a path that only looks like a URL, and no line end: untouched.
  for (const char* same : {"GET /x HTTP/1.1\r\n\r\n", "GET ftp://h/x HTTP/1.1\r\n\r\n",
                           "GET /http://h/x HTTP/1.1\r\n\r\n", "GET http://h/x HTTP/1.1", "GET\r\n\r\n"})
    CHECK(origin(same) == same);
}
