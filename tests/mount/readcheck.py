#!/usr/bin/env python3
"""tests/mount/readcheck.py - read a file the ways legacy programs do.

    readcheck.py FILE REFERENCE [SEED]

1. fstat() then read exactly st_size bytes in one call: must be the whole
   file (programs that trust st_size);
2. pread() at random offsets and lengths, many crossing 4 KiB pages;
3. mmap() the file and compare it whole.
Each is compared with REFERENCE; prints what differed and exits 1.
"""
import mmap
import os
import random
import sys

from testutil import first_diff


def main():
    path, refpath = sys.argv[1], sys.argv[2]
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    with open(refpath, "rb") as f:
        ref = f.read()
    bad = 0
    fd = os.open(path, os.O_RDONLY)
    try:
        st = os.fstat(fd)
        if st.st_size != len(ref):
            print("FAIL: fstat size %d, want %d" % (st.st_size, len(ref)))
            bad += 1
        data = os.read(fd, st.st_size) if st.st_size else b""
        # one read(2) may legally return less only at EOF; a short read
        # here means st_size promised bytes the file did not give
        if data != ref[:st.st_size]:
            print("FAIL: read(st_size=%d) returned %d bytes, first difference at %d"
                  % (st.st_size, len(data), first_diff(data, ref)))
            bad += 1
        if os.read(fd, 1) != b"" and st.st_size == len(ref):
            print("FAIL: bytes after st_size")
            bad += 1
        r = random.Random(seed)
        size = len(ref)
        for _ in range(200):
            off = r.randrange(0, size + 2) if size else 0
            if r.random() < 0.5 and size > 4096:
                off = (r.randrange(0, size) // 4096) * 4096 - r.randrange(0, 8)
                off = max(off, 0)
            ln = r.choice((1, 2, 100, 4095, 4096, 4097, 65536, 131072 + 3))
            got = os.pread(fd, ln, off)
            if got != ref[off:off + ln]:
                print("FAIL: pread(len=%d, off=%d) gave %d bytes, want %d, first difference at +%d"
                      % (ln, off, len(got), len(ref[off:off + ln]), first_diff(got, ref[off:off + ln])))
                bad += 1
                break
        if size:
            m = mmap.mmap(fd, size, prot=mmap.PROT_READ)
            try:
                mm = m[:]
            finally:
                m.close()
            if mm != ref:
                print("FAIL: mmap content differs at byte %d" % first_diff(mm, ref))
                bad += 1
    finally:
        os.close(fd)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
