// SPDX-License-Identifier: GPL-2.0
/*
 * What an operator sees of a device: the per-queue counters (sysfs
 * vqN/stats, and vdpa vstats for a net device), the message counters
 * (sysfs stats/) and the tracepoints, each checked against what a
 * scripted daemon and known I/O did.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/virtio_blk.h>

#include "../kselftest_harness.h"
#include "vduse_lib.h"

#define NAME		"vduse-observe-test"
#define SYSFS		VDUSE_SYSFS_CLASS "/" NAME
#define CAPACITY	8192	/* sectors: 4 MiB */
#define TRACING		"/sys/kernel/tracing"
#define READS		64

FIXTURE(observe) {
	int ctrl;
	int fd;
	struct vduse_test_config c;
	struct vduse_ctl_daemon ctl;
	struct vduse_blk_server srv;
	int serving;
};

FIXTURE_SETUP(observe)
{
	struct vduse_vq_config vq = { .index = 0, .max_size = 128 };
	struct virtio_blk_config *blk;

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
	self->srv.disk = calloc(CAPACITY, 512);
	ASSERT_NE(NULL, self->srv.disk);

	memset(&self->ctl, 0, sizeof(self->ctl));
	ASSERT_EQ(0, vduse_ctl_daemon_start(&self->ctl, self->fd));
}

FIXTURE_TEARDOWN(observe)
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

static int attach(struct _test_data_observe *self)
{
	if (vduse_blk_server_start(&self->srv))
		return -1;
	self->serving = 1;
	return vduse_vdpa_add(NAME, 60);
}

/* vqN/stats: kicks, kicks held, irqs injected, callbacks here, elsewhere. */
struct vq_stats {
	unsigned long long kicks, held, irqs, local, remote;
};

static int vq_stats(int vq, struct vq_stats *st)
{
	char path[128], buf[256];

	snprintf(path, sizeof(path), SYSFS "/vq%d/stats", vq);
	if (vduse_sysfs_read(path, buf, sizeof(buf)) <= 0)
		return -1;
	return sscanf(buf, "%llu %llu %llu %llu %llu", &st->kicks, &st->held,
		      &st->irqs, &st->local, &st->remote) == 5 ? 0 : -1;
}

static long long msg_stat(const char *name)
{
	char path[128], buf[64];

	snprintf(path, sizeof(path), SYSFS "/stats/%s", name);
	if (vduse_sysfs_read(path, buf, sizeof(buf)) <= 0)
		return -1;
	return atoll(buf);
}

/* Reads READS separate 4 KiB blocks, one at a time; 0 if all came. */
static int sync_reads(const char *path)
{
	void *buf;
	int dev, i, ret = 0;

	dev = open(path, O_RDONLY | O_DIRECT);
	if (dev < 0 || posix_memalign(&buf, 4096, 4096))
		return -1;
	for (i = 0; i < READS && !ret; i++)
		ret = pread(dev, buf, 4096, (off_t)i * 8192) != 4096;
	free(buf);
	close(dev);
	return ret;
}

static int blockdev(char *path, size_t size)
{
	return vduse_dev_path("/sys/bus/vdpa/devices/" NAME "/virtio*/block/vd*",
			      path, size);
}

/*
 * The queue's counters after READS reads at queue depth 1: one kick and
 * one request per read, one injection per pass of the daemon that
 * completed something, and a callback for each injection (or fewer,
 * when injections come while a remote run is pending).  Nothing is held
 * while the device runs.  The bounce counters saw each read's buffers.
 * The message counters saw the status handshake and no failure.
 */
TEST_F(observe, queue_and_message_counters_after_known_io)
{
	struct vq_stats a, b;
	unsigned int served, injects;
	long long maps, to_dev, from_dev;
	char path[64];

	ASSERT_EQ(0, vq_stats(0, &a));
	EXPECT_EQ(0, a.kicks + a.held + a.irqs + a.local + a.remote);
	EXPECT_EQ(-1, vq_stats(1, &a));
	/* No domain before the first attachment. */
	EXPECT_EQ(0, msg_stat("bounce_maps"));

	ASSERT_EQ(0, attach(self));
	ASSERT_EQ(0, blockdev(path, sizeof(path)));
	ASSERT_EQ(0, vq_stats(0, &a));
	maps = msg_stat("bounce_maps");
	to_dev = msg_stat("bounce_to_device_bytes");
	from_dev = msg_stat("bounce_from_device_bytes");
	served = __atomic_load_n(&self->srv.served, __ATOMIC_ACQUIRE);
	injects = __atomic_load_n(&self->srv.injects, __ATOMIC_ACQUIRE);

	ASSERT_EQ(0, sync_reads(path));

	ASSERT_EQ(0, vq_stats(0, &b));
	served = __atomic_load_n(&self->srv.served, __ATOMIC_ACQUIRE) - served;
	injects = __atomic_load_n(&self->srv.injects, __ATOMIC_ACQUIRE) -
		  injects;
	EXPECT_EQ(READS, served);
	EXPECT_EQ(served, b.kicks - a.kicks);
	EXPECT_EQ(0, b.held - a.held);
	EXPECT_EQ(injects, b.irqs - a.irqs);
	EXPECT_LE(1, (b.local - a.local) + (b.remote - a.remote));
	EXPECT_GE(b.irqs - a.irqs, (b.local - a.local) + (b.remote - a.remote));
	/*
	 * Each read maps its header (out), its 4 KiB of data and its status
	 * byte (both in): at least 3 mappings, the header's 16 bytes copied
	 * to the device and 4097 bytes copied back.
	 */
	EXPECT_LE(3 * READS, msg_stat("bounce_maps") - maps);
	EXPECT_LE(16 * READS, msg_stat("bounce_to_device_bytes") - to_dev);
	EXPECT_LE(4097 * READS,
		  msg_stat("bounce_from_device_bytes") - from_dev);

	/* ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK at least. */
	EXPECT_LE(4, msg_stat("sent_set_status"));
	EXPECT_EQ(0, msg_stat("failed"));
	EXPECT_EQ(0, msg_stat("timed_out"));
	EXPECT_EQ(0, msg_stat("sent_suspend"));
	EXPECT_LE(0, msg_stat("wait_max_us"));
	EXPECT_EQ(0, vduse_vdpa_del(NAME, 60));
	EXPECT_LE(1, msg_stat("sent_update_iotlb"));
}

