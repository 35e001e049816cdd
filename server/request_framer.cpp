#include "server/request_framer.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>

namespace mssearch {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Framing refuse(std::size_t skip, int status, std::string_view reason, std::string_view message) {
  Framing f;
  f.kind = Framing::Kind::kRefuse;
  f.skip = skip;
  f.status = status;
  f.reason = reason;
  f.message = message;
  return f;
}

// The methods whose requests may carry a body. No public route takes one, so they are answered
// from their head alone (but a POST to FramingLimits::body_path).
bool takes_body(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

// The methods the server knows (RFC 9110's, as cpp-httplib parses them): GET, HEAD and OPTIONS
// are served; the others are refused 405 with Allow (TRACE and CONNECT too, by the server).
bool known_method(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || takes_body(method) || method == "TRACE" ||
         method == "CONNECT";
}

// RFC 9110's tchar: what a header field's name is made of.
bool is_token_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

}  // namespace

std::size_t max_request_size(const FramingLimits& limits) {
  return limits.max_request_line + limits.max_header_bytes + limits.max_body_bytes;
}

Framing frame_request(std::string_view bytes, const FramingLimits& limits) {
  constexpr std::uint64_t kTooLarge = std::numeric_limits<std::uint64_t>::max();
  std::size_t skip = 0;
  while (bytes.size() - skip >= 2 && bytes[skip] == '\r' && bytes[skip + 1] == '\n') skip += 2;
  const std::string_view b = bytes.substr(skip);
  Framing incomplete;
  incomplete.skip = skip;
  if (b.empty()) return incomplete;

  // The request line, CRLF included, within cpp-httplib's limit (which answers 414 too).
  const std::size_t eol = b.find('\n');
  if (eol == std::string_view::npos)
    return b.size() >= limits.max_request_line
               ? refuse(skip, 414, "too_large", "the request line is over the limit")
               : incomplete;
  if (eol + 1 > limits.max_request_line) return refuse(skip, 414, "too_large", "the request line is over the limit");
  if (eol == 0 || b[eol - 1] != '\r') return refuse(skip, 400, "bad_framing", "a line ends without CR");
  const std::string_view request_line = b.substr(0, eol - 1);
  const std::string_view method = request_line.substr(0, request_line.find(' '));
  // The request line as cpp-httplib reads it: METHOD SP target SP HTTP/1.x. One it cannot read
  // (`HTTP/2.0`, `get`, a NUL in the target) it answered 400 saying "Keep-Alive" and then closed
  // the connection, a request pipelined behind it left unanswered: refused here, the answer says
  // it closes.
  {
    const std::size_t sp1 = request_line.find(' ');
    const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : request_line.find(' ', sp1 + 1);
    if (sp1 == 0 || sp2 == std::string_view::npos || sp2 == sp1 + 1 || request_line.find(' ', sp2 + 1) != std::string_view::npos)
      return refuse(skip, 400, "bad_framing", "the request line is not METHOD TARGET HTTP/1.1");
    // A method is a token (RFC 9110, 9.1), case-sensitive: `get` is a method this server does
    // not implement (501 below, as the README says), not a malformed request (helper-98).
    if (!std::all_of(method.begin(), method.end(), is_token_char))
      return refuse(skip, 400, "bad_framing", "the method is not a token (RFC 9110)");
    // A bare CR (`GET / HTTP/1.1\r\r\n`, read as the line's end by another parser), NUL or
    // other control character anywhere in the line: 400 (the version `HTTP/1.1\r` was a 505).
    const auto control = [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; };
    if (std::any_of(request_line.begin(), request_line.end(), control))
      return refuse(skip, 400, "bad_framing",
                    std::any_of(request_line.begin() + sp1, request_line.begin() + sp2, control)
                        ? "the request target holds a control character"
                        : "the request line holds a control character");
    const std::string_view version = request_line.substr(sp2 + 1);
    if (version != "HTTP/1.1" && version != "HTTP/1.0")
      return version.starts_with("HTTP/") ? refuse(skip, 505, "bad_framing", "only HTTP/1.0 and HTTP/1.1 are served")
                                          : refuse(skip, 400, "bad_framing", "the request line does not end in HTTP/1.1");
    const std::string_view target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    // RFC 9112 3.2: a path (origin form), a whole URL (absolute form, routed by its path), for
    // OPTIONS `*`, for CONNECT host:port (no route: 404 after); `GET api/search` was routed as
    // no route (404) too.
    const auto absolute = [&](std::string_view scheme) {
      return target.size() > scheme.size() && iequals(target.substr(0, scheme.size()), scheme);
    };
    if (target.front() != '/' && !absolute("http://") && !absolute("https://") && !(target == "*" && method == "OPTIONS") &&
        method != "CONNECT")
      return refuse(skip, 400, "bad_framing", "the request target is not a path (/…)");
  }

  std::size_t pos = eol + 1;
  std::uint64_t content_length = 0;
  bool has_length = false, chunked = false;
  int hosts = 0;
  for (;;) {
    const std::size_t nl = b.find('\n', pos);
    if (nl == std::string_view::npos) {
      if (b.size() - (eol + 1) > limits.max_header_bytes)
        return refuse(skip, 431, "too_large", "the request's header fields are over the limit");
      return incomplete;
    }
    if (nl + 1 - (eol + 1) > limits.max_header_bytes)
      return refuse(skip, 431, "too_large", "the request's header fields are over the limit");
    if (nl == pos || b[nl - 1] != '\r') return refuse(skip, 400, "bad_framing", "a line ends without CR");
    const std::string_view line = b.substr(pos, nl - 1 - pos);
    pos = nl + 1;
    if (line.empty()) break;  // the end of the head
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || line[0] == ' ' || line[0] == '\t' ||
        line[colon - 1] == ' ' || line[colon - 1] == '\t')
      return refuse(skip, 400, "bad_framing", "a header line is malformed");
    const std::string_view name = line.substr(0, colon);
    // A name is a token and a value holds no control character but a tab (RFC 9110 5.1, 5.5;
    // RFC 9112 2.2: a bare CR inside a line, read as a line's end by another parser, smuggled
    // a second request past one Content-Length).
    if (!std::all_of(name.begin(), name.end(), is_token_char))
      return refuse(skip, 400, "bad_framing", "a header name holds a character a name cannot");
    if (std::any_of(line.begin() + static_cast<std::ptrdiff_t>(colon) + 1, line.end(), [](char c) {
          const auto u = static_cast<unsigned char>(c);
          return (u < 0x20 && c != '\t') || u == 0x7f;
        }))
      return refuse(skip, 400, "bad_framing", "a header value holds a control character (a NUL, a bare CR)");
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "Host")) {
      ++hosts;
    } else if (iequals(name, "Transfer-Encoding")) {
      chunked = true;
    } else if (iequals(name, "Content-Length")) {
      if (value.empty() || !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return refuse(skip, 400, "bad_framing", "Content-Length is not a number");
      std::uint64_t n = 0;
      for (const char c : value) {
        const unsigned digit = static_cast<unsigned>(c - '0');
        n = n > (kTooLarge - digit) / 10 ? kTooLarge : n * 10 + digit;
      }
      if (has_length && n != content_length)
        return refuse(skip, 400, "bad_framing", "Content-Length is given twice with different values");
      has_length = true;
      content_length = n;
    }
  }
  const std::size_t head = pos;
  if (chunked)
    return refuse(skip, 411, "bad_framing",
                  "Transfer-Encoding is not accepted; send Content-Length");
  std::string_view target = request_line.substr(std::min(request_line.size(), method.size() + 1));
  target = target.substr(0, target.find(' '));
  const bool read_body = !limits.body_path.empty() && method == "POST" && target.substr(0, target.find('?')) == limits.body_path;
  if (content_length > (read_body ? std::max(limits.max_body_bytes, limits.max_body_path_bytes) : limits.max_body_bytes))
    return refuse(skip, 413, "too_large", "the request body is over the limit");
  // RFC 9112, 3.2: an HTTP/1.1 request without Host, or any request with two, is answered 400
  // (a proxy and the server could otherwise disagree on which site was asked).
  if (hosts > 1) return refuse(skip, 400, "bad_framing", "the Host header is given twice");
  if (hosts == 0 && request_line.ends_with("HTTP/1.1"))
    return refuse(skip, 400, "bad_framing", "an HTTP/1.1 request must carry a Host header");
  // Any other method (PROPFIND, FOO): not implemented (RFC 9110, 15.6.2), from the head, closing.
  // cpp-httplib could not parse it and answered 400 "bad request".
  if (!known_method(method)) return refuse(skip, 501, "unknown_method", "the method is not implemented; use GET");
  Framing f;
  f.skip = skip;
  if (takes_body(method) && !read_body) {
    f.kind = Framing::Kind::kHeadOnly;
    f.length = head;
    return f;
  }
  if (b.size() < head + content_length) return incomplete;
  f.kind = Framing::Kind::kComplete;
  f.length = head + static_cast<std::size_t>(content_length);
  return f;
}

std::size_t absolute_to_origin_form(std::string& request) {
  const std::size_t line_end = request.find("\r\n");
  const std::size_t target = request.find(' ');
  if (line_end == std::string::npos || target == std::string::npos || target > line_end) return 0;
  const std::size_t target_end = request.find(' ', target + 1);
  if (target_end == std::string::npos || target_end > line_end) return 0;
  const std::string_view url = std::string_view(request).substr(target + 1, target_end - target - 1);
  auto starts_with_nocase = [](std::string_view s, std::string_view p) {
    return s.size() >= p.size() && std::equal(p.begin(), p.end(), s.begin(), [](char lower, char c) {
             return std::tolower(static_cast<unsigned char>(c)) == lower;
           });
  };
  std::size_t authority = 0;
  if (starts_with_nocase(url, "http://")) authority = 7;
  else if (starts_with_nocase(url, "https://")) authority = 8;
  else return 0;
  const std::size_t path = url.find_first_of("/?#", authority);
  std::string origin = path == std::string_view::npos ? "/" : std::string(url.substr(path));
  if (origin.front() != '/') origin.insert(origin.begin(), '/');
  const std::size_t before = request.size();
  request.replace(target + 1, url.size(), origin);
  return before - request.size();
}

}  // namespace mssearch
