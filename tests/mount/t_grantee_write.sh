#!/usr/bin/env bash
# t_grantee_write.sh - a grantee's write never changes how the engine
# reads the file (DESIGN.md "Reads and views"), and only a handle open
# for writing commits, as its author (DESIGN.md "Writes and versions").
#
# renshe holds read+write on gongan's entry with 身份证号 masked and 姓名
# raw. Swapping the header in place would show every raw ID under 姓名:
# refused at write(); a rewrite or temp-file-and-rename with another
# header is refused at close/rename; appends and whole rewrites that keep
# the header work. On the filtered entry, finishing a filtered-out record
# (truncating into it, or appending to an unterminated last line) would
# let it through the filter: refused. A reader's fsync() commits nothing,
# and a rename of a file being written records the commit as the writer's.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup

FIX=$HELPERS/policy_write.json
GA=/基础库/人口/户籍人口		# gongan; renshe rw (ID masked, name raw)
GA2=/基础库/人口/流动人口	# gongan; renshe rw, rows 区县 in 宣州区
JL=/基础库/人口/记录		# gongan, jsonl; renshe rw as GA
ID=341802199001011234
ID2=341802199202022345
t_setup_readers
printf '身份证号,姓名,区县\n%s,张三丰,宣州区\n%s,李四,郎溪县\n' "$ID" "$ID2" > "$PUB/people.csv"
chmod 0644 "$PUB/people.csv"

AS_TIMEOUT=20
pyas() { local u=$1 g=$2; shift 2; as "$u" "$g" "$UPY" -c "$@" 2>&1; }
GAU=(1001 2001); RSU=(1002 2002); WJU=(1003 2003)
# python snippets: print OK or the errno name of the first failing call
PRE='import os, sys, errno
def run(f):
    try:
        f()
        print("OK")
    except OSError as e:
        print(errno.errorcode[e.errno])
'

pool_init
check "apply the fixture" pctl policy apply "$FIX"
POOLFS_OPTS=
pool_mount
P=$MNT$GA/people.csv
check "gongan publishes" as "${GAU[@]}" cp "$PUB/people.csv" "$P"
check_eq "renshe's view: ID masked, name raw" \
	"$(as "${RSU[@]}" cat "$P" | sed -n 2p)" "341802********1234,张三丰,宣州区"

# ---- the in-place header swap of issue 18
check_eq "renshe swaps the header in place: refused" "$(pyas "${RSU[@]}" "$PRE
def f():
    fd = os.open(sys.argv[1], os.O_WRONLY)
    try:
        os.pwrite(fd, '姓名,身份证号'.encode(), 0)
        os.fsync(fd)
    finally:
        os.close(fd)
run(f)" "$P")" EACCES
check_eq "no raw ID in renshe's view" "$(as "${RSU[@]}" cat "$P" | grep -c "$ID")" 0
check_eq "no version was made" "$(versions_count "$GA/people.csv")" 1
check_same "the provider's file is unchanged" <(as "${GAU[@]}" cat "$P") "$PUB/people.csv"
check_eq "in place anywhere else: refused too" "$(pyas "${RSU[@]}" "$PRE
def f():
    fd = os.open(sys.argv[1], os.O_RDWR)
    try:
        os.pwrite(fd, b',', 30)
    finally:
        os.close(fd)
run(f)" "$P")" EACCES
# two like refusals in one second may be one record with count=2
check_eq "the refusal is in the audit log" \
	"$(pctl audit query --uid 1002 --op write --denied | grep 'records it keeps' |
		awk '{ n = 1; for (i = 1; i <= NF; i++) if ($i ~ /^count=/) n = substr($i, 7); s += n } END { print s + 0 }')" 2

# ---- a read handle on the file is the view, never the raw stage
check_eq "renshe's O_RDWR handle reads its view, not the raw file" "$(pyas "${RSU[@]}" "
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
try:
    b = os.pread(fd, 4096, 0)
except OSError as e:
    b = str(e).encode()
