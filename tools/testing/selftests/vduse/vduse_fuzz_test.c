// SPDX-License-Identifier: GPL-2.0
/*
 * A seeded, bounded fuzzer for VDUSE.  Two kinds of work, interleaved:
 *
 * - random sequences of ioctls with random and half-valid arguments,
 *   reads, writes, polls, mmaps and closes on the control node and on
 *   device nodes, sysfs writes, and now and then an attach that nobody
 *   answers;
 * - served sessions: a virtio-blk device with a daemon that answers its
 *   requests (in some sessions wrongly, late, twice, with junk first, or
 *   never), attached through virtio_vdpa, with direct I/O on the disk
 *   from another thread while this one maps IOVA ranges through
 *   VDUSE_IOTLB_GET_FD and touches their pages, registers and
 *   deregisters daemon memory, and (in some sessions) throws random
 *   ioctls, junk bytes in bounce pages and random answers at the device.
 *
 * The seed is printed; VDUSE_FUZZ_SEED=N replays a run (the same
 * operations in the same order; thread timing still varies),
 * VDUSE_FUZZ_ITERS=N sets its length (one session every 2,000).
 *
 * What it asserts: no call crashes or hangs the kernel (the runner fails
 * the test on any BUG, WARNING, lockdep or KASAN report); the run reached
 * the driver (counters below); in clean sessions every attach reached
 * DRIVER_OK and every I/O completed with the right data; answers the
 * kernel must refuse were refused; SIGBUS exactly where documented; every
 * device it created (random names included) destroyed; no fd left.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/vhost.h>

#include "../kselftest_harness.h"
#include "vduse_lib.h"

#define DEFAULT_SEED	0x5eed
#define DEFAULT_ITERS	20000
#define OPS_PER_SESSION	2000

#define NR_NAMES	4
#define NR_CTRL		2
#define BUF_SIZE	8192

static uint64_t rng;

static uint64_t rnd_r(uint64_t *s)
{
	/* xorshift64*: reproducible from the seed alone. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static unsigned int pick_r(uint64_t *s, unsigned int n)
{
	return rnd_r(s) % n;
}

/* The main thread's stream; each other thread has its own. */
static uint64_t rnd(void)
{
	return rnd_r(&rng);
}

static unsigned int pick(unsigned int n)
{
	return rnd() % n;
}

static const char *name_of(unsigned int i)
{
	static const char *const names[NR_NAMES] = {
		"fz0", "fz1", "fz2", "fz3"
	};

	return names[i % NR_NAMES];
}

/* A value that is sometimes right, sometimes at an edge, sometimes junk. */
static uint64_t fuzz_u64(uint64_t good)
{
	static const uint64_t edges[] = {
		0, 1, 2, 3, 4, 255, 256, 257, 4095, 4096, 4097, 65535, 65536,
		0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ULL,
		~0ULL, ~0ULL - 1, 1ULL << 63, 64 << 20,
	};

	switch (pick(8)) {
	case 0:
		return edges[pick(ARRAY_SIZE(edges))];
	case 1:
		return rnd();
	case 2:
		return good + pick(3) - 1;
	default:
		return good;
	}
}

struct fuzz {
	int ctrl[NR_CTRL];
	int dev[NR_NAMES];
	int efd, pipefd[2];
	uint8_t *buf;		/* BUF_SIZE, page aligned */
	unsigned int silent_attaches;
	unsigned long calls, errors;
	unsigned int created, destroyed;	/* successful calls */
};

static void fill_random(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = rnd();
}

static void *arg_ptr(struct fuzz *f)
{
	/* Mostly our buffer; sometimes nothing, or an unmapped address. */
	switch (pick(16)) {
	case 0:
		return NULL;
	case 1:
		return (void *)8;
	default:
		return f->buf;
	}
}

static void fuzz_create(struct fuzz *f, int ctrl)
{
	struct vduse_test_config c;

	if (pick(2))
		vduse_test_blk_config(&c, name_of(pick(NR_NAMES)));
	else
		vduse_test_net_config(&c, name_of(pick(NR_NAMES)));
	switch (pick(10)) {
	case 0:
		c.cfg.features = fuzz_u64(c.cfg.features) | rnd();
		break;
	case 1:
		c.cfg.vq_num = fuzz_u64(c.cfg.vq_num);
		break;
	case 2:
		c.cfg.vq_align = fuzz_u64(c.cfg.vq_align);
		break;
	case 3:
		c.cfg.config_size = fuzz_u64(c.cfg.config_size);
		break;
	case 4:
		c.cfg.ngroups = fuzz_u64(1);
		c.cfg.nas = fuzz_u64(1);
		break;
	case 5:
		c.cfg.reserved[pick(ARRAY_SIZE(c.cfg.reserved))] = rnd();
		break;
	case 6:
		fill_random(c.cfg.config, 64);
		break;
	case 7:
		c.cfg.name[pick(sizeof(c.cfg.name))] = rnd();
		break;
	default:
		break;
	}
	f->calls++;
	if (ioctl(ctrl, VDUSE_CREATE_DEV, pick(20) ? (void *)&c : arg_ptr(f)))
		f->errors++;
	else
		f->created++;
}

static void fuzz_ctrl(struct fuzz *f)
{
	unsigned int i = pick(NR_CTRL);
	char name[VDUSE_NAME_MAX];
	uint64_t v;

	if (f->ctrl[i] < 0 || !pick(50)) {
		if (f->ctrl[i] >= 0)
			close(f->ctrl[i]);
		f->ctrl[i] = open(VDUSE_CONTROL_PATH, O_RDWR | O_CLOEXEC);
		return;
	}
	f->calls++;
	switch (pick(8)) {
	case 0:
		v = pick(4) ? pick(2) : fuzz_u64(1);
		if (ioctl(f->ctrl[i], VDUSE_SET_API_VERSION, &v))
			f->errors++;
		break;
	case 5:
		/* Mostly valid VDUSE features, for the devices to come. */
		v = pick(4) ? pick(8) : fuzz_u64(1);
		if (ioctl(f->ctrl[i], VDUSE_SET_FEATURES, &v))
			f->errors++;
		break;
	case 6:
		if (ioctl(f->ctrl[i], VDUSE_GET_FEATURES, arg_ptr(f)))
			f->errors++;
		break;
	case 1:
		if (ioctl(f->ctrl[i], VDUSE_GET_API_VERSION, arg_ptr(f)))
			f->errors++;
		break;
	case 2:
	case 3:
		fuzz_create(f, f->ctrl[i]);
		break;
	case 4:
		memset(name, 0, sizeof(name));
		snprintf(name, sizeof(name), "%s", name_of(pick(NR_NAMES)));
		if (!pick(8))
			fill_random((uint8_t *)name, sizeof(name));
		if (ioctl(f->ctrl[i], VDUSE_DESTROY_DEV, name))
			f->errors++;
		else
			f->destroyed++;
		break;
	default:
		fill_random(f->buf, 512);
		if (ioctl(f->ctrl[i], _IOC(pick(4), pick(2) ? VDUSE_BASE :
					   pick(256), pick(64), pick(512)),
			  arg_ptr(f)))
			f->errors++;
		break;
	}
}

