// SPDX-License-Identifier: GPL-2.0-only
/*
 * VDUSE: vDPA Device in Userspace - device objects and their nodes.
 *
 * A struct vduse_dev lives from VDUSE_CREATE_DEV until its last reference
 * is put: the table holds one from creation to VDUSE_DESTROY_DEV, and each
 * open file of /dev/vduse/$NAME holds one.  The embedded struct device is
 * the reference count; vduse_dev_release() is the single destructor.
 *
 * Locking (see "DOC: Locking" in vduse.h):
 *   vduse_devs_lock -> vduse_dev.lock
 */

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/lockdep.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/virtio_config.h>

#include "iova_domain.h"
#include "vduse.h"

/* The device table: minor number -> device, and name lookups. */
static DEFINE_MUTEX(vduse_devs_lock);
static DEFINE_IDR(vduse_devs);

static void vduse_dev_release(struct device *d)
{
	struct vduse_dev *vdev = container_of(d, struct vduse_dev, dev);

	/* No daemon and no vdpa device: nothing maps through it any more. */
	if (vdev->domain)
		vduse_domain_destroy(vdev->domain);
	mutex_destroy(&vdev->lock);
	vduse_vqs_free(vdev);
	kfree(vdev->group_asid);
	kfree(vdev->groups);
	kfree(vdev->config);
	kfree(vdev);
}

static struct vduse_dev *vduse_dev_find_locked(const char *name)
{
	struct vduse_dev *vdev;
	int id;

	lockdep_assert_held(&vduse_devs_lock);

	idr_for_each_entry(&vduse_devs, vdev, id)
		if (!strcmp(dev_name(&vdev->dev), name))
			return vdev;

	return NULL;
}

/**
 * vduse_dev_get_by_name() - look a device up and take a reference
 * @name: its name
 *
 * Return: the device, to put with put_device(), or NULL.
 */
struct vduse_dev *vduse_dev_get_by_name(const char *name)
{
	struct vduse_dev *vdev;

	mutex_lock(&vduse_devs_lock);
	vdev = vduse_dev_find_locked(name);
	if (vdev)
		get_device(&vdev->dev);
	mutex_unlock(&vduse_devs_lock);

	return vdev;
}

static int vduse_dev_open(struct inode *inode, struct file *file)
{
	struct vduse_dev *vdev = container_of(inode->i_cdev, struct vduse_dev,
					      cdev);
	int ret = 0;

	mutex_lock(&vdev->lock);
	if (vdev->destroyed)
		ret = -ENODEV;
	else if (vdev->daemon)
		ret = -EBUSY;
	else
		WRITE_ONCE(vdev->daemon, file);
	mutex_unlock(&vdev->lock);
	if (ret)
		return ret;

	get_device(&vdev->dev);
	file->private_data = vdev;
	vduse_msg_connect(vdev);

	return 0;
}

static int vduse_dev_release_file(struct inode *inode, struct file *file)
{
	struct vduse_dev *vdev = file->private_data;

	/* What the daemon read and never answered waits for the next one. */
	vduse_msg_requeue(vdev);
	vduse_vqs_drop_kickfds(vdev);
	/* Its memory was pinned for it: the pages go back. */
	vduse_umem_drop(vdev);

	mutex_lock(&vdev->lock);
	WRITE_ONCE(vdev->daemon, NULL);
	/* What a FUSE daemon left in flight is answered for it. */
	vduse_fsq_daemon_gone(vdev);
	mutex_unlock(&vdev->lock);
	put_device(&vdev->dev);

	return 0;
}

static long vduse_dev_get_features(struct vduse_dev *vdev, u64 __user *argp)
{
	u64 features;

	/*
	 * Not gated on the status: the daemon reads these while it decides
	 * whether to accept FEATURES_OK.
	 */
	mutex_lock(&vdev->lock);
	features = vdev->driver_features;
	mutex_unlock(&vdev->lock);

	return put_user(features, argp);
}

static long vduse_dev_set_config(struct vduse_dev *vdev,
				 struct vduse_config_data __user *argp)
{
	struct vduse_config_data data;
	void *buf;

	if (copy_from_user(&data, argp, sizeof(data)))
		return -EFAULT;
	/* Written so that offset + length cannot overflow. */
	if (!data.length || data.offset > vdev->config_size ||
	    data.length > vdev->config_size - data.offset)
		return -EINVAL;

	buf = memdup_user(argp->buffer, data.length);
	if (IS_ERR(buf))
		return PTR_ERR(buf);

