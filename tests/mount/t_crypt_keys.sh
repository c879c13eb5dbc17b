#!/usr/bin/env bash
# t_crypt_keys.sh - key rotation in an encrypted pool: after "poolctl key
# rotate" (through the daemon) new chunks carry the new key id, old ones
# keep theirs, and both versions read back, also after a remount; a
# poolctl killed with SIGKILL while rotating leaves a pool that opens and
# reads with whichever keyset it holds; poolctl crypto names the algorithms;
# a pool keyed by a passphrase (scrypt) mounts with it, also after a key
# rotation, and refuses a wrong or missing one in one line, exit 2.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup

command -v ldb > /dev/null || die "ldb not found (Debian rocksdb-tools; scripts/deps.sh installs it)"

pool_init
pool_mount
gen 1 300000 text > "$REF/v1" || die "gen failed"
gen 2 300000 text > "$REF/v2" || die "gen failed"
check "write version 1" cp "$REF/v1" "$MNT/f"
check_eq "crypto: data key before" "$(pctl crypto | awk '/^data key/ { print $3 }')" 1
check "key rotate through the daemon" pctl key rotate
check_eq "key rotate says the new key" "$(cat "$T_TMP/check.out")" "data key 2 seals new writes"
check "write version 2" cp "$REF/v2" "$MNT/f"
check_same "version 1 reads back" "$MNT/.versions/f/1" "$REF/v1"
check_same "version 2 reads back" "$MNT/.versions/f/2" "$REF/v2"
pool_umount

# each chunk value names its key: byte 0 format 1, bytes 1-4 the key id
ldb --db="$STORE/db" --column_family=chunks --hex scan > "$T_TMP/chunks" 2> /dev/null ||
	die "ldb scan failed"
n1=$(awk '$1 ~ /^0x63/ && $3 ~ /^0x0100000001/' "$T_TMP/chunks" | wc -l)
n2=$(awk '$1 ~ /^0x63/ && $3 ~ /^0x0100000002/' "$T_TMP/chunks" | wc -l)
check "chunks of version 1 keep key 1 ($n1)" test "$n1" -gt 0
check "chunks of version 2 have key 2 ($n2)" test "$n2" -gt 0
check_eq "crypto: data key after" "$(pctl crypto | awk '/^data key/ { print $3 " " $5 }')" "2 2"

pool_mount
check_same "version 1 after a remount" "$MNT/.versions/f/1" "$REF/v1"
check_same "version 2 after a remount" "$MNT/.versions/f/2" "$REF/v2"
pool_umount

# ---- SIGKILL while rotating: the pool opens with the old or the new keyset ----
for delay in 0.01 0.03 0.05 0.07 0.1 0.15 0.25 1; do
	"$POOLCTL" -s "$STORE" key rotate > /dev/null 2>&1 &
	rot=$!
	sleep "$delay"
	kill -KILL "$rot" 2> /dev/null
	wait "$rot" 2> /dev/null
	check "opens after a kill at ${delay}s" pctl stats
done
keys=$(pctl crypto | awk '/^data key/ { print $5 }')
check "a keyset of 2 or more keys ($keys)" test "${keys:-0}" -ge 2
check "scrub after the kills" pctl scrub
pool_mount
check_same "version 1 after the kills" "$MNT/.versions/f/1" "$REF/v1"
check_same "version 2 after the kills" "$MNT/.versions/f/2" "$REF/v2"
check "write after the kills" cp "$REF/v1" "$MNT/g"
check_same "new file after the kills" "$MNT/g" "$REF/v1"
pool_umount

# ---- the 国密 profile says what it uses ----
SM=$T_TMP/sm
pool_init "$SM" --cipher sm4 --audit-hash sm3 --sign sm2 --key-file "$T_TMP/sm.key"
PSTORE=$SM pctl crypto > "$T_TMP/crypto" 2>&1
check_eq "sm4 pool: cipher" "$(awk '/^cipher/ { print $2 }' "$T_TMP/crypto")" sm4-ctr+hmac-sm3
check_eq "sm4 pool: chunk ids" "$(awk '/^chunk ids/ { print $3 }' "$T_TMP/crypto")" hmac-sm3
check_eq "sm4 pool: audit hash" "$(awk '/^audit hash/ { print $3 }' "$T_TMP/crypto")" sm3
check_eq "sm4 pool: audit signatures" "$(awk '/^audit sign/ { print $3 }' "$T_TMP/crypto")" sm2
check_eq "sm2 public key: an uncompressed point" \
	"$(PSTORE=$SM pctl audit pubkey | grep -cE '^04[0-9a-f]{128}$')" 1
