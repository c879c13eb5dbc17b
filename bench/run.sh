#!/usr/bin/env bash
# bench/run.sh - poolfs against reference filesystems, in one run on one
# machine, printed as one table of figures and ratios (make bench).
#
# References: native (the directory the others sit on: a tmpfs when memory
# allows, else the disk under TMPDIR), libfuse's passthrough_ll built from
# the installed libfuse3 examples, and gocryptfs as a peer FUSE filesystem
# that transforms every byte (installed with apt if missing; its column is
# left out if it cannot be had).
#
# Measured: 1 GiB sequential read and write (dd bs=1M; the write includes
# the commit through conv=fsync; each filesystem writes new files and
# keeps them, as a pool keeps versions, and a second row rewrites one
# name, where the others reuse the pages they free), stat() of 10 000
# files and `ls -l` of a 10 000-file directory, each cold (caches
# dropped, or every mount remounted where dropping is not allowed); and,
# for poolfs only, the new stored bytes of a one-row change in a 1 GiB
# CSV (from `poolctl stats --json`, stored_bytes before and after).
# Targets are DESIGN.md's.
#
# Environment: BUILD (build), BENCH_MB (1024), BENCH_FILES (10000),
# BENCH_REPS (3; the median is shown), BENCH_NO_GOCRYPTFS=1; CITY_* for
# bench/city.sh, which runs last.
# Exits 1 when poolfs could not be measured.
set -u
set -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
POOLFS=$BUILD/poolfs
POOLCTL=$BUILD/poolctl
META=$ROOT/bench/meta.py
MB=${BENCH_MB:-1024}
NFILES=${BENCH_FILES:-10000}
REPS=${BENCH_REPS:-3}
REFBIN=$BUILD/bench-ref
PY=${PYTHON:-python3}

say() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 2; }

[ "$(id -u)" = 0 ] || die "needs root (mounts, drop_caches)"
[ -c /dev/fuse ] || die "/dev/fuse is missing"
command -v fusermount3 > /dev/null || die "fusermount3 missing (apt-get install fuse3)"
[ -x "$POOLFS" ] && [ -x "$POOLCTL" ] || die "poolfs/poolctl not built in $BUILD"

# ---- reference binaries ----
mkdir -p "$REFBIN"
PT=$REFBIN/passthrough_ll
EX=/usr/share/doc/libfuse3-dev/examples
if [ ! -x "$PT" ] || [ "$EX/passthrough_ll.c" -nt "$PT" ]; then
	[ -f "$EX/passthrough_ll.c" ] || die "$EX/passthrough_ll.c missing (libfuse3-dev)"
	gcc -O2 -Wall -I"$EX" -o "$PT" "$EX/passthrough_ll.c" $(pkg-config --cflags --libs fuse3) ||
		die "cannot build passthrough_ll"
fi
HAVE_GC=0
if [ "${BENCH_NO_GOCRYPTFS:-0}" != 1 ]; then
	if ! command -v gocryptfs > /dev/null; then
		say "installing gocryptfs (optional peer)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gocryptfs > /dev/null 2>&1 ||
			{ apt-get update -qq > /dev/null 2>&1 &&
			  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gocryptfs > /dev/null 2>&1; }
	fi
	command -v gocryptfs > /dev/null && HAVE_GC=1 || say "gocryptfs not available: column left out"
fi

# ---- work area ----
WORK=$(mktemp -d "${TMPDIR:-/tmp}/poolfs-bench.XXXXXX") || die "mktemp"
MOUNTS=()
PIDS=()
cleanup() {
	local m p
	for m in "${MOUNTS[@]}"; do
		fusermount3 -u "$m" 2> /dev/null || fusermount3 -uz "$m" 2> /dev/null
	done
	for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null; done
	sleep 0.5
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2> /dev/null; done
	[ "${ON_TMPFS:-0}" = 1 ] && umount "$WORK" 2> /dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# native: a tmpfs big enough for every copy, when memory allows
# REPS sources and REPS files of each of four filesystems, kept until the
# write cell ends (native and passthrough_ll share the tmpfs), 1 GiB spare
need_mb=$((MB * (5 * REPS + 2) + 1280))
avail_mb=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)
ON_TMPFS=0
if [ "$avail_mb" -gt $((need_mb + 2048)) ] && mount -t tmpfs -o size=${need_mb}m tmpfs "$WORK"; then
	ON_TMPFS=1
	NATIVE_KIND="tmpfs"
