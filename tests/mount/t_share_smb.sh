#!/usr/bin/env bash
# t_share_smb.sh - the pool served over SMB by a real Samba on 127.0.0.1,
# configured with what `poolctl share smb` prints: smbclient as a member
# of the providing department reads raw and writes a new version whose
# audit records carry its uid; as a member of the granted department it
# gets exactly the masked bytes a local reader of that department gets
# (and its own size); a user of no department cannot connect to either
# share, a department cannot open what it has no grant for, and one that
# may not list an entry hears no name made in it (SMB change notify).
# timeout: 150
. "$(dirname "$0")/../lib.sh"
. "$HELPERS/smbconf.sh"
t_setup

for p in smbd smbclient smbpasswd testparm setpriv useradd groupadd; do
	command -v $p > /dev/null || die "$p not found (scripts/deps.sh installs samba and smbclient)"
done

GA=/基础库/人口/户籍人口
SMB=$T_TMP/smb
PW=Pool-test-pw1
PORT=$((44500 + RANDOM % 400))
# uids and gids of our own, made here and removed at exit: Samba
# authenticates Unix accounts and switches to their uid, which poolfs sees
U_GA=pfsga$$ U_RS=pfsrs$$ U_NO=pfsno$$ U_WJ=pfswj$$
ID_GA=$((61000 + $$ % 900)) ID_RS=$((62000 + $$ % 900)) ID_NO=$((63000 + $$ % 900))
ID_WJ=$((64000 + $$ % 900))
# a member whose account name Samba would expand (%U: the connecting user)
U_PC="pfspc%U$$" ID_PC=$((65000 + $$ % 900))

share_cleanup() {
	local rc=$?
	[ -f "$SMB/smbd.pid" ] && kill "$(cat "$SMB/smbd.pid")" 2> /dev/null
	[ -n "${SMBD:-}" ] && kill "$SMBD" 2> /dev/null && wait "$SMBD" 2> /dev/null
	for u in "$U_PC" $U_GA $U_RS $U_NO $U_WJ; do userdel "$u" 2> /dev/null; groupdel "$u" 2> /dev/null; done
	(exit $rc)	# t_cleanup judges the test by the status it exited with
	t_cleanup
}
trap share_cleanup EXIT

