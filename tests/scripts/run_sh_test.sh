#!/usr/bin/env bash
# scripts/run.sh with its steps stubbed (install-deps, cmake, mssearch): after `mssearch index`
# exits 1 (some articles refused) or 3 (another job holds the index) it still serves, saying so;
# after any other failure it stops with that code. Under `set -e` it stopped on 1 and 3 too.
# Usage: run_sh_test.sh SOURCE_DIR
set -uo pipefail
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/scripts" "$tmp/build/release/cli" "$tmp/bin"
cp "$src/scripts/run.sh" "$tmp/scripts/run.sh"
echo 'exit 0' >"$tmp/scripts/install-deps.sh"
printf '#!/bin/sh\nexit 0\n' >"$tmp/bin/cmake"
printf '#!/bin/sh\nif [ "$1" = index ]; then exit "$INDEX_EXIT"; fi\necho "served: $*"\n' >"$tmp/build/release/cli/mssearch"
chmod +x "$tmp/bin/cmake" "$tmp/build/release/cli/mssearch"
failed=0
for code in 0 1 3 2 134; do
  out=$(INDEX_EXIT=$code PATH="$tmp/bin:$PATH" bash "$tmp/scripts/run.sh" --port 9 2>&1)
  rc=$?
  case $code in
    0 | 1 | 3) want_rc=0 want="served: serve --config mssearch.yaml --port 9" ;;
    *) want_rc=$code want="not serving" ;;
  esac
  if [[ $rc -ne $want_rc || $out != *"$want"* ]]; then
    echo "index exit $code: run.sh exit $rc, output: $out (expected exit $want_rc and '$want')"
    failed=1
  fi
  if [[ ( $code == 1 || $code == 3 ) && $out != *"run.sh: "*"serving"* ]]; then
    echo "index exit $code: no line saying run.sh serves all the same: $out"
    failed=1
  fi
done
exit $failed
