// SPDX-License-Identifier: GPL-2.0-only
/*
 * VDUSE: vDPA Device in Userspace - the virtio-net control virtqueue
 * watchdog.
 *
 * The kernel's virtio_net driver puts a command on the control virtqueue
 * and spins, holding RTNL, until the device uses the buffer or the queue
 * breaks.  Nothing in virtio-vdpa lets a vdpa device break a queue, so a
 * daemon that never answers would hold the driver forever.  Under
 * virtio-vdpa, though, the rings are the kernel's own memory in the
 * bounce domain, and the kernel can answer in the daemon's place:
 *
 * - a kick of the control virtqueue arms the watchdog, unless it is armed;
 *   so does DRIVER_OK, and while the queue is idle the watchdog looks at it
 *   again every VDUSE_CVQ_POLL seconds: the daemon can ask the driver not
 *   to kick (VRING_USED_F_NO_NOTIFY, the avail event), and a command made
 *   then is found without one;
 * - while buffers are outstanding and the daemon uses none of them for
 *   msg_timeout seconds, but at most VDUSE_CVQ_TIMEOUT_MAX (also when
 *   msg_timeout is 0: this queue is never waited on forever), the device
 *   is broken, as if a request had timed out;
 * - on a broken device, every outstanding command is completed with
 *   VIRTIO_NET_ERR in its status byte, at once, and so is every later one.
 *
 * The driver then sees its command fail, and the device asks for a reset.
 *
 * Only split rings are read: a device offering the control virtqueue may
 * not offer VIRTIO_F_RING_PACKED (ctrl.c).  The rings are read and written
 * through copies (ring.c), since the daemon may rewrite them at any
 * moment; whatever it wrote, one run reads at most the queue size in
 * descriptors.
 * Under vhost-vdpa the rings are not the domain's coherent allocations, and
 * the watchdog does nothing: the VMM drives that queue, not the kernel.
 *
 * Locking: the work item runs alone; it takes vduse_dev.lock for the
 * queue's addresses and the domain's spinlock inside it (vduse_domain_rw()),
 * and runs the driver's callback with neither held.
 */

#include <linux/jiffies.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include <linux/workqueue.h>

#include "iova_domain.h"
#include "vduse.h"

/* vduse_vdpa.cvq_flags */
#define VDUSE_CVQ_ARMED		0

/*
 * Seconds a command waits for the daemon at most, whatever msg_timeout:
 * virtio_net holds RTNL meanwhile, and the whole network stack waits.
 */
#define VDUSE_CVQ_TIMEOUT_MAX	10

/* Seconds between looks at an idle control virtqueue (two index reads). */
#define VDUSE_CVQ_POLL		2

/*
 * VIRTIO_NET_ERR in the status byte of a command: the first byte the
 * device may write.
 */
static int vduse_cvq_net_desc(struct vduse_ring_run *run, u16 flags,
			      u64 addr, u32 len)
{
	u8 status = VIRTIO_NET_ERR;

	if (!(flags & VRING_DESC_F_WRITE) || !len)
		return 0;
	if (vduse_domain_rw(run->domain, addr, &status, sizeof(status), true))
		return -1;
	return sizeof(status);
}

/* No device-writable byte: no place for the status. */
static int vduse_cvq_net_end(struct vduse_ring_run *run)
{
	return -1;
}

static const struct vduse_ring_ops vduse_cvq_net_ops = {
	.desc	= vduse_cvq_net_desc,
	.end	= vduse_cvq_net_end,
};

/*
 * A command that cannot be walked is still returned to the driver, which
 * would spin for it forever otherwise.  Its status byte is then what the
 * bounce buffer holds (zeroes, VIRTIO_NET_OK, unless the daemon wrote
 * there): only a daemon rewriting the ring makes such a chain, and it can
 * answer anything it likes anyway.  Used length 1 either way: the status
 * byte.
 */
static int vduse_cvq_answer(struct vduse_ring_run *run, u16 head)
{
	vduse_ring_walk(run, &vduse_cvq_net_ops, head);
	return 1;
}

/*
 * Complete the outstanding commands [used, avail) with VIRTIO_NET_ERR.
 * The daemon can rewrite the rings at will (a chain looping on itself in
 * every slot of a 32768-entry queue): one run walks at most the queue
 * size in descriptors in all.  The driver has one command outstanding at
 * a time, which fits any budget.
 */
