// UTF-8 validation shared by everything that takes text from outside (articles, HTTP params).
#pragma once

#include <cstddef>
#include <string_view>

namespace mssearch {

// Offset of the first byte that is not well-formed UTF-8 (or a NUL), or npos.
std::size_t find_invalid_utf8(std::string_view text);

}  // namespace mssearch
