#!/usr/bin/env bash
# t_nocore.sh - poolfs and poolctl leave no core dump: a core holds the
# unsealed keys and raw data, and would land on a disk outside the store
# (the cwd, /var/lib/systemd/coredump). Both set their core size limit
# to 0 and make themselves undumpable (common/nocore.c): the daemon's
# /proc/PID/limits says 0, and poolctl run as a plain uid has its
# /proc/PID files owned by root, which is what the kernel does for an
# undumpable process (a dumpable one's are its own uid's). No crash is
# made: the daemon's cwd is /, where a core would land on this host.
# A daemon killed with SIGKILL while a writer's unsynced bytes sit in its
# spill file leaves none of them in the store or in /tmp, plain or
# encrypted.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup

# core_limit PID: "soft hard" of the process's core size limit
core_limit() { awk '/^Max core file size/ { print $5, $6 }' "/proc/$1/limits"; }

ulimit -c unlimited 2> /dev/null || ulimit -c "$(ulimit -H -c)"
pool_init "$STORE" --cipher none
pool_mount
check_eq "the daemon's core size limit is 0" "$(core_limit "$POOLFS_PID")" "0 0"

# ---- poolctl as uid 65534, held open on a FIFO it reads its policy from ----
mkfifo "$T_TMP/fifo" || die "mkfifo failed"
chmod 0666 "$T_TMP/fifo"
(ulimit -c unlimited 2> /dev/null; as 65534 65534 "$POOLCTL" -s "$STORE" policy check "$T_TMP/fifo" \
	> "$T_TMP/pc.out" 2>&1) &
job=$!
pc=
for ((i = 0; i < 100; i++)); do
	# this test's poolctl: others' tests may run one as 65534 too
	pc=$(pgrep -u 65534 -f "^$POOLCTL -s $STORE policy check $T_TMP/fifo" | head -1)
	[ -n "$pc" ] && break
	sleep 0.1
done
# until it blocks opening the FIFO: past main()'s first lines
for ((i = 0; i < 50; i++)); do
	grep -q fifo "/proc/$pc/wchan" 2> /dev/null && break
	sleep 0.1
done
[ -n "$pc" ] || die "poolctl did not start"
check_eq "poolctl's core size limit is 0" "$(core_limit "$pc")" "0 0"
check_eq "poolctl is undumpable: its /proc files are root's" "$(stat -c %u "/proc/$pc/environ")" 0
echo '{}' > "$T_TMP/fifo"
wait "$job" || true	# {} is no policy: its exit is not the point
pool_umount

# ---- kill -9 while a writer holds unsynced bytes in the spill file ----
# Nothing of them stays: the spill file is O_TMPFILE (no name), the stage
# never committed; nothing is left in /tmp either.
touch "$T_TMP/start"
for cipher in none aes; do
	args=(--cipher none)
	[ "$cipher" = aes ] && args=()
	rm -rf "$STORE"
	pool_init "$STORE" "${args[@]}"
	pool_mount
	printf 'a,b\n' > "$MNT/f.csv" || die "write failed"
	"$PY" - "$MNT/f.csv" "$T_TMP/ready" > "$T_TMP/writer.out" 2>&1 <<'PY' &
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
os.pwrite(fd, b"SPILLKILL9-" * 30000, 200000)	# out of order: to the spill file
os.pwrite(fd, b"head", 0)
open(sys.argv[2], "w").close()
time.sleep(60)
PY
	wpid=$!
	for ((i = 0; i < 100; i++)); do [ -e "$T_TMP/ready" ] && break; sleep 0.1; done
	[ -e "$T_TMP/ready" ] || die "the writer did not write"
	check "$cipher: the staging directory has no name in it" test -z "$(ls -A "$STORE/staging" 2> /dev/null)"
	pool_kill9
	kill "$wpid" 2> /dev/null
	wait "$wpid" 2> /dev/null
	rm -f "$T_TMP/ready"
	check_eq "$cipher: after kill -9 no file of the store holds the staged bytes" \
		"$(grep -rl SPILLKILL9 "$STORE" | wc -l)" 0
	check_eq "$cipher: nor any new file in /tmp" \
		"$(find /tmp -maxdepth 1 -type f -newer "$T_TMP/start" -size -64M \
			-exec grep -l SPILLKILL9 {} + 2> /dev/null | wc -l)" 0
done
