// SPDX-License-Identifier: GPL-2.0-only
/*
 * VDUSE: vDPA Device in Userspace - virtqueues, as the daemon sets them
 * up and reads them back.
 *
 * Locking (see "DOC: Locking" in vduse.h): a virtqueue's setup and state
 * are protected by its device's vduse_dev.lock; the kick eventfd by the
 * queue's kick_lock, a spinlock taken with interrupts off because kicks
 * come from any context; the driver's callback by its irq_lock, taken
 * with softirqs off in process context only.
 */

#include <linux/eventfd.h>
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/topology.h>
#include <linux/uaccess.h>
#include <linux/virtio_config.h>

#include "iova_domain.h"
#include "vduse.h"
#include "trace.h"

/* The virtio specification's largest queue size. */
#define VDUSE_VQ_SIZE_MAX	32768

static void vduse_vq_kick_work(struct work_struct *work);
static void vduse_vq_irq_work(struct work_struct *work);

/**
 * vduse_vqs_alloc() - allocate a device's virtqueues
 * @vdev: the device, with vq_num set
 *
 * Return: 0 on success, -ENOMEM.
 */
int vduse_vqs_alloc(struct vduse_dev *vdev)
{
	u32 i;

	vdev->vqs = kcalloc(vdev->vq_num, sizeof(*vdev->vqs), GFP_KERNEL);
	if (!vdev->vqs)
		return -ENOMEM;

	for (i = 0; i < vdev->vq_num; i++) {
		struct vduse_vq *vq = &vdev->vqs[i];

		vq->index = i;
		spin_lock_init(&vq->kick_lock);
		INIT_WORK(&vq->kick_work, vduse_vq_kick_work);
		INIT_WORK(&vq->irq_work, vduse_vq_irq_work);
		spin_lock_init(&vq->irq_lock);
		if (!alloc_cpumask_var(&vq->irq_affinity, GFP_KERNEL))
			goto out_free;
		if (!alloc_cpumask_var(&vq->drv_affinity, GFP_KERNEL)) {
			free_cpumask_var(vq->irq_affinity);
			goto out_free;
		}
		cpumask_copy(vq->irq_affinity, cpu_possible_mask);
		cpumask_copy(vq->drv_affinity, cpu_possible_mask);
	}

	return 0;

out_free:
	/*
	 * Queues from i on were never initialised: vduse_vqs_free() must
	 * find none, rather than cancel works and take locks of those.
	 */
	while (i--) {
		free_cpumask_var(vdev->vqs[i].irq_affinity);
		free_cpumask_var(vdev->vqs[i].drv_affinity);
	}
	kfree(vdev->vqs);
	vdev->vqs = NULL;
	return -ENOMEM;
}

/**
 * vduse_vqs_free() - free a device's virtqueues
 * @vdev: the device, being released
 */
void vduse_vqs_free(struct vduse_dev *vdev)
{
	u32 i;

	if (vdev->vqs) {
		for (i = 0; i < vdev->vq_num; i++) {
			cancel_work_sync(&vdev->vqs[i].kick_work);
			cancel_work_sync(&vdev->vqs[i].irq_work);
			free_cpumask_var(vdev->vqs[i].irq_affinity);
			free_cpumask_var(vdev->vqs[i].drv_affinity);
		}
		vduse_vqs_drop_kickfds(vdev);
	}
	kfree(vdev->vqs);
}

static struct vduse_vq *vduse_vq_get(struct vduse_dev *vdev, u32 index)
{
	if (index >= vdev->vq_num)
		return NULL;

	return &vdev->vqs[array_index_nospec(index, vdev->vq_num)];
}

static bool vduse_vq_config_valid(struct vduse_dev *vdev,
				  const struct vduse_vq_config *cfg)
{
	unsigned int i;

	if (cfg->index >= vdev->vq_num)
		return false;
	if (!cfg->max_size || cfg->max_size > VDUSE_VQ_SIZE_MAX)
		return false;
	if (cfg->reserved1)
		return false;
	for (i = 0; i < ARRAY_SIZE(cfg->reserved2); i++)
		if (cfg->reserved2[i])
			return false;
	/* ngroups is 1 in API version 0, so only group 0 passes there. */
	return cfg->group < vdev->ngroups;
}