for pair in "$U_GA:$ID_GA" "$U_RS:$ID_RS" "$U_NO:$ID_NO" "$U_WJ:$ID_WJ"; do
	u=${pair%:*} id=${pair#*:}
	groupadd -g "$id" "$u" || die "groupadd $u failed"
	useradd -M -N -u "$id" -g "$id" -s /usr/sbin/nologin -d /nonexistent "$u" ||
		die "useradd $u failed"
done
useradd --badname -M -N -u "$ID_PC" -g "$ID_RS" -s /usr/sbin/nologin -d /nonexistent "$U_PC" ||
	die "useradd $U_PC failed"

as() { local u=$1; shift; timeout 60 setpriv --reuid "$u" --regid "$u" --clear-groups "$@"; }

# the basic fixture with our accounts as the two departments' members,
# and weijian, a department with no grant on the entry
sed -e "s/\[1001\]/[$ID_GA]/; s/\[2001\]/[$ID_GA]/; s/\[1002\]/[$ID_RS, $ID_PC]/; s/\[2002\]/[$ID_RS]/" \
	-e "s/^\(    {\"id\": \"renshe\".*\)$/\1,\n    {\"id\": \"weijian\", \"name\": \"市卫健委%\$(HOME)\", \"members\": {\"uids\": [$ID_WJ]}}/" \
	"$HELPERS/policy_basic.json" > "$T_TMP/policy.json"
pool_init
check "apply the policy" pctl policy apply "$T_TMP/policy.json"
POOLFS_OPTS=
pool_mount
chmod o+x "$T_TMP"

# ---- the configuration poolctl prints ----
mkdir -p "$SMB"
check "poolctl share smb" sh -c '"$0" -s "$1" share smb --mount "$2" > "$3"' \
	"$POOLCTL" "$STORE" "$MNT" "$SMB/poolfs.conf"
check_eq "one share per department with an account" \
	"$(grep -cE '^\[(gongan|renshe|weijian)\]$' "$SMB/poolfs.conf")" 3
check_eq "gongan's share admits its member only" \
	"$(sed -n '/^\[gongan\]/,/^$/p' "$SMB/poolfs.conf" | grep 'valid users')" \
	"	valid users = \"$U_GA\" \"+$U_GA\""
check_eq "renshe's share names its member, not the one Samba would expand" \
	"$(sed -n '/^\[renshe\]/,/^$/p' "$SMB/poolfs.conf" | grep 'valid users')" \
	"	valid users = \"$U_RS\" \"+$U_RS\""
check "and says why the other is left out" grep -q "^# renshe: members .* uid $ID_PC$" "$SMB/poolfs.conf"
check_rc "a mount path with a % is a usage error" 2 pctl share smb --mount '/srv/%U'
# Samba expands a comment too (%$(VAR): smbd's environment, to every browser)
check_eq "a department name with a % is not the comment" \
	"$(sed -n '/^\[weijian\]/,/^$/p' "$SMB/poolfs.conf" | grep 'comment')" "	comment = weijian"
check_eq "no share forces a user" "$(grep -cE 'force user|admin users|guest ok = yes' "$SMB/poolfs.conf")" 0
check_fails "share smb without --mount is refused" pctl share smb
check_rc "a relative mount path is a usage error" 2 pctl share smb --mount rel/path
check_rc "an option with a quote is a usage error" 2 pctl share smb --mount '/a"b'
# a department whose id Samba reads as a section of its own (names are
# caseless): [Global] would carry a share's settings (read only = no,
# valid users, vfs objects) into the site's [global], so onto every other
# share of the host; [homes] makes a share for each user who connects
for id in Global homes PRINTERS; do
	sed "s/^\(    {\"id\": \"weijian\".*\)$/\1,\n    {\"id\": \"$id\", \"name\": \"x\", \"members\": {\"uids\": [$ID_NO]}}/" \
		"$T_TMP/policy.json" > "$T_TMP/policy-$id.json"
	pool_init "$T_TMP/s-$id"
	"$POOLCTL" -s "$T_TMP/s-$id" policy apply "$T_TMP/policy-$id.json" > /dev/null ||
		die "apply a policy with a department $id"
	out=$("$POOLCTL" -s "$T_TMP/s-$id" share smb --mount "$MNT" 2>&1)
	rc=$?
	check_eq "a department \"$id\" is refused ($(tail -n1 <<< "$out"))" "$rc" 2
	check_eq "and no [$id] section is printed" "$(grep -ci "^\[$id\]" <<< "$out")" 0
done

smb_private_conf "$SMB" "$PORT" > "$SMB/smb.conf"
check "testparm accepts the configuration" testparm -s --debuglevel=1 "$SMB/smb.conf"
testparm -s "$SMB/smb.conf" 2> "$SMB/testparm.err" > /dev/null
check_eq "testparm has no complaint" "$(grep -ciE 'unknown parameter|invalid|ignoring|found in service section' "$SMB/testparm.err")" 0
for u in $U_GA $U_RS $U_NO $U_WJ; do
	printf '%s\n%s\n' "$PW" "$PW" | smbpasswd -c "$SMB/smb.conf" -s -a "$u" > /dev/null ||
		die "smbpasswd -a $u failed"
done
# its own session: smbd signals its process group when it stops
setsid smbd --foreground --no-process-group --configfile="$SMB/smb.conf" --debuglevel=1 \
	> "$SMB/smbd.out" 2>&1 &
SMBD=$!
for ((i = 0; i < 100; i++)); do
	(exec 3<> /dev/tcp/127.0.0.1/$PORT) 2> /dev/null && break
	kill -0 $SMBD 2> /dev/null || { cat "$SMB/smbd.out"; die "smbd exited"; }
	sleep 0.1
done
: > "$SMB/client.conf"
# smbc USER SHARE COMMANDS: smbclient's output (errors included)
smbc() {
	timeout 60 smbclient -s "$SMB/client.conf" "//127.0.0.1/$2" -p "$PORT" -m SMB3 \
		-U "$1%$PW" -c "$3" 2>&1
}

# ---- the provider writes and reads raw over SMB ----
t_fixture_people "$T_TMP/people.csv" wide
check_fails "weijian may not list gongan's entry" as "$ID_WJ" ls "$MNT$GA"
# weijian watches the catalog above the entry (smbclient's notify is
# recursive) while gongan makes a file there; stdbuf: what it heard is
# printed before timeout ends it
(timeout 12 stdbuf -o0 smbclient -s "$SMB/client.conf" //127.0.0.1/weijian -p "$PORT" -m SMB3 \
	-U "$U_WJ%$PW" -c "notify 基础库" > "$T_TMP/notify.out" 2>&1) &
WATCH=$!
sleep 3
out=$(smbc "$U_GA" gongan "cd \"$GA\"; put \"$T_TMP/people.csv\" 张三丰.csv")
check_eq "gongan puts a file named after a person" "$(grep -c NT_STATUS <<< "$out")" 0 || note "$out"
wait "$WATCH"
check_eq "weijian hears no name made inside the entry" "$(grep -c 张三丰 "$T_TMP/notify.out")" 0 ||
	note "notify: $(head -c 300 "$T_TMP/notify.out")"
out=$(smbc "$U_GA" gongan "cd \"$GA\"; del 张三丰.csv")
out=$(smbc "$U_GA" gongan "cd \"$GA\"; put \"$T_TMP/people.csv\" people.csv")
check_eq "gongan puts a file over SMB" "$(grep -c NT_STATUS <<< "$out")" 0 || note "$out"
check_same "the pool holds the bytes gongan sent" <(as "$ID_GA" cat "$MNT$GA/people.csv") \
	"$T_TMP/people.csv"
check_eq "the write is version 1, of the size sent" \
	"$(pctl versions "$GA/people.csv" --json | "$PY" "$HELPERS/jsonq.py" versions)" \
	"1 $(stat -c %s "$T_TMP/people.csv")"
check "its commit is audited with the SMB user's uid" \
	sh -c '"$0" -s "$1" audit query --path "$2" --uid "$3" --op write | grep -q "result=ok.*version=1"' \
	"$POOLCTL" "$STORE" "$GA/people.csv" "$ID_GA"
smbc "$U_GA" gongan "cd \"$GA\"; get people.csv \"$T_TMP/ga.got\"" > /dev/null
check_same "gongan reads it raw over SMB" "$T_TMP/ga.got" "$T_TMP/people.csv"

# ---- the granted department gets its masked view, byte for byte ----
as "$ID_RS" cat "$MNT$GA/people.csv" > "$T_TMP/rs.local" || fail "renshe cannot read locally"
check "renshe's local view is masked" bash -c '! grep -q 13812345678 "$0" && ! grep -q 张三丰 "$0"' \
	"$T_TMP/rs.local"
out=$(smbc "$U_RS" renshe "cd \"$GA\"; get people.csv \"$T_TMP/rs.got\"")
check_same "renshe over SMB gets its local masked view" "$T_TMP/rs.got" "$T_TMP/rs.local"
size=$(smbc "$U_RS" renshe "cd \"$GA\"; allinfo people.csv" | awk '/^stream:/ { print $3 }' | head -n1)
check_eq "SMB shows renshe its view's size" "$size" "$(stat -c %s "$T_TMP/rs.local")"
size=$(smbc "$U_GA" gongan "cd \"$GA\"; allinfo people.csv" | awk '/^stream:/ { print $3 }' | head -n1)
check_eq "and gongan the raw size" "$size" "$(stat -c %s "$T_TMP/people.csv")"
check "renshe's SMB read is in the audit log" \
	sh -c '"$0" -s "$1" audit query --path "$2" --uid "$3" --op open | grep -q "result=ok"' \
	"$POOLCTL" "$STORE" "$GA/people.csv" "$ID_RS"

# ---- refusals ----
out=$(smbc "$U_NO" renshe "ls")
check "a user of no department cannot connect to renshe" grep -q NT_STATUS_ACCESS_DENIED <<< "$out"
out=$(smbc "$U_NO" gongan "ls")
check "nor to gongan" grep -q NT_STATUS_ACCESS_DENIED <<< "$out"
out=$(smbc "$U_RS" gongan "ls")
check "renshe cannot connect to gongan's share" grep -q NT_STATUS_ACCESS_DENIED <<< "$out"
out=$(smbc "$U_RS" renshe "cd \"$GA\"; put \"$T_TMP/people.csv\" people.csv")
check "renshe cannot write gongan's entry over SMB" grep -q NT_STATUS_ACCESS_DENIED <<< "$out"
check_same "and the file is unchanged" <(as "$ID_GA" cat "$MNT$GA/people.csv") "$T_TMP/people.csv"
check "the refused write is audited with renshe's uid" \
	sh -c '"$0" -s "$1" audit query --path "$2" --uid "$3" --denied | grep -q .' \
	"$POOLCTL" "$STORE" "$GA/people.csv" "$ID_RS"
check "the daemon still serves" daemon_alive
