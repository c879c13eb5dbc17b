#!/usr/bin/env bash
# t_tree_audit.sh - a tree change (mkdir, create, symlink, chmod, utimens,
# rename, unlink, rmdir) and its audit record are one: while every write
# of the audit journal fails (tests/fault/shim.c), each operation either
# succeeds, is on disk after a restart and has its record, or fails and
# changed nothing. Before, the record was appended after the change, so
# a failed record gave the caller EIO for a change that had happened and
# that no record named.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup

SHIM=$BUILD/tests/libfaultfs.so
[ -f "$SHIM" ] || die "$SHIM not built (make all)"
OPS=$T_TMP/ops

pool_init
pool_mount "$STORE" "$MNT" -o allow_all
mkdir -p "$MNT/t/d0" && for f in f0 f3 f4 f6; do echo seed > "$MNT/t/$f" || break; done ||
	die "set-up writes failed"
pool_umount

# every write of the journal fails once the mount serves and the clear
# file is gone (the shim is for poolfs alone: the shell's own programs
# stay as they are)
cat > "$T_TMP/poolfs-faulty" <<EOF
#!/bin/sh
LD_PRELOAD="$SHIM" FAULT_DIR="$STORE" FAULT_MATCH=journal/ FAULT_OP=write \\
	FAULT_NTH=1 FAULT_MODE=sticky FAULT_ERRNO=EIO FAULT_LOG="$T_TMP/flog" \\
	FAULT_CLEAR="$T_TMP/clear" ASAN_OPTIONS="\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}verify_asan_link_order=0" \\
	exec "$POOLFS" "\$@"
EOF
chmod +x "$T_TMP/poolfs-faulty"
touch "$T_TMP/clear"
POOLFS=$T_TMP/poolfs-faulty pool_mount "$STORE" "$MNT" -o allow_all
ls -la "$MNT/t" > /dev/null
rm -f "$T_TMP/clear"

# one line per operation: name rc
"$PY" - "$MNT/t" > "$OPS" <<'EOF'
import errno, os, sys
t = sys.argv[1]
def op(name, fn, *args):
    try:
        fn(*args)
        rc = 0
    except OSError as e:
        rc = e.errno
    print(name, rc, flush=True)
op("mkdir", os.mkdir, t + "/d1")
op("create", lambda: os.close(os.open(t + "/f1", os.O_CREAT | os.O_WRONLY, 0o640)))
op("symlink", os.symlink, "f0", t + "/l1")
op("chmod", os.chmod, t + "/f0", 0o600)
op("utime", os.utime, t + "/f3", (1000000000, 1000000000))
op("rename", os.rename, t + "/f4", t + "/f5")
op("unlink", os.unlink, t + "/f6")
op("rmdir", os.rmdir, t + "/d0")
EOF
note "operations under a failing journal: $(tr '\n' ' ' < "$OPS")"
check "the shim failed journal writes" grep -q . "$T_TMP/flog"
pool_umount

pool_mount "$STORE" "$MNT" -o allow_all
rc_of() { awk -v n="$1" '$1 == n { print $2 }' "$OPS"; }
# changed NAME: exit 0 when the operation's effect is on disk
changed() {
	local T=$MNT/t
	case $1 in
	mkdir) [ -d "$T/d1" ] ;;
	create) [ -e "$T/f1" ] ;;
	symlink) [ -L "$T/l1" ] ;;
	chmod) [ "$(stat -c %a "$T/f0")" = 600 ] ;;
	utime) [ "$(stat -c %Y "$T/f3")" = 1000000000 ] ;;
	rename) [ ! -e "$T/f4" ] && [ -e "$T/f5" ] ;;
	unlink) [ ! -e "$T/f6" ] ;;
	rmdir) [ ! -e "$T/d0" ] ;;
	esac
}
pctl audit query --json > "$T_TMP/audit.json" 2>&1 || die "audit query failed"
path_of() {
	case $1 in
	mkdir) echo /t/d1 ;; create) echo /t/f1 ;; symlink) echo /t/l1 ;;
	chmod) echo /t/f0 ;; utime) echo /t/f3 ;; rename) echo /t/f4 ;;
	unlink) echo /t/f6 ;; rmdir) echo /t/d0 ;;
	esac
}
# recorded OP PATH: a successful record of OP on PATH is in the log
recorded() {
	"$PY" - "$T_TMP/audit.json" "$1" "$2" <<'EOF'
import json, sys
ops = {"mkdir": "mkdir", "create": "create", "symlink": "symlink", "chmod": "setattr",
       "utime": "setattr", "rename": "rename", "unlink": "unlink", "rmdir": "rmdir"}
want = ops[sys.argv[2]]
n = 0
for line in open(sys.argv[1]):
    try:
        d = json.loads(line)
    except ValueError:
        continue
    if d.get("op") == want and d.get("path") == sys.argv[3] and d.get("result") in (0, "ok"):
        n += 1
sys.exit(0 if n else 1)
EOF
}
for name in mkdir create symlink chmod utime rename unlink rmdir; do
	rc=$(rc_of $name)
	if [ "$rc" = 0 ]; then
		check "$name succeeded: its change is on disk" changed $name
		check "$name succeeded: its record is in the log" recorded $name "$(path_of $name)"
	else
		T_CHECKS=$((T_CHECKS + 1))
		changed $name && fail "$name failed with errno $rc but its change is on disk"
		[ "$rc" = 5 ] || fail "$name failed with errno $rc, want EIO (5)"
	fi
done
check "audit verify" pctl audit verify
daemon_ok "tree changes under a failing journal"
