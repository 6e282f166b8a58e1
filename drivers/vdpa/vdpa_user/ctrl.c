// SPDX-License-Identifier: GPL-2.0-only
/*
 * VDUSE: vDPA Device in Userspace - the control node, /dev/vduse/control.
 *
 * Every open file of the control node carries its own API version and
 * VDUSE features, so that daemons written against different versions can
 * share a system: a daemon that never asks for a feature never sees it.
 *
 * VDUSE_CREATE_DEV validates everything the daemon asks for before any
 * object exists; dev.c only ever sees a configuration that makes sense.
 *
 * Locking: see "DOC: Locking" in vduse.h.  Each field of a control file's
 * state is a single word read and written with READ_ONCE()/WRITE_ONCE().
 */

#include <linux/capability.h>
#include <linux/cdev.h>
#include <linux/etherdevice.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/log2.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <linux/uaccess.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_byteorder.h>
#include <linux/virtio_config.h>
#include <linux/virtio_fs.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "vduse.h"

/**
 * struct vduse_ctrl_file - state of one open file of the control node
 * @api_version: version used for devices created through this file
 * @features: VDUSE features (BIT_ULL(VDUSE_F_*)) of devices created
 *	through this file
 */
struct vduse_ctrl_file {
	u64 api_version;
	u64 features;
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

static long vduse_ctrl_set_features(struct vduse_ctrl_file *cf,
				    u64 __user *argp)
{
	u64 features;

	if (get_user(features, argp))
		return -EFAULT;

	if (features & ~VDUSE_FEATURES)
		return -EINVAL;
	/* Resuming only means something after a suspend. */
	if ((features & BIT_ULL(VDUSE_F_RESUME)) &&
	    !(features & BIT_ULL(VDUSE_F_SUSPEND)))
		return -EINVAL;

	WRITE_ONCE(cf->features, features);

	return 0;
}

/* Largest configuration space a daemon may provide. */
#define VDUSE_CONFIG_MAX	PAGE_SIZE
/* Most address spaces of a device. */
#define VDUSE_AS_MAX		VDUSE_VQ_MAX

/*
 * Transport features the kernel side honours.  Ring reset, notification
 * data and the admin virtqueue need ops this driver does not provide.
 */
#define VDUSE_TRANSPORT_FEATURES					\
	(BIT_ULL(VIRTIO_F_NOTIFY_ON_EMPTY) | BIT_ULL(VIRTIO_F_ANY_LAYOUT) |	\
	 BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC) |				\
	 BIT_ULL(VIRTIO_RING_F_EVENT_IDX) | BIT_ULL(VIRTIO_F_VERSION_1) |	\
	 BIT_ULL(VIRTIO_F_ACCESS_PLATFORM) | BIT_ULL(VIRTIO_F_RING_PACKED) |	\
	 BIT_ULL(VIRTIO_F_IN_ORDER) | BIT_ULL(VIRTIO_F_ORDER_PLATFORM))

#define VDUSE_REQUIRED_FEATURES						\
	(BIT_ULL(VIRTIO_F_VERSION_1) | BIT_ULL(VIRTIO_F_ACCESS_PLATFORM))

/**
 * struct vduse_config_field - where a feature's configuration field ends
 * @feature: the feature bit that makes the driver read the field
 * @end: offset just past the field
 */
struct vduse_config_field {
	unsigned int feature;
	u32 end;
};

#define VDUSE_FIELD(bit, type, member) { bit, offsetofend(type, member) }

