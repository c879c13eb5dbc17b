#!/usr/bin/env bash
# t_roundtrip.sh - cp, cat and rsync round trips of text and binary files
# of 0, 1, 4095, 4096 and 1 MiB+1 bytes and a 100 MiB binary file; each is
# read back with cat/cp/rsync, with fstat+read(st_size), pread and mmap,
# and again after a remount.
# timeout: 420
. "$(dirname "$0")/../lib.sh"
t_setup

pool_init
pool_mount

SIZES="0 1 4095 4096 1048577"
mkdir -p "$REF/src" "$T_TMP/back"
seed=1
for size in $SIZES; do
	for kind in binary text; do
		gen $seed "$size" $kind > "$REF/src/$kind-$size" || die "gen failed"
		seed=$((seed + 1))
	done
done
gen 99 $((100 << 20)) binary > "$REF/src/binary-100M" || die "gen failed"

# writes: cp into cp/, cat > into cat/, rsync into rs/ (rsync writes a
# temp file and renames it over the name)
mkdir -p "$MNT/cp" "$MNT/cat" "$MNT/rs" || die "mkdir in the mount failed"
for f in "$REF"/src/*; do
	n=$(basename "$f")
	check "cp $n into the pool" cp "$f" "$MNT/cp/$n"
	check "cat > $n in the pool" sh -c 'cat "$1" > "$2"' _ "$f" "$MNT/cat/$n"
done
check "rsync into the pool" rsync -a "$REF/src/" "$MNT/rs/"

verify_all() {
	local when=$1 f n d
	for f in "$REF"/src/*; do
		n=$(basename "$f")
		for d in cp cat rs; do
			check_eq "$when: stat size of $d/$n" "$(stat -c %s "$MNT/$d/$n" 2>&1)" "$(stat -c %s "$f")"
			check_same "$when: $d/$n read with cmp" "$MNT/$d/$n" "$f"
		done
		rm -f "$T_TMP/back/$n"
		check "$when: cat $n out" sh -c 'cat "$1" > "$2"' _ "$MNT/cat/$n" "$T_TMP/back/$n" &&
			check_same "$when: cat out of cat/$n" "$T_TMP/back/$n" "$f"
		rm -f "$T_TMP/back/$n"
		check "$when: cp $n out" cp "$MNT/cp/$n" "$T_TMP/back/$n" &&
			check_same "$when: cp out of cp/$n" "$T_TMP/back/$n" "$f"
		rm -f "$T_TMP/back/$n"
		case $n in *100M) continue ;; esac
		check_run "$when: fstat+read(st_size), pread, mmap of rs/$n" \
			"$PY" "$HELPERS/readcheck.py" "$MNT/rs/$n" "$f"
	done
	rm -rf "$T_TMP/back"
	check "$when: rsync out of the pool" rsync -a "$MNT/rs/" "$T_TMP/back/"
	check "$when: rsync copy equals the source" diff -r "$T_TMP/back" "$REF/src"
	# a checksum pass must find nothing to transfer
	check_eq "$when: rsync --checksum dry run lists no changes" \
		"$(rsync -rni --checksum "$REF/src/" "$MNT/rs/" 2>&1)" ""
	check_eq "$when: listing of rs/" "$(ls "$MNT/rs" 2>&1 | tr '\n' ' ')" \
		"$(ls "$REF/src" | tr '\n' ' ')"
}

verify_all "mounted"
pool_umount
pool_mount
verify_all "after remount"

# overwrite a larger file with a smaller one through each tool
check "cp small over large" cp "$REF/src/text-4095" "$MNT/cp/binary-1048577"
check_same "cp small over large" "$MNT/cp/binary-1048577" "$REF/src/text-4095"
check "cat small over large" sh -c 'cat "$1" > "$2"' _ "$REF/src/binary-1" "$MNT/cat/binary-100M"
check_same "cat small over large" "$MNT/cat/binary-100M" "$REF/src/binary-1"
daemon_ok "round trips"
