#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs inside the test VM (see run-vm.sh): load the vdpa stack and our
# vduse.ko, run each selftest program with its timeout, and record TAP.
#
#   guest-tests.sh [TEST...]
#
# For every program it prints its TAP results as they come, then one more
# result of its own: "<program>: exit status and kernel log", which fails
# when the program crashed, timed out, exited non-zero without reporting
# a failure, or when the kernel logged a BUG, WARNING, Oops, lockdep or
# KASAN report while it ran.  Results go to /tmp/out/results.
set -u

sel=$VDUSE_TOP/tools/testing/selftests/vduse
bin=$VDUSE_BUILD/selftests
ko=${VDUSE_KO:-$VDUSE_TOP/drivers/vdpa/vdpa_user/vduse.ko}
out=/tmp/out
results=$out/results
: > "$results"

# Messages that mean the kernel is unhealthy, whatever the test thought.
bad='BUG:|WARNING:|Oops|general protection|INFO: task .* blocked|KASAN|UBSAN|'
bad+='possible (circular|recursive) locking|inconsistent lock state|'
bad+='lockdep|suspicious RCU usage|kmemleak: .*new suspected|Call Trace:'

record() {	# status name
	echo "$1 $2" >> "$results"
	echo "$1 $2"
}

fatal() {
	record "not ok" "setup: $*"
	exit 1
}

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
default_timeout=${default_timeout:-300}
# A KASAN and lockdep kernel under TCG runs several times slower.
case "$(uname -r)" in
*-vduse-debug) default_timeout=$((default_timeout * 4)) ;;
esac

if [ $# -gt 0 ]; then
	tests=("$@")
else
	mapfile -t tests < "$bin/tests.list"
fi

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
	dmesg -C
	log=$out/$t.log
	timeout -k 5 "$default_timeout" "$prog" > "$log" 2>&1 &
	pid=$!
	# Show results as they arrive.
	tail -n +1 -f --pid=$pid "$log" 2>/dev/null |
		grep --line-buffered -E '^(not )?ok ' |
		sed -u "s/^\(not ok\|ok\) [0-9]* \(.*\)/\1 $t: \2/" |
		tee -a "$results"
	wait $pid
	rc=$?
	dmesg > "$out/$t.dmesg"

	why=
	if [ $rc = 124 ] || [ $rc = 137 ]; then
		why="timed out after ${default_timeout}s"
	elif [ $rc != 0 ] && [ $rc != 4 ] &&
	     ! grep -q '^not ok ' "$log"; then
		why="exit code $rc without a failed test"
	elif ! grep -qE '^(not )?ok ' "$log"; then
		why="reported no result (exit code $rc)"
	fi
	if grep -qE "$bad" "$out/$t.dmesg"; then
		why="${why:+$why; }kernel log: $(grep -m1 -E "$bad" "$out/$t.dmesg")"
	fi
	if [ -n "$why" ]; then
		record "not ok" "$t: exit status and kernel log # $why"
		sed 's/^/#   /' "$log" | tail -n 40
		grep -E -A 20 "$bad" "$out/$t.dmesg" | head -n 60 | sed 's/^/#   /'
	else
		record "ok" "$t: exit status and kernel log"
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
exit 0
