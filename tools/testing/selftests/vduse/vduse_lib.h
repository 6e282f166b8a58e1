/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Device-side helpers shared by the VDUSE selftests.
 */
#ifndef __VDUSE_LIB_H
#define __VDUSE_LIB_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/vduse.h>

struct vring_used;

#ifndef BIT_ULL
#define BIT_ULL(n)	(1ULL << (n))
#endif

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/*
 * The harness allows a test 30 s, sized for hardware.  These tests run in
 * a TCG guest, beside other guests, where the same work can take ten
 * times as long: a test that is only slow must not be killed as hung.
 * A hang still fails, later.  Included after kselftest_harness.h.
 */
#ifdef TEST_TIMEOUT_DEFAULT
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 300
#endif

#define VDUSE_CONTROL_PATH	"/dev/vduse/control"
#define VDUSE_SYSFS_CLASS	"/sys/class/vduse"

/* Open the control node read-write; returns the fd or -errno. */
int vduse_ctrl_open(void);

/* VDUSE_GET_API_VERSION / VDUSE_SET_API_VERSION; 0 or -errno. */
int vduse_ctrl_get_api(int ctrl_fd, uint64_t *version);
int vduse_ctrl_set_api(int ctrl_fd, uint64_t version);

/* A device configuration with room for its configuration space. */
struct vduse_test_config {
	struct vduse_dev_config cfg;
	uint8_t space[4096];
};

/* Features every device must offer. */
#define VDUSE_TEST_BASE_FEATURES \
	((1ULL << 32 /* VERSION_1 */) | (1ULL << 33 /* ACCESS_PLATFORM */))

/*
 * Fill in a valid virtio-blk configuration: one queue of 256, a 1 GiB
 * capacity, VERSION_1 and ACCESS_PLATFORM, the whole virtio_blk_config.
 */
void vduse_test_blk_config(struct vduse_test_config *c, const char *name);
/* The same for virtio-net: two queues, a MAC address. */
void vduse_test_net_config(struct vduse_test_config *c, const char *name);

/*
 * virtio-fs: TAG (at most 36 bytes, NUL-padded), NRQ request queues plus
 * the high-priority queue, no device features.
 */
void vduse_test_fs_config(struct vduse_test_config *c, const char *name,
			  const char *tag, uint32_t nrq);

/* VDUSE_CREATE_DEV / VDUSE_DESTROY_DEV; 0 or -errno. */
int vduse_create(int ctrl_fd, struct vduse_test_config *c);
/*
 * vduse_create(), but a device of the same name left behind by a test the
 * harness killed before its teardown is detached and destroyed first.
 */
int vduse_create_anew(int ctrl_fd, struct vduse_test_config *c);
int vduse_destroy(int ctrl_fd, const char *name);

/* Open /dev/vduse/NAME read-write; the fd or -errno. */
int vduse_dev_open(const char *name);

/* Where vduse_ctl_daemon.seen counts VDUSE_RESUME (type 0x8000). */
#define VDUSE_SEEN_RESUME	7

/*
 * A control-path daemon: a thread that answers every request on a device
 * node.  policy() decides each answer (VDUSE_REQ_RESULT_*); NULL accepts
 * everything.  Requests are counted by type.
 */
struct vduse_ctl_daemon {
	int fd;
	int (*policy)(const struct vduse_dev_request *req, void *arg);
	void *arg;
	/* Called before a reset (status 0) is answered, if set. */
	void (*on_reset)(void *reset_arg);
	void *reset_arg;
	/*
	 * VDUSE_SUSPEND (suspend 1) and VDUSE_RESUME (0): called before
	 * the answer, which is what it returns (VDUSE_REQ_RESULT_*).
	 */
	int (*on_suspend)(void *reset_arg, int suspend);
	/* VDUSE_GET_VQ_STATE: the split avail index to answer, if set. */
	uint16_t (*vq_avail)(void *reset_arg, uint32_t index);
	pthread_t thread;
	/* Shared with the thread: accessed with __atomic builtins. */
	int stop;
	unsigned int seen[8];	/* per type; VDUSE_RESUME in the last */
	unsigned int statuses;	/* OR of every status seen */
	unsigned int status;	/* the last status seen */
	struct vduse_iova_range last_iova;	/* of the last UPDATE_IOTLB */
	struct vduse_vq_ready last_ready;	/* of the last SET_VQ_READY */
};