/**
 * vduse_vq_setup() - VDUSE_VQ_SETUP
 * @vdev: the device
 * @argp: the daemon's struct vduse_vq_config
 *
 * While the device is attached to the vdpa bus the queue's setup is the
 * driver's to rely on: only a call that changes nothing succeeds, which is
 * what a restarted daemon does when it takes a running device over.
 *
 * Return: 0, -EFAULT, -EINVAL for a bad configuration, or -EBUSY for a
 * change while the device is attached.
 */
long vduse_vq_setup(struct vduse_dev *vdev, void __user *argp)
{
	struct vduse_vq_config cfg;
	struct vduse_vq *vq;
	long ret = 0;

	if (copy_from_user(&cfg, argp, sizeof(cfg)))
		return -EFAULT;
	if (!vduse_vq_config_valid(vdev, &cfg))
		return -EINVAL;

	mutex_lock(&vdev->lock);
	vq = vduse_vq_get(vdev, cfg.index);
	if (vdev->attached) {
		if (vq->max_size != cfg.max_size || vq->group != cfg.group)
			ret = -EBUSY;
		goto out_unlock;
	}
	vq->max_size = cfg.max_size;
	vq->group = cfg.group;
out_unlock:
	mutex_unlock(&vdev->lock);
	return ret;
}

/**
 * vduse_vq_get_info() - VDUSE_VQ_GET_INFO
 * @vdev: the device
 * @argp: the daemon's struct vduse_vq_info, index filled in
 *
 * With VDUSE_VQ_INFO_F_QUERY, also what a daemon taking over needs: the
 * group's address space and whether the device is suspended.  A resume
 * under way counts as suspended: the daemon still has VDUSE_RESUME to
 * answer.
 *
 * Return: 0, -EFAULT, or -EINVAL for an index past vq_num.
 */
long vduse_vq_get_info(struct vduse_dev *vdev, void __user *argp)
{
	struct vduse_vq_info info;
	struct vduse_vq *vq;
	bool query;
	u32 index;

	if (copy_from_user(&info, argp, sizeof(info)))
		return -EFAULT;
	index = info.index;
	/* Mainline daemons leave the tail padding uninitialised. */
	query = info.flags & VDUSE_VQ_INFO_F_QUERY;

	mutex_lock(&vdev->lock);
	vq = vduse_vq_get(vdev, index);
	if (!vq) {
		mutex_unlock(&vdev->lock);
		return -EINVAL;
	}
	memset(&info, 0, sizeof(info));
	if (query) {
		info.flags = VDUSE_VQ_INFO_F_QUERY | VDUSE_VQ_INFO_F_FILLED;
		if (vdev->run_state == VDUSE_SUSPENDED ||
		    vdev->run_state == VDUSE_RESUMING)
			info.flags |= VDUSE_VQ_INFO_F_SUSPENDED;
		info.asid = vdev->group_asid[vq->group];
	}
	info.index = index;
	info.num = vq->num;
	info.desc_addr = vq->desc_addr;
	info.driver_addr = vq->driver_addr;
	info.device_addr = vq->device_addr;
	info.packed = vq->state;
	info.ready = vq->ready;
	mutex_unlock(&vdev->lock);

	return copy_to_user(argp, &info, sizeof(info)) ? -EFAULT : 0;
}

static void vduse_vq_kick_now(struct vduse_vq *vq)
{
	unsigned long flags;

	/* As in mainline, a queue that is not ready is not kicked. */
	if (!READ_ONCE(vq->ready))
		return;

	spin_lock_irqsave(&vq->kick_lock, flags);
	if (vq->kickfd && !vq->kicks_held) {
		eventfd_signal(vq->kickfd);
		vq->stat_kicks++;
	} else {
		vq->kicked = true;
		vq->stat_kicks_held++;
	}
	spin_unlock_irqrestore(&vq->kick_lock, flags);
}

static void vduse_vq_kick_work(struct work_struct *work)
{
	vduse_vq_kick_now(container_of(work, struct vduse_vq, kick_work));
}

