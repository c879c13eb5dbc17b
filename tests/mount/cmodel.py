#!/usr/bin/env python3
"""tests/mount/cmodel.py - model check of several processes and handles at once.

    cmodel.py --seed S [--ops N] [--procs P] [--files F] [--crash-fifo DIR]
              [--crash-every K] TARGET

P worker processes (fork) each hold up to 4 descriptors. The controller
draws every step from one seeded generator and tells one worker what to
do, or, for a burst, several workers at once; so a run is the same run
for the same seed, except for what bursts make truly concurrent (their
outcome is checked against every order the model allows).

What is modelled (DESIGN.md "Writes and versions", docs/filesystem.md
"Versions and commits"), per file:
  committed   the current version's bytes;
  stage       the bytes all writable handles share, None when there is none;
  acked       the newest content the daemon acknowledged as durable: a
              commit made by fsync() returning 0 on a writable handle, by
              close() of the last writable handle after it wrote, by a path
              truncate() with no writer open, by rename() of the file
              (pending writes are committed first);
  candidates  every later stage content (a commit the caller was not told
              of may have made any of them durable).
Descriptors: a writable one reads and writes the stage; a read-only one
opened while nobody writes keeps the version it opened, whatever is
written, committed, renamed over or unlinked later; one opened while the
file is open for writing follows it (the stage, then each commit) until a
new writing begins after all writers closed, and from then keeps what it
saw (filesystem.md, fs/kinode.h). After rename over or unlink the old
file's descriptors keep it privately.

Steps: open (r, w, rw, O_APPEND, O_TRUNC), pwrite, append, pread, fstat,
ftruncate, fsync and close on descriptors; create, pwrite, truncate,
rename (also over open files), unlink, whole reads, stat and listings by
path; bursts of 2-4 concurrent appenders on one file (every record lands
whole, exactly once, in its writer's order), a concurrent writer and
truncater (the result is one of the serial orders); with --crash-fifo,
kill -9 of the daemon and a remount at random points, after which every
file must be its acknowledged content or a later candidate, and every
name created, renamed or unlinked must be as the model says.
After every step the bytes read are compared; every --check-every steps
every file is read whole by path and compared.

On a failure it prints the seed, the last steps and how to rerun, exits 1.
"""
import argparse
import errno
import hashlib
import itertools
import os
import pickle
import random
import shutil
import struct
import sys
import time

from testutil import first_diff

DIRS = ("", "sub")
SLOTS = 4
MAXSIZE = 600000


class Mismatch(Exception):
    pass


def h(b):
    return hashlib.sha256(bytes(b)).hexdigest()[:16]


def ename(e):
    return errno.errorcode.get(e, str(e))


# ---- workers --------------------------------------------------------------

def send(fd, obj):
    b = pickle.dumps(obj)
    os.write(fd, struct.pack("<I", len(b)))
    view = memoryview(b)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def recv(fd):
    def exact(n):
        buf = b""
        while len(buf) < n:
            c = os.read(fd, n - len(buf))
            if not c:
                raise EOFError
            buf += c
        return buf
    (n,) = struct.unpack("<I", exact(4))
    return pickle.loads(exact(n))


def pread_all(fd, n, off):
    out = b""
    while len(out) < n:
        c = os.pread(fd, n - len(out), off + len(out))
        if not c:
            break
        out += c
    return out


