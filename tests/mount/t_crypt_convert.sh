#!/usr/bin/env bash
# t_crypt_convert.sh - "poolctl encrypt": an unencrypted pool with files,
# versions, a hole and a masked view is converted offline; poolctl killed
# with SIGKILL at several points (mid-versions, after the copy, before and
# during the swap) leaves a pool that opens, and a rerun completes; after
# it every version reads back byte-identical, the masked view is the same,
# the audit chain verifies and names the conversion, scrub is clean, no
# known plaintext is anywhere under STORE, and without the key the pool
# does not open. Refused while a poolfs serves the pool.
# timeout: 180
. "$(dirname "$0")/../lib.sh"
t_setup

t_setup_readers

NAME=ZHAOLIUCONVERT_PLAIN
GA=/基础库/人口/户籍人口
KEY=$T_TMP/conv.key

found() { grep -r -a -l -e "$NAME" -e 341802199001011234 "$1" 2> /dev/null; }

"$PY" -c "import sys
sys.stdout.write(''.join('%d,$NAME,row %d\n' % (i, i * 7) for i in range(60000)))" > "$REF/v1" ||
	die "cannot make the test data"
{ cat "$REF/v1"; echo "appended,$NAME"; } > "$REF/v2"
head -c 200000 "$REF/v1" > "$REF/v3"
printf '身份证号,姓名,手机号,住址,区县\n341802199001011234,张三丰,13812345678,宣城市宣州区某路1号,宣州区\n341802199202022345,李四,13987654321,宣城市郎溪县某路2号,郎溪县\n' > "$PUB/people.csv"
chmod 0644 "$PUB/people.csv"

pool_init "$STORE" --cipher none
check "apply a policy" pctl policy apply "$HELPERS/policy_basic.json"
pool_mount
check "version 1" cp "$REF/v1" "$MNT/f"
check "version 2" cp "$REF/v2" "$MNT/f"
check "version 3" cp "$REF/v3" "$MNT/f"
check "a second file with v1's content" cp "$REF/v1" "$MNT/g"
"$PY" -c "import sys
f = open(sys.argv[1], 'wb'); f.write(b'head $NAME'); f.seek(3 << 20); f.write(b'tail'); f.close()" "$MNT/holes" ||
	die "cannot write the file with a hole"
cp "$MNT/holes" "$REF/holes" || die "cannot read the file with a hole"
# a large file: its chunks in a pack, which the conversion writes inline
head -c $((12 << 20)) /dev/urandom > "$REF/big"
check "a 12 MiB file" dd if="$REF/big" of="$MNT/big" bs=1M conv=fsync
pool_umount
# the departments' mount: the provider writes, renshe reads through its masks
POOLFS_OPTS='' pool_mount
check "the provider publishes" as 1001 2001 cp "$PUB/people.csv" "$MNT$GA/people.csv"
as 1002 2002 cat "$MNT$GA/people.csv" > "$REF/masked" 2> /dev/null
check "renshe's view is masked" sh -c '! grep -q 341802199001011234 "$1" && grep -q 宣州区 "$1"' _ "$REF/masked"
check "encrypt is refused while a poolfs serves the pool" \
	sh -c '! "$1" -s "$2" encrypt --key-file "$3" > /dev/null 2>&1' _ "$POOLCTL" "$STORE" "$KEY"
check "the refused run left nothing" test ! -e "$STORE/convert"
pool_umount
check "the plain store shows the plaintext" test -n "$(found "$STORE")"

# kill_at STEP: poolctl encrypt dies with SIGKILL at STEP; the pool still opens
kill_at() {
	POOLFS_TEST_ENCRYPT_KILL=$1 "$POOLCTL" -s "$STORE" encrypt --key-file "$KEY" \
		> "$T_TMP/enc.out" 2>&1
	check_eq "encrypt killed at $1" "$?" 137
	check "the pool opens after the kill at $1" pctl stats
}
kill_at versions
# a mount in between changes the pool: the next run starts over
pool_mount
check_same "the plain pool still reads after a kill" "$MNT/.versions/f/1" "$REF/v1"
pool_umount
kill_at versions
kill_at versions	# goes on from the earlier run
kill_at rest
kill_at ready
check "the swap was finished by the open" test ! -e "$STORE/convert"
check_eq "the pool is encrypted" "$(pctl crypto | awk '/^cipher/ { print $2 }')" aes-256-gcm

