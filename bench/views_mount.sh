#!/usr/bin/env bash
# bench/views_mount.sh BUILD WORK: DESIGN.md's "masked sequential read
# (precomputed view) >= 0.9 x plain read of poolfs", through a real mount.
#
# A pool mount (no allow_all) of a fresh store with one CSV entry of 10
# columns, provided by gongan (uid 1001), and one grant that lets renshe
# (uid 1002) read every column with 3 of them masked (id_card, name,
# phone: masks that keep the length in characters), no row filter. The
# provider publishes a BENCH_MB MiB CSV with plain cp; the commit queues
# the grant's view, and the script waits until `poolctl stats` counts it
# (the time that takes is printed too). Then, caches dropped before each
# of BENCH_REPS runs (the median is shown), dd bs=1M of the whole file:
#   (a) gongan reads raw in the pool mount: the plain read, the reference.
#       Each view of the file has a kernel inode of its own, and both
#       readers use its page cache (docs/filesystem.md "Views and the
#       page cache").
#   (b) renshe reads its masked view in the same mount: the target row.
#   (b') renshe maps its view MAP_SHARED (Python mmap, 1 MiB slices into
#       SHA-256), once, caches dropped: DESIGN.md's "works, same bytes as
#       read()" (the digest of a cat of the view).
#   (c) gongan reads a copy in a second entry shared with nobody: a file
#       whose bytes do not depend on the caller, so the page-cache path
#       (nothing outside an entry is writable in a pool mount).
#   (d) renshe reads its view through a department mount (-o dept=renshe),
#       which may use the page cache.
# MB/s is bytes read (st_size as that reader: a view has its own size) /
# seconds, with MB = MiB as in run.sh. renshe's read must not contain a
# raw ID of the source, and its map must be its read(); else ERROR, exit 1.
#
# Environment: BENCH_MB (1024), BENCH_REPS (3), UPY (/usr/bin/python3,
# which the readers' uids may run). Needs root, setpriv and /dev/fuse; WORK is run.sh's work area (a tmpfs when memory allows).
set -uo pipefail
[ $# = 2 ] && [ -n "$2" ] && [ -d "$2" ] ||
	{ echo "views bench: ERROR: usage: views_mount.sh BUILD WORK (an existing directory)"; exit 1; }
BUILD=$1
WORK=$2
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
POOLFS=$BUILD/poolfs
POOLCTL=$BUILD/poolctl
ROOT=$(cd "$(dirname "$0")/.." && pwd)
META=$ROOT/bench/meta.py
JSONQ=$ROOT/tests/mount/jsonq.py
MB=${BENCH_MB:-1024}
REPS=${BENCH_REPS:-3}
PY=${PYTHON:-python3}
UPY=${UPY:-/usr/bin/python3}	# one every uid may run

err() { printf 'views bench: ERROR: %s\n' "$*"; }
say() { printf 'views bench: %s\n' "$*" >&2; }

. "$(dirname "$0")/lib.sh"	# median, the view benches' mount, store and read helpers

[ -x "$POOLFS" ] && [ -x "$POOLCTL" ] || { err "poolfs/poolctl not built in $BUILD"; exit 1; }
command -v setpriv > /dev/null || { err "setpriv not found (util-linux)"; exit 1; }

D=$WORK/views			# everything of this bench, removed at exit
STORE=$D/store
MNT=$D/mnt
SRC=$D/src.csv
ENTRY=/基础库/人口/户籍人口		# gongan provides, renshe reads through g1
PRIV=/基础库/人口/内部名单		# gongan provides, shared with nobody
FILE=bench.csv
PID=

cleanup() { stop_daemon; rm -rf "$D"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# at most the source and the store (the raw file, its view; RocksDB
# compresses them: 1.6 GiB at the peak for 1 GiB), and slack
bench_dir "$WORK" $((2 * MB + 256))

CAN_DROP=0
(sync; echo 3 > /proc/sys/vm/drop_caches) 2> /dev/null && CAN_DROP=1
cold() { sync; [ $CAN_DROP = 1 ] && echo 3 > /proc/sys/vm/drop_caches; }

# ---- the store and its policy ----
pop_store ",
    {\"path\": \"$PRIV\", \"code\": \"341800-GA-0002\",
     \"title\": \"内部名单\", \"provider\": \"gongan\",
     \"share\": \"none\", \"open\": \"none\", \"level\": 4, \"update_cycle\": \"daily\",
     \"format\": \"csv\", \"encoding\": \"utf-8\"}"

# ---- a BENCH_MB MiB CSV of 10 columns, readable by every uid ----
say "making a ${MB} MiB CSV"
pop_csv "$MB" > "$SRC" && chmod 0644 "$SRC" || { err "cannot write $SRC"; exit 1; }
# raw IDs renshe must never see: the first and the last row's
ID1=$(sed -n 2p "$SRC" | cut -d, -f1)
ID2=$(tail -n1 "$SRC" | cut -d, -f1)

# ---- publish, and wait for the precomputed view ----
mount_pf -o view_budget=$((2 * MB + 1024))M
say "gongan publishes it with cp"
t0=$(date +%s.%N)
asA cp "$SRC" "$MNT$ENTRY/$FILE" || { err "gongan's cp into $ENTRY failed: $(tail -n3 "$D/poolfs.log")"; exit 1; }
t1=$(date +%s.%N)
RAW_BYTES=$(stat -c %s "$SRC")
rm -f "$SRC"	# the store holds it now; WORK is memory, and run.sh's files fill it
limit=$((60 + MB / 2))	# seconds: a view builds at >= 300 MB/s by design; be generous
wait_views "$t1" "$limit" "precomputed view"
t2=$(date +%s.%N)
T_CP=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
T_VIEW=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.1f", b - a }')
# the same bytes again, read back through the mount: dedupe stores nothing new
asA cp "$MNT$ENTRY/$FILE" "$MNT$PRIV/$FILE" || { err "gongan's cp into $PRIV failed"; exit 1; }

declare -A T BYTES
F=$MNT$ENTRY/$FILE
leak_check B "$F" "$ID1" "$ID2" || exit 1
BYTES[a]=$(size A "$F")
BYTES[b]=$(size B "$F")
BYTES[c]=$(size A "$MNT$PRIV/$FILE")
[ "${BYTES[a]}" = "$RAW_BYTES" ] || say "odd: gongan's stat ${BYTES[a]} != the source's $RAW_BYTES"
say "(a) gongan reads raw"
T[a]=$(median read_secs "$F" 1001 2001) || { err "gongan's read failed"; exit 1; }
say "(b) renshe reads its view"
T[b]=$(median read_secs "$F" 1002 2002) || { err "renshe's read failed"; exit 1; }
say "(b') renshe maps its view MAP_SHARED"
map_secs() {
	setpriv --reuid 1002 --regid 2002 --clear-groups "$UPY" -c '
import hashlib, mmap, os, sys, time
t = time.monotonic()
fd = os.open(sys.argv[1], os.O_RDONLY)
m = mmap.mmap(fd, 0, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ)
h = hashlib.sha256()
for i in range(0, len(m), 1 << 20):
    h.update(m[i:i + (1 << 20)])
print("%.6f %s" % (time.monotonic() - t, h.hexdigest()))' "$1"
}
cold
read -r T[m] MAP_SUM <<< "$(map_secs "$F" 2> "$D/map.err")" ||
	{ err "renshe's MAP_SHARED map failed: $(tail -n1 "$D/map.err")"; exit 1; }
READ_SUM=$(asB cat "$F" | sha256sum | cut -d' ' -f1)
BYTES[m]=${BYTES[b]}
SAME=$([ "$MAP_SUM" = "$READ_SUM" ] && echo yes || echo NO)
[ "$SAME" = yes ] || { err "renshe's MAP_SHARED map is not its read() ($MAP_SUM, $READ_SUM; $(tail -n2 "$D/map.err"))"; exit 1; }
say "(c) gongan reads the unshared copy"
T[c]=$(median read_secs "$MNT$PRIV/$FILE" 1001 2001) || { err "gongan's read of the copy failed"; exit 1; }
stop_daemon

mount_pf -o dept=renshe -o view_budget=$((2 * MB + 1024))M
leak_check B "$F" "$ID1" "$ID2" || exit 1
BYTES[d]=$(size B "$F")
say "(d) renshe reads its view through a department mount"
T[d]=$(median read_secs "$F" 1002 2002) || { err "renshe's read in its department mount failed"; exit 1; }
stop_daemon

# ---- the table ----
mbs() { awk -v b="${BYTES[$1]}" -v t="${T[$1]}" 'BEGIN { printf "%.0f", b / 1048576 / t }'; }
declare -A R
for k in a b m c d; do R[$k]=$(mbs $k); done
ratio() { awk -v x="${R[$1]}" -v y="${R[a]}" 'BEGIN { if (y > 0) printf "%.2f", x / y; else print "-" }'; }
met=$(awk -v r="$(ratio b)" 'BEGIN { print (r >= 0.9 ? "yes" : "NO") }')
mib() { awk -v b="${BYTES[$1]}" 'BEGIN { printf "%.1f", b / 1048576 }'; }
echo "masked read of a ${MB} MiB CSV (10 columns, 3 masked), dd bs=1M, median of $REPS," \
	"caches $([ $CAN_DROP = 1 ] && echo dropped || echo 'NOT dropped')"
{
	echo "what|MiB read|s|MB/s|x (a)|target|met"
	echo "(a) provider reads raw, pool mount|$(mib a)|${T[a]}|${R[a]}|1.00|-|-"
	echo "(b) renshe reads its masked view, pool mount|$(mib b)|${T[b]}|${R[b]}|$(ratio b)|>= 0.9|$met"
	echo "(b') renshe maps its view MAP_SHARED (+SHA-256), once|$(mib m)|${T[m]}|${R[m]}|$(ratio m)|same bytes as read()|$SAME"
	echo "(c) provider reads an unshared copy (page cache)|$(mib c)|${T[c]}|${R[c]}|$(ratio c)|-|-"
	echo "(d) renshe reads its view, dept mount|$(mib d)|${T[d]}|${R[d]}|$(ratio d)|-|-"
} | column -t -s '|'
echo "publish (cp, incl. commit): ${T_CP} s; view precomputed ${T_VIEW} s after cp returned" \
	"($(awk -v b="$RAW_BYTES" -v t="$T_VIEW" 'BEGIN { if (t > 0) printf "%.0f MB/s of raw", b / 1048576 / t; else print "at once" }'))"
