#!/usr/bin/env bash
# t_vseg_ahead_err.sh - a segment the read-ahead workers fail to make
# fails only a read that needs it (docs/desensitization.md "Views in
# segments"): renshe reads the head of its view (the four segments
# after it are made by the workers), then renshe's hash key goes away;
# reads in order over those (which queue the segments after them, which
# now fail in the workers) return their bytes, a read of the far end (a
# segment never made) is EIO; with the key back every segment reads
# right, the failures were not kept. The reader reads with POSIX_FADV_RANDOM and
# drops its pages, so that each pread() is one request for exactly its
# own pages, not the kernel's read-ahead of the next ones.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup
t_setup_readers
t_bigview_pool 1M 2097152
READ='
import os, sys, time
path, ref, ctl = sys.argv[1], open(sys.argv[2], "rb").read(), sys.argv[3]
fd = os.open(path, os.O_RDONLY)
size = os.fstat(fd).st_size
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
def pread(n, off):
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    try:
        got = os.pread(fd, n, off)
    except OSError as e:
        return os.strerror(e.errno)
    return "right" if got == ref[off:off + n] else "WRONG %d bytes" % len(got)
def wait(name):
    while not os.path.exists(ctl + "/" + name):
        time.sleep(0.05)
print("1 head", pread(65536, 0), flush=True)
wait("gone")
# in order over segments made (0 to 4: the first read, and the four
# after it), each read queuing the four after its own: up to 7
print("2 head again", " ".join(pread(65536, off) for off in range(65536, 262144, 65536)))
time.sleep(1)	# not for a result: gives the workers time to fail
print("3 far end", pread(4096, size - 4096), flush=True)
wait("back")
bad = [off for off in range(0, min(size, 1 << 20), 65536) if pread(65536, off) != "right"]
print("4 after", "right" if not bad else "not at %s" % bad)
print("5 far end after", pread(4096, size - 4096))
'
rm -f "$T_TMP/gone" "$T_TMP/back"
asB "$UPY" -c "$READ" "$MNT$GA/big.csv" "$T_TMP/view" "$T_TMP" > "$T_TMP/read.out" 2>&1 &
rpid=$!
wait_for 30 grep -q '^1 ' "$T_TMP/read.out" || die "the reader did not read the head"
mv "$STORE/keys/hash.key" "$T_TMP/hash.key" || die "cannot move the hash key away"
touch "$T_TMP/gone"
wait_for 30 grep -q '^3 ' "$T_TMP/read.out" || die "the reader did not read the far end"
mv "$T_TMP/hash.key" "$STORE/keys/hash.key" || die "cannot put the hash key back"
touch "$T_TMP/back"
wait "$rpid"
check_eq "the head, with the key" "$(grep '^1 ' "$T_TMP/read.out")" "1 head right"
check_eq "the head again, the key gone, the next segments failing in the workers" \
	"$(grep '^2 ' "$T_TMP/read.out")" "2 head again right right right"
check_eq "the far end, never made, the key gone" "$(grep '^3 ' "$T_TMP/read.out")" \
	"3 far end Input/output error"
check_eq "the first MiB with the key back" "$(grep '^4 ' "$T_TMP/read.out")" "4 after right"
check_eq "the far end with the key back" "$(grep '^5 ' "$T_TMP/read.out")" \
	"5 far end after right"
check "the daemon still serves" daemon_alive
pool_umount
