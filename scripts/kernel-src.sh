#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Extract Debian's linux-source-6.12 once into the cache and print the
# tree's path.  The pristine tree serves checkpatch.pl and kernel-doc;
# intree.sh copies it before changing anything.
set -euo pipefail

cache=${CACHE:-/var/tmp/vduse-cache}
tarball=${SRC_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
[ -r "$tarball" ] || { echo "kernel-src: $tarball is missing (make deps)" >&2; exit 1; }

name=$(basename "$tarball" .tar.xz)
dest=$cache/src-$(stat -c %Y-%s "$tarball")
if [ ! -e "$dest/.complete" ]; then
	echo "kernel-src: extracting $tarball" >&2
	rm -rf "$dest"
	mkdir -p "$dest"
	tar -xf "$tarball" -C "$dest"
	touch "$dest/.complete"
fi
echo "$dest/$name"
