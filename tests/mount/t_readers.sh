#!/usr/bin/env bash
# t_readers.sh - descriptors keep what they opened, in fixed orders
# (readers.py): a reader of a version next to writers of the stage (the
# writers' pages and sizes never reach it, its short reads never cut
# the file for others), a reader across truncate() by path, and fstat()
# through a writer's descriptor of a file unlinked or renamed over, also
# when the name's next file goes the same way, and readers of a name
# that temp-then-rename keeps replacing or restore keeps switching.
# timeout: 60
. "$(dirname "$0")/../lib.sh"
t_setup

pool_init
# restore-reader: a pause inside each restore, where the reader opens
POOLFS_TEST_RESTORE_PAUSE_MS=20 pool_mount
for c in reader-pages reader-size reader-truncate gone-unlink gone-rename gone-twice rename-reader; do
	check_run "$c" "$PY" "$HELPERS/readers.py" "$c" "$MNT/$c"
done
check_run restore-reader env RESTORE_CTL="timeout 120 $POOLCTL -s $STORE" \
	RESTORE_PATH=/restore-reader "$PY" "$HELPERS/readers.py" restore-reader "$MNT/restore-reader"
daemon_ok "readers"
