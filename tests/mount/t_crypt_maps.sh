#!/usr/bin/env bash
# t_crypt_maps.sh - in an encrypted pool a view's segment map (the 'm'
# row of a view larger than the view cache, store/view_map.c) is sealed
# like the view records: it says where the source's records and lines
# are and how much of each part the reader's filter keeps, so whoever
# holds the store must not read it, nor change it unnoticed. A map
# edited on disk is EIO to the reader, never served; the view reads
# right before and after a remount.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup
command -v ldb > /dev/null || die "ldb not found (Debian rocksdb-tools; scripts/deps.sh installs it)"
t_setup_readers

FIX=$HELPERS/policy_bigview.json
GA=/基础库/人口/户籍人口

pool_init
check "apply the fixture" pctl policy apply "$FIX"
"$PY" - "$PUB/big.csv" <<'PY' || die "cannot generate the data"
import random, sys
r = random.Random(5)
rows = ["身份证号,姓名,手机号,住址,区县"]
for i in range(40000):
    rows.append("3418%014d,张%d,139%08d,宣城市某路%d号,%s" % (r.randrange(10**14), i, i, i,
                r.choice(["宣州区", "郎溪县"])))
open(sys.argv[1], "w").write("\n".join(rows) + "\n")
PY
chmod 0644 "$PUB/big.csv"
size=$(stat -c %s "$PUB/big.csv")
POOLFS_OPTS=
pool_mount "$STORE" "$MNT" -o view_budget=256K
check "gongan publishes" asA cp "$PUB/big.csv" "$MNT$GA/big.csv"
asB cat "$MNT$GA/big.csv" > "$T_TMP/view" || fail "renshe cannot read its view"
check "the view is served in segments (larger than the budget)" \
	test "$(stat -c %s "$T_TMP/view")" -gt 262144
pool_umount

ldb --db="$STORE/db" --column_family=views --hex scan > "$T_TMP/views.hex" 2> /dev/null ||
	die "ldb scan of the views failed"
maps=$(grep -c '^0x6D' "$T_TMP/views.hex")
check "a segment map is stored ($maps)" test "$maps" -ge 1
# a plain map begins: format 1, be64 source size
plain=$(printf '01%016X' "$size")
check_eq "no map is stored plain (format byte and source size in the clear)" \
	"$(grep '^0x6D' "$T_TMP/views.hex" | grep -c " : 0x$plain")" 0

# a map changed on disk: EIO, never a view cut elsewhere
key=$(grep '^0x6D' "$T_TMP/views.hex" | head -n1 | awk '{ print $1 }')
val=$(grep '^0x6D' "$T_TMP/views.hex" | head -n1 | awk '{ print $3 }')
last=${val: -2}
flip=$(printf '%02X' $(( 0x$last ^ 1 )))
ldb --db="$STORE/db" --column_family=views --hex put "$key" "${val%??}$flip" > /dev/null 2>&1 ||
	die "ldb put failed"
pool_mount "$STORE" "$MNT" -o view_budget=256K
check_eq "renshe's read through an edited map" \
	"$(asB "$UPY" "$HELPERS/sysop.py" read "$MNT$GA/big.csv" 2>&1)" EIO
check "the daemon still serves" daemon_alive
check_same "gongan reads raw" <(asA cat "$MNT$GA/big.csv") "$PUB/big.csv"
pool_umount
