# Sourced by the scripts that run a server for a test or a benchmark (tests/stress/load.sh,
# tests/browser/run_browser_test.sh, bench/run.sh).
#
# start_server LOG SECONDS COMMAND...: runs COMMAND in the background with its output in LOG
# and waits up to SECONDS for it to print the 127.0.0.1:PORT it listens on (servers started
# with --port 0 pick a free port and print it). Sets $server (the pid) and $port. On failure
# (it exits, or stays silent too long) prints LOG to stderr and returns 1.
start_server() {
  local log="$1" seconds="$2"; shift 2
  "$@" >"$log" 2>&1 &
  server=$!
  port=""
  local tries=$(( seconds * 10 ))
  for _ in $(seq "$tries"); do
    port=$(grep -o '127.0.0.1:[0-9]*' "$log" | head -1 | cut -d: -f2 || true)
    [ -n "$port" ] && return 0
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
  done
  echo "start_server: $1 did not start listening on 127.0.0.1:" >&2
  cat "$log" >&2
  return 1
}
