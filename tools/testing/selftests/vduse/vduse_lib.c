// SPDX-License-Identifier: GPL-2.0
/*
 * Device-side helpers shared by the VDUSE selftests.
 */
#include <errno.h>
#include <fcntl.h>
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
