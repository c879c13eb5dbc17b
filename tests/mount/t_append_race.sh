#!/usr/bin/env bash
# t_append_race.sh - every O_APPEND write lands at the end of the file
# as the daemon has it, whatever size the kernel inode believes: a
# reader of an older version that seeks to its end or reads past it, a
# commit by another handle, a reopen through /proc between two appends
# of one descriptor. Nothing is overwritten or zero-filled (appendrace.py).
# timeout: 60
. "$(dirname "$0")/../lib.sh"
t_setup

pool_init
pool_mount
mkdir -p "$MNT/a" || die "mkdir failed"
for c in reader-seek reader-read other-commit proc-reopen; do
	check_run "O_APPEND after $c lands at the end" "$PY" "$HELPERS/appendrace.py" "$c" "$MNT/a/$c"
done
daemon_ok "append race"
