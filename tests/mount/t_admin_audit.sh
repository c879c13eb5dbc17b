#!/usr/bin/env bash
# t_admin_audit.sh - the admin surface as the log sees it: every command an
# admin runs through the control socket leaves a record naming the caller,
# the command and how it ended, also the read-only ones (status, stats,
# crypto, share, policy check) and those that fail before their own record
# (a restore of a version that does not exist, a refused policy apply, an
# unknown option); a local user in no role hammering the socket adds a
# couple of coalesced records whose counts sum to every try, and the
# daemon keeps serving.
# timeout: 240
. "$(dirname "$0")/../lib.sh"
t_setup
t_setup_readers

CSV=/基础库/人口/户籍人口/a.csv
FIX=$T_TMP/p.json
"$PY" - "$HELPERS/policy_basic.json" "$FIX" <<'PY' || die "cannot write the policy"
import json, sys
d = json.load(open(sys.argv[1]))
d["roles"] = {"security_admin": {"uids": [0, 1500]}, "auditor": {"uids": [0, 1501]},
              "system_admin": {"uids": [0, 1502]}}
json.dump(d, open(sys.argv[2], "w"), ensure_ascii=False, indent=1)
PY
printf '{"version": 1, "colour": "red"}\n' > "$T_TMP/bad.json"
chmod 0644 "$FIX" "$T_TMP/bad.json"
pool_init "$STORE" --cipher none
check "apply the policy" pctl policy apply "$FIX"
POOLFS_OPTS=
pool_mount "$STORE" "$MNT"
t_fixture_people "$PUB/people.csv" wide
check "gongan publishes" asA cp "$PUB/people.csv" "$MNT$CSV"
[ -S "$STORE/control.sock" ] || die "no control socket"

ua() { local u=$1; shift; as "$u" "$u" "$POOLCTL" -s "$STORE" "$@"; }
# recs OP UID: the admin records of OP by UID, one line each: "result|reason"
recs() {
	pctl audit query --json --op "$1" --uid "$2" | "$PY" -c '
import json, sys
for l in sys.stdin:
    if l.strip():
        d = json.loads(l)
        print("%s|%s" % (d["result"], d.get("reason", "")))'
}

# ---- allowed commands that print state: each one recorded ----
check "system_admin: status" ua 1502 status
check "system_admin: stats" ua 1502 stats --json
check "auditor: crypto" ua 1501 crypto
check "system_admin: share smb" ua 1502 share smb --mount "$MNT"
check "security_admin: policy check" ua 1500 policy check "$T_TMP/p.json"
for c in "status 1502" "stats 1502" "crypto 1501" "share 1502" "policy.check 1500"; do
	c=admin.$c
	set -- $c
	check_eq "$1 by uid $2 is in the log" "$(recs "$1" "$2" | wc -l)" 1
done
check_eq "the record names the command's words and exit" \
	"$(recs admin.share 1502 | cut -d'|' -f2)" \
	"poolctl via control socket: share smb --mount $MNT; exit 0"

# ---- commands that fail before their own record ----
check_rc "restore of a version that does not exist" 2 ua 1502 restore "$CSV" --version 99
check_eq "it is in the log, failed, with the message" "$(recs admin.restore 1502)" \
	"-22|poolctl via control socket: restore $CSV --version 99; exit 2: poolctl: \"$CSV\": no version 99 (see poolctl versions)"
check_rc "security_admin applies a broken policy" 2 ua 1500 policy apply "$T_TMP/bad.json"
check_eq "the refused apply is in the log" "$(recs admin.policy.apply 1500 | cut -d'|' -f1)" -22
check_rc "versions of a missing file" 2 ua 1501 versions /基础库/nope.csv
check_eq "it is in the log" "$(recs admin.versions 1501 | cut -d'|' -f1)" -22
check_rc "an unknown option" 2 ua 1502 stats --bogus
check_eq "it is in the log" "$(recs admin.stats 1502 | tail -n1 | cut -d'|' -f1)" -22
check_rc "an auditor may not apply" 1 ua 1501 policy apply "$FIX"
check_eq "the refusal is in the log" "$(recs admin.denied 1501 | cut -d'|' -f2)" \
	"policy apply needs the security_admin role"

