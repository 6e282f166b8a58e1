#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Boot Debian's 6.12 kernel in QEMU with this machine's / shared read-only
# over virtio-9p, and run a job in it (or an interactive shell).
#
#   run-vm.sh --job SCRIPT [--out DIR] [--timeout SECONDS] [-- ARGS...]
#   run-vm.sh --interactive
#
# The job runs as root in a chroot of the host's root, with $VDUSE_TOP set
# to the project tree and its output directory at /tmp/out (also DIR on
# the host).  The guest's kernel log goes to DIR/kernel.log.  Exit code:
# the job's, or 124 when the VM timed out, or 125 when it never reported.
#
# VDUSE_VM_CPUS and VDUSE_VM_MEM (MiB) size the guest (2 and 2048);
# VDUSE_VM_NUMA=N splits both evenly into N NUMA nodes.
set -euo pipefail

here=$(dirname "$(readlink -f "$0")")
top=${TOP:-$(readlink -f "$here/../../../../..")}
kver=${KVER:-$(ls -d /usr/src/linux-headers-6.12.*-amd64 2>/dev/null |
	sed 's|.*/linux-headers-||' | sort -V | tail -n 1)}
cache=${CACHE:-/var/tmp/vduse-cache}
kernel=${VDUSE_KERNEL:-/boot/vmlinuz-$kver}
mem=${VDUSE_VM_MEM:-2048}
cpus=${VDUSE_VM_CPUS:-2}
nodes=${VDUSE_VM_NUMA:-1}

job=
out=
timeout=1800
interactive=0
while [ $# -gt 0 ]; do
	case "$1" in
	--job) job=$(readlink -f "$2"); shift 2 ;;
	--out) out=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--interactive) interactive=1; shift ;;
	--) shift; break ;;
	*) echo "run-vm: unknown option $1" >&2; exit 2 ;;
	esac
done

[ -r "$kernel" ] || { echo "run-vm: no kernel at $kernel (make deps)" >&2; exit 2; }

# The initramfs depends only on the kernel version and on our two scripts.
mkdir -p "$cache"
stamp=$(cat "$here/init" "$here/mkinitramfs.sh" | sha1sum | cut -c1-12)
initrd=$cache/initramfs-$kver-$stamp.cpio
[ -s "$initrd" ] || "$here/mkinitramfs.sh" "$kver" "$initrd"

if [ -z "$out" ]; then
	out=$(mktemp -d /tmp/vduse-vm.XXXXXX)
fi
mkdir -p "$out"
out=$(readlink -f "$out")
rm -f "$out/exit-code"

# KVM works on some machines and dies with emulation failures on others
# (nested): use it only when asked.
accel="-accel tcg,thread=multi -cpu max"
if [ "${VDUSE_VM_KVM:-0}" = 1 ] && [ -w /dev/kvm ]; then
	accel="-accel kvm -cpu host"
fi

numa=()
if [ "$nodes" -gt 1 ]; then
	[ $((cpus % nodes)) = 0 ] && [ $((mem % nodes)) = 0 ] ||
		{ echo "run-vm: $cpus CPUs, $mem MiB over $nodes nodes" >&2; exit 2; }
	for ((n = 0; n < nodes; n++)); do
		numa+=(-object "memory-backend-ram,id=mem$n,size=$((mem / nodes))M"
		       -numa "node,nodeid=$n,memdev=mem$n,cpus=$((n * cpus / nodes))-$(((n + 1) * cpus / nodes - 1))")
	done
fi

append="console=ttyS1 loglevel=7 panic=-1 oops=panic=0 rdinit=/init"
append+=" vdusetest.top=$top"
qemu=(qemu-system-x86_64 $accel -smp "$cpus" -m "$mem" "${numa[@]}" -nodefaults
	-no-reboot -display none -vga none
	-kernel "$kernel" -initrd "$initrd"
	-virtfs "local,path=/,mount_tag=hostroot,readonly=on,security_model=none,multidevs=remap"
	-virtfs "local,path=$out,mount_tag=out,security_model=none"
	-virtfs "local,path=$top,mount_tag=top,readonly=on,security_model=none,multidevs=remap"
	-device virtio-rng-pci
	-serial "mon:stdio" -serial "file:$out/kernel.log")

if [ "$interactive" = 1 ]; then
	exec "${qemu[@]}" -append "$append vdusetest.interactive"
fi

[ -n "$job" ] || { echo "run-vm: --job or --interactive" >&2; exit 2; }

# The job runs from the out share, with the arguments and environment the
# guest needs.
{
	echo '#!/bin/bash'
	echo "export VDUSE_TOP=$(printf %q "$top") VDUSE_KVER=$(printf %q "$kver")"
	echo "export VDUSE_BUILD=$(printf %q "${BUILD:-$top/build}")"
	echo "export VDUSE_CACHE=$(printf %q "$cache")"
	for v in VDUSE_KO VDUSE_FUZZ_SEED VDUSE_FUZZ_ITERS; do
		[ -z "${!v:-}" ] || echo "export $v=$(printf %q "${!v}")"
	done
	echo "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	echo "cd /tmp"
	printf 'exec bash /tmp/out/job-script' 
	[ $# = 0 ] || printf ' %q' "$@"
	echo
} > "$out/job"
cp "$job" "$out/job-script"

rc=0
timeout --foreground -k 10 "$timeout" "${qemu[@]}" -append "$append" \
	< /dev/null || rc=$?
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
	echo "run-vm: the VM did not finish within ${timeout}s" >&2
	exit 124
fi
if [ ! -s "$out/exit-code" ]; then
	echo "run-vm: the job never reported (QEMU exit $rc); see $out/kernel.log" >&2
	exit 125
fi
exit "$(cat "$out/exit-code")"
