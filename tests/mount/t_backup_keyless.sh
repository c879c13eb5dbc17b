#!/usr/bin/env bash
# t_backup_keyless.sh - a backup of an encrypted pool is verified by whoever
# keeps the backups, without the master key, and restored only with it:
# verify with no key does every check that needs no plaintext and says
# what it skipped; the audit values as stored are held to the backup's
# signed seal (public key only, pinnable); a flipped byte is found and
# the damaged file named; an edited seal is refused; restore without
# the key is refused in one line before anything is copied; with the key
# everything is checked and the restore mounts.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/backup_lib.sh"	# check_flipped_backup
t_setup

DEST=$T_TMP/backups
KEY=$T_TMP/master.key
HIDDEN=$T_TMP/kept-elsewhere.key

pool_init
pool_mount
mkdir -p "$MNT/d" || die "mkdir on the mount failed"
for v in 1 2 3; do
	gen $((v + 40)) $((v * 30000)) csv > "$REF/a.v$v"
	cp "$REF/a.v$v" "$MNT/d/a.csv"
	wait_version "$MNT/d" a.csv $v
done
gen 9 $((3 << 20)) csv > "$MNT/d/big.csv"
wait_version "$MNT/d" big.csv 1
check "backup 1 through the daemon" pctl backup create "$DEST"
echo more >> "$MNT/d/a.csv"
wait_version "$MNT/d" a.csv 4
check "backup 2" pctl backup create "$DEST"
PUB=$(pctl audit pubkey 2>&1 | grep -o '[0-9a-f]\{64\}' | head -n1)
check_eq "audit pubkey printed a key" "${#PUB}" 64
pool_umount

# ---- without the key ----
mv "$KEY" "$HIDDEN" || die "cannot move the key away"
out=$("$POOLCTL" backup verify "$DEST" 2>&1)
rc=$?
note "$out"
check_eq "verify of every backup with no key exits 0 ($out)" "$rc" 0
T_CHECKS=$((T_CHECKS + 1))
[ "$(grep -c 'ok without the master key' <<< "$out")" = 2 ] ||
	fail "verify does not say both backups were checked without the key: $out"
T_CHECKS=$((T_CHECKS + 1))
grep -q 'backup 2: .*audit records as stored against the signed seal.*skipped: .*reading back each version' <<< "$out" ||
	fail "verify does not say what it checked and skipped: $out"
check "verify with the pinned public key" "$POOLCTL" backup verify "$DEST" --id 2 --pubkey "$PUB"
other=$(tr '0-9a-f' '1-9a-f0' <<< "$PUB")
check_rc "verify pinned to another public key fails" 1 \
	"$POOLCTL" backup verify "$DEST" --id 2 --pubkey "$other"

# a flipped byte in the biggest file (a blob of chunks), found without the key
check_flipped_backup "$DEST" 2 "keyless verify of a damaged backup"

# the seal edited by whoever holds only the backup
cp -a "$DEST" "$T_TMP/forged"
"$PY" -c '
import re, sys
f = sys.argv[1]
s = open(f).read()
s = re.sub(r"chain=(.)", lambda m: "chain=" + ("0" if m.group(1) != "0" else "1"), s)
open(f, "w").write(s)' "$T_TMP/forged/poolfs/2/seal"
out=$("$POOLCTL" backup verify "$T_TMP/forged" --id 2 2>&1)
rc=$?
check_eq "keyless verify with an edited seal exits 1 ($out)" "$rc" 1
T_CHECKS=$((T_CHECKS + 1))
grep -q "signed seal" <<< "$out" || fail "verify does not name the seal: $out"
rm -rf "$T_TMP/forged"

out=$("$POOLCTL" backup restore "$DEST" --id 2 "$T_TMP/r-nokey" 2>&1)
rc=$?
check_eq "restore without the key is refused ($out)" "$rc" 2
check_eq "in one line" "$(wc -l <<< "$out")" 1
T_CHECKS=$((T_CHECKS + 1))
grep -q "key" <<< "$out" || fail "the refusal does not say the key is missing: $out"
T_CHECKS=$((T_CHECKS + 1))
[ ! -e "$T_TMP/r-nokey" ] || fail "the refused restore left $T_TMP/r-nokey behind"

# ---- with the key ----
out=$("$POOLCTL" --key-file "$HIDDEN" backup verify "$DEST" 2>&1)
rc=$?
check_eq "verify with the key exits 0 ($out)" "$rc" 0
check_eq "and checks every version of both" "$(grep -c ': ok (.* versions read back)' <<< "$out")" 2
head -c 32 /dev/urandom > "$T_TMP/wrong.key"
check_rc "verify with a wrong key cannot run" 2 \
	"$POOLCTL" --key-file "$T_TMP/wrong.key" backup verify "$DEST" --id 1
check "restore with the key" "$POOLCTL" --key-file "$HIDDEN" backup restore "$DEST" --id 2 "$T_TMP/r"
mv "$HIDDEN" "$KEY"
pool_mount "$T_TMP/r" "$T_TMP/m2"
check_same "the restored pool serves a.csv version 3" "$T_TMP/m2/d/.versions/a.csv/3" "$REF/a.v3"
pool_umount "$T_TMP/m2"
