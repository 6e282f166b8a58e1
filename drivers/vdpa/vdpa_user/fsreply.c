// SPDX-License-Identifier: GPL-2.0-only
/*
 * VDUSE: vDPA Device in Userspace - FUSE reply headers of virtio-fs.
 *
 * 6.12's virtiofs takes the struct fuse_out_header a device writes as it
 * is.  Its len, less the header, becomes the size of a variable-length
 * reply (READDIR, READLINK, READ, INIT, GETXATTR), which FUSE then
 * parses and copies: a len below 16 or past the request's reply buffers
 * makes it read past them.  A daemon is not trusted as the kernel is, so for a virtio-fs
 * device on virtio-vdpa the DMA layer checks each reply header once it is
 * back in the driver's memory, before the driver can look at it, and
 * turns a bad one into an -EIO reply.
 *
 * Finding the header.  A virtio-fs request's device-writable part starts
 * with the header (virtio spec, file system device, "Device Operation").
 * virtio_ring maps the buffers of a request in descriptor order, the
 * device-readable ones first, in one virtqueue_add_*() call, which
 * virtiofs makes holding its queue's spinlock.  So on one CPU the first
 * device-writable mapping after a device-readable one begins a reply: its
 * first 16 bytes are the header, and the writable mappings up to the next
 * readable one are the room the reply has.  That holds only while nothing
 * else can map for the device on that CPU meanwhile, so a virtio-fs
 * device maps only in task context with preemption off; any other mapping
 * fails, as does a first writable buffer shorter than the header.
 *
 * A header is set to an -EIO reply in the driver's memory when it is
 * mapped: should its copy back never happen (a daemon that rewrites the
 * split ring's NEXT flags can make 6.12's virtio_ring skip unmaps), the
 * driver reads an error, not the zeros virtiofs allocated it with.
 *
 * Locking: the per-CPU cursor is used with preemption off.  The xarray's
 * lock is taken with interrupts saved and off, inside whatever the
 * driver holds around its mapping calls (virtiofs: its queue's lock).
 */

#include <linux/fuse.h>
#include <linux/percpu.h>
#include <linux/virtio_ids.h>
#include <linux/xarray.h>

#include "iova_domain.h"
#include "vduse.h"

/*
 * The replies being built on a CPU: @open while the mappings made there
 * since @hdr, a header, were all device-writable.
 */
struct vduse_fs_cursor {
	unsigned long hdr;
	bool open;
};

/* Streaming IOVAs are below the bounce size, at most 1 GiB: an index. */
static_assert(VDUSE_BOUNCE_MAX <= ULONG_MAX);

/**
 * vduse_fs_reply_init() - start checking replies of a virtio-fs device
 * @vv: the attachment
 *
 * Return: 0, or -ENOMEM.
 */
int vduse_fs_reply_init(struct vduse_vdpa *vv)
{
	if (vv->vdev->device_id != VIRTIO_ID_FS)
		return 0;

	xa_init_flags(&vv->fs_replies, XA_FLAGS_LOCK_IRQ);
	vv->fs_cursor = alloc_percpu(struct vduse_fs_cursor);
	return vv->fs_cursor ? 0 : -ENOMEM;
}

/**
 * vduse_fs_reply_free() - undo vduse_fs_reply_init()
 * @vv: the attachment, whose driver has unmapped everything
 */
void vduse_fs_reply_free(struct vduse_vdpa *vv)
{
	if (!vv->fs_cursor)
		return;
	free_percpu(vv->fs_cursor);
	vv->fs_cursor = NULL;
	xa_destroy(&vv->fs_replies);
}

/**
 * vduse_fs_reply_mapped() - note a new streaming mapping
 * @vv: the attachment, of a virtio-fs device
 * @iova: where it was mapped
 * @size: its size
 * @dir: its direction
 *
 * Return: 0, or -EINVAL when the mapping cannot be placed in a request (the
 * caller unmaps it and fails), -ENOMEM.
 */
