#!/usr/bin/env bash
# t_view_listing.sh - the first listing of a masked directory sizes every
# file by building its view (stat() shows the view's exact size), and
# the audit records of the views one readdirplus reply built are written
# as one group, not one synced write per file: with N files never read,
# a reader's `ls -l` builds N views, the log holds N view.build records,
# each size shown is the size of the bytes the reader then reads, and
# the daemon made far fewer than N audit appends for them.
# timeout: 240
. "$(dirname "$0")/../lib.sh"
t_setup

FIX=$HELPERS/policy_service.json	# renshe reads gongan's entry with a hash mask
GA=/基础库/人口/户籍人口
N=40
t_setup_metrics

# filled with no policy in force, so no commit built a view ahead
pool_init "$STORE" --cipher none
pool_mount
mkdir -p "$MNT$GA" || die "mkdir $GA"
for ((i = 0; i < N; i++)); do
	printf '身份证号,姓名,区县\n3418021990%08d,张三%d,宣州区\n' "$i" "$i" > "$MNT$GA/f$i.csv" ||
		die "cannot write f$i.csv"
done
pool_umount
note "filled; the policy applied"
check "apply the policy" pctl policy apply "$FIX"

POOLFS_OPTS=
pool_mount "$STORE" "$MNT" -o metrics="$PROM",metrics_interval=1
read -r builds0 appends0 < <(prom poolfs_view_builds_total poolfs_audit_append_seconds_count |
	paste -s)
note "renshe lists the directory"
as 1002 2002 ls -l "$MNT$GA" > "$T_TMP/ls.out" 2> "$T_TMP/ls.err"
check_eq "renshe lists the $N files" "$(grep -c ' f[0-9]*\.csv$' "$T_TMP/ls.out")" "$N"
# the file is rewritten every second
for ((i = 0; i < 20; i++)); do
	sleep 1
	read -r builds1 appends1 < <(prom poolfs_view_builds_total poolfs_audit_append_seconds_count |
		paste -s)
	[ "${builds1:-0}" -ge $((builds0 + N)) ] && break
done
note "views built $builds0 -> $builds1, audit appends $appends0 -> $appends1"
check_eq "the listing built one view per file" $((builds1 - builds0)) "$N"
check "and made their records durable in few appends ($((appends1 - appends0)) for $N builds)" \
	test $((appends1 - appends0)) -le $((N / 4))
check_eq "the log holds a view.build record per file" \
	"$(pctl audit query --path "$GA" --op view.build | grep -c 'result=ok')" "$N"
note "each size shown against the bytes read"
as 1002 2002 /usr/bin/python3 - "$MNT$GA" "$N" > "$T_TMP/sizes.out" 2>&1 <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    p = "%s/f%d.csv" % (d, i)
    shown = os.stat(p).st_size
    data = open(p, "rb").read()
    print(i, shown, len(data), b"3418021990" in data)
PY
check_eq "each size shown is the masked bytes read, no raw ID among them" \
	"$(awk '$2 == $3 && $2 > 0 && $4 == "False"' "$T_TMP/sizes.out" | wc -l)" "$N"
pool_umount
