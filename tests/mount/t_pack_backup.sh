#!/usr/bin/env bash
# t_pack_backup.sh - backups copy a grown pack's new tail only
# (docs/storage.md "Packs", store/backup_pack.c): after a 48 MiB file in
# a pack gets a 9 MiB append, the second backup adds about that to
# DEST/poolfs/packs, not the whole pack again; a third after no pack
# change adds no piece; prune keeps the pieces a kept backup needs; both
# versions read back from a restored pool; a flipped byte in a piece is
# reported by verify, which names the piece, and refused by restore.
# poolctl stats reports the pack's bytes; a pool made with --packs off
# writes none.
# timeout: 90
. "$(dirname "$0")/../lib.sh"
t_setup

DEST=$T_TMP/backups
packs_bytes() { find "$DEST/poolfs/packs" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }

pool_init
pool_mount
head -c $((48 << 20)) /dev/urandom > "$REF/v1"
check "dd of 48 MiB" dd if="$REF/v1" of="$MNT/big" bs=1M conv=fsync
wait_version "$MNT" big 1
# poolctl stats: the pack as it is on disk, all of it live
PACK1=$STORE/packs/00000001.pack
check_eq "stats: the pool writes packs" "$(stats_field writes_packs)" "True"
check_eq "stats: one pack" "$(stats_field packs)" "1"
check_eq "stats: its bytes on disk" "$(stats_field pack_bytes)" "$(stat -c %s "$PACK1")"
check_eq "stats: every byte but the header live" "$(stats_field pack_live_bytes)" \
	"$(( $(stat -c %s "$PACK1") - 16 ))"
check_eq "stats: no garbage" "$(stats_field pack_garbage_bytes)" "0"
check "stats as text" pctl stats
T_CHECKS=$((T_CHECKS + 1))
grep -q "^pack bytes  *$(stat -c %s "$PACK1")$" "$T_TMP/check.out" ||
	fail "stats text: $(head -c 400 "$T_TMP/check.out")"
check "first backup" pctl backup create "$DEST"
first=$(packs_bytes)
T_CHECKS=$((T_CHECKS + 1))
[ "$first" -gt $((40 << 20)) ] || fail "the first backup holds $first pack bytes"

# a 9 MiB append: a commit past one batch, so its chunks grow the pack
head -c $((9 << 20)) /dev/urandom > "$REF/tail"
cat "$REF/v1" "$REF/tail" > "$REF/v2"
check "a 9 MiB append" dd if="$REF/tail" of="$MNT/big" bs=1M oflag=append conv=notrunc,fsync
wait_version "$MNT" big 2
check "second backup" pctl backup create "$DEST"
grown=$(( $(packs_bytes) - first ))
note "the second backup added $grown pack bytes (the pack is $(stat -c %s "$STORE"/packs/00000001.pack))"
T_CHECKS=$((T_CHECKS + 1))
[ "$grown" -gt 0 ] && [ "$grown" -lt $((16 << 20)) ] ||
	fail "the second backup added $grown bytes to DEST/poolfs/packs (want 0 < n < 16 MiB)"
T_CHECKS=$((T_CHECKS + 1))
ls "$DEST"/poolfs/packs/00000001.[1-9]*.piece > /dev/null 2>&1 ||
	fail "no piece past offset 0: $(ls "$DEST/poolfs/packs")"

echo small > "$MNT/small"
NP=$(ls "$DEST/poolfs/packs" | wc -l)
check "third backup after a small change" pctl backup create "$DEST"
check_eq "it adds no piece" "$(ls "$DEST/poolfs/packs" | wc -l)" "$NP"

check "prune to the newest two" "$POOLCTL" backup prune "$DEST" --keep 2
check_eq "prune keeps the pieces backup 3 lists" "$(ls "$DEST/poolfs/packs" | wc -l)" \
	"$(grep -c . "$DEST"/poolfs/3/packs/MANIFEST)"
check "the kept backups verify" "$POOLCTL" backup verify "$DEST"
R=$T_TMP/restored
check "restore of backup 3" "$POOLCTL" backup restore "$DEST" --id 3 "$R"
M2=$T_TMP/mnt2
pool_mount "$R" "$M2"
check_same "the restored file" "$M2/big" "$REF/v2"
check_same "its first version" "$M2/.versions/big/1" "$REF/v1"
pool_umount "$M2"

TAILP=$(ls "$DEST"/poolfs/packs/00000001.[1-9]*.piece | head -n1)
printf '\x55' | dd of="$TAILP" bs=1 seek=$(( $(stat -c %s "$TAILP") / 2 )) conv=notrunc 2> /dev/null
check_fails "verify of a backup with a flipped piece byte" "$POOLCTL" backup verify "$DEST" --id 3
T_CHECKS=$((T_CHECKS + 1))
grep -q "$(basename "$TAILP")" "$T_TMP/check.out" ||
	fail "verify does not name the piece: $(head -c 300 "$T_TMP/check.out")"
check_fails "restore of it" "$POOLCTL" backup restore "$DEST" --id 3 "$T_TMP/r2"
daemon_ok "pack backups"
pool_umount

# a pool made with --packs off keeps everything in the database
S2=$T_TMP/inline
pool_init "$S2" --key-file "$T_TMP/master.key" --packs off
pool_mount "$S2" "$M2"
check "dd of 20 MiB into it" dd if="$REF/v1" of="$M2/big" bs=1M count=20 conv=fsync
T_CHECKS=$((T_CHECKS + 1))
ls "$S2"/packs/*.pack > /dev/null 2>&1 && fail "a --packs off pool has pack files"
check_eq "stats: it writes no packs" "$(PSTORE=$S2 stats_field writes_packs)" "False"
pool_umount "$M2"
check_fails "init --packs with a wrong value" "$POOLCTL" init "$T_TMP/bad" --packs maybe
