/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Device-side helpers shared by the VDUSE selftests.
 */
#ifndef __VDUSE_LIB_H
#define __VDUSE_LIB_H

#include <stdint.h>
#include <linux/vduse.h>

#define VDUSE_CONTROL_PATH	"/dev/vduse/control"
#define VDUSE_SYSFS_CLASS	"/sys/class/vduse"

/* Open the control node read-write; returns the fd or -errno. */
int vduse_ctrl_open(void);

/* VDUSE_GET_API_VERSION / VDUSE_SET_API_VERSION; 0 or -errno. */
int vduse_ctrl_get_api(int ctrl_fd, uint64_t *version);
int vduse_ctrl_set_api(int ctrl_fd, uint64_t version);

/* Read a small sysfs file into buf (NUL-terminated, trailing newline
 * removed); returns its length or -errno.
 */
int vduse_sysfs_read(const char *path, char *buf, size_t size);

#endif /* __VDUSE_LIB_H */
