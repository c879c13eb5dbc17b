# tests/lib.sh - shared helpers for the mounted tests (tests/mount/t_*.sh).
#
# Source it first thing:   . "$(dirname "$0")/../lib.sh"
#
# It checks the environment (root, /dev/fuse, fusermount3, built binaries)
# and fails loudly when something is missing: a mount test that silently
# skips is a test that never runs. Every test gets a private directory
# $T_TMP, removed by an EXIT trap that first unmounts whatever the test
# mounted, kills the daemons it started and unmounts its tmpfs.
#
# Checks do not stop the test: each failing one prints a "FAIL:" line
# saying what differed, and the test exits 1 at the end. `die` stops it.
#
# Environment: BUILD (default build), KEEP=1 keeps $T_TMP for a post-mortem,
# POOLFS_OPTS extra -o options for every mount (default allow_all, for tests
# of the filesystem itself; a test of the policy sets POOLFS_OPTS= and
# applies its own policy).

set -u
set -o pipefail

T_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$T_ROOT/$BUILD ;; esac
POOLFS=$BUILD/poolfs
POOLCTL=$BUILD/poolctl
HELPERS=$T_ROOT/tests/mount
POOLFS_OPTS=${POOLFS_OPTS-allow_all}
PY=${PYTHON:-python3}

T_NAME=$(basename "$0" .sh)
T_FAILS=0
T_CHECKS=0
T_TMP=
T_MOUNTS=()		# mountpoints this test mounted, in order
T_TMPFS=()		# tmpfs mounts this test made
declare -A T_PID=()	# mountpoint -> daemon pid
declare -A T_LOG=()	# mountpoint -> daemon log
T_NMOUNT=0
POOLFS_PID=

# ---- output ------------------------------------------------------------

note() { printf '  %s\n' "$*"; }

fail() {
	T_FAILS=$((T_FAILS + 1))
	printf 'FAIL: %s\n' "$*"
	daemon_died_check
}

# A daemon that died on its own makes every later check fail for the same
# reason: say once how it died and stop the test ("report": do not stop).
daemon_died_check() {
	local m pid rc how
	[ "${T_IN_CLEANUP:-0}" = 1 ] && return 0
	for m in "${!T_PID[@]}"; do
		pid=${T_PID[$m]}
		[ -n "$pid" ] || continue
		kill -0 "$pid" 2> /dev/null && continue
		wait "$pid" 2> /dev/null
		rc=$?
		T_PID[$m]=
		how="exit status $rc"
		[ $rc -gt 128 ] && how="killed by signal $((rc - 128)) (SIG$(kill -l $((rc - 128)) 2> /dev/null))"
		printf 'FATAL: poolfs serving %s died: %s; stopping this test\n' "$m" "$how"
		show_tail "${T_LOG[$m]}" 20
		T_FAILS=$((T_FAILS + 1))
		[ "${1:-}" = report ] || exit 1
	done
	return 0
}

die() {
	T_FAILS=$((T_FAILS + 1))
	printf 'FATAL: %s\n' "$*"
	daemon_died_check
	exit 1
}

# Prints the last lines of a file, indented, for a failure message.
show_tail() {
	local f=$1 n=${2:-15}
	[ -s "$f" ] || return 0
	tail -n "$n" "$f" | sed 's/^/    | /'
}

# ---- environment -------------------------------------------------------

require_env() {
	[ "$(id -u)" = 0 ] || die "mount tests must run as root (uid is $(id -u))"
	[ -c /dev/fuse ] || die "/dev/fuse is missing: mount tests need FUSE"
	[ -r /dev/fuse ] && [ -w /dev/fuse ] || die "/dev/fuse is not read/writable"
	command -v fusermount3 >/dev/null || die "fusermount3 not found (apt-get install fuse3)"
	command -v "$PY" >/dev/null || die "python3 not found"
	[ -x "$POOLFS" ] || die "$POOLFS not built (make BUILD=${BUILD#"$T_ROOT"/})"
	[ -x "$POOLCTL" ] || die "$POOLCTL not built (make BUILD=${BUILD#"$T_ROOT"/})"
}

