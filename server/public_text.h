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
// Never the first part of the path as given, nor the working directory's folders above a
// relative path (`index`, `data/index` are "…/index" wherever the server runs): `/srv/index`
// beside `/backup/srv/index` is "…/index", the other "…/srv/index" (the first was shown whole).
// Two that differ in no part a name may show (`/a/x/index` beside `/b/x/index`, `/index` beside
// `/a/index`) are numbered in `among`'s order: the first "…/x/index", the next "…/x/index#2",
// "#3" (a name no other database has; `spec` not in `among` comes after them), so that
// /readyz and /metrics still tell them apart; their order in the configuration says which is
// which.
std::string public_database_name(std::string_view spec, const std::vector<std::string>& among = {});

// `text` with every path taken out but its last part: first the `known` paths (those the
// server was configured with, absolute or relative, as given and as made absolute), each as
// public_database_name names it among them (so never by its first part), then any other
// absolute path (one Xapian's message names: '/srv/data/index/gen-000002/postlist.glass').
// Addresses (tcp://host:port) and the words around are kept.
std::string without_paths(std::string_view text, const std::vector<std::string>& known = {});

}  // namespace mssearch
