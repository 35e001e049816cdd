// For tests and the fuzz target only, not the product: a server's request handling without a
// socket.
#pragma once

#include <string>
#include <string_view>

#include "server/http_server.h"

namespace mssearch::testing {

// Serves one raw HTTP/1.1 request held in memory and returns the raw response: the same
// routing, limits and handlers as HttpServer::run().
std::string handle_raw(HttpServer& server, std::string_view request);

}  // namespace mssearch::testing
