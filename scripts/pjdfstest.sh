#!/usr/bin/env bash
# scripts/pjdfstest.sh PJDDIR [TEST...] - runs pjdfstest (built from its
# public source in PJDDIR: autoreconf -ifs && ./configure && make pjdfstest)
# as root inside a catalog entry of a department mount (-o dept=pjd), the
# way a department's tools see poolfs. The policy maps root and the uids
# and gids pjdfstest switches to (65531-65534) to one department that
# provides the entry. TESTs are paths below PJDDIR/tests (default: all).
# truncate/12.t and ftruncate/12.t (a 900 TB truncate) are skipped unless
# PJD_HUGE=1. The store sits on a tmpfs. Prints prove's summary; KEEP=1 keeps the pool for a look.
# Not part of `make test`: a full run takes several minutes.
set -u
PJD=${1:?usage: scripts/pjdfstest.sh PJDDIR [TEST...]}
shift
PJD=$(cd "$PJD" && pwd) || exit 2
[ -x "$PJD/pjdfstest" ] || { echo "no $PJD/pjdfstest: build it first" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "pjdfstest needs root" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
TMP=$(mktemp -d /tmp/poolfs-pjd.XXXXXX) || exit 2
chmod 0755 "$TMP"
STORE=$TMP/store/pool MNT=$TMP/mnt
mkdir -p "$MNT" "$TMP/store"
PID=
cleanup() {
	cd /
	if [ -n "$PID" ]; then
		fusermount3 -u "$MNT" 2> /dev/null || umount -l "$MNT" 2> /dev/null
		wait "$PID" 2> /dev/null
	fi
	umount "$TMP/store" 2> /dev/null
	[ "${KEEP:-0}" = 1 ] && echo "kept $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT
# a tmpfs under the store: this checks semantics, and a synced write per
# call on a busy disk makes the full run take hours
mount -t tmpfs -o size=2g tmpfs "$TMP/store" || exit 2
# root runs the suite as a member of pjd: it applies as root, so no role
# names it (a role holder is no department member, docs/policy.md)
cat > "$TMP/policy.json" <<'JSON'
{"version": 1,
 "roles": {"security_admin": {"uids": [65530]}, "auditor": {"uids": [65530]},
           "system_admin": {"uids": [65530]}},
 "departments": [{"id": "pjd", "name": "pjdfstest",
   "members": {"uids": [0, 65531, 65532, 65533, 65534],
               "gids": [0, 65531, 65532, 65533, 65534]}}],
 "catalog": [{"path": "/pjd/t", "code": "PJD-1", "title": "pjdfstest",
   "provider": "pjd", "share": "none", "open": "none", "level": 1,
   "format": "other", "encoding": "utf-8"}],
 "grants": []}
JSON
"$BUILD/poolctl" init "$STORE" > /dev/null || exit 2
"$BUILD/poolctl" -s "$STORE" policy apply "$TMP/policy.json" > /dev/null || exit 2
"$BUILD/poolfs" "$STORE" "$MNT" -f -o dept=pjd > "$TMP/poolfs.log" 2>&1 &
PID=$!
for ((i = 0; i < 100; i++)); do
	[ -d "$MNT/pjd/t" ] && break
	sleep 0.1
done
[ -d "$MNT/pjd/t" ] || { echo "mount failed:"; cat "$TMP/poolfs.log"; exit 2; }
tests=()
if [ $# -gt 0 ]; then
	for t in "$@"; do tests+=("$PJD/tests/$t"); done
else
	for t in "$PJD"/tests/*/*.t; do
		case $t in */truncate/12.t | */ftruncate/12.t)
			[ "${PJD_HUGE:-0}" = 1 ] || continue ;;
		esac
		tests+=("$t")
	done
fi
cd "$MNT/pjd/t" || exit 2
# PJD_CMD="..." runs that shell command in the entry instead (for a look)
[ -n "${PJD_CMD:-}" ] && { sh -c "$PJD_CMD"; exit; }
prove ${PROVE_OPTS:--v} "${tests[@]}"