# a fresh plain copy for the kill during the swap itself, and a clean run
pool_init "$T_TMP/s2" --cipher none
pool_mount "$T_TMP/s2"
check "s2: write" cp "$REF/v1" "$MNT/f"
pool_umount
POOLFS_TEST_ENCRYPT_KILL=swap "$POOLCTL" -s "$T_TMP/s2" encrypt --key-file "$T_TMP/s2.key" \
	> /dev/null 2>&1
check_eq "s2: encrypt killed in the swap" "$?" 137
check "s2: db/ is gone mid-swap" test ! -e "$T_TMP/s2/db"
check "s2: a rerun completes" "$POOLCTL" -s "$T_TMP/s2" encrypt --key-file "$T_TMP/s2.key"
pool_mount "$T_TMP/s2"
check_same "s2: reads back" "$MNT/f" "$REF/v1"
pool_umount

"$POOLCTL" -s "$STORE" encrypt --key-file "$KEY" > "$T_TMP/enc.out" 2>&1
check_eq "a run on an encrypted pool: exit 2" "$?" 2
T_CHECKS=$((T_CHECKS + 1))
grep -q "encrypted already" "$T_TMP/enc.out" || fail "no reason given: $(cat "$T_TMP/enc.out")"

pool_mount
for v in 1 2 3; do
	check_same "version $v byte-identical" "$MNT/.versions/f/$v" "$REF/v$v"
done
check_same "the current version" "$MNT/f" "$REF/v3"
check_same "the second file" "$MNT/g" "$REF/v1"
check_same "the file with a hole" "$MNT/holes" "$REF/holes"
check_same "the large file" "$MNT/big" "$REF/big"
# the plain pool's pack counts went with its packs
check_eq "stats: no live pack bytes left" "$(stats_field pack_live_bytes)" "0"
check_eq "stats: the pool still writes packs" "$(stats_field writes_packs)" "True"
check "a write after the conversion" cp "$REF/v2" "$MNT/f"
check_same "version 4" "$MNT/.versions/f/4" "$REF/v2"
pool_umount
POOLFS_OPTS='' pool_mount
check_same "the masked view is the same" <(as 1002 2002 cat "$MNT$GA/people.csv") "$REF/masked"
check_same "the provider reads raw" <(as 1001 2001 cat "$MNT$GA/people.csv") "$PUB/people.csv"
pool_umount

check "audit verify" pctl audit verify
pctl audit query --op store.encrypt > "$T_TMP/q" 2>&1
# begun afresh twice (the mount in between changed the pool), completed by an open
check_eq "the log names the conversion: begun twice ($(cat "$T_TMP/q"))" \
	"$(grep -c 'conversion to aes-256-gcm begun' "$T_TMP/q")" 2
check_eq "the log names the conversion: completed once" "$(grep -c 'completed at open' "$T_TMP/q")" 1
check "s2: audit verify" env PSTORE="$T_TMP/s2" "$POOLCTL" -s "$T_TMP/s2" audit verify
PSTORE=$T_TMP/s2 pctl audit query --op store.encrypt > "$T_TMP/q" 2>&1
check_eq "s2: begun once, ended once by the rerun ($(cat "$T_TMP/q"))" \
	"$(grep -c -e 'begun' -e 'pool encrypted with aes-256-gcm (resumed)' "$T_TMP/q")" 2
check "scrub" pctl scrub
check_eq "store files holding known plaintext" "$(found "$STORE")" ""
check_eq "s2 files holding known plaintext" "$(found "$T_TMP/s2")" ""

mv "$KEY" "$T_TMP/moved.key"
"$POOLFS" "$STORE" "$MNT" -f > "$T_TMP/nokey" 2>&1
check_eq "without the key poolfs refuses: exit" "$?" 2
check "without the key: one line naming it" grep -q "key" "$T_TMP/nokey"
check "a refused poolfs left no mount" sh -c "! grep -q \" $MNT \" /proc/self/mountinfo"
