// SPDX-License-Identifier: GPL-2.0-only
/*
 * VDUSE: vDPA Device in Userspace - virtio-fs requests left without a
 * daemon.
 *
 * The kernel's virtiofs driver waits for every request it put on a queue
 * without a timeout, and its unmount and remove paths wait, uninterruptibly,
 * until every queue is empty.  A FUSE daemon that dies with requests in
 * flight would hold the processes that sent them, the unmount and
 * `vdpa dev del` forever.  Under virtio-vdpa the rings are the kernel's
 * own memory in the bounce domain, so once no daemon has the device open,
 * the kernel answers in its place:
 *
 * - when the daemon's file is released, and on every kick while no daemon
 *   has the device open, each ready queue's outstanding requests
 *   [used, avail) are completed;
 * - a request with a device-writable part gets a FUSE reply of its own:
 *   a struct fuse_out_header with error -ENOTCONN, len its own size, and
 *   the unique of the request, in its first device-writable descriptor;
 *   FORGET requests, which have none, are just returned.
 *
 * The requests are taken in the order the driver made them available:
 * exact for a daemon that used them in order, each queue by one thread.
 * A daemon that used them out of order may leave an entry the virtio
 * core does not own; the core then marks the queue broken, and what is
 * left on it waits as it did without this.
 *
 * The rings are read and written through copies (vduse_domain_rw()), as
 * the control virtqueue watchdog (cvq.c) does: one run walks at most the
 * queue size in descriptors per queue, and yields the CPU between chains.
 * Under vhost-vdpa the rings are not the domain's coherent allocations,
 * and nothing is done: the VMM's guest owns those requests.
 *
 * Locking: the work item takes vduse_dev.lock and the domain's spinlock
 * inside it (vduse_domain_rw()), and runs the driver's callbacks with
 * neither held.
 */

#include <linux/bitmap.h>
#include <linux/fuse.h>
#include <linux/sched.h>
#include <linux/virtio_byteorder.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <linux/workqueue.h>

#include "iova_domain.h"
#include "vduse.h"

/* The queue after hiprio carries notifications when this is negotiated. */
#define VDUSE_FS_F_NOTIFICATION	0

static u16 vduse_fsq16(__virtio16 val)
{
	/* VIRTIO_F_VERSION_1 is required: rings are little endian. */
	return __virtio16_to_cpu(true, val);
}

/*
 * Answer the chain at @head with -ENOTCONN.  Returns the bytes written to
 * the chain (the used length), 0 when it has no room for a reply or
 * cannot be walked.  Each descriptor read takes one of @budget.
 */
static u32 vduse_fsq_fail_chain(struct vduse_domain *domain,
				const struct vduse_vq *vq, u16 head,
				u32 *budget)
{
	struct fuse_out_header out = { .error = -ENOTCONN };
	u64 table = vq->desc_addr;
	u32 size = vq->num;
	bool indirect = false;
	bool have_in = false;
	struct vring_desc d;
	u32 i = head;
	u32 n;

	/* A chain is never longer than the queue; one more for INDIRECT. */
	for (n = 0; n <= vq->num; n++) {
		u16 flags;
		u32 len;
		u64 addr;

		if (!*budget || i >= size)
			return 0;
		(*budget)--;
		if (vduse_domain_rw(domain, table + (u64)i * sizeof(d), &d,
				    sizeof(d), false))
			return 0;

		flags = vduse_fsq16(d.flags);
		addr = __virtio64_to_cpu(true, d.addr);
		len = __virtio32_to_cpu(true, d.len);
		if (flags & VRING_DESC_F_INDIRECT) {
			if (indirect)
				return 0;
			indirect = true;
			table = addr;
			size = len / sizeof(d);
			i = 0;
			continue;
		}
		if (flags & VRING_DESC_F_WRITE) {
			if (len < sizeof(out))
				return 0;
			out.len = sizeof(out);
			if (vduse_domain_rw(domain, addr, &out, sizeof(out),
					    true))
				return 0;
			return sizeof(out);
		}
		if (!have_in && len >= sizeof(struct fuse_in_header)) {
			struct fuse_in_header in;

			have_in = true;
			if (!vduse_domain_rw(domain, addr, &in, sizeof(in),
					     false))
				out.unique = in.unique;
		}
		if (!(flags & VRING_DESC_F_NEXT))
			return 0;
		i = vduse_fsq16(d.next);
	}

	return 0;
}

