# tests/mount/backup_lib.sh - sourced by the backup tests (after tests/lib.sh)

# check_flipped_backup DEST ID WHAT: a copy of the backups in DEST with one
# byte flipped in the middle of the biggest file (a blob of chunks); verify
# of backup ID in it must exit 1 in one line that names that file
check_flipped_backup() {
	local bad=$T_TMP/bad victim out rc
	rm -rf "$bad"
	cp -a "$1" "$bad"
	victim=$(ls -S "$bad/shared_checksum" | head -n1)
	"$PY" -c '
import sys
f = sys.argv[1]
b = bytearray(open(f, "rb").read())
b[len(b) // 2] ^= 0x40
open(f, "wb").write(b)' "$bad/shared_checksum/$victim"
	out=$("$POOLCTL" backup verify "$bad" --id "$2" 2>&1)
	rc=$?
	check_eq "$3 exits 1 ($out)" "$rc" 1
	T_CHECKS=$((T_CHECKS + 1))
	grep -q "$victim" <<< "$out" || fail "verify does not name the damaged file $victim: $out"
	check_eq "one line" "$(wc -l <<< "$out")" 1
	rm -rf "$bad"
}
