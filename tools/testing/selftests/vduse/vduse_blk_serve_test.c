// SPDX-License-Identifier: GPL-2.0
/*
 * A virtio-blk device served by this test from its own memory, through
 * the bounce domain: the kernel's virtio-blk driver reads what the daemon
 * holds and the daemon receives what the driver writes.  Also: a daemon
 * that exits and another that takes the running device over, kicks that
 * arrive before the eventfd, interrupt affinity, where completions run,
 * daemon memory (umem), requests a departed daemon left in flight,
 * VDUSE_IOTLB_GET_FD's rules, the bounce domain's lifetime across
 * detaches, kick/irq ioctl errors and the sysfs attributes.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/virtio_blk.h>

#include "../kselftest_harness.h"
#include "vduse_lib.h"

#define NAME		"vduse-serve-test"
#define SYSFS		VDUSE_SYSFS_CLASS "/" NAME
#define CAPACITY	8192	/* sectors: 4 MiB */

FIXTURE(serve) {
	int ctrl;
	int fd;
	struct vduse_test_config c;
	struct vduse_ctl_daemon ctl;
	struct vduse_blk_server srv;
	int serving;
};

static uint8_t pattern(uint64_t off)
{
	return (off >> 9) * 31 + (off & 511) * 7;
}

FIXTURE_SETUP(serve)
{
	struct vduse_vq_config vq = { .index = 0, .max_size = 128 };
	struct virtio_blk_config *blk;
	uint64_t i;

	self->serving = 0;
	self->ctrl = vduse_ctrl_open();
	ASSERT_LE(0, self->ctrl);
	vduse_test_blk_config(&self->c, NAME);
	blk = (void *)self->c.cfg.config;
	blk->capacity = CAPACITY;
	ASSERT_EQ(0, vduse_create_anew(self->ctrl, &self->c));
	self->fd = vduse_dev_open(NAME);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioctl(self->fd, VDUSE_VQ_SETUP, &vq));
	ASSERT_EQ(0, vduse_sysfs_write(SYSFS "/msg_timeout", "20"));

	memset(&self->srv, 0, sizeof(self->srv));
	self->srv.fd = self->fd;
	self->srv.ctl = &self->ctl;
	self->srv.capacity = CAPACITY;
	self->srv.bounce_size = 64 << 20;
	self->srv.disk = malloc(CAPACITY * 512);
	ASSERT_NE(NULL, self->srv.disk);
	for (i = 0; i < CAPACITY * 512; i++)
		self->srv.disk[i] = pattern(i);

	memset(&self->ctl, 0, sizeof(self->ctl));
	ASSERT_EQ(0, vduse_ctl_daemon_start(&self->ctl, self->fd));
}

FIXTURE_TEARDOWN(serve)
{
	vduse_vdpa_del(NAME, 30);
	if (self->serving)
		vduse_blk_server_stop(&self->srv);
	vduse_ctl_daemon_stop(&self->ctl);
	close(self->fd);
	EXPECT_EQ(0, vduse_destroy(self->ctrl, NAME));
	close(self->ctrl);
	free(self->srv.disk);
}

static int blockdev(char *path, size_t size)
{
	return vduse_dev_path("/sys/bus/vdpa/devices/" NAME "/virtio*/block/vd*",
			      path, size);
}

static int attach(struct _test_data_serve *self, int kick_delay_ms)
{
	self->srv.kick_delay_ms = kick_delay_ms;
	if (vduse_blk_server_start(&self->srv))
		return -1;
	self->serving = 1;
	return vduse_vdpa_add(NAME, 60);
}

TEST_F(serve, driver_reads_and_writes_daemon_memory)
{
	size_t len = 128 * 1024;
	char path[64];
	uint8_t *buf;
	size_t i;
	int dev;

	/*
	 * The eventfd comes 300 ms after DRIVER_OK: the partition scan's
	 * first read kicks before it, and must not be lost (vdpa dev add
	 * waits for that read).
	 */
	ASSERT_EQ(0, attach(self, 300));
	ASSERT_EQ(0, blockdev(path, sizeof(path)));
	dev = open(path, O_RDWR | O_DIRECT);
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, posix_memalign((void **)&buf, 4096, len));

	/* Daemon -> driver. */
	ASSERT_EQ(len, pread(dev, buf, len, 1 << 20));
	for (i = 0; i < len; i++)
		if (buf[i] != pattern((1 << 20) + i))
			break;
	EXPECT_EQ(len, i);

	/* Driver -> daemon, and back. */
	for (i = 0; i < len; i++)
		buf[i] = rand();
	ASSERT_EQ(len, pwrite(dev, buf, len, 2 << 20));
	ASSERT_EQ(0, fsync(dev));
	EXPECT_EQ(0, memcmp(buf, self->srv.disk + (2 << 20), len));
	memset(self->srv.disk + (2 << 20), 0x5a, 4096);
	ASSERT_EQ(len, pread(dev, buf, len, 2 << 20));
	EXPECT_EQ(0x5a, buf[0]);
	EXPECT_EQ(0x5a, buf[4095]);
	EXPECT_EQ(0, memcmp(buf + 4096, self->srv.disk + (2 << 20) + 4096,
			    len - 4096));

	/*
	 * Writes and reads of odd sizes in turn: the reads' bounce pages are
	 * the ones the writes just filled, so any byte a mapping does not
	 * own shows up stale if the domain does not clear it.
	 */
	for (i = 1; i <= 16; i++) {
		size_t n = i * 4096 + (i % 3) * 512;
		size_t k;

		for (k = 0; k < n; k++)
			buf[k] = rand() | 1;
		ASSERT_EQ(n, pwrite(dev, buf, n, 3 << 20));
		ASSERT_EQ(n, pread(dev, buf, n, 3 << 20));
	}

	close(dev);
	free(buf);
	EXPECT_LT(0U, __atomic_load_n(&self->srv.served, __ATOMIC_RELAXED));
	EXPECT_EQ(0, __atomic_load_n(&self->srv.error, __ATOMIC_RELAXED));
	/* Nothing but the request's own bytes in any bounce page. */
	EXPECT_EQ(0U, __atomic_load_n(&self->srv.stale, __ATOMIC_RELAXED));
	EXPECT_EQ(0, vduse_vdpa_del(NAME, 60));
}

/*
 * Read len bytes at off and compare them with the daemon's pattern:
 * 1 if they match, 0 if they do not, -1 if the read fell short.
 */
