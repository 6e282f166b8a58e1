#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Our uapi header must be byte-compatible with mainline's: compare the
# version 0 layout with Debian's linux-libc-dev copy of vduse.h, and check
# the version 1 additions against their known values.
set -euo pipefail

top=$(readlink -f "$(dirname "$0")/..")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

[ -r /usr/include/linux/vduse.h ] || { echo "abi-check: linux-libc-dev's vduse.h is missing" >&2; exit 1; }

cc -Wall -Werror -o "$tmp/theirs" "$top/scripts/abi-layout.c"
cc -Wall -Werror -isystem "$top/include/uapi" -o "$tmp/ours" "$top/scripts/abi-layout.c"
"$tmp/theirs" > "$tmp/theirs.txt"
"$tmp/ours" > "$tmp/ours.txt"
if ! diff -u "$tmp/theirs.txt" "$tmp/ours.txt"; then
	echo "abi-check: the version 0 ABI differs from linux-libc-dev's vduse.h" >&2
	exit 1
fi
cc -Wall -Werror -isystem "$top/include/uapi" -o "$tmp/v1" "$top/scripts/abi-v1.c"
# The header must also stand alone, in C and in C++.
echo '#include <linux/vduse.h>' | cc -Wall -Werror -isystem "$top/include/uapi" -fsyntax-only -x c -
echo '#include <linux/vduse.h>' | g++ -Wall -Werror -isystem "$top/include/uapi" -fsyntax-only -x c++ -
echo "abi-check: $(wc -l < "$tmp/ours.txt") version 0 items match; version 1 checked"
