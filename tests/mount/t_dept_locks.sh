#!/usr/bin/env bash
# t_dept_locks.sh - advisory locks (fcntl, OFD, flock) on a file two
# departments share: one department neither learns that another holds
# the file (F_GETLK names the holder's pid) nor blocks its locks, also
# when both reach one kernel inode (raw readers and writers; one masked
# view); within a department locks work as POSIX and Linux have them,
# waits included, and a waiter killed while it waits does not hang; a
# pool mount warns when the host lets file owners take leases
# (docs/filesystem.md "Locks").
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup
t_setup_readers

RAW=/共享/协作		# gongan's; renshe reads and writes raw, weijian reads raw
VIEW=/共享/名单		# gongan's; renshe and weijian read one masked view
lk() { local u=$1 g=$2; shift 2; as "$u" "$g" "$UPY" "$HELPERS/locks.py" "$@" 2>&1; }
lkA() { lk 1001 2001 "$@"; }
lkB() { lk 1002 2002 "$@"; }
lkC() { lk 1003 2003 "$@"; }

pool_init
check "apply the fixture" pctl policy apply "$HELPERS/policy_locks.json"
POOLFS_OPTS=
pool_mount
printf '姓名,区县\n张三丰,宣州区\n' > "$PUB/list.csv"
chmod 0644 "$PUB/list.csv"
check "gongan publishes the raw file" asA cp "$PUB/list.csv" "$MNT$RAW/list.csv"
check "gongan publishes the masked file" asA cp "$PUB/list.csv" "$MNT$VIEW/list.csv"
check "all three read the raw file" sh -c \
	'for u in 1001:2001 1002:2002 1003:2003; do
		setpriv --reuid ${u%:*} --regid ${u#*:} --clear-groups cat "$1" > /dev/null || exit 1
	done' _ "$MNT$RAW/list.csv"

H=0
hold() {	# hold UID GID PATH KIND: a lock held until unhold
	H=$((H + 1))
	rm -f "$PUB/ready.$H" "$PUB/stop.$H"
	as "$1" "$2" "$UPY" "$HELPERS/locks.py" hold "$3" "$4" "$PUB/ready.$H" "$PUB/stop.$H" \
		> "$T_TMP/hold.$H" 2>&1 &
	HOLDER=$!
	wait_for 20 test -e "$PUB/ready.$H" || fail "holder $H ($4 by $1): $(cat "$T_TMP/hold.$H")"
}
unhold() { touch "$PUB/stop.$H"; wait "$HOLDER"; }

# another department's lock is neither seen nor in the way
F=$MNT$RAW/list.csv
hold 1001 2001 "$F" wr
check_eq "renshe's F_GETLK does not name gongan's process" "$(lkB getlk "$F")" unlocked
check_eq "weijian's neither" "$(lkC getlk "$F")" unlocked
check_eq "renshe's write lock is not blocked by gongan's" "$(lkB try "$F" wr)" got
check_eq "another gongan process is blocked" "$(lkA try "$F" wr)" busy
pid=$(lkA getlk "$F")
check "gongan's F_GETLK names its holder" test "${pid#pid=}" -gt 0
# /proc/locks is every local user's: it named the holder and the inode
dev=$(awk -v m="$MNT" '$5 == m { split($3, d, ":"); printf "%02x:%02x:", d[1], d[2] }' \
	/proc/self/mountinfo)
check_eq "/proc/locks shows no lock of the pool to anyone" \
	"$(as 4242 4242 grep -c " $dev" /proc/locks)" 0
unhold
for kind in flock rd; do
	hold 1003 2003 "$F" "$kind"
	check_eq "weijian, a reader, holding $kind blocks no flock of gongan" \
		"$(lkA try "$F" flock)" got
	check_eq "nor a write lock" "$(lkA try "$F" wr)" got
	check_eq "nor an OFD lock" "$(lkA try "$F" ofd)" got
	check_eq "nor renshe's write lock" "$(lkB try "$F" wr)" got
	unhold
done

# one masked view, one kernel inode for both readers
V=$MNT$VIEW/list.csv
check_eq "renshe reads the masked view" "$(asB head -c 100 "$V" | tail -n 1)" "张**,宣州区"
hold 1002 2002 "$V" rd
check_eq "weijian's F_GETLK on the view does not name renshe's process" \
	"$(lkC getlk "$V")" unlocked
check_eq "weijian's flock is not blocked by renshe's read lock" "$(lkC try "$V" flock)" got
unhold
hold 1002 2002 "$V" flock
check_eq "nor by renshe's flock" "$(lkC try "$V" flock)" got
check_eq "another renshe process is blocked by it" "$(lkB try "$V" flock)" busy
unhold

# within a department: waits end when the holder lets go
for kind in wr flock ofd; do
	hold 1001 2001 "$F" "$kind"
	lkA wait "$F" "$kind" > "$T_TMP/wait.out" &
	waiter=$!
	sleep 0.5
	check "a gongan process waits for gongan's $kind" kill -0 "$waiter"
	unhold
	wait_pid "$waiter" 20
	check_eq "and gets it once the holder lets go" "$(cat "$T_TMP/wait.out")" got
done
# two holders of LOCK_SH upgrading at once: each gives its old lock up first
rm -f "$PUB/up1" "$PUB/up2" "$PUB/go"
lkA upgrade "$F" "$PUB/up1" "$PUB/go" > "$T_TMP/up1" &
up1=$!
lkA upgrade "$F" "$PUB/up2" "$PUB/go" > "$T_TMP/up2" &
up2=$!
wait_for 20 test -e "$PUB/up1" -a -e "$PUB/up2" || fail "the upgraders did not start"
touch "$PUB/go"
wait_pid "$up1" 20
wait_pid "$up2" 20
check_eq "two flock upgrades do not wait on each other" "$(cat "$T_TMP/up1" "$T_TMP/up2")" \
	"got
got"
hold 1001 2001 "$F" wr
AS_TIMEOUT=1 lkA wait "$F" wr > /dev/null
check "a waiter whose wait is cut short by a signal is answered" test $? = 124
timeout -s KILL 1 setpriv --reuid 1001 --regid 2001 --clear-groups \
	"$UPY" "$HELPERS/locks.py" wait "$F" wr > /dev/null 2>&1 &
killed=$!
wait_pid "$killed" 20
check "a waiter killed while it waits ends" test $? = 137
unhold
check_eq "the killed waiters hold nothing" "$(lkA try "$F" wr)" got
# an unlock inside a lock cuts it in two: past the cap it is refused, as
# POSIX allows (ENOLCK), or one process grew the daemon without bound
check_eq "unlocks that cut a lock stop at the department's cap" \
	"$(lkA split "$F" 5000)" "enolck
unlocked"
check_eq "and the department locks again" "$(lkA try "$F" wr)" got
# each change looks at every waiter again per one let in: their number is
# bounded, or one department's crowd held every close on the mount
hold 1001 2001 "$F" flock
check_eq "a department queues at most 64 waits" "$(lkA crowd "$F" 70 "$PUB/stop.$H")" \
	"enolck=6 got=64"
wait "$HOLDER"
check "flock of an entry directory works" asA flock -n "$MNT$RAW" true
# leases are the kernel's (FUSE asks nothing): only the host can turn them off
if [ "$(cat /proc/sys/fs/leases-enable 2> /dev/null)" = 1 ]; then
	check "the pool mount says that leases are on" grep -q "fs.leases-enable=1" "${T_LOG[$MNT]}"
fi
check "the daemon still serves" asA cat "$F"
pool_umount
check "the audit chain is intact" pctl audit verify