static int read_matches(int dev, uint8_t *buf, size_t len, off_t off)
{
	size_t i;

	if (pread(dev, buf, len, off) != (ssize_t)len)
		return -1;
	for (i = 0; i < len; i++)
		if (buf[i] != pattern(off + i))
			return 0;
	return 1;
}

struct bg_read {
	const char *path;
	int done;		/* __atomic */
	int ok;
	int err;		/* errno of a read that failed */
};

/* One 64 KiB read at 1 MiB, checked against the daemon's pattern. */
static void *bg_read_main(void *arg)
{
	struct bg_read *r = arg;
	size_t len = 64 * 1024;
	uint8_t *buf;
	int dev;

	dev = open(r->path, O_RDONLY | O_DIRECT);
	if (dev >= 0 && !posix_memalign((void **)&buf, 4096, len)) {
		int m = read_matches(dev, buf, len, 1 << 20);

		r->ok = m == 1;
		if (m < 0)
			r->err = errno;
		free(buf);
	}
	if (dev >= 0)
		close(dev);
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * The daemon exits with the device attached and in use; a read issued
 * while no daemon is there waits, and completes with the right data once
 * another daemon has opened the node, repeated its setup and resumed at
 * the used ring's index.
 */
TEST_F(serve, another_daemon_takes_over)
{
	struct vduse_vq_config vq = { .index = 0, .max_size = 128 };
	struct bg_read r = { 0 };
	char path[64];
	pthread_t t;
	int i;

	ASSERT_EQ(0, attach(self, 0));
	ASSERT_EQ(0, blockdev(path, sizeof(path)));
	r.path = path;

	/* The daemon goes: its threads, then its file. */
	vduse_blk_server_stop(&self->srv);
	self->serving = 0;
	vduse_ctl_daemon_stop(&self->ctl);
	close(self->fd);

	ASSERT_EQ(0, pthread_create(&t, NULL, bg_read_main, &r));
	for (i = 0; i < 50; i++)
		usleep(10000);
	EXPECT_EQ(0, __atomic_load_n(&r.done, __ATOMIC_ACQUIRE));

	/* The new daemon: same setup accepted, a change refused. */
	self->fd = vduse_dev_open(NAME);
	ASSERT_LE(0, self->fd);
	EXPECT_EQ(0, ioctl(self->fd, VDUSE_VQ_SETUP, &vq));
	vq.max_size = 64;
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_VQ_SETUP, &vq));
	EXPECT_EQ(EBUSY, errno);
	memset(&self->ctl, 0, sizeof(self->ctl));
	ASSERT_EQ(0, vduse_ctl_daemon_start(&self->ctl, self->fd));
	self->srv.fd = self->fd;
	self->srv.resume = 1;
	ASSERT_EQ(0, vduse_blk_server_start(&self->srv));
	self->serving = 1;

	pthread_join(t, NULL);
	EXPECT_TRUE(r.ok);
	EXPECT_EQ(0, __atomic_load_n(&self->srv.error, __ATOMIC_RELAXED));
	EXPECT_EQ(0, vduse_vdpa_del(NAME, 60));
}

#define TRACING	"/sys/kernel/tracing"

/*
 * Work items that ran vduse_vq_irq_work, from the workqueue trace: how
 * many, and how many of them on CPU cpu.
 */
static int irq_work_cpus(int cpu, int *on_cpu)
{
	char line[512], tag[16];
	int n = 0;
	FILE *f;

	*on_cpu = 0;
	snprintf(tag, sizeof(tag), "[%03d]", cpu);
	f = fopen(TRACING "/trace", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, "vduse_vq_irq_work"))
			continue;
		n++;
		*on_cpu += !!strstr(line, tag);
	}
	fclose(f);
	return n;
}

/*
 * Start tracing work items afresh, or stop.  Enabling an event patches
 * kernel text, which under TCG has killed the guest with an int3 Oops
 * when another CPU ran the patched code meanwhile (__schedule(), for the
 * sched_switch hook that records command names).  So that hook is never
 * set (record-cmd off before any event is on), the event is enabled
 * once and stays so, and only the ring buffer is switched on and off.
 */
