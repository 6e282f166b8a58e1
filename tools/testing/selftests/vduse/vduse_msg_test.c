// SPDX-License-Identifier: GPL-2.0
/*
 * The message relay, driven by a daemon of our own over the real vdpa
 * bus: read/write/poll rules, the status relay (a refused FEATURES_OK, a
 * failed reset), a silent daemon and msg_timeout, a fatal signal, and
 * requests handed to the next daemon.
 *
 * The block device has a capacity of 0, so the virtio-blk driver probes
 * and binds without reading a sector: only the control path runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>

#include "../kselftest_harness.h"
#include "vduse_lib.h"

#define NAME	"vduse-msg-test"
#define SYSFS	VDUSE_SYSFS_CLASS "/" NAME

/* An address no process has mapped; not static, so not folded away. */
char *bad_ptr = (char *)8;

FIXTURE(msg) {
	int ctrl;
	int fd;
	struct vduse_test_config c;
	struct vduse_ctl_daemon d;
	int daemon_running;
	pid_t bg;
};

FIXTURE_SETUP(msg)
{
	struct vduse_vq_config vq = { .index = 0, .max_size = 64 };
	struct virtio_blk_config *blk;

	self->bg = 0;
	self->daemon_running = 0;
	self->ctrl = vduse_ctrl_open();
	ASSERT_LE(0, self->ctrl);
	vduse_test_blk_config(&self->c, NAME);
	blk = (void *)self->c.cfg.config;
	blk->capacity = 0;
	ASSERT_EQ(0, vduse_create_anew(self->ctrl, &self->c));
	self->fd = vduse_dev_open(NAME);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioctl(self->fd, VDUSE_VQ_SETUP, &vq));
	/* Nothing in this test may wait for long. */
	ASSERT_EQ(0, vduse_sysfs_write(SYSFS "/msg_timeout", "10"));
}

FIXTURE_TEARDOWN(msg)
{
	if (self->bg > 0) {
		kill(self->bg, SIGKILL);
		waitpid(self->bg, NULL, 0);
	}
	if (!self->daemon_running && self->fd >= 0) {
		vduse_ctl_daemon_start(&self->d, self->fd);
		self->daemon_running = 1;
	}
	vduse_vdpa_del(NAME, 30);
	if (self->daemon_running)
		vduse_ctl_daemon_stop(&self->d);
	if (self->fd >= 0)
		close(self->fd);
	EXPECT_EQ(0, vduse_destroy(self->ctrl, NAME));
	close(self->ctrl);
}

static int has_disk(void)
{
	char path[64];

	return !vduse_dev_path("/sys/bus/vdpa/devices/" NAME "/virtio*/block/vd*",
			       path, sizeof(path));
}

static int attached(void)
{
	return access("/sys/bus/vdpa/devices/" NAME, F_OK) == 0;
}

static int wait_readable(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, ms) == 1 && (pfd.revents & POLLIN);
}

static pid_t spawn_add(void)
{
	static const char *const argv[] = { "vdpa", "dev", "add", "name", NAME,
					    "mgmtdev", "vduse", NULL };

	return vduse_spawn(argv);
}

/* Wait up to s seconds for pid; its exit status, or -1 if still running. */
static int wait_pid(pid_t pid, int s)
{
	int status, i;

	for (i = 0; i < s * 50; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
		usleep(20000);
	}
	return -1;
}

static void answer(int fd, const struct vduse_dev_request *req, int result)
{
	struct vduse_dev_response resp = {
		.request_id = req->request_id,
		.result = result,
	};

	if (write(fd, &resp, sizeof(resp)) != sizeof(resp))
		perror("answer");
}

TEST_F(msg, empty_queue_eagain_and_poll)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN | POLLOUT };
	struct vduse_dev_request req;
	int flags = fcntl(self->fd, F_GETFL);

	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, flags | O_NONBLOCK));
	EXPECT_EQ(-1, read(self->fd, &req, sizeof(req)));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, flags));

	/* Nothing to read, no reply awaited: nothing to report. */
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	EXPECT_EQ(0, pfd.revents);
}

/*
 * As in mainline, EPOLLOUT means a request was read and awaits its
 * answer: a daemon that polls for it does not spin on an idle device.
 */
