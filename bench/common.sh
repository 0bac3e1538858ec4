# Shared by the bunker_*.sh bench scripts (sourced after the anchors' lib.sh, which gives fig/timeit/log).
BUNKER_HOME=${BUNKER_HOME:?set BUNKER_HOME to the bunker checkout (run_side_by_side.sh does)}
JAR=$BUNKER_HOME/target/bunker.jar
[ -f "$JAR" ] || (cd "$BUNKER_HOME" && mvn -B -q -DskipTests package >&2)

# The JVM: BENCH_JAVA, else the one bin/bunker runs on (the newest JDK 21+, see bin/jdk)
JAVA=${BENCH_JAVA:-$("$BUNKER_HOME/bin/jdk")/bin/java}
# bunker_cmd [JAVA]: the CLI as users run it, bin/bunker (its heap bound, its class-data archive per command), on the
# JDK of JAVA ($JAVA by default). A string, since the anchors' timeit runs its command in a new shell. bin/bunker
# rewrites a command's archive on its first run after a build (seconds): each script runs its timed commands once untimed.
bunker_cmd() { echo "env BUNKER_JAVA_HOME=$(dirname "$(dirname "$(readlink -f "${1:-$JAVA}")")") $BUNKER_HOME/bin/bunker"; }
BUNKER=$(bunker_cmd)
SERVE_PID=""
# start_serve DIR CONFIG [JAVA_OPTS] -> sets SERVE_PID, URL, TOKEN
start_serve() {
  local d=$1 cfg=$2 opts=${3:-}
  mkdir -p "$d"
  if [ "$JAR" = "$BUNKER_HOME/target/bunker.jar" ]; then
    BUNKER_JAVA_OPTS="$opts" $BUNKER serve --config "$cfg" --data-dir "$d" --listen 127.0.0.1:0 > "$d/serve.log" 2>&1 &
  else # another build's jar (bunker_get.sh's BASE_JAR)
    "$JAVA" $opts -jar "$JAR" serve --config "$cfg" --data-dir "$d" --listen 127.0.0.1:0 > "$d/serve.log" 2>&1 &
  fi
  SERVE_PID=$!
  for _ in $(seq 1 600); do
    URL=$(grep -o 'serving http://[0-9.:]*' "$d/serve.log" | head -1 | cut -d' ' -f2 || true)
    [ -n "$URL" ] && break
    kill -0 $SERVE_PID 2>/dev/null || { cat "$d/serve.log" >&2; return 1; }
    sleep 0.1
  done
  TOKEN=$(cat "$d/admin-token")
}
stop_serve() { [ -n "$SERVE_PID" ] || return 0; kill "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true; SERVE_PID=""; }
peak_rss_mb() { awk '/VmHWM/{printf "%.1f", $2/1024}' "/proc/$1/status"; }

# wait_verified N STORE... : until every named store has N verified copies and the queue is empty. One python process
# polls (every 0.2 s): a new python per poll and per store cost a tenth of a core here, taken from the system under test.
wait_verified() {
  local n=$1; shift
  URL="$URL" TOKEN="$TOKEN" $PY - "$n" "$@" <<'PYEOF'
import json, os, sys, time, urllib.request
n, stores = int(sys.argv[1]), sys.argv[2:]
req = urllib.request.Request(os.environ["URL"] + "/v1/status", headers={"Authorization": "Bearer " + os.environ["TOKEN"]})
while True:
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            s = json.load(r)
        if s["replication"]["depth"] == 0 and all(s["copies"].get(st, {}).get("verified", 0) >= n for st in stores):
            break
    except OSError:
        pass
    time.sleep(0.2)
PYEOF
}

# pg_cluster DIR PORT: a throwaway cluster in DIR with the anchors' settings (lib.sh pg_conf, durable defaults) plus a
# TCP listener, since JDBC does not speak unix sockets; stopped and removed when the script exits.
pg_cluster() {
  local d=$1 port=$2
  pg_stop "$d/data" 2>/dev/null || true; rm -rf "$d"
  mkdir -p "$d/sock"; chown postgres:postgres "$d" "$d/sock"
  trap "pg_stop '$d/data'; rm -rf '$d'" EXIT
  as_pg "$PGBIN/initdb" -D "$d/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
  pg_conf "$d/data" "$port" "$d/sock"
  echo "listen_addresses = '127.0.0.1'" >> "$d/data/postgresql.conf"
  as_pg "$PGBIN/pg_ctl" -D "$d/data" -l "$d/pg.log" -w -t 120 start >/dev/null
}

# run_test_class CLASS ARGS...: runs a class of Bunker's test sources (the benches' Java parts) on $JAVA
run_test_class() {
  local cls=$1; shift
  local cp=$BUNKER_HOME/target/bench-classpath.txt
  [ -f "$cp" ] && [ -f "$BUNKER_HOME/target/test-classes/${cls//.//}.class" ] ||
    (cd "$BUNKER_HOME" && mvn -B -q test-compile dependency:build-classpath -Dmdep.outputFile="$cp" >&2)
  "$JAVA" -cp "$BUNKER_HOME/target/test-classes:$BUNKER_HOME/target/classes:$(cat "$cp")" "$cls" "$@"
}

# bench_db_source: the anchors' bench database on the main throwaway cluster, reachable over TCP (JDBC speaks no unix
# sockets), a read-only role bunker_backup for Bunker's dumps, and the age key $PERF/age.key; sets R (its public key)
bench_db_source() {
  ensure_bench_db
  if [ -z "$(PSQL -d postgres -tAc "show listen_addresses")" ]; then
    PSQL -d postgres -c "alter system set listen_addresses = '127.0.0.1'" >&2
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA_MAIN" -w -t 120 restart >/dev/null
  fi
  PSQL -d postgres -c "do \$\$ begin create role bunker_backup login; exception when duplicate_object then null; end \$\$" \
       -c "grant pg_read_all_data to bunker_backup" >&2
  [ -f "$PERF/age.key" ] || age-keygen -o "$PERF/age.key" 2>/dev/null
  R=$(age-keygen -y "$PERF/age.key")
}
