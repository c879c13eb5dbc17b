#!/usr/bin/env bash
# bench/backup.sh BUILD WORK: backups, restore and the standby's recovery
# point, through a real mount (DESIGN.md "Backup and disaster recovery").
#
# A fresh pool gets one CSV of BACKUP_BENCH_MB MiB (256; the issue's
# figure is 1024) through the mount. Then, with poolfs serving:
#   full backup       poolctl backup create into an empty DEST, against
#                     cp -a of the whole store directory (the same bytes
#                     a naive copy would move), MB/s of the store's db/ and packs/
#   one-row change    one row of the CSV rewritten in place and committed,
#                     then an incremental backup: its time and the bytes
#                     DEST grew by
#   restore           poolctl backup restore of the newest backup
#   recovery point    a timer-like loop backs up every
#                     BACKUP_BENCH_INTERVAL s (5; the systemd timer's is
#                     60) while a writer commits a small file every 0.1 s;
#                     after BACKUP_BENCH_RUN s (20) the daemon is killed
#                     (-9): the recovery point is the time from the newest
#                     backup's commit boundary to the kill, and the
#                     writer's last acknowledged commit missing from it is
#                     counted too.
#   verify            backup verify of the newest backup with the key,
#                     and without it (the checks that need no plaintext)
#
# BACKUP_BIG=1 is the recovery-time case instead: a pool of
# BACKUP_BIG_MB MiB (10240) of CSV and BACKUP_BIG_VERSIONS (1000000)
# small versions, filled store-side by build/bench/backup_fill (with
# fsync made a no-op for the fill only: it is setup, not measured), then
# a full backup, and a restore timed as the recovery time, with the
# restored pool's first audit verify. It needs about three times the
# pool's size free in WORK.
# MB = MiB. Needs root and /dev/fuse; WORK is run.sh's work area.
set -uo pipefail
[ $# = 2 ] && [ -n "$2" ] && [ -d "$2" ] ||
	{ echo "backup bench: ERROR: usage: backup.sh BUILD WORK (an existing directory)"; exit 1; }
BUILD=$1
WORK=$2/backup-bench
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
POOLFS=$BUILD/poolfs
POOLCTL=$BUILD/poolctl
ROOT=$(cd "$(dirname "$0")/.." && pwd)
GEN=$ROOT/tests/mount/gen.py
MB=${BACKUP_BENCH_MB:-256}
INTERVAL=${BACKUP_BENCH_INTERVAL:-5}
RUN=${BACKUP_BENCH_RUN:-20}
PY=${PYTHON:-python3}

say() { printf 'backup bench: %s\n' "$*" >&2; }
fail() { echo "backup bench: ERROR: $*"; exit 1; }
. "$ROOT/bench/lib.sh"	# wait_mounted

mkdir -p "$WORK" || fail "cannot make $WORK"
STORE=$WORK/store
MNT=$WORK/mnt
DEST=$WORK/dest
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2> /dev/null
	fusermount3 -u "$MNT" 2> /dev/null || fusermount3 -uz "$MNT" 2> /dev/null
	[ -n "${LOOP:-}" ] && kill "$LOOP" 2> /dev/null
	[ -n "${WRITER:-}" ] && kill "$WRITER" 2> /dev/null
	wait 2> /dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
mbps() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / 1048576 / s : 0) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f x cp -a", (b > 0 ? a / b : 0) }'; }
bytes() { du -sb "$1" 2> /dev/null | cut -f1; }
# what a backup copies: the database and, in a pool with packs, the pack files
store_data() { echo $(($(bytes "$1/db") + $( [ -d "$1/packs" ] && bytes "$1/packs" || echo 0))); }

mount_pool() {
	mkdir -p "$MNT"
	"$POOLFS" "$STORE" "$MNT" -f -o allow_all > "$WORK/poolfs.log" 2>&1 &
	PID=$!
	disown "$PID"	# its kill -9 below is the point, not news
	wait_mounted "$MNT" "$PID" && return 0
	fail "poolfs did not mount"
}