static const struct vduse_config_field vduse_blk_fields[] = {
	VDUSE_FIELD(VIRTIO_BLK_F_SIZE_MAX, struct virtio_blk_config, size_max),
	VDUSE_FIELD(VIRTIO_BLK_F_SEG_MAX, struct virtio_blk_config, seg_max),
	VDUSE_FIELD(VIRTIO_BLK_F_GEOMETRY, struct virtio_blk_config, geometry),
	VDUSE_FIELD(VIRTIO_BLK_F_BLK_SIZE, struct virtio_blk_config, blk_size),
	VDUSE_FIELD(VIRTIO_BLK_F_TOPOLOGY, struct virtio_blk_config,
		    opt_io_size),
	VDUSE_FIELD(VIRTIO_BLK_F_MQ, struct virtio_blk_config, num_queues),
	VDUSE_FIELD(VIRTIO_BLK_F_DISCARD, struct virtio_blk_config,
		    discard_sector_alignment),
	VDUSE_FIELD(VIRTIO_BLK_F_WRITE_ZEROES, struct virtio_blk_config,
		    write_zeroes_may_unmap),
	VDUSE_FIELD(VIRTIO_BLK_F_SECURE_ERASE, struct virtio_blk_config,
		    secure_erase_sector_alignment),
	VDUSE_FIELD(VIRTIO_BLK_F_ZONED, struct virtio_blk_config, zoned),
};

static const struct vduse_config_field vduse_net_fields[] = {
	VDUSE_FIELD(VIRTIO_NET_F_MAC, struct virtio_net_config, mac),
	VDUSE_FIELD(VIRTIO_NET_F_STATUS, struct virtio_net_config, status),
	VDUSE_FIELD(VIRTIO_NET_F_MQ, struct virtio_net_config,
		    max_virtqueue_pairs),
	VDUSE_FIELD(VIRTIO_NET_F_MTU, struct virtio_net_config, mtu),
	VDUSE_FIELD(VIRTIO_NET_F_SPEED_DUPLEX, struct virtio_net_config,
		    duplex),
	VDUSE_FIELD(VIRTIO_NET_F_RSS, struct virtio_net_config,
		    supported_hash_types),
	VDUSE_FIELD(VIRTIO_NET_F_HASH_REPORT, struct virtio_net_config,
		    supported_hash_types),
};

/*
 * The virtio-fs notification queue feature and the field it adds
 * (notify_buf_size, a le32 after num_request_queues) are in the
 * specification but not in Linux 6.12's uapi header.
 */
#define VDUSE_FS_F_NOTIFICATION	0
#define VDUSE_FS_NOTIFY_BUF_END						\
	(offsetofend(struct virtio_fs_config, num_request_queues) +	\
	 sizeof(__le32))

static const struct vduse_config_field vduse_fs_fields[] = {
	{ VDUSE_FS_F_NOTIFICATION, VDUSE_FS_NOTIFY_BUF_END },
};

/**
 * struct vduse_dev_type - what a device type may ask for
 * @device_id: virtio device ID
 * @features: device-specific feature bits the kernel side can honour
 * @min_vqs: fewest virtqueues
 * @config_min: configuration space every device of the type needs
 * @fields: configuration fields that features add
 * @nfields: entries in @fields
 * @net_admin: creating one needs CAP_NET_ADMIN
 * @check: checks the configuration and its space's values, or NULL
 */
struct vduse_dev_type {
	u32 device_id;
	u64 features;
	u32 min_vqs;
	u32 config_min;
	const struct vduse_config_field *fields;
	unsigned int nfields;
	bool net_admin;
	int (*check)(const struct vduse_dev_config *cfg, const void *space);
};

/* What virtio-net features only a control virtqueue can carry. */
#define VDUSE_NET_CVQ_FEATURES						\
	(BIT_ULL(VIRTIO_NET_F_CTRL_RX) | BIT_ULL(VIRTIO_NET_F_CTRL_VLAN) |	\
	 BIT_ULL(VIRTIO_NET_F_GUEST_ANNOUNCE) | BIT_ULL(VIRTIO_NET_F_MQ) |	\
	 BIT_ULL(VIRTIO_NET_F_CTRL_MAC_ADDR) |				\
	 BIT_ULL(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) |			\
	 BIT_ULL(VIRTIO_NET_F_CTRL_RX_EXTRA) |				\
	 BIT_ULL(VIRTIO_NET_F_DEVICE_STATS) |				\
	 BIT_ULL(VIRTIO_NET_F_VQ_NOTF_COAL) |				\
	 BIT_ULL(VIRTIO_NET_F_NOTF_COAL) | BIT_ULL(VIRTIO_NET_F_RSS) |	\
	 BIT_ULL(VIRTIO_NET_F_HASH_REPORT))