/**
 * vduse_vq_kick() - the driver made buffers available
 * @vq: the virtqueue
 *
 * Signals the daemon's eventfd, or remembers the kick until there is one
 * and the device is not suspended; drops it when the queue is not ready.
 * May be called in atomic context.  A
 * kick from inside another eventfd's wakeup (vhost-vdpa relays the VMM's
 * kick eventfd that way) may not signal one: it goes through a work item.
 */
void vduse_vq_kick(struct vduse_vq *vq)
{
	if (eventfd_signal_allowed())
		vduse_vq_kick_now(vq);
	else
		schedule_work(&vq->kick_work);
}

/* Replace a queue's kick eventfd; returns the old one to put. */
static struct eventfd_ctx *vduse_vq_swap_kickfd(struct vduse_vq *vq,
						struct eventfd_ctx *ctx)
{
	struct eventfd_ctx *old;
	unsigned long flags;

	spin_lock_irqsave(&vq->kick_lock, flags);
	old = vq->kickfd;
	vq->kickfd = ctx;
	if (ctx && vq->kicked && !vq->kicks_held) {
		eventfd_signal(ctx);
		vq->kicked = false;
		vq->stat_kicks++;
	}
	spin_unlock_irqrestore(&vq->kick_lock, flags);

	return old;
}

/**
 * vduse_vqs_drop_kickfds() - forget every kick eventfd
 * @vdev: the device whose daemon went away
 *
 * Kicks are latched from then on, for the next daemon.
 */
void vduse_vqs_drop_kickfds(struct vduse_dev *vdev)
{
	struct eventfd_ctx *old;
	u32 i;

	for (i = 0; i < vdev->vq_num; i++) {
		old = vduse_vq_swap_kickfd(&vdev->vqs[i], NULL);
		if (old)
			eventfd_ctx_put(old);
	}
}

/**
 * vduse_vqs_hold_kicks() - hold kicks while suspended, or deliver them
 * @vdev: the device
 * @hold: true from suspend on; false on resume and reset
 *
 * A kick that comes while kicks are held is remembered and, once they
 * no longer are, signalled to the daemon's eventfd: none is lost and
 * none wakes a suspended daemon.
 */
void vduse_vqs_hold_kicks(struct vduse_dev *vdev, bool hold)
{
	unsigned long flags;
	u32 i;

	for (i = 0; i < vdev->vq_num; i++) {
		struct vduse_vq *vq = &vdev->vqs[i];

		spin_lock_irqsave(&vq->kick_lock, flags);
		vq->kicks_held = hold;
		if (!hold && vq->kicked && vq->kickfd) {
			eventfd_signal(vq->kickfd);
			vq->kicked = false;
			vq->stat_kicks++;
		}
		spin_unlock_irqrestore(&vq->kick_lock, flags);
	}
}

/**
 * vduse_vq_setup_kickfd() - VDUSE_VQ_SETUP_KICKFD
 * @vdev: the device
 * @argp: the daemon's struct vduse_vq_eventfd
 *
 * Return: 0, -EFAULT, -EINVAL for a bad index or an fd that is not an
 * eventfd, -EBADF for a closed fd.
 */
