#!/usr/bin/env python3
"""tests/mount/mapread.py - shared maps of a file against read(), for t_mmap_views.sh.

    mapread.py shared PATH WANT N   N times: open, fstat, mmap(MAP_SHARED) of the
                                    whole file, read() it whole too; both must be
                                    file WANT and st_size its size; "ok N", or
                                    ERR:<errno name> when the map fails
    mapread.py hold PATH WANT INFO GO
                                    maps PATH shared, checks it is WANT, writes
                                    "PID FD" to INFO, waits for file GO, then
                                    prints "map ok"/"map differs" and
                                    "read ok"/"read differs" (pread of the whole
                                    file on the held descriptor) against WANT
                                    again; a map the daemon refuses is SIGBUS
    mapread.py reopen PID FD        opens /proc/PID/fd/FD and reads it: the bytes
                                    read (count) or ERR:<errno name>
    mapread.py mapfile PID PATH     the same through /proc/PID/map_files/ of the
                                    map of PATH
Exit status 1 with a message on stderr when something is off.
"""
import errno
import mmap
import os
import sys
import time


def ename(e):
    return errno.errorcode.get(e.errno, str(e.errno))


def read_all(fd, size):
    data = b""
    while True:
        b = os.pread(fd, max(size - len(data), 65536), len(data))
        if not b:
            return data
        data += b


def shared(path, want, n):
    want = open(want, "rb").read()
    for i in range(n):
        fd = os.open(path, os.O_RDONLY)
        size = os.fstat(fd).st_size
        if size != len(want):
            sys.exit("%s: open %d: st_size %d, want %d" % (path, i, size, len(want)))
        try:
            m = mmap.mmap(fd, 0, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ)
        except OSError as e:
            print("ERR:" + ename(e))
            return
        got = m[:]
        m.close()
        if got != want:
            sys.exit("%s: shared map %d differs (%d bytes, want %d)" % (path, i, len(got), len(want)))
        got = read_all(fd, size)
        if got != want:
            sys.exit("%s: read %d differs (%d bytes, want %d)" % (path, i, len(got), len(want)))
        os.close(fd)
    print("ok %d" % n)


def hold(path, want, info, go):
    want = open(want, "rb").read()
    fd = os.open(path, os.O_RDONLY)
    m = mmap.mmap(fd, 0, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ)
    if m[:] != want:
        sys.exit("%s: the held map differs from the start" % path)
    with open(info + ".tmp", "w") as f:
        f.write("%d %d\n" % (os.getpid(), fd))
    os.rename(info + ".tmp", info)
    for _ in range(1200):
        if os.path.exists(go):
            break
        time.sleep(0.05)
    print("map ok" if m[:] == want else "map differs", flush=True)
    try:
        print("read ok" if read_all(fd, len(want)) == want else "read differs", flush=True)
    except OSError as e:
        print("read " + ename(e), flush=True)


def reopen(pid, fd):
    try:
        f = os.open("/proc/%s/fd/%s" % (pid, fd), os.O_RDONLY)
        print(len(read_all(f, 0)))
        os.close(f)
    except OSError as e:
        print("ERR:" + ename(e))


def mapfile(pid, path):
    d = "/proc/%s/map_files" % pid
    for name in os.listdir(d):
        try:
            if os.readlink(os.path.join(d, name)) != path:
                continue
        except OSError:
            continue
        try:
            f = os.open(os.path.join(d, name), os.O_RDONLY)
            print(len(read_all(f, 0)))
            os.close(f)
        except OSError as e:
            print("ERR:" + ename(e))
        return
    sys.exit("no map of %s in %s" % (path, d))


def main():
    cmd = sys.argv[1]
    if cmd == "shared":
        shared(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif cmd == "hold":
        hold(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    elif cmd == "reopen":
        reopen(sys.argv[2], sys.argv[3])
    elif cmd == "mapfile":
        mapfile(sys.argv[2], sys.argv[3])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
