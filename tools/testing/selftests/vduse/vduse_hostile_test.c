// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile daemons: answers that come twice, too late, or for requests
 * nobody read; floods of configuration and queue interrupts; kick
 * eventfds closed under the kernel.  Each time the kernel stays healthy
 * (the runner fails the test on any BUG, WARNING, lockdep or KASAN
 * report), callers get errors rather than hangs, and the device can be
 * detached and destroyed afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>

#include "../kselftest_harness.h"
#include "vduse_lib.h"

#define NAME	"vduse-hostile"
#define SYSFS	VDUSE_SYSFS_CLASS "/" NAME

FIXTURE(hostile) {
	int ctrl;
	int fd;
};

FIXTURE_SETUP(hostile)
{
	struct vduse_vq_config vq = { .index = 0, .max_size = 64 };
	struct vduse_test_config c;

	self->ctrl = vduse_ctrl_open();
	ASSERT_LE(0, self->ctrl);
	vduse_test_blk_config(&c, NAME);
	/* No sector to read: only the control path runs. */
	((struct virtio_blk_config *)c.cfg.config)->capacity = 0;
	ASSERT_EQ(0, vduse_create_anew(self->ctrl, &c));
	self->fd = vduse_dev_open(NAME);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioctl(self->fd, VDUSE_VQ_SETUP, &vq));
	ASSERT_EQ(0, vduse_sysfs_write(SYSFS "/msg_timeout", "2"));
}

FIXTURE_TEARDOWN(hostile)
{
	struct vduse_ctl_daemon d = { 0 };

	/* Someone answers the detach's reset, unless the device is broken. */
	vduse_ctl_daemon_start(&d, self->fd);
	vduse_vdpa_del(NAME, 30);
	vduse_ctl_daemon_stop(&d);
	if (self->fd >= 0)
		close(self->fd);
	EXPECT_EQ(0, vduse_destroy(self->ctrl, NAME));
	close(self->ctrl);
}

static pid_t spawn_add(void)
{
	static const char *const argv[] = { "vdpa", "dev", "add", "name", NAME,
					    "mgmtdev", "vduse", NULL };

	return vduse_spawn(argv);
}

static int next_request(int fd, struct vduse_dev_request *req, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	if (poll(&pfd, 1, ms) != 1 || !(pfd.revents & POLLIN))
		return -1;
	return read(fd, req, sizeof(*req)) == sizeof(*req) ? 0 : -1;
}

static int respond(int fd, uint32_t id, uint32_t result)
{
	struct vduse_dev_response resp = {
		.request_id = id,
		.result = result,
	};

	return write(fd, &resp, sizeof(resp)) == sizeof(resp) ? 0 : -errno;
}

/* Answer everything, each answer twice; then one for an id never sent. */
TEST_F(hostile, answers_twice_and_for_unknown_ids)
{
	struct vduse_dev_request req;
	pid_t add = spawn_add();
	int status, n = 0;

	ASSERT_LT(0, add);
	while (waitpid(add, &status, WNOHANG) == 0) {
		if (next_request(self->fd, &req, 100))
			continue;
		EXPECT_EQ(0, respond(self->fd, req.request_id,
				     VDUSE_REQ_RESULT_OK));
		EXPECT_EQ(-ENOENT, respond(self->fd, req.request_id,
					   VDUSE_REQ_RESULT_OK));
		n++;
	}
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_LT(0, n);
	EXPECT_EQ(-ENOENT, respond(self->fd, req.request_id + 1000,
				   VDUSE_REQ_RESULT_OK));
	EXPECT_EQ(-ENOENT, respond(self->fd, ~0U, VDUSE_REQ_RESULT_OK));
}

/*
 * The answer comes after msg_timeout: the request already failed, the
 * device is broken, the late answer is refused with EIO, the attach
 * itself succeeds (only the driver's probe failed), and detach works
 * (its requests fail at once).
 */
