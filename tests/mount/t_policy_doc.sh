#!/usr/bin/env bash
# t_policy_doc.sh - whoever holds the store of a plain pool cannot change
# the policy in force by editing its document: the newest version's
# document replaced with the older, wider one (renshe's revoked grant
# back) under the same version number keeps the history's numbers whole,
# so only the document's mark in its policy.apply record can tell.
# `audit verify` fails naming the version; an intact pool verifies. In
# an encrypted pool the document is sealed to its version: poolfs
# denies every request, and verify names the version too.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup
command -v ldb > /dev/null || die "ldb not found (Debian rocksdb-tools; scripts/deps.sh installs it)"

FIX=$HELPERS/policy_basic.json
"$PY" - "$FIX" "$T_TMP/revoked.json" <<'PY' || die "cannot write the revoking policy"
import json, sys
d = json.load(open(sys.argv[1]))
d["grants"] = []
json.dump(d, open(sys.argv[2], "w"), ensure_ascii=False)
PY

# put_back: version 2's document replaced with version 1's
put_back() {
	local v1
	v1=$(ldb --db="$STORE/db" --column_family=policy --key_hex --value_hex get 0x0000000000000001 2>&1) ||
		die "ldb get failed: $v1"
	ldb --db="$STORE/db" --column_family=policy --key_hex --value_hex put 0x0000000000000002 "$v1" \
		> "$T_TMP/ldb.out" 2>&1 || die "ldb put failed: $(cat "$T_TMP/ldb.out")"
}

for cipher in none aes-256-gcm; do
	rm -rf "$STORE"
	if [ $cipher = none ]; then pool_init "$STORE" --cipher none; else pool_init; fi
	check "$cipher: apply version 1 (renshe holds g1)" pctl policy apply "$FIX"
	check "$cipher: apply version 2 (g1 revoked)" pctl policy apply "$T_TMP/revoked.json"
	check_rc "$cipher: the intact pool verifies" 0 pctl audit verify
	put_back
	if [ $cipher = none ]; then
		check_eq "plain: the put-back document is in force" \
			"$(pctl policy export | grep -c '"g1"')" 1
	else
		POOLFS_OPTS= pool_mount
		check_eq "sealed: poolfs serves no policy" \
			"$(grep -c 'cannot read the policy.*every request is denied' "${T_LOG[$MNT]}")" 1
		pool_umount
	fi
	out=$(pctl audit verify 2>&1)
	check_eq "$cipher: audit verify fails on the put-back document ($out)" "$?" 1
	check_eq "$cipher: and names version 2" "$(grep -c 'policy version 2' <<< "$out")" 1
done
