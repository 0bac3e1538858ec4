#!/usr/bin/env bash
# `bunker db clone` beside `bunker db restore`, on pg_anchor's bench db (pgbench -i -s 50 + the mixed table), one backup:
#   bunker_db_restore_s : `bunker db restore` into a fresh database (download, verify, decrypt, pg_restore -j 2), CLI wall time
#   bunker_db_clone_s   : `bunker db clone` of the same backup, scrubbing 5 columns: pgbench_accounts.filler hash (5,000,000
#                         rows), mixed.name fake-name (1,000,000), mixed.created shuffle (1,000,000), pgbench_tellers.filler
#                         fake-phone, pgbench_branches.filler constant; sections restored around the scrub, verified, renamed
#   bunker_db_clone_ratio: clone / restore (the target: at most 1.5)
#   bunker_db_clone_<phase>_s: the clone's phases as it reports them
set -euo pipefail
cd "$(dirname "$0")"; source ./lib.sh; source ./common.sh
bench_db_source
W=$PERF/bunker-clone-$$; rm -rf "$W"; mkdir -p "$W"
trap 'PSQL -d postgres -c "drop database if exists r_clone_bench" -c "drop database if exists c_clone_bench with (force)" >&2 || true; rm -rf "$W"' EXIT
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
cat > "$W/scrub.yaml" <<YAML
public.pgbench_accounts.filler: hash
public.mixed.name: fake-name
public.mixed.created: shuffle
public.pgbench_tellers.filler: fake-phone
public.pgbench_branches.filler: {constant: "scrubbed"}
YAML
B=$BUNKER
$B status --config "$W/bunker.yaml" --data-dir "$W" >/dev/null 2>&1   # first start: initdb of Bunker's embedded db, untimed
$B db backup --config "$W/bunker.yaml" --data-dir "$W" --source bench --kind dump >&2
PSQL -d postgres -c "drop database if exists r_clone_bench" -c "drop database if exists c_clone_bench with (force)" -c "create database r_clone_bench" >&2
t=$(timeit "$B db restore --config $W/bunker.yaml --data-dir $W --backup latest --identity $PERF/age.key --target postgresql://postgres@127.0.0.1:$PGPORT/r_clone_bench")
fig bunker_db_restore_s "$t" s
c=$(timeit "$B db clone --config $W/bunker.yaml --data-dir $W --source bench --identity $PERF/age.key --scrub $W/scrub.yaml --target postgresql://postgres@127.0.0.1:$PGPORT/c_clone_bench > $W/clone.out")
cat "$W/clone.out" >&2
fig bunker_db_clone_s "$c" s
fig bunker_db_clone_ratio "$(awk -v a="$c" -v b="$t" 'BEGIN{printf "%.2f", a/b}')" x
# the phases from the summary line: "cloned ... values rewritten; download 1.2 s, plan 0.3 s, ..."
grep '^cloned' "$W/clone.out" | sed 's/.*values rewritten; //' | tr ',' '\n' | tr '+-' '__' |
  while read -r phase secs _; do fig "bunker_db_clone_${phase}_s" "$secs" s; done
q="select (select count(*) from pgbench_accounts) || '/' || (select count(*) from mixed) || '/' || (select count(*) from pgbench_tellers)"
[ "$(PSQL -d c_clone_bench -tAc "$q")" = "$(PSQL -d bench -tAc "$q")" ] || { log "VERIFY FAILED: row counts"; exit 1; }
[ "$(PSQL -d c_clone_bench -tAc "select count(*) from bunker_scrub.columns where survivors = 0")" = 5 ] || { log "VERIFY FAILED: bunker_scrub.columns"; exit 1; }
# no original name is left: the clone's names against the source's, through a sample of 1000 source names
[ "$(PSQL -d c_clone_bench -tAc "select count(*) from mixed where name in ($(PSQL -d bench -tAc "select string_agg(quote_literal(name), ',') from (select name from mixed order by id limit 1000) s"))")" = 0 ] \
  || { log "VERIFY FAILED: original names in the clone"; exit 1; }
fig bunker_db_clone_verified 1 bool
