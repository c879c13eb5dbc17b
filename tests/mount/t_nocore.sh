#!/usr/bin/env bash
# t_nocore.sh - poolfs and poolctl leave no core dump: a core holds the
# unsealed keys and raw data, and would land on a disk outside the store
# (the cwd, /var/lib/systemd/coredump). Both set their core size limit
# to 0 and make themselves undumpable (common/nocore.c): the daemon's
# /proc/PID/limits says 0, and poolctl run as a plain uid has its
# /proc/PID files owned by root, which is what the kernel does for an
# undumpable process (a dumpable one's are its own uid's). No crash is
# made: the daemon's cwd is /, where a core would land on this host.
# timeout: 60
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
	pc=$(pgrep -u 65534 -x poolctl | head -1)
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
