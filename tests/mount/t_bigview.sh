#!/usr/bin/env bash
# t_bigview.sh - masked views larger than the view cache budget are served
# in segments (docs/desensitization.md "Views in segments"): on a pool
# mount with -o view_budget=256K, renshe's views of a CSV (ID hashed,
# name and phone masked, a column removed, rows filtered) and of a JSON
# Lines file several times the budget read with cat, and with pread() at
# random offsets, exactly the bytes the whole view has (computed here for
# the CSV, and served whole by a mount whose budget holds it); stat()
# shows the view's size; the daemon's memory does not grow with the
# view; a whole JSON document too large is EIO with the reason audited.
# timeout: 240
. "$(dirname "$0")/../lib.sh"
t_setup

FIX=$HELPERS/policy_bigview.json
GA=/基础库/人口/户籍人口		# CSV; renshe reads through g1 (row filter)
JL=/基础库/人口/居住登记		# JSON Lines; g3, tag defaults
JD=/基础库/人口/居住汇总		# a JSON document; g4
t_setup_readers

AS_TIMEOUT=120

pool_init "$STORE" --cipher none
check "apply the fixture" pctl policy apply "$FIX"

# PUB/big.csv (raw, 60000 rows) and PUB/big.B, renshe's view under g1
# computed here with renshe's hash key; PUB/big.jsonl (about 40 MiB);
# PUB/doc.json, a JSON array of about 1 MiB
"$PY" - "$STORE/keys/hash.key" "$PUB" <<'PY' || die "cannot generate the data"
import hashlib, hmac, json, random, sys
key = hmac.new(open(sys.argv[1], "rb").read(), b"poolfs hash mask v1\0renshe",
               hashlib.sha256).digest()
d = sys.argv[2]
r = random.Random(7)
surn, given = "赵钱孙李周吴郑王冯陈", "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞"
raw, view = ["身份证号,姓名,手机号,住址,区县"], ["身份证号,姓名,手机号,区县"]
for i in range(60000):
    idn = "3418%014d" % r.randrange(10**14)
    name = r.choice(surn) + "".join(r.choice(given) for _ in range(r.randint(1, 2)))
    phone = "139%08d" % r.randrange(10**8)
    addr = '"宣城市,某路%d号"' % i if i % 7 == 0 else "宣城市某路%d号" % i
    region = r.choice(["宣州区", "郎溪县", "广德市"])
    end = "\r\n" if i % 5 == 0 else "\n"
    raw.append(",".join([idn, name, phone, addr, region]) + end)
    if region == "宣州区":
        view.append(",".join([hmac.new(key, idn.encode(), hashlib.sha256).hexdigest(),
                              name[0] + "*" * (len(name) - 1),
                              phone[:3] + "****" + phone[-4:], region]) + end)
open(d + "/big.csv", "w", newline="").write(raw[0] + "\n" + "".join(raw[1:]))
open(d + "/big.B", "w", newline="").write(view[0] + "\n" + "".join(view[1:]))
with open(d + "/big.jsonl", "w") as f:
    for i in range(330000):
        if i % 1000 == 999:
            f.write("\n")
        f.write(json.dumps({"身份证号": "3418%014d" % r.randrange(10**14),
                            "姓名": r.choice(surn) + r.choice(given),
                            "住址": {"区县": "宣州区", "手机号": "139%08d" % i},
                            "n": i}, ensure_ascii=False) + "\n")
json.dump([{"姓名": r.choice(surn) + r.choice(given), "n": i} for i in range(30000)],
          open(d + "/doc.json", "w"), ensure_ascii=False)
