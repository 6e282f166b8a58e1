/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * VDUSE: vDPA Device in Userspace - internal interfaces.
 */
#ifndef _VDUSE_VDUSE_H
#define _VDUSE_VDUSE_H

#include <linux/bits.h>
#include <linux/build_bug.h>
#include <linux/cdev.h>
#include <linux/cpumask.h>
#include <linux/device.h>
#include <linux/kdev_t.h>
#include <linux/mutex.h>
#include <linux/nospec.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/vdpa.h>
#include <linux/vduse.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

/**
 * DOC: Layout
 *
 * One job per file.  Calls between files go down this list, never up, so
 * a file can be read knowing only those below it (main.c also owns the
 * class and the minors the nodes use):
 *
 * - main.c: module init and exit, the "vduse" class, the minor numbers
 * - ctrl.c: /dev/vduse/control: creating and destroying devices
 * - mgmt.c: the "vduse" vdpa management device: attach (dev_add) and
 *   detach (dev_del)
 * - vdpa.c: the vdpa_config_ops: the driver's control path, relayed to
 *   the daemon
 * - dev.c: the device object and its node /dev/vduse/$NAME, the
 *   daemon's ioctls
 * - sysfs.c: the device's and its queues' sysfs attributes
 * - iotlb.c: vhost-vdpa's IOTLBs (dma_map, dma_unmap), VDUSE_IOTLB_GET_FD
 * - umem.c: daemon memory behind the bounce range, VDUSE_IOTLB_GET_INFO
 * - orphan.c: answering the virtio-fs and virtio-blk requests a departed
 *   daemon left in flight
 * - cvq.c: the virtio-net control virtqueue watchdog
 * - ring.c: the kernel's own split rings, read and answered through the
 *   bounce domain
 * - vq.c: virtqueues: setup, kicks to the daemon, interrupts to the driver
 * - map.c: the dma_map_ops of virtio-vdpa, over the bounce domain
 * - fsreply.c: checking the FUSE reply headers a daemon writes for
 *   virtio-vdpa's virtiofs
 * - msg.c: requests to the daemon and its answers
 * - iova_domain.c: the bounce domain
 */

/**
 * DOC: Locking
 *
 * Lock order, outermost first.  A lock may only be taken while holding
 * locks that appear above it.  Each says what it protects and the
 * context it is taken in:
 *
 * 1. ``vdpa_dev_lock`` (vdpa core; held around mgmtdev dev_add/dev_del)
 * 2. ``vdpa_device.cf_lock`` (vdpa core; held for write around set_status
 *    and reset, so every wait for the daemon under it is bounded)
 * 3. ``vduse_devs_lock`` (dev.c, mutex): the device table, minor numbers
 *    and name lookups
 * 4. ``vduse_dev.lock`` (mutex): one device's daemon, attachment, status
 *    and virtqueue setup; never held while waiting for the daemon.
 *    Held across umem (un)registration, which sleeps between batches.
 *    ``vduse_vdpa.iotlb_lock`` (mutex): the vhost-vdpa IOTLBs, inside it
 * 5. spinlocks, never nested in one another except as said:
 *
 *    - ``vduse_dev.msg_lock`` (msg.c): the request lists and broken;
 *      process context, interrupts on.
 *    - ``vduse_dev.config_lock``: the configuration space bytes and the
 *      config callback; interrupts off, since drivers read the
 *      configuration with interrupts off.  Held for one copy of at most
 *      config_size bytes or one run of the config callback
 *      (virtio_vdpa's queues work; vhost-vdpa's signals an eventfd).
 *    - ``vduse_vq.kick_lock``: the kick eventfd, latched and held kicks;
 *      interrupts off, since drivers kick under their own irqsave locks.
 *      Held for one eventfd signal.
 *    - ``vduse_vq.irq_lock``: the driver's callback and where it runs;
 *      process context (the daemon's ioctl, a work item), softirqs off,
 *      interrupts on.  Held while the callback runs, as long as the
 *      driver's batch; the callback's DMA unmaps take the bounce
 *      domain's locks inside it.
 *    - the bounce domain's ``lock`` (process context) and, inside it,
 *      ``bounce_lock`` (a rwlock): readers, the bounce copies, run in
 *      any context with interrupts as they find them and hold it for at
 *      most 16 pages; the writer, umem (un)registration, turns
 *      interrupts off and holds it for 16 pages at a time
 *      (iova_domain.c).  Before it gets it, it spins with interrupts
 *      off until no reader holds it: readers in softirq context (a
 *      driver's completions) may enter while a writer waits, so under
 *      a steady stream of them on other CPUs that wait is not bounded
 *      by 16 pages.
 *    - ``vduse_vdpa.fs_replies``' xarray lock (fsreply.c): virtio-fs
 *      reply headers being mapped; taken with interrupts saved and off,
 *      inside whatever lock the driver maps and unmaps under (virtiofs:
 *      its queue's spinlock), for one xarray store or erase; the bounce
 *      copy that follows an erase runs after it is dropped.
 *
 * The control virtqueue watchdog (cvq.c, a work item) takes
 * ``vduse_dev.lock``, then the bounce domain's lock inside it, then
 * ``msg_lock`` to break the device; it is cancelled with no VDUSE lock held.
 * The reaper of orphaned requests (orphan.c) does the same without
 * ``msg_lock``.
 *
 * A request to the daemon (vduse_msg_send()) is sent with no VDUSE lock
 * held, and may wait up to msg_timeout seconds, under cf_lock when the
 * vdpa core holds it.  Once a request times out the device is broken: no
 * later request waits.
 *
 * Nothing here sleeps on userspace while holding a spinlock, and no
 * window with interrupts off is longer than one of those above (the
 * umem writer's wait for readers aside).
 */