long vduse_vq_setup_kickfd(struct vduse_dev *vdev, void __user *argp)
{
	struct eventfd_ctx *ctx = NULL, *old;
	struct vduse_vq_eventfd ev;
	struct vduse_vq *vq;

	if (copy_from_user(&ev, argp, sizeof(ev)))
		return -EFAULT;
	vq = vduse_vq_get(vdev, ev.index);
	if (!vq)
		return -EINVAL;

	if (ev.fd != VDUSE_EVENTFD_DEASSIGN) {
		if (ev.fd < 0)
			return -EBADF;
		ctx = eventfd_ctx_fdget(ev.fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
	}

	old = vduse_vq_swap_kickfd(vq, ctx);
	if (old)
		eventfd_ctx_put(old);

	return 0;
}

/**
 * vduse_vq_inject_irq() - VDUSE_VQ_INJECT_IRQ
 * @vdev: the device
 * @argp: the daemon's __u32 virtqueue index
 *
 * Tells the driver, as vduse_vq_signal() says.
 *
 * Return: 0, -EFAULT, -EINVAL for a bad index or before DRIVER_OK,
 * -EBUSY while the device is suspended.
 */
long vduse_vq_inject_irq(struct vduse_dev *vdev, void __user *argp)
{
	struct vduse_vq *vq;
	u32 index;

	if (get_user(index, (u32 __user *)argp))
		return -EFAULT;
	vq = vduse_vq_get(vdev, index);
	if (!vq)
		return -EINVAL;
	if (!(READ_ONCE(vdev->status) & VIRTIO_CONFIG_S_DRIVER_OK))
		return -EINVAL;
	/* A suspended device has said it completes nothing more. */
	if (READ_ONCE(vdev->run_state) == VDUSE_SUSPENDED)
		return -EBUSY;

	vduse_vq_signal(vdev, vq);

	return 0;
}

/*
 * Where the driver's callback runs.  The daemon's thread has the used
 * ring's lines in its cache and is already in the kernel: running the
 * callback there costs the callback alone.  Running it anywhere else
 * costs a cross-CPU wakeup (an IPI, and a kworker switched in: a few
 * microseconds on x86) plus the used ring's and the buffers' cache lines
 * moving over, but leaves the daemon free to serve meanwhile.  So the
 * callback runs in place when this CPU is in the queue's affinity, and
 * otherwise is handed to one CPU of it.
 *
 * The affinity is the driver's (virtio_vdpa's spread as for MSI-X
 * vectors; virtio_net sets its own at probe, on a change of queue count
 * and on CPU hotplug), because where the callback runs is where the
 * driver's work lands: virtio_net's NAPI poll, the receive path with it.
 * A block device is the exception: its queues start with every CPU and
 * keep the driver's spread for blk-mq's map only.  blk-mq itself sends
 * each completion to the CPU that submitted it when the callback's CPU
 * does not share that one's cache (rq_affinity, on by default), and
 * otherwise completes it where the callback ran; a hop to the queue's
 * CPU first would only add a wakeup.  What this trades: a daemon thread
 * serving many block queues pays for their completions, copies of read
 * data out of bounce pages included, instead of a wakeup per batch.
 * Writing a queue's blk-mq CPUs (/sys/block/vdX/mq/N/cpu_list) into its
 * vqN/irq_cb_affinity moves them back; on a block device that mask
 * stays until the device is destroyed, while on others the driver
 * replaces it whenever it sets its own.
 *
 * A queue with an eventfd (vhost-vdpa's irqfd) has it signalled in
 * place: its wakeup goes to wherever the waiter is, and a hop first would
 * be a second wakeup for the same interrupt.
 */

/*
 * Tell the driver, under irq_lock, through its callback.  Returns whether
 * a callback ran that is not just an eventfd's signal.
 *
 * When the driver gave an eventfd (vhost-vdpa's irqfd) its callback only
 * signals it, and it is counted as such.  The eventfd itself is never
 * signalled from here: 6.12's vhost drops its reference to the old one
 * before it hands over the new one (VHOST_SET_VRING_CALL), so a pointer
 * kept here could outlive it, while vhost's callback reads the current one.
 */
static bool vduse_vq_notify(struct vduse_vq *vq)
{
	lockdep_assert_held(&vq->irq_lock);

	if (!vq->cb_enabled || !vq->cb.callback)
		return false;
	vq->cb.callback(vq->cb.private);
	if (vq->cb.trigger) {
		vq->stat_irqfd++;
		return false;
	}
	return true;
}

/*
 * A run handed over by vduse_vq_signal(), on a CPU of the affinity.  Like
 * the local one: softirqs off, so that those the callback raises (NAPI,
 * block completions) run as it returns; interrupts on.
 */
static void vduse_vq_irq_work(struct work_struct *work)
{
	struct vduse_vq *vq = container_of(work, struct vduse_vq, irq_work);

	spin_lock_bh(&vq->irq_lock);
	if (vduse_vq_notify(vq))
		vq->stat_cb_remote++;
	spin_unlock_bh(&vq->irq_lock);
}

/*
 * The online CPU of the affinity a run injected on @cpu goes to: the
 * first after @cpu (wrapping), in @cpu's NUMA node if one is there, so
 * that the queues of many devices do not all land on the mask's first
 * CPU; nr_cpu_ids if none is online.  Under irq_lock.
 */
static unsigned int vduse_vq_irq_cpu(struct vduse_vq *vq, unsigned int cpu)
{
	int nid = cpu_to_node(cpu);
	unsigned int c, far = nr_cpu_ids;

	lockdep_assert_held(&vq->irq_lock);

	for_each_cpu_wrap(c, vq->irq_affinity, cpu) {
		if (!cpu_online(c))
			continue;
		if (nid == NUMA_NO_NODE || cpu_to_node(c) == nid)
			return c;
		if (far == nr_cpu_ids)
			far = c;
	}

	return far;
}

/**
 * vduse_vq_signal() - tell the driver a queue has used buffers
 * @vdev: the device
 * @vq: one of its virtqueues
 *
 * Signals the driver's eventfd when it gave one (vhost-vdpa), from here.
 * Otherwise runs its callback here when this CPU is in the queue's
 * affinity, else queues it on a CPU that is and returns without waiting;
 * injections while that work is pending are covered by its one run.  The
 * callback runs with softirqs off and interrupts on, for as long as the
 * driver's batch takes.  Does nothing unless the driver is running
 * and the queue ready.  Process context.
 */
void vduse_vq_signal(struct vduse_dev *vdev, struct vduse_vq *vq)
{
	unsigned int cpu, target;

	if (!(READ_ONCE(vdev->status) & VIRTIO_CONFIG_S_DRIVER_OK))
		return;

	spin_lock_bh(&vq->irq_lock);
	cpu = smp_processor_id();
	target = cpu;
	if (!vq->cb.trigger && !cpumask_test_cpu(cpu, vq->irq_affinity))
		target = vduse_vq_irq_cpu(vq, cpu);
	if (target == nr_cpu_ids)
		target = cpu;
	vq->stat_irqs++;
	trace_vduse_vq_inject(vdev, vq->index, target);
	if (target == cpu && vduse_vq_notify(vq))
		vq->stat_cb_local++;
	spin_unlock_bh(&vq->irq_lock);

	if (target != cpu)
		queue_work_on(target, system_highpri_wq, &vq->irq_work);
}

const char * const vduse_vq_stat_names[VDUSE_VQ_STATS] = {
	[VDUSE_VQ_STAT_KICKS] = "kicks",
	[VDUSE_VQ_STAT_KICKS_HELD] = "kicks_held",
	[VDUSE_VQ_STAT_IRQS] = "irqs_injected",
	[VDUSE_VQ_STAT_CB_LOCAL] = "callbacks_local",
	[VDUSE_VQ_STAT_CB_REMOTE] = "callbacks_remote",
	[VDUSE_VQ_STAT_IRQFD] = "irqfd_signals",
};

/**
 * vduse_vq_stats_get() - a snapshot of a queue's counters
 * @vq: the virtqueue
 * @st: where to put them, by &enum vduse_vq_stat
 *
 * Takes the queue's spinlocks: process context.
 */
void vduse_vq_stats_get(struct vduse_vq *vq, u64 st[VDUSE_VQ_STATS])
{
	unsigned long flags;

	spin_lock_irqsave(&vq->kick_lock, flags);
	st[VDUSE_VQ_STAT_KICKS] = vq->stat_kicks;
	st[VDUSE_VQ_STAT_KICKS_HELD] = vq->stat_kicks_held;
	spin_unlock_irqrestore(&vq->kick_lock, flags);

	spin_lock_bh(&vq->irq_lock);
	st[VDUSE_VQ_STAT_IRQS] = vq->stat_irqs;
	st[VDUSE_VQ_STAT_CB_LOCAL] = vq->stat_cb_local;
	st[VDUSE_VQ_STAT_CB_REMOTE] = vq->stat_cb_remote;
	st[VDUSE_VQ_STAT_IRQFD] = vq->stat_irqfd;
	spin_unlock_bh(&vq->irq_lock);
}

/* Copy @mask into the driver's mask, the callback's, or both. */
static int vduse_vq_copy_affinity(struct vduse_vq *vq,
				  const struct cpumask *mask, bool drv, bool cb)
{
	if (cpumask_empty(mask) || !cpumask_subset(mask, cpu_possible_mask))
		return -EINVAL;

	spin_lock_bh(&vq->irq_lock);
	if (drv)
		cpumask_copy(vq->drv_affinity, mask);
	if (cb)
		cpumask_copy(vq->irq_affinity, mask);
	spin_unlock_bh(&vq->irq_lock);

	return 0;
}

/**
 * vduse_vq_set_affinity() - choose the CPUs a queue's callback runs on
 * @vq: the virtqueue
 * @mask: CPUs; must name at least one possible CPU, and no other
 *
 * The operator's choice (sysfs vqN/irq_cb_affinity), for every device.
 *
 * Return: 0, or -EINVAL for an empty mask or one naming CPUs that
 * cannot exist.
 */
int vduse_vq_set_affinity(struct vduse_vq *vq, const struct cpumask *mask)
{
	return vduse_vq_copy_affinity(vq, mask, false, true);
}

/**
 * vduse_vq_set_driver_affinity() - the CPUs the driver spreads a queue over
 * @vq: the virtqueue
 * @mask: CPUs; must name at least one possible CPU, and no other
 * @run_cb: the callback runs on them too (every device but a block
 *	device: see the comment above vduse_vq_notify())
 *
 * Return: 0, or -EINVAL for an empty mask or one naming CPUs that
 * cannot exist.
 */
int vduse_vq_set_driver_affinity(struct vduse_vq *vq,
				 const struct cpumask *mask, bool run_cb)
{
	return vduse_vq_copy_affinity(vq, mask, true, run_cb);
}

/**
 * vduse_vq_enable_cb() - let the driver's callback run, or stop it
 * @vq: the virtqueue
 * @enable: whether the queue is ready
 *
 * Once this returns with @enable false, no injected interrupt reaches
 * the callback: the driver may free what it points to.
 */
void vduse_vq_enable_cb(struct vduse_vq *vq, bool enable)
{
	spin_lock_bh(&vq->irq_lock);
	vq->cb_enabled = enable;
	spin_unlock_bh(&vq->irq_lock);
}

/**
 * vduse_vq_set_cb() - the driver's used-buffer callback, or none
 * @vq: the virtqueue
 * @cb: the callback and its eventfd (vdpa_callback.trigger); NULL for none
 *
 * The eventfd is only tested for being set, never used: see
 * vduse_vq_notify().  Once this returns, the old callback is not called
 * again.  Process context.
 */
void vduse_vq_set_cb(struct vduse_vq *vq, const struct vdpa_callback *cb)
{
	static const struct vdpa_callback none;

	spin_lock_bh(&vq->irq_lock);
	vq->cb = cb ? *cb : none;
	spin_unlock_bh(&vq->irq_lock);
}

/**
 * vduse_vqs_reset() - forget what the driver set up
 * @vdev: the device being reset
 */
void vduse_vqs_reset(struct vduse_dev *vdev)
{
	struct eventfd_ctx *old;
	u32 i;

	lockdep_assert_held(&vdev->lock);

	for (i = 0; i < vdev->vq_num; i++) {
		struct vduse_vq *vq = &vdev->vqs[i];

		vq->num = 0;
		vq->num_refused = false;
		vq->desc_addr = 0;
		vq->driver_addr = 0;
		vq->device_addr = 0;
		memset(&vq->state, 0, sizeof(vq->state));
		WRITE_ONCE(vq->ready, false);

		vduse_vq_enable_cb(vq, false);
		vduse_vq_set_cb(vq, NULL);

		/*
		 * As in mainline, the eventfd goes with the driver's session:
		 * the daemon sets one after the next DRIVER_OK.  A kick
		 * remembered across the reset belongs to the old driver.
		 */
		spin_lock_irq(&vq->kick_lock);
		old = vq->kickfd;
		vq->kickfd = NULL;
		vq->kicked = false;
		vq->kicks_held = false;
		spin_unlock_irq(&vq->kick_lock);
		if (old)
			eventfd_ctx_put(old);
	}
}
