#!/usr/bin/env bash
# t_share_nfs.sh - the pool served over NFSv4 by a real NFS-Ganesha
# (FSAL_VFS) on 127.0.0.1, configured with what `poolctl share nfs`
# prints: libnfs's client as the providing department writes a version
# whose audit records carry its uid and reads raw; as the granted
# department it gets exactly the masked bytes a local reader of that
# department gets; as a uid of no department it gets nothing; one
# department's reads never hand its view to the other, in either order.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
t_setup

for p in ganesha.nfsd nfs-cat nfs-ls nfs-cp setpriv; do
	command -v $p > /dev/null || die "$p not found (scripts/deps.sh installs nfs-ganesha-vfs and libnfs-utils)"
done
[ -e /usr/lib/x86_64-linux-gnu/ganesha/libfsalvfs.so ] || [ -n "$(find /usr/lib -name 'libfsalvfs*' 2> /dev/null | head -n1)" ] ||
	die "FSAL_VFS not found (apt-get install nfs-ganesha-vfs)"

GA=/基础库/人口/户籍人口
NFS=$T_TMP/nfs
PORT=$((20500 + RANDOM % 400))
ID_GA=1001 ID_RS=1002 ID_NO=1009	# policy_basic.json's members, and nobody's uid

as() { local u=$1; shift; timeout 60 setpriv --reuid "$u" --regid "$u" --clear-groups "$@"; }
url() { printf 'nfs://127.0.0.1/pool%s?version=4&nfsport=%s&uid=%s&gid=%s' "$1" "$PORT" "$2" "$3"; }
nfsc() { local u=$1 g=$2 cmd=$3 p=$4; shift 4; timeout 60 "$cmd" "$@" "$(url "$p" "$u" "$g")" 2>&1; }

pool_init
check "apply the policy" pctl policy apply "$HELPERS/policy_basic.json"
POOLFS_OPTS=
pool_mount
chmod o+x "$T_TMP"

# ---- the configuration poolctl prints ----
mkdir -p "$NFS"
check "poolctl share nfs" sh -c '"$0" -s "$1" share nfs --mount "$2" --sec sys > "$3"' \
	"$POOLCTL" "$STORE" "$MNT" "$NFS/export.conf"
check "the export serves the mount" grep -q "Path = \"$MNT\";" "$NFS/export.conf"
check "attributes are never answered from Ganesha's cache" grep -q 'Attr_Expiration_Time = 0;' "$NFS/export.conf"
check "no delegations" grep -q 'Delegations = false;' "$NFS/export.conf"
check_rc "krb5p is the default flavour" 0 \
	sh -c '"$0" -s "$1" share nfs --mount /srv/pool | grep -q "SecType = krb5p;"' "$POOLCTL" "$STORE"
check_rc "smb options are refused for nfs" 2 pctl share nfs --mount /srv/pool --full-audit

# the test's port and a quick grace period on top of what poolctl printed
sed -e "s|^NFS_CORE_PARAM {|NFS_CORE_PARAM {\n\tNFS_Port = $PORT;\n\tBind_addr = 127.0.0.1;|" \
	-e "s|^NFSV4 {|NFSV4 {\n\tGraceless = true;|" "$NFS/export.conf" > "$NFS/ganesha.conf"
echo 'LOG { Default_Log_Level = EVENT; }' >> "$NFS/ganesha.conf"
mkdir -p /var/run/ganesha
setsid ganesha.nfsd -F -f "$NFS/ganesha.conf" -L "$NFS/ganesha.log" -p "$NFS/ganesha.pid" \
	> "$NFS/ganesha.out" 2>&1 &
GANESHA=$!
share_cleanup() {
	local rc=$?
	kill "$GANESHA" 2> /dev/null && wait "$GANESHA" 2> /dev/null
	(exit $rc)	# t_cleanup judges the test by the status it exited with
	t_cleanup
}
trap share_cleanup EXIT
for ((i = 0; i < 150; i++)); do
	nfs-ls "$(url / $ID_GA $ID_GA)" > /dev/null 2>&1 && break
	kill -0 $GANESHA 2> /dev/null || { tail "$NFS/ganesha.log"; die "ganesha.nfsd exited"; }
	sleep 0.2
