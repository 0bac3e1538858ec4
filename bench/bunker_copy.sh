#!/usr/bin/env bash
# Bunker's side of copy_anchor: the same workload ($PERF/src: N_SMALL x SMALL_KIB + N_LARGE x LARGE_MIB), 3-copy
# policy on local stores (primary + vault + shelter), through the HTTP API and the queue until every copy is verified.
#   bunker_e2e_*       : PUT every file (8 at a time, one curl with --parallel) -> primary, then 2 verified copies each
#   bunker_replicate2_*: replication alone: the files are already in the primary (cp), `bunker reconcile` enqueues
#                        them (timed), serve copies each to vault + shelter, verifies (read-back SHA-256) and locks the vault copy.
#                        serve is a long-running service, so it first replicates a warm-up set (400 small + 1 large file,
#                        untimed, WARMUP=0 to skip): the timed part measures a JVM whose hot code is compiled, as in production
# files/s and MB/s count the 2 replica copies (2 x files, 2 x bytes) like copy_anchor; the e2e figures also include the
# primary write. Peak RSS is the serve JVM's VmHWM.
set -euo pipefail
cd "$(dirname "$0")"; source ./lib.sh; source ./common.sh
gen_workload
W=$PERF/bunker-copy; rm -rf "$W"; mkdir -p "$W"
trap 'stop_serve; rm -rf "$W"' EXIT
NF=$(find "$SRC" -type f ! -name .complete | wc -l)
NB=$(find "$SRC" -type f ! -name .complete -printf '%s\n' | awk '{s+=$1} END{print s}')
find "$SRC" -type f ! -name .complete -exec cat {} + > /dev/null   # source in page cache, as for the anchors

config() { # dir
  cat > "$1/bunker.yaml" <<YAML
stores:
  primary: {type: local, path: $1/stores/primary}
  vault:   {type: local, path: $1/stores/vault, lock: {period: 21d}}
  shelter: {type: local, path: $1/stores/shelter, tier: cold}
replication: {primary: primary, targets: [vault, shelter], workers: ${BENCH_WORKERS:-8}, poll: 100ms}
YAML
}

report() { # prefix seconds
  fig "${1}_s" "$2" s
  fig "${1}_files_per_s" "$(div $(( 2*NF )) "$2")" files/s
  fig "${1}_MBps" "$(mb "$(div $(( 2*NB )) "$2")")" MB/s
}

PARTS=${BUNKER_COPY_PARTS:-e2e rep}   # which parts to run (both by default)
# --- end to end through the API ---
if [[ " $PARTS " == *" e2e "* ]]; then
D=$W/e2e; mkdir -p "$D"; config "$D"
start_serve "$D" "$D/bunker.yaml" "${BUNKER_JAVA_OPTS:-}"
args=()
while IFS= read -r f; do rel=${f#$SRC/}; args+=(-T "$f" "$URL/v1/objects/$rel"); done < <(find "$SRC" -type f ! -name .complete | sort)
t0=$(now)
curl -s -f --parallel --parallel-max 8 -H "Authorization: Bearer $TOKEN" "${args[@]}" -o /dev/null >&2
fig bunker_upload_s "$(since "$t0")" s
wait_verified "$NF" vault shelter
t=$(since "$t0"); report bunker_e2e "$t"
fig bunker_e2e_peak_rss_MB "$(peak_rss_mb "$SERVE_PID")" MB
stop_serve; rm -rf "$D"; sync; sleep 2
fi

# --- replication alone ---
[[ " $PARTS " == *" rep "* ]] || exit 0
D=$W/rep; mkdir -p "$D/stores/primary/objects"; config "$D"
start_serve "$D" "$D/bunker.yaml" "${BUNKER_JAVA_OPTS:-}"     # idle: nothing is recorded yet
NW=0
if [ "${WARMUP:-1}" = 1 ]; then
  mkdir -p "$D/stores/primary/objects/warmup"
  while read -r f; do cp "$f" "$D/stores/primary/objects/warmup/$(basename "$f").w"; done < <(find "$SRC/small" -type f | sort | sed -n 1,400p)
  f=$(find "$SRC/large" -type f 2>/dev/null | sed -n 1p); [ -n "$f" ] && cp "$f" "$D/stores/primary/objects/warmup/large.w"
  NW=$(find "$D/stores/primary/objects/warmup" -type f | wc -l)
  $BUNKER reconcile --config "$D/bunker.yaml" --data-dir "$D" >/dev/null 2>&1
  wait_verified "$NW" vault shelter
fi
for sub in small large; do [ -d "$SRC/$sub" ] && cp -r "$SRC/$sub" "$D/stores/primary/objects/"; done; sync
t0=$(now)
$BUNKER reconcile --config "$D/bunker.yaml" --data-dir "$D" >&2   # lists, records + enqueues every file
fig bunker_replicate2_reconcile_s "$(since "$t0")" s
wait_verified $(( NF + NW )) vault shelter
t=$(since "$t0"); report bunker_replicate2 "$t"
fig bunker_replicate2_peak_rss_MB "$(peak_rss_mb "$SERVE_PID")" MB
