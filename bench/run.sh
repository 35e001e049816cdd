#!/usr/bin/env bash
# The performance suite, one command (it installs what is missing and builds the release tree
# first): for each collection size, mssearch (one index, and 4 local shards counted in parallel
# and one after another) and its peers (a plain Xapian program, SQLite FTS5, FlexSearch in node,
# Groonga in process, Sphinx 2.2's searchd over SphinxQL, then its distributed index over 4
# searchd agents on 127.0.0.1) on the same generated articles and query mix, one after another
# in one run; then wrk against `mssearch serve`, against FlexSearch behind node's http server
# and against Groonga's own HTTP server at 1, 8 and 64 connections (Sphinx 2.2 has no HTTP
# API). Writes OUT/results.jsonl, OUT/report.md (figures and ratios) and OUT/plot.png, and
# prints the report.
#   bench/run.sh [--smoke] [--rounds R] [--out DIR] [N ...]        (default N: 10000 100000)
# --smoke: 2,000 articles, a short mix and 2 s of wrk each (what CI runs: it checks the suite
# works, its figures mean nothing). --rounds R (default 1): R interleaved rounds, each running
# every engine in turn on the same size; the report gives each ratio as the median over the
# rounds (min–max), each taken within one round. Nothing is asserted about time: this machine is
# shared.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="$here/build/release"
out="$here/build/bench"
sizes=() queries=600 seconds=10 smoke=0 rounds=1
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1; queries=120; seconds=2 ;;
    --out) [ $# -ge 2 ] || { echo "bench: --out wants a directory" >&2; exit 2; }; out="$2"; shift ;;
    --rounds) rounds="${2:-}"; [ $# -lt 2 ] || shift ;;
    *) [[ "$1" =~ ^[1-9][0-9]*$ ]] || { echo "bench: '$1' is neither an option nor a number of articles" >&2; exit 2; }
       sizes+=("$1") ;;
  esac
  shift
done
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "bench: --rounds wants a positive number, not '$rounds'" >&2; exit 2; }
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
# Every step may fail here (set -e applies in the trap too): a server that Ctrl-C already ended
# cannot be killed again, and that must not leave the working directory behind. The script's
# children are stopped too: on a SIGTERM to this script alone, the peer running in the
# foreground (and Sphinx's searchd under it) would otherwise run on to its end, orphaned.
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
  pkill -TERM -P $$ 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

source "$here/scripts/lib/start_server.sh"  # start_server LOG SECONDS COMMAND...: sets $server, $port

# record: appends stdin's JSON lines to the results, each marked with the round it belongs to.
record() { sed "s/^{/{\"round\":$round,/" >>"$results"; }

# start_groonga DB: Groonga's own HTTP server on the database at a free 127.0.0.1 port (8
# threads, as mssearch serve; no query log, as mssearch serve runs without its access log),
# waiting up to 60 s for it to accept; sets $server and $port.
start_groonga() {
  local tries
  for tries in $(seq 50); do
    port=$(( 20000 + RANDOM % 40000 ))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
  done
  groonga --protocol http -s --bind-address 127.0.0.1 --port "$port" --max-threads 8 \
    --log-path "$work/groonga.log" "$1" >"$work/groonga.out" 2>&1 &
  server=$!
  for tries in $(seq 600); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
  done
  echo "bench: groonga did not listen on 127.0.0.1:$port" >&2
  cat "$work/groonga.out" "$work/groonga.log" >&2 || true
  return 1
}

# under_wrk ENGINE N [URLS]: wrk at 1, 8 and 64 connections against $server on $port with the
# mix of N articles (mssearch's /api/search URLs unless URLS names another list), one JSON line
# each (with the server's resident memory), then stops the server.
under_wrk() {
  local engine="$1" n="$2" urls="${3:-$work/urls-$n.txt}" c threads line rss
  for c in 1 8 64; do
    threads=$(( c < 2 ? 1 : 2 ))
    line=$(BENCH_URLS="$urls" timeout $((seconds + 30)) wrk -t$threads -c$c -d${seconds}s --timeout 5s \
             -s "$here/bench/wrk_urls.lua" "http://127.0.0.1:$port" | sed -n 's/^WRK //p')
    rss=$(awk '/^VmRSS/ {print $2 / 1024}' "/proc/$server/status")
    [ -n "$line" ] || { echo "bench: wrk printed no figures" >&2; exit 1; }
    echo "$line" | sed "s/^{/{\"engine\":\"$engine\",\"articles\":$n,\"connections\":$c,\"rss_mib\":$rss,/" | record
  done
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
}