static void vduse_cvq_fail_all(struct vduse_domain *domain,
			       const struct vduse_vq *vq, u16 used, u16 avail)
{
	struct vduse_ring_run run = {
		.domain	= domain,
		.vq	= vq,
		.budget	= vq->num,
	};

	vduse_ring_answer(&run, used, avail, vduse_cvq_answer);
}

static void vduse_cvq_work(struct work_struct *work)
{
	struct vduse_vdpa *vv = container_of(to_delayed_work(work),
					     struct vduse_vdpa, cvq_work);
	struct vduse_dev *vdev = vv->vdev;
	unsigned long timeout;
	struct vduse_vq *vq;
	bool signal = false;
	u16 used, avail;
	u32 index;

	/* A kick from here on arms the watchdog again. */
	clear_bit(VDUSE_CVQ_ARMED, &vv->cvq_flags);
	/*
	 * The rings are read after the bit is clear (pairs with the kick's
	 * test_and_set_bit()): a buffer whose kick found it set is seen.
	 */
	smp_mb__after_atomic();

	mutex_lock(&vdev->lock);
	index = vdev->cvq_index;
	if (index >= vdev->vq_num)
		goto out_unlock;
	vq = &vdev->vqs[index];
	if (!vq->ready || !vq->num ||
	    !vduse_ring_indexes(vv->domain, vq, &used, &avail))
		goto out_unlock;

	if (used == avail) {
		vv->cvq_watching = false;
		/* A kick pulls this in; a command without one waits for it. */
		schedule_delayed_work(&vv->cvq_work, VDUSE_CVQ_POLL * HZ);
		goto out_unlock;
	}

	if (!vduse_msg_broken(vdev)) {
		if (!vv->cvq_watching || used != vv->cvq_used) {
			/*
			 * The daemon is answering: give it a full period,
			 * never more than RTNL may reasonably be held.
			 */
			timeout = READ_ONCE(vdev->msg_timeout) ?:
				  VDUSE_CVQ_TIMEOUT_MAX;
			timeout = min_t(unsigned long, timeout,
					VDUSE_CVQ_TIMEOUT_MAX);
			vv->cvq_watching = true;
			vv->cvq_used = used;
			vv->cvq_deadline = jiffies + timeout * HZ;
		}
		if (time_before(jiffies, vv->cvq_deadline)) {
			set_bit(VDUSE_CVQ_ARMED, &vv->cvq_flags);
			schedule_delayed_work(&vv->cvq_work,
					      vv->cvq_deadline - jiffies);
			goto out_unlock;
		}
		dev_warn(&vdev->dev,
			 "control virtqueue: no answer in time\n");
		vduse_msg_break(vdev);
	}

	vduse_cvq_fail_all(vv->domain, vq, used, avail);
	vv->cvq_watching = false;
	signal = true;
	/* Later commands too, kicked or not. */
	schedule_delayed_work(&vv->cvq_work, VDUSE_CVQ_POLL * HZ);

out_unlock:
	mutex_unlock(&vdev->lock);
	if (signal)
		vduse_vq_signal(vdev, vq);
}

/**
 * vduse_cvq_init() - set up an attachment's control virtqueue watchdog
 * @vv: the attachment
 */
void vduse_cvq_init(struct vduse_vdpa *vv)
{
	INIT_DELAYED_WORK(&vv->cvq_work, vduse_cvq_work);
}

/**
 * vduse_cvq_kicked() - the driver kicked the control virtqueue, or set
 * DRIVER_OK
 * @vv: the attachment
 *
 * May be called in atomic context.
 */
void vduse_cvq_kicked(struct vduse_vdpa *vv)
{
	/* A broken device answers at once. */
	if (vduse_msg_broken(vv->vdev)) {
		set_bit(VDUSE_CVQ_ARMED, &vv->cvq_flags);
		mod_delayed_work(system_wq, &vv->cvq_work, 0);
		return;
	}
	/* Also brings forward the look at an idle queue. */
	if (!test_and_set_bit(VDUSE_CVQ_ARMED, &vv->cvq_flags))
		mod_delayed_work(system_wq, &vv->cvq_work, 0);
}

/**
 * vduse_cvq_stop() - disarm the watchdog
 * @vv: the attachment, being reset or detached
 *
 * Must not be called with vduse_dev.lock held.  Afterwards the watchdog
 * runs again only after a kick or DRIVER_OK.
 */
void vduse_cvq_stop(struct vduse_vdpa *vv)
{
	cancel_delayed_work_sync(&vv->cvq_work);
	clear_bit(VDUSE_CVQ_ARMED, &vv->cvq_flags);
	vv->cvq_watching = false;
}
