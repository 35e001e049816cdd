#!/usr/bin/env bash
# The main job: installs what is missing, builds (optimised), indexes corpus/ and serves it.
# The server runs in the foreground and prints its URL; Ctrl-C stops it.
# Extra arguments go to `mssearch serve` (e.g. --port 9000).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
BIN=build/release/cli/mssearch

"$BIN" index corpus --db data/index
exec "$BIN" serve --config mssearch.yaml "$@"
