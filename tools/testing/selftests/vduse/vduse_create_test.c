// SPDX-License-Identifier: GPL-2.0
/*
 * VDUSE_CREATE_DEV and VDUSE_DESTROY_DEV: every validation rule with its
 * errno, the device node's lifetime and its single-daemon rule.
 */
#include <errno.h>
#include <fcntl.h>
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_fs.h>
#include <linux/virtio_net.h>

#include "../kselftest_harness.h"
#include "vduse_lib.h"

#define NAME	"vduse-create-test"

FIXTURE(create) {
	int ctrl;
	struct vduse_test_config c;
};

FIXTURE_SETUP(create)
{
	self->ctrl = vduse_ctrl_open();
	ASSERT_LE(0, self->ctrl);
	vduse_test_blk_config(&self->c, NAME);
}

FIXTURE_TEARDOWN(create)
{
	vduse_destroy(self->ctrl, NAME);
	close(self->ctrl);
}

static int node_exists(const char *name)
{
	char path[VDUSE_NAME_MAX + 16];
	struct stat st;

	snprintf(path, sizeof(path), "/dev/vduse/%s", name);
	return stat(path, &st) == 0 && S_ISCHR(st.st_mode);
}

TEST_F(create, blk_device_and_node)
{
	char path[128], buf[64];
	struct stat st;

	ASSERT_EQ(0, vduse_create(self->ctrl, &self->c));
	ASSERT_EQ(0, stat("/dev/vduse/" NAME, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600U, st.st_mode & 07777);
	snprintf(path, sizeof(path), VDUSE_SYSFS_CLASS "/%s/dev", NAME);
	EXPECT_LT(0, vduse_sysfs_read(path, buf, sizeof(buf)));

	ASSERT_EQ(0, vduse_destroy(self->ctrl, NAME));
	EXPECT_FALSE(node_exists(NAME));
	EXPECT_EQ(-ENOENT, vduse_sysfs_read(path, buf, sizeof(buf)));
}

TEST_F(create, net_device_with_cap_net_admin)
{
	vduse_test_net_config(&self->c, NAME);
	ASSERT_EQ(0, vduse_create(self->ctrl, &self->c));
	EXPECT_TRUE(node_exists(NAME));
}

TEST_F(create, net_device_without_cap_net_admin_eperm)
{
	int status;
	pid_t pid;

	vduse_test_net_config(&self->c, NAME);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct __user_cap_header_struct hdr = {
			.version = _LINUX_CAPABILITY_VERSION_3,
		};
		struct __user_cap_data_struct data[2];

		if (syscall(SYS_capget, &hdr, data))
			_exit(2);
		data[0].effective &= ~(1U << CAP_NET_ADMIN);
		if (syscall(SYS_capset, &hdr, data))
			_exit(3);
		_exit(vduse_create(self->ctrl, &self->c) == -EPERM ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_FALSE(node_exists(NAME));
}

TEST_F(create, duplicate_name_eexist)
{
	ASSERT_EQ(0, vduse_create(self->ctrl, &self->c));
	EXPECT_EQ(-EEXIST, vduse_create(self->ctrl, &self->c));
}

TEST_F(create, control_is_taken_eexist)
{
	vduse_test_blk_config(&self->c, "control");
	EXPECT_EQ(-EEXIST, vduse_create(self->ctrl, &self->c));
}

TEST_F(create, bad_names_einval)
{
	static const char * const bad[] = { "", ".", "..", "a/b", "/", "x/" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		vduse_test_blk_config(&self->c, bad[i]);
		EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c))
			TH_LOG("name \"%s\"", bad[i]);
	}
	/* No NUL inside VDUSE_NAME_MAX. */
	vduse_test_blk_config(&self->c, NAME);
	memset(self->c.cfg.name, 'a', sizeof(self->c.cfg.name));
	EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c));
}

TEST_F(create, unsupported_device_id_einval)
{
	static const uint32_t bad[] = { 0, 3 /* console */, 4, 5, 9, 0xffff,
					0xffffffff };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		self->c.cfg.device_id = bad[i];
		EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c))
			TH_LOG("device_id %u", bad[i]);
	}
}

