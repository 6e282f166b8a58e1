#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install every Debian package the project needs: build tools, the newest
# Debian 6.12 amd64 kernel with its headers, linux-source-6.12, QEMU and
# the userspace clients the tests drive.
#
#   deps.sh              install what is missing (runs apt-get update once),
#                        and unpack QEMU 10 into the cache (scripts/qemu10.sh)
#   deps.sh --if-needed  do nothing when everything is already installed
set -euo pipefail

packages=(
	build-essential bc bison flex libelf-dev libssl-dev dwarves kmod
	binutils git perl python3 python3-docutils sparse
	qemu-system-x86 qemu-system-common qemu-utils
	iproute2 ethtool fio e2fsprogs busybox-static cpio zstd xz-utils file
	util-linux procps
)

missing_pkgs() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null |
			grep -q '^ii' || echo "$p"
	done
}

# The installed 6.12 kernel, if it has both an image and headers.
installed_kver() {
	local v
	for v in $(ls -d /usr/src/linux-headers-6.12.*-amd64 2>/dev/null |
		   sed 's|.*/linux-headers-||' | sort -rV); do
		if [ -r "/boot/vmlinuz-$v" ] && [ -d "/lib/modules/$v/kernel" ]; then
			echo "$v"
			return
		fi
	done
}

if [ "${1:-}" = --if-needed ]; then
	if [ -z "$(missing_pkgs "${packages[@]}" linux-source-6.12)" ] &&
	   [ -n "$(installed_kver)" ] &&
	   [ -x "${CACHE:-/var/tmp/vduse-cache}/qemu10/usr/bin/qemu-system-x86_64" ]; then
		exit 0
	fi
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps: run as root (apt-get install)" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "deps: apt-get update"
apt-get update -qq

# The newest 6.12 amd64 kernel for which both the image and the headers
# can be installed.
kver=
for v in $(apt-cache search --names-only '^linux-headers-6\.12\.[0-9]+\+deb[0-9]+-amd64$' |
	   awk '{ print $1 }' | sed 's/^linux-headers-//' | sort -rV); do
	if apt-cache show "linux-image-$v" > /dev/null 2>&1 ||
	   apt-cache show "linux-image-$v-unsigned" > /dev/null 2>&1; then
		kver=$v
		break
	fi
done
if [ -z "$kver" ]; then
	echo "deps: no Debian linux-image-6.12.*-amd64 with matching headers" \
	     "can be found in the configured apt sources." >&2
	echo "deps: this project needs Debian bookworm's 6.12 kernel" \
	     "(bookworm-security or bookworm-backports)." >&2
	exit 1
fi
image=linux-image-$kver
apt-cache show "$image" > /dev/null 2>&1 || image=linux-image-$kver-unsigned

# linux-source-6.12 at the same upstream version as the kernel.
srcver=$(apt-cache show "linux-headers-$kver" | sed -n 's/^Version: //p' | sort -rV | head -n 1)
src=linux-source-6.12
if apt-cache show "$src=$srcver" > /dev/null 2>&1; then
	src="$src=$srcver"
fi

want=("${packages[@]}" "$image" "linux-headers-$kver")
todo=($(missing_pkgs "${want[@]}"))
if ! dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null |
	grep -qxF "${srcver}"; then
	todo+=("$src")
fi

if [ ${#todo[@]} = 0 ]; then
	echo "deps: every package is installed (kernel $kver)"
else
	echo "deps: installing ${todo[*]}"
	apt-get install -y -qq --no-install-recommends "${todo[@]}"
	echo "deps: installed (kernel $kver)"
fi

# QEMU 10, unpacked privately for the nested vhost-vdpa guest test; the
# test skips, saying why, when it cannot be had.
if ! "$(dirname "$0")/qemu10.sh" > /dev/null; then
	echo "deps: QEMU 10 from bookworm-backports could not be fetched;" \
	     "the nested guest test will skip" >&2
fi
