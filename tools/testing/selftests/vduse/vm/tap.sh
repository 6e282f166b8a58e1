#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# How the runner judges one test program, sourced by guest-tests.sh (in
# the VM) and by runner-selftest.sh (on the host, against stub programs).
#
# A program's results are read from its complete output after it has
# exited, never from a stream that may have missed lines.  It passes only
# when it printed a TAP plan, as many results as the plan announced, and
# an exit status that agrees with them.  A skip passes only when
# expected-skips lists it for the running kernel.

# tap_skip_expected KREL TEST REASON EXPECTED-FILE: is this skip listed?
tap_skip_expected() {
	local krel=$1 test=$2 reason=$3 file=$4 kglob tname why
	[ -r "$file" ] || return 1
	while read -r kglob tname why; do
		case "$kglob" in '' | '#'*) continue ;; esac
		# shellcheck disable=SC2254
		case "$krel" in $kglob) ;; *) continue ;; esac
		[ "$tname" = "$test" ] || continue
		case "$reason" in *"$why"*) return 0 ;; esac
	done < "$file"
	return 1
}

# tap_judge NAME LOG RC RESULTS EXPECTED-FILE KREL [TIMEOUT]
#
# Appends one line per TAP result of NAME's LOG to RESULTS ("ok NAME:
# ..." / "not ok NAME: ..."), then "NAME: exit status and TAP plan",
# which fails when the program timed out, died of a signal, printed no
# plan or fewer or more results than it planned, or exited non-zero
# without a failed result.  Prints what it appended.
tap_judge() {
	local name=$1 log=$2 rc=$3 results=$4 expected=$5 krel=$6
	local timeout=${7:-?} plan= seen=0 fails=0 skips=0 line status rest
	local why= reason

	while IFS= read -r line; do
		case "$line" in
		1..*)
			[ -z "$plan" ] || { why="two plans"; continue; }
			plan=${line#1..}
			plan=${plan%% *}
			case "$plan" in
			'' | *[!0-9]*) why="bad plan '$line'"; continue ;;
			0) ;;
			*) continue ;;
			esac
			# "1..0 # SKIP why": the whole program skipped; a plan
			# of nothing without a skip is no test at all.
			[[ "$line" =~ \#\ *[Ss][Kk][Ii][Pp] ]] ||
				{ why="planned no test"; continue; }
			plan=1
			line="ok 1 (the whole program) ${line#1..0}" ;;
		"ok "[0-9]* | "not ok "[0-9]*) ;;
		*) continue ;;
		esac
		seen=$((seen + 1))
		if [ "${line#not ok }" != "$line" ]; then
			status="not ok"
			rest=${line#not ok }
		else
			status=ok
			rest=${line#ok }
		fi
		rest=${rest#"${rest%%[!0-9]*}"}	# the number
		rest=${rest# }
		if [ "$status" = ok ] && [[ "$rest" =~ \#\ *[Ss][Kk][Ii][Pp] ]]; then
			reason=${rest#*#}
			if tap_skip_expected "$krel" "$name" "$reason" "$expected"; then
				skips=$((skips + 1))
			else
				status="not ok"
				rest="$rest (a skip expected-skips does not list)"
			fi
		fi
		[ "$status" = ok ] || fails=$((fails + 1))
		echo "$status $name: $rest" | tee -a "$results"
	done < "$log"

	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		why="timed out after ${timeout}s"
	elif [ "$rc" -gt 128 ]; then
		why="killed by signal $((rc - 128))"
	elif [ -n "$why" ]; then
		why="$why (exit code $rc)"
	elif [ -z "$plan" ]; then
		why="printed no TAP plan (exit code $rc)"
	elif [ "$plan" != "$seen" ]; then
		why="planned $plan results, printed $seen (exit code $rc)"
	elif [ "$rc" != 0 ] && [ $fails = 0 ] &&
	     ! { [ "$rc" = 4 ] && [ "$skips" = "$seen" ]; }; then
		why="exit code $rc without a failed result"
	fi
	if [ -n "$why" ]; then
		echo "not ok $name: exit status and TAP plan # $why" | tee -a "$results"
		return 1
	fi
	echo "ok $name: exit status and TAP plan" | tee -a "$results"
	[ $fails = 0 ]
}

# tap_run NAME PROG LOG RESULTS EXPECTED-FILE KREL TIMEOUT
#
# Runs PROG with its output in LOG (created before PROG starts), shows
# its results as "# NAME: ..." progress lines while it runs, and judges
# it with tap_judge once it has exited.  Returns tap_judge's status.
tap_run() {
	local name=$1 prog=$2 log=$3 results=$4 expected=$5 krel=$6
	local timeout=$7 pid rc

	: > "$log"
	timeout -k 5 "$timeout" "$prog" > "$log" 2>&1 < /dev/null &
	pid=$!
	# Progress only: what counts is read from the whole log below.
	tail -n +1 -F -s 0.1 --pid=$pid "$log" 2>/dev/null |
		grep --line-buffered -E '^(not )?ok ' |
		sed -u "s/^/# $name: /" &
	wait $pid
	rc=$?
	wait
	tap_judge "$name" "$log" "$rc" "$results" "$expected" "$krel" "$timeout"
}
