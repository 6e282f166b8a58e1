#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Exit 0 when the loaded "vduse" module is the vduse.ko given (its GNU
# build ID matches), non-zero otherwise.  The distribution ships a module
# of the same name that must never stand in for ours.
set -u
ko=$1
note=/sys/module/vduse/notes/.note.gnu.build-id
[ -r "$note" ] || exit 1
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
objcopy -O binary --only-section=.note.gnu.build-id "$ko" "$tmp" || exit 1
cmp -s "$note" "$tmp"
