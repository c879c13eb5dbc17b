#!/usr/bin/env bash
# t_views.sh - desensitized views served by the daemon on a pool mount
# (no allow_all) for real uids: the provider writes with cp and reads raw;
# a granted department reads its view (ID hashed with its own key,
# name and phone masked, a column removed, rows filtered) through cat,
# fstat+read of st_size, Python's csv and mmap (private and shared; more
# in t_mmap_views.sh); stat() shows each caller
# its own size; both read one file at once and each only ever sees its
# own bytes; past versions are masked alike; a GB18030 entry is masked per
# character and served in GB18030; a file the engine cannot
# parse is EIO with the reason in the audit log; a policy change stops
# the next read() of a descriptor already open; a department mount
# serves the view with the page cache (shared mmap works there).
# timeout: 600
. "$(dirname "$0")/../lib.sh"
t_setup

FIX=$HELPERS/policy_views.json
GA=/基础库/人口/户籍人口		# gongan provides; renshe reads through g1
WJ=/主题库/医疗/医疗机构		# weijian provides; unconditional, tag defaults
t_setup_readers

vread() { "$UPY" "$HELPERS/viewread.py" "$@"; }

# gen_csv NAME ROWS: PUB/NAME.csv (raw) and PUB/NAME.B (renshe's view under
# g1), computed here with renshe's hash key (derived from keys/hash.key as
# store/hashkey.c does) and the masks of DESIGN.md
gen_csv() {
	"$PY" - "$STORE/keys/hash.key" "$PUB/$1" "$2" <<'PY' || die "cannot generate $1"
import hashlib, hmac, random, sys
key = hmac.new(open(sys.argv[1], "rb").read(), b"poolfs hash mask v1\0renshe",
               hashlib.sha256).digest()
out, n = sys.argv[2], int(sys.argv[3])
r = random.Random(n)
fixed = [("341802199001011234", "张三丰", "13812345678", '"宣城市宣州区,某路1号"', "宣州区"),
         ("341802199202022345", "李四", "13987654321", "宣城市郎溪县某路2号", "郎溪县"),
         ("341802198503033456", "王小明", "13700001111", "宣城市宣州区某路3号", "宣州区")]
rows = fixed[:]
surn, given = "赵钱孙李周吴郑王冯陈", "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞"
for i in range(max(0, n - len(fixed))):
    rows.append(("3418%014d" % r.randrange(10**14), r.choice(surn) +
                 "".join(r.choice(given) for _ in range(r.randint(1, 2))),
                 "139%08d" % r.randrange(10**8), "宣城市某路%d号" % i,
                 r.choice(["宣州区", "郎溪县", "广德市"])))
raw = ["身份证号,姓名,手机号,住址,区县"] + [",".join(x) for x in rows]
view = ["身份证号,姓名,手机号,区县"]
for idn, name, phone, addr, region in rows:
    if region != "宣州区":
        continue
    view.append(",".join([hmac.new(key, idn.encode(), hashlib.sha256).hexdigest(),
                          name[0] + "*" * (len(name) - 1), phone[:3] + "****" + phone[-4:],
                          region]))
open(out + ".csv", "w").write("\n".join(raw) + "\n")
open(out + ".B", "w").write("\n".join(view) + "\n")
PY
	chmod 0644 "$PUB/$1.csv" "$PUB/$1.B"
}

# unencrypted: the expected tokens come from keys/hash.key read raw
pool_init "$STORE" --cipher none
check "apply the fixture" pctl policy apply "$FIX"
POOLFS_OPTS=
pool_mount
F=$MNT$GA/people.csv
gen_csv people 3
gen_csv big 20000

