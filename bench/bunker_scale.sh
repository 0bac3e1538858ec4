#!/usr/bin/env bash
# The ledger at scale (BENCHMARKS.md, "Ledger at scale"): ScaleBench synthesizes SCALE_N (1,000,000) objects through
# Bunker's schema with the realistic mix (97% live, 1% pending in backoff, 1% trashed, 0.75% waiting for purge) on a
# throwaway cluster with the anchors' settings (lib.sh pg_conf, durable defaults, plus a TCP listener for JDBC),
# VACUUM ANALYZEs it, and times status, a metrics refresh and scrape, the drill's sample, the purge-due query, a trash
# page, a full reconcile with nothing to fix, PUT-to-verified of real objects, and the ledger's bytes per object.
set -euo pipefail
cd "$(dirname "$0")"; source ./lib.sh; source ./common.sh
SD=$PERF/bunker-scale; SPORT=$((PGPORT+4))
pg_cluster "$SD" "$SPORT"
mkdir -p "$SD/work"
run_test_class dev.bunker.ScaleBench "jdbc:postgresql://127.0.0.1:$SPORT/postgres" postgres "${SCALE_N:-1000000}" "$SD/work"
