#!/usr/bin/env bash
# t_tree_snapshots.sh - the history `.snapshots` lists is held to the
# log. An entry's end (unlink, rename, a rename over it) leaves an 'h'
# row leading to the inode that ended; whoever holds the store deletes
# it (an old entry hidden from every snapshot) or, in a plain store,
# rewrites it to lead to another inode. The daemon cannot tell; `audit
# verify` fails naming the entry and the record that ended it. Old
# versions are held by the commit marks: one deleted is named too.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup
. "$(dirname "$0")/tree_lib.sh"	# row, dkey, ldb_do, restore, caught

# make_pool [init args]: x/a.csv (two versions) unlinked and x/b.csv
# renamed to x/c.csv after time $T1; saved as store.intact
make_pool() {
	rm -rf "$STORE" "$T_TMP/store.intact"
	pool_init "$STORE" "$@"
	pool_mount
	mkdir "$MNT/x" || die "mkdir failed"
	printf 'aaaa,1\n' > "$MNT/x/a.csv" && printf 'aaaa,2\n' > "$MNT/x/a.csv" || die "a.csv"
	printf 'bbbb,b\n' > "$MNT/x/b.csv" || die "b.csv"
	sleep 1.2
	T1=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	sleep 1.2
	rm "$MNT/x/a.csv" && mv "$MNT/x/b.csv" "$MNT/x/c.csv" || die "rm or mv failed"
	check_eq "the snapshot lists a.csv and b.csv" "$(ls "$MNT/.snapshots/$T1/x" | tr '\n' ' ')" \
		"a.csv b.csv "
	pool_umount
	check_rc "the intact pool ($*) verifies" 0 pctl audit verify
	cp -a "$STORE" "$T_TMP/store.intact" || die "cp -a failed"
	XINO=$(row "$(dkey "" x)" | cut -c1-16)
	CINO=$(row "$(dkey x c.csv)" | cut -c1-16)
}
# hkey NAME: the key (hex) of x/NAME's history row
hkey() {
	ldb --db="$STORE/db" --column_family=tree --key_hex scan 2> /dev/null |
		sed -n "s/^0x\(68$XINO$(printf '%s' "$1" | od -An -tx1 | tr -d ' \n')[0-9A-Fa-f]\{16\}\) :.*/\1/Ip"
}

# ---- encrypted: an old entry hidden ----
make_pool
AKEY=$(hkey a.csv)
[ -n "$AKEY" ] || die "no history row for a.csv"
AINO=$(row "$AKEY" | cut -c1-16)
ldb_do --column_family=tree --key_hex delete "0x$AKEY"
pool_mount
check_eq "the daemon hides a.csv from the snapshot (it cannot tell)" \
	"$(ls "$MNT/.snapshots/$T1/x" | tr '\n' ' ')" "b.csv "
pool_umount
caught "unlinked entry's history deleted" "the entry \"a.csv\" in directory inode $((16#$XINO)), which led to inode $((16#$AINO)) until record [0-9]* (unlink), is missing from its history"
restore
ldb_do --column_family=tree --key_hex delete "0x$(hkey b.csv)"
caught "renamed entry's history deleted" "the entry \"b.csv\" .*until record [0-9]* (rename), is missing from its history"

# ---- old versions: held by the commit marks ----
restore
ldb_do --column_family=versions --key_hex delete "0x${AINO}0000000000000001"
caught "an old version deleted" "version 1 of inode $((16#$AINO)) .*missing from the store"

# ---- plain: a history row rewritten to lead to another inode ----
make_pool --cipher none
BKEY=$(hkey b.csv)
v=$(row "$BKEY")
ldb_do --column_family=tree --key_hex --value_hex put "0x$BKEY" "0x$(row "$(hkey a.csv)" | cut -c1-16)${v:16}"
caught "history row rewritten" "the entry \"b.csv\" in directory inode $((16#$XINO)), which led to inode $((16#$CINO)) until record [0-9]* (rename), is missing from its history"
restore
check_rc "the intact store put back verifies" 0 pctl audit verify