static const unsigned long dev_cmds[] = {
	VDUSE_DEV_GET_FEATURES, VDUSE_DEV_SET_CONFIG,
	VDUSE_DEV_INJECT_CONFIG_IRQ, VDUSE_VQ_SETUP, VDUSE_VQ_GET_INFO,
	VDUSE_VQ_SETUP_KICKFD, VDUSE_VQ_INJECT_IRQ, VDUSE_IOTLB_GET_FD,
	VDUSE_IOTLB_GET_FD2, VDUSE_IOTLB_REG_UMEM, VDUSE_IOTLB_DEREG_UMEM,
	VDUSE_IOTLB_GET_INFO,
};

/* Half-valid arguments for the device ioctls: small indexes, our fds. */
static void shape_dev_arg(struct fuzz *f, unsigned long cmd)
{
	uint32_t *w = (uint32_t *)f->buf;
	uint64_t *q = (uint64_t *)f->buf;
	static const int bad_fds[] = { -1, -2, 999, 0, 1 };

	fill_random(f->buf, 512);
	if (pick(4))
		w[0] = pick(4);			/* index, offset */
	switch (cmd) {
	case VDUSE_VQ_SETUP_KICKFD:
		w[1] = pick(3) ? f->efd :
		       pick(2) ? f->pipefd[0] : bad_fds[pick(5)];
		break;
	case VDUSE_DEV_SET_CONFIG:
		w[1] = fuzz_u64(8);		/* length */
		break;
	case VDUSE_VQ_SETUP:
		w[1] = 0;
		((uint16_t *)f->buf)[4] = fuzz_u64(128);
		if (pick(2))
			memset(f->buf + 10, 0, 22);
		break;
	case VDUSE_IOTLB_GET_FD:
	case VDUSE_IOTLB_GET_FD2:
	case VDUSE_IOTLB_GET_INFO:
		q[0] = fuzz_u64(pick(2) ? 0 : 64 << 20);
		q[1] = q[0] + pick(8192);
		if (pick(2))
			memset(f->buf + 16, 0, 64);
		break;
	case VDUSE_IOTLB_REG_UMEM:
	case VDUSE_IOTLB_DEREG_UMEM:
		q[0] = pick(2) ? (uintptr_t)f->buf : fuzz_u64(4096);
		q[1] = fuzz_u64(0);
		q[2] = fuzz_u64(BUF_SIZE);
		if (pick(2))
			memset(f->buf + 24, 0, 24);
		break;
	}
}

/* One random operation on the device node @fd. */
static void fuzz_dev_fd(struct fuzz *f, int fd)
{
	struct pollfd pfd;
	unsigned long cmd;
	int ret;
	size_t len;
	void *m;

	f->calls++;
	switch (pick(8)) {
	case 0:
		/* Never block: a read on a blocking fd could wait forever. */
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN) &&
		    read(fd, pick(8) ? (void *)f->buf : arg_ptr(f),
			 pick(2) ? sizeof(struct vduse_dev_request) :
			 pick(400)) < 0)
			f->errors++;
		break;
	case 1:
		fill_random(f->buf, 400);
		if (pick(2))
			((uint32_t *)f->buf)[0] = pick(16);	/* request_id */
		if (pick(2))
			memset(f->buf + 4, 0, 148);
		if (write(fd, f->buf, pick(2) ?
			  sizeof(struct vduse_dev_response) : pick(400)) < 0)
			f->errors++;
		break;
	case 2:
		pfd.fd = fd;
		pfd.events = POLLIN | POLLOUT;
		poll(&pfd, 1, 0);
		break;
	default:
		cmd = pick(10) ? dev_cmds[pick(ARRAY_SIZE(dev_cmds))] :
		      _IOC(pick(4), VDUSE_BASE, pick(64), pick(512));
		shape_dev_arg(f, cmd);
		ret = ioctl(fd, cmd, pick(20) ? (void *)f->buf : arg_ptr(f));
		if (ret < 0) {
			f->errors++;
			break;
		}
		if (cmd != VDUSE_IOTLB_GET_FD && cmd != VDUSE_IOTLB_GET_FD2)
			break;
		/* A file to map: a random window, then gone. */
		len = 4096 * (1 + pick(4));
		m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, ret,
			 4096 * (uint64_t)pick(4));
		if (m != MAP_FAILED)
			munmap(m, len);
		close(ret);
		break;
	}
}

static void fuzz_dev(struct fuzz *f)
{
	unsigned int i = pick(NR_NAMES);
	char path[64];

	if (f->dev[i] < 0 || !pick(40)) {
		if (f->dev[i] >= 0) {
			close(f->dev[i]);
			f->dev[i] = -1;
			return;
		}
		snprintf(path, sizeof(path), "/dev/vduse/%s", name_of(i));
		f->dev[i] = open(path, O_RDWR | O_CLOEXEC |
				 (pick(2) ? O_NONBLOCK : 0));
		return;
	}
	fuzz_dev_fd(f, f->dev[i]);
}

static void fuzz_sysfs(struct fuzz *f)
{
	static const char *const attrs[] = {
		"msg_timeout", "bounce_size", "broken", "vq0/irq_cb_affinity",
		"vq1/irq_cb_affinity",
	};
	static const char *const vals[] = {
		"1", "2", "0x400000", "4194304", "1073741824", "0", "-1", "3",
		"ffffffff", "x", "", "99999999999999999999", "0x1000",
	};
	char path[128];

	snprintf(path, sizeof(path), VDUSE_SYSFS_CLASS "/%s/%s",
		 name_of(pick(NR_NAMES)), attrs[pick(ARRAY_SIZE(attrs))]);
	/* msg_timeout 0 would let an attach wait forever: never 0 here. */
	if (strstr(path, "msg_timeout"))
		vduse_sysfs_write(path, pick(2) ? "1" : "2");
	else
		vduse_sysfs_write(path, vals[pick(ARRAY_SIZE(vals))]);
}

static void fuzz_silent_attach(struct fuzz *f)
{
	struct vduse_vq_config vq = { .max_size = 64 };
	unsigned int n = pick(NR_NAMES);
	const char *name = name_of(n);
	char path[128];
	int i;

	snprintf(path, sizeof(path), VDUSE_SYSFS_CLASS "/%s/msg_timeout",
		 name);
	if (vduse_sysfs_write(path, "1"))
		return;
	/* Every queue set up, or the attach is refused. */
	if (f->dev[n] < 0) {
		snprintf(path, sizeof(path), "/dev/vduse/%s", name);
		f->dev[n] = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	}
	if (f->dev[n] >= 0)
		for (vq.index = 0; vq.index < 256; vq.index++)
			if (ioctl(f->dev[n], VDUSE_VQ_SETUP, &vq))
				break;
	f->silent_attaches++;
	/* Nobody answers: the first request times out, the device breaks. */
	vduse_vdpa_add(name, 30);
	for (i = 0; i < 500; i++)
		fuzz_dev(f);
	vduse_vdpa_del(name, 30);
}

/*
 * Served sessions.  Counters of what the run reached; those the session's
 * threads update are __atomic.
 */
/*
 * Request types counted apart: mainline's 0..5 in their own slot, this
 * driver's VDUSE_RESUME (0x8000) in slot 6, anything else in slot 7.
 */
#define REQ_SLOTS	8

static unsigned int req_slot(uint32_t type)
{
	if (type == VDUSE_RESUME)
		return 6;
	return type < 6 ? type : 7;
}

