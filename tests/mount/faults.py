#!/usr/bin/env python3
"""tests/mount/faults.py - writers and checker for the disk-fault test.

    faults.py work MNT LOG WID NOPS    NOPS versions of MNT/wWID_0 and
                                       MNT/wWID_1, one after the other
    faults.py probe MNT LOG            after the fault: reads every file
                                       acknowledged so far, writes one
    faults.py check MNT POOLCTL STORE NEW LOG...
                                       after a restart without faults: every
                                       LOG; `poolctl versions` for the files
                                       of the LOGs whose name starts with NEW

Every version names itself: a header "fault name=N w=W v=V size=S" and
bytes derived from it, so any file or version can be checked alone.
Operation i uses mode i % 3:

  close   open O_WRONLY|O_CREAT|O_TRUNC, write, close; acknowledged when
          every call returned 0 (a lone writer's close commits)
  fsync   the same with fsync() before close; acknowledged once fsync
          returned 0
  rename  write MNT/.tNAME the same way, close, rename over MNT/NAME;
          acknowledged when the rename returned 0

After each operation the writer reads the file back. LOG gets one line
per event: "ack NAME W V MODE", "err NAME W V STEP ERRNO", "read NAME ok"
or "read NAME err ERRNO", and "bad ..." for what must never happen (a read
that returned bytes no version has, an acknowledged version read back
different). check prints FAIL lines and a summary; exit 1 on any.
"""
import errno
import hashlib
import json
import os
import random
import re
import subprocess
import sys

HDR = re.compile(rb"^fault name=(\S+) w=(\d+) v=(\d+) size=(\d+)\n")
MODES = ("close", "fsync", "rename")
SIZES = (900, 23000, 140000, 61000, 5000, 300000)


def content(name, wid, v):
    size = SIZES[(v + wid) % len(SIZES)]
    head = b"fault name=%s w=%d v=%d size=%d\n" % (name.encode(), wid, v, size)
    seed = int.from_bytes(hashlib.sha256(head).digest()[:8], "big")
    return (head + random.Random(seed).randbytes(size))[: size + len(head)]


def valid(name, data):
    """(w, v) of a whole version of name in data, None when empty, False when not one."""
    if not data:
        return None
    m = HDR.match(data)
    if not m or m.group(1).decode() != name:
        return False
    w, v = int(m.group(2)), int(m.group(3))
    return (w, v) if data == content(name, w, v) else False


def ename(e):
    return errno.errorcode.get(e.errno, str(e.errno))


def emit(log, *words):
    with open(log, "a") as f:
        f.write(" ".join(str(w) for w in words) + "\n")


# st_dev of the mount: a daemon that exited leaves a plain directory under
# MNT, and a write that lands there was not acknowledged by poolfs
DEV = None


def on_mount(fd):
    if DEV is not None and os.fstat(fd).st_dev != DEV:
        raise OSError(errno.ENOTCONN, "not on the poolfs mount")


def write_file(path, data, sync):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        on_mount(fd)
        off = 0
        while off < len(data):
            off += os.write(fd, data[off:])
        if sync:
            os.fsync(fd)
    except OSError:
        os.close(fd)
        raise
    os.close(fd)


def read_file(path):
    with open(path, "rb") as f:
        on_mount(f.fileno())
        return f.read()


def mounted(mnt):
    global DEV
    DEV = os.stat(mnt).st_dev
    return DEV != os.stat(os.path.dirname(os.path.abspath(mnt))).st_dev


def work(mnt, log, wid, nops):
    if not mounted(mnt):
        emit(log, "gone", wid)
        return
    for i in range(1, nops + 1):
        name = "w%d_%d" % (wid, i % 2)
        mode = MODES[i % 3]
        v = int.from_bytes(os.urandom(3), "big") * 8 + i % 8
        data = content(name, wid, v)
        path = os.path.join(mnt, name)
        step = "write"
        emit(log, "try", name, wid, v, mode)
        try:
            if mode == "rename":
                tmp = os.path.join(mnt, ".t" + name)
                write_file(tmp, data, False)
                step = "rename"
                os.rename(tmp, path)
                if os.stat(mnt).st_dev != DEV:
                    raise OSError(errno.ENOTCONN, "the mount went away")
            else:
                write_file(path, data, mode == "fsync")
            emit(log, "ack", name, wid, v, mode)
            acked = True
        except OSError as e:
            emit(log, "err", name, wid, v, step, ename(e))
            acked = False
        try:
            got = read_file(path)
        except OSError as e:
            emit(log, "read", name, "err", ename(e))
            continue
        emit(log, "read", name, "ok")
        if acked and got != data:
            emit(log, "bad", name, "acknowledged version %d read back as %s" % (v, valid(name, got)))
        elif valid(name, got) is False:
            emit(log, "bad", name, "read back %d bytes that are no version" % len(got))


def parse(logs):
    acks, tries, bads, reads = [], {}, [], {}
    for log in logs:
        try:
            lines = open(log).read().splitlines()
        except FileNotFoundError:
            continue
        for ln in lines:
            p = ln.split()
            if not p:
                continue
            if p[0] == "ack":
                acks.append((p[1], int(p[2]), int(p[3]), p[4]))
            elif p[0] == "try":
                tries[(p[1], int(p[2]), int(p[3]))] = len(tries)
            elif p[0] == "bad":
                bads.append(ln)
            elif p[0] == "read" and p[2] == "ok":
                reads[p[1]] = reads.get(p[1], 0) + 1
    return acks, tries, bads, reads


