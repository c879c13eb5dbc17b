#!/usr/bin/env bash
# t_backup_modes.sh - a backup's files are its owner's alone: DEST may be
# a directory others can search (the remote create asks only that nobody
# else may write it), and BackupEngine makes its directories 0755 and its
# files 0644. A user in no department must read nothing of a plain pool's
# backup (its content) nor of an encrypted one's (its names); a DEST an
# older create left open is closed by the next create.
# timeout: 60
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