/* Complete [used, avail) of @vq; false if its rings are not the kernel's. */
static bool vduse_fsq_fail_all(struct vduse_domain *domain,
			       const struct vduse_vq *vq)
{
	u64 ring = vq->device_addr + offsetof(struct vring_used, ring);
	u32 budget = vq->num;
	u16 used, avail, n, i;
	__virtio16 u, a;

	if (!vduse_domain_is_coherent(domain, vq->desc_addr) ||
	    !vduse_domain_is_coherent(domain, vq->driver_addr) ||
	    !vduse_domain_is_coherent(domain, vq->device_addr))
		return false;
	if (vduse_domain_rw(domain, vq->device_addr +
			    offsetof(struct vring_used, idx), &u, sizeof(u),
			    false) ||
	    vduse_domain_rw(domain, vq->driver_addr +
			    offsetof(struct vring_avail, idx), &a, sizeof(a),
			    false))
		return false;
	/* The ring entries after the indexes that cover them. */
	smp_rmb();
	used = vduse_fsq16(u);
	avail = vduse_fsq16(a);
	n = min_t(u16, avail - used, vq->num);
	if (!n)
		return false;

	for (i = 0; i < n; i++) {
		u16 slot = (u16)(used + i) % vq->num;
		struct vring_used_elem elem;
		__virtio16 head;
		u32 len;

		if (vduse_domain_rw(domain, vq->driver_addr +
				    offsetof(struct vring_avail, ring) +
				    slot * sizeof(head), &head, sizeof(head),
				    false))
			return false;
		len = vduse_fsq_fail_chain(domain, vq, vduse_fsq16(head),
					   &budget);

		elem.id = __cpu_to_virtio32(true, vduse_fsq16(head));
		elem.len = __cpu_to_virtio32(true, len);
		if (vduse_domain_rw(domain, ring + slot * sizeof(elem), &elem,
				    sizeof(elem), true))
			return false;
		cond_resched();
	}

	/* The entries before the index that publishes them. */
	smp_wmb();
	u = __cpu_to_virtio16(true, used + n);
	return !vduse_domain_rw(domain, vq->device_addr +
				offsetof(struct vring_used, idx), &u,
				sizeof(u), true);
}

static void vduse_fsq_work(struct work_struct *work)
{
	struct vduse_vdpa *vv = container_of(work, struct vduse_vdpa,
					     fsq_work);
	struct vduse_dev *vdev = vv->vdev;
	DECLARE_BITMAP(done, VDUSE_VQ_MAX);
	u32 i;

	bitmap_zero(done, VDUSE_VQ_MAX);

	mutex_lock(&vdev->lock);
	if (vdev->daemon || vdev->vdpa != vv ||
	    !(READ_ONCE(vdev->status) & VIRTIO_CONFIG_S_DRIVER_OK))
		goto out_unlock;

	for (i = 0; i < vdev->vq_num; i++) {
		struct vduse_vq *vq = &vdev->vqs[i];

		/* The device fills notification buffers: not requests. */
		if (i == 1 && (vdev->driver_features &
			       BIT_ULL(VDUSE_FS_F_NOTIFICATION)))
			continue;
		if (!vq->ready || !vq->num)
			continue;
		if (vduse_fsq_fail_all(vv->domain, vq))
			__set_bit(i, done);
	}

out_unlock:
	mutex_unlock(&vdev->lock);

	for_each_set_bit(i, done, VDUSE_VQ_MAX)
		vduse_vq_signal(vdev, &vdev->vqs[i]);
}

/**
 * vduse_fsq_init() - set up an attachment's virtio-fs request reaper
 * @vv: the attachment
 */
void vduse_fsq_init(struct vduse_vdpa *vv)
{
	INIT_WORK(&vv->fsq_work, vduse_fsq_work);
}

/**
 * vduse_fsq_kicked() - the driver kicked a virtio-fs queue
 * @vv: the attachment
 *
 * Without a daemon, the request is answered at once.  May be called in
 * atomic context.
 */
void vduse_fsq_kicked(struct vduse_vdpa *vv)
{
	if (!READ_ONCE(vv->vdev->daemon))
		schedule_work(&vv->fsq_work);
}

/**
 * vduse_fsq_daemon_gone() - the daemon's file of a device was released
 * @vdev: the device
 *
 * Called with vduse_dev.lock held, after vduse_dev.daemon was cleared.
 */
void vduse_fsq_daemon_gone(struct vduse_dev *vdev)
{
	lockdep_assert_held(&vdev->lock);

	if (vdev->device_id == VIRTIO_ID_FS && vdev->vdpa)
		schedule_work(&vdev->vdpa->fsq_work);
}

/**
 * vduse_fsq_stop() - wait for the reaper to finish
 * @vv: the attachment, being reset or detached
 *
 * Must not be called with vduse_dev.lock held.
 */
void vduse_fsq_stop(struct vduse_vdpa *vv)
{
	cancel_work_sync(&vv->fsq_work);
}
