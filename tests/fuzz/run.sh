#!/usr/bin/env bash
# tests/fuzz/run.sh - builds the libFuzzer targets for the format engines
# with clang (-fsanitize=fuzzer,address,undefined) straight from the
# sources and runs each for FUZZ_SECONDS (default 60).
#
#   tests/fuzz/run.sh [TARGET...]     TARGET: fuzz_csv fuzz_json (default both)
#
# Corpora grow in build-fuzz/corpus_TARGET (seeded from tests/golden);
# a crash leaves build-fuzz/crash-* and a non-zero exit.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${FUZZ_OUT:-$ROOT/build-fuzz}
SECS=${FUZZ_SECONDS:-60}
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(fuzz_csv fuzz_json)

if ! command -v clang > /dev/null; then
	echo "fuzz: installing clang" >&2
	SUDO=""
	[ "$(id -u)" -ne 0 ] && SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends clang > /dev/null
fi

SRC=(common/alloc.c common/strbuf.c common/error.c
     policy/desens/text.c policy/desens/mask.c policy/desens/desens.c policy/desens/fmt_csv.c
     policy/desens/csv_scan.c policy/desens/fmt_json.c policy/desens/json_scan.c
     policy/desens/nfc.c)
CFLAGS=(-std=c11 -D_GNU_SOURCE -g -O1 -I"$ROOT" -include common/banned.h
	-Wall -Wextra -Werror -Wno-unused-parameter
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all)

mkdir -p "$OUT"
cd "$ROOT"
rc=0
for t in "${TARGETS[@]}"; do
	case $t in
	fuzz_csv) exts="csv tsv"; opts='\x71\x00 \xf5\x03 \x10\x01 \x00\x00' ;;
	fuzz_json) exts="json jsonl"; opts='\x71\x00 \xf5\x03 \x11\x01 \x00\x00' ;;
	*) echo "fuzz: unknown target $t" >&2; exit 2 ;;
	esac
	clang "${CFLAGS[@]}" "${SRC[@]}" "tests/fuzz/$t.c" -o "$OUT/$t" -lcrypto
	seeds=$OUT/seeds_$t
	mkdir -p "$seeds" "$OUT/corpus_$t"
	n=0
	for ext in $exts; do
		for f in tests/golden/*.in."$ext"; do
			[ -e "$f" ] || continue
			for o in $opts; do
				n=$((n + 1))
				{ printf "$o"; cat "$f"; } > "$seeds/seed$n"
			done
		done
	done
	echo "fuzz: $t for ${SECS}s" >&2
	if ! "$OUT/$t" -max_total_time="$SECS" -max_len=8192 -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$OUT/$t-" \
		"$OUT/corpus_$t" "$seeds" 2> "$OUT/$t.log"; then
		echo "fuzz: $t FAILED; see $OUT/$t.log" >&2
		tail -n 30 "$OUT/$t.log" >&2
		rc=1
	else
		grep -E 'stat::number_of_executed_units|Done' "$OUT/$t.log" | tail -n 2 >&2
	fi
done
exit $rc