t_setup() {
	require_env
	T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/poolfs-$T_NAME.XXXXXX") || die "mktemp failed"
	chmod 0755 "$T_TMP"	# other uids (setpriv) must reach the pool and its socket
	trap t_cleanup EXIT
	# timeout(1) sends TERM; turn it into an exit so the EXIT trap unmounts
	trap 'echo "FATAL: $T_NAME interrupted (signal)"; T_FAILS=$((T_FAILS+1)); exit 143' TERM
	trap 'echo "FATAL: $T_NAME interrupted (SIGINT)"; T_FAILS=$((T_FAILS+1)); exit 130' INT
	STORE=$T_TMP/store
	MNT=$T_TMP/mnt
	REF=$T_TMP/ref
	mkdir -p "$MNT" "$REF"
	note "$T_NAME: tmp $T_TMP, build $BUILD"
}

# t_setup_readers: for a test that reads as other uids through setpriv (after
# t_setup): UPY, a python3 every uid may run; T_TMP searchable by them;
# PUB, a sticky directory in it every uid may write
t_setup_readers() {
	command -v setpriv > /dev/null || die "setpriv not found (util-linux)"
	UPY=${UPY:-/usr/bin/python3}
	[ -x "$UPY" ] || die "$UPY not found: set UPY to a python3 every uid may run"
	chmod o+x "$T_TMP"
	PUB=$T_TMP/pub
	mkdir -p "$PUB" && chmod 1777 "$PUB" || die "cannot make $PUB"
}

# t_fixture_people FILE [wide]: FILE, readable by every uid, a CSV of the
# fixtures' people (tests/mount/policy_*.json): 张三丰 in 身份证号,姓名,区县;
# "wide": 张三丰, 李四 and 王小明 in 身份证号,姓名,手机号,住址,区县.
t_fixture_people() {
	if [ "${2:-}" = wide ]; then
		printf '%s\n' 身份证号,姓名,手机号,住址,区县 \
			341802199001011234,张三丰,13812345678,宣城市宣州区某路1号,宣州区 \
			341802199202022345,李四,13987654321,宣城市郎溪县某路2号,郎溪县 \
			341802198503033456,王小明,13700001111,宣城市宣州区某路3号,宣州区
	else
		printf '身份证号,姓名,区县\n341802199001011234,张三丰,宣州区\n'
	fi > "$1" && chmod 0644 "$1" || die "cannot write $1"
}

# t_bigview_pool BUDGET MINBYTES: for a test of views served in segments
# (after t_setup_readers): an unencrypted pool under the big-view fixture
# (FIX; GA, the CSV directory renshe reads through g1, ID hashed), where
# gongan published PUB/big.csv (40000 rows); renshe's view of it, read
# whole into T_TMP/view, is over MINBYTES; then mounted again with -o
# view_budget=BUDGET, so that no segment of the view is made yet.
t_bigview_pool() {
	FIX=$HELPERS/policy_bigview.json
	GA=/基础库/人口/户籍人口
	pool_init "$STORE" --cipher none
	check "apply the fixture" pctl policy apply "$FIX"
	"$PY" - "$PUB/big.csv" <<'PY' || die "cannot generate the data"
import random, sys
r = random.Random(3)
rows = ["身份证号,姓名,手机号,住址,区县"]
for i in range(40000):
    rows.append("3418%014d,张%d,139%08d,宣城市某路%d号,宣州区" % (r.randrange(10**14), i, i, i))
open(sys.argv[1], "w").write("\n".join(rows) + "\n")
PY
	chmod 0644 "$PUB/big.csv"
	POOLFS_OPTS=
	pool_mount "$STORE" "$MNT" -o view_budget="$1"
	check "gongan publishes" asA cp "$PUB/big.csv" "$MNT$GA/big.csv"
	asB cat "$MNT$GA/big.csv" > "$T_TMP/view" || fail "renshe cannot read its view"
	check "the view is over $2 bytes" test "$(stat -c %s "$T_TMP/view")" -gt "$2"
	# segments made are the daemon's: a new mount has none, the map stays in the store
	pool_umount
	pool_mount "$STORE" "$MNT" -o view_budget="$1"
}

