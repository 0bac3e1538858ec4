#!/usr/bin/env bash
# Runs Bunker's bench scripts and the anchors (../shared/anchors) in ONE run_all.sh session, round-robin, so each
# comparison is side by side on the same noisy machine. The anchors folder is read-only: it is copied to a scratch
# folder with Bunker's scripts added. Usage: bench/run_side_by_side.sh [SCRIPTS...]
#   default SCRIPTS: "copy_anchor bunker_copy queue_limit bunker_queue"; RUNS (3) and the anchors' knobs apply.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export BUNKER_HOME=$(cd "$here/.." && pwd)
anchors=${ANCHORS:-$BUNKER_HOME/../shared/anchors}
[ -d "$anchors" ] || { echo "anchors not found at $anchors (set ANCHORS=)" >&2; exit 2; }
for tool in rclone fio hyperfine age zstd; do command -v $tool >/dev/null || missing="${missing:-} $tool"; done
[ -z "${missing:-}" ] || { echo "install first: apt-get install -y${missing} restic pgbackrest" >&2; exit 2; }
work=${BENCH_DIR:-/tmp/bunker-bench}
rm -rf "$work"; mkdir -p "$work"; cp -r "$anchors"/. "$work/"; chmod -R u+w "$work"
cp "$here"/common.sh "$here"/pitr_common.sh "$here"/bunker_*.sh "$work/"
(cd "$BUNKER_HOME" && mvn -B -q -DskipTests package >&2)
rm -f "$BUNKER_HOME/target/bench-classpath.txt"
SCRIPTS=${*:-"copy_anchor bunker_copy queue_limit bunker_queue"} RUNS=${RUNS:-3} exec "$work/run_all.sh"
