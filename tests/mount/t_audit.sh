#!/usr/bin/env bash
# t_audit.sh - the audit log seen through poolctl on a live mount: real cp
# and cat show up with their uid, pid and process name; thousands of mixed
# operations leave a chain that verifies; kill -9 of the daemon in a write
# loop leaves one too; denials of a policy show up with --denied; only the
# auditor (and root) may look, and every look is itself recorded.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
t_setup

command -v setpriv > /dev/null || die "setpriv not found (util-linux): callers cannot be checked"
chmod o+x "$T_TMP"	# other uids reach the mount, STORE/control.sock and files here
AS_TIMEOUT=20

# jl KEY...: for each JSON line on stdin, the values of KEY... on one line
jl() {
	"$PY" -c '
import json, sys
for line in sys.stdin:
    if line.strip():
        d = json.loads(line)
        print(" ".join(str(d.get(k, "<none>")) for k in sys.argv[1:]))' "$@"
}

# aq ARGS...: `audit query --json ARGS` through pctl, errors to pctl.err
aq() { pctl audit query --json "$@" 2> "$T_TMP/pctl.err"; }

# verify_ok WHAT: audit verify exits 0 with the intact line
verify_ok() {
	local out rc
	out=$(pctl audit verify 2>&1)
	rc=$?
	check_eq "verify after $1 exits 0 ($(head -c 300 <<< "$out"))" "$rc" 0
	T_CHECKS=$((T_CHECKS + 1))
	grep -qE '^audit log intact: [0-9]+ records?, last seq [0-9]+$' <<< "$out" ||
		fail "verify after $1 printed '$out'"
	VERIFIED=$(sed -nE 's/^audit log intact: ([0-9]+) .*/\1/p' <<< "$out")
}

pool_init
pool_mount

# ---- real programs, their uid, pid and process name ----
mkdir -p "$MNT/d" || die "mkdir on the mount failed"
printf 'hello audit\n' > "$T_TMP/src.txt"
chmod 644 "$T_TMP/src.txt"
cp "$T_TMP/src.txt" "$MNT/d/a.txt" &
cp_pid=$!
wait "$cp_pid" || fail "cp into the mount failed"
# setpriv execs cat, so $! is cat's pid (no timeout(1) in between)
setpriv --reuid 1001 --regid 2001 --clear-groups cat "$MNT/d/a.txt" > "$T_TMP/cat.out" &
cat_pid=$!
wait "$cat_pid" || fail "cat as uid 1001 failed"
check_same "cat read what cp wrote" "$T_TMP/cat.out" "$T_TMP/src.txt"

check_eq "cp's create: uid, pid, process" "$(aq --op create --path /d/a.txt | jl uid pid comm)" \
	"0 $cp_pid cp"
check_eq "cp's write: 12 bytes, version 1" "$(aq --op write --path /d/a.txt | jl comm bytes version)" \
	"cp 12 1"
check_eq "cat's open: uid, pid, process" "$(aq --op open --path /d/a.txt --uid 1001 | jl uid gid pid comm)" \
	"1001 2001 $cat_pid cat"
check_eq "cat's session ends with the bytes read" \
	"$(aq --op release --path /d/a.txt --uid 1001 | jl pid bytes)" "$cat_pid 12"
# (metadata reads - lookup, getattr - are recorded too, coalesced: left out here)
check_eq "--path is the path and below" \
	"$(aq --path /d --uid 1001 | jl op | grep -cE '^(open|release)$')" 2
check_eq "--path /d/a does not match /d/a.txt" "$(aq --path /d/a | wc -l)" 0
check_eq "--since -10m finds the create" "$(aq --op create --since -10m | wc -l)" 1
check_eq "--until -10m does not" "$(aq --op create --until -10m | wc -l)" 0
since=$(date -u -d '-5 min' +%Y-%m-%dT%H:%M:%SZ)
check_eq "--since $since finds it" "$(aq --op create --since "$since" --path /d | wc -l)" 1
check_eq "--limit 1" "$(aq --limit 1 | wc -l)" 1

