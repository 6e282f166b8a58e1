#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Extract the kselftest harness headers from Debian's linux-source-6.12 into
# the cache, laid out as in the kernel tree, and print the directory that
# stands for tools/testing/selftests/vduse there: with it on the include
# path, our tests' "../kselftest_harness.h" resolves out of tree as in-tree.
# The headers are GPL kernel code: they are never committed here.
set -euo pipefail

cache=${CACHE:-/var/tmp/vduse-cache}
tarball=${SRC_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
[ -r "$tarball" ] || { echo "ksft-headers: $tarball is missing (make deps)" >&2; exit 1; }

mkdir -p "$cache"
stamp=$(stat -c %Y-%s "$tarball")
dest=$cache/ksft-$stamp/tools/testing/selftests
if [ ! -s "$dest/kselftest_harness.h" ]; then
	tmp=$(mktemp -d "$cache/ksft.XXXXXX")
	top=$(basename "$tarball" .tar.xz)
	tar -xf "$tarball" -C "$tmp" \
		"$top/tools/testing/selftests/kselftest_harness.h" \
		"$top/tools/testing/selftests/kselftest.h"
	mkdir -p "$dest/vduse"
	mv "$tmp/$top/tools/testing/selftests/"kselftest*.h "$dest/"
	rm -rf "$tmp"
fi
echo "$dest/vduse"
