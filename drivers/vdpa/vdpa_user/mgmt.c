// SPDX-License-Identifier: GPL-2.0-only
/*
 * VDUSE: vDPA Device in Userspace - the "vduse" vdpa management device:
 * attaching a VDUSE device to the vdpa bus (dev_add) and detaching it
 * (dev_del).
 *
 * Locking (see "DOC: Locking" in vduse.h): vdpa_dev_lock is held around
 * dev_add/dev_del; vduse_dev.lock is taken inside it.
 */

#include <linux/device.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/slab.h>
#include <linux/vdpa.h>
#include <linux/virtio_ids.h>

#include "iova_domain.h"
#include "vduse.h"

/**
 * struct vduse_mgmt - the "vduse" vdpa management device
 * @dev: /sys/devices/vduse; iproute2's "mgmtdev vduse"
 * @mgmt: what the vdpa core knows of it
 */
struct vduse_mgmt {
	struct device dev;
	struct vdpa_mgmt_dev mgmt;
};

static struct vduse_mgmt *vduse_mgmt;

static bool vduse_vqs_set_up(struct vduse_dev *vdev)
{
	u32 i;

	for (i = 0; i < vdev->vq_num; i++)
		if (!vdev->vqs[i].max_size)
			return false;

	return true;
}

/* Check and claim a device for attaching, under its lock. */
static int vduse_mgmt_claim(struct vduse_dev *vdev)
{
	lockdep_assert_held(&vdev->lock);

	if (vdev->destroyed)
		return -ENODEV;
	if (vdev->attached)
		return -EEXIST;
	if (vduse_msg_broken(vdev))
		return -EIO;
	if (!vduse_vqs_set_up(vdev))
		return -EINVAL;

	vdev->attached = true;

	return 0;
}

/*
 * The bounce domain for an attachment: the device's, made at its first
 * attachment and kept across detaches, so that a daemon's mappings and
 * VDUSE_IOTLB_GET_FD outlive them as with mainline.  A domain of another
 * size than bounce_size says is replaced: the daemon's mappings of the
 * old one get SIGBUS and memory it registered there is given back.
 * bounce_size cannot change meanwhile: the device is claimed.  Called
 * with no lock held: the old domain's daemon memory is unpinned.
 */
static int vduse_mgmt_domain_get(struct vduse_dev *vdev)
{
	struct vduse_domain *domain, *old = NULL;
	u64 size;

	mutex_lock(&vdev->lock);
	size = vdev->bounce_size;
	domain = vdev->domain;
	if (domain && vduse_domain_bounce_size(domain) != size) {
		old = domain;
		domain = NULL;
		vdev->domain = NULL;
	}
	mutex_unlock(&vdev->lock);
	if (old)
		vduse_domain_destroy(old);
	if (domain)
		return 0;

	domain = vduse_domain_create(size);
	if (IS_ERR(domain))
		return PTR_ERR(domain);
	mutex_lock(&vdev->lock);
	vdev->domain = domain;
	mutex_unlock(&vdev->lock);

	return 0;
}

static int vduse_mgmt_dev_add(struct vdpa_mgmt_dev *mdev, const char *name,
			      const struct vdpa_dev_set_config *config)
{
	struct vduse_vdpa *vv;
	struct vduse_dev *vdev;
	int ret;

	/* MAC, MTU and queue pairs belong to the daemon's configuration. */
	if (config->mask)
		return -EOPNOTSUPP;

	vdev = vduse_dev_get_by_name(name);
	if (!vdev)
		return -ENODEV;

	mutex_lock(&vdev->lock);
	ret = vduse_mgmt_claim(vdev);
	mutex_unlock(&vdev->lock);
	if (ret)
		goto out_put_vdev;

	/*
	 * use_va: vhost-vdpa hands over the VMM's file and offset for each
	 * range, which is what the daemon can mmap; virtio-vdpa ignores it.
	 */
	vv = vdpa_alloc_device(struct vduse_vdpa, vdpa, &vdev->dev,
			       vduse_vdpa_ops_for(vdev), vdev->ngroups, vdev->nas,
			       name, true);
	if (IS_ERR(vv)) {
		ret = PTR_ERR(vv);
		goto out_release;
	}
	/* From here on the vdpa device's release puts vdev. */
	vv->vdev = vdev;
	vduse_cvq_init(vv);
	vduse_orphan_init(vv);

	ret = vduse_iotlbs_alloc(vv, vdev->nas);
	if (ret)
		goto out_put_vdpa;
	ret = vduse_fs_reply_init(vv);
	if (ret)
		goto out_put_vdpa;

	ret = vduse_mgmt_domain_get(vdev);
	if (ret)
		goto out_put_vdpa;
	vv->domain = vdev->domain;

	vv->vdpa.dma_dev = &vv->vdpa.dev;
	vv->vdpa.dev.dma_mask = &vv->vdpa.dev.coherent_dma_mask;
	set_dma_ops(&vv->vdpa.dev, &vduse_dma_ops);
	ret = dma_set_mask_and_coherent(&vv->vdpa.dev,
					DMA_BIT_MASK(64));
	if (ret)
		goto out_put_vdpa;
	vv->vdpa.mdev = mdev;

	mutex_lock(&vdev->lock);
	vdev->vdpa = vv;
	mutex_unlock(&vdev->lock);

	/* Probing a driver sends requests: no VDUSE lock is held here. */
	ret = _vdpa_register_device(&vv->vdpa, vdev->vq_num);
	if (ret)
		goto out_clear;

	return 0;

out_clear:
	mutex_lock(&vdev->lock);
	vdev->vdpa = NULL;
	mutex_unlock(&vdev->lock);
	/* Work queued while vdev pointed here must not outlive vv. */
	vduse_orphan_stop(vv);
	vduse_cvq_stop(vv);
out_put_vdpa:
	get_device(&vdev->dev);	/* put by the vdpa device's release */
	put_device(&vv->vdpa.dev);
out_release:
	mutex_lock(&vdev->lock);
	vdev->attached = false;
	mutex_unlock(&vdev->lock);
out_put_vdev:
	put_device(&vdev->dev);
	return ret;
}

