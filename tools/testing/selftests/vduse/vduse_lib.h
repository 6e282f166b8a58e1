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

/* A device configuration with room for its configuration space. */
struct vduse_test_config {
	struct vduse_dev_config cfg;
	uint8_t space[4096];
};

/* Features every device must offer. */
#define VDUSE_TEST_BASE_FEATURES \
	((1ULL << 32 /* VERSION_1 */) | (1ULL << 33 /* ACCESS_PLATFORM */))

/*
 * Fill in a valid virtio-blk configuration: one queue of 256, a 1 GiB
 * capacity, VERSION_1 and ACCESS_PLATFORM, the whole virtio_blk_config.
 */
void vduse_test_blk_config(struct vduse_test_config *c, const char *name);
/* The same for virtio-net: two queues, a MAC address. */
void vduse_test_net_config(struct vduse_test_config *c, const char *name);

/* VDUSE_CREATE_DEV / VDUSE_DESTROY_DEV; 0 or -errno. */
int vduse_create(int ctrl_fd, struct vduse_test_config *c);
int vduse_destroy(int ctrl_fd, const char *name);

/* Open /dev/vduse/NAME read-write; the fd or -errno. */
int vduse_dev_open(const char *name);

/* Read a small sysfs file into buf (NUL-terminated, trailing newline
 * removed); returns its length or -errno.
 */
int vduse_sysfs_read(const char *path, char *buf, size_t size);

#endif /* __VDUSE_LIB_H */
