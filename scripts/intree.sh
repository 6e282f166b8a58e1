#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make intree`: prove the driver builds inside a kernel tree.  Extract
# Debian's linux-source-6.12 into the cache (once), configure it with the
# distribution's config, lay our files over the tree's (the driver with its
# own Kconfig, the uapi header, the docs and the selftests), and build the
# driver with W=1 and the selftests through the tree's own lib.mk.
set -euo pipefail

top=$(readlink -f "$(dirname "$0")/..")
cache=${CACHE:-/var/tmp/vduse-cache}
tarball=${SRC_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
kver=${KVER:?KVER is not set (run through make)}
kdir=${KDIR:-/usr/src/linux-headers-$kver}
config=/boot/config-$kver
[ -r "$tarball" ] || { echo "intree: $tarball is missing (make deps)" >&2; exit 1; }
[ -r "$config" ] || { echo "intree: $config is missing (make deps)" >&2; exit 1; }

name=$(basename "$tarball" .tar.xz)
work=$cache/intree-$(stat -c %Y-%s "$tarball")-$kver
tree=$work/$name
jobs=$(nproc)

lay_files() {
	echo "intree: laying our files over the tree"
	rm -rf "$tree/drivers/vdpa/vdpa_user" "$tree/tools/testing/selftests/vduse"
	mkdir -p "$tree/drivers/vdpa/vdpa_user" "$tree/tools/testing/selftests/vduse"
	(cd "$top" && git ls-files --cached --others --exclude-standard \
		drivers/vdpa/vdpa_user include/uapi/linux/vduse.h Documentation \
		tools/testing/selftests/vduse |
		while read -r f; do [ -e "$f" ] && echo "$f"; done |
		cpio --quiet -pdm "$tree")
}

t0=$(date +%s)
if [ ! -e "$work/.prepared" ]; then
	rm -rf "$work"
	mkdir -p "$work"
	echo "intree: extracting $name"
	tar -xf "$tarball" -C "$work"

	# VDPA_USER moves out of drivers/vdpa/Kconfig into the driver's own
	# Kconfig, sourced from there.
	awk '
		/^config VDPA_USER$/ { skip = 1; print "source \"drivers/vdpa/vdpa_user/Kconfig\""; print ""; next }
		skip && /^(config|menuconfig|endif|if|source|comment|menu|endmenu)/ { skip = 0 }
		!skip { print }
	' "$tree/drivers/vdpa/Kconfig" > "$work/Kconfig.vdpa"
	mv "$work/Kconfig.vdpa" "$tree/drivers/vdpa/Kconfig"

	lay_files
	echo "intree: configuring with $config"
	cp "$config" "$tree/.config"
	# Debian's signing keys are not part of the source package.
	"$tree/scripts/config" --file "$tree/.config" \
		--set-str SYSTEM_TRUSTED_KEYS "" --set-str SYSTEM_REVOCATION_KEYS "" \
		--disable MODULE_SIG_ALL
	make -s -C "$tree" olddefconfig
	make -s -C "$tree" -j"$jobs" modules_prepare
	cp "$kdir/Module.symvers" "$tree/Module.symvers"
	touch "$work/.prepared"
else
	lay_files
fi


grep -q '^CONFIG_VDPA_USER=m' "$tree/.config" || { echo "intree: VDPA_USER is not =m" >&2; exit 1; }
make -s -C "$tree" olddefconfig
grep -q '^CONFIG_VDPA_USER=m' "$tree/.config" ||
	{ echo "intree: our Kconfig lost CONFIG_VDPA_USER=m" >&2; exit 1; }

echo "intree: building drivers/vdpa/vdpa_user (W=1)"
make -C "$tree" M=drivers/vdpa/vdpa_user W=1 KCFLAGS=-Werror modules
[ -s "$tree/drivers/vdpa/vdpa_user/vduse.ko" ]

echo "intree: building the selftests with the tree's lib.mk"
make -s -C "$tree" headers
make -C "$tree/tools/testing/selftests/vduse" OUTPUT="$tree/tools/testing/selftests/vduse" EXTRA_CFLAGS=-Werror
for t in $(make -s -C "$tree/tools/testing/selftests/vduse" list-tests); do
	[ -e "$tree/tools/testing/selftests/vduse/$t" ] ||
		{ echo "intree: selftest $t was not built" >&2; exit 1; }
done
echo "intree: ok ($(( $(date +%s) - t0 ))s)"
