// SPDX-License-Identifier: GPL-2.0-only
/*
 * VDUSE: vDPA Device in Userspace - the control node, /dev/vduse/control.
 *
 * Every open file of the control node carries its own API version, so
 * that daemons written against different versions can share a system.
 *
 * Locking: see "DOC: Locking" in vduse.h.  Each control file's state is a
 * single word read and written with READ_ONCE()/WRITE_ONCE().
 */

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vduse.h"

/**
 * struct vduse_ctrl_file - state of one open file of the control node
 * @api_version: version used for devices created through this file
 */
struct vduse_ctrl_file {
	u64 api_version;
};

static int vduse_ctrl_open(struct inode *inode, struct file *file)
{
	struct vduse_ctrl_file *cf;

	cf = kzalloc(sizeof(*cf), GFP_KERNEL);
	if (!cf)
		return -ENOMEM;

	cf->api_version = VDUSE_API_VERSION;
	file->private_data = cf;

	return 0;
}

static int vduse_ctrl_release(struct inode *inode, struct file *file)
{
	kfree(file->private_data);

	return 0;
}

static long vduse_ctrl_set_api_version(struct vduse_ctrl_file *cf,
				       u64 __user *argp)
{
	u64 version;

	if (get_user(version, argp))
		return -EFAULT;

	if (version > VDUSE_API_VERSION_MAX)
		return -EINVAL;

	WRITE_ONCE(cf->api_version, version);

	return 0;
}

static long vduse_ctrl_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	struct vduse_ctrl_file *cf = file->private_data;
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case VDUSE_GET_API_VERSION:
		return put_user(READ_ONCE(cf->api_version), (u64 __user *)argp);
	case VDUSE_SET_API_VERSION:
		return vduse_ctrl_set_api_version(cf, argp);
	default:
		return -ENOIOCTLCMD;
	}
}

static const struct file_operations vduse_ctrl_fops = {
	.owner		= THIS_MODULE,
	.open		= vduse_ctrl_open,
	.release	= vduse_ctrl_release,
	.unlocked_ioctl	= vduse_ctrl_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct cdev vduse_ctrl_cdev;
static struct device *vduse_ctrl_dev;

/**
 * vduse_ctrl_init() - create the control node, /dev/vduse/control
 *
 * The node is minor 0 of the VDUSE region and a device named "control" in
 * the "vduse" class, so /sys/class/vduse/control exists as daemons and
 * udev rules written for other VDUSE implementations expect.
 *
 * Return: 0 on success, or a negative errno.
 */
int vduse_ctrl_init(void)
{
	dev_t devt = MKDEV(MAJOR(vduse_devt_base), VDUSE_CTRL_MINOR);
	int ret;

	cdev_init(&vduse_ctrl_cdev, &vduse_ctrl_fops);
	vduse_ctrl_cdev.owner = THIS_MODULE;
	ret = cdev_add(&vduse_ctrl_cdev, devt, 1);
	if (ret)
		return ret;

	vduse_ctrl_dev = device_create(&vduse_class, NULL, devt, NULL,
				       "control");
	if (IS_ERR(vduse_ctrl_dev)) {
		ret = PTR_ERR(vduse_ctrl_dev);
		goto out_del_cdev;
	}

	return 0;

out_del_cdev:
	cdev_del(&vduse_ctrl_cdev);
	return ret;
}

/**
 * vduse_ctrl_exit() - remove the control node
 */
void vduse_ctrl_exit(void)
{
	device_destroy(&vduse_class, vduse_ctrl_dev->devt);
	cdev_del(&vduse_ctrl_cdev);
}
