#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the test VM's initramfs: static busybox, the modules needed to mount
# the host's root over virtio-9p, and an /init that chroots into it.
#
# Usage: mkinitramfs.sh KVER OUTPUT
set -euo pipefail

kver=$1
out=$2
here=$(dirname "$(readlink -f "$0")")

# busybox-static's binary: the initramfs has no libc.
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "mkinitramfs: busybox-static is missing" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work"/{bin,dev,proc,sys,newroot,modules}
cp "$busybox" "$work/bin/busybox"

# Modules in dependency order, decompressed: busybox insmod hands the raw
# file to init_module(), which does not take compressed images.
: > "$work/modules/order"
# A kernel without modules (the debug kernel) has 9p built in.
[ -d "/lib/modules/$kver" ] && for m in 9pnet_virtio 9p; do
	modprobe -S "$kver" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' | while read -r path; do
	name=$(basename "$path")
	name=${name%.xz}
	name=${name%.zst}
	case "$path" in
	*.xz)  xz -dc "$path" > "$work/modules/$name" ;;
	*.zst) zstd -qdc "$path" > "$work/modules/$name" ;;
	*)     cp "$path" "$work/modules/$name" ;;
	esac
	echo "$name" >> "$work/modules/order"
done

install -m 0755 "$here/init" "$work/init"

(cd "$work" && find . -print0 | cpio --quiet -o -0 -H newc) > "$out.tmp"
mv "$out.tmp" "$out"
