#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the vduse-dkms Debian package with dpkg-deb: the driver's source
# and uapi header in /usr/src/vduse-VERSION with a dkms.conf.  Installing
# it (apt install ./vduse-dkms_VERSION_all.deb) builds vduse.ko for every
# installed 6.12 kernel that has headers, into updates/dkms, where depmod
# prefers it to Debian's; dkms rebuilds it for each new kernel; removing
# the package brings Debian's module back.
#
#   dkms-deb.sh OUTDIR     prints the path of the .deb
set -euo pipefail

top=$(readlink -f "$(dirname "$0")/..")
outdir=$(readlink -f "${1:?usage: dkms-deb.sh OUTDIR}")
# Debian versions must grow: the commit count does, the hash names it.
version=0.$(git -C "$top" rev-list --count HEAD).g$(git -C "$top" rev-parse --short=8 HEAD)
if [ -n "$(git -C "$top" status --porcelain -- drivers include packaging)" ]; then
	version+=+dirty
fi

root=$(mktemp -d)
chmod 0755 "$root"
trap 'rm -rf "$root"' EXIT
src=$root/usr/src/vduse-$version
mkdir -p "$src/drivers/vdpa/vdpa_user" "$src/include/uapi/linux" "$root/DEBIAN" \
	"$root/usr/share/doc/vduse-dkms"
cp "$top"/drivers/vdpa/vdpa_user/{Makefile,Kconfig,*.c,*.h} "$src/drivers/vdpa/vdpa_user/"
cp "$top/include/uapi/linux/vduse.h" "$src/include/uapi/linux/"
sed "s/@VERSION@/$version/" "$top/packaging/dkms/dkms.conf.in" > "$src/dkms.conf"
cp "$top/Documentation/userspace-api/vduse.rst" "$root/usr/share/doc/vduse-dkms/"

cat > "$root/DEBIAN/control" <<EOT
Package: vduse-dkms
Version: $version
Architecture: all
Section: kernel
Priority: optional
Maintainer: vduse developers <vduse@localhost>
Depends: dkms (>= 3.0), kmod
Description: VDUSE (vDPA Device in Userspace) kernel module, DKMS source
 A from-scratch implementation of the VDUSE kernel module for Linux 6.12,
 byte-compatible with mainline's uapi.  DKMS builds it for every installed
 6.12 kernel and installs it in updates/dkms, where it takes precedence
 over the module shipped with the kernel.
EOT

cat > "$root/DEBIAN/postinst" <<EOT
#!/bin/sh
set -e
if [ "\$1" = configure ]; then
	dkms add -m vduse -v $version --rpm_safe_upgrade > /dev/null 2>&1 || true
	for k in \$(ls /lib/modules 2>/dev/null); do
		[ -e "/lib/modules/\$k/build" ] || continue
		case "\$k" in 6.12.*) ;; *) continue ;; esac
		dkms install -m vduse -v $version -k "\$k" --force
	done
fi
EOT
cat > "$root/DEBIAN/prerm" <<EOT
#!/bin/sh
set -e
case "\$1" in
remove|upgrade|deconfigure)
	dkms remove -m vduse -v $version --all --rpm_safe_upgrade > /dev/null 2>&1 || true
	;;
esac
EOT
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm"

deb=$outdir/vduse-dkms_${version}_all.deb
mkdir -p "$outdir"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" > /dev/null
echo "$deb"
