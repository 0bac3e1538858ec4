#!/usr/bin/env bash
# Bunker's side of pitr_anchor, on a clone of the same bench db, with the same load and the same drill:
#   bunker_pitr_base_backup_s : `bin/bunker db backup --kind base` (pg_basebackup -Ft -X fetch | zstd -3 | age into a local
#                               locked store, fsynced, signed manifest), CLI wall time incl. JVM start; compare with
#                               pitr_basebackup_zstd_age_s and pitr_pgbackrest_full_backup_s
#   bunker_pitr_wal_lag_p99_s : while pgbench -c PITR_CLIENTS -j 2 -T PITR_LOAD_S runs, commit-to-durable-in-every-store lag
#                               per 0.1 s probe (see lag_during), nearest-rank p99 and max; compare with
#                               pitr_receivewal_lag_p99_s (pg_receivewal flushes every write, so its flush_lag is the same)
#   bunker_pitr_restore_s     : marker row, T, delete the marker, wait until Bunker stored the delete; timed:
#                               `bunker db restore --to-time T --target-dir` + start + replay until pg_is_in_recovery()
#                               = false + marker found; compare with pitr_pgbackrest_restore_s. Row counts checked.
#   bunker_pitr_wal_lag_light_p99_s: the same under a light load (pgbench -R 20 -c 2): chunks wait for flush-every
# Env: PITR_LOAD_S (30), PITR_CLIENTS (8), PITR_FLUSH_EVERY (4s: the default).
set -euo pipefail
cd "$(dirname "$0")"; source ./lib.sh; source ./common.sh; source ./pitr_common.sh
PITR_LOAD_S=${PITR_LOAD_S:-30}; PITR_CLIENTS=${PITR_CLIENTS:-8}; PITR_FLUSH_EVERY=${PITR_FLUSH_EVERY:-4s}
pitr_setup bunker-pitr 4
pitr_clone "max_wal_senders = 10\narchive_mode = off\n"
PQ -d postgres -c "create role bunker_wal login replication" >&2
CLB=$(PQ -d postgres -tAc "select sum(pg_database_size(oid)) from pg_database")
fig bunker_pitr_cluster_MB "$(mb "$CLB")" MB

cat > "$W/bunker.yaml" <<YAML
stores:
  primary: {type: local, path: $W/stores/primary}
  vault:   {type: local, path: $W/stores/vault, lock: {period: 21d}}
backups:
  recipients: ["$R"]
  stores: [vault]
  sources:
    bench:
      url: "postgresql://bunker_wal@127.0.0.1:$PPORT/bench"
      pitr: {flush-every: $PITR_FLUSH_EVERY}
YAML
start_serve "$W/bunker" "$W/bunker.yaml"
for _ in $(seq 600); do grep -q 'streaming WAL of bench' "$W/bunker/serve.log" && break; sleep 0.1; done
grep -q 'streaming WAL of bench' "$W/bunker/serve.log" || { log "serve does not stream"; exit 1; }
# serve takes the first base backup itself (pitr.base-every, none yet): let it finish before timing one
for _ in $(seq 1200); do grep -q 'backup bench-base-.* taken' "$W/bunker/serve.log" && break; sleep 0.1; done
grep -q 'backup bench-base-.* taken' "$W/bunker/serve.log" || { log "serve took no base backup"; exit 1; }

PQ -d postgres -c checkpoint
B db list >/dev/null   # untimed: the first `db` command writes bin/bunker's class-data archive for the others
t=$(timeit "$BUNKER_HOME/bin/bunker db backup --config $W/bunker.yaml --data-dir $W/bunker --source bench --kind base")
fig bunker_pitr_base_backup_s "$t" s
fig bunker_pitr_base_backup_MBps "$(mb "$(div "$CLB" "$t")")" MB/s

# Commit-to-durable lag, measured per moment rather than per reply: every 0.1 s a probe notes the time t and the
# source's WAL insert position L (every commit before t lies before L); every 0.05 s a sampler notes the slot's
# restart_lsn, which moves only once Bunker has the WAL in every backup store. A probe's lag is the first sample time
# with restart_lsn >= L, minus t. (pg_stat_replication.flush_lag, which the anchor samples, reports only the age of
# the newest position confirmed, so it under-reports a client that confirms a chunk at a time.)
lag_during() { # NAME PGBENCH-ARGS...: runs pgbench with the probe and sampler, prints NAME_p99_s / NAME_max_s
  local name=$1; shift
  ( while true; do PQ -d postgres -tAc "select extract(epoch from clock_timestamp()), pg_current_wal_insert_lsn()"; sleep 0.1; done ) > "$W/$name.probes" &
  local probe=$!
  ( while true; do PQ -d postgres -tAc "select extract(epoch from clock_timestamp()), restart_lsn from pg_replication_slots where slot_name = 'bunker_bench'"; sleep 0.05; done ) > "$W/$name.samples" &
  local sampler=$!
  local out
  out=$(pgbench -h "$PSOCK" -p "$PPORT" -U postgres "$@" bench 2>&1) || { echo "$out" >&2; kill $probe $sampler; return 1; }
  kill $probe; wait $probe 2>/dev/null || true
  sleep 8   # flush-every and an upload: the last probes become durable
  kill $sampler; wait $sampler 2>/dev/null || true
  echo "$out" | grep -E 'latency average|^tps' >&2
  echo "$out" | awk -v n="$name" '/^tps = .*without initial connection/{printf "%s_pgbench_tps %.0f tx/s\n", n, $3}'
  $PY - "$W/$name.probes" "$W/$name.samples" "$name" <<'PYEOF'
import sys
def lsn(t):
    hi, lo = t.split("/"); return (int(hi, 16) << 32) | int(lo, 16)
def rows(f):
    out = []
    for line in open(f):
        p = line.strip().split("|")
        if len(p) == 2 and p[1]: out.append((float(p[0]), lsn(p[1])))
    return out
probes, samples, name = rows(sys.argv[1]), rows(sys.argv[2]), sys.argv[3]
lags = []
for t, l in probes:
    k = next((s for s in samples if s[0] >= t and s[1] >= l), None)
    if k: lags.append(k[0] - t)
lags.sort()
n = len(lags)
p99 = lags[max(0, -(-n * 99 // 100) - 1)] if n else float("nan")
print(f"{name}_p99_s {p99:.3f} s"); print(f"{name}_max_s {(lags[-1] if n else float('nan')):.3f} s"); print(f"{name}_probes {n} probes")
PYEOF
}
log "pgbench -c $PITR_CLIENTS -j 2 -T $PITR_LOAD_S while Bunker streams the WAL"
lag_during bunker_pitr_wal_lag -c "$PITR_CLIENTS" -j 2 -T "$PITR_LOAD_S"
log "pgbench -R 20 -c 2 -T $PITR_LOAD_S (light load: segments no longer fill, chunks wait for flush-every)"
lag_during bunker_pitr_wal_lag_light -R 20 -c 2 -j 2 -T "$PITR_LOAD_S"

stored() { # until Bunker's slot has moved past the source's WAL flushed now (it moves only once the WAL is in every backup store)
  local lsn; lsn=$(PQ -d postgres -tAc "select pg_current_wal_flush_lsn()")
  for _ in $(seq 3000); do
    [ "$(PQ -d postgres -tAc "select restart_lsn >= '$lsn' from pg_replication_slots where slot_name = 'bunker_bench'")" = t ] && return 0
    sleep 0.1
  done
  log "Bunker did not store WAL up to $lsn in 300 s"; return 1
}
pitr_restore_drill bunker_pitr stored
