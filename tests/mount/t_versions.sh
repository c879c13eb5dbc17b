#!/usr/bin/env bash
# t_versions.sh - past versions through DIR/.versions/NAME/N and
# /.snapshots/TIME/...: old content reads back, readdir of DIR does not
# show .versions, everything there is read-only (EROFS), fsync() commits
# a version while the file stays open, unlink keeps the history.
# timeout: 180
. "$(dirname "$0")/../lib.sh"
t_setup

pool_init
pool_mount
mkdir -p "$MNT/d" || die "mkdir failed"
utc() { date -u +%Y-%m-%dT%H:%M:%SZ; }
# a snapshot name strictly between two commits (second resolution)
mark() { sleep 1.2; utc; }

printf 'one\n' > "$MNT/d/f"
wait_version "$MNT/d" f 1
T1=$(mark); sleep 1.2
printf 'two two\n' > "$MNT/d/f"
wait_version "$MNT/d" f 2
printf 'three three three\n' > "$MNT/d/f"
wait_version "$MNT/d" f 3

check_eq ".versions/f lists 1 2 3" "$(ls "$MNT/d/.versions/f" 2>&1 | sort -n | tr '\n' ' ')" "1 2 3 "
check_eq ".versions/f/1" "$(cat "$MNT/d/.versions/f/1" 2>&1)" "one"
check_eq ".versions/f/2" "$(cat "$MNT/d/.versions/f/2" 2>&1)" "two two"
check_eq ".versions/f/3" "$(cat "$MNT/d/.versions/f/3" 2>&1)" "three three three"
check_eq "stat size of .versions/f/2" "$(stat -c %s "$MNT/d/.versions/f/2" 2>&1)" 8
check_eq "readdir of d hides .versions" "$(ls -a "$MNT/d" | tr '\n' ' ')" ". .. f "
check_eq "readdir of / hides .versions" "$(ls -a "$MNT" | grep -c '^\.versions$')" 0
check_errno ".versions/f/4 does not exist" ENOENT stat "$MNT/d/.versions/f/4"
check_errno ".versions of a missing file" ENOENT stat "$MNT/d/.versions/nofile"
check_eq "user.poolfs.version xattr" "$(sysop getxattr "$MNT/d/f" user.poolfs.version)" "OK:3"

# read-only: every kind of change fails with EROFS
V=$MNT/d/.versions/f
check_errno "open .versions/f/1 for writing" EROFS open-w "$V/1"
check_errno "open .versions/f/1 O_TRUNC" EROFS open-trunc "$V/1"
check_errno "create .versions/f/9" EROFS create "$V/9"
check_errno "truncate .versions/f/1" EROFS truncate "$V/1" 0
check_errno "unlink .versions/f/1" EROFS unlink "$V/1"
check_errno "mkdir in .versions/f" EROFS mkdir "$V/x"
check_errno "chmod .versions/f/1" EROFS chmod "$V/1" 777
check_errno "rename .versions/f/1 out" EROFS rename "$V/1" "$MNT/d/stolen"
printf 'x\n' > "$MNT/d/g"
wait_version "$MNT/d" g 1
check_errno "rename a file into .versions/f" EROFS rename "$MNT/d/g" "$V/9"
check_errno "setxattr on .versions/f/1" EROFS setxattr "$V/1" user.x y
check_eq "history unchanged after the attempts" "$(cat "$V/1" 2>&1)" "one"

# fsync commits while the writer keeps the file open
check_run "fsync commits a version of an open file" "$PY" - "$MNT/d/f" <<'PY'
import os, sys
path = sys.argv[1]
vdir = os.path.join(os.path.dirname(path), ".versions", "f")
fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
os.write(fd, b"four\n")
os.fsync(fd)
n = len(os.listdir(vdir))
ok = True
if n != 4:
    print("FAIL: after fsync of an open file .versions/f has %d entries, want 4" % n)
    ok = False
else:
    with open(os.path.join(vdir, "4"), "rb") as f:
        got = f.read()
    if got != b"four\n":
        print("FAIL: .versions/f/4 is %r after fsync, want b'four\\n'" % got)
        ok = False
os.write(fd, b"five\n")
os.close(fd)
sys.exit(0 if ok else 1)
PY
wait_version "$MNT/d" f 5
check_eq "last close commits version 5" "$(cat "$V/5" 2>&1)" "$(printf 'four\nfive')"

# snapshots: T1 saw "one"; T2 sees version 5 and g; after T2, f is
# unlinked and g changed
T2=$(mark); sleep 1.2
check "unlink d/f" rm "$MNT/d/f"
printf 'g changed\n' > "$MNT/d/g"
check_errno "d/f is gone" ENOENT stat "$MNT/d/f"
S=$MNT/.snapshots
check_eq "snapshot $T1 d/f" "$(cat "$S/$T1/d/f" 2>&1)" "one"
check_errno "snapshot $T1 has no d/g yet" ENOENT stat "$S/$T1/d/g"
check_eq "snapshot $T1 lists d" "$(ls "$S/$T1/d" 2>&1 | tr '\n' ' ')" "f "
check_eq "snapshot $T2 d/f (unlinked since)" "$(cat "$S/$T2/d/f" 2>&1)" "$(printf 'four\nfive')"
check_eq "snapshot $T2 d/g" "$(cat "$S/$T2/d/g" 2>&1)" "x"
check_eq "snapshot $T2 lists d" "$(ls "$S/$T2/d" 2>&1 | tr '\n' ' ')" "f g "
check_eq "current d/g" "$(cat "$MNT/d/g")" "g changed"
check_errno "write into a snapshot" EROFS open-w "$S/$T2/d/g"
check_errno "create in a snapshot" EROFS create "$S/$T2/d/new"
check_errno "unlink in a snapshot" EROFS unlink "$S/$T2/d/g"
check_errno "mkdir in a snapshot" EROFS mkdir "$S/$T2/newdir"
check "snapshot copy with cp -r" cp -r "$S/$T2/d" "$T_TMP/snapcopy"
check_eq "snapshot copy content" "$(cat "$T_TMP/snapcopy/f")" "$(printf 'four\nfive')"
check_fails "a malformed snapshot name" stat "$S/yesterday"
check_errno "a snapshot from before the pool existed has no d" ENOENT stat "$S/2000-01-01T00:00:00Z/d"
# the history of an unlinked name stays reachable through a snapshot
check_eq "history survives unlink (snapshot .versions)" "$(cat "$S/$T2/d/.versions/f/1" 2>&1)" "one"

pool_umount
pool_mount
check_eq "after remount: snapshot $T1 d/f" "$(cat "$S/$T1/d/f" 2>&1)" "one"
check_eq "after remount: .versions/g/1" "$(cat "$MNT/d/.versions/g/1" 2>&1)" "x"
# creating the reserved names is refused: EPERM where the name does not
# resolve; DIR/.versions resolves, so the kernel answers EEXIST first
got=$(sysop create "$MNT/d/.versions")
T_CHECKS=$((T_CHECKS + 1))
case $got in EPERM | EEXIST) ;; *) fail "create d/.versions gave $got, want EPERM or EEXIST" ;; esac
check_errno "mkdir .snapshots in a subdir" EPERM mkdir "$MNT/d/.snapshots"
check_errno "mkdir .poolfs in a subdir" EPERM mkdir "$MNT/d/.poolfs"
daemon_ok "versions and snapshots"
