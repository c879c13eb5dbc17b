#!/usr/bin/env bash
# t_tree_history.sh - whoever holds the store edits the tree family with
# ldb to undo changes the log recorded: an unlinked file's entry and live
# inode record put back from an older copy of the store, a rename undone
# (the old entry and record back, the new entry deleted), a created
# file's entry deleted. Each row is one the pool wrote, so reads cannot
# tell; every tree change's record names the entries it made and ended,
# with a mark, and `poolctl audit verify` fails (exit 1) naming the first
# entry the tree disagrees on. A pool after mkdir, rmdir, symlink, create,
# unlink, renames (into another directory, over a file, of a directory)
# verifies.
# timeout: 120
. "$(dirname "$0")/tree_lib.sh"	# row, put, dkey, ikey, ldb_do, restore, caught
old() { STORE=$T_TMP/store.v1 row "$1"; }

pool_init
pool_mount
mkdir "$MNT/x" "$MNT/y" "$MNT/x/sub" "$MNT/d" || die "mkdir failed"
printf 'aaaa,secret-of-a\n' > "$MNT/x/a.csv"
printf 'bbbb,b\n' > "$MNT/x/b.csv"
printf 'keep\n' > "$MNT/y/keep.csv"
ln -s keep.csv "$MNT/y/link" || die "symlink failed"
rmdir "$MNT/x/sub" || die "rmdir failed"
pool_umount
cp -a "$STORE" "$T_TMP/store.v1" || die "cp -a failed"
pool_mount
rm "$MNT/x/a.csv" || die "unlink failed"
mv "$MNT/x/b.csv" "$MNT/y/c.csv" || die "rename failed"
printf 'new\n' > "$MNT/x/new.csv"
printf 'tmp\n' > "$MNT/y/t.tmp"
mv "$MNT/y/t.tmp" "$MNT/y/keep.csv" || die "rename over a file failed"
mv "$MNT/d" "$MNT/x/d2" || die "rename of a directory failed"
pool_umount
check_rc "the intact pool verifies" 0 pctl audit verify
cp -a "$STORE" "$T_TMP/store.intact" || die "cp -a failed"
XINO=$((16#$(row "$(dkey "" x)" | cut -c1-16)))
YINO=$((16#$(row "$(dkey "" y)" | cut -c1-16)))

# ---- the unlink undone: entry and live inode record back ----
akey=$(STORE=$T_TMP/store.v1 dkey x a.csv)
aino=$(old "$akey" | cut -c1-16)
put "$akey" "$(old "$akey")"
put "69$aino" "$(old "69$aino")"
caught "unlink undone" "the entry \"a.csv\" in directory inode $XINO, ended by record [0-9]* (unlink), is in the store again"

# ---- the rename undone: x/b.csv back, y/c.csv gone ----
restore
bkey=$(STORE=$T_TMP/store.v1 dkey x b.csv)
bino=$(old "$bkey" | cut -c1-16)
ckey=$(dkey y c.csv)
put "$bkey" "$(old "$bkey")"
put "69$bino" "$(old "69$bino")"
ldb_do --column_family=tree --key_hex delete "0x$ckey"
caught "rename undone" "the entry \"\(b\|c\).csv\" in directory inode \($XINO\|$YINO\).*record [0-9]* (rename).*\(brought back\|the change undone\)"

# ---- the rename alone undone: only y/c.csv deleted ----
restore
ldb_do --column_family=tree --key_hex delete "0x$ckey"
caught "renamed entry deleted" "the entry \"c.csv\" in directory inode $YINO, which record [0-9]* (rename) made lead to inode $((16#$bino)), is missing"

# ---- the create undone ----
restore
ldb_do --column_family=tree --key_hex delete "0x$(dkey x new.csv)"
caught "create undone" "the entry \"new.csv\" in directory inode $XINO, which record [0-9]* (create) made lead"

restore
check_rc "the intact store put back verifies" 0 pctl audit verify

# ---- policy apply makes catalog directories: recorded like a mkdir ----
# (unrecorded, a directory removed through the mount and made again by
# the next apply would look brought back)
check "apply a policy" pctl policy apply "$HELPERS/policy_basic.json"
check_eq "its directories are mkdir records" \
	"$(pctl audit query --op mkdir --path /基础库 | grep -c 'catalog entry')" 3
pool_mount
rmdir "$MNT/基础库/人口/户籍人口" || die "rmdir of the catalog directory failed"
pool_umount
check "apply it again" pctl policy apply "$HELPERS/policy_basic.json"
check_eq "the directory is back" "$(ls -d "$STORE" > /dev/null && pctl audit query --op mkdir --path /基础库/人口/户籍人口 | wc -l)" 2
check_rc "the pool verifies" 0 pctl audit verify
