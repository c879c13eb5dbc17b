#!/usr/bin/env python3
"""bench/meta.py - the timed pieces of bench/run.sh that shell does badly.

    meta.py create DIR N         create N small files f00000.. (1 KiB each)
    meta.py stat DIR N           stat() each of them; prints seconds
    meta.py ls DIR               runs `ls -l DIR > /dev/null`; prints seconds
    meta.py time CMD...          runs CMD (output discarded); prints
                                 seconds; fails when CMD fails
    meta.py csv-row FILE         changes one row in the middle of a CSV in
                                 place (same length), fsync, close
    meta.py csv-rewrite SRC DST  writes SRC to DST.tmp with one row in the
                                 middle changed (3 bytes longer), fsync,
                                 renames over DST (the ETL pattern)
"""
import os
import subprocess
import sys
import time

MIB = 1 << 20


def create(d, n):
    os.makedirs(d, exist_ok=True)
    blob = b"x" * 1023 + b"\n"
    for i in range(n):
        with open(os.path.join(d, "f%05d" % i), "wb") as f:
            f.write(blob)


def stat(d, n):
    t = time.perf_counter()
    for i in range(n):
        os.stat(os.path.join(d, "f%05d" % i))
    return time.perf_counter() - t


def ls(d):
    t = time.perf_counter()
    subprocess.run(["ls", "-l", d], stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t


def timed(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t


def middle_row(f, size):
    """Offset and bytes of the first whole row after the middle."""
    f.seek(size // 2)
    f.readline()
    off = f.tell()
    return off, f.readline()


def csv_row(path):
    size = os.path.getsize(path)
    fd = os.open(path, os.O_RDWR)
    with os.fdopen(os.dup(fd), "rb") as f:
        off, row = middle_row(f, size)
    # same length: change the digits of the last field
    new = row[:-3] + (b"99" if row[-3:-1] != b"99" else b"11") + b"\n"
    os.pwrite(fd, new, off)
    os.fsync(fd)
    os.close(fd)


def csv_rewrite(src, dst):
    size = os.path.getsize(src)
    with open(src, "rb") as f:
        off, row = middle_row(f, size)
    tmp = dst + ".tmp"
    with open(src, "rb") as fi, open(tmp, "wb") as fo:
        left = off
        while left:
            b = fi.read(min(left, 4 * MIB))
            fo.write(b)
            left -= len(b)
        fo.write(row[:-1] + b"123\n")
        fi.read(len(row))
        while True:
            b = fi.read(4 * MIB)
            if not b:
                break
            fo.write(b)
        fo.flush()
        os.fsync(fo.fileno())
    os.rename(tmp, dst)


def main(a):
    op = a[0]
    if op == "create":
        create(a[1], int(a[2]))
    elif op == "stat":
        print("%.6f" % stat(a[1], int(a[2])))
    elif op == "ls":
        print("%.6f" % ls(a[1]))
    elif op == "time":
        print("%.6f" % timed(a[1:]))
    elif op == "csv-row":
        csv_row(a[1])
    elif op == "csv-rewrite":
        csv_rewrite(a[1], a[2])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
