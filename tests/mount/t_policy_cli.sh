#!/usr/bin/env bash
# t_policy_cli.sh - poolctl's policy commands and roles: policy check on a
# good file and on broken ones (exit 2, one line naming the JSON path),
# apply then export gives back the same bytes, explain for an allowed and
# a denied reader, the live mount following an apply and a revocation,
# callers without an admin role refused (exit 1) by the daemon, and a
# security_admin that would make itself a department member refused (exit 2).
# timeout: 180
. "$(dirname "$0")/../lib.sh"
t_setup

FIX=$HELPERS/policy_basic.json
CSV=/基础库/人口/户籍人口/a.csv
command -v setpriv > /dev/null || die "setpriv not found (util-linux): roles cannot be checked"
# let the unprivileged uids below reach STORE/control.sock and the fixture
chmod o+x "$T_TMP"
cp "$FIX" "$T_TMP/p.json" && chmod 644 "$T_TMP/p.json" || die "cannot copy $FIX"

# mutate FIX with a line of Python over the document d; writes $T_TMP/NAME.json
bad() {
	"$PY" - "$FIX" "$T_TMP/$1.json" "$2" <<'PY' || die "cannot write $1.json"
import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(d, open(sys.argv[2], "w"), ensure_ascii=False, indent=1)
PY
}

# ---- policy check: no pool needed ----
check_eq "check a good file" "$("$POOLCTL" policy check "$FIX" 2>&1)" \
	"ok: 2 departments, 1 entry, 1 grant"
check_eq "check --json" "$("$POOLCTL" policy check --json "$FIX" | "$PY" "$HELPERS/jsonq.py" get grants)" 1
check_eq "check reads standard input" "$("$POOLCTL" policy check - < "$FIX" 2>&1)" \
	"ok: 2 departments, 1 entry, 1 grant"

bad bad_entry 'd["grants"][0]["entry"] = "341800-X"'
bad bad_key 'd["colour"] = "red"'
bad bad_field 'd["grants"][0]["fields"].append("血型")'
bad bad_ident 'd["departments"][1]["members"]["uids"] = [1001]'
bad bad_mask 'd["grants"][0]["masks"] = {"身份证号": "rot13"}'
sed '$d' "$FIX" > "$T_TMP/bad_trunc.json"
while IFS='|' read -r name want; do
	check_rc "check $name.json exits 2" 2 "$POOLCTL" policy check "$T_TMP/$name.json"
	check_eq "check $name.json: one line naming the JSON path" "$(cat "$T_TMP/check.out")" \
		"poolctl: $T_TMP/$name.json: $want"
done <<'EOF'
bad_entry|grants[0].entry: no catalog entry with code "341800-X"
bad_key|colour: unknown key
bad_field|grants[0].fields[3]: entry "341800-GA-0001" has no field "血型"
bad_ident|departments[1].members.uids[0]: uid 1001 is already a member of department "gongan" (ambiguous identity)
bad_mask|grants[0].masks.身份证号: unknown mask "rot13"
EOF
check_rc "check a truncated file" 2 "$POOLCTL" policy check "$T_TMP/bad_trunc.json"
check_eq "a syntax error names line and column, on one line" \
	"$(grep -cE "^poolctl: $T_TMP/bad_trunc.json: line [0-9]+, column [0-9]+: " "$T_TMP/check.out"; \
	   wc -l < "$T_TMP/check.out")" "1
1"
check_rc "check a missing file" 2 "$POOLCTL" policy check "$T_TMP/nope.json"
check_eq "its message" "$(cat "$T_TMP/check.out")" \
	"poolctl: $T_TMP/nope.json: no such file or directory"
check_rc "check a directory" 2 "$POOLCTL" policy check "$T_TMP"
check_rc "check without FILE" 2 "$POOLCTL" policy check
check_rc "policy without a sub-command" 2 "$POOLCTL" policy
for c in apply export check; do
	check_rc "policy $c --help" 0 "$POOLCTL" policy "$c" --help
done
check_rc "explain --help" 0 "$POOLCTL" explain --help

# ---- a pool without a policy, no daemon ----
pool_init
check_rc "export before any apply" 2 pctl policy export
check_eq "its message" "$(cat "$T_TMP/check.out")" "poolctl: no policy applied"
check_rc "explain before any apply" 2 pctl explain --uid 1002 "$CSV"

