#!/usr/bin/env bash
# t_convert_forged.sh - whoever holds the store puts a convert/READY and a
# convert/db that only looks encrypted (meta "format" 2 and a "crypt"
# row) beside an encrypted pool: the key record damaged, another pool's
# database whose key file is gone, another pool's database while poolfs
# is given this pool's key. The key is checked against convert/db before
# anything is swapped: poolfs refuses (exit 2, one line naming
# convert/db), the pool's own database stays, and once the forgery is
# removed the pool serves as before.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup
command -v ldb > /dev/null || die "ldb not found (Debian rocksdb-tools; scripts/deps.sh installs it)"

# refused DESC [poolfs args]: poolfs will not serve; the pool's database is kept
refused() {
	local desc=$1 out rc
	shift
	out=$(timeout 30 "$POOLFS" "$STORE" "$MNT" -f -o allow_all "$@" 2>&1)
	rc=$?
	if is_mounted "$MNT"; then
		fusermount3 -u "$MNT" 2> /dev/null || umount -l "$MNT"
	fi
	check_eq "$desc: poolfs refuses to serve ($out)" "$rc" 2
	check_eq "$desc: one line saying so, naming convert/db" \
		"$(tail -n1 <<< "$out" | grep -c 'not serving.*convert/db.*nothing swapped')" 1
	check_eq "$desc: the pool's own database is still in place" "$(crypt_hex)" "$CRYPT"
	rm -rf "$STORE/convert"
	pool_mount
	check_eq "$desc: the pool serves x.csv after the forgery is removed" \
		"$(cat "$MNT/x.csv" 2>&1)" "secret,1"
	pool_umount
}
crypt_hex() { ldb --db="$STORE/db" --column_family=meta --value_hex get crypt 2> /dev/null; }
# forge DB: DB put in as a finished conversion
forge() {
	mkdir -p "$STORE/convert/keys" && cp -a "$1" "$STORE/convert/db" &&
		touch "$STORE/convert/READY" || die "cannot forge the conversion"
}

pool_init
pool_mount
printf 'secret,1\n' > "$MNT/x.csv" || die "cannot write x.csv"
pool_umount
CRYPT=$(crypt_hex)
[ -n "$CRYPT" ] || die "no key record"
pool_init "$T_TMP/other" --key-file "$T_TMP/other.key"
cp "$T_TMP/other/keys/"*.key "$T_TMP/" 2> /dev/null

# ---- a copy of the pool's database with its key record damaged ----
cp -a "$STORE/db" "$T_TMP/damaged" || die "cp -a failed"
ldb --db="$T_TMP/damaged" --column_family=meta put crypt '{}' > /dev/null 2>&1 || die "ldb put failed"
forge "$T_TMP/damaged"
refused "a damaged key record"

# ---- another pool's database, its key file gone ----
forge "$T_TMP/other/db"
cp "$T_TMP/other/keys/"*.key "$STORE/convert/keys/"
mv "$T_TMP/other.key" "$T_TMP/other.key.away"
refused "another pool's database, no key for it"
mv "$T_TMP/other.key.away" "$T_TMP/other.key"

# ---- another pool's database, this pool's key given ----
forge "$T_TMP/other/db"
cp "$T_TMP/other/keys/"*.key "$STORE/convert/keys/"
refused "another pool's database, this pool's key given" -o "key_file=$T_TMP/master.key"
