#!/usr/bin/env bash
# t_backup_shared.sh - a DEST holds one pool's backups. Pack pieces and
# BackupEngine's files are shared between a DEST's backups by name, and
# two pools have packs of the same numbers: the second pool's backup into
# the first one's DEST is refused before anything is written, in one line
# naming DEST and both pools, through poolctl and through the daemon. The
# first pool's backups still verify and restore; a pool restored from a
# backup is the same pool and may go on backing up there; a DEST from
# before the pool file is claimed by its backups' seals.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup

A=$T_TMP/store-a
B=$T_TMP/store-b
D=$T_TMP/dest
for s in a b; do
	pool_init "$T_TMP/store-$s" --cipher none
	pool_mount "$T_TMP/store-$s" "$T_TMP/mnt-$s"
	for i in 1 2 3; do
		gen $i 20000 csv > "$T_TMP/mnt-$s/f$i.csv" || die "write in pool $s failed"
	done
	pool_umount "$T_TMP/mnt-$s"
done
ls "$A/packs" "$B/packs" > /dev/null 2>&1 || note "no packs in these pools"

# listing DEST: every path, size and mode (what a refused create must leave alone)
listing() { (cd "$1" && find . -printf '%p %s %m\n' | sort); }

check "pool A backs up into DEST" "$POOLCTL" -s "$A" backup create "$D"
before=$(listing "$D")

# ---- pool B, offline: refused, nothing written ----
out=$(timeout 120 "$POOLCTL" -s "$B" backup create "$D" 2>&1)
rc=$?
check_eq "pool B's backup into A's DEST is refused, exit 2 ($out)" "$rc" 2
check_eq "the error is one line" "$(printf '%s\n' "$out" | wc -l)" 1
check_eq "it names DEST and both pools" \
	"$(grep -c -- "$D: holds the backups of another pool.*from $A.*not of $B" <<< "$out")" 1
check_eq "DEST is as it was" "$(listing "$D")" "$before"
check_eq "DEST holds pool A's one backup" \
	"$("$POOLCTL" backup list --json "$D" | "$PY" "$HELPERS/jsonq.py" count)" 1

# ---- pool B through its daemon: refused the same way ----
pool_mount "$B" "$T_TMP/mnt-b"
out=$(timeout 120 "$POOLCTL" -s "$B" backup create "$D" 2>&1)
rc=$?
check_eq "through the daemon: refused, exit 2 ($out)" "$rc" 2
check_eq "through the daemon: it names both pools" \
	"$(grep -c -- "holds the backups of another pool.*not of $B" <<< "$out")" 1
check_eq "through the daemon: DEST is as it was" "$(listing "$D")" "$before"
pool_umount "$T_TMP/mnt-b"

# ---- pool A goes on; its backups verify and restore byte-identical ----
pool_mount "$A" "$T_TMP/mnt-a"
gen 9 30000 csv > "$T_TMP/mnt-a/f4.csv" || die "write in pool A failed"
pool_umount "$T_TMP/mnt-a"
check "pool A's second backup into its DEST" "$POOLCTL" -s "$A" backup create "$D"
check "DEST's backups verify" "$POOLCTL" backup verify "$D"
check "backup 2 restores" "$POOLCTL" backup restore "$D" --id 2 "$T_TMP/restored"
pool_mount "$T_TMP/restored" "$T_TMP/mnt-r"
pool_mount "$A" "$T_TMP/mnt-a"
for i in 1 2 3 4; do
	check_same "f$i.csv restored byte-identical" "$T_TMP/mnt-a/f$i.csv" "$T_TMP/mnt-r/f$i.csv"
done
pool_umount "$T_TMP/mnt-a"
pool_umount "$T_TMP/mnt-r"

# a restored pool is pool A going on: it may back up into A's DEST
check "the restored pool backs up into A's DEST" "$POOLCTL" -s "$T_TMP/restored" backup create "$D"

# ---- a DEST from before the pool file: its backups' seals say whose ----
rm -f "$D/poolfs/pool"
out=$(timeout 120 "$POOLCTL" -s "$B" backup create "$D" 2>&1)
check_eq "old DEST: pool B refused by the seals ($out)" \
	"$(grep -c -- "holds the backups of another pool.*the pool of backup" <<< "$out")" 1
check_eq "old DEST: no pool file written for B" "$(ls "$D/poolfs/pool" 2> /dev/null)" ""
check "old DEST: pool A claims it" "$POOLCTL" -s "$A" backup create "$D"
check_eq "old DEST: the pool file names A" "$(grep -c "source=$A\$" "$D/poolfs/pool")" 1
