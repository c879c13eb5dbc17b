#!/usr/bin/env bash
# t_commit_rollback.sh - whoever holds the store deletes a file's newest
# version row and puts its older inode record back from an older copy of
# the store (tag and all): a consistent older state of that file, which
# the daemon serves as current. Every commit's audit record names the
# inode and a mark of the version it made, so `poolctl audit verify`
# fails (exit 1) naming the version missing; a version row replaced by
# another (moved in an encrypted pool, rewritten in a plain one) is named
# too. The intact pools verify.
# timeout: 90
. "$(dirname "$0")/tree_lib.sh"	# row, ldb_do, vrow, restore, caught, rolled_back

# make_pool [init args]: f.csv with versions 1 and 2; store.v1 holds the store after 1
make_pool() {
	f_v1 "$@"
	printf 'new,2\n' > "$MNT/f.csv" || die "cannot write f.csv"
	pool_umount
	f_intact "$*"
}

# ---- encrypted: version 2 deleted, the older inode record put back ----
make_pool
rolled_back 2 v1
pool_mount
check_eq "the daemon serves the older state (it cannot tell)" "$(cat "$MNT/f.csv" 2>&1)" "old,1"
pool_umount
caught "file rolled back" "version 2 of inode $((16#$INO)) (/f.csv).*missing from the store"

# ---- encrypted: version 2's row replaced by version 1's ----
restore
ldb_do --column_family=versions --key_hex --value_hex put "0x${INO}0000000000000002" \
	"0x$(vrow "${INO}0000000000000001")"
caught "version row moved" "version 2 of inode $((16#$INO)) (/f.csv).*fails its check"

# ---- plain: version 2's row rewritten with version 1's content ----
make_pool --cipher none
restore
ldb_do --column_family=versions --key_hex --value_hex put "0x${INO}0000000000000002" \
	"0x$(vrow "${INO}0000000000000001")"
caught "version row rewritten" "version 2 of inode $((16#$INO)) (/f.csv).*not the content"
