#!/usr/bin/env bash
# One BIG_MIB (2048) MiB object through the API with the serve JVM capped at -Xmx128m: upload, replicate to vault and
# shelter, verify. Prints the time, the serve JVM's peak RSS, and 1 if every copy was verified.
set -euo pipefail
cd "$(dirname "$0")"; source ./lib.sh; source ./common.sh
BIG_MIB=${BIG_MIB:-2048}
D=$PERF/bunker-big; rm -rf "$D"; mkdir -p "$D"
trap 'stop_serve; rm -rf "$D"' EXIT
head -c $((BIG_MIB << 20)) /dev/urandom > "$D/big.bin"
cat > "$D/bunker.yaml" <<YAML
stores:
  primary: {type: local, path: $D/stores/primary}
  vault:   {type: local, path: $D/stores/vault, lock: {period: 21d}}
  shelter: {type: local, path: $D/stores/shelter, tier: cold}
replication: {primary: primary, targets: [vault, shelter], workers: 8, poll: 100ms}
YAML
start_serve "$D/data" "$D/bunker.yaml" "-Xmx128m"
t0=$(now)
curl -s -f -H "Authorization: Bearer $TOKEN" -T "$D/big.bin" "$URL/v1/objects/big.bin" -o /dev/null
wait_verified 1 vault shelter
fig bunker_big_e2e_s "$(since "$t0")" s
fig bunker_big_Xmx128m_peak_rss_MB "$(peak_rss_mb "$SERVE_PID")" MB
ok=$(cmp -s "$D/big.bin" "$D/stores/vault/objects/big.bin" && cmp -s "$D/big.bin" "$D/stores/shelter/objects/big.bin" && echo 1 || echo 0)
fig bunker_big_copies_identical "$ok" bool
