#!/usr/bin/env bash
# make demo: a demo pool with three departments, one dataset published by
# the police bureau (公安局), read through two departments' eyes.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DEMO=${DEMO_DIR:-/tmp/poolfs-demo}
POOLCTL=$BUILD/poolctl
POOLFS=$BUILD/poolfs
ENTRY=/基础库/人口/户籍人口

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (it acts as several uids with setpriv)" >&2; exit 2; }
[ -c /dev/fuse ] || { echo "demo: /dev/fuse is missing" >&2; exit 2; }

mounted() { grep -q " $1 fuse" /proc/self/mounts; }

if mounted "$DEMO/mnt"; then
  fusermount3 -u "$DEMO/mnt" || umount -l "$DEMO/mnt"
  sleep 0.5
fi
rm -rf "$DEMO"
mkdir -p "$DEMO/mnt"
chmod 0755 "$DEMO" "$DEMO/mnt"
install -m 0644 scripts/demo/people.csv "$DEMO/people.csv"

as() {	# as UID GID command...: run as a department member
  local uid=$1 gid=$2; shift 2
  setpriv --reuid "$uid" --regid "$gid" --clear-groups "$@"
}
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "create the pool and apply the sharing policy"
"$POOLCTL" init "$DEMO/store"
"$POOLCTL" -s "$DEMO/store" policy apply scripts/demo/policy.json
"$POOLFS" "$DEMO/store" "$DEMO/mnt"
# root is in no department here, so it may not even stat the mount: ask the kernel
for _ in $(seq 50); do mounted "$DEMO/mnt" && break; sleep 0.1; done
mounted "$DEMO/mnt" || { echo "demo: poolfs did not mount" >&2; exit 1; }

say "公安局 (uid 1001) publishes 户籍人口 with plain cp"
as 1001 2001 cp "$DEMO/people.csv" "$DEMO/mnt$ENTRY/people.csv"
as 1001 2001 ls -l "$DEMO/mnt$ENTRY"

say "公安局, the provider, reads it raw"
as 1001 2001 cat "$DEMO/mnt$ENTRY/people.csv"

say "人社局 (uid 1002, grant g1) reads the same file: fields removed, ID hashed, names and phones masked, only 宣州区 rows"
as 1002 2002 cat "$DEMO/mnt$ENTRY/people.csv" || echo "(denied)"

say "卫健委 (uid 1003, no grant) is refused"
as 1003 2003 cat "$DEMO/mnt$ENTRY/people.csv" || true

say "the decision for 人社局, explained"
"$POOLCTL" -s "$DEMO/store" explain --uid 1002 --gid 2002 "$ENTRY/people.csv" || true

say "a second version, and the first one still readable (and still masked)"
as 1001 2001 sh -c "sed 's/13812345678/13800000000/' '$DEMO/people.csv' > '$DEMO/mnt$ENTRY/people.csv'"
"$POOLCTL" -s "$DEMO/store" versions "$ENTRY/people.csv"
as 1002 2002 cat "$DEMO/mnt$ENTRY/.versions/people.csv/1" || echo "(denied)"

say "the audit log saw all of it"
"$POOLCTL" -s "$DEMO/store" audit query --limit 12 || true
"$POOLCTL" -s "$DEMO/store" audit verify || true

say "done"
echo "The pool stays mounted at $DEMO/mnt (store $DEMO/store)."
echo "Unmount with: fusermount3 -u $DEMO/mnt"
