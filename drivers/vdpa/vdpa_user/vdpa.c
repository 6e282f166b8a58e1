// SPDX-License-Identifier: GPL-2.0-only
/*
 * VDUSE: vDPA Device in Userspace - the vdpa side: the "vduse" management
 * device, attaching and detaching, and the vdpa_config_ops that relay the
 * driver's control path to the daemon.
 *
 * Status changes go to the daemon as VDUSE_SET_STATUS.  set_status cannot
 * fail, so a status the daemon refuses is simply not taken: the driver,
 * which re-reads the status as the virtio specification says, does not
 * see FEATURES_OK and gives up.  Reset relays status 0, always clears
 * what the kernel holds, and reports a daemon's failure.
 *
 * The VDUSE features a daemon chose add relays: queue enables
 * (VDUSE_F_QUEUE_READY), and suspend and resume for vhost-vdpa
 * (VDUSE_F_SUSPEND, VDUSE_F_RESUME), which only devices that asked for
 * them offer, through their own copy of the ops.
 *
 * Locking (see "DOC: Locking" in vduse.h): vdpa_dev_lock is held around
 * dev_add/dev_del, cf_lock around set_status and reset; vduse_dev.lock is
 * taken inside both, and never across a request to the daemon.
 */

#include <linux/device.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/vdpa.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <linux/vhost_iotlb.h>
#include <linux/vhost_types.h>
#include <linux/virtio_ring.h>
#include <net/netlink.h>
#include <uapi/linux/vdpa.h>

#include "iova_domain.h"
#include "vduse.h"
#include "trace.h"

static struct vduse_dev *vdpa_to_vdev(struct vdpa_device *vdpa)
{
	return vdpa_to_vduse(vdpa)->vdev;
}

static struct vduse_vq *vduse_vdpa_vq(struct vdpa_device *vdpa, u16 idx)
{
	struct vduse_dev *vdev = vdpa_to_vdev(vdpa);

	/* The vdpa core passes indexes below nvqs, which is vq_num. */
	return &vdev->vqs[array_index_nospec(idx, vdev->vq_num)];
}

static int vduse_vdpa_set_vq_address(struct vdpa_device *vdpa, u16 idx,
				     u64 desc_area, u64 driver_area,
				     u64 device_area)
{
	struct vduse_dev *vdev = vdpa_to_vdev(vdpa);
	struct vduse_vq *vq = vduse_vdpa_vq(vdpa, idx);

	mutex_lock(&vdev->lock);
	vq->desc_addr = desc_area;
	vq->driver_addr = driver_area;
	vq->device_addr = device_area;
	mutex_unlock(&vdev->lock);

	return 0;
}

/*
 * vhost-vdpa checks a size against the largest of all queues only, and
 * the daemon may have sized this queue's arrays by its own max_size.  A
 * size above it is refused: the daemon sees 0, the queue is not enabled
 * and the device asks for a reset (NEEDS_RESET).  Clamping would leave
 * the driver's ring and the daemon's view of it disagreeing.
 */
static void vduse_vdpa_set_vq_num(struct vdpa_device *vdpa, u16 idx, u32 num)
{
	struct vduse_dev *vdev = vdpa_to_vdev(vdpa);
	struct vduse_vq *vq = vduse_vdpa_vq(vdpa, idx);

	mutex_lock(&vdev->lock);
	vq->num_refused = num > vq->max_size;
	vq->num = vq->num_refused ? 0 : num;
	if (vq->num_refused)
		WRITE_ONCE(vdev->needs_reset, true);
	mutex_unlock(&vdev->lock);
}

static void vduse_vdpa_kick_vq(struct vdpa_device *vdpa, u16 idx)
{
	trace_vduse_vq_kick(vdpa_to_vdev(vdpa), idx);
	vduse_vq_kick(vduse_vdpa_vq(vdpa, idx));
	if (unlikely(idx == READ_ONCE(vdpa_to_vdev(vdpa)->cvq_index)))
		vduse_cvq_kicked(vdpa_to_vduse(vdpa));
}

static void vduse_vdpa_set_vq_cb(struct vdpa_device *vdpa, u16 idx,
				 struct vdpa_callback *cb)
{
	vduse_vq_set_cb(vduse_vdpa_vq(vdpa, idx), cb);
}

/*
 * VDUSE_F_QUEUE_READY: tell the daemon.  A disable always takes effect,
 * since the driver frees the queue next.  An enable takes effect before
 * the request is sent: a daemon that answers OK may serve the ring and
 * inject at once, before this thread runs again, and must find the queue
 * ready.  Either refusal leaves the queue disabled on both sides and the
 * device asking for a reset (NEEDS_RESET), which is how a device reports
 * that it cannot go on as the driver asked.
 */
static void vduse_vdpa_relay_vq_ready(struct vduse_dev *vdev,
				      struct vduse_vq *vq, bool ready)
{
	struct vduse_dev_request req = {
		.type = VDUSE_SET_VQ_READY,
		.vq_ready.num = vq->index,
		.vq_ready.ready = ready,
	};
	bool was;

	mutex_lock(&vdev->lock);
	was = vq->ready;
	vq->ready = ready;
	mutex_unlock(&vdev->lock);
	/* Nothing changes: nothing to tell (a disable after reset). */
	if (was == ready)
		return;
	vduse_vq_enable_cb(vq, ready);

	if (!vduse_msg_send(vdev, &req, NULL))
		return;

