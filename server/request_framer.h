// Finds where one HTTP/1.1 request ends in the bytes read so far from a connection, without
// parsing it further: enough for the accept layer (connection_gate.h) to hand a worker only a
// whole request, and to refuse an oversized or unframeable one before any worker sees it.
// Parsing proper (request line, headers, routing) stays with cpp-httplib.
//
// Strict on purpose, since the answer decides where the next request on the connection begins
// (request smuggling): every line must end in CRLF, a header name may not end in whitespace,
// Content-Length must be one plain decimal number (repeats must agree), and a request with
// Transfer-Encoding is refused (only the internal endpoint takes a body, sized by
// Content-Length, and a chunked one cannot be skipped without decoding it).
//
// Thread-safety: a pure function.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mssearch {

struct FramingLimits {
  std::size_t max_request_line = 8192;  // 414 beyond (cpp-httplib's own URI limit)
  std::size_t max_header_bytes = 8192;  // the header fields after the request line: 431 beyond
  std::size_t max_body_bytes = 16384;   // a declared Content-Length above: 413
  // The one path whose POSTs are read with their body (a shard server's internal endpoint);
  // empty: none. Every other POST is answered from its head.
  std::string body_path;
  // A declared Content-Length above this (or above max_body_bytes, the larger) on body_path: 413.
  std::size_t max_body_path_bytes = 0;
};

struct Framing {
  enum class Kind {
    kIncomplete,  // wait for more bytes
    kComplete,    // `length` bytes from `skip` on (head and body) are one request
    kHeadOnly,    // POST/PUT/PATCH/DELETE (but a POST to body_path): the head (`length` bytes)
                  // is complete and no route takes a body, so it is answered now (405) without
                  // waiting for the body, and the connection closes after the answer
    kRefuse,      // answer `status` and close: 400, 411, 413, 414, 431, 501 (a method the
                  // server does not know) or 505
  };
  Kind kind = Kind::kIncomplete;
  std::size_t skip = 0;         // empty lines before the request, to drop (RFC 9112, 2.2)
  std::size_t length = 0;       // kComplete and kHeadOnly
  int status = 0;               // kRefuse
  std::string_view reason;      // kRefuse: a metrics label ("too_large", "bad_framing")
  std::string_view message;     // kRefuse: what was wrong, for the answer
};

Framing frame_request(std::string_view bytes, const FramingLimits& limits);

// RFC 9112, 3.2.2: a server must accept a target in absolute form (`GET http://host/path
// HTTP/1.1`, as proxies and some monitors send it). Rewrites the request line at the start of
// `request` to the origin form cpp-httplib routes (`/path`, `/` when the URL has no path, the
// query kept) and returns how many bytes shorter the request became; 0 when it was not absolute.
std::size_t absolute_to_origin_form(std::string& request);

// The most bytes one request may take (request line, headers and body at their limits): a
// buffer holding this many bytes is always either a whole request or refused.
std::size_t max_request_size(const FramingLimits& limits);

}  // namespace mssearch
