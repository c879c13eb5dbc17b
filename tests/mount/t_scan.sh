#!/usr/bin/env bash
# t_scan.sh - poolctl scan: files put into a pool through a mount are
# sampled; a phone column the catalog leaves untagged is reported and
# makes scan exit 1, tagging it makes scan exit 0; GB18030 named by the
# catalog entry, a BOM, a JSON array outside every entry, malformed
# input (exit 2), roles; through the daemon and without one. Header
# names match catalog fields as the engine matches them (trim, NFC). No value
# ever reaches the output, not even as a column name (a headerless or
# CR-only CSV, JSON keyed by ID numbers); JSON is read at every depth;
# values that near-miss a grant's row filter are warned about, counted.
# timeout: 180
. "$(dirname "$0")/../lib.sh"
t_setup

FIX=$HELPERS/policy_basic.json
ENTRY=/基础库/人口/户籍人口
FLOAT=/基础库/人口/流动人口
A=$ENTRY/a.csv
B=$FLOAT/b.csv

# Deterministic data with valid check digits, Luhn numbers and phones
# written the ways people write them.
"$PY" - "$T_TMP" <<'PY' || die "cannot write the test data"
import json, random, sys
d = sys.argv[1]
random.seed(7)
W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
def idno():
    s = "341802%04d%02d%02d%03d" % (random.randint(1950, 2005), random.randint(1, 12),
                                    random.randint(1, 28), random.randint(0, 999))
    return s + "10X98765432"[sum(int(c) * w for c, w in zip(s, W)) % 11]
def card():
    s = "622202%012d" % random.randint(0, 10**12 - 1)
    for c in "0123456789":
        t = sum((2 * int(x) - 9 if 2 * int(x) > 9 else 2 * int(x)) if i % 2 else int(x)
                for i, x in enumerate(reversed(s + c)))
        if t % 10 == 0:
            return s + c
def phone():
    return "%s1%s%09d" % (random.choice(["", "+86 ", "86", "+86-"]), random.choice("3456789"),
                          random.randint(0, 10**9 - 1))
rows = [(idno(), "张%d" % i, phone(), "安徽省宣城市宣州区%d号" % i, "宣州区") for i in range(300)]
with open(d + "/a.csv", "w", newline="") as f:
    f.write("身份证号,姓名,手机号,住址,区县\r\n")
    for r in rows:
        f.write(",".join(r) + "\r\n")
with open(d + "/b.csv", "wb") as f:
    f.write("证件号码,联系电话,姓名\n".encode("gb18030"))
    for r in rows:
        f.write(("%s,%s,%s\n" % (r[0], r[2], r[1])).encode("gb18030"))
with open(d + "/c.json", "w") as f:
    json.dump([{"邮箱": "u%d@example.com" % i, "card": card(), "note": "第%d条" % i,
                "tags": [1, 2]} for i in range(50)], f, ensure_ascii=False)
with open(d + "/d.tsv", "wb") as f:
    f.write(b"\x84\x31\x95\x33" + "编号\t手机\n".encode("gb18030"))
    for i in range(20):
        f.write(("%d\t%s\n" % (i, phone())).encode("gb18030"))
with open(d + "/bad.csv", "w") as f:
    f.write("a,b\n1,2\n1,2,3\n")
# no header: the first record's values would be the "names"
with open(d + "/nohdr.csv", "w") as f:
    for r in rows[:50]:
        f.write("%s,%s,%s\n" % (r[0], r[1], r[2]))
# CR line ends only (old Mac, some exports)
with open(d + "/cr.csv", "w", newline="") as f:
    f.write("身份证号,姓名\r")
    for r in rows[:50]:
        f.write("%s,%s\r" % (r[0], r[1]))
# an API envelope: the records nested, one object keyed by an ID number
with open(d + "/env.json", "w") as f:
    json.dump({"code": 0, "msg": "ok",
               "data": [{"id": r[0], "family": [{"id": rows[-1 - i][0]}],
                         "byid": {r[0]: 1}} for i, r in enumerate(rows[:40])]},
              f, ensure_ascii=False)
