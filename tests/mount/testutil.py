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


def dir_names(fd):
    """The names a readdir of the held directory fd gives now, "." and ".."
    left out: getdents64 itself, since libc's readdir (os.listdir) stats
    the handle first and would stop at that instead."""
    import ctypes
    import platform
    import struct
    getdents64 = {"x86_64": 217, "aarch64": 61}[platform.machine()]
    libc = ctypes.CDLL(None, use_errno=True)
    buf, out = ctypes.create_string_buffer(65536), []
    os.lseek(fd, 0, os.SEEK_SET)
    while True:
        n = libc.syscall(getdents64, fd, buf, len(buf))
        if n < 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))
        if n == 0:
            return [x for x in out if x not in (".", "..")]
        off = 0
        while off < n:
            reclen = struct.unpack_from("H", buf.raw, off + 16)[0]
            out.append(buf.raw[off + 19:off + reclen].split(b"\0")[0].decode())
            off += reclen