TEST_F(msg, pollout_only_while_a_reply_is_awaited)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN | POLLOUT };
	struct vduse_dev_request req;
	pid_t pid;

	pid = spawn_add();
	ASSERT_LT(0, pid);
	ASSERT_TRUE(wait_readable(self->fd, 20000));
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN, pfd.revents);
	ASSERT_EQ(sizeof(req), read(self->fd, &req, sizeof(req)));
	pfd.events = POLLOUT;
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLOUT, pfd.revents);
	answer(self->fd, &req, VDUSE_REQ_RESULT_OK);
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	EXPECT_EQ(0, pfd.revents);

	ASSERT_EQ(0, vduse_ctl_daemon_start(&self->d, self->fd));
	self->daemon_running = 1;
	EXPECT_EQ(0, wait_pid(pid, 60));
}

TEST_F(msg, bad_reads_and_writes)
{
	struct vduse_dev_response resp = { .request_id = 12345 };
	char buf[sizeof(resp) + 8] = { 0 };

	EXPECT_EQ(-1, read(self->fd, buf, sizeof(struct vduse_dev_request) - 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write(self->fd, buf, sizeof(resp) - 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write(self->fd, buf, sizeof(resp) + 1));
	EXPECT_EQ(EINVAL, errno);
	/* No request with that id was ever read. */
	EXPECT_EQ(-1, write(self->fd, &resp, sizeof(resp)));
	EXPECT_EQ(ENOENT, errno);
	resp.result = 2;
	EXPECT_EQ(-1, write(self->fd, &resp, sizeof(resp)));
	EXPECT_EQ(EINVAL, errno);
	resp.result = VDUSE_REQ_RESULT_OK;
	resp.reserved[3] = 1;
	EXPECT_EQ(-1, write(self->fd, &resp, sizeof(resp)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write(self->fd, bad_ptr, sizeof(resp)));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(msg, attach_serve_detach)
{
	struct vduse_vq_info info = { .index = 0 };
	uint64_t features = 0;

	ASSERT_EQ(0, vduse_ctl_daemon_start(&self->d, self->fd));
	self->daemon_running = 1;
	ASSERT_EQ(0, vduse_vdpa_add(NAME, 60));
	EXPECT_TRUE(has_disk());
	EXPECT_TRUE(!!(self->d.statuses & VIRTIO_CONFIG_S_DRIVER_OK));

	ASSERT_EQ(0, ioctl(self->fd, VDUSE_DEV_GET_FEATURES, &features));
	EXPECT_TRUE(!!(features & (1ULL << VIRTIO_F_VERSION_1)));
	ASSERT_EQ(0, ioctl(self->fd, VDUSE_VQ_GET_INFO, &info));
	EXPECT_EQ(1, info.ready);
	EXPECT_EQ(64U, info.num);
	EXPECT_NE(0ULL, info.desc_addr);

	/* Attached: no destroying, no vq setup. */
	EXPECT_EQ(-EBUSY, vduse_destroy(self->ctrl, NAME));
	struct vduse_vq_config vq = { .index = 0, .max_size = 32 };

	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_VQ_SETUP, &vq));
	EXPECT_EQ(EBUSY, errno);

	EXPECT_EQ(0U, self->d.seen[VDUSE_UPDATE_IOTLB]);
	ASSERT_EQ(0, vduse_vdpa_del(NAME, 60));
	EXPECT_FALSE(attached());
	ASSERT_EQ(0, ioctl(self->fd, VDUSE_VQ_GET_INFO, &info));
	EXPECT_EQ(0, info.ready);
	/* The bounce domain went with the attachment, and the daemon knows. */
	EXPECT_EQ(1U, self->d.seen[VDUSE_UPDATE_IOTLB]);
	EXPECT_EQ(0ULL, self->d.last_iova.start);
	EXPECT_EQ(~0ULL, self->d.last_iova.last);
}

/* Refuses FEATURES_OK, counting the refusals in *arg (__atomic). */
static int refuse_features_ok(const struct vduse_dev_request *req, void *arg)
{
	if (req->type == VDUSE_SET_STATUS &&
	    (req->s.status & VIRTIO_CONFIG_S_FEATURES_OK)) {
		__atomic_fetch_add((unsigned int *)arg, 1, __ATOMIC_RELAXED);
		return VDUSE_REQ_RESULT_FAILED;
	}
	return VDUSE_REQ_RESULT_OK;
}

TEST_F(msg, refused_features_ok_no_disk)
{
	/* Static: the daemon thread outlives this frame, into teardown. */
	static unsigned int refused;

	self->d.policy = refuse_features_ok;
	self->d.arg = &refused;
	ASSERT_EQ(0, vduse_ctl_daemon_start(&self->d, self->fd));
	self->daemon_running = 1;
	/* The attach succeeds; the driver's probe fails after it. */
	EXPECT_EQ(0, vduse_vdpa_add(NAME, 60));
	EXPECT_TRUE(attached());
	/* No disk because the daemon said no, not for another reason. */
	EXPECT_EQ(1U, __atomic_load_n(&refused, __ATOMIC_RELAXED));
	EXPECT_FALSE(has_disk());
	EXPECT_FALSE(!!(self->d.statuses & VIRTIO_CONFIG_S_DRIVER_OK));
	/* No DRIVER_OK: no configuration interrupt, as in mainline. */
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_DEV_INJECT_CONFIG_IRQ));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, vduse_vdpa_del(NAME, 60));
	EXPECT_FALSE(attached());
	/* Gone with the detach, without a reset: nothing may call it now. */
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_DEV_INJECT_CONFIG_IRQ));
	EXPECT_EQ(EINVAL, errno);
}