# ---- the provider writes raw and reads raw ----
check "gongan publishes with plain cp" asA cp "$PUB/people.csv" "$F"
check_same "gongan reads it raw" <(asA cat "$F") "$PUB/people.csv"
check_eq "gongan's stat shows the raw size" "$(asA stat -c %s "$F")" "$(stat -c %s "$PUB/people.csv")"
T_CHECKS=$((T_CHECKS + 1))
wait_for 20 sh -c '[ "$("$0" -s "$1" stats --json | "$2" "$3" get views)" -ge 1 ]' \
	"$POOLCTL" "$STORE" "$PY" "$HELPERS/jsonq.py" ||
	fail "the view of g1 was not built after the commit: $(pctl stats 2>&1 | grep views)"
T_CHECKS=$((T_CHECKS + 1))
wait_for 10 sh -c '"$0" -s "$1" audit query --path "$2" --op view.build | grep -q "result=ok"' \
	"$POOLCTL" "$STORE" "$GA/people.csv" ||
	fail "no view.build record for the view built after the commit"
check_eq "the build's record says the daemon read it, and the view's size" \
	"$(pctl audit query --path "$GA/people.csv" --op view.build --json | tail -n1 |
	   "$PY" -c 'import json, sys; r = json.load(sys.stdin); print(r["comm"], r["bytes"], r["result"])')" \
	"poolfs $(stat -c %s "$PUB/people.B") 0"

pctl stats --json > "$T_TMP/stats.json" 2>&1
check_eq "stats: the dedupe ratio counts the view's bytes as logical" "$("$PY" - "$T_TMP/stats.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
want = round((s["logical_bytes"] + s["view_bytes"]) / s["stored_bytes"], 2)
print("ok" if s["view_bytes"] > 0 and abs(s["dedupe_ratio"] - want) < 0.006 else s)
PY
)" ok

# ---- renshe reads its view ----
asB cat "$F" > "$T_TMP/b.out" 2> "$T_TMP/b.err"
rc=$?	# (a $(...) in check_eq's arguments would overwrite $?)
check_eq "renshe's cat succeeds ($(head -c 200 "$T_TMP/b.err"))" "$rc" 0
check_same "renshe reads exactly its view" "$T_TMP/b.out" "$PUB/people.B"
check_eq "the ID is a token, not the raw value" "$(grep -c 341802199001011234 "$T_TMP/b.out")" 0
check_eq "the token is 64 hex digits" "$(sed -n 2p "$T_TMP/b.out" | cut -d, -f1 | grep -cE '^[0-9a-f]{64}$')" 1
check_eq "the name is masked" "$(sed -n 2p "$T_TMP/b.out" | cut -d, -f2)" "张**"
check_eq "the phone is masked" "$(sed -n 2p "$T_TMP/b.out" | cut -d, -f3)" "138****5678"
check_eq "the removed column is absent" "$(grep -c '住址\|宣城市' "$T_TMP/b.out")" 0
check_eq "filtered rows are absent" "$(grep -c '郎溪县' "$T_TMP/b.out")" 0
check_eq "stat -c %s as renshe is the size of its view" "$(asB stat -c %s "$F")" \
	"$(stat -c %s "$PUB/people.B")"
check_eq "ls -l as renshe shows it too" "$(asB ls -l "$F" | awk '{print $5}')" \
	"$(stat -c %s "$PUB/people.B")"
check_same "fstat then read st_size bytes" <(asB "$UPY" "$HELPERS/viewread.py" exact "$F") "$PUB/people.B"
check_eq "Python's csv reader" "$(asB "$UPY" "$HELPERS/viewread.py" csv "$F" | sed -n 3p)" \
	"$(sed -n 3p "$PUB/people.B" | tr , '|')"
check_same "a private mmap maps the view" \
	<(asB "$UPY" "$HELPERS/viewread.py" mmap "$F" private) "$PUB/people.B"
check_same "a shared mmap maps the view (its kernel inode's page cache)" \
	<(asB "$UPY" "$HELPERS/viewread.py" mmap "$F" shared) "$PUB/people.B"
check_same "gongan still reads raw after renshe" <(asA cat "$F") "$PUB/people.csv"
check_eq "gongan's stat is still raw" "$(asA stat -c %s "$F")" "$(stat -c %s "$PUB/people.csv")"
check_eq "the open record names the view" \
	"$(pctl audit query --path "$GA/people.csv" --op open --uid 1002 --json | tail -n1 |
	   "$PY" "$HELPERS/jsonq.py" get view | grep -cE '^[0-9a-f]{64}$')" 1

