// UTF-8 validation shared by everything that takes text from outside (articles, HTTP params).
#pragma once

#include <cstddef>
#include <string>
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

// Text from outside (a path, a recorded query, an article's id or field name in an error) as a
// terminal or a log may show it: the control characters the server strips (control_char_length:
// C0, DEL, C1) written as \xNN with their code point, a byte that is not part of a well-formed
// UTF-8 character as \xNN too (a lone 0x9B is CSI to a terminal in 8-bit mode), and \ as \\.
// The one escaper for what the CLI and the server's log print (JSON output is JSON-escaped instead).
std::string printable(std::string_view text);

// `text` with each run of ASCII white space (space, tab, CR, LF) as one space; `trim`: none at
// either end. The one collapser for a field written over lines, a prefix being typed and a
// recorded query.
std::string spaces_as_one(std::string_view text, bool trim);

// `text` without the invisible controls that reorder what follows them (Unicode's Bidi_Control
// property: U+202E right-to-left override, the other embeddings, isolates and marks). A query
// echoed in a page's title turned the site's name after it backwards. Bytes that are not
// well-formed UTF-8 are kept as they are.
std::string without_bidi_controls(std::string_view text);
// `text` with each Bidi_Control character a space (as folding parts words at one).
std::string bidi_controls_as_spaces(std::string_view text);

}  // namespace mssearch
