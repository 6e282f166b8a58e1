#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build a debug kernel for the test VM from Debian's linux-source-6.12:
# x86_64 defconfig, the guest's needs built in (virtio, 9p, vdpa,
# virtio_vdpa, vhost_vdpa, virtio_blk, virtio_net, tun, veth, null_blk),
# and KASAN, lockdep (PROVE_LOCKING), DEBUG_ATOMIC_SLEEP, kmemleak and
# debug objects.  VDPA_USER stays off: the module under test is ours.
# On x86 in 6.12 VDPA_USER needs ARCH_HAS_DMA_OPS, which defconfig only
# gets with GART_IOMMU.
#
# The build lives in the cache, keyed by the source tarball and this
# script, and is reused while neither changes.  Prints the build
# directory (bzImage in arch/x86/boot/, the tree to build modules
# against).
set -euo pipefail

top=$(dirname "$(readlink -f "$0")")/..
cache=${CACHE:-/var/tmp/vduse-cache}
src=$("$top/scripts/kernel-src.sh")
stamp=$( (stat -c %Y-%s "${SRC_TARBALL:-/usr/src/linux-source-6.12.tar.xz}";
	  cat "$0") | sha1sum | cut -c1-12)
out=$cache/debug-kernel-$stamp
jobs=$(( $(nproc) + 1 ))

if [ -e "$out/.complete" ]; then
	echo "$out"
	exit 0
fi

start=$(date +%s)
echo "debug-kernel: configuring in $out" >&2
rm -rf "$out"
mkdir -p "$out"
make -s -C "$src" O="$out" defconfig kvm_guest.config >&2

cfg() { "$src/scripts/config" --file "$out/.config" "$@"; }
cfg --set-str LOCALVERSION "-vduse-debug" --disable LOCALVERSION_AUTO \
    --enable MODULES --enable MODULE_UNLOAD \
    --enable VIRTIO --enable VIRTIO_PCI --enable VIRTIO_BLK \
    --enable VIRTIO_NET --enable VIRTIO_CONSOLE \
    --enable NETFS_SUPPORT --enable NET_9P --enable NET_9P_VIRTIO \
    --enable 9P_FS --enable 9P_FS_POSIX_ACL \
    --enable DEVTMPFS --enable TMPFS --enable TMPFS_POSIX_ACL \
    --enable AIO --enable MEMFD_CREATE --enable FHANDLE \
    --enable NET_NS --enable TUN --enable VETH \
    --enable BLK_DEV_NULL_BLK --enable EXT4_FS \
    --enable FUSE_FS --enable VIRTIO_FS \
    --enable CPU_SUP_AMD --enable AMD_NB --enable GART_IOMMU \
    --enable VDPA --enable VHOST_MENU --enable VHOST_IOTLB \
    --enable VHOST --enable VHOST_VDPA --enable VIRTIO_VDPA \
    --disable VDPA_USER \
    --enable DEBUG_KERNEL --enable DEBUG_INFO_NONE \
    --enable KASAN --enable KASAN_GENERIC --enable KASAN_INLINE \
    --enable PROVE_LOCKING --enable DEBUG_ATOMIC_SLEEP \
    --enable DEBUG_KMEMLEAK --disable DEBUG_KMEMLEAK_DEFAULT_OFF \
    --set-val DEBUG_KMEMLEAK_MEM_POOL_SIZE 40000 \
    --enable DEBUG_OBJECTS --enable DEBUG_OBJECTS_WORK \
    --enable DEBUG_OBJECTS_TIMERS --enable DEBUG_OBJECTS_FREE \
    --enable SOFTLOCKUP_DETECTOR --enable DETECT_HUNG_TASK \
    --disable WERROR
make -s -C "$src" O="$out" olddefconfig >&2

# What the tests rely on must have survived olddefconfig's dependencies.
for opt in KASAN PROVE_LOCKING DEBUG_ATOMIC_SLEEP DEBUG_KMEMLEAK \
	   DEBUG_OBJECTS GART_IOMMU VIRTIO_VDPA VHOST_VDPA NET_9P_VIRTIO \
	   9P_FS TUN VETH BLK_DEV_NULL_BLK VIRTIO_NET VIRTIO_BLK FUSE_FS \
	   VIRTIO_FS; do
	grep -q "^CONFIG_$opt=y" "$out/.config" || {
		echo "debug-kernel: CONFIG_$opt did not stick" >&2
		exit 1
	}
done
grep -q "^CONFIG_VDPA_USER=" "$out/.config" && {
	echo "debug-kernel: CONFIG_VDPA_USER is set" >&2
	exit 1
}

echo "debug-kernel: building with -j$jobs (about 15 minutes on 2 cores)" >&2
make -s -C "$src" O="$out" -j"$jobs" bzImage modules >&2
touch "$out/.complete"
echo "debug-kernel: done in $(( $(date +%s) - start ))s" >&2
echo "$out"
