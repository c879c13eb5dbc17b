#!/usr/bin/env python3
"""tests/mount/follow.py - a reader that follows a writing shares the
writer's kernel inode, in a fixed order (docs/filesystem.md "Readers,
writers and kernel inodes").

    follow.py DIR

A writer's claim gives a version reader the name's kernel inode and the
name an alias; once that reader closed, the kernel forgets the old one
while the name's alias lives on. A writer that then opens through the
alias pins the store inode's own entry again; a later lookup of the name
must still lead to the alias the writer uses, not to a second live
kernel inode: the kernel keeps pages and a size per kernel inode, and a
reader there read pages the writer's in-place writes never reached.

Then an open through the kernel inode of a file unlinked or renamed over
while a writer had it (/proc/self/fd/N of the writer's descriptor, as a
path looked up just before the unlink would reach it): a reader there
reads the old file with its writers, whose pages it shares, never the
name's new file, and the writer's own reads stay its own.
Prints FAIL: lines and exits 1.
"""
import os
import sys
import time

from testutil import read_all

FAILS = []


def fail(msg):
    FAILS.append(msg)
    print("FAIL: %s" % msg)


def case(d, i):
    p = os.path.join(d, "f%d" % i)
    old = bytes((i * 7 + k) % 251 for k in range(20000))
    with open(p, "wb") as f:
        f.write(old)
    r1 = os.open(p, os.O_RDONLY)          # keeps this version
    read_all(r1)
    # the claim makes r1's kernel inode kept; the open retries on an alias
    w1 = os.open(p, os.O_WRONLY)
    os.pwrite(w1, b"1" * 100, 0)
    os.close(w1)
    old = b"1" * 100 + old[100:]
    os.close(r1)
    # the kernel forgets r1's kernel inode (release, forget); the name's
    # dentry, looked up by the retry, is still fresh (1 s)
    time.sleep(0.3)
    w2 = os.open(p, os.O_RDWR)            # through the alias
    time.sleep(1.2)                       # the dentry expires: a lookup
    r2 = os.open(p, os.O_RDONLY)          # opened while written: follows
    if os.fstat(r2).st_ino != os.fstat(w2).st_ino:
        fail("%s: the following reader's kernel inode %d is not the writer's %d"
             % (p, os.fstat(r2).st_ino, os.fstat(w2).st_ino))
    got = read_all(r2)                    # its pages are cached now
    if got != old:
        fail("%s: the follower read %d bytes, want %d" % (p, len(got), len(old)))
    os.pwrite(w2, b"2" * 5000, 1000)      # in place
    new = old[:1000] + b"2" * 5000 + old[6000:]
    os.pwrite(w2, b"3" * 3000, len(new))  # and past the end
    new += b"3" * 3000
    got = read_all(r2)
    if got != new:
        k = next((j for j in range(min(len(got), len(new))) if got[j] != new[j]),
                 min(len(got), len(new)))
        fail("%s: the follower read %d bytes, want the stage's %d; first difference at %d"
             % (p, len(got), len(new), k))
    os.close(r2)
    os.close(w2)


def case_orphan(d, how):
    c, b = os.path.join(d, "c_" + how), os.path.join(d, "b_" + how)
    with open(c, "wb") as f:
        f.write(b"x" * 20000)
    with open(b, "wb") as f:
        f.write(b"y" * 30000)
    w = os.open(c, os.O_RDWR)
    os.pwrite(w, b"w" * 100, 0)
    want = b"w" * 100 + b"x" * 19900
    if how == "rename":
        os.rename(b, c)
    else:
        os.unlink(c)
    try:
        r = os.open("/proc/self/fd/%d" % w, os.O_RDONLY)
    except OSError as e:
        fail("%s: open through the writer's kernel inode: %s" % (how, e))
        os.close(w)
        return
    got = read_all(r)
    if got != want:
        fail("%s: a reader through the writer's kernel inode read %d bytes %r..., want the"
             " old file's %r..." % (how, len(got), got[:3], want[:3]))
    got = read_all(w)
    if got != want:
        fail("%s: the writer read %d bytes %r... after that open, want its own %r..."
             % (how, len(got), got[:3], want[:3]))
    os.pwrite(w, b"z" * 50, 200)
    want = want[:200] + b"z" * 50 + want[250:]
    got = read_all(r)
    if got != want:
        fail("%s: the reader missed the writer's later write (%d bytes, %r at 200)"
             % (how, len(got), got[200:203]))
    if os.fstat(r).st_size != len(want):
        fail("%s: fstat of the reader: %d, want %d" % (how, os.fstat(r).st_size, len(want)))
    os.close(r)
    os.close(w)


def main():
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    for i in range(3):
        case(d, i)
    for how in ("rename", "unlink"):
        case_orphan(d, how)
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
