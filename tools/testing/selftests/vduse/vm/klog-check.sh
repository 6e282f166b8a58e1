#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Judge the test VM's kernel log, from boot to poweroff.
#
#   klog-check.sh KERNEL-LOG
#
# KERNEL-LOG is the guest's console (run-vm.sh writes it to kernel.log):
# the whole boot, whatever a test did to the ring buffer.  guest-tests.sh
# brackets each program with "vduse-selftest: begin NAME" and "... end
# NAME"; a report is blamed on the program whose run it appeared in, or
# on the boot, the setup, the gap after a program, or the shutdown.
# Prints one "not ok kernel log: ..." line for each part with a report
# (its first such line), or a single "ok kernel log: ..." line; exits
# non-zero when it found one, or when the log has no mark at all (the
# guest never ran the tests, so there is nothing to vouch for).
set -u

log=$1

# Messages that mean the kernel is unhealthy, whatever the test thought.
# kmemleak's "new suspected" lines are judged by guest-tests.sh, which
# reads the report and blames only what is ours.
bad='BUG:|WARNING:|Oops|general protection|INFO: task .* blocked|KASAN|UBSAN|'
bad+='possible (circular|recursive) locking|inconsistent lock state|'
bad+='lockdep is turned off|DEBUG_LOCKS_WARN_ON|suspicious RCU usage|Call Trace:|'
bad+='soft lockup|hard LOCKUP|rcu_sched detected stalls|rcu: INFO:|'
bad+='Kernel panic|list_(add|del) corruption|refcount_t:|'
bad+='ODEBUG:|kernel BUG at'

[ -r "$log" ] || { echo "not ok kernel log: $log is missing"; exit 1; }

# Console lines may carry a timestamp and CR line ends.
tr -d '\r' < "$log" | awk -v bad="$bad" '
	function part_name() {
		return part
	}
	BEGIN { part = "boot"; marks = 0; nbad = 0 }
	/vduse-selftest: begin / {
		sub(/.*vduse-selftest: begin /, "")
		part = $0
		marks++
		next
	}
	/vduse-selftest: end / {
		sub(/.*vduse-selftest: end /, "")
		part = "after " $0
		marks++
		next
	}
	$0 ~ bad {
		if (!(part in first)) {
			first[part] = $0
			order[nbad++] = part
		}
		count[part]++
	}
	END {
		if (marks == 0) {
			print "not ok kernel log: no vduse-selftest mark: the tests never ran"
			exit 1
		}
		for (i = 0; i < nbad; i++) {
			p = order[i]
			line = first[p]
			sub(/^\[ *[0-9.]+\] /, "", line)
			printf "not ok kernel log: %s: %d report line(s), first: %s\n", p, count[p], line
		}
		if (nbad)
			exit 1
		printf "ok kernel log: no report from boot to poweroff (%d marks)\n", marks
	}'