/*
 * What the virtio_net driver would refuse, or use to its harm: a MAC it
 * cannot take (zero or multicast), an MTU below Ethernet's minimum, a
 * number of queue pairs outside the specification's range or larger
 * than the queues the device has, a control feature without the control
 * virtqueue.  The control virtqueue's watchdog (cvq.c) reads split rings
 * only.  The space is long enough for every field the features name, and
 * little endian: VIRTIO_F_VERSION_1 is required.
 */
static int vduse_net_check(const struct vduse_dev_config *cfg,
			   const void *space)
{
	const struct virtio_net_config *net = space;
	u64 features = cfg->features;
	bool cvq = features & BIT_ULL(VIRTIO_NET_F_CTRL_VQ);
	u32 pairs = 1;

	if ((features & BIT_ULL(VIRTIO_NET_F_MAC)) &&
	    !is_valid_ether_addr(net->mac))
		return -EINVAL;
	if ((features & BIT_ULL(VIRTIO_NET_F_MTU)) &&
	    __virtio16_to_cpu(true, net->mtu) < ETH_MIN_MTU)
		return -EINVAL;

	if (!cvq && (features & VDUSE_NET_CVQ_FEATURES))
		return -EINVAL;
	if (cvq && (features & BIT_ULL(VIRTIO_F_RING_PACKED)))
		return -EINVAL;
	if (features & BIT_ULL(VIRTIO_NET_F_MQ)) {
		pairs = __virtio16_to_cpu(true, net->max_virtqueue_pairs);
		if (pairs < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN ||
		    pairs > VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX)
			return -EINVAL;
	}
	if (cfg->vq_num < 2 * pairs + cvq)
		return -EINVAL;

	return 0;
}

/*
 * virtio-fs: the tag names the file system to mount; the virtiofs driver
 * refuses an empty one and one with a newline, and it is the source of
 * a mount, so no control character is allowed; whatever follows its end
 * must be NUL padding.  The queues are the high-priority queue, the
 * request queues and, with the notification feature, one more: vq_num
 * must be exactly that many.
 */
static int vduse_fs_check(const struct vduse_dev_config *cfg,
			  const void *space)
{
	const struct virtio_fs_config *fs = space;
	bool notify = cfg->features & BIT_ULL(VDUSE_FS_F_NOTIFICATION);
	size_t i = 0;
	u32 nrq;

	while (i < sizeof(fs->tag) && fs->tag[i]) {
		if (fs->tag[i] < 0x20 || fs->tag[i] == 0x7f)
			return -EINVAL;
		i++;
	}
	if (!i)
		return -EINVAL;
	for (; i < sizeof(fs->tag); i++)
		if (fs->tag[i])
			return -EINVAL;

	nrq = le32_to_cpu(fs->num_request_queues);
	if (nrq < 1 || nrq > VDUSE_VQ_MAX)
		return -EINVAL;
	if (cfg->vq_num != 1 + nrq + notify)
		return -EINVAL;

	return 0;
}

