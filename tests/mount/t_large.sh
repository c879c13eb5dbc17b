#!/usr/bin/env bash
# t_large.sh - a 1 GiB file written with a stream, copied inside the pool
# and read back after a remount, compared by SHA-256 (constant memory; no
# copy of it is kept outside the pool). The daemon must not hold the file
# in memory: its peak RSS stays under 1 GiB.
# timeout: 600
. "$(dirname "$0")/../lib.sh"
t_setup

SIZE=$((1 << 30))
pool_init
pool_mount

note "writing 1 GiB"
check "stream 1 GiB into the pool" sh -c \
	'"$1" "$2/gen.py" 7 '"$SIZE"' binary | tee "$3/big" | sha256sum | cut -d" " -f1 > "$4/sum"' \
	_ "$PY" "$HELPERS" "$MNT" "$T_TMP"
want=$(cat "$T_TMP/sum")
check_eq "size of the 1 GiB file" "$(stat -c %s "$MNT/big" 2>&1)" "$SIZE"
check_sum "1 GiB read back" "$MNT/big" "$want"
check "dd read with 1 MiB requests" timeout 300 dd if="$MNT/big" of=/dev/null bs=1M
check "cp of 1 GiB inside the pool" timeout 300 cp "$MNT/big" "$MNT/big2"
check_sum "1 GiB copy read back" "$MNT/big2" "$want"

hwm=$(awk '/^VmHWM:/ { print $2 }' /proc/"$POOLFS_PID"/status 2> /dev/null)
note "daemon peak RSS ${hwm:-?} kB"
[ -n "$hwm" ] && { [ "$hwm" -lt $((1 << 20)) ] ||
	fail "daemon peak RSS is $hwm kB after writing 1 GiB files: content sits in memory"; }

pool_umount
pool_mount
check_sum "1 GiB after remount" "$MNT/big" "$want"
check_sum "1 GiB copy after remount" "$MNT/big2" "$want"
# a write in the middle of the big file, then the old version is intact
check "overwrite 1 MiB in the middle" dd if=/dev/zero of="$MNT/big2" bs=1M seek=512 count=1 conv=notrunc,fsync
check_eq "size after the middle overwrite" "$(stat -c %s "$MNT/big2" 2>&1)" "$SIZE"
check_sum "previous version of big2 through .versions" "$MNT/.versions/big2/1" "$want"
want2=$(gen 7 "$SIZE" binary $((512 << 20)) $((1 << 20)) | sha256sum | cut -d' ' -f1)
check_sum "big2 after the middle overwrite" "$MNT/big2" "$want2"
daemon_ok "1 GiB files"
