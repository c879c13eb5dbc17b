#!/usr/bin/env bash
# t_share_nfs.sh - the pool served over NFSv4 by real NFS-Ganesha
# (FSAL_VFS) on 127.0.0.1, one instance per department as `poolctl share
# nfs` prints it and started by the command line it prints: each runs as
# its department's account, so libnfs's nfs-cat through renshe's export
# gets exactly renshe's local masked view and through weijian's exactly
# weijian's (two exports, one file, different bytes, read in turns), a
# client claiming another uid changes nothing, gongan's nfs-cp becomes a
# version audited under gongan's account, and an export whose account
# is in no department reads and lists nothing.
# timeout: 150
. "$(dirname "$0")/../lib.sh"
t_setup

for p in ganesha.nfsd nfs-cat nfs-ls nfs-cp setpriv useradd groupadd; do
	command -v $p > /dev/null || die "$p not found (scripts/deps.sh installs nfs-ganesha-vfs and libnfs-utils)"
done
[ -n "$(find /usr/lib -name 'libfsalvfs*' 2> /dev/null | head -n1)" ] ||
	die "FSAL_VFS not found (apt-get install nfs-ganesha-vfs)"

GA=/基础库/人口/户籍人口
NFS=$T_TMP/nfs
PORT=$((20500 + RANDOM % 400))	# gongan, renshe, weijian, the stray export: PORT..PORT+3
U_GA=pfnga$$ U_RS=pfnrs$$ U_WJ=pfnwj$$ U_NO=pfnno$$
ID_GA=$((66000 + $$ % 900)) ID_RS=$((67000 + $$ % 900)) ID_WJ=$((68000 + $$ % 900)) ID_NO=$((69000 + $$ % 900))
# renshe's first member: an account whose name (a directory service may
# hand out what its own admin typed) is more than one word; in the unit's
# root ExecStartPre=install -d -o NAME it would chown /etc to the account
U_SP="pfnsp$$ /etc" ID_SP=$((69900 + $$ % 90))
PIDS=()

share_cleanup() {
	local rc=$?
	for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null && wait "$p" 2> /dev/null; done
	for u in $U_GA $U_RS $U_WJ $U_NO; do userdel "$u" 2> /dev/null; groupdel "$u" 2> /dev/null; done
	userdel "$U_SP" 2> /dev/null
	(exit $rc)	# t_cleanup judges the test by the status it exited with
	t_cleanup
}
trap share_cleanup EXIT