# ---- one file, two callers at once: each only ever sees its own view ----
check "gongan publishes 20000 rows" asA cp "$PUB/big.csv" "$MNT$GA/big.csv"
cat > "$T_TMP/loop.sh" <<'SH'
# loop.sh FILE WANT N: reads FILE N times (cat, dd of 4 KiB, fstat+read)
f=$1 want=$2 n=$3 py=$4 helper=$5
for i in $(seq "$n"); do
	cat "$f" | cmp -s - "$want" || { echo "cat $i differs"; exit 1; }
	dd if="$f" bs=4k status=none | cmp -s - "$want" || { echo "dd $i differs"; exit 1; }
	"$py" "$helper" exact "$f" | cmp -s - "$want" || { echo "fstat+read $i differs"; exit 1; }
done
echo "ok $n"
SH
# (120 whole reads each: on a busy machine that is minutes, not seconds)
AS_TIMEOUT=600 asA sh "$T_TMP/loop.sh" "$MNT$GA/big.csv" "$PUB/big.csv" 40 "$UPY" "$HELPERS/viewread.py" \
	> "$T_TMP/loopA.out" 2>&1 &
pa=$!
AS_TIMEOUT=600 asB sh "$T_TMP/loop.sh" "$MNT$GA/big.csv" "$PUB/big.B" 40 "$UPY" "$HELPERS/viewread.py" \
	> "$T_TMP/loopB.out" 2>&1 &
pb=$!
# private maps fault pages into the kernel's cache of the inode they map:
# each view has a kernel inode of its own, so neither sees the other's
AS_TIMEOUT=600 asA "$UPY" "$HELPERS/viewread.py" maps "$MNT$GA/big.csv" "$PUB/big.csv" 100 \
	> "$T_TMP/mapA.out" 2>&1 &
ma=$!
AS_TIMEOUT=600 asB "$UPY" "$HELPERS/viewread.py" maps "$MNT$GA/big.csv" "$PUB/big.B" 100 \
	> "$T_TMP/mapB.out" 2>&1 &
mb=$!
wait "$pa" "$pb" "$ma" "$mb"
check_eq "gongan, 120 reads alongside renshe: always raw" "$(cat "$T_TMP/loopA.out")" "ok 40"
check_eq "renshe, 120 reads alongside gongan: always its view" "$(cat "$T_TMP/loopB.out")" "ok 40"
check_eq "gongan's private maps alongside renshe's: always raw" "$(cat "$T_TMP/mapA.out")" "ok 100"
check_eq "renshe's private maps alongside gongan's: always its view" "$(cat "$T_TMP/mapB.out")" "ok 100"

# ---- past versions are masked like the current one ----
sed 's/13812345678/13800000000/' "$PUB/people.csv" > "$PUB/people2.csv"
sed 's/138\*\*\*\*5678/138****0000/' "$PUB/people.B" > "$PUB/people2.B"
check "gongan writes version 2" asA sh -c "cat '$PUB/people2.csv' > '$F'"
T_CHECKS=$((T_CHECKS + 1))
wait_for 10 asA test -e "$MNT$GA/.versions/people.csv/2" ||
	fail "version 2 of people.csv did not appear within 10 s"
check_same "renshe reads version 2 masked" <(asB cat "$F") "$PUB/people2.B"
check_same "renshe reads .versions/people.csv/1 masked" \
	<(asB cat "$MNT$GA/.versions/people.csv/1") "$PUB/people.B"
check_eq "stat of .versions/people.csv/1 as renshe" \
	"$(asB stat -c %s "$MNT$GA/.versions/people.csv/1")" "$(stat -c %s "$PUB/people.B")"
check_same "gongan reads .versions/people.csv/1 raw" \
	<(asA cat "$MNT$GA/.versions/people.csv/1") "$PUB/people.csv"