int vduse_ctl_daemon_start(struct vduse_ctl_daemon *d, int fd);
void vduse_ctl_daemon_stop(struct vduse_ctl_daemon *d);

/* IOVA -> daemon address, through VDUSE_IOTLB_GET_FD and mmap(). */
struct vduse_iova_map {
	uint64_t start, last;
	void *addr;
};

struct vduse_iova_cache {
	int fd;				/* the device node */
	struct vduse_iova_map maps[64];
	int nr;
	/*
	 * __atomic: daemon memory registered with VDUSE_IOTLB_REG_UMEM
	 * behind [0, umem_size), used instead of the fd mapping; NULL if
	 * none.  umem_hits counts the lookups it answered.
	 */
	uint8_t *umem;
	uint64_t umem_size;
	unsigned int umem_hits;
};

/* The address for [iova, iova + len), mapping it if needed; NULL if not. */
void *vduse_iova_to_va(struct vduse_iova_cache *c, uint64_t iova, size_t len);
void vduse_iova_cache_drop(struct vduse_iova_cache *c);

/*
 * A virtio-blk device served from the daemon's memory: one split
 * virtqueue, no optional ring features.  start() waits (in its thread)
 * for DRIVER_OK as seen by ctl, then sets the kick eventfd and serves.
 * It stops serving when the driver resets the device: ctl does not answer
 * the reset before the rings are let go.
 */
struct vduse_blk_server {
	int fd;
	struct vduse_ctl_daemon *ctl;
	/* capacity * 512 bytes; NULL: complete I/O without touching data */
	uint8_t *disk;
	uint64_t capacity;
	uint64_t bounce_size;		/* the device's, for the bounce checks */
	int kick_delay_ms;		/* wait this long before VQ_SETUP_KICKFD */
	int delay_ms;			/* __atomic: take this long over each request */
	/*
	 * __atomic: poll the rings without ever sleeping, as polling
	 * daemons do: the serving thread is always busy.
	 */
	int spin;
	/*
	 * Take over a running device: do not wait for DRIVER_OK, and resume
	 * at the used ring's index (this server completes in order).
	 */
	int resume;
	pthread_t thread;
	int stop;			/* __atomic */
	int serving;			/* __atomic: the rings are in use */
	int exited;			/* __atomic: the thread is done */
	unsigned int served;		/* __atomic: requests completed */
	unsigned int injects;		/* __atomic: VDUSE_VQ_INJECT_IRQ done */
	unsigned int passes;		/* __atomic: turns of the serving loop */
	int paused;			/* __atomic: touch no ring or buffer */
	/*
	 * VDUSE_SUSPEND pauses the server and VDUSE_RESUME lets it go on.
	 * __atomic: kick eventfd wakeups while serving, and kicks seen
	 * pending while paused (a suspended device gets none), and the
	 * next avail index to serve.
	 */
	unsigned int wakeups;
	unsigned int kicks_while_paused;
	uint16_t last_avail;
	int kick_efd;
	int error;			/* __atomic: first error seen, -errno */
	/* __atomic: bounce pages that showed bytes no mapping put there */
	unsigned int stale;
	struct vduse_iova_cache iova;
};

/*
 * One split virtqueue as a device sees it, for servers that walk their
 * own chains: map() reads VDUSE_VQ_GET_INFO and maps the rings through
 * the IOVA cache, starting at the driver's avail index; pop() takes the
 * next available head (1) or finds none (0); push() completes a chain.
 */
struct vduse_vring {
	uint32_t index;
	uint32_t num;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t last_avail;
};

/* A descriptor's buffer, mapped; write: the device writes it. */
struct vduse_vbuf {
	void *addr;
	uint32_t len;
	int write;
};

int vduse_vring_map(struct vduse_iova_cache *iova, uint32_t index,
		    struct vduse_vring *vr);
int vduse_vring_pop(struct vduse_vring *vr, uint16_t *head);
void vduse_vring_push(struct vduse_vring *vr, uint16_t head, uint32_t len);
/*
 * Ask the driver not to kick the split ring whose USED ring has NUM
 * entries: the flag, and for EVENT_IDX an avail event half the index
 * space past LAST_AVAIL.
 */
void vduse_vring_no_kicks(struct vring_used *used, uint32_t num,
			  uint16_t last_avail);
