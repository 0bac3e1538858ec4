#!/usr/bin/env bash
# `bunker db clone` against a plain `bunker db restore` of the same backup (issue 18's target: at most 1.5x): the bench
# database (pgbench scale 50 + the mixed table, as bunker_pg.sh), backed up once, then restored, then cloned with 5
# scrubbed columns spread over its biggest tables:
#   mixed.name: fake-name (1M rows), mixed.doc: constant, pgbench_accounts.filler: hash (5M rows at scale 50),
#   pgbench_tellers.filler: null, pgbench_branches.filler: constant
set -euo pipefail
cd "$(dirname "$0")"; source ./lib.sh; source ./common.sh
bench_db_source
W=$PERF/bunker-clone; rm -rf "$W"; mkdir -p "$W"
trap 'PSQL -d postgres -c "drop database if exists r_plain" -c "drop database if exists r_clone" >&2 || true; rm -rf "$W"' EXIT
cat > "$W/bunker.yaml" <<YAML
stores:
  primary: {type: local, path: $W/stores/primary}
  vault:   {type: local, path: $W/stores/vault}
backups:
  recipients: ["$R"]
  stores: [vault]
  sources:
    bench: {url: "postgresql://bunker_backup@127.0.0.1:$PGPORT/bench"}
YAML
cat > "$W/scrub.yaml" <<YAML
columns:
  public.mixed.name: fake-name
  public.mixed.doc: {constant: "{}"}
  public.pgbench_accounts.filler: hash
  public.pgbench_tellers.filler: null
  public.pgbench_branches.filler: {constant: "x"}
YAML
B="$JAVA -jar $JAR"
$B status --config "$W/bunker.yaml" --data-dir "$W" >/dev/null 2>&1   # first start: initdb of Bunker's embedded db, untimed
$B db backup --config "$W/bunker.yaml" --data-dir "$W" --source bench --kind dump >&2
PSQL -d postgres -c "drop database if exists r_plain" -c "create database r_plain" >&2
t=$(timeit "$B db restore --config $W/bunker.yaml --data-dir $W --backup latest --identity $PERF/age.key --target postgresql://postgres@127.0.0.1:$PGPORT/r_plain")
fig bunker_restore_for_clone_s "$t" s
PSQL -d postgres -c "drop database if exists r_plain" >&2
t=$(timeit "$B db clone --config $W/bunker.yaml --data-dir $W --source bench --identity $PERF/age.key --scrub $W/scrub.yaml --target postgresql://postgres@127.0.0.1:$PGPORT/r_clone --replace")
fig bunker_clone_5_columns_s "$t" s
q="select (select count(*) from pgbench_accounts) || '/' || (select count(*) from mixed)"
[ "$(PSQL -d r_clone -tAc "$q")" = "$(PSQL -d bench -tAc "$q")" ] || { log "VERIFY FAILED"; exit 1; }
[ "$(PSQL -d r_clone -tAc "select count(*) from mixed m where name like 'item-%'")" = 0 ] || { log "SCRUB FAILED"; exit 1; }
fig bunker_clone_verified 1 bool