	spin_lock_irq(&vdev->config_lock);
	memcpy(vdev->config + data.offset, buf, data.length);
	WRITE_ONCE(vdev->generation, vdev->generation + 1);
	spin_unlock_irq(&vdev->config_lock);
	kfree(buf);

	return 0;
}

/*
 * Before DRIVER_OK the driver may not be ready for the callback, and a
 * driver whose probe failed may have freed what it points to.
 */
static long vduse_dev_inject_config_irq(struct vduse_dev *vdev)
{
	if (!(READ_ONCE(vdev->status) & VIRTIO_CONFIG_S_DRIVER_OK))
		return -EINVAL;

	spin_lock_irq(&vdev->config_lock);
	if (vdev->config_cb.callback)
		vdev->config_cb.callback(vdev->config_cb.private);
	spin_unlock_irq(&vdev->config_lock);

	return 0;
}

static long vduse_dev_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	struct vduse_dev *vdev = file->private_data;
	void __user *argp = (void __user *)arg;

	if (_IOC_TYPE(cmd) != VDUSE_BASE)
		return -ENOIOCTLCMD;

	/*
	 * A broken device only waits to be detached and destroyed: nothing
	 * about it changes any more.  What a daemon needs to finish the I/O
	 * in flight keeps working, so that detaching, which waits for that
	 * I/O, can end.
	 */
	if (vduse_msg_broken(vdev) &&
	    (cmd == VDUSE_DEV_SET_CONFIG || cmd == VDUSE_DEV_INJECT_CONFIG_IRQ ||
	     cmd == VDUSE_VQ_SETUP))
		return -EIO;

	switch (cmd) {
	case VDUSE_IOTLB_GET_FD:
		return vduse_iotlb_get_fd(vdev, argp, false);
	case VDUSE_IOTLB_GET_FD2:
		return vduse_iotlb_get_fd(vdev, argp, true);
	case VDUSE_IOTLB_REG_UMEM:
		return vduse_umem_ioctl(vdev, argp, true);
	case VDUSE_IOTLB_DEREG_UMEM:
		return vduse_umem_ioctl(vdev, argp, false);
	case VDUSE_IOTLB_GET_INFO:
		return vduse_umem_iova_info(vdev, argp);
	case VDUSE_DEV_INJECT_CONFIG_IRQ:
		return vduse_dev_inject_config_irq(vdev);
	case VDUSE_VQ_SETUP_KICKFD:
		return vduse_vq_setup_kickfd(vdev, argp);
	case VDUSE_VQ_INJECT_IRQ:
		return vduse_vq_inject_irq(vdev, argp);
	case VDUSE_DEV_GET_FEATURES:
		return vduse_dev_get_features(vdev, argp);
	case VDUSE_DEV_SET_CONFIG:
		return vduse_dev_set_config(vdev, argp);
	case VDUSE_VQ_SETUP:
		return vduse_vq_setup(vdev, argp);
	case VDUSE_VQ_GET_INFO:
		return vduse_vq_get_info(vdev, argp);
	default:
		return -ENOIOCTLCMD;
	}
}

static ssize_t vduse_dev_read(struct file *file, char __user *buf,
			      size_t count, loff_t *ppos)
{
	return vduse_msg_read(file->private_data, buf, count,
			      file->f_flags & O_NONBLOCK);
}

static ssize_t vduse_dev_write(struct file *file, const char __user *buf,
			       size_t count, loff_t *ppos)
{
	return vduse_msg_write(file->private_data, buf, count);
}

static __poll_t vduse_dev_poll(struct file *file, poll_table *wait)
{
	return vduse_msg_poll(file->private_data, file, wait);
}

