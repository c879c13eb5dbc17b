#!/usr/bin/env bash
# t_backup_incr.sh - an incremental backup stores about the change: a
# 96 MiB CSV pool is backed up, then one row at a time is changed and
# backed up again. RocksDB's blob GC used to relocate the oldest blob
# files in the compactions those backups' flushes set off, so a backup
# after a one-row change could copy tens of MiB of unchanged chunks
# (store/blob_gc.h). The bytes DEST grows by are the assertion.
# timeout: 150
. "$(dirname "$0")/../lib.sh"
t_setup

DEST=$T_TMP/backups
ROUNDS=6
pool_init
pool_mount
gen 7 $((96 << 20)) csv > "$MNT/data.csv" || die "writing the CSV failed"
wait_version "$MNT" data.csv 1
check "full backup" pctl backup create "$DEST"
full=$(du -sb "$DEST" | cut -f1)
note "full backup: $((full >> 20)) MiB"

# one row rewritten in place, at a different row each round
change_row() {
	"$PY" - "$MNT/data.csv" "$1" << 'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
size = os.fstat(fd).st_size
at = size * int(sys.argv[2]) // 8
buf = os.pread(fd, 4096, at)
nl = buf.index(b"\n") + 1
end = buf.index(b"\n", nl)
row = bytearray(buf[nl:end])
row[: min(8, len(row))] = b"X" * min(8, len(row))
os.pwrite(fd, bytes(row), at + nl)
os.fsync(fd)
os.close(fd)
PY
}

prev=$full
most=0
for ((r = 1; r <= ROUNDS; r++)); do
	change_row "$r" || fail "the one-row change $r failed"
	wait_version "$MNT" data.csv $((r + 1))
	check "backup after one-row change $r" pctl backup create "$DEST"
	now=$(du -sb "$DEST" | cut -f1)
	grew=$((now - prev))
	note "backup $((r + 1)) after one-row change $r: DEST grew by $((grew >> 10)) KiB"
	[ $grew -gt $most ] && most=$grew
	prev=$now
done
# a chunk or two of new data, small tables, the backup's meta: well under 4 MiB
T_CHECKS=$((T_CHECKS + 1))
[ $most -lt $((4 << 20)) ] ||
	fail "an incremental backup after a one-row change grew DEST by $((most >> 10)) KiB (limit 4096)"
check "every backup verifies" "$POOLCTL" backup verify "$DEST" --id $((ROUNDS + 1))
daemon_ok "incremental backups"
