// SPDX-License-Identifier: GPL-2.0
/*
 * A seeded, bounded fuzzer for the VDUSE nodes: random sequences of
 * ioctls with random and half-valid arguments, reads, writes, polls,
 * mmaps and closes on the control node and on device nodes, sysfs
 * writes, and now and then an attach and detach.  The seed is printed;
 * VDUSE_FUZZ_SEED=N replays a run, VDUSE_FUZZ_ITERS=N sets its length.
 *
 * What it asserts: no call crashes or hangs the kernel (the runner fails
 * the test on any BUG, WARNING, lockdep or KASAN report), every device it
 * created can be detached and destroyed at the end, and no file
 * descriptor is left behind by the kernel.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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
#include <linux/virtio_net.h>

#include "../kselftest_harness.h"
#include "vduse_lib.h"

#define NR_NAMES	4
#define NR_CTRL		2
#define BUF_SIZE	8192

static uint64_t rng;

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible from the seed alone. */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
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
	unsigned int attaches;
	unsigned long calls, errors;
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

static void fuzz_dev(struct fuzz *f)
{
	unsigned int i = pick(NR_NAMES);
	struct pollfd pfd;
	unsigned long cmd;
	char path[64];
	int fd, ret;
	size_t len;
	void *m;

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
	fd = f->dev[i];
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

static void fuzz_attach(struct fuzz *f)
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
	f->attaches++;
	vduse_vdpa_add(name, 30);
	/*
	 * Attached (the driver may have given up on a device nobody
	 * answers, but the bounce domain and the IOTLB exist): fuzz the
	 * device nodes for a while before detaching.
	 */
	for (i = 0; i < 2000; i++)
		fuzz_dev(f);
	vduse_vdpa_del(name, 30);
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

TEST(fuzz)
{
	const char *s = getenv("VDUSE_FUZZ_SEED");
	const char *n = getenv("VDUSE_FUZZ_ITERS");
	unsigned long iters = n ? strtoul(n, NULL, 0) : 20000;
	uint64_t seed = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL);
	struct fuzz f;
	int ctrl, fds, i;
	unsigned long k;
	char path[64];

	rng = seed ? seed : 1;
	printf("# seed=%llu iterations=%lu (VDUSE_FUZZ_SEED=%llu replays)\n",
	       (unsigned long long)seed, iters, (unsigned long long)seed);
	fflush(stdout);

	memset(&f, 0, sizeof(f));
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

	for (k = 0; k < iters; k++) {
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
			/* A handful of attaches per run: each takes seconds. */
			if (!pick(100) && f.attaches < 8)
				fuzz_attach(&f);
			break;
		}
	}
	printf("# %lu calls, %lu failed as they should or could, %u attaches\n",
	       f.calls, f.errors, f.attaches);

	/* Everything goes away. */
	for (i = 0; i < NR_CTRL; i++)
		if (f.ctrl[i] >= 0)
			close(f.ctrl[i]);
	for (i = 0; i < NR_NAMES; i++)
		if (f.dev[i] >= 0)
			close(f.dev[i]);
	ctrl = vduse_ctrl_open();
	ASSERT_LE(0, ctrl);
	for (i = 0; i < NR_NAMES; i++) {
		vduse_vdpa_del(name_of(i), 30);
		vduse_destroy(ctrl, name_of(i));
		snprintf(path, sizeof(path), "/dev/vduse/%s", name_of(i));
		EXPECT_NE(0, access(path, F_OK));
	}
	close(ctrl);
	close(f.efd);
	close(f.pipefd[0]);
	close(f.pipefd[1]);
	munmap(f.buf, BUF_SIZE);
	EXPECT_EQ(fds, count_fds());
}

TEST_HARNESS_MAIN
