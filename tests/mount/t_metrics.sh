#!/usr/bin/env bash
# t_metrics.sh - poolfs -o metrics=PATH keeps a Prometheus text file for
# node_exporter's textfile collector: valid format (promcheck.py), written
# again while the mount serves, and its counters move with what callers
# do: requests by operation, bytes written and read, a commit, a view
# build, denials, audit records and the audit latency histogram. A clean
# stop leaves poolfs_up 0 and no temporary file; a relative or
# unwritable PATH is refused at start with exit 2; a hard link or FIFO
# planted at the temporary name is neither written through nor waited on.
# timeout: 90
. "$(dirname "$0")/../lib.sh"
t_setup

FIX=$HELPERS/policy_service.json	# renshe reads gongan's entry with a hash mask
GA=/基础库/人口/户籍人口
AS_TIMEOUT=20
t_setup_metrics
printf '身份证号,姓名,区县\n341802199001011234,张三丰,宣州区\n341802199202023456,李四,郎溪县\n' \
	> "$T_TMP/people.csv"
chmod 0644 "$T_TMP/people.csv"
SIZE=$(stat -c %s "$T_TMP/people.csv")

ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }

pool_init
check "apply the policy" pctl policy apply "$FIX"

note "bad metrics paths are refused at start"
check_rc "a relative -o metrics" 2 "$POOLFS" "$STORE" "$MNT" -f -o metrics=poolfs.prom
check_rc "a -o metrics in a missing directory" 2 "$POOLFS" "$STORE" "$MNT" -f \
	-o metrics="$T_TMP/missing/poolfs.prom"
check_eq "with one line that names it" \
	"$(grep -c "metrics=\"$T_TMP/missing/poolfs.prom\"" "$T_TMP/check.out")" 1
check_fails "and nothing mounted" is_mounted "$MNT"

POOLFS_OPTS=
pool_mount "$STORE" "$MNT" -o metrics="$PROM",metrics_interval=1
check "the file is there once the mount is" test -f "$PROM"
read -r up audit0 writes0 < <(prom poolfs_up poolfs_audit_records_total \
	'poolfs_requests_total{op="write"}' | paste -s)
check_eq "it is well formed and says poolfs_up 1, labelled with the mountpoint" "$up" 1

check "gongan publishes" as 1001 2001 cp "$T_TMP/people.csv" "$MNT$GA/people.csv"
T_CHECKS=$((T_CHECKS + 1))
wait_for 10 as 1001 2001 test -e "$MNT$GA/.versions/people.csv/1" ||
	fail "version 1 of people.csv did not appear within 10 s"
check_same "and reads back raw" <(as 1001 2001 cat "$MNT$GA/people.csv") "$T_TMP/people.csv"
as 1002 2002 cat "$MNT$GA/people.csv" > "$T_TMP/view.csv" 2> "$T_TMP/view.err"
check_eq "renshe reads its masked view" "$(grep -c 341802199001011234 "$T_TMP/view.csv")" 0
VIEW=$(stat -c %s "$T_TMP/view.csv")
check "of some bytes" test "$VIEW" -gt 0
for i in 1 2 3; do
	as 4242 4242 cat "$MNT$GA/people.csv" > /dev/null 2>&1
	as 4242 4242 ls "$MNT" > /dev/null 2>&1
done

# the file is rewritten every second: wait for it to show the commit
T_CHECKS=$((T_CHECKS + 1))
wait_for 15 sh -c '[ "$("$0" "$1" "$2" "poolfs_commits_total{mountpoint=\"$3\"}")" = 1 ]' \
	"$PY" "$HELPERS/promcheck.py" "$PROM" "$MNT" ||
	fail "the metrics file did not show the commit within 15 s: $(grep commits "$PROM")"
# one run of promcheck.py (python starts slowly on a loaded machine)
OPS=(lookup getattr create open read flush release)
mapfile -t v < <(prom poolfs_commits_total poolfs_written_bytes_total poolfs_read_bytes_total \
	poolfs_view_builds_total poolfs_denials_total 'poolfs_requests_total{op="write"}' \
	poolfs_audit_records_total poolfs_audit_append_seconds_count \
	'poolfs_audit_append_seconds_bucket{le="+Inf"}' \
	$(for op in "${OPS[@]}"; do echo "poolfs_requests_total{op=\"$op\"}"; done))
check_eq "the file is still well formed" "${#v[@]}" $((9 + ${#OPS[@]}))
check_eq "one commit" "${v[0]}" 1
check_eq "written bytes are the file's" "${v[1]}" "$SIZE"
check "read bytes hold the raw read and the view (${v[2]} >= $SIZE + $VIEW)" ge "${v[2]}" $((SIZE + VIEW))
check "a view was built" ge "${v[3]}" 1
check "six refusals were counted as denials" ge "${v[4]}" 6
check "writes were counted" ge "${v[5]}" $((writes0 + 1))
check "audit records were counted" ge "${v[6]}" $((audit0 + 3))
check "audit appends were timed" ge "${v[7]}" 1
check_eq "each in a bucket" "${v[8]}" "${v[7]}"
for i in "${!OPS[@]}"; do
	check "requests of ${OPS[$i]} were counted" ge "${v[$((9 + i))]}" 1
done
check_eq "a pool mount's dept label is empty" \
	"$(grep -c '^poolfs_up{mountpoint="'"$MNT"'",dept=""} 1$' "$PROM")" 1

note "what others plant at the temporary name (the textfile directory is node_exporter's)"
printf 'keep me\n' > "$T_TMP/victim"
# a hard link, as protected_hardlinks lets anyone make to a file of its own
ln -f "$T_TMP/victim" "$PROM.tmp" || fail "cannot link $PROM.tmp"
T_CHECKS=$((T_CHECKS + 1))
wait_for 15 sh -c '! [ "$0" -ef "$1" ]' "$PROM.tmp" "$T_TMP/victim" ||
	fail "the hard link at $PROM.tmp stayed 15 s"
check_eq "a hard link planted there is not written through" "$(cat "$T_TMP/victim")" "keep me"
rm -f "$PROM.tmp"
mkfifo "$PROM.tmp" || fail "cannot make a FIFO at $PROM.tmp"
T_CHECKS=$((T_CHECKS + 1))
wait_for 15 sh -c '! [ -p "$0" ]' "$PROM.tmp" ||
	fail "a FIFO planted there blocks the metrics thread (and so the stop)"
# unblock a writer stuck in open, so that the stop below can end
[ -p "$PROM.tmp" ] && timeout 5 cat "$PROM.tmp" > /dev/null
check "the file is still well formed" prom poolfs_up

pool_umount
check_eq "after a clean stop the file is well formed, says poolfs_up 0 and keeps the counts" \
	"$(prom poolfs_up poolfs_commits_total | paste -sd' ')" "0 1"
check_eq "no temporary file is left" "$(ls "$PROM_DIR")" poolfs.prom
