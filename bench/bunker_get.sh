#!/usr/bin/env bash
# GET throughput of one GET_MIB (64) MiB object through the API, as curl receives it, with Bunker's streaming
# verification (the last bytes leave only after the SHA-256 matched). With BASE_JAR set, the same is measured on
# that jar too, interleaved, so "before" and "after" come from one run. Also prints sha256sum's rate on the same
# file: hashing is the cost verification adds on top of serving bytes.
set -euo pipefail
cd "$(dirname "$0")"; source ./lib.sh; source ./common.sh
GET_MIB=${GET_MIB:-64}; GETS=${GETS:-15}
D=$PERF/bunker-get; rm -rf "$D"; mkdir -p "$D"
trap 'stop_serve; rm -rf "$D"' EXIT
head -c $((GET_MIB << 20)) /dev/urandom > "$D/obj.bin"
cat > "$D/bunker.yaml" <<YAML
stores:
  primary: {type: local, path: STORES/primary}
  vault:   {type: local, path: STORES/vault, lock: {period: 21d}}
  shelter: {type: local, path: STORES/shelter, tier: cold}
replication: {primary: primary, targets: [vault, shelter], workers: 4, poll: 100ms}
YAML
median_rate() { # jar label -> prints the median MB/s of $GETS GETs
  local jar=$1 label=$2
  local dir=$D/$label
  mkdir -p "$dir"; sed "s#STORES#$dir/stores#g" "$D/bunker.yaml" > "$dir/bunker.yaml"
  JAR=$jar start_serve "$dir/data" "$dir/bunker.yaml"
  curl -s -f -H "Authorization: Bearer $TOKEN" -T "$D/obj.bin" "$URL/v1/objects/obj.bin" -o /dev/null
  wait_verified 1 vault shelter
  for _ in 1 2 3; do curl -s -f -H "Authorization: Bearer $TOKEN" "$URL/v1/objects/obj.bin" -o /dev/null; done # warm up the JIT
  local rates=()
  for _ in $(seq 1 "$GETS"); do
    local t; t=$(curl -s -f -H "Authorization: Bearer $TOKEN" "$URL/v1/objects/obj.bin" -o "$dir/got" -w '%{time_total}')
    cmp -s "$dir/got" "$D/obj.bin" || { log "$label: wrong bytes"; exit 1; }
    rates+=("$(awk -v b=$((GET_MIB << 20)) -v t="$t" 'BEGIN{printf "%.1f", b/1e6/t}')")
  done
  stop_serve
  printf '%s\n' "${rates[@]}" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'
}
fig bunker_get_${GET_MIB}MiB_MBps "$(median_rate "$JAR" after)" MB/s
[ -n "${BASE_JAR:-}" ] && fig bunker_get_${GET_MIB}MiB_before_MBps "$(median_rate "$BASE_JAR" before)" MB/s
t=$(timeit "for i in 1 2 3 4 5; do sha256sum $D/obj.bin >/dev/null; done")
fig sha256sum_${GET_MIB}MiB_MBps "$(awk -v b=$((5 * GET_MIB << 20)) -v t="$t" 'BEGIN{printf "%.1f", b/1e6/t}')" MB/s
