#!/usr/bin/env bash
# Bunker's `wal: archive` beside pitr_anchor's pgBackRest archive-push, on a clone of the same bench db, same load:
#   bunker_archive_pgbench_tps : pgbench -c PITR_CLIENTS -j 2 -T PITR_LOAD_S with archive_command = bin/bunker wal push
#                                (curl to serve, which stores each segment in the backup store before answering);
#                                compare with pitr_pgbench_tps (archive-push, async) and pitr_pgbench_tps_noarchive
#   bunker_archive_catchup_s   : from pgbench's exit until the segment switched then is archived; pitr_archive_catchup_s
#   bunker_archive_segments    : segments archived during the load (archived_count delta); pitr_wal_segments_archived
#   bunker_archive_failures    : archive_command failures during the load (0 expected)
#   bunker_archive_queue_max   : the most finished segments waiting to be archived at any 0.5 s sample during the load
#   bunker_archive_push_p50_s / _max_s : serve's time to store one segment (its 201 replies), from the API's answers
#   bunker_archive_restore_s   : marker, T, delete; `bunker db restore --to-time T` + start + replay + marker found;
#                                compare with pitr_pgbackrest_restore_s
# Env: PITR_LOAD_S (30), PITR_CLIENTS (8).
set -euo pipefail
cd "$(dirname "$0")"; source ./lib.sh; source ./common.sh; source ./pitr_common.sh
PITR_LOAD_S=${PITR_LOAD_S:-30}; PITR_CLIENTS=${PITR_CLIENTS:-8}
pitr_setup bunker-archive 6
# archive_command is set once serve listens (a reload reads it); archive_mode needs the start.
pitr_clone "archive_mode = on\narchive_timeout = 60s\n"
PQ -d postgres -c "create role bunker_base login replication" >&2

PUSH_TOKEN=$($BUNKER token create pg-bench --scope wal-push --source bench | awk '/^token:/{print $2}')
PUSH_HASH=$(printf '%s' "$PUSH_TOKEN" | sha256sum | cut -d' ' -f1)
install -o postgres -g postgres -m 600 /dev/null "$W/wal.token"
printf '%s\n' "$PUSH_TOKEN" > "$W/wal.token"
cat > "$W/bunker.yaml" <<YAML
stores:
  primary: {type: local, path: $W/stores/primary}
  vault:   {type: local, path: $W/stores/vault, lock: {period: 21d}}
backups:
  recipients: ["$R"]
  stores: [vault]
  sources:
    bench:
      url: "postgresql://bunker_base@127.0.0.1:$PPORT/bench"
      pitr: {wal: archive}
api:
  tokens:
    pg-bench: {scope: wal-push, source: bench, sha256: $PUSH_HASH}
YAML
mkdir -p "$W/bunker"
$BUNKER serve --config "$W/bunker.yaml" --data-dir "$W/bunker" --listen 127.0.0.1:0 > "$W/bunker/serve.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 600); do
  URL=$(grep -o 'serving http://[0-9.:]*' "$W/bunker/serve.log" | head -1 | cut -d' ' -f2 || true)
  [ -n "$URL" ] && break
  kill -0 $SERVE_PID 2>/dev/null || { cat "$W/bunker/serve.log" >&2; exit 1; }
  sleep 0.1
done
# serve takes the first base backup itself (pitr.base-every, none yet): let it finish before the load
for _ in $(seq 1200); do grep -q 'backup bench-base-.* taken' "$W/bunker/serve.log" && break; sleep 0.1; done
grep -q 'backup bench-base-.* taken' "$W/bunker/serve.log" || { log "serve took no base backup"; exit 1; }
PQ -d postgres -c "alter system set archive_command = '$BUNKER_HOME/bin/bunker wal push --url $URL --source bench --token-file $W/wal.token %p'" \
   -c "select pg_reload_conf()" >&2

switch_wal() { PQ -d postgres -tAc "select pg_walfile_name(pg_switch_wal())"; }
wait_archived() { # segment: until pg_stat_archiver.last_archived_wal >= it
  for _ in $(seq 3000); do
    [ "$(PQ -d postgres -tAc "select coalesce(last_archived_wal, '') >= '$1' collate \"C\" from pg_stat_archiver")" = t ] && return 0
    sleep 0.1
  done
  log "segment $1 not archived after 300 s"; PQ -d postgres -c "select * from pg_stat_archiver" >&2; return 1
}

wait_archived "$(switch_wal)"
read -r ac0 fc0 < <(PQ -d postgres -tA -F ' ' -c "select archived_count, failed_count from pg_stat_archiver")
# The archiver's queue: finished segments not yet archived (.ready files), every 0.5 s
( while true; do as_pg ls "$PD/pg_wal/archive_status" 2>/dev/null | grep -c '\.ready$' || true; sleep 0.5; done ) > "$W/queue.samples" &
SAMPLER_PID=$!
log "pgbench -c $PITR_CLIENTS -j 2 -T $PITR_LOAD_S, archive_command = bin/bunker wal push"
out=$(pgbench -h "$PSOCK" -p "$PPORT" -U postgres -c "$PITR_CLIENTS" -j 2 -T "$PITR_LOAD_S" bench 2>&1) || { echo "$out" >&2; exit 1; }
echo "$out" | grep -E 'latency average|^tps' >&2
fig bunker_archive_pgbench_tps "$(echo "$out" | awk '/^tps = .*without initial connection/{printf "%.0f", $3}')" tx/s
t0=$(now)
seg=$(switch_wal)
wait_archived "$seg"
fig bunker_archive_catchup_s "$(since "$t0")" s
kill "$SAMPLER_PID"; wait "$SAMPLER_PID" 2>/dev/null || true; SAMPLER_PID=""
read -r ac1 fc1 < <(PQ -d postgres -tA -F ' ' -c "select archived_count, failed_count from pg_stat_archiver")
fig bunker_archive_segments "$((ac1 - ac0))" segments
fig bunker_archive_failures "$((fc1 - fc0))" failures
fig bunker_archive_queue_max "$(sort -n "$W/queue.samples" | tail -1)" segments
# serve logs one line per segment stored ("WAL segment S of bench stored in N s")
$PY - "$W/bunker/serve.log" <<'PYEOF'
import re, sys
t = sorted(float(m.group(1)) for m in re.finditer(r"WAL segment \S+ of bench stored in ([0-9.]+) s", open(sys.argv[1]).read()))
if t:
    print(f"bunker_archive_push_p50_s {t[(len(t) - 1) // 2]:.3f} s"); print(f"bunker_archive_push_max_s {t[-1]:.3f} s")
PYEOF

archived_now() { wait_archived "$(switch_wal)"; }
pitr_restore_drill bunker_archive archived_now
