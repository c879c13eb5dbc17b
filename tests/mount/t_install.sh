#!/usr/bin/env bash
# t_install.sh - `make install` with DESTDIR and PREFIX puts the binaries,
# poolfs@.service (pointing at the installed poolfs), the man pages
# poolfs(8) and poolctl(8) and the example mount file where the Makefile
# says; the man pages pass mandoc -T lint and groff -ww, render with
# man -l, and name every poolctl command and every poolfs -o option the
# programs' own --help lists.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup

for tool in mandoc groff man col; do
	command -v "$tool" > /dev/null || die "$tool not found (scripts/deps.sh installs mandoc and groff-base)"
done

# install_to DESTDIR [make variables...]
install_to() {
	local dest=$1
	shift
	make -s -C "$T_ROOT" BUILD="$BUILD" DESTDIR="$dest" "$@" install > "$T_TMP/make.out" 2>&1
}

D=$T_TMP/root
check "make install DESTDIR=... (PREFIX /usr/local)" install_to "$D"
for f in usr/local/bin/poolfs usr/local/bin/poolctl; do
	check "$f is installed executable" test -x "$D/$f"
done
check "the installed poolfs is the built one" cmp "$D/usr/local/bin/poolfs" "$POOLFS"
check "and poolctl" cmp "$D/usr/local/bin/poolctl" "$POOLCTL"
for f in usr/local/share/man/man8/poolfs.8 usr/local/share/man/man8/poolctl.8 \
	usr/local/lib/systemd/system/poolfs@.service usr/local/share/doc/poolfs/mount.conf.example \
	usr/local/share/doc/poolfs/admin-guide.md; do
	check "$f is installed" test -f "$D/$f"
done
check "/etc/poolfs/mounts is made" test -d "$D/etc/poolfs/mounts"
check_eq "the unit runs the installed poolfs" \
	"$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$D/usr/local/lib/systemd/system/poolfs@.service")" \
	/usr/local/bin/poolfs
check_fails "no man page is left in section 1" test -e "$D/usr/local/share/man/man1"
if [ -e /sbin/mount.fuse ] || [ -e /usr/sbin/mount.fuse ]; then
	check_fails "no mount.fuse.poolfs where fuse3's mount.fuse serves" test -e "$D/sbin/mount.fuse.poolfs"
fi

D2=$T_TMP/opt
check "make install PREFIX=/opt/poolfs" install_to "$D2" PREFIX=/opt/poolfs
check "poolfs under the prefix" test -x "$D2/opt/poolfs/bin/poolfs"
check_eq "and the unit follows the prefix" \
	"$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$D2/opt/poolfs/lib/systemd/system/poolfs@.service")" \
	/opt/poolfs/bin/poolfs

note "man pages"
for page in poolfs.8 poolctl.8; do
	m=$D/usr/local/share/man/man8/$page
	check_eq "mandoc -T lint -W warning $page says nothing" "$(mandoc -T lint -W warning "$m" 2>&1)" ""
	check_eq "groff -ww $page says nothing" \
		"$(groff -K utf8 -T utf8 -ww -man -z "$m" 2>&1)" ""
	MANWIDTH=200 man -l "$m" 2> "$T_TMP/man.err" | col -b > "$T_TMP/$page.txt"
	check_eq "man -l $page renders without a message" "$(cat "$T_TMP/man.err")" ""
	check "with a NAME section" grep -qx "NAME" "$T_TMP/$page.txt"
done

# every command poolctl --help lists has its entry (an indented tag) in poolctl(8)
"$POOLCTL" --help | sed -n '/^commands:/,/^$/p' | sed -n 's/^  \([a-z][a-z ]*[a-z]\)  .*/\1/p' \
	> "$T_TMP/commands"
check "poolctl --help lists commands" test -s "$T_TMP/commands"
while read -r cmd; do
	check "poolctl(8) documents \"$cmd\"" grep -qE "^ {7}$cmd( |$)" "$T_TMP/poolctl.8.txt"
done < "$T_TMP/commands"
check "and its synopsis shows it too" grep -qE "^ +poolctl -s STORE status" "$T_TMP/poolctl.8.txt"

# every -o option in poolfs's usage line is in poolfs(8)
"$POOLFS" --help 2>&1 | head -n1 | grep -oE '\-o [a-z_]+' | sed 's/^-o //' | sort -u > "$T_TMP/options"
check "poolfs --help lists -o options" test -s "$T_TMP/options"
while read -r opt; do
	check "poolfs(8) documents -o $opt" grep -qE -- "-o $opt" "$T_TMP/poolfs.8.txt"
done < "$T_TMP/options"
