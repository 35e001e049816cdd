#!/usr/bin/env bash
# The main job: installs what is missing, builds (optimised), indexes corpus/ and answers a
# sample search. Extra arguments are passed to the final `mssearch search`.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
BIN=build/release/cli/mssearch
DB=${MSSEARCH_DB:-data/index}

"$BIN" index corpus --db "$DB"
"$BIN" stats --db "$DB"
echo
"$BIN" search "${@:-astrocytes}" --db "$DB" --limit 3
