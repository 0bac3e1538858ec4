#!/bin/sh
# Rebuilds a MariaDB source's binary log files from the chunks Bunker stored, without Bunker:
#   docs/restore-binlog.sh STORED OUT
# STORED: a copy of the store's .bunker/binlog/SOURCE/ folder (aws s3 cp --recursive, rclone copy, or a local store's
# folder); OUT: where the files go (one per binary log file, e.g. OUT/binlog.000041); KEY: the age identity the backups are
# encrypted to. It checks each chunk's SHA-256 against the one in its metadata (not the metadata's signature: Bunker's own
# restore checks that too). Then replay from the dump's position (its manifest's binlog.position), in UTC:
#   TZ=UTC mariadb-binlog --start-position=POS --stop-datetime='2026-12-04 10:03:07' OUT/binlog.000041 OUT/binlog.000042 | mariadb DB
set -eu
STORED=$1
OUT=$2
KEY=${BUNKER_KEY:-/srv/backup-key.txt}
mkdir -p "$OUT"
for dir in "$STORED"/*/; do
  file=$(basename "$dir")
  for chunk in $(ls "$dir" | grep '\.zst\.age$' | sort); do   # in byte order; stretches stored again after a restart hold the same bytes
    want=$(grep -o '"sha256":"[0-9a-f]*"' "$dir/${chunk%.zst.age}.json" | cut -d'"' -f4)
    have=$(sha256sum "$dir/$chunk" | cut -d' ' -f1)
    [ "$want" = "$have" ] || { echo "$dir$chunk: SHA-256 $have, its metadata says $want" >&2; exit 1; }
    from=${chunk%%-*}
    age -d -i "$KEY" "$dir/$chunk" | zstd -dq | dd of="$OUT/$file" bs=64k oflag=seek_bytes seek=$(expr "$from" + 0) conv=notrunc status=none
  done
done
