#!/usr/bin/env python3
"""tests/mount/kcache.py - probes of the kernel's caches on a poolfs mount,
run as root; each step runs in a child with the uid and gid it names.

    kcache.py race UID1:GID1 UID2:GID2 PATH ROUNDS
        UID1 stats PATH, and right after it (well inside the kernel's
        1 s caches) UID2 does; prints how often UID2's stat succeeded
    kcache.py nlink UID:GID PATH            -> st_nlink
    kcache.py inos UID:GID DIR N            creates N files DIR/ino.K,
                                            prints their st_ino, one a line
    kcache.py watch UID:GID DIR READY STOP  watches DIR with inotify (all
        events) until the file STOP exists; READY is made once the watch
        is in place. Prints each event's name (or "-" for none) and mask
        as hex, one a line, or ERR:ERRNO when no watch could be added
    kcache.py repeat UID:GID OP PATH N      N times os.stat / getxattr of
        user.poolfs.version / readlink / access(R_OK); prints ok and
        failed counts
    kcache.py statfs UID:GID PATH           -> OK files=F or the errno name
"""
import ctypes
import errno
import os
import struct
import sys
import time


def as_user(ug, fn, *args):
    """Runs fn(*args) in a child as uid:gid; returns what it printed."""
    uid, gid = (int(x) for x in ug.split(":"))
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            os.setgroups([])
            os.setresgid(gid, gid, gid)
            os.setresuid(uid, uid, uid)
            out = fn(*args)
        except OSError as e:
            out = "ERR:" + errno.errorcode.get(e.errno, str(e.errno))
        os.write(w, str(out).encode())
        os._exit(0)
    os.close(w)
    chunks = []
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    os.waitpid(pid, 0)
    return b"".join(chunks).decode()


def try_stat(path):
    try:
        os.stat(path)
        return "OK"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def race(a, b, path, rounds):
    leaks = 0
    for _ in range(int(rounds)):
        as_user(a, try_stat, path)
        if as_user(b, try_stat, path) == "OK":
            leaks += 1
    return leaks


def inos(d, n):
    out = []
    for k in range(int(n)):
        p = os.path.join(d, "ino.%d" % k)
        open(p, "w").close()
        out.append(str(os.stat(p).st_ino))
    return "\n".join(out)


IN_ALL_EVENTS = 0xfff


def watch(d, ready, stop):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(os.O_NONBLOCK)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "inotify_init1")
    wd = libc.inotify_add_watch(fd, d.encode(), IN_ALL_EVENTS)
    if wd < 0:
        e = ctypes.get_errno()
        open(ready, "w").close()
        raise OSError(e, "inotify_add_watch")
    open(ready, "w").close()
    events = []
    while True:
        done = os.path.exists(stop)
        try:
            buf = os.read(fd, 65536)
        except BlockingIOError:
            buf = b""
        off = 0
        while off + 16 <= len(buf):
            _, mask, _, ln = struct.unpack_from("iIII", buf, off)
            name = buf[off + 16:off + 16 + ln].split(b"\0", 1)[0].decode("utf-8", "replace")
            events.append("%s %x" % (name or "-", mask))
            off += 16 + ln
        if done and not buf:
            break
        time.sleep(0.02)
    return "\n".join(events)


def repeat(op, path, n):
    ok = bad = 0
    for _ in range(int(n)):
        try:
            if op == "stat":
                os.stat(path)
            elif op == "getxattr":
                os.getxattr(path, "user.poolfs.version")
            elif op == "readlink":
                os.readlink(path)
            elif op == "access":
                if not os.access(path, os.R_OK):
                    raise OSError(errno.EACCES, "access")
            ok += 1
        except OSError:
            bad += 1
    return "ok=%d failed=%d" % (ok, bad)


def statfs(path):
    try:
        return "OK files=%d" % os.statvfs(path).f_files
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def main(argv):
    op, a = argv[0], argv[1:]
    if op == "race":
        print(race(a[0], a[1], a[2], a[3]))
    elif op == "nlink":
        print(as_user(a[0], lambda p: os.stat(p).st_nlink, a[1]))
    elif op == "inos":
        print(as_user(a[0], inos, a[1], a[2]))
    elif op == "watch":
        print(as_user(a[0], watch, a[1], a[2], a[3]))
    elif op == "repeat":
        print(as_user(a[0], repeat, a[1], a[2], a[3]))
    elif op == "statfs":
        print(as_user(a[0], statfs, a[1]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