TEST_F(hostile, answers_too_late)
{
	struct vduse_dev_request req;
	char buf[16];
	pid_t add = spawn_add();
	int status = -1;

	ASSERT_LT(0, add);
	ASSERT_EQ(0, next_request(self->fd, &req, 20000));
	sleep(3);
	EXPECT_EQ(-EIO, respond(self->fd, req.request_id,
				VDUSE_REQ_RESULT_OK));
	ASSERT_LT(0, vduse_sysfs_read(SYSFS "/broken", buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);
	ASSERT_EQ(add, waitpid(add, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("vdpa dev add: status 0x%x", status);
	EXPECT_EQ(0, access("/sys/bus/vdpa/devices/" NAME, F_OK));
	/* Detaching a broken device does not wait for anyone. */
	EXPECT_EQ(0, vduse_vdpa_del(NAME, 30));
	EXPECT_NE(0, access("/sys/bus/vdpa/devices/" NAME, F_OK));
}

/* Interrupts by the hundred thousand: configuration and queue. */
TEST_F(hostile, interrupt_floods)
{
	struct vduse_ctl_daemon d = { 0 };
	uint32_t vq = 0;
	int i, ok = 0;

	ASSERT_EQ(0, vduse_ctl_daemon_start(&d, self->fd));
	ASSERT_EQ(0, vduse_vdpa_add(NAME, 60));
	for (i = 0; i < 100000; i++) {
		ok += !ioctl(self->fd, VDUSE_DEV_INJECT_CONFIG_IRQ);
		ok += !ioctl(self->fd, VDUSE_VQ_INJECT_IRQ, &vq);
	}
	EXPECT_EQ(200000, ok);
	vq = 1;
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_VQ_INJECT_IRQ, &vq));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, vduse_vdpa_del(NAME, 60));
	/* Detached: the queue's callback is gone, the ioctl says so. */
	vq = 0;
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_VQ_INJECT_IRQ, &vq));
	EXPECT_EQ(EINVAL, errno);
	vduse_ctl_daemon_stop(&d);
}

/*
 * A kick eventfd closed by the daemon while the kernel holds it: the
 * kernel keeps its own reference, so the device attaches and detaches;
 * the number reused for a pipe is refused.
 */
TEST_F(hostile, kick_eventfd_closed_and_reused)
{
	struct vduse_vq_eventfd ev = { .index = 0 };
	struct vduse_ctl_daemon d = { 0 };
	int pipefd[2], efd;

	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	ev.fd = efd;
	ASSERT_EQ(0, ioctl(self->fd, VDUSE_VQ_SETUP_KICKFD, &ev));
	close(efd);
	ASSERT_EQ(0, pipe(pipefd));
	ev.fd = pipefd[0];
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_VQ_SETUP_KICKFD, &ev));
	EXPECT_EQ(EINVAL, errno);

	ASSERT_EQ(0, vduse_ctl_daemon_start(&d, self->fd));
	EXPECT_EQ(0, vduse_vdpa_add(NAME, 60));
	EXPECT_EQ(0, vduse_vdpa_del(NAME, 60));
	vduse_ctl_daemon_stop(&d);
	close(pipefd[0]);
	close(pipefd[1]);
}

/*
 * msg_timeout=1 and a daemon that reads a request just before, at, or
 * just after it expires: the read gets it or fails with EIO (the device
 * broke), the answer is taken or refused with ENOENT or EIO, the driver's
 * probe ends either way, and the device goes.  A new device each round,
 * the read later each time: 0.90 s to 1.15 s after the request came.
 */