static int fail_reset(const struct vduse_dev_request *req, void *arg)
{
	if (req->type == VDUSE_SET_STATUS && req->s.status == 0)
		return VDUSE_REQ_RESULT_FAILED;
	return VDUSE_REQ_RESULT_OK;
}

TEST_F(msg, failed_reset_still_clears_state)
{
	struct vduse_vq_info info = { .index = 0 };

	self->d.policy = fail_reset;
	ASSERT_EQ(0, vduse_ctl_daemon_start(&self->d, self->fd));
	self->daemon_running = 1;
	ASSERT_EQ(0, vduse_vdpa_add(NAME, 60));
	EXPECT_TRUE(has_disk());
	ASSERT_EQ(0, vduse_vdpa_del(NAME, 60));
	EXPECT_FALSE(attached());
	ASSERT_EQ(0, ioctl(self->fd, VDUSE_VQ_GET_INFO, &info));
	EXPECT_EQ(0, info.ready);
	EXPECT_EQ(0U, info.num);
	EXPECT_EQ(0ULL, info.desc_addr);
	/* And the device works again. */
	ASSERT_EQ(0, vduse_vdpa_add(NAME, 60));
	EXPECT_TRUE(has_disk());
}

TEST_F(msg, silent_daemon_breaks_device)
{
	struct pollfd pfd = { .fd = -1, .events = POLLIN };
	struct vduse_config_data cfg = { .offset = 0, .length = 1 };
	struct vduse_vq_config vq = { .index = 0, .max_size = 64 };
	struct vduse_vq_info info = { .index = 0 };
	struct vduse_dev_request req;
	struct timespec t0, t1;
	uint64_t features;
	char buf[16];

	ASSERT_EQ(0, vduse_sysfs_write(SYSFS "/msg_timeout", "2"));
	ASSERT_LT(0, vduse_sysfs_read(SYSFS "/broken", buf, sizeof(buf)));
	EXPECT_STREQ("0", buf);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_NE(124, vduse_vdpa_add(NAME, 60));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* One request waits 2 s; every later one fails at once. */
	EXPECT_GT(30, t1.tv_sec - t0.tv_sec);
	EXPECT_FALSE(has_disk());

	ASSERT_LT(0, vduse_sysfs_read(SYSFS "/broken", buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);
	/*
	 * Told once: EPOLLERR and EIO until a read() said so, then as an
	 * empty queue, so that an event loop that reads on EPOLLERR (as
	 * qemu-storage-daemon's does) neither spins nor hangs in read().
	 */
	pfd.fd = self->fd;
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_TRUE(!!(pfd.revents & POLLERR));
	EXPECT_EQ(-1, read(self->fd, &req, sizeof(req)));
	EXPECT_EQ(EIO, errno);
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	EXPECT_EQ(0, pfd.revents);
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, O_NONBLOCK));
	EXPECT_EQ(-1, read(self->fd, &req, sizeof(req)));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, 0));
	/* The next daemon is told too. */
	close(self->fd);
	self->fd = vduse_dev_open(NAME);
	ASSERT_LE(0, self->fd);
	pfd.fd = self->fd;
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_TRUE(!!(pfd.revents & POLLERR));
	EXPECT_EQ(-1, read(self->fd, &req, sizeof(req)));
	EXPECT_EQ(EIO, errno);
	/* Nothing about the device changes any more... */
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_DEV_SET_CONFIG, &cfg));
	EXPECT_EQ(EIO, errno);
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_DEV_INJECT_CONFIG_IRQ));
	EXPECT_EQ(EIO, errno);
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_VQ_SETUP, &vq));
	EXPECT_EQ(EIO, errno);
	/* ...but what finishes I/O in flight still works. */
	EXPECT_EQ(0, ioctl(self->fd, VDUSE_DEV_GET_FEATURES, &features));
	EXPECT_EQ(0, ioctl(self->fd, VDUSE_VQ_GET_INFO, &info));

	/* Detaching and destroying never wait for it again. */
	EXPECT_EQ(0, vduse_vdpa_del(NAME, 30));
	EXPECT_FALSE(attached());
	close(self->fd);
	self->fd = -1;
}

