#!/usr/bin/env bash
# t_write_failed.sh - a data batch carrying audit records fails with its
# outcome unknown (the RocksDB WAL write fails, tests/fault/shim.c): the
# records are journaled anyway with a store.write_failed record naming
# their range. After a clean restart `poolctl audit verify` passes: the
# commit's version and the policy version that never landed are not taken
# for a rollback, nor is the entry an unlink in such a write ended (docs/audit.md
# "A failed write"). A policy.apply in such
# a write leaves the policy in force unknown: poolfs refuses to serve
# until it is applied again.
# timeout: 90
. "$(dirname "$0")/../lib.sh"
t_setup

SHIM=$BUILD/tests/libfaultfs.so
[ -f "$SHIM" ] || die "$SHIM not built (make all)"
FIX=$HELPERS/policy_basic.json
CLEAR=$T_TMP/clear

# faulted_mount N: poolfs under the shim (only poolfs: the shim is no
# library for every program), failing every WAL write from the Nth one
# after $CLEAR is removed
FAULTED=$T_TMP/poolfs-faulted
cat > "$FAULTED" <<EOF
#!/bin/sh
exec env LD_PRELOAD="$SHIM" FAULT_DIR="$STORE" FAULT_OP=write FAULT_NTH=\${WF_NTH:-1} FAULT_ERRNO=EIO \\
	FAULT_MODE=sticky FAULT_MATCH=.log FAULT_CLEAR="$CLEAR" FAULT_LOG="$T_TMP/flog" \\
	ASAN_OPTIONS="\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}verify_asan_link_order=0" "$POOLFS" "\$@"
EOF
chmod +x "$FAULTED"
faulted_mount() {
	touch "$CLEAR"
	WF_NTH=$1 POOLFS=$FAULTED pool_mount
}
# verified_after WHAT: the disk well again, the fault fired once, and
# after an unmount `poolctl audit verify` passes
verified_after() {
	touch "$CLEAR"
	check_eq "the fault fired" "$(grep -c '^fault ' "$T_TMP/flog" 2> /dev/null)" 1
	pool_umount
	out=$(pctl audit verify 2>&1)
	check_eq "audit verify passes after $1 ($out)" "$?" 0
}

pool_init
check "apply policy version 1" pctl policy apply "$FIX"
POOLFS_OPTS=allow_all

# ---- a commit whose WAL write fails ----
faulted_mount 2
check "a write before the fault" "$PY" -c 'import os, sys
f = open(sys.argv[1], "w"); f.write("kept\n"); f.flush(); os.fsync(f.fileno()); f.close()' \
	"$MNT/kept"
# created and written with the disk well; fsync writes the staged rows, then the commit
check_fails "the commit under the fault fails" "$PY" -c 'import os, sys
f = open(sys.argv[1], "w"); f.write("lost\n"); f.flush(); os.remove(sys.argv[2])
os.fsync(f.fileno()); f.close()' "$MNT/lost" "$CLEAR"
verified_after "the failed commit"
check_eq "the log names the failed write" \
	"$(pctl audit query --json --op store.write_failed | grep -c '"result":-5')" 1
pool_mount
check_eq "the acknowledged write is stored" "$(cat "$MNT/kept")" kept
check "a write after the restart" sh -c "echo again > '$MNT/lost'"
pool_umount
out=$(pctl audit verify 2>&1)
check_eq "audit verify passes once the version number is reused ($out)" "$?" 0

# ---- a tree change whose WAL write fails: the entry it ends stays ----
rm -f "$T_TMP/flog"
faulted_mount 1
check "a file to unlink" sh -c "echo gone > '$MNT/gone'"
rm -f "$CLEAR"
check_fails "the unlink under the fault fails" rm "$MNT/gone"
verified_after "the failed unlink"
check_eq "the log names both failed writes" \
	"$(pctl audit query --json --op store.write_failed | grep -c '"result":-5')" 2

# ---- a policy.apply whose WAL write fails ----
"$PY" - "$FIX" "$T_TMP/revoked.json" <<'PY' || die "cannot write the revoking policy"
import json, sys
d = json.load(open(sys.argv[1]))
d["grants"] = []
json.dump(d, open(sys.argv[2], "w"), ensure_ascii=False)
PY
rm -f "$T_TMP/flog"
faulted_mount 1
rm -f "$CLEAR"
check_fails "policy apply under the fault fails" pctl policy apply "$T_TMP/revoked.json"
verified_after "the failed policy.apply"
out=$(timeout 30 "$POOLFS" "$STORE" "$MNT" -f 2>&1)
rc=$?
is_mounted "$MNT" && { fusermount3 -u "$MNT" 2> /dev/null || umount -l "$MNT"; }
check_eq "poolfs refuses to serve while the policy in force is unknown ($out)" "$rc" 2
check_eq "and says to apply it again" "$(grep -c 'apply the policy again' <<< "$out")" 1
check "apply the policy again" pctl policy apply "$T_TMP/revoked.json"
pool_mount
pool_umount
out=$(pctl audit verify 2>&1)
check_eq "audit verify passes after it is applied again ($out)" "$?" 0
