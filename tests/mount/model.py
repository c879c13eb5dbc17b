#!/usr/bin/env python3
"""tests/mount/model.py - random-operation model check of a mounted pool.

    model.py --seed S [--ops N] [--files F] [--every K] [--strict]
             [--no-shrink] [--no-rename] [--compare] TARGET REFERENCE

Runs N random operations (create, pwrite, a few of them across and past
4 GiB, append, truncate, rename, unlink, pread, stat, a MAP_SHARED write
with msync read back by a new descriptor, fsync of a directory, link,
which poolfs refuses (EPERM) where the kernel does not answer first, and
descriptors held open across operations: pwrite, ftruncate, fsync, pread,
fstat through them) on about F files in two
directories of TARGET, applies the same operations to REFERENCE (a tmpfs
directory: the model of POSIX behaviour) and compares results, errnos,
sizes and contents byte for byte every K operations and at the end.

On the first difference it prints the seed and the last operations, then
shrinks the failing run to a short sequence that still fails (replayed in
fresh directories) and prints it, and exits 1. Same seed, same run.

--strict also renames over names that a held descriptor has open: the
descriptor keeps the old file, as POSIX has it (poolfs keeps the target's
inode number for its history, which the model does not compare).
--compare only compares TARGET/run with REFERENCE/run (after a remount).
Files past 16 MiB are compared where the model holds data and at the
edges and middle of each hole.
"""
import argparse
import errno
import hashlib
import mmap
import os
import random
import shutil
import sys
import time

from testutil import first_diff

DIRS = ("", "sub")
NSLOTS = 3
BIG = 16 << 20          # files larger are compared sparsely (compare_file)
G4 = 1 << 32


class Mismatch(Exception):
    pass


def show(r):
    """A result for a message: bytes as length, hash and head."""
    kind, v = r
    if isinstance(v, (bytes, bytearray)):
        return "(%s, %d bytes sha256:%s head %r)" % (
            kind, len(v), hashlib.sha256(v).hexdigest()[:12], bytes(v[:16]))
    return repr(r)


def describe(op):
    k = op[0]
    out = [k]
    for a in op[1:]:
        out.append("<%d bytes>" % len(a) if isinstance(a, bytes) else str(a))
    return " ".join(out)


class Side:
    def __init__(self, root, model=False):
        self.root = root
        self.model = model
        self.held = {}          # slot -> fd

    def p(self, rel):
        return os.path.join(self.root, rel)

    def close_all(self):
        for fd in self.held.values():
            try:
                os.close(fd)
            except OSError:
                pass
        self.held.clear()


