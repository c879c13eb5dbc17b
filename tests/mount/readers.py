#!/usr/bin/env python3
"""tests/mount/readers.py - descriptors that keep what they opened, in a
fixed order: a reader of a version next to writers of the stage, and
writers of a file whose name went away.

    readers.py CASE DIR

Each case works on files below DIR (made fresh), prints FAIL: lines and
exits 1 when a descriptor reads or fstat()s something else than
docs/filesystem.md promises ("A reader keeps the version it opened";
"Descriptors of a file that is unlinked or renamed over keep the old
file privately ... st_nlink 0").
"""
import os
import sys
import time

from testutil import first_diff, read_all

FAILS = []


def fail(msg):
    FAILS.append(msg)
    print("FAIL: %s" % msg)


def pat(ch, n):
    return (ch * (n // len(ch) + 1))[:n]


def put(path, data):
    with open(path, "wb") as f:
        f.write(data)
    # the close commits at flush; release may still be on its way
    deadline = time.time() + 10
    while time.time() < deadline:
        with open(path, "rb") as f:
            if f.read() == data:
                return
        time.sleep(0.01)
    fail("%s: never read back what was written" % path)


def same(what, got, want):
    if got != want:
        fail("%s: %d bytes, want %d; first difference at %d"
             % (what, len(got), len(want), first_diff(got, want)))


def eventually(what, fn, want):
    deadline = time.time() + 5
    got = fn()
    while got != want and time.time() < deadline:
        time.sleep(0.05)
        got = fn()
    if got != want:
        fail("%s: %r, want %r" % (what, got if len(repr(got)) < 80 else len(got), want
                                  if len(repr(want)) < 80 else len(want)))


def reader_pages(d):
    """a writer's reads must not put the stage into the reader's pages"""
    p = os.path.join(d, "f")
    old = pat(b"old-", 5003)
    put(p, old)
    r = os.open(p, os.O_RDONLY)
    w = os.open(p, os.O_RDWR)
    os.pwrite(w, pat(b"NEW+", 100), 0)
    os.pwrite(w, pat(b"end!", 100), 9000)
    same("writer reads its stage", read_all(w), (pat(b"NEW+", 100) + old[100:]).ljust(9000, b"\0")
         + pat(b"end!", 100))
    same("reader keeps its version while written", read_all(r), old)
    if os.fstat(r).st_size != len(old):
        fail("fstat of the reader while written: %d, want %d" % (os.fstat(r).st_size, len(old)))
    os.close(w)
    same("reader keeps its version after the commit", read_all(r), old)
    if os.fstat(r).st_size != len(old):
        fail("fstat of the reader after the commit: %d" % os.fstat(r).st_size)
    os.close(r)


def reader_size(d):
    """a reader's short read at its version's end must not cut the file"""
    p = os.path.join(d, "f")
    old = pat(b"old-", 5003)
    new = pat(b"NEW+", 20000)
    put(p, old)
    r = os.open(p, os.O_RDONLY)
    w = os.open(p, os.O_RDWR)
    os.pwrite(w, new, 0)
    same("reader keeps its version", read_all(r), old)
    st = os.stat(p).st_size
    if st != len(new):
        fail("stat by path while written: %d, want %d" % (st, len(new)))
    same("writer reads its stage", read_all(w), new)
    os.close(w)
    # what a new reader sees once the last writer closed
    same("reader keeps its version after the commit", read_all(r), old)

    def by_path():
        with open(p, "rb") as f:
            return f.read()
    eventually("new reader by path after the commit", by_path, new)
    eventually("stat by path after the commit", lambda: os.stat(p).st_size, len(new))
    same("reader still keeps its version", read_all(r), old)
    if os.fstat(r).st_size != len(old):
        fail("fstat of the reader after the commit: %d" % os.fstat(r).st_size)
    os.close(r)


def reader_then_truncate(d):
    """truncate() by path commits at once; a reader keeps its version"""
    p = os.path.join(d, "f")
    old = pat(b"old-", 9000)
    put(p, old)
    r = os.open(p, os.O_RDONLY)
    same("reader reads its version", os.pread(r, 100, 0), old[:100])
    os.truncate(p, 10)
    same("reader keeps its version after truncate()", read_all(r), old)
    if os.fstat(r).st_size != len(old):
        fail("fstat of the reader after truncate(): %d" % os.fstat(r).st_size)
    eventually("stat by path after truncate()", lambda: os.stat(p).st_size, 10)
    os.close(r)


def gone_check(d, how):
    """fstat of a writer's descriptor after its file lost the name (how:
    unlink, or a rename over it): its own size, st_nlink 0, writable"""
    p, q = os.path.join(d, "f"), os.path.join(d, "g")
    put(p, pat(b"old-", 3000))
    w = os.open(p, os.O_RDWR)
    os.pwrite(w, pat(b"w", 7000), 0)
    if how == "unlink":
        os.unlink(p)
        put(p, pat(b"other", 12345))    # a new file under the name
    else:
        put(q, pat(b"other", 12345))
        os.rename(q, p)
    for k in range(2):
        try:
            st = os.fstat(w)
        except OSError as e:
            fail("fstat after %s (%d): %s" % (how, k, e))
            break
        want = 7000 + 500 * k
        if st.st_size != want or st.st_nlink != 0:
            fail("fstat after %s (%d): size %d nlink %d, want %d and 0"
                 % (how, k, st.st_size, st.st_nlink, want))
        os.pwrite(w, b"x" * 500, want)
    same("the old file reads back after %s" % how, read_all(w),
         pat(b"w", 7000) + b"x" * 1000)
    os.close(w)
    same("the name has the other file after %s" % how, open(p, "rb").read(),
         pat(b"other", 12345))


def gone_unlink(d):
    """fstat of a writer's descriptor after unlink: its file, st_nlink 0"""
    gone_check(d, "unlink")


def gone_rename(d):
    """fstat of a writer's descriptor after a rename over its file"""
    gone_check(d, "rename over")


def gone_twice(d):
    """a file renamed over twice, then unlinked: each old file keeps its own"""
    p, q = os.path.join(d, "f"), os.path.join(d, "g")
    put(p, pat(b"old-", 3000))
    w1 = os.open(p, os.O_RDWR)
    os.pwrite(w1, pat(b"1", 7000), 0)
    put(q, pat(b"other", 12345))
    os.rename(q, p)
    w2 = os.open(p, os.O_RDWR)
    os.pwrite(w2, pat(b"2", 2000), 0)
    put(q, pat(b"third", 999))
    os.rename(q, p)
    os.unlink(p)
    want1 = pat(b"1", 7000)
    want2 = pat(b"2", 2000) + pat(b"other", 12345)[2000:]
    for fd, want, what in ((w1, want1, "first"), (w2, want2, "second")):
        try:
            st = os.fstat(fd)
            if st.st_size != len(want) or st.st_nlink != 0:
                fail("fstat of the %s old file: size %d nlink %d, want %d and 0"
                     % (what, st.st_size, st.st_nlink, len(want)))
        except OSError as e:
            fail("fstat of the %s old file: %s" % (what, e))
        same("the %s old file reads back" % what, read_all(fd), want)
    os.close(w1)
    os.close(w2)


def read_while(p, pid, files, what, who):
    """reads p whole until child pid exits: every read must be one of files"""
    reads = bad = 0
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        with open(p, "rb") as f:
            got = f.read()
        reads += 1
        if got not in files:
            bad += 1
            if bad <= 3:
                same("read %d of %s" % (reads, what), got,
                     files[0] if got[:1] == b"b" else files[1])
        if done:
            break
    if status != 0:
        fail("%s failed" % who)
    if bad:
        fail("%d of %d reads were not one whole file" % (bad, reads))


def rename_reader(d):
    """readers of a name that temp-then-rename keeps replacing read whole files

    A reader that reached the old file's kernel inode just before a
    rename over it must read the old file (or the new one) whole, never
    the new file's bytes cut to the old one's size. The window is between
    the store's rename and the marking of the old kernel inodes, so this
    case repeats the race: with the window open, hundreds of reads miss.
    """
    p = os.path.join(d, "f")
    files = (pat(b"big!", 300037), pat(b"s", 5035))
    put(p, files[0])
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            for i in range(400):
                tmp = os.path.join(d, ".tmp.%d" % i)
                with open(tmp, "wb") as f:
                    f.write(files[(i + 1) % 2])
                os.rename(tmp, p)
        except OSError as e:
            print("FAIL: writer: %s" % e)
            code = 1
        os._exit(code)
    read_while(p, pid, files, "the renamed-over name", "the renaming writer")


def restore_reader(d):
    """readers of a name that restore keeps switching read one version whole

    A reader that opens through the name's kernel inode while a restore
    makes another version current must read the version that kernel
    inode's size describes, or the restored one whole: never the restored
    bytes cut to (or padded out to) the old size. The window is between
    the store's restore and the marking of the kernel inodes, which the
    daemon holds open (POOLFS_TEST_RESTORE_PAUSE_MS) where the store's
    restore is done. RESTORE_CTL: a poolctl command prefix, DIR's
    pool path in RESTORE_PATH.
    """
    p = os.path.join(d, "f")
    ctl = os.environ["RESTORE_CTL"].split()
    pool = os.environ["RESTORE_PATH"] + "/f"
    files = (pat(b"big!", 300037), pat(b"s", 5035))
    put(p, files[0])
    put(p, files[1])
    pid = os.fork()
    if pid == 0:
        code = 0
        for i in range(40):
            argv = ctl + ["restore", pool, "--version", str(1 + i % 2)]
            rc = os.spawnvp(os.P_WAIT, argv[0], argv)
            if rc != 0:
                print("FAIL: restore %d exited %d" % (i, rc))
                code = 1
                break
        os._exit(code)
    read_while(p, pid, files, "the restored name", "the restoring process")


CASES = {
    "reader-pages": reader_pages,
    "reader-size": reader_size,
    "reader-truncate": reader_then_truncate,
    "gone-unlink": gone_unlink,
    "gone-rename": gone_rename,
    "gone-twice": gone_twice,
    "rename-reader": rename_reader,
    "restore-reader": restore_reader,
}


def main():
    case, d = sys.argv[1], sys.argv[2]
    os.makedirs(d, exist_ok=True)
    CASES[case](d)
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
