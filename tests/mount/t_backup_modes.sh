#!/usr/bin/env bash
# t_backup_modes.sh - a backup's files are its owner's alone: DEST may be
# a directory others can search (the remote create asks only that nobody
# else may write it), and BackupEngine makes its directories 0755 and its
# files 0644. A user in no department must read nothing of a plain pool's
# backup (its content) nor of an encrypted one's (its names); a DEST an
# older create left open is closed by the next create. The same for the
# checkpoint a create makes inside STORE (0711, for the control socket):
# hard links to the database's own 0644 files, there for the whole copy
# (hours under --rate-limit) and after a killed create.
# timeout: 160
. "$(dirname "$0")/../lib.sh"
t_setup
t_setup_readers

MARK=BACKUPMODES-341802199001011234

# unreadable WHAT DEST: no file below DEST is readable by uid 65534, nor
# holds MARK for it, and BackupEngine's directories are 0700
unreadable() {
	local d n
	n=$(as 65534 65534 find "$2" -type f -readable 2> /dev/null | wc -l)
	check_eq "$1: files below DEST readable by a user in no department" "$n" 0
	n=$(as 65534 65534 grep -rl "$MARK" "$2" 2> /dev/null | wc -l)
	check_eq "$1: files holding the value, for a user in no department" "$n" 0
	for d in meta private shared_checksum; do
		check_eq "$1: mode of DEST/$d" "$(stat -c %a "$2/$d")" 700
	done
}

bk() { PSTORE=$1 pctl backup create "$2"; }

for cipher in none aes-256-gcm; do
	S=$T_TMP/store-$cipher
	D=$T_TMP/dest-$cipher
	keyarg=(--key-file "$T_TMP/key-$cipher")
	[ $cipher = none ] && keyarg=()
	pool_init "$S" --cipher $cipher "${keyarg[@]}"
	pool_mount "$S" "$T_TMP/mnt-$cipher"
	mkdir -p "$T_TMP/mnt-$cipher/d" || die "mkdir on the mount failed"
	printf '身份证号,姓名\n%s,张三丰\n' "$MARK" > "$T_TMP/mnt-$cipher/d/$MARK.csv" ||
		die "write on the mount failed"
	# a directory root made for backups, searchable by all (as mkdir makes it)
	mkdir -m 0755 "$D" || die "mkdir $D"
	check "$cipher: backup create through the daemon" bk "$S" "$D"
	unreadable "$cipher" "$D"

	# an older create's directories, open to all, are closed by the next
	chmod 0755 "$D/meta" "$D/private" "$D/shared_checksum"
	check "$cipher: a second backup" bk "$S" "$D"
	unreadable "$cipher: after an older create" "$D"
	check "$cipher: the backups verify" "$POOLCTL" "${keyarg[@]}" backup verify "$D"
done


# ---- the checkpoint in STORE, during a slow create and after a kill ----
S=$T_TMP/store-none
pool_umount "$T_TMP/mnt-none"
pool_mount "$S" "$T_TMP/mnt-none"
for i in 1 2 3; do
	"$PY" -c 'import os, sys; sys.stdout.write(os.urandom(2000000).hex())' \
		> "$T_TMP/mnt-none/d/fill$i.csv" || die "write on the mount failed"
done
pool_umount "$T_TMP/mnt-none"
# an older build's stale checkpoint, where it used to be and open to all
mkdir -m 0755 "$S/backup.checkpoint" && echo "$MARK" > "$S/backup.checkpoint/CURRENT" &&
	chmod 0644 "$S/backup.checkpoint/CURRENT" || die "cannot plant an old checkpoint"
"$POOLCTL" -s "$S" backup create --rate-limit 1 "$T_TMP/dest-slow" > /dev/null 2>&1 &
BK=$!
wait_for 30 test -e "$S/backup/checkpoint/CURRENT" ||
	fail "no checkpoint in $S/backup while a rate-limited create runs"
check_fails "the old checkpoint is gone" test -e "$S/backup.checkpoint"
# the database's file names are in CURRENT and its MANIFEST: try them all
n=0
for f in "$S"/backup/checkpoint/*; do
	as 65534 65534 cat "$f" > /dev/null 2>&1 && n=$((n + 1))
	as 65534 65534 cat "$S/backup.checkpoint/${f##*/}" > /dev/null 2>&1 && n=$((n + 1))