struct reach {
	unsigned int sessions, clean, driver_ok, disks;
	unsigned int answered, refused, late, overdue, never, twice, junk;
	unsigned int extra_taken;	/* a late, second or junk answer taken */
	unsigned int broken;
	unsigned long touched;		/* pages read and written */
	unsigned int maps, sigbus, sigbus_wrong;
	unsigned int umem_reg, umem_dereg, umem_misuse, umem_wrong;
	unsigned long ios, io_errors;
	unsigned int chaos_ops;
	/* Clean sessions that did not attach, lost data or erred. */
	unsigned int clean_failures;
	unsigned int del_failures;
	/* requests read by the daemons, by req_slot() of their type */
	unsigned int req_seen[REQ_SLOTS];
	unsigned int req_ok[REQ_SLOTS];	/* answered OK, taken */
	/* vhost-vdpa sessions; *_ok: the VMM's calls that succeeded */
	unsigned int vhost_sessions, vhost_attached, vhost_driver_ok;
	unsigned int vhost_ops, vhost_ok, vhost_iotlb, vhost_suspend;
	unsigned int vhost_resume, vhost_asid, vhost_maps;
};

static struct reach reach;

#define S_CAPACITY	8192			/* sectors: 4 MiB */
#define S_DISK		(S_CAPACITY * 512)
#define S_BOUNCE	(4 << 20)
#define S_TIMEOUT	5			/* msg_timeout, seconds */
#define S_TIMEOUT_STR	"5"
#define S_OLD_PAGES	4

/* The answers a daemon gives in a session with mischief. */
enum { A_OK, A_REFUSE, A_LATE, A_OVERDUE, A_NEVER, A_TWICE, A_JUNK, NR_A };

struct fz_daemon {
	/* statuses, stop and the thread; hooks set by the block server */
	struct vduse_ctl_daemon d;
	uint64_t rng;
	int mischief;
	int driver_ok;		/* __atomic: DRIVER_OK answered OK */
};

static void count(unsigned int *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

static int answer(int fd, const struct vduse_dev_request *req, uint32_t result)
{
	struct vduse_dev_response resp;

	memset(&resp, 0, sizeof(resp));
	resp.request_id = req->request_id;
	resp.result = result;
	if (req->type == VDUSE_GET_VQ_STATE)
		resp.vq_state.index = req->vq_state.index;
	return write(fd, &resp, sizeof(resp)) == sizeof(resp);
}

/* An answer the kernel must refuse; 1 if it took it. */
static int answer_junk(struct fz_daemon *z, const struct vduse_dev_request *req)
{
	struct vduse_dev_response resp;
	size_t len = sizeof(resp);

	memset(&resp, 0, sizeof(resp));
	resp.request_id = req->request_id;
	switch (pick_r(&z->rng, 4)) {
	case 0:
		resp.request_id ^= 0x80000000;
		break;
	case 1:
		resp.result = 2 + pick_r(&z->rng, 1000);
		break;
	case 2:
		resp.reserved[pick_r(&z->rng, 4)] = 1 + pick_r(&z->rng, 9);
		break;
	default:
		len = pick_r(&z->rng, sizeof(resp));
		break;
	}
	return write(z->d.fd, &resp, len) == (ssize_t)len;
}

/*
 * The daemon's control thread: answers each request, in a session with
 * mischief one in four wrongly (rarely in a way that breaks it).
 * DRIVER_OK is always taken in the end (it may come late, twice, or after
 * junk): virtio-blk's probe does not re-read the status after it, and
 * would wait forever for its first read.
 */
static void *fz_daemon_main(void *arg)
{
	struct fz_daemon *z = arg;
	struct vduse_ctl_daemon *d = &z->d;
	struct pollfd pfd = { .fd = d->fd, .events = POLLIN };
	static const int mischief[] = {
		A_REFUSE, A_REFUSE, A_REFUSE, A_LATE, A_LATE, A_LATE,
		A_TWICE, A_TWICE, A_TWICE, A_JUNK, A_JUNK, A_JUNK,
		A_OVERDUE, A_NEVER,
	};
	struct vduse_dev_request req;

	while (!__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE)) {
		uint32_t result = VDUSE_REQ_RESULT_OK;
		int status, driver_ok, act = A_OK;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		if (pfd.revents & POLLERR)
			break;		/* broken: every request fails now */
		if (read(d->fd, &req, sizeof(req)) != sizeof(req))
			continue;
		count(&reach.req_seen[req_slot(req.type)]);
		status = req.type == VDUSE_SET_STATUS ? req.s.status : -1;
		driver_ok = status > 0 && (status & VIRTIO_CONFIG_S_DRIVER_OK);
		if (!status && d->on_reset)
			d->on_reset(d->reset_arg);
		if (__atomic_load_n(&z->mischief, __ATOMIC_ACQUIRE) &&
		    !pick_r(&z->rng, 4))
			act = mischief[pick_r(&z->rng, ARRAY_SIZE(mischief))];
		if (driver_ok && (act == A_REFUSE || act == A_OVERDUE ||
				  act == A_NEVER))
			act = A_LATE;

		switch (act) {
		case A_REFUSE:
			result = VDUSE_REQ_RESULT_FAILED;
			count(&reach.refused);
			break;
		case A_LATE:
			usleep(1000 * (20 + pick_r(&z->rng,
						   driver_ok ? 300 : 1500)));
			count(&reach.late);
			break;
		case A_OVERDUE:
			/* The request timed out: the answer is refused. */
			usleep(S_TIMEOUT * 1000000 + 500000);
			count(&reach.overdue);
			if (answer(d->fd, &req, result))
				count(&reach.extra_taken);
			continue;
		case A_NEVER:
			count(&reach.never);
			continue;
		case A_JUNK:
			if (answer_junk(z, &req))
				count(&reach.extra_taken);
			count(&reach.junk);
			break;
		}
		if (!answer(d->fd, &req, result))
			continue;
		count(&reach.answered);
		if (result == VDUSE_REQ_RESULT_OK)
			count(&reach.req_ok[req_slot(req.type)]);
		if (result == VDUSE_REQ_RESULT_OK && status >= 0) {
			/* The block server starts serving on DRIVER_OK. */
			__atomic_fetch_or(&d->statuses, status,
					  __ATOMIC_RELEASE);
			__atomic_store_n(&d->status, status, __ATOMIC_RELEASE);
			if (driver_ok)
				__atomic_store_n(&z->driver_ok, 1,
						 __ATOMIC_RELEASE);
		}
		if (act == A_TWICE) {
			if (answer(d->fd, &req, result))
				count(&reach.extra_taken);
			count(&reach.twice);
		}
	}
	return NULL;
}

/* Direct I/O on the disk, checked against the daemon's memory. */
struct fz_io {
	char path[64];
	const uint8_t *disk;
	uint64_t rng;
	pthread_t thread;
	int stop;		/* __atomic */
	unsigned long ios, errors, bad;
};