TEST_F(msg, fatal_signal_ends_one_wait)
{
	char buf[16];

	ASSERT_EQ(0, vduse_sysfs_write(SYSFS "/msg_timeout", "0"));
	self->bg = spawn_add();
	ASSERT_LT(0, self->bg);
	ASSERT_TRUE(wait_readable(self->fd, 10000));
	/* It waits for an answer that does not come... */
	EXPECT_EQ(-1, wait_pid(self->bg, 1));
	/* ...until it is killed. */
	kill(self->bg, SIGKILL);
	EXPECT_NE(-1, wait_pid(self->bg, 10));
	self->bg = 0;

	ASSERT_LT(0, vduse_sysfs_read(SYSFS "/broken", buf, sizeof(buf)));
	EXPECT_STREQ("0", buf);
	ASSERT_EQ(0, vduse_sysfs_write(SYSFS "/msg_timeout", "10"));
}

TEST_F(msg, unanswered_requests_go_to_the_next_daemon)
{
	struct vduse_dev_request first, again;

	self->bg = spawn_add();
	ASSERT_LT(0, self->bg);
	ASSERT_TRUE(wait_readable(self->fd, 10000));
	ASSERT_EQ(sizeof(first), read(self->fd, &first, sizeof(first)));

	/* The daemon goes away without answering; another one comes. */
	close(self->fd);
	self->fd = vduse_dev_open(NAME);
	ASSERT_LE(0, self->fd);
	ASSERT_TRUE(wait_readable(self->fd, 10000));
	ASSERT_EQ(sizeof(again), read(self->fd, &again, sizeof(again)));
	EXPECT_EQ(first.request_id, again.request_id);
	EXPECT_EQ(first.type, again.type);
	EXPECT_EQ(0, memcmp(&first, &again, sizeof(first)));

	answer(self->fd, &again, VDUSE_REQ_RESULT_OK);
	ASSERT_EQ(0, vduse_ctl_daemon_start(&self->d, self->fd));
	self->daemon_running = 1;
	EXPECT_EQ(0, wait_pid(self->bg, 60));
	self->bg = 0;
	EXPECT_TRUE(has_disk());
}

TEST_F(msg, faulting_read_keeps_request_first)
{
	struct vduse_dev_request req;

	self->bg = spawn_add();
	ASSERT_LT(0, self->bg);
	ASSERT_TRUE(wait_readable(self->fd, 10000));
	EXPECT_EQ(-1, read(self->fd, bad_ptr, sizeof(req)));
	EXPECT_EQ(EFAULT, errno);
	/* Still there, and still the device's first request. */
	ASSERT_TRUE(wait_readable(self->fd, 0));
	ASSERT_EQ(sizeof(req), read(self->fd, &req, sizeof(req)));
	EXPECT_EQ(0U, req.request_id);
	EXPECT_EQ(VDUSE_SET_STATUS, req.type);

	answer(self->fd, &req, VDUSE_REQ_RESULT_OK);
	ASSERT_EQ(0, vduse_ctl_daemon_start(&self->d, self->fd));
	self->daemon_running = 1;
	EXPECT_EQ(0, wait_pid(self->bg, 60));
	self->bg = 0;
}

