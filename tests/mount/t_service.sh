#!/usr/bin/env bash
# t_service.sh - poolfs as a system service (DESIGN.md "Running as a
# service"): systemd-analyze verify passes poolfs@.service; the command
# line its ExecStart= makes from a mount's conf file mounts, tells the
# notify socket READY=1, and stops cleanly on SIGTERM (exit 0, unmounted,
# the unmount in the audit log, STOPPING=1); `mount -t fuse.poolfs` with
# the options fstab and systemd add, and an fstab line through
# `mount --fstab`, mount through mount.fuse3 and unmount with umount(8);
# poolctl status names the mount while one runs.
#
# mount(8) clears PATH before it runs mount.fuse3, whose shell then finds
# poolfs in the default PATH only; so the test runs in a private mount
# namespace whose /usr/local/sbin holds a link to the built poolfs.
# timeout: 150
if [ "${T_SERVICE_NS:-}" != 1 ]; then
	exec env T_SERVICE_NS=1 unshare --mount --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/../lib.sh"
t_setup
t_setup_readers

command -v systemd-analyze > /dev/null || die "systemd-analyze not found (apt-get install systemd)"
FIX=$HELPERS/policy_service.json
GA=/基础库/人口/户籍人口
AS_TIMEOUT=20
SVC="$PY $HELPERS/svcutil.py"
chmod o+x "$T_TMP"
t_fixture_people "$T_TMP/people.csv"

# unmounts(OP): how many audit records of OP the pool holds
records() { pctl audit query --op "$1" --json 2> /dev/null | grep -c '"op"'; }

# daemon_of STORE: the pid of the poolfs serving STORE (a daemon mount.fuse3 started)
daemon_of() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(cat "$p/comm" 2> /dev/null)" = poolfs ] || continue
		tr '\0' '\n' < "$p/cmdline" 2> /dev/null | grep -qxF "$1" && echo "${p#/proc/}"
	done | head -n1
}

# umount_daemon MNT PID: umount(8), then the daemon exits by itself
umount_daemon() {
	check "umount $1" umount "$1"
	wait_for 30 sh -c '! kill -0 "$1" 2> /dev/null' _ "$2" ||
		fail "poolfs (pid $2) still runs 30 s after umount $1"
	check_fails "$1 is no longer a mountpoint" is_mounted "$1"
}

pool_init
check "apply the policy" pctl policy apply "$FIX"

note "the unit file"
UNITS=$T_TMP/units
mkdir -p "$UNITS"
sed "s|@BINDIR@|$BUILD|g" "$T_ROOT/systemd/poolfs@.service.in" > "$UNITS/poolfs@.service"
out=$(systemd-analyze verify --man=no "$UNITS/poolfs@gongan.service" 2>&1)
check_eq "systemd-analyze verify exits 0" "$?" 0
check_eq "and says nothing" "$out" ""
for line in "After=network-online.target local-fs.target" "Type=notify" "Restart=on-failure"; do
	check "the unit has $line" grep -qxF "$line" "$UNITS/poolfs@.service"
done
check "it runs poolfs in the foreground" grep -q '^ExecStart=.*poolfs .* -f' "$UNITS/poolfs@.service"

note "its ExecStart= with a mount's conf file"
CONF=$T_TMP/gongan.conf
cat > "$CONF" <<EOF
# as /etc/poolfs/mounts/gongan.conf
STORE=$STORE
MNT="$MNT"
OPTIONS="-o dept=gongan -o _netdev"
EOF
mapfile -d '' ARGV < <($SVC execstart "$UNITS/poolfs@.service" "$CONF")
check_eq "ExecStart= runs the built poolfs" "${ARGV[0]}" "$BUILD/poolfs"
$SVC listen "$T_TMP/notify.sock" "$T_TMP/notify.out" &
LISTENER=$!
wait_for 10 test -S "$T_TMP/notify.sock" || die "the notify listener did not start"
NOTIFY_SOCKET=$T_TMP/notify.sock "${ARGV[@]}" > "$T_TMP/unit.log" 2>&1 &
PID=$!
[ -n "${POOLFS_RUN_DIR:-}" ] && echo "$PID" >> "$POOLFS_RUN_DIR/pids"
T_PID[$MNT]=$PID
T_LOG[$MNT]=$T_TMP/unit.log
T_MOUNTS+=("$MNT")
T_CHECKS=$((T_CHECKS + 1))
wait_for 30 grep -qx READY=1 "$T_TMP/notify.out" || fail "no READY=1 on the notify socket"
check "the mount is there once READY=1 came" is_mounted "$MNT"
check "gongan publishes through it" as 1001 2001 cp "$T_TMP/people.csv" "$MNT$GA/people.csv"
check_same "and reads it back" <(as 1001 2001 cat "$MNT$GA/people.csv") "$T_TMP/people.csv"
check "poolctl status names the mount" sh -c "$POOLCTL -s $STORE status | grep -qF 'mount         $MNT (department gongan)'"
before=$(records unmount)
kill -TERM "$PID"
wait_pid "$PID" 30
check_eq "SIGTERM (systemctl stop) ends poolfs with 0" "$?" 0
T_PID[$MNT]=
check_fails "and the mount is gone" is_mounted "$MNT"
check "STOPPING=1 was sent" grep -qx STOPPING=1 "$T_TMP/notify.out"
check_eq "the stop is in the audit log" "$(records unmount)" $((before + 1))
check "poolctl status says no mount now" sh -c "$POOLCTL -s $STORE status | grep -qx 'mount         none (no poolfs serves this pool)'"
kill "$LISTENER" 2> /dev/null
wait "$LISTENER" 2> /dev/null

