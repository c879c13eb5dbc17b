#!/usr/bin/env bash
# t_policy_rollback.sh - whoever holds the store cannot roll the policy
# back unnoticed: the policy in force is the newest stored version, so
# deleting the newest versions with ldb puts an older, wider one in force
# (here: renshe's revoked grant is back). audit verify holds the policy
# history to the policy.apply records (each stored in its version's
# batch) and fails, naming the missing version; so does a version
# added without a record. An intact pool still verifies.
# timeout: 90
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
pool_mount
if asB cat "$MNT$GA/a.csv" > /dev/null 2>&1; then
	note "the rolled-back policy is in force: renshe reads again until the auditor verifies"
fi
pool_umount
out=$(pctl audit verify 2>&1)
check_eq "audit verify fails on the rolled-back policy ($out)" "$?" 1
check_eq "and names the missing version" "$(grep -c 'policy version 2.*missing' <<< "$out")" 1

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