static void *fz_io_main(void *arg)
{
	struct fz_io *io = arg;
	size_t len, i;
	uint8_t *buf;
	off_t off;
	int dev;

	dev = open(io->path, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (dev < 0) {
		io->errors++;
		return NULL;
	}
	if (posix_memalign((void **)&buf, 4096, 64 * 1024)) {
		io->errors++;
		close(dev);
		return NULL;
	}
	while (!__atomic_load_n(&io->stop, __ATOMIC_ACQUIRE)) {
		len = 4096 * (1 + pick_r(&io->rng, 16));
		off = 4096 * (off_t)pick_r(&io->rng, (S_DISK - len) / 4096 + 1);
		if (pick_r(&io->rng, 2)) {
			for (i = 0; i < len; i += 8)
				*(uint64_t *)(buf + i) = rnd_r(&io->rng);
			if (pwrite(dev, buf, len, off) != (ssize_t)len) {
				io->errors++;
				usleep(10000);
				continue;
			}
		} else if (pread(dev, buf, len, off) != (ssize_t)len) {
			io->errors++;
			usleep(10000);
			continue;
		}
		/* One I/O at a time: the daemon's copy is what we did. */
		io->bad += !!memcmp(buf, io->disk + off, len);
		__atomic_fetch_add(&io->ios, 1, __ATOMIC_RELEASE);
	}
	free(buf);
	close(dev);
	return NULL;
}

struct session {
	char name[16];
	int fd;
	int mischief, chaos;
	struct fz_daemon z;
	struct vduse_blk_server srv;
	struct fz_io io;
	int io_running;
	uint8_t *umem;		/* S_BOUNCE bytes */
	int umem_on;
	uint8_t *old;		/* bounce pages mapped before any umem */
};

static __thread sigjmp_buf touch_jmp;
static __thread int touch_armed;	/* __atomic: seen by the handler */
static uint8_t touch_sum;		/* what the reads saw */

static void on_sigbus(int sig)
{
	if (__atomic_load_n(&touch_armed, __ATOMIC_SEQ_CST)) {
		__atomic_store_n(&touch_armed, 0, __ATOMIC_SEQ_CST);
		siglongjmp(touch_jmp, 1);
	}
	signal(SIGBUS, SIG_DFL);
	raise(SIGBUS);
}

/*
 * Read and write each page of [p, p + len): junk when @scribble, else an
 * atomic OR of 0 (a write fault that changes nothing the driver or the
 * server may be using).  Returns 1 if a SIGBUS ended it.
 */
static int touch_pages(uint8_t *p, size_t len, int scribble)
{
	size_t off;

	if (sigsetjmp(touch_jmp, 1))
		return 1;
	__atomic_store_n(&touch_armed, 1, __ATOMIC_SEQ_CST);
	for (off = 0; off < len; off += 4096) {
		uint32_t *w = (uint32_t *)(p + off) + pick(1024);

		touch_sum += __atomic_load_n(&p[off + pick(4096)],
					     __ATOMIC_RELAXED);
		if (scribble)
			p[off + pick(4096)] = rnd();
		else
			__atomic_fetch_or(w, 0, __ATOMIC_RELAXED);
		reach.touched++;
	}
	__atomic_store_n(&touch_armed, 0, __ATOMIC_SEQ_CST);
	return 0;
}

/* The bounce range faults with SIGBUS exactly while umem backs it. */
static void check_sigbus(struct session *s, int bus, int bounce)
{
	if (bus)
		reach.sigbus++;
	if (bus != (bounce && s->umem_on))
		reach.sigbus_wrong++;
}

/*
 * A window of up to 16 pages of an IOVA range (a ring, or the bounce
 * range) through VDUSE_IOTLB_GET_FD; and the old bounce mapping.
 */
static void session_touch(struct session *s)
{
	struct vduse_iotlb_entry e = { 0 };
	struct vduse_vq_info info = { .index = 0 };
	uint64_t iova, page, span;
	size_t win;
	int fd, bounce;
	void *m;

	if (s->old)
		check_sigbus(s, touch_pages(s->old, S_OLD_PAGES * 4096,
					    s->chaos), 1);
	if (!pick(3)) {
		if (ioctl(s->fd, VDUSE_VQ_GET_INFO, &info))
			return;
		iova = pick(3) == 0 ? info.desc_addr : pick(2) ?
		       info.driver_addr : info.device_addr;
	} else {
		iova = 4096ULL * pick(S_BOUNCE / 4096);
	}
	e.start = iova;
	e.last = iova;
	fd = ioctl(s->fd, VDUSE_IOTLB_GET_FD, &e);
	if (fd < 0)
		return;
	if (e.start > iova || e.last < iova) {
		close(fd);
		reach.sigbus_wrong++;	/* an entry that misses the IOVA */
		return;
	}
	page = (iova & ~4095ULL) - e.start;
	span = e.last - e.start + 1;
	win = 4096 * (1 + pick(16));
	if (win > span - page)
		win = span - page;
	m = mmap(NULL, win, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 e.offset + page);
	close(fd);
	if (m == MAP_FAILED)
		return;
	reach.maps++;
	bounce = e.last < S_BOUNCE;
	check_sigbus(s, touch_pages(m, win, s->chaos && bounce), bounce);
	munmap(m, win);
}

/* The server stops touching buffers while its memory changes. */
static int server_pause(struct vduse_blk_server *srv)
{
	unsigned int p;

	if (!__atomic_load_n(&srv->serving, __ATOMIC_ACQUIRE) ||
	    __atomic_load_n(&srv->exited, __ATOMIC_ACQUIRE))
		return 0;
	__atomic_store_n(&srv->paused, 1, __ATOMIC_RELEASE);
	p = __atomic_load_n(&srv->passes, __ATOMIC_ACQUIRE);
	while (__atomic_load_n(&srv->passes, __ATOMIC_ACQUIRE) - p < 2 &&
	       !__atomic_load_n(&srv->exited, __ATOMIC_ACQUIRE))
		usleep(1000);
	return 1;
}

static void session_umem_toggle(struct session *s)
{
	struct vduse_iova_umem u = {
		.uaddr = (uintptr_t)s->umem, .size = S_BOUNCE,
	};
	int paused = server_pause(&s->srv);

	if (!s->umem_on) {
		if (!ioctl(s->fd, VDUSE_IOTLB_REG_UMEM, &u)) {
			__atomic_store_n(&s->srv.iova.umem, s->umem,
					 __ATOMIC_RELEASE);
			s->umem_on = 1;
			reach.umem_reg++;
		}
	} else {
		__atomic_store_n(&s->srv.iova.umem, NULL, __ATOMIC_RELEASE);
		if (!ioctl(s->fd, VDUSE_IOTLB_DEREG_UMEM, &u)) {
			s->umem_on = 0;
			reach.umem_dereg++;
		} else {
			__atomic_store_n(&s->srv.iova.umem, s->umem,
					 __ATOMIC_RELEASE);
		}
	}
	if (paused)
		__atomic_store_n(&s->srv.paused, 0, __ATOMIC_RELEASE);
}

/* A documented misuse of REG_UMEM / DEREG_UMEM, with its errno. */
static void session_umem_misuse(struct session *s)
{
	struct vduse_iova_umem u = {
		.uaddr = (uintptr_t)s->umem, .size = S_BOUNCE,
	};
	int want = EINVAL;

	switch (pick(5)) {
	case 0:
		u.size = S_BOUNCE / 2;
		break;
	case 1:
		u.uaddr += 8;
		break;
	case 2:
		u.iova = 4096;
		break;
	case 3:
		u.reserved[pick(3)] = 1;
		break;
	default:
		if (!s->umem_on)
			return;
		want = EEXIST;		/* registered already */
		break;
	}
	reach.umem_misuse++;
	errno = 0;
	if (!ioctl(s->fd, s->umem_on && want == EINVAL ?
		   VDUSE_IOTLB_DEREG_UMEM : VDUSE_IOTLB_REG_UMEM, &u) ||
	    errno != want)
		reach.umem_wrong++;
}

static int session_disk(struct session *s, char *path, size_t size)
{
	char pattern[128];
	int i;

	snprintf(pattern, sizeof(pattern),
		 "/sys/bus/vdpa/devices/%s/virtio*/block/vd*", s->name);
	for (i = 0; i < 50; i++) {
		if (!vduse_dev_path(pattern, path, size) &&
		    !access(path, F_OK))
			return 0;
		usleep(20000);
	}
	return -1;
}

static void fuzz_session(struct fuzz *f, int ctrl, unsigned int nr)
{
	struct vduse_vq_config vq = { .index = 0, .max_size = 128 };
	struct vduse_iotlb_entry e = { .start = 0 };
	struct vduse_test_config c;
	struct virtio_blk_config *blk = (void *)c.cfg.config;
	struct session *s;
	char path[128];
	int i, n, ret, clean_ok = 1;
	uint64_t k;

	s = calloc(1, sizeof(*s));
	if (!s)
		return;
	snprintf(s->name, sizeof(s->name), "fzs%u", nr % 2);
	/*
	 * In turn clean (a positive control for the rest), with mischief
	 * in the answers, with chaos on the node, with both.
	 */
	n = nr % 4;
	s->mischief = n & 1;
	s->chaos = n & 2;
	reach.sessions++;
	reach.clean += !n;

	vduse_test_blk_config(&c, s->name);
	blk->capacity = S_CAPACITY;
	if (vduse_create(ctrl, &c)) {
		clean_ok = 0;
		goto out_free;
	}
	f->created++;
	snprintf(path, sizeof(path), VDUSE_SYSFS_CLASS "/%s/msg_timeout",
		 s->name);
	vduse_sysfs_write(path, S_TIMEOUT_STR);
	snprintf(path, sizeof(path), VDUSE_SYSFS_CLASS "/%s/bounce_size",
		 s->name);
	vduse_sysfs_write(path, "4194304");
	s->fd = vduse_dev_open(s->name);
	if (s->fd < 0 || ioctl(s->fd, VDUSE_VQ_SETUP, &vq)) {
		clean_ok = 0;
		goto out_close;
	}

	s->umem = mmap(NULL, S_BOUNCE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	s->srv.disk = malloc(S_DISK);
	if (s->umem == MAP_FAILED || !s->srv.disk) {
		clean_ok = 0;
		goto out_mem;
	}
	for (k = 0; k < S_DISK / 8; k++)
		((uint64_t *)s->srv.disk)[k] = k * 0x9e3779b97f4a7c15ULL;

	s->z.rng = rnd() | 1;
	s->z.mischief = s->mischief;
	s->z.d.fd = s->fd;
	s->srv.fd = s->fd;
	s->srv.ctl = &s->z.d;
	s->srv.capacity = S_CAPACITY;
	s->srv.iova.umem_size = S_BOUNCE;
	if (vduse_blk_server_start(&s->srv)) {
		clean_ok = 0;
		goto out_mem;
	}
	if (pthread_create(&s->z.d.thread, NULL, fz_daemon_main, &s->z)) {
		clean_ok = 0;
		goto out_server;
	}

	ret = vduse_vdpa_add(s->name, 60);
	if (!ret && __atomic_load_n(&s->z.driver_ok, __ATOMIC_ACQUIRE)) {
		reach.driver_ok++;
		if (!session_disk(s, s->io.path, sizeof(s->io.path))) {
			reach.disks++;
			s->io.disk = s->srv.disk;
			s->io.rng = rnd() | 1;
			s->io_running = !pthread_create(&s->io.thread, NULL,
							fz_io_main, &s->io);
		}
	}
	if (!s->io_running)
		clean_ok = 0;

	/* A mapping of the bounce range made now, kept across umem. */
	ret = ioctl(s->fd, VDUSE_IOTLB_GET_FD, &e);
	if (ret >= 0) {
		s->old = mmap(NULL, S_OLD_PAGES * 4096, PROT_READ | PROT_WRITE,
			      MAP_SHARED, ret, e.offset);
		if (s->old == MAP_FAILED)
			s->old = NULL;
		close(ret);
	}

	n = 20 + pick(40);
	for (i = 0; i < n; i++) {
		switch (pick(10)) {
		case 0 ... 3:
			session_touch(s);
			break;
		case 4:
			session_umem_toggle(s);
			break;
		case 5:
			session_umem_misuse(s);
			break;
		default:
			if (s->chaos) {
				fuzz_dev_fd(f, s->fd);
				reach.chaos_ops++;
			} else {
				usleep(5000);
			}
			break;
		}
	}

	if (s->io_running) {
		/* Some I/O in every session that has a disk (10 s at most). */
		for (i = 0; i < 1000; i++) {
			if (__atomic_load_n(&s->io.ios, __ATOMIC_ACQUIRE) >= 16)
				break;
			usleep(10000);
		}
		__atomic_store_n(&s->io.stop, 1, __ATOMIC_RELEASE);
		pthread_join(s->io.thread, NULL);
		reach.ios += s->io.ios;
		reach.io_errors += s->io.errors;
		if (s->io.errors || s->io.bad || s->io.ios < 16)
			clean_ok = 0;
	}
	if (s->old)
		munmap(s->old, S_OLD_PAGES * 4096);
	/* Registered memory is given back at detach, or before. */
	if (s->umem_on && pick(2))
		session_umem_toggle(s);

	if (vduse_vdpa_del(s->name, 60))
		reach.del_failures++;
	__atomic_store_n(&s->z.d.stop, 1, __ATOMIC_RELEASE);
	pthread_join(s->z.d.thread, NULL);
out_server:
	vduse_blk_server_stop(&s->srv);
	if (__atomic_load_n(&s->srv.error, __ATOMIC_RELAXED))
		clean_ok = 0;
	snprintf(path, sizeof(path), VDUSE_SYSFS_CLASS "/%s/broken", s->name);
	if (vduse_sysfs_read(path, path, sizeof(path)) > 0 && path[0] == '1')
		reach.broken++;
out_mem:
	if (s->umem != MAP_FAILED && s->umem)
		munmap(s->umem, S_BOUNCE);
	free(s->srv.disk);
out_close:
	if (s->fd >= 0)
		close(s->fd);
	if (!vduse_destroy(ctrl, s->name))
		f->destroyed++;
out_free:
	if (!s->mischief && !s->chaos && !clean_ok)
		reach.clean_failures++;
	printf("# session %u %s%s%s: %s, %lu I/Os\n", nr, s->name,
	       s->mischief ? " mischief" : "", s->chaos ? " chaos" : "",
	       s->mischief || s->chaos ? "done" : clean_ok ? "ok" : "FAILED",
	       s->io.ios);
	free(s);
}

/*
 * vhost-vdpa sessions: the same kind of device, API version 1 with two
 * groups and two address spaces and every VDUSE feature, bound to
 * vhost_vdpa after virtio-blk saw it (capacity 0: no I/O), and driven by
 * a VMM of random steps: start and reset, maps and unmaps in either
 * space, suspend, resume, vring bases, group/ASID changes, queue
 * enables; the daemon (mischief in some) answers, and maps and touches
 * the VMM's memory through VDUSE_IOTLB_GET_FD2.
 */
#ifndef VHOST_VDPA_RESUME
#define VHOST_VDPA_RESUME	_IO(VHOST_VIRTIO, 0x7E)
#endif
#ifndef VHOST_BACKEND_F_RESUME
#define VHOST_BACKEND_F_RESUME	0x5
#endif
#ifndef VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK
#define VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK	0x6
#endif

#define V_MEM		(1024 * 1024)
#define V_IOVA		0x100000ULL

struct vmm {
	int vhost, fd, kick, call;
	uint8_t *mem;
	uint64_t backend;
};

static int vmm_status(struct vmm *v, uint8_t status)
{
	return ioctl(v->vhost, VHOST_VDPA_SET_STATUS, &status);
}

static int vmm_iotlb(struct vmm *v, uint32_t asid, uint8_t type,
		     uint64_t iova, uint64_t size)
{
	struct vhost_msg_v2 msg = {
		.type = VHOST_IOTLB_MSG_V2,
		.asid = asid,
		.iotlb = {
			.iova = iova, .size = size,
			.uaddr = (uintptr_t)v->mem + (iova - V_IOVA),
			.perm = VHOST_ACCESS_RW, .type = type,
		},
	};

	return write(v->vhost, &msg, sizeof(msg)) == sizeof(msg) ? 0 : -1;
}

/* What a VMM does to start the device; 0 once DRIVER_OK took. */
static int vmm_drive(struct vmm *v)
{
	struct vhost_vring_state num = { .index = 0, .num = 64 };
	struct vhost_vring_state base = { .index = 0, .num = pick(4) };
	struct vhost_vring_state enable = { .index = 0, .num = 1 };
	struct vhost_vring_addr addr = {
		.index = 0, .desc_user_addr = V_IOVA,
		.avail_user_addr = V_IOVA + 4096,
		.used_user_addr = V_IOVA + 8192,
	};
	struct vhost_vring_file kick = { .index = 0, .fd = v->kick };
	struct vhost_vring_file call = { .index = 0, .fd = v->call };
	uint64_t features;
	uint8_t status = 0;

	if (vmm_status(v, VIRTIO_CONFIG_S_ACKNOWLEDGE |
		       VIRTIO_CONFIG_S_DRIVER) ||
	    ioctl(v->vhost, VHOST_GET_FEATURES, &features))
		return -1;
	features &= (1ULL << VIRTIO_F_VERSION_1) |
		    (1ULL << VIRTIO_F_ACCESS_PLATFORM);
	if (ioctl(v->vhost, VHOST_SET_FEATURES, &features) ||
	    vmm_status(v, VIRTIO_CONFIG_S_ACKNOWLEDGE |
		       VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK))
		return -1;
	if (ioctl(v->vhost, VHOST_SET_VRING_NUM, &num) ||
	    ioctl(v->vhost, VHOST_SET_VRING_ADDR, &addr) ||
	    ioctl(v->vhost, VHOST_SET_VRING_BASE, &base) ||
	    ioctl(v->vhost, VHOST_SET_VRING_KICK, &kick) ||
	    ioctl(v->vhost, VHOST_SET_VRING_CALL, &call) ||
	    ioctl(v->vhost, VHOST_VDPA_SET_VRING_ENABLE, &enable))
		return -1;
	if (vmm_status(v, VIRTIO_CONFIG_S_ACKNOWLEDGE |
		       VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
		       VIRTIO_CONFIG_S_DRIVER_OK) ||
	    ioctl(v->vhost, VHOST_VDPA_GET_STATUS, &status))
		return -1;
	return status & VIRTIO_CONFIG_S_DRIVER_OK ? 0 : -1;
}

/* The daemon maps a range of the VMM's memory and touches it. */
static void vmm_daemon_touch(struct vmm *v)
{
	struct vduse_iotlb_entry_v2 e;
	uint64_t iova = V_IOVA + 4096ULL * pick(V_MEM / 4096);
	size_t win = 4096 * (1 + pick(8));
	void *m;
	int fd;

	memset(&e, 0, sizeof(e));
	e.start = iova;
	e.last = iova;
	e.asid = pick(2);
	fd = ioctl(v->fd, VDUSE_IOTLB_GET_FD2, &e);
	if (fd < 0)
		return;
	iova &= ~4095ULL;
	if (e.start > iova || e.last < iova) {
		close(fd);
		reach.sigbus_wrong++;
		return;
	}
	if (win > e.last - iova + 1)
		win = e.last - iova + 1;
	m = mmap(NULL, win, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 e.offset + (iova - e.start));
	close(fd);
	if (m == MAP_FAILED)
		return;
	reach.vhost_maps++;
	/* The VMM's own memory: never SIGBUS, junk is fine. */
	if (touch_pages(m, win, 1)) {
		reach.sigbus++;
		reach.sigbus_wrong++;
	}
	munmap(m, win);
}

static void vmm_step(struct vmm *v)
{
	struct vhost_vring_state st = { .index = pick(2) };
	uint64_t iova, size;
	int ret = -1;

	reach.vhost_ops++;
	switch (pick(16)) {
	case 0:
	case 1:
		ret = vmm_drive(v);
		if (!ret)
			reach.vhost_driver_ok++;
		break;
	case 2:
		ret = vmm_status(v, 0);
		break;
	case 3:
	case 4:
		iova = V_IOVA + 4096ULL * pick(V_MEM / 4096);
		size = 4096ULL * (1 + pick((V_IOVA + V_MEM - iova) / 4096));
		ret = vmm_iotlb(v, pick(3) ? 0 : pick(3), pick(3) ?
				VHOST_IOTLB_UPDATE : VHOST_IOTLB_INVALIDATE,
				iova, size);
		if (!ret)
			reach.vhost_iotlb++;
		break;
	case 5:
		ret = ioctl(v->vhost, VHOST_VDPA_SUSPEND);
		if (ret)
			break;
		reach.vhost_suspend++;
		/* A cancelled migration, now and then at once. */
		if (pick(2))
			break;
		ioctl(v->vhost, VHOST_GET_VRING_BASE, &st);
		ret = ioctl(v->vhost, VHOST_VDPA_RESUME);
		if (!ret)
			reach.vhost_resume++;
		break;
	case 6:
		ret = ioctl(v->vhost, VHOST_VDPA_RESUME);
		if (!ret)
			reach.vhost_resume++;
		break;
	case 7:
		ret = ioctl(v->vhost, VHOST_GET_VRING_BASE, &st);
		break;
	case 8:
		st.index = pick(3);
		st.num = pick(3);
		ret = ioctl(v->vhost, VHOST_VDPA_SET_GROUP_ASID, &st);
		if (!ret)
			reach.vhost_asid++;
		break;
	case 9:
		st.num = pick(2);
		ret = ioctl(v->vhost, VHOST_VDPA_SET_VRING_ENABLE, &st);
		break;
	case 10:
		ret = ioctl(v->vhost, VHOST_VDPA_GET_STATUS, &st.num);
		break;
	case 11:
		ret = ioctl(v->vhost, VHOST_VDPA_GET_VRING_GROUP, &st);
		break;
	default:
		vmm_daemon_touch(v);
		return;
	}
	reach.vhost_ok += !ret;
}

static void fuzz_vhost_session(struct fuzz *f, unsigned int nr)
{
	struct vduse_vq_config vq = { .index = 0, .max_size = 64 };
	uint64_t features = BIT_ULL(VDUSE_F_QUEUE_READY) |
			    BIT_ULL(VDUSE_F_SUSPEND) | BIT_ULL(VDUSE_F_RESUME);
	uint64_t ours = (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2) |
			(1ULL << VHOST_BACKEND_F_IOTLB_BATCH) |
			(1ULL << VHOST_BACKEND_F_IOTLB_ASID) |
			(1ULL << VHOST_BACKEND_F_SUSPEND) |
			(1ULL << VHOST_BACKEND_F_RESUME) |
			(1ULL << VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK);
	struct vduse_test_config c;
	struct fz_daemon *z;
	struct vmm v = { .vhost = -1, .fd = -1, .kick = -1, .call = -1 };
	struct vhost_vring_state st;
	char name[16], path[128];
	int ctrl, i, n, mfd;

	z = calloc(1, sizeof(*z));
	if (!z)
		return;
	reach.vhost_sessions++;
	snprintf(name, sizeof(name), "fzv%u", nr % 2);
	ctrl = vduse_ctrl_open();
	if (ctrl < 0 || vduse_ctrl_set_api(ctrl, VDUSE_API_VERSION_1) ||
	    ioctl(ctrl, VDUSE_SET_FEATURES, &features))
		goto out_ctrl;
	vduse_test_blk_config(&c, name);
	((struct virtio_blk_config *)c.cfg.config)->capacity = 0;
	c.cfg.vq_num = 2;
	c.cfg.ngroups = 2;
	c.cfg.nas = 2;
	if (vduse_create(ctrl, &c))
		goto out_ctrl;
	f->created++;
	snprintf(path, sizeof(path), VDUSE_SYSFS_CLASS "/%s/msg_timeout",
		 name);
	vduse_sysfs_write(path, S_TIMEOUT_STR);
	v.fd = vduse_dev_open(name);
	if (v.fd < 0 || ioctl(v.fd, VDUSE_VQ_SETUP, &vq))
		goto out_dev;
	vq.index = 1;
	vq.group = 1;
	if (ioctl(v.fd, VDUSE_VQ_SETUP, &vq))
		goto out_dev;

	z->rng = rnd() | 1;
	z->d.fd = v.fd;
	if (pthread_create(&z->d.thread, NULL, fz_daemon_main, z))
		goto out_dev;
	if (vduse_vdpa_add(name, 60))
		goto out_daemon;
	v.vhost = vduse_vdpa_to_vhost(name);
	if (v.vhost < 0)
		goto out_del;
	reach.vhost_attached++;
	mfd = memfd_create("fuzz-vmm", MFD_CLOEXEC);
	if (mfd < 0 || ftruncate(mfd, V_MEM))
		goto out_vhost;
	v.mem = mmap(NULL, V_MEM, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	close(mfd);
	if (v.mem == MAP_FAILED) {
		v.mem = NULL;
		goto out_vhost;
	}
	v.kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	v.call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ioctl(v.vhost, VHOST_SET_OWNER) ||
	    ioctl(v.vhost, VHOST_GET_BACKEND_FEATURES, &v.backend))
		goto out_vhost;
	v.backend &= ours;
	if (ioctl(v.vhost, VHOST_SET_BACKEND_FEATURES, &v.backend) ||
	    vmm_iotlb(&v, 0, VHOST_IOTLB_UPDATE, V_IOVA, V_MEM))
		goto out_vhost;

	/* Mischief for the VMM only: virtio-blk let go of it cleanly. */
	__atomic_store_n(&z->mischief, nr & 1, __ATOMIC_RELEASE);
	/*
	 * Once in order, what a VMM does around a migration: group 1 to
	 * space 1, start, suspend, read the base, resume.  Then at random.
	 */
	st.index = 1;
	st.num = 1;
	reach.vhost_asid += !ioctl(v.vhost, VHOST_VDPA_SET_GROUP_ASID, &st);
	reach.vhost_driver_ok += !vmm_drive(&v);
	if (!ioctl(v.vhost, VHOST_VDPA_SUSPEND)) {
		reach.vhost_suspend++;
		st.index = 0;
		ioctl(v.vhost, VHOST_GET_VRING_BASE, &st);
		reach.vhost_resume += !ioctl(v.vhost, VHOST_VDPA_RESUME);
	}
	n = 60 + pick(60);
	for (i = 0; i < n; i++)
		vmm_step(&v);

out_vhost:
	/* Closing it resets the device. */
	close(v.vhost);
	if (v.mem)
		munmap(v.mem, V_MEM);
	if (v.kick >= 0)
		close(v.kick);
	if (v.call >= 0)
		close(v.call);
out_del:
	if (vduse_vdpa_del(name, 60))
		reach.del_failures++;
	snprintf(path, sizeof(path), VDUSE_SYSFS_CLASS "/%s/broken", name);
	if (vduse_sysfs_read(path, path, sizeof(path)) > 0 && path[0] == '1')
		reach.broken++;
out_daemon:
	__atomic_store_n(&z->d.stop, 1, __ATOMIC_RELEASE);
	pthread_join(z->d.thread, NULL);
out_dev:
	if (v.fd >= 0)
		close(v.fd);
	if (!vduse_destroy(ctrl, name))
		f->destroyed++;
out_ctrl:
	if (ctrl >= 0)
		close(ctrl);
	printf("# session %u %s vhost%s\n", nr, name,
	       nr & 1 ? " mischief" : "");
	free(z);
}

static int count_fds(void)
{
	struct dirent *e;
	int n = 0;
	DIR *d;

	d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/*
 * Destroy every device in /sys/class/vduse but the control node; returns
 * how many were destroyed, or with @left how many are there.
 */
static unsigned int destroy_all(int ctrl, int left)
{
	unsigned int n = 0;
	struct dirent *e;
	DIR *d;

	d = opendir(VDUSE_SYSFS_CLASS);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, "control"))
			continue;
		if (left)
			n++;
		else
			n += !vduse_destroy(ctrl, e->d_name);
	}
	closedir(d);
	return n;
}