else
	NATIVE_KIND="$(df --output=fstype "$WORK" | tail -n1) (disk)"
fi
say "work area $WORK on $NATIVE_KIND"

CAN_DROP=0
(sync; echo 3 > /proc/sys/vm/drop_caches) 2> /dev/null && CAN_DROP=1

. "$(dirname "$0")/lib.sh"	# median, is_mounted, wait_mounted

# ---- the filesystems under test ----
mkdir -p "$WORK/native" "$WORK/mnt_pt" "$WORK/gc_cipher" "$WORK/mnt_gc" "$WORK/mnt_pf"
FSLIST=(native pt)
[ $HAVE_GC = 1 ] && FSLIST+=(gc)
FSLIST+=(pf)
declare -A DIR=([native]=$WORK/native [pt]=$WORK/mnt_pt [gc]=$WORK/mnt_gc [pf]=$WORK/mnt_pf)
declare -A PID=()

mount_fs() {
	case $1 in
	native) return 0 ;;
	pt)
		"$PT" -f -o source="$WORK/native" "$WORK/mnt_pt" 2> "$WORK/pt.log" &
		PID[pt]=$!
		;;
	gc)
		gocryptfs -q -fg -extpass "echo bench" "$WORK/gc_cipher" "$WORK/mnt_gc" 2> "$WORK/gc.log" &
		PID[gc]=$!
		;;
	pf)
		"$POOLFS" "$WORK/store" "$WORK/mnt_pf" -f -o allow_all 2>> "$WORK/pf.log" &
		PID[pf]=$!
		;;
	esac
	PIDS+=("${PID[$1]}")
	MOUNTS+=("${DIR[$1]}")
	wait_mounted "${DIR[$1]}" || { say "$1 did not mount: $(tail -n3 "$WORK/$1.log")"; return 1; }
}

umount_fs() {
	[ "$1" = native ] && return 0
	local i
	fusermount3 -u "${DIR[$1]}" 2> /dev/null
	for ((i = 0; i < 300; i++)); do
		kill -0 "${PID[$1]}" 2> /dev/null || break
		sleep 0.1
	done
}

# caches cold: drop them, or remount every FUSE filesystem
cold() {
	local f
	sync
	if [ $CAN_DROP = 1 ]; then
		echo 3 > /proc/sys/vm/drop_caches
		return
	fi
	for f in "${FSLIST[@]}"; do
		[ -n "${FAILED[$f]:-}" ] && continue
		umount_fs "$f"
		mount_fs "$f" || FAILED[$f]=1
	done
}

declare -A FAILED=()
declare -A RES=()
CSV_FAILED=0
# unencrypted: the reference for the encrypted pools in crypt_mount.sh
"$POOLCTL" init "$WORK/store" --cipher none > "$WORK/init.log" 2>&1 || { say "poolctl init failed: $(cat "$WORK/init.log")"; FAILED[pf]=1; }
if [ $HAVE_GC = 1 ]; then
	gocryptfs -q -init -extpass "echo bench" -scryptn 10 "$WORK/gc_cipher" > /dev/null 2>&1 ||
		{ say "gocryptfs -init failed: column left out"; HAVE_GC=0; FSLIST=(native pt pf); }
fi
for f in "${FSLIST[@]}"; do
	[ -n "${FAILED[$f]:-}" ] && continue
	mount_fs "$f" || FAILED[$f]=1
done

# One source per repeat: poolfs dedupes, so writing the same bytes again
# would measure a rewrite that stores nothing, not a write of new data.
say "making ${REPS} sources of ${MB} MiB"
for ((i = 0; i < REPS; i++)); do
	head -c $((MB << 20)) /dev/urandom > "$WORK/src.$i.bin" || die "cannot write the source file"
