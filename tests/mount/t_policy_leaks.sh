#!/usr/bin/env bash
# t_policy_leaks.sh - what the policy engine must not leak, through a real
# pool mount and real uids: hash tokens are per reading department (two
# departments reading one hashed column get unrelated tokens, one
# department gets the same token in two files, made with its own key
# derived from keys/hash.key); a policy that lets a department write an
# entry it reads hashed is refused by `poolctl policy check` (exit 2);
# a lapsed grant on an unconditional entry keeps its row filter and field
# projection (only the mask it lifted is lost), and the tag defaults drop
# columns the catalog never declared.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup

GA=/基础库/人口/户籍人口	# gongan; renshe (r1) and weijian (w1) read IDs hashed
SB=/主题库/社保/参保人员	# gongan; renshe (r2) reads IDs hashed
WJ=/主题库/医疗/接种		# weijian, unconditional; renshe's grant "lapsed" expired in 2021
command -v setpriv > /dev/null || die "setpriv not found (util-linux)"
chmod o+x "$T_TMP"
PUB=$T_TMP/pub
mkdir -p "$PUB" && chmod 0755 "$PUB" || die "cannot make $PUB"

printf '身份证号,姓名,区县\n341802199001011234,张三丰,宣州区\n341802199202022345,李四,郎溪县\n' \
	> "$PUB/a.csv"
printf '身份证号,状态\n341802199001011234,在保\n' > "$PUB/b.csv"
printf '身份证号,姓名,区县,备注\n341802199001011234,张三丰,宣州区,未声明的列\n341802199202022345,李四,郎溪县,x\n' \
	> "$PUB/c.csv"
chmod 0644 "$PUB"/*.csv

# unencrypted: the expected tokens come from keys/hash.key read raw
pool_init "$STORE" --cipher none
check "apply the fixture" pctl policy apply "$HELPERS/policy_leaks.json"
POOLFS_OPTS=
pool_mount
check "gongan publishes a.csv" asA cp "$PUB/a.csv" "$MNT$GA/a.csv"
check "gongan publishes b.csv" asA cp "$PUB/b.csv" "$MNT$SB/b.csv"
check "weijian publishes c.csv" asC cp "$PUB/c.csv" "$MNT$WJ/c.csv"

# ---- hash tokens: per reading department ----
tok() { sed -n 2p | cut -d, -f1; }
RS_A=$(asB cat "$MNT$GA/a.csv" | tok)
WJ_A=$(asC cat "$MNT$GA/a.csv" | tok)
RS_B=$(asB cat "$MNT$SB/b.csv" | tok)
check_eq "renshe's token is 64 hex digits" "$(echo "$RS_A" | grep -cE '^[0-9a-f]{64}$')" 1
check_eq "weijian's token is 64 hex digits" "$(echo "$WJ_A" | grep -cE '^[0-9a-f]{64}$')" 1
check_eq "two departments get unrelated tokens for one value" \
	"$([ "$RS_A" != "$WJ_A" ] && echo differ)" differ
check_eq "one department gets the same token in two files (joins work)" "$RS_B" "$RS_A"
want() {
	"$PY" - "$STORE/keys/hash.key" "$1" 341802199001011234 <<'PY'
import hashlib, hmac, sys
pool = open(sys.argv[1], "rb").read()
key = hmac.new(pool, b"poolfs hash mask v1\0" + sys.argv[2].encode(), hashlib.sha256).digest()
print(hmac.new(key, sys.argv[3].encode(), hashlib.sha256).hexdigest())
PY
}
check_eq "renshe's token is HMAC with renshe's derived key" "$RS_A" "$(want renshe)"
check_eq "weijian's token is HMAC with weijian's derived key" "$WJ_A" "$(want weijian)"
check_eq "the view build's audit record names the key version" \
	"$(pctl audit query --path "$GA/a.csv" --op view.build | grep -c 'hash key v1 of \\\?"renshe')" 1
check_eq "renshe's open record names its key" \
	"$(pctl audit query --path "$GA/a.csv" --op open --uid 1002 | grep -c 'hash key v1')" 1

# ---- a department that may write what it reads hashed: refused ----
"$PY" - "$HELPERS/policy_leaks.json" "$T_TMP/oracle.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["grants"][0]["actions"] = ["read", "write"]
json.dump(d, open(sys.argv[2], "w"), ensure_ascii=False)
PY
check_rc "policy check refuses write + hash" 2 "$POOLCTL" policy check "$T_TMP/oracle.json"
check_eq "the error names the JSON path" \
	"$(grep -c 'grants\[0\]\.masks\.身份证号: department "renshe" may write' "$T_TMP/check.out")" 1
check_rc "policy apply refuses it too" 2 pctl policy apply "$T_TMP/oracle.json"
check_eq "the policy in force is unchanged" \
	"$(pctl policy export | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["grants"][0]["actions"])')" \
	"['read']"

# ---- a lapsed grant narrows, never widens ----
asB cat "$MNT$WJ/c.csv" > "$T_TMP/rs_c.out" 2> "$T_TMP/rs_c.err"
rc=$?	# (a $(...) in check_eq's arguments would overwrite $?)
check_eq "renshe reads c.csv ($(head -c 200 "$T_TMP/rs_c.err"))" "$rc" 0
check_eq "the lapsed grant's projection stays, undeclared 备注 is gone" \
	"$(head -n1 "$T_TMP/rs_c.out")" "身份证号,姓名,区县"
check_eq "the lapsed grant's row filter stays" "$(grep -c 郎溪县 "$T_TMP/rs_c.out")" 0
check_eq "the lifted name mask is lost: 姓名 masked again" \
	"$(sed -n 2p "$T_TMP/rs_c.out" | cut -d, -f2)" "张**"
check_eq "the ID has the tag default mask" \
	"$(sed -n 2p "$T_TMP/rs_c.out" | cut -d, -f1)" "341802********1234"
check_eq "rows: header and one" "$(wc -l < "$T_TMP/rs_c.out")" 2
asA cat "$MNT$WJ/c.csv" > "$T_TMP/ga_c.out" 2>&1
check_eq "gongan (no grant) reads the tag defaults: the undeclared column is dropped" \
	"$(head -n1 "$T_TMP/ga_c.out")" "身份证号,姓名,区县"
check_eq "gongan sees every row" "$(wc -l < "$T_TMP/ga_c.out")" 3
pctl explain --uid 1002 --gid 2002 "$WJ/c.csv" > "$T_TMP/explain.out" 2>&1
check_eq "explain says the grant is not in force" \
	"$(grep -c '^window: not in force (expired)' "$T_TMP/explain.out")" 1
check_eq "explain says what it keeps" \
	"$(grep -c '^kept from the grant: its fields, its row filter' "$T_TMP/explain.out")" 1

pool_umount