static void vduse_mgmt_dev_del(struct vdpa_mgmt_dev *mdev,
			       struct vdpa_device *vdpa)
{
	struct vduse_dev *vdev = vdpa_to_vdev(vdpa);

	/*
	 * A driver whose probe failed never reset the device, and its
	 * removal frees what the config callback points to: stop it first.
	 */
	vduse_vdpa_drop_config_cb(vdev);
	/*
	 * The driver's remove may wait for every request in flight
	 * (virtio-blk's del_gendisk()): with no daemon, nobody else can
	 * ever answer them.
	 */
	vduse_orphan_removing(vdpa_to_vduse(vdpa));

	/* Keep both alive until vdev no longer points at the vdpa device. */
	get_device(&vdev->dev);
	get_device(&vdpa->dev);
	_vdpa_unregister_device(vdpa);
	vduse_cvq_stop(vdpa_to_vduse(vdpa));

	mutex_lock(&vdev->lock);
	vdev->vdpa = NULL;
	vdev->attached = false;
	mutex_unlock(&vdev->lock);
	vduse_orphan_stop(vdpa_to_vduse(vdpa));
	vduse_vdpa_reset_state(vdev);
	/*
	 * What vhost-vdpa mapped goes with the attachment: the daemon drops
	 * every mapping it made.  Its answer changes nothing.  The bounce
	 * domain stays, with what the daemon mapped of it.
	 */
	vduse_iotlb_announce(vdev, 0, 0, U64_MAX);

	put_device(&vdpa->dev);
	put_device(&vdev->dev);
}

static const struct vdpa_mgmtdev_ops vduse_mgmt_ops = {
	.dev_add	= vduse_mgmt_dev_add,
	.dev_del	= vduse_mgmt_dev_del,
};

static struct virtio_device_id vduse_id_table[] = {
	{ VIRTIO_ID_BLOCK, VIRTIO_DEV_ANY_ID },
	{ VIRTIO_ID_NET, VIRTIO_DEV_ANY_ID },
	{ VIRTIO_ID_FS, VIRTIO_DEV_ANY_ID },
	{ 0 },
};

static void vduse_mgmt_release(struct device *dev)
{
	kfree(container_of(dev, struct vduse_mgmt, dev));
}

/**
 * vduse_mgmt_init() - register the "vduse" management device
 *
 * Return: 0, or a negative errno.
 */
int vduse_mgmt_init(void)
{
	int ret;

	vduse_mgmt = kzalloc(sizeof(*vduse_mgmt), GFP_KERNEL);
	if (!vduse_mgmt)
		return -ENOMEM;

	device_initialize(&vduse_mgmt->dev);
	vduse_mgmt->dev.release = vduse_mgmt_release;
	ret = dev_set_name(&vduse_mgmt->dev, "vduse");
	if (ret)
		goto out_put;
	ret = device_add(&vduse_mgmt->dev);
	if (ret)
		goto out_put;

	vduse_mgmt->mgmt.device = &vduse_mgmt->dev;
	vduse_mgmt->mgmt.ops = &vduse_mgmt_ops;
	vduse_mgmt->mgmt.id_table = vduse_id_table;
	vduse_mgmt->mgmt.max_supported_vqs = VDUSE_VQ_MAX;
	ret = vdpa_mgmtdev_register(&vduse_mgmt->mgmt);
	if (ret)
		goto out_del;

	return 0;

out_del:
	device_del(&vduse_mgmt->dev);
out_put:
	put_device(&vduse_mgmt->dev);
	return ret;
}

/**
 * vduse_mgmt_exit() - unregister the management device, detaching every
 * device first
 */
void vduse_mgmt_exit(void)
{
	vdpa_mgmtdev_unregister(&vduse_mgmt->mgmt);
	device_unregister(&vduse_mgmt->dev);
}
