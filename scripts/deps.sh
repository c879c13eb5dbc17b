#!/usr/bin/env bash
# Install the Debian packages poolfs needs; silent when all are present.
set -euo pipefail
need=(libfuse3-dev fuse3 librocksdb-dev libssl-dev libjansson-dev libcunit1-dev
      pkg-config python3 rsync attr rocksdb-tools
      mandoc groff-base man-db bsdextrautils systemd	# man lint, man -l, systemd-analyze (t_install, t_service)
      samba samba-vfs-modules smbclient nfs-ganesha nfs-ganesha-vfs libnfs-utils)	# t_share_smb (fake_perms is in samba-vfs-modules, only recommended by samba), t_share_nfs
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
