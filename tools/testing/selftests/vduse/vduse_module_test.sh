#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module under test is ours, holds itself while in use, and loads and
# unloads cleanly, many times.  VDUSE_KO names our vduse.ko.
set -u

ko=${VDUSE_KO:-}
here=$(dirname "$(readlink -f "$0")")
# shellcheck source=vduse_lib.sh
. "$here/vduse_lib.sh"

tap_plan 8

if [ -z "$ko" ] || [ ! -r "$ko" ]; then
	for i in 1 2 3 4 5 6 7 8; do skip "VDUSE_KO is not set"; done
	exit $KSFT_SKIP
fi

is_ours() {
	"$here/vduse_is_ours.sh" "$ko"
}
load() {
	grep -q '^vduse ' /proc/modules || insmod "$ko"
}

load
check "the loaded vduse module is the one under test" is_ours

busy_unload_fails() {
	local rc=0
	exec 3<>/dev/vduse/control || return 1
	rmmod vduse 2>/dev/null && rc=1
	exec 3>&-
	[ $rc = 0 ] && grep -q '^vduse ' /proc/modules
}
check "rmmod fails while the control node is open" busy_unload_fails

unload_removes_nodes() {
	rmmod vduse || return 1
	[ ! -e /dev/vduse/control ] && [ ! -e /sys/class/vduse ]
}
check "rmmod removes the control node and the class" unload_removes_nodes

reload_restores() {
	insmod "$ko" || return 1
	# devtmpfs creates the node as the device is added.
	[ -c /dev/vduse/control ] &&
		[ "$(stat -c %a /dev/vduse/control)" = 600 ] &&
		[ -e /sys/class/vduse/control/dev ]
}
check "insmod brings back /dev/vduse/control (0600)" reload_restores

cycles() {
	local i
	for i in $(seq 1 25); do
		rmmod vduse || return 1
		insmod "$ko" || return 1
	done
}
check "25 unload/load cycles" cycles

# Unload and reload while other processes open the control node, read the
# class in sysfs and create, attach and destroy devices (vduse_create_test
# in a loop): rmmod succeeds only between their uses, and nothing they do
# meets a half-loaded module.  Devices left behind go with the module.
under_stress() {
	local pids=() i done=0 create stop=/tmp/vduse-module-stress.stop
	create=$(prog vduse_create_test)
	[ -x "$create" ] || return 1
	rm -f $stop
	# Each loop ends its turn and stops: nothing of it outlives the check.
	# Read-only: "<>" would create a regular file while the node is gone.
	(while [ ! -e $stop ]; do : < /dev/vduse/control; done) 2> /dev/null &
	pids+=($!)
	(while [ ! -e $stop ]; do cat /sys/class/vduse/*/dev > /dev/null; done) 2> /dev/null &
	pids+=($!)
	(while [ ! -e $stop ]; do "$create" > /dev/null 2>&1; done) &
	pids+=($!)
	for i in $(seq 1 400); do
		if rmmod vduse 2> /dev/null; then
			insmod "$ko" || break
			done=$((done + 1))
			[ $done -ge 20 ] && break
		fi
		sleep 0.05
	done
	touch $stop
	wait "${pids[@]}"
	rm -f $stop
	load
	# Devices a create test left behind go with one more unload.
	rmmod vduse || return 1
	load
	echo "# $done unload/load cycles under stress in $i tries"
	[ $done -ge 20 ] && [ -c /dev/vduse/control ]
}
check "20 unload/load cycles while the module is being used" under_stress

stock_refused() {
	# The runner forbids the distribution's module; prove it.
	rmmod vduse || return 1
	if modprobe vduse 2>/dev/null && grep -q '^vduse ' /proc/modules; then
		rmmod vduse
		insmod "$ko"
		return 1
	fi
	insmod "$ko"
}
check "the distribution's vduse module cannot be loaded" stock_refused

check "the module is loaded again at the end" is_ours

tap_exit
