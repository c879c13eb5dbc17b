#!/usr/bin/env bash
# t_copy_rollback.sh - versions made without a write are held to the log
# like written ones (t_commit_rollback.sh): a file renamed over another
# gives the target a new version with the source's content (an editor's
# save, rsync, mv), and `poolctl restore` commits an old version's
# content as a new one. Both records name the version they made, with its
# mark, so whoever holds the store and deletes such a version with the
# inode record put back from before, or rewrites its row with another
# version's content, fails `audit verify` naming that version.
# timeout: 120
. "$(dirname "$0")/tree_lib.sh"	# row, ldb_do, vrow, restore, caught, rolled_back

# make_pool [init args]: f.csv at version 1 ("old,1"), version 2 by a
# rename over it ("new,2"), version 3 by poolctl restore of version 1;
# store.v1 is the store before the rename, store.v2 before the restore
make_pool() {
	f_v1 "$@"
	printf 'new,2\n' > "$MNT/g.tmp" || die "cannot write g.tmp"
	mv "$MNT/g.tmp" "$MNT/f.csv" || die "mv over f.csv failed"
	check_eq "f.csv after the rename over it" "$(cat "$MNT/f.csv")" "new,2"
	pool_umount
	cp -a "$STORE" "$T_TMP/store.v2" || die "cp -a failed"
	check_eq "restore makes version 3" "$(pctl restore /f.csv --version 1 2>&1)" 3
	check_eq "the restore record names version 3 and the one restored" \
		"$(pctl audit query --op restore --json | grep -c '"version":3.*restored from version 1\|restored from version 1.*"version":3')" 1
	f_intact "$*"
}

# ---- encrypted ----
make_pool
rolled_back 2 v1
pool_mount
check_eq "the daemon serves the state before the rename (it cannot tell)" \
	"$(cat "$MNT/f.csv" 2>&1)" "old,1"
pool_umount
caught "rename over undone" "version 2 of inode $((16#$INO)) (/g.tmp).*missing from the store"
rolled_back 3 v2
caught "restore undone" "version 3 of inode $((16#$INO)) (/f.csv).*missing from the store"

# ---- plain: the copy-made versions' rows rewritten with other content ----
make_pool --cipher none
restore
ldb_do --column_family=versions --key_hex --value_hex put "0x${INO}0000000000000002" \
	"0x$(vrow "${INO}0000000000000001")"
caught "renamed-over version rewritten" "version 2 of inode $((16#$INO)) (/g.tmp).*not the content"
restore
ldb_do --column_family=versions --key_hex --value_hex put "0x${INO}0000000000000003" \
	"0x$(vrow "${INO}0000000000000002")"
caught "restored version rewritten" "version 3 of inode $((16#$INO)) (/f.csv).*not the content"
