#!/usr/bin/env bash
# Serves an mssearch index to replicas with Xapian's replication protocol (xapian-replicate-server).
# Usage: scripts/replica-primary.sh INDEX_DIR [PORT (default 7010)] [INTERFACE (default 127.0.0.1)]
# Replicas fetch it by its directory name (the "master" name), e.g. `index` for data/index.
# For replicas to receive changesets (small deltas) instead of full copies after each
# incremental run, the nightly job on this machine indexes with `mssearch index --changesets 10`.
# A `--full` rebuild is a new database: replicas then fetch a full copy, automatically.
set -euo pipefail
index=${1:?usage: replica-primary.sh INDEX_DIR [PORT] [INTERFACE]}
port=${2:-7010}
interface=${3:-127.0.0.1}
[ -e "$index/XAPIANDB" ] || [ -e "$index/iamglass" ] || { echo "replica-primary: no index at $index" >&2; exit 2; }
parent=$(cd "$(dirname "$index")" && pwd)
name=$(basename "$index")
echo "replica-primary: serving $parent/$name as '$name' on $interface:$port"
echo "replica-primary: on each replica: scripts/replica-follow.sh THIS_HOST $port $name REPLICA_DIR"
exec xapian-replicate-server --interface "$interface" --port "$port" "$parent"
