#!/usr/bin/env bash
# t_move.sh - rename() and link() never move a file out of its catalog
# entry (DESIGN.md "Writes and versions"): across entries they are EXDEV,
# so mv copies through the mover's view, and a department with a write
# grant (even write-only) cannot carry the provider's file, history and
# all, into its own entry to read it raw. Within one entry a rename needs
# the rights of both ends.
# timeout: 90
. "$(dirname "$0")/../lib.sh"
t_setup

FIX=$HELPERS/policy_write.json
GA=/基础库/人口/户籍人口		# gongan; renshe rw (masked), weijian write-only
GA2=/基础库/人口/流动人口	# gongan
RS=/基础库/社保/参保		# renshe
WJ=/主题库/医疗/机构		# weijian
ID=341802199001011234
t_setup_readers
t_fixture_people "$PUB/people.csv"

AS_TIMEOUT=20
sysop_as() { local u=$1 g=$2; shift 2; as "$u" "$g" "$UPY" "$HELPERS/sysop.py" "$@" 2>&1; }
GAU=(1001 2001); RSU=(1002 2002); WJU=(1003 2003)

pool_init
check "apply the fixture" pctl policy apply "$FIX"
POOLFS_OPTS=
pool_mount

check "gongan publishes" as "${GAU[@]}" cp "$PUB/people.csv" "$MNT$GA/people.csv"
check "a second version" as "${GAU[@]}" cp "$PUB/people.csv" "$MNT$GA/people.csv"
check "gongan makes a directory" as "${GAU[@]}" mkdir "$MNT$GA/sub"
check "with a file in it" as "${GAU[@]}" cp "$PUB/people.csv" "$MNT$GA/sub/in.csv"
check "renshe has a file of its own" as "${RSU[@]}" cp "$PUB/people.csv" "$MNT$RS/own.csv"

# the move out of the entry: EXDEV for the write-only and the masked grantee
check_eq "write-only weijian: rename into renshe's entry" \
	"$(sysop_as "${WJU[@]}" rename "$MNT$GA/people.csv" "$MNT$WJ/stolen.csv")" EXDEV
check_eq "masked renshe: rename into its own entry" \
	"$(sysop_as "${RSU[@]}" rename "$MNT$GA/people.csv" "$MNT$RS/stolen.csv")" EXDEV
check_eq "renshe: rename a directory out of the entry" \
	"$(sysop_as "${RSU[@]}" rename "$MNT$GA/sub" "$MNT$RS/sub")" EXDEV
check_eq "renshe: rename its own file into gongan's entry" \
	"$(sysop_as "${RSU[@]}" rename "$MNT$RS/own.csv" "$MNT$GA/own.csv")" EXDEV
check_eq "renshe: exchange across entries" \
	"$(as "${RSU[@]}" "$UPY" -c 'import ctypes,sys,os
libc = ctypes.CDLL(None, use_errno=True)
r = libc.renameat2(-100, sys.argv[1].encode(), -100, sys.argv[2].encode(), 2)
print("OK" if r == 0 else __import__("errno").errorcode[ctypes.get_errno()])' \
		"$MNT$GA/people.csv" "$MNT$RS/own.csv")" EXDEV
check_eq "renshe: hard link across entries" \
	"$(sysop_as "${RSU[@]}" link "$MNT$GA/people.csv" "$MNT$RS/linked.csv")" EXDEV
check_eq "even the provider: across its own two entries" \
	"$(sysop_as "${GAU[@]}" rename "$MNT$GA/people.csv" "$MNT$GA2/people.csv")" EXDEV
check_eq "nor a link within one entry" \
	"$(sysop_as "${GAU[@]}" link "$MNT$GA/people.csv" "$MNT$GA/hard.csv")" EPERM

# mv falls back to a copy through the mover's view
as "${RSU[@]}" mv "$MNT$GA/people.csv" "$MNT$RS/moved.csv" > /dev/null 2>&1
check_eq "renshe's mv leaves no raw ID in its entry" \
	"$(as "${RSU[@]}" cat "$MNT$RS/moved.csv" 2>/dev/null | grep -c "$ID")" 0
check_eq "nor any version of it there" \
	"$(as "${RSU[@]}" cat "$MNT$RS/.versions/moved.csv/1" "$MNT$RS/.versions/moved.csv/2" 2>/dev/null | grep -c "$ID")" 0
as "${WJU[@]}" mv "$MNT$GA/sub" "$MNT$WJ/sub" > /dev/null 2>&1
check_eq "write-only weijian's mv of sub/ brought nothing raw" \
	"$(as "${WJU[@]}" cat "$MNT$WJ/sub/in.csv" 2>/dev/null | grep -c "$ID")" 0
check_eq "and sub/ is still gongan's" "$(sysop_as "${GAU[@]}" stat "$MNT$GA/sub/in.csv")" OK

# within one entry: the provider renames freely, the history follows
check "gongan publishes again" as "${GAU[@]}" cp "$PUB/people.csv" "$MNT$GA/p2.csv"
check_eq "provider renames within its entry" \
	"$(sysop_as "${GAU[@]}" rename "$MNT$GA/p2.csv" "$MNT$GA/sub/p3.csv")" OK
# history is read-only: no restore by rename, from .versions or .snapshots
check_eq "the provider cannot rename a past version back" \
	"$(sysop_as "${GAU[@]}" rename "$MNT$GA/sub/.versions/p3.csv/1" "$MNT$GA/sub/restored.csv")" EROFS
sleep 1.1; snap=$(date -u +%Y-%m-%dT%H:%M:%SZ)
check_eq "nor out of a snapshot" \
	"$(sysop_as "${GAU[@]}" rename "$MNT/.snapshots/$snap$GA/sub/p3.csv" "$MNT$GA/sub/restored.csv")" EROFS
check_eq "nor link one" \
	"$(sysop_as "${GAU[@]}" link "$MNT$GA/sub/.versions/p3.csv/1" "$MNT$GA/sub/restored.csv")" EPERM
check "the daemon still serves" daemon_alive
