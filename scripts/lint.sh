#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make lint`: zero findings from checkpatch.pl --strict, sparse, kernel-doc,
# the ABI comparison and the documentation checks.
set -uo pipefail

top=$(readlink -f "$(dirname "$0")/..")
cd "$top"
kdir=${KDIR:?KDIR is not set (run through make)}
src=$("$top/scripts/kernel-src.sh") || exit 1
fail=0

step() {
	echo "lint: $*"
}

failed() {
	echo "lint: FAILED: $*"
	fail=1
}

# Tracked files plus new ones not ignored: what a commit would contain.
files() {
	git ls-files --cached --others --exclude-standard -- "$@" |
		while read -r f; do [ -e "$f" ] && echo "$f"; done
}

step "checkpatch.pl --strict"
mapfile -t cp_files < <(files 'drivers/vdpa/vdpa_user/*' 'include/uapi/linux/vduse.h' \
	'tools/testing/selftests/vduse/*.c' 'tools/testing/selftests/vduse/*.h' \
	'tools/testing/selftests/vduse/Makefile')
mapfile -t cp_files < <(printf '%s\n' "${cp_files[@]}" | grep -v '/trace\.h$' |
	grep -v '/vduse_fs[^/]*\.c$')
out=$("$src/scripts/checkpatch.pl" --strict --no-tree --quiet --terse \
	--show-types -f "${cp_files[@]}" 2>&1 | grep -v '^total: 0 errors, 0 warnings, 0 checks')
# The TRACE_EVENT() idiom (TP_STRUCT__entry( and TP_fast_assign( alone on
# a line, TP_PROTO's arguments continued) trips these two checks in every
# trace header of the kernel; everything else applies.
out+=$("$src/scripts/checkpatch.pl" --strict --no-tree --quiet --terse \
	--show-types --ignore OPEN_ENDED_LINE,PARENTHESIS_ALIGNMENT \
	-f drivers/vdpa/vdpa_user/trace.h 2>&1 |
	grep -v '^total: 0 errors, 0 warnings, 0 checks')
# FUSE's answer for an operation a server does not implement is ENOSYS:
# the kernel's client falls back on it.
mapfile -t fs_files < <(files 'tools/testing/selftests/vduse/vduse_fs*.c')
[ ${#fs_files[@]} = 0 ] ||
out+=$("$src/scripts/checkpatch.pl" --strict --no-tree --quiet --terse \
	--show-types --ignore ENOSYS -f "${fs_files[@]}" 2>&1 |
	grep -v '^total: 0 errors, 0 warnings, 0 checks')
if [ -n "$out" ]; then
	echo "$out"
	failed "checkpatch"
fi

step "kernel-doc"
mapfile -t kd_files < <(files 'drivers/vdpa/vdpa_user/*.[ch]' 'include/uapi/linux/vduse.h')
out=$("$src/scripts/kernel-doc" -none -Wall "${kd_files[@]}" 2>&1)
if [ -n "$out" ]; then
	echo "$out"
	failed "kernel-doc"
fi

step "sparse (C=2) and W=1"
out=$(make -s -C "$kdir" M="$top/drivers/vdpa/vdpa_user" W=1 C=2 \
	NOSTDINC_FLAGS="-nostdinc -I$top/include/uapi" modules 2>&1 |
	grep -E 'warning|error' | grep -v '^make')
if [ -n "$out" ]; then
	echo "$out"
	failed "sparse/W=1"
fi

step "uapi ABI against mainline"
"$top/scripts/abi-check.sh" || failed "ABI"

step "documentation (docutils)"
mapfile -t rst_files < <(files 'Documentation/*.rst')
if [ ${#rst_files[@]} -gt 0 ]; then
	python3 "$top/scripts/rst-check.py" "${rst_files[@]}" || failed "rst"
fi

step "errno tables in vduse.rst against the selftests"
python3 "$top/scripts/errno-check.py" || failed "errno tables"

step "shell scripts (bash -n)"
while read -r f; do
	bash -n "$f" || failed "bash -n $f"
done < <(files '*.sh' '.ci/run')

if [ $fail = 0 ]; then
	echo "lint: clean"
fi
exit $fail
