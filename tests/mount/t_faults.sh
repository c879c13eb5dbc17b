#!/usr/bin/env bash
# t_faults.sh - the disk under the store fails while writers work. For each
# fault point (a kind of call, which one, and how it fails) poolfs runs
# under tests/fault/shim.c, which fails that call on a file under STORE;
# two writers (faults.py) write, fsync, rename and read back, logging what
# was acknowledged. Then:
#   - no writer hangs, and a read never returns bytes no version has;
#   - the daemon either keeps serving (reads work; a write succeeds or
#     fails with EIO/ENOSPC) or exits by itself with a status, never by a
#     signal, and never hangs at unmount;
#   - restarted without faults, it mounts and serves a write; every
#     acknowledged version is stored byte for byte, `poolctl versions`
#     lists them, every acknowledged write and every successful open has
#     its audit record, and `poolctl audit verify` passes.
# The first point only counts calls, the second fails a WAL sync, the
# third WAL writes from a commit on; the others are placed by the counts. FAULT_POINTS=N (default 8) tries N points, FAULT_POINTS=all
# the whole grid (make bench); FAULT_SEED picks other N positions.
# FAULT_ONLY="OP N ERRNO MODE [MATCH]" (e.g. "write 3 EIO sticky .log")
# runs that one point alone, FAULT_REPEAT=N times (default 1).
# timeout: 480
. "$(dirname "$0")/../lib.sh"
t_setup

SHIM=$BUILD/tests/libfaultfs.so
[ -f "$SHIM" ] || die "$SHIM not built (make all)"
NOPS=${FAULT_NOPS:-4}
POINTS=${FAULT_POINTS:-8}
SEED=${FAULT_SEED:-1}
ACKS=$T_TMP/acks
mkdir -p "$ACKS"
declare -A OUTCOME=()
TRIED=0
FIRED=0
STORE_N=0

new_store() {
	STORE_N=$((STORE_N + 1))
	STORE=$T_TMP/store.$STORE_N
	pool_init
}

# Starts poolfs under the shim with the FAULT_* settings given; returns 0
# once it serves MNT, 1 when it exited first (status in FAULT_RC).
fault_start() {
	local i
	FLOG=$T_TMP/flog.$TRIED
	rm -f "$FLOG" "$T_TMP/clear"
	T_NMOUNT=$((T_NMOUNT + 1))
	FPLOG=$T_TMP/poolfs.$T_NMOUNT.log
	env LD_PRELOAD="$SHIM" FAULT_DIR="$STORE" FAULT_LOG="$FLOG" FAULT_CLEAR="$T_TMP/clear" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" "$@" \
		"$POOLFS" "$STORE" "$MNT" -f -o allow_all > "$FPLOG" 2>&1 &
	FPID=$!
	[ -n "${POOLFS_RUN_DIR:-}" ] && echo "$FPID" >> "$POOLFS_RUN_DIR/pids"
	for ((i = 0; i < 300; i++)); do
		if is_mounted "$MNT" && timeout 10 stat "$MNT" > /dev/null 2>&1; then
			T_MOUNTS+=("$MNT")
			return 0
		fi
		if ! kill -0 "$FPID" 2> /dev/null; then
			wait "$FPID"
			FAULT_RC=$?
			return 1
		fi
		sleep 0.1
	done
	FAULT_RC=hang
	return 1
}

# Stops the faulted daemon: unmounts, waits for its exit; sets FAULT_RC
# to its exit status, or "hang".
fault_stop() {
	local rc
	timeout 20 fusermount3 -u "$MNT" 2> /dev/null || {
		fuse_abort "$MNT"
		fusermount3 -uz "$MNT" 2> /dev/null
	}
	wait_pid "$FPID" 30
	rc=$?
	if [ $rc = 255 ]; then
		FAULT_RC=hang
		kill -KILL "$FPID" 2> /dev/null
		wait_pid "$FPID" 5 > /dev/null
	else
		FAULT_RC=$rc
	fi
	is_mounted "$MNT" && { fuse_abort "$MNT"; fusermount3 -uz "$MNT" 2> /dev/null; }
	return 0
}

