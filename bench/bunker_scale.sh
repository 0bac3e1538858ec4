#!/usr/bin/env bash
# The ledger at scale (BENCHMARKS.md, "Ledger at scale"): ScaleBench synthesizes SCALE_N (1,000,000) objects through
# Bunker's schema with the realistic mix (97% live, 1% pending in backoff, 1% trashed, 0.75% waiting for purge) on a
# throwaway cluster with the anchors' settings (lib.sh pg_conf, durable defaults, plus a TCP listener for JDBC),
# VACUUM ANALYZEs it, and times status, a metrics refresh and scrape, the drill's sample, the purge-due query, a trash
# page, a full reconcile with nothing to fix, PUT-to-verified of real objects, and the ledger's bytes per object.
set -euo pipefail
cd "$(dirname "$0")"; source ./lib.sh; source ./common.sh
SD=$PERF/bunker-scale; SPORT=$((PGPORT+4))
stop_s() { pg_stop "$SD/data"; rm -rf "$SD"; }
trap stop_s EXIT
stop_s; mkdir -p "$SD/sock" "$SD/work"; chown postgres:postgres "$SD" "$SD/sock"
as_pg "$PGBIN/initdb" -D "$SD/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
pg_conf "$SD/data" "$SPORT" "$SD/sock"
echo "listen_addresses = '127.0.0.1'" >> "$SD/data/postgresql.conf"
as_pg "$PGBIN/pg_ctl" -D "$SD/data" -l "$SD/pg.log" -w -t 120 start >/dev/null
CP=$BUNKER_HOME/target/bench-classpath.txt
[ -f "$CP" ] && [ -f "$BUNKER_HOME/target/test-classes/dev/bunker/ScaleBench.class" ] ||
  (cd "$BUNKER_HOME" && mvn -B -q test-compile dependency:build-classpath -Dmdep.outputFile="$CP" >&2)
"$JAVA" -cp "$BUNKER_HOME/target/test-classes:$BUNKER_HOME/target/classes:$(cat "$CP")" dev.bunker.ScaleBench \
  "jdbc:postgresql://127.0.0.1:$SPORT/postgres" postgres "${SCALE_N:-1000000}" "$SD/work"
