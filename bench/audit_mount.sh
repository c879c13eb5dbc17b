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
ROUNDS=${ROUNDS:-1}	# passes over the files per sample
PAIRS=${PAIRS:-100}	# samples of each side, taken in alternation
cd "$(dirname "$0")/.."
make --no-print-directory BUILD="$ABUILD" CFLAGS="-O2 -g -DPOOL_BENCH_AUDIT_SWITCH" \
	"$ABUILD/poolfs" "$ABUILD/poolctl" > "$WORK/benchaudit.build.log" 2>&1 ||
	{ echo "audit bench: build failed (see $WORK/benchaudit.build.log)"; exit 1; }

# Both daemons run side by side and the samples alternate (on, off, off,
# on, ...), each a short loop of ROUNDS passes, so drift of the machine
# (other load, CPU clocks, RocksDB's background work) reaches both sides
# alike; the medians of the two sides are compared, with a bootstrap 95 %
# interval of that ratio. One long loop per side, as before, moved by
# 1.3-2.3x from run to run on this machine.
declare -A PID
for mode in on off; do
	store=$WORK/audit_$mode.store mnt=$WORK/audit_$mode.mnt
	rm -rf "$store" "$mnt"
	mkdir -p "$mnt"
	"$ABUILD/poolctl" init "$store" --cipher none > /dev/null || exit 1
	# its own session, as when it daemonizes (no -f); -f keeps its pid here
	POOLFS_BENCH_AUDIT=$mode setsid "$ABUILD/poolfs" "$store" "$mnt" -f -o allow_all \
		2> "$WORK/audit_$mode.log" &
	PID[$mode]=$!
	for _ in $(seq 100); do grep -q " $mnt fuse" /proc/self/mounts && break; sleep 0.1; done
	python3 - "$mnt" "$NSMALL" <<'PY'
import os, sys
for i in range(int(sys.argv[2])):
    with open(os.path.join(sys.argv[1], "f%d" % i), "wb") as f:
        f.write(b"x" * 2048)
PY
done
out=$(python3 - "$WORK/audit_on.mnt" "$WORK/audit_off.mnt" "$NSMALL" "$ROUNDS" "$PAIRS" <<'PY'
import os, random, statistics, sys, time
on, off = sys.argv[1], sys.argv[2]
n, rounds, pairs = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])

def loop(d):
    t = time.perf_counter()
    for _ in range(rounds):
        for i in range(n):
            with open(os.path.join(d, "f%d" % i), "rb") as f:
                f.read()
    return time.perf_counter() - t

t = {on: [], off: []}
for p in range(pairs):
    for d in ((on, off) if p % 2 == 0 else (off, on)):
        t[d].append(loop(d))
rnd = random.Random(1)
boot = sorted(statistics.median(rnd.choices(t[on], k=pairs)) /
              statistics.median(rnd.choices(t[off], k=pairs)) for _ in range(2000))
print("%.4f %.4f %.2f-%.2f" % (statistics.median(t[on]), statistics.median(t[off]),
                                boot[50], boot[1949]))
PY
) || { echo "audit bench: the loop failed"; out="0 0 -"; }
for mode in on off; do
	fusermount3 -u "$WORK/audit_$mode.mnt"
	wait "${PID[$mode]}"
done
read -r t_on t_off ci <<< "$out"
ratio=$(awk -v a="$t_on" -v b="$t_off" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
met=$(awk -v r="$ratio" 'BEGIN { print (r > 0 && r <= 1.3 ? "yes" : "NO") }')
printf '%s|%s|%s|%s|%s|%s|%s\n' what "audit on, s" "audit off, s" ratio "95% interval" target met \
	"open+read+close of $NSMALL small files x $ROUNDS, median of $PAIRS" "$t_on" "$t_off" "$ratio" "$ci" "<= 1.3" "$met" |
	column -t -s '|'
