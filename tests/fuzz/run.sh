#!/usr/bin/env bash
# Runs every libFuzzer target for a bounded time, after replaying the kept regression inputs.
# Usage: tests/fuzz/run.sh BUILD_DIR [SECONDS_PER_TARGET]   (default 60; env MSSEARCH_FUZZ_SECONDS)
# A crash, leak, UBSan report, timeout (>10 s per input) or out-of-memory (>2 GB) fails the run;
# libFuzzer writes the input to BUILD_DIR/fuzz-artifacts/. Fix the bug, then keep the input in
# tests/fuzz/regressions/TARGET/ so that it is replayed on every run.
set -euo pipefail
build=$(cd "$1" && pwd)
seconds=${2:-${MSSEARCH_FUZZ_SECONDS:-60}}
here=$(cd "$(dirname "$0")" && pwd)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"
status=0
for target in fuzz_article fuzz_jsonl fuzz_query fuzz_http fuzz_index_job fuzz_shard_protocol; do
  bin="$build/tests/fuzz/$target"
  work="$build/fuzz-corpus/$target"   # grows between local runs; the repo's seeds stay as they are
  mkdir -p "$work"
  regressions=()
  if compgen -G "$here/regressions/$target/*" >/dev/null; then regressions=("$here/regressions/$target"/*); fi
  if [ ${#regressions[@]} -gt 0 ]; then
    "$bin" -runs=0 "${regressions[@]}" >"$artifacts/$target.replay.log" 2>&1 \
      || { echo "fuzz: $target fails a kept regression input"; tail -30 "$artifacts/$target.replay.log"; status=1; continue; }
  fi
  if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
       -print_final_stats=1 -artifact_prefix="$artifacts/$target-" \
       "$work" "$here/corpus/$target" >"$artifacts/$target.log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$artifacts/$target.log" | grep -o '[0-9]*$' || echo "?")
    cov=$(grep -o 'cov: [0-9]*' "$artifacts/$target.log" | tail -1 | grep -o '[0-9]*' || echo "?")
    echo "fuzz: $target ok: $runs inputs in ${seconds} s, ${cov} edges covered, ${#regressions[@]} regression inputs replayed"
  else
    echo "fuzz: $target FAILED (input kept in $artifacts/):"
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$artifacts/$target.log" | head -10
    tail -40 "$artifacts/$target.log"
    status=1
  fi
done
exit $status
