#!/usr/bin/env bash
# t_badinput.sh - bad input gets a clear error and the daemon keeps serving:
# a STORE that is not a pool, a missing or already-used mountpoint, names
# over 255 bytes, FIFOs and device nodes, hard links, the reserved names,
# and symlinks that point out of the pool.
# timeout: 180
. "$(dirname "$0")/../lib.sh"
t_setup

# ---- before any mount: the command line ----
mkdir -p "$T_TMP/notapool"
echo "just a file" > "$T_TMP/notapool/README"
one_line_exit2() {
	local desc=$1 rc
	shift
	T_CHECKS=$((T_CHECKS + 1))
	timeout 30 "$@" > "$T_TMP/o" 2> "$T_TMP/e"
	rc=$?
	if [ $rc != 2 ]; then
		fail "$desc: exit $rc, want 2 (stderr: $(head -c 200 "$T_TMP/e"))"
	elif [ "$(wc -l < "$T_TMP/e")" != 1 ]; then
		fail "$desc: want a one-line error, got: $(head -c 300 "$T_TMP/e")"
	fi
	if is_mounted "$T_TMP/m2"; then
		fail "$desc: something got mounted on $T_TMP/m2"
		fusermount3 -u "$T_TMP/m2"
	fi
}
mkdir -p "$T_TMP/m2"
one_line_exit2 "poolfs on a directory that is not a pool" "$POOLFS" "$T_TMP/notapool" "$T_TMP/m2" -f -o allow_all
one_line_exit2 "poolfs on a missing store" "$POOLFS" "$T_TMP/nostore" "$T_TMP/m2" -f -o allow_all
one_line_exit2 "poolctl on a directory that is not a pool" "$POOLCTL" -s "$T_TMP/notapool" stats
one_line_exit2 "poolctl on a missing store" "$POOLCTL" -s "$T_TMP/nostore" stats
check_eq "the non-pool directory is untouched" "$(ls -A "$T_TMP/notapool")" README
pool_init
one_line_exit2 "poolctl init on an existing pool" "$POOLCTL" init "$STORE"
one_line_exit2 "poolfs with a missing mountpoint" "$POOLFS" "$STORE" "$T_TMP/nomnt" -f -o allow_all
one_line_exit2 "poolfs without a mountpoint" "$POOLFS" "$STORE"

pool_mount
echo hello > "$MNT/hello"
# a second daemon on the same mountpoint, and on the same store elsewhere
nmounts() { awk -v m="$1" '$5 == m' /proc/self/mountinfo | wc -l; }
one_line_exit2 "poolfs on an already mounted mountpoint" "$POOLFS" "$STORE" "$MNT" -f -o allow_all
if [ "$(nmounts "$MNT")" != 1 ]; then
	fail "a second poolfs mounted over $MNT ($(nmounts "$MNT") mounts there)"
	fusermount3 -u "$MNT"
fi
mkdir -p "$T_TMP/m3"
T_CHECKS=$((T_CHECKS + 1))
timeout 30 "$POOLFS" "$STORE" "$T_TMP/m3" -f -o allow_all > "$T_TMP/o" 2>&1
rc=$?
case $rc in
0 | 124) fail "a second poolfs on a store in use ran (exit $rc) instead of refusing" ;;
*) note "second poolfs on the same store: exit $rc: $(head -n1 "$T_TMP/o")" ;;
esac
is_mounted "$T_TMP/m3" && { fail "a second daemon mounted the same store"; fusermount3 -u "$T_TMP/m3"; }
daemon_ok "second mounts"
check_eq "first mount still has its file" "$(cat "$MNT/hello")" hello

# ---- names ----
n255=$(printf 'a%.0s' $(seq 255))
n256=$(printf 'b%.0s' $(seq 256))
n300=$(printf 'c%.0s' $(seq 300))
u258=$(printf '数%.0s' $(seq 86))	# 86 x 3 bytes = 258 bytes
check_errno "create with a 255-byte name" OK create "$MNT/$n255"
check_eq "the 255-byte name lists" "$(ls "$MNT" | grep -c "^$n255\$")" 1
check_errno "create with a 256-byte name" ENAMETOOLONG create "$MNT/$n256"
check_errno "mkdir with a 300-byte name" ENAMETOOLONG mkdir "$MNT/$n300"
check_errno "258-byte UTF-8 name (86 characters)" ENAMETOOLONG create "$MNT/$u258"
check_errno "stat of a 256-byte name" ENAMETOOLONG stat "$MNT/$n256"
check_errno "rename to a 256-byte name" ENAMETOOLONG rename "$MNT/hello" "$MNT/$n256"
check_errno "symlink with a 256-byte name" ENAMETOOLONG symlink hello "$MNT/$n256"
daemon_ok "long names"

