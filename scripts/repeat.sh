#!/usr/bin/env bash
# scripts/repeat.sh - run one test N times in a row and stop at the first
# failure: the loop behind "passes N runs in a row" claims.
#
#   scripts/repeat.sh mount|unit NAME N
#
# Prints one line per run (number, seconds, result) and a last line with
# the count; keeps the log of a failed run as build/test-logs/NAME.fail-K.
# Exits 1 at the first failure. Environment: BUILD (build).
set -u
[ $# = 3 ] || { echo "usage: $0 mount|unit NAME N" >&2; exit 2; }
KIND=$1 NAME=$2 N=$3
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
cd "$ROOT" || exit 2
for ((k = 1; k <= N; k++)); do
	t0=$(date +%s.%N)
	if BUILD=$BUILD bash tests/run.sh "$KIND" "$NAME" > /dev/null 2>&1; then
		res=ok
	else
		res=FAILED
		cp "$BUILD/test-logs/$NAME.log" "$BUILD/test-logs/$NAME.fail-$k" 2> /dev/null
	fi
	printf '%s run %d/%d %.1f s %s\n' "$(date +%T)" "$k" "$N" \
		"$(echo "$(date +%s.%N) - $t0" | bc)" "$res"
	[ "$res" = ok ] || { echo "repeat: $NAME failed at run $k of $N"; exit 1; }
done
echo "repeat: $NAME passed $N runs in a row"
