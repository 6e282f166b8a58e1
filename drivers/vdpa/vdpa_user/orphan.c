// SPDX-License-Identifier: GPL-2.0-only
/*
 * VDUSE: vDPA Device in Userspace - requests nobody is left to complete.
 *
 * Some drivers wait for every request they put on a queue, without a
 * timeout, and their remove paths wait, uninterruptibly, until the queues
 * are empty: virtiofs (its requests, its unmount and its remove) and 6.12's
 * virtio-blk (del_gendisk() drains the queue; it has no blk-mq timeout
 * handler).  A daemon that is gone with requests in flight would hold the
 * processes that sent them and `vdpa dev del` (with the vdpa core's global
 * lock) forever.  Under virtio-vdpa the rings are the kernel's own memory
 * in the bounce domain, so the kernel answers in the daemon's place, each
 * ready queue's outstanding requests [used, avail):
 *
 * - virtio-fs, once no daemon has the device open (when the daemon's file
 *   is released, and on every kick while none has it): a request with a
 *   device-writable part gets a FUSE reply of its own, a struct
 *   fuse_out_header with error -ENOTCONN, len its own size, and the unique
 *   of the request, in its first device-writable descriptor; FORGET
 *   requests, which have none, are just returned.
 * - virtio-blk, only once the device is being removed (vdpa dev del has
 *   begun) and no daemon has it open (then, when the daemon's file is
 *   released, and on kicks): VIRTIO_BLK_S_IOERR in the last byte of the
 *   last device-writable descriptor, used length 1.  Before removal a
 *   daemon that opens the node again (qemu-storage-daemon reconnecting)
 *   resumes the requests from the rings; answering them here would
 *   complete them twice.
 *
 * The requests are taken in the order the driver made them available:
 * exact for a daemon that used them in order, each queue by one thread.
 * A daemon that used them out of order may leave an entry the virtio
 * core does not own; the core then marks the queue broken, and what is
 * left on it waits as it did without this.
 *
 * The rings are read and written through copies (ring.c), as the control
 * virtqueue watchdog (cvq.c) does: one run walks at most twice the queue
 * size in descriptors per queue, and yields the CPU between chains.
 * Under vhost-vdpa the rings are not the domain's coherent allocations,
 * and nothing is done: the VMM's guest owns those requests.
 *
 * Locking: the work item takes vduse_dev.lock and the domain's spinlock
 * inside it (vduse_domain_rw()), and runs the driver's callbacks with
 * neither held.  vduse_vdpa.removing is written under vduse_dev.lock.
 */

#include <linux/bitmap.h>
#include <linux/fuse.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <linux/workqueue.h>

#include "iova_domain.h"
#include "vduse.h"

/* The queue after hiprio carries notifications when this is negotiated. */
#define VDUSE_FS_F_NOTIFICATION	0

/* One run over a queue, and what the walk of its chain learnt. */
struct vduse_orphan_run {
	struct vduse_ring_run run;
	const struct vduse_ring_ops *ops;
	bool again;		/* the budget ran out */
	bool have_in;		/* fs: @unique read from the request */
	u64 unique;
	bool have_status;	/* blk: @status_addr is set */
	u64 status_addr;
};

static struct vduse_orphan_run *vduse_orphan_run(struct vduse_ring_run *run)
{
	return container_of(run, struct vduse_orphan_run, run);
}

static int vduse_orphan_fs_desc(struct vduse_ring_run *run, u16 flags,
				u64 addr, u32 len)
{
	struct vduse_orphan_run *r = vduse_orphan_run(run);
	struct fuse_out_header out = {
		.len = sizeof(out),
		.error = -ENOTCONN,
	};

	if (flags & VRING_DESC_F_WRITE) {
		if (len < sizeof(out))
			return -1;
		out.unique = r->unique;
		if (vduse_domain_rw(run->domain, addr, &out, sizeof(out), true))
			return -1;
		return sizeof(out);
	}
	if (!r->have_in && len >= sizeof(struct fuse_in_header)) {
		struct fuse_in_header in;

		r->have_in = true;
		if (!vduse_domain_rw(run->domain, addr, &in, sizeof(in), false))
			r->unique = in.unique;
	}
	return 0;
}

