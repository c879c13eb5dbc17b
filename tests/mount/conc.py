#!/usr/bin/env python3
"""tests/mount/conc.py - pieces of the concurrent-writers test.

    conc.py own DIR ID SIZE        write DIR/own-ID (gen.py seed 1000+ID) in
                                   random-sized pieces, fsync halfway
    conc.py append FILE ID COUNT   append COUNT records "ID SEQ payload\\n",
                                   each with one write() on an O_APPEND fd;
                                   reopen every 50 records
    conc.py stripe FILE ID NSTRIPES STRIPE
                                   open FILE (no truncation) and pwrite
                                   stripe ID of the shared file
    conc.py verify-own DIR ID SIZE
    conc.py verify-append FILE NWRITERS COUNT
    conc.py verify-stripes FILE NSTRIPES STRIPE
    conc.py round DIR NOWN SIZE NWRITERS COUNT NSTRIPES STRIPE
                                   one round of all three in DIR (DIR/own-*,
                                   DIR/log, DIR/striped), each writer a
                                   forked child, started together; exit 1
                                   when any writer failed
    conc.py verify-all DIR NOWN SIZE NWRITERS COUNT NSTRIPES STRIPE
                                   all three of DIR's files in one process
                                   (a start of python costs ~0.3 s of CPU
                                   here); exit status: bit 1 own files,
                                   bit 2 DIR/log, bit 4 DIR/striped
Writers start together at a barrier file DIR/go (or FILE.go).
"""
import os
import random
import sys
import time


def content(seed, size):
    return random.Random(seed).randbytes(size)


def record(wid, seq):
    pad = ("%d-%d|" % (wid, seq)) * (1 + (wid * 7 + seq) % 23)
    return ("%d %d %s\n" % (wid, seq, pad)).encode()


def barrier(path):
    deadline = time.time() + 60
    while not os.path.exists(path) and time.time() < deadline:
        time.sleep(0.01)


def own(d, wid, size):
    barrier(os.path.join(d, "go"))
    data = content(1000 + wid, size)
    r = random.Random(wid)
    fd = os.open(os.path.join(d, "own-%d" % wid), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    off = 0
    synced = False
    while off < size:
        n = r.choice((1, 100, 4096, 65536, 200000, 1 << 20))
        off += os.write(fd, data[off:off + n])
        if not synced and off >= size // 2:
            os.fsync(fd)
            synced = True
    os.close(fd)


def append(path, wid, count):
    barrier(path + ".go")
    fd = None
    for seq in range(count):
        if seq % 50 == 0:
            if fd is not None:
                os.close(fd)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        rec = record(wid, seq)
        n = os.write(fd, rec)
        if n != len(rec):
            print("FAIL: writer %d: short append %d of %d" % (wid, n, len(rec)))
            sys.exit(1)
    os.close(fd)


def stripe(path, wid, nstripes, sz):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    barrier(path + ".go")
    data = content(2000 + wid, sz)
    for off in range(0, sz, 32768):
        os.pwrite(fd, data[off:off + 32768], wid * sz + off)
    os.close(fd)


def verify_own(d, wid, size):
    with open(os.path.join(d, "own-%d" % wid), "rb") as f:
        got = f.read()
    want = content(1000 + wid, size)
    if got != want:
        n = min(len(got), len(want))
        i = next((i for i in range(n) if got[i] != want[i]), n)
        print("FAIL: own-%d: %d bytes, want %d, first difference at %d" % (wid, len(got), len(want), i))
        return 1
    return 0


def verify_append(path, nw, count):
    with open(path, "rb") as f:
        data = f.read()
    want_len = sum(len(record(w, s)) for w in range(nw) for s in range(count))
    bad = 0
    if len(data) != want_len:
        print("FAIL: appended file has %d bytes, want %d" % (len(data), want_len))
        bad += 1
    nxt = [0] * nw
    for ln, line in enumerate(data.split(b"\n")[:-1]):
        try:
            w, s, _ = line.split(b" ", 2)
            w, s = int(w), int(s)
            ok = 0 <= w < nw and record(w, s) == line + b"\n"
        except ValueError:
            ok = False
        if not ok:
            print("FAIL: line %d is torn or interleaved: %r" % (ln + 1, line[:80]))
            return 1
        if s != nxt[w]:
            print("FAIL: line %d: writer %d record %d, expected record %d (lost or reordered)"
                  % (ln + 1, w, s, nxt[w]))
            return 1
        nxt[w] += 1
    if nxt != [count] * nw:
        print("FAIL: records per writer %r, want %d each" % (nxt, count))
        bad += 1
    return 1 if bad else 0


def verify_stripes(path, nstripes, sz):
    with open(path, "rb") as f:
        got = f.read()
    want = b"".join(content(2000 + w, sz) for w in range(nstripes))
    if got != want:
        n = min(len(got), len(want))
        i = next((i for i in range(n) if got[i] != want[i]), n)
        print("FAIL: striped file: %d bytes, want %d, first difference at %d (stripe %d)"
              % (len(got), len(want), i, i // sz))
        return 1
    return 0


def run_round(d, nown, size, nw, count, nstripes, sz):
    """Forked, not started: a start of python costs ~0.3 s of CPU here."""
    log, striped = os.path.join(d, "log"), os.path.join(d, "striped")
    for go in ("go", "log.go", "striped.go"):
        try:
            os.unlink(os.path.join(d, go))
        except FileNotFoundError:
            pass
    work = [(own, (d, w, size)) for w in range(nown)]
    work += [(append, (log, w, count)) for w in range(nw)]
    work += [(stripe, (striped, w, nstripes, sz)) for w in range(nstripes)]
    pids = []
    for fn, args in work:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                fn(*args)
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
            except BaseException as e:
                print("FAIL: %s%r: %s" % (fn.__name__, args, e))
            sys.stdout.flush()
            os._exit(code)
        pids.append((pid, fn.__name__))
    time.sleep(0.5)
    for go in ("go", "log.go", "striped.go"):
        open(os.path.join(d, go), "w").close()
    rc = 0
    for pid, name in pids:
        _, status = os.waitpid(pid, 0)
        if status:
            print("FAIL: %s writer %d exited with status %#x" % (name, pid, status))
            rc = 1
    return rc


def verify_all(d, nown, size, nw, count, nstripes, sz):
    checks = [(1, verify_own, (d, wid, size)) for wid in range(nown)]
    checks += [(2, verify_append, (os.path.join(d, "log"), nw, count)),
               (4, verify_stripes, (os.path.join(d, "striped"), nstripes, sz))]
    rc = 0
    for bit, fn, args in checks:
        try:
            bad = fn(*args)
        except OSError as e:
            print("FAIL: %s%r: %s" % (fn.__name__, args, e))
            bad = 1
        if bad:
            rc |= bit
    return rc


def main(a):
    op = a[0]
    if op == "own":
        own(a[1], int(a[2]), int(a[3]))
    elif op == "append":
        append(a[1], int(a[2]), int(a[3]))
    elif op == "stripe":
        stripe(a[1], int(a[2]), int(a[3]), int(a[4]))
    elif op == "verify-own":
        return verify_own(a[1], int(a[2]), int(a[3]))
    elif op == "verify-append":
        return verify_append(a[1], int(a[2]), int(a[3]))
    elif op == "verify-stripes":
        return verify_stripes(a[1], int(a[2]), int(a[3]))
    elif op == "round":
        return run_round(a[1], *map(int, a[2:8]))
    elif op == "verify-all":
        return verify_all(a[1], *map(int, a[2:8]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
