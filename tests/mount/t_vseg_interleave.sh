#!/usr/bin/env bash
# t_vseg_interleave.sh - two views served in segments, read in turn,
# keep to their own bytes (docs/desensitization.md "Views in segments"):
# on a mount with -o view_budget=1M, renshe reads its CSV view and its
# JSON Lines view in turn, 64 KiB at a time front to back (each read
# makes the next segments ahead, and the buffers of segments dropped
# from the cache go to the next segment made, of either view), then
# both at random offsets, then front to back again from the middle:
# every read returns exactly the bytes of that view, as a mount whose
# budget holds the views serves them whole.
# timeout: 180
. "$(dirname "$0")/../lib.sh"
t_setup

FIX=$HELPERS/policy_bigview.json
GA=/基础库/人口/户籍人口		# CSV; renshe reads through g1
JL=/基础库/人口/居住登记		# JSON Lines; g3
t_setup_readers

AS_TIMEOUT=120

pool_init "$STORE" --cipher none
check "apply the fixture" pctl policy apply "$FIX"
"$PY" - "$PUB" <<'PY' || die "cannot generate the data"
import json, random, sys
d = sys.argv[1]
r = random.Random(11)
surn, given = "赵钱孙李周吴郑王冯陈", "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞"
rows = ["身份证号,姓名,手机号,住址,区县"]
for i in range(120000):
    rows.append("3418%014d,%s,139%08d,宣城市某路%d号,%s" % (
        r.randrange(10**14), r.choice(surn) + r.choice(given), i, i,
        r.choice(["宣州区", "郎溪县", "广德市"])))
open(d + "/big.csv", "w").write("\n".join(rows) + "\n")
with open(d + "/big.jsonl", "w") as f:
    for i in range(60000):
        f.write(json.dumps({"身份证号": "3418%014d" % r.randrange(10**14),
                            "姓名": r.choice(surn) + r.choice(given),
                            "住址": {"区县": "宣州区", "手机号": "139%08d" % i},
                            "n": i}, ensure_ascii=False) + "\n")
PY
chmod 0644 "$PUB"/*

# ---- the reference: a mount whose budget holds both views ----
POOLFS_OPTS=
pool_mount
check "gongan publishes the CSV" asA cp "$PUB/big.csv" "$MNT$GA/big.csv"
check "gongan publishes the JSON Lines" asA cp "$PUB/big.jsonl" "$MNT$JL/big.jsonl"
asB cat "$MNT$GA/big.csv" > "$T_TMP/ref.csv" || fail "renshe cannot read the CSV view whole"
asB cat "$MNT$JL/big.jsonl" > "$T_TMP/ref.jsonl" || fail "renshe cannot read the JSON Lines view whole"
check "the views differ from the sources" \
	test "$(cmp -s "$T_TMP/ref.csv" "$PUB/big.csv"; echo $?)$(cmp -s "$T_TMP/ref.jsonl" "$PUB/big.jsonl"; echo $?)" = 11
pool_umount

# ---- the budget well below both views ----
pool_mount "$STORE" "$MNT" -o view_budget=1M
check "the CSV view is several times the budget" test "$(stat -c %s "$T_TMP/ref.csv")" -gt 2097152
check "the JSON Lines view is several times the budget" \
	test "$(stat -c %s "$T_TMP/ref.jsonl")" -gt 2097152

TURNS='
import os, random, sys
paths, refs = sys.argv[1:3], [open(p, "rb").read() for p in sys.argv[3:5]]
fds = [os.open(p, os.O_RDONLY) for p in paths]
def check(i, n, off):
    got = os.pread(fds[i], n, off)
    if got != refs[i][off:off + n]:
        sys.exit("%s: pread(%d, %d): %d bytes, not the view'"'"'s" % (paths[i], n, off, len(got)))
# front to back, in turn
offs = [0, 0]
while offs[0] < len(refs[0]) or offs[1] < len(refs[1]):
    for i in (0, 1):
        if offs[i] < len(refs[i]):
            check(i, 65536, offs[i])
            offs[i] += 65536
# at random, in turn
r = random.Random(5)
for k in range(400):
    i = k % 2
    check(i, r.choice([1, 4096, 65536, 200000, r.randrange(1, 1 << 20)]),
          r.randrange(len(refs[i]) + 10))
# front to back again from the middle, in turn
offs = [len(refs[0]) // 2, len(refs[1]) // 3]
while offs[0] < len(refs[0]) or offs[1] < len(refs[1]):
    for i in (0, 1):
        if offs[i] < len(refs[i]):
            check(i, 131072, offs[i])
            offs[i] += 131072
print("ok")'
check_eq "renshe's reads of its two views in turn" \
	"$(asB "$UPY" -c "$TURNS" "$MNT$GA/big.csv" "$MNT$JL/big.jsonl" \
		"$T_TMP/ref.csv" "$T_TMP/ref.jsonl" 2>&1)" ok
check_same "renshe's cat of the CSV view after" <(asB cat "$MNT$GA/big.csv") "$T_TMP/ref.csv"
check_same "gongan still reads the CSV raw" <(asA cat "$MNT$GA/big.csv") "$PUB/big.csv"
check "the daemon still serves" daemon_alive
pool_umount
