#!/usr/bin/env bash
# t_crash.sh - kill -9 of the daemon while writers run, then remount, three
# times. Writers write whole self-describing versions (in place, in place
# with fsync, temp-then-rename, through MAP_SHARED with msync). After each crash every file, and every
# version in its .versions, is exactly one version that was written, never
# torn; a version whose fsync or msync returned is never lost.
# timeout: 300
. "$(dirname "$0")/../lib.sh"
t_setup

CR=$HELPERS/crash.py
ACK=$T_TMP/ack
mkdir -p "$ACK"
pool_init

modes=(inplace inplace fsync fsync rename rename mmap)
for cycle in 1 2 3; do
	pool_mount
	mkdir -p "$MNT/w"
	wpids=()
	for i in "${!modes[@]}"; do
		"$PY" "$CR" write "$MNT/w" "$ACK" "$i" "${modes[$i]}" $((cycle * 100000)) \
			>> "$T_TMP/writers.log" 2>&1 &
		wpids+=($!)
	done
	# let every writer get going (six fsynced versions each), then a little
	# more, then crash; the timing is not asserted, only the outcome
	for ((i = 0; ; i++)); do
		[ "$(cat "$ACK"/ack-2 2> /dev/null | wc -l)" -ge $((cycle * 6)) ] &&
			[ "$(cat "$ACK"/ack-3 2> /dev/null | wc -l)" -ge $((cycle * 6)) ] && break
		daemon_died_check
		# a hang, not slowness: sanitizer builds (T_SLOW) get longer
		[ $i -lt $((600 * ${T_SLOW:-1})) ] || die "cycle $cycle: fsync writers made" \
			"no progress within $((60 * ${T_SLOW:-1})) s: $(tail -n 3 "$T_TMP/writers.log")"
		sleep 0.1
	done
	sleep "0.$((RANDOM % 9 + 1))"
	note "cycle $cycle: kill -9 of the daemon (pid $POOLFS_PID)"
	pool_kill9
	for p in "${wpids[@]}"; do
		wait_pid "$p" 30 > /dev/null
		[ $? = 255 ] && { fail "cycle $cycle: writer $p hangs after the daemon died"; kill -KILL "$p"; }
	done
	pool_mount
	check_run "cycle $cycle: every file is one whole version" "$PY" "$CR" verify "$MNT/w" "$ACK"
	daemon_ok "kill -9 and remount (cycle $cycle)"
	pool_umount
done
# the store also opens offline after the crashes
check "poolctl stats on the crashed-and-remounted store" pctl stats
