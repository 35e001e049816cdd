#include "server/access_log.h"

#include <cstdio>

#include <fmt/format.h>

namespace mssearch {

std::string escape_log_field(std::string_view field) {
  if (field.empty()) return "-";
  std::string out;
  out.reserve(field.size());
  for (const char ch : field) {
    const auto byte = static_cast<unsigned char>(ch);
    if (byte == '\\') out += "\\\\";
    else if (byte > 0x20 && byte < 0x7f) out += ch;
    else out += fmt::format("\\x{:02x}", byte);  // also space: a field stays one word
  }
  return out;
}

std::string access_log_line(std::string_view peer, std::string_view method, std::string_view target,
                            int status, std::optional<double> milliseconds) {
  return fmt::format("{} {} {} {} {}\n", escape_log_field(peer), escape_log_field(method), escape_log_field(target),
                     status, milliseconds ? fmt::format("{:.1f}ms", *milliseconds) : "-");
}

void print_log_line(std::string_view line) { std::fwrite(line.data(), 1, line.size(), stderr); }

}  // namespace mssearch