static void report(const struct fuzz *f)
{
	static const char *const types[] = {
		"GET_VQ_STATE", "SET_STATUS", "UPDATE_IOTLB",
		"SET_VQ_GROUP_ASID", "SET_VQ_READY", "SUSPEND", "RESUME",
	};
	unsigned int t;

	printf("# %lu calls, %lu failed as they should or could\n",
	       f->calls, f->errors);
	printf("# %u devices created, %u destroyed; %u silent attaches\n",
	       f->created, f->destroyed, f->silent_attaches);
	printf("# sessions %u (clean %u): DRIVER_OK %u, disks %u\n",
	       reach.sessions, reach.clean, reach.driver_ok, reach.disks);
	printf("# I/Os %lu (errors %lu), chaos ops %u\n",
	       reach.ios, reach.io_errors, reach.chaos_ops);
	printf("# answers: %u taken, %u refused, %u late, %u overdue,",
	       reach.answered, reach.refused, reach.late, reach.overdue);
	printf(" %u never, %u twice, %u junk first; %u extra taken;",
	       reach.never, reach.twice, reach.junk, reach.extra_taken);
	printf(" %u broken\n", reach.broken);
	printf("# vhost-vdpa: %u sessions, %u attached, %u VMM steps",
	       reach.vhost_sessions, reach.vhost_attached, reach.vhost_ops);
	printf(" (%u succeeded), DRIVER_OK %u, IOTLB %u, suspend %u,",
	       reach.vhost_ok, reach.vhost_driver_ok, reach.vhost_iotlb,
	       reach.vhost_suspend);
	printf(" resume %u, group ASID %u, daemon maps %u\n",
	       reach.vhost_resume, reach.vhost_asid, reach.vhost_maps);
	printf("# requests read (answered OK):");
	for (t = 0; t < ARRAY_SIZE(types); t++)
		printf("%s %u (%u) %s", t ? "," : "", reach.req_seen[t],
		       reach.req_ok[t], types[t]);
	printf("\n# pages: %u maps, %lu pages touched, %u SIGBUS",
	       reach.maps, reach.touched, reach.sigbus);
	printf(" (%u where not documented)\n", reach.sigbus_wrong);
	printf("# umem %u registered, %u deregistered, %u misuses",
	       reach.umem_reg, reach.umem_dereg, reach.umem_misuse);
	printf(" (%u wrong errno)\n", reach.umem_wrong);
}