static const struct file_operations vduse_dev_fops = {
	.owner		= THIS_MODULE,
	.open		= vduse_dev_open,
	.release	= vduse_dev_release_file,
	.read		= vduse_dev_read,
	.write		= vduse_dev_write,
	.poll		= vduse_dev_poll,
	.unlocked_ioctl	= vduse_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

/**
 * vduse_dev_create() - create a device and its node /dev/vduse/$NAME
 * @cfg: the validated configuration
 * @config: the initial configuration space, @cfg->config_size bytes from
 *	kmalloc(); the device owns it from here on, also on failure
 * @api_version: the API version of the control file that creates it
 * @features: the VDUSE features chosen on that control file
 *
 * Return: 0 on success, -EEXIST if the name is taken, -ENOSPC when no
 * minor number is left, or another negative errno.
 */
int vduse_dev_create(const struct vduse_dev_config *cfg, void *config,
		     u64 api_version, u64 features)
{
	struct vduse_dev *vdev;
	int ret;

	vdev = kzalloc(sizeof(*vdev), GFP_KERNEL);
	if (!vdev) {
		kfree(config);
		return -ENOMEM;
	}

	mutex_init(&vdev->lock);
	spin_lock_init(&vdev->config_lock);
	vduse_msg_init(vdev);
	vdev->bounce_size = VDUSE_BOUNCE_DEFAULT;
	vdev->cvq_index = U32_MAX;
	vdev->api_version = api_version;
	vdev->features = features;
	vdev->vendor_id = cfg->vendor_id;
	vdev->device_id = cfg->device_id;
	vdev->device_features = cfg->features;
	vdev->vq_num = cfg->vq_num;
	vdev->vq_align = cfg->vq_align;
	vdev->ngroups = cfg->ngroups;
	vdev->nas = cfg->nas;
	vdev->config_size = cfg->config_size;
	vdev->config = config;

	/* From here on put_device() frees everything. */
	device_initialize(&vdev->dev);
	vdev->dev.class = &vduse_class;
	vdev->dev.release = vduse_dev_release;
	ret = dev_set_name(&vdev->dev, "%s", cfg->name);
	if (ret)
		goto out_put;

	ret = vduse_vqs_alloc(vdev);
	if (ret)
		goto out_put;
	ret = vduse_dev_groups_alloc(vdev);
	if (ret)
		goto out_put;
	vdev->dev.groups = vdev->groups;
	vdev->group_asid = kcalloc(vdev->ngroups, sizeof(*vdev->group_asid),
				   GFP_KERNEL);
	if (!vdev->group_asid) {
		ret = -ENOMEM;
		goto out_put;
	}

	cdev_init(&vdev->cdev, &vduse_dev_fops);
	vdev->cdev.owner = THIS_MODULE;

	mutex_lock(&vduse_devs_lock);
	if (vduse_dev_find_locked(cfg->name)) {
		ret = -EEXIST;
		goto out_unlock;
	}

	ret = idr_alloc(&vduse_devs, vdev, VDUSE_CTRL_MINOR + 1, VDUSE_MINORS,
			GFP_KERNEL);
	if (ret < 0)
		goto out_unlock;
	vdev->dev.devt = MKDEV(MAJOR(vduse_devt_base), ret);

	ret = cdev_device_add(&vdev->cdev, &vdev->dev);
	if (ret)
		goto out_remove_id;
	mutex_unlock(&vduse_devs_lock);

	return 0;

out_remove_id:
	idr_remove(&vduse_devs, MINOR(vdev->dev.devt));
out_unlock:
	mutex_unlock(&vduse_devs_lock);
out_put:
	put_device(&vdev->dev);
	return ret;
}

/* Take the device out of the table and remove its node. */
static void vduse_dev_remove_locked(struct vduse_dev *vdev)
{
	lockdep_assert_held(&vduse_devs_lock);

	idr_remove(&vduse_devs, MINOR(vdev->dev.devt));
	cdev_device_del(&vdev->cdev, &vdev->dev);
	put_device(&vdev->dev);
}

/**
 * vduse_dev_destroy() - destroy a device by name
 * @name: the device's name, NUL-terminated
 *
 * Return: 0 on success, -ENOENT if there is no such device, -EBUSY while
 * its node is open or it is attached to the vdpa bus.
 */
int vduse_dev_destroy(const char *name)
{
	struct vduse_dev *vdev;
	int ret = 0;

	mutex_lock(&vduse_devs_lock);
	vdev = vduse_dev_find_locked(name);
	if (!vdev) {
		ret = -ENOENT;
		goto out_unlock;
	}

	mutex_lock(&vdev->lock);
	if (vdev->daemon || vdev->attached)
		ret = -EBUSY;
	else
		vdev->destroyed = true;
	mutex_unlock(&vdev->lock);
	if (ret)
		goto out_unlock;

	vduse_dev_remove_locked(vdev);
out_unlock:
	mutex_unlock(&vduse_devs_lock);
	return ret;
}

/**
 * vduse_dev_destroy_all() - destroy every device, at module unload
 *
 * No file of ours can be open then: each holds a module reference.
 */
void vduse_dev_destroy_all(void)
{
	struct vduse_dev *vdev;
	int id;

	mutex_lock(&vduse_devs_lock);
	idr_for_each_entry(&vduse_devs, vdev, id) {
		mutex_lock(&vdev->lock);
		vdev->destroyed = true;
		mutex_unlock(&vdev->lock);
		vduse_dev_remove_locked(vdev);
	}
	mutex_unlock(&vduse_devs_lock);
	idr_destroy(&vduse_devs);
}
