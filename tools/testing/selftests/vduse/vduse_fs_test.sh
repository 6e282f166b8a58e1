#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# virtio-fs over virtio-vdpa: vduse_fs_daemon serves a directory, the
# kernel's virtiofs driver mounts it.  Ordinary file work through the
# mount (data, appends, truncation, renames, links, symlinks, deep trees,
# a large directory, removal, attributes, statfs, a copy of a real tree),
# each result also checked in the shared directory itself, where the
# daemon wrote it; "-o dax" fails cleanly, for there is no DAX window
# over vdpa; then unmount, detach and destroy.
set -u
here=$(dirname "$(readlink -f "$0")")
# shellcheck source=vduse_lib.sh
. "$here/vduse_lib.sh"

NAME=vduse-fs-test
TAG=vdusefs-test
SHARED=/tmp/vduse-fs-shared
MNT=/tmp/vduse-fs-mnt
TREE=/usr/share/doc
ORIG=/tmp/vduse-fs-orig
# A part of it that TCG copies in well under the test's timeout.
PARTS=()
for p in "$TREE"/[a-d]*; do
	[ -e "$p" ] && PARTS+=("${p##*/}")
done
DAEMON_PID=

PLAN=35
tap_plan $PLAN

for tool in vdpa sha256sum diff stat mountpoint; do
	if ! command -v "$tool" > /dev/null; then
		for i in $(seq 1 $PLAN); do skip "$tool is missing"; done
		exit $KSFT_SKIP
	fi
done

daemon_stop() {
	[ -n "$DAEMON_PID" ] || return 0
	kill "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID"
	local rc=$?
	DAEMON_PID=
	return $rc
}

cleanup() {
	mountpoint -q "$MNT" && umount -l "$MNT"
	vdpa dev del "$NAME" 2>/dev/null
	daemon_stop
}
trap cleanup EXIT

rm -rf "$SHARED" "$MNT"
mkdir -p "$SHARED" "$MNT"

# fail_rest MESSAGE: everything left fails with MESSAGE.
fail_rest() {
	while [ "$__n" -lt $PLAN ]; do not_ok "$1"; done
	tap_exit
}

# The type is offered by the management device.  Debian 12's vdpa tool
# predates the fs class and calls it "< unknown class >".
if vdpa mgmtdev show vduse |
   grep -Eq 'supported_classes net block (fs|< unknown class >)$'; then
	ok "vdpa mgmtdev show lists the fs class"
else
	not_ok "vdpa mgmtdev show lists the fs class"
	vdpa mgmtdev show vduse | sed 's/^/# /'
fi

"$(prog vduse_fs_daemon)" "$NAME" "$TAG" "$SHARED" 2 \
	> /tmp/vduse-fs-daemon.out 2> /tmp/vduse-fs-daemon.err &
DAEMON_PID=$!
if wait_for 20 grep -q ready /tmp/vduse-fs-daemon.out; then
	ok "the daemon created the device and serves $SHARED"
else
	not_ok "the daemon created the device and serves $SHARED"
	sed 's/^/# daemon: /' /tmp/vduse-fs-daemon.err
	fail_rest "no daemon"
fi

# virtio_vdpa makes a virtio device of ID 26 (0x1a).
virtio_is_fs() {
	[ "$(cat /sys/bus/vdpa/devices/"$NAME"/virtio*/device 2>/dev/null)" = 0x001a ]
}
if timeout 120 vdpa dev add name "$NAME" mgmtdev vduse &&
   vdpa dev show "$NAME" | grep -q "max_vqs 3 " &&
   wait_for 20 virtio_is_fs; then
	ok "vdpa dev add attaches it, as a virtio device of ID 26"
else
	not_ok "vdpa dev add attaches it, as a virtio device of ID 26"
	vdpa dev show "$NAME" 2>&1 | sed 's/^/# /'
	fail_rest "not attached"