TEST_F(create, required_features_einval)
{
	uint64_t all = self->c.cfg.features;

	self->c.cfg.features = all & ~(1ULL << 32);
	EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c));
	self->c.cfg.features = all & ~(1ULL << 33);
	EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c));
	self->c.cfg.features = 0;
	EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c));
	EXPECT_FALSE(node_exists(NAME));
}

TEST_F(create, unhonourable_features_einval)
{
	/*
	 * Ring reset, notification data, admin vq, unknown, legacy blk, and
	 * a writable cache mode (no message carries configuration writes).
	 */
	static const unsigned int bad[] = { 37, 38, 39, 40, 41, 50, 63,
		VIRTIO_BLK_F_BARRIER, VIRTIO_BLK_F_SCSI, 3, 8, 23,
		VIRTIO_BLK_F_CONFIG_WCE };
	uint64_t base = self->c.cfg.features;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		self->c.cfg.features = base | (1ULL << bad[i]);
		EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c))
			TH_LOG("feature bit %u", bad[i]);
	}
}

/*
 * The control virtqueue is offered where its watchdog can read it: split
 * rings.  With a packed ring, refused as other implementations refuse it.
 */
TEST_F(create, net_ctrl_vq_packed_einval)
{
	vduse_test_net_config(&self->c, NAME);
	self->c.cfg.vq_num = 3;
	self->c.cfg.features |= (1ULL << VIRTIO_NET_F_CTRL_VQ) |
				(1ULL << VIRTIO_F_RING_PACKED);
	EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c));
}

TEST_F(create, blk_features_accepted)
{
	self->c.cfg.features |= (1ULL << 28) | (1ULL << 29) | (1ULL << 24) |
		(1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
		(1ULL << VIRTIO_BLK_F_FLUSH) | (1ULL << VIRTIO_BLK_F_MQ) |
		(1ULL << VIRTIO_BLK_F_DISCARD) |
		(1ULL << VIRTIO_BLK_F_WRITE_ZEROES);
	self->c.cfg.vq_num = 4;
	EXPECT_EQ(0, vduse_create(self->ctrl, &self->c));
}

TEST_F(create, vq_num_bounds_einval)
{
	static const uint32_t bad[] = { 0, 257, 0x10000, 0xffffffff };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		self->c.cfg.vq_num = bad[i];
		EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c))
			TH_LOG("vq_num %u", bad[i]);
	}
	vduse_test_net_config(&self->c, NAME);
	self->c.cfg.vq_num = 1;
	EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c));
}

TEST_F(create, vq_num_256_accepted)
{
	self->c.cfg.vq_num = 256;
	EXPECT_EQ(0, vduse_create(self->ctrl, &self->c));
}

TEST_F(create, vq_align_einval)
{
	static const uint32_t bad[] = { 0, 1, 2, 3, 100, 8192, 1U << 31 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		self->c.cfg.vq_align = bad[i];
		EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c))
			TH_LOG("vq_align %u", bad[i]);
	}
	self->c.cfg.vq_align = 64;
	EXPECT_EQ(0, vduse_create(self->ctrl, &self->c));
}

TEST_F(create, config_size_bounds_einval)
{
	self->c.cfg.config_size = 4097;
	EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c));
	self->c.cfg.config_size = 0xffffffff;
	EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c));
	/* Not even the capacity. */
	self->c.cfg.config_size = 7;
	EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c));
	/* The capacity alone is enough without optional features. */
	self->c.cfg.config_size = 8;
	EXPECT_EQ(0, vduse_create(self->ctrl, &self->c));
}

TEST_F(create, config_size_follows_features_einval)
{
	self->c.cfg.features |= 1ULL << VIRTIO_BLK_F_BLK_SIZE;
	self->c.cfg.config_size = 20;	/* blk_size ends at 24 */
	EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c));
	self->c.cfg.config_size = 24;
	EXPECT_EQ(0, vduse_create(self->ctrl, &self->c));
	ASSERT_EQ(0, vduse_destroy(self->ctrl, NAME));

	vduse_test_net_config(&self->c, NAME);
	self->c.cfg.config_size = 5;	/* mac ends at 6 */
	EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c));
}