static const struct vduse_dev_type vduse_dev_types[] = {
	{
		.device_id = VIRTIO_ID_BLOCK,
		/*
		 * Not the legacy barrier and SCSI bits, nor CONFIG_WCE: the
		 * driver writes the cache mode into the configuration space,
		 * and no message carries such a write to the daemon.
		 */
		.features = BIT_ULL(VIRTIO_BLK_F_SIZE_MAX) |
			    BIT_ULL(VIRTIO_BLK_F_SEG_MAX) |
			    BIT_ULL(VIRTIO_BLK_F_GEOMETRY) |
			    BIT_ULL(VIRTIO_BLK_F_RO) |
			    BIT_ULL(VIRTIO_BLK_F_BLK_SIZE) |
			    BIT_ULL(VIRTIO_BLK_F_FLUSH) |
			    BIT_ULL(VIRTIO_BLK_F_TOPOLOGY) |
			    BIT_ULL(VIRTIO_BLK_F_MQ) |
			    BIT_ULL(VIRTIO_BLK_F_DISCARD) |
			    BIT_ULL(VIRTIO_BLK_F_WRITE_ZEROES) |
			    BIT_ULL(VIRTIO_BLK_F_SECURE_ERASE) |
			    BIT_ULL(VIRTIO_BLK_F_ZONED),
		.min_vqs = 1,
		.config_min = offsetofend(struct virtio_blk_config, capacity),
		.fields = vduse_blk_fields,
		.nfields = ARRAY_SIZE(vduse_blk_fields),
	},
	{
		.device_id = VIRTIO_ID_NET,
		/*
		 * Everything the virtio-net driver handles or ignores: the
		 * legacy GSO bit (DPDK offers it) is never negotiated by a
		 * VERSION_1 driver.  The control virtqueue comes with the
		 * watchdog in cvq.c: the kernel's virtio_net spins for its
		 * answers.
		 */
		.features = BIT_ULL(VIRTIO_NET_F_CSUM) |
			    BIT_ULL(VIRTIO_NET_F_GUEST_CSUM) |
			    BIT_ULL(VIRTIO_NET_F_MTU) |
			    BIT_ULL(VIRTIO_NET_F_MAC) |
			    BIT_ULL(VIRTIO_NET_F_GUEST_TSO4) |
			    BIT_ULL(VIRTIO_NET_F_GUEST_TSO6) |
			    BIT_ULL(VIRTIO_NET_F_GUEST_ECN) |
			    BIT_ULL(VIRTIO_NET_F_GUEST_UFO) |
			    BIT_ULL(VIRTIO_NET_F_HOST_TSO4) |
			    BIT_ULL(VIRTIO_NET_F_HOST_TSO6) |
			    BIT_ULL(VIRTIO_NET_F_HOST_ECN) |
			    BIT_ULL(VIRTIO_NET_F_HOST_UFO) |
			    BIT_ULL(VIRTIO_NET_F_MRG_RXBUF) |
			    BIT_ULL(VIRTIO_NET_F_STATUS) |
			    BIT_ULL(VIRTIO_NET_F_SPEED_DUPLEX) |
			    BIT_ULL(VIRTIO_NET_F_GSO) |
			    BIT_ULL(VIRTIO_NET_F_GUEST_USO4) |
			    BIT_ULL(VIRTIO_NET_F_GUEST_USO6) |
			    BIT_ULL(VIRTIO_NET_F_HOST_USO) |
			    BIT_ULL(VIRTIO_NET_F_GUEST_HDRLEN) |
			    BIT_ULL(VIRTIO_NET_F_RSC_EXT) |
			    BIT_ULL(VIRTIO_NET_F_STANDBY) |
			    BIT_ULL(VIRTIO_NET_F_CTRL_VQ) |
			    VDUSE_NET_CVQ_FEATURES,
		.min_vqs = 2,
		.config_min = 0,
		.fields = vduse_net_fields,
		.nfields = ARRAY_SIZE(vduse_net_fields),
		.net_admin = true,
		.check = vduse_net_check,
	},
	{
		.device_id = VIRTIO_ID_FS,
		/*
		 * No shared memory region (DAX window): vdpa has no
		 * operation to describe one.
		 */
		.features = BIT_ULL(VDUSE_FS_F_NOTIFICATION),
		.min_vqs = 2,
		.config_min = offsetofend(struct virtio_fs_config,
					  num_request_queues),
		.fields = vduse_fs_fields,
		.nfields = ARRAY_SIZE(vduse_fs_fields),
		.check = vduse_fs_check,
	},
};

static const struct vduse_dev_type *vduse_dev_type_find(u32 device_id)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vduse_dev_types); i++)
		if (vduse_dev_types[i].device_id == device_id)
			return &vduse_dev_types[i];

	return NULL;
}

/* The configuration space the driver reads, given the offered features. */
static u32 vduse_config_needed(const struct vduse_dev_type *type,
			       u64 features)
{
	u32 need = type->config_min;
	unsigned int i;

	for (i = 0; i < type->nfields; i++)
		if (features & BIT_ULL(type->fields[i].feature))
			need = max(need, type->fields[i].end);

	return need;
}

