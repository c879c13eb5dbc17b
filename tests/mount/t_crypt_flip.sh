#!/usr/bin/env bash
# t_crypt_flip.sh - whoever holds the store of an encrypted pool, without
# its key, edits meta so that it opens as an unencrypted pool: "format" set
# to 1, then "crypt" deleted, keys/*.key replaced with plain keys, the
# sealed audit log deleted; also with the key file gone. Each step is
# refused (poolfs exit 2, one line "not serving" naming what gives the
# pool away; poolctl refuses too) while a trace of encryption is left,
# and once none is, a poolfs given the pool's key refuses the plain pool.
# A convert/READY with a plain database put beside the pool is not
# swapped in. The intact pool still serves.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup
command -v ldb > /dev/null || die "ldb not found (Debian rocksdb-tools; scripts/deps.sh installs it)"

meta_put() {
	ldb --db="$STORE/db" --column_family=meta --key_hex --value_hex put "0x$1" "0x$2" \
		> "$T_TMP/ldb.out" 2>&1 || die "ldb put failed: $(cat "$T_TMP/ldb.out")"
}
ldb_do() { ldb --db="$STORE/db" "$@" > "$T_TMP/ldb.out" 2>&1 || die "ldb $* failed: $(cat "$T_TMP/ldb.out")"; }
FORMAT=666f726d6174

# refused DESC WHAT [poolfs args]: poolfs will not serve the store: exit 2, one line naming WHAT
refused() {
	local desc=$1 what=$2 out rc
	shift 2
	out=$(timeout 30 "$POOLFS" "$STORE" "$MNT" -f -o allow_all "$@" 2>&1)
	rc=$?
	if is_mounted "$MNT"; then
		fusermount3 -u "$MNT" 2> /dev/null || umount -l "$MNT"
	fi
	check_eq "$desc: poolfs refuses to serve ($out)" "$rc" 2
	check_eq "$desc: one line saying so, naming $what" \
		"$(tail -n1 <<< "$out" | grep -c "not serving.*$what")" 1
}

pool_init
pool_mount
printf 'secret,1\n' > "$MNT/x.csv" || die "cannot write x.csv"
pool_umount
cp -a "$STORE" "$T_TMP/store.intact" || die "cp -a failed"

# ---- format set to plain ----
meta_put $FORMAT 00000001
refused "format set to plain" 'meta "crypt"'
check_fails "poolctl refuses it too" pctl status
mv "$T_TMP/master.key" "$T_TMP/master.key.away"
refused "format set to plain, key file gone" 'meta "crypt"'
mv "$T_TMP/master.key.away" "$T_TMP/master.key"

# ---- and the key record deleted ----
ldb_do --column_family=meta delete crypt
refused "key record deleted" 'keys/hash.key'

# ---- and the sealed secrets replaced with plain ones ----
head -c 32 /dev/urandom > "$STORE/keys/hash.key"
head -c 32 /dev/urandom > "$STORE/keys/sign.key"
refused "plain keys put in" 'audit record 1'

# ---- and the sealed audit log deleted ----
ldb_do --column_family=audit --key_hex deleterange 0x0000000000000000 0xFFFFFFFFFFFFFFFF
refused "audit log deleted" 'version record'

# ---- and the version rows: nothing sealed left, but the operator gave the key ----
ldb_do --column_family=versions --key_hex deleterange 0x00 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
refused "every trace gone, key given" 'a key was given' -o "key_file=$T_TMP/master.key"

# ---- a plain database put in as a finished conversion ----
rm -rf "$STORE"
cp -a "$T_TMP/store.intact" "$STORE" || die "cannot put the intact store back"
pool_init "$T_TMP/plain" --cipher none
mkdir "$STORE/convert" && cp -a "$T_TMP/plain/db" "$STORE/convert/db" && touch "$STORE/convert/READY" ||
	die "cannot forge the conversion"
refused "a plain convert/db" 'convert/db'
check "the pool's own database is still there" test -d "$STORE/db"
rm -rf "$STORE/convert"

# ---- the intact pool ----
pool_mount
check_eq "the intact pool serves x.csv" "$(cat "$MNT/x.csv")" "secret,1"
pool_umount
