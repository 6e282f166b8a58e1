#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs inside the test VM (see run-vm.sh): load the vdpa stack and our
# vduse.ko, run each selftest program with its timeout, and record TAP.
#
#   guest-tests.sh [TEST...]
#
# Each program's results are judged from its complete output once it has
# exited (tap.sh): its TAP lines, then "<program>: exit status and TAP
# plan".  Progress is shown as "# ..." lines while it runs.  Results go
# to /tmp/out/results.
#
# The kernel log is judged on the host, from the console log of the whole
# boot (run-tests.sh, klog-check.sh): each program's run is bracketed by
# "vduse-selftest: begin/end NAME" lines in the kernel log, so a report is
# blamed on the program that was running.  Nothing here or in a test
# clears the ring buffer.
set -u

sel=$VDUSE_TOP/tools/testing/selftests/vduse
bin=$VDUSE_BUILD/selftests
ko=${VDUSE_KO:-$VDUSE_TOP/drivers/vdpa/vdpa_user/vduse.ko}
out=/tmp/out
results=$out/results
: > "$results"

record() {	# status name
	echo "$1 $2" >> "$results"
	echo "$1 $2"
}

fatal() {
	record "not ok" "setup: $*"
	exit 1
}

# mark WORDS: a line in the kernel log, so klog-check.sh can tell whose
# run a report came from.
mark() {
	echo "<5>vduse-selftest: $*" > /dev/kmsg
}

# shellcheck source=tap.sh
. "$VDUSE_TOP/tools/testing/selftests/vduse/vm/tap.sh"

# Userspace writes to /dev/kmsg are rate-limited by default: the marks
# must all arrive.
echo on > /proc/sys/kernel/printk_devkmsg
mark begin setup

# The distribution's vduse.ko shares our module's name: make sure nothing
# can load it behind our back.
mkdir -p /run/modprobe.d
echo "install vduse /bin/false" > /run/modprobe.d/vduse-tests.conf

# A kernel without a module tree here (the debug kernel) has it built in.
if [ -d "/lib/modules/$(uname -r)" ]; then
	modprobe -a vdpa vhost_iotlb virtio_vdpa vhost_vdpa virtio_blk \
		virtio_net tun || fatal "cannot load the vdpa stack"
fi
[ -r "$ko" ] || fatal "$ko is missing: run make"
insmod "$ko" || fatal "insmod $ko failed"
"$sel/vduse_is_ours.sh" "$ko" || fatal "the loaded vduse module is not ours"
export VDUSE_KO=$ko

default_timeout=$(sed -n 's/^timeout=//p' "$sel/settings")
default_timeout=${default_timeout:-600}
# A KASAN and lockdep kernel under TCG runs several times slower.
case "$(uname -r)" in
*-vduse-debug) default_timeout=$((default_timeout * 4)) ;;
esac

if [ $# -gt 0 ]; then
	tests=("$@")
else
	mapfile -t tests < "$bin/tests.list"
fi

mark end setup
for t in "${tests[@]}"; do
	if [ -x "$bin/$t" ]; then
		prog=$bin/$t
	elif [ -x "$sel/$t" ]; then
		prog=$sel/$t
	else
		record "not ok" "$t: no such test"
		continue
	fi
	echo "# running $t"
	log=$out/$t.log
	mark begin "$t"
	tap_run "$t" "$prog" "$log" "$results" "$sel/vm/expected-skips" \
		"$(uname -r)" "$default_timeout"
	ok=$?
	mark end "$t"
	if [ $ok != 0 ]; then
		grep -E '^(not ok|#)' "$log" | tail -n 40 | sed 's/^/#   /'
	fi
	# A program that left devices behind failed; removing them keeps
	# its failure from showing up as the next program's.  Bounded: a
	# removal that hangs must not hang the run.
	if left=$(timeout -k 5 180 "$bin/vduse_leftovers" -d); then
		record ok "$t: left no VDUSE device behind"
	else
		record "not ok" "$t: left VDUSE devices behind: $(echo $left)"
	fi
done

# A kmemleak kernel: after everything, nothing of ours may have leaked.
if [ -e /sys/kernel/debug/kmemleak ] ||
   { mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null &&
     [ -e /sys/kernel/debug/kmemleak ]; }; then
	# Scanned with the module loaded, so that its symbols resolve.
	echo scan > /sys/kernel/debug/kmemleak
	sleep 5
	echo scan > /sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak > "$out/kmemleak.txt"
	if grep -q vduse "$out/kmemleak.txt"; then
		record "not ok" "kmemleak: objects leaked by vduse (see kmemleak.txt)"
		grep -B2 -A20 vduse "$out/kmemleak.txt" | head -n 60 | sed 's/^/#   /'
	else
		record "ok" "kmemleak: nothing leaked by vduse ($(grep -c \
			'^unreferenced object' "$out/kmemleak.txt") reports elsewhere)"
	fi
fi
dmesg > "$out/dmesg.txt"
mark end of the tests
exit 0
