#!/usr/bin/env bash
# t_crypt.sh - encryption at rest, seen from outside: files round trip
# under aes-256-gcm and sm4; no known plaintext (a name, an ID number, a
# policy's purpose, spill bytes) is anywhere in the store's files, while an
# unencrypted pool shows it; a wrong or missing key is refused in one line
# with exit 2; a chunk rewritten with RocksDB's ldb, or two chunks swapped,
# is EIO to the reader and an audit record, never wrong bytes.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup

command -v ldb > /dev/null || die "ldb not found (Debian rocksdb-tools; scripts/deps.sh installs it)"

NAME=ZHANGSANFENG_CRYPTTEST
IDNO=110101199003077777
PURPOSE=社保资格认证

# content with the known plaintext, about 2 MiB (many chunks, blob files)
"$PY" -c "import sys
sys.stdout.write(''.join('%d,$NAME,$IDNO,宣州区\n' % i for i in range(50000)))" > "$REF/people.csv" ||
	die "cannot make the test data"

pctl_s() { timeout 120 "$POOLCTL" -s "$S" "$@"; }

# found STORE: the known plaintexts anywhere in the store's files (SST, blob,
# WAL, journal, keys), one name per line
found() {
	grep -r -a -l -e "$NAME" -e "$IDNO" -e "$PURPOSE" -e SPILLMARK_CRYPT "$1" 2> /dev/null
}

