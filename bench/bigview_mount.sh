#!/usr/bin/env bash
# bench/bigview_mount.sh BUILD WORK: DESIGN.md's "masked read of a file
# whose view exceeds the view cache: works, first byte in < 1 s, >= 0.5 x
# plain read", through a real mount (docs/desensitization.md "Views in
# segments").
#
# The store, policy and CSV of bench/views_mount.sh (10 columns, 3 masked
# for renshe through grant g1), but the pool is mounted with
# -o view_budget=BIGVIEW_BUDGET (64M), far below the view: the commit's
# precompute keeps only the view's segment map, and every read makes
# segments from the source. The provider publishes a BIGVIEW_MB MiB CSV
# streamed straight into the mount (no copy of it in WORK), the script
# waits for the map, then, caches dropped before each of BENCH_REPS runs
# (the median is shown):
#   (a) gongan reads raw, dd bs=1M: the plain read, the reference;
#   (b) renshe's first byte: open and read(1) of its masked view;
#   (c) renshe reads its whole masked view, dd bs=1M.
# Also the daemon's peak RSS over (c), above what it held before. A raw
# ID of the source in renshe's read is an ERROR (exit 1).
#
# Environment: BIGVIEW_MB (1024; 10240 for the 10 GiB figure),
# BIGVIEW_BUDGET (64M), BENCH_REPS (3). BIGVIEW_CMP="PATH..." (other
# poolfs binaries, e.g. builds of older commits): then, on the same
# store, BENCH_REPS rounds remount each and this build in turn and time
# (a) and (c) under each, so a change is compared within one run's load.
# Needs root, setpriv and /dev/fuse; WORK is run.sh's work area.
set -uo pipefail
[ $# = 2 ] && [ -n "$2" ] && [ -d "$2" ] ||
	{ echo "bigview bench: ERROR: usage: bigview_mount.sh BUILD WORK (an existing directory)"; exit 1; }
BUILD=$1
WORK=$2
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
POOLFS=$BUILD/poolfs
POOLCTL=$BUILD/poolctl
ROOT=$(cd "$(dirname "$0")/.." && pwd)
META=$ROOT/bench/meta.py
JSONQ=$ROOT/tests/mount/jsonq.py
MB=${BIGVIEW_MB:-1024}
BUDGET=${BIGVIEW_BUDGET:-64M}
REPS=${BENCH_REPS:-3}
PY=${PYTHON:-python3}

err() { printf 'bigview bench: ERROR: %s\n' "$*"; }
say() { printf 'bigview bench: %s\n' "$*" >&2; }

. "$(dirname "$0")/lib.sh"	# median, the view benches' mount, store and read helpers

[ -x "$POOLFS" ] && [ -x "$POOLCTL" ] || { err "poolfs/poolctl not built in $BUILD"; exit 1; }
command -v setpriv > /dev/null || { err "setpriv not found (util-linux)"; exit 1; }

D=$WORK/bigview			# everything of this bench, removed at exit
STORE=$D/store
MNT=$D/mnt
ENTRY=/基础库/人口/户籍人口		# gongan provides, renshe reads through g1
FILE=bench.csv
PID=

cleanup() { stop_daemon; rm -rf "$D"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# the store alone (the source streams in; no view is stored), and slack
bench_dir "$WORK" $((MB + 256))

CAN_DROP=0
(sync; echo 3 > /proc/sys/vm/drop_caches) 2> /dev/null && CAN_DROP=1
cold() { sync; [ $CAN_DROP = 1 ] && echo 3 > /proc/sys/vm/drop_caches; }

# ---- the store and its policy ----
pop_store

# ---- publish a BIGVIEW_MB MiB CSV, and wait for its segment map ----
mount_pf -o view_budget="$BUDGET"
say "gongan publishes a ${MB} MiB CSV"
t0=$(date +%s.%N)
pop_csv "$MB" "$D/id1" | asA sh -c 'cat > "$1"' _ "$MNT$ENTRY/$FILE" ||
	{ err "gongan's write into $ENTRY failed: $(tail -n3 "$D/poolfs.log")"; exit 1; }
t1=$(date +%s.%N)
ID1=$(cat "$D/id1")
limit=$((60 + MB / 2))
wait_views "$t1" "$limit" "segment map"
t2=$(date +%s.%N)
T_CP=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
T_MAP=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.1f", b - a }')
VB=$("$POOLCTL" -s "$STORE" stats --json 2> /dev/null | "$PY" "$JSONQ" get view_bytes)

F=$MNT$ENTRY/$FILE
first_byte() { "$PY" "$META" time setpriv --reuid 1002 --regid 2002 --clear-groups \
	head -c 1 "$1"; }
RAW=$(size A "$F")
VIEW=$(size B "$F")
[ "$VIEW" -gt 0 ] || { err "renshe's view of $F has size 0: $(tail -n3 "$D/poolfs.log")"; exit 1; }
# one full read as renshe: every byte, and no raw ID of the source
leak_check B "$F" "$ID1" || exit 1

say "(a) gongan reads raw"
TA=$(median read_secs "$F" 1001 2001) || { err "gongan's read failed"; exit 1; }
say "(b) renshe's first byte"
TB=$(median first_byte "$F") || { err "renshe's first byte failed"; exit 1; }
say "(c) renshe reads its masked view"
echo 5 > "/proc/$PID/clear_refs" 2> /dev/null
rss0=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$PID/status")
TC=$(median read_secs "$F" 1002 2002) || { err "renshe's read failed"; exit 1; }
peak=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$PID/status")
stop_daemon

if [ -n "${BIGVIEW_CMP:-}" ]; then
	say "same-run comparison: $BIGVIEW_CMP against $POOLFS"
	HZ=$(getconf CLK_TCK)
	# the daemon's user + system CPU time, in clock ticks
	cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; }
	CMP_OUT=$(trap stop_daemon EXIT
		for ((i = 1; i <= REPS; i++)); do
		for bin in $BIGVIEW_CMP "$POOLFS"; do
			POOLFS=$bin mount_pf -o view_budget="$BUDGET"
			cold
			c0=$(cpu_ticks)
			ta=$(read_secs "$F" 1001 2001) || { err "gongan's read failed"; exit 1; }
			cold
			c1=$(cpu_ticks)
			tc=$(read_secs "$F" 1002 2002) || { err "renshe's read failed"; exit 1; }
			c2=$(cpu_ticks)
			stop_daemon
			awk -v r="$i" -v b="$bin" -v a="$RAW" -v c="$VIEW" -v ta="$ta" -v tc="$tc" \
				-v ca=$((c1 - c0)) -v cc=$((c2 - c1)) -v hz="$HZ" \
				'BEGIN { printf "%d|%s|%.0f|%.0f|%.2f|%.2f|%.2f\n", r, b, a / 1048576 / ta,
					 c / 1048576 / tc, (c / tc) / (a / ta), ca / hz, cc / hz }'
		done
	done) || exit 1