/* Only a request with no reply (FORGET) gets here: returned as it is. */
static int vduse_orphan_fs_end(struct vduse_ring_run *run)
{
	return 0;
}

static const struct vduse_ring_ops vduse_orphan_fs_ops = {
	.desc	= vduse_orphan_fs_desc,
	.end	= vduse_orphan_fs_end,
};

static int vduse_orphan_blk_desc(struct vduse_ring_run *run, u16 flags,
				 u64 addr, u32 len)
{
	struct vduse_orphan_run *r = vduse_orphan_run(run);

	/* The status is the last byte the device writes. */
	if ((flags & VRING_DESC_F_WRITE) && len) {
		r->have_status = true;
		r->status_addr = addr + len - 1;
	}
	return 0;
}

static int vduse_orphan_blk_end(struct vduse_ring_run *run)
{
	struct vduse_orphan_run *r = vduse_orphan_run(run);
	u8 status = VIRTIO_BLK_S_IOERR;

	if (!r->have_status ||
	    vduse_domain_rw(run->domain, r->status_addr, &status,
			    sizeof(status), true))
		return -1;
	return sizeof(status);
}

static const struct vduse_ring_ops vduse_orphan_blk_ops = {
	.desc	= vduse_orphan_blk_desc,
	.end	= vduse_orphan_blk_end,
};

/*
 * An entry is only used once its answer is written: a chain that cannot
 * be answered ends the run, and one the budget ran out on is walked again
 * by the next run.
 */
static int vduse_orphan_answer(struct vduse_ring_run *run, u16 head)
{
	struct vduse_orphan_run *r = vduse_orphan_run(run);
	int len;

	r->have_in = false;
	r->unique = 0;
	r->have_status = false;
	len = vduse_ring_walk(run, r->ops, head);
	if (len == -EAGAIN)
		r->again = true;
	return len;
}

/*
 * Complete what can be of [used, avail) of @vq, in order, and publish it,
 * after asking the driver to kick for what comes next.  Sets @again when
 * what is left needs another run.  Returns whether any entry was used.
 */
static bool vduse_orphan_fail_all(struct vduse_domain *domain,
				  const struct vduse_vq *vq,
				  const struct vduse_ring_ops *ops,
				  bool event_idx, bool *again)
{
	struct vduse_orphan_run r = {
		.run = {
			.domain	= domain,
			.vq	= vq,
			/* Enough for one chain of the longest kind. */
			.budget	= 2 * vq->num + 2,
		},
		.ops = ops,
	};
	u16 used, avail;
	int ret;

	if (!vduse_ring_indexes(domain, vq, &used, &avail))
		return false;
	if (!vduse_ring_want_kicks(domain, vq, event_idx, avail))
		*again = true;
	ret = vduse_ring_answer(&r.run, used, avail, vduse_orphan_answer);
	if (r.again)
		*again = true;
	return ret > 0;
}

/*
 * How @vv's outstanding requests are answered now, or NULL if they are
 * left alone: a daemon has the node, or may yet come and resume them.
 */
static const struct vduse_ring_ops *
vduse_orphan_ops_now(struct vduse_dev *vdev, struct vduse_vdpa *vv)
{
	lockdep_assert_held(&vdev->lock);

	if (vdev->daemon || vdev->vdpa != vv)
		return NULL;
	switch (vdev->device_id) {
	case VIRTIO_ID_FS:
		return &vduse_orphan_fs_ops;
	case VIRTIO_ID_BLOCK:
		return vv->removing ? &vduse_orphan_blk_ops : NULL;
	default:
		return NULL;
	}
}

