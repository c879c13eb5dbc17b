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
. "$(dirname "$0")/tree_lib.sh"	# row, put, dkey, ikey, attacked, tree_fixture

tree_fixture
cp -a "$STORE" "$T_TMP/store.intact" || die "cp -a failed"
fkey=$(ikey x f.csv)
[ ${#fkey} = 18 ] || die "no inode row for x/f.csv ($fkey)"

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
