#!/usr/bin/env bash
# Deep pages: one index against shard servers behind a coordinator, page by page.
#
#   bench/deep_pages.sh MSSEARCH OUT [COPIES] [SHARDS] [REPEATS]
#
# The sample articles of corpus/, COPIES times each (80: 4,000 articles) under other ids, are
# indexed once as one index and once as SHARDS shards (3), each served by `serve --shard-server`
# on 127.0.0.1; a coordinator over them answers twice: with query-then-fetch from page 11 (the
# default `shard_fetch_from_offset`) and without it (1000000). Each URL is asked REPEATS times
# (7) of each of the three servers in turn; the table gives each one's median wall time.
# Every server searches every request (--no-result-cache). Everything it starts it stops; ports
# 18180-18199.
set -euo pipefail
MSSEARCH=$(realpath "$1")
OUT=$2
COPIES=${3:-80}
SHARDS=${4:-3}
REPEATS=${5:-7}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$OUT"
OUT=$(realpath "$OUT")
cd "$OUT"  # no mssearch.yaml of the working folder read by any server: the three share the defaults
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

rm -rf "$OUT/articles" "$OUT/one" "$OUT/sharded"
mkdir -p "$OUT/articles"
for ((c = 0; c < COPIES; ++c)); do
  mkdir -p "$OUT/articles/c$c"
  for f in "$ROOT"/corpus/*.md; do
    [ "$(basename "$f")" = README.md ] && continue
    sed -e "s/^id: \(.*\)$/id: \1-c$c/" "$f" >"$OUT/articles/c$c/$(basename "$f")"
  done
done
"$MSSEARCH" index "$OUT/articles" --db "$OUT/one" --quiet >/dev/null
"$MSSEARCH" index "$OUT/articles" --db "$OUT/sharded" --shards "$SHARDS" --quiet >/dev/null

wait_ready() {
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$1/readyz" >/dev/null && return 0
    sleep 0.1
  done
  echo "deep_pages: the server on port $1 did not get ready" >&2
  exit 1
}
"$MSSEARCH" serve --db "$OUT/one" --port 18180 --synonyms '' --no-result-cache >"$OUT/one.log" 2>&1 &
pids+=($!)
shard_urls=()
for ((s = 0; s < SHARDS; ++s)); do
  port=$((18190 + s))
  "$MSSEARCH" serve --db "$(printf '%s/sharded/shard-%02d' "$OUT" "$s")" --port "$port" --shard-server --synonyms '' --no-result-cache \
    >"$OUT/shard-$s.log" 2>&1 &
  pids+=($!)
  shard_urls+=(--shard "http://127.0.0.1:$port")
done
for ((s = 0; s < SHARDS; ++s)); do wait_ready $((18190 + s)); done
printf 'shard_fetch_from_offset: 1000000\n' >"$OUT/no-fetch.yaml"
"$MSSEARCH" serve --port 18181 --synonyms '' --no-result-cache "${shard_urls[@]}" >"$OUT/fetch.log" 2>&1 &
pids+=($!)
"$MSSEARCH" serve --config "$OUT/no-fetch.yaml" --port 18182 --synonyms '' --no-result-cache "${shard_urls[@]}" >"$OUT/no-fetch.log" 2>&1 &
pids+=($!)
for port in 18180 18181 18182; do wait_ready "$port"; done

median_ms() {  # URL: the median of REPEATS wall times, in ms
  local times=()
  for ((r = 0; r < REPEATS; ++r)); do
    times+=("$(curl -s -o /dev/null -w '%{time_total}' "$1")")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v n="$REPEATS" '{ a[NR] = $1 } END { printf "%.1f", a[int((n + 1) / 2)] * 1000 }'
}
echo "| query | one index | coordinator, no fetch | coordinator, fetch from page 11 |"
echo "| --- | --- | --- | --- |"
for q in "q=ms&page=1" "q=ms&page=11" "q=ms&page=101" "q=ms&page=301" "sort=date&page=11" "sort=date&page=101" \
         "sort=date&page=301"; do
  # Warm each once, then interleave the three servers.
  for port in 18180 18181 18182; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/search?$q")
    [ "$code" = 200 ] || { echo "deep_pages: $q answered $code on port $port" >&2; exit 1; }
  done
  one=$(median_ms "http://127.0.0.1:18180/api/search?$q")
  nofetch=$(median_ms "http://127.0.0.1:18182/api/search?$q")
  fetch=$(median_ms "http://127.0.0.1:18181/api/search?$q")
  echo "| \`$q\` | $one ms | $nofetch ms | $fetch ms |"
done