/*
 * The uapi layouts are frozen: these sizes are what every released daemon
 * was compiled against, implicit tail padding included.
 */
static_assert(sizeof(struct vduse_dev_config) == 336);
#ifdef CONFIG_64BIT
/* 32-bit x86 aligns u64 to 4: these two have less tail padding there. */
static_assert(sizeof(struct vduse_iotlb_entry) == 32);
static_assert(sizeof(struct vduse_vq_info) == 48);
#endif
static_assert(sizeof(struct vduse_iotlb_entry_v2) == 80);
static_assert(sizeof(struct vduse_iova_range_v2) == 24);
static_assert(sizeof(struct vduse_config_data) == 8);
static_assert(sizeof(struct vduse_vq_config) == 32);
static_assert(sizeof(struct vduse_vq_eventfd) == 8);
static_assert(sizeof(struct vduse_iova_umem) == 48);
static_assert(sizeof(struct vduse_iova_info) == 48);
static_assert(sizeof(struct vduse_vq_state) == 12);
static_assert(sizeof(struct vduse_dev_request) == 152);
static_assert(sizeof(struct vduse_dev_response) == 152);

/* The VDUSE features this driver implements. */
#define VDUSE_FEATURES	(BIT_ULL(VDUSE_F_QUEUE_READY) | \
			 BIT_ULL(VDUSE_F_SUSPEND) | BIT_ULL(VDUSE_F_RESUME))

/* The newest API version this driver implements. */
#define VDUSE_API_VERSION_MAX	VDUSE_API_VERSION_1

