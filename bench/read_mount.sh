#!/usr/bin/env bash
# bench/read_mount.sh [BUILD [WORK]]: the sequential read row of
# bench/run.sh alone, with many samples: one MB-MiB file of random bytes
# read with dd bs=1M through poolfs and through libfuse's passthrough_ll,
# both daemons mounted side by side and the samples taken in alternation
# (poolfs, passthrough_ll, passthrough_ll, poolfs, ...) so the drift of a
# shared machine reaches both alike; medians compared, with a bootstrap
# 95 % interval of their ratio.
#
# cold: page cache dropped before each sample; warm: the same file read
# again right after (poolfs keeps the page cache of a version it served,
# passthrough_ll's default open drops it).
#
# Environment: BENCH_MB (1024), PAIRS (15), CIPHER (none, as run.sh's
# reference pool; aes-256-gcm for the encrypted one).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
MB=${BENCH_MB:-1024}
PAIRS=${PAIRS:-15}
CIPHER=${CIPHER:-none}
OWN_WORK=0
if [ $# -ge 2 ]; then
	WORK=$2/read
	mkdir -p "$WORK"
else
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/poolfs-read.XXXXXX") || exit 2
	mount -t tmpfs -o size=$((MB * 2 + 512))m tmpfs "$WORK" || exit 2
	OWN_WORK=1
fi
PT=$BUILD/bench-ref/passthrough_ll
EX=/usr/share/doc/libfuse3-dev/examples
if [ ! -x "$PT" ]; then
	mkdir -p "$BUILD/bench-ref"
	gcc -O2 -Wall -I"$EX" -o "$PT" "$EX/passthrough_ll.c" $(pkg-config --cflags --libs fuse3) ||
		exit 2
fi
declare -A PID
cleanup() {
	for m in "$WORK/mnt_pt" "$WORK/mnt_pf"; do
		fusermount3 -u "$m" 2> /dev/null
	done
	for p in "${PID[@]}"; do wait "$p" 2> /dev/null; done
	[ $OWN_WORK = 1 ] && { umount "$WORK"; rmdir "$WORK"; }
}
trap cleanup EXIT
mkdir -p "$WORK/native" "$WORK/mnt_pt" "$WORK/mnt_pf"
KEYOPT=()
[ "$CIPHER" != none ] && KEYOPT=(--key-file "$WORK/pool.key")
"$BUILD/poolctl" init "$WORK/store" --cipher "$CIPHER" "${KEYOPT[@]}" \
	> "$WORK/init.log" 2>&1 || { cat "$WORK/init.log"; exit 1; }
# each in its own session, as a daemon is (see audit_mount.sh)
setsid "$PT" -f -o source="$WORK/native" "$WORK/mnt_pt" 2> "$WORK/pt.log" &
PID[pt]=$!
setsid "$BUILD/poolfs" "$WORK/store" "$WORK/mnt_pf" -f -o allow_all 2> "$WORK/pf.log" &
PID[pf]=$!
for m in mnt_pt mnt_pf; do
	for _ in $(seq 100); do grep -q " $WORK/$m fuse" /proc/self/mounts && break; sleep 0.1; done
done
head -c $((MB << 20)) /dev/urandom > "$WORK/native/seq.bin"
dd if="$WORK/native/seq.bin" of="$WORK/mnt_pf/seq.bin" bs=1M conv=fsync status=none || exit 1
echo "poolfs pid ${PID[pf]}, passthrough_ll pid ${PID[pt]}" >&2
python3 - "$WORK/mnt_pf/seq.bin" "$WORK/mnt_pt/seq.bin" "$MB" "$PAIRS" <<'PY'
import random, statistics, subprocess, sys, time
pf, pt, mb, pairs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

def read(path, cold):
    if cold:
        subprocess.run(["sync"], check=True)
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
    t = time.perf_counter()
    subprocess.run(["dd", "if=" + path, "of=/dev/null", "bs=1M", "status=none"], check=True)
    return mb / (time.perf_counter() - t)

res = {(p, c): [] for p in (pf, pt) for c in (True, False)}
for i in range(pairs):
    for p in ((pf, pt) if i % 2 == 0 else (pt, pf)):
        res[p, True].append(read(p, True))
        res[p, False].append(read(p, False))
rnd = random.Random(1)
print("what|poolfs MB/s|passthrough_ll MB/s|ratio|95% interval|target|met")
for cold in (True, False):
    a, b = res[pf, cold], res[pt, cold]
    boot = sorted(statistics.median(rnd.choices(a, k=pairs)) /
                  statistics.median(rnd.choices(b, k=pairs)) for _ in range(2000))
    r = statistics.median(a) / statistics.median(b)
    print("sequential read %d MiB, 1 MiB requests, %s, median of %d|%.0f|%.0f|%.2f|%.2f-%.2f|>= 0.95|%s"
          % (mb, "cold" if cold else "warm", pairs, statistics.median(a), statistics.median(b),
             r, boot[50], boot[1949], "yes" if r >= 0.95 else "NO"))
PY