fi

RA=$(awk -v b="$RAW" -v t="$TA" 'BEGIN { printf "%.0f", b / 1048576 / t }')
RC=$(awk -v b="$VIEW" -v t="$TC" 'BEGIN { printf "%.0f", b / 1048576 / t }')
ratio=$(awk -v x="$RC" -v y="$RA" 'BEGIN { if (y > 0) printf "%.2f", x / y; else print "-" }')
met_c=$(awk -v r="$ratio" 'BEGIN { print (r >= 0.5 ? "yes" : "NO") }')
met_b=$(awk -v t="$TB" 'BEGIN { print (t < 1 ? "yes" : "NO") }')
echo "masked read of a ${MB} MiB CSV whose view ($(awk -v b="$VIEW" 'BEGIN { printf "%.0f", b / 1048576 }') MiB)" \
	"exceeds the view cache (-o view_budget=$BUDGET), median of $REPS," \
	"caches $([ $CAN_DROP = 1 ] && echo dropped || echo 'NOT dropped')"
{
	echo "what|MiB|s|MB/s|x (a)|target|met"
	echo "(a) provider reads raw, dd bs=1M|$((RAW >> 20))|$TA|$RA|1.00|-|-"
	echo "(b) renshe's first byte (open + read 1)|-|$TB|-|-|< 1 s|$met_b"
	echo "(c) renshe reads its view in segments, dd bs=1M|$((VIEW >> 20))|$TC|$RC|$ratio|>= 0.5|$met_c"
} | column -t -s '|'
echo "publish (streamed write, incl. commit): ${T_CP} s; segment map precomputed ${T_MAP} s after;" \
	"view cache holds ${VB:-?} bytes; daemon peak RSS over (c) $(( (peak - rss0) / 1024 )) MiB above $((rss0 / 1024)) MiB"
if [ -n "${BIGVIEW_CMP:-}" ]; then
	echo "same-run comparison, caches dropped before each read:"
	{ echo "round|poolfs|(a) MB/s|(c) MB/s|(c) / (a)|daemon CPU s (a)|(c)"; echo "$CMP_OUT"; } |
		column -t -s '|'
fi
