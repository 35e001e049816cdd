// The access log: one line per answer on stderr, `address method target status time`. Every
// field a client chose is escaped, so that a request cannot write control sequences (ESC, CR,
// BEL...) to an operator's terminal or forge a second log line.
//
// Thread-safety: pure functions; a line is printed with one write.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mssearch {

// Printable ASCII as it is, a backslash doubled, every other byte as \xNN; "-" when empty.
std::string escape_log_field(std::string_view field);

// `peer method target status 1.2ms` (or `-` for the time of an answer given before routing).
std::string access_log_line(std::string_view peer, std::string_view method, std::string_view target,
                            int status, std::optional<double> milliseconds);

// One line of the server's log (an access line, a warning, an error) on stderr, with one write
// (stderr is unbuffered); never throws: fmt::print throws when stderr cannot be written (a full
// disk), and a server thread that threw ended the process.
void print_log_line(std::string_view line);

}  // namespace mssearch