static int trace_irq_works(int on)
{
	int fd;

	if (access(TRACING "/trace", F_OK) &&
	    system("mount -t tracefs nodev " TRACING " 2>/dev/null"))
		return -1;
	if (!on)
		return vduse_sysfs_write(TRACING "/tracing_on", "0");

	if (vduse_sysfs_write(TRACING "/options/record-cmd", "0") ||
	    vduse_sysfs_write(TRACING
			"/events/workqueue/workqueue_execute_start/enable",
			"1"))
		return -1;
	/* Opening the trace with O_TRUNC empties it. */
	fd = open(TRACING "/trace", O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -1;
	close(fd);
	return vduse_sysfs_write(TRACING "/tracing_on", "1");
}

/*
 * Run this thread on CPU @cpu only, or on every online CPU when @cpu is
 * negative.  Returns sched_setaffinity()'s result.
 */
static int pin_self(int cpu)
{
	long i, n = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	CPU_ZERO(&set);
	if (cpu >= 0)
		CPU_SET(cpu, &set);
	else
		for (i = 0; i < n && i < CPU_SETSIZE; i++)
			CPU_SET(i, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/*
 * vq0/irq_cb_affinity: read and written as a hex CPU mask, refused when
 * empty, malformed or naming CPUs that cannot exist.
 */
TEST_F(serve, irq_cb_affinity_attribute)
{
	const char *path = SYSFS "/vq0/irq_cb_affinity";
	char buf[256];

	ASSERT_LT(0, vduse_sysfs_read(path, buf, sizeof(buf)));
	EXPECT_EQ(0, vduse_sysfs_write(path, "1"));
	ASSERT_LT(0, vduse_sysfs_read(path, buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);
	EXPECT_EQ(-EINVAL, vduse_sysfs_write(path, "0"));
	EXPECT_EQ(-EINVAL, vduse_sysfs_write(path, "xyz"));
	EXPECT_EQ(-EINVAL, vduse_sysfs_write(path, "8000000000000000"));
	ASSERT_LT(0, vduse_sysfs_read(path, buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);
	EXPECT_NE(0, access(SYSFS "/vq1", F_OK));
}

/*
 * The driver's callback runs where vq0/irq_cb_affinity says: with this
 * thread on CPU 0 and the mask on CPU 1, the injected interrupts run in
 * a work item on CPU 1 (seen in the workqueue trace; those injected
 * while one is pending share it); with the mask on CPU 0, none does.
 * The reasons to skip come before any check: a SKIP() after a failed
 * EXPECT would report the failure as a skip.
 */
TEST_F(serve, irq_cb_affinity)
{
	const char *path = SYSFS "/vq0/irq_cb_affinity";
	int i, n, on1;
	uint32_t vq = 0;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "one CPU: nowhere else to run");
	if (trace_irq_works(1))
		SKIP(return, "no tracefs");

	ASSERT_EQ(0, pin_self(0));
	ASSERT_EQ(0, attach(self, 0));
	/* Whatever mask the queue had: ours now. */
	EXPECT_EQ(0, vduse_sysfs_write(path, "2"));
	trace_irq_works(1);
	for (i = 0; i < 50; i++) {
		ASSERT_EQ(0, ioctl(self->fd, VDUSE_VQ_INJECT_IRQ, &vq));
		if (i % 10 == 9)
			usleep(20000);
	}
	/* The ioctl does not wait for the other CPU. */
	usleep(200000);
	n = irq_work_cpus(1, &on1);
	EXPECT_LE(5, n);
	EXPECT_EQ(n, on1);

	EXPECT_EQ(0, vduse_sysfs_write(path, "1"));
	trace_irq_works(1);
	for (i = 0; i < 50; i++)
		ASSERT_EQ(0, ioctl(self->fd, VDUSE_VQ_INJECT_IRQ, &vq));
	EXPECT_EQ(0, irq_work_cpus(1, &on1));
	trace_irq_works(0);

	pin_self(-1);
	EXPECT_EQ(0, vduse_vdpa_del(NAME, 60));
}

/* The NUMA node of CPU @cpu, from sysfs; 0 without NUMA. */
static int cpu_node(int cpu)
{
	char path[64];
	int node;

	for (node = 0; node < 64; node++) {
		snprintf(path, sizeof(path),
			 "/sys/devices/system/cpu/cpu%d/node%d", cpu, node);
		if (!access(path, F_OK))
			return node;
	}
	return 0;
}

/*
 * A callback injected on a CPU outside the affinity runs on the first
 * online CPU of it after the injecting one (wrapping), in the injecting
 * CPU's node when that has one: not on the mask's first CPU for every
 * injecting CPU.  From each CPU in turn, with the mask every CPU but
 * that one.  With two CPUs this only checks that it is the other one;
 * run with VDUSE_VM_CPUS=4 (and VDUSE_VM_NUMA=2) to see the choice.
 */
TEST_F(serve, irq_other_cpu_follows_the_injecting_one)
{
	const char *path = SYSFS "/vq0/irq_cb_affinity";
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int cpu, c, i, n, on, want, node[32];
	uint32_t vq = 0;
	char mask[32];

	if (cpus < 2)
		SKIP(return, "one CPU: nowhere else to run");
	if (cpus > 32)
		cpus = 32;
	if (trace_irq_works(1))
		SKIP(return, "no tracefs");
	ASSERT_EQ(0, attach(self, 0));

	for (cpu = 0; cpu < cpus; cpu++)
		node[cpu] = cpu_node(cpu);
	for (cpu = 0; cpu < cpus; cpu++) {
		want = -1;
		for (i = 1; i < cpus && want < 0; i++) {
			c = (cpu + i) % cpus;
			if (node[c] == node[cpu])
				want = c;
		}
		if (want < 0)
			want = (cpu + 1) % cpus;

		ASSERT_EQ(0, pin_self(cpu));
		snprintf(mask, sizeof(mask), "%lx",
			 ((1UL << cpus) - 1) & ~(1UL << cpu));
		ASSERT_EQ(0, vduse_sysfs_write(path, mask));
		trace_irq_works(1);
		for (i = 0; i < 5; i++) {
			ASSERT_EQ(0, ioctl(self->fd, VDUSE_VQ_INJECT_IRQ, &vq));
			usleep(20000);
		}
		usleep(100000);
		n = irq_work_cpus(want, &on);
		TH_LOG("from CPU %d (node %d): %d remote runs, %d on CPU %d",
		       cpu, node[cpu], n, on, want);
		EXPECT_LE(1, n);
		EXPECT_EQ(n, on);
	}
	trace_irq_works(0);

	pin_self(-1);
	EXPECT_EQ(0, vduse_vdpa_del(NAME, 60));
}

/* vq0/stats: callbacks run on the injecting CPU and elsewhere; 0 if read. */
static int cb_counts(unsigned long long *local, unsigned long long *remote)
{
	char buf[256];

	if (vduse_sysfs_read(SYSFS "/vq0/stats", buf, sizeof(buf)) <= 0)
		return -1;
	return sscanf(buf, "%*u %*u %*u %llu %llu", local, remote) == 2 ?
	       0 : -1;
}

/* Direct reads of bs bytes, n of them, each checked; 0 if all good. */
static int reads(const char *path, size_t bs, int n)
{
	uint8_t *buf;
	int dev, i, ok = 1;

	dev = open(path, O_RDONLY | O_DIRECT);
	if (dev < 0)
		return -1;
	if (posix_memalign((void **)&buf, 4096, bs)) {
		close(dev);
		return -1;
	}
	for (i = 0; i < n && ok; i++)
		ok = read_matches(dev, buf, bs,
				  (i * bs) % (CAPACITY * 512)) == 1;
	free(buf);
	close(dev);
	return ok ? 0 : -1;
}

/*
 * The callback runs where injected when that CPU is in the queue's
 * affinity, and on a CPU of the mask otherwise, whatever it costs: with
 * the daemon's thread on CPU 0, reads small and large all count in
 * callbacks_local while the mask holds CPU 0, and none does, some in
 * callbacks_remote, while it holds only CPU 1.
 */
TEST_F(serve, irq_runs_where_injected_inside_the_mask)
{
	static const struct {
		const char *mask;
		size_t bs;
	} run[] = {
		{ "1", 4096 }, { "1", 1 << 20 }, { "3", 1 << 20 },
		{ "2", 4096 }, { "2", 1 << 20 },
	};
	unsigned long long l0, r0, l1, r1;
	char path[128];
	unsigned int i;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "one CPU: nowhere else to run");

	/* The server's thread inherits this one's CPU. */
	ASSERT_EQ(0, pin_self(0));
	ASSERT_EQ(0, attach(self, 0));
	ASSERT_EQ(0, pin_self(1));
	ASSERT_EQ(0, blockdev(path, sizeof(path)));

	for (i = 0; i < ARRAY_SIZE(run); i++) {
		ASSERT_EQ(0, vduse_sysfs_write(SYSFS "/vq0/irq_cb_affinity",
					       run[i].mask));
		ASSERT_EQ(0, cb_counts(&l0, &r0));
		ASSERT_EQ(0, reads(path, run[i].bs, 16));
		/* A remote run may still be on its way. */
		usleep(100000);
		ASSERT_EQ(0, cb_counts(&l1, &r1));
		TH_LOG("mask %s, 16 reads of %zu: %llu local, %llu remote",
		       run[i].mask, run[i].bs, l1 - l0, r1 - r0);
		if (strcmp(run[i].mask, "2")) {
			EXPECT_LE(16, l1 - l0);
			EXPECT_EQ(0, r1 - r0);
		} else {
			EXPECT_EQ(0, l1 - l0);
			EXPECT_LE(1, r1 - r0);
		}
	}

	pin_self(-1);
	EXPECT_EQ(0, vduse_vdpa_del(NAME, 60));
}

/* VmLck of this process, in kB; -1 if unknown. */
static long vm_locked_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

struct reader {
	const char *path;
	const uint8_t *disk;	/* the daemon's, for the writer's checks */
	int stop;		/* __atomic */
	unsigned int reads;	/* __atomic */
	int bad;
};

/* Reads of known data in a loop, until told to stop; counts bad ones. */
static void *reader_main(void *arg)
{
	struct reader *r = arg;
	size_t len = 64 * 1024;
	uint8_t *buf;
	int dev, ret;

	dev = open(r->path, O_RDONLY | O_DIRECT);
	if (dev < 0 || posix_memalign((void **)&buf, 4096, len)) {
		r->bad++;
		return NULL;
	}
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		off_t off = (off_t)(rand() % 48) * len;

		ret = read_matches(dev, buf, len, off);
		if (ret < 0) {
			r->bad++;
			break;
		}
		r->bad += !ret;
		__atomic_fetch_add(&r->reads, 1, __ATOMIC_RELAXED);
	}
	free(buf);
	close(dev);
	return NULL;
}

/*
 * Writes in a loop to the last MiB, where the reader does not look: each
 * 64 KiB block a new pattern, read back through the device and checked in
 * the daemon's disk too; counts bad ones.
 */
static void *writer_main(void *arg)
{
	struct reader *r = arg;
	size_t len = 64 * 1024, i;
	uint8_t *buf, *back;
	unsigned int gen = 0;
	int dev;

	dev = open(r->path, O_RDWR | O_DIRECT);
	if (dev < 0 || posix_memalign((void **)&buf, 4096, len) ||
	    posix_memalign((void **)&back, 4096, len)) {
		r->bad++;
		return NULL;
	}
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		off_t off = (off_t)(48 + gen % 16) * len;

		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)(gen * 13 + i * 5);
		if (pwrite(dev, buf, len, off) != (ssize_t)len ||
		    pread(dev, back, len, off) != (ssize_t)len) {
			r->bad++;
			break;
		}
		r->bad += !!memcmp(buf, back, len) ||
			  !!memcmp(buf, r->disk + off, len);
		__atomic_fetch_add(&r->reads, 1, __ATOMIC_RELAXED);
		gen++;
	}
	free(buf);
	free(back);
	close(dev);
	return NULL;
}

