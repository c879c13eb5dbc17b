#!/usr/bin/env bash
# t_crypt_reencrypt.sh - "poolctl key reencrypt" after a key rotation:
# refused while a poolfs serves the pool; a run killed with SIGKILL
# (throttled with --rate so the kill lands midway) leaves a pool that
# reads, and a rerun re-seals every chunk, chunk list, version and audit
# record under the current key (checked with ldb); files read back, the
# audit chain verifies, scrub is clean. "key rotate --reencrypt" does both
# offline and is refused, rotating nothing, through a running daemon.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup

command -v ldb > /dev/null || die "ldb not found (Debian rocksdb-tools; scripts/deps.sh installs it)"

pool_init
pool_mount
gen 1 3000000 text > "$REF/v1" || die "gen failed"
gen 2 200000 text > "$REF/v2" || die "gen failed"
check "write version 1" cp "$REF/v1" "$MNT/f"
check "write version 2" cp "$REF/v2" "$MNT/f"
check "key rotate through the daemon" pctl key rotate
check "reencrypt is refused while a poolfs serves the pool" \
	sh -c '! "$1" -s "$2" key reencrypt > "$3" 2>&1' _ "$POOLCTL" "$STORE" "$T_TMP/r.out"
check "rotate --reencrypt is refused through the daemon" \
	sh -c '! "$1" -s "$2" key rotate --reencrypt > "$3" 2>&1' _ "$POOLCTL" "$STORE" "$T_TMP/r.out"
check_eq "the refused rotate made no key" "$(pctl crypto | awk '/^data key/ { print $5 }')" 2
pool_umount

# keys KEYID: rows of chunks, versions and audit sealed with another key than KEYID
other_keys() {
	local cf n=0 want
	want=$(printf '01%08x' "$1")
	for cf in chunks versions audit; do
		ldb --db="$STORE/db" --column_family=$cf --hex scan > "$T_TMP/scan" 2> /dev/null ||
			die "ldb scan $cf failed"
		n=$((n + $(awk -v cf=$cf -v w="$want" '{ v = tolower($3); sub(/^0x/, "", v)
			if (cf == "audit") v = substr(v, 17); if (substr(v, 1, 10) != w) n++ }
			END { print n + 0 }' "$T_TMP/scan")))
	done
	echo "$n"
}
before=$(other_keys 2)
check "values sealed with key 1 before ($before)" test "$before" -gt 10

"$POOLCTL" -s "$STORE" key reencrypt --rate 1 > /dev/null 2>&1 &
pid=$!
sleep 1.5
kill -KILL "$pid" 2> /dev/null
wait "$pid" 2> /dev/null
check_eq "the throttled run was killed midway" "$?" 137
check "the pool opens after the kill" pctl stats
check "rerun completes" pctl key reencrypt
check_eq "values sealed with another key than 2" "$(other_keys 2)" 0

pool_mount
check_same "version 1 reads back" "$MNT/.versions/f/1" "$REF/v1"
check_same "version 2 reads back" "$MNT/.versions/f/2" "$REF/v2"
pool_umount
check "audit verify" pctl audit verify
check "scrub" pctl scrub

check "key rotate --reencrypt offline" pctl key rotate --reencrypt
check_eq "values sealed with another key than 3" "$(other_keys 3)" 0
check "audit verify after the second pass" pctl audit verify
pool_mount
check_same "version 1 after the second pass" "$MNT/.versions/f/1" "$REF/v1"
pool_umount