os.close(fd)
print(int(b'$ID' in b), int('341802********1234,张三丰'.encode() in b))" "$P")" "0 1"

# ---- appends keep the records: >> lands at the raw end, not the view's
check "renshe appends a record with >>" as "${RSU[@]}" sh -c "printf '%s\n' '341802199303033456,王五,宣州区' >> '$P'"
{ cat "$PUB/people.csv"; printf '341802199303033456,王五,宣州区\n'; } > "$PUB/appended.csv"
check_same "the provider reads its records and the appended one" <(as "${GAU[@]}" cat "$P") "$PUB/appended.csv"
check_eq "recorded as renshe's write" \
	"$(pctl audit query --path "$GA/people.csv" --op write | grep -v denied | tail -n1 | grep -c 'uid=1002')" 1

# ---- whole rewrites and temp-then-rename
check_eq "a rewrite with the header swapped: refused at close" "$(pyas "${RSU[@]}" "$PRE
def f():
    with open(sys.argv[1], 'w') as fh:
        fh.write('姓名,身份证号,区县\n张三,1,宣州区\n')
run(f)" "$P")" EACCES
check_same "the file is as before" <(as "${GAU[@]}" cat "$P") "$PUB/appended.csv"
check_eq "temp file with another header renamed over it: refused" "$(pyas "${RSU[@]}" "$PRE
def f():
    t = os.path.join(os.path.dirname(sys.argv[1]), '.tmp.csv')
    with open(t, 'w') as fh:
        fh.write('姓名,区县\n张三,宣州区\n')
    os.rename(t, sys.argv[1])
run(f)" "$P")" EACCES
check_same "still as before" <(as "${GAU[@]}" cat "$P") "$PUB/appended.csv"
check_eq "a temp file that keeps the header: renamed over it" "$(pyas "${RSU[@]}" "$PRE
def f():
    t = os.path.join(os.path.dirname(sys.argv[1]), '.tmp2.csv')
    with open(t, 'w') as fh:
        fh.write(' 身份证号 ,姓名,区县\r\n1,张三,宣州区\r\n')
    os.rename(t, sys.argv[1])
run(f)" "$P")" OK
check_eq "a rewrite that keeps the header works" "$(pyas "${RSU[@]}" "$PRE
def f():
    with open(sys.argv[1], 'w') as fh:
        fh.write('身份证号,姓名,区县\n2,李四,宣州区\n')
run(f)" "$P")" OK
check_eq "and reads back" "$(as "${GAU[@]}" cat "$P")" "$(printf '身份证号,姓名,区县\n2,李四,宣州区')"

# ---- a filtered writer may not finish a record it cannot see
F=$MNT$GA2/rows.csv
printf '身份证号,姓名,区县\n%s,张三丰,宣州区\n%s,赵六,宣州' "$ID" "$ID2" > "$PUB/rows.csv"
check "gongan publishes a file whose last line has no line end" as "${GAU[@]}" cp "$PUB/rows.csv" "$F"
check_eq "renshe does not see the filtered-out row" "$(as "${RSU[@]}" cat "$F" | grep -c 赵六)" 0
check_eq "renshe appends 区 to it: refused at close" "$(pyas "${RSU[@]}" "$PRE
def f():
    with open(sys.argv[1], 'a') as fh:
        fh.write('区\n')
run(f)" "$F")" EACCES
check_eq "the filtered row stays hidden" "$(as "${RSU[@]}" cat "$F" | grep -c 赵六)" 0
check_eq "truncating into the records: refused" "$(pyas "${RSU[@]}" "$PRE
run(lambda: os.truncate(sys.argv[1], 40))" "$F")" EACCES
check_same "the provider's file is unchanged" <(as "${GAU[@]}" cat "$F") "$PUB/rows.csv"

