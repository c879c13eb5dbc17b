# tests/mount/tree_lib.sh - sourced, in place of tests/lib.sh, by the
# tests that edit a stopped pool's tree family with RocksDB's ldb, as its
# disk holder: t_tree_rollback.sh, t_tree_retag.sh, t_commit_rollback.sh,
# t_copy_rollback.sh, t_tree_history.sh. Loads tests/lib.sh and sets the
# test up (t_setup).
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
t_setup
command -v ldb > /dev/null || die "ldb not found (Debian rocksdb-tools; scripts/deps.sh installs it)"

ROOT_INO=$(printf '%016x' 1)
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
# ikey DIRNAME NAME: the key (hex) of that entry's inode record
ikey() { printf '69%s' "$(row "$(dkey "$1" "$2")" | cut -c1-16)"; }
ldb_do() { ldb --db="$STORE/db" "$@" > "$T_TMP/ldb.out" 2>&1 || die "ldb $* failed: $(cat "$T_TMP/ldb.out")"; }
# vrow KEYHEX: the version row's value (hex, no 0x)
vrow() { ldb --db="$STORE/db" --column_family=versions --key_hex --value_hex get "0x$1" 2> /dev/null | sed 's/^0x//'; }
restore() { rm -rf "$STORE"; cp -a "$T_TMP/store.intact" "$STORE" || die "cannot put the intact store back"; }
FKEY=64${ROOT_INO}$(printf f.csv | od -An -tx1 | tr -d ' \n')
# f_v1 [init args]: a new pool whose /f.csv is at version 1 ("old,1"),
# saved as store.v1, mounted again
f_v1() {
	rm -rf "$STORE" "$T_TMP"/store.v[0-9] "$T_TMP/store.intact"
	pool_init "$STORE" "$@"
	pool_mount
	printf 'old,1\n' > "$MNT/f.csv" || die "cannot write f.csv"
	pool_umount
	cp -a "$STORE" "$T_TMP/store.v1" || die "cp -a failed"
	pool_mount
}
# f_intact DESC: the stopped pool verifies, is saved as store.intact; INO is f.csv's inode (hex)
f_intact() {
	check_rc "the intact pool ($1) verifies" 0 pctl audit verify
	cp -a "$STORE" "$T_TMP/store.intact" || die "cp -a failed"
	INO=$(row "$FKEY" | cut -c1-16)
	[ ${#INO} = 16 ] || die "no entry for f.csv"
}
# rolled_back N FROM: the intact store with f.csv's versions N to 3
# deleted and its inode record put back from store.FROM (a consistent
# older state of the file)
rolled_back() {
	local v
	restore
	for ((v = $1; v <= 3; v++)); do
		ldb_do --column_family=versions --key_hex delete "0x${INO}$(printf '%016x' $v)"
	done
	ldb_do --column_family=tree --key_hex --value_hex put "0x69$INO" \
		"0x$(STORE=$T_TMP/store.$2 row "69$INO")"
}
# caught DESC PATTERN: audit verify exits 1 and says PATTERN once
caught() {
	local out
	out=$(pctl audit verify 2>&1)
	check_eq "$1: audit verify fails ($out)" "$?" 1
	check_eq "$1: it says so" "$(grep -c -- "$2" <<< "$out")" 1
}

# attacked DESC PATH SECRET: reading PATH fails and does not give SECRET,
# the failure is in the audit log; then the store is put back from
# $T_TMP/store.intact
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

# tree_fixture: a pool with x/f.csv (version 1 "old,1", version 2
# "new,2"), x/a.csv and y/b.csv; $T_TMP/store.v1 is the store before
# f.csv's version 2
tree_fixture() {
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
}