# ---- odd words: one line back, recorded ----
out=$(ua 1501 versions "$(printf '/a\nforged: ok\e[2J\xc2\x9b2J')" 2>&1)
check_eq "a path with a newline and an escape: exit 2, one line" "$?|$(wc -l <<< "$out")" "2|1"
check_eq "its control bytes shown, not sent" "$out" \
	'poolctl: "/a\x0aforged: ok\x1b[2J\xc2\x9b2J": no such file or directory'
# poolctl's own messages (a FILE it reads, an option) are one line too
out=$(ua 1500 policy check "$(printf '%s/no\nforged: ok' "$T_TMP")" 2>&1)
check_eq "a FILE with a newline: exit 2, one line" "$?|$(wc -l <<< "$out")" "2|1"
out=$("$POOLCTL" "$(printf -- '--x\nforged: ok')" status 2>&1)
check_eq "an option with a newline: exit 2, one line" "$?|$out" \
	'2|poolctl: unknown option "--x\x0aforged: ok" (see poolctl --help)'
as 1501 1501 "$UPY" - "$STORE/control.sock" <<'PY' > "$T_TMP/bad.out" || fail "the bad request did not run"
import json, socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
b = json.dumps({"v": 2, "argv": ["status"]}).encode()
s.sendall(struct.pack(">I", len(b)) + b)
n = struct.unpack(">I", s.recv(4, socket.MSG_WAITALL))[0]
print(json.loads(s.recv(n, socket.MSG_WAITALL))["stderr"], end="")
PY
check_eq "a request of an unknown protocol: one line" "$(cat "$T_TMP/bad.out")" \
	"poolctl: request.v: only protocol version 1 is known"
check_eq "it is in the log" "$(recs admin.request 1501)" \
	"-22|poolctl via control socket: poolctl: request.v: only protocol version 1 is known"

# a department names a file as it likes: a newline and a forged record,
# a C1 CSI (U+009B, which xterm and VTE obey); the auditor's export for
# another system and its table on a terminal keep one line per record
NAME=$(printf 'n\n<110>1 2026-01-01T00:00:00.000000Z h poolfs - audit [poolfs@32473 op="policy.apply"] forged ok \xc2\x9b2J')
check "gongan names a file so" asA touch "$MNT/基础库/人口/户籍人口/$NAME"
nrec=$(ua 1501 audit query --json --op create --uid 1001 | wc -l)
for f in "export --format syslog" "query"; do
	out=$(ua 1501 audit $f --op create --uid 1001 2>&1)
	check_eq "audit $f: one line a record (the name's newline escaped)" \
		"$(wc -l <<< "$out")" "$nrec"
	check_eq "audit $f: no C1 control sent" "$(grep -c $'\xc2\x9b' <<< "$out")" 0
	check_eq "audit $f: the name shown" "$(grep -c 'n\\x0a<110>1 2026' <<< "$out")" 1
done

# ---- a local user in no role hammers the socket ----
TRIES=400
as 1234 1234 "$UPY" - "$STORE/control.sock" "$TRIES" <<'PY' || fail "the flood did not run"
import socket, struct, sys
for _ in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    n = struct.unpack(">I", s.recv(4, socket.MSG_WAITALL))[0]
    body = s.recv(n, socket.MSG_WAITALL)
    assert b"permission denied" in body, body
    s.close()
PY
check "an admin is still served" ua 1501 stats
pctl audit query --json --op admin.denied --uid 1234 > "$T_TMP/flood.json" ||
	fail "cannot query the refusals"
read -r nrec total < <("$PY" -c '
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(len(rs), sum(r.get("count", 1) for r in rs))' "$T_TMP/flood.json")
check_eq "every try is counted" "$total" "$TRIES"
T_CHECKS=$((T_CHECKS + 1))
[ "$nrec" -lt $((TRIES / 4)) ] ||
	fail "$TRIES refused connects left $nrec records: repeats are not coalesced"
check "the chain verifies" pctl audit verify
check "the daemon still runs" kill -0 "$POOLFS_PID"
