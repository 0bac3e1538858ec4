# Shared by bunker_pitr.sh and bunker_archive.sh (sourced after lib.sh and common.sh): a clone of the anchors' bench
# cluster to back up, and the restore drill pitr_anchor runs (marker row, T, delete the marker; timed: restore to T,
# start, replay until promoted, marker found; row counts of every bench table equal the source's at T).

# pitr_setup NAME PORT-OFFSET: W, PD/PPORT/PSOCK (the clone), RD/RPORT/RSOCK (the restore), PQ/RQ/B, cleanup on exit
pitr_setup() {
  W=$PERF/$1
  PD=$W/data; PPORT=$((PGPORT+$2)); PSOCK=$W/sock
  RD=$W/restore; RPORT=$((PGPORT+$2+1)); RSOCK=$W/rsock
  ensure_bench_db
  [ -f "$PERF/age.key" ] || age-keygen -o "$PERF/age.key" 2>/dev/null
  R=$(age-keygen -y "$PERF/age.key")
  if [ -d "$W" ]; then pg_stop "$RD"; pg_stop "$PD"; rm -rf "$W"; fi
  trap pitr_cleanup EXIT
  install -d -o postgres -g postgres -m 755 "$W" "$PSOCK" "$RSOCK"
}
PQ() { psql -X -q -v ON_ERROR_STOP=1 -h "$PSOCK" -p "$PPORT" -U postgres "$@"; }
RQ() { psql -X -q -v ON_ERROR_STOP=1 -h "$RSOCK" -p "$RPORT" -U postgres "$@"; }
# The CLI as users run it: bin/bunker (its heap bound and class-data-sharing archive per command)
B() { "$BUNKER_HOME/bin/bunker" "$@" --config "$W/bunker.yaml" --data-dir "$W/bunker"; }
pitr_cleanup() {
  local rc=$?
  kill "${SAMPLER_PID:-}" 2>/dev/null || true
  stop_serve
  if [ "$rc" != 0 ] && [ -d "$W" ]; then log "FAILED (rc $rc); log tails:"; tail -n 25 "$W"/*.log "$W"/bunker/serve.log >&2 2>/dev/null || true; fi
  pg_stop "$RD"; pg_stop "$PD"; rm -rf "$W"
  pg_main_down_if_mine
}

# pitr_clone CONF-LINES: the main cluster cloned into PD (untimed), CONF-LINES added to its postgresql.conf, started,
# with only the bench database
pitr_clone() {
  log "cloning the main cluster into $PD (pg_basebackup -X stream, untimed)"
  as_pg pg_basebackup -h "$PGSOCK" -p "$PGPORT" -U postgres -D "$PD" -X stream -c fast
  pg_conf "$PD" "$PPORT" "$PSOCK"
  printf "listen_addresses = '127.0.0.1'\nwal_level = replica\n%b" "$1" >> "$PD/postgresql.conf"
  as_pg pg_ctl -D "$PD" -l "$W/data.log" -w -t 300 start >/dev/null
  for db in $(PQ -d postgres -tAc "select datname from pg_database where datname not in ('bench','postgres','template0','template1')"); do
    PQ -d postgres -c "drop database \"$db\""
  done
}

# pitr_restore_drill PREFIX SETTLE: the drill, SETTLE run after the marker's insert and after its delete (it returns once
# Bunker has stored what was committed); figures PREFIX_restore_cmd_s, PREFIX_restore_s, PREFIX_restore_verified
pitr_restore_drill() {
  local prefix=$1 settle=$2
  local mk="marker-$(date +%s)-$$"
  local q_counts="select (select count(*) from pgbench_accounts) || '/' || (select count(*) from pgbench_history) || '/' ||
          (select count(*) from mixed) || '/' || (select count(*) from pitr_marker)"
  PQ -d bench -c "create table if not exists pitr_marker (id text primary key, at timestamptz not null default clock_timestamp())" \
              -c "insert into pitr_marker (id) values ('$mk')"
  $settle
  local src_counts t
  src_counts=$(PQ -d bench -tAc "$q_counts")
  t=$(PQ -d postgres -tAc "select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || 'Z'")
  PQ -d bench -c "delete from pitr_marker where id = '$mk'"
  $settle
  log "target time $t (marker $mk, counts accounts/history/mixed/marker = $src_counts)"

  local t0 tc tr got
  B db list >/dev/null   # untimed: writes bin/bunker's class-data archive for `db` commands if none is there yet
  t0=$(now)
  B db restore --source bench --to-time "$t" --identity "$PERF/age.key" --target-dir "$RD" --no-start >&2
  tc=$(since "$t0")
  chown -R postgres:postgres "$RD"; rm -f "$RD/postmaster.pid"
  pg_conf "$RD" "$RPORT" "$RSOCK"
  printf "listen_addresses = ''\narchive_mode = off\n" >> "$RD/postgresql.conf"
  as_pg pg_ctl -D "$RD" -l "$W/restore.log" -w -t 600 start >/dev/null
  for i in $(seq 6000); do
    [ "$(RQ -d postgres -tAc "select pg_is_in_recovery()" 2>/dev/null)" = f ] && break
    [ "$i" = 6000 ] && { log "restored cluster still in recovery after 600 s"; return 1; }
    sleep 0.1
  done
  [ "$(RQ -d bench -tAc "select count(*) from pitr_marker where id = '$mk'")" = 1 ] || { log "VERIFY FAILED: marker missing"; return 1; }
  tr=$(since "$t0")
  fig "${prefix}_restore_cmd_s" "$tc" s
  fig "${prefix}_restore_s" "$tr" s
  got=$(RQ -d bench -tAc "$q_counts")
  [ "$got" = "$src_counts" ] || { log "VERIFY FAILED: restored counts $got, source at T $src_counts"; return 1; }
  fig "${prefix}_restore_verified" 1 bool
}
