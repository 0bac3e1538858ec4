#!/usr/bin/env bash
# `bunker export` against `tar` over the same files (issue 18's anchor): 1 GiB of objects (2,000 x 256 KiB + 8 x 64 MiB)
# in a local primary store, replicated once so the ledger knows every SHA-256; then, each from a warm page cache:
#   tar_export_s          : tar -cf OUT.tar over the primary store's folder (no fsync, as tar does)
#   tar_export_sync_s     : the same, then sync (the archive durable, as Bunker makes it)
#   bunker_export_cli_s   : bin/bunker export --prefix data/ --to DIR (JVM start, database open, plan, write, fsync)
#   bunker_export_run_s   : the run itself as the CLI reports it (what a scheduled export in serve takes)
set -euo pipefail
cd "$(dirname "$0")"; source ./lib.sh; source ./common.sh
N_SMALL=2000 SMALL_KIB=256 N_LARGE=8 LARGE_MIB=64 SRC=$PERF/src-export gen_workload
SRC=$PERF/src-export
W=$PERF/bunker-export; rm -rf "$W"; mkdir -p "$W"
trap 'stop_serve; rm -rf "$W"' EXIT
NF=$(find "$SRC" -type f ! -name .complete | wc -l)
NB=$(find "$SRC" -type f ! -name .complete -printf '%s\n' | awk '{s+=$1} END{print s}')

D=$W/d; mkdir -p "$D/stores/primary/objects/data"
cat > "$D/bunker.yaml" <<YAML
stores:
  primary: {type: local, path: $D/stores/primary}
  vault:   {type: local, path: $D/stores/vault}
replication: {primary: primary, targets: [vault], workers: 8, poll: 100ms}
YAML
cp -r "$SRC/small" "$SRC/large" "$D/stores/primary/objects/data/"; sync
start_serve "$D" "$D/bunker.yaml" "${BUNKER_JAVA_OPTS:-}"
$BUNKER reconcile --config "$D/bunker.yaml" --data-dir "$D" >&2
wait_verified "$NF" vault
stop_serve   # the export runs alone, as the CLI; serve's embedded database stays on disk
# serve used an embedded database in the data dir; the CLI opens the same one.

cat $(find "$D/stores/primary/objects/data" -type f) > /dev/null   # warm page cache for both
OUT=$W/out; mkdir -p "$OUT"
t0=$(now); tar -cf "$OUT/anchor.tar" -C "$D/stores/primary/objects" data; fig tar_export_s "$(since "$t0")" s
rm -f "$OUT/anchor.tar"; sync
t0=$(now); tar -cf "$OUT/anchor.tar" -C "$D/stores/primary/objects" data; sync; fig tar_export_sync_s "$(since "$t0")" s
rm -f "$OUT/anchor.tar"; sync
$BUNKER export list --config "$D/bunker.yaml" --data-dir "$D" >/dev/null   # untimed: writes the `export` class-data archive
cat $(find "$D/stores/primary/objects/data" -type f) > /dev/null
t0=$(now)
$BUNKER export --config "$D/bunker.yaml" --data-dir "$D" --prefix data/ --to "$OUT/bunker" > "$W/export.out"
fig bunker_export_cli_s "$(since "$t0")" s
run_s=$(grep -o 'in [0-9.]* s' "$W/export.out" | awk '{print $2}')
fig bunker_export_run_s "$run_s" s
fig bunker_export_MBps "$(mb "$(div "$NB" "$run_s")")" MB/s
fig export_objects "$NF" files
# The archive holds every object with the ledger's SHA-256 (checked by the standard tools, outside the timing).
mkdir -p "$W/x"; tar -xf "$OUT"/bunker/export-*.tar -C "$W/x"; (cd "$W/x" && sha256sum -c --quiet --strict SHA256SUMS) >&2
