#!/usr/bin/env bash
# t_stale_view.sh - a handle held across a policy change that changes its
# reader's view is refused at its next read (fs_view_recheck), and a
# department that goes on reading it cannot flood the audit log: the
# refusals are coalesced like every other denial (one record a second with
# an exact count), not one synced record per read that every other
# department's open would wait behind.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup

GA=/基础库/人口/户籍人口	# gongan; renshe (1002) reads IDs hashed (grant r1)
N=300
chmod o+x "$T_TMP"
PUB=$T_TMP/pub
mkdir -p "$PUB" && chmod 1777 "$PUB" || die "cannot make $PUB"
printf '身份证号,姓名,区县\n341802199001011234,张三丰,宣州区\n' > "$PUB/a.csv"
chmod 0644 "$PUB/a.csv"

# sum OP PATH UID: operations recorded (counts summed), then records
sum() {
	pctl audit query --op "$1" --path "$2" --uid "$3" --json |
		"$PY" -c 'import json, sys
rs = [json.loads(l) for l in sys.stdin if l.strip()]
print(sum(r.get("count", 1) for r in rs), len(rs))'
}

pool_init "$STORE" --cipher none
check "apply the fixture" pctl policy apply "$HELPERS/policy_leaks.json"
POOLFS_OPTS=
pool_mount
check "gongan publishes a.csv" asA cp "$PUB/a.csv" "$MNT$GA/a.csv"

# renshe opens its hashed view with O_DIRECT (every read reaches the
# daemon), waits for the go, then reads N times
asB /usr/bin/python3 - "$MNT$GA/a.csv" "$PUB" "$N" > "$T_TMP/reader.out" 2>&1 <<'PY' &
import errno, mmap, os, sys, time
path, d, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
buf = mmap.mmap(-1, 4096)
os.preadv(fd, [buf], 0)
open(d + "/ready", "w").close()
while not os.path.exists(d + "/go"):
    time.sleep(0.05)
denied = 0
for _ in range(n):
    try:
        os.preadv(fd, [buf], 0)
    except OSError as e:
        denied += e.errno == errno.EACCES
print("denied", denied)
PY
RPID=$!
check "the reader holds its handle" wait_for 20 test -e "$PUB/ready"

# renshe's ID column changes from hash to the tag default: another view
"$PY" - "$HELPERS/policy_leaks.json" "$T_TMP/changed.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
del d["grants"][0]["masks"]
json.dump(d, open(sys.argv[2], "w"), ensure_ascii=False)
PY
check "apply a policy that changes renshe's view" pctl policy apply "$T_TMP/changed.json"
touch "$PUB/go"
wait "$RPID"
check_eq "every read of the stale handle is refused" "$(cat "$T_TMP/reader.out")" "denied $N"
read -r ops recs <<< "$(sum read "$GA/a.csv" 1002)"
check_eq "each refusal is counted" "$ops" "$N"
check_eq "in a few coalesced records, not one synced record each ($recs)" \
	"$([ "$recs" -le 10 ] && echo few)" few
check_eq "the record says why" \
	"$(pctl audit query --op read --path "$GA/a.csv" --uid 1002 | grep -c "view of version 1 changed since open")" "$recs"
check_eq "a new open reads the new view" \
	"$(asB cat "$MNT$GA/a.csv" | sed -n 2p | cut -d, -f1)" "341802********1234"

pool_umount
