#!/usr/bin/env bash
# Bunker's side of queue_limit: claim + complete of QUEUE_ITEMS (100,000) metadata-only jobs through Bunker's own queue
# code (ReplicationJobs: lease-based SKIP LOCKED claim; GroupCommit + FinishJob: a batch of finished jobs per transaction), QUEUE_CLIENTS (8) worker threads,
# claiming 1 and 32 jobs per statement. The cluster is a throwaway one with the anchors' settings (lib.sh pg_conf,
# durable defaults) plus a TCP listener, since JDBC does not speak unix sockets.
set -euo pipefail
cd "$(dirname "$0")"; source ./lib.sh; source ./common.sh
QD=$PERF/bunker-queue; QPORT=$((PGPORT+3))
stop_q() { pg_stop "$QD/data"; rm -rf "$QD"; }
trap stop_q EXIT
stop_q; mkdir -p "$QD/sock"; chown postgres:postgres "$QD" "$QD/sock"
as_pg "$PGBIN/initdb" -D "$QD/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
pg_conf "$QD/data" "$QPORT" "$QD/sock"
echo "listen_addresses = '127.0.0.1'" >> "$QD/data/postgresql.conf"
as_pg "$PGBIN/pg_ctl" -D "$QD/data" -l "$QD/pg.log" -w -t 120 start >/dev/null
CP=$BUNKER_HOME/target/bench-classpath.txt
[ -f "$CP" ] && [ -f "$BUNKER_HOME/target/test-classes/dev/bunker/replication/QueueBench.class" ] ||
  (cd "$BUNKER_HOME" && mvn -B -q test-compile dependency:build-classpath -Dmdep.outputFile="$CP" >&2)
"$JAVA" -cp "$BUNKER_HOME/target/test-classes:$BUNKER_HOME/target/classes:$(cat "$CP")" dev.bunker.replication.QueueBench \
  "jdbc:postgresql://127.0.0.1:$QPORT/postgres" postgres "${QUEUE_ITEMS:-100000}" "${QUEUE_CLIENTS:-8}"
