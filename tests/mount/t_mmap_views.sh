#!/usr/bin/env bash
# t_mmap_views.sh - masked files through the page cache in a pool mount
# (DESIGN.md "Reads and views", docs/filesystem.md "Views and the page
# cache"): the provider (raw) and two departments (two views) map one file
# MAP_SHARED at once and each sees exactly its own read() bytes; a masked
# map after the provider's read, and the reverse, never shows another's
# bytes; stat sizes are each caller's; a masked map held across a commit
# keeps its version while a new reader sees the new one; another view's
# caller reopening the holder's /proc/PID/fd/N or map_files gets no byte;
# a live policy change drops the held map (SIGBUS) and the next map shows
# the new view.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup

GA=/基础库/人口/户籍人口		# gongan provides; renshe (g1) and weijian (g3) read
t_setup_readers

mr() { "$UPY" "$HELPERS/mapread.py" "$@"; }

# policies: the fixture plus g3 for weijian and g4 for shuju (root, gid 0);
# names.json lifts renshe's name mask
"$PY" - "$HELPERS/policy_views.json" "$T_TMP/policy.json" "$T_TMP/names.json" <<'PY' ||
import json, sys
d = json.load(open(sys.argv[1]))
g = dict(d["grants"][0])
d["grants"].append(dict(g, id="g3", department="weijian", fields=["姓名", "手机号", "区县"],
                        masks={}, rows=None))
del d["grants"][-1]["rows"]
d["grants"].append(dict(g, id="g4", department="shuju", fields=["区县"], masks={}))
del d["grants"][-1]["rows"]
json.dump(d, open(sys.argv[2], "w"), ensure_ascii=False)
d["grants"][0]["masks"]["姓名"] = "none"
json.dump(d, open(sys.argv[3], "w"), ensure_ascii=False)
PY
	die "cannot write the policies"

# gen_csv NAME ROWS PHONE: PUB/NAME.csv (raw; PHONE in the first row) and
# the views: .B renshe's, .B2 renshe's under names.json, .C weijian's,
# .D shuju's, computed here with renshe's hash key (store/hashkey.c)
gen_csv() {
	"$PY" - "$STORE/keys/hash.key" "$PUB/$1" "$2" "$3" <<'PY' || die "cannot generate $1"
import hashlib, hmac, random, sys
key = hmac.new(open(sys.argv[1], "rb").read(), b"poolfs hash mask v1\0renshe",
               hashlib.sha256).digest()
out, n, phone = sys.argv[2], int(sys.argv[3]), sys.argv[4]
r = random.Random(n)
rows = [("341802199001011234", "张三丰", phone, '"宣城市宣州区,某路1号"', "宣州区"),
        ("341802199202022345", "李四", "13987654321", "宣城市郎溪县某路2号", "郎溪县"),
        ("341802198503033456", "王小明", "13700001111", "宣城市宣州区某路3号", "宣州区")]
surn, given = "赵钱孙李周吴郑王冯陈", "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞"
for i in range(max(0, n - 3)):
    rows.append(("3418%014d" % r.randrange(10**14), r.choice(surn) +
                 "".join(r.choice(given) for _ in range(r.randint(1, 2))),
                 "139%08d" % r.randrange(10**8), "宣城市某路%d号" % i,
                 r.choice(["宣州区", "郎溪县", "广德市"])))
mname = lambda s: s[0] + "*" * (len(s) - 1)
mphone = lambda s: s[:3] + "****" + s[-4:]
tok = lambda s: hmac.new(key, s.encode(), hashlib.sha256).hexdigest()
files = {
    "csv": ["身份证号,姓名,手机号,住址,区县"] + [",".join(x) for x in rows],
    "B": ["身份证号,姓名,手机号,区县"] + [",".join([tok(i), mname(nm), mphone(p), g])
                                     for i, nm, p, a, g in rows if g == "宣州区"],
    "B2": ["身份证号,姓名,手机号,区县"] + [",".join([tok(i), nm, mphone(p), g])
                                      for i, nm, p, a, g in rows if g == "宣州区"],
    "C": ["姓名,手机号,区县"] + [",".join([mname(nm), mphone(p), g]) for i, nm, p, a, g in rows],
    "D": ["区县"] + [g for i, nm, p, a, g in rows],
}
for ext, lines in files.items():
    open(out + "." + ext, "w").write("\n".join(lines) + "\n")
PY
	chmod 0644 "$PUB/$1".*
}

pool_init "$STORE" --cipher none
check "apply the policy" pctl policy apply "$T_TMP/policy.json"
POOLFS_OPTS=
pool_mount
P=$MNT$GA/people.csv
BIG=$MNT$GA/big.csv
gen_csv people 3 13812345678
gen_csv people2 3 13800000000
gen_csv big 20000 13812345678
check "gongan publishes people.csv" asA cp "$PUB/people.csv" "$P"
check "gongan publishes big.csv" asA cp "$PUB/big.csv" "$BIG"

# ---- MAP_SHARED works for a masked reader and maps its read() bytes ----
asB "$UPY" "$HELPERS/mapread.py" shared "$P" "$PUB/people.B" 1 > "$T_TMP/one.out" 2>&1
check_eq "renshe's MAP_SHARED map of its view ($(head -c 200 "$T_TMP/one.out"))" \
	"$(cat "$T_TMP/one.out")" "ok 1"

