#!/usr/bin/env bash
# Keeps a local replica of a primary's index current (xapian-replicate), for `mssearch serve
# --db REPLICA_DIR` on this machine. Updates are applied atomically; the server notices a new
# revision within a second and serves it without a restart.
# Usage: scripts/replica-follow.sh PRIMARY_HOST PORT MASTER_NAME REPLICA_DIR [INTERVAL_SECONDS (default 60)]
#        add --once as a sixth argument to fetch one update and exit (cron, tests).
set -euo pipefail
host=${1:?usage: replica-follow.sh PRIMARY_HOST PORT MASTER_NAME REPLICA_DIR [INTERVAL] [--once]}
port=${2:?port}
name=${3:?master name}
replica=${4:?replica directory}
interval=${5:-60}
once=()
[ "${6:-}" = "--once" ] && once=(--one-shot)
# --verbose logs each update ("Update complete: 0 copies, 1 changesets"); -r: give readers (the mssearch server) up to 5 s to move off a revision before it is reused.
exec xapian-replicate --host "$host" --port "$port" --master "$name" --interval "$interval" \
  --reader-time 5 --timeout 30 --verbose "${once[@]}" "$replica"
