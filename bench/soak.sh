#!/usr/bin/env bash
# bench/soak.sh - long-running load on one mount (make soak).
#
# SOAK_PROCS (8) processes (bench/soak_worker.py) write whole files
# (temp-then-rename and in place, some with fsync), append records,
# read and check whatever they find, rename, list, stat and unlink, in
# their own directories and one shared directory, for SOAK_SECONDS (600).
# Every SOAK_POLICY_EVERY (5) s `poolctl policy apply` switches between
# two policies. Every SOAK_SAMPLE (5) s the daemon's RSS (VmRSS) and open
# descriptors (/proc/PID/fd) are sampled and printed as a table.
#
# Fails (exit 1) when: any operation got an error nobody injected, any
# content read does not check, a policy apply fails, the daemon dies,
# `poolctl audit verify` fails at the end, or after the warm-up (the
# first SOAK_WARMUP s, default a fifth of the run) RSS grows by more than
# SOAK_RSS_SLACK_MB (64) MiB or descriptors by more than SOAK_FD_SLACK
# (16) over their largest warm-up sample. The descriptor bound counts
# those that are not RocksDB's data files under STORE/db (its table,
# blob and log files come and go with flushes and compactions, up to
# its max_open_files); the table shows both counts.
# Then it runs the concurrent model (tests/mount/cmodel.py) for
# SOAK_MODEL_OPS (100000) operations with kill -9 and remounts
# (SOAK_MODEL_OPS=0 skips it).
set -u
set -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
POOLFS=$BUILD/poolfs
POOLCTL=$BUILD/poolctl
PY=${PYTHON:-python3}
# the workers run as uid 1001: an interpreter under /root is out of reach
WPY=${SOAK_WORKER_PYTHON:-/usr/bin/python3}
[ -x "$WPY" ] || WPY=$PY
SECS=${SOAK_SECONDS:-600}
PROCS=${SOAK_PROCS:-8}
SAMPLE=${SOAK_SAMPLE:-5}
PEVERY=${SOAK_POLICY_EVERY:-5}
WARMUP=${SOAK_WARMUP:-$((SECS / 5))}
RSS_SLACK=$((${SOAK_RSS_SLACK_MB:-64} * 1024))
FD_SLACK=${SOAK_FD_SLACK:-16}
MODEL_OPS=${SOAK_MODEL_OPS:-100000}

say() { printf 'soak: %s\n' "$*"; }
die() { printf 'soak: error: %s\n' "$*" >&2; exit 2; }
. "$ROOT/bench/lib.sh"	# is_mounted, wait_mounted

[ "$(id -u)" = 0 ] || die "needs root (mounts)"
[ -c /dev/fuse ] || die "/dev/fuse is missing"
[ -x "$POOLFS" ] && [ -x "$POOLCTL" ] || die "poolfs/poolctl not built in $BUILD"

W=$(mktemp -d "${TMPDIR:-/tmp}/poolfs-soak.XXXXXX") || die "mktemp failed"
STORE=$W/store MNT=$W/mnt
mkdir -p "$MNT" "$W/stats"
chmod 0755 "$W" && chmod 0777 "$W/stats"
PID=
cleanup() {
	if is_mounted "$MNT"; then
		fusermount3 -u "$MNT" 2> /dev/null || fusermount3 -uz "$MNT" 2> /dev/null
	fi
	[ -n "$PID" ] && kill -KILL "$PID" 2> /dev/null
	[ "${KEEP:-0}" = 1 ] && say "kept $W" || rm -rf "$W"
}
trap cleanup EXIT

"$POOLCTL" init "$STORE" > "$W/init.out" 2>&1 || die "poolctl init failed: $(cat "$W/init.out")"
# Two policies to alternate, both with an entry /soak of department
# gongan (uid 1001, whom the workers run as); the second drops the other
# entry's grant's masks and rows and retitles /soak.
PA=$W/policy_a.json PB=$W/policy_b.json
"$PY" - "$ROOT/tests/mount/policy_basic.json" "$PA" "$PB" << 'EOF' || die "cannot make the policies"
import json, sys
p = json.load(open(sys.argv[1]))
p["catalog"].append({"path": "/soak", "code": "341800-GA-0099", "title": "soak", "provider": "gongan",
                     "share": "none", "open": "none", "level": 1, "update_cycle": "daily",
                     "format": "other", "encoding": "utf-8", "fields": []})
