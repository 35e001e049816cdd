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

# Exit 1 (some articles refused, named above; the rest indexed) and 3 (another index job holds
# the index; nothing changed) leave an index to serve: go on to serve it (set -e ended the
# script here). Any other failure stops.
status=0
"$BIN" index corpus --db data/index || status=$?
case "$status" in
  0) ;;
  1) echo "run.sh: some articles were refused (listed above), the rest are indexed: serving all the same" >&2 ;;
  3) echo "run.sh: another index job holds data/index (exit 3): serving the index as it is" >&2 ;;
  *) echo "run.sh: mssearch index failed (exit $status): not serving" >&2; exit "$status" ;;
esac
exec "$BIN" serve --config mssearch.yaml "$@"