PY
chmod 0644 "$PUB"/*

# ---- a mount whose budget holds every view: the reference ----
POOLFS_OPTS=
pool_mount
for f in "$GA/big.csv:big.csv" "$JL/big.jsonl:big.jsonl" "$JD/doc.json:doc.json"; do
	check "gongan publishes ${f#*:}" asA cp "$PUB/${f#*:}" "$MNT${f%%:*}"
done
check_same "renshe's CSV view, cached whole, is the one computed here" \
	<(asB cat "$MNT$GA/big.csv") "$PUB/big.B"
asB cat "$MNT$JL/big.jsonl" > "$T_TMP/ref.jsonl" || fail "renshe cannot read the JSON Lines view whole"
check_eq "the JSON Lines view masks the IDs" "$(grep -c '"3418[0-9]\{14\}"' "$T_TMP/ref.jsonl")" 0
asB cat "$MNT$JD/doc.json" > "$T_TMP/ref.json" || fail "renshe cannot read the JSON view whole"
pool_umount

# ---- the budget well below the views ----
pool_mount "$STORE" "$MNT" -o view_budget=256K
CSV=$MNT$GA/big.csv
JSL=$MNT$JL/big.jsonl
check_eq "stat shows renshe the CSV view's size" "$(asB stat -c %s "$CSV")" \
	"$(stat -c %s "$PUB/big.B")"
check_same "renshe's cat of the CSV view" <(asB cat "$CSV") "$PUB/big.B"
check_same "renshe's cat of the JSON Lines view" <(asB cat "$JSL") "$T_TMP/ref.jsonl"
check_eq "stat shows renshe the JSON Lines view's size" "$(asB stat -c %s "$JSL")" \
	"$(stat -c %s "$T_TMP/ref.jsonl")"
check_same "gongan still reads raw" <(asA cat "$CSV") "$PUB/big.csv"
vb=$(stats_field view_bytes)
check "the view cache keeps within the budget ($vb bytes)" test "${vb:-999999999}" -le 262144

# pread() at random offsets and lengths against the reference's slices
PREAD='
import os, random, sys
path, ref, seed = sys.argv[1], open(sys.argv[2], "rb").read(), int(sys.argv[3])
r = random.Random(seed)
fd = os.open(path, os.O_RDONLY)
if os.fstat(fd).st_size != len(ref):
    sys.exit("fstat %d, view %d" % (os.fstat(fd).st_size, len(ref)))
for i in range(300):
    off = r.randrange(len(ref) + 10)
    n = r.choice([1, 7, 4096, 65536, 300000, r.randrange(1, 1 << 20)])
    got = os.pread(fd, n, off)
    if got != ref[off:off + n]:
        sys.exit("pread(%d, %d): %d bytes, not the view'"'"'s" % (n, off, len(got)))
print("ok")'
check_eq "renshe's preads of the CSV view" "$(asB "$UPY" -c "$PREAD" "$CSV" "$PUB/big.B" 1 2>&1)" ok
check_eq "renshe's preads of the JSON Lines view" \
	"$(asB "$UPY" -c "$PREAD" "$JSL" "$T_TMP/ref.jsonl" 2 2>&1)" ok

# memory: the raw read warms what the store caches, then the peak of a
# whole read of the 40 MiB view must not grow with it
asA cat "$JSL" > /dev/null
rss() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$POOLFS_PID/status"; }
echo 5 > "/proc/$POOLFS_PID/clear_refs" || fail "cannot reset the daemon's peak RSS"
before=$(rss VmRSS)
asB cat "$JSL" > /dev/null || fail "renshe's second read of the JSON Lines view"
grow=$(( ($(rss VmHWM) - before) / 1024 ))
note "the daemon's peak RSS grew $grow MiB over $((before / 1024)) MiB"
if t_sanitized; then
	note "memory bound not checked: AddressSanitizer's quarantine holds freed memory"
else
	check "the daemon's peak RSS grew ${grow} MiB reading a $(($(stat -c %s "$T_TMP/ref.jsonl") >> 20)) MiB view" \
		test "$grow" -lt 24
fi

# ---- a whole JSON document cannot be cut: EIO, and the audit log says why ----
check_eq "renshe's read of a JSON document larger than the budget" \
	"$(asB "$UPY" "$HELPERS/sysop.py" read "$MNT$JD/doc.json" 2>&1)" EIO
check_eq "the audit log says why" \
	"$(pctl audit query --path "$JD/doc.json" --op view.build | grep -c 'JSON document cannot be served in segments')" 1
check_same "gongan reads the document raw" <(asA cat "$MNT$JD/doc.json") "$PUB/doc.json"
check "the daemon still serves" daemon_alive
pool_umount
