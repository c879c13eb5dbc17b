#!/usr/bin/env bash
# bench/smb_mount.sh BUILD WORK: SMB read and write throughput through
# smbclient, a poolfs share (what `poolctl share smb` prints, over a pool
# mount) against a plain Samba share of a directory on WORK, same smbd,
# same run. The file is BENCH_SMB_MB MiB (256) of random bytes; each
# figure is the median of BENCH_REPS (3) runs of `put` (the write
# includes poolfs's commit at close) and `get`.
#
# Needs root, samba and smbclient (scripts/deps.sh), setpriv, /dev/fuse.
# A Unix account of its own (uid 64500+) is made for the run and removed.
set -uo pipefail
[ $# = 2 ] && [ -d "$2" ] || { echo "smb bench: ERROR: usage: smb_mount.sh BUILD WORK"; exit 1; }
BUILD=$1 WORK=$2/smb
MB=${BENCH_SMB_MB:-256}
REPS=${BENCH_REPS:-3}
PW=Bench-pw-1
U=pfsbench$$ ID=$((64500 + $$ % 400))
PORT=$((45000 + RANDOM % 400))
POOLCTL=$BUILD/poolctl
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"	# share_pool, share_cleanup
. "$ROOT/tests/mount/smbconf.sh"
for p in smbd smbclient smbpasswd setpriv; do
	command -v $p > /dev/null || { echo "smb bench: ERROR: $p missing (scripts/deps.sh)"; exit 1; }
done

SMBD= PFS=
cleanup() {
	[ -n "$SMBD" ] && kill "$SMBD" 2> /dev/null && wait "$SMBD" 2> /dev/null
	share_cleanup
}
trap cleanup EXIT
rm -rf "$WORK" && mkdir -p "$WORK"/{mnt,plain,smb}
share_pool smb
"$POOLCTL" -s "$WORK/store" share smb --mount "$WORK/mnt" > "$WORK/smb/poolfs.conf" ||
	{ echo "smb bench: ERROR: poolctl share smb failed"; exit 1; }
{
	smb_private_conf "$WORK/smb" "$PORT"
	cat << EOF
[plain]
	path = $WORK/plain
	read only = no
	valid users = $U
EOF
} > "$WORK/smb/smb.conf"
printf '%s\n%s\n' "$PW" "$PW" | smbpasswd -c "$WORK/smb/smb.conf" -s -a $U > /dev/null
setsid smbd --foreground --no-process-group --configfile="$WORK/smb/smb.conf" > "$WORK/smb/smbd.out" 2>&1 &
SMBD=$!
for ((i = 0; i < 100; i++)); do
	(exec 3<> /dev/tcp/127.0.0.1/$PORT) 2> /dev/null && break
	sleep 0.1
done
head -c $((MB << 20)) /dev/urandom > "$WORK/data" && chmod 0644 "$WORK/data"
: > "$WORK/client.conf"
DIR=/基础库/人口/户籍人口

# one SHARE CMD: seconds for one smbclient command, or "ERR"
one() {
	local t0 t1 out
	t0=$(date +%s.%N)
	out=$(timeout 600 smbclient -s "$WORK/client.conf" "//127.0.0.1/$1" -p $PORT -m SMB3 \
		-U "$U%$PW" -c "$2" 2>&1) || { echo ERR; return; }
	grep -q NT_STATUS <<< "$out" && { echo ERR; return; }
	t1=$(date +%s.%N)
	echo "$t0 $t1" | awk '{ printf "%.3f\n", $2 - $1 }'
}
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print "ERR" }'; }
mbs() { [ "$1" = ERR ] && echo ERR || awk -v s="$1" -v mb=$MB 'BEGIN { printf "%.0f", mb / s }'; }

declare -A R
for share in plain gongan; do
	cd=""; [ $share = gongan ] && cd="cd \"$DIR\";"
	R[$share.w]=$(for ((r = 0; r < REPS; r++)); do one $share "$cd put \"$WORK/data\" f$r"; done | median)
	sync; echo 3 > /proc/sys/vm/drop_caches 2> /dev/null
	R[$share.r]=$(for ((r = 0; r < REPS; r++)); do one $share "$cd get f$r /dev/null"; done | median)
done
if [ "${R[gongan.w]}" != ERR ] && ! cmp -s "$WORK/data" "$WORK/mnt$DIR/f0" 2> /dev/null; then
	setpriv --reuid $ID --regid $ID --clear-groups cmp -s "$WORK/data" "$WORK/mnt$DIR/f0" ||
		echo "smb bench: ERROR: the file written over SMB differs from what was sent"
fi
printf '%-34s %10s %10s %8s\n' "SMB through smbclient, ${MB} MiB" "plain MB/s" "poolfs" "ratio"
for k in w r; do
	p=$(mbs "${R[plain.$k]}") f=$(mbs "${R[gongan.$k]}")
	ratio=-
	[ "$p" != ERR ] && [ "$f" != ERR ] && ratio=$(awk -v a="$f" -v b="$p" 'BEGIN { printf "%.2f", a / b }')
	printf '%-34s %10s %10s %8s\n' "$([ $k = w ] && echo "write (put, incl. commit)" || echo "read (get)")" "$p" "$f" "$ratio"
done
