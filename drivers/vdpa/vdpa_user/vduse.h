/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * VDUSE: vDPA Device in Userspace - internal interfaces.
 */
#ifndef _VDUSE_VDUSE_H
#define _VDUSE_VDUSE_H

#include <linux/bits.h>
#include <linux/build_bug.h>
#include <linux/kdev_t.h>
#include <linux/types.h>
#include <linux/vduse.h>

/**
 * DOC: Locking
 *
 * Lock order, outermost first.  A lock may only be taken while holding
 * locks that appear above it:
 *
 * 1. ``vdpa_dev_lock`` (vdpa core; held around mgmtdev dev_add/dev_del)
 * 2. ``vdpa_device.cf_lock`` (vdpa core; held for write around set_status
 *    and reset, so every wait for the daemon under it is bounded)
 * 3. ``vduse_ctrl_lock`` (ctrl.c): the device table and name lookups
 *
 * Nothing here sleeps on userspace while holding a spinlock.
 */

/*
 * The uapi layouts are frozen: these sizes are what every released daemon
 * was compiled against, implicit tail padding included.
 */
static_assert(sizeof(struct vduse_dev_config) == 336);
static_assert(sizeof(struct vduse_iotlb_entry) == 32);
static_assert(sizeof(struct vduse_iotlb_entry_v2) == 80);
static_assert(sizeof(struct vduse_iova_range_v2) == 24);
static_assert(sizeof(struct vduse_config_data) == 8);
static_assert(sizeof(struct vduse_vq_config) == 32);
static_assert(sizeof(struct vduse_vq_info) == 48);
static_assert(sizeof(struct vduse_vq_eventfd) == 8);
static_assert(sizeof(struct vduse_iova_umem) == 48);
static_assert(sizeof(struct vduse_iova_info) == 48);
static_assert(sizeof(struct vduse_vq_state) == 12);
static_assert(sizeof(struct vduse_dev_request) == 152);
static_assert(sizeof(struct vduse_dev_response) == 152);

/* The newest API version this driver implements. */
#define VDUSE_API_VERSION_MAX	VDUSE_API_VERSION_1

/* Minor 0 is the control node; device nodes take the minors after it. */
#define VDUSE_CTRL_MINOR	0
#define VDUSE_MINORS		BIT(MINORBITS)

struct class;

extern dev_t vduse_devt_base;
extern const struct class vduse_class;

int vduse_ctrl_init(void);
void vduse_ctrl_exit(void);

#endif /* _VDUSE_VDUSE_H */