FIXTURE(fuzz) {
	int unused;
};

FIXTURE_SETUP(fuzz)
{
	int ctrl = vduse_ctrl_open();

	ASSERT_LE(0, ctrl);
	/* Devices are counted: there must be none before. */
	ASSERT_EQ(0, destroy_all(ctrl, 1))
		TH_LOG("devices left by an earlier test in " VDUSE_SYSFS_CLASS);
	close(ctrl);
}

FIXTURE_TEARDOWN(fuzz)
{
}

/* Generous: the runner's own timeout is the one that counts. */
TEST_F_TIMEOUT(fuzz, run, 1800)
{
	const char *s = getenv("VDUSE_FUZZ_SEED");
	const char *n = getenv("VDUSE_FUZZ_ITERS");
	unsigned long iters = n ? strtoul(n, NULL, 0) : DEFAULT_ITERS;
	uint64_t seed = s ? strtoull(s, NULL, 0) : DEFAULT_SEED;
	unsigned long every = OPS_PER_SESSION;
	unsigned int sessions = 0, served = 0, vhosts = 0;
	struct sigaction sa;
	uint64_t next;
	struct fuzz f;
	int ctrl, fds, i;
	unsigned long k;
	char path[64];

	rng = seed ? seed : 1;
	printf("# seed=%llu iterations=%lu (VDUSE_FUZZ_SEED=%llu VDUSE_FUZZ_ITERS=%lu replays)\n",
	       (unsigned long long)seed, iters, (unsigned long long)seed,
	       iters);
	fflush(stdout);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigbus;
	sa.sa_flags = SA_NODEFER;
	ASSERT_EQ(0, sigaction(SIGBUS, &sa, NULL));

	memset(&f, 0, sizeof(f));
	memset(&reach, 0, sizeof(reach));
	fds = count_fds();
	for (i = 0; i < NR_CTRL; i++)
		f.ctrl[i] = -1;
	for (i = 0; i < NR_NAMES; i++)
		f.dev[i] = -1;
	f.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, f.efd);
	ASSERT_EQ(0, pipe(f.pipefd));
	f.buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, f.buf);
	ctrl = vduse_ctrl_open();
	ASSERT_LE(0, ctrl);

	for (k = 0; k < iters; k++) {
		/*
		 * What a session draws depends on timing; the operations
		 * after it do not: they go on from a value drawn before.
		 */
		if (k % every == every / 2) {
			next = rnd();
			/* One in five through vhost-vdpa. */
			if (sessions++ % 5 == 4)
				fuzz_vhost_session(&f, vhosts++);
			else
				fuzz_session(&f, ctrl, served++);
			fflush(stdout);
			rng = next;
		}
		switch (pick(20)) {
		case 0 ... 5:
			fuzz_ctrl(&f);
			break;
		case 6 ... 17:
			fuzz_dev(&f);
			break;
		case 18:
			fuzz_sysfs(&f);
			break;
		default:
			/* An attach with nobody answering: seconds each. */
			if (!pick(100) && f.silent_attaches < 3) {
				next = rnd();
				fuzz_silent_attach(&f);
				rng = next;
			}
			break;
		}
	}

	/* Everything goes away, renamed devices too. */
	for (i = 0; i < NR_CTRL; i++)
		if (f.ctrl[i] >= 0)
			close(f.ctrl[i]);
	for (i = 0; i < NR_NAMES; i++)
		if (f.dev[i] >= 0)
			close(f.dev[i]);
	for (i = 0; i < NR_NAMES; i++)
		vduse_vdpa_del(name_of(i), 30);
	f.destroyed += destroy_all(ctrl, 0);
	close(ctrl);

	report(&f);

	/* Reach: the run got to the places it is meant to test. */
	EXPECT_LT(0U, reach.sessions);
	EXPECT_LT(0U, reach.req_seen[req_slot(VDUSE_UPDATE_IOTLB)]);
	EXPECT_LT(0U, reach.driver_ok);
	EXPECT_LT(0U, reach.disks);
	EXPECT_LT(0U, reach.answered);
	EXPECT_LT(0UL, reach.ios);
	EXPECT_LT(0U, reach.maps);
	EXPECT_LT(0UL, reach.touched);
	EXPECT_LT(0U, reach.umem_reg);
	EXPECT_LT(0U, reach.umem_dereg);
	EXPECT_LT(0U, f.created);
	EXPECT_LT(f.errors, f.calls);
	EXPECT_LT(0UL, f.errors);
	if (vhosts) {
		EXPECT_LT(0U, reach.vhost_attached);
		EXPECT_LT(0U, reach.vhost_driver_ok);
		EXPECT_LT(0U, reach.vhost_iotlb);
		EXPECT_LT(0U, reach.vhost_asid);
		EXPECT_LT(0U, reach.vhost_maps);
		/*
		 * vhost-vdpa's SUSPEND before DRIVER_OK succeeds without
		 * asking: a device suspended is one the daemon said OK to.
		 */
		EXPECT_LT(0U, reach.req_ok[req_slot(VDUSE_SUSPEND)]);
		EXPECT_LT(0U, reach.req_ok[req_slot(VDUSE_RESUME)]);
		EXPECT_LT(0U, reach.req_ok[req_slot(VDUSE_GET_VQ_STATE)]);
		EXPECT_LT(0U, reach.req_ok[req_slot(VDUSE_SET_VQ_GROUP_ASID)]);
		EXPECT_LT(0U, reach.req_ok[req_slot(VDUSE_SET_VQ_READY)]);
	}
	if (served >= 4) {
		/* Every kind of session ran. */
		EXPECT_LT(0U, reach.refused + reach.late + reach.twice +
			      reach.junk + reach.overdue + reach.never);
		EXPECT_LT(0U, reach.chaos_ops);
		EXPECT_LT(0U, reach.sigbus);
	}
	/* What the driver must get right on the way. */
	EXPECT_EQ(0U, reach.clean_failures);
	EXPECT_EQ(0U, reach.extra_taken);
	EXPECT_EQ(0U, reach.sigbus_wrong);
	EXPECT_EQ(0U, reach.umem_wrong);
	EXPECT_EQ(0U, reach.del_failures);

	/* Every device created was destroyed; nothing is left. */
	EXPECT_EQ(f.created, f.destroyed);
	ctrl = vduse_ctrl_open();
	ASSERT_LE(0, ctrl);
	EXPECT_EQ(0, destroy_all(ctrl, 1));
	close(ctrl);
	for (i = 0; i < NR_NAMES; i++) {
		snprintf(path, sizeof(path), "/dev/vduse/%s", name_of(i));
		EXPECT_NE(0, access(path, F_OK));
	}
	close(f.efd);
	close(f.pipefd[0]);
	close(f.pipefd[1]);
	munmap(f.buf, BUF_SIZE);
	EXPECT_EQ(fds, count_fds());
}

TEST_HARNESS_MAIN