/*
 * The daemon stops touching buffers while its memory comes or goes, as
 * vduse.rst asks: wait until the server has finished the turn it is in.
 */
static void server_pause(struct vduse_blk_server *srv)
{
	unsigned int p;

	__atomic_store_n(&srv->paused, 1, __ATOMIC_RELEASE);
	p = __atomic_load_n(&srv->passes, __ATOMIC_ACQUIRE);
	while (__atomic_load_n(&srv->passes, __ATOMIC_ACQUIRE) - p < 2)
		usleep(1000);
}

static void server_resume(struct vduse_blk_server *srv)
{
	__atomic_store_n(&srv->paused, 0, __ATOMIC_RELEASE);
}

static int umem_reg(struct vduse_blk_server *srv, int fd,
		    struct vduse_iova_umem *u)
{
	int ret;

	server_pause(srv);
	ret = ioctl(fd, VDUSE_IOTLB_REG_UMEM, u);
	if (!ret)
		__atomic_store_n(&srv->iova.umem,
				 (uint8_t *)(uintptr_t)u->uaddr,
				 __ATOMIC_RELEASE);
	server_resume(srv);
	return ret;
}

static int umem_dereg(struct vduse_blk_server *srv, int fd,
		      struct vduse_iova_umem *u)
{
	int ret;

	server_pause(srv);
	__atomic_store_n(&srv->iova.umem, NULL, __ATOMIC_RELEASE);
	ret = ioctl(fd, VDUSE_IOTLB_DEREG_UMEM, u);
	server_resume(srv);
	return ret;
}

static void wait_reads(struct reader *r, unsigned int n)
{
	unsigned int start = __atomic_load_n(&r->reads, __ATOMIC_ACQUIRE);
	int i;

	for (i = 0; i < 2000; i++) {
		if (__atomic_load_n(&r->reads, __ATOMIC_ACQUIRE) - start >= n)
			return;
		usleep(5000);
	}
}

/*
 * Daemon memory behind the bounce range: the misuses and their errnos,
 * I/O served from the daemon's memory with the data checked, the locked
 * memory accounted and given back, deregistration while reads run (the
 * daemon stops using its memory first, as documented), registration
 * cycles under reads and checked writes, and memory still registered at
 * detach given back.
 */
