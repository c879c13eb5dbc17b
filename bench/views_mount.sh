#!/usr/bin/env bash
# bench/views_mount.sh BUILD WORK: DESIGN.md's "masked sequential read
# (precomputed view) >= 0.9 x plain read of poolfs", through a real mount.
#
# A pool mount (no allow_all) of a fresh store with one CSV entry of 10
# columns, provided by gongan (uid 1001), and one grant that lets renshe
# (uid 1002) read every column with 3 of them masked (id_card, name,
# phone: masks that keep the length in characters), no row filter. The
# provider publishes a BENCH_MB MiB CSV with plain cp; the commit queues
# the grant's view, and the script waits until `poolctl stats` counts it
# (the time that takes is printed too). Then, caches dropped before each
# of BENCH_REPS runs (the median is shown), dd bs=1M of the whole file:
#   (a) gongan reads raw in the pool mount: the plain read, the reference.
#       Each view of the file has a kernel inode of its own, and both
#       readers use its page cache (docs/filesystem.md "Views and the
#       page cache").
#   (b) renshe reads its masked view in the same mount: the target row.
#   (b') renshe maps its view MAP_SHARED (Python mmap, 1 MiB slices into
#       SHA-256), once, caches dropped: DESIGN.md's "works, same bytes as
#       read()" (the digest of a cat of the view).
#   (c) gongan reads a copy in a second entry shared with nobody: a file
#       whose bytes do not depend on the caller, so the page-cache path
#       (nothing outside an entry is writable in a pool mount).
#   (d) renshe reads its view through a department mount (-o dept=renshe),
#       which may use the page cache.
# MB/s is bytes read (st_size as that reader: a view has its own size) /
# seconds, with MB = MiB as in run.sh. renshe's read must not contain a
# raw ID of the source, and its map must be its read(); else ERROR, exit 1.
#
# Environment: BENCH_MB (1024), BENCH_REPS (3), UPY (/usr/bin/python3,
# which the readers' uids may run). Needs root, setpriv and /dev/fuse; WORK is run.sh's work area (a tmpfs when memory allows).
set -uo pipefail
[ $# = 2 ] && [ -n "$2" ] && [ -d "$2" ] ||
	{ echo "views bench: ERROR: usage: views_mount.sh BUILD WORK (an existing directory)"; exit 1; }
BUILD=$1
WORK=$2
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
POOLFS=$BUILD/poolfs
POOLCTL=$BUILD/poolctl
ROOT=$(cd "$(dirname "$0")/.." && pwd)
META=$ROOT/bench/meta.py
JSONQ=$ROOT/tests/mount/jsonq.py
MB=${BENCH_MB:-1024}
REPS=${BENCH_REPS:-3}
PY=${PYTHON:-python3}
UPY=${UPY:-/usr/bin/python3}	# one every uid may run

err() { printf 'views bench: ERROR: %s\n' "$*"; }
say() { printf 'views bench: %s\n' "$*" >&2; }

[ -x "$POOLFS" ] && [ -x "$POOLCTL" ] || { err "poolfs/poolctl not built in $BUILD"; exit 1; }
command -v setpriv > /dev/null || { err "setpriv not found (util-linux)"; exit 1; }

D=$WORK/views			# everything of this bench, removed at exit
STORE=$D/store
MNT=$D/mnt
SRC=$D/src.csv
ENTRY=/基础库/人口/户籍人口		# gongan provides, renshe reads through g1
PRIV=/基础库/人口/内部名单		# gongan provides, shared with nobody
FILE=bench.csv
PID=

stop_daemon() {
	local i
	[ -n "$PID" ] || return 0
	fusermount3 -u "$MNT" 2> /dev/null || fusermount3 -uz "$MNT" 2> /dev/null
	for ((i = 0; i < 300; i++)); do
		kill -0 "$PID" 2> /dev/null || break
		sleep 0.1
	done
	kill -0 "$PID" 2> /dev/null && { say "poolfs $PID did not exit: killed"; kill -KILL "$PID"; }
	wait "$PID" 2> /dev/null
	PID=
}
cleanup() { stop_daemon; rm -rf "$D"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# mount OPTS...: poolfs on STORE at MNT in the background (PID)
mount_pf() {
	local i
	"$POOLFS" "$STORE" "$MNT" -f "$@" >> "$D/poolfs.log" 2>&1 &
	PID=$!
	for ((i = 0; i < 300; i++)); do
		awk -v m="$MNT" '$5 == m { f = 1 } END { exit !f }' /proc/self/mountinfo && return 0
		kill -0 "$PID" 2> /dev/null || break
		sleep 0.1
	done
	err "poolfs $* did not mount: $(tail -n3 "$D/poolfs.log")"
	exit 1
}

as() { local u=$1 g=$2; shift 2; setpriv --reuid "$u" --regid "$g" --clear-groups "$@"; }
asA() { as 1001 2001 "$@"; }
asB() { as 1002 2002 "$@"; }

# the readers are other uids: WORK must let them through to the source and
# the mount point (mktemp -d makes it 0700 when it is not a tmpfs)
[ "$(($(stat -c '%#a' "$WORK") & 1))" = 1 ] || chmod o+x "$WORK" ||
	{ err "cannot make $WORK searchable by other uids"; exit 1; }
rm -rf "$D"
mkdir -p "$MNT" && chmod 0755 "$D" || { err "cannot make $D"; exit 1; }
# at most the source and the store (the raw file, its view; RocksDB
# compresses them: 1.6 GiB at the peak for 1 GiB), and slack
need=$((2 * MB + 256))
avail=$(df -Pm "$D" | awk 'NR == 2 { print $4 }')
[ "$avail" -ge "$need" ] || { err "$avail MiB free in $WORK, $need MiB needed"; exit 1; }

CAN_DROP=0
(sync; echo 3 > /proc/sys/vm/drop_caches) 2> /dev/null && CAN_DROP=1
cold() { sync; [ $CAN_DROP = 1 ] && echo 3 > /proc/sys/vm/drop_caches; }

. "$(dirname "$0")/lib.sh"	# median

# ---- the store and its policy ----
"$POOLCTL" init "$STORE" --cipher none > "$D/init.log" 2>&1 || { err "poolctl init: $(cat "$D/init.log")"; exit 1; }
cat > "$D/policy.json" <<EOF
{
  "version": 1,
  "roles": {"security_admin": {"uids": [0]}, "auditor": {"uids": [0]},
            "system_admin": {"uids": [0]}},
  "departments": [
    {"id": "gongan", "name": "市公安局", "members": {"uids": [1001], "gids": [2001]}},
    {"id": "renshe", "name": "市人社局", "members": {"uids": [1002], "gids": [2002]}}
  ],
  "catalog": [
    {"path": "$ENTRY", "code": "341800-GA-0001",
     "title": "户籍人口基本信息", "provider": "gongan",
     "share": "conditional", "open": "none", "level": 3, "update_cycle": "daily",
     "format": "csv", "encoding": "utf-8",
     "fields": [
       {"name": "身份证号", "tag": "id_card"}, {"name": "姓名", "tag": "name"},
       {"name": "手机号", "tag": "phone"},     {"name": "性别", "tag": "gender"},
       {"name": "出生日期", "tag": "date"},    {"name": "民族", "tag": "text"},
       {"name": "区县", "tag": "region"},      {"name": "住址", "tag": "text"},
       {"name": "职业", "tag": "text"},        {"name": "月收入", "tag": "amount"}]},
    {"path": "$PRIV", "code": "341800-GA-0002",
     "title": "内部名单", "provider": "gongan",
     "share": "none", "open": "none", "level": 4, "update_cycle": "daily",
     "format": "csv", "encoding": "utf-8"}
  ],
  "grants": [
    {"id": "g1", "entry": "341800-GA-0001", "department": "renshe",
     "actions": ["read"],
     "fields": ["身份证号", "姓名", "手机号", "性别", "出生日期", "民族", "区县", "住址",
                "职业", "月收入"],
     "masks": {"身份证号": "id_card", "姓名": "name", "手机号": "phone"},
     "valid_from": "2000-01-01", "valid_until": "2099-01-01",
     "purpose": "bench"}
  ]
}
EOF
"$POOLCTL" -s "$STORE" policy apply "$D/policy.json" > "$D/apply.log" 2>&1 ||
	{ err "policy apply: $(tail -n3 "$D/apply.log")"; exit 1; }

# ---- a BENCH_MB MiB CSV of 10 columns, readable by every uid ----
say "making a ${MB} MiB CSV"
LC_ALL=C awk -v mb="$MB" 'BEGIN {
	srand(11)
	ns = split("赵 钱 孙 李 周 吴 郑 王 冯 陈 欧阳 司马", S, " ")
	ng = split("伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀 霞", G, " ")
	nr = split("宣州区 郎溪县 广德市 宁国市 泾县 绩溪县 旌德县", R, " ")
	ne = split("汉族 回族 满族 壮族", E, " ")
	nj = split("教师 工人 农民 医生 职员 个体 退休", J, " ")
	print "身份证号,姓名,手机号,性别,出生日期,民族,区县,住址,职业,月收入"
	lim = mb * 1048576; s = 0
	for (i = 1; ; i++) {
		g = G[1 + int(rand() * ng)]
		if (rand() < 0.6) g = g G[1 + int(rand() * ng)]
		r = R[1 + int(rand() * nr)]
		l = sprintf("3418%07d%07d,%s%s,1%02d%08d,%s,%d-%02d-%02d,%s,%s,宣城市%s某路%d号,%s,%d.%02d",
			int(rand() * 1e7), int(rand() * 1e7), S[1 + int(rand() * ns)], g,
			30 + int(rand() * 70), int(rand() * 1e8), rand() < 0.5 ? "男" : "女",
			1940 + int(rand() * 70), 1 + int(rand() * 12), 1 + int(rand() * 28),
			E[1 + int(rand() * ne)], r, r, i, J[1 + int(rand() * nj)],
			int(rand() * 30000), int(rand() * 100))
		if (s + length(l) + 1 > lim) break
		print l; s += length(l) + 1
	}
}' > "$SRC" && chmod 0644 "$SRC" || { err "cannot write $SRC"; exit 1; }
# raw IDs renshe must never see: the first and the last row's
ID1=$(sed -n 2p "$SRC" | cut -d, -f1)
ID2=$(tail -n1 "$SRC" | cut -d, -f1)

# ---- publish, and wait for the precomputed view ----
mount_pf -o view_budget=$((2 * MB + 1024))M
views() { "$POOLCTL" -s "$STORE" stats --json 2>> "$D/stats.err" | "$PY" "$JSONQ" get views 2>> "$D/stats.err"; }
say "gongan publishes it with cp"
t0=$(date +%s.%N)
asA cp "$SRC" "$MNT$ENTRY/$FILE" || { err "gongan's cp into $ENTRY failed: $(tail -n3 "$D/poolfs.log")"; exit 1; }
t1=$(date +%s.%N)
RAW_BYTES=$(stat -c %s "$SRC")
rm -f "$SRC"	# the store holds it now; WORK is memory, and run.sh's files fill it
limit=$((60 + MB / 2))	# seconds: a view builds at >= 300 MB/s by design; be generous
v=
while :; do
	v=$(views)
	[[ $v =~ ^[0-9]+$ ]] && [ "$v" -ge 1 ] && break
	if [ "$(awk -v a="$t1" -v b="$(date +%s.%N)" -v l="$limit" 'BEGIN { print (b - a > l) }')" = 1 ]; then
		err "no precomputed view ${limit} s after the commit (views '$v'; $(tail -n2 "$D/stats.err"))"
		exit 1
	fi
	sleep 0.2
done
t2=$(date +%s.%N)
T_CP=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
T_VIEW=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.1f", b - a }')
# the same bytes again, read back through the mount: dedupe stores nothing new
asA cp "$MNT$ENTRY/$FILE" "$MNT$PRIV/$FILE" || { err "gongan's cp into $PRIV failed"; exit 1; }

# size RDR PATH: st_size as that reader; read RDR PATH: seconds for dd bs=1M
size() { "as$1" stat -c %s "$2"; }
read_secs() { "$PY" "$META" time setpriv --reuid "$2" --regid "$3" --clear-groups \
	dd if="$1" of=/dev/null bs=1M; }
# leak_check RDR PATH: one full read as RDR; fails (ERROR) on a raw ID or a short read
leak_check() {
	local out n found
	out=$("as$1" cat "$2" | "$PY" -c '
import sys
ids = [a.encode() for a in sys.argv[1:]]
n, found, tail = 0, 0, b""
while True:
    b = sys.stdin.buffer.read(1 << 20)
    if not b:
        break
    n += len(b)
    w = tail + b
    found += sum(w.count(i) for i in ids)
    tail = w[-17:]
print(n, found)' "$ID1" "$ID2") || { err "$1 could not read $2"; return 1; }
	read -r n found <<< "$out"
	[ "$found" = 0 ] || { err "$1's read of $2 contains a raw ID ($ID1 or $ID2)"; return 1; }
	[ "$n" = "$(size "$1" "$2")" ] || { err "$1 read $n bytes of $2, stat says $(size "$1" "$2")"; return 1; }
}

declare -A T BYTES
F=$MNT$ENTRY/$FILE
leak_check B "$F" || exit 1
BYTES[a]=$(size A "$F")
BYTES[b]=$(size B "$F")
BYTES[c]=$(size A "$MNT$PRIV/$FILE")
[ "${BYTES[a]}" = "$RAW_BYTES" ] || say "odd: gongan's stat ${BYTES[a]} != the source's $RAW_BYTES"
say "(a) gongan reads raw"
T[a]=$(median read_secs "$F" 1001 2001) || { err "gongan's read failed"; exit 1; }
say "(b) renshe reads its view"
T[b]=$(median read_secs "$F" 1002 2002) || { err "renshe's read failed"; exit 1; }
say "(b') renshe maps its view MAP_SHARED"
map_secs() {
	setpriv --reuid 1002 --regid 2002 --clear-groups "$UPY" -c '
import hashlib, mmap, os, sys, time
t = time.monotonic()
fd = os.open(sys.argv[1], os.O_RDONLY)
m = mmap.mmap(fd, 0, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ)
h = hashlib.sha256()
for i in range(0, len(m), 1 << 20):
    h.update(m[i:i + (1 << 20)])
print("%.6f %s" % (time.monotonic() - t, h.hexdigest()))' "$1"
}
cold
read -r T[m] MAP_SUM <<< "$(map_secs "$F" 2> "$D/map.err")" ||
	{ err "renshe's MAP_SHARED map failed: $(tail -n1 "$D/map.err")"; exit 1; }
READ_SUM=$(asB cat "$F" | sha256sum | cut -d' ' -f1)
BYTES[m]=${BYTES[b]}
SAME=$([ "$MAP_SUM" = "$READ_SUM" ] && echo yes || echo NO)
[ "$SAME" = yes ] || { err "renshe's MAP_SHARED map is not its read() ($MAP_SUM, $READ_SUM; $(tail -n2 "$D/map.err"))"; exit 1; }
say "(c) gongan reads the unshared copy"
T[c]=$(median read_secs "$MNT$PRIV/$FILE" 1001 2001) || { err "gongan's read of the copy failed"; exit 1; }
stop_daemon

mount_pf -o dept=renshe -o view_budget=$((2 * MB + 1024))M
leak_check B "$F" || exit 1
BYTES[d]=$(size B "$F")
say "(d) renshe reads its view through a department mount"
T[d]=$(median read_secs "$F" 1002 2002) || { err "renshe's read in its department mount failed"; exit 1; }
stop_daemon

# ---- the table ----
mbs() { awk -v b="${BYTES[$1]}" -v t="${T[$1]}" 'BEGIN { printf "%.0f", b / 1048576 / t }'; }
declare -A R
for k in a b m c d; do R[$k]=$(mbs $k); done
ratio() { awk -v x="${R[$1]}" -v y="${R[a]}" 'BEGIN { if (y > 0) printf "%.2f", x / y; else print "-" }'; }
met=$(awk -v r="$(ratio b)" 'BEGIN { print (r >= 0.9 ? "yes" : "NO") }')
mib() { awk -v b="${BYTES[$1]}" 'BEGIN { printf "%.1f", b / 1048576 }'; }
echo "masked read of a ${MB} MiB CSV (10 columns, 3 masked), dd bs=1M, median of $REPS," \
	"caches $([ $CAN_DROP = 1 ] && echo dropped || echo 'NOT dropped')"
{
	echo "what|MiB read|s|MB/s|x (a)|target|met"
	echo "(a) provider reads raw, pool mount|$(mib a)|${T[a]}|${R[a]}|1.00|-|-"
	echo "(b) renshe reads its masked view, pool mount|$(mib b)|${T[b]}|${R[b]}|$(ratio b)|>= 0.9|$met"
	echo "(b') renshe maps its view MAP_SHARED (+SHA-256), once|$(mib m)|${T[m]}|${R[m]}|$(ratio m)|same bytes as read()|$SAME"
	echo "(c) provider reads an unshared copy (page cache)|$(mib c)|${T[c]}|${R[c]}|$(ratio c)|-|-"
	echo "(d) renshe reads its view, dept mount|$(mib d)|${T[d]}|${R[d]}|$(ratio d)|-|-"
} | column -t -s '|'
echo "publish (cp, incl. commit): ${T_CP} s; view precomputed ${T_VIEW} s after cp returned" \
	"($(awk -v b="$RAW_BYTES" -v t="$T_VIEW" 'BEGIN { if (t > 0) printf "%.0f MB/s of raw", b / 1048576 / t; else print "at once" }'))"
