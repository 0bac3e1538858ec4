#!/usr/bin/env bash
# Bunker's side of queue_limit: claim + complete of QUEUE_ITEMS (100,000) metadata-only jobs through Bunker's own queue
# code (ReplicationJobs: lease-based SKIP LOCKED claim; GroupCommit + FinishJob: a batch of finished jobs per transaction), QUEUE_CLIENTS (8) worker threads,
# claiming 1 and 32 jobs per statement. The cluster is a throwaway one with the anchors' settings (lib.sh pg_conf,
# durable defaults) plus a TCP listener, since JDBC does not speak unix sockets.
set -euo pipefail
cd "$(dirname "$0")"; source ./lib.sh; source ./common.sh
QD=$PERF/bunker-queue; QPORT=$((PGPORT+3))
pg_cluster "$QD" "$QPORT"
run_test_class dev.bunker.replication.QueueBench \
  "jdbc:postgresql://127.0.0.1:$QPORT/postgres" postgres "${QUEUE_ITEMS:-100000}" "${QUEUE_CLIENTS:-8}"