/*
 * The buffers of the chain at HEAD, direct or through one indirect
 * table, into BUFS (at most MAX); their number, or -errno for a chain
 * that loops, leaves the table, has an unmapped buffer or is too long.
 */
int vduse_vring_chain(struct vduse_vring *vr, struct vduse_iova_cache *iova,
		      uint16_t head, struct vduse_vbuf *bufs, int max);

int vduse_blk_server_start(struct vduse_blk_server *s);
void vduse_blk_server_stop(struct vduse_blk_server *s);

/*
 * A virtio-net device bridged to a TAP interface (vduse_net.c): queues
 * 0 .. nvqs - 1 are served, receive queues even, transmit queues odd,
 * and cvq (or -1) is the control virtqueue.  Frames from the TAP go to
 * receive queue 0.  Waits for DRIVER_OK like the block server.
 */
#define VDUSE_NET_MAX_VQS	17

struct vduse_net_server {
	int fd;
	struct vduse_ctl_daemon *ctl;
	int tap;			/* from vduse_tap_open(), or -1 */
	int nvqs;
	int cvq;
	unsigned int max_pairs;		/* what VQ_PAIRS_SET may ask */
	int cvq_silent;			/* __atomic: never answer the cvq */
	int cvq_no_kicks;		/* ask the driver not to kick the cvq */
	/*
	 * __atomic: instead of answering the cvq, make every descriptor a
	 * chain looping on itself, and every slot of the available ring
	 * (the index a full ring ahead) the command's head.
	 */
	int cvq_loop;
	pthread_t thread;
	pthread_mutex_t lock;		/* @mac */
	uint8_t mac[6];			/* the last CTRL_MAC_ADDR_SET */
	unsigned int pairs;		/* __atomic: the last VQ_PAIRS_SET */
	unsigned int ctrl_cmds;		/* __atomic: commands answered */
	unsigned int rx_frames;		/* __atomic */
	unsigned int tx_frames;		/* __atomic */
	int stop;			/* __atomic */
	int serving;			/* __atomic */
	int exited;			/* __atomic */
	int reset;			/* __atomic: let go of the rings */
	unsigned int sessions;		/* __atomic: DRIVER_OKs served */
	/*
	 * __atomic: VDUSE_SUSPEND holds the session still (quiet once it
	 * is) until VDUSE_RESUME or a reset; suspends counts them.
	 * last_avail is what GET_VQ_STATE answers for each queue.
	 */
	int suspended;
	int quiet;
	unsigned int suspends;
	uint16_t last_avail[VDUSE_NET_MAX_VQS];
	int error;			/* __atomic: first error seen, -errno */
	struct vduse_iova_cache iova;
};

/*
 * A TAP interface (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR with the 12-byte
 * VERSION_1 header, no offloads, non-blocking); fd or -errno.
 */
int vduse_tap_open(char *ifname, size_t size);
int vduse_net_server_start(struct vduse_net_server *s);
void vduse_net_server_stop(struct vduse_net_server *s);
void vduse_net_server_mac(struct vduse_net_server *s, uint8_t mac[6]);

/*
 * Run a command with a timeout in seconds; returns its exit status, 126
 * when it could not run, 124 when it timed out (and was killed).
 */
int vduse_run(int timeout_s, const char *const argv[]);
/* Start a command in the background; returns its pid. */
pid_t vduse_spawn(const char *const argv[]);

/* vdpa dev add name NAME mgmtdev vduse / vdpa dev del NAME. */
int vduse_vdpa_add(const char *name, int timeout_s);
int vduse_vdpa_del(const char *name, int timeout_s);

/*
 * /dev/<what the first match of the glob PATTERN is named>, in path;
 * 0, or -1 when nothing matches.
 */
int vduse_dev_path(const char *pattern, char *path, size_t size);

/*
 * The vdpa device NAME, bound to virtio_vdpa, moves to vhost_vdpa;
 * returns an open /dev/vhost-vdpa-N, or -1.
 */
int vduse_vdpa_to_vhost(const char *name);

/* Write a small sysfs file; 0 or -errno. */
int vduse_sysfs_write(const char *path, const char *val);

/* Read a small sysfs file into buf (NUL-terminated, trailing newline
 * removed); returns its length or -errno.
 */
int vduse_sysfs_read(const char *path, char *buf, size_t size);

#endif /* __VDUSE_LIB_H */