TEST_F(create, fs_device_accepted)
{
	vduse_test_fs_config(&self->c, NAME, "myfs", 1);
	ASSERT_EQ(0, vduse_create(self->ctrl, &self->c));
	EXPECT_TRUE(node_exists(NAME));
	ASSERT_EQ(0, vduse_destroy(self->ctrl, NAME));

	/* A 36-byte tag fills the field: no NUL at all. */
	vduse_test_fs_config(&self->c, NAME,
			     "abcdefghijklmnopqrstuvwxyz0123456789", 4);
	ASSERT_EQ(0, vduse_create(self->ctrl, &self->c));
	ASSERT_EQ(0, vduse_destroy(self->ctrl, NAME));

	/* The notification queue comes after the request queues. */
	vduse_test_fs_config(&self->c, NAME, "myfs", 2);
	self->c.cfg.features |= 1ULL << 0;
	self->c.cfg.vq_num = 4;
	self->c.cfg.config_size = 44;
	EXPECT_EQ(0, vduse_create(self->ctrl, &self->c));
}

TEST_F(create, fs_bad_tag_einval)
{
	struct virtio_fs_config *fs = (void *)self->c.cfg.config;

	vduse_test_fs_config(&self->c, NAME, "", 1);
	EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c));
	/* Not NUL-padded: a byte after the end. */
	vduse_test_fs_config(&self->c, NAME, "myfs", 1);
	fs->tag[10] = 'x';
	EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c));
	vduse_test_fs_config(&self->c, NAME, "my\nfs", 1);
	EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c));
	vduse_test_fs_config(&self->c, NAME, "my\x7f", 1);
	EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c));
	EXPECT_FALSE(node_exists(NAME));
}

TEST_F(create, fs_queue_count_einval)
{
	struct virtio_fs_config *fs = (void *)self->c.cfg.config;

	/* No request queue. */
	vduse_test_fs_config(&self->c, NAME, "myfs", 0);
	self->c.cfg.vq_num = 2;
	EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c));
	/* vq_num is not 1 + num_request_queues. */
	vduse_test_fs_config(&self->c, NAME, "myfs", 2);
	self->c.cfg.vq_num = 2;
	EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c));
	self->c.cfg.vq_num = 4;
	EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c));
	/* More request queues than a device may have. */
	vduse_test_fs_config(&self->c, NAME, "myfs", 1);
	fs->num_request_queues = htole32(0xffffffff);
	EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c));
	fs->num_request_queues = htole32(256);
	self->c.cfg.vq_num = 256;
	EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c));
	/* A notification queue needs its own slot. */
	vduse_test_fs_config(&self->c, NAME, "myfs", 1);
	self->c.cfg.features |= 1ULL << 0;
	self->c.cfg.config_size = 44;
	EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c));
	EXPECT_FALSE(node_exists(NAME));
}

TEST_F(create, fs_config_size_einval)
{
	vduse_test_fs_config(&self->c, NAME, "myfs", 1);
	self->c.cfg.config_size = 39;	/* num_request_queues ends at 40 */
	EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c));
	/* notify_buf_size ends at 44. */
	self->c.cfg.features |= 1ULL << 0;
	self->c.cfg.vq_num = 3;
	self->c.cfg.config_size = 40;
	EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c));
	EXPECT_FALSE(node_exists(NAME));
}

TEST_F(create, fs_features_einval)
{
	static const unsigned int bad[] = { 1, 2, 5, 23 };
	uint64_t base;
	size_t i;

	vduse_test_fs_config(&self->c, NAME, "myfs", 1);
	base = self->c.cfg.features;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		self->c.cfg.features = base | (1ULL << bad[i]);
		EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c))
			TH_LOG("feature bit %u", bad[i]);
	}
	EXPECT_FALSE(node_exists(NAME));
}

TEST_F(create, reserved_einval)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(self->c.cfg.reserved); i++) {
		self->c.cfg.reserved[i] = 1;
		EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c))
			TH_LOG("reserved[%zu]", i);
		self->c.cfg.reserved[i] = 0;
	}
	EXPECT_FALSE(node_exists(NAME));
}

