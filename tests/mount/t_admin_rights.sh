#!/usr/bin/env bash
# t_admin_rights.sh - the three admins (三员分立: uids 1500-1502) against a
# live plain pool, as people who must learn no content and hold one role
# each: `versions --json` names a version's content by a keyed tag, not by
# the hash of its bytes (with which any admin could confirm a guess of a
# one-person file); a policy that puts one uid or gid in two roles is
# refused by check and by apply; a caller whose uid holds one role and a
# group of its another acts in none.
# timeout: 180
. "$(dirname "$0")/../lib.sh"
t_setup
t_setup_readers

CSV=/基础库/人口/户籍人口/a.csv
FIX=$T_TMP/p.json
# roles.py OUT SEC AUD SYS: policy_basic with those role objects (JSON)
roles() {
	"$PY" - "$HELPERS/policy_basic.json" "$@" <<'PY' || die "cannot write a policy"
import json, sys
d = json.load(open(sys.argv[1]))
d["roles"] = {"security_admin": json.loads(sys.argv[3]), "auditor": json.loads(sys.argv[4]),
              "system_admin": json.loads(sys.argv[5])}
json.dump(d, open(sys.argv[2], "w"), ensure_ascii=False, indent=1)
PY
	chmod 0644 "$2"
}
roles "$FIX" '{"uids": [0, 1500]}' '{"uids": [0, 1501]}' '{"uids": [0, 1502]}'
pool_init "$STORE" --cipher none
check "apply the policy" pctl policy apply "$FIX"
POOLFS_OPTS=
pool_mount "$STORE" "$MNT"
printf '身份证号,姓名,手机号,住址,区县\n341802199001011234,张三,13800000000,x,宣州区\n' > "$PUB/p.csv"
check "gongan publishes a one-person file" asA cp "$PUB/p.csv" "$MNT$CSV"

ua() { local u=$1; shift; as "$u" "$u" "$POOLCTL" -s "$STORE" "$@"; }

# ---- versions: no hash of the bytes ----
# the content id a plain pool stores: sha256 over the page hashes, a page
# being format 1 and (sha256 of the chunk, be32 length); one chunk here
guess=$("$PY" - "$PUB/p.csv" <<'PY'
import hashlib, struct, sys
d = open(sys.argv[1], "rb").read()
page = b"\x01" + hashlib.sha256(d).digest() + struct.pack(">I", len(d))
print(hashlib.sha256(hashlib.sha256(page).digest()).hexdigest())
PY
)
ids() { "$PY" -c 'import json,sys; print(" ".join(v["content_id"] for v in json.load(sys.stdin)["versions"]))'; }
for u in 1500 1501 1502; do
	out=$(ua $u versions --json "$CSV" | ids)
	check_eq "uid $u: versions --json answers" "${#out}" 32
	case "$out" in *"${guess:0:32}"*) fail "uid $u: versions prints the hash of the bytes ($out)" ;; esac
	case "$guess" in *"$out"*) fail "uid $u: versions prints part of the hash of the bytes" ;; esac
done
check "system_admin restores version 1 (equal content)" ua 1502 restore "$CSV" --version 1
set -- $(ua 1501 versions --json "$CSV" | ids)
check_eq "equal content, equal tag" "$1" "$2"

# ---- one role each ----
roles "$T_TMP/two.json" '{"uids": [0, 1500]}' '{"uids": [0, 1501]}' '{"uids": [0, 1502, 1500]}'
out=$("$POOLCTL" policy check "$T_TMP/two.json" 2>&1)
check_eq "a uid in two roles: policy check exit 2" "$?" 2
check_eq "it names the place and the rule" "$out" \
	"poolctl: $T_TMP/two.json: roles.system_admin.uids[2]: uid 1500 holds the security_admin role too (separation of duties: each admin holds one role)"
check_rc "the security_admin cannot make itself system_admin" 2 ua 1500 policy apply "$T_TMP/two.json"
check_eq "the policy in force is still version 1" "$(pctl status --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["policy_version"])')" 1
roles "$T_TMP/gid2.json" '{"uids": [0, 1500], "gids": [1600]}' '{"uids": [0, 1501]}' '{"uids": [0, 1502], "gids": [1600]}'
check_rc "a gid in two roles: policy check exit 2" 2 "$POOLCTL" policy check "$T_TMP/gid2.json"
check "root may hold them all" "$POOLCTL" policy check "$FIX"

# a uid in one role whose group holds another: refused as both
roles "$T_TMP/grp.json" '{"uids": [0, 1500]}' '{"uids": [0, 1501]}' '{"uids": [0], "gids": [1601]}'
check "a policy with the system_admin role by group" pctl policy apply "$T_TMP/grp.json"
ug() { timeout 60 setpriv --reuid "$1" --regid "$1" --groups "$2" "$POOLCTL" -s "$STORE" "${@:3}"; }
check "the group's member alone is system_admin" ug 1503 1601 status
check_rc "the auditor in that group may not restore" 1 ug 1501 1601 restore "$CSV" --version 1
check_rc "nor query the log" 1 ug 1501 1601 audit query
check "the auditor outside the group queries" ua 1501 audit query --limit 1
check_eq "the refusal says why" "$(pctl audit query --json --op admin.denied --uid 1501 | "$PY" -c '
import json, sys
print([json.loads(l)["reason"] for l in sys.stdin if l.strip()][-1])')" \
	"control socket: caller holds no admin role, or more than one"
check_eq "versions are 2: no restore by the two-role caller" "$(ua 1501 versions --json "$CSV" | ids | wc -w)" 2

# ---- a system_admin's backup is root's alone ----
check "uid 1502 is system_admin again" pctl policy apply "$FIX"
DEST=$T_TMP/dest
mkdir -m 0755 "$DEST" || die "mkdir $DEST"
check "system_admin backs the pool up through the daemon" ua 1502 backup create "$DEST"
check_eq "files of the backup the system_admin may read" \
	"$(as 1502 1502 find "$DEST" -type f -readable 2> /dev/null | wc -l)" 0
check_fails "nor holds a value for it" as 1502 1502 grep -rq 341802199001011234 "$DEST"
check_fails "it cannot restore the backup where it is a member" \
	as 1502 1502 "$POOLCTL" backup restore "$DEST" --id 1 "$PUB/mine"
check_fails "nor prune it" as 1502 1502 "$POOLCTL" backup prune "$DEST" --keep 0
[ -e "$PUB/mine" ] && fail "a failed restore left $PUB/mine"

# ---- a pool put back from an older backup: the auditor is told ----
check "a newer version after the backup" ua 1502 restore "$CSV" --version 1
pctl audit anchor > "$T_TMP/anchor" || die "audit anchor"
pool_umount "$MNT"
check "root restores the backup" "$POOLCTL" backup restore "$DEST" --id 1 "$T_TMP/old"
mv "$STORE" "$T_TMP/newer" && mv "$T_TMP/old" "$STORE" || die "cannot swap the store"
out=$(pctl audit verify)
check_eq "verify: the chain is intact" "$?" 0
check_eq "verify names the rollback and the backup" \
	"$(sed -n 2p <<< "$out" | sed "s/ (.*): restored / restored /" | cut -d" " -f1-12)" \
	"rolled back at seq $(pctl audit query --json --op backup_restore | "$PY" -c 'import json,sys; print(json.loads(sys.stdin.readline())["seq"])') restored from backup 1 of $DEST taken"
check_eq "and in JSON" "$(pctl audit verify --json | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["restores"]))')" 1
check_rc "the anchor kept from before says no" 1 pctl audit verify --anchor "$T_TMP/anchor"
