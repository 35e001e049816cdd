#!/usr/bin/env bash
# Starts a real mssearch server on 127.0.0.1 (any free port) over the sample corpus, runs the
# Chromium tests against it (the page, the widget, accessibility), and stops the server.
# Bounded: each script times out (120 s, 180 s).
# Usage: run_browser_test.sh MSSEARCH_BIN SOURCE_DIR SCREENSHOT_DIR
set -euo pipefail
bin=$1 src=$2 shots=$3
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../scripts/lib/start_server.sh"
[ -x /usr/bin/chromium ] || { echo "chromium is not installed (scripts/install-deps.sh installs it)"; exit 1; }
[ -d "$here/node_modules/playwright-core" ] || { echo "run: npm ci --prefix tests/browser"; exit 1; }
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$shots"
"$bin" index "$src/corpus" --db "$work/db" -q >/dev/null
start_server "$work/out" 10 "$bin" serve --db "$work/db" --synonyms "$src/corpus/synonyms.yaml" \
  --host 127.0.0.1 --port 0 --threads 4 --no-access-log --analytics "$work/analytics.sqlite"
timeout 120 node "$here/search_page.mjs" "http://127.0.0.1:$port" "$shots"
timeout 180 node "$here/accessibility.mjs" "http://127.0.0.1:$port" "$shots"
