#!/usr/bin/env bash
# t_posix2.sh - POSIX behaviour pjdfstest checks in a department's entry,
# outside any design decision: paths as long as the kernel passes (names
# up to NAME_MAX, ENAMETOOLONG beyond, ENOENT for a missing name whatever
# its length, no depth limit for directories nested by chdir); fstat of
# an unlinked file through any descriptor, st_nlink 0; rename over a file
# takes the source's mode, owner and mtime (the history continues);
# chmod by a caller outside the file's group clears S_ISGID; a symlink
# loop is ELOOP.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup

FIX=$HELPERS/policy_write.json
GA=/基础库/人口/户籍人口		# gongan's entry
command -v setpriv > /dev/null || die "setpriv not found (util-linux)"
UPY=${UPY:-/usr/bin/python3}
GAU=(1001 2001)

pool_init
check "apply the fixture" pctl policy apply "$FIX"
POOLFS_OPTS=
pool_mount

posix() {	# posix DESC PYTHON-BODY: runs as gongan in its entry, prints FAIL lines
	check_run "$1" as "${GAU[@]}" "$UPY" -c "
import os, sys, errno, stat
os.chdir(sys.argv[1])
def put(p, d, mode=0o644):
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    if d:
        os.write(fd, d)
    os.close(fd)
def err(f, *a):
    try:
        f(*a)
        return 'OK'
    except OSError as e:
        return errno.errorcode[e.errno]
bad = []
$2
for b in bad:
    print('FAIL: ' + b)
sys.exit(1 if bad else 0)" "$MNT$GA"
}

posix "long paths: every call takes what the kernel passes" '
os.mkdir("long")
os.chdir("long")
seg = "d" * 200
rel = "/".join([seg] * 19)		# 3818 bytes below the cwd
os.makedirs(rel)
for name, f in [
        ("create", lambda p: put(p, b"x")),
        ("chmod", lambda p: os.chmod(p, 0o600)),
        ("truncate", lambda p: os.truncate(p, 1)),
        ("open", lambda p: os.close(os.open(p, os.O_RDONLY))),
        ("rename", lambda p: os.rename(p, p + "r")),
        ("symlink", lambda p: os.symlink("x", p + "s")),
        ("mkdir", lambda p: os.mkdir(p + "d")),
        ("rmdir", lambda p: os.rmdir(p + "d")),
        ("unlink", lambda p: os.unlink(p + "r"))]:
    e = err(f, rel + "/" + "f" * 240)
    if e != "OK":
        bad.append("%s of a %d-byte relative path: %s" % (name, len(rel) + 241, e))
e = err(os.rmdir, rel + "/" + "m" * 250)
if e != "ENOENT":
    bad.append("rmdir of a missing long name: %s, not ENOENT" % e)
e = err(put, "n" * 256, b"")
if e != "ENAMETOOLONG":
    bad.append("create of a 256-byte name: %s, not ENAMETOOLONG" % e)
os.chdir(os.path.join(sys.argv[1], "long"))
depth = 0
try:
    for depth in range(40):		# about 8 KB of pool path
        os.mkdir("e" * 200)
        os.chdir("e" * 200)
    put("deep", b"deep\n")
    if open("deep", "rb").read() != b"deep\n":
        bad.append("read back at depth 40 differs")
except OSError as e:
    bad.append("nesting by chdir stopped at depth %d: %s" % (depth, e))
# the pool keeps paths up to 32 KiB (docs/filesystem.md "Names"): beyond, ENAMETOOLONG
plen = len(os.getcwd()) - len(sys.argv[1]) + 200
e = "OK"
while e == "OK" and plen < 40000:
    e = err(os.mkdir, "e" * 200)
    if e == "OK":
        os.chdir("e" * 200)
        plen += 201
if e != "ENAMETOOLONG" or plen < 32600:
    bad.append("mkdir at %d bytes below the entry: %s, not ENAMETOOLONG past 32 KiB" % (plen, e))'

posix "fstat after unlink: the file lives while open, st_nlink is 0" '
for flags in (os.O_RDONLY, os.O_RDWR):
    put("u", b"hello\n")
    fd = os.open("u", flags)
    os.unlink("u")
    try:
        st = os.fstat(fd)
        if st.st_nlink != 0 or st.st_size != 6:
            bad.append("flags %d: fstat nlink %d size %d" % (flags, st.st_nlink, st.st_size))
        if os.pread(fd, 100, 0) != b"hello\n":
            bad.append("flags %d: read after unlink differs" % flags)
    except OSError as e:
        bad.append("flags %d: %s after unlink" % (flags, e))
    os.close(fd)'

posix "rename over a file takes the source mode and mtime, keeps the history" '
put("dst", b"old\n", 0o644)
os.chmod("dst", 0o644)
put("tmp", b"new\n", 0o600)
os.chmod("tmp", 0o600)
os.utime("tmp", (1000000000, 1000000000))
os.rename("tmp", "dst")
st = os.stat("dst")
if stat.S_IMODE(st.st_mode) != 0o600:
    bad.append("mode after rename %o, not the source 600" % stat.S_IMODE(st.st_mode))
if int(st.st_mtime) != 1000000000:
    bad.append("mtime after rename %d, not the source 1000000000" % st.st_mtime)
if open("dst", "rb").read() != b"new\n":
    bad.append("content after rename differs")
if not os.path.exists(".versions/dst/1"):
    bad.append("the history of dst did not continue")'

# g is renshe's (1002:2002): only root may put gongan's own file in a
# group gongan is not in (restricted chown, t_legacy_tools.sh)
as 1002 2002 sh -c ': > "$1"' sh "$MNT$GA/g" || die "renshe cannot create g"
posix "chmod by a caller outside the file group clears S_ISGID" '
os.chmod("g", 0o2755)
m = stat.S_IMODE(os.stat("g").st_mode)
if m != 0o755:
    bad.append("mode %o after chmod 2755 outside the file group, not 755" % m)
put("h", b"")
os.chmod("h", 0o2755)
m = stat.S_IMODE(os.stat("h").st_mode)
if m != 0o2755:
    bad.append("mode %o after chmod 2755 inside the file group, not 2755" % m)'

posix "a symlink loop is ELOOP, as POSIX has it, not an escape (EPERM)" '
os.symlink("lb", "la")
os.symlink("la", "lb")
for name, f in [("stat", os.stat), ("chmod", lambda p: os.chmod(p, 0o644)),
                ("open", lambda p: os.close(os.open(p, os.O_RDONLY))),
                ("stat below", lambda p: os.stat(p + "/x"))]:
    e = err(f, "la")
    if e != "ELOOP":
        bad.append("%s through a loop: %s, not ELOOP" % (name, e))
e = err(os.symlink, "la/x", "lc")
if e != "OK":
    bad.append("symlink to a name through a loop: %s" % e)
e = err(os.symlink, "../../../../..", "up")
if e != "EPERM":
    bad.append("symlink out of the pool: %s, not EPERM" % e)'

check "the daemon still serves" daemon_alive
