#!/usr/bin/env bash
# t_restore.sh - restore as a reader of the mount sees it: content the
# kernel already cached is not served after a live restore, a reader that
# had the file open keeps its version, and a restore made with no daemon
# running shows after the next mount. (poolctl's own behaviour, exit codes
# and control socket are t_poolctl.sh's.)
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup

pool_init
pool_mount
mkdir -p "$MNT/p"
for v in 1 2 3; do
	gen $((70 + v)) $((v * 70000)) text > "$REF/v$v"
	cp "$REF/v$v" "$MNT/p/f"
	wait_version "$MNT/p" f $v
done

# v3 in the page cache and in an open reader
cat "$MNT/p/f" > /dev/null
exec 7< "$MNT/p/f"
head -c 100 <&7 > "$T_TMP/first100"
check "live restore of version 1" pctl restore /p/f --version 1
check_same "the mount shows v1 at once, not the cached v3" "$MNT/p/f" "$REF/v1"
check_eq "stat size after the restore" "$(stat -c %s "$MNT/p/f")" "$(stat -c %s "$REF/v1")"
check_run "fstat+read(st_size), pread, mmap after the restore" \
	"$PY" "$HELPERS/readcheck.py" "$MNT/p/f" "$REF/v1"
cat "$T_TMP/first100" - <&7 > "$T_TMP/reader"
exec 7<&-
check_same "a reader open across the restore read all of v3" "$T_TMP/reader" "$REF/v3"
check_same ".versions/f/4 is v1" "$MNT/p/.versions/f/4" "$REF/v1"

# a writer after the restore starts from the restored content
check "append after the restore" sh -c 'echo tail >> "$1"' _ "$MNT/p/f"
{ cat "$REF/v1"; echo tail; } > "$REF/v1tail"
check_same "append builds on the restored version" "$MNT/p/f" "$REF/v1tail"
wait_version "$MNT/p" f 5

pool_umount
check "offline restore of version 2" pctl restore /p/f --version 2
pool_mount
check_same "the next mount shows the offline restore" "$MNT/p/f" "$REF/v2"
check_same ".versions/f/6 is v2" "$MNT/p/.versions/f/6" "$REF/v2"
check_same ".versions/f/5 kept the appended version" "$MNT/p/.versions/f/5" "$REF/v1tail"
daemon_ok "restores"
