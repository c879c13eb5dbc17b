#!/usr/bin/env bash
# t_vseg_audit.sh - a read of a view served in segments whose segment
# cannot be made (here: the hash key is gone from an unencrypted pool
# after the open) is EIO with exactly one audit record naming why, not
# one from the view and another from the read path; the daemon serves on
# and the next read, with the key back, returns the view's bytes.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup

FIX=$HELPERS/policy_bigview.json
GA=/基础库/人口/户籍人口		# CSV; renshe reads through g1 (ID hashed)
t_setup_readers


pool_init "$STORE" --cipher none
check "apply the fixture" pctl policy apply "$FIX"
"$PY" - "$PUB/big.csv" <<'PY' || die "cannot generate the data"
import random, sys
r = random.Random(3)
rows = ["身份证号,姓名,手机号,住址,区县"]
for i in range(40000):
    rows.append("3418%014d,张%d,139%08d,宣城市某路%d号,宣州区" % (r.randrange(10**14), i, i, i))
open(sys.argv[1], "w").write("\n".join(rows) + "\n")
PY
chmod 0644 "$PUB/big.csv"

POOLFS_OPTS=
pool_mount "$STORE" "$MNT" -o view_budget=256K
check "gongan publishes" asA cp "$PUB/big.csv" "$MNT$GA/big.csv"
asB cat "$MNT$GA/big.csv" > "$T_TMP/view" || fail "renshe cannot read its view"
check "the view is larger than the budget" test "$(stat -c %s "$T_TMP/view")" -gt 1000000
# segments are made per process lifetime of the daemon's cache: a new
# mount forgets the ones made, the map stays in the store
pool_umount
pool_mount "$STORE" "$MNT" -o view_budget=256K

# the reader opens (the map is read), then the key goes away and a far
# segment must be made for its next read
READ='
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
size = os.fstat(fd).st_size
os.pread(fd, 10, 0)
print("opened", flush=True)
while not os.path.exists(sys.argv[2]):
    time.sleep(0.05)
try:
    os.pread(fd, 4096, size - 4096)
    print("read")
except OSError as e:
    print(os.strerror(e.errno))
'
rm -f "$T_TMP/go"
asB "$UPY" -c "$READ" "$MNT$GA/big.csv" "$T_TMP/go" > "$T_TMP/read.out" 2>&1 &
rpid=$!
wait_for 30 grep -q opened "$T_TMP/read.out" || die "the reader did not open"
mv "$STORE/keys/hash.key" "$T_TMP/hash.key" || die "cannot move the hash key away"
touch "$T_TMP/go"
wait "$rpid"
mv "$T_TMP/hash.key" "$STORE/keys/hash.key" || die "cannot put the hash key back"
check_eq "the far read without the hash key" "$(tail -n1 "$T_TMP/read.out")" \
	"Input/output error"
pctl audit query --path "$GA/big.csv" --op read --uid 1002 > "$T_TMP/audit.out" 2>&1
made=$(grep -c 'view segment not made' "$T_TMP/audit.out")
# the kernel may send the read again after a failure: one record per request
check "the failed reads are recorded with why" test "$made" -ge 1
check_eq "and none twice (every failed read's record says why)" \
	"$(grep -c 'result=error' "$T_TMP/audit.out")" "$made"
check "the daemon still serves" daemon_alive
check_same "with the key back renshe reads its view" <(asB cat "$MNT$GA/big.csv") "$T_TMP/view"
pool_umount