# ---- through the daemon ----
# mounted allow_all (lib.sh's default, so pool_mount can stat the root):
# the apply below must replace that policy in the live mount
pool_mount
# stored while allow_all is in force, so the listing below needs nothing
# from the daemon but the policy switch itself
mkdir -p "$MNT/基础库/人口/户籍人口" || die "mkdir of the entry failed"
printf '身份证号,姓名,手机号,住址,区县\n341802199001011234,张三丰,13812345678,宣城市宣州区,宣州区\n' \
	> "$MNT$CSV" || die "writing $CSV failed"
if ! test -S "$STORE/control.sock"; then
	fail "poolfs serves no $STORE/control.sock: the policy checks through the daemon below fail"
fi
as_uid() { local u=$1; shift; setpriv --reuid "$u" --regid "$u" --clear-groups "$@"; }
# renshe (uid 1002) lists the entry: that needs grant g1 in the live policy
as_renshe() { timeout 20 setpriv --reuid 1002 --regid 2002 --clear-groups "$@"; }
reader_ls() { as_renshe ls "$MNT/基础库/人口/户籍人口"; }

check "apply --dry-run" pctl policy apply --dry-run "$FIX"
check_eq "dry run names the grant" "$(grep -c '^+ grant g1' "$T_TMP/check.out")" 1
check_rc "dry run stored nothing" 2 pctl policy export

check "apply through the daemon" pctl policy apply "$FIX"
check_eq "apply says which version" "$(tail -n1 "$T_TMP/check.out")" \
	"applied policy version 1 ($(($(wc -l < "$T_TMP/check.out") - 1)) changes): 2 departments, 1 entry, 1 grant"
pctl policy export > "$T_TMP/export.json" 2> "$T_TMP/export.err"
check_eq "export exits 0 ($(head -c 200 "$T_TMP/export.err"))" "$?" 0
check_same "export gives back the applied bytes" "$T_TMP/export.json" "$FIX"
check_eq "apply of the same document" "$(pctl policy apply "$FIX" 2>&1)" \
	"unchanged: policy version 1 is this document"
check_eq "the live mount follows the apply: renshe lists the entry" "$(reader_ls 2>&1)" "a.csv"
check_eq "renshe never gets the raw phone number" "$(as_renshe cat "$MNT$CSV" 2>&1 | grep -c 13812345678)" 0

check_rc "explain: renshe reads through g1" 0 pctl explain --uid 1002 "$CSV"
check_eq "explain names the grant" "$(grep -c '^grant: g1 ' "$T_TMP/check.out")" 1
check_eq "explain names the masks" "$(grep -c '^masks: 身份证号 hash' "$T_TMP/check.out")" 1
check_rc "explain: gongan reads raw as provider" 0 pctl explain --uid 1001 "$CSV"
check_rc "explain: a stranger is denied" 1 pctl explain --uid 4242 --gid 4242 "$CSV"
check_eq "explain says deny" "$(grep -c '^decision: deny' "$T_TMP/check.out")" 1
check_rc "explain: renshe may not write" 1 pctl explain --uid 1002 --action write "$CSV"
check_rc "explain: before the grant's window" 1 pctl explain --uid 1002 --at 2025-12-31 "$CSV"
check_eq "explain --json" "$(pctl explain --json --uid 1002 "$CSV" | "$PY" "$HELPERS/jsonq.py" get grant)" g1
check_rc "explain of a relative path" 2 pctl explain --uid 1002 a.csv

# ---- roles: nobody without one gets past the socket ----
check_rc "uid 1234 may not apply" 1 as_uid 1234 "$POOLCTL" -s "$STORE" policy apply "$T_TMP/p.json"
check_eq "the refusal names the role" "$(cat "$T_TMP/check.out")" \
	"poolctl: permission denied: policy apply needs the security_admin role"
check_rc "uid 1234 may not export" 1 as_uid 1234 "$POOLCTL" -s "$STORE" policy export
check_eq "the refusal prints no policy" "$(grep -c 'departments' "$T_TMP/check.out")" 0
check_rc "uid 1234 may not explain" 1 as_uid 1234 "$POOLCTL" -s "$STORE" explain --uid 1002 "$CSV"
check_rc "a department member is no admin" 1 \
	setpriv --reuid 1002 --regid 2002 --clear-groups "$POOLCTL" -s "$STORE" stats
check_rc "security_admin 1500 may apply" 0 \
	as_uid 1500 "$POOLCTL" -s "$STORE" policy apply --dry-run "$T_TMP/p.json"
