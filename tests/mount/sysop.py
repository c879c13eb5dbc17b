#!/usr/bin/env python3
"""tests/mount/sysop.py - run one system call, print OK or its errno name.

Shell cannot tell EPERM from EACCES; the mount tests ask this instead:

    sysop.py mkfifo PATH            -> OK | EPERM | ...
    sysop.py link SRC DST
    sysop.py symlink TARGET PATH
    sysop.py create PATH            O_CREAT|O_EXCL|O_WRONLY, then close
    sysop.py mkdir PATH
    sysop.py mknod-chr PATH         character device 1:3 (like /dev/null)
    sysop.py mknod-reg PATH
    sysop.py rename SRC DST
    sysop.py unlink PATH | rmdir PATH | stat PATH | lstat PATH
    sysop.py open-w PATH            O_WRONLY on an existing file
    sysop.py open-rw PATH
    sysop.py open-trunc PATH        O_WRONLY|O_TRUNC
    sysop.py truncate PATH SIZE
    sysop.py write PATH TEXT        O_WRONLY|O_CREAT|O_TRUNC, write, close
    sysop.py chmod PATH MODE(octal)
    sysop.py setxattr PATH NAME VALUE
    sysop.py getxattr PATH NAME     -> OK:value
    sysop.py read PATH              -> OK:<first 200 bytes, repr>
    sysop.py readlink PATH          -> OK:target
    sysop.py write-fsync-close PATH SIZE SEED
                                    writes SIZE pseudo-random bytes with
                                    O_CREAT|O_TRUNC, fsyncs, closes; prints
                                    OK or STEP:ERRNO (write|fsync|close)
"""
import errno
import os
import random
import stat
import sys


def name(e):
    return errno.errorcode.get(e.errno, str(e.errno))


def write_fsync_close(path, size, seed):
    step = "open"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except OSError as e:
        return "open:" + name(e)
    r = random.Random(int(seed))
    left = int(size)
    try:
        step = "write"
        while left:
            n = min(left, 1 << 20)
            b = r.randbytes(n)
            off = 0
            while off < n:
                off += os.write(fd, b[off:])
            left -= n
        step = "fsync"
        os.fsync(fd)
    except OSError as e:
        try:
            os.close(fd)
        except OSError:
            pass
        return step + ":" + name(e)
    try:
        os.close(fd)
    except OSError as e:
        return "close:" + name(e)
    return "OK"


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    op, a = argv[0], argv[1:]
    try:
        if op == "mkfifo":
            os.mkfifo(a[0], 0o644)
        elif op == "link":
            os.link(a[0], a[1])
        elif op == "symlink":
            os.symlink(a[0], a[1])
        elif op == "create":
            os.close(os.open(a[0], os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        elif op == "mkdir":
            os.mkdir(a[0], 0o755)
        elif op == "mknod-chr":
            os.mknod(a[0], 0o644 | stat.S_IFCHR, os.makedev(1, 3))
        elif op == "mknod-reg":
            os.mknod(a[0], 0o644 | stat.S_IFREG)
        elif op == "rename":
            os.rename(a[0], a[1])
        elif op == "unlink":
            os.unlink(a[0])
        elif op == "rmdir":
            os.rmdir(a[0])
        elif op == "stat":
            os.stat(a[0])
        elif op == "lstat":
            os.lstat(a[0])
        elif op in ("open-w", "open-rw", "open-trunc"):
            fl = {"open-w": os.O_WRONLY, "open-rw": os.O_RDWR,
                  "open-trunc": os.O_WRONLY | os.O_TRUNC}[op]
            os.close(os.open(a[0], fl))
        elif op == "truncate":
            os.truncate(a[0], int(a[1]))
        elif op == "write":
            fd = os.open(a[0], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                os.write(fd, a[1].encode())
            finally:
                os.close(fd)
        elif op == "chmod":
            os.chmod(a[0], int(a[1], 8))
        elif op == "setxattr":
            os.setxattr(a[0], a[1], a[2].encode())
        elif op == "getxattr":
            print("OK:" + os.getxattr(a[0], a[1]).decode(errors="replace"))
            return 0
        elif op == "read":
            with open(a[0], "rb") as f:
                print("OK:" + repr(f.read(200)))
            return 0
        elif op == "readlink":
            print("OK:" + os.readlink(a[0]))
            return 0
        elif op == "write-fsync-close":
            print(write_fsync_close(a[0], a[1], a[2]))
            return 0
        else:
            print("unknown op " + op, file=sys.stderr)
            return 2
    except OSError as e:
        print(name(e))
        return 0
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