static void vduse_orphan_work(struct work_struct *work)
{
	struct vduse_vdpa *vv = container_of(work, struct vduse_vdpa,
					     orphan_work);
	struct vduse_dev *vdev = vv->vdev;
	const struct vduse_ring_ops *ops;
	DECLARE_BITMAP(done, VDUSE_VQ_MAX);
	bool event_idx, again = false;
	u32 i;

	bitmap_zero(done, VDUSE_VQ_MAX);

	mutex_lock(&vdev->lock);
	ops = vduse_orphan_ops_now(vdev, vv);
	if (!ops || !(READ_ONCE(vdev->status) & VIRTIO_CONFIG_S_DRIVER_OK))
		goto out_unlock;
	/* The walk reads split rings only. */
	if (vdev->driver_features & BIT_ULL(VIRTIO_F_RING_PACKED))
		goto out_unlock;
	event_idx = vdev->driver_features & BIT_ULL(VIRTIO_RING_F_EVENT_IDX);

	for (i = 0; i < vdev->vq_num; i++) {
		struct vduse_vq *vq = &vdev->vqs[i];

		/* The device fills notification buffers: not requests. */
		if (vdev->device_id == VIRTIO_ID_FS && i == 1 &&
		    (vdev->driver_features &
		     BIT_ULL(VDUSE_FS_F_NOTIFICATION)))
			continue;
		if (!vq->ready || !vq->num)
			continue;
		if (vduse_orphan_fail_all(vv->domain, vq, ops, event_idx,
					  &again))
			__set_bit(i, done);
	}
	/* The rest in a run of its own: each run's work is bounded. */
	if (again)
		schedule_work(&vv->orphan_work);

out_unlock:
	mutex_unlock(&vdev->lock);

	for_each_set_bit(i, done, VDUSE_VQ_MAX)
		vduse_vq_signal(vdev, &vdev->vqs[i]);
}

/**
 * vduse_orphan_init() - set up an attachment's reaper of orphaned requests
 * @vv: the attachment
 */
void vduse_orphan_init(struct vduse_vdpa *vv)
{
	INIT_WORK(&vv->orphan_work, vduse_orphan_work);
}

/**
 * vduse_orphan_kicked() - the driver kicked a queue
 * @vv: the attachment
 *
 * Without a daemon, a virtio-fs request is answered at once, and so is a
 * virtio-blk one while the device is being removed.  May be called in
 * atomic context.
 */
void vduse_orphan_kicked(struct vduse_vdpa *vv)
{
	struct vduse_dev *vdev = vv->vdev;

	switch (vdev->device_id) {
	case VIRTIO_ID_BLOCK:
		if (!READ_ONCE(vv->removing))
			return;
		fallthrough;
	case VIRTIO_ID_FS:
		if (!READ_ONCE(vdev->daemon))
			schedule_work(&vv->orphan_work);
		break;
	}
}

/**
 * vduse_orphan_daemon_gone() - the daemon's file of a device was released
 * @vdev: the device
 *
 * Called with vduse_dev.lock held, after vduse_dev.daemon was cleared.
 */
void vduse_orphan_daemon_gone(struct vduse_dev *vdev)
{
	lockdep_assert_held(&vdev->lock);

	if (vdev->vdpa && vduse_orphan_ops_now(vdev, vdev->vdpa))
		schedule_work(&vdev->vdpa->orphan_work);
}

/**
 * vduse_orphan_removing() - the attachment is being removed
 * @vv: the attachment
 *
 * From now on what the driver is waiting for has no daemon to come back
 * for it: without a daemon, it is answered.  Must not be called with
 * vduse_dev.lock held.
 */
void vduse_orphan_removing(struct vduse_vdpa *vv)
{
	struct vduse_dev *vdev = vv->vdev;

	mutex_lock(&vdev->lock);
	WRITE_ONCE(vv->removing, true);
	if (vduse_orphan_ops_now(vdev, vv))
		schedule_work(&vv->orphan_work);
	mutex_unlock(&vdev->lock);
}

/**
 * vduse_orphan_stop() - wait for the reaper to finish
 * @vv: the attachment, being reset or detached
 *
 * Must not be called with vduse_dev.lock held.
 */
void vduse_orphan_stop(struct vduse_vdpa *vv)
{
	cancel_work_sync(&vv->orphan_work);
}
