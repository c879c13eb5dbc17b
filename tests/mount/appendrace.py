#!/usr/bin/env python3
"""tests/mount/appendrace.py - O_APPEND writes against a kernel inode
whose idea of the file's size is made stale on purpose, in a fixed order.

    appendrace.py CASE FILE

Every case starts FILE with 100 bytes "A", appends "B"*50 through an
O_APPEND descriptor, does something that may leave the kernel a smaller
size than the daemon's stage, appends "C"*50 through the same
descriptor, closes everything and checks the file is A*100 B*50 C*50:
each append at the end, nothing overwritten, no NUL bytes. Prints
FAIL: lines and exits 1 otherwise.
"""
import os
import sys
import time

BASE = b"A" * 100
B = b"B" * 50
C = b"C" * 50


def start(path):
    with open(path, "wb") as f:
        f.write(BASE)
    # the close commits in release, after close() returned
    deadline = time.time() + 10
    while os.stat(path).st_size != len(BASE) and time.time() < deadline:
        time.sleep(0.01)


def stale_reader_seek(path, fd):
    """a reader of the older version asks for the end of its file"""
    rfd = stale_reader_seek.rfd
    os.lseek(rfd, 0, os.SEEK_END)


def stale_reader_read(path, fd):
    """a reader of the older version reads past what the kernel knows"""
    rfd = stale_reader_seek.rfd
    os.pread(rfd, 4096, 120)


def other_commit(path, fd):
    """another writer's handle commits the stage (fsync) and reads the size"""
    ofd = os.open(path, os.O_WRONLY)
    os.fsync(ofd)
    os.close(ofd)
    os.stat(path)


def proc_reopen(path, fd):
    """the file reopened through /proc (the same kernel inode) and closed"""
    ofd = os.open("/proc/self/fd/%d" % fd, os.O_RDONLY)
    os.lseek(ofd, 0, os.SEEK_END)
    os.fstat(ofd)
    os.close(ofd)


CASES = {
    "reader-seek": (True, stale_reader_seek),
    "reader-read": (True, stale_reader_read),
    "other-commit": (False, other_commit),
    "proc-reopen": (False, proc_reopen),
}


def main():
    case, path = sys.argv[1], sys.argv[2]
    reader, poke = CASES[case]
    start(path)
    if reader:
        # opened before the writing began: it keeps the 100-byte version
        stale_reader_seek.rfd = os.open(path, os.O_RDONLY)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    os.write(fd, B)
    poke(path, fd)
    os.write(fd, C)
    os.close(fd)
    if reader:
        os.close(stale_reader_seek.rfd)
    want = BASE + B + C
    deadline = time.time() + 10
    got = b""
    while time.time() < deadline:
        with open(path, "rb") as f:
            got = f.read()
        if got == want:
            return 0
        time.sleep(0.05)
    print("FAIL: %s: %d bytes, want %d; NUL bytes %d; B %d; C %d; head %r tail %r" %
          (case, len(got), len(want), got.count(b"\0"), got.count(b"B"), got.count(b"C"),
           got[:8], got[-8:]))
    return 1


if __name__ == "__main__":
    sys.exit(main())
