"""tests/mount/testutil.py - what the mount tests' python helpers share.

The helpers run as scripts ("$PY" "$HELPERS/x.py"), so this directory is
first on sys.path and `from testutil import ...` finds this file.
"""
import os


def read_all(fd):
    """The whole file behind fd, by pread from offset 0 to the end."""
    out = b""
    while True:
        b = os.pread(fd, 1 << 20, len(out))
        if not b:
            return out
        out += b


def first_diff(a, b):
    """The first offset where a and b differ; the shorter length if none."""
    n = min(len(a), len(b))
    return next((i for i in range(n) if a[i] != b[i]), n)
