#!/usr/bin/env bash
# t_key_rollback.sh - the key record (meta "crypt") put back from before
# `poolctl key rotate` would make new writes use the retired key; it
# opens (same master key), so the log's last rotation decides: poolfs
# refuses to serve (exit 2, one line why) and poolctl refuses the pool.
# Also with meta "key_seen" (how far opens read the log) put back from
# before, edited, or deleted; an untouched pool opens after each.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup
. "$(dirname "$0")/tree_lib.sh"	# ldb_do
meta_hex() { ldb --db="$STORE/db" --column_family=meta --value_hex get "$1" 2> /dev/null | sed 's/^0x//'; }
meta_put() { ldb_do --column_family=meta --value_hex put "$1" "0x$2"; }

pool_init
pool_mount
printf 'old,1\n' > "$MNT/f.csv" || die "write failed"
pool_umount
check "an open before the rotation" pctl status
cp -a "$STORE" "$T_TMP/store.v1" || die "cp -a failed"
old_crypt=$(meta_hex crypt)
old_seen=$(meta_hex key_seen)
check "key rotate" pctl key rotate
pool_mount
printf 'new,2\n' > "$MNT/f.csv" || die "write failed"
pool_umount
check "the rotated pool opens" pctl status
cp -a "$STORE" "$T_TMP/store.intact" || die "cp -a failed"

# refused DESC: poolctl and poolfs refuse the pool, saying why
refused() {
	local rc
	check_fails "$1: poolctl refuses the pool" pctl status
	check_eq "$1: it says why" "$(grep -c 'put back from before the rotation' "$T_TMP/check.out")" 1
	"$POOLFS" "$STORE" "$MNT" -f -o allow_all > "$T_TMP/refused.log" 2>&1 &
	wait_pid $! 30
	rc=$?
	is_mounted "$MNT" && { fusermount3 -u "$MNT" 2> /dev/null || umount -l "$MNT"; }
	check_eq "$1: poolfs refuses to serve ($(tail -n1 "$T_TMP/refused.log"))" "$rc" 2
	check_eq "$1: one line saying why" \
		"$(tail -n1 "$T_TMP/refused.log" | grep -c 'not serving.*sealed with data key 2')" 1
}

meta_put crypt "$old_crypt"
refused "the key record put back"
restore
meta_put crypt "$old_crypt"
meta_put key_seen "$old_seen"
refused "the key record and key_seen put back"
restore
meta_put crypt "$old_crypt"
ldb_do --column_family=meta delete key_seen
refused "the key record put back, key_seen deleted"
restore
meta_put key_seen "00${old_seen:2}"
check "key_seen edited: the log is read again, the pool opens" pctl status
check "and again" pctl status
