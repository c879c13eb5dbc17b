#!/usr/bin/env bash
# tests/run.sh - runs the two tiers of tests and prints one line per test,
# then exactly one summary line "N passed, N failed" (CI parses it).
#
#   tests/run.sh [unit|mount|all] [NAME...]
#
# unit:  every $BUILD/tests/test_* binary (CUnit; non-zero exit = failure)
# mount: every tests/mount/t_*.sh, each under timeout(1); a test sets its
#        own limit with a "# timeout: SECONDS" line (default 300).
# NAME... runs only the tests whose name contains one of the words.
# T_SLOW=N (make san and make tsan set it) multiplies each test's limit by N
# and is passed on: tests that wait for progress wait N times longer.
#
# The whole run has a budget (TEST_BUDGET seconds, default 1500 = 25 min on
# 2 cores): a test gets at most what is left of it, and tests that cannot
# start any more count as failed, so a hang never makes CI run out of time
# without saying which test hung. Logs go to $BUILD/test-logs/.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
export BUILD
# make tsan: RocksDB's internals are invisible to TSan (tests/tsan.supp)
export TSAN_OPTIONS="suppressions=$ROOT/tests/tsan.supp${TSAN_OPTIONS:+ $TSAN_OPTIONS}"
MODE=${1:-all}
[ $# -gt 0 ] && shift
FILTER=("$@")
BUDGET=${TEST_BUDGET:-1500}
LOGDIR=$BUILD/test-logs
START=$(date +%s)
PASSED=0
FAILED=0

case $MODE in
unit | mount | all) ;;
-h | --help)
	sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
*)
	echo "usage: tests/run.sh [unit|mount|all] [NAME...]" >&2
	exit 2
	;;
esac

mkdir -p "$LOGDIR" || { echo "cannot create $LOGDIR" >&2; exit 2; }

selected() {
	local w
	[ ${#FILTER[@]} -eq 0 ] && return 0
	for w in "${FILTER[@]}"; do
		case $1 in *"$w"*) return 0 ;; esac
	done
	return 1
}

# Every test of this run works below RUN_DIR (lib.sh honours TMPDIR) and
# appends the pid of each daemon it starts to RUN_DIR/pids, so what a killed
# test left behind can be found without touching anyone else's mounts.
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/poolfs-run.XXXXXX") || exit 2
# tests drop to other uids (setpriv): they must be able to reach pools inside
chmod 0755 "$RUN_DIR"
export TMPDIR=$RUN_DIR POOLFS_RUN_DIR=$RUN_DIR
# KEEP=1 (lib.sh keeps each test's directory for a post-mortem) keeps this too
trap 'clear_leaks > /dev/null; [ "${KEEP:-0}" = 1 ] || rm -rf "$RUN_DIR"' EXIT

# Finds, reports on stdout and removes what a test left behind: mounts
# below RUN_DIR and daemons it started that still run. Returns 1 if any.
clear_leaks() {
	local m p found=0
	if [ -s "$RUN_DIR/pids" ]; then
		while read -r p; do
			# only if that pid is still one of our daemons (pids get reused)
			if tr '\0' ' ' 2> /dev/null < /proc/"$p"/cmdline | grep -qF "$RUN_DIR/"; then
				echo "run.sh: daemon pid $p still running after the test; killed"
				kill -KILL "$p" 2> /dev/null
				found=1
			fi
		done < "$RUN_DIR/pids"
		: > "$RUN_DIR/pids"
	fi
	for m in $(awk -v d="$RUN_DIR/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
		echo "run.sh: mount $m left behind; unmounted"
		fusermount3 -uz "$m" 2> /dev/null || umount -l "$m" 2> /dev/null
		found=1
	done
	return $found
}

# run_one KIND NAME LIMIT CMD...
run_one() {
	local kind=$1 name=$2 limit=$3 log left t0 rc dt
	shift 3
	log=$LOGDIR/$name.log
	left=$((BUDGET - ($(date +%s) - START)))
	if [ $left -lt 30 ]; then
		printf 'FAIL %-28s not run: the %d s test budget is used up\n' "$kind/$name" "$BUDGET"
		FAILED=$((FAILED + 1))
		return
	fi
	[ "$limit" -gt "$left" ] && limit=$left
	t0=$(date +%s)
	timeout -k 20 "$limit" "$@" > "$log" 2>&1 < /dev/null
	rc=$?
	dt=$(($(date +%s) - t0))
	if [ "$kind" = mount ] && ! clear_leaks >> "$log"; then
		[ $rc = 0 ] && rc=99
	fi
	if [ $rc = 0 ]; then
		printf 'PASS %-28s (%ds)\n' "$kind/$name" "$dt"
		PASSED=$((PASSED + 1))
		return
	fi
	FAILED=$((FAILED + 1))
	case $rc in
	124 | 137) printf 'FAIL %-28s timed out after %ds (limit %ds)\n' "$kind/$name" "$dt" "$limit" ;;
	*) printf 'FAIL %-28s exit %d (%ds)\n' "$kind/$name" "$rc" "$dt" ;;
	esac
	# the failure lines first, then the end of the log
	grep -E '^ *(FAIL|FATAL)|Test: .*FAILED|^ +[0-9]+\. .*:[0-9]+ ' "$log" | head -n 25 | sed 's/^/    /'
	tail -n 8 "$log" | sed 's/^/    > /'
	echo "    log: $log"
}

if [ "$MODE" != mount ]; then
	found=0
	for t in "$BUILD"/tests/test_*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		case $t in *.o | *.d) continue ;; esac
		found=1
		name=$(basename "$t")
		selected "$name" || continue
		run_one unit "$name" "${UNIT_TIMEOUT:-$((300 * ${T_SLOW:-1}))}" "$t"
	done
	if [ $found = 0 ] && [ -n "$(ls "$ROOT"/tests/test_*.c 2> /dev/null)" ]; then
		printf 'FAIL %-28s no test binaries in %s (build first)\n' "unit" "$BUILD/tests"
		FAILED=$((FAILED + 1))
	fi
fi

if [ "$MODE" != unit ]; then
	for t in "$ROOT"/tests/mount/t_*.sh; do
		[ -f "$t" ] || continue
		name=$(basename "$t" .sh)
		selected "$name" || continue
		limit=$(sed -n 's/^# timeout: *\([0-9][0-9]*\).*/\1/p' "$t" | head -n1)
		run_one mount "$name" $((${limit:-300} * ${T_SLOW:-1})) bash "$t"
	done
fi

echo "$PASSED passed, $FAILED failed"
[ $FAILED = 0 ]
