#!/usr/bin/env bash
# bench/audit_mount.sh BUILD WORK: an open+read+close loop over small files
# through a mounted poolfs with audit on, against the same loop with audit
# off. The switch exists only in a bench build (-DPOOL_BENCH_AUDIT_SWITCH,
# made here in BUILD-benchaudit); the poolfs that make builds has none.
set -uo pipefail
BUILD=$1
WORK=$2
ABUILD=$BUILD-benchaudit
NSMALL=${NSMALL:-500}
ROUNDS=${ROUNDS:-20}
REPS=${BENCH_REPS:-3}
cd "$(dirname "$0")/.."
make --no-print-directory BUILD="$ABUILD" CFLAGS="-O2 -g -DPOOL_BENCH_AUDIT_SWITCH" \
	"$ABUILD/poolfs" "$ABUILD/poolctl" > "$WORK/benchaudit.build.log" 2>&1 ||
	{ echo "audit bench: build failed (see $WORK/benchaudit.build.log)"; exit 1; }

loop_secs() {	# loop_secs DIR: seconds for ROUNDS passes of open+read+close
	python3 - "$1" "$NSMALL" "$ROUNDS" <<'PY'
import os, sys, time
d, n, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t = time.perf_counter()
for _ in range(rounds):
    for i in range(n):
        with open(os.path.join(d, "f%d" % i), "rb") as f:
            f.read()
print("%.3f" % (time.perf_counter() - t))
PY
}

# Both daemons run side by side and the loops alternate, REPS times each,
# so a burst of other load on the machine hits both sides alike; a loop
# takes a second or more, and the median of each side is compared.
declare -A PID
for mode in on off; do
	store=$WORK/audit_$mode.store mnt=$WORK/audit_$mode.mnt
	rm -rf "$store" "$mnt"
	mkdir -p "$mnt"
	"$ABUILD/poolctl" init "$store" > /dev/null || exit 1
	POOLFS_BENCH_AUDIT=$mode "$ABUILD/poolfs" "$store" "$mnt" -f -o allow_all 2> "$WORK/audit_$mode.log" &
	PID[$mode]=$!
	for _ in $(seq 100); do grep -q " $mnt fuse" /proc/self/mounts && break; sleep 0.1; done
	python3 - "$mnt" "$NSMALL" <<'PY'
import os, sys
for i in range(int(sys.argv[2])):
    with open(os.path.join(sys.argv[1], "f%d" % i), "wb") as f:
        f.write(b"x" * 2048)
PY
done
declare -A RUNS
for ((r = 0; r < REPS; r++)); do
	for mode in on off; do
		RUNS[$mode]+="$(loop_secs "$WORK/audit_$mode.mnt") "
	done
done
for mode in on off; do
	fusermount3 -u "$WORK/audit_$mode.mnt"
	wait "${PID[$mode]}"
done
declare -A T
for mode in on off; do
	T[$mode]=$(printf '%s\n' ${RUNS[$mode]} | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
done
ratio=$(awk -v a="${T[on]}" -v b="${T[off]}" 'BEGIN { printf "%.2f", a / b }')
met=$(awk -v r="$ratio" 'BEGIN { print (r <= 1.3 ? "yes" : "NO") }')
printf '%s|%s|%s|%s|%s|%s\n' what "audit on, s" "audit off, s" ratio target met \
	"open+read+close of $NSMALL small files x $ROUNDS, median of $REPS" "${T[on]}" "${T[off]}" "$ratio" "<= 1.3" "$met" |
	column -t -s '|'