for n in "${sizes[@]}"; do
for round in $(seq "$rounds"); do
  [ "$rounds" -eq 1 ] || echo "bench: $n articles: round $round of $rounds" >&2
  echo "bench: $n articles: mssearch (index, 1 % reindex, queries)" >&2
  "$build/bench/search_bench" --articles "$n" --queries "$queries" --db "$work/mssearch-$n" \
    --export-queries "$work/urls-$n.txt" --json | record
  echo "bench: $n articles: mssearch over 4 local shards, counted in parallel and one after another" >&2
  "$build/bench/search_bench" --articles "$n" --queries "$queries" --db "$work/sharded-$n" --shards 4 \
    --engine "mssearch, 4 local shards" --json | record
  "$build/bench/search_bench" --articles "$n" --queries "$queries" --db "$work/sharded-$n" --shards 4 --skip-index \
    --serial-shards --engine "mssearch, 4 shards one after another" --json | record
  rm -rf "$work/sharded-$n"
  echo "bench: $n articles: plain Xapian" >&2
  "$build/bench/peer_xapian" --articles "$n" --queries "$queries" --dir "$work/xapian-$n" | record
  rm -rf "$work/xapian-$n"
  echo "bench: $n articles: SQLite FTS5" >&2
  "$build/bench/peer_fts5" --articles "$n" --queries "$queries" --dir "$work/fts5-$n" | record
  rm -rf "$work/fts5-$n"

  echo "bench: $n articles: FlexSearch" >&2
  bytes=$("$build/bench/export_corpus" --articles "$n" --queries "$queries" --corpus "$work/corpus-$n.jsonl" \
            --mix "$work/mix-$n.jsonl" | sed 's/.*"corpus_bytes":\([0-9]*\).*/\1/')
  node "$here/bench/flexsearch/peer_flexsearch.mjs" --corpus "$work/corpus-$n.jsonl" --mix "$work/mix-$n.jsonl" \
    --corpus-bytes "$bytes" | record

  echo "bench: $n articles: Groonga (libgroonga in process)" >&2
  # The database is kept for Groonga's HTTP server below.
  "$build/bench/peer_groonga" --articles "$n" --queries "$queries" --dir "$work/groonga-$n" --keep \
    --urls "$work/groonga-urls-$n.txt" | record
  echo "bench: $n articles: Sphinx 2.2 (indexer, searchd over SphinxQL)" >&2
  "$build/bench/peer_sphinx" --articles "$n" --queries "$queries" --dir "$work/sphinx-$n" | record
  echo "bench: $n articles: Sphinx 2.2 distributed (4 parts, 4 searchd agents, a front searchd)" >&2
  "$build/bench/peer_sphinx" --articles "$n" --queries "$queries" --dir "$work/sphinx-$n" --agents 4 | record

  echo "bench: $n articles: mssearch serve under wrk" >&2
  start_server "$work/serve.log" 60 "$build/cli/mssearch" serve --db "$work/mssearch-$n" --host 127.0.0.1 --port 0 \
    --threads 8 --no-access-log --no-result-cache  # the mix repeats under wrk: searched, as Groonga's cache=no
  under_wrk "mssearch serve" "$n"
  echo "bench: $n articles: FlexSearch (node http) under wrk" >&2
  # Up to 5 minutes: the FlexSearch server indexes the collection before it listens.
  start_server "$work/serve.log" 300 node "$here/bench/flexsearch/peer_flexsearch.mjs" --corpus "$work/corpus-$n.jsonl" --serve 0
  under_wrk "FlexSearch (node http)" "$n"
  echo "bench: $n articles: Groonga (groonga --protocol http) under wrk" >&2
  start_groonga "$work/groonga-$n/db"
  under_wrk "Groonga (HTTP)" "$n" "$work/groonga-urls-$n.txt"
  rm -f "$work/corpus-$n.jsonl"
  rm -rf "$work/mssearch-$n" "$work/groonga-$n"
done
done

machine="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(date -u +%Y-%m-%d)"
"$build/bench/bench_report" "$results" --plot "$out/plot" --machine "$machine" >"$out/report.md"
(cd "$out" && gnuplot plot.gp)
cat "$out/report.md"
echo "bench: wrote $out/report.md and $out/plot.png" >&2