done
check_eq "checkpoint files a user in no department reads during a create" "$n" 0
kill "$BK" 2> /dev/null
wait "$BK" 2> /dev/null
n=0
for f in "$S"/backup/checkpoint/*; do
	as 65534 65534 cat "$f" > /dev/null 2>&1 && n=$((n + 1))
done
check_eq "files of a killed create's checkpoint a user in no department reads" "$n" 0
check "a create after the killed one" "$POOLCTL" -s "$S" backup create "$T_TMP/dest-slow"
check_fails "the checkpoint is gone after it" test -e "$S/backup/checkpoint"
check "it verifies" "$POOLCTL" backup verify "$T_TMP/dest-slow"

# a directory that holds no backups keeps its own "private": not closed, not filled
mkdir -p -m 0755 "$T_TMP/other/private" || die "mkdir"
check_rc "create into a directory with a private/ of its own is refused" 2 \
	"$POOLCTL" -s "$S" backup create "$T_TMP/other"
check_eq "its private/ keeps its mode" "$(stat -c %a "$T_TMP/other/private")" 755
check_eq "and stays empty" "$(ls -A "$T_TMP/other/private" | wc -l)" 0

# ---- a system_admin who is not root: DEST below a directory it owns ----
# (it could swap DEST for a directory of its own between the daemon's
# check and the copy, and read the pool's tables there)
S=$T_TMP/store-aes-256-gcm
check "apply a policy with a system_admin by uid (3000)" env PSTORE="$S" \
	"$POOLCTL" -s "$S" policy apply "$HELPERS/policy_service.json"
mkdir -m 0755 "$T_TMP/adm" && chown 3000:3000 "$T_TMP/adm" &&
	mkdir -m 0755 "$T_TMP/adm/bk" "$T_TMP/rootbk" || die "mkdir"
check_rc "DEST root's, in a directory the admin owns: refused" 1 \
	as 3000 3000 "$POOLCTL" -s "$S" backup create "$T_TMP/adm/bk"
check_eq "nothing written there" "$(ls -A "$T_TMP/adm/bk" | wc -l)" 0
as 3000 3000 ln -s "$T_TMP/rootbk" "$T_TMP/adm/link" || die "ln -s"
check "DEST through the admin's link to a directory of root's: taken, as resolved" \
	as 3000 3000 "$POOLCTL" -s "$S" backup create "$T_TMP/adm/link/."
check "the backup went to the link's target" test -d "$T_TMP/rootbk/poolfs/1"
# resolved as realpath(3) would: a relative link, "..", a missing name
as 3000 3000 ln -s ../rootbk "$T_TMP/adm/rel" || die "ln -s"
check "DEST through a relative link and \"..\": taken" \
	as 3000 3000 "$POOLCTL" -s "$S" backup create "$T_TMP/adm/../adm/rel/./"
check "the backup went to the link's target" test -d "$T_TMP/rootbk/poolfs/2"
check_rc "a DEST that does not exist: refused" 2 \
	as 3000 3000 "$POOLCTL" -s "$S" backup create "$T_TMP/adm/rel/nothing"
unreadable "the admin's backup" "$T_TMP/rootbk"

# ---- DEST on a file system whose owners are what its mounter says ----
# (a user with user_allow_other mounts a FUSE file system that calls every
# directory root's 0755 on a directory of theirs in a sticky /tmp; here a
# poolfs mount stands for it: root's directories in it say root too)
pool_mount "$T_TMP/store-none" "$T_TMP/mnt-none"
mkdir -m 0755 "$T_TMP/mnt-none/bk" && chmod 0755 "$T_TMP/mnt-none" ||
	die "mkdir on the mount failed"
check_eq "the FUSE directory says root's, 0755" \
	"$(stat -c %u:%a "$T_TMP/mnt-none/bk")" 0:755
out=$(as 3000 3000 "$POOLCTL" -s "$S" backup create "$T_TMP/mnt-none/bk" 2>&1)
check_eq "DEST on a FUSE file system: refused ($out)" "$?" 1
check_eq "nothing written there" "$(ls -A "$T_TMP/mnt-none/bk" | wc -l)" 0
# the same file system stopped, as its mounter may (a FUSE process that
# never answers): naming a path in it must not hold the daemon's control
# server, which serves every admin one at a time
kill -STOP "$POOLFS_PID"
out=$(AS_TIMEOUT=20 as 3000 3000 "$POOLCTL" -s "$S" backup create "$T_TMP/mnt-none/bk/x" 2>&1)
rc=$?
out2=$(PSTORE=$S timeout 20 "$POOLCTL" -s "$S" status 2>&1)
rc2=$?
kill -CONT "$POOLFS_PID"
check_eq "DEST inside a FUSE file system that does not answer: refused at once ($out)" "$rc" 1
check_eq "the control server answers the next admin meanwhile ($out2)" "$rc2" 0
pool_umount "$T_TMP/mnt-none"
# a mount nosuid,nodev (as udisks and fstab's "user" mount a user's medium)
mkdir -m 0755 "$T_TMP/medium" "$T_TMP/medium/bk" || die "mkdir"
if mount --bind "$T_TMP/medium" "$T_TMP/medium" 2> /dev/null; then
	if mount -o remount,bind,nosuid,nodev "$T_TMP/medium"; then
		out=$(as 3000 3000 "$POOLCTL" -s "$S" backup create "$T_TMP/medium/bk" 2>&1)
		check_eq "DEST on a nosuid,nodev mount: refused ($out)" "$?" 1
		check_eq "nothing written there" "$(ls -A "$T_TMP/medium/bk" | wc -l)" 0
	fi
	umount "$T_TMP/medium"
fi

# ---- a DEST another user may change, for root's own create ----
# (they could swap meta/ or shared_checksum/, checked private, for a
# directory of theirs while BackupEngine writes its 0644 tables there)
mkdir -m 0777 "$T_TMP/anyone" && mkdir -m 0755 "$T_TMP/users" "$T_TMP/inusers" &&
	chown 65534:65534 "$T_TMP/users" "$T_TMP/inusers" &&
	mkdir -m 0755 "$T_TMP/inusers/bk" || die "mkdir"
for d in anyone users inusers/bk; do
	check_rc "root's create into $d: refused" 2 "$POOLCTL" -s "$S" backup create "$T_TMP/$d"
	check_eq "nothing written in $d" "$(ls -A "$T_TMP/$d" | wc -l)" 0
done
