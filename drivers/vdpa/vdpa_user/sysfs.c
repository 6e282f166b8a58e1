// SPDX-License-Identifier: GPL-2.0-only
/*
 * VDUSE: vDPA Device in Userspace - sysfs attributes of /sys/class/vduse/$NAME.
 * Each is described in Documentation/ABI/testing/sysfs-class-vduse.
 *
 * Locking (see "DOC: Locking" in vduse.h): msg_timeout is one word read
 * with READ_ONCE(); bounce_size changes under vduse_dev.lock, which also
 * tells whether the device is attached.
 */

#include <linux/device.h>
#include <linux/kstrtox.h>
#include <linux/sizes.h>
#include <linux/sysfs.h>

#include "vduse.h"

static struct vduse_dev *to_vduse_dev(struct device *d)
{
	return container_of(d, struct vduse_dev, dev);
}

static ssize_t msg_timeout_show(struct device *d, struct device_attribute *attr,
				char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(to_vduse_dev(d)->msg_timeout));
}

static ssize_t msg_timeout_store(struct device *d,
				 struct device_attribute *attr,
				 const char *buf, size_t count)
{
	unsigned int timeout;

	/* Not a number, or out of range: -EINVAL either way. */
	if (kstrtouint(buf, 10, &timeout) || timeout > VDUSE_MSG_TIMEOUT_MAX)
		return -EINVAL;

	WRITE_ONCE(to_vduse_dev(d)->msg_timeout, timeout);

	return count;
}
static DEVICE_ATTR_RW(msg_timeout);

static ssize_t bounce_size_show(struct device *d, struct device_attribute *attr,
				char *buf)
{
	struct vduse_dev *vdev = to_vduse_dev(d);
	u64 size;

	mutex_lock(&vdev->lock);
	size = vdev->bounce_size;
	mutex_unlock(&vdev->lock);

	return sysfs_emit(buf, "%llu\n", size);
}

static ssize_t bounce_size_store(struct device *d,
				 struct device_attribute *attr,
				 const char *buf, size_t count)
{
	struct vduse_dev *vdev = to_vduse_dev(d);
	u64 size;
	int ret = 0;

	if (kstrtou64(buf, 0, &size) || size < VDUSE_BOUNCE_MIN ||
	    size > VDUSE_BOUNCE_MAX || !PAGE_ALIGNED(size))
		return -EINVAL;

	mutex_lock(&vdev->lock);
	if (vdev->attached)
		ret = -EBUSY;
	else
		vdev->bounce_size = size;
	mutex_unlock(&vdev->lock);

	return ret ? ret : count;
}
static DEVICE_ATTR_RW(bounce_size);

static ssize_t broken_show(struct device *d, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%d\n", vduse_msg_broken(to_vduse_dev(d)));
}
static DEVICE_ATTR_RO(broken);

static struct attribute *vduse_dev_attrs[] = {
	&dev_attr_msg_timeout.attr,
	&dev_attr_bounce_size.attr,
	&dev_attr_broken.attr,
	NULL
};

static const struct attribute_group vduse_dev_group = {
	.attrs = vduse_dev_attrs,
};

const struct attribute_group *vduse_dev_groups[] = {
	&vduse_dev_group,
	NULL
};
