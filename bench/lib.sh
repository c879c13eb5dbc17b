# bench/lib.sh - sourced by the bench scripts: what they measure alike.

# median of REPS runs of "$@" (each prints seconds), each after `cold`,
# which the sourcing script defines (drop caches, or remount)
median() {
	local i out=()
	for ((i = 0; i < REPS; i++)); do
		cold
		out+=("$("$@")") || return 1
		[ -n "${out[-1]}" ] || return 1
	done
	printf '%s\n' "${out[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

# is_mounted MNT: MNT is in mountinfo (read, not stat(): a hung FUSE
# mount would hang the caller)
is_mounted() { awk -v m="$1" '$5 == m { f = 1 } END { exit !f }' /proc/self/mountinfo; }

# wait_mounted MNT [PID]: true once MNT is mounted, within 30 s; false
# after them, or once PID (the daemon meant to mount it) has exited
wait_mounted() {
	local i
	for ((i = 0; i < 300; i++)); do
		is_mounted "$1" && return 0
		[ -z "${2:-}" ] || kill -0 "$2" 2> /dev/null || return 1
		sleep 0.1
	done
	return 1
}

# ---- the mounted view benches (views_mount.sh, bigview_mount.sh) ----
# They share a store of one 10-column CSV entry that gongan (uid 1001)
# provides and renshe (uid 1002) reads through grant g1 with 3 columns
# masked. The functions use the sourcing script's POOLFS, POOLCTL, STORE,
# MNT, D (the bench's own directory), ENTRY, PID, PY, JSONQ, META and its
# err and say.

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

# mount_pf OPTS...: poolfs on STORE at MNT in the background (PID)
mount_pf() {
	"$POOLFS" "$STORE" "$MNT" -f "$@" >> "$D/poolfs.log" 2>&1 &
	PID=$!
	wait_mounted "$MNT" "$PID" && return 0
	err "poolfs $* did not mount: $(tail -n3 "$D/poolfs.log")"
	exit 1
}

as() { local u=$1 g=$2; shift 2; setpriv --reuid "$u" --regid "$g" --clear-groups "$@"; }
asA() { as 1001 2001 "$@"; }
asB() { as 1002 2002 "$@"; }

# bench_dir WORK NEED_MB: a fresh D with MNT in it, or exit 1
bench_dir() {
	local avail
	# the readers are other uids: WORK must let them through to the source and
	# the mount point (mktemp -d makes it 0700 when it is not a tmpfs)
	[ "$(($(stat -c '%#a' "$1") & 1))" = 1 ] || chmod o+x "$1" ||
		{ err "cannot make $1 searchable by other uids"; exit 1; }
	rm -rf "$D"
	mkdir -p "$MNT" && chmod 0755 "$D" || { err "cannot make $D"; exit 1; }
	avail=$(df -Pm "$D" | awk 'NR == 2 { print $4 }')
	[ "$avail" -ge "$2" ] || { err "$avail MiB free in $1, $2 MiB needed"; exit 1; }
}

# pop_store [CATALOG_JSON]: init STORE and apply the policy: ENTRY and g1,
# and CATALOG_JSON (",{...}" entries) after ENTRY in the catalog
pop_store() {
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
       {"name": "职业", "tag": "text"},        {"name": "月收入", "tag": "amount"}]}${1:-}
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
}

# pop_csv MB [ID1_FILE]: a CSV of ENTRY's 10 columns, MB MiB, on stdout;
# the first row's ID into ID1_FILE when given
pop_csv() {
	LC_ALL=C awk -v mb="$1" -v id1="${2:-}" 'BEGIN {
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
		if (i == 1 && id1 != "") { split(l, f, ","); print f[1] > id1 }
		print l; s += length(l) + 1
	}
}'
}

views() { "$POOLCTL" -s "$STORE" stats --json 2>> "$D/stats.err" | "$PY" "$JSONQ" get views 2>> "$D/stats.err"; }

# wait_views SINCE LIMIT WHAT: until `poolctl stats` counts a view, at most
# LIMIT seconds after SINCE (date +%s.%N), else ERROR "no WHAT ..." and exit 1
wait_views() {
	local v
	while :; do
		v=$(views)
		[[ $v =~ ^[0-9]+$ ]] && [ "$v" -ge 1 ] && return 0
		if [ "$(awk -v a="$1" -v b="$(date +%s.%N)" -v l="$2" 'BEGIN { print (b - a > l) }')" = 1 ]; then
			err "no $3 ${2} s after the commit (views '$v'; $(tail -n2 "$D/stats.err"))"
			exit 1
		fi
		sleep 0.2
	done
}

# size RDR PATH: st_size as that reader (A or B); read_secs PATH UID GID:
# seconds for dd bs=1M
size() { "as$1" stat -c %s "$2"; }
read_secs() { "$PY" "$META" time setpriv --reuid "$2" --regid "$3" --clear-groups \
	dd if="$1" of=/dev/null bs=1M; }

# leak_check RDR PATH ID...: one full read as RDR; fails (ERROR) on one of
# the raw IDs in it or a short read
leak_check() {
	local out n found rdr=$1 path=$2
	shift 2
	out=$("as$rdr" cat "$path" | "$PY" -c '
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
print(n, found)' "$@") || { err "$rdr could not read $path"; return 1; }
	read -r n found <<< "$out"
	[ "$found" = 0 ] || { err "$rdr's read of $path contains a raw ID ($*)"; return 1; }
	[ "$n" = "$(size "$rdr" "$path")" ] || { err "$rdr read $n bytes of $path, stat says $(size "$rdr" "$path")"; return 1; }
}

# ---- the share benches (nfs_mount.sh, smb_mount.sh) ----
# share_pool TAG: the account U (uid and gid ID) that owns WORK/plain, and
# a pool of tests/mount/policy_basic.json with U as gongan, mounted at
# WORK/mnt in the background (PFS); ERROR as "TAG bench" and exit 1.
# Uses the sourcing script's BUILD, POOLCTL, ROOT, WORK, U, ID.
share_pool() {
	groupadd -g $ID $U && useradd -M -N -u $ID -g $ID -s /usr/sbin/nologin -d /nonexistent $U 2> /dev/null ||
		{ echo "$1 bench: ERROR: cannot make the account $U"; exit 1; }
	chown $ID:$ID "$WORK/plain"
	chmod 0755 "$WORK"

	sed -e "s/\[1001\]/[$ID]/; s/\[2001\]/[$ID]/" "$ROOT/tests/mount/policy_basic.json" > "$WORK/policy.json"
	"$POOLCTL" init "$WORK/store" > /dev/null &&
		"$POOLCTL" -s "$WORK/store" policy apply "$WORK/policy.json" > /dev/null ||
		{ echo "$1 bench: ERROR: cannot make the pool"; exit 1; }
	"$BUILD/poolfs" "$WORK/store" "$WORK/mnt" -f > "$WORK/poolfs.log" 2>&1 &
	PFS=$!
	wait_mounted "$WORK/mnt" "$PFS" ||
		{ echo "$1 bench: ERROR: poolfs did not mount: $(tail -n3 "$WORK/poolfs.log")"; exit 1; }
}

# share_cleanup: undo share_pool, once the caller has stopped its server
share_cleanup() {
	fusermount3 -u "$WORK/mnt" 2> /dev/null
	[ -n "$PFS" ] && wait "$PFS" 2> /dev/null
	userdel "$U" 2> /dev/null
	groupdel "$U" 2> /dev/null
	rm -rf "$WORK"
}
