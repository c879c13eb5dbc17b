#!/usr/bin/env python3
"""tests/mount/gen.py - deterministic test content on stdout.

    gen.py SEED SIZE [binary|text|csv] [ZOFF ZLEN]

The same SEED and SIZE always give the same bytes, so a test can
regenerate what it wrote instead of keeping a copy (a 1 GiB file is
checked by checksum with constant memory). ZOFF ZLEN: the same stream
with ZLEN bytes at ZOFF replaced by zeros (the content after an overwrite). `text` is lines of words,
`csv` a header and rows of a population-register-like table.
"""
import random
import sys

WORDS = ("pool data city shared version audit 人口 户籍 社保 宣州区 "
         "alpha beta gamma delta 0 1 2 3 4 5 6 7 8 9").split()


def binary(r, size, out, zoff=0, zlen=0):
    pos = 0
    while pos < size:
        n = min(size - pos, 1 << 20)
        b = r.randbytes(n)
        if zlen and pos < zoff + zlen and zoff < pos + n:
            a, e = max(zoff, pos) - pos, min(zoff + zlen, pos + n) - pos
            b = b[:a] + bytes(e - a) + b[e:]
        out.write(b)
        pos += n


def text_chunks(r, csv):
    if csv:
        yield "id,name,id_card,phone,region,amount\n".encode()
        i = 0
        while True:
            rows = []
            for _ in range(2000):
                i += 1
                rows.append("%d,name%d,3418%014d,138%08d,%s,%d.%02d\n" % (
                    i, r.randrange(10**6), r.randrange(10**14),
                    r.randrange(10**8), r.choice(("宣州区", "郎溪县", "广德市")),
                    r.randrange(10**5), r.randrange(100)))
            yield "".join(rows).encode()
    while True:
        lines = []
        for _ in range(500):
            n = r.randrange(0, 14)
            lines.append(" ".join(r.choice(WORDS) for _ in range(n)) + "\n")
        yield "".join(lines).encode()


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    seed, size = int(sys.argv[1]), int(sys.argv[2])
    kind = sys.argv[3] if len(sys.argv) > 3 else "binary"
    r = random.Random(seed)
    out = sys.stdout.buffer
    if kind == "binary":
        z = [int(x) for x in sys.argv[4:6]] if len(sys.argv) > 5 else [0, 0]
        binary(r, size, out, z[0], z[1])
    else:
        left = size
        for chunk in text_chunks(r, kind == "csv"):
            if not left:
                break
            chunk = chunk[:left]
            out.write(chunk)
            left -= len(chunk)
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
