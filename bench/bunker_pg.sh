#!/usr/bin/env bash
# Bunker's side of pg_anchor, on the same bench db (pgbench -i -s 50 + the mixed table) in the same cluster:
#   bunker_db_backup_s : `bunker db backup` (pg_dump -Fc -Z0 | zstd -3 | age, streamed into a local store, fsynced,
#                        manifest, catalog; row counts in the dump's snapshot), wall time of the CLI incl. JVM start
#   bunker_db_restore_s: `bunker db restore` into a fresh database: read + SHA-256 + age -d + zstd -d to a temp file,
#                        then pg_restore -j 2, over the unix socket when the target is local and the login works there
#                        (compare with pg_anchor's drill_decrypt_decompress_s + pg_restore_z0_j2_s)
#   ..._jdk17_*        : the same on JDK 17 (BENCH_JAVA17), beside the newest JDK that bin/jdk picks
# The cluster gets a TCP listener on 127.0.0.1 (JDBC has no unix sockets); pg_anchor keeps using the socket.
set -euo pipefail
cd "$(dirname "$0")"; source ./lib.sh; source ./common.sh
bench_db_source
W=$PERF/bunker-pg; rm -rf "$W"; mkdir -p "$W"
trap 'PSQL -d postgres -c "drop database if exists r_bunker" >&2 || true; rm -rf "$W"' EXIT
cat > "$W/bunker.yaml" <<YAML
stores:
  primary: {type: local, path: $W/stores/primary}
  vault:   {type: local, path: $W/stores/vault, lock: {period: 21d}}
backups:
  recipients: ["$R"]
  stores: [vault]
  sources:
    bench: {url: "postgresql://bunker_backup@127.0.0.1:$PGPORT/bench"}
YAML
DBB=$(bench_db_bytes)
run_on() { # JAVA SUFFIX: backup then restore with that JVM; figures named bunker_db_{backup,restore}SUFFIX_*
  local B; B=$(bunker_cmd "$1"); local sfx=$2 t
  $B config check --config "$W/bunker.yaml" --data-dir "$W" >/dev/null 2>&1
  $B status --config "$W/bunker.yaml" --data-dir "$W" >/dev/null 2>&1   # first start: initdb of Bunker's embedded db, untimed
  $B db list --config "$W/bunker.yaml" --data-dir "$W" >/dev/null 2>&1  # untimed: writes the `db` commands' class-data archive
  t=$(timeit "$B db backup --config $W/bunker.yaml --data-dir $W --source bench --kind dump")
  fig "bunker_db_backup${sfx}_s" "$t" s
  fig "bunker_db_backup${sfx}_MB" "$(mb "$(find "$W/stores/vault/objects" -name '*.age' -printf '%s\n' | tail -n 1)")" MB
  fig "bunker_db_backup${sfx}_MBps" "$(mb "$(div "$DBB" "$t")")" MB/s
  PSQL -d postgres -c "drop database if exists r_bunker" -c "create database r_bunker" >&2
  t=$(timeit "$B db restore --config $W/bunker.yaml --data-dir $W --backup latest --identity $PERF/age.key --target postgresql://postgres@127.0.0.1:$PGPORT/r_bunker")
  fig "bunker_db_restore${sfx}_s" "$t" s
  fig "bunker_db_restore${sfx}_MBps" "$(mb "$(div "$DBB" "$t")")" MB/s
  q="select (select count(*) from pgbench_accounts) || '/' || (select count(*) from mixed)"
  [ "$(PSQL -d r_bunker -tAc "$q")" = "$(PSQL -d bench -tAc "$q")" ] || { log "VERIFY FAILED"; exit 1; }
  fig "bunker_db_restore${sfx}_verified" 1 bool
}
run_on "$JAVA" ""
# The same on JDK 17 (the oldest Bunker supports), when it is here and not the JVM above: age without ChaCha20 intrinsics
JAVA17=${BENCH_JAVA17:-/usr/lib/jvm/java-17-openjdk-amd64/bin/java}
if [ -x "$JAVA17" ] && [ "$(readlink -f "$JAVA17")" != "$(readlink -f "$JAVA")" ]; then run_on "$JAVA17" _jdk17; fi
