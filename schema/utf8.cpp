#include "schema/utf8.h"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <cstdint>

#include <fmt/format.h>

namespace mssearch {

std::size_t utf8_prefix_length(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text.size();
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  auto end = static_cast<int32_t>(max_bytes);
  U8_SET_CP_START(s, 0, end);  // text[max_bytes] begins the character cut off, or is inside it
  return static_cast<std::size_t>(end);
}

namespace {

// Calls `visit(c, begin, end)` for each character of `text` in turn (c < 0 for bytes that are
// not well-formed UTF-8, U8_NEXT's maximal subpart) until it returns false.
template <typename Visit>
void for_each_char(std::string_view text, Visit&& visit) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const auto length = static_cast<int32_t>(text.size());
  int32_t i = 0;
  while (i < length) {
    const int32_t start = i;
    UChar32 c;
    U8_NEXT(s, i, length, c);
    if (!visit(c, static_cast<std::size_t>(start), static_cast<std::size_t>(i))) return;
  }
}

}  // namespace

std::size_t find_invalid_utf8(std::string_view text) {
  std::size_t invalid = std::string_view::npos;
  for_each_char(text, [&](UChar32 c, std::size_t begin, std::size_t) {
    if (c > 0) return true;
    invalid = begin;
    return false;
  });
  return invalid;
}

std::size_t control_char_length(std::string_view text, std::size_t at) {
  if (at >= text.size()) return 0;
  const auto byte = static_cast<unsigned char>(text[at]);
  if (byte < 0x20 || byte == 0x7F) return 1;
  if (byte == 0xC2 && at + 1 < text.size()) {
    const auto next = static_cast<unsigned char>(text[at + 1]);
    if (next >= 0x80 && next <= 0x9F) return 2;
  }
  return 0;
}

std::size_t utf8_char_length(std::string_view text, std::size_t at) {
  if (at >= text.size()) return 0;
  const auto lead = static_cast<unsigned char>(text[at]);
  const std::size_t n = lead < 0x80 ? 1 : lead >= 0xC2 && lead <= 0xDF ? 2 : lead >= 0xE0 && lead <= 0xEF ? 3
                        : lead >= 0xF0 && lead <= 0xF4 ? 4 : 0;
  if (n == 0 || at + n > text.size()) return 0;
  return n == 1 || find_invalid_utf8(text.substr(at, n)) == std::string_view::npos ? n : 0;
}

std::string printable(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    if (const std::size_t control = control_char_length(text, i)) {
      // U+0080..U+009F is 0xC2 then the code point itself.
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(text[i + control - 1]));
      i += control;
    } else if (const std::size_t length = utf8_char_length(text, i); length == 0) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(text[i]));
      ++i;
    } else {
      out += text[i] == '\\' ? std::string("\\\\") : std::string(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

std::string bidi_controls_as_spaces(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for_each_char(text, [&](UChar32 c, std::size_t begin, std::size_t end) {
    if (c >= 0 && u_hasBinaryProperty(c, UCHAR_BIDI_CONTROL)) out += ' ';
    else out.append(text.substr(begin, end - begin));
    return true;
  });
  return out;
}

std::string without_bidi_controls(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for_each_char(text, [&](UChar32 c, std::size_t begin, std::size_t end) {
    if (c < 0 || !u_hasBinaryProperty(c, UCHAR_BIDI_CONTROL)) out.append(text.substr(begin, end - begin));
    return true;
  });
  return out;
}

std::string spaces_as_one(std::string_view text, bool trim) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const bool space = c == ' ' || c == '\t' || c == '\r' || c == '\n';
    if (!space) out += c;
    else if ((!trim || !out.empty()) && (out.empty() || out.back() != ' ')) out += ' ';
  }
  if (trim && !out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace mssearch
