#!/usr/bin/env bash
# t_pack.sh - pack files (the default of a new pool, docs/storage.md "Packs") with the
# real poolfs and poolctl in an encrypted pool: a large write lands in a
# pack that holds no plaintext and reads back, also after a remount and
# after kill -9 in the middle of another large write; scrub finds nothing
# damaged; a backup carries the packs: verify, restore and a mount of the
# restored pool read the files back; a flipped pack byte in the backup is
# reported by verify and refused by restore; a backup after a small
# change copies no pack again, and prune drops only unlisted copies.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup

DEST=$T_TMP/backups

pool_init
pool_mount
# a marker the pool must never hold in the clear, then bytes that do not dedupe
{ yes POOLFS_PACK_PLAINTEXT_MARKER | head -c $((4 << 20)); head -c $((36 << 20)) /dev/urandom; } \
	> "$REF/big"
check "dd of 40 MiB" dd if="$REF/big" of="$MNT/big" bs=1M conv=fsync
check_same "the big file reads back" "$MNT/big" "$REF/big"
T_CHECKS=$((T_CHECKS + 1))
ls "$STORE"/packs/*.pack > /dev/null 2>&1 || fail "no pack file after a 40 MiB write"
T_CHECKS=$((T_CHECKS + 1))
grep -q POOLFS_PACK_PLAINTEXT "$STORE"/packs/*.pack && fail "a pack holds plaintext"

# kill -9 while a second large file is being written
head -c $((48 << 20)) /dev/urandom > "$REF/other"
dd if="$REF/other" of="$MNT/other" bs=1M conv=fsync 2> /dev/null &
DD=$!
wait_for 20 test -s "$MNT/other" || note "the second write had not started"
pool_kill9
wait $DD 2> /dev/null
pool_mount
check_same "the big file after kill -9 and a remount" "$MNT/big" "$REF/big"
# the killed write's bytes are garbage: stats adds up to the packs on disk
on_disk=$(find "$STORE/packs" -name '*.pack' -printf '%s\n' | awk '{s += $1} END {print s}')
npk=$(stats_field packs)
check_eq "stats: pack bytes are the files'" "$(stats_field pack_bytes)" "$on_disk"
check_eq "stats: live + garbage + headers = pack bytes" \
	"$(( $(stats_field pack_live_bytes) + $(stats_field pack_garbage_bytes) + 16 * npk ))" "$on_disk"
[ "$(stats_field pack_garbage_bytes)" -gt 0 ] || note "no garbage after kill -9 (the write had not reached a pack)"
check "a third write after the crash" dd if="$REF/other" of="$MNT/third" bs=1M conv=fsync
check_same "the third file reads back" "$MNT/third" "$REF/other"
check_eq "scrub finds nothing damaged" \
	"$(pctl scrub 2>&1 | grep -o '[0-9]* damaged$')" "0 damaged"

# ---- backups carry the packs ----
check "backup create through the daemon" pctl backup create "$DEST"
T_CHECKS=$((T_CHECKS + 1))
[ -s "$DEST/poolfs/1/packs/MANIFEST" ] || fail "the backup has no pack MANIFEST"
check "backup verify" "$POOLCTL" backup verify "$DEST"
R=$T_TMP/restored
check "backup restore" "$POOLCTL" backup restore "$DEST" --id 1 "$R"
M2=$T_TMP/mnt2
pool_mount "$R" "$M2"
check_same "the restored big file" "$M2/big" "$REF/big"
check_same "the restored third file" "$M2/third" "$REF/other"
pool_umount "$M2"

# incremental: a small change copies no pack again; a grown pack adds a piece
NPACKS=$(ls "$DEST"/poolfs/packs | wc -l)
echo small > "$MNT/small"
check "a second backup after a small change" pctl backup create "$DEST"
check_eq "it shares every pack copy" "$(ls "$DEST"/poolfs/packs | wc -l)" "$NPACKS"
check "a fourth large write" dd if="$REF/big" of="$MNT/fourth" bs=1M count=24 conv=fsync
head -c $((24 << 20)) "$REF/big" > "$REF/fourth"
check "a third backup after it" pctl backup create "$DEST"
check "prune to the newest" "$POOLCTL" backup prune "$DEST" --keep 1
check_eq "prune dropped the copies only older backups named" \
	"$(ls "$DEST"/poolfs/packs | wc -l)" "$(grep -c . "$DEST"/poolfs/3/packs/MANIFEST)"
check "the kept backup verifies" "$POOLCTL" backup verify "$DEST"
R3=$T_TMP/restored3
check "restore of it" "$POOLCTL" backup restore "$DEST" --id 3 "$R3"
pool_mount "$R3" "$M2"
check_same "its fourth file" "$M2/fourth" "$REF/fourth"
check_same "its big file" "$M2/big" "$REF/big"
pool_umount "$M2"

P=$(ls "$DEST"/poolfs/packs/*.piece | head -n1)
# flipped, not overwritten: a byte that already was the new value (1 in 256) changes nothing
AT=$(( $(stat -c %s "$P") / 2 ))
B=$(od -An -tu1 -j "$AT" -N1 "$P" | tr -d ' ')
printf "\\$(printf %03o $(( B ^ 0xff )))" | dd of="$P" bs=1 seek="$AT" conv=notrunc 2> /dev/null
check_fails "the byte changed" cmp -s <(printf "\\$(printf %03o "$B")") \
	<(dd if="$P" bs=1 skip="$AT" count=1 2> /dev/null)
check_fails "verify of a backup with a flipped pack byte" "$POOLCTL" backup verify "$DEST"
T_CHECKS=$((T_CHECKS + 1))
grep -q "packs/" "$T_TMP/check.out" || fail "verify does not name the pack: $(head -c 300 "$T_TMP/check.out")"
check_fails "restore of it" "$POOLCTL" backup restore "$DEST" --id 3 "$T_TMP/r2"
daemon_ok "packs"