# as UID GID CMD...: CMD as that user and group with no supplementary
# groups, killed after AS_TIMEOUT (60) seconds. asA, asB and asC are the
# fixtures' first three departments (gongan 1001:2001, renshe
# 1002:2002, weijian 1003:2003; tests/mount/policy_*.json).
as() { local u=$1 g=$2; shift 2; timeout "${AS_TIMEOUT:-60}" setpriv --reuid "$u" --regid "$g" --clear-groups "$@"; }
asA() { as 1001 2001 "$@"; }
asB() { as 1002 2002 "$@"; }
asC() { as 1003 2003 "$@"; }

# t_setup_metrics: PROM, a path for -o metrics="$PROM", in PROM_DIR, with
# T_TMP searchable by other uids (the callers whose requests are counted).
t_setup_metrics() {
	chmod o+x "$T_TMP"
	PROM_DIR=$T_TMP/textfile
	PROM=$PROM_DIR/poolfs.prom
	mkdir -p "$PROM_DIR" || die "cannot make $PROM_DIR"
}

# prom SAMPLE...: the values, one a line, of samples of the mount $MNT in
# $PROM (0 when absent; fails when the file is not well formed). A
# sample's labels get mountpoint="$MNT" added.
prom() {
	local s args=()
	for s in "$@"; do
		case $s in
		*'}') args+=("${s%\}},mountpoint=\"$MNT\"}") ;;
		*) args+=("$s{mountpoint=\"$MNT\"}") ;;
		esac
	done
	"$PY" "$HELPERS/promcheck.py" "$PROM" "${args[@]}"
}

# True when poolfs is built with AddressSanitizer (make san): its
# allocator keeps freed memory in quarantine, so memory bounds mean
# nothing there.
t_sanitized() { grep -q __asan_init "$POOLFS" 2> /dev/null; }

# ---- mounts -------------------------------------------------------------

# True when path is a mountpoint; reads mountinfo so that it never touches
# a hung FUSE mount (mountpoint(1) stats it).
is_mounted() {
	awk -v m="$1" '$5 == m { f = 1 } END { exit !f }' /proc/self/mountinfo
}

