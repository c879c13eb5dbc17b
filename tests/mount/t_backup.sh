#!/usr/bin/env bash
# t_backup.sh - backup create|list|verify|restore|prune with the real
# poolfs and poolctl: backups taken through the daemon under a concurrent
# write load restore every version the writers were told was committed,
# byte for byte, with an intact audit log that shows the restore; a
# create killed midway leaves the earlier backups and the pool as they
# were; a flipped byte in a backup is reported naming the file; restore
# never writes into a non-empty directory.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/backup_lib.sh"	# check_flipped_backup
t_setup

DEST=$T_TMP/backups
NW=3

pool_init
pool_mount
mkdir -p "$MNT/static" "$MNT/load" || die "mkdir on the mount failed"
for v in 1 2; do
	for f in a b; do
		gen $((v * 10 + ${#f})) $((v * 20000)) csv > "$REF/$f.v$v"
		cp "$REF/$f.v$v" "$MNT/static/$f.csv"
		wait_version "$MNT/static" "$f.csv" $v
	done
done

# ---- backups through the daemon while writers commit ----
"$PY" "$HELPERS/backupload.py" run "$MNT/load" $NW "$T_TMP/stop" "$T_TMP/acked" &
LOAD=$!
wait_for 20 test -s "$T_TMP/acked" || fail "the writers committed nothing in 20 s"
sleep 1
CUT=$(wc -l < "$T_TMP/acked")
check "backup create through the daemon under a write load" pctl backup create "$DEST"
sleep 1
check "a second, incremental backup under the load" pctl backup create "$DEST"
touch "$T_TMP/stop"
wait $LOAD || fail "the writers failed (exit $?)"
note "writers acknowledged $CUT commits before the first backup, $(wc -l < "$T_TMP/acked") in all"
daemon_ok "two backups under load"

check_eq "backup list shows two backups" \
	"$("$POOLCTL" backup list --json "$DEST" | "$PY" "$HELPERS/jsonq.py" count)" 2
check_eq "the source pool's log records both backups" \
	"$(pctl audit query --op backup --json | grep -c '"op":"backup"')" 2
check "backup verify of every backup" "$POOLCTL" backup verify "$DEST"

# ---- restore: every version, an intact log that names the backup ----
R1=$T_TMP/restored
check "restore backup 1" "$POOLCTL" backup restore "$DEST" --id 1 "$R1"
check_rc "restore into the restored (non-empty) pool is refused" 2 \
	"$POOLCTL" backup restore "$DEST" --id 1 "$R1"
mkdir -p "$T_TMP/nonempty" && echo x > "$T_TMP/nonempty/keep"
check_rc "restore into a non-empty directory is refused" 2 \
	"$POOLCTL" backup restore "$DEST" --id 2 "$T_TMP/nonempty"
check_eq "the refused restore left the directory alone" "$(ls "$T_TMP/nonempty")" keep
rctl() { timeout 120 "$POOLCTL" -s "$R1" "$@"; }
check "audit verify of the restored pool" rctl audit verify
out=$(rctl audit query --op backup_restore 2>&1)
T_CHECKS=$((T_CHECKS + 1))
grep -q 'restored from backup 1 of .*anchor: poolfs-audit-anchor v1 seq=' <<< "$out" ||
	fail "the restored pool's log does not name backup 1: $out"
check "the restored log reaches backup 1's anchor" rctl audit verify --anchor "$DEST/poolfs/1/anchor"

M2=$T_TMP/mnt2
pool_mount "$R1" "$M2"
for v in 1 2; do
	for f in a b; do
		check_same "restored $f.csv version $v" "$M2/static/.versions/$f.csv/$v" "$REF/$f.v$v"
	done
done
check_run "every writer's versions in backup 1, byte for byte" \
	"$PY" "$HELPERS/backupload.py" check "$M2/load" $NW "$T_TMP/acked" "$CUT"
pool_umount "$M2"

# ---- kill -9 of a create midway ----
head -c $((32 << 20)) /dev/urandom > "$REF/big"
cp "$REF/big" "$MNT/static/big" || fail "writing the big file failed"
wait_version "$MNT/static" big 1
pool_umount
# no daemon: poolctl runs BackupEngine itself, so the kill hits the copy,
# which the rate limit stretches to about 4 s
"$POOLCTL" -s "$STORE" backup create --rate-limit 8 "$DEST" > /dev/null 2>&1 &
BPID=$!
for ((i = 0; i < 3000; i++)); do
	compgen -G "$DEST/shared_checksum/.*.tmp" > /dev/null && break
	kill -0 $BPID 2> /dev/null || break
	sleep 0.01
done
if kill -9 $BPID 2> /dev/null; then
	note "killed backup create while it copied"
else
	note "backup create finished before the kill (the checks still hold)"
fi
wait $BPID 2> /dev/null
check "backup 1 still verifies after the kill" "$POOLCTL" backup verify "$DEST" --id 1
check "backup 2 still verifies after the kill" "$POOLCTL" backup verify "$DEST" --id 2
check "the pool's audit log is intact after the kill" pctl audit verify
pool_mount
check_same "the pool still serves the big file" "$MNT/static/big" "$REF/big"
check_same "and a.csv" "$MNT/static/a.csv" "$REF/a.v2"
check_eq "a backup after the killed one" "$(pctl backup create "$DEST" 2>&1)" 3
check "and every backup verifies" "$POOLCTL" backup verify "$DEST"

# ---- a flipped byte is reported naming the file ----
check_flipped_backup "$DEST" 3 "verify of a damaged backup"

# ---- prune ----
check "prune to one backup" "$POOLCTL" backup prune "$DEST" --keep 1
check_eq "one backup left" \
	"$("$POOLCTL" backup list --json "$DEST" | "$PY" "$HELPERS/jsonq.py" count)" 1
check "the kept backup verifies" "$POOLCTL" backup verify "$DEST"
check_rc "prune --keep 0 is a usage error" 2 "$POOLCTL" backup prune "$DEST" --keep 0
daemon_ok "backups"