def read_path(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        return pread_all(fd, 1 << 30, 0)
    finally:
        os.close(fd)


def wop(fds, root, op):
    """One operation in a worker; returns its value or raises OSError."""
    k = op[0]
    p = lambda rel: os.path.join(root, rel)
    if k == "open":
        _, slot, rel, flags = op
        fds[slot] = os.open(p(rel), flags, 0o644)
        return 0
    if k == "close":
        fd = fds.pop(op[1])
        os.close(fd)
        return 0
    if k == "dropall":
        for fd in fds.values():
            try:
                os.close(fd)
            except OSError:
                pass
        fds.clear()
        return 0
    if k == "write":
        return os.write(fds[op[1]], op[2])
    if k == "pwrite":
        return os.pwrite(fds[op[1]], op[2], op[3])
    if k == "pread":
        return pread_all(fds[op[1]], op[2], op[3])
    if k == "fstat":
        return os.fstat(fds[op[1]]).st_size
    if k == "ftruncate":
        return os.ftruncate(fds[op[1]], op[2])
    if k == "fsync":
        return os.fsync(fds[op[1]])
    if k == "ppwrite":
        fd = os.open(p(op[1]), os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            return os.pwrite(fd, op[2], op[3])
        finally:
            os.close(fd)
    if k == "truncate":
        return os.truncate(p(op[1]), op[2])
    if k == "rename":
        return os.rename(p(op[1]), p(op[2]))
    if k == "unlink":
        return os.unlink(p(op[1]))
    if k == "read":
        return read_path(p(op[1]))
    if k == "stat":
        return os.stat(p(op[1])).st_size
    if k == "appender":
        # a burst member: open O_APPEND, append the records, close
        _, rel, recs = op
        fd = os.open(p(rel), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            for r in recs:
                n = os.write(fd, r)
                if n != len(r):
                    raise OSError(errno.EIO, "short append %d of %d" % (n, len(r)))
        finally:
            os.close(fd)
        return len(recs)
    if k == "seq":
        # a burst member: several operations on held descriptors, in order
        return [wop(fds, root, o) for o in op[1]]
    raise ValueError(k)


def worker(root, rfd, wfd):
    fds = {}
    while True:
        try:
            op = recv(rfd)
        except EOFError:
            os._exit(0)
        if op is None:
            os._exit(0)
        try:
            res = ("ok", wop(fds, root, op))
        except OSError as e:
            res = ("err", ename(e.errno))
        except Exception as e:       # a bug in the model, not in poolfs
            res = ("bug", repr(e))
        send(wfd, res)


class Worker:
    def __init__(self, root):
        r1, w1 = os.pipe()
        r2, w2 = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(w1)
            os.close(r2)
            worker(root, r1, w2)
        os.close(r1)
        os.close(w2)
        self.wfd, self.rfd = w1, r2

    def start(self, op):
        send(self.wfd, op)

    def wait(self):
        res = recv(self.rfd)
        if res[0] == "bug":
            raise RuntimeError("worker: " + res[1])
        return res

    def do(self, op):
        self.start(op)
        return self.wait()

    def stop(self):
        try:
            send(self.wfd, None)
        except OSError:
            pass
        os.waitpid(self.pid, 0)


# ---- the model ------------------------------------------------------------

class MFile:
    ids = itertools.count(1)

    def __init__(self, data=b""):
        self.id = next(MFile.ids)
        self.committed = bytes(data)
        self.stage = None
        self.writers = 0
        self.wrote = False       # a write() since the last commit
        self.acked = h(data)
        self.cands = set()
        self.gone = False        # unlinked or renamed over

    def content(self):
        return bytes(self.stage) if self.stage is not None else self.committed

    def ensure(self):
        if self.stage is None:
            self.stage = bytearray(self.committed)

    def changed(self):
        if not self.gone:
            self.cands.add(h(self.stage))

    def commit(self, ack):
        if self.stage is not None:
            self.committed = bytes(self.stage)
            self.stage = None
        self.wrote = False
        if self.gone:
            return
        if ack:
            self.acked = h(self.committed)
            self.cands = set()
        else:
            self.cands.add(h(self.committed))

    def write(self, data, off):
        self.ensure()
        if off > len(self.stage):
            self.stage.extend(b"\0" * (off - len(self.stage)))
        self.stage[off:off + len(data)] = data
        self.wrote = True
        self.changed()

    def truncate(self, n):
        self.ensure()
        if n < len(self.stage):
            del self.stage[n:]
        else:
            self.stage.extend(b"\0" * (n - len(self.stage)))
        self.changed()


class MHandle:
    def __init__(self, f, mode, recent):
        self.f = f
        self.writable = mode != "r"
        self.append = mode == "a"
        self.readable = mode in ("r", "rw", "t")
        self.mode = mode
        self.version = None
        self.follow = False
        self.alts = []
        self.maybe_follow = False
        if not self.writable:
            self.version = f.committed
            # opened while the file is open for writing: it follows the writing
            self.follow = f.stage is not None or f.writers > 0
            # a writer's release may still be on its way: then it follows
            self.maybe_follow = recent

    def keep(self, recent):
        """A new writing begins: a reader that followed keeps what it sees
        (fs/kinode.h); unless the daemon has not had the last writer's
        release yet, and it follows on."""
        if self.writable:
            return
        if self.follow:
            self.follow = False
            self.version = self.f.committed
            self.maybe_follow = recent
        elif self.maybe_follow:
            # it may have been following until now
            self.alts.append(self.f.committed)

    def view(self):
        f = self.f
        if self.writable or self.follow:
            return f.content()
        return self.version

    def views(self):
        """What a read may see: its version, or what a follower sees."""
        v = [self.view()] + self.alts
        if not self.writable and not self.follow and self.maybe_follow:
            v.append(self.f.content())
        return v


FLAGS = {
    "r": os.O_RDONLY,
    "w": os.O_WRONLY | os.O_CREAT,
    "rw": os.O_RDWR | os.O_CREAT,
    "a": os.O_WRONLY | os.O_APPEND | os.O_CREAT,
    "t": os.O_RDWR | os.O_CREAT | os.O_TRUNC,
}


class Model:
    def __init__(self, args, root):
        self.a = args
        self.root = root
        self.r = random.Random(args.seed)
        nroot = max(1, args.files * 3 // 4)
        self.names = ["f%02d" % i for i in range(nroot)]
        self.names += ["sub/g%02d" % i for i in range(max(1, args.files - nroot))]
        self.files = {}          # name -> MFile
        self.handles = {}        # (worker, slot) -> MHandle
        self.recent = {}         # MFile id -> step of its last writable close
        self.step_no = 0
        self.log = []
        self.counts = {}
        self.crashes = 0
        self.workers = [Worker(root) for _ in range(args.procs)]

    # -- plumbing --
    def note(self, w, op, res):
        ctx = ""
        if op[0] in ("close", "write", "pwrite", "pread", "fstat", "ftruncate", "fsync") \
                and (w, op[1]) in self.handles:
            hd = self.handles[(w, op[1])]
            ctx = " [%s, %s #%d]" % (self.where(hd.f), hd.mode, hd.f.id)
        elif op[0] == "open":
            ctx = " [%s]" % [k for k, v in FLAGS.items() if v == op[3]][0]
        self.log.append("%d w%s %s%s -> %s" % (self.step_no, w, describe(op), ctx, show(res)))
        if self.a.trace:
            print("  " + self.log[-1], flush=True)
        if len(self.log) > 40:
            del self.log[:-40]

    def run(self, w, op):
        res = self.workers[w].do(op)
        self.note(w, op, res)
        return res

    def expect(self, w, op, want):
        got = self.run(w, op)
        if got != want:
            raise Mismatch("%s by worker %d: poolfs gave %s, the model %s"
                           % (describe(op), w, show(got), show(want)))
        return got

    def data(self, maxn=None):
        r = self.r
        k = r.random()
        n = r.randrange(1, 16) if k < 0.3 else r.randrange(1, 9000) if k < 0.85 else r.randrange(1, 140000)
        if maxn:
            n = min(n, maxn)
        return r.randbytes(n)

    def offset(self, size):
        r = self.r
        k = r.random()
        if k < 0.5:
            return r.randrange(0, size + 1)
        if k < 0.8:
            return max(0, (r.randrange(0, size + 4096) // 4096) * 4096 + r.choice((-1, 0, 1)))
        return r.randrange(0, size + 70000)

    def new_writing(self, f):
        """A writer opens f, or a truncate by path: when nobody writes it,
        readers that followed the last writing keep what they see."""
        if f is None or f.writers:
            return
        recent = self.recent.get(f.id, -99) >= self.step_no - 3
        for hd in self.handles.values():
            if hd.f is f:
                hd.keep(recent)

    def free_slot(self, w):
        free = [s for s in range(SLOTS) if (w, s) not in self.handles]
        return self.r.choice(free) if free else None

    # -- steps --
    def step(self):
        self.step_no += 1
        r = self.r
        k = r.random()
        held = sorted(self.handles)
        if k < 0.17:
            kind = self.s_open()
        elif k < 0.50 and held:
            kind = self.s_handle(r.choice(held))
        elif k < 0.58 and held:
            kind = self.s_close(r.choice(held))
        elif k < 0.64:
            kind = self.s_ppwrite()
        elif k < 0.68:
            kind = self.s_truncate()
        elif k < 0.74:
            kind = self.s_rename()
        elif k < 0.77:
            kind = self.s_unlink()
        elif k < 0.87:
            kind = self.s_read()
        elif k < 0.90:
            kind = self.s_list()
        elif k < 0.94:
            kind = self.s_appenders()
        elif k < 0.97:
            kind = self.s_write_truncate()
        else:
            kind = self.s_read()
        self.counts[kind] = self.counts.get(kind, 0) + 1

    def s_open(self):
        r = self.r
        w = r.randrange(len(self.workers))
        slot = self.free_slot(w)
        if slot is None:
            return self.s_close(r.choice([k for k in self.handles if k[0] == w]))
        name = r.choice(self.names)
        mode = r.choice(("r", "r", "r", "w", "rw", "rw", "a", "t"))
        f = self.files.get(name)
        op = ("open", slot, name, FLAGS[mode])
        if f is None and mode == "r":
            self.expect(w, op, ("err", "ENOENT"))
            return "open"
        if mode != "r":
            self.new_writing(f)
        self.expect(w, op, ("ok", 0))
        if f is None:
            f = self.files[name] = MFile()
        if mode != "r":
            f.ensure()
            f.writers += 1
        if mode == "t":
            f.truncate(0)
        recent = self.recent.get(f.id, -99) >= self.step_no - 3
        self.handles[(w, slot)] = MHandle(f, mode, recent)
        return "open-" + mode

    def s_handle(self, key):
        w, slot = key
        hd = self.handles[key]
        f = hd.f
        r = self.r
        k = r.random()
        if hd.writable and k < 0.45:
            d = self.data()
            if hd.append:
                self.expect(w, ("write", slot, d), ("ok", len(d)))
                f.ensure()
                f.write(d, len(f.stage))
                return "h-append"
            size = len(f.content())
            off = self.offset(size)
            if off + len(d) > MAXSIZE:
                off = r.randrange(0, max(1, MAXSIZE - len(d)))
            self.expect(w, ("pwrite", slot, d, off), ("ok", len(d)))
            f.write(d, off)
            return "h-pwrite"
        if hd.writable and k < 0.55:
            n = r.choice((0, len(f.content()) // 2, len(f.content()) + r.randrange(1, 9000)))
            self.expect(w, ("ftruncate", slot, min(n, MAXSIZE)), ("ok", None))
            f.truncate(min(n, MAXSIZE))
            return "h-ftruncate"
        if k < 0.65:
            self.expect(w, ("fsync", slot), ("ok", None))
            if hd.writable and not f.gone:
                f.commit(True)
            return "h-fsync"
        if k < 0.72:
            got = self.run(w, ("fstat", slot))
            want = [("ok", len(v)) for v in hd.views()]
            if got not in want:
                raise Mismatch("fstat of %s by worker %d: poolfs %s, the model %s"
                               % (self.where(f), w, show(got), want))
            return "h-fstat"
        # reads: whole, or a part
        if r.random() < 0.5:
            n, off = 1 << 30, 0
        else:
            n, off = r.choice((1, 4096, 10000, 200000)), self.offset(len(f.content()))
        got = self.run(w, ("pread", slot, n, off))
        if not hd.readable:
            if got != ("err", "EBADF"):
                raise Mismatch("pread on a write-only descriptor gave %s" % show(got))
            return "h-pread"
        want = [("ok", v[off:off + n]) for v in hd.views()]
        if got not in want:
            v = hd.views()[0]
            raise Mismatch("pread %d at %d of %s by worker %d (%s handle): poolfs %s, the model %s%s"
                           % (n, off, self.where(f), w, self.kind(hd), show(got),
                              show(want[0]), diffnote(got, want[0], off, v)))
        return "h-pread"

    def kind(self, hd):
        if hd.writable:
            return "writable"
        return "following" if hd.follow else "version-keeping"

    def where(self, f):
        for n, g in self.files.items():
            if g is f:
                return n
        return "(unlinked file #%d)" % f.id

    def s_close(self, key):
        w, slot = key
        hd = self.handles[key]
        f = hd.f
        self.expect(w, ("close", slot), ("ok", 0))
        del self.handles[key]
        if hd.writable:
            f.writers -= 1
            self.recent[f.id] = self.step_no
            if f.writers == 0:
                # acknowledged when it wrote; a truncate-only change is
                # committed at release, after close() returned
                f.commit(f.wrote)
        return "close"

    def any_w(self):
        return self.r.randrange(len(self.workers))

    def s_ppwrite(self):
        name = self.r.choice(self.names)
        f = self.files.get(name)
        d = self.data()
        size = len(f.content()) if f else 0
        off = min(self.offset(size), MAXSIZE - len(d))
        self.new_writing(f)
        self.expect(self.any_w(), ("ppwrite", name, d, off), ("ok", len(d)))
        if f is None:
            f = self.files[name] = MFile()
        f.ensure()
        f.write(d, off)
        if f.writers == 0:
            f.commit(True)
        return "ppwrite"

    def s_truncate(self):
        name = self.r.choice(self.names)
        f = self.files.get(name)
        op = ("truncate", name, 0)
        if f is None:
            self.expect(self.any_w(), op, ("err", "ENOENT"))
            return "truncate"
        s = len(f.content())
        n = min(MAXSIZE, self.r.choice((0, s // 2, max(0, s - 1), s + 1, s + self.r.randrange(1, 90000))))
        self.new_writing(f)
        self.expect(self.any_w(), ("truncate", name, n), ("ok", None))
        f.truncate(n)
        if f.writers == 0:
            f.commit(True)
        return "truncate"

    def s_rename(self):
        r = self.r
        src, dst = r.choice(self.names), r.choice(self.names)
        f, g = self.files.get(src), self.files.get(dst)
        op = ("rename", src, dst)
        if f is None:
            self.expect(self.any_w(), op, ("err", "ENOENT"))
            return "rename"
        self.expect(self.any_w(), op, ("ok", None))
        if src == dst:
            return "rename"
        # pending writes of the source are committed first
        if f.stage is not None and f.stage != bytearray(f.committed):
            f.commit(True)
        elif f.writers == 0:
            f.stage = None
        del self.files[src]
        if g is not None:
            g.gone = True
        self.files[dst] = f
        return "rename-over-open" if g is not None and any(x.f is g for x in self.handles.values()) \
            else "rename"

    def s_unlink(self):
        name = self.r.choice(self.names)
        f = self.files.get(name)
        if f is None:
            self.expect(self.any_w(), ("unlink", name), ("err", "ENOENT"))
            return "unlink"
        self.expect(self.any_w(), ("unlink", name), ("ok", None))
        f.gone = True
        del self.files[name]
        return "unlink"

    def s_read(self):
        name = self.r.choice(self.names)
        f = self.files.get(name)
        w = self.any_w()
        if self.r.random() < 0.3:
            want = ("ok", len(f.content())) if f else ("err", "ENOENT")
            self.expect(w, ("stat", name), want)
            return "stat"
        if f is None:
            self.expect(w, ("read", name), ("err", "ENOENT"))
            return "read"
        got = self.run(w, ("read", name))
        want = ("ok", f.content())
        if got != want:
            raise Mismatch("read of %s by path: poolfs %s, the model %s%s"
                           % (name, show(got), show(want), diffnote(got, want, 0, f.content())))
        return "read"

    def s_list(self):
        for d in DIRS:
            try:
                names = sorted(n for n in os.listdir(os.path.join(self.root, d))
                               if not (d == "" and n == "sub"))
            except OSError as e:
                raise Mismatch("listing %r: %s" % (d, e))
            want = sorted(os.path.basename(n) for n in self.files
                          if os.path.dirname(n) == d)
            if names != want:
                raise Mismatch("listing of %r: poolfs %s, the model %s" % (d, names, want))
        return "list"

    def check_all(self):
        self.s_list()
        for name, f in sorted(self.files.items()):
            got = read_path(os.path.join(self.root, name))
            if got != f.content():
                raise Mismatch("content of %s: poolfs %s, the model %s%s"
                               % (name, show(("ok", got)), show(("ok", f.content())),
                                  diffnote(("ok", got), ("ok", f.content()), 0, f.content())))

    # -- bursts --
    def s_appenders(self):
        """2-4 workers append tagged records to one file at once."""
        r = self.r
        name = r.choice(self.names)
        f = self.files.get(name)
        ws = r.sample(range(len(self.workers)), min(len(self.workers), r.randrange(2, 5)))
        recs = {}
        for w in ws:
            recs[w] = []
            for i in range(r.randrange(1, 6)):
                body = r.randbytes(r.randrange(0, 3000))
                recs[w].append(b"<rec %d/%d/%d %d>" % (self.step_no, w, i, len(body)) + body + b"\n")
        self.new_writing(f)
        for w in ws:
            self.workers[w].start(("appender", name, recs[w]))
        for w in ws:
            res = self.workers[w].wait()
            self.note(w, ("appender", name, recs[w]), res)
            if res != ("ok", len(recs[w])):
                raise Mismatch("appender %d on %s: %s" % (w, name, show(res)))
        base = f.content() if f else b""
        got = read_path(os.path.join(self.root, name))
        if not got.startswith(base):
            raise Mismatch("after concurrent appends %s no longer starts with what it held (%d bytes"
                           " before, %d after, first difference at %d)"
                           % (name, len(base), len(got), first_diff(got, base)))
        rest = got[len(base):]
        pos = {w: 0 for w in ws}
        while rest:
            for w in ws:
                if pos[w] < len(recs[w]) and rest.startswith(recs[w][pos[w]]):
                    rest = rest[len(recs[w][pos[w]]):]
                    pos[w] += 1
                    break
            else:
                raise Mismatch("after concurrent appends to %s: bytes at +%d are no record's"
                               " next (lost, torn, overwritten or doubled append): %r"
                               % (name, len(got) - len(rest), rest[:60]))
        missing = {w: len(recs[w]) - pos[w] for w in ws if pos[w] < len(recs[w])}
        if missing:
            raise Mismatch("after concurrent appends to %s, records missing per worker: %s"
                           % (name, missing))
        if f is None:
            f = self.files[name] = MFile()
        f.ensure()
        f.write(rest or got[len(base):], len(base))
        if f.writers == 0:
            f.commit(True)
        return "burst-append"

    def s_write_truncate(self):
        """A writer and a truncater on one file at once, each on its own
        descriptor: the result is one of the serial orders."""
        r = self.r
        name = r.choice(self.names)
        wa, wb = r.sample(range(len(self.workers)), 2)
        sa, sb = self.free_slot(wa), self.free_slot(wb)
        if sa is None or sb is None:
            return self.s_read()
        f = self.files.get(name)
        base = f.content() if f else b""
        writes = [("pwrite", sa, r.randbytes(r.randrange(1, 4096)), r.randrange(0, len(base) + 8192))
                  for _ in range(r.randrange(1, 4))]
        truncs = [("ftruncate", sb, r.randrange(0, len(base) + 8192)) for _ in range(r.randrange(1, 4))]
        self.new_writing(f)
        self.expect(wa, ("open", sa, name, FLAGS["rw"]), ("ok", 0))
        self.expect(wb, ("open", sb, name, FLAGS["w"]), ("ok", 0))
        if f is None:
            f = self.files[name] = MFile()
        f.ensure()
        f.writers += 2
        self.workers[wa].start(("seq", writes))
        self.workers[wb].start(("seq", truncs))
        for w, ops in ((wa, writes), (wb, truncs)):
            res = self.workers[w].wait()
            self.note(w, ("seq", ops), res)
            if res[0] != "ok":
                raise Mismatch("concurrent %s on %s: %s" % (ops[0][0], name, show(res)))
        got = self.run(wa, ("pread", sa, 1 << 30, 0))
        outcomes = {}
        for order in orders(len(writes), len(truncs)):
            m = bytearray(base)
            it = {0: iter(writes), 1: iter(truncs)}
            for who in order:
                o = next(it[who])
                if o[0] == "pwrite":
                    if o[3] > len(m):
                        m.extend(b"\0" * (o[3] - len(m)))
                    m[o[3]:o[3] + len(o[2])] = o[2]
                else:
                    del m[o[2]:]
                    m.extend(b"\0" * (o[2] - len(m)))
            outcomes[bytes(m)] = order
        if got[0] != "ok" or got[1] not in outcomes:
            raise Mismatch("writer and truncater on %s at once: poolfs %s is none of the %d serial"
                           " outcomes" % (name, show(got), len(outcomes)))
        # the model takes the order that happened, step by step (candidates)
        it = {0: iter(writes), 1: iter(truncs)}
        for who in outcomes[got[1]]:
            o = next(it[who])
            if o[0] == "pwrite":
                f.write(o[2], o[3])
            else:
                f.truncate(o[2])
        for w, s in ((wa, sa), (wb, sb)):
            self.expect(w, ("close", s), ("ok", 0))
            f.writers -= 1
            self.recent[f.id] = self.step_no
        if f.writers == 0:
            f.commit(True)
        return "burst-write-truncate"

    # -- crash --
    def crash(self, fifo):
        """kill -9 of the daemon and a remount (by the test script)."""
        self.crashes += 1
        with open(os.path.join(fifo, "req"), "w") as q:
            q.write("crash\n")
        with open(os.path.join(fifo, "ack")) as a:
            line = a.readline().strip()
        if line != "ok":
            raise Mismatch("the remount after kill -9 failed: %r" % line)
        self.log.append("%d kill -9 of the daemon, remount" % self.step_no)
        for w in self.workers:
            w.do(("dropall",))
        self.handles.clear()
        self.recent.clear()
        self.s_list()
        for name, f in sorted(self.files.items()):
            try:
                got = read_path(os.path.join(self.root, name))
            except OSError as e:
                raise Mismatch("after kill -9 and remount, %s: %s" % (name, e))
            if h(got) != f.acked and h(got) not in f.cands:
                raise Mismatch("after kill -9 and remount, %s (%d bytes, sha256:%s) is neither its"
                               " acknowledged content (sha256:%s) nor one of %d later states:"
                               " acknowledged bytes lost"
                               % (name, len(got), h(got), f.acked, len(f.cands)))
            g = MFile(got)
            self.files[name] = g

    def close(self):
        for w in self.workers:
            w.stop()


def orders(na, nb):
    """Every interleaving of na steps of 0 and nb steps of 1."""
    for pos in itertools.combinations(range(na + nb), nb):
        o = [0] * (na + nb)
        for p in pos:
            o[p] = 1
        yield o


def diffnote(got, want, off, whole):
    if got[0] == "ok" and want[0] == "ok" and isinstance(got[1], bytes):
        return "; first difference at +%d (file offset %d)" % (
            first_diff(got[1], want[1]), off + first_diff(got[1], want[1]))
    return ""


def show(r):
    if isinstance(r, tuple) and len(r) == 2 and isinstance(r[1], (bytes, bytearray)):
        return "(%s, %d bytes sha256:%s)" % (r[0], len(r[1]), h(r[1]))
    return repr(r)


def describe(op):
    out = [op[0]]
    for a in op[1:]:
        if isinstance(a, bytes):
            out.append("<%d bytes>" % len(a))
        elif isinstance(a, list):
            out.append("[%s]" % ", ".join(describe(x) if isinstance(x, tuple) else
                                          "<%d bytes>" % len(x) for x in a))
        else:
            out.append(str(a))
    return " ".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--ops", type=int, default=2000)
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--check-every", type=int, default=100)
    ap.add_argument("--crash-fifo", default=None)
    ap.add_argument("--crash-every", type=int, default=400,
                    help="a kill -9 on average every this many steps")
    ap.add_argument("--trace", action="store_true", help="print every step")
    ap.add_argument("target")
    a = ap.parse_args()
    print("cmodel: seed %d, %d steps, %d processes (rerun: SEED=%d)"
          % (a.seed, a.ops, a.procs, a.seed), flush=True)
    root = os.path.join(a.target, "c%d" % a.seed)
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(os.path.join(root, "sub"), exist_ok=True)
    m = Model(a, root)
    t0 = time.time()
    crash_r = random.Random(a.seed * 7 + 1)
    try:
        while m.step_no < a.ops:
            m.step()
            if a.crash_fifo and crash_r.randrange(a.crash_every) == 0:
                m.crash(a.crash_fifo)
            if m.step_no % a.check_every == 0:
                m.check_all()
        for key in sorted(m.handles):
            m.s_close(key)
        m.check_all()
        if a.crash_fifo:
            m.crash(a.crash_fifo)
    except (Mismatch, RuntimeError) as e:
        print("FAIL: cmodel seed %d, step %d: %s" % (a.seed, m.step_no, e))
        print("  last steps (oldest first):")
        for line in m.log[-25:]:
            print("    " + line)
        print("  reproduce: SEED=%d MODEL_OPS=%d tests/run.sh mount t_model" % (a.seed, a.ops))
        m.close()
        return 1
    m.close()
    print("cmodel: seed %d, %d steps in %.0f s, %d kill -9 and remounts, all states allowed; %s"
          % (a.seed, m.step_no, time.time() - t0, m.crashes,
             ", ".join("%s %d" % kv for kv in sorted(m.counts.items()))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
