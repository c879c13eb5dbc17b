#!/usr/bin/env bash
# t_readers.sh - descriptors keep what they opened, in fixed orders
# (readers.py): a reader of a version next to writers of the stage (the
# writers' pages and sizes never reach it, its short reads never cut
# the file for others), a reader across truncate() by path, and fstat()
# through a writer's descriptor of a file unlinked or renamed over, also
# when the name's next file goes the same way, and readers of a name
# that temp-then-rename keeps replacing.
# timeout: 60
. "$(dirname "$0")/../lib.sh"
t_setup

pool_init
pool_mount
for c in reader-pages reader-size reader-truncate gone-unlink gone-rename gone-twice rename-reader; do
	check_run "$c" "$PY" "$HELPERS/readers.py" "$c" "$MNT/$c"
done
daemon_ok "readers"
