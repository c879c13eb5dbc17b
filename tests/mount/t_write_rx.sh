#!/usr/bin/env bash
# t_write_rx.sh - the session loop hands a 1 MiB WRITE's receive buffer to
# the file's chunk pipe instead of copying it (fs/loop.c,
# store/chunk_rx.h), and receives the next request into a fresh one.
# Files written by several writers at once in 1 MiB requests, one with
# odd sizes and one whose first write is short (a partial block goes
# first) read back byte-identical; so do files written after a write
# that failed (ENOSPC in a pipe that had taken buffers) on the same
# daemon. A loop that received into a buffer a pipe still reads, or a
# pipe that kept one it gave back, mixes one request's bytes into
# another's file.
# timeout: 180
. "$(dirname "$0")/../lib.sh"
t_setup

tmpfs_mount "$T_TMP/small" 192m
STORE=$T_TMP/small/store
pool_init
pool_mount

# source files outside the pool, each its own bytes
for i in 1 2 3 4 5 6; do gen $((40 + i)) $((12 << 20)) binary > "$T_TMP/src$i"; done

pids=
for i in 1 2 3 4; do
	dd if="$T_TMP/src$i" of="$MNT/c$i" bs=1M conv=fsync status=none & pids+=" $!"
done
dd if="$T_TMP/src5" of="$MNT/odd" bs=777777 conv=fsync status=none & pids+=" $!"
# 100 bytes, then 1 MiB requests from there on
{ head -c 100 "$T_TMP/src6" && tail -c +101 "$T_TMP/src6"; } |
	dd of="$MNT/short_first" bs=1M iflag=fullblock conv=fsync status=none & pids+=" $!"
T_CHECKS=$((T_CHECKS + 1))
for p in $pids; do wait "$p" || fail "a concurrent writer failed"; done
for i in 1 2 3 4; do check_same "writer $i of 4 at once" "$MNT/c$i" "$T_TMP/src$i"; done
check_same "writer of 777777-byte requests beside them" "$MNT/odd" "$T_TMP/src5"
check_same "writer whose first request was 100 bytes" "$MNT/short_first" "$T_TMP/src6"

# a write that fails in its pipe (the store's tmpfs is full) ...
T_CHECKS=$((T_CHECKS + 1))
if timeout 120 dd if=/dev/urandom of="$MNT/toobig" bs=1M count=400 conv=fsync status=none \
	2> /dev/null; then
	fail "400 MiB onto a 192 MiB store succeeded"
fi
daemon_ok "after the failed write"
# ... then the threads' receive buffers serve new writes again
rm -f "$MNT/toobig"
pids=
for i in 1 2; do
	dd if="$T_TMP/src$((i + 2))" of="$MNT/after$i" bs=1M conv=fsync status=none & pids+=" $!"
done
T_CHECKS=$((T_CHECKS + 1))
for p in $pids; do wait "$p" || fail "a writer after the failure failed"; done
for i in 1 2; do check_same "writer $i after the failed write" "$MNT/after$i" "$T_TMP/src$((i + 2))"; done
check_same "a file from before, read again" "$MNT/c1" "$T_TMP/src1"

pool_umount
pool_mount
check_same "after remount: writer 4" "$MNT/c4" "$T_TMP/src4"
check_same "after remount: writer after the failure" "$MNT/after2" "$T_TMP/src4"
daemon_ok "write_rx"