TEST_F(serve, umem)
{
	const size_t bsz = 64 << 20;
	struct vduse_iova_umem u = { .size = bsz }, by_range = { .size = bsz };
	struct vduse_iova_info info = { .start = 4096, .last = 4096 };
	struct reader r = { 0 }, w = { 0 };
	long locked;
	uint8_t *mem, *ro;
	char path[64];
	pthread_t t, tw;
	int i;

	mem = mmap(NULL, bsz, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ro = mmap(NULL, bsz, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_NE(MAP_FAILED, ro);
	u.uaddr = (uintptr_t)mem;

	locked = vm_locked_kb();

	/* Nothing to put it behind before the device is attached. */
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_IOTLB_REG_UMEM, &u));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_IOTLB_GET_INFO, &info));
	EXPECT_EQ(ENODEV, errno);

	ASSERT_EQ(0, attach(self, 0));
	ASSERT_EQ(0, blockdev(path, sizeof(path)));
	r.path = path;

	ASSERT_EQ(0, ioctl(self->fd, VDUSE_IOTLB_GET_INFO, &info));
	EXPECT_EQ(0, info.start);
	EXPECT_EQ(bsz - 1, info.last);
	EXPECT_EQ(VDUSE_IOVA_CAP_UMEM, info.capability);
	info.start = 1ULL << 50;
	info.last = info.start;
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_IOTLB_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	info.start = 0;
	info.last = 0;
	info.reserved[0] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_IOTLB_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);

	/* The range is exact, the memory aligned and writable. */
	u.iova = 4096;
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_IOTLB_REG_UMEM, &u));
	EXPECT_EQ(EINVAL, errno);
	u.iova = 0;
	u.size = bsz / 2;
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_IOTLB_REG_UMEM, &u));
	EXPECT_EQ(EINVAL, errno);
	/* Sizes checked before anything is allocated or pinned. */
	u.size = 2ULL << 40;
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_IOTLB_REG_UMEM, &u));
	EXPECT_EQ(EINVAL, errno);
	u.size = 300ULL << 30;
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_IOTLB_REG_UMEM, &u));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(locked, vm_locked_kb());
	u.size = bsz;
	u.uaddr += 8;
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_IOTLB_REG_UMEM, &u));
	EXPECT_EQ(EINVAL, errno);
	u.uaddr = (uintptr_t)mem;
	u.reserved[2] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_IOTLB_REG_UMEM, &u));
	EXPECT_EQ(EINVAL, errno);
	u.reserved[2] = 0;
	u.asid = 1;
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_IOTLB_REG_UMEM, &u));
	EXPECT_EQ(EINVAL, errno);
	u.asid = 0;
	u.uaddr = (uintptr_t)ro;
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_IOTLB_REG_UMEM, &u));
	EXPECT_EQ(EFAULT, errno);
	u.uaddr = (uintptr_t)mem;
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_IOTLB_DEREG_UMEM, &u));
	EXPECT_EQ(EINVAL, errno);

	/* Registered: pinned and accounted, once. */
	self->srv.iova.umem_size = bsz;
	ASSERT_EQ(0, umem_reg(&self->srv, self->fd, &u));
	EXPECT_EQ(locked + (long)(bsz >> 10), vm_locked_kb());
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_IOTLB_REG_UMEM, &u));
	EXPECT_EQ(EEXIST, errno);

	/* Served from the daemon's memory, the data checked by the reader. */
	ASSERT_EQ(0, pthread_create(&t, NULL, reader_main, &r));
	wait_reads(&r, 20);
	EXPECT_LT(0U, __atomic_load_n(&self->srv.iova.umem_hits,
				      __ATOMIC_RELAXED));

	/* Deregistered with reads in flight; a wrong address first. */
	u.uaddr += 4096;
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_IOTLB_DEREG_UMEM, &u));
	EXPECT_EQ(EINVAL, errno);
	u.uaddr = (uintptr_t)mem;
	EXPECT_EQ(0, umem_dereg(&self->srv, self->fd, &u));
	EXPECT_EQ(locked, vm_locked_kb());
	wait_reads(&r, 20);

	/* Cycles, with reads and checked writes going on. */
	w.path = path;
	w.disk = self->srv.disk;
	ASSERT_EQ(0, pthread_create(&tw, NULL, writer_main, &w));
	for (i = 0; i < 20; i++) {
		ASSERT_EQ(0, umem_reg(&self->srv, self->fd, &u));
		wait_reads(&r, 3);
		wait_reads(&w, 3);
		/* Every other time as a mainline daemon: iova and size only. */
		ASSERT_EQ(0, umem_dereg(&self->srv, self->fd,
					i & 1 ? &by_range : &u));
		wait_reads(&w, 1);
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&w.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	pthread_join(tw, NULL);
	EXPECT_EQ(0, r.bad);
	EXPECT_LT(50U, r.reads);
	EXPECT_EQ(0, w.bad);
	EXPECT_LT(40U, w.reads);
	TH_LOG("%u checked reads, %u checked writes across 20 cycles",
	       r.reads, w.reads);
	EXPECT_EQ(0, __atomic_load_n(&self->srv.error, __ATOMIC_RELAXED));
	EXPECT_EQ(0U, __atomic_load_n(&self->srv.stale, __ATOMIC_RELAXED));

	/*
	 * The domain outlives a detach, and the memory stays behind it, as
	 * with mainline: registered until deregistered or the daemon goes.
	 */
	ASSERT_EQ(0, umem_reg(&self->srv, self->fd, &u));
	EXPECT_EQ(0, vduse_vdpa_del(NAME, 60));
	EXPECT_EQ(locked + (long)(bsz >> 10), vm_locked_kb());
	EXPECT_EQ(0, ioctl(self->fd, VDUSE_IOTLB_DEREG_UMEM, &u));
	EXPECT_EQ(locked, vm_locked_kb());
	EXPECT_EQ(0, ioctl(self->fd, VDUSE_IOTLB_REG_UMEM, &u));
	EXPECT_EQ(locked + (long)(bsz >> 10), vm_locked_kb());
	EXPECT_EQ(0, ioctl(self->fd, VDUSE_IOTLB_DEREG_UMEM, &u));
	EXPECT_EQ(locked, vm_locked_kb());
	munmap(mem, bsz);
	munmap(ro, bsz);
}

