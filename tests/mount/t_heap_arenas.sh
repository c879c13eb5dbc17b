#!/usr/bin/env bash
# t_heap_arenas.sh - the daemon's heap stays in few malloc arenas under
# concurrent load. glibc gives each new thread its own arena (up to 8 per
# core), each keeping what it freed: spread over many FUSE worker threads,
# memtable and cache blocks made the daemon's RSS several times what it
# had in use and grow through a 10-minute soak (bench/soak.sh). The arenas
# other than the main one are the 64 MiB-aligned heaps in
# /proc/PID/maps; the daemon limits itself to 2 arenas (fs/main.c
# malloc_keep), so a fully used one may chain a second heap: at most 3.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup

NPROC=8 NFILES=25
pool_init
pool_mount
mkdir -p "$MNT/a" || die "mkdir failed"

# heaps PID: the number of glibc non-main arena heaps of the process: an
# anonymous read-write mapping starting on a 64 MiB boundary whose
# reservation (it and the inaccessible rest after it) ends on the next one
heaps() {
	"$PY" - "$1" << 'EOF'
import sys
H = 64 << 20
maps = []
for line in open("/proc/%s/maps" % sys.argv[1]):
    f = line.split()
    lo, hi = (int(x, 16) for x in f[0].split("-"))
    maps.append((lo, hi, f[1], len(f) > 5))
n = 0
for i, (lo, hi, perm, named) in enumerate(maps):
    if named or not perm.startswith("rw") or lo % H:
        continue
    end = hi
    if i + 1 < len(maps) and maps[i + 1][0] == hi and maps[i + 1][2].startswith("---"):
        end = maps[i + 1][1]
    n += end - lo == H
print(n)
EOF
}

pids=()
for ((i = 0; i < NPROC; i++)); do
	(
		for ((j = 0; j < NFILES; j++)); do
			head -c $((200000 + j * 4096)) /dev/urandom > "$MNT/a/$i.$j" || exit 1
			cat "$MNT/a/$i.$j" > /dev/null || exit 1
			ls "$MNT/a" > /dev/null || exit 1
		done
	) &
	pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
check_eq "every writer exited 0" "$rc" 0
check_eq "every file is there" "$(find "$MNT/a" -type f | wc -l)" $((NPROC * NFILES))
n=$(heaps "$POOLFS_PID")
note "the daemon has $n arena heaps besides the main one"
if t_sanitized; then
	note "arenas not checked: AddressSanitizer has its own allocator"
else
	check "at most 3 arena heaps after $NPROC concurrent writers (got $n)" test "$n" -le 3
fi
pool_umount
