#!/usr/bin/env bash
# t_catalog.sh - what the pool says about itself, per caller, in a pool
# mount (no allow_all) read by real uids: /.poolfs/whoami and catalog.json
# (the caller's own department and entries, sizes that match reads, hidden
# from listings, read-only, closed to a caller of no department), and the
# user.catalog.* attributes of entry directories, which only the policy sets.
# timeout: 180
. "$(dirname "$0")/../lib.sh"
t_setup

FIX=$HELPERS/policy_catalog.json
GA=/基础库/人口/户籍人口		# gongan, conditional, renshe holds grant g1
SECRET=/基础库/人口/在逃人员		# gongan, share none
RS=/主题库/社保/参保人员		# renshe, unconditional
t_setup_readers

# xa.py OP PATH [NAME]: the xattr and read questions below; an error prints its errno name
cat > "$T_TMP/xa.py" <<'PY' || die "cannot write xa.py"
import errno, json, os, sys
op, path = sys.argv[1], sys.argv[2]
try:
    if op == "dump":		# getfattr -d -m user.catalog
        for n in os.listxattr(path):
            if n.startswith("user.catalog."):
                print(n + "=" + os.getxattr(path, n).decode())
    elif op == "list":
        print(" ".join(os.listxattr(path)))
    elif op == "remove":
        os.removexattr(path, sys.argv[3])
        print("OK")
    elif op == "exact":		# fstat, then read exactly st_size bytes
        fd = os.open(path, os.O_RDONLY)
        size = os.fstat(fd).st_size
        got = os.read(fd, size)
        rest = os.read(fd, 65536)
        os.close(fd)
        print(size, len(got), len(rest), os.stat(path).st_size == size)
    elif op == "catalog":
        d = json.load(open(path))
        print(d["department"], " ".join(sorted(e["code"] for e in d["entries"])))
    elif op == "access":
        d = json.load(open(path))
        a = [e["access"] for e in d["entries"] if e["path"] == sys.argv[3]][0]
        print(a["read"], a["via"])
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
PY
chmod 644 "$T_TMP/xa.py"

AS_TIMEOUT=20
as_ga() { as 1001 2001 "$@"; }
as_rs() { as 1002 2002 "$@"; }
as_nobody() { as 4242 4242 "$@"; }
xa() { local u=$1 g=$2; shift 2; as "$u" "$g" "$UPY" "$T_TMP/xa.py" "$@" 2>&1; }
sysop_as() { local u=$1 g=$2; shift 2; as "$u" "$g" "$UPY" "$HELPERS/sysop.py" "$@" 2>&1; }

pool_init
check "apply the fixture before mounting" pctl policy apply "$FIX"
# a pool mount: each caller is its own department. The fixture puts gid 0
# in department shuju, so root (pool_mount's readiness stat) may see "/".
POOLFS_OPTS=
pool_mount

# ---- /.poolfs is reachable by name only ----
check_eq "ls -a / does not show .poolfs" "$(as_ga ls -a "$MNT" 2>&1 | grep -c poolfs)" 0
check_eq "nor for root" "$(ls -a "$MNT" 2>&1 | grep -c poolfs)" 0
check_eq "ls -a /.poolfs" "$(as_ga ls -a "$MNT/.poolfs" 2>&1 | tr '\n' ' ')" ". .. catalog.json whoami "
check_eq "/.poolfs is a read-only directory" "$(as_ga stat -c '%F %a' "$MNT/.poolfs" 2>&1)" "directory 555"
check_eq "its files are read-only" "$(as_ga stat -c '%F %a' "$MNT/.poolfs/whoami" 2>&1)" "regular file 444"
check_eq "no .poolfs below the root" "$(sysop_as 1001 2001 stat "$MNT/基础库/.poolfs")" ENOENT
check_eq "nor other names in it" "$(sysop_as 1001 2001 stat "$MNT/.poolfs/secrets")" ENOENT

# ---- whoami: the department of the caller at hand ----
for who in "1001 2001 gongan uid" "1002 2002 renshe uid" "0 0 shuju gid"; do
	set -- $who
	as "$1" "$2" cat "$MNT/.poolfs/whoami" > "$T_TMP/whoami.$1" 2> "$T_TMP/whoami.err"
	check_eq "cat whoami as uid $1 ($(head -c 200 "$T_TMP/whoami.err"))" "$?" 0
	check_eq "whoami of uid $1 names its department" \
		"$("$PY" "$HELPERS/jsonq.py" get department < "$T_TMP/whoami.$1" 2>&1)" "$3"
	check_eq "whoami of uid $1 says how" \
		"$("$PY" "$HELPERS/jsonq.py" get via < "$T_TMP/whoami.$1" 2>&1)" "$4"
	check_eq "whoami of uid $1 names the uid" \
		"$("$PY" "$HELPERS/jsonq.py" get uid < "$T_TMP/whoami.$1" 2>&1)" "$1"
done

# ---- catalog.json: what that department may see ----
check "catalog.json parses as gongan" as_ga "$UPY" -c \
	"import json; json.load(open('$MNT/.poolfs/catalog.json'))"
