#!/usr/bin/env bash
# Replication to two buckets of a real S3 server (Ceph RGW from Debian, started by the tests' fixture
# src/test/resources/rgw/rgw.sh with a 2 GiB memstore), side by side with rclone:
#   rclone_s3copy2_s      : rclone copy --transfers 8 --checksum of the files to bucket A, then to bucket B
#   bunker_s3replicate2_s : the files already in a local primary; `bunker reconcile` records + enqueues them (timed),
#                           serve copies each to vault (bucket with Object Lock: COMPLIANCE 21d + legal hold, read back)
#                           and shelter (bucket), each copy checked against its SHA-256 before it counts
# Workload (RGW keeps objects in RAM): S3_N_SMALL (2000) x S3_SMALL_KIB (128) + S3_N_LARGE (4) x LARGE_MIB (64), in its
# own folder; RGW starts empty for each tool. Both tools send every body with Content-MD5 and SHA-256 (rclone: MD5).
set -euo pipefail
cd "$(dirname "$0")"; source ./lib.sh; source ./common.sh
unset AWS_CA_BUNDLE   # a CA bundle from the environment makes rclone refuse its plain-HTTP transport
S3SRC=$PERF/s3src
N=${S3_N_SMALL:-2000}; KIB=${S3_SMALL_KIB:-128}; NL=${S3_N_LARGE:-4}
want="$N x ${KIB}KiB + $NL x ${LARGE_MIB}MiB"
if [ ! -f "$S3SRC/.complete" ] || [ "$(cat "$S3SRC/.complete")" != "$want" ]; then
  rm -rf "$S3SRC"; mkdir -p "$S3SRC/small" "$S3SRC/large"
  for i in $(seq 1 "$N"); do head -c $((KIB * 1024)) /dev/urandom > "$S3SRC/small/f$i.bin"; done
  for i in $(seq 1 "$NL"); do head -c $((LARGE_MIB << 20)) /dev/urandom > "$S3SRC/large/f$i.bin"; done
  echo "$want" > "$S3SRC/.complete"
fi
find "$S3SRC" -type f ! -name .complete -exec cat {} + > /dev/null
NF=$(find "$S3SRC" -type f ! -name .complete | wc -l)
NB=$(find "$S3SRC" -type f ! -name .complete -printf '%s\n' | awk '{s+=$1} END{print s}')
RGW_SH=$BUNKER_HOME/src/test/resources/rgw/rgw.sh
R=$PERF/rgw; W=$PERF/bunker-s3
trap 'stop_serve; bash "$RGW_SH" stop "$R" >/dev/null 2>&1 || true; rm -rf "$R" "$W"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rgw_start() { # -> ENDPOINT, fresh and empty
  bash "$RGW_SH" stop "$R" >/dev/null 2>&1 || true
  local osd=$(( 20000 + RANDOM % 20000 ))
  ENDPOINT=$(RGW_MEMSTORE_BYTES=$((2 << 30)) bash "$RGW_SH" start "$R" "$(free_port)" "$(free_port)" $osd $((osd + 7)) "$(free_port)" \
    | tail -n 1 | sed 's/^endpoint=\([^ ]*\).*/\1/')
}
bucket() { # NAME [lock]: creates a bucket, with Object Lock enabled if asked
  local h=(); [ "${2:-}" = lock ] && h=(-H "x-amz-bucket-object-lock-enabled: true")
  curl -sf -X PUT "${h[@]}" -H "x-amz-content-sha256: $(printf '' | sha256sum | cut -d' ' -f1)" \
    --aws-sigv4 "aws:amz:us-east-1:s3" --user bunker-test:bunker-test-secret "$ENDPOINT/$1" >/dev/null
}
report() { # prefix seconds
  fig "${1}_s" "$2" s
  fig "${1}_files_per_s" "$(div $(( 2*NF )) "$2")" files/s
  fig "${1}_MBps" "$(mb "$(div $(( 2*NB )) "$2")")" MB/s
}

# --- rclone ---
rgw_start; bucket rclone-a; bucket rclone-b
export RCLONE_CONFIG_RGW_TYPE=s3 RCLONE_CONFIG_RGW_PROVIDER=Ceph RCLONE_CONFIG_RGW_ENDPOINT=$ENDPOINT \
  RCLONE_CONFIG_RGW_ACCESS_KEY_ID=bunker-test RCLONE_CONFIG_RGW_SECRET_ACCESS_KEY=bunker-test-secret RCLONE_CONFIG_RGW_REGION=us-east-1
t0=$(now)
for b in rclone-a rclone-b; do rclone copy --transfers 8 --checksum "$S3SRC" "rgw:$b" --exclude .complete; done
report rclone_s3copy2 "$(since "$t0")"
[ "$(rclone size --json rgw:rclone-b | $PY -c 'import json,sys; print(json.load(sys.stdin)["count"])')" = "$NF" ] || { log "rclone copy incomplete"; exit 1; }

# --- Bunker ---
rgw_start; bucket bunker-vault lock; bucket bunker-shelter
rm -rf "$W"; mkdir -p "$W/stores/primary/objects"
s3store() { echo "{type: s3, endpoint: \"$ENDPOINT\", region: us-east-1, bucket: $1, path-style: true, access-key: bunker-test, secret-key: bunker-test-secret${2:-}}"; }
cat > "$W/bunker.yaml" <<YAML
stores:
  primary: {type: local, path: $W/stores/primary}
  vault:   $(s3store bunker-vault ", lock: {period: 21d}")
  shelter: $(s3store bunker-shelter ", tier: cold")
replication: {primary: primary, targets: [vault, shelter], workers: ${BENCH_WORKERS:-8}, poll: 100ms}
YAML
start_serve "$W" "$W/bunker.yaml" "${BUNKER_JAVA_OPTS:-}"
$BUNKER reconcile --config "$W/bunker.yaml" --data-dir "$W" >/dev/null 2>&1   # untimed, nothing to find: writes reconcile's class-data archive
cp -r "$S3SRC/small" "$S3SRC/large" "$W/stores/primary/objects/"; sync
t0=$(now)
$BUNKER reconcile --config "$W/bunker.yaml" --data-dir "$W" >&2
wait_verified "$NF" vault shelter
report bunker_s3replicate2 "$(since "$t0")"
fig bunker_s3replicate2_peak_rss_MB "$(peak_rss_mb "$SERVE_PID")" MB
