#!/usr/bin/env python3
"""tests/mount/crash.py - writers and checker for the kill -9 test.

    crash.py write DIR ACKDIR ID MODE BASE   write versions BASE+1, BASE+2, ...
                                             of DIR/wID until an error
    crash.py verify DIR ACKDIR

Every version is a whole-file content that names itself: a header line
"poolfs-crash id=ID v=V size=S" followed by bytes derived from (ID, V),
so any file can be checked alone: it is either exactly one version that
was written, or it is torn.

MODE inplace  open O_WRONLY without O_TRUNC, pwrite the whole content
              (fixed size per file), close;
     fsync    the same plus fsync before close; the version is appended
              to ACKDIR/ack-ID after fsync returned (it must survive);
     rename   write DIR/.wID.tmp (O_CREAT|O_TRUNC, variable size), close,
              rename over DIR/wID;
     mmap     open O_RDWR, ftruncate to the fixed size, write the whole
              content through MAP_SHARED, msync(MS_SYNC); acknowledged
              (ACKDIR/ack-ID) once msync returned.
ACKDIR/try-ID gets each version before it is written.
"""
import hashlib
import mmap
import os
import random
import re
import sys

HDR = re.compile(rb"^poolfs-crash id=(\d+) v=(\d+) size=(\d+)\n")


def size_for(wid, v, mode):
    if mode == "rename":
        return 100 + (v * 7919 + wid * 131) % 600000
    return 200000 + wid * 37000


def content(wid, v, size):
    head = b"poolfs-crash id=%d v=%d size=%d\n" % (wid, v, size)
    seed = int.from_bytes(hashlib.sha256(b"%d/%d" % (wid, v)).digest()[:8], "big")
    body = random.Random(seed).randbytes(max(0, size - len(head)))
    return (head + body)[:size]


def append_line(path, text):
    with open(path, "a") as f:
        f.write(text + "\n")
        f.flush()


def write(d, ackdir, wid, mode, base):
    name = os.path.join(d, "w%d" % wid)
    v = base
    while True:
        v += 1
        size = size_for(wid, v, mode)
        data = content(wid, v, size)
        append_line(os.path.join(ackdir, "try-%d" % wid), str(v))
        target = os.path.join(d, ".w%d.tmp" % wid) if mode == "rename" else name
        flags = os.O_WRONLY | os.O_CREAT
        if mode == "rename":
            flags |= os.O_TRUNC
        if mode == "mmap":
            fd = os.open(target, os.O_RDWR | os.O_CREAT, 0o644)
            os.ftruncate(fd, size)
            m = mmap.mmap(fd, size)
            m[:] = data
            m.flush()           # msync(MS_SYNC): the version must survive
            m.close()
            append_line(os.path.join(ackdir, "ack-%d" % wid), str(v))
            os.close(fd)
            continue
        fd = os.open(target, flags, 0o644)
        for off in range(0, size, 65536):
            os.pwrite(fd, data[off:off + 65536], off)
        if mode == "fsync":
            os.fsync(fd)
            append_line(os.path.join(ackdir, "ack-%d" % wid), str(v))
        os.close(fd)
        if mode == "rename":
            os.rename(target, name)


def check_one(path, wid, tmp):
    """Returns (ok, version or None, message)."""
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        if tmp:
            return True, None, ""
        return False, None, "%s is empty though it has committed versions" % path
    m = HDR.match(data)
    if not m:
        return False, None, "%s (%d bytes) does not start with a version header: %r" % (
            path, len(data), data[:60])
    fid, v, size = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if fid != wid:
        return False, v, "%s holds content of writer %d" % (path, fid)
    want = content(fid, v, size)
    if data != want:
        n = min(len(data), len(want))
        i = next((i for i in range(n) if data[i] != want[i]), n)
        return False, v, "%s is torn: header says v=%d size=%d, file has %d bytes, first wrong byte %d" % (
            path, v, size, len(data), i)
    return True, v, ""


def read_ints(path):
    try:
        with open(path) as f:
            return [int(x) for x in f.read().split()]
    except FileNotFoundError:
        return []


def verify(d, ackdir):
    bad = 0
    names = sorted(os.listdir(d))
    for n in names:
        m = re.match(r"^\.?w(\d+)(\.tmp)?$", n)
        if not m:
            continue
        wid, tmp = int(m.group(1)), bool(m.group(2))
        vdir = os.path.join(d, ".versions", n)
        nvers = len(os.listdir(vdir)) if os.path.isdir(vdir) else 0
        acked = read_ints(os.path.join(ackdir, "ack-%d" % wid))
        # empty is version 0: created, never committed; fine only while
        # the name has no committed version at all
        ok, v, msg = check_one(os.path.join(d, n), wid, tmp or (nvers == 0 and not acked))
        if not ok:
            print("FAIL: " + msg)
            bad += 1
            continue
        tried = read_ints(os.path.join(ackdir, "try-%d" % wid))
        if v is not None and v not in tried:
            print("FAIL: %s is at v=%d, which was never written" % (n, v))
            bad += 1
        if not tmp and acked and (v is None or v < max(acked)):
            print("FAIL: %s is at v=%s but v=%d was fsynced before the crash (lost a durable commit)"
                  % (n, v, max(acked)))
            bad += 1
        # every past version is whole too (the last 40)
        if not tmp and nvers:
            vs = sorted(int(x) for x in os.listdir(vdir))[-40:]
            for x in vs:
                ok, _, msg = check_one(os.path.join(vdir, str(x)), wid, False)
                if not ok:
                    print("FAIL: version %d: %s" % (x, msg))
                    bad += 1
    for f in os.listdir(ackdir):
        if f.startswith("ack-") and "w%s" % f[4:] not in names:
            print("FAIL: w%s had fsynced versions but is missing" % f[4:])
            bad += 1
    print("verify: %d files checked, %d problems" % (len(names), bad))
    return 1 if bad else 0


def main(a):
    if a[0] == "write":
        try:
            write(a[1], a[2], int(a[3]), a[4], int(a[5]))
        except OSError as e:
            # the daemon was killed under us: the expected way out
            print("writer %s stopped: %s" % (a[3], e))
        return 0
    if a[0] == "verify":
        return verify(a[1], a[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