check "catalog.json parses as renshe" as_rs "$UPY" -c \
	"import json; json.load(open('$MNT/.poolfs/catalog.json'))"
check_eq "gongan sees its own share-none entry" "$(xa 1001 2001 catalog "$MNT/.poolfs/catalog.json")" \
	"gongan 341800-GA-0001 341800-GA-0002 341800-RS-0001"
check_eq "renshe does not see gongan's share-none entry" \
	"$(xa 1002 2002 catalog "$MNT/.poolfs/catalog.json")" "renshe 341800-GA-0001 341800-RS-0001"
check_eq "renshe reads GA-0001 through its grant" \
	"$(xa 1002 2002 access "$MNT/.poolfs/catalog.json" "$GA")" "True grant"
check_eq "gongan reads GA-0001 as provider" \
	"$(xa 1001 2001 access "$MNT/.poolfs/catalog.json" "$GA")" "True provider"
check_eq "renshe's grant never shows in gongan's catalog" \
	"$(as_ga cat "$MNT/.poolfs/catalog.json" | grep -c '"g1"')" 0

# sizes are the caller's: fstat then reading st_size bytes gets it all, for
# both callers in turn (the kernel must not serve one caller the other's size)
for i in 1 2; do
	for who in "1001 2001" "1002 2002"; do
		set -- $who
		got=$(xa "$1" "$2" exact "$MNT/.poolfs/catalog.json")
		size=${got%% *}
		check_eq "uid $1 round $i: st_size bytes are the whole catalog" "$got" "$size $size 0 True"
		check_eq "uid $1 round $i: stat size is what cat reads" \
			"$(as "$1" "$2" stat -c %s "$MNT/.poolfs/catalog.json")" \
			"$(as "$1" "$2" cat "$MNT/.poolfs/catalog.json" | wc -c)"
	done
done
check_fails "the two departments' catalogs differ in size" test \
	"$(as_ga stat -c %s "$MNT/.poolfs/catalog.json")" = "$(as_rs stat -c %s "$MNT/.poolfs/catalog.json")"
check "cp of catalog.json as renshe" as_rs cp "$MNT/.poolfs/catalog.json" "$PUB/catalog.json"
as_rs cat "$MNT/.poolfs/catalog.json" > "$T_TMP/catalog.rs"
check_same "cp gives what cat gives" "$PUB/catalog.json" "$T_TMP/catalog.rs"

# ---- a caller of no department learns nothing ----
check_eq "uid 4242 cannot read whoami" "$(sysop_as 4242 4242 read "$MNT/.poolfs/whoami")" EACCES
check_eq "nor catalog.json" "$(sysop_as 4242 4242 read "$MNT/.poolfs/catalog.json")" EACCES
check_fails "cat whoami as uid 4242 fails" as_nobody cat "$MNT/.poolfs/whoami"
check_fails "nor can it list /.poolfs" as_nobody ls "$MNT/.poolfs"
if pctl audit query --help > /dev/null 2>&1; then
	# python and cat each look whoami up: one denial or more, none missing.
	# Which path it names depends on the kernel's dentry cache: whoami when
	# /.poolfs is still cached from an allowed caller, /.poolfs itself else.
	check "the denial is in the audit log" test \
		"$(pctl audit query --uid 4242 --path /.poolfs --denied 2>&1 |
		   grep -cE 'comm=(python[0-9.]*|cat) ')" -ge 1
else
	note "poolctl has no audit query yet: the audit record of the denial is not checked"
fi

# ---- nothing writes pool metadata ----
check_eq "open whoami for writing" "$(sysop_as 1001 2001 open-w "$MNT/.poolfs/whoami")" EROFS
check_eq "open it O_TRUNC" "$(sysop_as 1001 2001 open-trunc "$MNT/.poolfs/catalog.json")" EROFS
check_eq "create a file in /.poolfs" "$(sysop_as 1001 2001 create "$MNT/.poolfs/new")" EROFS
check_eq "mkdir in /.poolfs" "$(sysop_as 1001 2001 mkdir "$MNT/.poolfs/d")" EROFS
check_eq "unlink whoami" "$(sysop_as 1001 2001 unlink "$MNT/.poolfs/whoami")" EROFS
check_eq "chmod whoami" "$(sysop_as 1001 2001 chmod "$MNT/.poolfs/whoami" 666)" EROFS
check_eq "a file named .poolfs in an entry" "$(sysop_as 1001 2001 create "$MNT$GA/.poolfs")" EPERM

# ---- user.catalog.* on entry directories ----
expect_ga="user.catalog.code=341800-GA-0001
user.catalog.title=户籍人口基本信息
user.catalog.provider=gongan
user.catalog.share=conditional
user.catalog.level=3"
check_eq "renshe reads GA-0001's catalog attributes" "$(xa 1002 2002 dump "$MNT$GA")" "$expect_ga"
check_eq "so does gongan" "$(xa 1001 2001 dump "$MNT$GA")" "$expect_ga"
check_eq "and shuju, which has no grant (the catalog is public in the pool)" \
	"$(xa 0 0 dump "$MNT$GA")" "$expect_ga"
