#include "schema/utf8.h"

#include <unicode/utf8.h>

#include <cstdint>

namespace mssearch {

std::size_t find_invalid_utf8(std::string_view text) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const auto length = static_cast<int32_t>(text.size());
  int32_t i = 0;
  while (i < length) {
    const int32_t start = i;
    UChar32 c;
    U8_NEXT(s, i, length, c);
    if (c <= 0) return static_cast<std::size_t>(start);
  }
  return std::string_view::npos;
}

}  // namespace mssearch