# Aborts the FUSE connection of a mount: the last resort for a hung daemon.
fuse_abort() {
	local mnt=$1 dev minor
	dev=$(awk -v m="$mnt" '$5 == m { print $3 }' /proc/self/mountinfo | tail -n1)
	[ -n "$dev" ] || return 0
	minor=${dev#*:}
	if [ ! -d /sys/fs/fuse/connections/"$minor" ]; then
		mount -t fusectl none /sys/fs/fuse/connections 2>/dev/null || true
	fi
	[ -w /sys/fs/fuse/connections/"$minor"/abort ] &&
		echo 1 > /sys/fs/fuse/connections/"$minor"/abort 2>/dev/null || true
}

# pool_init [STORE [init args...]]: creates a pool with poolctl init; dies
# when it fails. Pools are encrypted (the default cipher) with a master key
# in $T_TMP/master.key unless the args say otherwise.
pool_init() {
	local store=${1:-$STORE}
	[ $# -gt 0 ] && shift
	[ $# -eq 0 ] && set -- --key-file "$T_TMP/master.key"
	"$POOLCTL" init "$store" "$@" > "$T_TMP/init.out" 2>&1 ||
		die "poolctl init $store failed (exit $?): $(head -c 300 "$T_TMP/init.out")"
}

# pool_mount [STORE [MNT [extra poolfs args...]]]: starts poolfs in the
# background and waits until the mount answers. Sets POOLFS_PID.
pool_mount() {
	local store=${1:-$STORE} mnt=${2:-$MNT} pid log i
	[ $# -gt 2 ] && shift 2 || set --
	mkdir -p "$mnt"
	T_NMOUNT=$((T_NMOUNT + 1))
	log=$T_TMP/poolfs.$T_NMOUNT.log
	local opts=()
	[ -n "$POOLFS_OPTS" ] && opts=(-o "$POOLFS_OPTS")
	"$POOLFS" "$store" "$mnt" -f "${opts[@]}" "$@" > "$log" 2>&1 &
	pid=$!
	[ -n "${POOLFS_RUN_DIR:-}" ] && echo "$pid" >> "$POOLFS_RUN_DIR/pids"
	T_PID[$mnt]=$pid
	T_LOG[$mnt]=$log
	T_MOUNTS+=("$mnt")
	POOLFS_PID=$pid
	for ((i = 0; i < 300; i++)); do
		if is_mounted "$mnt" && timeout 10 stat "$mnt" > /dev/null 2>&1; then
			return 0
		fi
		if ! kill -0 "$pid" 2> /dev/null; then
			wait "$pid"
			local rc=$?
			echo "poolfs exited with $rc before mounting $mnt; its output:"
			show_tail "$log"
			die "poolfs did not mount"
		fi
		sleep 0.1
	done
	show_tail "$log"
	die "poolfs did not mount $mnt within 30 s"
}

# Waits up to $2 seconds (default 30) for pid to exit; returns its status,
# or 255 when it is still running.
wait_pid() {
	local pid=$1 secs=${2:-30} i
	for ((i = 0; i < secs * 10; i++)); do
		if ! kill -0 "$pid" 2> /dev/null; then
			wait "$pid" 2> /dev/null
			return $?
		fi
		sleep 0.1
	done
	return 255
}

# pool_umount [MNT]: fusermount3 -u, then expects the daemon to exit 0 by
# itself. A daemon that crashes or hangs on unmount is a failure.
pool_umount() {
	local mnt=${1:-$MNT} pid rc i
	pid=${T_PID[$mnt]:-}
	# a daemon that is already gone is reported as such, then unmounted
	[ -n "$pid" ] && ! kill -0 "$pid" 2> /dev/null && daemon_died_check
	T_PID[$mnt]=
	for ((i = 0; i < 20; i++)); do
		is_mounted "$mnt" || break
		fusermount3 -u "$mnt" 2> "$T_TMP/umount.err" && break
		sleep 0.5
	done
	if is_mounted "$mnt"; then
		fail "fusermount3 -u $mnt failed: $(cat "$T_TMP/umount.err")"
		fuse_abort "$mnt"
		fusermount3 -uz "$mnt" 2> /dev/null || umount -l "$mnt" 2> /dev/null
	fi
	[ -n "$pid" ] || return 0
	wait_pid "$pid" 30
	rc=$?
	if [ $rc = 255 ]; then
		fail "poolfs (pid $pid) still running 30 s after unmounting $mnt; killing it"
		kill -TERM "$pid" 2> /dev/null
		wait_pid "$pid" 5 > /dev/null || { kill -KILL "$pid" 2> /dev/null; wait_pid "$pid" 5; }
	elif [ $rc != 0 ]; then
		fail "poolfs exited with status $rc after unmounting $mnt"
		show_tail "${T_LOG[$mnt]}"
	fi
	return 0
}

# pool_kill9 [MNT]: kills the daemon hard (a crash) and clears the dead mount.
pool_kill9() {
	local mnt=${1:-$MNT} pid
	pid=${T_PID[$mnt]:-}
	[ -n "$pid" ] || die "pool_kill9: no daemon on $mnt"
	kill -KILL "$pid" 2> /dev/null
	wait_pid "$pid" 10 > /dev/null
	T_PID[$mnt]=
	fusermount3 -u "$mnt" 2> /dev/null || fusermount3 -uz "$mnt" 2> /dev/null ||
		umount -l "$mnt" 2> /dev/null
	is_mounted "$mnt" && die "could not clear the dead mount $mnt"
	return 0
}

# True while the daemon of MNT runs and answers.
daemon_alive() {
	local mnt=${1:-$MNT} pid
	pid=${T_PID[$mnt]:-}
	[ -n "$pid" ] && kill -0 "$pid" 2> /dev/null && is_mounted "$mnt" &&
		timeout 10 stat "$mnt" > /dev/null 2>&1
}

# daemon_ok WHAT [MNT]: the daemon still runs and serves a write and a read
# back (after bad input WHAT).
daemon_ok() {
	local what=$1 mnt=${2:-$MNT} f
	T_CHECKS=$((T_CHECKS + 1))
	if ! daemon_alive "$mnt"; then
		fail "daemon not serving after $what"
		show_tail "${T_LOG[$mnt]:-/dev/null}"
		return 1
	fi
	f=$mnt/.alive-$RANDOM
	if ! timeout 20 sh -c 'echo alive > "$1" && [ "$(cat "$1")" = alive ] && rm -f "$1"' _ "$f" \
		2> "$T_TMP/alive.err"; then
		fail "daemon runs but a small write+read fails after $what: $(cat "$T_TMP/alive.err")"
		return 1
	fi
	return 0
}

# tmpfs_mount DIR SIZE: a private tmpfs (unmounted by the cleanup).
tmpfs_mount() {
	mkdir -p "$1"
	mount -t tmpfs -o size="$2" tmpfs "$1" || die "cannot mount a tmpfs on $1"
	T_TMPFS+=("$1")
}

t_cleanup() {
	local rc=$? m i pid
	trap - EXIT TERM INT
	daemon_died_check report
	T_IN_CLEANUP=1
	for ((i = ${#T_MOUNTS[@]} - 1; i >= 0; i--)); do
		m=${T_MOUNTS[$i]}
		if is_mounted "$m" || [ -n "${T_PID[$m]:-}" ]; then
			pool_umount "$m"
		fi
	done
	for pid in "${T_PID[@]}"; do
		[ -n "$pid" ] && kill -KILL "$pid" 2> /dev/null
	done
	for m in "${T_TMPFS[@]}"; do
		umount "$m" 2> /dev/null || umount -l "$m" 2> /dev/null
	done
	# sanitizer builds: a report in any daemon log is a failure
	for m in "${T_LOG[@]}"; do
		if grep -qE 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:|WARNING: ThreadSanitizer' \
			"$m" 2> /dev/null; then
			fail "sanitizer report in daemon log $(basename "$m"):"
			grep -m1 -A12 -E 'Sanitizer|runtime error:' "$m" | sed 's/^/    | /'
		fi
	done
	if [ $T_FAILS -gt 0 ] || [ $rc != 0 ]; then
		for m in "${T_LOG[@]}"; do
			[ -s "$m" ] || continue
			echo "  daemon log $(basename "$m") (last lines):"
			show_tail "$m" 10
		done
	fi
	if [ -n "$T_TMP" ] && [ -d "$T_TMP" ]; then
		if [ "${KEEP:-0}" = 1 ]; then
			note "kept $T_TMP"
		else
			rm -rf "$T_TMP"
		fi
	fi
	if [ $T_FAILS -gt 0 ]; then
		echo "$T_NAME: $T_FAILS failures ($T_CHECKS checks)"
		exit 1
	fi
	if [ $rc != 0 ]; then
		echo "$T_NAME: exited with $rc"
		exit "$rc"
	fi
	echo "$T_NAME: all $T_CHECKS checks passed"
	exit 0
}

# ---- checks ------------------------------------------------------------

# check DESC CMD...: CMD must succeed; on failure shows its output.
check() {
	local desc=$1 rc
	shift
	T_CHECKS=$((T_CHECKS + 1))
	"$@" > "$T_TMP/check.out" 2>&1
	rc=$?
	if [ $rc != 0 ]; then
		fail "$desc: \`$*\` exited $rc"
		show_tail "$T_TMP/check.out" 10
		return 1
	fi
	return 0
}

# check_run DESC CMD...: like check, but CMD's output goes straight to the
# log (for helpers that print their own detailed FAIL lines).
check_run() {
	local desc=$1 rc
	shift
	T_CHECKS=$((T_CHECKS + 1))
	"$@" 2>&1 | sed 's/^/  /'
	rc=${PIPESTATUS[0]}
	if [ "$rc" != 0 ]; then
		fail "$desc: exited $rc"
		return 1
	fi
	return 0
}

# check_fails DESC CMD...: CMD must fail (any non-zero status but a timeout).
check_fails() {
	local desc=$1 rc
	shift
	T_CHECKS=$((T_CHECKS + 1))
	"$@" > "$T_TMP/check.out" 2>&1
	rc=$?
	if [ $rc = 0 ]; then
		fail "$desc: \`$*\` succeeded, expected failure"
		return 1
	fi
	return 0
}

# check_eq DESC GOT WANT
check_eq() {
	T_CHECKS=$((T_CHECKS + 1))
	if [ "$2" != "$3" ]; then
		fail "$1: got '$2', want '$3'"
		return 1
	fi
	return 0
}

# check_rc DESC WANT CMD...: CMD exits with status WANT.
check_rc() {
	local desc=$1 want=$2 rc
	shift 2
	T_CHECKS=$((T_CHECKS + 1))
	"$@" > "$T_TMP/check.out" 2>&1
	rc=$?
	if [ "$rc" != "$want" ]; then
		fail "$desc: \`$*\` exited $rc, want $want"
		show_tail "$T_TMP/check.out" 6
		return 1
	fi
	return 0
}

# check_same DESC GOT_FILE WANT_FILE: byte-for-byte equal; otherwise says
# the sizes and the first differing byte.
check_same() {
	local desc=$1 got=$2 want=$3 gs ws first
	T_CHECKS=$((T_CHECKS + 1))
	if [ ! -e "$got" ]; then
		fail "$desc: $got does not exist"
		return 1
	fi
	if timeout 600 cmp -s "$got" "$want"; then
		return 0
	fi
	gs=$(stat -c %s "$got" 2> /dev/null)
	ws=$(stat -c %s "$want" 2> /dev/null)
	first=$(timeout 600 cmp "$got" "$want" 2>&1 | head -n1)
	fail "$desc: $got differs from expected (size $gs, want $ws): $first"
	timeout 60 cmp -l "$got" "$want" 2> /dev/null | head -n 3 |
		awk '{ printf "    | byte %d: got %03o want %03o (octal)\n", $1, $2, $3 }'
	return 1
}

# check_sum DESC FILE SHA256: large files are compared by checksum.
check_sum() {
	local desc=$1 f=$2 want=$3 got
	T_CHECKS=$((T_CHECKS + 1))
	got=$(timeout 900 sha256sum < "$f" 2> "$T_TMP/sum.err" | cut -d' ' -f1)
	if [ "$got" != "$want" ]; then
		fail "$desc: sha256 of $f is '${got:-<read failed: $(cat "$T_TMP/sum.err")>}', want $want (size $(stat -c %s "$f" 2> /dev/null))"
		return 1
	fi
	return 0
}

# check_errno DESC ERRNO OP ARGS...: runs one system call through
# sysop.py and expects it to fail with ERRNO (or "OK" for success).
check_errno() {
	local desc=$1 want=$2 got
	shift 2
	T_CHECKS=$((T_CHECKS + 1))
	got=$(timeout 60 "$PY" "$HELPERS/sysop.py" "$@" 2>&1)
	[ $? = 124 ] && got="TIMEOUT (60 s)"
	if [ "$got" != "$want" ]; then
		fail "$desc: $* gave ${got:-<nothing>}, want $want"
		return 1
	fi
	return 0
}

# sysop OP ARGS...: prints OK or the errno name of one system call.
sysop() { timeout 60 "$PY" "$HELPERS/sysop.py" "$@" 2>&1; }

# gen SEED SIZE [text]: deterministic content on stdout.
gen() { "$PY" "$HELPERS/gen.py" "$@"; }

# wait_for SECS CMD...: polls CMD every 0.1 s until it succeeds; returns 1
# when SECS pass first. Used where the contract allows asynchrony (the
# commit on close runs in FUSE's release, after close() has returned).
wait_for() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" > /dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# wait_version DIR NAME N: waits for version N of DIR/NAME to exist: 10 s,
# or 1 s once a wait has failed in this test (versions not working at all
# should fail the test, not make it run into its timeout).
T_WAIT_SECS=10
wait_version() {
	T_CHECKS=$((T_CHECKS + 1))
	wait_for "$T_WAIT_SECS" test -e "$1/.versions/$2/$3" && return 0
	fail "version $3 of $1/$2 did not appear within $T_WAIT_SECS s (have: $(ls "$1/.versions/$2" 2>&1 | tr '\n' ' '))"
	T_WAIT_SECS=1
	return 1
}

# ---- poolctl -------------------------------------------------------------

pctl() { timeout 120 "$POOLCTL" -s "${PSTORE:-$STORE}" "$@"; }

# versions_count POOLPATH: number of versions poolctl reports (JSON).
versions_count() {
	pctl versions "$1" --json 2> "$T_TMP/pctl.err" | "$PY" "$HELPERS/jsonq.py" count
}

# stat_field KEY: a number from `poolctl stats --json`.
stats_field() {
	pctl stats --json 2> "$T_TMP/pctl.err" | "$PY" "$HELPERS/jsonq.py" get "$1"
}