sleep 1	# a snapshot names a whole second: one after version 2
snap=$(date -u +%Y-%m-%dT%H:%M:%SZ)
check_same "and /.snapshots/$snap/… masked" \
	<(asB cat "$MNT/.snapshots/$snap$GA/people.csv") "$PUB/people2.B"

# ---- an unconditional entry: tag defaults for everyone but the provider ----
printf '机构名称,联系电话\n宣城市人民医院,05632345678\n' > "$PUB/org.csv"
chmod 0644 "$PUB/org.csv"
check "weijian publishes" as 1003 2003 cp "$PUB/org.csv" "$MNT$WJ/org.csv"
check_eq "renshe reads the phone masked by its tag" "$(asB cat "$MNT$WJ/org.csv" | sed -n 2p)" \
	"宣城市人民医院,056****5678"
check_same "weijian reads raw" <(as 1003 2003 cat "$MNT$WJ/org.csv") "$PUB/org.csv"

# ---- a GB18030 entry: masked per character, served in GB18030 ----
LD=/基础库/人口/流动人口
"$PY" - "$PUB/gb" <<'PY' || die "cannot write the GB18030 file"
import sys
raw = "姓名,手机号\r\n欧阳娜娜,13812345678\r\n李四,13987654321\r\n"
view = "姓名,手机号\r\n欧***,138****5678\r\n李*,139****4321\r\n"
open(sys.argv[1] + ".csv", "wb").write(raw.encode("gb18030"))
open(sys.argv[1] + ".B", "wb").write(view.encode("gb18030"))
PY
chmod 0644 "$PUB/gb.csv" "$PUB/gb.B"
check "gongan publishes a GB18030 file" asA cp "$PUB/gb.csv" "$MNT$LD/gb.csv"
check_same "renshe reads it masked, in GB18030" <(asB cat "$MNT$LD/gb.csv") "$PUB/gb.B"
check_eq "and its stat shows the view's size" "$(asB stat -c %s "$MNT$LD/gb.csv")" \
	"$(stat -c %s "$PUB/gb.B")"
check_same "gongan reads it raw" <(asA cat "$MNT$LD/gb.csv") "$PUB/gb.csv"

# ---- fail closed: a file the engine cannot parse ----
printf '身份证号,姓名,手机号,住址,区县\n"341802199001011234,张三丰,13812345678,x,宣州区\n' > "$PUB/bad.csv"
chmod 0644 "$PUB/bad.csv"
check "gongan publishes a CSV with an unterminated quote" asA cp "$PUB/bad.csv" "$MNT$GA/bad.csv"
check_eq "renshe gets EIO" "$(as 1002 2002 "$UPY" "$HELPERS/sysop.py" read "$MNT$GA/bad.csv" 2>&1)" EIO
check_eq "and no byte of it from cat" "$(asB cat "$MNT$GA/bad.csv" 2> /dev/null | wc -c)" 0
check_eq "renshe's stat shows size 0" "$(asB stat -c %s "$MNT$GA/bad.csv")" 0
check_same "gongan still reads it raw" <(asA cat "$MNT$GA/bad.csv") "$PUB/bad.csv"
pctl audit query --path "$GA/bad.csv" --op open --uid 1002 > "$T_TMP/bad.audit" 2>&1
check_eq "the audit log says why ($(tail -n1 "$T_TMP/bad.audit" | head -c 300))" \
	"$(grep -c 'result=error(Input/output error).*quoted field not closed' "$T_TMP/bad.audit")" 2
check_eq "and so does the build at commit time" \
	"$(pctl audit query --path "$GA/bad.csv" --op view.build | grep -c 'quoted field not closed')" 1

