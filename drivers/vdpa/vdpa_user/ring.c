// SPDX-License-Identifier: GPL-2.0-only
/*
 * VDUSE: vDPA Device in Userspace - the kernel's own split rings, for
 * answering requests in the daemon's place.
 *
 * Under virtio-vdpa the rings are coherent allocations in the bounce
 * domain: the driver's memory, which the daemon may rewrite at any
 * moment.  The control virtqueue watchdog (cvq.c) and the reaper of
 * orphaned requests (orphan.c) answer the outstanding chains there; this
 * is what they share:
 *
 * - vduse_ring_indexes() reads the used and available indexes;
 * - vduse_ring_walk() walks one descriptor chain, through at most one
 *   indirect table, showing each descriptor to a device type's
 *   struct vduse_ring_ops;
 * - vduse_ring_answer() answers available entries in order and publishes
 *   them in the used ring;
 * - vduse_ring_want_kicks() asks the driver to kick for every new entry.
 *
 * Nothing read is trusted: rings are copied in and out with
 * vduse_domain_rw(), never referenced.  A chain ends at an index outside
 * its table or after the queue size in descriptors (one more for an
 * indirect one), and every descriptor read takes one of a budget the
 * caller sets for its whole run.  Split rings only, VIRTIO_F_VERSION_1
 * negotiated: the rings are little endian.
 *
 * Locking: the callers are work items, in process context, holding
 * vduse_dev.lock, which keeps the queue's addresses and size still.
 * vduse_domain_rw() takes the domain's spinlock around each copy; no
 * lock is held across copies, and the ops run with vduse_dev.lock only.
 */

#include <linux/sched.h>
#include <linux/virtio_byteorder.h>
#include <linux/virtio_ring.h>

#include "iova_domain.h"
#include "vduse.h"

static u16 vduse_ring16(__virtio16 val)
{
	return __virtio16_to_cpu(true, val);
}

/**
 * vduse_ring_indexes() - read a split ring's used and available indexes
 * @domain: the bounce domain
 * @vq: the queue, set up and ready
 * @used: the used index
 * @avail: the available index
 *
 * For the kernel's own rings only (virtio-vdpa): coherent allocations in
 * the domain.  The entries they cover may be read after this returns.
 *
 * Context: process context, with vduse_dev.lock held.
 * Return: false when the rings are not the kernel's or cannot be read.
 */
bool vduse_ring_indexes(struct vduse_domain *domain, const struct vduse_vq *vq,
			u16 *used, u16 *avail)
{
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
	*used = vduse_ring16(u);
	*avail = vduse_ring16(a);

	return true;
}

/**
 * vduse_ring_walk() - show the descriptors of one chain to a device type
 * @run: the run the chain is part of; each descriptor read takes one of
 *	its budget
 * @ops: what the device type does with each descriptor and at the end
 * @head: the chain's first descriptor, as the available ring names it
 *
 * An indirect descriptor is followed once, into a table of its own
 * length, and is not shown to @ops.  The walk ends at a descriptor
 * without VRING_DESC_F_NEXT, when @ops->desc ends it, or, for a chain
 * that loops, after the queue size in descriptors and one more.
 *
 * Context: process context, with vduse_dev.lock held.
 * Return: the used length @ops gives the chain; -EAGAIN when the budget
 * ran out first (@ops answers a chain only as it ends the walk, so
 * nothing was written: the chain may be walked again); -EINVAL when the
 * chain cannot be walked or @ops found no place for the answer.
 */
int vduse_ring_walk(struct vduse_ring_run *run,
		    const struct vduse_ring_ops *ops, u16 head)
{
	const struct vduse_vq *vq = run->vq;
	u64 table = vq->desc_addr;
	u32 size = vq->num;
	bool indirect = false;
	struct vring_desc d;
	u32 i = head;
	u32 n;

	/* A chain is never longer than the queue; one more for INDIRECT. */
	for (n = 0; n <= vq->num; n++) {
		u16 flags;
		u32 len;
		u64 addr;
		int ret;

		if (!run->budget)
			return -EAGAIN;
		if (i >= size)
			return -EINVAL;
		run->budget--;
		if (vduse_domain_rw(run->domain, table + (u64)i * sizeof(d),
				    &d, sizeof(d), false))
			return -EINVAL;

		flags = vduse_ring16(d.flags);
		addr = __virtio64_to_cpu(true, d.addr);
		len = __virtio32_to_cpu(true, d.len);
		if (flags & VRING_DESC_F_INDIRECT) {
			if (indirect)
				return -EINVAL;
			indirect = true;
			table = addr;
			size = len / sizeof(d);
			i = 0;
			continue;
		}
		ret = ops->desc(run, flags, addr, len);
		if (ret)
			return ret < 0 ? -EINVAL : ret;
		if (!(flags & VRING_DESC_F_NEXT)) {
			ret = ops->end(run);
			return ret < 0 ? -EINVAL : ret;
		}
		i = vduse_ring16(d.next);
	}

	return -EINVAL;
}

