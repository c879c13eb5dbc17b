#!/usr/bin/env bash
# t_tree_retag.sh - an encrypted pool made before tree tags (its tree rows
# untagged, made here with POOLFS_TEST_UNTAGGED, the older path) is tagged
# at its first read-write open: every row gets its tag, meta "crypt" says
# "tree": "tag" and a store.retag record says how many. From then on the
# disk holder's edits are EIO, as in a pool made tagged: a directory entry
# pointed at another file's inode, an untagged (older) inode record put
# back. The swap is made whole: the entry y/b.csv pointed at x/a.csv's
# inode and that inode's record edited to name y/b.csv, which the
# entry-names-its-inode check alone lets through in an untagged pool.
# A plain pool converted by `poolctl encrypt` comes out tagged. The key
# record put back as it was before the tagging (from a backup or an
# older copy of the disk, wrapped with the same master key), with the
# swap made and its rows' stale tags cut off, is refused: the log says
# the pool was tagged, and a second tagging would tag the swap.
# timeout: 120
. "$(dirname "$0")/tree_lib.sh"	# row, put, dkey, ikey, attacked, tree_fixture
meta_crypt() { ldb --db="$STORE/db" --column_family=meta get crypt 2> /dev/null; }
meta_crypt_hex() { ldb --db="$STORE/db" --column_family=meta --value_hex get crypt 2> /dev/null | sed 's/^0x//'; }
# swap: y/b.csv's entry to x/a.csv's inode, whose record (parent at byte
# 35, name at byte 93, "a.csv" and "b.csv" of one length) now names it
swap() {
	local akey aval yino
	akey=$(ikey x a.csv)
	aval=$(row "$akey")
	yino=$(row "$(dkey "" y)" | cut -c1-16)
	put "$(dkey y b.csv)" "$(row "$(dkey x a.csv)")"
	put "$akey" "${aval:0:70}$yino${aval:86:100}$(printf b.csv | od -An -tx1 | tr -d ' \n')${aval:196}"
}

# ---- a pool as made and used before tags ----
export POOLFS_TEST_UNTAGGED=1
tree_fixture
unset POOLFS_TEST_UNTAGGED
check_eq "the old pool's key record has no tree flag" "$(meta_crypt | grep -c '"tree"')" 0
untagged_crypt=$(meta_crypt_hex)
fkey=$(ikey x f.csv)
[ ${#fkey} = 18 ] || die "no inode row for x/f.csv ($fkey)"
before=$(row "$fkey")

# ---- the first open tags it ----
pool_mount
check_eq "f.csv reads its new version" "$(cat "$MNT/x/f.csv")" "new,2"
check_eq "b.csv reads" "$(cat "$MNT/y/b.csv")" "bbbb,b"
pool_umount
check_eq "the key record now says tree: tag" "$(meta_crypt | grep -c '"tree":"tag"')" 1
after=$(row "$fkey")
check_eq "f.csv's inode row got its tag (33 bytes)" "$(( (${#after} - ${#before}) / 2 ))" 33
check_eq "the tagging is recorded" "$(pctl audit query --json --op store.retag | grep -c '"result":0')" 1
cp -a "$STORE" "$T_TMP/store.intact" || die "cp -a failed"
pool_mount
pool_umount
check_eq "and done once" "$(pctl audit query --json --op store.retag | grep -c '"result":0')" 1

# ---- the disk holder's edits now fail ----
swap
attacked "entry and inode record swapped after tagging" /y/b.csv "secret-of-a"

# ---- the key record put back as before the tagging, the swap untagged ----
ldb --db="$STORE/db" --column_family=meta --value_hex put crypt "0x$untagged_crypt" \
	> "$T_TMP/ldb.out" 2>&1 || die "ldb put failed: $(cat "$T_TMP/ldb.out")"
swap
for k in "$(dkey y b.csv)" "$(ikey y b.csv)"; do
	v=$(row "$k")
	put "$k" "${v:0:$(( ${#v} - 66 ))}"
done
"$POOLFS" "$STORE" "$MNT" -f -o allow_all > "$T_TMP/rolledback.log" 2>&1 &
pid=$!
for ((i = 0; i < 300; i++)); do
	is_mounted "$MNT" || kill -0 "$pid" 2> /dev/null || break
	is_mounted "$MNT" && break
	sleep 0.1
done
if is_mounted "$MNT"; then
	check_eq "the rolled-back key record: b.csv does not serve a.csv" \
		"$(grep -c secret-of-a "$MNT/y/b.csv" 2> /dev/null)" 0
	fusermount3 -u "$MNT" 2> /dev/null || umount -l "$MNT"
fi
wait_pid "$pid" 30
rc=$?
check_eq "the rolled-back key record: poolfs refuses to serve ($(tail -n1 "$T_TMP/rolledback.log"))" "$rc" 2
check_eq "the rolled-back key record: one line saying why" \
	"$(tail -n1 "$T_TMP/rolledback.log" | grep -c 'not serving.*tagged')" 1
check_fails "the rolled-back key record: poolctl refuses it too" pctl status
rm -rf "$STORE"
cp -a "$T_TMP/store.intact" "$STORE" || die "cannot put the intact store back"

old=$(STORE=$T_TMP/store.v1 row "$fkey")
[ -n "$old" ] || die "no older inode record"
put "$fkey" "$old"
attacked "older untagged inode record put back" /x/f.csv "old,1"

cur=$(row "$fkey")
put "$fkey" "${cur:0:$(( ${#cur} - 66 ))}"
attacked "its tag stripped" /x/f.csv "new,2"

# ---- a plain pool converted by poolctl encrypt comes out tagged ----
rm -rf "$STORE"
pool_init "$STORE" --cipher none
pool_mount
mkdir "$MNT/x" "$MNT/y" || die "mkdir failed"
printf 'aaaa,secret-of-a\n' > "$MNT/x/a.csv"
printf 'bbbb,b\n' > "$MNT/y/b.csv"
pool_umount
check "poolctl encrypt" pctl encrypt --key-file "$T_TMP/conv.key"
check_eq "the converted pool's key record says tree: tag" "$(meta_crypt | grep -c '"tree":"tag"')" 1
cp -a "$STORE" "$T_TMP/store.intact" || die "cp -a failed"
POOLFS_OPTS=allow_all,key_file=$T_TMP/conv.key
pool_mount
check_eq "the converted pool reads b.csv" "$(cat "$MNT/y/b.csv")" "bbbb,b"
pool_umount
check_eq "and needed no tagging at open" "$(pctl audit query --json --op store.retag | grep -c .)" 0
swap
attacked "entry and inode record swapped in a converted pool" /y/b.csv "secret-of-a"