# ---- three callers, three views, mapped shared at the same time ----
asA "$UPY" "$HELPERS/mapread.py" shared "$BIG" "$PUB/big.csv" 30 > "$T_TMP/A.out" 2>&1 &
pa=$!
asB "$UPY" "$HELPERS/mapread.py" shared "$BIG" "$PUB/big.B" 30 > "$T_TMP/B.out" 2>&1 &
pb=$!
asC "$UPY" "$HELPERS/mapread.py" shared "$BIG" "$PUB/big.C" 30 > "$T_TMP/C.out" 2>&1 &
pc=$!
wait "$pa" "$pb" "$pc"
check_eq "gongan's 30 shared maps alongside the others: raw" "$(cat "$T_TMP/A.out")" "ok 30"
check_eq "renshe's 30 shared maps alongside the others: its view" "$(cat "$T_TMP/B.out")" "ok 30"
check_eq "weijian's 30 shared maps alongside the others: its view" "$(cat "$T_TMP/C.out")" "ok 30"

# ---- one after the other: the page cache one filled never serves another ----
asA cat "$BIG" > /dev/null
check_eq "renshe maps after gongan read raw" \
	"$(asB "$UPY" "$HELPERS/mapread.py" shared "$BIG" "$PUB/big.B" 1 2>&1)" "ok 1"
check_eq "weijian maps after renshe" \
	"$(asC "$UPY" "$HELPERS/mapread.py" shared "$BIG" "$PUB/big.C" 1 2>&1)" "ok 1"
check_eq "gongan maps after both" \
	"$(asA "$UPY" "$HELPERS/mapread.py" shared "$BIG" "$PUB/big.csv" 1 2>&1)" "ok 1"
check_same "renshe's cat after gongan's map" <(asB cat "$BIG") "$PUB/big.B"
for who in A:csv B:B C:C; do
	check_eq "stat as $who is its own size" "$("as${who%%:*}" stat -c %s "$BIG")" \
		"$(stat -c %s "$PUB/big.${who#*:}")"
done
check_eq "stat as root (shuju, g4) is its own size" "$(stat -c %s "$BIG")" \
	"$(stat -c %s "$PUB/big.D")"
check_same "root (shuju) reads its own view" <(cat "$BIG") "$PUB/big.D"

# ---- a held map: other views' reopens, a commit ----
# holdB FILE WANT: renshe holds FILE mapped shared (pid, fd in PUB/info)
holdB() {
	rm -f "$PUB/info" "$PUB/go"
	asB "$UPY" "$HELPERS/mapread.py" hold "$1" "$2" "$PUB/info" "$PUB/go" > "$T_TMP/hold.out" 2>&1 &
	holder=$!
	wait_for 20 test -e "$PUB/info" || fail "the holder did not map $1: $(cat "$T_TMP/hold.out")"
	read -r hpid hfd < "$PUB/info"
}
holdB "$P" "$PUB/people.B"
got=$(mr reopen "$hpid" "$hfd" 2>&1)
check_eq "root (another view) reopening renshe's /proc/PID/fd/N reads nothing ($got)" "${got%%:*}" ERR
got=$(mr mapfile "$hpid" "$P" 2>&1)
check_eq "nor through /proc/PID/map_files ($got)" "${got%%:*}" ERR
check "gongan writes version 2 while renshe holds version 1 mapped" \
	asA sh -c "cat '$PUB/people2.csv' > '$P'"
wait_version "$MNT$GA" people.csv 2
check_same "a new renshe reader reads version 2's view" <(asB cat "$P") "$PUB/people2.B"
check_eq "and maps it" "$(asB "$UPY" "$HELPERS/mapread.py" shared "$P" "$PUB/people2.B" 2 2>&1)" "ok 2"
check_eq "weijian maps version 2's view" \
	"$(asC "$UPY" "$HELPERS/mapread.py" shared "$P" "$PUB/people2.C" 1 2>&1)" "ok 1"
touch "$PUB/go"
wait "$holder"
check_eq "the held map and descriptor still show version 1's view" \
	"$(cat "$T_TMP/hold.out" | tr '\n' /)" "map ok/read ok/"

# ---- a live policy change: the held map is dropped, the next shows the new view ----
holdB "$P" "$PUB/people2.B"
check "apply names.json (renshe's names unmasked)" pctl policy apply "$T_TMP/names.json"
touch "$PUB/go"
wait "$holder"
rc=$?
check_eq "the held map faults after the change: SIGBUS, no old page ($(head -c 100 "$T_TMP/hold.out"))" \
	"$rc" 135
check_eq "renshe's next shared map is the new view" \
	"$(asB "$UPY" "$HELPERS/mapread.py" shared "$P" "$PUB/people2.B2" 1 2>&1)" "ok 1"
check_same "and its cat" <(asB cat "$P") "$PUB/people2.B2"
check_eq "and its stat" "$(asB stat -c %s "$P")" "$(stat -c %s "$PUB/people2.B2")"
check_eq "weijian's view did not change" \
	"$(asC "$UPY" "$HELPERS/mapread.py" shared "$P" "$PUB/people2.C" 1 2>&1)" "ok 1"
check "the daemon still runs" kill -0 "$POOLFS_PID"
pool_umount
