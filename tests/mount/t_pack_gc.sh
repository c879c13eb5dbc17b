#!/usr/bin/env bash
# t_pack_gc.sh - pack GC in the daemon (POOLFS_PACKS=1, docs/storage.md
# "Packs"), in an encrypted pool: masked JSON Lines views of renshe's land
# in a pack with a raw file; their eviction (view_budget) makes the pack
# mostly dead, and the daemon rewrites its live records and deletes it,
# while gongan holds the raw file open and reads it across the GC;
# packs/ shrinks, every file and view reads back the same, audit verify
# and scrub pass. Then poolctl key reencrypt re-seals the pack records:
# the old pack files are gone, and all reads back after a remount.
# timeout: 240
. "$(dirname "$0")/../lib.sh"
t_setup

FIX=$HELPERS/policy_bigview.json
JL=/基础库/人口/居住登记		# JSON Lines; renshe reads through g3
t_setup_readers
as() { local u=$1 g=$2; shift 2; timeout 120 setpriv --reuid "$u" --regid "$g" --clear-groups "$@"; }
asA() { as 1001 2001 "$@"; }
asB() { as 1002 2002 "$@"; }

export POOLFS_PACKS=1
POOLFS_OPTS=
pool_init
check "apply the fixture" pctl policy apply "$FIX"

# PUB/jN.jsonl: about 20 MiB each, no two alike
for n in 1 2 4; do
	"$PY" - "$PUB/j$n.jsonl" "$n" <<'PY' || die "cannot generate j$n"
import json, random, sys
r = random.Random(int(sys.argv[2]))
with open(sys.argv[1], "w") as f:
    for i in range(150000):
        f.write(json.dumps({"身份证号": "3418%014d" % r.randrange(10**14),
                            "姓名": "赵钱孙李"[r.randrange(4)] + "伟芳娜敏"[r.randrange(4)],
                            "住址": {"区县": "宣州区", "手机号": "139%08d" % r.randrange(10**8)},
                            "n": i, "r": r.random()}, ensure_ascii=False) + "\n")
PY
done
chmod 0644 "$PUB"/*

packs_bytes() { cat "$STORE"/packs/*.pack 2> /dev/null | wc -c; }

# ---- pack 1: raw files; pack 2: a raw file and two views, one evicted ----
pool_mount "$STORE" "$MNT" -o view_budget=32M
check "gongan writes j1" asA cp "$PUB/j1.jsonl" "$MNT$JL/j1.jsonl"
check "gongan writes j2" asA cp "$PUB/j2.jsonl" "$MNT$JL/j2.jsonl"
pool_umount
pool_mount "$STORE" "$MNT" -o view_budget=32M
check "gongan writes j4" asA cp "$PUB/j4.jsonl" "$MNT$JL/j4.jsonl"
asB cat "$MNT$JL/j1.jsonl" > "$T_TMP/v1" || fail "renshe cannot read the view of j1"
asB cat "$MNT$JL/j2.jsonl" > "$T_TMP/v2" || fail "renshe cannot read the view of j2"
check_eq "the views mask the IDs" "$(grep -c '"3418[0-9]\{14\}"' "$T_TMP/v1" "$T_TMP/v2")" \
	"$T_TMP/v1:0
$T_TMP/v2:0"
pool_umount
ls "$STORE"/packs > "$T_TMP/packs.before"
check_eq "two packs" "$(wc -l < "$T_TMP/packs.before")" 2
LAST=$STORE/packs/$(tail -n1 "$T_TMP/packs.before")
BEFORE=$(packs_bytes)

# ---- a reader holds j4 open; rebuilding v1 evicts v2: the pack is mostly dead ----
pool_mount "$STORE" "$MNT" -o view_budget=32M
rm -f "$PUB/ready" "$PUB/go"
asA "$UPY" - "$MNT$JL/j4.jsonl" "$PUB" > "$T_TMP/held" 2> "$T_TMP/held.err" <<'PY' &
import os, sys, time
with open(sys.argv[1], "rb") as f:
    head = f.read(3 << 20)
    open(sys.argv[2] + "/ready", "w").close()
    for _ in range(600):
        if os.path.exists(sys.argv[2] + "/go"):
            break
        time.sleep(0.1)
    sys.stdout.buffer.write(head + f.read())
PY
HELD=$!
wait_for 30 test -e "$PUB/ready" || fail "the reader of j4 did not start: $(cat "$T_TMP/held.err")"
asB cat "$MNT$JL/j1.jsonl" > "$T_TMP/v1b" || fail "renshe cannot read the view of j1 again"
T_CHECKS=$((T_CHECKS + 1))
wait_for 60 test ! -e "$LAST" || fail "the daemon did not delete $(basename "$LAST") after the eviction"
touch "$PUB/go"
wait $HELD || fail "the reader holding j4 failed: $(cat "$T_TMP/held.err")"
check_same "j4 read across the GC by a reader that held it open" "$T_TMP/held" "$PUB/j4.jsonl"
AFTER=$(packs_bytes)
note "pack bytes: $BEFORE before, $AFTER after"
T_CHECKS=$((T_CHECKS + 1))
[ "$AFTER" -lt "$BEFORE" ] || fail "packs/ did not shrink: $BEFORE bytes before, $AFTER after"
for n in 1 2 4; do
	check_same "j$n reads back" <(asA cat "$MNT$JL/j$n.jsonl") "$PUB/j$n.jsonl"
done
check_same "renshe's view of j1, rebuilt" "$T_TMP/v1b" "$T_TMP/v1"
check_same "renshe's view of j2, rebuilt" <(asB cat "$MNT$JL/j2.jsonl") "$T_TMP/v2"
check "audit verify" pctl audit verify
check_eq "scrub finds nothing damaged" \
	"$(pctl scrub 2>&1 | grep -o '[0-9]* damaged$')" "0 damaged"
check "the daemon still serves" daemon_alive
pool_umount

# ---- re-encryption re-seals every pack record ----
ls "$STORE"/packs > "$T_TMP/packs.old"
check "key rotate" pctl key rotate
check "key reencrypt of a pool with packs" pctl key reencrypt
T_CHECKS=$((T_CHECKS + 1))
ls "$STORE"/packs | grep -qxFf "$T_TMP/packs.old" &&
	fail "a pack file from before the re-encryption is still there: $(ls "$STORE"/packs)"
T_CHECKS=$((T_CHECKS + 1))
ls "$STORE"/packs/*.pack > /dev/null 2>&1 || fail "no pack after the re-encryption"
pool_mount "$STORE" "$MNT" -o view_budget=32M
for n in 1 2 4; do
	check_same "j$n after reencrypt" <(asA cat "$MNT$JL/j$n.jsonl") "$PUB/j$n.jsonl"
done
check_same "renshe's view of j2 after reencrypt" <(asB cat "$MNT$JL/j2.jsonl") "$T_TMP/v2"
check_eq "scrub after reencrypt" \
	"$(pctl scrub 2>&1 | grep -o '[0-9]* damaged$')" "0 damaged"
check "audit verify after reencrypt" pctl audit verify
check "the daemon still serves after reencrypt" daemon_alive
