#!/usr/bin/env python3
"""tests/mount/backupload.py - the write load of t_backup.sh, and its check.

    backupload.py run DIR N STOPFILE LOG
        N writers; writer i rewrites DIR/w<i> with content(i, k), k = 0, 1,
        ... and fsync()s it (a commit: version k + 1). Only once fsync()
        returned, i.e. the writer was told the version is committed, it
        appends "w<i> <k>" to LOG (flushed). Stops when STOPFILE exists.

    backupload.py check DIR N LOG CUT
        DIR is a mount of the restored pool. Every version v of every
        DIR/w<i> must be content(i, v - 1) byte for byte, the current file
        the last version, and every commit acknowledged in the first CUT
        lines of LOG (before the backup began) must be there.
"""
import os
import random
import sys
import threading
import time


def content(i, k):
    r = random.Random(i * 1000003 + k)
    return r.randbytes(r.randint(1, 150000))


def writer(d, i, stop, log, lock):
    path = os.path.join(d, "w%d" % i)
    k = 0
    while not os.path.exists(stop):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, content(i, k))
            os.fsync(fd)
        finally:
            os.close(fd)
        with lock:
            log.write("w%d %d\n" % (i, k))
            log.flush()
        k += 1
        time.sleep(0.01)


def run(d, n, stop, logpath):
    lock = threading.Lock()
    with open(logpath, "w") as log:
        ts = [threading.Thread(target=writer, args=(d, i, stop, log, lock)) for i in range(n)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    return 0


def check(d, n, logpath, cut):
    fails = 0
    acked = {}
    with open(logpath) as f:
        for line in f.readlines()[:cut]:
            name, k = line.split()
            acked[name] = max(acked.get(name, -1), int(k))
    for i in range(n):
        name = "w%d" % i
        vdir = os.path.join(d, ".versions", name)
        try:
            versions = sorted(int(v) for v in os.listdir(vdir))
        except OSError as e:
            if name in acked:
                print("FAIL: %s: no versions in the restored pool (%s)" % (name, e))
                fails += 1
            continue
        if versions != list(range(1, len(versions) + 1)):
            print("FAIL: %s: versions %s are not 1..%d" % (name, versions, len(versions)))
            fails += 1
        for v in versions:
            with open(os.path.join(vdir, str(v)), "rb") as f:
                if f.read() != content(i, v - 1):
                    print("FAIL: %s version %d differs from what was written" % (name, v))
                    fails += 1
        if versions:
            with open(os.path.join(d, name), "rb") as f:
                if f.read() != content(i, versions[-1] - 1):
                    print("FAIL: %s: current content is not version %d" % (name, versions[-1]))
                    fails += 1
        want = acked.get(name, -1) + 1
        if len(versions) < want:
            print("FAIL: %s: %d versions restored, but %d were committed before the backup"
                  % (name, len(versions), want))
            fails += 1
        print("  %s: %d versions restored, %d acknowledged before the backup" %
              (name, len(versions), want))
    return 1 if fails else 0


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "run":
        return run(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
    if len(sys.argv) == 6 and sys.argv[1] == "check":
        return check(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
