#!/usr/bin/env python3
"""tests/mount/locks.py - advisory locks on one file, for t_dept_locks.sh;
run as the caller (setpriv), each step one process.

    locks.py hold PATH KIND READY STOP   takes a lock and keeps it until
        the file STOP exists; READY is made once it is held. KIND: flock
        (LOCK_EX on a read-only descriptor), rd (F_RDLCK, read-only), wr
        (F_WRLCK, read-write), ofd (F_OFD_SETLK write lock, read-write)
    locks.py getlk PATH          F_GETLK of a write lock on the whole file
                                 (read-only): "unlocked" or "pid=N"
    locks.py try PATH KIND       takes KIND without waiting: "got" or "busy"
    locks.py wait PATH KIND      takes KIND waiting for it: "got"
    locks.py upgrade PATH READY GO   flock LOCK_SH, makes READY, waits for
        the file GO, then LOCK_EX waiting for it: "got"
    locks.py split PATH N        write-locks the whole file, then unlocks
        every other byte, cutting the lock into N pieces: "split N", or
        "enolck" at the first unlock refused; then "unlocked" once the
        whole file's unlock went through
    locks.py crowd PATH N STOP   N threads each flock LOCK_EX waiting, on
        descriptors of their own; once N-64 were refused (ENOLCK), or 10 s
        passed, makes STOP and counts: "enolck=R got=G"
"""
import errno
import fcntl
import os
import struct
import sys
import threading
import time

F_OFD_SETLK, F_OFD_SETLKW = 37, 38


def take(path, kind, wait):
    fd = os.open(path, os.O_RDONLY if kind in ("flock", "rd") else os.O_RDWR)
    if kind == "flock":
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    elif kind == "ofd":
        fcntl.fcntl(fd, F_OFD_SETLKW if wait else F_OFD_SETLK, struct.pack("hhqqi", fcntl.F_WRLCK, 0, 0, 0, 0))
    else:
        how = fcntl.LOCK_SH if kind == "rd" else fcntl.LOCK_EX
        fcntl.lockf(fd, how | (0 if wait else fcntl.LOCK_NB))
    return fd


def main():
    op, path = sys.argv[1], sys.argv[2]
    if op == "hold":
        fd = take(path, sys.argv[3], False)
        open(sys.argv[4], "w").close()
        while not os.path.exists(sys.argv[5]):
            time.sleep(0.05)
        os.close(fd)
    elif op == "getlk":
        fd = os.open(path, os.O_RDONLY)
        got = fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack("hhqqi", fcntl.F_WRLCK, 0, 0, 0, 0))
        kind, _, _, _, pid = struct.unpack("hhqqi", got)
        print("unlocked" if kind == fcntl.F_UNLCK else "pid=%d" % pid)
    elif op == "try":
        try:
            take(path, sys.argv[3], False)
            print("got")
        except (BlockingIOError, PermissionError):
            print("busy")
    elif op == "wait":
        take(path, sys.argv[3], True)
        print("got")
    elif op == "upgrade":
        fd = os.open(path, os.O_RDONLY)
        fcntl.flock(fd, fcntl.LOCK_SH)
        open(sys.argv[3], "w").close()
        while not os.path.exists(sys.argv[4]):
            time.sleep(0.05)
        fcntl.flock(fd, fcntl.LOCK_EX)
        print("got")
    elif op == "split":
        fd = take(path, "wr", False)
        n = int(sys.argv[3])
        try:
            for i in range(n):
                fcntl.lockf(fd, fcntl.LOCK_UN, 1, 2 * i + 1)
            print("split %d" % n)
        except OSError as e:
            if e.errno != errno.ENOLCK:
                raise
            print("enolck")
        fcntl.lockf(fd, fcntl.LOCK_UN)
        print("unlocked")
    elif op == "crowd":
        n = int(sys.argv[3])
        done = {"enolck": 0, "got": 0}
        mutex = threading.Lock()

        def one():
            fd = os.open(path, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                what = "got"
            except OSError as e:
                if e.errno != errno.ENOLCK:
                    raise
                what = "enolck"
            os.close(fd)
            with mutex:
                done[what] += 1

        crowd = [threading.Thread(target=one) for _ in range(n)]
        for t in crowd:
            t.start()
        end = time.monotonic() + 10
        while done["enolck"] < n - 64 and time.monotonic() < end:
            time.sleep(0.05)
        open(sys.argv[4], "w").close()
        for t in crowd:
            t.join()
        print("enolck=%d got=%d" % (done["enolck"], done["got"]))
    else:
        sys.exit("locks.py: unknown step %r" % op)


main()
