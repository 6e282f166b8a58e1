// SPDX-License-Identifier: GPL-2.0-only
/*
 * VDUSE: vDPA Device in Userspace - sysfs attributes of /sys/class/vduse/$NAME.
 * Each is described in Documentation/ABI/testing/sysfs-class-vduse.
 *
 * Locking (see "DOC: Locking" in vduse.h): msg_timeout is one word read
 * with READ_ONCE(); bounce_size changes under vduse_dev.lock, which also
 * tells whether the device is attached; a queue's irq_cb_affinity is
 * under its irq_lock.
 */

#include <linux/cpumask.h>
#include <linux/device.h>
#include <linux/kstrtox.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "iova_domain.h"
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
	unsigned int base = strncasecmp(buf, "0x", 2) ? 10 : 16;
	u64 size;
	int ret = 0;

	/* Decimal as mainline takes it (hex with 0x too), aligned down. */
	if (kstrtou64(buf, base, &size) || size < VDUSE_BOUNCE_MIN ||
	    size > VDUSE_BOUNCE_MAX)
		return -EINVAL;

	mutex_lock(&vdev->lock);
	if (vdev->attached)
		ret = -EBUSY;
	else
		vdev->bounce_size = size & PAGE_MASK;
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

static ssize_t vduse_features_show(struct device *d,
				   struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "0x%llx\n", to_vduse_dev(d)->features);
}
static DEVICE_ATTR_RO(vduse_features);

static struct attribute *vduse_dev_attrs[] = {
	&dev_attr_msg_timeout.attr,
	&dev_attr_bounce_size.attr,
	&dev_attr_broken.attr,
	&dev_attr_vduse_features.attr,
	NULL
};

static const struct attribute_group vduse_dev_group = {
	.attrs = vduse_dev_attrs,
};

static ssize_t irq_cb_affinity_show(struct device *d,
				    struct device_attribute *attr, char *buf)
{
	struct vduse_vq *vq = container_of(attr, struct vduse_vq,
					   affinity_attr);
	ssize_t ret;

	spin_lock_bh(&vq->irq_lock);
	ret = sysfs_emit(buf, "%*pb\n", cpumask_pr_args(vq->irq_affinity));
	spin_unlock_bh(&vq->irq_lock);

	return ret;
}

static ssize_t irq_cb_affinity_store(struct device *d,
				     struct device_attribute *attr,
				     const char *buf, size_t count)
{
	struct vduse_vq *vq = container_of(attr, struct vduse_vq,
					   affinity_attr);
	cpumask_var_t mask;
	int ret;

	if (!alloc_cpumask_var(&mask, GFP_KERNEL))
		return -ENOMEM;
	/* Not a mask, or no possible CPU in it: -EINVAL either way. */
	ret = cpumask_parse(buf, mask) ? -EINVAL :
	      vduse_vq_set_affinity(vq, mask);
	free_cpumask_var(mask);

	return ret ?: count;
}

/* vqN/stats: the counters of enum vduse_vq_stat, in its order, on a line. */
static ssize_t vq_stats_show(struct device *d, struct device_attribute *attr,
			     char *buf)
{
	struct vduse_vq *vq = container_of(attr, struct vduse_vq, stats_attr);
	u64 st[VDUSE_VQ_STATS];

	vduse_vq_stats_get(vq, st);
	BUILD_BUG_ON(VDUSE_VQ_STATS != 6);

	return sysfs_emit(buf, "%llu %llu %llu %llu %llu %llu\n", st[0],
			  st[1], st[2], st[3], st[4], st[5]);
}

/*
 * stats/: the message relay's counters, a value a file.  Each show takes
 * a snapshot under msg_lock.
 */
#define VDUSE_MSG_STAT_ATTR(_name, _expr)				\
static ssize_t _name##_show(struct device *d,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	struct vduse_msg_stats st;					\
									\
	vduse_msg_stats_get(to_vduse_dev(d), &st);			\
	return sysfs_emit(buf, "%llu\n", (unsigned long long)(_expr));	\
}									\
static DEVICE_ATTR_RO(_name)

VDUSE_MSG_STAT_ATTR(sent_get_vq_state, st.sent[VDUSE_MSG_STAT_GET_VQ_STATE]);
VDUSE_MSG_STAT_ATTR(sent_set_status, st.sent[VDUSE_MSG_STAT_SET_STATUS]);
VDUSE_MSG_STAT_ATTR(sent_update_iotlb, st.sent[VDUSE_MSG_STAT_UPDATE_IOTLB]);
VDUSE_MSG_STAT_ATTR(sent_set_vq_group_asid,
		    st.sent[VDUSE_MSG_STAT_SET_VQ_GROUP_ASID]);
