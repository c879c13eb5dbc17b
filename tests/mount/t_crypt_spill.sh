#!/usr/bin/env bash
# t_crypt_spill.sh - the staging spill file is authenticated: a writer
# with out-of-order writes holds its bytes in a spill file (O_TMPFILE,
# reached through the daemon's /proc/PID/fd); a byte flipped there before
# the commit makes fsync and close fail with EIO and commits no version
# (the file stays at its old version), under aes-256-gcm, sm4 and in an
# unencrypted pool; an untouched spill file commits as before.
# timeout: 200
. "$(dirname "$0")/../lib.sh"
t_setup

gen 1 400000 text > "$REF/v1" || die "gen failed"

# writer MODE: rewrites f out of order (so its bytes go to the spill file),
# waits for go, then fsyncs and closes; prints "fsync=ERR close=ERR"
writer() {
	"$PY" - "$MNT/f" "$T_TMP/ready" "$T_TMP/go" > "$T_TMP/writer.out" 2>&1 <<'PY' &
import errno, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
os.pwrite(fd, b"SPILLAUTH-" * 3000, 200000)
os.pwrite(fd, b"head", 0)
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.05)
res = {}
for name, call in (("fsync", lambda: os.fsync(fd)), ("close", lambda: os.close(fd))):
    try:
        call()
        res[name] = "ok"
    except OSError as e:
        res[name] = errno.errorcode.get(e.errno, str(e.errno))
print("fsync=%s close=%s" % (res["fsync"], res["close"]))
PY
	WPID=$!
	wait_for 20 test -e "$T_TMP/ready" || fail "the writer did not start"
}

# flip: XOR one byte of the daemon's spill file(s) at offset 210000
flip() {
	local fd n=0
	for fd in /proc/"$POOLFS_PID"/fd/*; do
		case $(readlink "$fd") in
		*staging*)
			"$PY" -c 'import os, sys
f = os.open(sys.argv[1], os.O_RDWR)
b = bytearray(os.pread(f, 1, 210000)); b[0] ^= 0x40; os.pwrite(f, bytes(b), 210000)' "$fd" &&
				n=$((n + 1)) ;;
		esac
	done
	echo "$n"
}

go() {
	touch "$T_TMP/go"
	wait "$WPID"
	rm -f "$T_TMP/go" "$T_TMP/ready"
}

for cipher in aes-256-gcm sm4 none; do
	S=$T_TMP/store-$cipher
	keyarg=(--key-file "$T_TMP/key-$cipher")
	[ $cipher = none ] && keyarg=()
	pool_init "$S" --cipher $cipher "${keyarg[@]}"
	pool_mount "$S"
	check "$cipher: version 1" cp "$REF/v1" "$MNT/f"

	writer
	check_eq "$cipher: spill files flipped" "$(flip)" 1
	go
	check_eq "$cipher: fsync and close fail with EIO" "$(cat "$T_TMP/writer.out")" \
		"fsync=EIO close=EIO"
	check_same "$cipher: the file is at its old version" "$MNT/f" "$REF/v1"
	check_eq "$cipher: no version committed" "$(PSTORE=$S versions_count /f)" 1

	# the same write untouched commits
	writer
	go
	check_eq "$cipher: untouched, fsync and close succeed" "$(cat "$T_TMP/writer.out")" \
		"fsync=ok close=ok"
	check_eq "$cipher: one version more" "$(PSTORE=$S versions_count /f)" 2
	"$PY" - "$REF/v1" "$REF/v2" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[200000:230000] = b"SPILLAUTH-" * 3000
b[0:4] = b"head"
open(sys.argv[2], "wb").write(b)
PY
	check_same "$cipher: the new version's bytes" "$MNT/f" "$REF/v2"
	pool_umount
done
