#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build our vduse.ko against the debug kernel (scripts/debug-kernel.sh),
# in a copy of the driver under $BUILD/debug-module so that the module
# built for Debian's kernel stays where it is.  Prints the debug kernel's
# build directory on the first line and the module's path on the second.
set -euo pipefail

top=$(dirname "$(readlink -f "$0")")/..
build=${BUILD:-$top/build}
dk=$("$top/scripts/debug-kernel.sh")
dst=$build/debug-module

rm -rf "$dst"
mkdir -p "$dst"
cp "$top"/drivers/vdpa/vdpa_user/{Makefile,Kconfig,*.c,*.h} "$dst"/
rm -f "$dst"/*.mod.c
make -s -C "$dk" M="$dst" W=1 KCFLAGS=-Werror CONFIG_VDPA_USER=m \
	NOSTDINC_FLAGS="-nostdinc -I$top/include/uapi" modules >&2
echo "$dk"
echo "$dst/vduse.ko"
