#!/usr/bin/env bash
# Bunker's test fixture: a throwaway single-node Ceph RGW (S3 with enforced Object Lock) on 127.0.0.1.
# One mon, one memstore OSD (object data in RAM: RGW_MEMSTORE_BYTES, 1 GiB by default), radosgw with the beast frontend;
# cephx off, pool size 1.
#
#   rgw.sh start DIR MON_V2_PORT MON_V1_PORT OSD_PORT_MIN OSD_PORT_MAX S3_PORT
#   rgw.sh stop DIR
#
# start prints "endpoint=http://127.0.0.1:PORT access_key=... secret_key=..." as its last line.
# Needs the Debian packages ceph-mon ceph-osd ceph-common radosgw (README: test prerequisites).
set -euo pipefail

die() { echo "rgw.sh: $*" >&2; exit 1; }

stop() {
  local dir=$1 f pid
  for name in client.rgw.a osd.0 mon.a; do
    f="$dir/run/$name.pid"
    [[ -f $f ]] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    # only a daemon started with this fixture's config (pid reuse)
    if [[ $pid =~ ^[0-9]+$ ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$dir/ceph.conf"; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
  done
}

start() {
  local dir=$1 mon2=$2 mon1=$3 osdmin=$4 osdmax=$5 port=$6
  for b in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool ceph-authtool curl; do
    command -v "$b" >/dev/null || die "$b not found; install the test prerequisites: apt-get install ceph-mon ceph-osd ceph-common radosgw"
  done
  stop "$dir"
  rm -rf "$dir"
  mkdir -p "$dir"/{run,log,mon.a,osd.0,rgw.a}
  local conf="$dir/ceph.conf" fsid
  fsid=$(cat /proc/sys/kernel/random/uuid)
  export CEPH_CONF="$conf"
  cat >"$conf" <<CONF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$mon2,v1:127.0.0.1:$mon1]
mon initial members = a
public addr = 127.0.0.1
public network = 127.0.0.1/32
cluster addr = 127.0.0.1
ms bind ipv4 = true
ms bind ipv6 = false
ms bind port min = $osdmin
ms bind port max = $osdmax
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
ms mon client mode = crc
ms mon service mode = crc
ms mon cluster mode = crc
ms client mode = crc
ms service mode = crc
ms cluster mode = crc
client mount timeout = 30
run dir = $dir/run
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
pid file = $dir/run/\$name.pid
keyring = $dir/keyring
log to stderr = false
err to stderr = true
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail warn = 1
mon data avail crit = 0
paxos propose interval = 0.05
paxos min wait = 0.01
mon warn on insecure global id reclaim allowed = false

[mon]
mon data = $dir/mon.\$id
mon cluster log file = $dir/log/cluster.log

[osd]
osd data = $dir/osd.\$id
osd objectstore = memstore
memstore device bytes = ${RGW_MEMSTORE_BYTES:-1073741824}
osd max object name len = 460
osd max object namespace len = 64
osd memory target = 536870912

[client]
log file = $dir/log/\$name.log

[client.rgw.a]
rgw data = $dir/rgw.a
rgw frontends = beast endpoint=127.0.0.1:$port tcp_nodelay=1
rgw thread pool size = 64
rgw dns name = 127.0.0.1
rgw enable usage log = false
rgw gc processor period = 30
CONF
  ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon2,v1:127.0.0.1:$mon1]" "$dir/monmap" >/dev/null
  ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring"
  ceph-mon -c "$conf" -i a
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$mon1") 2>/dev/null && break; sleep 0.05; done
  for i in $(seq 1 60); do
    timeout 10 ceph -c "$conf" --connect-timeout 5 mon stat >/dev/null 2>&1 && break
    [[ $i == 60 ]] && die "the mon did not come up; see $dir/log/mon.a.log"
    sleep 0.2
  done
  local uuid id
  uuid=$(cat /proc/sys/kernel/random/uuid)
  id=$(ceph -c "$conf" osd new "$uuid")
  [[ $id == 0 ]] || die "unexpected osd id $id"
  ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$uuid" >/dev/null 2>"$dir/log/osd.0.mkfs.log" || die "ceph-osd --mkfs failed; see $dir/log/osd.0.mkfs.log"
  ceph-osd -c "$conf" -i 0 2>>"$dir/log/osd.0.stderr"
  for i in $(seq 1 150); do
    ceph -c "$conf" osd dump 2>/dev/null | grep -q '^osd\.0 up' && break
    [[ $i == 150 ]] && die "osd.0 did not come up; see $dir/log/osd.0.log"
    sleep 0.2
  done
  radosgw -c "$conf" -n client.rgw.a
  for i in $(seq 1 300); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/" && break
    [[ $i == 300 ]] && die "radosgw did not answer on 127.0.0.1:$port; see $dir/log/client.rgw.a.log"
    sleep 0.1
  done
  radosgw-admin -c "$conf" user create --uid=bunker-test --display-name="bunker test" \
    --access-key=bunker-test --secret-key=bunker-test-secret >"$dir/user.json" 2>>"$dir/log/radosgw-admin.log" ||
    die "radosgw-admin user create failed; see $dir/log/radosgw-admin.log"
  radosgw-admin -c "$conf" user create --uid=bunker-other --display-name="bunker other" \
    --access-key=bunker-other --secret-key=bunker-other-secret >"$dir/user2.json" 2>>"$dir/log/radosgw-admin.log" ||
    die "radosgw-admin user create (second user) failed"
  echo "endpoint=http://127.0.0.1:$port access_key=bunker-test secret_key=bunker-test-secret"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  *) die "usage: rgw.sh start DIR MON_V2 MON_V1 OSD_MIN OSD_MAX S3_PORT | stop DIR" ;;
esac