# ---- JSON Lines: keys are the labels
J=$MNT$JL/r.jsonl
printf '{"身份证号":"%s","姓名":"张三丰","区县":"宣州区"}\n' "$ID" > "$PUB/r.jsonl"
check "gongan publishes JSON lines" as "${GAU[@]}" cp "$PUB/r.jsonl" "$J"
check_eq "renshe relabels a key in place: refused" "$(pyas "${RSU[@]}" "$PRE
def f():
    fd = os.open(sys.argv[1], os.O_WRONLY)
    try:
        os.pwrite(fd, '{\"姓名\":'.encode(), 0)
    finally:
        os.close(fd)
run(f)" "$J")" EACCES
check_eq "renshe appends a record" "$(pyas "${RSU[@]}" "$PRE
def f():
    with open(sys.argv[1], 'a') as fh:
        fh.write('{\"身份证号\":\"1\",\"姓名\":\"王五\",\"区县\":\"宣州区\"}\n')
run(f)" "$J")" OK
check_eq "gongan sees both records" "$(as "${GAU[@]}" cat "$J" | wc -l)" 2

# ---- only a handle open for writing commits, and as the writer
W=$MNT$GA/w.csv
check "gongan publishes w.csv" as "${GAU[@]}" cp "$PUB/people.csv" "$W"
rm -f "$PUB/staged" "$PUB/go"
as "${GAU[@]}" "$UPY" -c '
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)
os.write(fd, "身份证号,姓名,区县\n".encode())
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.05)
os.write(fd, b"1,a,b\n")
os.close(fd)' "$W" "$PUB/staged" "$PUB/go" > "$T_TMP/writer.out" 2>&1 &
wpid=$!
wait_for 20 test -e "$PUB/staged" || fail "the provider did not stage"
check_eq "renshe fsyncs a read-only handle" "$(pyas "${RSU[@]}" "$PRE
def f():
    fd = os.open(sys.argv[1], os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
run(f)" "$W")" OK
check_eq "which committed nothing" "$(versions_count "$GA/w.csv")" 1
check_eq "nor recorded a write by renshe" \
	"$(pctl audit query --path "$GA/w.csv" --uid 1002 --op write | grep -vc denied)" 0
check_eq "renshe renames the file being written" \
	"$(as "${RSU[@]}" "$UPY" "$HELPERS/sysop.py" rename "$W" "$MNT$GA/w2.csv")" OK
check_eq "the commit the rename made is gongan's" \
	"$(pctl audit query --path "$GA/w.csv" --op write | grep -v denied | tail -n1 | grep -c 'uid=1001')" 1
touch "$PUB/go"
wait "$wpid"
check_eq "the writer finished" "$(cat "$T_TMP/writer.out")" ""
check_eq "no write is recorded as renshe's" \
	"$(pctl audit query --path "$GA" --uid 1002 --op write | grep -v denied | grep -c '/w')" 0
# a truncate by another caller while gongan writes: each change is its author's
W3=$MNT$GA/w3.csv
check "gongan publishes w3.csv" as "${GAU[@]}" cp "$PUB/people.csv" "$W3"
rm -f "$PUB/staged" "$PUB/go"
as "${GAU[@]}" "$UPY" -c '
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
os.write(fd, b"1,a,b\n")
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.05)
os.write(fd, b"2,c,d\n")
os.close(fd)' "$W3" "$PUB/staged" "$PUB/go" > "$T_TMP/writer3.out" 2>&1 &
wpid=$!
wait_for 20 test -e "$PUB/staged" || fail "the provider did not stage"
check_eq "renshe truncates w3.csv to 0 meanwhile" \
	"$(as "${RSU[@]}" "$UPY" "$HELPERS/sysop.py" truncate "$W3" 0)" OK
touch "$PUB/go"
wait "$wpid"
check_eq "the writer finished" "$(cat "$T_TMP/writer3.out")" ""
check_eq "versions by author: gongan's cp and append, renshe's truncate, gongan's append" \
	"$(pctl audit query --path "$GA/w3.csv" --op write | grep -v denied | grep -o 'uid=[0-9]*' | tr '\n' ' ')" \
	"uid=1001 uid=1001 uid=1002 uid=1001 "
check "the daemon still serves" daemon_alive
