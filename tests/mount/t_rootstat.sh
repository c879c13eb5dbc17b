#!/usr/bin/env bash
# t_rootstat.sh - root and the system_admin role run the mount: the real
# df, mountpoint, stat and findmnt --verify work on the mount root for
# them with no data right (DESIGN.md "Identity"), on a pool that has no
# policy yet, on a pool mount and on a department mount, for a role held
# by uid or by a supplementary group; and the same callers still cannot
# list the root or read a file. A caller of no department and no role
# gets none of it.
# timeout: 60
. "$(dirname "$0")/../lib.sh"
t_setup

FIX=$HELPERS/policy_service.json	# root and 3000 by uid, gid 3100: system_admin
GA=/基础库/人口/户籍人口
# as UID GID[:GROUPS] CMD...: runs CMD as that caller
as() {
	local u=$1 g=${2%%:*} grp=--clear-groups
	[ "$2" != "$g" ] && grp=--groups=${2#*:}
	shift 2
	timeout 20 setpriv --reuid "$u" --regid "$g" "$grp" "$@"
}
FSTAB=$T_TMP/fstab

# runs_mount WHO UID GID: the monitoring programs work for that caller
runs_mount() {
	local who=$1 u=$2 g=$3
	check "$who: df" as "$u" "$g" df "$MNT"
	check "$who: df -i" as "$u" "$g" df -i "$MNT"
	check "$who: mountpoint" as "$u" "$g" mountpoint -q "$MNT"
	check "$who: stat" as "$u" "$g" stat "$MNT"
	check "$who: stat -f" as "$u" "$g" stat -f "$MNT"
	check "$who: findmnt --verify" as "$u" "$g" findmnt --verify --tab-file "$FSTAB" "$MNT"
}

# no_data WHO UID GID: and still no listing, no file
no_data() {
	local who=$1 u=$2 g=$3
	check_fails "$who may not list the root" as "$u" "$g" ls "$MNT"
	check_fails "$who may not read a file" as "$u" "$g" cat "$MNT$GA/people.csv"
}

# nobody UID GID: a caller of no department and no role gets nothing
nobody() {
	check_fails "a caller of no role: df" as "$1" "$2" df "$MNT"
	check_fails "nor mountpoint" as "$1" "$2" mountpoint -q "$MNT"
	check_fails "nor stat" as "$1" "$2" stat "$MNT"
}

chmod o+x "$T_TMP"
t_fixture_people "$T_TMP/people.csv"
printf '%s %s fuse.poolfs dept=gongan,_netdev 0 0\n' "$STORE" "$MNT" > "$FSTAB"

# mount_root [-o dept=ID]: like pool_mount, but ready once the mount is in
# mountinfo: pool_mount's stat of the root as root is what is tested here
mount_root() {
	local log=$T_TMP/poolfs.$((++T_NMOUNT)).log
	"$POOLFS" "$STORE" "$MNT" -f "$@" > "$log" 2>&1 &
	[ -n "${POOLFS_RUN_DIR:-}" ] && echo $! >> "$POOLFS_RUN_DIR/pids"
	T_PID[$MNT]=$!
	T_LOG[$MNT]=$log
	T_MOUNTS+=("$MNT")
	wait_for 30 is_mounted "$MNT" || die "poolfs did not mount $MNT"
}

pool_init
mount_root
note "a pool with no policy yet: root only"
runs_mount "root, no policy" 0 0
no_data "root, no policy" 0 0
nobody 3000 3000

note "a pool mount with the policy: root, system_admin by uid and by group"
check "apply the policy to the live mount" pctl policy apply "$FIX"
check "gongan publishes" as 1001 2001 cp "$T_TMP/people.csv" "$MNT$GA/people.csv"
wait_for 10 test -e "$MNT$GA/.versions/people.csv/1" 2> /dev/null
runs_mount root 0 0
runs_mount "system_admin by uid" 3000 3000
runs_mount "system_admin by group" 3001 3001:3100
no_data root 0 0
no_data "system_admin by uid" 3000 3000
no_data "system_admin by group" 3001 3001:3100
nobody 4242 4242
pool_umount

note "a department mount"
mount_root -o dept=gongan
runs_mount "root, gongan's mount" 0 0
runs_mount "system_admin by uid, gongan's mount" 3000 3000
runs_mount "system_admin by group, gongan's mount" 3001 3001:3100
no_data "root, gongan's mount" 0 0
no_data "system_admin by group, gongan's mount" 3001 3001:3100
nobody 4242 4242
check_eq "the department still reads" "$(as 1001 2001 cat "$MNT$GA/people.csv" | wc -l)" 2
pool_umount
check "the audit chain is intact" pctl audit verify