/**
 * struct vduse_vq - a virtqueue
 * @index: its index in the device
 * @max_size: largest size the daemon supports; 0 until VDUSE_VQ_SETUP
 * @group: virtqueue group (API version 1)
 * @num: size the driver chose
 * @num_refused: the driver chose a size above @max_size: @num is 0 and
 *	the queue cannot be enabled until the next reset
 * @desc_addr: IOVA of the descriptor area
 * @driver_addr: IOVA of the driver area
 * @device_addr: IOVA of the device area
 * @state: last available (and, packed, used) index and wrap counters;
 *	a split queue uses the first field only
 * @ready: the driver enabled the queue (and, with VDUSE_F_QUEUE_READY,
 *	the daemon agreed); written with WRITE_ONCE() under vduse_dev.lock,
 *	read with READ_ONCE() by the kick path
 * @kick_lock: protects @kickfd, @kicked and @kicks_held
 * @kickfd: the daemon's kick eventfd, or NULL
 * @kicked: a kick came while no eventfd was set, or while kicks were
 *	held; delivered when there is one and they are not
 * @kicks_held: the device is suspended: kicks are remembered, not sent
 * @kick_work: delivers a kick that came from inside another eventfd's
 *	wakeup (vhost-vdpa's kick eventfd), where signalling one is refused
 * @stat_kicks: driver kicks signalled on @kickfd, under @kick_lock
 * @stat_kicks_held: driver kicks remembered in @kicked instead
 * @irq_lock: protects @cb, @cb_enabled, the two masks and the counters
 *	below; taken in process context with softirqs off, never with
 *	interrupts off, and held while the driver's callback runs
 * @cb: the driver's used-buffer callback, and its eventfd (vhost-vdpa's
 *	irqfd) if it gave one
 * @cb_enabled: the queue is ready, so @cb may run: virtio_vdpa disables
 *	a queue before it frees what @cb points to, sometimes without a
 *	reset (a probe that fails after DRIVER_OK)
 * @irq_affinity: the CPUs @cb runs on: sysfs vqN/irq_cb_affinity, or
 *	@drv_affinity except on a block device; all possible CPUs by default
 * @drv_affinity: the CPUs the driver spread the queue over
 *	(set_vq_affinity), which get_vq_affinity reports; all by default.
 *	get_vq_affinity hands it out unlocked: only the driver writes it,
 *	and reads it only after (blk-mq's and virtiofs's maps, at probe)
 * @irq_work: runs @cb on another CPU of @irq_affinity
 * @stat_irqs: VDUSE_VQ_INJECT_IRQ calls while the driver ran, under
 *	@irq_lock as the two below
 * @stat_cb_local: @cb runs on the injecting CPU
 * @stat_cb_remote: @cb runs in @irq_work
 * @stat_irqfd: signals of the eventfd in @cb instead of a run
 * @affinity_attr: sysfs vqN/irq_cb_affinity
 * @stats_attr: sysfs vqN/stats
 * @attrs: the attributes of vqN, NULL-terminated
 * @sysfs_group: sysfs directory vqN
 * @sysfs_name: "vqN"
 *
 * Fields above @kick_lock are protected by the device's vduse_dev.lock.
 */
struct vduse_vq {
	u32 index;
	u16 max_size;
	u32 group;
	u32 num;
	bool num_refused;
	u64 desc_addr;
	u64 driver_addr;
	u64 device_addr;
	struct vduse_vq_state_packed state;
	bool ready;

	spinlock_t kick_lock; /* @kickfd, @kicked, @kicks_held */
	struct eventfd_ctx *kickfd;
	bool kicked;
	bool kicks_held;
	struct work_struct kick_work;
	u64 stat_kicks;
	u64 stat_kicks_held;

	spinlock_t irq_lock; /* @cb .. @stat_irqfd; softirqs off */
	struct vdpa_callback cb;
	bool cb_enabled;
	cpumask_var_t irq_affinity;
	cpumask_var_t drv_affinity;
	struct work_struct irq_work;
	u64 stat_irqs;
	u64 stat_cb_local;
	u64 stat_cb_remote;
	u64 stat_irqfd;

	struct device_attribute affinity_attr;
	struct device_attribute stats_attr;
	struct attribute *attrs[3];
	struct attribute_group sysfs_group;
	char sysfs_name[16];
};

struct vduse_domain;
struct vduse_fs_cursor;
struct vduse_vdpa;

/* The message types counted apart; the others count in "other". */
enum vduse_msg_stat {
	VDUSE_MSG_STAT_GET_VQ_STATE,
	VDUSE_MSG_STAT_SET_STATUS,
	VDUSE_MSG_STAT_UPDATE_IOTLB,
	VDUSE_MSG_STAT_SET_VQ_GROUP_ASID,
	VDUSE_MSG_STAT_SET_VQ_READY,
	VDUSE_MSG_STAT_SUSPEND,
	VDUSE_MSG_STAT_RESUME,
	VDUSE_MSG_STAT_OTHER,
	VDUSE_MSG_STATS
};

