// What an answer anyone can ask for (/readyz, /metrics, an API answer's failed_shards) may say
// of the server's own files: a path only by its last part ("…/postlist.glass"), never the
// folders above it. The server's log (stderr) keeps the whole paths, for its operator.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mssearch {

// A database as public answers name it: a remote shard's address (tcp://…, http://…) as it is,
// a local path as "…/" and its last part (`/srv/data/index/` -> "…/index"), or as many of its
// last parts as tell it from every other local path of `among` (the server's own paths):
// `/srv/a/index` beside `/srv/b/index` is "…/a/index", the other "…/b/index". By its last part
// alone, one of two shards named alike that went down was hidden (one /metrics label for both).
std::string public_database_name(std::string_view spec, const std::vector<std::string>& among = {});

// `text` with every path taken out but its last part: first the `known` paths (those the
// server was configured with, absolute or relative, as given and as made absolute), each as
// public_database_name names it among them, then any other absolute path (one Xapian's message names: '/srv/data/index/gen-000002/postlist.glass').
// Addresses (tcp://host:port) and the words around are kept.
std::string without_paths(std::string_view text, const std::vector<std::string>& known = {});

}  // namespace mssearch