VDUSE_MSG_STAT_ATTR(sent_set_vq_ready, st.sent[VDUSE_MSG_STAT_SET_VQ_READY]);
VDUSE_MSG_STAT_ATTR(sent_suspend, st.sent[VDUSE_MSG_STAT_SUSPEND]);
VDUSE_MSG_STAT_ATTR(sent_resume, st.sent[VDUSE_MSG_STAT_RESUME]);
VDUSE_MSG_STAT_ATTR(failed, st.failed);
VDUSE_MSG_STAT_ATTR(timed_out, st.timed_out);
VDUSE_MSG_STAT_ATTR(wait_max_us, div_u64(st.wait_max_ns, NSEC_PER_USEC));

/*
 * stats/bounce_*: the bounce domain's counters.  Zero before the first
 * attachment; they start again when a new bounce_size replaces the
 * domain.  The domain stays while vdev->lock is held.
 */
#define VDUSE_DOMAIN_STAT_ATTR(_name, _field)				\
static ssize_t _name##_show(struct device *d,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	struct vduse_dev *vdev = to_vduse_dev(d);			\
	struct vduse_domain_stats st = { 0 };				\
									\
	mutex_lock(&vdev->lock);					\
	if (vdev->domain)						\
		vduse_domain_stats_get(vdev->domain, &st);		\
	mutex_unlock(&vdev->lock);					\
	return sysfs_emit(buf, "%llu\n", st._field);			\
}									\
static DEVICE_ATTR_RO(_name)

VDUSE_DOMAIN_STAT_ATTR(bounce_maps, maps);
VDUSE_DOMAIN_STAT_ATTR(bounce_to_device_bytes, bytes_to_device);
VDUSE_DOMAIN_STAT_ATTR(bounce_from_device_bytes, bytes_from_device);

/* stats/fs_bad_replies: virtio-fs reply headers the kernel rewrote. */
static ssize_t fs_bad_replies_show(struct device *d,
				   struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lld\n",
			  atomic64_read(&to_vduse_dev(d)->fs_bad_replies));
}
static DEVICE_ATTR_RO(fs_bad_replies);

static struct attribute *vduse_stats_attrs[] = {
	&dev_attr_sent_get_vq_state.attr,
	&dev_attr_sent_set_status.attr,
	&dev_attr_sent_update_iotlb.attr,
	&dev_attr_sent_set_vq_group_asid.attr,
	&dev_attr_sent_set_vq_ready.attr,
	&dev_attr_sent_suspend.attr,
	&dev_attr_sent_resume.attr,
	&dev_attr_failed.attr,
	&dev_attr_timed_out.attr,
	&dev_attr_wait_max_us.attr,
	&dev_attr_bounce_maps.attr,
	&dev_attr_bounce_to_device_bytes.attr,
	&dev_attr_bounce_from_device_bytes.attr,
	&dev_attr_fs_bad_replies.attr,
	NULL
};

static const struct attribute_group vduse_stats_group = {
	.name = "stats",
	.attrs = vduse_stats_attrs,
};

/**
 * vduse_dev_groups_alloc() - the sysfs groups of a device being created
 * @vdev: the device, its queues allocated, not added yet
 *
 * The device's own attributes, and a directory vqN per queue with
 * irq_cb_affinity.  They go into vdev->groups, which the device's
 * release frees.
 *
 * Return: 0, or -ENOMEM.
 */
int vduse_dev_groups_alloc(struct vduse_dev *vdev)
{
	u32 i;

	/* The device's, its stats/, one per queue, and the NULL. */
	vdev->groups = kcalloc(vdev->vq_num + 3, sizeof(*vdev->groups),
			       GFP_KERNEL);
	if (!vdev->groups)
		return -ENOMEM;

	vdev->groups[0] = &vduse_dev_group;
	vdev->groups[1] = &vduse_stats_group;
	for (i = 0; i < vdev->vq_num; i++) {
		struct vduse_vq *vq = &vdev->vqs[i];

		sysfs_attr_init(&vq->affinity_attr.attr);
		vq->affinity_attr.attr.name = "irq_cb_affinity";
		vq->affinity_attr.attr.mode = 0644;
		vq->affinity_attr.show = irq_cb_affinity_show;
		vq->affinity_attr.store = irq_cb_affinity_store;
		vq->attrs[0] = &vq->affinity_attr.attr;
		sysfs_attr_init(&vq->stats_attr.attr);
		vq->stats_attr.attr.name = "stats";
		vq->stats_attr.attr.mode = 0444;
		vq->stats_attr.show = vq_stats_show;
		vq->attrs[1] = &vq->stats_attr.attr;
		snprintf(vq->sysfs_name, sizeof(vq->sysfs_name), "vq%u", i);
		vq->sysfs_group.name = vq->sysfs_name;
		vq->sysfs_group.attrs = vq->attrs;
		vdev->groups[i + 2] = &vq->sysfs_group;
	}

	return 0;
}