/**
 * struct vduse_msg_stats - a device's message relay, for its operator
 * @sent: requests queued, by &enum vduse_msg_stat
 * @failed: requests the daemon answered VDUSE_REQ_RESULT_FAILED
 * @timed_out: requests nobody answered within msg_timeout
 * @wait_max_ns: the longest a request waited for its answer
 */
struct vduse_msg_stats {
	u64 sent[VDUSE_MSG_STATS];
	u64 failed;
	u64 timed_out;
	u64 wait_max_ns;
};

/* A queue's counters, as sysfs vqN/stats and vdpa vstats show them. */
enum vduse_vq_stat {
	VDUSE_VQ_STAT_KICKS,		/* driver kicks signalled to the daemon */
	VDUSE_VQ_STAT_KICKS_HELD,	/* remembered: no eventfd, or suspended */
	VDUSE_VQ_STAT_IRQS,		/* injected while the driver ran */
	VDUSE_VQ_STAT_CB_LOCAL,		/* callbacks run on the injecting CPU */
	VDUSE_VQ_STAT_CB_REMOTE,	/* callbacks run on another CPU */
	VDUSE_VQ_STAT_IRQFD,		/* driver eventfd signalled instead */
	VDUSE_VQ_STATS
};

extern const char * const vduse_vq_stat_names[VDUSE_VQ_STATS];

/**
 * struct vduse_dev - a VDUSE device
 * @dev: the device in class "vduse"; its reference count is the object's
 * @cdev: /dev/vduse/$NAME
 * @api_version: API version of the control file that created the device
 * @features: VDUSE features (BIT_ULL(VDUSE_F_*)) chosen on that file
 * @vendor_id: virtio vendor ID
 * @device_id: virtio device ID
 * @device_features: feature bits the device offers
 * @vq_num: number of virtqueues
 * @vq_align: virtqueue alignment
 * @ngroups: number of virtqueue groups (1 unless API version 1)
 * @nas: number of address spaces (1 unless API version 1)
 * @config_size: size of @config
 * @config: the configuration space, under @config_lock
 * @config_lock: protects the contents of @config and @config_cb
 * @config_cb: the driver's configuration change callback
 * @generation: configuration generation, bumped by VDUSE_DEV_SET_CONFIG
 * @msg_lock: protects the message lists, @broken and @reader (msg.c)
 * @send_list: requests not read yet
 * @recv_list: requests read and not answered
 * @waitq: the daemon's readers and pollers
 * @next_request_id: request_id of the next request
 * @broken: a request timed out: every request fails from then on
 * @msg_stats: what the relay did, under @msg_lock
 * @broken_told: a read() of the current daemon reported @broken
 * @reader: a daemon has the node open
 * @connected_ns: ktime_get_ns() when it opened it
 * @msg_timeout: seconds a request waits; 0 waits forever
 * @status: the status the daemon accepted; READ_ONCE() outside @lock
 * @vqs: @vq_num virtqueues, under @lock
 * @lock: protects the fields below, and @vqs
 * @driver_features: feature bits the driver wrote
 * @group_asid: @ngroups entries: each group's address space
 * @daemon: the open file of the device node, or NULL
 * @attached: on the vdpa bus
 * @destroyed: VDUSE_DESTROY_DEV took it out of the table
 * @vdpa: the vdpa device while attached
 * @domain: the bounce domain, from the first attachment until the device
 *	is released, as daemons written for mainline expect; replaced at an
 *	attachment with another @bounce_size
 * @bounce_size: size of the bounce range of the next attachment
 * @groups: sysfs attribute groups: the device's, then one per queue
 * @cvq_index: the virtio-net control virtqueue the driver uses, or
 *	U32_MAX; set at DRIVER_OK, read with READ_ONCE() by the kick path
 * @run_state: an &enum vduse_run_state (VDUSE_F_SUSPEND); read with
 *	READ_ONCE() by VDUSE_VQ_INJECT_IRQ
 * @needs_reset: the daemon refused a queue enable or disable: the status
 *	shows NEEDS_RESET until the next reset
 * @fs_bad_replies: virtio-fs reply headers turned into -EIO (fsreply.c)
 *
 * Fields above @lock are set at creation and never change.
 */
