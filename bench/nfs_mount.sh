#!/usr/bin/env bash
# bench/nfs_mount.sh BUILD WORK: NFSv4 read and write through libnfs's
# nfs-cp, a department's export of a pool mount (what `poolctl share nfs
# --dept` prints, NFS-Ganesha running as the department's account)
# against a plain directory on WORK exported by the same Ganesha, same
# run. Read: a file of BENCH_NFS_MB MiB (256) of random bytes, put in
# place locally, copied back; the median of BENCH_REPS (3) runs. Write:
# BENCH_NFS_FILES (100) files of 2 KiB, each one nfs-cp (a connection,
# a create, a write and, in the pool, a commit), because libnfs 4.0's
# nfs-cp resets the connection instead of sending an NFSv4 WRITE of
# about 4 KiB or more, to any server (docs/shares.md).
#
# Needs root, nfs-ganesha-vfs and libnfs-utils (scripts/deps.sh),
# setpriv, /dev/fuse. A Unix account of its own (uid 64000+) is made for
# the run and removed.
set -uo pipefail
[ $# = 2 ] && [ -d "$2" ] || { echo "nfs bench: ERROR: usage: nfs_mount.sh BUILD WORK"; exit 1; }
BUILD=$1 WORK=$2/nfs
MB=${BENCH_NFS_MB:-256}
REPS=${BENCH_REPS:-3}
FILES=${BENCH_NFS_FILES:-100}
U=pfsnfsb$$ ID=$((64000 + $$ % 400))
PORT=$((21000 + RANDOM % 400))
POOLCTL=$BUILD/poolctl
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"	# share_pool, share_cleanup
for p in ganesha.nfsd nfs-cp setpriv; do
	command -v $p > /dev/null || { echo "nfs bench: ERROR: $p missing (scripts/deps.sh)"; exit 1; }
done

GANESHA= PFS=
cleanup() {
	[ -n "$GANESHA" ] && kill "$GANESHA" 2> /dev/null && wait "$GANESHA" 2> /dev/null
	share_cleanup
}
trap cleanup EXIT
rm -rf "$WORK" && mkdir -p "$WORK"/{mnt,plain}
share_pool nfs
DIR=/基础库/人口/户籍人口
# Ganesha checks mode bits for the account first (docs/shares.md)
setpriv --reuid $ID --regid $ID --clear-groups chmod 0777 "$WORK/mnt$DIR" ||
	{ echo "nfs bench: ERROR: cannot open the entry's directory by mode"; exit 1; }
"$POOLCTL" -s "$WORK/store" share nfs --mount "$WORK/mnt" --dept gongan --port $PORT \
	--bind 127.0.0.1 --sec sys --state "$WORK/state" --conf "$WORK/ganesha.conf" \
	> "$WORK/ganesha.conf" || { echo "nfs bench: ERROR: poolctl share nfs failed"; exit 1; }
# the plain directory: the same export but for its path, in the same Ganesha
sed -n '/^EXPORT {/,$p' "$WORK/ganesha.conf" |
	sed -e "s/Export_Id = 1;/Export_Id = 2;/; s|Path = .*|Path = \"$WORK/plain\";|; s|Pseudo = .*|Pseudo = \"/plain\";|" \
	>> "$WORK/ganesha.conf"
sed -i -e "s|^NFSV4 {|NFSV4 {\n\tGraceless = true;|" "$WORK/ganesha.conf"
echo 'LOG { Default_Log_Level = EVENT; }' >> "$WORK/ganesha.conf"
eval "$(sed -n 's/^# before: //p' "$WORK/ganesha.conf")"
run=$(sed -n 's/^# run: //p' "$WORK/ganesha.conf")
# shellcheck disable=SC2086	# the printed command line is words
setsid $run > "$WORK/ganesha.out" 2>&1 &
GANESHA=$!
for ((i = 0; i < 150; i++)); do
	nfs-ls "nfs://127.0.0.1/?version=4&nfsport=$PORT" > /dev/null 2>&1 && break
	sleep 0.2
done
head -c $((MB << 20)) /dev/urandom > "$WORK/data" && chmod 0644 "$WORK/data"

url() { printf 'nfs://127.0.0.1%s?version=4&nfsport=%s' "$1" "$PORT"; }
# one SRC DST: seconds for one nfs-cp, or "ERR"
one() {
	local t0 t1
	t0=$(date +%s.%N)
	timeout 600 nfs-cp "$1" "$2" > /dev/null 2>&1 || { echo ERR; return; }
	t1=$(date +%s.%N)
	echo "$t0 $t1" | awk '{ printf "%.3f\n", $2 - $1 }'
}
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print "ERR" }'; }
mbs() { [ "$1" = ERR ] && echo ERR || awk -v s="$1" -v mb=$MB 'BEGIN { printf "%.0f", mb / s }'; }

# many SRC DIR: seconds for FILES nfs-cp of SRC into DIR, or "ERR"
many() {
	local t0 t1 i
	t0=$(date +%s.%N)
	for ((i = 0; i < FILES; i++)); do
		timeout 60 nfs-cp "$1" "$(url "$2/s$i")" > /dev/null 2>&1 || { echo ERR; return; }
	done
	t1=$(date +%s.%N)
	echo "$t0 $t1" | awk '{ printf "%.3f\n", $2 - $1 }'
}
head -c 2048 /dev/urandom > "$WORK/small" && chmod 0644 "$WORK/small"
cp "$WORK/data" "$WORK/plain/big" && chown $ID:$ID "$WORK/plain/big"
setpriv --reuid $ID --regid $ID --clear-groups cp "$WORK/data" "$WORK/mnt$DIR/big" ||
	echo "nfs bench: ERROR: cannot put the file into the pool"

declare -A R
for ex in plain pool; do
	d=/plain; [ $ex = pool ] && d="/gongan$DIR"
	R[$ex.w]=$(many "$WORK/small" "$d")
	sync; echo 3 > /proc/sys/vm/drop_caches 2> /dev/null
	R[$ex.r]=$(for ((r = 0; r < REPS; r++)); do
		rm -f "$WORK/back"
		one "$(url "$d/big")" "$WORK/back"
	done | median)
done
if ! cmp -s "$WORK/data" "$WORK/back"; then
	echo "nfs bench: ERROR: the file read over NFS differs from the pool's"
fi
if [ "${R[pool.w]}" != ERR ] &&
	! setpriv --reuid $ID --regid $ID --clear-groups cmp -s "$WORK/small" "$WORK/mnt$DIR/s0"; then
	echo "nfs bench: ERROR: the file written over NFS differs from what was sent"
fi
fps() { [ "$1" = ERR ] && echo ERR || awk -v s="$1" -v n=$FILES 'BEGIN { printf "%.0f", n / s }'; }
ratio() { [ "$1" != ERR ] && [ "$2" != ERR ] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }' || echo -; }
printf '%-40s %10s %10s %8s\n' "NFSv4 through nfs-cp (Ganesha, VFS)" "plain" "poolfs" "ratio"
p=$(mbs "${R[plain.r]}") f=$(mbs "${R[pool.r]}")
printf '%-40s %10s %10s %8s\n' "read ${MB} MiB (nfs-cp from), MB/s" "$p" "$f" "$(ratio "$f" "$p")"
p=$(fps "${R[plain.w]}") f=$(fps "${R[pool.w]}")
printf '%-40s %10s %10s %8s\n' "write ${FILES} x 2 KiB (incl. commit), files/s" "$p" "$f" "$(ratio "$f" "$p")"
