#!/usr/bin/env bash
# Installs the Debian packages mssearch needs to build and run (with --bench, to run the
# performance suite; with --test, to run every test: browser, fuzzing, load, the bench smoke
# run), skipping those already present.
# As root it runs apt-get; otherwise it lists what is missing and how to install it, and fails.
set -euo pipefail
with_tests=0 with_bench=0
[ "${1:-}" = "--test" ] && with_tests=1 && with_bench=1
[ "${1:-}" = "--bench" ] && with_bench=1

PACKAGES=(
  build-essential cmake pkg-config git
  libxapian-dev xapian-tools libicu-dev libyaml-cpp-dev libcpp-httplib-dev catch2
  nlohmann-json3-dev libcli11-dev libfmt-dev libcmark-dev libxml2-dev libxxhash-dev libzstd-dev libjemalloc-dev
  prometheus-cpp-dev libkainjow-mustache-dev
  libsqlite3-dev
  wamerican wbritish
)
# The performance suite (bench/run.sh): wrk for HTTP, gnuplot for the plot; Node.js for the
# FlexSearch peer (any node >= 18 will do, Debian's if there is none); Groonga (its library for
# peer_groonga, its server for HTTP, the stemming token filter) and Sphinx 2.2 (indexer and
# searchd, asked over SphinxQL through libmariadb) for the other two peers.
if [ $with_bench -eq 1 ]; then
  PACKAGES+=(wrk gnuplot-nox groonga-bin groonga-token-filter-stem libgroonga-dev sphinxsearch libmariadb-dev)
  command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
  command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)
fi
if [ $with_tests -eq 1 ]; then
  # chromium for the browser test (Node.js drives it), clang 16 + its runtime for the libFuzzer
  # targets, wrk for load, sqlite3 for the analytics CLI test.
  PACKAGES+=(chromium clang-16 libclang-rt-16-dev wrk sqlite3)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing Debian packages: ${missing[*]}" >&2
  echo "install-deps: run as root:  apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
