#!/usr/bin/env bash
# t_attr_history.sh - an inode's mode and owner are held to the log:
# create, mkdir, symlink, a rename over a file and every setattr record
# carry the inode's mode, uid and gid under the tree mark, and `poolctl
# audit verify` fails (exit 1) naming the first inode whose record
# disagrees. Whoever holds a plain store rewrites the mode or owner
# bytes; whoever holds an encrypted one puts back the inode record from
# before a chmod (its tag holds). Times are not held (docs/audit.md).
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup
. "$(dirname "$0")/tree_lib.sh"	# row, put, dkey, ikey, restore, caught

# make_pool [init args]: f.csv chmod 0600, chown 123:456 and touched after
# store.v1 was saved; b.csv chmod 0640 before; d made 0700 by mkdir alone
make_pool() {
	f_v1 "$@"
	printf 'bbbb,b\n' > "$MNT/b.csv" && chmod 0640 "$MNT/b.csv" || die "b.csv"
	pool_umount
	cp -a "$STORE" "$T_TMP/store.v1" || die "cp -a failed"	# b.csv at 0640 here
	pool_mount
	chmod 0600 "$MNT/f.csv" || die "chmod failed"
	chown 123:456 "$MNT/f.csv" || die "chown failed"
	touch -d '2001-01-01' "$MNT/f.csv" || die "touch failed"
	mkdir -m 0700 "$MNT/d" || die "mkdir failed"
	pool_umount
	f_intact "$*"
	BINO=$(row "$(dkey "" b.csv)" | cut -c1-16)
}
# set_field HEXKEY OFFSET BE32HEX: one be32 of a plain inode record rewritten
set_field() {
	local v
	v=$(row "$1")
	put "$1" "${v:0:$(($2 * 2))}$3${v:$(($2 * 2 + 8))}"
}

# ---- plain: mode and owner bytes rewritten ----
make_pool --cipher none
set_field "69$INO" 3 000001a4
caught "chmod undone" "inode $((16#$INO)) has mode 0644, uid 123, gid 456, but record [0-9]* (setattr) made them mode 0600, uid 123, gid 456"
restore
set_field "69$INO" 7 00000000
caught "chown undone" "inode $((16#$INO)) has mode 0600, uid 0, .*(setattr) made them mode 0600, uid 123"
restore
set_field "69$BINO" 3 000001ff
caught "a created file's mode widened" "inode $((16#$BINO)) has mode 0777, .*(setattr) made them mode 0640"
restore
set_field "$(ikey "" d)" 11 000001c8
caught "a directory's group changed" "inode [0-9]* has mode 0700, uid 0, gid 456, but record [0-9]* (mkdir) made them mode 0700, uid 0, gid 0"
restore
check_rc "the intact store put back verifies" 0 pctl audit verify
pool_mount
check_eq "times are not held: a touch is served" "$(stat -c %Y "$MNT/f.csv")" \
	"$(date -d 2001-01-01 +%s)"
pool_umount

# ---- encrypted: the inode record from before the chmod put back ----
make_pool
put "69$INO" "$(STORE=$T_TMP/store.v1 row "69$INO")"
caught "record from before the chmod put back" "inode $((16#$INO)) has mode 0644, uid 0, gid 0, but record [0-9]* (setattr) made them mode 0600, uid 123, gid 456"
