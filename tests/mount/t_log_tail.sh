#!/usr/bin/env bash
# t_log_tail.sh - whoever holds the store cuts the newest records off the
# audit log and puts back the sealed head (and checkpoints) of an older
# copy: the log is then intact and shorter, so the chain and the daemon's
# start cannot tell. What the cut records made is still in the store:
# `poolctl audit verify` fails (exit 1) naming a version of a file newer
# than the log's newest commit of it, or an inode above every inode the
# log names (store/log_tail.c). A cut that took only reads is found only
# by the auditor's anchor (docs/audit.md), which this test shows too; a
# newest version row deleted alone fails reads and verify.
# timeout: 150
. "$(dirname "$0")/tree_lib.sh"	# row, put, ldb_do, restore, caught

HEAD_KEY=0x$(printf audit_head | od -An -tx1 | tr -d ' \n')
CP_PREFIX=$(printf audit_cp | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
# last_seq STORE: its last audit record's seq, read with ldb (poolctl would add one)
last_seq() {
	local k
	k=$(ldb --db="$1/db" --column_family=audit --key_hex --value_hex scan 2> /dev/null | tail -1 |
		awk '{ print $1 }' | sed 's/^0x//')
	[ -n "$k" ] && echo $((16#${k:0:16}))
}
# save NAME: the stopped store copied to $T_TMP/store.NAME (a copy before it replaced)
save() { rm -rf "$T_TMP/store.$1"; cp -a "$STORE" "$T_TMP/store.$1" || die "cp -a failed"; }
# cut_to OLDSTORE: the log of $STORE cut back to OLDSTORE's, its head and
# checkpoints put back from there
cut_to() {
	local n head k
	n=$(last_seq "$1")
	[ -n "$n" ] || die "no last seq in $1"
	head=$(ldb --db="$1/db" --column_family=meta --key_hex --value_hex get "$HEAD_KEY" |
		sed 's/^0x//')
	[ -n "$head" ] || die "no head in $1"
	ldb_do --column_family=audit --key_hex deleterange "0x$(printf '%016x' $((n + 1)))" \
		0xFFFFFFFFFFFFFFFF
	for k in $(ldb --db="$STORE/db" --column_family=meta --key_hex --value_hex scan 2> /dev/null |
		awk '{ print $1 }' | sed 's/^0x//'); do
		[ "${k:0:16}" = "$CP_PREFIX" ] && [ $((16#${k:16:16})) -gt "$n" ] &&
			ldb_do --column_family=meta --key_hex delete "0x$k"
	done
	ldb_do --column_family=meta --key_hex --value_hex put "$HEAD_KEY" "0x$head"
}

for cipher in none aes; do
	args=(--cipher none)
	[ "$cipher" = aes ] && args=()
	rm -rf "$STORE" "$T_TMP"/store.*
	pool_init "$STORE" "${args[@]}"
	pool_mount
	printf 'old,1\n' > "$MNT/f.csv" || die "write failed"
	pool_umount
	save v1

	# ---- reads only after store.v1: the cut is not found without the anchor ----
	pool_mount
	cat "$MNT/f.csv" > /dev/null
	pool_umount
	pctl audit anchor > "$T_TMP/anchor" || die "audit anchor failed"
	save intact
	cut_to "$T_TMP/store.v1"
	check_rc "$cipher: reads cut off: verify cannot tell" 0 pctl audit verify
	check_rc "$cipher: reads cut off: the anchor tells" 1 pctl audit verify --anchor "$T_TMP/anchor"
	restore

	# ---- a commit of f.csv cut off ----
	pool_mount
	printf 'new,2\n' > "$MNT/f.csv" || die "write failed"
	pool_umount
	check_rc "$cipher: the intact pool verifies" 0 pctl audit verify
	save intact
	INO=$(row "$FKEY" | cut -c1-16)
	cut_to "$T_TMP/store.v1"
	pool_mount
	check_eq "$cipher: the daemon starts on the cut log and serves" "$(cat "$MNT/f.csv")" "new,2"
	pool_umount
	caught "$cipher: commit cut off" "version 2 of inode $((16#$INO)) is in the store, but the log's newest commit of that file made version 1"

	# ---- the newest version row deleted alone: reads fail, verify names it ----
	restore
	ldb_do --column_family=versions --key_hex delete "0x${INO}$(printf '%016x' 2)"
	pool_mount
	check_fails "$cipher: f.csv without its newest version row is not read" cat "$MNT/f.csv"
	pool_umount
	caught "$cipher: newest version row deleted" "version 2 of inode $((16#$INO)) (/f.csv).*missing from the store"

	# ---- a create cut off ----
	restore
	save v2
	pool_mount
	printf 'g\n' > "$MNT/g.csv" || die "create failed"
	pool_umount
	save intact
	GINO=$((16#$(row "$(dkey "" g.csv)" | cut -c1-16)))
	cut_to "$T_TMP/store.v2"
	caught "$cipher: create cut off" "inode $GINO is in the store, but the log names no inode after $((16#$INO))"
	restore
	check_rc "$cipher: the intact store put back verifies" 0 pctl audit verify
done
