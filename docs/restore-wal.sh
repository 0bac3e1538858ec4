#!/bin/sh
# A restore_command that rebuilds one WAL segment from the chunks Bunker stored, without Bunker:
#   restore_command = '/srv/restore-wal.sh %f %p'
# WAL: a copy of the store's .bunker/wal/SOURCE/SYSTEM-ID/ folder (aws s3 cp --recursive, rclone copy, or a local store's folder);
# KEY: the age identity the backups are encrypted to. It trusts the files it is given: Bunker's own restore checks each
# chunk's signed metadata and SHA-256, this script does not.
set -eu
WAL=${BUNKER_WAL:-/srv/bunker-wal/app}
KEY=${BUNKER_KEY:-/srv/backup-key.txt}
SEGMENT_SIZE=${BUNKER_SEGMENT_SIZE:-16M}
ls "$WAL/$1".*.zst.age >/dev/null 2>&1 || exit 1  # not stored (PostgreSQL also asks for files past the end)
case $1 in *.history)                              # a timeline's history (after a promotion): one whole file
  for f in "$WAL/$1".*.zst.age; do age -d -i "$KEY" "$f" | zstd -dq > "$2"; exit 0; done ;;
esac
for chunk in "$WAL/$1".*.zst.age; do               # in offset order; overlapping chunks hold the same bytes
  offset=${chunk##*/"$1".}; offset=${offset%%-*}
  age -d -i "$KEY" "$chunk" | zstd -dq | dd of="$2" bs=64k oflag=seek_bytes seek=$((0x$offset)) conv=notrunc status=none
done
truncate -s "$SEGMENT_SIZE" "$2"                   # zeros after the last stored byte, as in a partial segment