struct vduse_dev {
	struct device dev;
	struct cdev cdev;
	u64 api_version;
	u64 features;
	u32 vendor_id;
	u32 device_id;
	u64 device_features;
	u32 vq_num;
	u32 vq_align;
	u32 ngroups;
	u32 nas;
	u32 config_size;
	u8 *config;
	spinlock_t config_lock; /* @config contents, @config_cb */
	struct vdpa_callback config_cb;
	u32 generation;
	struct vduse_vq *vqs;

	spinlock_t msg_lock; /* lists, ids, @broken .. @connected_ns */
	struct list_head send_list;
	struct list_head recv_list;
	wait_queue_head_t waitq;
	u32 next_request_id;
	bool broken;
	struct vduse_msg_stats msg_stats;
	bool broken_told;
	bool reader;
	u64 connected_ns;
	unsigned int msg_timeout;
	u8 status;

	struct mutex lock; /* the state below, and @vqs */
	u64 driver_features;
	u32 *group_asid;
	struct file *daemon;
	bool attached;
	bool destroyed;
	struct vduse_vdpa *vdpa;
	struct vduse_domain *domain;
	u64 bounce_size;
	u32 cvq_index;
	u8 run_state;
	bool needs_reset;
	const struct attribute_group **groups;
	atomic64_t fs_bad_replies;
};

/**
 * enum vduse_run_state - where a device stands between suspend and resume
 * @VDUSE_RUNNING: processing buffers
 * @VDUSE_SUSPENDING: VDUSE_SUSPEND sent; kicks are held, the daemon may
 *	still complete what it started
 * @VDUSE_SUSPENDED: the daemon stopped; kicks are held and queue
 *	interrupts refused
 * @VDUSE_RESUMING: VDUSE_RESUME sent; kicks are still held, and the
 *	daemon may inject interrupts again
 */
enum vduse_run_state {
	VDUSE_RUNNING,
	VDUSE_SUSPENDING,
	VDUSE_SUSPENDED,
	VDUSE_RESUMING,
};

/**
 * struct vduse_vdpa - a VDUSE device's presence on the vdpa bus
 * @vdpa: the vdpa device; its release frees this
 * @vdev: the VDUSE device, with a reference
 * @domain: the bounce domain the kernel's DMA goes through (virtio-vdpa):
 *	the VDUSE device's, which outlives this
 * @bounce_used: the DMA API mapped into the bounce range since the last
 *	reset; only then does VDUSE_IOTLB_GET_FD hand the range out
 * @iotlb_lock: protects @iotlbs
 * @iotlbs: per address space, what vhost-vdpa mapped: IOVA range ->
 *	a struct vduse_map_file (the VMM's file and offset)
 * @cvq_work: the control virtqueue watchdog (cvq.c)
 * @cvq_flags: bit 0: the watchdog is armed
 * @cvq_watching: @cvq_used and @cvq_deadline are set; the fields from here
 *	on belong to @cvq_work
 * @cvq_used: the used index when the daemon last made progress
 * @cvq_deadline: when the daemon must have used a buffer, in jiffies
 * @orphan_work: answers the requests no daemon is left to (orphan.c)
 * @removing: vdpa dev del has begun; written under vduse_dev.lock, read
 *	with READ_ONCE() by the kick path
 * @fs_replies: virtio-fs: reply header IOVA -> bytes the reply may have,
 *	as an xa_mk_value() (fsreply.c)
 * @fs_cursor: virtio-fs: each CPU's reply being mapped; NULL for other
 *	device types
 */
struct vduse_vdpa {
	struct vdpa_device vdpa;
	struct vduse_dev *vdev;
	struct vduse_domain *domain;
	bool bounce_used;
	struct mutex iotlb_lock; /* @iotlbs */
	struct vhost_iotlb **iotlbs;
	struct delayed_work cvq_work;
	unsigned long cvq_flags;
	bool cvq_watching;
	u16 cvq_used;
	unsigned long cvq_deadline;
	struct work_struct orphan_work;
	bool removing;
	struct xarray fs_replies;
	struct vduse_fs_cursor __percpu *fs_cursor;
};

