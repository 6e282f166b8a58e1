#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make check`: run the selftests in the test VM and summarise them.
#
#   run-tests.sh [--test NAME]... [--timeout SECONDS]
#
# Checks the runner's own judge against stub programs, then prints the
# results as they come, then a summary (every failure, every skip with its
# reason) ending in the line "N passed, N failed, N skipped"; exits
# non-zero on any failure, any kernel report in the guest's console log
# from boot to poweroff, a VM timeout, or when the guest never reported.
set -uo pipefail

here=$(dirname "$(readlink -f "$0")")
build=${BUILD:-$(readlink -f "$here/../../../../..")/build}
tests=()
timeout=3600
while [ $# -gt 0 ]; do
	case "$1" in
	--test) tests+=("$2"); shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	*) echo "run-tests: unknown option $1" >&2; exit 2 ;;
	esac
done

out=$build/check
rm -rf "$out"
mkdir -p "$out"
results=$out/results

start=$(date +%s)

# First the judge itself, on the host: stub programs that fail in every
# way a test can must never be counted as passing.
"$here/runner-selftest.sh" "${VDUSE_RUNNER_RUNS:-300}" > "$out/runner-selftest.log" 2>&1
grep -E '^(not )?ok ' "$out/runner-selftest.log" |
	sed 's/^\(not ok\|ok\) [0-9]* /\1 runner: /' | tee "$out/runner.results"

rc=0
"$here/run-vm.sh" --job "$here/guest-tests.sh" --out "$out" \
	--timeout "$timeout" -- "${tests[@]}" || rc=$?

[ -f "$results" ] || : > "$results"
cat "$out/runner.results" >> "$results"
if [ $rc != 0 ]; then
	echo "not ok vm: the guest did not finish cleanly (exit $rc)" >> "$results"
	echo "# last kernel messages:"
	tail -n 30 "$out/kernel.log" 2>/dev/null | sed 's/^/#   /'
fi
# Every kernel report from boot to poweroff, blamed on whoever ran then.
"$here/klog-check.sh" "$out/kernel.log" | tee -a "$results"

skipped=$(grep -c '^ok .*# *SKIP' "$results")
passed=$(( $(grep -c '^ok ' "$results") - skipped ))
failed=$(grep -c '^not ok ' "$results")
if [ $((passed + failed + skipped)) = 0 ]; then
	echo "not ok no test ran" >> "$results"
	failed=1
fi

echo
echo "# summary ($(( $(date +%s) - start ))s; logs in $out)"
grep '^not ok ' "$results" | sed 's/^/#   /'
if [ "$skipped" != 0 ]; then
	echo "# skipped (each listed in vm/expected-skips for this kernel):"
	grep '^ok .*# *SKIP' "$results" | sed 's/^ok /#   /'
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
