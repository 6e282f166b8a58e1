// SPDX-License-Identifier: GPL-2.0-only
/*
 * VDUSE: vDPA Device in Userspace - the IOTLBs of vhost-vdpa (dma_map,
 * dma_unmap), and VDUSE_IOTLB_GET_FD, which hands the daemon the file
 * behind an IOVA: the VMM's, or the bounce domain's.
 *
 * Locking (see "DOC: Locking" in vduse.h): vduse_vdpa.iotlb_lock, inside
 * vduse_dev.lock when both are held.
 */

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/vdpa.h>
#include <linux/vhost_iotlb.h>

#include "iova_domain.h"
#include "vduse.h"
#include "trace.h"

/* Most ranges vhost-vdpa may map into one address space. */
#define VDUSE_IOTLB_MAX		65536

/**
 * struct vduse_map_file - what backs an IOVA range mapped by vhost-vdpa
 * @file: the VMM's file (guest memory must be a shared file mapping)
 * @offset: offset in @file of the range's first IOVA
 */
struct vduse_map_file {
	struct file *file;
	u64 offset;
};

static void vduse_iotlb_del_locked(struct vhost_iotlb *iotlb, u64 start,
				   u64 last)
{
	struct vhost_iotlb_map *map;

	while ((map = vhost_iotlb_itree_first(iotlb, start, last))) {
		struct vduse_map_file *mf = map->opaque;

		fput(mf->file);
		kfree(mf);
		vhost_iotlb_map_free(iotlb, map);
	}
}

/*
 * Tell the daemon to drop what it mapped of [start, last] in asid.  Only
 * a daemon connected now can have mapped anything: with none, nobody is
 * told, and nobody waits.
 */
void vduse_iotlb_announce(struct vduse_dev *vdev, u32 asid, u64 start,
			  u64 last)
{
	struct vduse_dev_request req = { .type = VDUSE_UPDATE_IOTLB };

	if (vdev->api_version >= VDUSE_API_VERSION_1) {
		req.iova_v2.start = start;
		req.iova_v2.last = last;
		req.iova_v2.asid = asid;
	} else {
		req.iova.start = start;
		req.iova.last = last;
	}
	trace_vduse_iotlb_update(vdev, asid, start, last);
	vduse_msg_notify(vdev, &req);
}

int vduse_iotlb_dma_map(struct vdpa_device *vdpa, unsigned int asid,
			u64 iova, u64 size, u64 pa, u32 perm, void *opaque)
{
	struct vduse_vdpa *vv = vdpa_to_vduse(vdpa);
	struct vdpa_map_file *vmf = opaque;
	struct vduse_map_file *mf;
	int ret;

	/* vhost-vdpa maps only shared file memory when use_va is set. */
	if (asid >= vv->vdev->nas || !size || !vmf || !vmf->file)
		return -EINVAL;
	asid = array_index_nospec(asid, vv->vdev->nas);

	mf = kzalloc(sizeof(*mf), GFP_KERNEL);
	if (!mf)
		return -ENOMEM;
	mf->file = get_file(vmf->file);
	mf->offset = vmf->offset;

	mutex_lock(&vv->iotlb_lock);
	ret = vhost_iotlb_add_range_ctx(vv->iotlbs[asid], iova, iova + size - 1,
					pa, perm, mf);
	mutex_unlock(&vv->iotlb_lock);
	if (ret) {
		fput(mf->file);
		kfree(mf);
	}

	return ret;
}

int vduse_iotlb_dma_unmap(struct vdpa_device *vdpa, unsigned int asid,
			  u64 iova, u64 size)
{
	struct vduse_vdpa *vv = vdpa_to_vduse(vdpa);

	if (asid >= vv->vdev->nas || !size)
		return -EINVAL;
	asid = array_index_nospec(asid, vv->vdev->nas);

	mutex_lock(&vv->iotlb_lock);
	vduse_iotlb_del_locked(vv->iotlbs[asid], iova, iova + size - 1);
	mutex_unlock(&vv->iotlb_lock);

	/* The VMM frees the memory next: the daemon lets go first. */
	vduse_iotlb_announce(vv->vdev, asid, iova, iova + size - 1);

	return 0;
}

int vduse_iotlbs_alloc(struct vduse_vdpa *vv, u32 nas)
{
	u32 i;

	mutex_init(&vv->iotlb_lock);
	vv->iotlbs = kcalloc(nas, sizeof(*vv->iotlbs), GFP_KERNEL);
	if (!vv->iotlbs)
		return -ENOMEM;
	for (i = 0; i < nas; i++) {
		vv->iotlbs[i] = vhost_iotlb_alloc(VDUSE_IOTLB_MAX, 0);
		if (!vv->iotlbs[i])
			return -ENOMEM;	/* vduse_vdpa_free() frees the rest */
	}

	return 0;
}

void vduse_iotlbs_free(struct vduse_vdpa *vv, u32 nas)
{
	u32 i;

	if (!vv->iotlbs)
		return;
	for (i = 0; i < nas && vv->iotlbs[i]; i++) {
		vduse_iotlb_del_locked(vv->iotlbs[i], 0, U64_MAX);
		vhost_iotlb_free(vv->iotlbs[i]);
	}
	kfree(vv->iotlbs);
	mutex_destroy(&vv->iotlb_lock);
}

