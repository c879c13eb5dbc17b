#!/usr/bin/env bash
# t_readahead.sh - sequential reads: the mount raises its own read-ahead
# at the first open (-o read_ahead_kb, default 4096; 0 keeps the
# kernel's; an administrator's larger value stays), and what the kernel
# then reads in 1 MiB requests, answered from RocksDB's buffers, is the
# file's bytes: whole, at random offsets, through mmap, and for a reader
# of a version while the next one commits.
# timeout: 60
. "$(dirname "$0")/../lib.sh"
t_setup

# the mount's read_ahead_kb, from its device in mountinfo
ra_kb() {
	local dev
	dev=$(awk -v m="$1" '$5 == m { d = $3 } END { print d }' /proc/self/mountinfo)
	cat "/sys/class/bdi/$dev/read_ahead_kb"
}

pool_init
head -c $((12 << 20)) /dev/urandom > "$T_TMP/src1.bin"
head -c $((12 << 20)) /dev/urandom > "$T_TMP/src2.bin"

pool_mount
check "write a 12 MiB file" dd if="$T_TMP/src1.bin" of="$MNT/f" bs=1M conv=fsync status=none
check "read it" cat "$MNT/f" > /dev/null
check_eq "read-ahead after the first open" "$(ra_kb "$MNT")" 4096
sync
echo 3 > /proc/sys/vm/drop_caches
check "read with 1 MiB requests" dd if="$MNT/f" of="$T_TMP/got.bin" bs=1M status=none
check_same "bytes read cold" "$T_TMP/got.bin" "$T_TMP/src1.bin"
check_run "random preads and mmap" "$PY" "$HELPERS/readcheck.py" "$MNT/f" "$T_TMP/src1.bin" 7

# a reader keeps its version while the file's next one commits
check_run "reader of a version across a commit" "$PY" - "$MNT/f" "$T_TMP/src1.bin" "$T_TMP/src2.bin" <<'PY'
import os, sys
path, old, new = sys.argv[1], open(sys.argv[2], "rb").read(), open(sys.argv[3], "rb").read()
r = os.open(path, os.O_RDONLY)
got = os.pread(r, 3 << 20, 5)
with open(path, "r+b") as w:
    w.write(new)
    w.flush()
    os.fsync(w.fileno())
off = 5 + len(got)
while True:
    b = os.pread(r, 1 << 20, off)
    if not b:
        break
    got += b
    off += len(b)
os.close(r)
if got != old[5:]:
    print("FAIL: the reader got bytes of the new version")
    sys.exit(1)
with open(path, "rb") as f:
    if f.read() != new:
        print("FAIL: a new open does not read the new version")
        sys.exit(1)
PY
pool_umount

pool_mount "$STORE" "$MNT" -o read_ahead_kb=0
check "read it (read_ahead_kb=0)" cat "$MNT/f" > /dev/null
check_eq "read_ahead_kb=0 keeps the kernel's" "$(ra_kb "$MNT")" 128
pool_umount

pool_mount
dev=$(awk -v m="$MNT" '$5 == m { d = $3 } END { print d }' /proc/self/mountinfo)
echo 16384 > "/sys/class/bdi/$dev/read_ahead_kb"
check "read it (administrator's value)" cat "$MNT/f" > /dev/null
check_eq "an administrator's larger value stays" "$(ra_kb "$MNT")" 16384
daemon_ok "readahead"