def apply(op, s):
    """Runs one operation on one side; returns its result."""
    k = op[0]
    if k == "pwrite":
        _, rel, d, off = op
        fd = os.open(s.p(rel), os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            return os.pwrite(fd, d, off)
        finally:
            os.close(fd)
    if k == "append":
        _, rel, d = op
        fd = os.open(s.p(rel), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            return os.write(fd, d)
        finally:
            os.close(fd)
    if k == "create":
        _, rel, d = op
        fd = os.open(s.p(rel), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            return os.write(fd, d) if d else 0
        finally:
            os.close(fd)
    if k == "truncate":
        return os.truncate(s.p(op[1]), op[2])
    if k == "rename":
        return os.rename(s.p(op[1]), s.p(op[2]))
    if k == "unlink":
        return os.unlink(s.p(op[1]))
    if k == "pread":
        _, rel, n, off = op
        fd = os.open(s.p(rel), os.O_RDONLY)
        try:
            return os.pread(fd, n, off)
        finally:
            os.close(fd)
    if k == "stat":
        return os.stat(s.p(op[1])).st_size
    if k == "mmapw":
        return mmap_write(s.p(op[1]), op[2], op[3])
    if k == "fsyncdir":
        fd = os.open(s.p(op[1]), os.O_RDONLY | os.O_DIRECTORY)
        try:
            return os.fsync(fd)
        finally:
            os.close(fd)
    if k == "link":
        if s.model:
            # poolfs has no hard links (docs/filesystem.md "Hard links"):
            # the model answers as the kernel does before asking it
            os.stat(s.p(op[1]))
            if os.path.lexists(s.p(op[2])):
                raise OSError(errno.EEXIST, "exists")
            raise OSError(errno.EPERM, "no hard links")
        return os.link(s.p(op[1]), s.p(op[2]))
    if k == "hold":
        _, slot, rel = op
        old = s.held.pop(slot, None)
        if old is not None:
            os.close(old)
        s.held[slot] = os.open(s.p(rel), os.O_RDWR | os.O_CREAT, 0o644)
        return 0
    if k == "release":
        fd = s.held.pop(op[1], None)
        if fd is not None:
            os.close(fd)
        return 0
    fd = s.held.get(op[1])
    if fd is None:
        return "not held"
    if k == "hpwrite":
        return os.pwrite(fd, op[2], op[3])
    if k == "hftruncate":
        return os.ftruncate(fd, op[2])
    if k == "hfsync":
        return os.fsync(fd)
    if k == "hpread":
        return os.pread(fd, op[2], op[3])
    if k == "hfstat":
        return os.fstat(fd).st_size
    raise ValueError(k)


def mmap_write(path, d, off):
    """Writes d at off (inside the file) through MAP_SHARED, msync, unmap
    and close; returns the range as a new descriptor reads it back."""
    fd = os.open(path, os.O_RDWR)
    try:
        size = os.fstat(fd).st_size
        if size == 0:
            return "empty"
        off %= size
        d = d[:size - off]
        base = off - off % mmap.ALLOCATIONGRANULARITY
        m = mmap.mmap(fd, off + len(d) - base, offset=base)
        m[off - base:off - base + len(d)] = d
        m.flush()
        m.close()
    finally:
        os.close(fd)
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.pread(fd, len(d), off)
    finally:
        os.close(fd)


def call(op, side):
    try:
        return ("ok", apply(op, side))
    except OSError as e:
        return ("err", errno.errorcode.get(e.errno, e.errno))


def extents(fd, size):
    """The model file's data ranges (tmpfs answers SEEK_DATA/SEEK_HOLE)."""
    out, off = [], 0
    while off < size:
        try:
            start = os.lseek(fd, off, os.SEEK_DATA)
        except OSError as e:
            if e.errno == errno.ENXIO:
                break
            raise
        end = os.lseek(fd, start, os.SEEK_HOLE)
        out.append((start, end))
        off = end
    return out


def compare_file(tpath, mpath):
    """None when the target file has the model's size and bytes, else why.
    A file past BIG is compared where the model holds data, and at both
    ends and the middle of each hole: reading 4 GiB of zeros through FUSE
    at every comparison would make the run take hours."""
    try:
        st = os.stat(tpath).st_size
        tfd = os.open(tpath, os.O_RDONLY)
    except OSError as e:
        return "reading on poolfs: %s" % e
    mfd = os.open(mpath, os.O_RDONLY)
    try:
        size = os.fstat(mfd).st_size
        if st != size:
            return "stat size is %d, model %d" % (st, size)
        if size <= BIG:
            ranges = [(0, size)]
        else:
            data = extents(mfd, size)
            ranges, prev = list(data), 0
            for a, b in data + [(size, size)]:
                if a > prev:
                    mid = (prev + a) // 2
                    ranges += [(prev, min(a, prev + 4096)), (max(prev, a - 4096), a),
                               (mid, min(a, mid + 4096))]
                prev = b
        for a, b in sorted(ranges):
            off = a
            while off < b:
                n = min(b - off, 1 << 20)
                got, want = os.pread(tfd, n, off), os.pread(mfd, n, off)
                if got != want:
                    return ("content differs at +%d (read %d bytes there, model %d)"
                            % (off + first_diff(got, want), len(got), len(want)))
                off += n
        return None
    finally:
        os.close(tfd)
        os.close(mfd)


class Run:
    """Applies operations to a target and a model directory, comparing."""

    def __init__(self, tdir, mdir):
        self.t = Side(tdir)
        self.m = Side(mdir, model=True)
        for s in (self.t, self.m):
            os.makedirs(s.p("sub"), exist_ok=True)
        self.done = []

    def step(self, op):
        self.done.append(op)
        if op[0] == "compare":
            return self.compare()
        a, b = call(op, self.t), call(op, self.m)
        if a != b:
            extra = ""
            if isinstance(a[1], bytes) and isinstance(b[1], bytes):
                extra = "; first difference at +%d" % first_diff(a[1], b[1])
            raise Mismatch("%s: poolfs gave %s, the model gave %s%s"
                           % (describe(op), show(a), show(b), extra))
        return b

    def listing(self, side):
        out = {}
        for d in DIRS:
            try:
                names = sorted(os.listdir(side.p(d)))
            except OSError as e:
                out[d] = "listdir: " + errno.errorcode.get(e.errno, str(e.errno))
                continue
            out[d] = [n for n in names if not (d == "" and n == "sub")]
        return out

    def compare(self):
        lt, lm = self.listing(self.t), self.listing(self.m)
        if lt != lm:
            raise Mismatch("directory listings differ:\n    poolfs %r\n    model  %r" % (lt, lm))
        held = " (descriptors held open)" if self.m.held else ""
        for d in DIRS:
            for n in lm[d]:
                why = compare_file(self.t.p(os.path.join(d, n)), self.m.p(os.path.join(d, n)))
                if why:
                    raise Mismatch("%s/%s: %s%s" % (d, n, why, held))
        return None

    def finish(self):
        for slot in range(NSLOTS):
            self.step(("release", slot))
        self.compare()

    def close(self):
        self.t.close_all()
        self.m.close_all()


class Generator:
    """Draws the random operations; sizes come from the model side."""

    def __init__(self, args):
        self.args = args
        self.r = random.Random(args.seed)
        nroot = max(1, args.files * 3 // 4)
        self.names = ["f%02d" % i for i in range(nroot)]
        self.names += ["sub/g%02d" % i for i in range(max(1, args.files - nroot))]
        self.held_name = {}

    def data(self):
        r = self.r
        k = r.random()
        if k < 0.3:
            n = r.randrange(1, 16)
        elif k < 0.8:
            n = r.randrange(1, 9000)
        else:
            n = r.randrange(1, 300000)
        return r.randbytes(n)

    def offset(self, size):
        r = self.r
        k = r.random()
        if k < 0.4:
            return r.randrange(0, size + 1)
        if k < 0.6:
            return max(0, (r.randrange(0, size + 4096) // 4096) * 4096 + r.choice((-1, 0, 1)))
        if k < 0.9:
            return r.randrange(0, size + 70000)
        return r.randrange(0, 3 << 20)        # holes

    def next(self, run):
        r = self.r
        k = r.random()
        rel = r.choice(self.names)

        def size(rel):
            try:
                return os.stat(run.m.p(rel)).st_size
            except OSError:
                return 0
        if k < 0.22:
            d = self.data()
            if r.random() < 0.02:       # across and past 4 GiB: sparse
                return ("pwrite", rel, d, G4 + r.randrange(-70000, 1 << 30))
            return ("pwrite", rel, d, self.offset(size(rel)))
        if k < 0.30:
            return ("append", rel, self.data())
        if k < 0.36:
            return ("create", rel, self.data() if r.random() < 0.7 else b"")
        if k < 0.44:
            s = size(rel)
            return ("truncate", rel, r.choice((0, s // 2, max(0, s - 1), s + 1,
                                               s + r.randrange(1, 200000), r.randrange(0, 1 << 20))))
        if k < 0.51:
            dst = r.choice(self.names)
            if self.args.no_rename:
                return None
            if dst != rel and dst in self.held_name.values() and not self.args.strict:
                return None
            for slot, n in list(self.held_name.items()):
                if n == dst and dst != rel:
                    self.held_name[slot] = None
                elif n == rel:
                    self.held_name[slot] = dst
            return ("rename", rel, dst)
        if k < 0.55:
            for slot, n in list(self.held_name.items()):
                if n == rel:
                    self.held_name[slot] = None
            return ("unlink", rel)
        if k < 0.65:
            return ("pread", rel, r.choice((1, 4096, 10000, 1 << 20)), self.offset(size(rel)))
        if k < 0.69:
            k = r.random()
            if k < 0.5:
                return ("stat", rel)
            if k < 0.8:
                return ("mmapw", rel, self.data()[:70000], r.randrange(0, 1 << 40))
            if k < 0.9:
                return ("fsyncdir", r.choice(DIRS) or ".")
            return ("link", rel, r.choice(self.names))
        if k < 0.74:
            slot = r.randrange(NSLOTS)
            self.held_name[slot] = rel
            return ("hold", slot, rel)
        if k < 0.78:
            slot = r.randrange(NSLOTS)
            self.held_name.pop(slot, None)
            return ("release", slot)
        slots = sorted(run.m.held)
        if not slots:
            return None
        slot = r.choice(slots)
        k = r.random()
        if k < 0.5:
            d = self.data()
            return ("hpwrite", slot, d, self.offset(os.fstat(run.m.held[slot]).st_size))
        if k < 0.65:
            return ("hftruncate", slot, r.randrange(0, 400000))
        if k < 0.75:
            return ("hfsync", slot)
        if k < 0.9:
            return ("hpread", slot, r.choice((4096, 100000, 1 << 20)), r.randrange(0, 400000))
        return ("hfstat", slot)


def replay(ops, tbase, mbase, n):
    """Replays ops in fresh directories; returns the mismatch or None."""
    tdir, mdir = os.path.join(tbase, "shrink%d" % n), os.path.join(mbase, "shrink%d" % n)
    run = Run(tdir, mdir)
    try:
        for op in ops:
            run.step(op)
        run.finish()
        return None
    except Mismatch as e:
        return str(e)
    finally:
        run.close()
        for d in (tdir, mdir):
            shutil.rmtree(d, ignore_errors=True)


def shrink(ops, tbase, mbase, budget):
    """Greedy delta debugging: drop chunks while the run still fails."""
    deadline = time.time() + budget
    n = [0]

    def fails(c):
        n[0] += 1
        return replay(c, tbase, mbase, n[0]) is not None
    if not fails(ops):
        return None, n[0]
    chunk = max(1, len(ops) // 2)
    while chunk >= 1 and time.time() < deadline:
        i = 0
        changed = False
        while i < len(ops) and time.time() < deadline:
            cand = ops[:i] + ops[i + chunk:]
            if cand and fails(cand):
                ops = cand
                changed = True
            else:
                i += chunk
        if not changed:
            chunk //= 2
    return ops, n[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--ops", type=int, default=3000)
    ap.add_argument("--files", type=int, default=20)
    ap.add_argument("--every", type=int, default=250)
    ap.add_argument("--strict", action="store_true")
    ap.add_argument("--no-shrink", action="store_true")
    ap.add_argument("--no-rename", action="store_true",
                    help="leave renames out (to look past a known rename bug)")
    ap.add_argument("--shrink-seconds", type=int, default=90)
    ap.add_argument("--compare", action="store_true",
                    help="only compare TARGET/run with REFERENCE/run (after a remount)")
    ap.add_argument("target")
    ap.add_argument("reference")
    a = ap.parse_args()
    tdir, mdir = os.path.join(a.target, "run"), os.path.join(a.reference, "run")
    run = Run(tdir, mdir)
    if a.compare:
        try:
            run.compare()
        except Mismatch as e:
            print("FAIL: %s" % e)
            return 1
        print("model check: %s equals the model" % tdir)
        return 0
    print("model check: seed %d (rerun with SEED=%d)" % (a.seed, a.seed), flush=True)
    gen = Generator(a)
    i = 0
    try:
        while i < a.ops:
            op = gen.next(run)
            if op is None:
                continue
            i += 1
            run.step(op)
            if i % a.every == 0:
                run.step(("compare",))
        run.finish()
    except Mismatch as e:
        run.close()
        print("FAIL: model check, seed %d, operation %d: %s" % (a.seed, len(run.done), e))
        print("  last operations (oldest first):")
        for op in run.done[-20:]:
            print("    " + describe(op))
        print("  reproduce: python3 tests/mount/model.py --seed %d --ops %d --files %d --every %d%s TARGET REF"
              % (a.seed, a.ops, a.files, a.every, " --strict" if a.strict else ""))
        if not a.no_shrink:
            ops = [op for op in run.done if op[0] != "compare"]
            small, tries = shrink(ops, a.target, a.reference, a.shrink_seconds)
            if small is None:
                print("  shrinking: the replayed run did not fail again (timing-dependent?)")
            else:
                why = replay(small, a.target, a.reference, 0)
                print("  shrunk to %d operations (%d replays in fresh directories; files f*, sub/g*;"
                      " then all descriptors are closed and everything is compared):" % (len(small), tries))
                for op in small:
                    print("    " + describe(op))
                print("  which fails with: %s" % why)
        return 1
    run.close()
    print("model check: seed %d, %d operations, contents equal" % (a.seed, len(run.done)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
