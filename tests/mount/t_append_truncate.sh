#!/usr/bin/env bash
# t_append_truncate.sh - append (>>, O_APPEND), truncate(1) up and down,
# sparse writes with dd seek=, each applied to a pool file and to a
# reference file; after every step both must be byte-for-byte equal with
# the same size, and every step (one open-write-close) adds one version.
# timeout: 180
. "$(dirname "$0")/../lib.sh"
t_setup

pool_init
pool_mount
gen 5 300000 binary > "$T_TMP/blob"
gen 6 5000 text > "$T_TMP/text"

NSTEP=0
# step DESC CMD... : @F in CMD is replaced by the file; run on both sides
step() {
	local desc=$1 a rc_p rc_r
	shift
	local cp=() cr=()
	for a in "$@"; do
		cp+=("${a//@F/$MNT/f}")
		cr+=("${a//@F/$REF/f}")
	done
	"${cr[@]}" > /dev/null 2> "$T_TMP/ref.err"
	rc_r=$?
	"${cp[@]}" > /dev/null 2> "$T_TMP/pool.err"
	rc_p=$?
	NSTEP=$((NSTEP + 1))
	# the commit runs in release, after close() returned: wait for it so
	# that the next step cannot merge into this one
	wait_version "$MNT" f "$NSTEP"
	check_eq "step $NSTEP ($desc): exit status (pool: $(head -c 200 "$T_TMP/pool.err"))" "$rc_p" "$rc_r"
	check_eq "step $NSTEP ($desc): size" "$(stat -c %s "$MNT/f" 2>&1)" "$(stat -c %s "$REF/f")"
	check_same "step $NSTEP ($desc): content" "$MNT/f" "$REF/f"
}

step "echo > (create)" sh -c 'echo first line > "$1"' _ @F
step "echo >>" sh -c 'echo second line >> "$1"' _ @F
step "cat text >>" sh -c 'cat "$1" >> "$2"' _ "$T_TMP/text" @F
step "cat 300 KB binary >>" sh -c 'cat "$1" >> "$2"' _ "$T_TMP/blob" @F
step "O_APPEND after lseek(0)" "$PY" -c '
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
os.lseek(fd, 0, 0)
os.write(fd, b"appended despite lseek\n")
os.close(fd)' @F
step "truncate down to 10000" truncate -s 10000 @F
step "truncate up to 300000 (zeros)" truncate -s 300000 @F
step "truncate to 4097" truncate -s 4097 @F
step "truncate -s +1M" truncate -s +1M @F
step "dd 2 blocks at seek=100 (4 KiB)" dd if="$T_TMP/blob" of=@F bs=4096 seek=100 count=2 conv=notrunc
step "dd 10 bytes at odd offset 12345" dd if="$T_TMP/text" of=@F bs=1 seek=12345 count=10 conv=notrunc
step "dd past EOF at 10 MiB (hole)" dd if="$T_TMP/blob" of=@F bs=1M seek=10 count=1 conv=notrunc iflag=fullblock
step "truncate into the hole (6 MiB)" truncate -s 6M @F
step "dd spanning EOF" dd if="$T_TMP/blob" of=@F bs=1000 seek=6290 count=100 conv=notrunc
step "truncate to 0" truncate -s 0 @F
step "truncate 0 -> 50 MiB sparse" truncate -s 50M @F
step "write 3 bytes at the end of the sparse file" dd if="$T_TMP/text" of=@F bs=1 seek=$((50 << 20)) count=3 conv=notrunc
step "dd conv=notrunc at 0 without truncating" dd if="$T_TMP/text" of=@F bs=100 count=1 conv=notrunc
step "dd default (truncates at the end of its write)" dd if="$T_TMP/text" of=@F bs=100 count=3 seek=1
step "ftruncate through an open O_RDWR fd, then write" "$PY" -c '
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
os.ftruncate(fd, 77)
os.pwrite(fd, b"X" * 10, 100)
os.ftruncate(fd, 105)
os.close(fd)' @F

# every step changed the file and closed it once: one version each
n=$(versions_count /f)
check_eq "versions of /f after $NSTEP steps ($(head -c 200 "$T_TMP/pctl.err"))" "$n" "$NSTEP"
vn=$(ls "$MNT/.versions/f" 2> /dev/null | sort -n | tail -n1)
check_eq "highest entry in .versions/f" "$vn" "$NSTEP"

pool_umount
pool_mount
check_same "after remount" "$MNT/f" "$REF/f"

# a file truncated by path while nobody has it open is committed at once
check "truncate of a closed file" truncate -s 3 "$MNT/f"
check_eq "size right after truncate by path" "$(stat -c %s "$MNT/f")" 3
check_eq "content right after truncate by path" "$(cat "$MNT/f")" "$(head -c 3 "$REF/f")"
daemon_ok "append and truncate"
