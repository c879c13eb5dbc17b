#!/usr/bin/env bash
# t_vseg_audit.sh - a read of a view served in segments whose segment
# cannot be made (here: the hash key is gone from an unencrypted pool
# after the open) is EIO with exactly one audit record naming why, not
# one from the view and another from the read path; the daemon serves on
# and the next read, with the key back, returns the view's bytes.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup
t_setup_readers
t_bigview_pool 256K 1000000

# the reader opens (the map is read), then the key goes away and a far
# segment must be made for its next read
READ='
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
size = os.fstat(fd).st_size
os.pread(fd, 10, 0)
print("opened", flush=True)
while not os.path.exists(sys.argv[2]):
    time.sleep(0.05)
try:
    os.pread(fd, 4096, size - 4096)
    print("read")
except OSError as e:
    print(os.strerror(e.errno))
'
rm -f "$T_TMP/go"
asB "$UPY" -c "$READ" "$MNT$GA/big.csv" "$T_TMP/go" > "$T_TMP/read.out" 2>&1 &
rpid=$!
wait_for 30 grep -q opened "$T_TMP/read.out" || die "the reader did not open"
mv "$STORE/keys/hash.key" "$T_TMP/hash.key" || die "cannot move the hash key away"
touch "$T_TMP/go"
wait "$rpid"
mv "$T_TMP/hash.key" "$STORE/keys/hash.key" || die "cannot put the hash key back"
check_eq "the far read without the hash key" "$(tail -n1 "$T_TMP/read.out")" \
	"Input/output error"
pctl audit query --path "$GA/big.csv" --op read --uid 1002 > "$T_TMP/audit.out" 2>&1
made=$(grep -c 'view segment not made' "$T_TMP/audit.out")
# the kernel may send the read again after a failure: one record per request
check "the failed reads are recorded with why" test "$made" -ge 1
check_eq "and none twice (every failed read's record says why)" \
	"$(grep -c 'result=error' "$T_TMP/audit.out")" "$made"
check "the daemon still serves" daemon_alive
check_same "with the key back renshe reads its view" <(asB cat "$MNT$GA/big.csv") "$T_TMP/view"
pool_umount
