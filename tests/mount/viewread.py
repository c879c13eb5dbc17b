#!/usr/bin/env python3
"""tests/mount/viewread.py - the ways legacy programs read a file, for t_views.sh.

    viewread.py exact PATH          fstat(), read exactly st_size bytes, expect
                                    EOF next; the bytes on stdout
    viewread.py csv PATH            Python's csv reader; one line per row,
                                    fields joined by "|"
    viewread.py mmap PATH private|shared
                                    the whole file through mmap (MAP_PRIVATE:
                                    ACCESS_COPY, MAP_SHARED: ACCESS_READ); the
                                    bytes on stdout, or ERR:<errno name>
    viewread.py maps PATH WANT N    N times: open, private mmap of the whole file,
                                    compare with file WANT; prints "ok N"
    viewread.py hold PATH READY GO  opens PATH, reads 4 bytes, creates READY,
                                    waits for GO, then prints OK:<16 bytes> or
                                    the errno name of the next pread()
Exit status 1 with a message on stderr when something is off.
"""
import csv
import errno
import mmap
import os
import sys
import time


def ename(e):
    return errno.errorcode.get(e.errno, str(e.errno))


def exact(path):
    fd = os.open(path, os.O_RDONLY)
    size = os.fstat(fd).st_size
    data = b""
    while len(data) < size:
        b = os.read(fd, size - len(data))
        if not b:
            sys.exit("%s: EOF after %d of st_size %d bytes" % (path, len(data), size))
        data += b
    more = os.read(fd, 4096)
    if more:
        sys.exit("%s: %d bytes past st_size %d" % (path, len(more), size))
    os.close(fd)
    sys.stdout.buffer.write(data)


def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.reader(f):
            print("|".join(row))


def mapped(path, how):
    fd = os.open(path, os.O_RDONLY)
    size = os.fstat(fd).st_size
    access = mmap.ACCESS_COPY if how == "private" else mmap.ACCESS_READ
    try:
        m = mmap.mmap(fd, 0, access=access)
    except OSError as e:
        print("ERR:" + ename(e))
        return
    if len(m) != size:
        sys.exit("%s: mapped %d bytes, st_size %d" % (path, len(m), size))
    sys.stdout.buffer.write(m[:])
    m.close()
    os.close(fd)


def maps(path, want, n):
    want = open(want, "rb").read()
    for i in range(n):
        fd = os.open(path, os.O_RDONLY)
        m = mmap.mmap(fd, 0, access=mmap.ACCESS_COPY)
        if m[:] != want:
            sys.exit("%s: map %d differs (%d bytes, want %d)" % (path, i, len(m), len(want)))
        m.close()
        os.close(fd)
    print("ok %d" % n)


def hold(path, ready, go):
    fd = os.open(path, os.O_RDONLY)
    os.read(fd, 4)
    open(ready, "w").close()
    for _ in range(600):
        if os.path.exists(go):
            break
        time.sleep(0.05)
    try:
        print("OK:" + os.pread(fd, 16, 0).decode("utf-8", "replace"))
    except OSError as e:
        print(ename(e))


def main():
    cmd = sys.argv[1]
    if cmd == "exact":
        exact(sys.argv[2])
    elif cmd == "csv":
        rows(sys.argv[2])
    elif cmd == "mmap":
        mapped(sys.argv[2], sys.argv[3])
    elif cmd == "maps":
        maps(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif cmd == "hold":
        hold(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
