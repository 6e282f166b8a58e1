#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Unpack QEMU 10 from bookworm-backports into the cache, privately: its
# generic vhost-vdpa-device-pci lets a nested guest use a VDUSE block
# device through vhost-vdpa, which Debian 12's QEMU 7.2 cannot.  The
# system's packages and apt configuration are not touched; the binary
# runs with the libraries of the installed QEMU 7.2.
#
# Prints the directory (with usr/bin and usr/share/qemu) on success.
set -euo pipefail

cache=${CACHE:-/var/tmp/vduse-cache}
dest=$cache/qemu10
if [ -x "$dest/usr/bin/qemu-system-x86_64" ]; then
	echo "$dest"
	exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/vduse-qemu10.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{lists/partial,cache/archives/partial,dl}
echo "deb http://deb.debian.org/debian bookworm-backports main" > "$work/sources.list"
apt_opts=(-o Dir::Etc::SourceList="$work/sources.list"
	  -o Dir::Etc::SourceParts=/dev/null
	  -o Dir::State::Lists="$work/lists"
	  -o Dir::Cache="$work/cache"
	  -o APT::Sandbox::User=root)

apt-get "${apt_opts[@]}" update -qq >&2
(cd "$work/dl" && apt-get "${apt_opts[@]}" download -qq \
	qemu-system-x86/bookworm-backports qemu-system-data/bookworm-backports >&2)
rm -rf "$dest.tmp"
mkdir -p "$dest.tmp"
for deb in "$work"/dl/*.deb; do
	dpkg-deb -x "$deb" "$dest.tmp"
done
"$dest.tmp/usr/bin/qemu-system-x86_64" --version >&2
mv "$dest.tmp" "$dest"
echo "$dest"