pool_mount "$SM"
check "sm4 pool: write" cp "$REF/v1" "$MNT/f"
check_same "sm4 pool: read back" "$MNT/f" "$REF/v1"
pool_umount
check "sm4 pool: audit verify (sm2 checkpoints)" env PSTORE="$SM" "$POOLCTL" -s "$SM" audit verify
# a flipped bit in an SM2 checkpoint signature breaks the chain's proof
cp=$(ldb --db="$SM/db" --column_family=meta --hex scan 2> /dev/null |
	awk '$1 ~ /^0x61756469745F6370/ { print $1 " " $3; exit }')
[ -n "$cp" ] || die "no audit checkpoint in the sm2 pool"
read -r cpk cpv <<< "$cp"
bad=$("$PY" -c 'import sys
v = bytearray.fromhex(sys.argv[1][2:]); v[80] ^= 1; print("0x" + v.hex())' "$cpv")
ldb --db="$SM/db" --column_family=meta --hex put "$cpk" "$bad" > /dev/null 2>&1 || die "ldb put failed"
"$POOLCTL" -s "$SM" audit verify > "$T_TMP/v.out" 2>&1
rc=$?
check_eq "a forged sm2 checkpoint fails verify ($(head -c 200 "$T_TMP/v.out"))" "$rc" 1

# ---- a master key from a passphrase (scrypt, salt and cost in the store) ----
PP=$T_TMP/pp
printf 'correct horse battery staple\n' > "$T_TMP/pass"
printf 'correct horse battery stapler\n' > "$T_TMP/wrong.pass"
printf 'correct horse battery staple\n' |
	"$POOLCTL" init "$PP" --passphrase-file - > "$T_TMP/init.out" 2>&1 ||
	die "poolctl init --passphrase-file - failed: $(head -c 300 "$T_TMP/init.out")"
check "init names the scrypt cost" grep -q "scrypt N=32768 r=8 p=1" "$T_TMP/init.out"
ppctl() { timeout 120 "$POOLCTL" --passphrase-file "$T_TMP/pass" -s "$PP" "$@"; }
check_eq "passphrase pool: crypto says so" "$(ppctl crypto | awk '/^master key/ { print $3 " " $4 }')" \
	"passphrase, scrypt"
check_eq "passphrase pool: the cost is in the store" \
	"$(ppctl crypto --json | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["kdf"])')" \
	"scrypt N=32768 r=8 p=1"
pool_mount "$PP" "$MNT" -o passphrase_file="$T_TMP/pass"
check "passphrase pool: write" cp "$REF/v1" "$MNT/f"
pool_umount
check "passphrase pool: key rotate" ppctl key rotate
pool_mount "$PP" "$MNT" -o passphrase_file="$T_TMP/pass"
check "passphrase pool: write after the rotation" cp "$REF/v2" "$MNT/f"
check_same "passphrase pool: version 1" "$MNT/.versions/f/1" "$REF/v1"
check_same "passphrase pool: version 2" "$MNT/.versions/f/2" "$REF/v2"
pool_umount
check_eq "passphrase pool: chunks have a new key" "$(ppctl crypto | awk '/^data key/ { print $3 }')" 2
# refused: one line, exit 2, naming the passphrase
pp_refused() {
	local desc=$1 rc
	shift
	"$@" > "$T_TMP/o.out" 2> "$T_TMP/o.err" < /dev/null
	rc=$?
	check_eq "$desc: exit" "$rc" 2
	check_eq "$desc: one line ($(head -c 200 "$T_TMP/o.err"))" "$(wc -l < "$T_TMP/o.err")" 1
	check "$desc: names the passphrase" grep -q "passphrase" "$T_TMP/o.err"
}
pp_refused "poolctl, wrong passphrase" "$POOLCTL" --passphrase-file "$T_TMP/wrong.pass" -s "$PP" stats
pp_refused "poolctl, no passphrase" "$POOLCTL" -s "$PP" stats
pp_refused "poolctl, a key file instead" "$POOLCTL" --key-file "$T_TMP/master.key" -s "$PP" stats
pp_refused "poolfs, wrong passphrase" "$POOLFS" "$PP" "$MNT" -f -o passphrase_file="$T_TMP/wrong.pass"
pp_refused "poolfs, no passphrase" "$POOLFS" "$PP" "$MNT" -f
is_mounted "$MNT" && die "a refused poolfs left a mount"
check "passphrase pool: audit verify" ppctl audit verify
ppctl stats < /dev/null > /dev/null 2>&1 || fail "passphrase pool: stats"
# the passphrase is not in the store
check "the passphrase is nowhere in the store" bash -c "! grep -rqa 'correct horse' '$PP'"
check "init refuses a passphrase with a key file" bash -c "! '$POOLCTL' init '$T_TMP/pp2' \
	--passphrase-file '$T_TMP/pass' --key-file '$T_TMP/k2' 2> /dev/null"