/**
 * vduse_ring_answer() - answer available entries and use them
 * @run: the run: the domain, the queue and the budget of its walks
 * @used: the used index, where the answers start
 * @avail: the available index
 * @answer: answers the chain at a head; returns its used length, or a
 *	negative value to leave it, and the entries after it, outstanding
 *
 * Takes the entries [@used, @avail), at most the queue size of them, in
 * the order the driver made them available.  Each one answered goes in
 * the used ring; then the used index moves past them all.  Yields the
 * CPU between chains.
 *
 * Context: process context, with vduse_dev.lock held.
 * Return: how many entries were used, or -EFAULT when the used index
 * could not be written.
 */
int vduse_ring_answer(struct vduse_ring_run *run, u16 used, u16 avail,
		      int (*answer)(struct vduse_ring_run *run, u16 head))
{
	const struct vduse_vq *vq = run->vq;
	u64 ring = vq->device_addr + offsetof(struct vring_used, ring);
	u16 n = min_t(u16, avail - used, vq->num);
	__virtio16 idx;
	u16 i;

	for (i = 0; i < n; i++) {
		u16 slot = (u16)(used + i) % vq->num;
		struct vring_used_elem elem;
		__virtio16 head;
		int len;

		if (vduse_domain_rw(run->domain, vq->driver_addr +
				    offsetof(struct vring_avail, ring) +
				    slot * sizeof(head), &head, sizeof(head),
				    false))
			break;
		len = answer(run, vduse_ring16(head));
		if (len < 0)
			break;

		elem.id = __cpu_to_virtio32(true, vduse_ring16(head));
		elem.len = __cpu_to_virtio32(true, len);
		if (vduse_domain_rw(run->domain, ring + slot * sizeof(elem),
				    &elem, sizeof(elem), true))
			break;
		cond_resched();
	}
	if (!i)
		return 0;

	/* The entries before the index that publishes them. */
	smp_wmb();
	idx = __cpu_to_virtio16(true, used + i);
	if (vduse_domain_rw(run->domain, vq->device_addr +
			    offsetof(struct vring_used, idx), &idx,
			    sizeof(idx), true))
		return -EFAULT;

	return i;
}

/**
 * vduse_ring_want_kicks() - ask the driver to kick for every new entry
 * @domain: the bounce domain
 * @vq: the queue, its rings the kernel's (vduse_ring_indexes())
 * @event_idx: VIRTIO_RING_F_EVENT_IDX was negotiated
 * @avail: the available index last read
 *
 * Clears the used ring's notification flag and, with
 * VIRTIO_RING_F_EVENT_IDX, sets the avail event to @avail, whatever a
 * daemon that died left there.
 *
 * Context: process context, with vduse_dev.lock held.
 * Return: whether @avail is still the available index; if not, an entry
 * came in meanwhile that may not have kicked.
 */
bool vduse_ring_want_kicks(struct vduse_domain *domain,
			   const struct vduse_vq *vq, bool event_idx,
			   u16 avail)
{
	__virtio16 flags = 0, ev = __cpu_to_virtio16(true, avail), a;

	vduse_domain_rw(domain, vq->device_addr +
			offsetof(struct vring_used, flags), &flags,
			sizeof(flags), true);
	if (event_idx)
		vduse_domain_rw(domain, vq->device_addr +
				offsetof(struct vring_used, ring) +
				vq->num * sizeof(struct vring_used_elem), &ev,
				sizeof(ev), true);
	/* Pairs with the driver's barrier between its index and the event. */
	smp_mb();
	if (vduse_domain_rw(domain, vq->driver_addr +
			    offsetof(struct vring_avail, idx), &a, sizeof(a),
			    false))
		return true;
	return vduse_ring16(a) == avail;
}