# probe_check DESC: judges what faults.py probe said (in $probe); sets how
probe_check() {
	local desc=$1
	case $probe in
	*read_bad=0*) ;;
	*) fail "$desc: after the fault a read returned no version: $probe" ;;
	esac
	case $probe in
	*write=OK* | *write=EIO* | *write=ENOSPC*) ;;
	*) fail "$desc: after the fault a write gave neither success nor EIO/ENOSPC: $probe" ;;
	esac
	case $probe in
	*write=OK*) ;;
	*) how=read-only ;;
	esac
	# a daemon that serves must serve reads (docs/storage.md "Disk faults")
	case $probe in
	*read_err=0*) ;;
	*) fail "$desc: the daemon stayed up but reads fail: $probe"
	   show_tail "$FPLOG" 6 ;;
	esac
}

# point DESC FAULT_VAR=... : one fault point from start to check
point() {
	local desc=$1 wid pids=() rc probe how
	shift
	TRIED=$((TRIED + 1))
	T_CHECKS=$((T_CHECKS + 1))
	if ! fault_start "$@"; then
		if [ "$FAULT_RC" = hang ] || [ "$FAULT_RC" -gt 128 ]; then
			fail "$desc: poolfs under the fault did not start and did not exit cleanly ($FAULT_RC)"
			show_tail "$FPLOG" 5
			kill -KILL "$FPID" 2> /dev/null
		fi
		how=refused-start
	else
		for wid in 1 2; do
			timeout 60 "$PY" "$HELPERS/faults.py" work "$MNT" "$ACKS/s$STORE_N.p$TRIED.w$wid" \
				$((TRIED * 10 + wid)) "$NOPS" &
			pids+=($!)
		done
		for wid in "${pids[@]}"; do
			wait "$wid"
			rc=$?
			[ $rc = 124 ] && fail "$desc: a writer hung (60 s)"
			[ $rc != 0 ] && [ $rc != 124 ] && fail "$desc: a writer exited $rc"
		done
		how=stayed-up
		# the disk is well again: reads must work, writes work or fail cleanly
		touch "$T_TMP/clear"
		if kill -0 "$FPID" 2> /dev/null && is_mounted "$MNT"; then
			probe=$(timeout 60 "$PY" "$HELPERS/faults.py" probe "$MNT" \
				<(cat "$ACKS"/s$STORE_N.* 2> /dev/null) 2>&1)
			[ $? = 124 ] && fail "$desc: the probe after the fault hung"
			if [ "$probe" = not-mounted ]; then
				how=stopped
			else
				probe_check "$desc"
			fi
		else
			how=stopped
		fi
		fault_stop
		case $FAULT_RC in
		0) ;;
		hang) fail "$desc: poolfs did not exit within 30 s of the unmount" ;;
		*) [ "$FAULT_RC" -gt 128 ] && fail "$desc: poolfs died by signal $((FAULT_RC - 128))" &&
			show_tail "$FPLOG" 8
		   how=stopped ;;
		esac
	fi
	grep -q '^fault ' "$FLOG" 2> /dev/null && FIRED=$((FIRED + 1)) || how=not-reached
	OUTCOME[$how]=$((${OUTCOME[$how]:-0} + 1))
	note "$desc: $how${probe:+ ($probe)}"
	probe=
	# the fault is gone: a plain restart recovers everything acknowledged
	pool_mount
	daemon_ok "$desc: restart without the fault"
	check_run "$desc: acknowledged versions and their audit records" \
		"$PY" "$HELPERS/faults.py" check "$MNT" "$POOLCTL" "$STORE" "s$STORE_N.p$TRIED." \
		"$ACKS"/s$STORE_N.*
	pool_umount
	check "$desc: audit verify" pctl audit verify
	[ $T_FAILS -gt 0 ] && [ "${FAULT_KEEP_GOING:-0}" != 1 ] && die "stopping at the first failing point"
	return 0
}

