// SPDX-License-Identifier: GPL-2.0
/*
 * The device node's ioctls that need no driver: features, configuration
 * space writes and virtqueue setup, each with its errors.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "vduse_lib.h"

#define NAME	"vduse-ioctl-test"

FIXTURE(dev) {
	int ctrl;
	int fd;
	struct vduse_test_config c;
};

FIXTURE_SETUP(dev)
{
	self->ctrl = vduse_ctrl_open();
	ASSERT_LE(0, self->ctrl);
	vduse_test_blk_config(&self->c, NAME);
	self->c.cfg.vq_num = 2;
	ASSERT_EQ(0, vduse_create_anew(self->ctrl, &self->c));
	self->fd = vduse_dev_open(NAME);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(dev)
{
	close(self->fd);
	EXPECT_EQ(0, vduse_destroy(self->ctrl, NAME));
	close(self->ctrl);
}

TEST_F(dev, driver_features_zero_before_a_driver)
{
	uint64_t features = ~0ULL;

	ASSERT_EQ(0, ioctl(self->fd, VDUSE_DEV_GET_FEATURES, &features));
	EXPECT_EQ(0ULL, features);
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_DEV_GET_FEATURES, (void *)8));
	EXPECT_EQ(EFAULT, errno);
}

static int set_config(int fd, uint32_t offset, uint32_t length,
		      const void *bytes)
{
	struct {
		struct vduse_config_data d;
		uint8_t buf[4096];
	} arg;

	memset(&arg, 0, sizeof(arg));
	arg.d.offset = offset;
	arg.d.length = length;
	if (bytes)
		memcpy(arg.buf, bytes, length < 4096 ? length : 4096);
	return ioctl(fd, VDUSE_DEV_SET_CONFIG, &arg) ? -errno : 0;
}

TEST_F(dev, set_config_bounds)
{
	uint32_t size = self->c.cfg.config_size;
	uint8_t bytes[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	EXPECT_EQ(0, set_config(self->fd, 0, 8, bytes));
	EXPECT_EQ(0, set_config(self->fd, size - 1, 1, bytes));
	EXPECT_EQ(0, set_config(self->fd, 0, size, NULL));
	EXPECT_EQ(-EINVAL, set_config(self->fd, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, set_config(self->fd, size, 1, bytes));
	EXPECT_EQ(-EINVAL, set_config(self->fd, size - 1, 2, bytes));
	EXPECT_EQ(-EINVAL, set_config(self->fd, 0, size + 1, NULL));
	/* offset + length wraps around 32 bits. */
	EXPECT_EQ(-EINVAL, set_config(self->fd, 0xffffffff, 2, bytes));
	EXPECT_EQ(-EINVAL, set_config(self->fd, 4, 0xfffffffe, bytes));
}

TEST_F(dev, set_config_efault)
{
	struct vduse_config_data *d = (void *)8;

	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_DEV_SET_CONFIG, d));
	EXPECT_EQ(EFAULT, errno);
}

static int vq_setup(int fd, uint32_t index, uint16_t max_size)
{
	struct vduse_vq_config cfg = {
		.index = index,
		.max_size = max_size,
	};

	return ioctl(fd, VDUSE_VQ_SETUP, &cfg) ? -errno : 0;
}

TEST_F(dev, vq_setup)
{
	struct vduse_vq_config cfg = { .index = 0, .max_size = 256 };

	EXPECT_EQ(0, vq_setup(self->fd, 0, 256));
	EXPECT_EQ(0, vq_setup(self->fd, 1, 32768));
	/* Again, while detached, with another size. */
	EXPECT_EQ(0, vq_setup(self->fd, 1, 128));

	EXPECT_EQ(-EINVAL, vq_setup(self->fd, 2, 256));
	EXPECT_EQ(-EINVAL, vq_setup(self->fd, 0xffffffff, 256));
	EXPECT_EQ(-EINVAL, vq_setup(self->fd, 0, 0));
	EXPECT_EQ(-EINVAL, vq_setup(self->fd, 0, 32769));

	cfg.reserved1 = 1;
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_VQ_SETUP, &cfg));
	EXPECT_EQ(EINVAL, errno);
	cfg.reserved1 = 0;
	cfg.reserved2[9] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_VQ_SETUP, &cfg));
	EXPECT_EQ(EINVAL, errno);
	cfg.reserved2[9] = 0;
	/* Version 0 has one group. */
	cfg.group = 1;
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_VQ_SETUP, &cfg));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_VQ_SETUP, (void *)8));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(dev, vq_get_info_before_a_driver)
{
	struct vduse_vq_info info;

	memset(&info, 0xff, sizeof(info));
	info.index = 1;
	ASSERT_EQ(0, ioctl(self->fd, VDUSE_VQ_GET_INFO, &info));
	EXPECT_EQ(1U, info.index);
	EXPECT_EQ(0U, info.num);
	EXPECT_EQ(0ULL, info.desc_addr);
	EXPECT_EQ(0ULL, info.driver_addr);
	EXPECT_EQ(0ULL, info.device_addr);
	EXPECT_EQ(0, info.ready);

	info.index = 2;
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_VQ_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_VQ_GET_INFO, (void *)8));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(dev, unknown_ioctls_enotty)
{
	uint64_t v = 0;

	EXPECT_EQ(-1, ioctl(self->fd, _IO(VDUSE_BASE, 0x7f)));
	EXPECT_EQ(ENOTTY, errno);
	/* Control node ioctls mean nothing here. */
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_GET_API_VERSION, &v));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_DESTROY_DEV, NAME));
	EXPECT_EQ(ENOTTY, errno);
}

FIXTURE(dev_v1) {
	int ctrl;
	int fd;
	struct vduse_test_config c;
};

FIXTURE_SETUP(dev_v1)
{
	self->ctrl = vduse_ctrl_open();
	ASSERT_LE(0, self->ctrl);
	ASSERT_EQ(0, vduse_ctrl_set_api(self->ctrl, VDUSE_API_VERSION_1));
	vduse_test_blk_config(&self->c, NAME);
	self->c.cfg.vq_num = 2;
	self->c.cfg.ngroups = 2;
	self->c.cfg.nas = 2;
	ASSERT_EQ(0, vduse_create_anew(self->ctrl, &self->c));
	self->fd = vduse_dev_open(NAME);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(dev_v1)
{
	close(self->fd);
	EXPECT_EQ(0, vduse_destroy(self->ctrl, NAME));
	close(self->ctrl);
}

TEST_F(dev_v1, vq_groups)
{
	struct vduse_vq_config cfg = { .index = 1, .max_size = 64, .group = 1 };

	EXPECT_EQ(0, ioctl(self->fd, VDUSE_VQ_SETUP, &cfg));
	cfg.group = 2;
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_VQ_SETUP, &cfg));
	EXPECT_EQ(EINVAL, errno);
}

TEST_HARNESS_MAIN