check_rc "auditor 1501 may not apply" 1 as_uid 1501 "$POOLCTL" -s "$STORE" policy apply "$T_TMP/p.json"
check_eq "the auditor's refusal names the role" "$(cat "$T_TMP/check.out")" \
	"poolctl: permission denied: policy apply needs the security_admin role"
check_rc "auditor 1501 may export" 0 as_uid 1501 "$POOLCTL" -s "$STORE" policy export

# ---- separation of duties: a security_admin never makes itself a reader ----
bad sod_uid 'd["departments"][1]["members"]["uids"].append(1500)'
bad sod_drop 'd["roles"]["security_admin"]["uids"] = [0]; d["departments"][1]["members"]["uids"].append(1500)'
chmod 644 "$T_TMP/sod_uid.json" "$T_TMP/sod_drop.json"
check_rc "policy check refuses a role holder in a department" 2 \
	"$POOLCTL" policy check "$T_TMP/sod_uid.json"
sod_msg="departments[1].members.uids[1]: uid 1500 holds the security_admin role and may not be a member of department \"renshe\" (separation of duties: admin roles read no data)"
check_eq "one line naming the uid, the role and the department" "$(cat "$T_TMP/check.out")" \
	"poolctl: $T_TMP/sod_uid.json: $sod_msg"
check_rc "security_admin 1500 may not apply itself into renshe" 2 \
	as_uid 1500 "$POOLCTL" -s "$STORE" policy apply "$T_TMP/sod_uid.json"
check_eq "its message" "$(cat "$T_TMP/check.out")" "poolctl: $T_TMP/sod_uid.json: $sod_msg"
check_rc "nor drop its role and join renshe in one apply" 2 \
	as_uid 1500 "$POOLCTL" -s "$STORE" policy apply "$T_TMP/sod_drop.json"
check_eq "that message names the applier" "$(cat "$T_TMP/check.out")" \
	"poolctl: $T_TMP/sod_drop.json: the applying uid 1500 would be a member of department \"renshe\" (separation of duties: an admin never grants itself data)"
check_same "the policy in force is still the fixture" <(pctl policy export) "$FIX"
check_eq "the live mount still serves it: renshe lists the entry" "$(reader_ls 2>&1)" "a.csv"
check_fails "the security_admin reads nothing" as_uid 1500 cat "$MNT$CSV"
# a role holder whose group is a department's: only its credentials show it
check_fails "not even with renshe's gid as its primary group" \
	timeout 20 setpriv --reuid 1500 --regid 2002 --clear-groups cat "$MNT$CSV"
pctl audit query --json --op admin.policy.apply --uid 1500 > "$T_TMP/sod.audit" ||
	fail "cannot query the audit log"
check_eq "both refusals are in the audit log, failed, with the reason" "$("$PY" -c '
import json, sys
n = 0
for l in open(sys.argv[1]):
    if l.strip():
        d = json.loads(l)
        n += d["result"] == -22 and "separation of duties" in d.get("reason", "")
print(n)' "$T_TMP/sod.audit")" 2

# ---- a revocation reaches the live mount at once ----
bad revoked 'd["grants"] = []'
check "apply the revocation" pctl policy apply "$T_TMP/revoked.json"
check_eq "the diff names the grant" "$(grep -c '^- grant g1' "$T_TMP/check.out")" 1
check_fails "renshe can no longer list the entry" reader_ls
check_fails "nor read the file" as_renshe cat "$MNT$CSV"
check_rc "explain agrees" 1 pctl explain --uid 1002 "$CSV"
# root maps to no department now, so daemon_alive's stat would be denied
check "the daemon still runs" kill -0 "$POOLFS_PID"

# ---- without a daemon ----
pool_umount
check_eq "export without a daemon is the revocation" \
	"$(pctl policy export | "$PY" "$HELPERS/jsonq.py" get grants | tr -d ' \n')" "[]"
check "export --version 1 is the first document" sh -c \
	'"$1" -s "$2" policy export --version 1 | cmp -s - "$3"' _ "$POOLCTL" "$STORE" "$FIX"
check "apply without a daemon" pctl policy apply "$FIX"
check_rc "explain without a daemon" 0 pctl explain --uid 1002 "$CSV"
check_rc "apply of a broken file changes nothing" 2 pctl policy apply "$T_TMP/bad_entry.json"
check_eq "its message" "$(cat "$T_TMP/check.out")" \
	"poolctl: $T_TMP/bad_entry.json: grants[0].entry: no catalog entry with code \"341800-X\""
check_same "the policy in force is still the fixture" <(pctl policy export) "$FIX"
