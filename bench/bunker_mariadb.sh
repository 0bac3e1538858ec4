#!/usr/bin/env bash
# Bunker's side of mariadb_anchor, on the anchor's bench db (its source server under $PERF/mariadb, started here from its
# my.cnf when the anchor left it stopped), side by side in one run_all.sh session:
#   bunker_mariadb_dump_s    : `bunker db backup` of bench (mariadb-dump --single-transaction over TCP, zstd -3 and age
#                              in-process, streamed into a local locked store with fsync, rows counted on the way, manifest,
#                              catalog), wall time of the CLI incl. JVM start; compare mariadb_dump_zstd_age_s
#   bunker_mariadb_restore_s : `bunker db restore` into a fresh second server (the anchor's settings, binary log off):
#                              read + SHA-256 + age + zstd to a private temp file, then the mariadb client over TCP;
#                              compare mariadb_restore_sql_s (age -d | zstd -d | mariadb over the socket)
#   bunker_mariadb_physical_s: `bunker db backup --kind base` (mariadb-backup --stream=xbstream, zstd and age in-process,
#                              into the store); compare mariadb_backup_stream_zstd_age_s
#   bunker_mariadb_physical_restore_s: `bunker db restore --target-dir` (download, SHA-256, age, zstd, mbstream -x, then
#                              mariadb-backup --prepare; the server not started); mariadb_backup_restore_s also copies back,
#                              fsyncs and starts the server
set -euo pipefail
cd "$(dirname "$0")"; source ./lib.sh; source ./common.sh
MR=$PERF/mariadb; SOCK=$MR/run/mysqld.sock
W=$PERF/bunker-mariadb; T=$PERF/bunker-mariadb-target
STARTED=""; TPID=""
ping_ok() { mariadb-admin --no-defaults -S "$1" -uroot --connect-timeout=2 ping >/dev/null 2>&1; }
wait_up() { for _ in $(seq 1200); do ping_ok "$1" && return 0; kill -0 "$2" 2>/dev/null || return 1; sleep 0.1; done; return 1; }
cleanup() {
  [ -n "$TPID" ] && { mariadb-admin --no-defaults -S "$T/run/mysqld.sock" -uroot shutdown >/dev/null 2>&1 || kill "$TPID" 2>/dev/null || true; }
  [ -n "$STARTED" ] && { mariadb-admin --no-defaults -S "$SOCK" -uroot shutdown >/dev/null 2>&1 || true; }
  sleep 1; rm -rf "$W" "$T"
}
trap cleanup EXIT
[ -f "$MR/.complete" ] || { log "run mariadb_anchor first (it builds the bench db in $MR)"; exit 1; }
if ! ping_ok "$SOCK"; then
  mariadbd --defaults-file="$MR/my.cnf" </dev/null >>"$MR/run/console.log" 2>&1 & STARTED=$!
  wait_up "$SOCK" "$STARTED" || { log "source mariadbd did not start"; exit 1; }
fi
PORT=$(sed -n 's/^port=//p' "$MR/my.cnf")
SQL() { mariadb --no-defaults -S "$SOCK" -uroot "$@"; }
SQL -e "CREATE USER IF NOT EXISTS 'bunker_bk'@'127.0.0.1' IDENTIFIED BY 'bench-pw';
  GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES ON bench.* TO 'bunker_bk'@'127.0.0.1';
  GRANT SELECT ON mysql.proc TO 'bunker_bk'@'127.0.0.1'; GRANT BINLOG MONITOR ON *.* TO 'bunker_bk'@'127.0.0.1';
  CREATE USER IF NOT EXISTS 'bunker_phys'@'127.0.0.1' IDENTIFIED BY 'bench-pw';
  GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR ON *.* TO 'bunker_phys'@'127.0.0.1';" >&2
# The restore target: a second server with the anchor's settings (its drill server is gone once the anchor exits)
rm -rf "$W" "$T"; mkdir -p "$W" "$T/data" "$T/run"; chown mysql:mysql "$T/data" "$T/run"
TPORT=$PORT; while ss -Htln "( sport = :$TPORT )" | grep -q .; do TPORT=$((TPORT+1)); done
sed -e "s|$MR|$T|g" -e "s/^port=.*/port=$TPORT/" -e "s/^server-id=.*/server-id=3/" -e '/^log-bin=/d' -e '/^binlog_format=/d' -e '/^sync_binlog=/d' \
    "$MR/my.cnf" > "$T/my.cnf"; echo "skip-log-bin" >> "$T/my.cnf"
mariadb-install-db --defaults-file="$T/my.cnf" --auth-root-authentication-method=normal --skip-test-db >"$T/install.log" 2>&1
mariadbd --defaults-file="$T/my.cnf" </dev/null >>"$T/run/console.log" 2>&1 & TPID=$!
wait_up "$T/run/mysqld.sock" "$TPID" || { log "target mariadbd did not start"; tail "$T/run/error.log" >&2; exit 1; }
[ -f "$PERF/age.key" ] || age-keygen -o "$PERF/age.key" 2>/dev/null
R=$(age-keygen -y "$PERF/age.key")
cat > "$W/bunker.yaml" <<YAML
stores:
  primary: {type: local, path: $W/stores/primary}
  vault:   {type: local, path: $W/stores/vault, lock: {period: 21d}}
backups:
  recipients: ["$R"]
  stores: [vault]
  sources:
    bench: {url: "mariadb://bunker_bk@127.0.0.1:$PORT/bench", password: bench-pw}
    server: {url: "mariadb://bunker_phys@127.0.0.1:$PORT/bench", password: bench-pw}
YAML
B=$BUNKER
$B status --config "$W/bunker.yaml" --data-dir "$W" >/dev/null 2>&1   # first start: initdb of Bunker's embedded db, untimed
$B db list --config "$W/bunker.yaml" --data-dir "$W" >/dev/null 2>&1  # untimed: writes the `db` commands' class-data archive
t=$(timeit "$B db backup --config $W/bunker.yaml --data-dir $W --source bench --kind dump")
fig bunker_mariadb_dump_s "$t" s
fig bunker_mariadb_dump_MB "$(mb "$(find "$W/stores/vault/objects" -name '*.age' -printf '%s\n' | tail -n 1)")" MB
t=$(timeit "$B db restore --config $W/bunker.yaml --data-dir $W --backup latest --source bench --identity $PERF/age.key --target mariadb://root@127.0.0.1:$TPORT/bench_restore")
fig bunker_mariadb_restore_s "$t" s
q="SELECT CONCAT((SELECT COUNT(*) FROM pgbench_accounts), '/', (SELECT COUNT(*) FROM mixed), '/', (SELECT SUM(abalance) FROM pgbench_accounts))"
got=$(mariadb --no-defaults -S "$T/run/mysqld.sock" -uroot -N bench_restore -e "$q"); want=$(SQL -N bench -e "$q")
[ "$got" = "$want" ] || { log "VERIFY FAILED: restored $got, source $want"; exit 1; }
fig bunker_mariadb_restore_verified 1 bool
t=$(timeit "$B db backup --config $W/bunker.yaml --data-dir $W --source server --kind base")
fig bunker_mariadb_physical_s "$t" s
t=$(timeit "$B db restore --config $W/bunker.yaml --data-dir $W --backup latest --source server --identity $PERF/age.key --target-dir $W/physical")
fig bunker_mariadb_physical_restore_s "$t" s
[ -d "$W/physical/bench" ] || { log "VERIFY FAILED: no bench folder in the restored data directory"; exit 1; }
