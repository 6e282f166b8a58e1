// SPDX-License-Identifier: GPL-2.0
/*
 * Things that happen at the same time: opening a node while it is being
 * destroyed, injecting interrupts while the driver detaches, and what
 * every ioctl leaves behind in the file table.  The bench fails a test
 * whose run makes the kernel log a warning, so "no crash" is checked too.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_blk.h>

#include "../kselftest_harness.h"
#include "vduse_lib.h"

#define NAME	"vduse-race-test"

struct racer {
	int stop;	/* __atomic */
	unsigned long rounds, hits;
	int fd;
};

static int seconds_passed(struct timespec *t0, int s)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec - t0->tv_sec >= s;
}

static void *open_close_loop(void *arg)
{
	struct racer *r = arg;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		int fd = vduse_dev_open(NAME);

		r->rounds++;
		if (fd >= 0) {
			r->hits++;
			close(fd);
		}
	}
	return NULL;
}

TEST(open_races_create_and_destroy)
{
	struct racer r = { 0 };
	struct vduse_test_config c;
	struct timespec t0;
	pthread_t th;
	int ctrl, ret;
	unsigned long cycles = 0;

	ctrl = vduse_ctrl_open();
	ASSERT_LE(0, ctrl);
	vduse_test_blk_config(&c, NAME);
	ASSERT_EQ(0, pthread_create(&th, NULL, open_close_loop, &r));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!seconds_passed(&t0, 3)) {
		ASSERT_EQ(0, vduse_create(ctrl, &c));
		/* Busy while the other thread has it open: try again. */
		while ((ret = vduse_destroy(ctrl, NAME)) == -EBUSY)
			;
		ASSERT_EQ(0, ret);
		cycles++;
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	TH_LOG("%lu create/destroy cycles, %lu of %lu opens succeeded",
	       cycles, r.hits, r.rounds);
	EXPECT_LT(0UL, cycles);
	/* Opens that all failed would have raced with nothing. */
	EXPECT_LT(0UL, r.hits);
	EXPECT_EQ(-ENOENT, vduse_destroy(ctrl, NAME));
	close(ctrl);
}

static void *inject_loop(void *arg)
{
	struct racer *r = arg;
	uint32_t vq = 0;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		r->rounds++;
		if (!ioctl(r->fd, VDUSE_VQ_INJECT_IRQ, &vq))
			r->hits++;
		ioctl(r->fd, VDUSE_DEV_INJECT_CONFIG_IRQ);
	}
	return NULL;
}

/*
 * A block device of capacity 0, its node open and its queue set up: the
 * driver binds without I/O, nothing to serve.  The node's fd, or -1.
 */
static int control_path_device(int ctrl)
{
	struct vduse_vq_config vq = { .index = 0, .max_size = 64 };
	struct vduse_test_config c;
	int fd;

	vduse_test_blk_config(&c, NAME);
	((struct virtio_blk_config *)c.cfg.config)->capacity = 0;
	if (vduse_create(ctrl, &c))
		return -1;
	fd = vduse_dev_open(NAME);
	if (fd >= 0 && ioctl(fd, VDUSE_VQ_SETUP, &vq)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

TEST(irq_injection_races_detach)
{
	struct vduse_ctl_daemon ctl = { 0 };
	struct racer r = { 0 };
	pthread_t th;
	int ctrl, i;

	ctrl = vduse_ctrl_open();
	ASSERT_LE(0, ctrl);
	r.fd = control_path_device(ctrl);
	ASSERT_LE(0, r.fd);
	ASSERT_EQ(0, vduse_ctl_daemon_start(&ctl, r.fd));
	ASSERT_EQ(0, pthread_create(&th, NULL, inject_loop, &r));
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, vduse_vdpa_add(NAME, 60));
		usleep(100000);
		ASSERT_EQ(0, vduse_vdpa_del(NAME, 60));
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	TH_LOG("%lu of %lu injections reached a driver", r.hits, r.rounds);
	EXPECT_LT(0UL, r.hits);
	vduse_ctl_daemon_stop(&ctl);
	close(r.fd);
	EXPECT_EQ(0, vduse_destroy(ctrl, NAME));
	close(ctrl);
}

/* sysfs vq0/irq_cb_affinity, moved between CPU 0, CPU 1 and both. */
static void *affinity_loop(void *arg)
{
	static const char *const masks[] = { "1", "2", "3" };
	struct racer *r = arg;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		if (!vduse_sysfs_write(VDUSE_SYSFS_CLASS "/" NAME
				       "/vq0/irq_cb_affinity",
				       masks[r->rounds % 3]))
			r->hits++;
		r->rounds++;
		usleep(500);
	}
	return NULL;
}

static int rebind_virtio_vdpa(void)
{
	if (vduse_sysfs_write("/sys/bus/vdpa/drivers/virtio_vdpa/unbind", NAME))
		return -1;
	return vduse_sysfs_write("/sys/bus/vdpa/drivers/virtio_vdpa/bind",
				 NAME);
}

/*
 * Interrupts injected, and the queue's masks moved (the driver's
 * set_vq_affinity at probe, sysfs here), while the driver resets the
 * device (unbind and bind again) and while it is detached: a callback
 * may run on another CPU's work item when the driver goes.
 */