done
grep -q 'Unknown parameter\|Config File.*Error' "$NFS/ganesha.log" &&
	fail "ganesha did not take the configuration: $(grep -m1 'Config File' "$NFS/ganesha.log")"

# ---- the provider writes and reads raw over NFS ----
"$PY" - "$T_TMP/people.csv" << 'PY' || die "cannot write people.csv"
import sys
rows = ["身份证号,姓名,手机号,住址,区县",
        "341802199001011234,张三丰,13812345678,宣城市宣州区某路1号,宣州区",
        "341802199202022345,李四,13987654321,宣城市郎溪县某路2号,郎溪县",
        "341802198503033456,王小明,13700001111,宣城市宣州区某路3号,宣州区"]
open(sys.argv[1], "w").write("\n".join(rows) + "\n")
PY
chmod 0644 "$T_TMP/people.csv"
check "gongan copies a file in over NFS" nfs-cp "$T_TMP/people.csv" "$(url "$GA/people.csv" $ID_GA $ID_GA)"
check_same "the pool holds the bytes gongan sent" <(as $ID_GA cat "$MNT$GA/people.csv") "$T_TMP/people.csv"
check "its commit is audited with gongan's uid" \
	sh -c '"$0" -s "$1" audit query --path "$2" --uid "$3" --op write | grep -q "result=ok.*version=1"' \
	"$POOLCTL" "$STORE" "$GA/people.csv" $ID_GA

# ---- views never cross readers, in either order ----
as $ID_RS cat "$MNT$GA/people.csv" > "$T_TMP/rs.local" || fail "renshe cannot read locally"
check "renshe's local view is masked" bash -c '! grep -q 13812345678 "$0" && ! grep -q 张三丰 "$0"' \
	"$T_TMP/rs.local"
for round in 1 2; do
	nfsc $ID_RS $ID_RS nfs-cat "$GA/people.csv" > "$T_TMP/rs.got.$round"
	check_same "round $round: renshe over NFS gets its local masked view" "$T_TMP/rs.got.$round" \
		"$T_TMP/rs.local"
	nfsc $ID_GA $ID_GA nfs-cat "$GA/people.csv" > "$T_TMP/ga.got.$round"
	check_same "round $round: then gongan gets raw bytes" "$T_TMP/ga.got.$round" "$T_TMP/people.csv"
done
size=$(nfsc $ID_RS $ID_RS nfs-ls "$GA" | awk '$NF == "people.csv" { print $5 }')
check_eq "NFS lists renshe its view's size" "$size" "$(stat -c %s "$T_TMP/rs.local")"
size=$(nfsc $ID_GA $ID_GA nfs-ls "$GA" | awk '$NF == "people.csv" { print $5 }')
check_eq "and gongan the raw size" "$size" "$(stat -c %s "$T_TMP/people.csv")"

# ---- refusals ----
out=$(nfsc $ID_NO $ID_NO nfs-cat "$GA/people.csv")
check "a uid of no department reads nothing" bash -c '! grep -q 341802 <<< "$0" && ! grep -q 宣州区 <<< "$0"' "$out"
check_eq "and lists nothing at the root" "$(nfsc $ID_NO $ID_NO nfs-ls / | grep -c 基础库)" 0
check "renshe cannot write gongan's entry over NFS" \
	bash -c '! nfs-cp "$0" "$1" > /dev/null 2>&1' "$T_TMP/rs.local" "$(url "$GA/people.csv" $ID_RS $ID_RS)"
check_same "and the file is unchanged" <(as $ID_GA cat "$MNT$GA/people.csv") "$T_TMP/people.csv"
check "the refusals are audited with the NFS caller's uid" \
	sh -c '"$0" -s "$1" audit query --uid "$2" --denied | grep -q .' "$POOLCTL" "$STORE" $ID_RS
check "the daemon still serves" daemon_alive
