#!/usr/bin/env bash
# t_grant_lapse.sh - a grant that ends by its validity window, with no
# policy apply, leaves nothing the kernel cached under it: renshe opens
# its masked view while g1 holds, reads it whole (the pages are cached),
# keeps the handle and a shared map; once g1's valid_until passes, a read
# of the same bytes through that handle is refused (EACCES) instead of
# served from the page cache, and the map gets SIGBUS, as after an apply
# that revokes g1.
# timeout: 90
. "$(dirname "$0")/../lib.sh"
t_setup
t_setup_readers

GA=/基础库/人口/户籍人口

pool_init
UNTIL=$(( $(date +%s) + 12 ))
"$PY" - "$HELPERS/policy_basic.json" "$T_TMP/p.json" "$UNTIL" <<'PY' || die "cannot write the policy"
import json, sys, time
d = json.load(open(sys.argv[1]))
g = d["grants"][0]
g["valid_from"] = "2020-01-01"
g["valid_until"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(sys.argv[3])))
json.dump(d, open(sys.argv[2], "w"), ensure_ascii=False)
PY
check "apply a policy whose g1 ends in a few seconds" pctl policy apply "$T_TMP/p.json"
t_fixture_people "$PUB/a.csv" wide
POOLFS_OPTS=
pool_mount
check "gongan publishes" asA cp "$PUB/a.csv" "$MNT$GA/a.csv"

HOLD='
import mmap, os, signal, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
first = os.read(fd, 1 << 20)
m = mmap.mmap(fd, len(first), mmap.MAP_SHARED, mmap.PROT_READ)
assert m[:] == first
print("held", len(first), flush=True)
while time.time() < float(sys.argv[2]):
    time.sleep(0.2)
try:
    again = os.pread(fd, len(first), 0)
    print("read", "same" if again == first else "other")
except OSError as e:
    print("read", os.strerror(e.errno))
sys.stdout.flush()
pid = os.fork()
if pid == 0:
    os._exit(0 if m[:] == first else 1)
_, st = os.waitpid(pid, 0)
if os.WIFSIGNALED(st):
    print("map signal", signal.Signals(os.WTERMSIG(st)).name)
else:
    print("map", "same" if os.WEXITSTATUS(st) == 0 else "other")
'
asB "$UPY" -c "$HOLD" "$MNT$GA/a.csv" $((UNTIL + 3)) > "$T_TMP/hold.out" 2>&1 &
hpid=$!
wait_for 10 grep -q held "$T_TMP/hold.out" || fail "renshe could not open and map its view: $(cat "$T_TMP/hold.out")"
wait "$hpid"
note "$(tr '\n' ' ' < "$T_TMP/hold.out")"
check_eq "after g1 ended, the held handle's read is refused" \
	"$(grep '^read' "$T_TMP/hold.out")" "read Permission denied"
check_eq "and the held map faults instead of reading the cache" \
	"$(grep '^map' "$T_TMP/hold.out")" "map signal SIGBUS"
check_fails "a new open is refused" asB cat "$MNT$GA/a.csv"
check "the daemon still serves" daemon_alive
check_same "gongan reads raw" <(asA cat "$MNT$GA/a.csv") "$PUB/a.csv"
pool_umount
