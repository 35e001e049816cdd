#!/usr/bin/env bash
# The performance suite, one command (it installs what is missing and builds the release tree
# first): for each collection size, mssearch (one index, and 4 local shards counted in parallel
# and one after another) and its peers (a plain Xapian program, SQLite FTS5, FlexSearch in node)
# on the same generated articles and query mix, one after another in one run;
# then wrk against `mssearch serve` and against FlexSearch behind node's http server at 1, 8 and
# 64 connections. Writes
# OUT/results.jsonl, OUT/report.md (figures and ratios) and OUT/plot.png, and prints the report.
#   bench/run.sh [--smoke] [--out DIR] [N ...]        (default N: 10000 100000)
# --smoke: 2,000 articles, a short mix and 2 s of wrk each (what CI runs: it checks the suite
# works, its figures mean nothing). Nothing is asserted about time: this machine is shared.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="$here/build/release"
out="$here/build/bench"
sizes=() queries=600 seconds=10 smoke=0
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1; queries=120; seconds=2 ;;
    --out) out="$2"; shift ;;
    *) sizes+=("$1") ;;
  esac
  shift
done
[ ${#sizes[@]} -gt 0 ] || { [ $smoke -eq 1 ] && sizes=(2000) || sizes=(10000 100000); }
bash "$here/scripts/install-deps.sh" --bench >&2
(cd "$here" && cmake --preset release >/dev/null && cmake --build --preset release -j "$(nproc)" >&2)
# FlexSearch exactly as locked.
npm ci --prefix "$here/bench/flexsearch" --no-audit --no-fund --loglevel=error >&2
mkdir -p "$out"
out="$(cd "$out" && pwd)"  # absolute: the plot script names its output by this path
results="$out/results.jsonl"
: >"$results"
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

source "$here/scripts/lib/start_server.sh"  # start_server LOG SECONDS COMMAND...: sets $server, $port

# under_wrk ENGINE N: wrk at 1, 8 and 64 connections against $server on $port with the mix of
# N articles, one JSON line each (with the server's resident memory), then stops the server.
under_wrk() {
  local engine="$1" n="$2" c threads line rss
  for c in 1 8 64; do
    threads=$(( c < 2 ? 1 : 2 ))
    line=$(BENCH_URLS="$work/urls-$n.txt" timeout $((seconds + 30)) wrk -t$threads -c$c -d${seconds}s --timeout 5s \
             -s "$here/bench/wrk_urls.lua" "http://127.0.0.1:$port" | sed -n 's/^WRK //p')
    rss=$(awk '/^VmRSS/ {print $2 / 1024}' "/proc/$server/status")
    [ -n "$line" ] || { echo "bench: wrk printed no figures" >&2; exit 1; }
    echo "$line" | sed "s/^{/{\"engine\":\"$engine\",\"articles\":$n,\"connections\":$c,\"rss_mib\":$rss,/" >>"$results"
  done
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
}

for n in "${sizes[@]}"; do
  echo "bench: $n articles: mssearch (index, 1 % reindex, queries)" >&2
  "$build/bench/search_bench" --articles "$n" --queries "$queries" --db "$work/mssearch-$n" \
    --export-queries "$work/urls-$n.txt" --json >>"$results"
  echo "bench: $n articles: mssearch over 4 local shards, counted in parallel and one after another" >&2
  "$build/bench/search_bench" --articles "$n" --queries "$queries" --db "$work/sharded-$n" --shards 4 \
    --engine "mssearch, 4 local shards" --json >>"$results"
  "$build/bench/search_bench" --articles "$n" --queries "$queries" --db "$work/sharded-$n" --shards 4 --skip-index \
    --serial-shards --engine "mssearch, 4 shards one after another" --json >>"$results"
  rm -rf "$work/sharded-$n"
  echo "bench: $n articles: plain Xapian" >&2
  "$build/bench/peer_xapian" --articles "$n" --queries "$queries" --dir "$work/xapian-$n" >>"$results"
  rm -rf "$work/xapian-$n"
  echo "bench: $n articles: SQLite FTS5" >&2
  "$build/bench/peer_fts5" --articles "$n" --queries "$queries" --dir "$work/fts5-$n" >>"$results"
  rm -rf "$work/fts5-$n"

  echo "bench: $n articles: FlexSearch" >&2
  bytes=$("$build/bench/export_corpus" --articles "$n" --queries "$queries" --corpus "$work/corpus-$n.jsonl" \
            --mix "$work/mix-$n.jsonl" | sed 's/.*"corpus_bytes":\([0-9]*\).*/\1/')
  node "$here/bench/flexsearch/peer_flexsearch.mjs" --corpus "$work/corpus-$n.jsonl" --mix "$work/mix-$n.jsonl" \
    --corpus-bytes "$bytes" >>"$results"

  echo "bench: $n articles: mssearch serve under wrk" >&2
  start_server "$work/serve.log" 60 "$build/cli/mssearch" serve --db "$work/mssearch-$n" --host 127.0.0.1 --port 0 \
    --threads 8 --no-access-log
  under_wrk "mssearch serve" "$n"
  echo "bench: $n articles: FlexSearch (node http) under wrk" >&2
  # Up to 5 minutes: the FlexSearch server indexes the collection before it listens.
  start_server "$work/serve.log" 300 node "$here/bench/flexsearch/peer_flexsearch.mjs" --corpus "$work/corpus-$n.jsonl" --serve 0
  under_wrk "FlexSearch (node http)" "$n"
  rm -f "$work/corpus-$n.jsonl"
  rm -rf "$work/mssearch-$n"
done

machine="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(date -u +%Y-%m-%d)"
"$build/bench/bench_report" "$results" --plot "$out/plot" --machine "$machine" >"$out/report.md"
(cd "$out" && gnuplot plot.gp)
cat "$out/report.md"
echo "bench: wrote $out/report.md and $out/plot.png" >&2
