// SPDX-License-Identifier: GPL-2.0-only
/*
 * VDUSE: vDPA Device in Userspace - the vdpa_config_ops: the driver's
 * control path, relayed to the daemon.
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
 * them offer, through their own ops table.
 *
 * Locking (see "DOC: Locking" in vduse.h): cf_lock is held around
 * set_status and reset; vduse_dev.lock is taken inside it, and never
 * across a request to the daemon.
 */

#include <linux/nospec.h>
#include <linux/vdpa.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <linux/vhost_types.h>
#include <net/netlink.h>
#include <uapi/linux/vdpa.h>

#include "vduse.h"
#include "trace.h"

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
	vduse_orphan_kicked(vdpa_to_vduse(vdpa));
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
	WRITE_ONCE(vq->ready, ready);
	mutex_unlock(&vdev->lock);
	/* Nothing changes: nothing to tell (a disable after reset). */
	if (was == ready)
		return;
	vduse_vq_enable_cb(vq, ready);

	if (!vduse_msg_send(vdev, &req, NULL))
		return;

	mutex_lock(&vdev->lock);
	WRITE_ONCE(vdev->needs_reset, true);
	WRITE_ONCE(vq->ready, false);
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
	WRITE_ONCE(vq->ready, ready);
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
	bool blk = vdpa_to_vdev(vdpa)->device_id == VIRTIO_ID_BLOCK;

	/* virtio_vdpa spreads queues over CPUs; no mask means all of them. */
	return vduse_vq_set_driver_affinity(vduse_vdpa_vq(vdpa, idx),
					    cpu_mask ?: cpu_possible_mask, !blk);
}

static const struct cpumask *
vduse_vdpa_get_vq_affinity(struct vdpa_device *vdpa, u16 idx)
{
	return vduse_vdpa_vq(vdpa, idx)->drv_affinity;
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
void vduse_vdpa_drop_config_cb(struct vduse_dev *vdev)
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

	vduse_vdpa_drop_config_cb(vdev);
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
	/* The watchdog looks at the control queue from now on. */
	if (early && READ_ONCE(vdev->cvq_index) != U32_MAX)
		vduse_cvq_kicked(vdpa_to_vduse(vdpa));
}

static int vduse_vdpa_reset(struct vdpa_device *vdpa)
{
	struct vduse_dev *vdev = vdpa_to_vdev(vdpa);
	int ret;

	ret = vduse_vdpa_relay_status(vdev, READ_ONCE(vdev->status), 0);

	/* Whatever the daemon said, the kernel side starts over. */
	WRITE_ONCE(vdpa_to_vduse(vdpa)->bounce_used, false);
	vduse_cvq_stop(vdpa_to_vduse(vdpa));
	vduse_orphan_stop(vdpa_to_vduse(vdpa));
	vduse_vdpa_reset_state(vdev);

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

/**
 * vduse_vdpa_reset_state() - forget everything a driver set up
 * @vdev: the device, reset or detached
 *
 * Afterwards no callback of the driver runs: it may be gone.
 */
void vduse_vdpa_reset_state(struct vduse_dev *vdev)
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

	vduse_vdpa_drop_config_cb(vdev);
}

static void vduse_vdpa_free(struct vdpa_device *vdpa)
{
	struct vduse_vdpa *vv = vdpa_to_vduse(vdpa);

	/*
	 * vdev is NULL when dev_add failed before setting it.  The bounce
	 * domain is vdev's: it stays.
	 */
	vduse_fs_reply_free(vv);
	if (vv->vdev) {
		vduse_iotlbs_free(vv, vv->vdev->nas);
		put_device(&vv->vdev->dev);
	}
}

/*
 * vhost-vdpa offers a VMM suspend and resume when the ops have them, so
 * there is one table per choice a daemon can make.
 */
#define VDUSE_VDPA_OPS_COMMON						\
	.set_vq_address		= vduse_vdpa_set_vq_address,		\
	.set_vq_num		= vduse_vdpa_set_vq_num,		\
	.kick_vq		= vduse_vdpa_kick_vq,			\
	.set_vq_cb		= vduse_vdpa_set_vq_cb,			\
	.set_vq_ready		= vduse_vdpa_set_vq_ready,		\
	.get_vq_ready		= vduse_vdpa_get_vq_ready,		\
	.set_vq_state		= vduse_vdpa_set_vq_state,		\
	.get_vq_state		= vduse_vdpa_get_vq_state,		\
	.get_vendor_vq_stats	= vduse_vdpa_get_vendor_vq_stats,	\
	.get_vq_size		= vduse_vdpa_get_vq_size,		\
	.get_vq_align		= vduse_vdpa_get_vq_align,		\
	.get_vq_group		= vduse_vdpa_get_vq_group,		\
	.get_device_features	= vduse_vdpa_get_device_features,	\
	.set_driver_features	= vduse_vdpa_set_driver_features,	\
	.get_driver_features	= vduse_vdpa_get_driver_features,	\
	.set_config_cb		= vduse_vdpa_set_config_cb,		\
	.get_vq_num_max		= vduse_vdpa_get_vq_num_max,		\
	.get_device_id		= vduse_vdpa_get_device_id,		\
	.get_vendor_id		= vduse_vdpa_get_vendor_id,		\
	.get_status		= vduse_vdpa_get_status,		\
	.set_status		= vduse_vdpa_set_status,		\
	.reset			= vduse_vdpa_reset,			\
	.get_config_size	= vduse_vdpa_get_config_size,		\
	.get_config		= vduse_vdpa_get_config,		\
	.set_config		= vduse_vdpa_set_config,		\
	.get_generation		= vduse_vdpa_get_generation,		\
	.get_iova_range		= vduse_vdpa_get_iova_range,		\
	.set_group_asid		= vduse_vdpa_set_group_asid,		\
	.set_vq_affinity	= vduse_vdpa_set_vq_affinity,		\
	.get_vq_affinity	= vduse_vdpa_get_vq_affinity,		\
	.get_backend_features	= vduse_vdpa_get_backend_features,	\
	.dma_map		= vduse_iotlb_dma_map,			\
	.dma_unmap		= vduse_iotlb_dma_unmap,		\
	.free			= vduse_vdpa_free,

static const struct vdpa_config_ops vduse_vdpa_ops = {
	VDUSE_VDPA_OPS_COMMON
};

/* VDUSE_F_SUSPEND */
static const struct vdpa_config_ops vduse_vdpa_ops_suspend = {
	VDUSE_VDPA_OPS_COMMON
	.suspend		= vduse_vdpa_suspend,
};

/* VDUSE_F_SUSPEND and VDUSE_F_RESUME */
static const struct vdpa_config_ops vduse_vdpa_ops_resume = {
	VDUSE_VDPA_OPS_COMMON
	.suspend		= vduse_vdpa_suspend,
	.resume			= vduse_vdpa_resume,
};

const struct vdpa_config_ops *vduse_vdpa_ops_for(struct vduse_dev *vdev)
{
	if (vdev->features & BIT_ULL(VDUSE_F_RESUME))
		return &vduse_vdpa_ops_resume;
	if (vdev->features & BIT_ULL(VDUSE_F_SUSPEND))
		return &vduse_vdpa_ops_suspend;

	return &vduse_vdpa_ops;
}
