#!/usr/bin/env bash
# t_poolctl.sh - poolctl with a live mount (through STORE/control.sock) and
# without one (opening the store itself): versions, a restore the mount
# shows at once, stats, exit codes and one-line messages, non-root callers
# refused, malformed control requests survived, a stale socket after kill -9.
# timeout: 180
. "$(dirname "$0")/../lib.sh"
t_setup

pool_init
check_rc "init on an existing pool" 2 "$POOLCTL" init "$STORE"
check_eq "init error is one poolctl: line" "$(grep -c '^poolctl: ' "$T_TMP/check.out")" 1

pool_mount
check "control socket exists while mounted" test -S "$STORE/control.sock"
mkdir -p "$MNT/d" || die "mkdir failed"
printf 'v1\n' > "$MNT/d/f"
wait_version "$MNT/d" f 1
printf 'v2 v2\n' > "$MNT/d/f"
wait_version "$MNT/d" f 2
printf 'v3 v3 v3\n' > "$MNT/d/f"
wait_version "$MNT/d" f 3

# ---- through the daemon ----
out=$(pctl versions /d/f 2> "$T_TMP/pctl.err")
rc=$?
check_eq "versions exits 0 through the daemon ($(head -c 200 "$T_TMP/pctl.err"))" "$rc" 0
check_eq "versions header" "$(head -n1 <<< "$out" | tr -s ' ')" "VERSION TIME SIZE WRITER"
check_eq "versions rows: number:size" \
	"$(tail -n +2 <<< "$out" | awk '{ printf "%s:%s ", $1, $3 }')" "1:3 2:6 3:9 "
check_eq "versions times are UTC ISO-8601" \
	"$(tail -n +2 <<< "$out" | awk '$2 !~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z$/' | wc -l)" 0
check_eq "versions --json count" "$(versions_count /d/f)" 3
# what follows counts from what the daemon made, so one extra commit
# above fails only the checks that are about it
N=$(versions_count /d/f)
case $N in '' | *[!0-9]*) die "versions --json gave no count: $(cat "$T_TMP/pctl.err")" ;; esac
check_eq "versions --json is one document" \
	"$(pctl versions --json /d/f | "$PY" "$HELPERS/jsonq.py" valid; echo $?)" 0

check_eq "restore prints the new version" "$(pctl restore /d/f --version 1 2>&1)" $((N + 1))
check_eq "the mount shows the restored content at once" "$(cat "$MNT/d/f" 2>&1)" "v1"
check_eq "stat size follows the restore" "$(stat -c %s "$MNT/d/f")" 3
check_eq "user.poolfs.version after restore" "$(sysop getxattr "$MNT/d/f" user.poolfs.version)" "OK:$((N + 1))"
check_eq "versions after restore" "$(versions_count /d/f)" $((N + 1))
check_eq "stats --json files" "$(stats_field files)" 1
check_eq "stats --json versions" "$(stats_field versions)" $((N + 1))
check "stats table" pctl stats
check_eq "stats table names dedupe ratio" "$(grep -c '^dedupe ratio' "$T_TMP/check.out")" 1

# ---- exit codes: 2 with one "poolctl: what: why" line ----
check_rc "versions of a missing file" 2 pctl versions /d/nope
check_eq "its message" "$(cat "$T_TMP/check.out")" 'poolctl: "/d/nope": no such file or directory'
check_rc "versions of a directory" 2 pctl versions /d
check_rc "a relative pool path" 2 pctl versions d/f
check_rc "restore without --version" 2 pctl restore /d/f
check_rc "restore of a missing version" 2 pctl restore /d/f --version 99
check_eq "restore of a missing version made no version" "$(versions_count /d/f)" $((N + 1))
check_rc "unknown command" 2 pctl frobnicate
check_rc "unknown option" 2 pctl stats --frob
check_eq "unknown option message is one line" "$(wc -l < "$T_TMP/check.out")" 1
check_rc "no command" 2 "$POOLCTL"
check_rc "no -s" 2 "$POOLCTL" stats
check_rc "poolctl --help" 0 "$POOLCTL" --help
check_rc "poolctl --version" 0 "$POOLCTL" --version
for c in init versions restore stats; do
	check_rc "$c --help" 0 pctl "$c" --help
done

# ---- non-root callers: refused by the daemon, exit 1 ----
if command -v setpriv > /dev/null; then
	chmod o+x "$T_TMP"	# let uid 65534 reach STORE/control.sock
	check_rc "uid 65534 is refused" 1 setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$POOLCTL" -s "$STORE" versions /d/f
	check_eq "refusal says permission denied" "$(grep -c 'permission denied' "$T_TMP/check.out")" 1
	check_eq "refusal prints no data" "$(grep -c 'VERSION' "$T_TMP/check.out")" 0
else
	note "setpriv missing: non-root refusal not checked"
fi

# ---- malformed requests: answered or dropped, never a crash ----
check_run "malformed control requests" "$PY" - "$STORE/control.sock" <<'PY'
import json, socket, struct, sys
path = sys.argv[1]
def frame(body):
    return struct.pack(">I", len(body)) + body
def ask(data, close_early=False):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(path)
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
    if close_early:
        s.close()
        return None
    buf = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        buf += chunk
    s.close()
    if len(buf) < 4:
        return None
    n = struct.unpack(">I", buf[:4])[0]
    return json.loads(buf[4:4 + n])
bad = 0
for body in [b"hello", b"[]", b"{}", b'{"argv": 5}', b'{"argv": []}', b'{"argv": [1]}',
             b'{"argv": [{"hex": "zz"}]}', b'{"v": 9, "argv": ["stats"]}', b"[" * 100000,
             b'{"argv": ["init", "/tmp/should-not-exist-poolctl"]}']:
    r = ask(frame(body))
    if not r or r.get("exit") != 2 or not r.get("stderr", "").startswith("poolctl: "):
        print("FAIL: %r gave %r" % (body[:40], r))
        bad += 1
r = ask(struct.pack(">I", 0xFFFFFFFF))
if not r or r.get("exit") != 2:
    print("FAIL: oversized length gave %r" % r)
    bad += 1
ask(struct.pack(">I", 100) + b'{"ar', close_early=True)
ask(b"", close_early=True)
r = ask(frame(json.dumps({"v": 1, "argv": ["stats", "--json"]}).encode()))
if not r or r.get("exit") != 0 or "files" not in json.loads(r["stdout"]):
    print("FAIL: a good request after the bad ones gave %r" % r)
    bad += 1
sys.exit(1 if bad else 0)
PY
check "no pool created on the daemon's behalf" test ! -e /tmp/should-not-exist-poolctl
daemon_ok "malformed control requests"

# ---- without a daemon ----
pool_umount
check "socket removed on unmount" test ! -e "$STORE/control.sock"
check_eq "versions without a daemon" "$(versions_count /d/f)" $((N + 1))
check "stats without a daemon" pctl stats
check_eq "restore without a daemon" "$(pctl restore /d/f --version "$N" 2>&1)" $((N + 2))

# ---- a socket left by a daemon killed with -9 ----
pool_mount
pool_kill9
check "the dead daemon left its socket" test -S "$STORE/control.sock"
check "stats with a stale socket runs locally" pctl stats
check "the stale socket is removed" test ! -e "$STORE/control.sock"
pool_mount
check_eq "after remount the daemon serves versions" "$(versions_count /d/f)" $((N + 2))
check_eq "after remount the content is the restored one" "$(cat "$MNT/d/f" 2>&1)" "v3 v3 v3"
daemon_ok "poolctl checks"