json.dump(p, open(sys.argv[2], "w"), ensure_ascii=False)
g = p["grants"][0]
g.pop("masks", None)
g.pop("rows", None)
p["catalog"][-1]["title"] = "soak, the other policy"
json.dump(p, open(sys.argv[3], "w"), ensure_ascii=False)
EOF
"$POOLCTL" -s "$STORE" policy apply "$PA" > "$W/apply.out" 2>&1 ||
	die "the first policy apply failed: $(tail -n 3 "$W/apply.out")"
"$POOLFS" "$STORE" "$MNT" -f > "$W/poolfs.log" 2>&1 &
PID=$!
wait_mounted "$MNT" "$PID"
stat "$MNT" > /dev/null 2>&1 || die "poolfs did not mount: $(tail -n 5 "$W/poolfs.log")"

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$PID/status" 2> /dev/null; }
# "ALL OWN": every descriptor, and those that are not RocksDB data files
nfd() {
	local f t all=0 own=0
	for f in "/proc/$PID/fd"/*; do
		t=$(readlink "$f" 2> /dev/null) || continue
		all=$((all + 1))
		case $t in
		"$STORE"/db/*.sst | "$STORE"/db/*.blob | "$STORE"/db/*.log) ;;
		*) own=$((own + 1)) ;;
		esac
	done
	echo "$all $own"
}
ops_now() {
	cat "$W"/stats/*.json 2> /dev/null | "$PY" -c '
import json, sys
t = 0
for line in sys.stdin.read().replace("}{", "}\n{").splitlines():
    if line.strip():
        t += json.loads(line)["ops"]
print(t)'
}

deadline=$(($(date +%s) + SECS))
say "$PROCS workers for $SECS s on $MNT (daemon pid $PID); warm-up $WARMUP s;" \
	"bounds after it: RSS +$((RSS_SLACK / 1024)) MiB, descriptors +$FD_SLACK"
wpids=()
for ((i = 0; i < PROCS; i++)); do
	setpriv --reuid=1001 --regid=2001 --clear-groups \
		"$WPY" "$ROOT/bench/soak_worker.py" "$i" "$MNT/soak" "$deadline" "$W/stats/$i.json" \
		2> "$W/worker.$i.err" &
	wpids+=($!)
done

start=$(date +%s)
applies=0 apply_fail=0 policy=A
rss0=$(rss)
read -r fdall0 fd0 < <(nfd)
warm_rss=0 warm_fd=0 max_rss=0 max_fd=0 over=
printf '%8s %10s %6s %6s %10s %8s\n' "time(s)" "RSS(KiB)" "fds" "non-db" "ops" "applies"
next_apply=$((start + PEVERY)) next_sample=$start
while :; do
	now=$(date +%s)
	kill -0 "$PID" 2> /dev/null || { say "FAIL: the daemon died"; over="daemon died"; break; }
	if [ "$now" -ge "$next_apply" ]; then
		f=$PA
		[ $policy = B ] && f=$PB
		if timeout 60 "$POOLCTL" -s "$STORE" policy apply "$f" > "$W/apply.out" 2>&1; then
			applies=$((applies + 1))
		else
			apply_fail=$((apply_fail + 1))
			say "FAIL: policy apply $policy: $(tail -n 3 "$W/apply.out")"
		fi
		[ $policy = A ] && policy=B || policy=A
		next_apply=$((now + PEVERY))
	fi
	if [ "$now" -ge "$next_sample" ]; then
		r=$(rss) t=$((now - start))
		read -r da d < <(nfd)
		printf '%8d %10s %6s %6s %10s %8d\n' "$t" "$r" "$da" "$d" "$(ops_now)" "$applies"
		if [ "$t" -le "$WARMUP" ]; then
			[ "$r" -gt "$warm_rss" ] && warm_rss=$r
			[ "$d" -gt "$warm_fd" ] && warm_fd=$d
		else
			[ "$r" -gt "$max_rss" ] && max_rss=$r
			[ "$d" -gt "$max_fd" ] && max_fd=$d
		fi
		next_sample=$((now + SAMPLE))
	fi
	running=0
	for p in "${wpids[@]}"; do kill -0 "$p" 2> /dev/null && running=1; done
	[ $running = 0 ] && [ "$now" -ge "$deadline" ] && break
	sleep 1
done
for p in "${wpids[@]}"; do wait "$p"; done
rss1=$(rss)
read -r fdall1 fd1 < <(nfd)

fails=0
[ -n "$over" ] && fails=$((fails + 1))
read -r ops errors badc raced < <(cat "$W"/stats/*.json | "$PY" -c '
import json, sys
t = [0, 0, 0, 0]
for line in sys.stdin.read().replace("}{", "}\n{").splitlines():
    if line.strip():
        s = json.loads(line)
        for m in s["messages"]:
            print("worker %d: %s" % (s["id"], m), file=sys.stderr)
        for i, k in enumerate(("ops", "errors", "bad", "raced")):
            t[i] += s[k]
print(*t)')
for ((i = 0; i < PROCS; i++)); do
	[ -s "$W/worker.$i.err" ] && { say "worker $i wrote to stderr:"; tail -n 5 "$W/worker.$i.err"; fails=$((fails + 1)); }
done
say "operations $ops, errors $errors, bad contents $badc, expected ENOENT races $raced," \
	"policy applies $applies (failed $apply_fail)"
say "daemon RSS $rss0 KiB at start, $warm_rss KiB max in warm-up, $max_rss KiB max after, $rss1 KiB at end"
say "daemon descriptors (not RocksDB data files) $fd0 at start, $warm_fd max in warm-up," \
	"$max_fd max after, $fd1 at end; all descriptors $fdall0 at start, $fdall1 at end"
[ "$errors" = 0 ] || { say "FAIL: $errors operations got an error nobody injected"; fails=$((fails + 1)); }
[ "$badc" = 0 ] || { say "FAIL: $badc reads found content that does not check"; fails=$((fails + 1)); }
[ "$apply_fail" = 0 ] || fails=$((fails + 1))
if [ "$max_rss" -gt $((warm_rss + RSS_SLACK)) ]; then
	say "FAIL: RSS grew after warm-up: $max_rss KiB > $warm_rss + $((RSS_SLACK / 1024)) MiB"
	fails=$((fails + 1))
fi
if [ "$max_fd" -gt $((warm_fd + FD_SLACK)) ]; then
	say "FAIL: descriptors (not RocksDB data files) grew after warm-up: $max_fd > $warm_fd + $FD_SLACK"
	fails=$((fails + 1))
fi

fusermount3 -u "$MNT" || { say "FAIL: unmount failed"; fails=$((fails + 1)); }
for ((i = 0; i < 300; i++)); do kill -0 "$PID" 2> /dev/null || break; sleep 0.1; done
wait "$PID" 2> /dev/null
rc=$?
PID=
[ "$rc" = 0 ] || { say "FAIL: poolfs exited $rc at unmount"; fails=$((fails + 1)); }
if "$POOLCTL" -s "$STORE" audit verify > "$W/verify.out" 2>&1; then
	say "audit verify: $(tail -n 1 "$W/verify.out")"
else
	say "FAIL: audit verify: $(tail -n 3 "$W/verify.out")"
	fails=$((fails + 1))
fi

if [ "$MODEL_OPS" -gt 0 ]; then
	say "the concurrent model, $MODEL_OPS operations with kill -9 and remounts"
	BUILD=$BUILD CMODEL_ONLY=1 CMODEL_OPS=$MODEL_OPS CMODEL_TIMEOUT=$((MODEL_OPS / 5 + 300)) \
		bash "$ROOT/tests/mount/t_model.sh" || fails=$((fails + 1))
fi
[ $fails = 0 ] && say "passed" || say "$fails failures"
[ $fails = 0 ]