# ---- a policy change reaches descriptors already open ----
# hold FILE APPLIED_POLICY: renshe holds FILE open while the policy changes
hold() {
	rm -f "$PUB/ready" "$PUB/go"
	asB "$UPY" "$HELPERS/viewread.py" hold "$1" "$PUB/ready" "$PUB/go" > "$T_TMP/hold.out" 2>&1 &
	holder=$!
	wait_for 20 test -e "$PUB/ready" || fail "the holder did not open $1: $(cat "$T_TMP/hold.out")"
	check "apply $(basename "$2")" pctl policy apply "$2"
	touch "$PUB/go"
	wait "$holder"
}
"$PY" - "$FIX" "$T_TMP/names.json" "$T_TMP/revoked.json" <<'PY' || die "cannot write policies"
import json, sys
d = json.load(open(sys.argv[1]))
d["grants"][0]["masks"]["姓名"] = "none"
json.dump(d, open(sys.argv[2], "w"), ensure_ascii=False)
d["grants"] = []
json.dump(d, open(sys.argv[3], "w"), ensure_ascii=False)
PY
hold "$F" "$T_TMP/names.json"
check_eq "a changed view stops the held descriptor's next read()" "$(cat "$T_TMP/hold.out")" EACCES
check_eq "a new open shows the new view" "$(asB cat "$F" | sed -n 2p | cut -d, -f2)" "张三丰"
hold "$F" "$T_TMP/revoked.json"
check_eq "a revoked grant stops the held descriptor's next read()" "$(cat "$T_TMP/hold.out")" EACCES
check_eq "and the next open" "$(as 1002 2002 "$UPY" "$HELPERS/sysop.py" read "$F" 2>&1)" EACCES
check_eq "both were logged (denials are coalesced: counts summed)" \
	"$(pctl audit query --path "$GA/people.csv" --op read --uid 1002 --json |
	"$PY" -c 'import json, sys
print(sum(r.get("count", 1) for r in map(json.loads, sys.stdin) if r["result"] == -13))')" 2
check "the daemon still runs" kill -0 "$POOLFS_PID"
pool_umount

# ---- a department mount: one view per file, the page cache may hold it ----
check "restore the fixture" pctl policy apply "$FIX"
POOLFS_OPTS=dept=renshe
pool_mount
check_same "a member reads renshe's view through its share" \
	<(as 1002 2002 cat "$F") "$PUB/people2.B"
check_eq "and its size" "$(as 1002 2002 stat -c %s "$F")" "$(stat -c %s "$PUB/people2.B")"
check_same "a shared mmap works there" \
	<(as 1002 2002 "$UPY" "$HELPERS/viewread.py" mmap "$F" shared) "$PUB/people2.B"
check_same "a second read (page cache) is the view" <(as 1002 2002 cat "$F") "$PUB/people2.B"
pool_umount

# ---- the view cache budget: a view larger than it is served in segments,
# one whose segment map does not fit either is refused, never served raw ----
"$POOLFS" "$STORE" "$MNT" -f -o view_budget=lots > "$T_TMP/budget.out" 2>&1
rc=$?
check_eq "-o view_budget=lots exits 2" "$rc" 2
check_eq "with one line naming the option" \
	"$(grep -c 'view_budget="lots": not a size' "$T_TMP/budget.out")/$(wc -l < "$T_TMP/budget.out")" 1/1
POOLFS_OPTS=view_budget=64
pool_mount
check_same "a 64-byte budget: renshe reads its view in segments" <(asB cat "$F") "$PUB/people2.B"
pool_umount
POOLFS_OPTS=view_budget=16
pool_mount
check_eq "a 16-byte budget (no room for a segment map): renshe gets EIO" \
	"$(as 1002 2002 "$UPY" "$HELPERS/sysop.py" read "$F" 2>&1)" EIO
check_same "gongan still reads raw" <(asA cat "$F") "$PUB/people2.csv"
check_eq "the audit log names the budget" \
	"$(pctl audit query --path "$GA/people.csv" --op open --uid 1002 | tail -n1 |
	   grep -c 'larger than the view cache budget')" 1
pool_umount
POOLFS_OPTS=view_budget=1G
pool_mount
check_same "a 1 GiB budget: renshe reads its view again" \
	<(asB cat "$F") "$PUB/people2.B"
pool_umount
