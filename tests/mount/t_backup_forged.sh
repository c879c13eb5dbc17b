#!/usr/bin/env bash
# t_backup_forged.sh - whoever holds the backups but not the pool moves
# their pieces about: backup 2's database named as backup 1's (meta/2 a
# copy of meta/1: an older pool under the newer backup's time and
# anchor), or backup 1's info, anchor and seal put on backup 2. Each
# file's checksum still holds, so only what poolfs knows tells: restore
# must refuse in one line, exit 1, and leave nothing that looks like a
# pool, as verify does; an untouched backup still restores. A piece cut
# short is one line too, and neither restore nor verify leaves files.
# timeout: 90
. "$(dirname "$0")/../lib.sh"
t_setup

DEST=$T_TMP/backups
pool_init "$STORE" --cipher none
pool_mount
mkdir -p "$MNT/d" || die "mkdir on the mount failed"
echo "v1,one" > "$MNT/d/a.csv" || die "write on the mount failed"
wait_version "$MNT/d" a.csv 1
check "backup 1" pctl backup create "$DEST"
echo "v2,two" > "$MNT/d/a.csv" || die "write on the mount failed"
wait_version "$MNT/d" a.csv 2
check "backup 2" pctl backup create "$DEST"
pool_umount

# forged NAME: DEST copied to $T_TMP/NAME, then "$@" run in it
forged() {
	local name=$1
	shift
	rm -rf "${T_TMP:?}/$name"
	cp -a "$DEST" "$T_TMP/$name" && (cd "$T_TMP/$name" && "$@") || die "cannot forge $name"
}
# refused WHAT DIR: restore of backup 2 from DIR fails in one line, exit 1, no pool left
refused() {
	local out rc
	out=$("$POOLCTL" backup restore "$2" --id 2 "$T_TMP/new-$1" 2>&1)
	rc=$?
	note "$1: $out"
	check_eq "$1: restore refused, exit 1 ($out)" "$rc" 1
	check_eq "$1: one line" "$(wc -l <<< "$out")" 1
	check_fails "$1: nothing left" test -e "$T_TMP/new-$1"
	check_rc "$1: verify says so too" 1 "$POOLCTL" backup verify "$2" --id 2
	check_eq "$1: verify leaves nothing in DEST/poolfs" \
		"$(find "$2/poolfs" -maxdepth 1 -name 'verify.*' | wc -l)" 0
}

older_db() {
	rm -rf private/2 && cp -a private/1 private/2 &&
		sed 's#^private/1/#private/2/#' meta/1 > meta/2
}
forged older-db older_db
refused "backup 2 holding backup 1's database" "$T_TMP/older-db"

forged older-info cp poolfs/1/info.json poolfs/1/anchor poolfs/1/seal poolfs/2/
refused "backup 2 carrying backup 1's info, anchor and seal" "$T_TMP/older-info"

# a piece cut short: BackupEngine's restore fails while its other
# threads still copy; what they write after must not stay behind either
truncated() { f=$(ls -S shared_checksum | head -n1) && truncate -s 100 "shared_checksum/$f"; }
forged truncated truncated
refused "backup 2 with a file cut short" "$T_TMP/truncated"

check "the untouched backup 2 restores" "$POOLCTL" backup restore "$DEST" --id 2 "$T_TMP/good"
check "its log verifies" "$POOLCTL" -s "$T_TMP/good" audit verify

# ---- a new pool where another user could swap its files ----
# (an empty directory of theirs, one anyone may write, one in a directory
# of theirs, a link: they could put their own db/ or keys/ in the pool)
mkdir -m 0755 "$T_TMP/theirs" "$T_TMP/open" "$T_TMP/upper" "$T_TMP/target" &&
	chown 65534:65534 "$T_TMP/theirs" "$T_TMP/upper" && chmod 0777 "$T_TMP/open" &&
	ln -s "$T_TMP/target" "$T_TMP/link" || die "mkdir"
# (and any directory on the way, not only the parent: who may rename p in
# deeper/ swaps deeper/p whole; a link's way is walked as the kernel does)
mkdir -m 0755 "$T_TMP/deeper" "$T_TMP/deeper/p" "$T_TMP/via" "$T_TMP/open2" &&
	chown 65534:65534 "$T_TMP/deeper" && chmod 0777 "$T_TMP/open2" &&
	mkdir -m 0755 "$T_TMP/open2/x" && ln -s "$T_TMP/open2/x" "$T_TMP/via/lnk" || die "mkdir"
for d in theirs open upper/new link deeper/p/new via/lnk/new; do
	check_rc "restore into $d: refused" 2 \
		"$POOLCTL" backup restore "$DEST" --id 2 "$T_TMP/$d"
	check_rc "init in $d: refused" 2 "$POOLCTL" init "$T_TMP/$d" --cipher none
done
check_eq "nothing left in them" "$(find "$T_TMP/theirs" "$T_TMP/open" "$T_TMP/upper" \
	"$T_TMP/target" "$T_TMP/deeper/p" "$T_TMP/open2/x" -mindepth 1 | wc -l)" 0
