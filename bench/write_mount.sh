#!/usr/bin/env bash
# bench/write_mount.sh [BUILD]: sequential write (dd bs=1M conv=fsync, so
# the commit is in) through passthrough_ll, gocryptfs and poolfs (an
# unencrypted and an aes-256-gcm pool) mounted side by side over one
# tmpfs, the filesystems taken in turn in every round (starting one
# further each round) so the machine's drift reaches them alike, caches
# dropped before each write as in bench/run.sh. Prints the medians, the ratios against
# passthrough_ll and gocryptfs, and each daemon's CPU seconds per write
# (user+system from /proc/PID/stat), which shows where a slow write
# waits. Not part of `make bench`: bench/run.sh has the write row; this is
# the quick A/B harness behind bench/RESULTS.md's "Sequential write".
# Environment: BENCH_MB (512), BENCH_REPS (5), BENCH_NO_GOCRYPTFS=1,
# BENCH_BASE=DIR (a second build, e.g. of the commit before a change:
# its poolfs joins the rounds as "poolfs (base)", unencrypted),
# BENCH_PERF=FILE (perf record -g the plain pool's daemon during its
# first write, into FILE).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-${BUILD:-build}}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
MB=${BENCH_MB:-512}
REPS=${BENCH_REPS:-5}
PY=${PYTHON:-python3}
META=$ROOT/bench/meta.py
PT=$BUILD/bench-ref/passthrough_ll
EX=/usr/share/doc/libfuse3-dev/examples

[ "$(id -u)" = 0 ] || { echo "write bench: needs root" >&2; exit 2; }
if [ ! -x "$PT" ]; then
	mkdir -p "$BUILD/bench-ref"
	gcc -O2 -Wall -I"$EX" -o "$PT" "$EX/passthrough_ll.c" $(pkg-config --cflags --libs fuse3) ||
		exit 2
fi
FSL=(pt pf pfa)
[ "${BENCH_NO_GOCRYPTFS:-0}" != 1 ] && command -v gocryptfs > /dev/null && FSL=(pt gc pf pfa)
[ -n "${BENCH_BASE:-}" ] && FSL+=(pfb)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/poolfs-wbench.XXXXXX") || exit 2
# a pool keeps every version, so each pool grows by MB a round
mount -t tmpfs -o size=$((MB * (4 * REPS + 2) + 1024))m tmpfs "$WORK" || exit 2
declare -A PID T C
cleanup() {
	local f
	for f in "${FSL[@]}"; do fusermount3 -u "$WORK/mnt_$f" 2> /dev/null; done
	sleep 0.3
	umount "$WORK" 2> /dev/null || umount -l "$WORK"
	rmdir "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/native" "$WORK/gc_cipher"
"$BUILD/poolctl" init "$WORK/pf.store" --cipher none > /dev/null || exit 1
"$BUILD/poolctl" init "$WORK/pfa.store" --cipher aes-256-gcm --key-file "$WORK/pfa.key" \
	> /dev/null || exit 1
[ -n "${BENCH_BASE:-}" ] && { "$BENCH_BASE/poolctl" init "$WORK/pfb.store" --cipher none \
	> /dev/null || exit 1; }
[ "${FSL[1]}" = gc ] && { gocryptfs -q -init -extpass "echo bench" -scryptn 10 \
	"$WORK/gc_cipher" > /dev/null 2>&1 || exit 1; }
for f in "${FSL[@]}"; do
	m=$WORK/mnt_$f
	mkdir -p "$m"
	case $f in
	pt) setsid "$PT" -f -o source="$WORK/native" "$m" 2> "$WORK/$f.log" & ;;
	gc) setsid gocryptfs -q -fg -extpass "echo bench" "$WORK/gc_cipher" "$m" 2> "$WORK/$f.log" & ;;
	pf | pfa) setsid "$BUILD/poolfs" "$WORK/$f.store" "$m" -f -o allow_all 2> "$WORK/$f.log" & ;;
	pfb) setsid "$BENCH_BASE/poolfs" "$WORK/$f.store" "$m" -f -o allow_all 2> "$WORK/$f.log" & ;;
	esac
	PID[$f]=$!
	for _ in $(seq 100); do grep -q " $m fuse" /proc/self/mounts && break; sleep 0.1; done
	grep -q " $m fuse" /proc/self/mounts || { echo "$f did not mount: $(tail -n 2 "$WORK/$f.log")"; exit 1; }
done

cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }	# clock ticks
TCK=$(getconf CLK_TCK)
for ((i = 0; i < REPS; i++)); do
	# new bytes each round: a pool would dedupe a repeat to nothing
	head -c $((MB << 20)) /dev/urandom > "$WORK/src.$i" || exit 1
	# each round starts one further along the list, so no filesystem is
	# always the first after a new source (bench/RESULTS.md: the first
	# one's samples were the ones that went astray)
	for ((k = 0; k < ${#FSL[@]}; k++)); do
		f=${FSL[$(((k + i) % ${#FSL[@]}))]}
		# as bench/run.sh does before every write (bench/lib.sh median)
		sync
		echo 3 > /proc/sys/vm/drop_caches
		c0=$(cpu "${PID[$f]}")
		if [ -n "${BENCH_PERF:-}" ] && [ $f = pf ] && [ $i = 0 ]; then
			perf record -g -o "$BENCH_PERF" -p "${PID[$f]}" 2> /dev/null &
			pp=$!
			sleep 0.5
		fi
		t=$("$PY" "$META" time dd if="$WORK/src.$i" of="$WORK/mnt_$f/w$i" bs=1M conv=fsync) ||
			{ echo "$f: write failed"; exit 1; }
		[ -n "${pp:-}" ] && { kill -INT $pp; wait $pp; pp=; }
		c1=$(cpu "${PID[$f]}")
		T[$f]+="$t "
		C[$f]+="$(awk -v a="$c0" -v b="$c1" -v k="$TCK" 'BEGIN { printf "%.2f", (b - a) / k }') "
		rm -f "$WORK/mnt_$f/w$i"
	done
	rm -f "$WORK/src.$i"
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"

med() { tr ' ' '\n' <<< "$1" | grep . | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
rate() { awk -v t="$1" -v mb="$MB" 'BEGIN { printf "%.0f", mb / t }'; }
declare -A name=([pt]=passthrough_ll [gc]=gocryptfs [pf]="poolfs" [pfa]="poolfs aes-256-gcm"
	[pfb]="poolfs (base)")
{
	echo "fs|MB/s (median)|samples s|daemon CPU s (median)|x passthrough_ll|x gocryptfs"
	ptr=$(rate "$(med "${T[pt]}")")
	gcr=$([ -n "${T[gc]:-}" ] && rate "$(med "${T[gc]}")" || echo 0)
	for f in "${FSL[@]}"; do
		r=$(rate "$(med "${T[$f]}")")
		echo "${name[$f]}|$r|${T[$f]}|$(med "${C[$f]}")|$(awk -v a="$r" -v b="$ptr" \
			'BEGIN { printf "%.2f", a / b }')|$(awk -v a="$r" -v b="$gcr" \
			'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
	done
} | column -t -s '|'
echo "sequential write of $MB MiB, dd bs=1M conv=fsync, median of $REPS, $(nproc) cores"
