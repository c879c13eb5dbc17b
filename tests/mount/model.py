#!/usr/bin/env python3
"""tests/mount/model.py - random-operation model check of a mounted pool.

    model.py --seed S [--ops N] [--files F] [--every K] TARGET REFERENCE

Runs N random operations (create, pwrite, append, truncate, ftruncate,
rename, unlink, read, held-open writes, fsync) on about F files in two
directories of TARGET, applies the same operations to REFERENCE (a tmpfs
directory: the model of POSIX behaviour), and compares results, errnos,
sizes and contents byte for byte every K operations and at the end.
A few files are kept open across operations, so uncommitted (staged) data,
writes through a descriptor whose file was renamed or unlinked, and commits
on last close are all exercised.

On the first difference it prints the seed, the operation number, the
last operations and what differed, and exits 1. Same seed, same run.
"""
import argparse
import errno
import os
import random
import sys

DIRS = ("", "sub")


class Side:
    def __init__(self, root):
        self.root = root
        self.held = {}          # slot -> fd

    def p(self, rel):
        return os.path.join(self.root, rel)


def call(fn):
    try:
        r = fn()
        return ("ok", r)
    except OSError as e:
        return ("err", errno.errorcode.get(e.errno, e.errno))


class Model:
    def __init__(self, args):
        self.args = args
        self.r = random.Random(args.seed)
        self.t = Side(args.target)
        self.m = Side(args.reference)
        nroot = max(1, args.files * 3 // 4)
        self.names = ["f%02d" % i for i in range(nroot)]
        self.names += ["sub/g%02d" % i for i in range(max(1, args.files - nroot))]
        self.log = []
        self.nops = 0

    # ---- helpers ----
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

    def size_of(self, rel):
        try:
            return os.stat(self.m.p(rel)).st_size
        except OSError:
            return 0

    def both(self, desc, fn):
        """Applies fn(side) to both sides and compares the outcome."""
        self.nops += 1
        self.log.append(desc)
        a = call(lambda: fn(self.t))
        b = call(lambda: fn(self.m))
        if a != b:
            self.fail("operation %s: poolfs gave %r, the model gave %r" % (desc, a, b))
        return b

    def fail(self, msg):
        print("FAIL: model check, seed %d, operation %d: %s"
              % (self.args.seed, self.nops, msg))
        print("  last operations (oldest first):")
        for d in self.log[-25:]:
            print("    " + d)
        print("  reproduce: python3 tests/mount/model.py --seed %d --ops %d --files %d "
              "--every %d TARGET REF" % (self.args.seed, self.args.ops, self.args.files,
                                         self.args.every))
        sys.exit(1)

    # ---- operations ----
    def op_write(self, rel):
        d = self.data()
        off = self.offset(self.size_of(rel))

        def f(s):
            fd = os.open(s.p(rel), os.O_WRONLY | os.O_CREAT, 0o644)
            try:
                return os.pwrite(fd, d, off)
            finally:
                os.close(fd)
        self.both("pwrite %s len=%d off=%d" % (rel, len(d), off), f)

    def op_append(self, rel):
        d = self.data()

        def f(s):
            fd = os.open(s.p(rel), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                return os.write(fd, d)
            finally:
                os.close(fd)
        self.both("append %s len=%d" % (rel, len(d)), f)

    def op_create(self, rel):
        d = self.data() if self.r.random() < 0.7 else b""

        def f(s):
            fd = os.open(s.p(rel), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                return os.write(fd, d) if d else 0
            finally:
                os.close(fd)
        self.both("create/trunc %s len=%d" % (rel, len(d)), f)

    def op_truncate(self, rel):
        size = self.size_of(rel)
        n = self.r.choice((0, size // 2, max(0, size - 1), size + 1,
                           size + self.r.randrange(1, 200000), self.r.randrange(0, 1 << 20)))
        self.both("truncate %s %d" % (rel, n), lambda s: os.truncate(s.p(rel), n))

    def op_rename(self, rel):
        dst = self.r.choice(self.names)
        self.both("rename %s -> %s" % (rel, dst),
                  lambda s: os.rename(s.p(rel), s.p(dst)))

    def op_unlink(self, rel):
        self.both("unlink %s" % rel, lambda s: os.unlink(s.p(rel)))

    def op_read(self, rel):
        off = self.offset(self.size_of(rel))
        n = self.r.choice((1, 4096, 10000, 1 << 20))

        def f(s):
            fd = os.open(s.p(rel), os.O_RDONLY)
            try:
                return os.pread(fd, n, off)
            finally:
                os.close(fd)
        self.both("pread %s len=%d off=%d" % (rel, n, off), f)

    def op_stat(self, rel):
        self.both("stat %s" % rel, lambda s: os.stat(s.p(rel)).st_size)

    # held descriptors: slots 0..2, opened O_RDWR on a name, kept open
    def op_hold(self, rel):
        slot = self.r.randrange(3)
        self.op_release(slot)

        def f(s):
            s.held[slot] = os.open(s.p(rel), os.O_RDWR | os.O_CREAT, 0o644)
            return 0
        self.both("hold[%d] open %s" % (slot, rel), f)

    def op_release(self, slot):
        if slot not in self.m.held and slot not in self.t.held:
            return

        def f(s):
            fd = s.held.pop(slot, None)
            if fd is not None:
                os.close(fd)
            return 0
        self.both("hold[%d] close" % slot, f)

    def op_held(self):
        slots = sorted(self.m.held)
        if not slots:
            return
        slot = self.r.choice(slots)
        k = self.r.random()
        if k < 0.5:
            d = self.data()
            off = self.offset(os.fstat(self.m.held[slot]).st_size)
            self.both("hold[%d] pwrite len=%d off=%d" % (slot, len(d), off),
                      lambda s: os.pwrite(s.held[slot], d, off))
        elif k < 0.65:
            n = self.r.randrange(0, 400000)
            self.both("hold[%d] ftruncate %d" % (slot, n),
                      lambda s: os.ftruncate(s.held[slot], n))
        elif k < 0.75:
            self.both("hold[%d] fsync" % slot, lambda s: os.fsync(s.held[slot]))
        elif k < 0.9:
            n = self.r.choice((4096, 100000, 1 << 20))
            off = self.r.randrange(0, 400000)
            self.both("hold[%d] pread len=%d off=%d" % (slot, n, off),
                      lambda s: os.pread(s.held[slot], n, off))
        else:
            self.both("hold[%d] fstat" % slot, lambda s: os.fstat(s.held[slot]).st_size)

    # ---- comparison ----
    def listing(self, side):
        out = {}
        for d in DIRS:
            base = side.p(d)
            try:
                names = sorted(os.listdir(base))
            except OSError as e:
                out[d] = "listdir: " + errno.errorcode.get(e.errno, str(e.errno))
                continue
            out[d] = [n for n in names if not (d == "" and n == "sub")]
        return out

    def compare(self, why):
        lt, lm = self.listing(self.t), self.listing(self.m)
        if lt != lm:
            self.fail("%s: directory listings differ:\n    poolfs %r\n    model  %r" % (why, lt, lm))
        for d in DIRS:
            for n in lm[d]:
                rel = os.path.join(d, n)
                try:
                    st = os.stat(self.t.p(rel)).st_size
                    with open(self.t.p(rel), "rb") as f:
                        got = f.read()
                except OSError as e:
                    self.fail("%s: reading %s on poolfs: %s" % (why, rel, e))
                with open(self.m.p(rel), "rb") as f:
                    want = f.read()
                if st != len(want):
                    self.fail("%s: stat size of %s is %d, model has %d" % (why, rel, st, len(want)))
                if got != want:
                    n_ = min(len(got), len(want))
                    i = next((i for i in range(n_) if got[i] != want[i]), n_)
                    held = " (a descriptor held open on some file)" if self.m.held else ""
                    self.fail("%s: content of %s differs%s: %d bytes, model %d, first difference at byte %d"
                              % (why, rel, held, len(got), len(want), i))

    def run(self):
        os.makedirs(self.t.p("sub"), exist_ok=True)
        os.makedirs(self.m.p("sub"), exist_ok=True)
        ops = ((self.op_write, 22), (self.op_append, 8), (self.op_create, 6),
               (self.op_truncate, 8), (self.op_rename, 7), (self.op_unlink, 4),
               (self.op_read, 10), (self.op_stat, 4), (self.op_hold, 5), (None, 14),
               (lambda rel: self.op_release(self.r.randrange(3)), 4))
        funcs = [o for o, w in ops for _ in range(w)]
        for i in range(self.args.ops):
            fn = self.r.choice(funcs)
            rel = self.r.choice(self.names)
            if fn is None:
                self.op_held()
            else:
                fn(rel)
            if (i + 1) % self.args.every == 0:
                self.compare("periodic check after %d operations" % (i + 1))
        for slot in range(3):
            self.op_release(slot)
        self.compare("final check")
        print("model check: seed %d, %d operations, contents equal" % (self.args.seed, self.nops))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--ops", type=int, default=3000)
    ap.add_argument("--files", type=int, default=20)
    ap.add_argument("--every", type=int, default=250)
    ap.add_argument("target")
    ap.add_argument("reference")
    args = ap.parse_args()
    print("model check: seed %d (rerun with SEED=%d)" % (args.seed, args.seed), flush=True)
    Model(args).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
