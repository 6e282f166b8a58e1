#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A real QEMU guest on a VDUSE virtio-net device through vhost-vdpa,
# nested in the test VM: our net daemon (vduse_net_daemon) bridges the
# device to a TAP interface, vhost_vdpa takes the device, QEMU's
# -netdev vhost-vdpa gives it to the guest's own virtio-net driver.  The
# guest pings the TAP side and fetches 4 MiB over TCP from a server behind
# the TAP (vduse_tcp_blob, static: the guest has only busybox); every
# byte is checked.  QEMU 10 from
# scripts/qemu10.sh (make deps); guest memory a shared memfd.
set -u
here=$(dirname "$(readlink -f "$0")")
# shellcheck source=vduse_lib.sh
. "$here/vduse_lib.sh"

NAME=vduse-qemu-net
KVER=$(uname -r)
BYTES=4194304
PLAN=10
tap_plan $PLAN

daemon=$(prog vduse_net_daemon)
blob=$(prog vduse_tcp_blob)
why=$(nested_skip_reason)
[ -x "$daemon" ] && [ -x "$blob" ] || why="vduse_net_daemon or vduse_tcp_blob missing (make)"
if [ -n "$why" ]; then
	for i in $(seq $PLAN); do skip "$why"; done
	exit $KSFT_SKIP
fi

DPID=
HPID=
cleanup() {
	[ -n "$HPID" ] && kill "$HPID" 2> /dev/null
	vdpa dev del $NAME 2> /dev/null
	if [ -n "$DPID" ]; then
		kill "$DPID" 2> /dev/null
		wait "$DPID" 2> /dev/null
	fi
}
trap cleanup EXIT

out=/tmp/vduse-net-daemon.out
"$daemon" $NAME > $out 2> /tmp/vduse-net-daemon.err &
DPID=$!
check "our daemon created the device and its TAP" wait_for 20 grep -q '^tap ' $out
tap=$(sed -n 's/^tap //p' $out)

setup_tap() {
	ip addr add 10.78.0.2/24 dev "$tap" && ip link set "$tap" up || return 1
	"$blob" serve 10.78.0.2 8080 $BYTES > /dev/null &
	HPID=$!
}
check "the TAP side has an address and a TCP server" setup_tap

check "attached and handed to vhost_vdpa" vdpa_attach_vhost "$NAME"
node=$(vhost_node "$NAME")

# The guest: busybox and virtio_net with what it needs, nothing else.
g=/tmp/vduse-net-guest
rm -rf $g
mkdir -p $g/bin $g/dev $g/proc $g/sys $g/tmp
cp /bin/busybox "$blob" $g/bin/
for m in net/core/failover drivers/net/net_failover drivers/net/virtio_net; do
	xz -dc "/lib/modules/$KVER/kernel/$m.ko.xz" > "$g/$(basename $m).ko"
done
cat > $g/init <<'GUEST'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
insmod /failover.ko
insmod /net_failover.ko
insmod /virtio_net.ko
for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /sys/class/net/eth0 ] && break; sleep 1; done
ip addr add 10.78.0.1/24 dev eth0
ip link set lo up
ip link set eth0 up
echo "GUEST-MAC: $(cat /sys/class/net/eth0/address)"
ping -c 3 -w 30 10.78.0.2 > /dev/null && echo "GUEST-PING-OK"
echo "GUEST-XFER: $(vduse_tcp_blob fetch 10.78.0.2 8080)"
echo "GUEST-DONE"
poweroff -f
GUEST
chmod +x $g/init
(cd $g && find . | cpio -o -H newc 2> /dev/null) > /tmp/vduse-net-guest.cpio

log=/tmp/vduse-net-guest.log
nested_qemu /tmp/vduse-net-guest.cpio $log \
	-netdev "vhost-vdpa,vhostdev=$node,id=n0" \
	-device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56
rc=$?
sed 's/^/# guest: /' $log | tail -n 8

check "the guest ran to the end (QEMU exit $rc)" grep -q GUEST-DONE $log
check "the guest pinged the TAP side through the daemon" grep -q GUEST-PING-OK $log
check "a 4 MiB TCP transfer to the guest arrived intact" \
	grep -qF "GUEST-XFER: bytes=$BYTES bad=0" $log
# The daemon asked for VDUSE_F_SUSPEND: QEMU suspends the device before it
# reads the vring bases, and trusts them.
check "QEMU stopped the guest without 'ring restore failed'" \
	bash -c "! grep -q 'ring restore failed' $log"
check "detach" vdpa_detach "$NAME"
# The daemon exits non-zero if it counted an error while serving or
# could not destroy the device.
stop_daemon() {
	kill "$DPID" && wait "$DPID"
	local rc=$?
	DPID=
	sed 's/^/# daemon: /' /tmp/vduse-net-daemon.err
	echo "# daemon: exit status $rc"
	[ $rc = 0 ] && ! test -e /dev/vduse/$NAME
}
check "the daemon exits with status 0 (no error served) and the device goes" \
	stop_daemon
check "QEMU suspended the device through VDUSE_SUSPEND" \
	grep -q 'suspends [1-9]' /tmp/vduse-net-daemon.err
rm -rf $g /tmp/vduse-net-guest.cpio
tap_exit
