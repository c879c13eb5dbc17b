#!/usr/bin/env bash
# t_rename.sh - the ETL pattern: write a temp file, rename() it over the
# target. The target's .versions/ then holds every content it had, the
# temp name is gone, a rename straight after close (no fsync) carries the
# new content, a reader that opened the old file keeps reading it, and a
# rename to a new name or directory carries the history with it.
# timeout: 180
. "$(dirname "$0")/../lib.sh"
t_setup

pool_init
pool_mount
mkdir -p "$MNT/etl" "$MNT/other" || die "mkdir failed"

# versions: 1 written in place, then four temp-then-rename rounds
sizes=(1000 0 4096 1048577 77)
for i in 0 1 2 3 4; do
	gen $((40 + i)) "${sizes[$i]}" text > "$REF/v$((i + 1))"
done
check "write v1 of the target" cp "$REF/v1" "$MNT/etl/report.csv"
for v in 2 3 4 5; do
	check "write temp v$v" cp "$REF/v$v" "$MNT/etl/.report.csv.tmp"
	check "rename temp over target (v$v)" mv -f "$MNT/etl/.report.csv.tmp" "$MNT/etl/report.csv"
	check_same "target is v$v after rename" "$MNT/etl/report.csv" "$REF/v$v"
done
check_eq "listing after the renames" "$(ls -A "$MNT/etl" | tr '\n' ' ')" "report.csv "
check_eq ".versions/report.csv lists 1..5" "$(ls "$MNT/etl/.versions/report.csv" 2>&1 | sort -n | tr '\n' ' ')" "1 2 3 4 5 "
for v in 1 2 3 4 5; do
	check_same ".versions/report.csv/$v" "$MNT/etl/.versions/report.csv/$v" "$REF/v$v"
done
check_eq "poolctl versions of the target" "$(versions_count /etl/report.csv)" 5

# rename straight after close, no fsync: the release (commit) of the temp
# file may still be on its way when rename() arrives
check_run "20 rounds of write-close-rename-read without fsync" "$PY" - "$MNT/etl" <<'PY'
import os, sys
d = sys.argv[1]
bad = 0
for i in range(20):
    data = (("round %d " % i) * (1 + i * 997)).encode()
    tmp = os.path.join(d, "fast.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, data)
    os.close(fd)
    os.rename(tmp, os.path.join(d, "fast"))
    with open(os.path.join(d, "fast"), "rb") as f:
        got = f.read()
    if got != data:
        print("FAIL: round %d: read %d bytes after rename, want %d" % (i, len(got), len(data)))
        bad += 1
sys.exit(1 if bad else 0)
PY
n=$(versions_count /etl/fast)
check_eq "fast target has 20 versions" "$n" 20

# a reader holding the old file keeps reading the old content
check_run "reader of the old file across a rename over it" "$PY" - "$MNT/etl" "$REF" <<'PY'
import os, sys
d, ref = sys.argv[1], sys.argv[2]
old = open(os.path.join(ref, "v4"), "rb").read()
new = open(os.path.join(ref, "v2"), "rb").read() + b"x"
p = os.path.join(d, "report.csv")
with open(p, "wb") as f:
    f.write(old)
r = os.open(p, os.O_RDONLY)
first = os.read(r, 1000)
with open(p + ".new", "wb") as f:
    f.write(new)
os.rename(p + ".new", p)
rest = b""
while True:
    b = os.read(r, 65536)
    if not b:
        break
    rest += b
os.close(r)
got = first + rest
if got != old:
    print("FAIL: reader opened before the rename read %d bytes, not the old %d-byte content"
          % (len(got), len(old)))
    sys.exit(1)
if open(p, "rb").read() != new:
    print("FAIL: new open after rename does not see the new content")
    sys.exit(1)
PY

# rename to a fresh name and to another directory: history follows
{ cat "$REF/v2"; printf x; } > "$REF/v2x"
before=$(versions_count /etl/report.csv)
check "rename to a new name" mv "$MNT/etl/report.csv" "$MNT/etl/renamed.csv"
check_eq "versions follow a rename" "$(versions_count /etl/renamed.csv)" "$before"
check_same "old version reachable under the new name" "$MNT/etl/.versions/renamed.csv/1" "$REF/v1"
check "rename into another directory" mv "$MNT/etl/renamed.csv" "$MNT/other/moved.csv"
check_same "content after the move" "$MNT/other/moved.csv" "$REF/v2x"
check_errno "old name is gone" ENOENT stat "$MNT/etl/renamed.csv"

# rename over a file in another directory: the target gets a version
check "target in other/" cp "$REF/v3" "$MNT/other/target"
check "source in etl/" cp "$REF/v5" "$MNT/etl/src"
check "rename across directories over a file" mv -f "$MNT/etl/src" "$MNT/other/target"
check_same "cross-directory target content" "$MNT/other/target" "$REF/v5"
check_same "cross-directory target history" "$MNT/other/.versions/target/1" "$REF/v3"

# directory rename keeps the files below it
mkdir -p "$MNT/tree/a/b" && cp "$REF/v4" "$MNT/tree/a/b/f"
check "rename a directory" mv "$MNT/tree" "$MNT/tree2"
check_same "file below a renamed directory" "$MNT/tree2/a/b/f" "$REF/v4"
check_errno "directory into itself" EINVAL rename "$MNT/tree2" "$MNT/tree2/a/inside"
check_errno "directory over a non-empty directory" ENOTEMPTY rename "$MNT/etl" "$MNT/tree2"
check_errno "rename of a missing file" ENOENT rename "$MNT/etl/nope" "$MNT/etl/nope2"

pool_umount
pool_mount
check_same "after remount: moved file" "$MNT/other/moved.csv" "$REF/v2x"
check_same "after remount: history under the new name" "$MNT/other/.versions/moved.csv/5" "$REF/v5"
daemon_ok "renames"
