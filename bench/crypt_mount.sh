#!/usr/bin/env bash
# bench/crypt_mount.sh BUILD WORK: sequential write (dd bs=1M, conv=fsync,
# so the commit is in) and cold sequential read of the same file through
# three pools mounted side by side in one run: unencrypted, aes-256-gcm
# and sm4. Repeats alternate between the pools so drift of the machine
# reaches them alike; medians are shown with the ratio to the unencrypted
# pool. DESIGN.md's target: aes-256-gcm >= 0.9 x unencrypted, both ways.
# Environment: BENCH_CRYPT_MB (512), BENCH_REPS (3), BENCH_CRYPT_CIPHERS
# ("none aes-256-gcm sm4"; none must be first). Below the table: the
# daemon CPU seconds per GiB of the reads, which load moves less than wall.
set -uo pipefail
BUILD=$1
WORK=$2
MB=${BENCH_CRYPT_MB:-512}
REPS=${BENCH_REPS:-3}
PY=${PYTHON:-python3}
META=$(cd "$(dirname "$0")" && pwd)/meta.py
read -r -a CIPHERS <<< "${BENCH_CRYPT_CIPHERS:-none aes-256-gcm sm4}"
declare -A PID W R RC
# the daemon's CPU ticks (utime + stime): steadier than wall on a busy host
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

mount_pool() {	# cipher
	local c=$1 store=$WORK/crypt_$1.store mnt=$WORK/crypt_$1.mnt
	mkdir -p "$mnt"
	"$BUILD/poolfs" "$store" "$mnt" -f -o allow_all 2> "$WORK/crypt_$c.log" &
	PID[$c]=$!
	for _ in $(seq 100); do grep -q " $mnt fuse" /proc/self/mounts && return 0; sleep 0.1; done
	echo "crypt bench: $c: mount failed: $(tail -n 2 "$WORK/crypt_$c.log")"
	return 1
}

umount_pool() {
	fusermount3 -u "$WORK/crypt_$1.mnt" 2> /dev/null
	wait "${PID[$1]}" 2> /dev/null
}

for c in "${CIPHERS[@]}"; do
	store=$WORK/crypt_$c.store
	rm -rf "$store" "$WORK/crypt_$c.key"
	if [ $c = none ]; then
		"$BUILD/poolctl" init "$store" --cipher none > /dev/null || exit 1
	else
		"$BUILD/poolctl" init "$store" --cipher $c --key-file "$WORK/crypt_$c.key" > /dev/null ||
			exit 1
	fi
	mount_pool $c || exit 1
done

# one source per repeat: a rewrite of the same bytes would dedupe to nothing
for ((i = 0; i < REPS; i++)); do
	head -c $((MB << 20)) /dev/urandom > "$WORK/crypt_src.$i" || exit 1
done

for ((i = 0; i < REPS; i++)); do
	for c in "${CIPHERS[@]}"; do
		t=$("$PY" "$META" time dd if="$WORK/crypt_src.$i" of="$WORK/crypt_$c.mnt/f$i" \
			bs=1M conv=fsync) || { echo "crypt bench: $c: write failed"; exit 1; }
		W[$c]+="$t "
	done
	# cold: a remount empties the kernel's cache of the mount and RocksDB's
	for c in "${CIPHERS[@]}"; do
		umount_pool $c
		mount_pool $c || exit 1
		k0=$(ticks "${PID[$c]}")
		t=$("$PY" "$META" time dd if="$WORK/crypt_$c.mnt/f$i" of=/dev/null bs=1M) ||
			{ echo "crypt bench: $c: read failed"; exit 1; }
		R[$c]+="$t "
		RC[$c]+="$(awk -v k="$(($(ticks "${PID[$c]}") - k0))" -v hz="$(getconf CLK_TCK)" \
			-v mb="$MB" 'BEGIN { printf "%.2f", k / hz / (mb / 1024) }') "
	done
done
rm -f "$WORK"/crypt_src.*

med() { tr ' ' '\n' <<< "$1" | grep . | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
rate() { awk -v t="$1" -v mb="$MB" 'BEGIN { printf "%.0f", mb / t }'; }
{
	echo "pool|write MB/s|write ratio|read MB/s|read ratio|target|met"
	bw=$(rate "$(med "${W[none]}")")
	br=$(rate "$(med "${R[none]}")")
	for c in "${CIPHERS[@]}"; do
		w=$(rate "$(med "${W[$c]}")")
		r=$(rate "$(med "${R[$c]}")")
		wr=$(awk -v a="$w" -v b="$bw" 'BEGIN { printf "%.2f", a / b }')
		rr=$(awk -v a="$r" -v b="$br" 'BEGIN { printf "%.2f", a / b }')
		target=- met=-
		if [ $c = aes-256-gcm ]; then
			target=">= 0.9 x unencrypted"
			met=$(awk -v a="$wr" -v b="$rr" 'BEGIN { print (a >= 0.9 && b >= 0.9) ? "yes" : "NO" }')
		elif [ $c = sm4 ]; then
			target="(software SM4, reported)"
		fi
		echo "$c|$w|$wr|$r|$rr|$target|$met"
	done
} > "$WORK/crypt_table"
for c in "${CIPHERS[@]}"; do umount_pool $c; done
echo "encryption at rest: ${MB} MiB, median of $REPS, $(nproc) cores"
column -t -s '|' < "$WORK/crypt_table"
printf 'daemon CPU of the cold read, s/GiB (median):'
for c in "${CIPHERS[@]}"; do printf ' %s %s' "$c" "$(med "${RC[$c]}")"; done
echo
rm -rf "$WORK"/crypt_*.store "$WORK"/crypt_*.mnt "$WORK"/crypt_*.key
