#!/usr/bin/env python3
"""tests/mount/holes.py - sparse-file system calls for t_holes.sh.

Runs several calls in one process (python starts slowly on a busy
machine), separated by "--", and prints one result per call on one line:

    truncate PATH SIZE      os.truncate -> OK | ERRNO
    pwrite PATH OFF TEXT    O_WRONLY|O_CREAT, pwrite, close -> OK | ERRNO
    size PATH               st_size
    zeros PATH OFF LEN      pread of LEN bytes at OFF is all zeros -> OK | BAD
    read PATH OFF LEN       -> OK:<bytes, repr>

    holes.py stride PATH STRIDE N
        writes b"x" at i*STRIDE (i < N) into an open file, prints
        "written", then fsyncs and closes -> OK | STEP:ERRNO
"""
import errno
import os
import sys


def name(e):
    return errno.errorcode.get(e.errno, str(e.errno))


def pread(path, off, n):
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.pread(fd, n, off)
    finally:
        os.close(fd)


def one(op, a):
    try:
        if op == "truncate":
            os.truncate(a[0], int(a[1]))
        elif op == "pwrite":
            fd = os.open(a[0], os.O_WRONLY | os.O_CREAT, 0o644)
            try:
                os.pwrite(fd, a[2].encode(), int(a[1]))
            finally:
                os.close(fd)
        elif op == "size":
            return str(os.stat(a[0]).st_size)
        elif op == "zeros":
            got = pread(a[0], int(a[1]), int(a[2]))
            return "OK" if len(got) == int(a[2]) and got.count(0) == len(got) else "BAD"
        elif op == "read":
            return "OK:" + repr(pread(a[0], int(a[1]), int(a[2])))
        else:
            return "unknown-op:" + op
        return "OK"
    except OSError as e:
        return name(e)


def stride(path, step, n):
    what = "open"
    try:
        fd = os.open(path, os.O_WRONLY)
        what = "write"
        for i in range(n):
            os.pwrite(fd, b"x", i * step)
        print("written", flush=True)
        what = "fsync"
        os.fsync(fd)
        what = "close"
        os.close(fd)
        print("OK")
    except OSError as e:
        print("%s:%s" % (what, name(e)), flush=True)


def main():
    args = sys.argv[1:]
    if args and args[0] == "stride":
        stride(args[1], int(args[2]), int(args[3]))
        return 0
    out, cur = [], []
    for x in args + ["--"]:
        if x == "--":
            if cur:
                out.append(one(cur[0], cur[1:]))
            cur = []
        else:
            cur.append(x)
    print(" ".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