done
rate() { awk -v t="$1" -v mb="$MB" 'BEGIN { printf "%.0f", mb / t }'; }
med() { tr ' ' '\n' <<< "$1" | grep . | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# The write: in each of REPS rounds every filesystem writes a new file of
# new bytes, the turn moving one along each round so the machine's drift
# reaches them alike, and keeps it until the cell ends. New names, kept:
# a pool keeps every version, so its store always takes memory it did not
# have; a file overwritten in place gives its pages back and the next
# write takes them again, which on a guest that hands freed memory back to
# its host (virtio-balloon free page reporting) is several times cheaper
# than memory touched for the first time (bench/RESULTS.md "The write's
# memory"). The rewrite of one name is measured after, as its own row.
LIVE=()
for f in "${FSLIST[@]}"; do [ -z "${FAILED[$f]:-}" ] && LIVE+=("$f"); done
declare -A WT=()
for ((i = 0; i < REPS; i++)); do
	for ((k = 0; k < ${#LIVE[@]}; k++)); do
		f=${LIVE[$(((k + i) % ${#LIVE[@]}))]}
		[ -n "${FAILED[$f]:-}" ] && continue
		[ $i = 0 ] && say "$f: sequential write"
		cold
		t=$("$PY" "$META" time dd if="$WORK/src.$i.bin" of="${DIR[$f]}/seq_$f.$i.bin" bs=1M \
			conv=fsync) || { say "$f: write failed"; FAILED[$f]=1; continue; }
		WT[$f]+="$t "
	done
done
for f in "${LIVE[@]}"; do
	[ -n "${FAILED[$f]:-}" ] && continue
	RES[$f,write]=$(rate "$(med "${WT[$f]}")")
	say "$f: sequential read"
	t=$(median "$PY" "$META" time dd if="${DIR[$f]}/seq_$f.0.bin" of=/dev/null bs=1M) ||
		{ say "$f: read failed"; FAILED[$f]=1; continue; }
	RES[$f,read]=$(rate "$t")
done
for f in "${LIVE[@]}"; do rm -f "${DIR[$f]}"/seq_"$f".*.bin; done

# The rewrite: REPS writes of new bytes over one name, one filesystem
# after the other (how the write row was measured before: bench/RESULTS.md
# "The write's memory"); new sources, since the pool holds the old ones'
# chunks now
for ((i = 0; i < REPS; i++)); do
	head -c $((MB << 20)) /dev/urandom > "$WORK/src.$i.bin" || die "cannot write the source file"
done
echo 0 > "$WORK/rep"
# write_new DEST: the next source, over DEST (the median runs it in a subshell)
write_new() {
	local n
	n=$(cat "$WORK/rep")
	echo $((n + 1)) > "$WORK/rep"
	"$PY" "$META" time dd if="$WORK/src.$((n % REPS)).bin" of="$1" bs=1M conv=fsync
}
for f in "${FSLIST[@]}"; do
	[ -n "${FAILED[$f]:-}" ] && continue
	say "$f: rewrite of one name"
	t=$(median write_new "${DIR[$f]}/seq_$f.bin") ||
		{ say "$f: rewrite failed"; FAILED[$f]=1; continue; }
	RES[$f,rewrite]=$(rate "$t")
	rm -f "${DIR[$f]}/seq_$f.bin"
done
rm -f "$WORK"/src.*.bin	# memory, when WORK is a tmpfs

for f in "${FSLIST[@]}"; do
	[ -n "${FAILED[$f]:-}" ] && continue
	d=${DIR[$f]}/many
	# passthrough_ll shows native's directory: created once, measured twice
	if [ "$f" != pt ]; then
		say "$f: creating $NFILES files"
		"$PY" "$META" create "$d" "$NFILES" || { say "$f: create failed"; FAILED[$f]=1; continue; }
	fi
	say "$f: stat and ls -l"
	t=$(median "$PY" "$META" stat "$d" "$NFILES") || { FAILED[$f]=1; continue; }
	RES[$f,stat]=$t
	t=$(median "$PY" "$META" ls "$d") || { FAILED[$f]=1; continue; }
	RES[$f,ls]=$t
done

# one-row change in a 1 GiB CSV: new stored bytes (poolfs only)
# stored_bytes from poolctl stats --json, read with poolfs unmounted so it
# does not depend on the control socket (and every commit has landed)
# (sets STORED; not run in $(...), which would wait for the new daemon)
stored() {
	umount_fs pf
	STORED=$(stored_offline)
	local rc=$?
	mount_fs pf || FAILED[pf]=1
	return $rc
}
stored_offline() {
	"$POOLCTL" -s "$WORK/store" stats --json 2> "$WORK/stats.err" | "$PY" -c '
import json, sys
def find(d):
    if isinstance(d, dict):
        if "stored_bytes" in d: return d["stored_bytes"]
        for v in d.values():
            r = find(v)
            if r is not None: return r
try:
    v = find(json.load(sys.stdin))
except ValueError:
    v = None
if v is None:
    sys.exit(1)
print(v)'
}
if [ -z "${FAILED[pf]:-}" ]; then
	say "poolfs: ${MB} MiB CSV, one-row changes"
	awk -v mb="$MB" 'BEGIN {
		srand(7); n = split("宣州区 郎溪县 广德市 宁国市 泾县", R, " ")
		print "id,name,id_card,phone,region,amount"; lim = mb * 1048576; s = 0
		for (i = 1; s < lim; i++) {
			l = sprintf("%d,name%d,3418%07d%07d,138%08d,%s,%d.%02d", i, int(rand() * 1e6),
				int(rand() * 1e7), int(rand() * 1e7), int(rand() * 1e8), R[1 + int(rand() * n)],
				int(rand() * 1e5), int(rand() * 100))
			print l; s += length(l) + 1
		}
	}' > "$WORK/big.csv"
	if "$PY" "$META" time dd if="$WORK/big.csv" of="$WORK/mnt_pf/big.csv" bs=1M conv=fsync > /dev/null; then
		stored; s0=$STORED
		"$PY" "$META" csv-row "$WORK/mnt_pf/big.csv" && stored && s1=$STORED &&
			RES[pf,csvrow]=$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.0f", (b - a) / 1024 }')
		"$PY" "$META" csv-rewrite "$WORK/big.csv" "$WORK/mnt_pf/big.csv" && stored && s2=$STORED &&
			RES[pf,csvetl]=$(awk -v a="$s1" -v b="$s2" 'BEGIN { printf "%.0f", (b - a) / 1024 }')
		[ -n "${RES[pf,csvrow]:-}" ] && [ -n "${RES[pf,csvetl]:-}" ] || {
			say "poolfs: CSV row change or stats --json failed (stored_bytes: '$s0' '${s1:-}' '${s2:-}'; $(head -c 200 "$WORK/stats.err"))"
			CSV_FAILED=1
		}
	else
		say "poolfs: writing the CSV failed"
		CSV_FAILED=1
	fi
	rm -f "$WORK/big.csv"
fi

# ---- the table ----
cell() { local v=${RES[$1,$2]:-}; if [ -n "$v" ]; then echo "$v"; elif [ -n "${FAILED[$1]:-}" ]; then echo error; else echo -; fi; }
{
	printf 'what|unit|native|passthrough_ll'
	[ $HAVE_GC = 1 ] && printf '|gocryptfs'
	printf '|poolfs|poolfs/passthrough_ll|target|met\n'
	row() {	# key label unit better(hi|lo) target-kind target-value
		local k=$1 pf pt ratio met=-
		pf=$(cell pf "$k")
		pt=$(cell pt "$k")
		ratio=-
		if [[ $pf =~ ^[0-9.]+$ ]] && [[ $pt =~ ^[0-9.]+$ ]]; then
			ratio=$(awk -v a="$pf" -v b="$pt" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
			[ "$5" = - ] || met=$(awk -v r="$ratio" -v t="$6" -v kind="$5" \
				'BEGIN { if (kind == "min") print (r >= t ? "yes" : "NO"); else print (r <= t ? "yes" : "NO") }')
		fi
		printf '%s|%s|%s|%s' "$2" "$3" "$(cell native "$k")" "$pt"
		[ $HAVE_GC = 1 ] && printf '|%s' "$(cell gc "$k")"
		printf '|%s|%s|%s|%s\n' "$pf" "$ratio" "$7" "$met"
	}
	row read "sequential read ${MB} MiB, 1 MiB requests" "MB/s" hi min 0.9 ">= 0.9 x passthrough_ll"
	row write "sequential write ${MB} MiB incl. commit, new file" "MB/s" hi min 0.7 ">= 0.7 x passthrough_ll"
	row rewrite "the same over one name (others reuse freed pages)" "MB/s" hi - - "- (shown, see RESULTS.md)"
	row stat "stat of $NFILES files (cold)" "s" lo max 2 "<= 2 x passthrough_ll"
	row ls "ls -l of a $NFILES-file directory (cold)" "s" lo max 2 "<= 2 x passthrough_ll"
	for k in csvrow csvetl; do
		v=$(cell pf $k)
		met=-
		[[ $v =~ ^-?[0-9]+$ ]] && { [ "$v" -le 256 ] && met=yes || met=NO; }
		label="one-row change in a ${MB} MiB CSV, in place"
		[ $k = csvetl ] && label="one-row change in a ${MB} MiB CSV, rewrite+rename"
		printf '%s|KiB stored|-|-' "$label"
		[ $HAVE_GC = 1 ] && printf '|-'
		printf '|%s|-|<= 256 KiB new stored bytes|%s\n' "$v" "$met"
	done
} > "$WORK/table"

echo
echo "poolfs benchmark: $(nproc) cores, native = $NATIVE_KIND, ${MB} MiB files, $NFILES files," \
	"median of $REPS, caches $([ $CAN_DROP = 1 ] && echo dropped || echo 'cold by remount')"
column -t -s '|' < "$WORK/table"

echo
echo "== audit on/off through the mount (store on the same filesystem as above)"
bash "$(dirname "$0")/audit_mount.sh" "$BUILD" "$WORK" || say "audit_mount.sh exited $?"

echo
echo "== encryption at rest: aes-256-gcm and sm4 pools against an unencrypted one"
bash "$(dirname "$0")/crypt_mount.sh" "$BUILD" "$WORK" || say "crypt_mount.sh exited $?"

echo
echo "== masked read through the mount"
bash "$(dirname "$0")/views_mount.sh" "$BUILD" "$WORK" || say "views_mount.sh exited $?"

echo
echo "== masked read of a view larger than the view cache (BIGVIEW_MB=10240 for 10 GiB)"
bash "$(dirname "$0")/bigview_mount.sh" "$BUILD" "$WORK" || say "bigview_mount.sh exited $?"

echo
echo "== backups, restore and the standby's recovery point"
bash "$(dirname "$0")/backup.sh" "$BUILD" "$WORK" || say "backup.sh exited $?"

echo
echo "== SMB shares through smbclient (Samba on 127.0.0.1)"
bash "$(dirname "$0")/smb_mount.sh" "$BUILD" "$WORK" || say "smb_mount.sh exited $?"

echo
echo "== NFSv4 exports through nfs-cp (NFS-Ganesha on 127.0.0.1, as the department's account)"
bash "$(dirname "$0")/nfs_mount.sh" "$BUILD" "$WORK" || say "nfs_mount.sh exited $?"

# programs of bench/*.c (the engine alone, audit appends, stage writes) print their own lines
for b in "$BUILD"/bench/*; do
	[ -f "$b" ] && [ -x "$b" ] || continue
	case $b in *.o | *.d) continue ;; esac
	echo
	echo "== $(basename "$b")"
	timeout 300 "$b" || say "$(basename "$b") exited $?"
done

echo
echo "== a city: 46 departments, 10 000 grants, CITY_FILES small files (bench/city.sh)"
bash "$(dirname "$0")/city.sh" "$BUILD" || say "city.sh exited $?"
[ -z "${FAILED[pf]:-}" ] && [ "${CSV_FAILED:-0}" = 0 ]