static int vduse_ctrl_check_name(const char *name)
{
	size_t len = strnlen(name, VDUSE_NAME_MAX);

	if (len == 0 || len == VDUSE_NAME_MAX)
		return -EINVAL;
	if (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	/* The control node's name in the class and in /dev/vduse/. */
	if (!strcmp(name, "control"))
		return -EEXIST;

	return 0;
}

/*
 * Check a configuration from userspace.  ngroups and nas become 1 where
 * the API version or the daemon left them 0.
 */
static int vduse_ctrl_check_config(struct vduse_dev_config *cfg,
				   u64 api_version)
{
	const struct vduse_dev_type *type;
	unsigned int i;
	int ret;

	ret = vduse_ctrl_check_name(cfg->name);
	if (ret)
		return ret;

	for (i = 0; i < ARRAY_SIZE(cfg->reserved); i++)
		if (cfg->reserved[i])
			return -EINVAL;

	type = vduse_dev_type_find(cfg->device_id);
	if (!type)
		return -EINVAL;
	if (type->net_admin && !capable(CAP_NET_ADMIN))
		return -EPERM;

	if ((cfg->features & VDUSE_REQUIRED_FEATURES) != VDUSE_REQUIRED_FEATURES)
		return -EINVAL;
	if (cfg->features & ~(VDUSE_TRANSPORT_FEATURES | type->features))
		return -EINVAL;

	if (cfg->vq_num < type->min_vqs || cfg->vq_num > VDUSE_VQ_MAX)
		return -EINVAL;
	if (cfg->vq_align < 4 || cfg->vq_align > PAGE_SIZE ||
	    !is_power_of_2(cfg->vq_align))
		return -EINVAL;

	if (cfg->config_size > VDUSE_CONFIG_MAX ||
	    cfg->config_size < vduse_config_needed(type, cfg->features))
		return -EINVAL;

	if (api_version < VDUSE_API_VERSION_1) {
		if (cfg->ngroups || cfg->nas)
			return -EINVAL;
	} else if (cfg->ngroups > cfg->vq_num || cfg->nas > VDUSE_AS_MAX) {
		return -EINVAL;
	}
	cfg->ngroups = max(cfg->ngroups, 1U);
	cfg->nas = max(cfg->nas, 1U);

	return 0;
}

static long vduse_ctrl_create_dev(struct vduse_ctrl_file *cf,
				  struct vduse_dev_config __user *ucfg)
{
	u64 api_version = READ_ONCE(cf->api_version);
	const struct vduse_dev_type *type;
	struct vduse_dev_config cfg;
	void *config;
	int ret;

	if (copy_from_user(&cfg, ucfg, sizeof(cfg)))
		return -EFAULT;

	ret = vduse_ctrl_check_config(&cfg, api_version);
	if (ret)
		return ret;

	config = memdup_user(ucfg->config, cfg.config_size);
	if (IS_ERR(config))
		return PTR_ERR(config);

	type = vduse_dev_type_find(cfg.device_id);
	if (type->check) {
		ret = type->check(&cfg, config);
		if (ret) {
			kfree(config);
			return ret;
		}
	}

	return vduse_dev_create(&cfg, config, api_version,
				READ_ONCE(cf->features));
}

static long vduse_ctrl_destroy_dev(char __user *uname)
{
	char name[VDUSE_NAME_MAX];
	long len;

	len = strncpy_from_user(name, uname, sizeof(name));
	if (len < 0)
		return len;
	if (len == 0 || len == sizeof(name))
		return -EINVAL;

	return vduse_dev_destroy(name);
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
	case VDUSE_GET_FEATURES:
		return put_user(VDUSE_FEATURES, (u64 __user *)argp);
	case VDUSE_SET_FEATURES:
		return vduse_ctrl_set_features(cf, argp);
	case VDUSE_CREATE_DEV:
		return vduse_ctrl_create_dev(cf, argp);
	case VDUSE_DESTROY_DEV:
		return vduse_ctrl_destroy_dev(argp);
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
