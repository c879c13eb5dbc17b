#!/usr/bin/env bash
# t_enospc.sh - the store on a 64 MiB tmpfs runs out of space: first while
# a 200 MiB write is staged, then on a write smaller than the free space
# but not with the room storing it needs besides. Each time the writer
# gets an error, the file keeps its old version, the space comes back
# (pack bytes too: store/pack_abandon.h) and the daemon keeps serving;
# after a remount the store opens and the old version is still there.
# timeout: 180
. "$(dirname "$0")/../lib.sh"
t_setup

tmpfs_mount "$T_TMP/small" 64m
STORE=$T_TMP/small/store
pool_init
pool_mount
gen 1 $((1 << 20)) binary > "$REF/v1"
check "write v1 (1 MiB)" cp "$REF/v1" "$MNT/f"
wait_version "$MNT" f 1
avail_kb() { df -k --output=avail "$T_TMP/small" | tail -n1 | tr -d ' '; }
note "free on the store's tmpfs after v1: $(avail_kb) KiB"

enospc_round() {
	local desc=$1 size=$2 got before
	before=$(avail_kb)
	T_CHECKS=$((T_CHECKS + 1))
	got=$(timeout 120 "$PY" "$HELPERS/sysop.py" write-fsync-close "$MNT/f" "$size" 7 2>&1)
	note "$desc: $size bytes -> $got"
	case $got in
	OK) fail "$desc: writing $size bytes onto a 64 MiB store succeeded" ;;
	*:ENOSPC | *:EDQUOT) ;;
	*:EIO) note "$desc: EIO where ENOSPC was expected" ;;
	*) fail "$desc: unexpected result $got" ;;
	esac
	check_same "$desc: the old version is intact" "$MNT/f" "$REF/v1"
	check_eq "$desc: stat size" "$(stat -c %s "$MNT/f" 2>&1)" $((1 << 20))
	check_eq "$desc: no version was added" "$(ls "$MNT/.versions/f" 2>&1 | tr '\n' ' ')" "1 "
	# staged bytes of the failed write are released (allow 8 MiB of logs)
	wait_for 10 sh -c '[ "$(df -k --output=avail "$1" | tail -n1)" -gt '$((before - 8192))' ]' \
		_ "$T_TMP/small" ||
		fail "$desc: space not released: $before KiB free before, $(avail_kb) KiB after"
	daemon_ok "$desc"
}

# 1: larger than the whole store: fails while staging
enospc_round "staging overflow" $((200 << 20))
# 2: less than the free space, not with what storing it needs besides (the
# room the chunk writer keeps for RocksDB; a pool with packs writes chunk
# bytes once, so 60 % of the free space fits now)
free=$(avail_kb)
enospc_round "commit overflow" $(((free * 1024) * 9 / 10))

# other files go on working
check "a new small file after the failures" sh -c 'echo after > "$1"' _ "$MNT/after"
check_eq "the new small file" "$(cat "$MNT/after" 2>&1)" after
pool_umount
check "poolctl stats offline after ENOSPC" pctl stats
check "audit chain intact after ENOSPC" pctl audit verify
pool_mount
check_same "after remount: the old version" "$MNT/f" "$REF/v1"
check_eq "after remount: the small file" "$(cat "$MNT/after" 2>&1)" after