TEST(read_races_msg_timeout)
{
	struct vduse_vq_config vq = { .index = 0, .max_size = 64 };
	struct pollfd pfd = { .events = POLLIN };
	struct vduse_ctl_daemon d;
	struct vduse_dev_request req;
	struct vduse_test_config c;
	int ctrl, fd, k, status, r;
	int got = 0, answered = 0, broke = 0;
	char buf[8];
	ssize_t n;
	pid_t pid;

	ctrl = vduse_ctrl_open();
	ASSERT_LE(0, ctrl);
	vduse_test_blk_config(&c, NAME);
	((struct virtio_blk_config *)c.cfg.config)->capacity = 0;
	for (k = 0; k < 11; k++) {
		ASSERT_EQ(0, vduse_create_anew(ctrl, &c));
		fd = vduse_dev_open(NAME);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, ioctl(fd, VDUSE_VQ_SETUP, &vq));
		ASSERT_EQ(0, vduse_sysfs_write(SYSFS "/msg_timeout", "1"));
		ASSERT_EQ(0, fcntl(fd, F_SETFL, O_NONBLOCK));

		pid = spawn_add();
		ASSERT_LT(0, pid);
		pfd.fd = fd;
		ASSERT_EQ(1, poll(&pfd, 1, 20000));
		usleep(900000 + k * 25000);
		n = read(fd, &req, sizeof(req));
		if (n == sizeof(req)) {
			got++;
			r = respond(fd, req.request_id, VDUSE_REQ_RESULT_OK);
			EXPECT_TRUE(r == 0 || r == -ENOENT || r == -EIO)
				TH_LOG("round %d: answer: %d", k, r);
			answered += !r;
		} else {
			EXPECT_EQ(-1, n);
			EXPECT_TRUE(errno == EIO || errno == EAGAIN)
				TH_LOG("round %d: read: %d", k, errno);
		}
		/* Whatever happened, the rest of the probe is answered. */
		memset(&d, 0, sizeof(d));
		ASSERT_EQ(0, vduse_ctl_daemon_start(&d, fd));
		for (r = 0; r < 3000 && waitpid(pid, &status, WNOHANG) != pid; r++)
			usleep(10000);
		if (r == 3000) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
		}
		EXPECT_GT(3000, r) TH_LOG("round %d: vdpa dev add hangs", k);
		ASSERT_LT(0, vduse_sysfs_read(SYSFS "/broken", buf,
					      sizeof(buf)));
		broke += buf[0] == '1';
		vduse_vdpa_del(NAME, 30);
		vduse_ctl_daemon_stop(&d);
		close(fd);
		ASSERT_EQ(0, vduse_destroy(ctrl, NAME));
	}
	TH_LOG("11 rounds: %d reads got the request, %d answers taken, %d devices broke",
	       got, answered, broke);
	/* The last rounds read well after the expiry. */
	EXPECT_LT(0, broke);
	close(ctrl);
}

/*
 * A configuration virtio_blk refuses after it set up its queues
 * (SECURE_ERASE with a sector alignment of 0): the probe fails and
 * the virtio core writes FAILED, with no reset.  Once virtio_vdpa is
 * unbound too, the driver's state is freed: neither interrupt may reach
 * it, and both inject ioctls say so (no DRIVER_OK).  The debug kernel's
 * KASAN catches a call into freed memory.
 */
TEST(failed_probe_drops_callbacks)
{
	struct vduse_vq_config vq = { .index = 0, .max_size = 64 };
	struct vduse_ctl_daemon d = { 0 };
	struct vduse_test_config c;
	struct virtio_blk_config *blk = (void *)c.cfg.config;
	unsigned int statuses;
	uint32_t index = 0;
	int ctrl, fd;

	ctrl = vduse_ctrl_open();
	ASSERT_LE(0, ctrl);
	vduse_test_blk_config(&c, NAME);
	blk->capacity = 0;
	c.cfg.features |= 1ULL << VIRTIO_BLK_F_SECURE_ERASE;
	blk->max_secure_erase_sectors = 8;
	blk->max_secure_erase_seg = 1;
	blk->secure_erase_sector_alignment = 0;
	ASSERT_EQ(0, vduse_create_anew(ctrl, &c));
	fd = vduse_dev_open(NAME);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, VDUSE_VQ_SETUP, &vq));
	ASSERT_EQ(0, vduse_ctl_daemon_start(&d, fd));
	ASSERT_EQ(0, vduse_vdpa_add(NAME, 60));

	statuses = __atomic_load_n(&d.statuses, __ATOMIC_SEQ_CST);
	EXPECT_TRUE(statuses & VIRTIO_CONFIG_S_FAILED)
		TH_LOG("statuses seen: %#x", statuses);
	EXPECT_FALSE(statuses & VIRTIO_CONFIG_S_DRIVER_OK);
	EXPECT_EQ(-1, ioctl(fd, VDUSE_DEV_INJECT_CONFIG_IRQ));
	EXPECT_EQ(EINVAL, errno);

	EXPECT_EQ(0, vduse_sysfs_write("/sys/bus/vdpa/drivers/virtio_vdpa/unbind",
				       NAME));
	EXPECT_EQ(-1, ioctl(fd, VDUSE_DEV_INJECT_CONFIG_IRQ));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(fd, VDUSE_VQ_INJECT_IRQ, &index));
	EXPECT_EQ(EINVAL, errno);

	EXPECT_EQ(0, vduse_vdpa_del(NAME, 60));
	vduse_ctl_daemon_stop(&d);
	close(fd);
	EXPECT_EQ(0, vduse_destroy(ctrl, NAME));
	close(ctrl);
}

TEST_HARNESS_MAIN
