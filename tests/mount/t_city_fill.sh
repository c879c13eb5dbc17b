#!/usr/bin/env bash
# t_city_fill.sh - bench/city_fill, which fills bench/city.sh's pool
# store-side, makes the pool a daemon would: the audit chain verifies,
# every directory and file has its mkdir, create, write and release
# record, each file one version, and a mount serves the source tree
# byte for byte with its modes (an empty file and a 0600 one included).
# timeout: 60
. "$(dirname "$0")/../lib.sh"
t_setup

FILL=$BUILD/bench/city_fill
[ -x "$FILL" ] || die "$FILL not built"
GEN=$T_ROOT/bench/city_gen.py
D=/基础库/人口/gongan/人口-0000	# city_gen.py's first entry directory
# the native tree and the stream, by two writers sharing the pipe as
# city.sh's do, and two files of its own: empty, and mode 0600
pool_init
{
	"$PY" "$GEN" fill "$REF" 12 150 0 2 tee &
	"$PY" "$GEN" fill "$REF" 12 150 1 2 tee
	wait $! || echo "a fill writer failed" >&2
	: > "$REF$D/empty.csv"
	printf 'a,b\n1,2\n' > "$REF$D/private.csv"
	chmod 600 "$REF$D/private.csv"
	printf 'f 644 0 %s/empty.csv\nf 600 8 %s/private.csv\na,b\n1,2\n' "$D" "$D"
} > "$T_TMP/stream" || die "city_gen.py fill failed"
NFILES=$(find "$REF" -type f | wc -l)
NDIRS=$(find "$REF" -mindepth 1 -type d | wc -l)
check_eq "the stream's files" "$(grep -ac '^f [0-7]* [0-9]* /' "$T_TMP/stream")" "$NFILES"
check "city_fill fills the pool" sh -c "$(printf '%q' "$FILL") $(printf '%q' "$STORE") < $(printf '%q' "$T_TMP/stream")"
check "the audit chain verifies" pctl audit verify
check_eq "files in the pool" "$(stats_field files)" "$NFILES"
check_eq "directories in the pool" "$(stats_field dirs)" "$((NDIRS + 1))"
check_eq "one version per non-empty file" "$(stats_field versions)" "$((NFILES - 1))"
ops() { pctl audit query --op "$1" --json | wc -l; }
check_eq "mkdir records" "$(ops mkdir)" "$NDIRS"
check_eq "create records" "$(ops create)" "$NFILES"
check_eq "write records" "$(ops write)" "$((NFILES - 1))"
check_eq "release records" "$(ops release)" "$NFILES"
check "a write record names version 1 and its bytes" sh -c \
	"$(printf '%q' "$POOLCTL") -s $(printf '%q' "$STORE") audit query --op write --json \
	--path $(printf '%q' "$D/private.csv") | grep -q '\"bytes\":8,.*\"version\":1,'"

# a file in a directory the stream never made is refused, not guessed
pool_init "$T_TMP/store2"
check_fails "a file without its directory" sh -c \
	"printf 'f 644 3 /nowhere/x.csv\nabc' | $(printf '%q' "$FILL") $(printf '%q' "$T_TMP/store2")"

pool_mount
check "the mount serves the tree byte for byte" diff -r "$REF" "$MNT"
listing() { (cd "$1" && find . \( -type f -printf '%p f %m %s\n' \) -o -printf '%p %y %m\n' | sort); }
check_eq "names, types, modes and sizes" "$(listing "$MNT")" "$(listing "$REF")"
pool_umount
check "and the chain still verifies after the mount" pctl audit verify
