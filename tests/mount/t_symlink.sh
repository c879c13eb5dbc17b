#!/usr/bin/env bash
# t_symlink.sh - no chain of symlinks leads out of the pool (DESIGN.md
# "Bad input"). The kernel resolves "up/.." as the parent of up's target,
# not lexically: with up -> ../../.. (the pool's root, fine alone),
# up/../secret is the host's file beside the mountpoint. Such a link is
# refused at symlink(); one that only escapes through a link made later,
# or after its directory moved, is refused at readlink() (every follow
# asks: the daemon does not let the kernel cache symlinks).
# timeout: 60
. "$(dirname "$0")/../lib.sh"
t_setup

pool_init
pool_mount
echo HOSTSECRET > "$T_TMP/secret.txt"
echo inside > "$T_TMP/inside.txt"
mkdir -p "$MNT/a/b/c" || die "mkdir failed"
echo pooled > "$MNT/f"

check_eq "a link to the pool's root is fine alone" "$(sysop symlink ../../.. "$MNT/a/b/c/up")" OK
check_eq "reading through it stays inside" "$(cat "$MNT/a/b/c/up/f")" pooled
check_eq "up/../secret.txt is refused" \
	"$(sysop symlink up/../secret.txt "$MNT/a/b/c/esc")" EPERM
check_eq "and deeper chains too" \
	"$(sysop symlink up/a/b/c/up/../secret.txt "$MNT/a/b/c/esc2")" EPERM
check_eq "a name that does not exist yet is taken for a directory" \
	"$(sysop symlink l2/x "$MNT/a/l1")" OK
check_eq "l2 -> l1/x makes a loop" "$(sysop symlink l1/x "$MNT/a/l2")" OK
check_eq "which is not followed: ELOOP, as POSIX has it" "$(sysop readlink "$MNT/a/l1")" ELOOP
check_eq "a link through links that stays inside is fine" \
	"$(sysop symlink up/a/b/../../f "$MNT/a/b/c/fine")" OK
check_eq "and reads the pool's file" "$(cat "$MNT/a/b/c/fine" 2>&1)" pooled
check_fails "nothing outside is read" grep -r HOSTSECRET "$MNT/a/b/c/esc" "$MNT/a/b/c/esc2"

# a link fine when made, whose first name later becomes a link
check_eq "x/../../../../secret.txt while x does not exist" \
	"$(sysop symlink x/../../../../secret.txt "$MNT/a/b/c/later")" OK
check_eq "x becomes a link to the root" "$(sysop symlink ../../.. "$MNT/a/b/c/x")" OK
check_eq "following the first link is refused" "$(sysop read "$MNT/a/b/c/later")" EPERM
check_eq "so is reading it" "$(sysop readlink "$MNT/a/b/c/later")" EPERM
check_fails "the host file is not read through it" grep -q HOSTSECRET "$MNT/a/b/c/later"

# a directory moved up makes the links in it climb further
mkdir -p "$MNT/d1/d2" || die "mkdir failed"
check_eq "d1/d2/l -> ../../f" "$(sysop symlink ../../f "$MNT/d1/d2/l")" OK
check_eq "reads f" "$(cat "$MNT/d1/d2/l" 2>&1)" pooled
check "d1/d2 moves to the root" mv "$MNT/d1/d2" "$MNT/d2"
check_eq "the link now escapes: refused" "$(sysop readlink "$MNT/d2/l")" EPERM
check_eq "and not followed" "$(sysop read "$MNT/d2/l")" EPERM
daemon_ok "symlink chains"
