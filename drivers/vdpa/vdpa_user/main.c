// SPDX-License-Identifier: GPL-2.0-only
/*
 * VDUSE: vDPA Device in Userspace - module entry points, the "vduse"
 * class and the character device region shared by all VDUSE nodes.
 *
 * Locking: see "DOC: Locking" in vduse.h; this file takes no locks.
 */

#include <linux/device.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "vduse.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

dev_t vduse_devt_base;

static char *vduse_class_devnode(const struct device *dev, umode_t *mode)
{
	/* Only root may create devices or serve them. */
	if (mode)
		*mode = 0600;

	return kasprintf(GFP_KERNEL, "vduse/%s", dev_name(dev));
}

const struct class vduse_class = {
	.name		= "vduse",
	.devnode	= vduse_class_devnode,
};

static int __init vduse_init(void)
{
	int ret;

	ret = class_register(&vduse_class);
	if (ret)
		return ret;

	ret = alloc_chrdev_region(&vduse_devt_base, 0, VDUSE_MINORS, "vduse");
	if (ret)
		goto out_unregister_class;

	ret = vduse_ctrl_init();
	if (ret)
		goto out_unregister_chrdev;

	ret = vduse_mgmt_init();
	if (ret)
		goto out_exit_ctrl;

	return 0;

out_exit_ctrl:
	vduse_ctrl_exit();
	vduse_dev_destroy_all();
out_unregister_chrdev:
	unregister_chrdev_region(vduse_devt_base, VDUSE_MINORS);
out_unregister_class:
	class_unregister(&vduse_class);
	return ret;
}

static void __exit vduse_exit(void)
{
	/* Detaches every device: the virtio drivers let go first. */
	vduse_mgmt_exit();
	vduse_ctrl_exit();
	vduse_dev_destroy_all();
	unregister_chrdev_region(vduse_devt_base, VDUSE_MINORS);
	class_unregister(&vduse_class);
}

module_init(vduse_init);
module_exit(vduse_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vDPA Device in Userspace");
