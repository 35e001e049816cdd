// UTF-8 validation shared by everything that takes text from outside (articles, HTTP params).
#pragma once

#include <cstddef>
#include <string_view>

namespace mssearch {

// Offset of the first byte that is not well-formed UTF-8 (or a NUL), or npos.
std::size_t find_invalid_utf8(std::string_view text);

// The length in bytes of the well-formed UTF-8 character at text[at] (1 for ASCII), or 0 for a
// byte that does not begin one.
std::size_t utf8_char_length(std::string_view text, std::size_t at);

// The longest prefix of `text` of at most `max_bytes` that ends on a character boundary (its
// length): a cut that never splits a character.
std::size_t utf8_prefix_length(std::string_view text, std::size_t max_bytes);

// The length in bytes of the control character at text[at]: 1 for C0 (U+0000..U+001F) or DEL
// (U+007F), 2 for C1 (U+0080..U+009F, in UTF-8 0xC2 0x80..0x9F); 0 for anything else. What a
// terminal may read as (part of) an escape sequence: analytics strips these from the words it
// keeps, and `mssearch analytics` escapes any it finds in the file.
std::size_t control_char_length(std::string_view text, std::size_t at);

}  // namespace mssearch