/*
 * What the daemon maps for the first range of an address space that
 * overlaps [iova, iova_last]: what vhost-vdpa mapped there (@vmm set),
 * else, in address space 0, the bounce domain's.  The domain outlives
 * attachments; vhost-vdpa's ranges do not.  Under vdev->lock.
 */
static struct file *vduse_iotlb_lookup(struct vduse_dev *vdev, u32 asid,
				       u64 iova, u64 iova_last, u64 *start,
				       u64 *last, u64 *offset, u8 *perm,
				       bool *vmm)
{
	struct vduse_vdpa *vv = vdev->vdpa;
	struct vhost_iotlb_map *map;
	struct file *file = NULL;

	lockdep_assert_held(&vdev->lock);

	if (vv) {
		mutex_lock(&vv->iotlb_lock);
		map = vhost_iotlb_itree_first(vv->iotlbs[asid], iova,
					      iova_last);
		if (map) {
			struct vduse_map_file *mf = map->opaque;

			*start = map->start;
			*last = map->last;
			*offset = mf->offset;
			*perm = map->perm;
			file = get_file(mf->file);
		}
		mutex_unlock(&vv->iotlb_lock);
	}
	*vmm = file;
	if (file || asid || !vdev->domain ||
	    vduse_domain_lookup(vdev->domain, iova, iova_last, start, last,
				offset, perm))
		return file;

	/*
	 * The bounce range, which starts at IOVA 0, holds only what the DMA
	 * API mapped since the last reset.  Under vhost-vdpa nothing ever
	 * is: an IOVA the VMM did not map is not mapped at all.
	 */
	if (*start || !vv || READ_ONCE(vv->bounce_used))
		file = get_file(vduse_domain_file(vdev->domain));

	return file;
}

/*
 * A range the VMM mapped read-only is handed out as a new read-only open
 * of its file, never as the VMM's own, possibly writable, file: see
 * "vhost-vdpa clients" in Documentation/userspace-api/vduse.rst.
 */
static struct file *vduse_iotlb_narrow(struct file *file, u8 perm)
{
	struct file *ro;

	if (perm != VDUSE_ACCESS_RO || !(file->f_mode & FMODE_WRITE))
		return file;

	ro = dentry_open(&file->f_path, O_RDONLY | O_LARGEFILE, file->f_cred);
	fput(file);

	return ro;
}

/**
 * vduse_iotlb_get_fd() - VDUSE_IOTLB_GET_FD and VDUSE_IOTLB_GET_FD2
 * @vdev: the device
 * @argp: the daemon's struct vduse_iotlb_entry or vduse_iotlb_entry_v2
 * @v2: VDUSE_IOTLB_GET_FD2, for API version 1 devices only
 *
 * Both read into a zeroed struct vduse_iotlb_entry_v2, so the first one
 * always means address space 0.  The answer is the first range that
 * overlaps [start, last].  Only the bytes copied are returned.
 *
 * Return: a new file descriptor, -EFAULT, -EINVAL when start is above
 * last, nothing is mapped in [start, last] (as before the first
 * attachment), the address space does not exist or reserved fields are
 * set, -ENOIOCTLCMD for GET_FD2 on an API version 0 device, or the error
 * of reopening a read-only range's file.
 */
long vduse_iotlb_get_fd(struct vduse_dev *vdev, void __user *argp, bool v2)
{
	size_t size = v2 ? sizeof(struct vduse_iotlb_entry_v2) :
			   sizeof(struct vduse_iotlb_entry);
	struct vduse_iotlb_entry_v2 entry = {};
	struct file *file = NULL;
	u64 start, last, offset;
	unsigned int i;
	bool vmm;
	u8 perm;
	int ret;

	if (v2 && vdev->api_version < VDUSE_API_VERSION_1)
		return -ENOIOCTLCMD;
	if (copy_from_user(&entry, argp, size))
		return -EFAULT;
	/*
	 * GET_FD's struct has implicit tail padding where GET_FD2's has
	 * @padding: daemons never had to clear it, so it is ignored there.
	 */
	if (!v2)
		memset(entry.padding, 0, sizeof(entry.padding));
	if (entry.asid >= vdev->nas || entry.start > entry.last ||
	    memchr_inv(entry.padding, 0, sizeof(entry.padding)))
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(entry.reserved); i++)
		if (entry.reserved[i])
			return -EINVAL;
	entry.asid = array_index_nospec(entry.asid, vdev->nas);

	mutex_lock(&vdev->lock);
	file = vduse_iotlb_lookup(vdev, entry.asid, entry.start, entry.last,
				  &start, &last, &offset, &perm, &vmm);
	mutex_unlock(&vdev->lock);
	if (!file)
		return -EINVAL;
	if (vmm) {
		file = vduse_iotlb_narrow(file, perm);
		if (IS_ERR(file))
			return PTR_ERR(file);
	}

	entry.offset = offset;
	entry.start = start;
	entry.last = last;
	entry.perm = perm;
	if (copy_to_user(argp, &entry, size)) {
		fput(file);
		return -EFAULT;
	}

	ret = receive_fd(file, NULL, 0);
	fput(file);

	return ret;
}