static inline struct vduse_vdpa *vdpa_to_vduse(struct vdpa_device *vdpa)
{
	return container_of(vdpa, struct vduse_vdpa, vdpa);
}

static inline struct vduse_dev *vdpa_to_vdev(struct vdpa_device *vdpa)
{
	return vdpa_to_vduse(vdpa)->vdev;
}

/* Most virtqueues of a device. */
#define VDUSE_VQ_MAX		256

/* Seconds a request waits by default, and at most (msg_timeout). */
#define VDUSE_MSG_TIMEOUT_DEFAULT	30
#define VDUSE_MSG_TIMEOUT_MAX		86400

/* Bounce range sizes (bounce_size), as mainline's. */
#define VDUSE_BOUNCE_DEFAULT	SZ_64M
#define VDUSE_BOUNCE_MIN	SZ_1M
#define VDUSE_BOUNCE_MAX	SZ_1G

/* Minor 0 is the control node; device nodes take the minors after it. */
#define VDUSE_CTRL_MINOR	0
#define VDUSE_MINORS		BIT(MINORBITS)

extern dev_t vduse_devt_base;
extern const struct class vduse_class;

int vduse_ctrl_init(void);
void vduse_ctrl_exit(void);

int vduse_dev_create(const struct vduse_dev_config *cfg, void *config,
		     u64 api_version, u64 features);
int vduse_dev_destroy(const char *name);
void vduse_dev_destroy_all(void);

struct vduse_dev *vduse_dev_get_by_name(const char *name);
int vduse_dev_groups_alloc(struct vduse_dev *vdev);

int vduse_vqs_alloc(struct vduse_dev *vdev);
void vduse_vqs_free(struct vduse_dev *vdev);
long vduse_vq_setup(struct vduse_dev *vdev, void __user *argp);
long vduse_vq_get_info(struct vduse_dev *vdev, void __user *argp);
long vduse_vq_setup_kickfd(struct vduse_dev *vdev, void __user *argp);
long vduse_vq_inject_irq(struct vduse_dev *vdev, void __user *argp);
void vduse_vq_kick(struct vduse_vq *vq);
void vduse_vqs_drop_kickfds(struct vduse_dev *vdev);
void vduse_vqs_hold_kicks(struct vduse_dev *vdev, bool hold);
void vduse_vqs_reset(struct vduse_dev *vdev);
void vduse_vq_enable_cb(struct vduse_vq *vq, bool enable);
void vduse_vq_set_cb(struct vduse_vq *vq, const struct vdpa_callback *cb);
void vduse_vq_signal(struct vduse_dev *vdev, struct vduse_vq *vq);
int vduse_vq_set_affinity(struct vduse_vq *vq, const struct cpumask *mask);
int vduse_vq_set_driver_affinity(struct vduse_vq *vq,
				 const struct cpumask *mask, bool run_cb);
void vduse_vq_stats_get(struct vduse_vq *vq, u64 st[VDUSE_VQ_STATS]);

void vduse_msg_init(struct vduse_dev *vdev);
bool vduse_msg_broken(struct vduse_dev *vdev);
void vduse_msg_break(struct vduse_dev *vdev);
int vduse_msg_send(struct vduse_dev *vdev, struct vduse_dev_request *req,
		   struct vduse_dev_response *resp);
int vduse_msg_notify(struct vduse_dev *vdev, struct vduse_dev_request *req);
void vduse_msg_connect(struct vduse_dev *vdev);
void vduse_msg_requeue(struct vduse_dev *vdev);
void vduse_msg_stats_get(struct vduse_dev *vdev, struct vduse_msg_stats *st);
ssize_t vduse_msg_read(struct vduse_dev *vdev, char __user *buf, size_t count,
		       bool nonblock);
ssize_t vduse_msg_write(struct vduse_dev *vdev, const char __user *buf,
			size_t count);
__poll_t vduse_msg_poll(struct vduse_dev *vdev, struct file *file,
			struct poll_table_struct *wait);

/* mgmt.c */
int vduse_mgmt_init(void);
void vduse_mgmt_exit(void);