for pair in "$U_GA:$ID_GA" "$U_RS:$ID_RS" "$U_WJ:$ID_WJ" "$U_NO:$ID_NO"; do
	u=${pair%:*} id=${pair#*:}
	groupadd -g "$id" "$u" || die "groupadd $u failed"
	useradd -M -N -u "$id" -g "$id" -s /usr/sbin/nologin -d /nonexistent "$u" 2> /dev/null ||
		die "useradd $u failed"
done
useradd --badname -M -N -u "$ID_SP" -g "$ID_RS" -s /usr/sbin/nologin -d /nonexistent "$U_SP" ||
	die "useradd $U_SP failed"

as() { local u=$1; shift; timeout 60 setpriv --reuid "$u" --regid "$u" --clear-groups "$@"; }
url() { printf 'nfs://127.0.0.1/%s%s?version=4&nfsport=%s&uid=%s&gid=%s' "$1" "$2" "$3" "$4" "$4"; }
# nfsc DEPT PORT CLIENT_UID CMD PATH: a libnfs command as root on the client (a
# privileged port); again when it failed for no NFS reason (libnfs found no
# free reserved port), with the reason in the log
nfsc() {
	local d=$1 p=$2 u=$3 cmd=$4 path=$5 i
	for i in 1 2 3; do
		timeout 60 "$cmd" "$(url "$d" "$path" "$p" "$u")" > "$T_TMP/nfsc.out" 2>&1 && break
		grep -q 'NFS4ERR_' "$T_TMP/nfsc.out" && break
		note "$cmd again after: $(head -c 300 "$T_TMP/nfsc.out")"
		sleep 0.5
	done
	cat "$T_TMP/nfsc.out"
}

# the basic fixture with our accounts, and weijian reading the same entry masked its own way
"$PY" - "$HELPERS/policy_basic.json" "$T_TMP/policy.json" $ID_GA $ID_RS $ID_WJ $ID_SP << 'PY' || die "policy"
import json, sys
p = json.load(open(sys.argv[1]))
ga, rs, wj, sp = (int(x) for x in sys.argv[3:7])
p["departments"] = [
    {"id": "gongan", "name": "市公安局", "members": {"uids": [ga]}},
    {"id": "renshe", "name": "市人社局", "members": {"uids": [sp, rs]}},
    {"id": "weijian", "name": "市卫健委", "members": {"uids": [wj]}}]
p["grants"].append({"id": "g2", "entry": "341800-GA-0001", "department": "weijian",
    "actions": ["read"], "fields": ["姓名", "手机号", "区县"],
    "valid_from": "2026-01-01", "valid_until": "2099-01-01", "purpose": "健康档案"})
json.dump(p, open(sys.argv[2], "w"), ensure_ascii=False)
PY
pool_init
check "apply the policy" pctl policy apply "$T_TMP/policy.json"
POOLFS_OPTS=
pool_mount
chmod o+x "$T_TMP"

t_fixture_people "$T_TMP/people.csv" wide
check "gongan publishes locally" as $ID_GA cp "$T_TMP/people.csv" "$MNT$GA/people.csv"
# Ganesha judges mode bits for its account before poolfs is asked
# (docs/shares.md): the provider opens its entry's directory to it
check "gongan makes its entry's directory writable by mode" as $ID_GA chmod 0777 "$MNT$GA"

# ---- what poolctl prints ----
mkdir -p "$NFS"
pctl share nfs --mount "$MNT" > "$NFS/overview.txt" 2>&1
check_eq "the overview names each department's account" \
	"$(awk '/^# (gongan|renshe|weijian)\t/ { print $2, $3 }' "$NFS/overview.txt" | tr '\n' ' ')" \
	"gongan $U_GA renshe $U_RS weijian $U_WJ "
check_rc "krb5p is the default flavour" 0 \
	sh -c '"$0" -s "$1" share nfs --mount "$2" --dept renshe | grep -q "SecType = krb5p;"' \
	"$POOLCTL" "$STORE" "$MNT"
check_rc "an account of no department is refused" 2 \
	pctl share nfs --mount "$MNT" --dept renshe --account $U_NO
check_rc "an account of another department is refused" 2 \
	pctl share nfs --mount "$MNT" --dept renshe --account $U_GA
check_rc "an unknown department is refused" 2 pctl share nfs --mount "$MNT" --dept nosuch
check_rc "smb options are refused for nfs" 2 pctl share nfs --mount "$MNT" --full-audit
check_rc "nfs options are refused for smb" 2 pctl share smb --mount "$MNT" --dept renshe
check_rc "--port without --dept is refused" 2 pctl share nfs --mount "$MNT" --port 2049
pctl share nfs --mount "$MNT" --dept renshe --unit > "$NFS/poolfs-nfs-renshe.service"
check "the unit runs Ganesha as the account (not one named by more than a word)" \
	grep -qx "User=$U_RS" "$NFS/poolfs-nfs-renshe.service"
check_fails "no line of it names that account" grep -qF "pfnsp$$" "$NFS/poolfs-nfs-renshe.service"
check "with CAP_DAC_READ_SEARCH alone" grep -qx "CapabilityBoundingSet=CAP_DAC_READ_SEARCH" \
	"$NFS/poolfs-nfs-renshe.service"
# CAP_DAC_READ_SEARCH reads what it reaches: no password hash may be in reach
hidden=$(sed -n 's/^InaccessiblePaths=//p' "$NFS/poolfs-nfs-renshe.service")
for p in /etc/shadow /etc/shadow- /etc/gshadow- /var/backups /var/lib/samba /run/samba \
	/var/lib/sss /etc/poolfs "$STORE" "$T_TMP/master.key"; do
	check "the unit hides $p" grep -qE "(^| )-$p( |$)" <<< "$hidden"
done
# a store named relative to poolctl's directory, or by a path with a
# space, is hidden by its absolute path or the unit is refused: never left out
pool_init "$T_TMP/s2" --cipher none
check "apply the policy to a second store" "$POOLCTL" -s "$T_TMP/s2" policy apply "$T_TMP/policy.json"
(cd "$T_TMP" && "$POOLCTL" -s s2 share nfs --mount "$MNT" --dept renshe --unit) > "$NFS/rel.service"
check "a relative -s: the unit hides the store's absolute path" \
	grep -qE "^InaccessiblePaths=.* -$T_TMP/s2( |\$)" "$NFS/rel.service"
mv "$T_TMP/s2" "$T_TMP/s 2" || die "mv"
check_rc "a store path with a space: the unit is refused" 2 \
	"$POOLCTL" -s "$T_TMP/s 2" share nfs --mount "$MNT" --dept renshe --unit
if command -v systemd-analyze > /dev/null; then
	check "systemd-analyze verify takes the unit" \
		timeout 60 systemd-analyze verify "$NFS/poolfs-nfs-renshe.service"
fi

# start DEPT PORT CONF UID [stray]: runs the Ganesha the config's "# run:" line describes
start() {
	local d=$1 port=$2 conf=$3 run i
	run=$(sed -n 's/^# run: //p' "$conf")
	[ -n "$run" ] || die "$conf has no run line"
	eval "$(sed -n 's/^# before: //p' "$conf")" || die "$conf's before line failed"
	# shellcheck disable=SC2086	# the printed command line is words
	setsid $run > "$NFS/$d.out" 2>&1 &
	PIDS+=($!)
	for ((i = 0; i < 150; i++)); do
		nfs-ls "nfs://127.0.0.1/?version=4&nfsport=$port" > /dev/null 2>&1 && break
		kill -0 "${PIDS[-1]}" 2> /dev/null || { cat "$NFS/$d.out"; tail "$NFS/$d/ganesha.log"; die "ganesha for $d exited"; }
		sleep 0.2
	done
	[ -z "${5:-}" ] && grep -q 'Unknown parameter\|Config File\|unknown block' "$NFS/$d/ganesha.log" &&
		fail "ganesha did not take $d's configuration: $(grep -m1 'Config File' "$NFS/$d/ganesha.log")"
	check "ganesha for $d runs as its account" \
		bash -c '[ "$(ps -o uid= -p "$0" | tr -d " ")" = "$1" ]' "$(cat "$NFS/$d/ganesha.pid")" "$4"
}
i=0
for pair in "gongan:$ID_GA" "renshe:$ID_RS" "weijian:$ID_WJ"; do
	d=${pair%:*}
	pctl share nfs --mount "$MNT" --dept $d --port $((PORT + i)) --bind 127.0.0.1 --sec sys \
		--state "$NFS/$d" --conf "$NFS/$d.conf" > "$NFS/$d.conf" ||
		die "poolctl share nfs --dept $d failed"
	# the test's quick start on top of what poolctl printed
	sed -i -e "s|^NFSV4 {|NFSV4 {\n\tGraceless = true;|" "$NFS/$d.conf"
	echo 'LOG { Default_Log_Level = EVENT; }' >> "$NFS/$d.conf"
	start $d $((PORT + i)) "$NFS/$d.conf" "${pair#*:}"
	i=$((i + 1))
done
check "each export runs with only_one_user" grep -q 'only_one_user = true;' "$NFS/renshe.conf"

# ---- each department reads its own view, as locally ----
as $ID_RS cat "$MNT$GA/people.csv" > "$T_TMP/rs.local" || fail "renshe cannot read locally"
as $ID_WJ cat "$MNT$GA/people.csv" > "$T_TMP/wj.local" || fail "weijian cannot read locally"
check "the two local views differ" bash -c '! cmp -s "$0" "$1"' "$T_TMP/rs.local" "$T_TMP/wj.local"
check "and both are masked" bash -c '! grep -q "13812345678\|张三丰" "$0" "$1"' "$T_TMP/rs.local" "$T_TMP/wj.local"
for round in 1 2; do
	nfsc renshe $((PORT + 1)) $ID_RS nfs-cat "$GA/people.csv" > "$T_TMP/rs.nfs$round"
	check_same "renshe over NFS gets its local view (round $round)" "$T_TMP/rs.nfs$round" "$T_TMP/rs.local"
	nfsc weijian $((PORT + 2)) $ID_WJ nfs-cat "$GA/people.csv" > "$T_TMP/wj.nfs$round"
	check_same "weijian over NFS gets its local view (round $round)" "$T_TMP/wj.nfs$round" "$T_TMP/wj.local"
done
nfsc gongan $PORT $ID_GA nfs-cat "$GA/people.csv" > "$T_TMP/ga.nfs"
check_same "gongan over NFS reads raw" "$T_TMP/ga.nfs" "$T_TMP/people.csv"
nfsc renshe $((PORT + 1)) $ID_GA nfs-cat "$GA/people.csv" > "$T_TMP/rs.claim"
check_same "a client claiming gongan's uid at renshe's export gets renshe's view" \
	"$T_TMP/rs.claim" "$T_TMP/rs.local"
nfsc renshe $((PORT + 1)) 0 nfs-cat "$GA/people.csv" > "$T_TMP/rs.root"
check_same "and one claiming root the same" "$T_TMP/rs.root" "$T_TMP/rs.local"
check_eq "renshe lists the entry over NFS" \
	"$(nfsc renshe $((PORT + 1)) $ID_RS nfs-ls "$GA" | awk '{ print $NF }' | tr '\n' ' ')" "people.csv "
check "renshe's NFS reads are audited under its account" \
	sh -c '"$0" -s "$1" audit query --path "$2" --uid "$3" --op open |
		grep -q "comm=ganesha.nfsd dept=renshe.*result=ok"' "$POOLCTL" "$STORE" "$GA/people.csv" $ID_RS
out=$(timeout 60 setpriv --reuid 65534 --regid 65534 --clear-groups \
	nfs-cat "$(url renshe "$GA/people.csv" $((PORT + 1)) $ID_RS)" 2>&1)
check "a client on an unprivileged port reads nothing" bash -c '! grep -q "宣州区" <<< "$0"' "$out"

# ---- writes ----
printf '身份证号,姓名,手机号,住址,区县\n341802199909099999,赵六,13600000000,宣城市宣州区某路9号,宣州区\n' \
	> "$T_TMP/new.csv"
chmod 0644 "$T_TMP/new.csv"
check "gongan writes a new file with nfs-cp" \
	timeout 60 nfs-cp "$T_TMP/new.csv" "$(url gongan "$GA/new.csv" $PORT $ID_GA)"
check_same "the pool holds the bytes sent" <(as $ID_GA cat "$MNT$GA/new.csv") "$T_TMP/new.csv"
check_eq "it is version 1, of the size sent" \
	"$(pctl versions "$GA/new.csv" --json | "$PY" "$HELPERS/jsonq.py" versions)" \
	"1 $(stat -c %s "$T_TMP/new.csv")"
check "its commit is audited under gongan's account, from Ganesha" \
	sh -c '"$0" -s "$1" audit query --path "$2" --uid "$3" --op write |
		grep -q "comm=ganesha.nfsd dept=gongan op=write .*result=ok.*version=1"' \
	"$POOLCTL" "$STORE" "$GA/new.csv" $ID_GA
check_fails "renshe cannot write into gongan's entry over NFS" \
	timeout 60 nfs-cp "$T_TMP/new.csv" "$(url renshe "$GA/rs.csv" $((PORT + 1)) $ID_GA)"
check_eq "nothing of renshe's was made" "$(as $ID_GA ls "$MNT$GA" | tr '\n' ' ')" "new.csv people.csv "
check "the refusal is audited under renshe's account" \
	sh -c '"$0" -s "$1" audit query --uid "$2" --denied | grep -q "comm=ganesha.nfsd"' \
	"$POOLCTL" "$STORE" $ID_RS
# Ganesha reads for weijian's account only what the mode bits let "other" read
check_eq "nfs-cp made the file with no bits for other" "$(as $ID_GA stat -c %A "$MNT$GA/new.csv" | cut -c8-)" ---
out=$(nfsc weijian $((PORT + 2)) $ID_WJ nfs-cat "$GA/new.csv")
check "so weijian's Ganesha refuses it before poolfs is asked" bash -c '! grep -q "宣州区" <<< "$0"' "$out"
check "gongan opens it by mode" as $ID_GA chmod 0644 "$MNT$GA/new.csv"
as $ID_WJ cat "$MNT$GA/new.csv" > "$T_TMP/wj.newlocal" || fail "weijian cannot read new.csv locally"
nfsc weijian $((PORT + 2)) $ID_WJ nfs-cat "$GA/new.csv" > "$T_TMP/wj.new"
check_same "then weijian reads the new version masked, as locally" "$T_TMP/wj.new" "$T_TMP/wj.newlocal"
check "which is masked" bash -c '! grep -q "13600000000\|赵六" "$0"' "$T_TMP/wj.new"

# ---- an export whose account is in no department ----
sed -e "s/^\tAnonymous_Uid = .*/\tAnonymous_Uid = $ID_NO;/; s/^\tAnonymous_Gid = .*/\tAnonymous_Gid = $ID_NO;/" \
	-e "s/NFS_Port = .*/NFS_Port = $((PORT + 3));/; s|$NFS/renshe|$NFS/stray|g" \
	-e "s/--reuid=$U_RS --regid=$ID_RS/--reuid=$U_NO --regid=$ID_NO/; s/-o $U_RS -g $ID_RS/-o $U_NO -g $ID_NO/" \
	"$NFS/renshe.conf" > "$NFS/stray.conf"
start stray $((PORT + 3)) "$NFS/stray.conf" $ID_NO stray
out=$(nfsc renshe $((PORT + 3)) $ID_NO nfs-cat "$GA/people.csv")
note "stray nfs-cat: $out"
check "the stray export reads no byte" bash -c '! grep -q "341802\|宣州区\|身份证号" <<< "$0"' "$out"
out=$(nfsc renshe $((PORT + 3)) $ID_NO nfs-ls /)
note "stray nfs-ls: $out"
check "and lists nothing" bash -c '! grep -q "基础库" <<< "$0"' "$out"
check "Ganesha could not set the export up: poolfs refused its account" \
	grep -q "Permission denied\|Could not create export\|validation errors in block FSAL" "$NFS/stray/ganesha.log"
check "its refusals are audited under that account" \
	sh -c '"$0" -s "$1" audit query --uid "$2" --denied | grep -q "comm=ganesha.nfsd"' \
	"$POOLCTL" "$STORE" $ID_NO
check "the daemon still serves" daemon_alive