	mutex_lock(&vdev->lock);
	WRITE_ONCE(vdev->needs_reset, true);
	vq->ready = false;
	mutex_unlock(&vdev->lock);
	if (ready)
		vduse_vq_enable_cb(vq, false);
}

static void vduse_vdpa_set_vq_ready(struct vdpa_device *vdpa, u16 idx,
				    bool ready)
{
	struct vduse_dev *vdev = vdpa_to_vdev(vdpa);
	struct vduse_vq *vq = vduse_vdpa_vq(vdpa, idx);
	bool refused;

	/* A size the daemon cannot serve: the queue stays disabled. */
	mutex_lock(&vdev->lock);
	refused = ready && vq->num_refused;
	mutex_unlock(&vdev->lock);
	if (refused)
		return;

	trace_vduse_vq_ready(vdev, idx, ready);
	if (vdev->features & BIT_ULL(VDUSE_F_QUEUE_READY)) {
		vduse_vdpa_relay_vq_ready(vdev, vq, ready);
		return;
	}

	mutex_lock(&vdev->lock);
	vq->ready = ready;
	mutex_unlock(&vdev->lock);
	vduse_vq_enable_cb(vq, ready);
}

/*
 * vdpa dev vstats show DEV qidx N: the queue's counters, as sysfs vqN/stats
 * shows them.  The vdpa core asks for net devices past FEATURES_OK only,
 * under cf_lock held for read, with an index it checked against the
 * largest a net device may have, not against ours.
 */
static int vduse_vdpa_get_vendor_vq_stats(struct vdpa_device *vdpa, u16 idx,
					  struct sk_buff *msg,
					  struct netlink_ext_ack *extack)
{
	struct vduse_dev *vdev = vdpa_to_vdev(vdpa);
	u64 st[VDUSE_VQ_STATS];
	int i;

	if (idx >= vdev->vq_num) {
		NL_SET_ERR_MSG_MOD(extack, "no such virtqueue");
		return -EINVAL;
	}
	vduse_vq_stats_get(vduse_vdpa_vq(vdpa, idx), st);
	for (i = 0; i < VDUSE_VQ_STATS; i++)
		if (nla_put_string(msg, VDPA_ATTR_DEV_VENDOR_ATTR_NAME,
				   vduse_vq_stat_names[i]) ||
		    nla_put_u64_64bit(msg, VDPA_ATTR_DEV_VENDOR_ATTR_VALUE,
				      st[i], VDPA_ATTR_PAD))
			return -EMSGSIZE;

	return 0;
}

static bool vduse_vdpa_get_vq_ready(struct vdpa_device *vdpa, u16 idx)
{
	struct vduse_dev *vdev = vdpa_to_vdev(vdpa);
	bool ready;

	mutex_lock(&vdev->lock);
	ready = vduse_vdpa_vq(vdpa, idx)->ready;
	mutex_unlock(&vdev->lock);

	return ready;
}

static int vduse_vdpa_set_vq_affinity(struct vdpa_device *vdpa, u16 idx,
				      const struct cpumask *cpu_mask)
{
	/* virtio_vdpa spreads queues over CPUs; no mask means all of them. */
	return vduse_vq_set_affinity(vduse_vdpa_vq(vdpa, idx),
				     cpu_mask ?: cpu_possible_mask);
}

static const struct cpumask *
vduse_vdpa_get_vq_affinity(struct vdpa_device *vdpa, u16 idx)
{
	return vduse_vdpa_vq(vdpa, idx)->irq_affinity;
}

static bool vduse_vdpa_packed(struct vduse_dev *vdev)
{
	return vdev->driver_features & BIT_ULL(VIRTIO_F_RING_PACKED);
}

static int vduse_vdpa_set_vq_state(struct vdpa_device *vdpa, u16 idx,
				   const struct vdpa_vq_state *state)
{
	struct vduse_dev *vdev = vdpa_to_vdev(vdpa);
	struct vduse_vq *vq = vduse_vdpa_vq(vdpa, idx);

	mutex_lock(&vdev->lock);
	if (vduse_vdpa_packed(vdev)) {
		vq->state.last_avail_counter = state->packed.last_avail_counter;
		vq->state.last_avail_idx = state->packed.last_avail_idx;
		vq->state.last_used_counter = state->packed.last_used_counter;
		vq->state.last_used_idx = state->packed.last_used_idx;
	} else {
		/* A split queue's avail_index shares the first field. */
		vq->state.last_avail_counter = state->split.avail_index;
	}
	mutex_unlock(&vdev->lock);

	return 0;
}

static int vduse_vdpa_get_vq_state(struct vdpa_device *vdpa, u16 idx,
				   struct vdpa_vq_state *state)
{
	struct vduse_dev *vdev = vdpa_to_vdev(vdpa);
	struct vduse_dev_request req = {
		.type = VDUSE_GET_VQ_STATE,
		.vq_state.index = idx,
	};
	struct vduse_dev_response resp;
	bool packed;
	int ret;

	ret = vduse_msg_send(vdev, &req, &resp);
	if (ret)
		return ret;

	mutex_lock(&vdev->lock);
	packed = vduse_vdpa_packed(vdev);
	mutex_unlock(&vdev->lock);
	if (packed) {
		state->packed.last_avail_counter =
			resp.vq_state.packed.last_avail_counter & 1;
		state->packed.last_avail_idx =
			resp.vq_state.packed.last_avail_idx & 0x7fff;
		state->packed.last_used_counter =
			resp.vq_state.packed.last_used_counter & 1;
		state->packed.last_used_idx =
			resp.vq_state.packed.last_used_idx & 0x7fff;
	} else {
		state->split.avail_index = resp.vq_state.split.avail_index;
	}