def probe(mnt, log):
    """Reads every acknowledged file, then writes one: prints what each gave."""
    acks, _, _, _ = parse([log])
    if not mounted(mnt):
        print("not-mounted")
        return
    names = sorted({a[0] for a in acks})
    res = {"read_ok": 0, "read_err": 0, "read_bad": 0}
    for n in names:
        try:
            got = read_file(os.path.join(mnt, n))
        except OSError as e:
            res["read_err"] += 1
            res.setdefault("read_errno", ename(e))
            continue
        if valid(n, got):
            res["read_ok"] += 1
        else:
            res["read_bad"] += 1
    try:
        write_file(os.path.join(mnt, "probe"), b"probe\n", True)
        res["write"] = "OK"
    except OSError as e:
        res["write"] = ename(e)
    print(" ".join("%s=%s" % kv for kv in sorted(res.items())))


def audit_counts(poolctl, store):
    out = subprocess.run([poolctl, "-s", store, "audit", "query", "--json"],
                         capture_output=True, timeout=120)
    if out.returncode:
        return None
    cnt = {}
    for ln in out.stdout.decode().splitlines():
        r = json.loads(ln)
        if r.get("result") == 0:
            k = (r["op"], r["path"])
            cnt[k] = cnt.get(k, 0) + r.get("count", 1)
    return cnt


def check(mnt, poolctl, store, new, logs):
    acks, tries, bads, reads = parse(logs)
    _, recent, _, _ = parse(l for l in logs if os.path.basename(l).startswith(new))
    recent = {t[0] for t in recent}
    fails = list("bad during the run: " + b for b in bads)
    names = sorted({t[0] for t in tries})
    present = {}
    nvers = 0
    for n in names:
        vdir = os.path.join(mnt, ".versions", n)
        try:
            vs = sorted(os.listdir(vdir), key=int)
        except FileNotFoundError:
            vs = []
        seen = set()
        for ver in vs:
            got = read_file(os.path.join(vdir, ver))
            wv = valid(n, got)
            if wv is False:
                fails.append("%s version %s: %d bytes that are no version written" % (n, ver, len(got)))
            elif wv:
                if (n,) + wv not in tries:
                    fails.append("%s version %s holds %s, never written" % (n, ver, wv))
                seen.add(wv)
        present[n] = seen
        nvers += len(vs)
        if n in recent:
            out = subprocess.run([poolctl, "-s", store, "versions", "/" + n, "--json"],
                                 capture_output=True, timeout=120)
            listed = len(json.loads(out.stdout)["versions"]) if out.returncode == 0 else -1
            if vs and listed != len(vs):
                fails.append("%s: poolctl versions lists %d, .versions has %d"
                             % (n, listed, len(vs)))
        try:
            cur = valid(n, read_file(os.path.join(mnt, n)))
        except FileNotFoundError:
            cur = None
        if cur is False:
            fails.append("%s: the current file is no version written" % n)
        # the last acknowledged version or one tried after it
        last = [a for a in acks if a[0] == n]
        if last and (not cur or tries.get((n,) + cur, -1) < tries[last[-1][:3]]):
            fails.append("%s: current file is %s, older than the last acknowledged %s"
                         % (n, cur, last[-1][1:3]))
    lost = [a for a in acks if (a[1], a[2]) not in present.get(a[0], set())]
    for a in lost:
        fails.append("LOST: acknowledged %s version w=%d v=%d (%s) is not among its versions" % a)
    # every acknowledged write and every successful open is in the audit log
    cnt = audit_counts(poolctl, store)
    if cnt is None:
        fails.append("poolctl audit query failed")
    else:
        for n in names:
            want_w = sum(1 for a in acks if a[0] == n and a[3] != "rename")
            want_r = sum(1 for a in acks if a[0] == n and a[3] == "rename")
            got_w = cnt.get(("write", "/" + n), 0)
            got_r = cnt.get(("rename", "/.t" + n), 0)
            got_o = cnt.get(("open", "/" + n), 0)
            if got_w < want_w:
                fails.append("%s: %d acknowledged writes, %d write records" % (n, want_w, got_w))
            if got_r < want_r:
                fails.append("%s: %d acknowledged renames, %d rename records" % (n, want_r, got_r))
            if got_o < reads.get(n, 0):
                fails.append("%s: %d successful reads, %d open records" % (n, reads.get(n, 0), got_o))
    for f in fails:
        print("FAIL: " + f)
    print("checked %d acknowledged versions of %d files (%d versions stored, %d tries)"
          % (len(acks), len(names), nvers, len(tries)))
    return 1 if fails else 0


def main():
    cmd = sys.argv[1]
    if cmd == "work":
        work(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "probe":
        probe(sys.argv[2], sys.argv[3])
    elif cmd == "check":
        sys.exit(check(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:]))
    else:
        sys.exit("usage: faults.py work|probe|check ...")


if __name__ == "__main__":
    main()
