#!/usr/bin/env bash
# t_policy_rollback.sh - whoever holds the store cannot roll the policy
# back: deleting the newest versions with ldb would put an older, wider
# one in force (here: renshe's revoked grant back). Every audit record
# names the policy version in force, so poolfs compares the newest
# stored version with the log's last record at start and refuses to
# serve (exit 2, one line, a policy.check record) when they differ, also
# when the log's tail was cut away with the version (the break at open
# leaves the version in force unknown); `poolctl policy apply` makes them
# agree again. audit verify holds the whole history to the policy.apply
# records and fails, naming the missing version; so does a version added
# without a record. An intact pool still verifies.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup
command -v ldb > /dev/null || die "ldb not found (Debian rocksdb-tools; scripts/deps.sh installs it)"
t_setup_readers

FIX=$HELPERS/policy_basic.json
GA=/基础库/人口/户籍人口

pool_init
check "apply version 1 (renshe holds g1)" pctl policy apply "$FIX"
"$PY" - "$FIX" "$T_TMP/revoked.json" <<'PY' || die "cannot write the revoking policy"
import json, sys
d = json.load(open(sys.argv[1]))
d["grants"] = []
json.dump(d, open(sys.argv[2], "w"), ensure_ascii=False)
PY
t_fixture_people "$PUB/a.csv" wide
POOLFS_OPTS=
pool_mount
check "gongan publishes" asA cp "$PUB/a.csv" "$MNT$GA/a.csv"
check "renshe reads under g1" asB cat "$MNT$GA/a.csv"
check "apply version 2 (g1 revoked)" pctl policy apply "$T_TMP/revoked.json"
check_fails "renshe is refused after the revocation" asB cat "$MNT$GA/a.csv"
pool_umount
check_rc "the intact pool verifies" 0 pctl audit verify
cp -a "$STORE" "$T_TMP/store.intact" || die "cp -a of the store failed"

# ---- the newest version deleted ----
ldb --db="$STORE/db" --column_family=policy --key_hex delete 0x0000000000000002 \
	> "$T_TMP/ldb.out" 2>&1 || die "ldb delete failed: $(cat "$T_TMP/ldb.out")"
# refused DESC: poolfs must refuse to serve the store: exit 2, one line why
refused() {
	local desc=$1 out rc
	out=$(timeout 30 "$POOLFS" "$STORE" "$MNT" -f 2>&1)
	rc=$?
	if is_mounted "$MNT"; then
		fusermount3 -u "$MNT" 2> /dev/null || umount -l "$MNT"
	fi
	check_eq "$desc: poolfs refuses to serve ($out)" "$rc" 2
	# a break found at open has its own line before it
	check_eq "$desc: one line saying so" "$(tail -n1 <<< "$out" | grep -c 'not serving')" 1
	LAST_OUT=$out
}
refused "newest version deleted"
check_eq "it names both versions" "$(grep -c 'newest policy version stored is 1 but the audit log says version 2' <<< "$LAST_OUT")" 1
check_eq "the refusal is recorded" "$(pctl audit query --json --op policy.check | grep -c '"result":-74')" 1
out=$(pctl audit verify 2>&1)
check_eq "audit verify fails on the rolled-back policy ($out)" "$?" 1
check_eq "and names the missing version" "$(grep -c 'policy version 2.*missing' <<< "$out")" 1

# ---- applying the policy again makes the history and the log agree ----
check "apply the revoking policy again" pctl policy apply "$T_TMP/revoked.json"
pool_mount
check_fails "renshe is refused under the policy applied again" asB cat "$MNT$GA/a.csv"
pool_umount

# ---- the newest version deleted with the log's tail from its policy.apply on ----
rm -rf "$STORE"
cp -a "$T_TMP/store.intact" "$STORE" || die "cannot put the intact store back"
seq2=$(pctl audit query --json --op policy.apply | "$PY" -c '
import json, sys
print([json.loads(l)["seq"] for l in sys.stdin if json.loads(l)["version"] == 2][0])') ||
	die "no policy.apply record of version 2"
ldb --db="$STORE/db" --column_family=policy --key_hex delete 0x0000000000000002 \
	> "$T_TMP/ldb.out" 2>&1 || die "ldb delete failed: $(cat "$T_TMP/ldb.out")"
ldb --db="$STORE/db" --column_family=audit --key_hex deleterange "$(printf '0x%016X' "$seq2")" \
	0xFFFFFFFFFFFFFFFF > "$T_TMP/ldb.out" 2>&1 || die "ldb deleterange failed: $(cat "$T_TMP/ldb.out")"
refused "the log cut at the policy.apply"
check_eq "it says the version in force is unknown" "$(grep -c 'no longer says which policy version' <<< "$LAST_OUT")" 1
refused "and again at the next start"
check "apply the revoking policy again" pctl policy apply "$T_TMP/revoked.json"
pool_mount
check_fails "renshe is refused under the policy applied again" asB cat "$MNT$GA/a.csv"
pool_umount

# ---- a version added without a policy.apply record ----
rm -rf "$STORE"
cp -a "$T_TMP/store.intact" "$STORE" || die "cannot put the intact store back"
v1=$(ldb --db="$STORE/db" --column_family=policy --key_hex --value_hex get 0x0000000000000001 2>&1) ||
	die "ldb get failed: $v1"
ldb --db="$STORE/db" --column_family=policy --key_hex --value_hex put 0x0000000000000003 "$v1" \
	> "$T_TMP/ldb.out" 2>&1 || die "ldb put failed: $(cat "$T_TMP/ldb.out")"
out=$(pctl audit verify 2>&1)
check_eq "audit verify fails on a version no record applied ($out)" "$?" 1
check_eq "and names it" "$(grep -c 'policy version 3 is stored' <<< "$out")" 1
refused "a version added"