# header names padded as copy and paste leaves them (U+200B, U+00A0, U+3000):
# the engine trims them, so they are the catalog's fields
with open(d + "/pad.csv", "w", newline="") as f:
    f.write("\u200b身份证号,姓名,手机号\u00a0,住址,\u3000区县\r\n")
    for r in rows[:50]:
        f.write(",".join(r) + "\r\n")
# the filtered field with values that near-miss the filter's "宣州区"
with open(d + "/near.csv", "w", newline="") as f:
    f.write("身份证号,姓名,手机号,住址,区县\r\n")
    for i, r in enumerate(rows[:60]):
        q = [r[4], " " + r[4], r[4] + "\u3000", "郎溪县"][i % 4]
        f.write(",".join(r[:4] + (q,)) + "\r\n")
PY

# p_untagged: the phone column has no tag; p_tagged: every column tagged,
# plus an entry whose files are GB18030
"$PY" - "$FIX" "$T_TMP" <<'PY' || die "cannot write the policies"
import json, sys
d = json.load(open(sys.argv[1]))
fields = d["catalog"][0]["fields"]
d["catalog"].append({"path": "/基础库/人口/流动人口", "code": "341800-GA-0002",
                     "title": "流动人口", "provider": "gongan", "share": "none",
                     "format": "csv", "encoding": "gb18030",
                     "fields": [{"name": "证件号码", "tag": "id_card"},
                                {"name": "联系电话", "tag": "phone"},
                                {"name": "姓名", "tag": "name"}]})
json.dump(d, open(sys.argv[2] + "/p_tagged.json", "w"), ensure_ascii=False)
for f in fields:
    if f["name"] == "手机号":
        del f["tag"]
d["catalog"][1]["fields"][1] = {"name": "联系电话", "mask": "hash"}
json.dump(d, open(sys.argv[2] + "/p_untagged.json", "w"), ensure_ascii=False)
PY

# ---- the data goes in through a mount (allow_all: no policy yet) ----
pool_init
pool_mount
mkdir -p "$MNT$ENTRY" "$MNT$FLOAT" "$MNT/open" || die "mkdir in the mount failed"
for f in a.csv nohdr.csv cr.csv near.csv pad.csv; do cp "$T_TMP/$f" "$MNT$ENTRY/" || die "cp $f failed"; done
cp "$T_TMP/b.csv" "$MNT$FLOAT/" || die "cp b.csv failed"
for f in c.json d.tsv bad.csv env.json; do cp "$T_TMP/$f" "$MNT/open/" || die "cp $f failed"; done
for f in a.csv nohdr.csv cr.csv near.csv pad.csv; do wait_version "$MNT$ENTRY" "$f" 1; done
wait_version "$MNT$FLOAT" b.csv 1
for f in c.json d.tsv bad.csv env.json; do wait_version "$MNT/open" "$f" 1; done

# column_line NAME: the table row of column NAME, blanks squeezed
column_line() { grep -F "$1 " "$T_TMP/check.out" | grep -F -m1 -- "$1" | tr -s ' ' |
	awk -v n="$1" 'index($0, n " ") == 1'; }
# no_values FILE...: none of the sample's personal values or names is in the output
no_values() {
	local f out=$T_TMP/check.out
	for f in "$@"; do
		"$PY" - "$f" "$out" <<'PY' || fail "a value of $(basename "$f") reached the output: $(head -c 400 "$out")"
import re, sys
data = open(sys.argv[1], encoding="utf-8").read()
out = open(sys.argv[2], encoding="utf-8").read()
vals = set(re.findall(r"[0-9X]{15,18}|1[3-9][0-9]{9}|张[0-9]+|宣城市|@example", data))
hit = [v for v in vals if v in out]
sys.exit(1 if hit else 0)
PY
		T_CHECKS=$((T_CHECKS + 1))
	done
}
jq_get() { "$PY" "$HELPERS/jsonq.py" get "$1" < "$T_TMP/scan.json"; }