check_eq "renshe's own entry" "$(xa 1001 2001 dump "$MNT$RS" | tr '\n' ' ')" \
	"user.catalog.code=341800-RS-0001 user.catalog.title=参保人员名录 user.catalog.provider=renshe user.catalog.share=unconditional user.catalog.level=2 "
check_eq "gongan reads its share-none entry's" "$(xa 1001 2001 dump "$MNT$SECRET" | grep share)" \
	"user.catalog.share=none"
check_eq "renshe cannot even look it up" "$(xa 1002 2002 dump "$MNT$SECRET")" ENOENT
check_eq "uid 4242 gets nothing" "$(xa 4242 4242 dump "$MNT$GA")" EACCES
command -v getfattr > /dev/null ||
	timeout 120 apt-get install -y -qq attr > "$T_TMP/apt.log" 2>&1 ||
	note "apt-get install attr failed: $(tail -n1 "$T_TMP/apt.log")"
if command -v getfattr > /dev/null; then
	check_eq "getfattr -d -m user.catalog" \
		"$(as_rs getfattr --absolute-names -d -m user.catalog "$MNT$GA" | grep -c '^user\.catalog\.')" 5
else
	note "getfattr (package attr) not installed: checked through os.getxattr only"
fi
check_eq "a directory above entries has none" "$(xa 1001 2001 list "$MNT/基础库")" ""
check_eq "a value that is not there" "$(sysop_as 1002 2002 getxattr "$MNT$GA" user.catalog.colour)" ENODATA
check_eq "/.poolfs files carry no attributes" "$(xa 1001 2001 list "$MNT/.poolfs/whoami")" ""
check "gongan writes a file into its entry" as_ga sh -c "echo 1,2 > '$MNT$GA/a.csv'"
check_eq "files keep user.poolfs.version" "$(xa 1001 2001 list "$MNT$GA/a.csv")" "user.poolfs.version"
check_eq "and no catalog attributes" "$(sysop_as 1001 2001 getxattr "$MNT$GA/a.csv" user.catalog.code)" ENODATA
check_eq "another user. name is just not there" "$(sysop_as 1001 2001 getxattr "$MNT$GA/a.csv" user.colour)" ENODATA
# unsupported, not absent: ls -l then stops asking for them file by file
for name in system.posix_acl_access system.posix_acl_default security.selinux; do
	check_eq "$name is not supported" "$(sysop_as 1001 2001 getxattr "$MNT$GA" "$name")" ENOTSUP
done
# gongan's lookup may have left the dentry cached: the daemon must decide
for name in system.posix_acl_access user.colour user.poolfs.version; do
	check "gongan still sees its share-none entry" as_ga test -d "$MNT$SECRET"
	check_eq "$name tells nothing of a name one may not look up" \
		"$(sysop_as 1002 2002 getxattr "$MNT$SECRET" "$name")" ENOENT
done

for who in "1001 2001" "0 0"; do
	set -- $who
	check_eq "uid $1 (provider or security_admin) may not set user.catalog.code" \
		"$(sysop_as "$1" "$2" setxattr "$MNT$GA" user.catalog.code X)" EPERM
	check_eq "uid $1 may not remove user.catalog.level" \
		"$(xa "$1" "$2" remove "$MNT$GA" user.catalog.level)" EPERM
done
check_eq "nor user.poolfs.version" "$(sysop_as 1001 2001 setxattr "$MNT$GA/a.csv" user.poolfs.version 9)" EPERM
check_eq "other attributes are not supported" "$(sysop_as 1001 2001 setxattr "$MNT$GA" user.colour red)" ENOTSUP
check_eq "the code is unchanged" "$(sysop_as 1002 2002 getxattr "$MNT$GA" user.catalog.code)" "OK:341800-GA-0001"

# ---- the policy changes them, at once ----
"$PY" - "$FIX" "$T_TMP/p2.json" <<'PY' || die "cannot write p2.json"
import json, sys
d = json.load(open(sys.argv[1]))
d["catalog"][0]["title"] = "户籍人口信息（新）"
d["catalog"][0]["level"] = 4
d["grants"] = []
json.dump(d, open(sys.argv[2], "w"), ensure_ascii=False, indent=1)
PY
check "apply a new title, level and no grant" pctl policy apply "$T_TMP/p2.json"
check_eq "the new title shows" "$(sysop_as 1001 2001 getxattr "$MNT$GA" user.catalog.title)" \
	"OK:户籍人口信息（新）"
check_eq "the new level shows" "$(sysop_as 1002 2002 getxattr "$MNT$GA" user.catalog.level)" "OK:4"
check_eq "renshe's catalog says the grant is gone" \
	"$(xa 1002 2002 access "$MNT/.poolfs/catalog.json" "$GA")" "False none"
check_eq "its size still matches a read" "$(xa 1002 2002 exact "$MNT/.poolfs/catalog.json" | cut -d' ' -f4)" True

check "the daemon still runs" kill -0 "$POOLFS_PID"