/*
 * The daemon is gone (its node closed) and the device is attached with
 * no driver.  Detaching tells the daemon to drop its mappings, but there
 * is nobody to tell: it must not wait (here for ever: msg_timeout 0).
 * Requests that nobody reads while no daemon is there time out without
 * breaking the device: a daemon that comes later can use it.
 */
TEST_F(msg, no_daemon_no_wait_no_break)
{
	char buf[16];

	ASSERT_EQ(0, vduse_ctl_daemon_start(&self->d, self->fd));
	self->daemon_running = 1;
	ASSERT_EQ(0, vduse_vdpa_add(NAME, 60));
	ASSERT_EQ(0, vduse_sysfs_write("/sys/bus/vdpa/drivers/virtio_vdpa/unbind",
				       NAME));
	vduse_ctl_daemon_stop(&self->d);
	self->daemon_running = 0;
	close(self->fd);
	self->fd = -1;

	ASSERT_EQ(0, vduse_sysfs_write(SYSFS "/msg_timeout", "0"));
	EXPECT_EQ(0, vduse_vdpa_del(NAME, 20));
	EXPECT_FALSE(attached());
	ASSERT_LT(0, vduse_sysfs_read(SYSFS "/broken", buf, sizeof(buf)));
	EXPECT_STREQ("0", buf);

	/* The probe's requests time out, one by one, unread. */
	ASSERT_EQ(0, vduse_sysfs_write(SYSFS "/msg_timeout", "1"));
	vduse_vdpa_add(NAME, 60);
	EXPECT_FALSE(has_disk());
	ASSERT_LT(0, vduse_sysfs_read(SYSFS "/broken", buf, sizeof(buf)));
	EXPECT_STREQ("0", buf);
	EXPECT_EQ(0, vduse_vdpa_del(NAME, 20));

	/* A daemon that comes now gets a working device. */
	ASSERT_EQ(0, vduse_sysfs_write(SYSFS "/msg_timeout", "10"));
	self->fd = vduse_dev_open(NAME);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, vduse_ctl_daemon_start(&self->d, self->fd));
	self->daemon_running = 1;
	EXPECT_EQ(0, vduse_vdpa_add(NAME, 60));
	EXPECT_TRUE(has_disk());
}

struct reader {
	int fd;
	char *buf;
	ssize_t ret;
	int err;
};

static void *blocking_read(void *arg)
{
	struct reader *r = arg;

	r->ret = read(r->fd, r->buf, sizeof(struct vduse_dev_request));
	r->err = r->ret < 0 ? errno : 0;
	return NULL;
}

/*
 * Two readers sleep on the node; the first to sleep is woken for the
 * request and faults.  The request goes back first in line, and the
 * other reader must be woken for it: else it sleeps on until the
 * request times out and the device breaks.
 */
TEST_F(msg, faulting_reader_wakes_the_next)
{
	struct vduse_dev_request req;
	struct reader a = { .fd = self->fd, .buf = bad_ptr };
	struct reader b = { .fd = self->fd, .buf = (char *)&req };
	pthread_t ta, tb;

	ASSERT_EQ(0, pthread_create(&ta, NULL, blocking_read, &a));
	usleep(300000);
	ASSERT_EQ(0, pthread_create(&tb, NULL, blocking_read, &b));
	usleep(300000);
	self->bg = spawn_add();
	ASSERT_LT(0, self->bg);

	pthread_join(ta, NULL);
	EXPECT_EQ(-1, a.ret);
	EXPECT_EQ(EFAULT, a.err);
	pthread_join(tb, NULL);
	ASSERT_EQ(sizeof(req), b.ret) TH_LOG("second reader: errno %d", b.err);
	EXPECT_EQ(0U, req.request_id);
	EXPECT_EQ(VDUSE_SET_STATUS, req.type);

	answer(self->fd, &req, VDUSE_REQ_RESULT_OK);
	ASSERT_EQ(0, vduse_ctl_daemon_start(&self->d, self->fd));
	self->daemon_running = 1;
	EXPECT_EQ(0, wait_pid(self->bg, 60));
	self->bg = 0;
}

TEST_HARNESS_MAIN