fi
[ -d "/lib/modules/$(uname -r)" ] && modprobe -q virtiofs
tag_seen() {
	cat /sys/fs/virtiofs/*/tag 2>/dev/null | grep -qx "$TAG"
}
check "virtiofs sees the tag" wait_for 20 tag_seen

# A device other than a block device keeps the driver's spread as the
# CPUs its callbacks run on: virtiofs spreads its two request queues.
spread_kept() {
	local a b
	a=$(cat "/sys/class/vduse/$NAME/vq1/irq_cb_affinity") || return 1
	b=$(cat "/sys/class/vduse/$NAME/vq2/irq_cb_affinity") || return 1
	echo "# the request queues' irq_cb_affinity: $a and $b"
	[ "$a" != "$b" ]
}
if [ "$(nproc)" -ge 2 ]; then
	check "the request queues' callbacks keep virtiofs's spread" spread_kept
else
	skip "one CPU: nothing to spread"
fi

# No shared memory region over vdpa: "-o dax" is refused, nothing breaks.
if mount -t virtiofs -o dax "$TAG" "$MNT" 2> /tmp/vduse-fs-dax.err; then
	not_ok "mount -o dax fails: there is no DAX window"
	umount "$MNT"
else
	ok "mount -o dax fails: there is no DAX window"
fi

if mount -t virtiofs "$TAG" "$MNT"; then
	ok "mount -t virtiofs $TAG"
else
	not_ok "mount -t virtiofs $TAG"
	fail_rest "not mounted"
fi

echo "# $SECONDS s so far"
# Data: written through the mount, read back there and in the directory.
head -c $((3 * 1024 * 1024 + 123)) /dev/urandom > /tmp/vduse-fs-src.bin
want=$(sha256sum < /tmp/vduse-fs-src.bin)
cp /tmp/vduse-fs-src.bin "$MNT/data.bin"
dd if=/tmp/vduse-fs-src.bin of="$MNT/data-4k.bin" bs=4k status=none
# Read back from the daemon, not from the page cache.
sync
echo 3 > /proc/sys/vm/drop_caches
check "create and write: same checksum through the mount" \
	test "$(sha256sum < "$MNT/data.bin")" = "$want"
check "written data lands in the shared directory" \
	test "$(sha256sum < "$SHARED/data.bin")" = "$want" -a \
	     "$(sha256sum < "$SHARED/data-4k.bin")" = "$want"
# The daemon writes behind the client's back: fresh reads see it.
printf 'from the host\n' > "$SHARED/host.txt"
check "a file the host made reads back through the mount" \
	test "$(cat "$MNT/host.txt")" = "from the host"

printf 'one\n' > "$MNT/log"
printf 'two\n' >> "$MNT/log"
printf 'three\n' >> "$MNT/log"
check "appends" test "$(cat "$MNT/log")" = "$(printf 'one\ntwo\nthree')" -a \
	"$(cat "$SHARED/log")" = "$(printf 'one\ntwo\nthree')"

echo "# $SECONDS s so far"
cp "$MNT/data.bin" "$MNT/trunc.bin"
truncate -s 1000 "$MNT/trunc.bin"
ok1=$(head -c 1000 /tmp/vduse-fs-src.bin | sha256sum)
truncate -s 5000 "$MNT/trunc.bin"
check "truncate shrinks and grows (zeros), in the directory too" \
	test "$(stat -c %s "$SHARED/trunc.bin")" = 5000 -a \
	     "$(head -c 1000 "$MNT/trunc.bin" | sha256sum)" = "$ok1" -a \
	     "$(tail -c 4000 "$MNT/trunc.bin" | tr -d '\0' | wc -c)" = 0

printf 'old\n' > "$MNT/target"
printf 'new\n' > "$MNT/source"
mv "$MNT/source" "$MNT/target"
check "rename over an existing file" \
	test "$(cat "$MNT/target")" = new -a ! -e "$MNT/source" -a \
	     "$(cat "$SHARED/target")" = new -a ! -e "$SHARED/source"

ln "$MNT/target" "$MNT/hardlink"
check "hard link: two names, one inode" \
	test "$(stat -c %h "$MNT/target")" = 2 -a \
	     "$(stat -c %i "$SHARED/target")" = "$(stat -c %i "$SHARED/hardlink")" -a \
	     "$(stat -c %i "$MNT/target")" = "$(stat -c %i "$MNT/hardlink")"

ln -s target "$MNT/symlink"
check "symlink: readlink and reading through it" \
	test "$(readlink "$MNT/symlink")" = target -a \
	     "$(cat "$MNT/symlink")" = new -a \
	     "$(readlink "$SHARED/symlink")" = target

deep=$(printf 'd%d/' $(seq 1 40))
mkdir -p "$MNT/$deep"
printf 'deep\n' > "$MNT/${deep}file"
check "mkdir -p of a 40-level tree" \
	test "$(cat "$SHARED/${deep}file")" = deep -a \
	     "$(find "$MNT/d1" -type d | wc -l)" = 40

echo "# $SECONDS s so far"
# FIFOs: one mkfifo makes them all, two requests each.
mkdir "$MNT/many"
(cd "$MNT/many" && mkfifo $(seq -f 'entry-%04g' 1 1000))
ls -f "$MNT/many" > /tmp/vduse-fs-ls
check "readdir of 1000 entries: every name, once" \
	test "$(grep -c '^entry-' /tmp/vduse-fs-ls)" = 1000 -a \
	     "$(grep '^entry-' /tmp/vduse-fs-ls | sort)" = \
	     "$(seq -f 'entry-%04g' 1 1000)" -a \
	     "$(ls "$SHARED/many" | wc -l)" = 1000

rm "$MNT/many"/entry-*
rmdir "$MNT/many"
rm -r "$MNT/d1"
rm "$MNT/hardlink"
check "unlink and rmdir" \
	test ! -e "$MNT/many" -a ! -e "$SHARED/many" -a ! -e "$SHARED/d1" -a \
	     ! -e "$SHARED/hardlink" -a "$(stat -c %h "$SHARED/target")" = 1
check "rmdir of a non-empty directory fails" \
	bash -c "mkdir '$MNT/full' && touch '$MNT/full/x' && ! rmdir '$MNT/full' 2>/dev/null && test -e '$SHARED/full/x'"

echo "# $SECONDS s so far"
printf '12345' > "$MNT/attr"
chmod 640 "$MNT/attr"
touch -m -d @1000000000 "$MNT/attr"
check "stat: size, mode, mtime set through the mount" \
	test "$(stat -c '%s %a %Y' "$MNT/attr")" = "5 640 1000000000" -a \
	     "$(stat -c '%s %a %Y' "$SHARED/attr")" = "5 640 1000000000"
printf 'more' >> "$MNT/attr"
check "mtime moves on a write" \
	test "$(stat -c %Y "$MNT/attr")" -gt 1000000000 -a \
	     "$(stat -c %Y "$SHARED/attr")" = "$(stat -c %Y "$MNT/attr")" -a \
	     "$(stat -c %s "$MNT/attr")" = 9
check "chown" bash -c "chown 1234:5678 '$MNT/attr' &&
	test \"\$(stat -c '%u %g' '$SHARED/attr')\" = '1234 5678'"
mkfifo "$MNT/fifo"
check "mknod of a FIFO" test -p "$SHARED/fifo" -a -p "$MNT/fifo"
check "device nodes are refused" bash -c "! mknod '$MNT/null' c 1 3 2>/dev/null"

check "df: statfs answers for the shared directory's file system" \
	test "$(stat -f -c '%b %S %c' "$MNT")" = \
	     "$(stat -f -c '%b %S %c' "$SHARED")" -a \
	     "$(df -k "$MNT" | awk 'NR == 2 { print $2 }')" = \
	     "$(df -k "$SHARED" | awk 'NR == 2 { print $2 }')"

# xattrs are not served: the client learns it from ENOSYS and moves on.
check "setfattr fails as unsupported" bash -c \
	"! setfattr -n user.x -v 1 '$MNT/attr' 2>/dev/null || ! command -v setfattr"

# diff_tree DIR: each part of the tree against its copy in DIR.
diff_tree() {
	local p

	for p in "${PARTS[@]}"; do
		diff -r --no-dereference "$ORIG/$p" "$1/$p" || return 1
	done
}
# The original is read once from the host's root (9p, slow under TCG)
# into a local copy, which the copy through the mount is compared with.
rm -rf "$ORIG"
mkdir -p "$ORIG" "$MNT/tree"
(cd "$TREE" && tar -cf - "${PARTS[@]}") | tar -C "$ORIG" -xf -
echo "# copying ${#PARTS[@]} directories of $TREE: $(cd "$ORIG" &&
	du -sc --apparent-size "${PARTS[@]}" | tail -n 1 | cut -f 1) KiB," \
	"$(cd "$ORIG" && find "${PARTS[@]}" | wc -l) files; $SECONDS s so far"
(cd "$ORIG" && cp -r "${PARTS[@]}" "$MNT/tree/")
sync
echo 3 > /proc/sys/vm/drop_caches
echo "# copied; $SECONDS s so far"
# copy_ok DIR: as many files as the original, and the same.
copy_ok() {
	[ "$nfiles" -ge 100 ] &&
		[ "$(cd "$1" && find . -mindepth 1 | wc -l)" = "$nfiles" ] &&
		diff_tree "$1"
}
nfiles=$(cd "$ORIG" && find "${PARTS[@]}" | wc -l)
check "a copy of $TREE ($nfiles files): diff -r through the mount" \
	copy_ok "$MNT/tree"
echo "# compared through the mount; $SECONDS s so far"
# The same files in the shared directory: names, types and contents.
(cd "$ORIG" && find "${PARTS[@]}" -printf '%y %p %l\n' | sort) > /tmp/vduse-fs-names
(cd "$ORIG" && find "${PARTS[@]}" -type f -print0 | xargs -0 sha256sum) \
	> /tmp/vduse-fs-sums
shared_same() {
	[ "$(cd "$SHARED/tree" && find "${PARTS[@]}" -printf '%y %p %l\n' |
	     sort)" = "$(cat /tmp/vduse-fs-names)" ] &&
		(cd "$SHARED/tree" && sha256sum --quiet -c /tmp/vduse-fs-sums)
}
check "the copy in the shared directory: same names, types, contents" \
	shared_same
echo "# compared; $SECONDS s so far"
sync
check "umount" umount "$MNT"
check "the directory keeps what was written after the unmount" \
	test "$(sha256sum < "$SHARED/data.bin")" = "$want" -a \
	     "$(cat "$SHARED/target")" = new
# A second session: FUSE_INIT again, nothing known from the first.
check "mounted again, the data reads back" bash -c \
	"mount -t virtiofs '$TAG' '$MNT' &&
	 test \"\$(sha256sum < '$MNT/data.bin')\" = '$want' &&
	 test \"\$(cat '$MNT/target')\" = new && umount '$MNT'"
check "every reply header passed the kernel's check" \
	test "$(cat "/sys/class/vduse/$NAME/stats/fs_bad_replies")" = 0
check "vdpa dev del" vdpa_detach "$NAME"
if daemon_stop; then
	ok "the daemon served without error and destroyed the device"
else
	not_ok "the daemon served without error and destroyed the device"
fi
sed 's/^/# daemon: /' /tmp/vduse-fs-daemon.err
check "the device is gone" test ! -e "/dev/vduse/$NAME"
rm -rf "$SHARED" "$MNT" "$ORIG"
tap_exit
