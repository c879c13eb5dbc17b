#!/usr/bin/env bash
# t_held_dirs.sh - a directory handle held across a policy change is
# decided again (DESIGN.md "Policy": a revoked grant stops the next
# read of what is already open; "Reads and views": nothing inside an
# entry is visible by name to a caller that may not list it): renshe
# opens the entry it reads through g1, that file's .versions directory
# and the directory above the entry while g1 holds, and lists nothing
# yet; after an apply that revokes g1 and g2 and makes 流动人口 (g2)
# share-none, a readdir on each held handle of the entry gives no name
# (EACCES, audited), and the held handle above it leaves 流动人口 out.
# timeout: 60
. "$(dirname "$0")/../lib.sh"
t_setup
t_setup_readers

FIX=$HELPERS/policy_views.json
GA=/基础库/人口/户籍人口		# gongan; renshe reads through g1
UP=/基础库/人口			# above GA and 流动人口 (renshe's g2)

"$PY" - "$FIX" "$T_TMP/revoked.json" <<'PY' || die "cannot write the policy"
import json, sys
d = json.load(open(sys.argv[1]))
d["grants"] = []
for e in d["catalog"]:
    if e["code"] == "341800-GA-0002":
        e["share"] = "none"
json.dump(d, open(sys.argv[2], "w"), ensure_ascii=False)
PY
t_fixture_people "$PUB/people.csv" wide

pool_init
check "apply the fixture" pctl policy apply "$FIX"
POOLFS_OPTS=
pool_mount
check "gongan publishes" asA cp "$PUB/people.csv" "$MNT$GA/people-张三丰.csv"

# renshe opens the three directories, then lists each after the apply
rm -f "$PUB/ready" "$PUB/go"
asB "$UPY" - "$MNT$GA" "$MNT$GA/.versions/people-张三丰.csv" "$MNT$UP" \
	"$PUB/ready" "$PUB/go" "$HELPERS" > "$T_TMP/held.out" 2>&1 <<'PY' &
import errno, os, sys, time
sys.path.insert(0, sys.argv[6])
from testutil import dir_names

dirs = sys.argv[1:4]
fds = [os.open(d, os.O_RDONLY | os.O_DIRECTORY) for d in dirs]
open(sys.argv[4], "w").close()
while not os.path.exists(sys.argv[5]):
    time.sleep(0.05)
for d, fd in zip(dirs, fds):
    try:
        print(os.path.basename(d), ",".join(sorted(dir_names(fd))))
    except OSError as e:
        print(os.path.basename(d), errno.errorcode[e.errno])
PY
holder=$!
wait_for 20 test -e "$PUB/ready" || fail "renshe did not open the directories: $(cat "$T_TMP/held.out")"
check "apply: g1 revoked, 流动人口 not shared" pctl policy apply "$T_TMP/revoked.json"
touch "$PUB/go"
wait "$holder"
check_eq "the held entry handle lists nothing after the revocation" \
	"$(grep '^户籍人口 ' "$T_TMP/held.out")" "户籍人口 EACCES"
check_eq "nor does its held .versions handle" \
	"$(grep '^people-张三丰.csv ' "$T_TMP/held.out")" "people-张三丰.csv EACCES"
check_eq "the held handle above it leaves the hidden entry out" \
	"$(grep '^人口 ' "$T_TMP/held.out")" "人口 户籍人口"
check_eq "the refusals are in the log" \
	"$(pctl audit query --uid 1002 --op list --denied | grep -c "path=$GA")" 2
check_eq "a new listing of the entry is refused alike" \
	"$(as 1002 2002 ls "$MNT$GA" 2>&1 | grep -c people)" 0
pool_umount
