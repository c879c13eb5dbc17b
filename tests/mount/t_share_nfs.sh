#!/usr/bin/env bash
# t_share_nfs.sh - a real NFS-Ganesha (FSAL_VFS) on 127.0.0.1 takes the
# export `poolctl share nfs` prints and serves it, and nothing leaks:
# FSAL_VFS does its file operations as root, whatever the client's uid
# (docs/shares.md), and root has no data rights, so every client uid,
# the providing department's included, reads, lists and writes nothing,
# and each refusal is in the audit log as ganesha.nfsd's. The mount root
# opens for root without a listing, which Ganesha needs to start.
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
	nfs-ls "nfs://127.0.0.1/?version=4&nfsport=$PORT" > /dev/null 2>&1 && break
	kill -0 $GANESHA 2> /dev/null || { tail "$NFS/ganesha.log"; die "ganesha.nfsd exited"; }
	sleep 0.2
done
grep -q 'Unknown parameter\|Config File.*Error' "$NFS/ganesha.log" &&
	fail "ganesha did not take the configuration: $(grep -m1 'Config File' "$NFS/ganesha.log")"

# ---- Ganesha runs the export ----
check_eq "ganesha serves the export in its pseudo root" \
	"$(timeout 60 nfs-ls "nfs://127.0.0.1/?version=4&nfsport=$PORT&uid=$ID_GA&gid=$ID_GA" 2>&1 |
		awk '{ print $NF }')" pool
check "with no export error" bash -c '! grep -q "Could not create export\|failed to claim" "$0"' "$NFS/ganesha.log"

# ---- a file the provider wrote locally ----
"$PY" - "$T_TMP/people.csv" << 'PY' || die "cannot write people.csv"
import sys
rows = ["身份证号,姓名,手机号,住址,区县",
        "341802199001011234,张三丰,13812345678,宣城市宣州区某路1号,宣州区",
        "341802198503033456,王小明,13700001111,宣城市宣州区某路3号,宣州区"]
open(sys.argv[1], "w").write("\n".join(rows) + "\n")
PY
chmod 0644 "$T_TMP/people.csv"
check "gongan publishes locally" as $ID_GA cp "$T_TMP/people.csv" "$MNT$GA/people.csv"

# ---- over NFS nobody reads, lists or writes anything ----
for id in $ID_GA $ID_RS $ID_NO; do
	out=$(nfsc $id $id nfs-cat "$GA/people.csv")
	check "uid $id reads no byte of the file over NFS" \
		bash -c '! grep -q "341802\|宣州区\|身份证号" <<< "$0"' "$out"
	check_eq "uid $id lists nothing at the export's root" \
		"$(nfsc $id $id nfs-ls / | grep -c 基础库)" 0
done
check "gongan cannot write over NFS" \
	bash -c '! nfs-cp "$0" "$1" > /dev/null 2>&1' "$T_TMP/people.csv" "$(url "$GA/new.csv" $ID_GA $ID_GA)"
check_eq "nothing new was made" "$(as $ID_GA ls "$MNT$GA" | tr '\n' ' ')" "people.csv "
check_same "and the file is unchanged" <(as $ID_GA cat "$MNT$GA/people.csv") "$T_TMP/people.csv"
check "Ganesha's refusals are audited as root's" \
	sh -c '"$0" -s "$1" audit query --uid 0 --denied | grep -q "comm=ganesha.nfsd"' "$POOLCTL" "$STORE"
check "root's open of the mount root lists nothing" \
	sh -c '"$0" -s "$1" audit query --uid 0 --op list --denied | grep -q "list nothing"' "$POOLCTL" "$STORE"
check_fails "root's ls of the mount root is refused" ls "$MNT"
check "the daemon still serves" daemon_alive