TEST_F(create, v0_groups_and_spaces_einval)
{
	self->c.cfg.ngroups = 1;
	EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c));
	self->c.cfg.ngroups = 0;
	self->c.cfg.nas = 1;
	EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c));
}

TEST_F(create, v1_groups_and_spaces)
{
	ASSERT_EQ(0, vduse_ctrl_set_api(self->ctrl, VDUSE_API_VERSION_1));
	self->c.cfg.vq_num = 2;
	self->c.cfg.ngroups = 3;	/* more groups than queues */
	self->c.cfg.nas = 1;
	EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c));
	self->c.cfg.ngroups = 2;
	self->c.cfg.nas = 257;
	EXPECT_EQ(-EINVAL, vduse_create(self->ctrl, &self->c));
	self->c.cfg.nas = 2;
	EXPECT_EQ(0, vduse_create(self->ctrl, &self->c));
	ASSERT_EQ(0, vduse_destroy(self->ctrl, NAME));
	/* Zero means one, as in version 0. */
	self->c.cfg.ngroups = 0;
	self->c.cfg.nas = 0;
	EXPECT_EQ(0, vduse_create(self->ctrl, &self->c));
}

TEST_F(create, bad_pointers_efault)
{
	long page = sysconf(_SC_PAGESIZE);
	struct vduse_dev_config *cfg;
	char *map;

	EXPECT_EQ(-1, ioctl(self->ctrl, VDUSE_CREATE_DEV, (void *)8));
	EXPECT_EQ(EFAULT, errno);

	/* The header is readable, the configuration space behind it not. */
	map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, munmap(map + page, page));
	cfg = (void *)(map + page - sizeof(*cfg));
	memcpy(cfg, &self->c.cfg, sizeof(*cfg));
	EXPECT_EQ(-1, ioctl(self->ctrl, VDUSE_CREATE_DEV, cfg));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_FALSE(node_exists(NAME));
	munmap(map, page);
}

TEST_F(create, destroy_errors)
{
	char name[VDUSE_NAME_MAX];

	EXPECT_EQ(-ENOENT, vduse_destroy(self->ctrl, "vduse-no-such-device"));
	EXPECT_EQ(-EINVAL, vduse_destroy(self->ctrl, ""));
	memset(name, 'a', sizeof(name));
	EXPECT_EQ(-1, ioctl(self->ctrl, VDUSE_DESTROY_DEV, name));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->ctrl, VDUSE_DESTROY_DEV, (void *)8));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(create, one_daemon_at_a_time_ebusy)
{
	int fd, fd2;

	ASSERT_EQ(0, vduse_create(self->ctrl, &self->c));
	fd = vduse_dev_open(NAME);
	ASSERT_LE(0, fd);
	fd2 = vduse_dev_open(NAME);
	EXPECT_EQ(-EBUSY, fd2);
	close(fd);
	/* The node is free again once the daemon closes it. */
	fd2 = vduse_dev_open(NAME);
	EXPECT_LE(0, fd2);
	close(fd2);
}

TEST_F(create, destroy_while_open_ebusy)
{
	int fd;

	ASSERT_EQ(0, vduse_create(self->ctrl, &self->c));
	fd = vduse_dev_open(NAME);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EBUSY, vduse_destroy(self->ctrl, NAME));
	EXPECT_TRUE(node_exists(NAME));
	close(fd);
	EXPECT_EQ(0, vduse_destroy(self->ctrl, NAME));
	EXPECT_FALSE(node_exists(NAME));
}

TEST_F(create, destroy_through_another_control_file)
{
	int other = vduse_ctrl_open();

	ASSERT_LE(0, other);
	ASSERT_EQ(0, vduse_create(self->ctrl, &self->c));
	EXPECT_EQ(0, vduse_destroy(other, NAME));
	close(other);
}

TEST_F(create, many_devices)
{
	char name[32];
	int i;

	for (i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "vduse-many-%d", i);
		vduse_test_blk_config(&self->c, name);
		ASSERT_EQ(0, vduse_create(self->ctrl, &self->c));
	}
	for (i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "vduse-many-%d", i);
		EXPECT_EQ(0, vduse_destroy(self->ctrl, name));
		EXPECT_FALSE(node_exists(name));
	}
}

TEST_HARNESS_MAIN
