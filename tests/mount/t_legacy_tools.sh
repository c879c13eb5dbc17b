#!/usr/bin/env bash
# t_legacy_tools.sh - the tools a department runs as itself (not root)
# keep what they keep on a local disk: `cp -a` and `rsync -a` of files
# others own exit 0 and keep modes and times to the nanosecond, tar keeps
# them to the second, make rebuilds by mtime. A chown by anyone but root
# is POSIX's restricted one (docs/filesystem.md "Mode bits"): a file given
# away made cp -a's ACL copy fail in the kernel (EPERM, exit 1). A
# truncate to the size a file has marks it modified (make's `: > stamp`
# ran again and again). `ls -l`
# sizes, raw and masked, and mtimes are the same after a remount.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
# run under `make test`, make would inherit its level: the messages
# compared below are a top-level make's
unset MAKELEVEL MAKEFLAGS MFLAGS
t_setup
t_setup_readers

FIX=$HELPERS/policy_write.json
GA=/基础库/人口/户籍人口		# gongan's entry
GA2=/基础库/人口/流动人口	# gongan; renshe reads rows of 宣州区 only
GAU=(1001 2001); RSU=(1002 2002)

pool_init
check "apply the fixture" pctl policy apply "$FIX"
POOLFS_OPTS=
pool_mount

# root's files, as a department copies them from a shared disk
SRC=$PUB/src
mkdir -p "$SRC/sub" && head -c 300000 /dev/urandom > "$SRC/a.bin" && echo hi > "$SRC/sub/b.txt" &&
	chmod 0604 "$SRC/a.bin" && chmod 0705 "$SRC/sub" && ln -s a.bin "$SRC/lnk" &&
	touch -d '2020-03-04 05:06:07.123456789' "$SRC/a.bin" "$SRC/sub/b.txt" &&
	touch -h -d '2019-01-01 00:00:01' "$SRC/lnk" && touch -d '2018-01-01 00:00:02.5' "$SRC/sub" ||
	die "cannot make $SRC"

# listing DIR [fmt]: name, mode, size of files and links, mtime of each
listing() {	# as gongan: root is in no department that reads GA
	as "${GAU[@]}" sh -c 'cd "$1" && shift && exec "$@"' sh "$1" find . -mindepth 1 \( -type d -printf "%p %M - ${2:-%T@}\n" \) -o \
		\( ! -type d -printf "%p %M %s ${2:-%T@}\n" \) | sort
}

for tool in "cp -a" "rsync -a"; do
	[ "$tool" = "rsync -a" ] && ! command -v rsync > /dev/null && { note "no rsync: skipped"; continue; }
	dst=$MNT$GA/${tool%% *}
	check "$tool as gongan of files root owns exits 0" as "${GAU[@]}" $tool "$SRC/" "$dst"
	check "$tool keeps names, modes, sizes and mtimes" diff <(listing "$SRC") <(listing "$dst")
	check_eq "$tool: the copies are gongan's" "$(as "${GAU[@]}" stat -c %u:%g "$dst/a.bin")" 1001:2001
	check "$tool: the bytes" as "${GAU[@]}" cmp "$SRC/a.bin" "$dst/a.bin"
done

check "tar round trip as gongan" as "${GAU[@]}" sh -c \
	'mkdir "$2" && tar -C "$1" -cf - . | tar -C "$2" -xpf -' sh "$SRC" "$MNT$GA/tar"
check "tar keeps names, modes, sizes and mtimes to the second" \
	diff <(listing "$SRC" %Ts) <(listing "$MNT$GA/tar" %Ts)

# chown: the owner changes the group to one of its own; nobody but root
# gives a file away or changes another's
T=$MNT$GA/cp/sub/b.txt
printf '身份证号,姓名,区县\n' | as "${RSU[@]}" sh -c 'cat > "$1"' sh "$MNT$GA/theirs" ||
	fail "renshe cannot write GA/theirs"
