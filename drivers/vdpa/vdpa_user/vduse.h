/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * VDUSE: vDPA Device in Userspace - internal interfaces.
 */
#ifndef _VDUSE_VDUSE_H
#define _VDUSE_VDUSE_H

#include <linux/bits.h>
#include <linux/build_bug.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/kdev_t.h>
#include <linux/mutex.h>
#include <linux/nospec.h>
#include <linux/spinlock.h>
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
 * 3. ``vduse_devs_lock`` (dev.c): the device table, minor numbers and
 *    name lookups
 * 4. ``vduse_dev.lock``: one device's daemon, attachment and virtqueues
 * 5. ``vduse_dev.config_lock`` (spinlock): the configuration space bytes
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

/**
 * struct vduse_vq - a virtqueue
 * @index: its index in the device
 * @max_size: largest size the daemon supports; 0 until VDUSE_VQ_SETUP
 * @group: virtqueue group (API version 1)
 * @num: size the driver chose
 * @desc_addr: IOVA of the descriptor area
 * @driver_addr: IOVA of the driver area
 * @device_addr: IOVA of the device area
 * @state: last available (and, packed, used) index and wrap counters;
 *	a split queue uses the first field only
 * @ready: the driver enabled the queue
 *
 * Protected by the device's vduse_dev.lock.
 */
struct vduse_vq {
	u32 index;
	u16 max_size;
	u32 group;
	u32 num;
	u64 desc_addr;
	u64 driver_addr;
	u64 device_addr;
	struct vduse_vq_state_packed state;
	bool ready;
};

/**
 * struct vduse_dev - a VDUSE device
 * @dev: the device in class "vduse"; its reference count is the object's
 * @cdev: /dev/vduse/$NAME
 * @api_version: API version of the control file that created the device
 * @vendor_id: virtio vendor ID
 * @device_id: virtio device ID
 * @device_features: feature bits the device offers
 * @vq_num: number of virtqueues
 * @vq_align: virtqueue alignment
 * @ngroups: number of virtqueue groups (1 unless API version 1)
 * @nas: number of address spaces (1 unless API version 1)
 * @config_size: size of @config
 * @config: the configuration space, under @config_lock
 * @config_lock: protects the contents of @config
 * @vqs: @vq_num virtqueues, under @lock
 * @lock: protects the fields below, and @vqs
 * @driver_features: feature bits the driver wrote
 * @daemon: the open file of the device node, or NULL
 * @attached: on the vdpa bus
 * @destroyed: VDUSE_DESTROY_DEV took it out of the table
 *
 * Fields above @lock are set at creation and never change.
 */
struct vduse_dev {
	struct device dev;
	struct cdev cdev;
	u64 api_version;
	u32 vendor_id;
	u32 device_id;
	u64 device_features;
	u32 vq_num;
	u32 vq_align;
	u32 ngroups;
	u32 nas;
	u32 config_size;
	u8 *config;
	spinlock_t config_lock; /* @config contents */
	struct vduse_vq *vqs;

	struct mutex lock; /* the state below, and @vqs */
	u64 driver_features;
	struct file *daemon;
	bool attached;
	bool destroyed;
};

/* Minor 0 is the control node; device nodes take the minors after it. */
#define VDUSE_CTRL_MINOR	0
#define VDUSE_MINORS		BIT(MINORBITS)

extern dev_t vduse_devt_base;
extern const struct class vduse_class;

int vduse_ctrl_init(void);
void vduse_ctrl_exit(void);

int vduse_dev_create(const struct vduse_dev_config *cfg, void *config,
		     u64 api_version);
int vduse_dev_destroy(const char *name);
void vduse_dev_destroy_all(void);

int vduse_vqs_alloc(struct vduse_dev *vdev);
long vduse_vq_setup(struct vduse_dev *vdev, void __user *argp);
long vduse_vq_get_info(struct vduse_dev *vdev, void __user *argp);

#endif /* _VDUSE_VDUSE_H */
