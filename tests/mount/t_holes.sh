#!/usr/bin/env bash
# t_holes.sh - holes cost nothing: truncates to 4 GiB and 1 TiB and a
# write 1 TiB past the start return at once, read back as zeros, store
# under 1 MiB and survive a restore; sizes past the 8 TiB limit are
# EFBIG (a truncate to 999999999999999 used to hang the caller and the
# daemon). Then SIGTERM during a long commit stops the daemon within
# seconds and the store reopens with the last committed version.
# Calls that could hang run in the background with a deadline.
# timeout: 90
. "$(dirname "$0")/../lib.sh"
t_setup

MAX=$((1 << 43))
TIB=$((1 << 40))
pool_init
pool_mount

# calls DESC WANT ARGS...: holes.py ARGS prints WANT within 30 s (a FUSE
# request that never returns leaves its caller unkillable: never wait
# on it blindly)
calls() {
	local desc=$1 want=$2 pid rc got
	shift 2
	T_CHECKS=$((T_CHECKS + 1))
	"$PY" "$HELPERS/holes.py" "$@" > "$T_TMP/calls.out" 2>&1 &
	pid=$!
	wait_pid "$pid" 30
	rc=$?
	got=$(cat "$T_TMP/calls.out")
	[ $rc = 255 ] && die "$desc: no answer within 30 s (a request hangs)"
	[ "$got" = "$want" ] && return 0
	fail "$desc: got '$got', want '$want'"
	return 1
}
grew_under_1m() {
	local now
	now=$(stats_field stored_bytes)
	T_CHECKS=$((T_CHECKS + 1))
	[ -n "$now" ] && [ $((now - $2)) -lt $((1 << 20)) ] ||
		fail "$1: stored bytes grew from $2 to ${now:-?}"
}

s0=$(stats_field stored_bytes)
[ -n "$s0" ] || die "poolctl stats gave no stored_bytes: $(cat "$T_TMP/pctl.err")"

note "past the limit: EFBIG"
check "create huge" timeout 10 touch "$MNT/huge"
calls "truncate to 999999999999999, to 2^43 + 1, write at 2^43" "EFBIG EFBIG EFBIG 0" \
	truncate "$MNT/huge" 999999999999999 -- truncate "$MNT/huge" $((MAX + 1)) -- \
	pwrite "$MNT/huge" $MAX x -- size "$MNT/huge"
daemon_ok "a truncate to 999999999999999"
calls "write the last byte below 2^43" "OK $MAX OK:b'\\x00x'" \
	pwrite "$MNT/huge" $((MAX - 1)) x -- size "$MNT/huge" -- read "$MNT/huge" $((MAX - 2)) 2

note "truncate up to 4 GiB and 1 TiB"
check "create g4, t1" timeout 10 touch "$MNT/g4" "$MNT/t1"
calls "truncates, sizes, zeros" "OK OK $((4 << 30)) $TIB OK OK OK OK OK" \
	truncate "$MNT/g4" $((4 << 30)) -- truncate "$MNT/t1" $TIB -- \
	size "$MNT/g4" -- size "$MNT/t1" -- \
	zeros "$MNT/g4" 0 4096 -- zeros "$MNT/g4" $((1 << 31)) 4096 -- \
	zeros "$MNT/g4" $(((4 << 30) - 4096)) 4096 -- \
	zeros "$MNT/t1" $((TIB / 2 + 12345)) 4096 -- zeros "$MNT/t1" $((TIB - 4096)) 4096
grew_under_1m "truncates to 4 GiB, 1 TiB and a byte at 8 TiB" "$s0"

note "5 bytes at 2^40"
s1=$(stats_field stored_bytes)
calls "write 5 bytes at 2^40" OK pwrite "$MNT/far" $TIB hello
wait_version "$MNT" far 1
calls "size and bytes of far" "$((TIB + 5)) OK:b'\\x00\\x00\\x00hello' OK" \
	size "$MNT/far" -- read "$MNT/far" $((TIB - 3)) 8 -- zeros "$MNT/far" $((TIB / 2)) 4096
grew_under_1m "5 bytes at 2^40" "$s1"
check_eq "versions lists the size" \
	"$(pctl versions /far --json 2>&1 | "$PY" "$HELPERS/jsonq.py" versions)" "1 $((TIB + 5))"
calls "truncate far to 10" OK truncate "$MNT/far" 10
wait_version "$MNT" far 2
check "restore far to version 1" pctl restore /far --version 1
wait_version "$MNT" far 3
calls "far after restore, and version 1" "$((TIB + 5)) OK:b'lo' OK:b'hello'" \
	size "$MNT/far" -- read "$MNT/far" $((TIB + 3)) 2 -- read "$MNT/.versions/far/1" $TIB 5

note "SIGTERM during a long commit"
# a byte every 768 KiB over 6 GiB: the gaps are too short for holes, so
# the commit chunks and hashes 6 GiB of zeros (seconds of CPU), while the
# spill file holds 8192 blocks and the store a handful of chunks
check "write v1 of long" sh -c 'echo v1 > "$1"' _ "$MNT/long"
wait_version "$MNT" long 1
"$PY" "$HELPERS/holes.py" stride "$MNT/long" $((768 << 10)) 8192 > "$T_TMP/stride.out" 2>&1 &
wait_for 40 grep -q written "$T_TMP/stride.out" || die "the stride writes did not finish"
sleep 0.5
pid=$POOLFS_PID
kill -TERM "$pid"
T_CHECKS=$((T_CHECKS + 1))
wait_pid "$pid" 10
rc=$?
T_PID[$MNT]=
[ $rc = 255 ] && die "poolfs still runs 10 s after SIGTERM during a commit"
[ $rc = 0 ] || fail "poolfs exited $rc after SIGTERM"
wait_for 10 grep -qv written "$T_TMP/stride.out"
note "writer got: $(tr '\n' ' ' < "$T_TMP/stride.out")"
T_CHECKS=$((T_CHECKS + 1))
grep -q '^OK$' "$T_TMP/stride.out" &&
	fail "the commit finished before SIGTERM: nothing was interrupted"
is_mounted "$MNT" && fusermount3 -u "$MNT" 2> /dev/null
pool_mount
check_eq "long is at its last committed version" "$(timeout 10 cat "$MNT/long" 2>&1)" v1
check_eq "long has one version" "$(versions_count /long)" 1
calls "far and t1 after the restart" "OK:b'hello' OK" \
	read "$MNT/far" $TIB 5 -- zeros "$MNT/t1" $((TIB - 4096)) 4096
daemon_ok "a restart after SIGTERM"
