#!/usr/bin/env bash
# t_denial_flood.sh - a caller refused on many different names cannot make
# the audit log grow by one record per name: past 64 refused names of one
# caller in a second the rest are counted under one record per key with
# the path left out (fs/coalesce.c). Every refusal is still counted, and
# the first names of each second are still recorded.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup

N=3000
pool_init "$STORE" --cipher none
check "apply the fixture" pctl policy apply "$HELPERS/policy_leaks.json"
POOLFS_OPTS=
pool_mount

# uid 4242 is in no department: every name is EACCES
chmod o+x "$T_TMP"
as 4242 4242 /usr/bin/python3 - "$MNT" "$N" > "$T_TMP/flood.out" 2>&1 <<'PY'
import errno, os, sys, time
mnt, n = sys.argv[1], int(sys.argv[2])
t0 = time.time()
refused = 0
for i in range(n):
    try:
        os.stat("%s/no-such-name-%d" % (mnt, i))
    except OSError as e:
        refused += e.errno == errno.EACCES
print(refused, int(time.time() - t0) + 1)
PY
read -r refused secs < "$T_TMP/flood.out"
check_eq "every stat is refused" "$refused" "$N"

# records of uid 4242: operations (counts summed), records, folded records,
# and records that name a path
pctl audit query --uid 4242 --json > "$T_TMP/q.json" || die "audit query failed"
read -r ops recs folded named <<< "$("$PY" -c 'import json, sys
rs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(sum(r.get("count", 1) for r in rs), len(rs),
      sum("path not recorded" in r.get("reason", "") for r in rs),
      sum(r.get("path", "").startswith("/no-such-name-") for r in rs))' "$T_TMP/q.json")"
check_eq "every refusal is counted" "$ops" "$N"
# 64 names a second, and a folded record or two per second, over the run's seconds
bound=$(((secs + 2) * 70))
check_eq "the log grew by at most ~70 records a second ($recs in $secs s)" \
	"$([ "$recs" -le "$bound" ] && echo bounded)" bounded
check_eq "the names past the first ones are folded" "$([ "$folded" -ge 1 ] && echo yes)" yes
check_eq "the first names are recorded" "$([ "$named" -ge 64 ] && echo yes)" yes

pool_umount