big_case() {
	local mb=${BACKUP_BIG_MB:-10240} nv=${BACKUP_BIG_VERSIONS:-1000000} t0 t1 fill_s
	local full_s rest_s ver_s db dst load0
	cat > "$WORK/nosync.c" << 'EOF2'
int fsync(int fd) { (void)fd; return 0; }
int fdatasync(int fd) { (void)fd; return 0; }
EOF2
	cc -shared -fPIC -O2 -o "$WORK/nosync.so" "$WORK/nosync.c" || fail "cannot build the fill's shim"
	head -c 32 /dev/urandom > "$WORK/master.key"
	"$POOLCTL" init "$STORE" --key-file "$WORK/master.key" > /dev/null || fail "poolctl init failed"
	load0=$(cut -d' ' -f1-3 /proc/loadavg)
	say "filling $mb MiB and $nv versions store-side"
	t0=$(now)
	LD_PRELOAD=$WORK/nosync.so "$BUILD/bench/backup_fill" "$STORE" "$mb" "$nv" ||
		fail "backup_fill failed"
	t1=$(now)
	fill_s=$(secs "$t0" "$t1")
	sync
	db=$(store_data "$STORE")
	t0=$(now)
	"$POOLCTL" -s "$STORE" backup create "$DEST" > /dev/null || fail "backup create failed"
	t1=$(now)
	full_s=$(secs "$t0" "$t1")
	dst=$(bytes "$DEST")
	t0=$(now)
	"$POOLCTL" backup restore "$DEST" --id 1 "$WORK/restored" > /dev/null || fail "restore failed"
	t1=$(now)
	rest_s=$(secs "$t0" "$t1")
	t0=$(now)
	"$POOLCTL" -s "$WORK/restored" audit verify > /dev/null || fail "audit verify of the restored pool failed"
	t1=$(now)
	ver_s=$(secs "$t0" "$t1")
	{
		echo "what|seconds|MB/s|note"
		echo "store-side fill (not a figure)|$fill_s|-|$mb MiB CSV, $nv versions, fsync off"
		echo "full backup|$full_s|$(mbps "$db" "$full_s")|db/+packs/ $((db >> 20)) MiB, DEST $((dst >> 20)) MiB"
		echo "restore (recovery time)|$rest_s|$(mbps "$db" "$rest_s")|NEWSTORE from backup 1"
		echo "audit verify of the restored pool|$ver_s|-|every record"
	} > "$WORK/table"
	echo "recovery of a ${mb} MiB pool with ${nv} versions (MB/s of the store's db/ and packs/)"
	echo "load average at the start: $load0; at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
	column -t -s '|' < "$WORK/table"
	exit 0
}
[ "${BACKUP_BIG:-0}" = 1 ] && big_case

"$POOLCTL" init "$STORE" > /dev/null || fail "poolctl init failed"
mount_pool
say "writing a $MB MiB CSV through the mount"
"$PY" "$GEN" 7 $((MB << 20)) csv > "$MNT/data.csv" || fail "writing the CSV failed"
sync

# ---- full backup against cp -a ----
DB=$(store_data "$STORE")
t0=$(now)
"$POOLCTL" -s "$STORE" backup create "$DEST" > /dev/null || fail "backup create failed"
t1=$(now)
FULL_S=$(secs "$t0" "$t1")
DEST_FULL=$(bytes "$DEST")
t0=$(now)
cp -a "$STORE" "$WORK/copy" || fail "cp -a failed"
t1=$(now)
CP_S=$(secs "$t0" "$t1")
rm -rf "$WORK/copy"