out=$(pctl audit query --op create --path /d/a.txt 2>&1)
check_eq "the table line names the process and the result" \
	"$(grep -c " uid=0 gid=0 pid=$cp_pid comm=cp .* op=create path=/d/a.txt result=ok" <<< "$out")" 1
out=$(pctl audit export --format syslog --op create --path /d/a.txt 2>&1)
check_eq "syslog export: one RFC 5424 line" "$(grep -cE '^<110>1 [0-9T:.-]+Z .* poolfs - audit \[poolfs@32473 .*comm="cp"' <<< "$out")" 1
check_eq "jsonl export is the stored record" \
	"$(pctl audit export --op create --path /d/a.txt | jl seq)" "$(aq --op create --path /d/a.txt | jl seq)"
key=$(pctl audit pubkey 2>&1)
check_eq "pubkey is 64 hex digits" "$(grep -cE '^[0-9a-f]{64}$' <<< "$key")" 1
check_eq "each look at the log is recorded" \
	"$(aq --op audit.export | jl uid comm | sort -u)" "0 poolctl"
check_rc "a bad --since exits 2" 2 pctl audit query --since yesterday
check_rc "an unknown option exits 2" 2 pctl audit query --frob
check_rc "no matches exits 0" 0 pctl audit query --op nothing-like-this

# ---- thousands of mixed operations ----
N=800
mkdir -p "$MNT/bulk"
for ((i = 0; i < N; i++)); do
	printf 'row %d\n' "$i" > "$MNT/bulk/f$i" || { fail "writing bulk/f$i failed"; break; }
done
for ((i = 0; i < N; i += 2)); do
	read -r _ < "$MNT/bulk/f$i" || { fail "reading bulk/f$i failed"; break; }
done
for ((i = 0; i < N; i += 8)); do
	mv "$MNT/bulk/f$i" "$MNT/bulk/g$i" || { fail "mv bulk/f$i failed"; break; }
done
rm -f "$MNT"/bulk/f1?? || fail "rm of bulk/f1?? failed"
ls -R "$MNT/bulk" > /dev/null || fail "ls -R of bulk failed"
check_eq "every create is recorded" "$(aq --path /bulk --op create | wc -l)" $N
check_eq "every read session is recorded" \
	"$(aq --path /bulk --op open | jl comm | sort | uniq -c | awk '{ print $1 }')" $((N / 2))
verify_ok "$((N * 4)) mixed operations"
T_CHECKS=$((T_CHECKS + 1))
[ "${VERIFIED:-0}" -ge 3000 ] || fail "verify counted ${VERIFIED:-none} records, want >= 3000"

# ---- kill -9 in a write loop ----
mkdir -p "$MNT/loop"
(
	for ((i = 0; ; i++)); do
		printf 'loop %d\n' "$i" > "$MNT/loop/f$((i % 40))" 2> /dev/null || exit 0
	done
) 2> /dev/null &
loop_pid=$!
for ((i = 0; i < 100; i++)); do
	[ "$(ls "$MNT/loop" 2> /dev/null | wc -l)" -ge 40 ] && break
	sleep 0.1
done
sleep 0.$((RANDOM % 5 + 3))
note "kill -9 of the daemon (pid $POOLFS_PID) during the write loop"
pool_kill9
wait_pid "$loop_pid" 30 > /dev/null
[ $? = 255 ] && { fail "the write loop hangs after the daemon died"; kill -KILL "$loop_pid"; }
# the last records were durable only in the journal: the open replays it
jold=$(ls "$STORE/journal" | grep '^audit\.')
[ -n "$jold" ] || fail "no journal file left by the killed daemon (ls: $(ls "$STORE/journal"))"
pool_mount
verify_ok "kill -9 and remount"
for f in $jold; do
	check "the open replayed and deleted journal/$f" test ! -e "$STORE/journal/$f"
