#!/usr/bin/env bash
# t_concurrent.sh - several processes at once: 6 writing their own files,
# 4 appending records to one shared file (O_APPEND), 4 writing disjoint
# stripes of one file through their own descriptors. Afterwards every own
# file is whole, every appended record is there exactly once, untorn and
# in its writer's order, and the striped file holds every stripe.
# timeout: 240
. "$(dirname "$0")/../lib.sh"
t_setup

NOWN=6 OWNSIZE=$((3 << 20)) NAPP=4 COUNT=400 NSTRIPE=4 STRIPE=$((1 << 20))
C=$HELPERS/conc.py
pool_init
pool_mount
mkdir -p "$MNT/c" || die "mkdir failed"

run_round() {
	check_run "round $1: every writer exited 0" \
		"$PY" "$C" round "$MNT/c" $NOWN $OWNSIZE $NAPP $COUNT $NSTRIPE $STRIPE
}

# When an append is lost, say which versions were committed and the
# audit trail of the log's handles (who created, opened and committed
# what, in which order). FAIL- lines reach the CI summary.
append_evidence() {
	printf 'FAIL-INFO: %s: versions of /c/log (version:size): %s\n' "$1" \
		"$(pctl versions /c/log --json 2>&1 | "$PY" -c '
import json, sys
print(" ".join("%d:%d" % (v["version"], v["size"]) for v in json.load(sys.stdin)["versions"]))' 2>&1 | tail -c 600)"
	printf 'FAIL-INFO: %s: first records of /c/log (op pid result version bytes): %s\n' "$1" \
		"$(pctl audit query --path /c/log --json 2>&1 | "$PY" -c '
import json, sys
out = []
for line in sys.stdin:
    try:
        d = json.loads(line)
    except ValueError:
        continue
    if d.get("path") != "/c/log" or d.get("op") in ("lookup", "getattr"):
        continue
    out.append("%s/%s/%s/%s/%s" % (d.get("op"), d.get("pid"), d.get("result"),
                                   d.get("version"), d.get("bytes")))
print(" ".join(out[:60]))' 2>&1 | tail -c 2000)"
}

verify() {
	local when=$1 rc
	"$PY" "$C" verify-all "$MNT/c" $NOWN $OWNSIZE $NAPP $COUNT $NSTRIPE $STRIPE 2>&1 | sed 's/^/  /'
	rc=${PIPESTATUS[0]}
	check_eq "$when: own files whole (exit bit 1)" $((rc & 1)) 0
	check_eq "$when: shared O_APPEND file (exit bit 2)" $((rc & 2)) 0 ||
		append_evidence "$when"
	check_eq "$when: striped file (exit bit 4)" $((rc & 4)) 0
	check_eq "$when: verifier ran (exit below 8)" $((rc >= 8)) 0
}

run_round 1
verify "round 1"
# a second round on the same names (the files now have history), with
# the shared log emptied first
rm -f "$MNT/c/log"
run_round 2
verify "round 2"
pool_umount
pool_mount
verify "after remount"
daemon_ok "concurrent writers"
