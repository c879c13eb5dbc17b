#!/usr/bin/env bash
# t_posix.sh - open-file semantics legacy programs rely on, each a short
# fixed sequence (the model check found them; here they have names):
# what close() leaves is what the next stat()/read() sees, a descriptor
# on an unlinked file keeps working, renames over existing files can be
# chained, and a descriptor follows its file across a rename over another.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup

pool_init
pool_mount
mkdir -p "$MNT/x/sub" || die "mkdir failed"

posix() {	# posix DESC PYTHON-BODY: body runs in the test dir, prints FAIL lines
	check_run "$1" "$PY" -c "
import os, sys
os.chdir(sys.argv[1])
def put(p, d, flags=os.O_WRONLY | os.O_CREAT | os.O_TRUNC):
    fd = os.open(p, flags, 0o644)
    if d:
        os.write(fd, d)
    os.close(fd)
def get(p):
    with open(p, 'rb') as f:
        return f.read()
bad = []
$2
for b in bad:
    print('FAIL: ' + b)
sys.exit(1 if bad else 0)" "$MNT/x"
}

posix "O_TRUNC open and close without writing: stat and read right after see 0 bytes" '
for i in range(20):
    put("t%d" % i, b"x" * 1913)
    put("t%d" % i, b"")
    s, d = os.stat("t%d" % i).st_size, get("t%d" % i)
    if s or d:
        bad.append("round %d: stat size %d, read %d bytes after truncating open+close" % (i, s, len(d)))
        break'

posix "ftruncate through a descriptor: stat by path right after close" '
put("ft", b"y" * 5000)
fd = os.open("ft", os.O_RDWR)
os.ftruncate(fd, 10)
os.close(fd)
if os.stat("ft").st_size != 10:
    bad.append("stat size %d after ftruncate(10)+close" % os.stat("ft").st_size)'

posix "a descriptor on an unlinked file: fstat, read, write, read back" '
put("u", b"hello unlinked\n")
fd = os.open("u", os.O_RDWR)
os.unlink("u")
try:
    if os.fstat(fd).st_size != 15:
        bad.append("fstat size %d" % os.fstat(fd).st_size)
    if os.pread(fd, 100, 0) != b"hello unlinked\n":
        bad.append("read back differs")
    os.pwrite(fd, b"more", 15)
    if os.pread(fd, 100, 0) != b"hello unlinked\nmore":
        bad.append("write then read through the unlinked descriptor differs")
    os.ftruncate(fd, 98546)
    if os.fstat(fd).st_size != 98546:
        bad.append("fstat size %d after ftruncate(98546) of the unlinked file" % os.fstat(fd).st_size)
except OSError as e:
    bad.append("%s on the descriptor of an unlinked file" % e)
os.close(fd)
if os.path.exists("u"):
    bad.append("the unlinked name came back after close")'

posix "renames over existing files chained (a over b, then b over c), then open" '
put("sub/c", os.urandom(57147))
put("a", b"")
put("sub/b", b"")
os.rename("a", "sub/b")
os.rename("sub/b", "sub/c")
try:
    os.close(os.open("sub/c", os.O_RDWR | os.O_CREAT, 0o644))
    if get("sub/c") != b"":
        bad.append("sub/c is not the empty content of a")
except OSError as e:
    bad.append("open of sub/c after the chained renames: %s" % e)
put("p", b"p" * 444)
put("sub/q", b"q" * 6506)
os.rename("p", "sub/q")
put("r", b"")
os.rename("sub/q", "r")
try:
    fd = os.open("r", os.O_WRONLY | os.O_CREAT, 0o644)
    os.pwrite(fd, b"0123456789", 178)
    os.close(fd)
    if get("r") != b"p" * 178 + b"0123456789" + b"p" * 256:
        bad.append("r has the wrong content after the chained renames and a write")
except OSError as e:
    bad.append("write to r after the chained renames: %s" % e)'

posix "a writer keeps writing to its file after renaming it over another" '
put("dst", b"old content of dst\n")
fd = os.open("tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, b"first half\n")
os.rename("tmp", "dst")
os.write(fd, b"second half\n")
os.close(fd)
got = get("dst")
if got != b"first half\nsecond half\n":
    bad.append("dst is %r; the writes after the rename were lost or misplaced" % got[:60])'

posix "a reader of the old file across a rename over it reads the old content" '
put("old", b"O" * 300000)
fd = os.open("old", os.O_RDONLY)
head = os.read(fd, 1000)
put("new", b"N" * 7)
os.rename("new", "old")
rest = b""
while True:
    b = os.read(fd, 65536)
    if not b:
        break
    rest += b
os.close(fd)
if head + rest != b"O" * 300000:
    bad.append("the open reader got %d bytes, %d of them old content" % (len(head + rest), (head + rest).count(b"O")))
if get("old") != b"N" * 7:
    bad.append("a new open does not see the new content")'

posix "rename over a file: stat right after sees the source mode and mtime (kernel caches)" '
import stat
put("keep", b"old\n")
os.chmod("keep", 0o644)
os.stat("keep")
put("keep.tmp", b"new\n")
os.chmod("keep.tmp", 0o600)
os.utime("keep.tmp", (1000000000, 1000000000))
os.rename("keep.tmp", "keep")
st = os.stat("keep")
if stat.S_IMODE(st.st_mode) != 0o600 or int(st.st_mtime) != 1000000000:
    bad.append("mode %o mtime %d after rename, not 600 and 1000000000" % (stat.S_IMODE(st.st_mode), st.st_mtime))
fd = os.open("keep", os.O_RDONLY)
os.unlink("keep")
try:
    if os.fstat(fd).st_nlink != 0:
        bad.append("fstat of an unlinked read-only descriptor: st_nlink %d" % os.fstat(fd).st_nlink)
except OSError as e:
    bad.append("fstat of an unlinked read-only descriptor: %s" % e)
os.close(fd)'

daemon_ok "POSIX sequences"