# ---- node types, links, reserved names ----
check_errno "mkfifo" EPERM mkfifo "$MNT/fifo"
check_errno "mknod of a character device" EPERM mknod-chr "$MNT/null"
check_errno "hard link" EPERM link "$MNT/hello" "$MNT/hello2"
check_eq "hello unchanged after the link attempt" "$(cat "$MNT/hello")" hello
mkdir -p "$MNT/sub"
# reserved(DESC, NAME-PATH, OP...): where the reserved name resolves (every
# DIR/.versions, /.snapshots, /.poolfs) the kernel answers first, with
# EEXIST (or EISDIR for a rename onto it); where it does not, poolfs must
# say EPERM. Either way nothing may be created.
reserved() {
	local desc=$1 path=$2 got resolves=0
	shift 2
	T_CHECKS=$((T_CHECKS + 1))
	stat "$path" > /dev/null 2>&1 && resolves=1
	got=$(sysop "$@")
	if [ $resolves = 1 ]; then
		case $got in
		EPERM | EEXIST | EISDIR) ;;
		*) fail "$desc: gave $got, want EPERM (or EEXIST/EISDIR: the name resolves)" ;;
		esac
	elif [ "$got" != EPERM ]; then
		fail "$desc: gave $got, want EPERM"
	fi
}
for r in .versions .snapshots .poolfs; do
	reserved "create $r at the root" "$MNT/$r" create "$MNT/$r"
	reserved "mkdir $r in a subdirectory" "$MNT/sub/$r" mkdir "$MNT/sub/$r"
	reserved "create $r in a subdirectory" "$MNT/sub/$r" create "$MNT/sub/$r"
	reserved "rename a file to $r" "$MNT/sub/$r" rename "$MNT/hello" "$MNT/sub/$r"
	reserved "symlink named $r" "$MNT/sub/$r" symlink hello "$MNT/sub/$r"
	reserved "mkdir $r at the root" "$MNT/$r" mkdir "$MNT/$r"
done
check_eq "no reserved name appears in a listing" "$(ls -A "$MNT" "$MNT/sub" | grep -c -E '^\.(versions|snapshots|poolfs)$')" 0
check_errno "sub/.versions is still the versions directory" OK stat "$MNT/sub/.versions"
check_eq "hello survives the reserved-name attempts" "$(cat "$MNT/hello")" hello
daemon_ok "node types and reserved names"

# ---- symlinks ----
# the kernel follows a symlink on the host, so a target outside the pool
# would read host files through the pool: refused when created
sym_refused() {
	local desc=$1 got
	T_CHECKS=$((T_CHECKS + 1))
	got=$(sysop symlink "$2" "$3")
	case $got in
	OK) fail "$desc: symlink $2 was created (reading it would leave the pool)" ;;
	EPERM | EACCES | EINVAL | EXDEV) note "$desc: $got" ;;
	*) fail "$desc: unexpected result $got" ;;
	esac
}
sym_refused "absolute target /etc/passwd" /etc/passwd "$MNT/sub/abs"
sym_refused "relative target escaping the root" ../../../../../../etc/passwd "$MNT/sub/rel"
sym_refused "relative target one level too high" ../../outside "$MNT/sub/up"
check_errno "a symlink inside the pool is fine" OK symlink ../hello "$MNT/sub/in"
check_eq "readlink" "$(readlink "$MNT/sub/in")" ../hello
check_eq "reading through the inside symlink" "$(cat "$MNT/sub/in" 2>&1)" hello
check_errno "a symlink to a sibling" OK symlink hello "$MNT/sib"
check_eq "reading through the sibling symlink" "$(cat "$MNT/sib" 2>&1)" hello
# a valid link must not become an escape by moving it: "../hello" in sub/
# is /hello, but moved to the root it would be the host's $T_TMP/hello
echo "HOST FILE OUTSIDE THE POOL" > "$T_TMP/hello"
got=$(sysop rename "$MNT/sub/in" "$MNT/in")
note "moving a ../ link to the root: $got"
T_CHECKS=$((T_CHECKS + 1))
if [ "$got" = OK ] && [ "$(cat "$MNT/in" 2> /dev/null)" = "HOST FILE OUTSIDE THE POOL" ]; then
	fail "a symlink moved to the root reads a host file outside the pool"
fi
mkdir -p "$MNT/sub/deeper/d2"
check_errno "a ../../hello link (sub/hello) two levels down" OK symlink ../../hello "$MNT/sub/deeper/d2/l"
got=$(sysop rename "$MNT/sub/deeper/d2" "$MNT/d2")
note "moving a directory holding a ../../ link to the root: $got"
T_CHECKS=$((T_CHECKS + 1))
if [ "$got" = OK ] && [ "$(cat "$MNT/d2/l" 2> /dev/null)" = "HOST FILE OUTSIDE THE POOL" ]; then
	fail "a symlink in a directory moved up reads a host file outside the pool"
fi
daemon_ok "symlinks"

# ---- odd paths ----
echo keep > "$MNT/sub/keep"
check_errno "open of a name with a trailing slash" ENOTDIR stat "$MNT/hello/"
check_errno "rmdir of a file" ENOTDIR rmdir "$MNT/hello"
check_errno "unlink of a directory" EISDIR unlink "$MNT/sub"
check_errno "rmdir of a non-empty directory" ENOTEMPTY rmdir "$MNT/sub"
check_errno "mkdir over a file" EEXIST mkdir "$MNT/hello"
check_errno "O_EXCL create of an existing file" EEXIST create "$MNT/hello"
check_errno "a file below a file" ENOTDIR create "$MNT/hello/x"
daemon_ok "odd paths"

pool_umount
pool_mount
check_eq "after remount: hello" "$(cat "$MNT/hello")" hello
check_errno "after remount: fifo was never made" ENOENT stat "$MNT/fifo"
