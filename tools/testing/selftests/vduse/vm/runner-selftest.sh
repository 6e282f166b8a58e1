#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The runner's judge (tap.sh), tried on the host against stub programs
# that fail in each way a test program can: none may be counted as
# passing, and the passing controls must pass.  run-tests.sh runs it
# before every `make check`; it prints TAP.
#
#   runner-selftest.sh [RUNS]
#
# RUNS (default 1000) is how often the stub that prints "not ok" and
# exits 1 at once is run, on one CPU kept busy by a spinner: the race a
# runner that follows a log as it is written can lose.
set -u

here=$(dirname "$(readlink -f "$0")")
# shellcheck source=tap.sh
. "$here/tap.sh"

runs=${1:-1000}
dir=$(mktemp -d /tmp/vduse-runner.XXXXXX)
spinner=
cleanup() {
	[ -z "$spinner" ] || kill "$spinner" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

# stub NAME BODY: an executable shell script.
stub() {
	printf '#!/bin/bash\n%s\n' "$2" > "$dir/$1"
	chmod +x "$dir/$1"
}

printf '*\tskip_listed\tlisted reason\n*\twhole_listed\tlisted reason\n' > "$dir/expected"

stub notok_exit1   'printf "TAP version 13\n1..1\nnot ok 1 broken\n"; exit 1'
stub notok_exit0   'printf "1..2\nok 1 a\nnot ok 2 b\n"; exit 0'
stub ok_exit1      'printf "1..1\nok 1 fine\n"; exit 1'
stub short_plan    'printf "1..3\nok 1 a\nok 2 b\n"'
stub long_plan     'printf "1..1\nok 1 a\nok 2 b\n"'
stub no_plan       'printf "ok 1 a\n"'
stub silent        'exit 0'
stub plan_zero     'printf "1..0\n"'
stub segv          'printf "1..1\nok 1 a\n"; kill -SEGV $$'
stub hangs         'printf "1..1\n"; sleep 60'
stub skip_unlisted 'printf "1..1\nok 1 a # SKIP qemu-storage-daemon is missing\n"'
stub whole_unlisted 'printf "1..0 # SKIP fio is missing\n"; exit 4'
stub skip_listed   'printf "1..2\nok 1 a\nok 2 b # SKIP listed reason\n"'
stub whole_listed  'printf "1..0 # SKIP listed reason\n"; exit 4'
stub all_ok        'printf "TAP version 13\n1..2\n# note\nok 1 a\nok 2 b\n    not ok 1 nested\n"'

n=0
fails=0
result() {	# status description
	n=$((n + 1))
	[ "$1" = ok ] || fails=$((fails + 1))
	echo "$1 $n $2"
}

# judged NAME: 0 when the stub was judged passing, with no "not ok" line.
judged() {
	local res=$dir/$1.results
	: > "$res"
	tap_run "$1" "$dir/$1" "$dir/$1.log" "$res" "$dir/expected" \
		"6.12.0-test" 2 > /dev/null 2> "$dir/$1.err" &&
		! grep -q '^not ok ' "$res"
}

echo "TAP version 13"
echo "1..17"
for s in notok_exit1 notok_exit0 ok_exit1 short_plan long_plan no_plan \
	 silent plan_zero segv hangs skip_unlisted whole_unlisted; do
	if judged $s; then
		result "not ok" "$s: counted as passing"
	else
		result ok "$s: failed"
	fi
done
for s in skip_listed whole_listed all_ok; do
	if judged $s; then
		result ok "$s: passed"
	else
		result "not ok" "$s: failed: $(grep '^not ok' "$dir/$s.results" | head -n 1)"
	fi
done

# A shell error in the judge (a bad test, an unquoted word) is a bug even
# when the verdict happens to be right.  (Bash's notices of a stub killed
# by a signal also land here, and are expected.)
errs=$(grep -hE 'too many arguments|expression expected|unary operator|syntax error|command not found|unbound variable|bad substitution' "$dir"/*.err)
if [ -z "$errs" ]; then
	result ok "the judge printed no shell errors"
else
	result "not ok" "the judge printed shell errors: $(echo "$errs" | head -n 1)"
fi

taskset -c 0 bash -c 'while :; do :; done' &
spinner=$!
missed=0
for ((i = 0; i < runs; i++)); do
	taskset -c 0 true 2>/dev/null || break
	taskset -c 0 bash -c ". '$here/tap.sh'; \
		tap_run notok_exit1 '$dir/notok_exit1' '$dir/l' '$dir/r' /dev/null x 5" \
		> /dev/null 2>&1
	rc=$?
	if [ $rc = 0 ] || ! grep -q '^not ok notok_exit1: broken' "$dir/r"; then
		missed=$((missed + 1))
	fi
	: > "$dir/r"
done
kill "$spinner" 2>/dev/null
spinner=
if [ $missed = 0 ]; then
	result ok "a stub printing 'not ok' and exiting 1 failed $runs of $runs runs on a busy CPU"
else
	result "not ok" "a stub printing 'not ok' and exiting 1 passed $missed of $runs runs"
fi
echo "# $((n - fails)) passed, $fails failed"
[ $fails = 0 ]
