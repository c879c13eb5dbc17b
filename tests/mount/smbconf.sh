# tests/mount/smbconf.sh - sourced by t_share_smb.sh and bench/smb_mount.sh.
#
# smb_private_conf DIR PORT: prints an smb.conf [global] for a private
# smbd on 127.0.0.1:PORT whose state, passwords and logs all live in DIR
# (made here), including DIR/poolfs.conf (what `poolctl share smb` printed).
smb_private_conf() {
	local dir=$1 port=$2
	mkdir -p "$dir"/{private,lock,state,cache,pid,ncalrpc,log}
	cat << CONF
[global]
	server role = standalone server
	smb ports = $port
	interfaces = lo
	bind interfaces only = yes
	disable netbios = yes
	private dir = $dir/private
	lock directory = $dir/lock
	state directory = $dir/state
	cache directory = $dir/cache
	pid directory = $dir/pid
	ncalrpc dir = $dir/ncalrpc
	log file = $dir/log/%m.log
	passdb backend = tdbsam:$dir/private/passdb.tdb
	load printers = no
	printing = bsd
	printcap name = /dev/null
	disable spoolss = yes
	include = $dir/poolfs.conf
CONF
}
