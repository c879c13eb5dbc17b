#!/usr/bin/env bash
# t_json_nested.sh - JSON as a masked department reads it through a pool
# mount: tagged fields nested in the common {"code":0,"data":[...]}
# envelope and in arrays of objects are masked like top-level ones, and
# the undeclared keys holding them stay (only undeclared scalars and
# subtrees without a declared field are dropped); keys
# written with padding (" 身份证号 ", "姓名　") are the field; an object
# under a masked key and a filtered field below the top level are EIO;
# an ne filter hides the CHAR(n)-padded and decomposed spellings of the
# excluded value as eq would find them.
# timeout: 90
. "$(dirname "$0")/../lib.sh"
t_setup

FIX=$HELPERS/policy_json_nested.json
API=/基础库/人口/人员接口	# json, unconditional: id, name, phone tagged
REC=/基础库/人口/人员记录	# jsonl, unconditional: 身份证号, 姓名 tagged
CASE=/基础库/人口/案件		# jsonl, conditional: renshe reads 密级 ne 涉密
t_setup_readers


# put NAME TEXT: PUB/NAME holds TEXT (printf format, so \n and \t work)
put() { printf "$2" > "$PUB/$1" && chmod 0644 "$PUB/$1" || die "cannot write $PUB/$1"; }

put envelope.json '{"code":0,"msg":"ok","data":[\n  {"id":"341802199001011234","name":"张三丰","phone":"13812345678",\n   "family":[{"id":"341802199202022345","name":"李四","phone":["13987654321","13700001111"]}]},\n  {"id":"341802198503033456","name":"王小明","contact":{"phone":"13612345678"}}\n]}\n'
put envelope.want '{"data":[\n  {"id":"341802********1234","name":"张**","phone":"138****5678",\n   "family":[{"id":"341802********2345","name":"李*","phone":["139****4321","137****1111"]}]},\n  {"id":"341802********3456","name":"王**","contact":{"phone":"136****5678"}}\n]}\n'
put spaced.jsonl '{" 身份证号 ":"341802199001011234","姓名　":"张三丰","备注":"x"}\n{"\\t身份证号":"341802199202022345","\\u59d3\\u540d ":"李四"}\n'
put spaced.want '{" 身份证号 ":"341802********1234","姓名　":"张**"}\n{"\\t身份证号":"341802********2345","\\u59d3\\u540d ":"李*"}\n'
put dup.jsonl '{"姓名":"张三丰"," 姓名":"李四"}\n'
put object.json '[{"name":{"family":"张","given":"三丰"}}]\n'
put cases.jsonl '{"案号":1,"密级":"公开"}\n{"案号":2,"密级":"涉密"}\n{"案号":3,"密级":"涉密  "}\n{"案号":4,"密级":" 涉密"}\n{"案号":5,"密级":"\\u6d89\\u5bc6\\u3000"}\n'
put cases.want '{"案号":1,"密级":"公开"}\n'
put nested_filter.jsonl '{"案号":1,"密级":"公开","关联":[{"案号":2,"密级":"涉密"}]}\n'

pool_init
check "apply the fixture" pctl policy apply "$FIX"
POOLFS_OPTS=
pool_mount

for f in envelope.json:$API object.json:$API spaced.jsonl:$REC dup.jsonl:$REC \
	 cases.jsonl:$CASE nested_filter.jsonl:$CASE; do
	check "gongan publishes ${f%%:*}" asA cp "$PUB/${f%%:*}" "$MNT${f#*:}/${f%%:*}"
done
check_same "gongan reads the envelope raw" <(asA cat "$MNT$API/envelope.json") "$PUB/envelope.json"

# ---- fields at any depth ----
asB cat "$MNT$API/envelope.json" > "$T_TMP/env.out" 2>&1
check_same "renshe's envelope: the way to ids, names and phones kept, they masked" \
	"$T_TMP/env.out" "$PUB/envelope.want"
check_eq "no raw ID or name reaches renshe anywhere in the parsed document" "$(asB "$UPY" - \
	"$MNT$API/envelope.json" <<'PY' 2>&1
import json, sys
raw = {"341802199001011234", "341802199202022345", "341802198503033456", "张三丰", "李四",
       "王小明", "13812345678", "13987654321", "13700001111", "13612345678"}
def walk(v):
    if isinstance(v, dict):
        return [x for k, w in v.items() for x in walk(w)]
    if isinstance(v, list):
        return [x for w in v for x in walk(w)]
    return [v] if v in raw else []
print(walk(json.load(open(sys.argv[1]))) or "clean")
PY
)" clean
check_eq "stat shows renshe the size of its view" \
	"$(asB stat -c %s "$MNT$API/envelope.json")" "$(stat -c %s "$PUB/envelope.want")"
check_eq "a masked key holding an object is EIO" \
	"$(asB cat "$MNT$API/object.json" 2>&1 | grep -c 'Input/output error')" 1

# ---- keys match after trimming and NFC ----
asB cat "$MNT$REC/spaced.jsonl" > "$T_TMP/spaced.out" 2>&1
check_same "renshe's spaced keys are masked like the plain ones" "$T_TMP/spaced.out" "$PUB/spaced.want"
check_eq "two keys that are one field once trimmed are EIO" \
	"$(asB cat "$MNT$REC/dup.jsonl" 2>&1 | grep -c 'Input/output error')" 1
check "the audit log says why" sh -c '"$0" -s "$1" audit query --path "$2" | grep -q "appears twice"' \
	"$POOLCTL" "$STORE" "$REC/dup.jsonl"

# ---- filters: normalized values, top level only ----
asB cat "$MNT$CASE/cases.jsonl" > "$T_TMP/cases.out" 2>&1
check_same "ne 涉密 hides its padded and escaped spellings" "$T_TMP/cases.out" "$PUB/cases.want"
check_eq "a filtered field below the top level is EIO" \
	"$(asB cat "$MNT$CASE/nested_filter.jsonl" 2>&1 | grep -c 'Input/output error')" 1
check_same "gongan still reads it raw" <(asA cat "$MNT$CASE/nested_filter.jsonl") \
	"$PUB/nested_filter.jsonl"

check "the daemon still runs" kill -0 "$POOLFS_PID"