# ---- no policy: nothing is tagged ----
check_rc "scan before any policy: untagged" 1 pctl scan "$A"
# no entry declares the header's names: they are positions
check_eq "the ID column" "$(column_line "column 1")" "column 1 id_card 100% - UNTAGGED"
check_eq "the phone column (+86, 86, +86- prefixes)" "$(column_line "column 3")" "column 3 phone 100% - UNTAGGED"
check_eq "a column of names is no kind" "$(column_line "column 5")" "column 5 - - - -"
check_eq "no header name undeclared" "$(grep -c '身份证号\|手机号' "$T_TMP/check.out")" 0
check_eq "the summary" "$(tail -n1 "$T_TMP/check.out")" \
	"300 records sampled (csv, utf-8), no catalog entry: 2 untagged columns of personal data"
check_rc "--rows 10" 1 pctl scan --rows 10 "$A"
check_eq "samples 10 records" "$(tail -n1 "$T_TMP/check.out" | cut -d' ' -f1)" 10

# ---- the phone column untagged in the catalog ----
check "apply p_untagged" pctl policy apply "$T_TMP/p_untagged.json"
check_rc "scan: the untagged phone column answers no" 1 pctl scan "$A"
check_eq "phone is UNTAGGED" "$(column_line 手机号)" "手机号 phone 100% - UNTAGGED"
check_eq "the tagged ID column is ok" "$(column_line 身份证号)" "身份证号 id_card 100% id_card ok"
check_eq "it names the entry" "$(tail -n1 "$T_TMP/check.out")" \
	"300 records sampled (csv, utf-8), catalog entry 341800-GA-0001: 1 untagged column of personal data"
pctl scan --json "$A" > "$T_TMP/scan.json" 2> "$T_TMP/scan.err"
rc=$?
check_eq "--json exits 1 too ($(head -c 200 "$T_TMP/scan.err"))" "$rc" 1
check_eq "--json lists the untagged column" "$(jq_get untagged)" "['手机号']"
check_eq "--json entry" "$(jq_get entry)" 341800-GA-0001
check_eq "--json ok" "$(jq_get ok)" False
check_eq "--json counts the values" "$(jq_get values)" 300
check_rc "a masked but untagged column is no finding (gb18030 via the entry)" 0 pctl scan "$B"
check_eq "its row" "$(column_line 联系电话)" "联系电话 phone 100% mask=hash ok"

# ---- everything tagged ----
check "apply p_tagged" pctl policy apply "$T_TMP/p_tagged.json"
check_rc "scan: all tagged answers yes" 0 pctl scan "$A"
check_eq "phone is ok" "$(column_line 手机号)" "手机号 phone 100% phone ok"
check_rc "names padded as the engine trims them are the catalog's" 0 pctl scan "$ENTRY/pad.csv"
check_eq "the padded phone column is the tagged field" "$(column_line 手机号)" "手机号 phone 100% phone ok"
check_eq "the padded ID column too" "$(column_line 身份证号)" "身份证号 id_card 100% id_card ok"
check_rc "gb18030 without a BOM, named by the entry" 0 pctl scan "$B"
check_eq "its names decode and match the catalog" "$(column_line 证件号码)" "证件号码 id_card 100% id_card ok"
check_eq "it says the encoding" "$(tail -n1 "$T_TMP/check.out" | grep -c '(csv, gb18030)')" 1
check_rc "read as utf-8 it is invalid text" 2 pctl scan --encoding utf-8 "$B"
check_eq "the message names file, line and byte" "$(cat "$T_TMP/check.out")" \
	"poolctl: \"$B\": line 1, byte 2: invalid utf-8 text"

# ---- outside every entry ----
check_rc "a JSON array with untagged email and card" 1 pctl scan /open/c.json
check_eq "the email key, undeclared and no identifier" "$(column_line "column 1 (*)")" \
	"column 1 (*) email 100% - UNTAGGED"
check_eq "the card key" "$(column_line card)" "card bank_card 100% - UNTAGGED"
check_eq "an array's values are looked at" "$(column_line "tags[]")" "tags[] - - - -"
no_values "$T_TMP/c.json"
check_eq "read as a JSON array" "$(tail -n1 "$T_TMP/check.out" | grep -c '^50 records sampled (json, utf-8)')" 1
check_rc "a BOM decides the encoding" 1 pctl scan /open/d.tsv
check_eq "gb18030 tsv with BOM" "$(column_line "column 2")" "column 2 phone 100% - UNTAGGED"
check_eq "it says so" "$(tail -n1 "$T_TMP/check.out" | grep -c '(tsv, gb18030 with BOM)')" 1