new_store
if [ -n "${FAULT_ONLY:-}" ]; then
	read -r op n e m where <<< "$FAULT_ONLY"
	for ((k = 0; k < ${FAULT_REPEAT:-1}; k++)); do
		new_store
		point "$op#$n${where:+ on *$where*} $e $m" FAULT_OP=$op FAULT_NTH=$n FAULT_ERRNO=$e \
			FAULT_MODE=$m FAULT_MATCH="$where"
	done
	exit 0
fi
# a point that fails nothing: how many calls of each kind the work makes
point "count" FAULT_NTH=0
counts=$(grep '^counts ' "$T_TMP/flog.1" | sort -t= -k4 -n | tail -n1)
note "calls under STORE in one point: ${counts#* pid=* }"
count_of() { echo "$counts" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# The grid: every kind x position x errno x mode, and writes and syncs of
# the WAL and the audit journal alone (their first calls come after
# start-up), shuffled by SEED.
grid=$( (for op in write fsync read open rename ftruncate fallocate; do
	c=$(count_of $op)
	[ -n "$c" ] && [ "$c" -gt 0 ] || continue
	step=$(((c + 11) / 12))
	for ((n = 1; n <= c + step; n += step)); do echo "$op $n -"; done
done
for where in .log journal/; do
	for op in write fsync; do
		for n in 1 2 3 5 8 13; do echo "$op $n $where"; done
	done
done
echo "open 1 journal/"
echo "open 2 journal/") | while read -r op n where; do
	for e in EIO ENOSPC SHORT; do
		case $op:$e in read:SHORT | write:SHORT) ;; *:SHORT) continue ;; esac
		for m in once sticky; do echo "$op $n $e $m $where"; done
	done
done | awk -v s="$SEED" 'BEGIN { srand(s) } { print rand() "\t" $0 }' | sort -n | cut -f2)
total=$(echo "$grid" | wc -l)
# the default slice takes each kind first, then the rest in shuffled order
slice=$( (echo "$grid" | awk '!seen[$1 $5]++'; echo "$grid") | awk '!seen[$0]++')
[ "$POINTS" = all ] && POINTS=$total
# always: a commit whose WAL sync fails, then reads (the store goes
# read-only; the commit's audit records are journaled, reads go on)
point "fsync#2 on *.log* EIO once" FAULT_OP=fsync FAULT_NTH=2 FAULT_ERRNO=EIO FAULT_MODE=once \
	FAULT_MATCH=.log
# always: a commit whose WAL write fails for good: its outcome unknown, its
# records are journaled with a store.write_failed record, and verify must
# not take the version that never landed for a rollback
point "write#3 on *.log* EIO sticky" FAULT_OP=write FAULT_NTH=3 FAULT_ERRNO=EIO FAULT_MODE=sticky \
	FAULT_MATCH=.log
k=0
while read -r op n e m where; do
	[ -n "$op" ] || continue
	[ $k -ge "$POINTS" ] && break
	k=$((k + 1))
	# a fresh pool now and then keeps each check short
	[ $((k % 25)) = 0 ] && new_store
	[ "$where" = - ] && where=
	point "$op#$n${where:+ on *$where*} $e $m" FAULT_OP=$op FAULT_NTH=$n FAULT_ERRNO=$e \
		FAULT_MODE=$m FAULT_MATCH="$where"
done <<< "$slice"

summary=""
for o in "${!OUTCOME[@]}"; do summary="$summary $o=${OUTCOME[$o]}"; done
note "fault points: $TRIED tried ($k of a grid of $total, seed $SEED), $FIRED fired;$summary"
