#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The README's two commands as a new user meets them: on a machine with no
# 6.12 kernel, headers, linux-source or QEMU, in a fresh clone with an
# empty cache, `make demo` alone and `make check` alone.  Each must pass
# as the very first command.
#
#   fresh-machine-check.sh [demo] [check]
#	Each command in its own fresh Debian 12 root (debootstrap; the tools
#	a new machine comes with: gcc, make, git), entered with chroot.
#	Leaves this machine's packages alone.
#   fresh-machine-check.sh --host --yes [demo] [check]
#	On this machine itself: purges Debian's 6.12 kernel packages,
#	linux-source-6.12 and QEMU first (the commands under test reinstall
#	them).  For a test machine with nothing else using them.
#
# Runs as root.  Prints TAP; logs stay in /var/tmp/vduse-fresh.*.
set -uo pipefail

top=$(readlink -f "$(dirname "$0")/..")
mode=chroot
if [ "${1:-}" = --host ]; then
	[ "${2:-}" = --yes ] || {
		echo "fresh-machine-check: --host purges kernel and QEMU packages; pass --host --yes" >&2
		exit 2
	}
	mode=host
	shift 2
fi
cmds=("$@")
[ ${#cmds[@]} != 0 ] || cmds=(demo check)
[ "$(id -u)" = 0 ] || { echo "fresh-machine-check: run as root" >&2; exit 2; }

export DEBIAN_FRONTEND=noninteractive
mirror=http://deb.debian.org/debian
base=/var/tmp/vduse-fresh-base.tar

purge() {
	local pkgs
	pkgs=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' \
		'linux-image-6.12*' 'linux-headers-6.12*' 'linux-kbuild-6.12*' \
		linux-source-6.12 qemu-system-x86 qemu-system-common \
		qemu-system-data qemu-utils 2>/dev/null | awk '/^ii/ { print $2 }')
	[ -z "$pkgs" ] || apt-get purge -y -qq $pkgs > /dev/null
	! ls -d /usr/src/linux-headers-6.12.* /boot/vmlinuz-6.12.* \
		/usr/bin/qemu-system-x86_64 2>/dev/null | grep -q .
}

# A Debian 12 root as a new machine has it, kept as a tarball for reuse.
make_base() {
	local d

	[ -s "$base" ] && return 0
	command -v debootstrap > /dev/null ||
		apt-get install -y -qq debootstrap > /dev/null || return 1
	d=$(mktemp -d /var/tmp/vduse-fresh-base.XXXXXX)
	debootstrap --variant=minbase --include=gcc,libc6-dev,make,git,ca-certificates \
		bookworm "$d" "$mirror" > "$d.log" 2>&1 || return 1
	# The kernels the project needs come from the security and
	# updates suites, as on an installed machine.
	cat > "$d/etc/apt/sources.list" <<-EOF
	deb $mirror bookworm main
	deb $mirror bookworm-updates main
	deb http://deb.debian.org/debian-security bookworm-security main
	EOF
	# mktemp made $d 0700; a real root is 0755, and the guest, which
	# shares this root, must let an unprivileged user walk through it.
	chmod 755 "$d"
	tar -C "$d" -cf "$base.tmp" . && mv "$base.tmp" "$base"
	rm -rf "$d" "$d.log"
}

# run_in_root DIR CMD: `make CMD` in a fresh clone inside the root DIR.
run_in_root() {
	local root=$1 cmd=$2 m rc

	mkdir -p "$root" && tar -C "$root" -xf "$base" || return 1
	chmod 755 "$root"
	git clone -q "$top" "$root/root/vduse" || return 1
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	for m in proc sys dev dev/pts; do
		mount --bind "/$m" "$root/$m" || return 1
	done
	chroot "$root" /bin/bash -c "cd /root/vduse && make $cmd"
	rc=$?
	for m in dev/pts dev sys proc; do
		umount -l "$root/$m"
	done
	return $rc
}

echo "TAP version 13"
echo "1..${#cmds[@]}"
n=0 fails=0
if [ $mode = chroot ] && ! make_base; then
	echo "Bail out! cannot debootstrap a Debian 12 root"
	exit 1
fi
for cmd in "${cmds[@]}"; do
	n=$((n + 1))
	dir=$(mktemp -d /var/tmp/vduse-fresh.XXXXXX)
	start=$(date +%s)
	if [ $mode = host ]; then
		if ! purge; then
			echo "not ok $n make $cmd: could not purge the 6.12 kernel and QEMU"
			fails=$((fails + 1))
			continue
		fi
		git clone -q "$top" "$dir/vduse"
		(cd "$dir/vduse" && CACHE=$dir/cache make "$cmd") > "$dir/$cmd.log" 2>&1
	else
		run_in_root "$dir/root" "$cmd" > "$dir/$cmd.log" 2>&1
	fi
	rc=$?
	took=$(( $(date +%s) - start ))
	if [ $rc = 0 ]; then
		echo "ok $n make $cmd as the first command, $mode (${took}s, $dir/$cmd.log)"
	else
		echo "not ok $n make $cmd as the first command, $mode: exit $rc ($dir/$cmd.log)"
		tail -n 20 "$dir/$cmd.log" | sed 's/^/#   /'
		fails=$((fails + 1))
	fi
done
echo "$((n - fails)) passed, $fails failed"
[ $fails = 0 ]
