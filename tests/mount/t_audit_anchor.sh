#!/usr/bin/env bash
# t_audit_anchor.sh - an audit log that cannot vanish, seen with the real
# poolctl and RocksDB's own ldb as the intruder: a log wiped with its head
# is not "intact: 0 records"; an anchor kept outside the store catches a
# rollback to an older copy of the whole store; a byte flipped in the last
# complete journal frame after a crash is a break, not a torn write.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup

command -v ldb > /dev/null || die "ldb not found (Debian rocksdb-tools; scripts/deps.sh installs it)"

# anchor_check DESC WANT_RC ANCHOR: audit verify --anchor exits WANT_RC; on
# failure it says one line naming the problem
anchor_check() {
	local desc=$1 want=$2 file=$3 out rc
	out=$(pctl audit verify --anchor "$file" 2>&1)
	rc=$?
	check_eq "$desc: verify --anchor exits $want ($(head -c 300 <<< "$out"))" "$rc" "$want"
	if [ "$want" = 1 ]; then
		check_eq "$desc: one line" "$(wc -l <<< "$out")" 1
		T_CHECKS=$((T_CHECKS + 1))
		grep -q '^audit log broken at seq [0-9]*: ' <<< "$out" || fail "$desc: printed '$out'"
	fi
	LAST_OUT=$out
}

pool_init
pool_mount
mkdir -p "$MNT/d" || die "mkdir on the mount failed"
for i in 1 2 3 4 5; do printf 'row %d\n' "$i" > "$MNT/d/f$i"; cat "$MNT/d/f$i" > /dev/null; done

# ---- the anchor, taken through the live daemon ----
check "audit anchor through the daemon" pctl audit anchor
pctl audit anchor > "$T_TMP/anchor1" 2> "$T_TMP/anchor.err" || fail "audit anchor: $(cat "$T_TMP/anchor.err")"
check_eq "the anchor is one line" "$(wc -l < "$T_TMP/anchor1")" 1
T_CHECKS=$((T_CHECKS + 1))
grep -qE '^poolfs-audit-anchor v1 seq=[0-9]+ time=[0-9T:.-]+Z algo=sha256 hash=[0-9a-f]{64} mac=[0-9a-f]{128}$' \
	"$T_TMP/anchor1" || fail "anchor line: $(cat "$T_TMP/anchor1")"
anchor_check "intact log, its anchor" 0 "$T_TMP/anchor1"
pctl audit anchor --json > "$T_TMP/anchor1.json" || fail "audit anchor --json failed"
anchor_check "the --json form of an anchor" 0 "$T_TMP/anchor1.json"
check_eq "anchor is recorded" "$(pctl audit query --op audit.anchor | wc -l)" 3
pool_umount

# a copy of the whole store as it is now, for a rollback later
cp -a "$STORE" "$T_TMP/store.old" || die "cp -a of the store failed"
pool_mount
for i in 6 7 8; do printf 'row %d\n' "$i" > "$MNT/d/f$i"; done
pctl audit anchor > "$T_TMP/anchor2" || fail "second audit anchor failed"
anchor_check "the first anchor on the grown log" 0 "$T_TMP/anchor1"
pool_umount

# ---- rollback: the older store, head and all, in place ----
mv "$STORE" "$T_TMP/store.new"
cp -a "$T_TMP/store.old" "$STORE"
check_rc "the rolled-back log verifies on its own (the blind spot)" 0 pctl audit verify
anchor_check "rolled back" 1 "$T_TMP/anchor2"
T_CHECKS=$((T_CHECKS + 1))
grep -q "before the anchored seq" <<< "$LAST_OUT" || fail "rollback: '$LAST_OUT'"
rm -rf "$STORE"
mv "$T_TMP/store.new" "$STORE"
anchor_check "back in place" 0 "$T_TMP/anchor2"

# ---- the anchor of another pool ----
pool_init "$T_TMP/other"
PSTORE=$T_TMP/other anchor_check "another pool's anchor" 1 "$T_TMP/anchor2"

# ---- wiped with ldb: every record, the head and the checkpoints ----
db=$STORE/db
ldb --db="$db" --column_family=audit deleterange 0x0000000000000000 0xFFFFFFFFFFFFFFFF --key_hex \
	> "$T_TMP/ldb.out" 2>&1 || die "ldb deleterange failed: $(cat "$T_TMP/ldb.out")"
for k in $(ldb --db="$db" --column_family=meta --hex scan 2> /dev/null | awk '{ print $1 }'); do
	case $k in
	0x61756469745F68656164 | 0x61756469745F6370*)	# audit_head, audit_cp<seq>
		ldb --db="$db" --column_family=meta --key_hex delete "$k" > /dev/null 2>&1 ||
			die "ldb delete $k failed" ;;
	esac
done
check_eq "ldb left no audit record" "$(ldb --db="$db" --column_family=audit scan 2> /dev/null | wc -l)" 0
out=$(pctl audit verify 2>&1)
rc=$?
check_eq "verify of a wiped log exits 1 ($out)" "$rc" 1
T_CHECKS=$((T_CHECKS + 1))
grep -q "intact" <<< "$out" && fail "a wiped log called intact: $out"
anchor_check "wiped" 1 "$T_TMP/anchor2"

# ---- a crash, then a byte flipped in the last complete journal frame ----
rm -rf "$STORE"
pool_init
pool_mount
for i in $(seq 1 30); do printf 'row %d\n' "$i" > "$MNT/f$i"; done
pool_kill9
j=$(ls "$STORE/journal" | grep '^audit\.' | tail -n1)
[ -n "$j" ] || die "no journal file left by the killed daemon"
# the offset of a record byte in the file's last frame (header 13, length 4)
at=$("$PY" -c '
import struct, sys
b = open(sys.argv[1], "rb").read()
off = last = 0
while off + 13 <= len(b) and b[off:off + 4] == b"PAJ1":
    body = struct.unpack(">I", b[off + 4:off + 8])[0]
    if off + 13 + body > len(b):
        break
    last, off = off, off + 13 + body
print(last + 13 + 4 + 20)' "$STORE/journal/$j")
"$PY" -c '
import sys
p, at = sys.argv[1], int(sys.argv[2])
with open(p, "r+b") as f:
    f.seek(at); c = f.read(1); f.seek(at); f.write(bytes([c[0] ^ 1]))' "$STORE/journal/$j" "$at"
pool_mount
check_rc "verify after an edited last frame exits 1" 1 pctl audit verify
check_eq "the open recorded the break" "$(pctl audit query --op audit_break | wc -l)" 1
check "the edited file is kept as refused" test -n "$(ls "$STORE/journal" | grep '^refused\.')"
pool_umount