# ---- no value as a name, JSON at every depth, near matches ----
check_rc "a headerless CSV: its first record is no header" 1 pctl scan "$ENTRY/nohdr.csv"
no_values "$T_TMP/nohdr.csv"
check_eq "its ID column by position" "$(column_line "column 1")" "column 1 id_card 100% - UNTAGGED"
check_rc "a CSV with CR line ends" 0 pctl scan "$ENTRY/cr.csv"
no_values "$T_TMP/cr.csv"
check_eq "read as records, the declared name shown" "$(column_line 身份证号)" "身份证号 id_card 100% id_card ok"
check_eq "50 records" "$(tail -n1 "$T_TMP/check.out" | cut -d' ' -f1)" 50
check_rc "an envelope: the records nested" 1 pctl scan /open/env.json
no_values "$T_TMP/env.json"
check_eq "data[].id is looked at" "$(column_line "data[].id")" "data[].id id_card 100% - UNTAGGED"
check_eq "and deeper" "$(column_line "data[].family[].id")" "data[].family[].id id_card 100% - UNTAGGED"
T_CHECKS=$((T_CHECKS + 1))
grep -q '^column [0-9]* (data\[\]\.byid\.\*) ' "$T_TMP/check.out" ||
	fail "a key that is an ID number is hidden: $(grep byid "$T_TMP/check.out")"
check_rc "near matches of g1's row filter warn, values unprinted" 0 pctl scan "$ENTRY/near.csv"
no_values "$T_TMP/near.csv"
check_eq "the warning names grant, field and counts" "$(grep '^warning:' "$T_TMP/check.out")" \
	"warning: grant g1, row filter on 区县: 30 of 60 records hold a value that differs from a filter value only by surrounding blanks, Unicode form (NFC/NFKC, full width) or case"
check_rc "a file of exact values draws no warning" 0 pctl scan "$A"
check_eq "no warning" "$(grep -c '^warning:' "$T_TMP/check.out")" 0
pctl scan --json "$ENTRY/near.csv" > "$T_TMP/scan.json" 2> "$T_TMP/scan.err"
check_eq "--json near_matches" "$(jq_get near_matches)" \
	"[{'grant': 'g1', 'field': '区县', 'records': 60, 'near': 30}]"

# ---- errors: exit 2, one line ----
check_rc "malformed csv" 2 pctl scan /open/bad.csv
check_eq "its message" "$(cat "$T_TMP/check.out")" \
	'poolctl: "/open/bad.csv": line 3: 3 fields, the header has 2'
check_rc "a missing file" 2 pctl scan /open/nope.csv
check_rc "a directory" 2 pctl scan /open
check_rc "a relative path" 2 pctl scan open/c.json
check_rc "--rows 0" 2 pctl scan --rows 0 "$A"
check_rc "an unknown --format" 2 pctl scan --format xlsx "$A"
check_rc "no PATH" 2 pctl scan
check_rc "--help" 0 "$POOLCTL" scan --help

# ---- roles and audit ----
check_rc "uid 1234 may not scan" 1 setpriv --reuid 1234 --regid 1234 --clear-groups \
	"$POOLCTL" -s "$STORE" scan "$A"
check_eq "the refusal names the role" "$(cat "$T_TMP/check.out")" \
	"poolctl: permission denied: scan needs an admin role (security_admin, auditor or system_admin)"
check_rc "auditor 1501 may scan" 0 setpriv --reuid 1501 --regid 1501 --clear-groups \
	"$POOLCTL" -s "$STORE" scan "$A"
check_eq "no value reaches the output" "$(grep -c '张\|宣城\|@' "$T_TMP/check.out")" 0

# ---- without a daemon ----
pool_umount
check_rc "scan without a daemon" 0 pctl scan "$A"
check_rc "--json without a daemon" 0 sh -c '"$1" -s "$2" scan --json "$3" | "$4" "$5" valid' \
	_ "$POOLCTL" "$STORE" "$A" "$PY" "$HELPERS/jsonq.py"
