// SPDX-License-Identifier: GPL-2.0-only
/*
 * VDUSE: vDPA Device in Userspace - virtqueues, as the daemon sets them
 * up and reads them back.
 *
 * Locking (see "DOC: Locking" in vduse.h): a virtqueue's fields are
 * protected by its device's vduse_dev.lock.
 */

#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vduse.h"

/* The virtio specification's largest queue size. */
#define VDUSE_VQ_SIZE_MAX	32768

/**
 * vduse_vqs_alloc() - allocate a device's virtqueues
 * @vdev: the device, with vq_num set
 *
 * Return: 0 on success, -ENOMEM.
 */
int vduse_vqs_alloc(struct vduse_dev *vdev)
{
	u32 i;

	vdev->vqs = kcalloc(vdev->vq_num, sizeof(*vdev->vqs), GFP_KERNEL);
	if (!vdev->vqs)
		return -ENOMEM;

	for (i = 0; i < vdev->vq_num; i++)
		vdev->vqs[i].index = i;

	return 0;
}

static struct vduse_vq *vduse_vq_get(struct vduse_dev *vdev, u32 index)
{
	if (index >= vdev->vq_num)
		return NULL;

	return &vdev->vqs[array_index_nospec(index, vdev->vq_num)];
}

static bool vduse_vq_config_valid(struct vduse_dev *vdev,
				  const struct vduse_vq_config *cfg)
{
	unsigned int i;

	if (cfg->index >= vdev->vq_num)
		return false;
	if (!cfg->max_size || cfg->max_size > VDUSE_VQ_SIZE_MAX)
		return false;
	if (cfg->reserved1)
		return false;
	for (i = 0; i < ARRAY_SIZE(cfg->reserved2); i++)
		if (cfg->reserved2[i])
			return false;
	/* ngroups is 1 in API version 0, so only group 0 passes there. */
	return cfg->group < vdev->ngroups;
}

/**
 * vduse_vq_setup() - VDUSE_VQ_SETUP
 * @vdev: the device
 * @argp: the daemon's struct vduse_vq_config
 *
 * Return: 0, -EFAULT, -EINVAL for a bad configuration, or -EBUSY while
 * the device is attached to the vdpa bus.
 */
long vduse_vq_setup(struct vduse_dev *vdev, void __user *argp)
{
	struct vduse_vq_config cfg;
	struct vduse_vq *vq;
	long ret = 0;

	if (copy_from_user(&cfg, argp, sizeof(cfg)))
		return -EFAULT;
	if (!vduse_vq_config_valid(vdev, &cfg))
		return -EINVAL;

	mutex_lock(&vdev->lock);
	if (vdev->attached) {
		ret = -EBUSY;
		goto out_unlock;
	}
	vq = vduse_vq_get(vdev, cfg.index);
	vq->max_size = cfg.max_size;
	vq->group = cfg.group;
out_unlock:
	mutex_unlock(&vdev->lock);
	return ret;
}

/**
 * vduse_vq_get_info() - VDUSE_VQ_GET_INFO
 * @vdev: the device
 * @argp: the daemon's struct vduse_vq_info, index filled in
 *
 * Return: 0, -EFAULT, or -EINVAL for an index past vq_num.
 */
long vduse_vq_get_info(struct vduse_dev *vdev, void __user *argp)
{
	struct vduse_vq_info info;
	struct vduse_vq *vq;
	u32 index;

	if (get_user(index, (u32 __user *)argp))
		return -EFAULT;

	mutex_lock(&vdev->lock);
	vq = vduse_vq_get(vdev, index);
	if (!vq) {
		mutex_unlock(&vdev->lock);
		return -EINVAL;
	}
	memset(&info, 0, sizeof(info));
	info.index = index;
	info.num = vq->num;
	info.desc_addr = vq->desc_addr;
	info.driver_addr = vq->driver_addr;
	info.device_addr = vq->device_addr;
	info.packed = vq->state;
	info.ready = vq->ready;
	mutex_unlock(&vdev->lock);

	return copy_to_user(argp, &info, sizeof(info)) ? -EFAULT : 0;
}