	return 0;
}

static u16 vduse_vdpa_get_vq_size(struct vdpa_device *vdpa, u16 idx)
{
	/* Set before attaching, never changed while attached. */
	return vduse_vdpa_vq(vdpa, idx)->max_size;
}

static u32 vduse_vdpa_get_vq_align(struct vdpa_device *vdpa)
{
	return vdpa_to_vdev(vdpa)->vq_align;
}

static u32 vduse_vdpa_get_vq_group(struct vdpa_device *vdpa, u16 idx)
{
	return vduse_vdpa_vq(vdpa, idx)->group;
}

static int vduse_vdpa_set_group_asid(struct vdpa_device *vdpa,
				     unsigned int group, unsigned int asid)
{
	struct vduse_dev *vdev = vdpa_to_vdev(vdpa);
	struct vduse_dev_request req = {
		.type = VDUSE_SET_VQ_GROUP_ASID,
		.vq_group_asid.group = group,
		.vq_group_asid.asid = asid,
	};
	int ret;

	if (group >= vdev->ngroups || asid >= vdev->nas)
		return -EINVAL;
	/* Version 0 has one group in one space: nothing to tell. */
	if (vdev->api_version < VDUSE_API_VERSION_1)
		return 0;

	ret = vduse_msg_send(vdev, &req, NULL);
	if (ret)
		return ret;

	mutex_lock(&vdev->lock);
	vdev->group_asid[group] = asid;
	mutex_unlock(&vdev->lock);

	return 0;
}

static u64 vduse_vdpa_get_device_features(struct vdpa_device *vdpa)
{
	return vdpa_to_vdev(vdpa)->device_features;
}

static int vduse_vdpa_set_driver_features(struct vdpa_device *vdpa,
					  u64 features)
{
	struct vduse_dev *vdev = vdpa_to_vdev(vdpa);

	mutex_lock(&vdev->lock);
	vdev->driver_features = features;
	mutex_unlock(&vdev->lock);

	return 0;
}

static u64 vduse_vdpa_get_driver_features(struct vdpa_device *vdpa)
{
	struct vduse_dev *vdev = vdpa_to_vdev(vdpa);
	u64 features;

	mutex_lock(&vdev->lock);
	features = vdev->driver_features;
	mutex_unlock(&vdev->lock);

	return features;
}

static void vduse_vdpa_set_config_cb(struct vdpa_device *vdpa,
				     struct vdpa_callback *cb)
{
	struct vduse_dev *vdev = vdpa_to_vdev(vdpa);

	spin_lock_irq(&vdev->config_lock);
	vdev->config_cb = *cb;
	spin_unlock_irq(&vdev->config_lock);
}

static u16 vduse_vdpa_get_vq_num_max(struct vdpa_device *vdpa)
{
	struct vduse_dev *vdev = vdpa_to_vdev(vdpa);
	u16 max = 0;
	u32 i;

	for (i = 0; i < vdev->vq_num; i++)
		max = max(max, vdev->vqs[i].max_size);

	return max;
}

static u32 vduse_vdpa_get_device_id(struct vdpa_device *vdpa)
{
	return vdpa_to_vdev(vdpa)->device_id;
}

static u32 vduse_vdpa_get_vendor_id(struct vdpa_device *vdpa)
{
	return vdpa_to_vdev(vdpa)->vendor_id;
}

static u8 vduse_vdpa_get_status(struct vdpa_device *vdpa)
{
	struct vduse_dev *vdev = vdpa_to_vdev(vdpa);
	u8 status = READ_ONCE(vdev->status);

	/*
	 * A device whose daemon stopped answering, or refused to enable or
	 * disable a queue, needs a reset.
	 */
	if ((vduse_msg_broken(vdev) || READ_ONCE(vdev->needs_reset)) && status)
		status |= VIRTIO_CONFIG_S_NEEDS_RESET;

	return status;
}

/* @old: the status before this write, for the trace. */
static int vduse_vdpa_relay_status(struct vduse_dev *vdev, u8 old, u8 status)
{
	struct vduse_dev_request req = {
		.type = VDUSE_SET_STATUS,
		.s.status = status,
	};
	int ret;

	ret = vduse_msg_send(vdev, &req, NULL);
	trace_vduse_set_status(vdev, old, status, ret);

	return ret;
}

/*
 * The virtio-net control virtqueue, if the driver took it: the last queue
 * it made ready, which is where virtio_net puts it whatever the number of
 * queue pairs it read from the configuration space.
 */
static u32 vduse_vdpa_find_cvq(struct vduse_dev *vdev)
{
	u32 i;

	lockdep_assert_held(&vdev->lock);

	if (vdev->device_id != VIRTIO_ID_NET ||
	    !(vdev->driver_features & BIT_ULL(VIRTIO_NET_F_CTRL_VQ)))
		return U32_MAX;
	for (i = vdev->vq_num; i > 0; i--)
		if (vdev->vqs[i - 1].ready)
			return i - 1;

	return U32_MAX;
}

/* Once this returns, the driver's config callback no longer runs. */
static void vduse_dev_drop_config_cb(struct vduse_dev *vdev)
{
	spin_lock_irq(&vdev->config_lock);
	vdev->config_cb.callback = NULL;
	vdev->config_cb.private = NULL;
	spin_unlock_irq(&vdev->config_lock);
}

/*
 * The driver gave up (FAILED): the virtio core does not reset the device,
 * and the driver's removal frees what the callbacks point to, so none of
 * them may run again, whatever the daemon answers.
 */
