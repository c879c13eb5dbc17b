#!/usr/bin/env bash
# t_inode_history.sh - whoever holds a plain store edits inode records
# with ldb: a symlink re-pointed, a file turned into a directory, an
# unlinked file brought back under another name, a file's record moved
# into another directory or renamed. Each edit is one a read may never
# meet (a lookup by inode number walks parent pointers, .snapshots reads
# dead records), so `poolctl audit verify` holds every inode the log
# names to it: the last entry word on an inode says where it lives or
# that it ended, and the attribute word carries its type and a mark of a
# symlink's target. verify fails (exit 1) naming the inode.
# timeout: 120
. "$(dirname "$0")/tree_lib.sh"	# row, put, dkey, ikey, ldb_do, restore, caught
# hexof TEXT: its bytes in hex
hexof() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
# splice KEYHEX BYTEOFF HEX: the tree row's bytes at BYTEOFF replaced by HEX
splice() {
	local v
	v=$(row "$1")
	[ -n "$v" ] || die "no row $1"
	put "$1" "${v:0:$(($2 * 2))}$3${v:$(($2 * 2 + ${#3}))}"
}

pool_init "$STORE" --cipher none
pool_mount
mkdir "$MNT/x" "$MNT/y" || die "mkdir failed"
printf 'aaaa,secret-of-a\n' > "$MNT/x/a.csv"
printf 'bbbb,b\n' > "$MNT/x/b.csv"
printf 'keep\n' > "$MNT/y/keep.csv"
printf 'othr\n' > "$MNT/y/othr.csv"
ln -s keep.csv "$MNT/y/link" || die "symlink failed"
chown -h 12:34 "$MNT/y/link" || die "lchown failed"
pool_umount
cp -a "$STORE" "$T_TMP/store.v1" || die "cp -a failed"
pool_mount
rm "$MNT/x/a.csv" || die "unlink failed"
pool_umount
check_rc "the intact pool verifies" 0 pctl audit verify
cp -a "$STORE" "$T_TMP/store.intact" || die "cp -a failed"
XINO=$(row "$(dkey "" x)" | cut -c1-16)
YINO=$(row "$(dkey "" y)" | cut -c1-16)
LKEY=$(ikey y link)
BKEY=$(ikey x b.csv)

# ---- a symlink re-pointed (same length: the size field agrees) ----
v=$(row "$LKEY")
check_eq "the link's record ends in its target" "${v: -16}" "$(hexof keep.csv | tr a-f A-F)"
put "$LKEY" "${v:0:$((${#v} - 16))}$(hexof othr.csv)"
pool_mount
check_eq "the edit is served" "$(readlink "$MNT/y/link")" "othr.csv"
pool_umount
caught "symlink re-pointed" "symlink inode $((16#${LKEY:2})) does not lead where record [0-9]* (setattr) made it lead (target changed)"

# ---- a file turned into a directory: its record's and its entry's type ----
restore
splice "$BKEY" 1 02
splice "$(dkey x b.csv)" 8 02
caught "file turned into a directory" "inode $((16#${BKEY:2})) is a directory, but record [0-9]* (create) made it a file (type changed)"

# ---- the unlinked a.csv brought back as x/z.csv (same name length) ----
restore
akey=$(STORE=$T_TMP/store.v1 dkey x a.csv)
aino=$(STORE=$T_TMP/store.v1 row "$akey" | cut -c1-16)
v=$(row "69$aino")
check_eq "a.csv's record is dead" "${v:4:2}" 01
put "$(dkey x z.csv)" "$(STORE=$T_TMP/store.v1 row "$akey")"
splice "69$aino" 2 00
splice "69$aino" 93 "$(hexof z.csv)"
pool_mount
check_eq "the edit is served" "$(cat "$MNT/x/z.csv")" "aaaa,secret-of-a"
pool_umount
caught "unlinked file brought back" "inode $((16#$aino)), which record [0-9]* (unlink) ended, is live in the store (brought back)"

# ---- the dead flag alone cleared ----
restore
splice "69$aino" 2 00
caught "dead flag cleared" "inode $((16#$aino)), which record [0-9]* (unlink) ended, is live in the store"

# ---- b.csv's record moved into y (its entry left: a lookup by path fails, by number does not) ----
restore
splice "$BKEY" 35 "$YINO"
caught "record moved to another directory" "inode $((16#${BKEY:2})) is \"b.csv\" in directory inode $((16#$YINO)), but record [0-9]* (create) made it \"b.csv\" in directory inode $((16#$XINO)) (moved)"

# ---- b.csv's record renamed ----
restore
splice "$BKEY" 93 "$(hexof c.csv)"
caught "record renamed" "inode $((16#${BKEY:2})) is \"c.csv\" in directory inode $((16#$XINO)), but record [0-9]* (create) made it \"b.csv\""

# ---- a live file's record marked dead ----
restore
splice "$BKEY" 2 01
caught "live file marked dead" "inode $((16#${BKEY:2})) is dead in the store, but record [0-9]* (create) made it \"b.csv\" in directory inode $((16#$XINO)) (ended)"

restore
check_rc "the intact store put back verifies" 0 pctl audit verify

# ---- renames, exchanges and replaces leave every inode where the log says ----
pool_mount
mkdir "$MNT/x/d" "$MNT/y/e" || die "mkdir failed"
mv "$MNT/x/b.csv" "$MNT/y/b2.csv" || die "rename failed"
printf 'n\n' > "$MNT/y/n.csv"
mv "$MNT/y/n.csv" "$MNT/y/othr.csv" || die "rename over a file failed"
mv -T "$MNT/x/d" "$MNT/y/e" || die "rename over a directory failed"
python3 -c '
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
a, b = sys.argv[1].encode(), sys.argv[2].encode()
if libc.renameat2(-100, a, -100, b, 2):
    sys.exit(os.strerror(ctypes.get_errno()))
' "$MNT/y/keep.csv" "$MNT/y/b2.csv" || die "RENAME_EXCHANGE failed"
chmod 0600 "$MNT/y/link" 2> /dev/null
rm "$MNT/y/link" || die "unlink of the link failed"
pool_umount
check_rc "the pool after renames, an exchange and replaces verifies" 0 pctl audit verify