# spill_check: a writer with out-of-order writes holds its bytes in a spill
# file (O_TMPFILE, reachable through the daemon's fds): they are not plain
spill_check() {
	local desc=$1 plain=$2 fd hits=0
	"$PY" - "$MNT/spill.bin" "$T_TMP/spill.ready" "$T_TMP/spill.go" <<'PY' &
import os, sys, time
f = open(sys.argv[1], "wb")
f.seek(300000); f.write(b"SPILLMARK_CRYPT" * 100); f.seek(0); f.write(b"x"); f.flush()
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.05)
f.close()
PY
	local wpid=$!
	wait_for 20 test -e "$T_TMP/spill.ready" || fail "$desc: the writer did not start"
	for fd in /proc/"$POOLFS_PID"/fd/*; do
		case $(readlink "$fd") in
		*staging*) grep -a -q SPILLMARK_CRYPT "$fd" && hits=$((hits + 1)) ;;
		esac
	done
	touch "$T_TMP/spill.go"
	wait "$wpid"
	rm -f "$T_TMP/spill.go" "$T_TMP/spill.ready"
	if [ "$plain" = yes ]; then
		check "$desc: the spill file holds the bytes plain" test "$hits" -gt 0
	else
		check_eq "$desc: spill files holding the bytes plain" "$hits" 0
	fi
}

# ---- an unencrypted pool shows the plaintext: the greps below can fail ----
pool_init "$STORE" --cipher none
pool_mount
check "plain: write" cp "$REF/people.csv" "$MNT/people.csv"
head -c 5000 /dev/urandom > "$REF/small"
check "plain: write a small file" cp "$REF/small" "$MNT/small"
spill_check "plain" yes
S=$STORE
check "plain: apply a policy" pctl_s policy apply "$HELPERS/policy_basic.json"
pool_umount
check "plain: the store shows the plaintext" test -n "$(found "$STORE")"

# ---- round trip, and nothing plain, under each cipher ----
for cipher in aes-256-gcm sm4; do
	S=$T_TMP/store-$cipher
	K=$T_TMP/key-$cipher
	extra=()
	[ $cipher = sm4 ] && extra=(--audit-hash sm3)
	pool_init "$S" --cipher $cipher --key-file "$K" "${extra[@]}"
	check_eq "$cipher: key file mode" "$(stat -c %a "$K")" 400
	check_eq "$cipher: key file size" "$(stat -c %s "$K")" 32
	pool_mount "$S"
	check "$cipher: write" cp "$REF/people.csv" "$MNT/people.csv"
	check "$cipher: second version" sh -c 'echo "1,$2,$3" >> "$1"' _ "$MNT/people.csv" "$NAME" "$IDNO"
	check_same "$cipher: read back" "$MNT/.versions/people.csv/1" "$REF/people.csv"
	spill_check "$cipher" no
	check "$cipher: apply a policy" pctl_s policy apply "$HELPERS/policy_basic.json"
	pool_umount
	hits=$(found "$S")
	check_eq "$cipher: store files holding known plaintext" "$hits" ""
	pool_mount "$S"
	check_same "$cipher: read back after a remount" "$MNT/.versions/people.csv/1" "$REF/people.csv"
	check_eq "$cipher: current version" "$(tail -n 1 "$MNT/people.csv")" "1,$NAME,$IDNO"
	pool_umount
	check "$cipher: audit verify" pctl_s audit verify
done

# ---- wrong and missing keys ----
S=$T_TMP/store-aes-256-gcm
head -c 32 /dev/urandom > "$T_TMP/wrong.key"
# one_line_exit2 DESC CMD...: exit 2 and exactly one line on stderr naming the key
one_line_exit2() {
	local desc=$1 rc
	shift
	"$@" > "$T_TMP/o.out" 2> "$T_TMP/o.err"
	rc=$?
	check_eq "$desc: exit" "$rc" 2
	check_eq "$desc: one line ($(head -c 200 "$T_TMP/o.err"))" "$(wc -l < "$T_TMP/o.err")" 1
	T_CHECKS=$((T_CHECKS + 1))
	grep -q "key" "$T_TMP/o.err" || fail "$desc: says nothing of the key: $(cat "$T_TMP/o.err")"
}
one_line_exit2 "poolctl, wrong key" "$POOLCTL" --key-file "$T_TMP/wrong.key" -s "$S" stats
one_line_exit2 "poolfs, wrong key" "$POOLFS" "$S" "$MNT" -f -o key_file="$T_TMP/wrong.key"
mv "$T_TMP/key-aes-256-gcm" "$T_TMP/moved.key"
one_line_exit2 "poolctl, missing key" "$POOLCTL" -s "$S" stats
one_line_exit2 "poolfs, missing key" "$POOLFS" "$S" "$MNT" -f
check "poolctl --key-file finds the moved key" "$POOLCTL" --key-file "$T_TMP/moved.key" -s "$S" stats
mv "$T_TMP/moved.key" "$T_TMP/key-aes-256-gcm"
is_mounted "$MNT" && die "a refused poolfs left a mount"

# ---- a tampered chunk, and two swapped chunks ----
pool_mount "$S"
mkdir -p "$MNT/t" || die "mkdir failed"
head -c 5000 /dev/urandom > "$REF/a"
head -c 6000 /dev/urandom > "$REF/b"
head -c 6000 /dev/urandom > "$REF/c"
for f in a b c; do check "write $f" cp "$REF/$f" "$MNT/t/$f"; done
pool_umount
# the chunks of a (5033 stored bytes) and of b and c (6033 each)
ldb --db="$S/db" --column_family=chunks --hex scan > "$T_TMP/chunks" 2> /dev/null ||
	die "ldb scan failed"
key_of_len() { awk -v n="$1" '$1 ~ /^0x63/ && length($3) == 2 + 2 * n { print $1 }' "$T_TMP/chunks"; }
val_of() { awk -v k="$1" '$1 == k { print $3 }' "$T_TMP/chunks"; }
ka=$(key_of_len 5033)
read -r kb kc <<< "$(key_of_len 6033 | tr '\n' ' ')"
[ -n "$ka" ] && [ -n "$kb" ] && [ -n "$kc" ] || die "chunks of a, b, c not found: $(cut -c1-80 "$T_TMP/chunks")"
flipped=$("$PY" -c 'import sys
v = bytearray.fromhex(sys.argv[1][2:]); v[len(v) // 2] ^= 0x01; print("0x" + v.hex())' "$(val_of "$ka")")
ldb --db="$S/db" --column_family=chunks --hex put "$ka" "$flipped" > /dev/null 2>&1 || die "ldb put failed"
vb=$(val_of "$kb")
vc=$(val_of "$kc")
ldb --db="$S/db" --column_family=chunks --hex put "$kb" "$vc" > /dev/null 2>&1 || die "ldb put failed"
ldb --db="$S/db" --column_family=chunks --hex put "$kc" "$vb" > /dev/null 2>&1 || die "ldb put failed"

pool_mount "$S"
for f in a b c; do
	check_errno "read of tampered $f" EIO read "$MNT/t/$f"
done
pool_umount
pctl_s audit query --path /t/a --op read > "$T_TMP/q" 2>&1
T_CHECKS=$((T_CHECKS + 1))
grep -q "Input/output error" "$T_TMP/q" ||
	fail "no audit record of the failed read: $(tail -n 3 "$T_TMP/q")"
pctl_s audit query --path /t/b --op read > "$T_TMP/q" 2>&1
T_CHECKS=$((T_CHECKS + 1))
grep -q "Input/output error" "$T_TMP/q" || fail "no audit record of the swapped read: $(tail -n 3 "$T_TMP/q")"


# ---- scrub names the damaged files by path and version ----
pctl_s scrub > "$T_TMP/scrub" 2>&1
rc=$?
check_eq "scrub of the tampered pool exits 1 ($(tail -n 1 "$T_TMP/scrub"))" "$rc" 1
for f in a b c; do
	T_CHECKS=$((T_CHECKS + 1))
	grep -q "^damaged: /t/$f version 1: chunk at offset 0 " "$T_TMP/scrub" ||
		fail "scrub does not name /t/$f version 1: $(head -n 5 "$T_TMP/scrub")"
done
check_eq "scrub reports nothing else" "$(grep -c '^damaged: ' "$T_TMP/scrub")" 3
T_CHECKS=$((T_CHECKS + 1))
grep -q "^damaged: /people.csv" "$T_TMP/scrub" && fail "scrub reports an intact file"

# in a plain pool a chunk whose bytes no longer hash to its key
S=$STORE
ldb --db="$S/db" --column_family=chunks --hex scan > "$T_TMP/chunks" 2> /dev/null || die "ldb scan failed"
k=$(awk '$1 ~ /^0x63/ && length($3) == 2 + 2 * 5000 { print $1 }' "$T_TMP/chunks")
[ -n "$k" ] || die "plain: the chunk of /small not found"
flipped=$("$PY" -c 'import sys
v = bytearray.fromhex(sys.argv[1][2:]); v[7] ^= 0x20; print("0x" + v.hex())' "$(val_of "$k")")
ldb --db="$S/db" --column_family=chunks --hex put "$k" "$flipped" > /dev/null 2>&1 || die "ldb put failed"
pctl_s scrub > "$T_TMP/scrub" 2>&1
rc=$?
check_eq "plain: scrub exits 1" "$rc" 1
T_CHECKS=$((T_CHECKS + 1))
grep -q "^damaged: /small version 1: chunk at offset 0 " "$T_TMP/scrub" ||
	fail "plain: scrub does not name /small: $(head -n 3 "$T_TMP/scrub")"