static int tracing(int on)
{
	int fd;

	if (access(TRACING "/trace", F_OK) &&
	    system("mount -t tracefs nodev " TRACING " 2>/dev/null"))
		return -1;
	if (!on)
		return vduse_sysfs_write(TRACING "/events/vduse/enable", "0");
	/* No sched_switch hook: see vduse_blk_serve_test's trace note. */
	if (vduse_sysfs_write(TRACING "/options/record-cmd", "0"))
		return -1;
	fd = open(TRACING "/trace", O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -1;
	close(fd);
	if (vduse_sysfs_write(TRACING "/tracing_on", "1"))
		return -1;
	return vduse_sysfs_write(TRACING "/events/vduse/enable", "1");
}

/* Lines of the trace that contain every one of the strings given. */
static int trace_count(const char *a, const char *b, const char *c)
{
	char line[1024];
	int n = 0;
	FILE *f = fopen(TRACING "/trace", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, a) && (!b || strstr(line, b)) &&
		     (!c || strstr(line, c));
	fclose(f);
	return n;
}

/*
 * The events a scripted daemon's life must produce: the status
 * handshake sent and answered, DRIVER_OK set, the queue enabled, kicks
 * and injections, the IOTLB update at detach; then a daemon that stops
 * answering: the reset times out and the device breaks.
 */
TEST_F(observe, tracepoints_of_a_scripted_daemon)
{
	char path[64];

	/* Enabled before any of our code runs, so nothing is mid-patch. */
	ASSERT_EQ(0, tracing(1));
	ASSERT_EQ(0, attach(self));
	ASSERT_EQ(0, blockdev(path, sizeof(path)));
	ASSERT_EQ(0, sync_reads(path));

	EXPECT_LE(4, trace_count("vduse_msg_send: " NAME " SET_STATUS", NULL,
				 NULL));
	EXPECT_LE(4, trace_count("vduse_msg_done: " NAME " SET_STATUS",
				 "ret=0 ", NULL));
	EXPECT_EQ(1, trace_count("vduse_set_status: " NAME, "-> 0x0f",
				 "ret=0"));
	EXPECT_EQ(1, trace_count("vduse_vq_ready: " NAME " vq0 ready=1", NULL,
				 NULL));
	EXPECT_LE(READS, trace_count("vduse_vq_kick: " NAME " vq0", NULL,
				     NULL));
	EXPECT_LE(1, trace_count("vduse_vq_inject: " NAME " vq0", NULL, NULL));
	EXPECT_EQ(0, trace_count("vduse_broken: " NAME, NULL, NULL));

	EXPECT_EQ(0, vduse_vdpa_del(NAME, 60));
	EXPECT_LE(1, trace_count("vduse_iotlb_update: " NAME, "asid=0", NULL));
	EXPECT_LE(1, trace_count("vduse_msg_done: " NAME " UPDATE_IOTLB",
				 "ret=0 ", NULL));

	/* Nobody answers any more: the next request times out. */
	vduse_ctl_daemon_stop(&self->ctl);
	ASSERT_EQ(0, vduse_sysfs_write(SYSFS "/msg_timeout", "1"));
	vduse_vdpa_add(NAME, 60);
	EXPECT_EQ(1, trace_count("vduse_msg_done: " NAME, "ret=-110 ",
				 "waited_us="));
	EXPECT_EQ(1, trace_count("vduse_broken: " NAME, NULL, NULL));
	EXPECT_EQ(1, msg_stat("timed_out"));
	EXPECT_LE(1000000, msg_stat("wait_max_us"));
	tracing(0);
	/* The teardown stops the daemon again: give it a fresh one. */
	memset(&self->ctl, 0, sizeof(self->ctl));
	ASSERT_EQ(0, vduse_ctl_daemon_start(&self->ctl, self->fd));
}

TEST_HARNESS_MAIN