/* vdpa.c */
const struct vdpa_config_ops *vduse_vdpa_ops_for(struct vduse_dev *vdev);
void vduse_vdpa_drop_config_cb(struct vduse_dev *vdev);
void vduse_vdpa_reset_state(struct vduse_dev *vdev);

/* iotlb.c */
int vduse_iotlb_dma_map(struct vdpa_device *vdpa, unsigned int asid,
			u64 iova, u64 size, u64 pa, u32 perm, void *opaque);
int vduse_iotlb_dma_unmap(struct vdpa_device *vdpa, unsigned int asid,
			  u64 iova, u64 size);
int vduse_iotlbs_alloc(struct vduse_vdpa *vv, u32 nas);
void vduse_iotlbs_free(struct vduse_vdpa *vv, u32 nas);
void vduse_iotlb_announce(struct vduse_dev *vdev, u32 asid, u64 start,
			  u64 last);
long vduse_iotlb_get_fd(struct vduse_dev *vdev, void __user *argp, bool v2);

/* umem.c */
long vduse_umem_ioctl(struct vduse_dev *vdev, void __user *argp, bool reg);
void vduse_umem_drop(struct vduse_dev *vdev);
long vduse_umem_iova_info(struct vduse_dev *vdev, void __user *argp);

extern const struct dma_map_ops vduse_dma_ops;

void vduse_cvq_init(struct vduse_vdpa *vv);
void vduse_cvq_kicked(struct vduse_vdpa *vv);
void vduse_cvq_stop(struct vduse_vdpa *vv);

void vduse_orphan_init(struct vduse_vdpa *vv);
void vduse_orphan_kicked(struct vduse_vdpa *vv);
void vduse_orphan_daemon_gone(struct vduse_dev *vdev);
void vduse_orphan_removing(struct vduse_vdpa *vv);
void vduse_orphan_stop(struct vduse_vdpa *vv);

/**
 * struct vduse_ring_run - one run over a queue's outstanding entries
 * @domain: the bounce domain the rings are in
 * @vq: the queue
 * @budget: descriptor reads left to the run's walks
 *
 * Callers embed it with what their &struct vduse_ring_ops learn of a
 * chain.
 */
struct vduse_ring_run {
	struct vduse_domain *domain;
	const struct vduse_vq *vq;
	u32 budget;
};

/**
 * struct vduse_ring_ops - how a device type answers a chain
 * @desc: sees each descriptor of the chain in order (flags, address and
 *	length in CPU order): a negative return ends the walk with the chain
 *	unanswered, a positive one ends it answered with that used length,
 *	0 goes on.  Writes the answer only when it ends the walk answered.
 * @end: runs after the last descriptor; returns the used length, or a
 *	negative value when the chain had no place for the answer
 */
struct vduse_ring_ops {
	int (*desc)(struct vduse_ring_run *run, u16 flags, u64 addr, u32 len);
	int (*end)(struct vduse_ring_run *run);
};

bool vduse_ring_indexes(struct vduse_domain *domain, const struct vduse_vq *vq,
			u16 *used, u16 *avail);
int vduse_ring_walk(struct vduse_ring_run *run,
		    const struct vduse_ring_ops *ops, u16 head);
int vduse_ring_answer(struct vduse_ring_run *run, u16 used, u16 avail,
		      int (*answer)(struct vduse_ring_run *run, u16 head));
bool vduse_ring_want_kicks(struct vduse_domain *domain,
			   const struct vduse_vq *vq, bool event_idx,
			   u16 avail);

int vduse_fs_reply_init(struct vduse_vdpa *vv);
void vduse_fs_reply_free(struct vduse_vdpa *vv);
int vduse_fs_reply_mapped(struct vduse_vdpa *vv, dma_addr_t iova,
			  size_t size, enum dma_data_direction dir);
void vduse_fs_reply_synced(struct vduse_vdpa *vv, dma_addr_t iova);
void vduse_fs_reply_unmap(struct vduse_vdpa *vv, dma_addr_t iova,
			  size_t size, enum dma_data_direction dir,
			  bool skip_sync);

#endif /* _VDUSE_VDUSE_H */