check_fails "gongan gives its file to root" as "${GAU[@]}" chown 0 "$T"
check_fails "gongan moves its file to renshe's group" as "${GAU[@]}" chgrp 2002 "$T"
check_fails "gongan, as uid 1001, changes the group of a file 1002 owns" \
	as "${GAU[@]}" chgrp 2001 "$MNT$GA/theirs"
check_eq "gongan's file is still gongan's" "$(as "${GAU[@]}" stat -c %u:%g "$T")" 1001:2001
check "the denial names chown in the audit log" sh -c \
	"'$POOLCTL' -s '$STORE' audit query --denied --op setattr --path '$GA/cp/sub/b.txt' | grep -q 'reason=\"chown:'"
check "gongan's group change of its own file to its group" \
	timeout 60 setpriv --reuid 1001 --regid 2001 --groups 2001,3001 chgrp 3001 "$T"
check_eq "the group is changed" "$(as "${GAU[@]}" stat -c %u:%g "$T")" 1001:3001

# make compares mtimes
as "${GAU[@]}" sh -c 'mkdir "$1" && cd "$1" && printf "out: in\n\tcp in out\n" > Makefile &&
	echo 1 > in && make -s' sh "$MNT$GA/mk" > /dev/null 2>&1 || fail "make in the pool failed"
check_eq "make: nothing to do after a build" \
	"$(as "${GAU[@]}" make -C "$MNT$GA/mk" --no-print-directory 2>&1)" "make: 'out' is up to date."
as "${GAU[@]}" sh -c 'echo 2 > "$1/in"' sh "$MNT$GA/mk"
check_eq "make: the newer input is rebuilt" \
	"$(as "${GAU[@]}" make -C "$MNT$GA/mk" --no-print-directory 2>&1)" "cp in out"

# a truncate that keeps the size is a change: make's `: > stamp` idiom
as "${GAU[@]}" sh -c 'cd "$1" && printf "stamp: in\n\t: > stamp\n" > Makefile.s &&
	make -s -f Makefile.s && touch -d 2020-01-01 stamp && make -s -f Makefile.s' sh "$MNT$GA/mk" \
	> /dev/null 2>&1 || fail "make of an empty stamp failed"
check_eq "make: \`: > stamp\` of an empty stamp makes it new" \
	"$(as "${GAU[@]}" make -C "$MNT$GA/mk" -f Makefile.s --no-print-directory 2>&1)" \
	"make: 'stamp' is up to date."
as "${GAU[@]}" sh -c 'echo abc > "$1" && touch -d 2020-01-01 "$1" && truncate -s 4 "$1"' sh \
	"$MNT$GA/mk/t" || fail "truncate -s 4 failed"
check "truncate to the same size marks the file modified" \
	test "$(as "${GAU[@]}" stat -c %Y "$MNT$GA/mk/t")" -gt 1577836800

# sizes across a remount: renshe's view of GA2 leaves 郎溪县's row out
printf '身份证号,姓名,区县\n341802199001011234,张三丰,宣州区\n341802199202022345,李四,郎溪县\n' |
	as "${GAU[@]}" sh -c 'cat > "$1"' sh "$MNT$GA2/p.csv" || fail "write GA2/p.csv"
views() {
	as "${GAU[@]}" ls -lR --time-style=+%s.%N "$MNT$GA" "$MNT$GA2"
	as "${RSU[@]}" ls -l --time-style=+%s.%N "$MNT$GA2"
	as "${RSU[@]}" wc -c < "$MNT$GA2/p.csv"
}
views > "$T_TMP/views.1" 2>&1
want=$(printf '身份证号,姓名,区县\n341802********1234,张三丰,宣州区\n' | wc -c)
check_eq "renshe's size of p.csv is its view's (the row left out)" \
	"$(as "${RSU[@]}" stat -c %s "$MNT$GA2/p.csv")" "$want"
pool_umount
pool_mount
views > "$T_TMP/views.2" 2>&1
check "ls -l sizes and mtimes, raw and masked, are the same after a remount" \
	diff "$T_TMP/views.1" "$T_TMP/views.2"
check "the daemon still serves" daemon_alive