int vduse_fs_reply_mapped(struct vduse_vdpa *vv, dma_addr_t iova,
			  size_t size, enum dma_data_direction dir)
{
	struct fuse_out_header eio = { .len = sizeof(eio), .error = -EIO };
	struct vduse_fs_cursor *c;
	unsigned long flags;
	bool hdr = false;
	void *room;
	int ret = 0;

	if (preemptible() || !in_task())
		return -EINVAL;

	c = this_cpu_ptr(vv->fs_cursor);
	if (dir == DMA_TO_DEVICE) {
		c->open = false;
		return 0;
	}

	xa_lock_irqsave(&vv->fs_replies, flags);
	if (c->open) {
		/* More room for the open reply; no allocation on replace. */
		room = xa_load(&vv->fs_replies, c->hdr);
		if (room)
			__xa_store(&vv->fs_replies, c->hdr,
				   xa_mk_value(min_t(size_t, INT_MAX,
						     xa_to_value(room) + size)),
				   GFP_ATOMIC);
	} else if (size < sizeof(struct fuse_out_header)) {
		ret = -EINVAL;
	} else if (xa_err(__xa_store(&vv->fs_replies, iova,
				     xa_mk_value(min_t(size_t, INT_MAX, size)),
				     GFP_ATOMIC))) {
		ret = -ENOMEM;
	} else {
		c->hdr = iova;
		c->open = true;
		hdr = true;
	}
	xa_unlock_irqrestore(&vv->fs_replies, flags);
	if (hdr)
		vduse_domain_orig_rw(vv->domain, iova, &eio, sizeof(eio), true);
	return ret;
}

/* Make the header at @iova, in the driver's memory, one FUSE accepts. */
static void vduse_fs_reply_check(struct vduse_vdpa *vv, dma_addr_t iova,
				 unsigned long room)
{
	struct fuse_out_header h;

	/* A live mapping of at least the header: never fails. */
	if (WARN_ON_ONCE(vduse_domain_orig_rw(vv->domain, iova, &h,
					      sizeof(h), false)))
		return;
	/* What fuse_dev_write() accepts from a /dev/fuse server. */
	if (h.len >= sizeof(h) && h.len <= room &&
	    h.error <= 0 && h.error > -512 &&
	    (!h.error || h.len == sizeof(h)))
		return;

	h.len = sizeof(h);
	h.error = -EIO;
	vduse_domain_orig_rw(vv->domain, iova, &h, sizeof(h), true);
	atomic64_inc(&vv->vdev->fs_bad_replies);
}

/**
 * vduse_fs_reply_synced() - the device-writable mapping at @iova was
 * copied back to the driver
 * @vv: the attachment, of a virtio-fs device
 * @iova: the mapping
 */
void vduse_fs_reply_synced(struct vduse_vdpa *vv, dma_addr_t iova)
{
	void *room = xa_load(&vv->fs_replies, iova);

	if (room)
		vduse_fs_reply_check(vv, iova, xa_to_value(room));
}

/**
 * vduse_fs_reply_unmap() - end a device-writable mapping
 * @vv: the attachment, of a virtio-fs device
 * @iova: the mapping
 * @size: its size
 * @dir: its direction, not DMA_TO_DEVICE
 * @skip_sync: DMA_ATTR_SKIP_CPU_SYNC: the driver synced already
 *
 * A header is copied back and checked before its IOVA is freed: after
 * that, the same IOVA may begin another reply.
 */
void vduse_fs_reply_unmap(struct vduse_vdpa *vv, dma_addr_t iova,
			  size_t size, enum dma_data_direction dir,
			  bool skip_sync)
{
	struct vduse_fs_cursor *c;
	unsigned long flags;
	void *room;

	xa_lock_irqsave(&vv->fs_replies, flags);
	room = __xa_erase(&vv->fs_replies, iova);
	xa_unlock_irqrestore(&vv->fs_replies, flags);
	if (room) {
		if (!skip_sync) {
			vduse_domain_sync(vv->domain, iova, size, dir, true);
			vduse_fs_reply_check(vv, iova, xa_to_value(room));
		}
		skip_sync = true;
		/* virtqueue_add_*() undoing a request it could not add. */
		c = get_cpu_ptr(vv->fs_cursor);
		if (c->open && c->hdr == iova)
			c->open = false;
		put_cpu_ptr(vv->fs_cursor);
	}
	vduse_domain_unmap_page(vv->domain, iova, size, dir, skip_sync);
}
