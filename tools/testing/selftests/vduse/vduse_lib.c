// SPDX-License-Identifier: GPL-2.0
/*
 * Device-side helpers shared by the VDUSE selftests.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include "vduse_lib.h"

static void vduse_test_config_init(struct vduse_test_config *c,
				   const char *name)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->cfg.name, sizeof(c->cfg.name), "%s", name);
	c->cfg.vendor_id = 0x1af4;
	c->cfg.features = VDUSE_TEST_BASE_FEATURES;
	c->cfg.vq_align = 4096;
}

void vduse_test_blk_config(struct vduse_test_config *c, const char *name)
{
	struct virtio_blk_config *blk = (void *)c->cfg.config;

	vduse_test_config_init(c, name);
	c->cfg.device_id = VIRTIO_ID_BLOCK;
	c->cfg.vq_num = 1;
	c->cfg.config_size = sizeof(*blk);
	blk->capacity = (1ULL << 30) / 512;
}

void vduse_test_net_config(struct vduse_test_config *c, const char *name)
{
	struct virtio_net_config *net = (void *)c->cfg.config;
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

	vduse_test_config_init(c, name);
	c->cfg.device_id = VIRTIO_ID_NET;
	c->cfg.vq_num = 2;
	c->cfg.features |= 1ULL << VIRTIO_NET_F_MAC;
	c->cfg.config_size = sizeof(*net);
	memcpy(net->mac, mac, sizeof(mac));
}

int vduse_create(int ctrl_fd, struct vduse_test_config *c)
{
	return ioctl(ctrl_fd, VDUSE_CREATE_DEV, &c->cfg) ? -errno : 0;
}

int vduse_destroy(int ctrl_fd, const char *name)
{
	char buf[VDUSE_NAME_MAX] = { 0 };

	snprintf(buf, sizeof(buf), "%s", name);
	return ioctl(ctrl_fd, VDUSE_DESTROY_DEV, buf) ? -errno : 0;
}

int vduse_dev_open(const char *name)
{
	char path[VDUSE_NAME_MAX + 16];
	int fd;

	snprintf(path, sizeof(path), "/dev/vduse/%s", name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int vduse_ctrl_open(void)
{
	int fd = open(VDUSE_CONTROL_PATH, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int vduse_ctrl_get_api(int ctrl_fd, uint64_t *version)
{
	return ioctl(ctrl_fd, VDUSE_GET_API_VERSION, version) ? -errno : 0;
}

int vduse_ctrl_set_api(int ctrl_fd, uint64_t version)
{
	return ioctl(ctrl_fd, VDUSE_SET_API_VERSION, &version) ? -errno : 0;
}

int vduse_sysfs_read(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return n;
}

static void *vduse_ctl_daemon_main(void *data)
{
	struct vduse_ctl_daemon *d = data;
	struct vduse_dev_request req;
	struct vduse_dev_response resp;
	struct pollfd pfd = { .fd = d->fd, .events = POLLIN };

	while (!__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE)) {
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		if (pfd.revents & POLLERR)
			break;
		if (read(d->fd, &req, sizeof(req)) != sizeof(req))
			continue;
		if (req.type < 8)
			__atomic_fetch_add(&d->seen[req.type], 1,
					   __ATOMIC_RELAXED);
		if (req.type == VDUSE_SET_STATUS)
			__atomic_fetch_or(&d->statuses, req.s.status,
					  __ATOMIC_RELAXED);
		memset(&resp, 0, sizeof(resp));
		resp.request_id = req.request_id;
		resp.result = d->policy ? d->policy(&req, d->arg) :
			      VDUSE_REQ_RESULT_OK;
		if (req.type == VDUSE_GET_VQ_STATE)
			resp.vq_state.index = req.vq_state.index;
		if (write(d->fd, &resp, sizeof(resp)) != sizeof(resp))
			continue;
	}
	return NULL;
}

int vduse_ctl_daemon_start(struct vduse_ctl_daemon *d, int fd)
{
	d->fd = fd;
	__atomic_store_n(&d->stop, 0, __ATOMIC_RELEASE);
	return -pthread_create(&d->thread, NULL, vduse_ctl_daemon_main, d);
}

void vduse_ctl_daemon_stop(struct vduse_ctl_daemon *d)
{
	__atomic_store_n(&d->stop, 1, __ATOMIC_RELEASE);
	pthread_join(d->thread, NULL);
}

pid_t vduse_spawn(const char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execvp(argv[0], (char *const *)argv);
		_exit(126);
	}
	return pid;
}

int vduse_run(int timeout_s, const char *const argv[])
{
	struct timespec start, now;
	int status;
	pid_t pid;

	pid = vduse_spawn(argv);
	if (pid < 0)
		return 126;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= timeout_s) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return 124;
		}
		usleep(20000);
	}
}

int vduse_vdpa_add(const char *name, int timeout_s)
{
	const char *const argv[] = { "vdpa", "dev", "add", "name", name,
				     "mgmtdev", "vduse", NULL };

	return vduse_run(timeout_s, argv);
}

int vduse_vdpa_del(const char *name, int timeout_s)
{
	const char *const argv[] = { "vdpa", "dev", "del", name, NULL };

	return vduse_run(timeout_s, argv);
}

int vduse_sysfs_write(const char *path, const char *val)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
}