TEST_F(serve, iotlb_get_fd)
{
	struct vduse_iotlb_entry e = { .start = 4096, .last = 4096 };
	struct vduse_iova_info ii = { .start = 64 << 20, .last = ~0ULL };
	struct vduse_vq_info info = { .index = 0 };
	void *p;
	int fd;

	/* Nothing is mapped before the device is attached. */
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_IOTLB_GET_FD, &e));
	EXPECT_EQ(EINVAL, errno);

	ASSERT_EQ(0, attach(self, 0));
	ASSERT_EQ(0, ioctl(self->fd, VDUSE_VQ_GET_INFO, &info));

	e.start = info.desc_addr;
	e.last = info.desc_addr;
	fd = ioctl(self->fd, VDUSE_IOTLB_GET_FD, &e);
	ASSERT_LE(0, fd);
	EXPECT_EQ(VDUSE_ACCESS_RW, e.perm);
	EXPECT_LE(e.start, info.desc_addr);
	EXPECT_GE(e.last, info.desc_addr);
	/* The daemon's writes must reach the driver: no private mappings. */
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, e.offset);
	EXPECT_EQ(MAP_FAILED, p);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, e.offset);
	EXPECT_NE(MAP_FAILED, p);
	if (p != MAP_FAILED)
		munmap(p, 4096);
	close(fd);

	/* The bounce range. */
	e.start = 4096;
	e.last = 4096;
	fd = ioctl(self->fd, VDUSE_IOTLB_GET_FD, &e);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0ULL, e.start);
	EXPECT_EQ((64ULL << 20) - 1, e.last);
	close(fd);

	/*
	 * As with mainline, the first range that overlaps [start, last],
	 * not only the one at start: from the end of the bounce range on,
	 * a coherent allocation (the rings live there).
	 */
	e.start = 64 << 20;
	e.last = ~0ULL;
	fd = ioctl(self->fd, VDUSE_IOTLB_GET_FD, &e);
	ASSERT_LE(0, fd);
	EXPECT_LT(64ULL << 20, e.start);
	EXPECT_LE(e.start, e.last);
	close(fd);
	ASSERT_EQ(0, ioctl(self->fd, VDUSE_IOTLB_GET_INFO, &ii));
	EXPECT_LT(64ULL << 20, ii.start);
	EXPECT_EQ(0ULL, ii.capability);
	ii.start = 0;
	ii.last = ~0ULL;
	ASSERT_EQ(0, ioctl(self->fd, VDUSE_IOTLB_GET_INFO, &ii));
	EXPECT_EQ(0ULL, ii.start);
	EXPECT_EQ((64ULL << 20) - 1, ii.last);
	EXPECT_EQ(VDUSE_IOVA_CAP_UMEM, ii.capability);
	/* A span that ends before it starts is EINVAL. */
	e.start = 8192;
	e.last = 4096;
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_IOTLB_GET_FD, &e));
	EXPECT_EQ(EINVAL, errno);
	ii.start = 8192;
	ii.last = 4096;
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_IOTLB_GET_INFO, &ii));
	EXPECT_EQ(EINVAL, errno);

	/* Far beyond anything mapped. */
	e.start = 1ULL << 50;
	e.last = e.start;
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_IOTLB_GET_FD, &e));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_IOTLB_GET_FD, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, vduse_vdpa_del(NAME, 60));
}

static sigjmp_buf probe_env;

static void probe_sigbus(int sig)
{
	siglongjmp(probe_env, 1);
}

/* The byte at p, or -1 if reading it raises SIGBUS. */
static int probe(const uint8_t *p)
{
	struct sigaction sa = { .sa_handler = probe_sigbus }, old;
	int ret;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(probe_env, 1))
		ret = -1;
	else
		ret = __atomic_load_n(p, __ATOMIC_RELAXED);
	sigaction(SIGBUS, &old, NULL);
	return ret;
}

/* Bytes of [p, p + len) that are not c, or -1 on SIGBUS. */
static long probe_differ(const uint8_t *p, size_t len, uint8_t c)
{
	long n = 0;
	size_t i;
	int v;

	for (i = 0; i < len; i += 512) {
		v = probe(p + i);
		if (v < 0)
			return -1;
		n += v != c;
	}
	return n;
}

/* Detached: a new server for the next attachment, then attach. */
static int reattach(struct _test_data_serve *self)
{
	vduse_blk_server_stop(&self->srv);
	self->serving = 0;
	/* The new server starts serving on the next DRIVER_OK. */
	__atomic_store_n(&self->ctl.statuses, 0, __ATOMIC_RELEASE);
	return attach(self, 0);
}

/* Two pages of the bounce range at IOVA 4096, mapped shared; or NULL. */
static uint8_t *map_bounce(int devfd, uint64_t *last)
{
	struct vduse_iotlb_entry e = { .start = 4096, .last = 8191 };
	void *p;
	int fd;

	fd = ioctl(devfd, VDUSE_IOTLB_GET_FD, &e);
	if (fd < 0)
		return NULL;
	*last = e.last;
	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 e.offset + 4096 - e.start);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

/*
 * What a daemon maps of the bounce range lives as long as the device, as
 * with mainline: a detach (vdpa dev del) changes nothing in it, and
 * VDUSE_IOTLB_GET_FD and daemon memory keep working.  The pages at IOVA
 * 4096 are the last the driver's mappings use (the bounce allocator
 * works down from the top), so what the test writes there stays.  Only
 * a new bounce_size (at the next attach) or the device's end takes the
 * domain away: the mappings of it then get SIGBUS, never freed memory.
 * (A fault after the domain went used to read its freed page array:
 * run this on the KASAN kernel too.)
 */
