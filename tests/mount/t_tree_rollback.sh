#!/usr/bin/env bash
# t_tree_rollback.sh - whoever holds the store of an encrypted pool edits
# the tree family with RocksDB's ldb: a file's inode record put back from
# an older copy of the store (the file's older version served as current),
# its version field edited, a directory entry pointed at another file's
# inode (that file's bytes served under this name and its entry's rules),
# the inode counter set back so a new file takes an existing file's number.
# Each is EIO to the reader, never the other bytes, and the failed access
# is in the audit log. The untouched pool still reads.
# timeout: 90
. "$(dirname "$0")/../lib.sh"
t_setup
command -v ldb > /dev/null || die "ldb not found (Debian rocksdb-tools; scripts/deps.sh installs it)"

# row KEYHEX: the tree row's value (hex, no 0x), empty when absent
row() { ldb --db="$STORE/db" --column_family=tree --key_hex --value_hex get "0x$1" 2> /dev/null | sed 's/^0x//'; }
put() {
	ldb --db="$STORE/db" --column_family=tree --key_hex --value_hex put "0x$1" "0x$2" \
		> "$T_TMP/ldb.out" 2>&1 || die "ldb put failed: $(cat "$T_TMP/ldb.out")"
}
# dkey DIRNAME NAME: the key (hex) of the live entry NAME in /DIRNAME
dkey() {
	local parent=$ROOT_INO
	[ -n "$1" ] && parent=$(row "$(dkey "" "$1")" | cut -c1-16)
	printf '64%s%s' "$parent" "$(printf '%s' "$2" | od -An -tx1 | tr -d ' \n')"
}
ikey() { printf '69%s' "$(row "$(dkey "$1" "$2")" | cut -c1-16)"; }
ROOT_INO=$(printf '%016x' 1)

pool_init
pool_mount
mkdir "$MNT/x" "$MNT/y" || die "mkdir failed"
printf 'old,1\n' > "$MNT/x/f.csv"
printf 'aaaa,secret-of-a\n' > "$MNT/x/a.csv"
printf 'bbbb,b\n' > "$MNT/y/b.csv"
pool_umount
cp -a "$STORE" "$T_TMP/store.v1" || die "cp -a failed"
pool_mount
printf 'new,2\n' > "$MNT/x/f.csv"
check_eq "f.csv reads its new version" "$(cat "$MNT/x/f.csv")" "new,2"
pool_umount
cp -a "$STORE" "$T_TMP/store.intact" || die "cp -a failed"
fkey=$(ikey x f.csv)
[ ${#fkey} = 18 ] || die "no inode row for x/f.csv ($fkey)"

# attacked DESC PATH SECRET: reading PATH fails and does not give SECRET
attacked() {
	local desc=$1 path=$2 secret=$3 out
	pool_mount
	out=$(cat "$MNT$path" 2>&1)
	check_fails "$desc: reading $path fails" cat "$MNT$path"
	check_eq "$desc: $secret is not served" "$(grep -c -- "$secret" <<< "$out")" 0
	pool_umount
	check "$desc: the failure is in the audit log" \
		test "$(pctl audit query --json --path "$path" | grep -c '"result":-5')" -gt 0
	rm -rf "$STORE"
	cp -a "$T_TMP/store.intact" "$STORE" || die "cannot put the intact store back"
}

# ---- the inode record put back from the older copy ----
old=$(STORE=$T_TMP/store.v1 row "$fkey")
[ -n "$old" ] && [ "$old" != "$(row "$fkey")" ] || die "the older inode record is not different"
put "$fkey" "$old"
attacked "older inode record" /x/f.csv "old,1"

# ---- its version field set back (byte 27, be64) ----
cur=$(row "$fkey")
put "$fkey" "${cur:0:54}0000000000000001${cur:70}"
attacked "version field edited" /x/f.csv "old,1"

# ---- y/b.csv's entry pointed at x/a.csv's inode ----
put "$(dkey y b.csv)" "$(row "$(dkey x a.csv)")"
attacked "entry swapped" /y/b.csv "secret-of-a"

# ---- the inode counter set back to x/a.csv's number, then a new file ----
aino=$(row "$(dkey x a.csv)" | cut -c1-16)
ldb --db="$STORE/db" --column_family=meta --key_hex --value_hex put 0x6e6578745f696e6f "0x$aino" \
	> "$T_TMP/ldb.out" 2>&1 || die "ldb put failed: $(cat "$T_TMP/ldb.out")"
pool_mount
printf 'znew,z\n' > "$MNT/y/new.csv" || fail "cannot write y/new.csv"
check_eq "counter set back: y/new.csv reads its own bytes" "$(cat "$MNT/y/new.csv")" "znew,z"
check_eq "counter set back: x/a.csv still reads its own bytes" "$(cat "$MNT/x/a.csv" 2>&1)" "aaaa,secret-of-a"
pool_umount
rm -rf "$STORE"
cp -a "$T_TMP/store.intact" "$STORE" || die "cannot put the intact store back"

# ---- and the untouched pool ----
pool_mount
check_eq "the intact pool reads f.csv" "$(cat "$MNT/x/f.csv")" "new,2"
check_eq "and b.csv" "$(cat "$MNT/y/b.csv")" "bbbb,b"
pool_umount
