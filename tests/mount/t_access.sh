#!/usr/bin/env bash
# t_access.sh - the policy enforced on a pool mount (no allow_all) for real
# uids: the provider writes and reads raw, a non-provider may not write, an
# expired grant is refused, a share-none entry is invisible (mkdir or
# create of its name answers as of a missing name), a caller of no
# department sees nothing, a department mount serves its department only, and a
# policy change stops the next read() of a file already open.
# timeout: 180
. "$(dirname "$0")/../lib.sh"
t_setup

FIX=$HELPERS/policy_access.json
GA=/基础库/人口/户籍人口		# gongan, conditional; renshe g1, weijian expired
SECRET=/基础库/人口/在逃人员		# gongan, share none
WJ=/主题库/医疗/机构			# weijian, conditional, untagged; renshe g-wj
t_setup_readers
t_fixture_people "$PUB/people.csv"

AS_TIMEOUT=20
sysop_as() { local u=$1 g=$2; shift 2; as "$u" "$g" "$UPY" "$HELPERS/sysop.py" "$@" 2>&1; }

pool_init
check "apply the fixture" pctl policy apply "$FIX"
POOLFS_OPTS=
pool_mount

# the provider
check "gongan publishes with cp" as 1001 2001 cp "$PUB/people.csv" "$MNT$GA/people.csv"
check_same "gongan reads it raw" <(as 1001 2001 cat "$MNT$GA/people.csv") "$PUB/people.csv"
check "gongan writes into its share-none entry" as 1001 2001 cp "$PUB/people.csv" "$MNT$SECRET/list.csv"
check_eq "gongan lists the entry" "$(as 1001 2001 ls "$MNT$GA")" "people.csv"

# a grant whose rules need no masking reads raw
printf '机构,地址\n宣城市人民医院,宣州区\n' > "$PUB/org.csv"
chmod 0644 "$PUB/org.csv"
check "weijian publishes" as 1003 2003 cp "$PUB/org.csv" "$MNT$WJ/org.csv"
check_same "renshe reads it through g-wj" <(as 1002 2002 cat "$MNT$WJ/org.csv") "$PUB/org.csv"
check_eq "gongan holds no grant on it" "$(sysop_as 1001 2001 read "$MNT$WJ/org.csv")" EACCES

# others
check_eq "renshe may not write into gongan's entry" \
	"$(sysop_as 1002 2002 write "$MNT$GA/mine.csv" x)" EACCES
check_eq "renshe may not overwrite the file" "$(sysop_as 1002 2002 open-w "$MNT$GA/people.csv")" EACCES
check_eq "renshe may not unlink it" "$(sysop_as 1002 2002 unlink "$MNT$GA/people.csv")" EACCES
check_eq "renshe never reads the raw ID" \
	"$(as 1002 2002 cat "$MNT$GA/people.csv" 2>/dev/null | grep -c 341802199001011234)" 0
check_eq "weijian's expired grant is refused" "$(sysop_as 1003 2003 read "$MNT$GA/people.csv")" EACCES
check_eq "the share-none entry is invisible to renshe" "$(sysop_as 1002 2002 stat "$MNT$SECRET")" ENOENT
check_eq "renshe's listing leaves it out" "$(as 1002 2002 ls "$MNT/基础库/人口" | grep -c 在逃人员)" 0
# every call answers for the hidden name as for a name that is not there
for op in mkdir create symlink; do
	arg=; [ $op = symlink ] && arg=x
	check_eq "$op of the share-none entry's name answers as of a missing name" \
		"$(sysop_as 1002 2002 $op ${arg:+$arg} "$MNT$SECRET")" \
		"$(sysop_as 1002 2002 $op ${arg:+$arg} "$MNT/基础库/人口/无此目录")"
done
check_eq "nothing can be created outside an entry" "$(sysop_as 1001 2001 mkdir "$MNT/基础库/x")" EACCES
# (a stat of a directory above the entries may be answered from the
# kernel's entry cache: those names are public within the pool)
check_fails "a caller of no department cannot list /" as 4242 4242 ls "$MNT"
check_fails "nor a directory above the entries" as 4242 4242 ls "$MNT/基础库"
check_eq "nor read a file" "$(sysop_as 4242 4242 read "$MNT$GA/people.csv")" EACCES
check_eq "root is not special for data" "$(sysop_as 0 0 read "$MNT$GA/people.csv")" EACCES
check_eq "the file is unchanged" "$(as 1001 2001 cat "$MNT$GA/people.csv" | sha256sum)" \
	"$(sha256sum < "$PUB/people.csv")"

# a policy change reaches a file already open: gongan holds it open, then
# the entry is handed to renshe, and gongan's next read() is refused
cat > "$T_TMP/hold.py" <<'PY'
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
os.read(fd, 4)
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.05)
try:
    os.pread(fd, 16, 0)
    print("READ")
except OSError as e:
    print(__import__("errno").errorcode[e.errno])
PY
rm -f "$PUB/opened" "$PUB/applied"
as 1001 2001 "$UPY" "$T_TMP/hold.py" "$MNT$GA/people.csv" "$PUB/opened" "$PUB/applied" \
	> "$T_TMP/hold.out" 2>&1 &
holder=$!
wait_for 20 test -e "$PUB/opened" || fail "the holder did not open the file: $(cat "$T_TMP/hold.out")"
"$UPY" - "$FIX" "$T_TMP/moved.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["catalog"][0]["provider"] = "weijian"
d["grants"] = [g for g in d["grants"] if g["department"] != "weijian"]
json.dump(d, open(sys.argv[2], "w"), ensure_ascii=False)
PY
t0=$(date +%s%N)
check "hand the entry to weijian" pctl policy apply "$T_TMP/moved.json"
t1=$(date +%s%N)
check_eq "gongan's open file can no longer be read" "$(sysop_as 1001 2001 read "$MNT$GA/people.csv")" EACCES
t2=$(date +%s%N)
touch "$PUB/applied"
wait "$holder"
check_eq "the held descriptor's next read() is refused" "$(cat "$T_TMP/hold.out")" EACCES
note "policy apply took $(((t1 - t0) / 1000000)) ms; the first denied open came $(((t2 - t1) / 1000000)) ms after it returned"
check "the daemon still runs" kill -0 "$POOLFS_PID"
pool_umount

# a department mount: its members act as gongan, nobody else is served
# (tests/mount/t_deptmount.sh has the rest)
check "restore the fixture" pctl policy apply "$FIX"
POOLFS_OPTS=dept=gongan
pool_mount
check_same "a member reads raw through gongan's share" \
	<(as 1001 2001 cat "$MNT$GA/people.csv") "$PUB/people.csv"
check_eq "and sees gongan's share-none entry" "$(sysop_as 1001 2001 stat "$MNT$SECRET")" OK
check_eq "a stranger is not served" "$(sysop_as 4242 4242 stat "$MNT$SECRET")" EACCES
pool_umount
