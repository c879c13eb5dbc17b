#!/usr/bin/env python3
"""bench/soak_worker.py - one of the soak's load processes (bench/soak.sh).

    soak_worker.py ID ROOT DEADLINE STATSFILE

Until the time DEADLINE (epoch seconds) it writes, appends, reads,
renames, lists, stats and unlinks files under ROOT/wID (its own) and
ROOT/shared (everyone's). Every file it writes names itself: a header
"soak len=N sha=H\\n" then N bytes whose SHA-256 starts with H, so any
reader checks any whole file alone. Files it appends to hold only whole
records "<ID:seq:len:crc>payload\\n" that each check alone.

Counts go to STATSFILE (JSON, rewritten every second and at the end):
ops, errors (an OSError nobody injected), bad (content that does not
check), and the first few error messages. In ROOT/shared a name that
another worker renamed or unlinked between listing and opening is
ENOENT, which is expected there and counted as "raced", not as an error.
"""
import errno
import fcntl
import hashlib
import json
import os
import random
import re
import sys
import time
import zlib

HDR = re.compile(rb"^soak len=(\d+) sha=([0-9a-f]{16})\n")
REC = re.compile(rb"<(\d+):(\d+):(\d+):([0-9a-f]{8})>")


def content(r, n):
    body = r.randbytes(n)
    return b"soak len=%d sha=%s\n" % (n, hashlib.sha256(body).hexdigest()[:16].encode()) + body


def check_file(data):
    if not data:
        return True         # created, not yet written: an empty version
    m = HDR.match(data)
    if not m:
        return False
    body = data[m.end():]
    return len(body) == int(m.group(1)) and hashlib.sha256(body).hexdigest()[:16] == m.group(2).decode()


def check_log(data):
    i = 0
    while i < len(data):
        m = REC.match(data, i)
        if not m:
            return False
        n = int(m.group(3))
        payload = data[m.end():m.end() + n]
        if len(payload) != n or data[m.end() + n:m.end() + n + 1] != b"\n":
            return False
        if "%08x" % zlib.crc32(payload) != m.group(4).decode():
            return False
        i = m.end() + n + 1
    return True


def main():
    wid, root, deadline, statsfile = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), sys.argv[4]
    r = random.Random(wid * 7919 + int(deadline))
    own = os.path.join(root, "w%d" % wid)
    shared = os.path.join(root, "shared")
    os.makedirs(own, exist_ok=True)
    os.makedirs(shared, exist_ok=True)
    st = {"id": wid, "ops": 0, "errors": 0, "bad": 0, "raced": 0, "messages": []}
    seq = 0
    last = 0.0

    def err(what, e):
        st["errors"] += 1
        if len(st["messages"]) < 10:
            st["messages"].append("%s: %s" % (what, e))

    def bad(what):
        st["bad"] += 1
        if len(st["messages"]) < 10:
            st["messages"].append("content does not check: " + what)

    def save():
        tmp = statsfile + ".tmp"
        with open(tmp, "w") as f:
            json.dump(st, f)
        os.replace(tmp, statsfile)

    while time.time() < deadline:
        k = r.random()
        d = shared if r.random() < 0.3 else own
        name = os.path.join(d, "f%d" % r.randrange(12))
        try:
            if k < 0.25:
                # temp then rename: the ETL pattern
                tmp = os.path.join(d, ".tmp.%d.%d" % (wid, seq))
                with open(tmp, "wb") as f:
                    f.write(content(r, r.choice((10, 5000, 70000, 300000))))
                os.rename(tmp, name)
            elif k < 0.35:
                # a file rewritten in place is half-written for a while, and
                # two writers mix their bytes, in poolfs as in any POSIX
                # filesystem (a reader that opens during the writing follows
                # it, docs/filesystem.md): in the shared directory writers
                # and readers take the locks cooperating programs take
                with open(name, "ab") as f:
                    if d == shared:
                        fcntl.flock(f, fcntl.LOCK_EX)
                    f.truncate(0)
                    f.write(content(r, r.randrange(0, 100000)))
                    if r.random() < 0.3:
                        f.flush()
                        os.fsync(f.fileno())
            elif k < 0.45:
                log = os.path.join(d, "log%d" % r.randrange(3))
                fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    for _ in range(r.randrange(1, 5)):
                        seq += 1
                        p = r.randbytes(r.randrange(0, 2000)).replace(b"\n", b" ")
                        os.write(fd, b"<%d:%d:%d:%08x>" % (wid, seq, len(p), zlib.crc32(p)) + p + b"\n")
                finally:
                    os.close(fd)
            elif k < 0.70:
                names = os.listdir(d)
                st["ops"] += 1
                if names:
                    n = r.choice(names)
                    if n.startswith(".tmp."):
                        continue
                    with open(os.path.join(d, n), "rb") as f:
                        if d == shared:
                            fcntl.flock(f, fcntl.LOCK_SH)
                        data = f.read()
                    ok = check_log(data) if n.startswith("log") else check_file(data)
                    if not ok:
                        bad("%s (%d bytes)" % (os.path.join(d, n), len(data)))
            elif k < 0.80:
                os.rename(name, os.path.join(d, "f%d" % r.randrange(12)))
            elif k < 0.87:
                os.unlink(name)
            elif k < 0.95:
                os.stat(name)
                os.listdir(d)
            else:
                # a descriptor held across another process's commits
                with open(name, "rb") as f:
                    if d == shared:
                        fcntl.flock(f, fcntl.LOCK_SH)
                    a = f.read()
                    time.sleep(0.01)
                    f.seek(0)
                    b = f.read()
                if not check_file(a) or not check_file(b):
                    bad("%s read twice through one descriptor" % name)
            st["ops"] += 1
        except OSError as e:
            if e.errno == errno.ENOENT and (d == shared or k >= 0.70):
                st["raced"] += 1      # a missing name of the random pick, or another's rename
            else:
                err(name, e)
        seq += 1
        now = time.time()
        if now - last > 1:
            save()
            last = now
    save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
