#!/usr/bin/env bash
# t_metaaudit.sh - metadata reads are audited with exact counts: N stat,
# getxattr, readlink, access or `ls -l` calls leave records whose counts
# sum to exactly N per operation, in far fewer records than calls; a
# flood of denials is counted exactly in a handful of records; the
# chain still verifies.
# timeout: 90
. "$(dirname "$0")/../lib.sh"
t_setup

FIX=$HELPERS/policy_access.json
GA=/基础库/人口/户籍人口		# gongan, conditional; renshe holds g1
KC() { timeout 60 "$PY" "$HELPERS/kcache.py" "$@" 2>&1; }
AS_TIMEOUT=20
t_setup_readers
t_fixture_people "$PUB/people.csv"

# sum OP PATH [UID]: the operations the log records, counts summed, and its records
sum() {
	pctl audit query --op "$1" --path "$2" --uid "$3" --json |
		"$PY" -c 'import json, sys
rs = [json.loads(l) for l in sys.stdin if l.strip()]
print(sum(r.get("count", 1) for r in rs), len(rs))'
}

pool_init
check "apply the fixture" pctl policy apply "$FIX"
POOLFS_OPTS=
pool_mount
check "gongan publishes" as 1001 2001 cp "$PUB/people.csv" "$MNT$GA/people.csv"
check "and a second file" as 1001 2001 cp "$PUB/people.csv" "$MNT$GA/stat.csv"
check "and a link" as 1001 2001 ln -s people.csv "$MNT$GA/link"
N=40
check_eq "renshe stats $N times" "$(KC repeat 1002:2002 stat "$MNT$GA/stat.csv" $N)" "ok=$N failed=0"
check_eq "reads user.poolfs.version $N times" \
	"$(KC repeat 1002:2002 getxattr "$MNT$GA/people.csv" $N)" "ok=$N failed=0"
check_eq "reads the link $N times" "$(KC repeat 1002:2002 readlink "$MNT$GA/link" $N)" "ok=$N failed=0"
check_eq "asks access() $N times" "$(KC repeat 1002:2002 access "$MNT$GA/people.csv" $N)" "ok=$N failed=0"
check "weijian publishes one file" as 1003 2003 cp "$PUB/people.csv" "$MNT/主题库/医疗/机构/org.csv"
L=15
for ((i = 0; i < L; i++)); do
	as 1002 2002 ls -l "$MNT/主题库/医疗/机构" > /dev/null || fail "renshe's ls -l failed"
done
M=3000
check_eq "a caller of no department is refused $M times" \
	"$(KC repeat 4242:4242 stat "$MNT/no-such-name" $M)" "ok=0 failed=$M"
pool_umount

read -r n recs <<< "$(sum getattr "$GA/stat.csv" 1002)"
check_eq "getattr: the counts sum to the stats" "$n" "$N"
check_eq "in fewer records than stats" "$([ "$recs" -lt "$N" ] && echo yes)" yes
read -r n recs <<< "$(sum getxattr "$GA/people.csv" 1002)"
check_eq "getxattr: the counts sum to the calls" "$n" "$N"
read -r n recs <<< "$(sum readlink "$GA/link" 1002)"
check_eq "readlink: the counts sum to the calls" "$n" "$N"
read -r n recs <<< "$(sum access "$GA/people.csv" 1002)"
check_eq "access: the counts sum to the calls" "$n" "$N"
read -r n recs <<< "$(sum getattr "/主题库/医疗/机构/org.csv" 1002)"
check_eq "ls -l: one getattr per listing of the file" "$n" "$L"
read -r n recs <<< "$(sum lookup /no-such-name 4242)"
check_eq "the denials are counted exactly" "$n" "$M"
note "$M denials in $recs records"
check_eq "in a handful of records" "$([ "$recs" -gt 0 ] && [ $((recs * 20)) -lt "$M" ] && echo yes)" yes
check_eq "query shows the count" \
	"$(pctl audit query --uid 4242 --path /no-such-name | grep -c ' count=' | awk '{ print ($1 > 0) }')" 1
check "the audit chain is intact" pctl audit verify