static void vduse_vdpa_drop_driver_cbs(struct vduse_dev *vdev)
{
	u32 i;

	vduse_dev_drop_config_cb(vdev);
	for (i = 0; i < vdev->vq_num; i++) {
		vduse_vq_enable_cb(&vdev->vqs[i], false);
		vduse_vq_set_cb(&vdev->vqs[i], NULL);
	}
}

static void vduse_vdpa_set_status(struct vdpa_device *vdpa, u8 status)
{
	struct vduse_dev *vdev = vdpa_to_vdev(vdpa);
	bool early = false;
	u8 old;

	if (status & VIRTIO_CONFIG_S_FAILED)
		vduse_vdpa_drop_driver_cbs(vdev);

	/*
	 * DRIVER_OK takes effect before the request is sent: a daemon that
	 * answers OK may inject at once, before this thread runs again.
	 */
	mutex_lock(&vdev->lock);
	old = vdev->status;
	if ((status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    !(old & VIRTIO_CONFIG_S_DRIVER_OK)) {
		WRITE_ONCE(vdev->cvq_index, vduse_vdpa_find_cvq(vdev));
		WRITE_ONCE(vdev->status, status);
		early = true;
	}
	mutex_unlock(&vdev->lock);

	/* Refused: the driver re-reads the old status and gives up. */
	if (vduse_vdpa_relay_status(vdev, old, status)) {
		if (!early)
			return;
		mutex_lock(&vdev->lock);
		WRITE_ONCE(vdev->status, old);
		WRITE_ONCE(vdev->cvq_index, U32_MAX);
		mutex_unlock(&vdev->lock);
		return;
	}

	mutex_lock(&vdev->lock);
	WRITE_ONCE(vdev->status, status);
	mutex_unlock(&vdev->lock);
}

static int vduse_vdpa_reset(struct vdpa_device *vdpa)
{
	struct vduse_dev *vdev = vdpa_to_vdev(vdpa);
	int ret;

	ret = vduse_vdpa_relay_status(vdev, READ_ONCE(vdev->status), 0);

	/* Whatever the daemon said, the kernel side starts over. */
	WRITE_ONCE(vdpa_to_vduse(vdpa)->bounce_used, false);
	vduse_cvq_stop(vdpa_to_vduse(vdpa));
	vduse_dev_reset_state(vdev);

	return ret ? -EIO : 0;
}

/*
 * Kicks are held in every state but VDUSE_RUNNING: from the moment a
 * suspend starts until a resume ended, so a suspended daemon is not woken
 * and no kick is lost.  Under vdev->lock.
 */
static void vduse_vdpa_set_run_state(struct vduse_dev *vdev, u8 state)
{
	bool was_running = vdev->run_state == VDUSE_RUNNING;
	bool running = state == VDUSE_RUNNING;

	lockdep_assert_held(&vdev->lock);

	if (was_running != running)
		vduse_vqs_hold_kicks(vdev, !running);
	trace_vduse_run_state(vdev, vdev->run_state, state);
	WRITE_ONCE(vdev->run_state, state);
}

/*
 * Suspend and resume both go @from -> @via while the daemon is asked with
 * a @type request, then -> @to on its OK, or back to @from on a refusal.
 * Before DRIVER_OK nothing runs, and a device already in @to stays there:
 * both are done at once.  A reset that comes in between starts over and
 * wins.
 */
static int vduse_vdpa_run_change(struct vduse_dev *vdev, u8 from, u8 via,
				 u8 to, u32 type)
{
	struct vduse_dev_request req = { .type = type };
	int ret;

	mutex_lock(&vdev->lock);
	if (!(vdev->status & VIRTIO_CONFIG_S_DRIVER_OK) ||
	    vdev->run_state == to) {
		mutex_unlock(&vdev->lock);
		return 0;
	}
	/* Another suspend or resume is under way. */
	if (vdev->run_state != from) {
		mutex_unlock(&vdev->lock);
		return -EBUSY;
	}
	vduse_vdpa_set_run_state(vdev, via);
	mutex_unlock(&vdev->lock);

	ret = vduse_msg_send(vdev, &req, NULL);

	mutex_lock(&vdev->lock);
	if (vdev->run_state == via)
		vduse_vdpa_set_run_state(vdev, ret ? from : to);
	mutex_unlock(&vdev->lock);

	return ret;
}

/*
 * VDUSE_F_SUSPEND: the daemon finishes or puts back what it started, may
 * still inject interrupts for it, and answers.  Once it has, it completes
 * nothing more: queue interrupts are refused, and the state GET_VQ_STATE
 * reports is final.  A refusal leaves the device running.
 */
static int vduse_vdpa_suspend(struct vdpa_device *vdpa)
{
	return vduse_vdpa_run_change(vdpa_to_vdev(vdpa), VDUSE_RUNNING,
				     VDUSE_SUSPENDING, VDUSE_SUSPENDED,
				     VDUSE_SUSPEND);
}

/*
 * VDUSE_F_RESUME: the daemon is told first and may inject interrupts from
 * then on; the kicks held since suspend are delivered once it answered.
 * A refusal leaves the device suspended.
 */
static int vduse_vdpa_resume(struct vdpa_device *vdpa)
{
	return vduse_vdpa_run_change(vdpa_to_vdev(vdpa), VDUSE_SUSPENDED,
				     VDUSE_RESUMING, VDUSE_RUNNING,
				     VDUSE_RESUME);
}

/* A VMM may enable queues after DRIVER_OK when the daemon hears of it. */
static u64 vduse_vdpa_get_backend_features(const struct vdpa_device *vdpa)
{
	const struct vduse_vdpa *vv = container_of_const(vdpa, struct vduse_vdpa,
							 vdpa);
	const struct vduse_dev *vdev = vv->vdev;

	if (vdev->features & BIT_ULL(VDUSE_F_QUEUE_READY))
		return BIT_ULL(VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK);

	return 0;
}

static size_t vduse_vdpa_get_config_size(struct vdpa_device *vdpa)
{
	return vdpa_to_vdev(vdpa)->config_size;
}

static void vduse_vdpa_get_config(struct vdpa_device *vdpa,
				  unsigned int offset, void *buf,
				  unsigned int len)
{
	struct vduse_dev *vdev = vdpa_to_vdev(vdpa);
	unsigned long flags;
	unsigned int n = 0;

	/* What lies beyond the daemon's configuration space reads as 0. */
	if (offset < vdev->config_size)
		n = min(len, vdev->config_size - offset);
	memset(buf + n, 0, len - n);
	if (!n)
		return;

	/* Drivers may read the configuration with interrupts off. */
	spin_lock_irqsave(&vdev->config_lock, flags);
	memcpy(buf, vdev->config + offset, n);
	spin_unlock_irqrestore(&vdev->config_lock, flags);
}

static void vduse_vdpa_set_config(struct vdpa_device *vdpa,
				  unsigned int offset, const void *buf,
				  unsigned int len)
{
	/* No message carries configuration writes: the daemon owns it. */
}

static u32 vduse_vdpa_get_generation(struct vdpa_device *vdpa)
{
	return READ_ONCE(vdpa_to_vdev(vdpa)->generation);
}

static struct vdpa_iova_range vduse_vdpa_get_iova_range(struct vdpa_device *vdpa)
{
	/* vhost-vdpa's IOVAs are the VMM's to choose. */
	struct vdpa_iova_range range = {
		.first = 0,
		.last = U64_MAX,
	};

	return range;
}

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
static void vduse_vdpa_announce(struct vduse_dev *vdev, u32 asid, u64 start,
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

static int vduse_vdpa_dma_map(struct vdpa_device *vdpa, unsigned int asid,
			      u64 iova, u64 size, u64 pa, u32 perm,
			      void *opaque)
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

static int vduse_vdpa_dma_unmap(struct vdpa_device *vdpa, unsigned int asid,
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
	vduse_vdpa_announce(vv->vdev, asid, iova, iova + size - 1);

	return 0;
}

static int vduse_vdpa_iotlbs_alloc(struct vduse_vdpa *vv, u32 nas)
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

static void vduse_vdpa_iotlbs_free(struct vduse_vdpa *vv, u32 nas)
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

/**
 * vduse_dev_reset_state() - forget everything a driver set up
 * @vdev: the device, reset or detached
 *
 * Afterwards no callback of the driver runs: it may be gone.
 */
void vduse_dev_reset_state(struct vduse_dev *vdev)
{
	mutex_lock(&vdev->lock);
	WRITE_ONCE(vdev->status, 0);
	WRITE_ONCE(vdev->cvq_index, U32_MAX);
	WRITE_ONCE(vdev->run_state, VDUSE_RUNNING);
	WRITE_ONCE(vdev->needs_reset, false);
	vdev->driver_features = 0;
	memset(vdev->group_asid, 0, vdev->ngroups * sizeof(*vdev->group_asid));
	vduse_vqs_reset(vdev);
	mutex_unlock(&vdev->lock);

	vduse_dev_drop_config_cb(vdev);
}

static void vduse_vdpa_free(struct vdpa_device *vdpa)
{
	struct vduse_vdpa *vv = vdpa_to_vduse(vdpa);

	/*
	 * vdev is NULL when dev_add failed before setting it.  The bounce
	 * domain is vdev's: it stays.
	 */
	if (vv->vdev) {
		vduse_vdpa_iotlbs_free(vv, vv->vdev->nas);
		put_device(&vv->vdev->dev);
	}
}

static const struct vdpa_config_ops vduse_vdpa_ops = {
	.set_vq_address		= vduse_vdpa_set_vq_address,
	.set_vq_num		= vduse_vdpa_set_vq_num,
	.kick_vq		= vduse_vdpa_kick_vq,
	.set_vq_cb		= vduse_vdpa_set_vq_cb,
	.set_vq_ready		= vduse_vdpa_set_vq_ready,
	.get_vq_ready		= vduse_vdpa_get_vq_ready,
	.set_vq_state		= vduse_vdpa_set_vq_state,
	.get_vq_state		= vduse_vdpa_get_vq_state,
	.get_vendor_vq_stats	= vduse_vdpa_get_vendor_vq_stats,
	.get_vq_size		= vduse_vdpa_get_vq_size,
	.get_vq_align		= vduse_vdpa_get_vq_align,
	.get_vq_group		= vduse_vdpa_get_vq_group,
	.get_device_features	= vduse_vdpa_get_device_features,
	.set_driver_features	= vduse_vdpa_set_driver_features,
	.get_driver_features	= vduse_vdpa_get_driver_features,
	.set_config_cb		= vduse_vdpa_set_config_cb,
	.get_vq_num_max		= vduse_vdpa_get_vq_num_max,
	.get_device_id		= vduse_vdpa_get_device_id,
	.get_vendor_id		= vduse_vdpa_get_vendor_id,
	.get_status		= vduse_vdpa_get_status,
	.set_status		= vduse_vdpa_set_status,
	.reset			= vduse_vdpa_reset,
	.get_config_size	= vduse_vdpa_get_config_size,
	.get_config		= vduse_vdpa_get_config,
	.set_config		= vduse_vdpa_set_config,
	.get_generation		= vduse_vdpa_get_generation,
	.get_iova_range		= vduse_vdpa_get_iova_range,
	.set_group_asid		= vduse_vdpa_set_group_asid,
	.set_vq_affinity	= vduse_vdpa_set_vq_affinity,
	.get_vq_affinity	= vduse_vdpa_get_vq_affinity,
	.get_backend_features	= vduse_vdpa_get_backend_features,
	.dma_map		= vduse_vdpa_dma_map,
	.dma_unmap		= vduse_vdpa_dma_unmap,
	.free			= vduse_vdpa_free,
};

/*
 * vhost-vdpa offers suspend and resume to a VMM when the ops have them, so
 * a device whose daemon did not ask for them gets ops without: filled in
 * from vduse_vdpa_ops at module init.
 */
static struct vdpa_config_ops vduse_vdpa_ops_suspend __ro_after_init;
static struct vdpa_config_ops vduse_vdpa_ops_resume __ro_after_init;

static const struct vdpa_config_ops *vduse_vdpa_ops_for(struct vduse_dev *vdev)
{
	if (vdev->features & BIT_ULL(VDUSE_F_RESUME))
		return &vduse_vdpa_ops_resume;
	if (vdev->features & BIT_ULL(VDUSE_F_SUSPEND))
		return &vduse_vdpa_ops_suspend;

	return &vduse_vdpa_ops;
}

/**
 * struct vduse_mgmt - the "vduse" vdpa management device
 * @dev: /sys/devices/vduse; iproute2's "mgmtdev vduse"
 * @mgmt: what the vdpa core knows of it
 */
struct vduse_mgmt {
	struct device dev;
	struct vdpa_mgmt_dev mgmt;
};

static struct vduse_mgmt *vduse_mgmt;

static bool vduse_vqs_set_up(struct vduse_dev *vdev)
{
	u32 i;

	for (i = 0; i < vdev->vq_num; i++)
		if (!vdev->vqs[i].max_size)
			return false;

	return true;
}

/* Check and claim a device for attaching, under its lock. */
static int vduse_vdpa_claim(struct vduse_dev *vdev)
{
	lockdep_assert_held(&vdev->lock);

	if (vdev->destroyed)
		return -ENODEV;
	if (vdev->attached)
		return -EEXIST;
	if (vduse_msg_broken(vdev))
		return -EIO;
	if (!vduse_vqs_set_up(vdev))
		return -EINVAL;

	vdev->attached = true;

	return 0;
}

/*
 * The bounce domain for an attachment: the device's, made at its first
 * attachment and kept across detaches, so that a daemon's mappings and
 * VDUSE_IOTLB_GET_FD outlive them as with mainline.  A domain of another
 * size than bounce_size says is replaced: the daemon's mappings of the
 * old one get SIGBUS and memory it registered there is given back.
 * bounce_size cannot change meanwhile: the device is claimed.  Called
 * with no lock held: the old domain's daemon memory is unpinned.
 */
static int vduse_vdpa_domain_get(struct vduse_dev *vdev)
{
	struct vduse_domain *domain, *old = NULL;
	u64 size;

	mutex_lock(&vdev->lock);
	size = vdev->bounce_size;
	domain = vdev->domain;
	if (domain && vduse_domain_bounce_size(domain) != size) {
		old = domain;
		domain = NULL;
		vdev->domain = NULL;
	}
	mutex_unlock(&vdev->lock);
	if (old)
		vduse_domain_destroy(old);
	if (domain)
		return 0;

	domain = vduse_domain_create(size);
	if (IS_ERR(domain))
		return PTR_ERR(domain);
	mutex_lock(&vdev->lock);
	vdev->domain = domain;
	mutex_unlock(&vdev->lock);

	return 0;
}

static int vduse_vdpa_dev_add(struct vdpa_mgmt_dev *mdev, const char *name,
			      const struct vdpa_dev_set_config *config)
{
	struct vduse_vdpa *vv;
	struct vduse_dev *vdev;
	int ret;

	/* MAC, MTU and queue pairs belong to the daemon's configuration. */
	if (config->mask)
		return -EOPNOTSUPP;

	vdev = vduse_dev_get_by_name(name);
	if (!vdev)
		return -ENODEV;

	mutex_lock(&vdev->lock);
	ret = vduse_vdpa_claim(vdev);
	mutex_unlock(&vdev->lock);
	if (ret)
		goto out_put_vdev;

	/*
	 * use_va: vhost-vdpa hands over the VMM's file and offset for each
	 * range, which is what the daemon can mmap; virtio-vdpa ignores it.
	 */
	vv = vdpa_alloc_device(struct vduse_vdpa, vdpa, &vdev->dev,
			       vduse_vdpa_ops_for(vdev), vdev->ngroups, vdev->nas,
			       name, true);
	if (IS_ERR(vv)) {
		ret = PTR_ERR(vv);
		goto out_release;
	}
	/* From here on the vdpa device's release puts vdev. */
	vv->vdev = vdev;
	vduse_cvq_init(vv);

	ret = vduse_vdpa_iotlbs_alloc(vv, vdev->nas);
	if (ret)
		goto out_put_vdpa;

	ret = vduse_vdpa_domain_get(vdev);
	if (ret)
		goto out_put_vdpa;
	vv->domain = vdev->domain;

	vv->vdpa.dma_dev = &vv->vdpa.dev;
	vv->vdpa.dev.dma_mask = &vv->vdpa.dev.coherent_dma_mask;
	set_dma_ops(&vv->vdpa.dev, &vduse_dma_ops);
	ret = dma_set_mask_and_coherent(&vv->vdpa.dev,
					DMA_BIT_MASK(64));
	if (ret)
		goto out_put_vdpa;
	vv->vdpa.mdev = mdev;

	mutex_lock(&vdev->lock);
	vdev->vdpa = vv;
	mutex_unlock(&vdev->lock);

	/* Probing a driver sends requests: no VDUSE lock is held here. */
	ret = _vdpa_register_device(&vv->vdpa, vdev->vq_num);
	if (ret)
		goto out_clear;

	return 0;

out_clear:
	mutex_lock(&vdev->lock);
	vdev->vdpa = NULL;
	mutex_unlock(&vdev->lock);
out_put_vdpa:
	get_device(&vdev->dev);	/* put by the vdpa device's release */
	put_device(&vv->vdpa.dev);
out_release:
	mutex_lock(&vdev->lock);
	vdev->attached = false;
	mutex_unlock(&vdev->lock);
out_put_vdev:
	put_device(&vdev->dev);
	return ret;
}

static void vduse_vdpa_dev_del(struct vdpa_mgmt_dev *mdev,
			       struct vdpa_device *vdpa)
{
	struct vduse_dev *vdev = vdpa_to_vdev(vdpa);

	/*
	 * A driver whose probe failed never reset the device, and its
	 * removal frees what the config callback points to: stop it first.
	 */
	vduse_dev_drop_config_cb(vdev);

	/* Keep both alive until vdev no longer points at the vdpa device. */
	get_device(&vdev->dev);
	get_device(&vdpa->dev);
	_vdpa_unregister_device(vdpa);
	vduse_cvq_stop(vdpa_to_vduse(vdpa));

	mutex_lock(&vdev->lock);
	vdev->vdpa = NULL;
	vdev->attached = false;
	mutex_unlock(&vdev->lock);
	vduse_dev_reset_state(vdev);
	/*
	 * What vhost-vdpa mapped goes with the attachment: the daemon drops
	 * every mapping it made.  Its answer changes nothing.  The bounce
	 * domain stays, with what the daemon mapped of it.
	 */
	vduse_vdpa_announce(vdev, 0, 0, U64_MAX);

	put_device(&vdpa->dev);
	put_device(&vdev->dev);
}

static const struct vdpa_mgmtdev_ops vduse_mgmt_ops = {
	.dev_add	= vduse_vdpa_dev_add,
	.dev_del	= vduse_vdpa_dev_del,
};

static struct virtio_device_id vduse_id_table[] = {
	{ VIRTIO_ID_BLOCK, VIRTIO_DEV_ANY_ID },
	{ VIRTIO_ID_NET, VIRTIO_DEV_ANY_ID },
	{ 0 },
};

static void vduse_mgmt_release(struct device *dev)
{
	kfree(container_of(dev, struct vduse_mgmt, dev));
}

/**
 * vduse_vdpa_init() - register the "vduse" management device
 *
 * Return: 0, or a negative errno.
 */
int vduse_vdpa_init(void)
{
	int ret;

	vduse_vdpa_ops_suspend = vduse_vdpa_ops;
	vduse_vdpa_ops_suspend.suspend = vduse_vdpa_suspend;
	vduse_vdpa_ops_resume = vduse_vdpa_ops_suspend;
	vduse_vdpa_ops_resume.resume = vduse_vdpa_resume;

	vduse_mgmt = kzalloc(sizeof(*vduse_mgmt), GFP_KERNEL);
	if (!vduse_mgmt)
		return -ENOMEM;

	device_initialize(&vduse_mgmt->dev);
	vduse_mgmt->dev.release = vduse_mgmt_release;
	ret = dev_set_name(&vduse_mgmt->dev, "vduse");
	if (ret)
		goto out_put;
	ret = device_add(&vduse_mgmt->dev);
	if (ret)
		goto out_put;

	vduse_mgmt->mgmt.device = &vduse_mgmt->dev;
	vduse_mgmt->mgmt.ops = &vduse_mgmt_ops;
	vduse_mgmt->mgmt.id_table = vduse_id_table;
	vduse_mgmt->mgmt.max_supported_vqs = VDUSE_VQ_MAX;
	ret = vdpa_mgmtdev_register(&vduse_mgmt->mgmt);
	if (ret)
		goto out_del;

	return 0;

out_del:
	device_del(&vduse_mgmt->dev);
out_put:
	put_device(&vduse_mgmt->dev);
	return ret;
}

/**
 * vduse_vdpa_exit() - unregister the management device, detaching every
 * device first
 */
void vduse_vdpa_exit(void)
{
	vdpa_mgmtdev_unregister(&vduse_mgmt->mgmt);
	device_unregister(&vduse_mgmt->dev);
}

/*
 * What the daemon maps for the first range of an address space that
 * overlaps [iova, iova_last]: what vhost-vdpa mapped there (@vmm set),
 * else, in address space 0, the bounce domain's.  The domain outlives
 * attachments; vhost-vdpa's ranges do not.  Under vdev->lock.
 */
static struct file *vduse_vdpa_lookup(struct vduse_dev *vdev, u32 asid,
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
static struct file *vduse_vdpa_narrow(struct file *file, u8 perm)
{
	struct file *ro;

	if (perm != VDUSE_ACCESS_RO || !(file->f_mode & FMODE_WRITE))
		return file;

	ro = dentry_open(&file->f_path, O_RDONLY | O_LARGEFILE, file->f_cred);
	fput(file);

	return ro;
}

/**
 * vduse_vdpa_iotlb_get_fd() - VDUSE_IOTLB_GET_FD and VDUSE_IOTLB_GET_FD2
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
long vduse_vdpa_iotlb_get_fd(struct vduse_dev *vdev, void __user *argp,
			     bool v2)
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
	file = vduse_vdpa_lookup(vdev, entry.asid, entry.start, entry.last,
				 &start, &last, &offset, &perm, &vmm);
	mutex_unlock(&vdev->lock);
	if (!file)
		return -EINVAL;
	if (vmm) {
		file = vduse_vdpa_narrow(file, perm);
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

/**
 * vduse_vdpa_umem() - VDUSE_IOTLB_REG_UMEM and VDUSE_IOTLB_DEREG_UMEM
 * @vdev: the device
 * @argp: the daemon's struct vduse_iova_umem
 * @reg: register, rather than deregister
 *
 * The memory goes behind the bounce range of the device's bounce domain,
 * which lives from the first attachment on; the range is exact: IOVA 0
 * and the bounce range's size.  Everything is checked before anything
 * is allocated or pinned.  Pages are pinned without vduse_dev.lock,
 * since pinning takes the mmap lock, which vhost-vdpa holds around
 * dma_map; the checks are made again once it is taken.
 *
 * Return: 0; -EFAULT; -EINVAL for a reserved field, an address space
 * other than 0, an IOVA other than 0, a size other than the bounce
 * range's, a misaligned address or, deregistering, arguments that are not
 * what was registered; -ENODEV before the first attachment; -EEXIST
 * when memory is registered already; -ENOMEM past RLIMIT_MEMLOCK or out
 * of memory; -EINTR when killed meanwhile.
 */
long vduse_vdpa_umem(struct vduse_dev *vdev, void __user *argp, bool reg)
{
	struct vduse_umem *umem = NULL;
	struct vduse_iova_umem arg;
	long ret;

	if (copy_from_user(&arg, argp, sizeof(arg)))
		return -EFAULT;
	if (memchr_inv(arg.reserved, 0, sizeof(arg.reserved)) || arg.asid ||
	    arg.iova)
		return -EINVAL;

	if (reg) {
		if (!PAGE_ALIGNED(arg.uaddr))
			return -EINVAL;
		mutex_lock(&vdev->lock);
		ret = vdev->domain ?
		      vduse_domain_umem_check(vdev->domain, arg.size) : -ENODEV;
		mutex_unlock(&vdev->lock);
		if (ret)
			return ret;
		umem = vduse_umem_pin(arg.uaddr, arg.size);
		if (IS_ERR(umem))
			return PTR_ERR(umem);
	}

	mutex_lock(&vdev->lock);
	if (!vdev->domain) {
		ret = -ENODEV;
	} else if (reg) {
		ret = vduse_domain_set_umem(vdev->domain, umem);
		if (!ret)
			umem = NULL;
	} else {
		umem = vduse_domain_clear_umem(vdev->domain, arg.uaddr,
					       arg.size);
		ret = PTR_ERR_OR_ZERO(umem);
		if (ret)
			umem = NULL;
	}
	mutex_unlock(&vdev->lock);

	if (umem)
		vduse_umem_unpin(umem);

	return ret;
}

/**
 * vduse_vdpa_umem_drop() - the daemon goes: its memory leaves the domain
 * @vdev: the device
 *
 * Must be called without vduse_dev.lock held.
 */
void vduse_vdpa_umem_drop(struct vduse_dev *vdev)
{
	struct vduse_umem *umem = NULL;

	mutex_lock(&vdev->lock);
	if (vdev->domain)
		umem = vduse_domain_drop_umem(vdev->domain);
	mutex_unlock(&vdev->lock);

	if (umem)
		vduse_umem_unpin(umem);
}

/**
 * vduse_vdpa_iova_info() - VDUSE_IOTLB_GET_INFO
 * @vdev: the device
 * @argp: the daemon's struct vduse_iova_info
 *
 * Describes the first of the bounce domain's ranges that overlaps
 * [start, last]: the bounce range, which daemon memory can back
 * (VDUSE_IOVA_CAP_UMEM), or a coherent allocation.
 *
 * Return: 0; -EFAULT; -EINVAL for a reserved field, an address space
 * other than 0, start above last, or nothing in [start, last]; -ENODEV
 * before the first attachment.
 */
long vduse_vdpa_iova_info(struct vduse_dev *vdev, void __user *argp)
{
	struct vduse_iova_info info;
	bool umem;
	long ret;

	if (copy_from_user(&info, argp, sizeof(info)))
		return -EFAULT;
	if (memchr_inv(info.reserved, 0, sizeof(info.reserved)) || info.asid ||
	    info.start > info.last)
		return -EINVAL;

	mutex_lock(&vdev->lock);
	if (vdev->domain)
		ret = vduse_domain_iova_info(vdev->domain, info.start,
					     info.last, &info.start,
					     &info.last, &umem);
	else
		ret = -ENODEV;
	mutex_unlock(&vdev->lock);
	if (ret)
		return ret;

	info.capability = umem ? VDUSE_IOVA_CAP_UMEM : 0;

	return copy_to_user(argp, &info, sizeof(info)) ? -EFAULT : 0;
}
