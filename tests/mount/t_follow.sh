#!/usr/bin/env bash
# t_follow.sh - a reader that opens while a file is written follows the
# writing through the writer's own kernel inode (follow.py), also when
# the kernel forgot the file's first kernel inode and a handle made the
# daemon's entry for it again: the name keeps its one live kernel inode;
# a reader that opens through the kernel inode of a file unlinked or
# renamed over under its writer reads the old file with them.
# timeout: 60
. "$(dirname "$0")/../lib.sh"
t_setup

pool_init
pool_mount
check_run "follower on the writer's kernel inode" "$PY" "$HELPERS/follow.py" "$MNT/follow"
daemon_ok "follow"