note "mount -t fuse.poolfs through mount.fuse3"
mkdir -p "$T_TMP/sbin"
ln -s "$POOLFS" "$T_TMP/sbin/poolfs"
mount --bind "$T_TMP/sbin" /usr/local/sbin || die "cannot bind $T_TMP/sbin on /usr/local/sbin"
T_MOUNTS+=("$MNT")
check "mount -t fuse.poolfs -o dept=gongan with fstab's and systemd's options" \
	mount -t fuse.poolfs "$STORE" "$MNT" \
	-o dept=gongan,rw,nosuid,nodev,allow_other,_netdev,noauto,nofail,x-systemd.automount
PID=$(daemon_of "$STORE")
[ -n "$PID" ] && [ -n "${POOLFS_RUN_DIR:-}" ] && echo "$PID" >> "$POOLFS_RUN_DIR/pids"
check_eq "findmnt sees fuse.poolfs from the store" \
	"$(findmnt -n -o FSTYPE,SOURCE "$MNT" | tr -s ' ')" "fuse.poolfs $STORE"
check_eq "it is nosuid,nodev" "$(findmnt -n -o OPTIONS "$MNT" | tr ',' '\n' | grep -cxE 'nosuid|nodev')" 2
check_same "gongan reads through it" <(as 1001 2001 cat "$MNT$GA/people.csv") "$T_TMP/people.csv"
check_fails "renshe is not served by gongan's mount" as 1002 2002 cat "$MNT$GA/people.csv"
check "root may df it" df "$MNT"
[ -n "$PID" ] && umount_daemon "$MNT" "$PID" || fail "no poolfs daemon found for $STORE"
check_eq "the unmount is in the audit log" "$(records unmount)" $((before + 2))

note "an fstab line, store path with a space"
STORE2="$T_TMP/second pool"
pool_init "$STORE2"
PSTORE=$STORE2 pctl policy apply "$FIX" > /dev/null || fail "apply the policy to the second pool"
printf '%s %s fuse.poolfs dept=gongan,_netdev,nofail 0 0\n' "${STORE2// /\\040}" "$MNT" > "$T_TMP/fstab"
check "mount --fstab FILE MNT" mount --fstab "$T_TMP/fstab" "$MNT"
PID=$(daemon_of "$STORE2")
[ -n "$PID" ] && [ -n "${POOLFS_RUN_DIR:-}" ] && echo "$PID" >> "$POOLFS_RUN_DIR/pids"
check_eq "findmnt sees the store with its space" "$(findmnt -n -o SOURCE "$MNT")" "$STORE2"
check "gongan writes through it" as 1001 2001 cp "$T_TMP/people.csv" "$MNT$GA/people.csv"
check_same "and reads back" <(as 1001 2001 cat "$MNT$GA/people.csv") "$T_TMP/people.csv"
check "findmnt --verify accepts the fstab line" findmnt --verify --tab-file "$T_TMP/fstab"
[ -n "$PID" ] && umount_daemon "$MNT" "$PID" || fail "no poolfs daemon found for $STORE2"
note "the journal: a name a department made is no line of its own"
# under systemd stderr is the journal's stream, where "<N>" at a line's
# start is its priority: a file name holding a newline and "<0>" would
# be poolfs's emergency, sent to every terminal. JOURNAL_STREAM names
# the log file as journald names its stream, so poolfs writes prefixes.
log=$T_TMP/poolfs.$((T_NMOUNT + 1)).log
: > "$log"
POOLFS_OPTS= JOURNAL_STREAM=$(stat -c %d:%i "$log") pool_mount
bad=$'x\n<0>poolfs: error: FORGED audit log lost\ny.csv'
printf '身份证号,姓名,区县\n341802,张三,宣州区,4\n' > "$T_TMP/bad.csv"
check "gongan publishes a file whose name holds a newline" \
	as 1001 2001 cp "$T_TMP/bad.csv" "$MNT$GA/$bad"
check_fails "renshe's masked view of it is refused (a ragged record)" \
	as 1002 2002 cat "$MNT$GA/$bad"
check "the refusal is in poolfs's log, the name escaped" \
	grep -q '^<4>poolfs: warning: .*x\\x0a<0>poolfs: error: FORGED' "$log"
check_eq "no line of poolfs's log starts with the name's text" \
	"$(grep -c '^<0>\|^poolfs: error: FORGED' "$log")" 0

note "a stop while a file is open (a Samba or Ganesha holds its clients' files)"
# the kernel sends no release for it: the log must still end the session
as 1001 2001 "$UPY" -c 'import sys, time
f = open(sys.argv[1], "rb"); f.read(); print("held", flush=True); time.sleep(30)' \
	"$MNT$GA/people.csv" > "$T_TMP/held.out" &
HOLDER=$!
wait_for 20 grep -qx held "$T_TMP/held.out" || fail "the reader did not open the file"
kill -TERM "$POOLFS_PID"
wait_pid "$POOLFS_PID" 30
check_eq "SIGTERM with a file open ends poolfs with 0" "$?" 0
T_PID[$MNT]=
kill "$HOLDER" 2> /dev/null
wait "$HOLDER" 2> /dev/null
size=$(stat -c %s "$T_TMP/people.csv")
check_eq "its session's end is in the audit log, with the bytes read" \
	"$(pctl audit query --op release --uid 1001 --path "$GA/people.csv" |
	   grep -c "comm=python3 .*bytes=$size .*still open when the mount went away")" 1

check "the audit chain is intact" pctl audit verify
check "and the second pool's" env PSTORE="$STORE2" bash -c '"$0" -s "$PSTORE" audit verify' "$POOLCTL"
