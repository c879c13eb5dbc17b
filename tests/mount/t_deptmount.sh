#!/usr/bin/env bash
# t_deptmount.sh - a department mount (-o dept=ID) serves only the callers
# the policy maps to that department (DESIGN.md "Identity"): a member
# reads as the department, a caller of another department and a uid of
# none are denied and recorded, also right after a member's access (no
# kernel cache answers them), and root may still stat and statfs the
# mount root without reading data.
# timeout: 60
. "$(dirname "$0")/../lib.sh"
t_setup

FIX=$HELPERS/policy_access.json
GA=/基础库/人口/户籍人口		# gongan, conditional; renshe holds g1
SECRET=/基础库/人口/在逃人员		# gongan, share none
KC() { timeout 60 "$PY" "$HELPERS/kcache.py" "$@" 2>&1; }
AS_TIMEOUT=20
sysop_as() { local u=$1 g=$2; shift 2; as "$u" "$g" "$UPY" "$HELPERS/sysop.py" "$@" 2>&1; }
t_setup_readers
t_fixture_people "$PUB/people.csv"

pool_init
check "apply the fixture" pctl policy apply "$FIX"
POOLFS_OPTS=dept=gongan
pool_mount
check "a member of gongan publishes" as 1001 2001 cp "$PUB/people.csv" "$MNT$GA/people.csv"
check_same "and reads raw" <(as 1001 2001 cat "$MNT$GA/people.csv") "$PUB/people.csv"
check "a member by group only is served too" as 5000 2001 cat "$MNT$GA/people.csv"
check_eq "renshe is not served by gongan's mount" "$(sysop_as 1002 2002 read "$MNT$GA/people.csv")" EACCES
check_eq "nor sees its share-none entry" "$(sysop_as 1002 2002 stat "$MNT$SECRET")" EACCES
check_eq "a caller of no department reads nothing" "$(sysop_as 4242 4242 read "$MNT$GA/people.csv")" EACCES
check_fails "nor lists the root" as 4242 4242 ls "$MNT"
check_eq "root has no data right on it" "$(sysop_as 0 0 read "$MNT$GA/people.csv")" EACCES
check_eq "no kernel cache answers renshe after gongan's stat" \
	"$(KC race 1001:2001 1002:2002 "$MNT$GA/people.csv" 5)" 0
check_eq "nor a caller of no department" "$(KC race 1001:2001 4242:4242 "$MNT$SECRET" 5)" 0
check "root may stat the mount root" as 0 0 stat "$MNT"
check_eq "and statfs it" "$(KC statfs 0:0 "$MNT" | cut -c1-2)" OK
check_eq "a caller of no department may not statfs" "$(KC statfs 4242:4242 "$MNT")" EACCES
pool_umount
n=$(pctl audit query --uid 1002 --denied --json | wc -l)
check_eq "renshe's denials are recorded" "$([ "$n" -gt 0 ] && echo yes)" yes
check_eq "they say why" \
	"$(pctl audit query --uid 1002 --denied | grep -c 'not served by the mount of department' | awk '{ print ($1 > 0) }')" 1
check "the audit chain is intact" pctl audit verify