TEST_F(serve, bounce_mapping_outlives_detach)
{
	struct vduse_vq_config vq = { .index = 0, .max_size = 128 };
	uint8_t *p, *q;
	uint64_t last;

	ASSERT_EQ(0, attach(self, 0));
	p = map_bounce(self->fd, &last);
	ASSERT_NE(NULL, p);
	EXPECT_EQ((64ULL << 20) - 1, last);
	memset(p, 0x5a, 8192);

	EXPECT_EQ(0, vduse_vdpa_del(NAME, 60));
	EXPECT_EQ(0, probe_differ(p, 8192, 0x5a));
	memset(p, 0xa5, 8192);
	/* The same pages through a new file descriptor, detached. */
	q = map_bounce(self->fd, &last);
	ASSERT_NE(NULL, q);
	EXPECT_EQ(0, probe_differ(q, 8192, 0xa5));
	munmap(q, 8192);

	/* Attached again, with the same size: the same domain. */
	ASSERT_EQ(0, reattach(self));
	EXPECT_EQ(0, probe_differ(p, 8192, 0xa5));
	EXPECT_EQ(0, vduse_vdpa_del(NAME, 60));

	/* Another size: a new domain; the old one's mappings are gone. */
	ASSERT_EQ(0, vduse_sysfs_write(SYSFS "/bounce_size", "33554432"));
	self->srv.bounce_size = 32 << 20;
	ASSERT_EQ(0, reattach(self));
	EXPECT_EQ(-1, probe(p));
	munmap(p, 8192);
	q = map_bounce(self->fd, &last);
	ASSERT_NE(NULL, q);
	EXPECT_EQ((32ULL << 20) - 1, last);
	EXPECT_EQ(0, probe_differ(q, 8192, 0));
	memset(q, 0x3c, 8192);
	EXPECT_EQ(0, vduse_vdpa_del(NAME, 60));
	EXPECT_EQ(0, probe_differ(q, 8192, 0x3c));

	/* The device's end takes its domain: SIGBUS, not freed memory. */
	vduse_blk_server_stop(&self->srv);
	self->serving = 0;
	vduse_ctl_daemon_stop(&self->ctl);
	close(self->fd);
	ASSERT_EQ(0, vduse_destroy(self->ctrl, NAME));
	EXPECT_EQ(-1, probe(q));
	munmap(q, 8192);

	/* A device again, for the teardown. */
	ASSERT_EQ(0, vduse_create_anew(self->ctrl, &self->c));
	self->fd = vduse_dev_open(NAME);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioctl(self->fd, VDUSE_VQ_SETUP, &vq));
	memset(&self->ctl, 0, sizeof(self->ctl));
	ASSERT_EQ(0, vduse_ctl_daemon_start(&self->ctl, self->fd));
}

TEST_F(serve, kick_and_irq_errors)
{
	struct vduse_vq_eventfd ev = { .index = 1 };
	uint32_t vq = 0;
	int pipefd[2];

	ev.fd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, ev.fd);
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_VQ_SETUP_KICKFD, &ev));
	EXPECT_EQ(EINVAL, errno);
	ev.index = 0;
	EXPECT_EQ(0, ioctl(self->fd, VDUSE_VQ_SETUP_KICKFD, &ev));
	/* Replacing and removing it. */
	EXPECT_EQ(0, ioctl(self->fd, VDUSE_VQ_SETUP_KICKFD, &ev));
	close(ev.fd);
	ev.fd = VDUSE_EVENTFD_DEASSIGN;
	EXPECT_EQ(0, ioctl(self->fd, VDUSE_VQ_SETUP_KICKFD, &ev));

	ev.fd = 999;	/* not open */
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_VQ_SETUP_KICKFD, &ev));
	EXPECT_EQ(EBADF, errno);
	ev.fd = -7;
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_VQ_SETUP_KICKFD, &ev));
	EXPECT_EQ(EBADF, errno);
	ASSERT_EQ(0, pipe(pipefd));
	ev.fd = pipefd[0];	/* not an eventfd */
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_VQ_SETUP_KICKFD, &ev));
	EXPECT_EQ(EINVAL, errno);
	close(pipefd[0]);
	close(pipefd[1]);

	/* No interrupts before DRIVER_OK, none for queues that do not exist. */
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_VQ_INJECT_IRQ, &vq));
	EXPECT_EQ(EINVAL, errno);
	vq = 1;
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_VQ_INJECT_IRQ, &vq));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_DEV_INJECT_CONFIG_IRQ));
	EXPECT_EQ(EINVAL, errno);
}

/*
 * The smallest bounce range mainline accepts, 1 MiB, under a driver
 * told it may send 126 segments a request (as qemu-storage-daemon
 * says): a 1 MiB read must not be retried for ever for want of room.
 */
TEST_F(serve, smallest_bounce_range_carries_large_requests)
{
	struct vduse_vq_config vq = { .index = 0, .max_size = 128 };
	struct virtio_blk_config *blk = (void *)self->c.cfg.config;
	char path[64], in[80];
	const char *const dd[] = { "dd", in, "of=/dev/null", "bs=1M",
				   "count=8", "iflag=direct", "status=none",
				   NULL };

	/* The same device, with VIRTIO_BLK_F_SEG_MAX. */
	vduse_ctl_daemon_stop(&self->ctl);
	close(self->fd);
	ASSERT_EQ(0, vduse_destroy(self->ctrl, NAME));
	self->c.cfg.features |= 1ULL << VIRTIO_BLK_F_SEG_MAX;
	blk->seg_max = 126;
	ASSERT_EQ(0, vduse_create_anew(self->ctrl, &self->c));
	self->fd = vduse_dev_open(NAME);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioctl(self->fd, VDUSE_VQ_SETUP, &vq));
	ASSERT_EQ(0, vduse_sysfs_write(SYSFS "/msg_timeout", "20"));
	memset(&self->ctl, 0, sizeof(self->ctl));
	ASSERT_EQ(0, vduse_ctl_daemon_start(&self->ctl, self->fd));
	self->srv.fd = self->fd;

	ASSERT_EQ(0, vduse_sysfs_write(SYSFS "/bounce_size", "1048576"));
	self->srv.bounce_size = 1 << 20;
	ASSERT_EQ(0, attach(self, 0));
	ASSERT_EQ(0, blockdev(path, sizeof(path)));
	snprintf(in, sizeof(in), "if=%s", path);
	EXPECT_EQ(0, vduse_run(60, dd));
	EXPECT_EQ(0, __atomic_load_n(&self->srv.error, __ATOMIC_RELAXED));
}