TEST(irq_injection_and_affinity_race_reset_and_detach)
{
	struct vduse_ctl_daemon ctl = { 0 };
	struct racer inj = { 0 }, aff = { 0 };
	pthread_t ti, ta;
	int ctrl, i, j;

	ctrl = vduse_ctrl_open();
	ASSERT_LE(0, ctrl);
	inj.fd = control_path_device(ctrl);
	ASSERT_LE(0, inj.fd);
	ASSERT_EQ(0, vduse_ctl_daemon_start(&ctl, inj.fd));
	ASSERT_EQ(0, pthread_create(&ti, NULL, inject_loop, &inj));
	ASSERT_EQ(0, pthread_create(&ta, NULL, affinity_loop, &aff));
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(0, vduse_vdpa_add(NAME, 60));
		for (j = 0; j < 3; j++) {
			usleep(50000);
			ASSERT_EQ(0, rebind_virtio_vdpa());
		}
		usleep(50000);
		ASSERT_EQ(0, vduse_vdpa_del(NAME, 60));
	}
	__atomic_store_n(&inj.stop, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&aff.stop, 1, __ATOMIC_RELEASE);
	pthread_join(ti, NULL);
	pthread_join(ta, NULL);
	TH_LOG("%lu of %lu injections reached a driver, %lu affinity changes",
	       inj.hits, inj.rounds, aff.hits);
	EXPECT_LT(0UL, inj.hits);
	EXPECT_LT(0UL, aff.hits);
	/* 15 resets: each ended with a status 0 the daemon saw. */
	EXPECT_LE(20U, ctl.seen[VDUSE_SET_STATUS]);
	vduse_ctl_daemon_stop(&ctl);
	close(inj.fd);
	EXPECT_EQ(0, vduse_destroy(ctrl, NAME));
	close(ctrl);
}

static int count_fds(void)
{
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n++;
	closedir(d);
	return n;
}

TEST(no_ioctl_leaks_a_file_descriptor)
{
	struct vduse_iotlb_entry e = { .start = 0 };
	struct vduse_vq_eventfd ev = { .index = 0 };
	struct vduse_test_config c;
	int ctrl, fd, before, i;
	uint64_t v;

	ctrl = vduse_ctrl_open();
	ASSERT_LE(0, ctrl);
	vduse_test_blk_config(&c, NAME);
	ASSERT_EQ(0, vduse_create_anew(ctrl, &c));
	fd = vduse_dev_open(NAME);
	ASSERT_LE(0, fd);

	before = count_fds();
	for (i = 0; i < 100; i++) {
		/* Failing calls must not leave anything behind... */
		ioctl(fd, VDUSE_IOTLB_GET_FD, &e);
		ev.fd = 12345;
		ioctl(fd, VDUSE_VQ_SETUP_KICKFD, &ev);
		ioctl(ctrl, VDUSE_CREATE_DEV, &c.cfg);	/* EEXIST */
		ioctl(ctrl, VDUSE_GET_API_VERSION, &v);
		/* ...nor may an eventfd given and taken back. */
		ev.fd = eventfd(0, EFD_CLOEXEC);
		ioctl(fd, VDUSE_VQ_SETUP_KICKFD, &ev);
		close(ev.fd);
		ev.fd = VDUSE_EVENTFD_DEASSIGN;
		ioctl(fd, VDUSE_VQ_SETUP_KICKFD, &ev);
	}
	EXPECT_EQ(before, count_fds());
	close(fd);
	EXPECT_EQ(0, vduse_destroy(ctrl, NAME));
	close(ctrl);
}

TEST(every_sysfs_attribute_reads)
{
	static const char * const attrs[] = { "msg_timeout", "bounce_size",
					      "broken", "vduse_features",
					      "vq0/irq_cb_affinity", "dev",
					      "uevent" };
	struct vduse_test_config c;
	char path[256], buf[4096];
	int ctrl, fd;
	size_t i;

	ctrl = vduse_ctrl_open();
	ASSERT_LE(0, ctrl);
	vduse_test_blk_config(&c, NAME);
	ASSERT_EQ(0, vduse_create_anew(ctrl, &c));
	for (i = 0; i < ARRAY_SIZE(attrs); i++) {
		snprintf(path, sizeof(path), VDUSE_SYSFS_CLASS "/%s/%s", NAME,
			 attrs[i]);
		EXPECT_LT(0, vduse_sysfs_read(path, buf, sizeof(buf)))
			TH_LOG("%s", path);
	}
	/* The control device has only what every device has. */
	EXPECT_LT(0, vduse_sysfs_read(VDUSE_SYSFS_CLASS "/control/dev", buf,
				      sizeof(buf)));
	EXPECT_LT(0, vduse_sysfs_read(VDUSE_SYSFS_CLASS "/control/uevent", buf,
				      sizeof(buf)));
	/* Short reads at odd offsets do not trip anything either. */
	fd = open(VDUSE_SYSFS_CLASS "/" NAME "/bounce_size", O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(3, pread(fd, buf, 3, 0));
	EXPECT_EQ(0, pread(fd, buf, 3, 4096));
	close(fd);
	EXPECT_EQ(0, vduse_destroy(ctrl, NAME));
	close(ctrl);
}

TEST_HARNESS_MAIN
