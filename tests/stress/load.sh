#!/usr/bin/env bash
# Load test: wrk against a real `mssearch serve` on 127.0.0.1 with the sample corpus, mixed
# queries (mixed_queries.lua), while incremental index jobs (and one --full) commit. Fails on any
# socket error, timeout or non-2xx answer, on jobs that did not commit, or if resident memory
# after the second load phase grew by more than 10 % + 4 MiB over the first (a leak). Prints the
# figures (requests/s, p50, p99, memory) and writes them to OUT_DIR/load.md. Times are reported,
# never asserted. Under the sanitizer build the server's LeakSanitizer report at exit is checked.
# Usage: load.sh MSSEARCH_BIN SOURCE_DIR OUT_DIR [SECONDS_PER_PHASE (default 10)] [CONNECTIONS (default 16)]
# LOAD_CHECK_RSS=0 skips the memory check (sanitizer builds, whose allocator quarantine grows
# by design; LeakSanitizer checks for leaks there instead).
set -euo pipefail
bin=$1 src=$2 out=$3 seconds=${4:-10} conns=${5:-16}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../scripts/lib/start_server.sh"
command -v wrk >/dev/null || { echo "load: wrk is not installed (scripts/install-deps.sh --test)"; exit 1; }
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$out"
cp -r "$src/corpus" "$work/articles"
"$bin" index "$work/articles" --db "$work/db" -q >/dev/null
start_server "$work/serve.log" 20 "$bin" serve --db "$work/db" --synonyms "$work/articles/synonyms.yaml" \
  --host 127.0.0.1 --port 0 --threads 8 --no-access-log
url="http://127.0.0.1:$port"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$server/status"; }

phase() {  # phase NAME: one wrk run; prints its report to $work/NAME.wrk
  timeout $((seconds + 30)) wrk -t2 -c"$conns" -d"${seconds}s" --timeout 5s --latency \
    -s "$here/mixed_queries.lua" "$url" >"$work/$1.wrk"
}
check() {  # check NAME: no socket errors, no non-2xx
  if grep -qE 'Socket errors|Non-2xx' "$work/$1.wrk"; then
    echo "load: $1 phase had errors:"; cat "$work/$1.wrk"; exit 1
  fi
}

# Phase 1 (warm-up): caches and worker handles fill up.
phase warm
check warm
rss_warm=$(rss)

# Phase 2: the same load while index jobs commit every second or so, the third one --full. The
# load lasts until at least three jobs have committed and SECONDS_PER_PHASE has passed: how many
# jobs fit in a fixed window depends on how busy the machine is (a server that keeps both cores
# busy slows them, under the sanitizers to ~4 s a job), and is not what this test checks.
timeout $((seconds + 180)) wrk -t2 -c"$conns" -d"$((seconds + 150))s" --timeout 5s --latency \
  -s "$here/mixed_queries.lua" "$url" >"$work/load.wrk" &
loader=$!
commits=0
start=$SECONDS
while { [ $commits -lt 3 ] || [ $((SECONDS - start)) -lt "$seconds" ]; } && [ $((SECONDS - start)) -lt $((seconds + 120)) ]; do
  commits=$((commits + 1))
  printf '\nLoad-test edit %s.\n' "$commits" >>"$work/articles/astrocytes-two-faces.md"
  if [ $commits -eq 3 ]; then "$bin" index "$work/articles" --db "$work/db" -q --full >/dev/null
  else "$bin" index "$work/articles" --db "$work/db" -q >/dev/null; fi
  sleep 1
done
kill -INT "$loader" 2>/dev/null || true  # wrk prints its figures when interrupted
wait "$loader" || true
grep -q 'requests in' "$work/load.wrk" || { echo "load: wrk printed no figures"; cat "$work/load.wrk"; exit 1; }
check load
rss_load=$(rss)
[ "$commits" -ge 3 ] || { echo "load: only $commits index jobs committed during the load"; exit 1; }

# The server must still be up and answering from the newest revision.
curl -sf "$url/readyz" >/dev/null || { echo "load: /readyz failed after the load"; exit 1; }

# Stop it as systemd would; the sanitizer build runs LeakSanitizer at exit.
kill -TERM "$server"
set +e; wait "$server"; code=$?; set -e
server=""
if [ $code -ne 0 ] || grep -q 'LeakSanitizer\|AddressSanitizer\|runtime error' "$work/serve.log"; then
  echo "load: server exited with $code"; tail -40 "$work/serve.log"; exit 1
fi

figure() { grep -E "^ *$2" "$work/$1.wrk" | awk '{print $2}' | head -1; }
rps=$(grep 'Requests/sec' "$work/load.wrk" | awk '{print $2}')
total=$(grep -E 'requests in' "$work/load.wrk" | awk '{print $1}')
{
  echo "| phase | requests | requests/s | p50 | p99 | server RSS after |"
  echo "| --- | --- | --- | --- | --- | --- |"
  echo "| warm-up | $(grep -E 'requests in' "$work/warm.wrk" | awk '{print $1}') | $(grep 'Requests/sec' "$work/warm.wrk" | awk '{print $2}') | $(figure warm 50%) | $(figure warm 99%) | $((rss_warm / 1024)) MiB |"
  echo "| load + $commits index commits | $total | $rps | $(figure load 50%) | $(figure load 99%) | $((rss_load / 1024)) MiB |"
} >"$out/load.md"
echo "load: $conns connections, ${seconds} s per phase (the second until the index jobs are done), 0 errors, 0 non-2xx; $commits index jobs committed during the load"
cat "$out/load.md"
limit=$((rss_warm + rss_warm / 10 + 4096))
if [ "${LOAD_CHECK_RSS:-1}" = 1 ] && [ "$rss_load" -gt "$limit" ]; then
  echo "load: resident memory grew from $rss_warm KiB to $rss_load KiB (limit $limit KiB): a leak?"
  exit 1
fi