TEST_F(serve, sysfs_attributes)
{
	static const char * const bad_timeouts[] = { "abc", "-1", "86401",
						     "99999999999", "1x" };
	static const char * const bad_bounce[] = { "4096", "1048575",
		"1073741825", "2147483648", "0", "x", "-1",
		"99999999999999999999999" };
	char buf[64];
	size_t i;

	ASSERT_EQ(0, vduse_sysfs_write(SYSFS "/msg_timeout", "7"));
	ASSERT_LT(0, vduse_sysfs_read(SYSFS "/msg_timeout", buf, sizeof(buf)));
	EXPECT_STREQ("7", buf);
	for (i = 0; i < ARRAY_SIZE(bad_timeouts); i++)
		EXPECT_EQ(-EINVAL, vduse_sysfs_write(SYSFS "/msg_timeout",
						     bad_timeouts[i]))
			TH_LOG("msg_timeout value %zu", i);
	ASSERT_LT(0, vduse_sysfs_read(SYSFS "/msg_timeout", buf, sizeof(buf)));
	EXPECT_STREQ("7", buf);

	ASSERT_LT(0, vduse_sysfs_read(SYSFS "/bounce_size", buf, sizeof(buf)));
	EXPECT_STREQ("67108864", buf);
	for (i = 0; i < ARRAY_SIZE(bad_bounce); i++)
		EXPECT_EQ(-EINVAL, vduse_sysfs_write(SYSFS "/bounce_size",
						     bad_bounce[i]))
			TH_LOG("bounce_size value %zu", i);
	/* What mainline takes: decimal from 1 MiB, aligned down. */
	ASSERT_EQ(0, vduse_sysfs_write(SYSFS "/bounce_size", "1052671"));
	ASSERT_LT(0, vduse_sysfs_read(SYSFS "/bounce_size", buf, sizeof(buf)));
	EXPECT_STREQ("1048576", buf);
	ASSERT_EQ(0, vduse_sysfs_write(SYSFS "/bounce_size", "04194304"));
	ASSERT_LT(0, vduse_sysfs_read(SYSFS "/bounce_size", buf, sizeof(buf)));
	EXPECT_STREQ("4194304", buf);
	ASSERT_LT(0, vduse_sysfs_read(SYSFS "/broken", buf, sizeof(buf)));
	EXPECT_STREQ("0", buf);

	/* The smallest bounce range carries I/O; it cannot change now. */
	ASSERT_EQ(0, vduse_sysfs_write(SYSFS "/msg_timeout", "20"));
	self->srv.bounce_size = 4 << 20;
	ASSERT_EQ(0, attach(self, 0));
	EXPECT_EQ(-EBUSY, vduse_sysfs_write(SYSFS "/bounce_size", "0x800000"));
	EXPECT_EQ(0, vduse_vdpa_del(NAME, 60));
	EXPECT_EQ(0, vduse_sysfs_write(SYSFS "/bounce_size", "0x800000"));
	ASSERT_LT(0, vduse_sysfs_read(SYSFS "/bounce_size", buf, sizeof(buf)));
	EXPECT_STREQ("8388608", buf);
}

/* Wait up to 10 s for the background read to end. */
static int bg_read_wait(struct bg_read *r)
{
	int i;

	for (i = 0; i < 1000; i++) {
		if (__atomic_load_n(&r->done, __ATOMIC_ACQUIRE))
			return 1;
		usleep(10000);
	}
	return 0;
}

/*
 * A read the driver put on the ring (the kick reached the daemon) while
 * the daemon, paused, does not serve it; then the daemon goes, file and
 * all.  The read stays in flight: a daemon may yet come back for it.
 */
static void daemon_leaves_read_in_flight(struct _test_data_serve *self,
					 struct __test_metadata *_metadata,
					 char *path, struct bg_read *r,
					 pthread_t *t)
{
	int i;

	ASSERT_EQ(0, attach(self, 0));
	ASSERT_EQ(0, blockdev(path, 64));
	r->path = path;

	server_pause(&self->srv);
	__atomic_store_n(&self->srv.kicks_while_paused, 0, __ATOMIC_RELEASE);
	ASSERT_EQ(0, pthread_create(t, NULL, bg_read_main, r));
	for (i = 0; i < 1000; i++) {
		if (__atomic_load_n(&self->srv.kicks_while_paused,
				    __ATOMIC_ACQUIRE))
			break;
		usleep(10000);
	}
	EXPECT_EQ(1, __atomic_load_n(&self->srv.kicks_while_paused,
				     __ATOMIC_ACQUIRE));

	vduse_blk_server_stop(&self->srv);
	self->serving = 0;
	vduse_ctl_daemon_stop(&self->ctl);
	close(self->fd);
	self->fd = -1;

	/* Not answered by the kernel: the daemon may reconnect. */
	for (i = 0; i < 50; i++)
		usleep(10000);
	EXPECT_EQ(0, __atomic_load_n(&r->done, __ATOMIC_ACQUIRE));
}

/* A daemon for the detached device, as the teardown expects. */
static int daemon_back(struct _test_data_serve *self)
{
	self->fd = vduse_dev_open(NAME);
	if (self->fd < 0)
		return -1;
	memset(&self->ctl, 0, sizeof(self->ctl));
	return vduse_ctl_daemon_start(&self->ctl, self->fd);
}

/*
 * The daemon died with a read in flight and the device is removed:
 * nobody can ever complete the read, and virtio-blk's remove waits for
 * it (del_gendisk() drains the queue).  The kernel fails it with
 * VIRTIO_BLK_S_IOERR: vdpa dev del ends, the reader gets EIO.
 */
TEST_F(serve, removed_with_read_in_flight)
{
	struct bg_read r = { 0 };
	char path[64];
	pthread_t t;

	daemon_leaves_read_in_flight(self, _metadata, path, &r, &t);
	/* The reset after the drain waits this long for no daemon. */
	ASSERT_EQ(0, vduse_sysfs_write(SYSFS "/msg_timeout", "1"));

	ASSERT_EQ(0, vduse_vdpa_del(NAME, 60));
	ASSERT_TRUE(bg_read_wait(&r));
	pthread_join(t, NULL);
	EXPECT_FALSE(r.ok);
	EXPECT_EQ(EIO, r.err);
	ASSERT_EQ(0, daemon_back(self));
}

/*
 * The same read in flight, and a new daemon instead of a removal: it
 * resumes the ring and completes the read with the disk's data; the
 * kernel failed nothing meanwhile.
 */
TEST_F(serve, restart_completes_read_in_flight)
{
	struct vduse_vq_config vq = { .index = 0, .max_size = 128 };
	struct bg_read r = { 0 };
	char path[64];
	pthread_t t;

	daemon_leaves_read_in_flight(self, _metadata, path, &r, &t);

	ASSERT_EQ(0, daemon_back(self));
	EXPECT_EQ(0, ioctl(self->fd, VDUSE_VQ_SETUP, &vq));
	self->srv.fd = self->fd;
	self->srv.resume = 1;
	ASSERT_EQ(0, vduse_blk_server_start(&self->srv));
	self->serving = 1;

	ASSERT_TRUE(bg_read_wait(&r));
	pthread_join(t, NULL);
	EXPECT_TRUE(r.ok);
	EXPECT_EQ(0, __atomic_load_n(&self->srv.error, __ATOMIC_RELAXED));
	EXPECT_EQ(0, vduse_vdpa_del(NAME, 60));
}

TEST_HARNESS_MAIN