# ---- one-row change, incremental backup ----
"$PY" - "$MNT/data.csv" << 'EOF' || fail "the one-row change failed"
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
size = os.fstat(fd).st_size
buf = os.pread(fd, 4096, size // 2)
nl = buf.index(b"\n") + 1
end = buf.index(b"\n", nl)
row = bytearray(buf[nl:end])
row[: min(8, len(row))] = b"X" * min(8, len(row))
os.pwrite(fd, bytes(row), size // 2 + nl)
os.fsync(fd)
os.close(fd)
EOF
t0=$(now)
"$POOLCTL" -s "$STORE" backup create "$DEST" > /dev/null || fail "incremental backup create failed"
t1=$(now)
INC_S=$(secs "$t0" "$t1")
INC_B=$(($(bytes "$DEST") - DEST_FULL))

# ---- verify, with the key and without ----
t0=$(now)
"$POOLCTL" backup verify "$DEST" --id 2 > /dev/null || fail "backup verify failed"
t1=$(now)
VER_S=$(secs "$t0" "$t1")
KEYFILE=$("$POOLCTL" -s "$STORE" crypto 2>/dev/null | awk '/key file/ { print $NF }')
VERK_S=-
if [ -n "$KEYFILE" ] && [ -f "$KEYFILE" ] && mv "$KEYFILE" "$KEYFILE.away"; then
	t0=$(now)
	"$POOLCTL" backup verify "$DEST" --id 2 > "$WORK/keyless.out" 2>&1
	rc=$?
	t1=$(now)
	mv "$KEYFILE.away" "$KEYFILE"
	[ $rc = 0 ] || fail "keyless backup verify failed: $(cat "$WORK/keyless.out")"
	VERK_S=$(secs "$t0" "$t1")
fi

# ---- restore ----
t0=$(now)
"$POOLCTL" backup restore "$DEST" --id 2 "$WORK/restored" > /dev/null || fail "restore failed"
t1=$(now)
REST_S=$(secs "$t0" "$t1")
VERSIONS=$("$POOLCTL" -s "$WORK/restored" stats --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["versions"])')
rm -rf "$WORK/restored"

# ---- recovery point under a timer-like loop ----
mkdir -p "$MNT/rp"
(
	k=0
	while :; do
		{ echo "$k" > "$MNT/rp/tick"; } 2> /dev/null && sync "$MNT/rp/tick" 2> /dev/null || exit 0
		echo "$k $(now)" >> "$WORK/acked"
		k=$((k + 1))
		sleep 0.1
	done
) &
WRITER=$!
(
	while :; do
		"$POOLCTL" -s "$STORE" backup create "$DEST" > /dev/null 2>> "$WORK/loop.err"
		sleep "$INTERVAL"
	done
) &
LOOP=$!
sleep "$RUN"
kill -9 "$PID"
DEATH=$(now)
kill "$LOOP" 2> /dev/null
wait "$LOOP" 2> /dev/null
LOOP=
kill "$WRITER" 2> /dev/null
wait "$WRITER" 2> /dev/null
WRITER=
PID=
fusermount3 -uz "$MNT" 2> /dev/null
NEWEST=$("$POOLCTL" backup list --json "$DEST" |
	"$PY" -c 'import json,sys; b=[x for x in json.load(sys.stdin) if x.get("complete")]; print(b[-1]["id"], b[-1]["time_ns"])')
NID=${NEWEST% *}
NT=$(awk -v ns="${NEWEST#* }" 'BEGIN { printf "%.3f", ns / 1e9 }')
RPO=$(secs "$NT" "$DEATH")
t0=$(now)
"$POOLCTL" backup restore "$DEST" --id "$NID" "$WORK/standby" > /dev/null || fail "standby restore failed"
t1=$(now)
RTO=$(secs "$t0" "$t1")
GOT=$("$POOLCTL" -s "$WORK/standby" versions /rp/tick --json 2> /dev/null |
	"$PY" -c 'import json,sys; d=json.load(sys.stdin); v=d["versions"] if isinstance(d,dict) else d; print(len(v))' 2> /dev/null || echo 0)
ACKED=$(wc -l < "$WORK/acked")

{
	echo "what|seconds|MB/s|ratio|note"
	echo "full backup (poolctl backup create, online)|$FULL_S|$(mbps "$DB" "$FULL_S")|$(ratio "$CP_S" "$FULL_S")|db/+packs/ of $((DB >> 20)) MiB; DEST $((DEST_FULL >> 20)) MiB"
	echo "cp -a of the store directory|$CP_S|$(mbps "$DB" "$CP_S")|1.00|reference (offline-unsafe copy)"
	echo "incremental backup after a one-row change|$INC_S|-|$(ratio "$CP_S" "$INC_S")|DEST grew by $((INC_B >> 10)) KiB"
	echo "restore of the newest backup|$REST_S|$(mbps "$DB" "$REST_S")|-|$VERSIONS versions"
	echo "backup verify with the key|$VER_S|$(mbps "$DB" "$VER_S")|-|every check"
	echo "backup verify without the key|$VERK_S|$([ "$VERK_S" = - ] && echo - || mbps "$DB" "$VERK_S")|-|no plaintext read"
	echo "recovery point (backup every ${INTERVAL} s, kill -9)|$RPO|-|-|newest backup $NID; $GOT of $ACKED acknowledged ticks in it"
	echo "standby restore after the kill|$RTO|-|-|recovery time"
} > "$WORK/table"
echo "backups of a ${MB} MiB CSV pool (MB/s of the store's db/ and packs/)"
column -t -s '|' < "$WORK/table"