done
check_eq "the open found the head where the records end" "$(aq --op audit_break | wc -l)" 0
T_CHECKS=$((T_CHECKS + 1))
[ "$(aq --path /loop --op write | wc -l)" -ge 40 ] || fail "fewer than 40 writes of the loop recorded"

# ---- denials under a policy ----
check_eq "no denials of uid 1002 yet" "$(aq --denied --uid 1002 | wc -l)" 0
CSV=/基础库/人口/户籍人口/a.csv
mkdir -p "$MNT/基础库/人口/户籍人口" || die "mkdir of the catalog entry failed"
printf '身份证号,姓名,手机号,住址,区县\n341802199001011234,张三丰,13812345678,宣城市宣州区,宣州区\n' \
	> "$MNT$CSV" || die "writing $CSV failed"
check "apply the policy through the daemon" pctl policy apply "$HELPERS/policy_basic.json"
# gongan (1001) provides the entry; renshe (1002) may not write it; uid
# 4242 is in no department
check "gongan reads its own entry" as 1001 2001 cat "$MNT$CSV"
as 1002 2002 sh -c 'echo x >> "$1"' _ "$MNT$CSV" 2> /dev/null && fail "renshe wrote $CSV"
as 1002 2002 touch "$MNT/基础库/人口/户籍人口/b.csv" 2> /dev/null && fail "renshe created b.csv"
as 4242 4242 ls "$MNT/d" > /dev/null 2>&1 && fail "uid 4242 listed /d without a department"
denied=$(aq --denied --uid 1002)
T_CHECKS=$((T_CHECKS + 1))
[ -n "$denied" ] || fail "renshe's denied read is not in audit query --denied"
check_eq "renshe's denials are permission denied" "$(jl result <<< "$denied" | sort -u)" -13
check_eq "renshe's denials name the department" "$(jl dept <<< "$denied" | sort -u)" renshe
check_eq "--denied --dept renshe agrees" "$(aq --denied --dept renshe | wc -l)" "$(wc -l <<< "$denied")"
T_CHECKS=$((T_CHECKS + 1))
[ "$(aq --denied --uid 4242 | wc -l)" -ge 1 ] || fail "uid 4242's denied listing is not recorded"
check_eq "gongan's read is no denial" "$(aq --denied --uid 1001 | wc -l)" 0
check_eq "--denied shows denials only" "$(aq --denied | jl result | sort -u | grep -cvE '^-(13|1)$')" 0

# ---- who may look ----
check_rc "auditor 1501 may query" 0 as 1501 1501 "$POOLCTL" -s "$STORE" audit query --op create
check_eq "the auditor sees the records" "$(grep -c 'op=create' "$T_TMP/check.out")" \
	"$(aq --op create | wc -l)"
check_rc "auditor 1501 may verify" 0 as 1501 1501 "$POOLCTL" -s "$STORE" audit verify
check_rc "security_admin 1500 may not query" 1 as 1500 1500 "$POOLCTL" -s "$STORE" audit query
check_eq "the refusal names the role" "$(cat "$T_TMP/check.out")" \
	"poolctl: permission denied: audit query needs the auditor role"
check_rc "security_admin 1500 may not export" 1 as 1500 1500 "$POOLCTL" -s "$STORE" audit export
check_eq "the refusal is recorded" \
	"$(aq --op admin.denied --uid 1500 | jl reason | sort -u)" \
	"audit export needs the auditor role
audit query needs the auditor role"
check_rc "renshe (no role) may not query" 1 as 1002 2002 "$POOLCTL" -s "$STORE" audit query
check_eq "the auditor's query is recorded with its uid" \
	"$(aq --op audit.query --uid 1501 | jl comm result)" "poolctl 0"
verify_ok "the policy and the denials"

# ---- without a daemon ----
pool_umount
verify_ok "unmount, without a daemon"
check_eq "pubkey without a daemon is the same" "$(pctl audit pubkey 2>&1)" "$key"
check_eq "query without a daemon" "$(aq --op create --path /d/a.txt | jl pid comm)" "$cp_pid cp"
