// SPDX-License-Identifier: GPL-2.0
/*
 * The control node: where it lives, who may open it, and the API version
 * and VDUSE feature negotiation every daemon starts with.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "vduse_lib.h"

TEST(control_node_is_root_only_char_device)
{
	struct stat st;

	ASSERT_EQ(0, stat(VDUSE_CONTROL_PATH, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600U, st.st_mode & 07777);
	EXPECT_EQ(0U, st.st_uid);
}

TEST(control_node_in_vduse_class)
{
	char buf[64], want[64];
	struct stat st;

	ASSERT_EQ(0, stat(VDUSE_CONTROL_PATH, &st));
	ASSERT_LT(0, vduse_sysfs_read(VDUSE_SYSFS_CLASS "/control/dev",
				      buf, sizeof(buf)));
	snprintf(want, sizeof(want), "%u:%u", major(st.st_rdev),
		 minor(st.st_rdev));
	EXPECT_STREQ(want, buf);
}

FIXTURE(ctrl) {
	int fd;
};

FIXTURE_SETUP(ctrl)
{
	self->fd = vduse_ctrl_open();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(ctrl)
{
	close(self->fd);
}

TEST_F(ctrl, default_version_is_0)
{
	uint64_t v = 99;

	ASSERT_EQ(0, vduse_ctrl_get_api(self->fd, &v));
	EXPECT_EQ((uint64_t)VDUSE_API_VERSION, v);
}

TEST_F(ctrl, set_version_0)
{
	uint64_t v = 99;

	ASSERT_EQ(0, vduse_ctrl_set_api(self->fd, VDUSE_API_VERSION));
	ASSERT_EQ(0, vduse_ctrl_get_api(self->fd, &v));
	EXPECT_EQ((uint64_t)VDUSE_API_VERSION, v);
}

TEST_F(ctrl, set_version_1)
{
	uint64_t v = 99;

	ASSERT_EQ(0, vduse_ctrl_set_api(self->fd, VDUSE_API_VERSION_1));
	ASSERT_EQ(0, vduse_ctrl_get_api(self->fd, &v));
	EXPECT_EQ((uint64_t)VDUSE_API_VERSION_1, v);

	/* And back: the version may change until devices are created. */
	ASSERT_EQ(0, vduse_ctrl_set_api(self->fd, VDUSE_API_VERSION));
	ASSERT_EQ(0, vduse_ctrl_get_api(self->fd, &v));
	EXPECT_EQ((uint64_t)VDUSE_API_VERSION, v);
}

TEST_F(ctrl, unknown_versions_einval)
{
	static const uint64_t bad[] = { 2, 3, 0x100, 1ULL << 32, UINT64_MAX };
	uint64_t v;
	size_t i;

	ASSERT_EQ(0, vduse_ctrl_set_api(self->fd, VDUSE_API_VERSION_1));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, vduse_ctrl_set_api(self->fd, bad[i]));
		/* A refused version leaves the old one in place. */
		ASSERT_EQ(0, vduse_ctrl_get_api(self->fd, &v));
		EXPECT_EQ((uint64_t)VDUSE_API_VERSION_1, v);
	}
}

TEST_F(ctrl, version_is_per_open_file)
{
	uint64_t v = 99;
	int other;

	ASSERT_EQ(0, vduse_ctrl_set_api(self->fd, VDUSE_API_VERSION_1));
	other = vduse_ctrl_open();
	ASSERT_LE(0, other);
	ASSERT_EQ(0, vduse_ctrl_get_api(other, &v));
	EXPECT_EQ((uint64_t)VDUSE_API_VERSION, v);
	close(other);
}

TEST_F(ctrl, bad_pointers_efault)
{
	void *bad = (void *)8;

	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_GET_API_VERSION, bad));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_SET_API_VERSION, bad));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(ctrl, unknown_ioctls_enotty)
{
	uint64_t v = 0;
	uint32_t v32 = 0;

	/* A number nobody defined. */
	EXPECT_EQ(-1, ioctl(self->fd, _IO(VDUSE_BASE, 0x7f)));
	EXPECT_EQ(ENOTTY, errno);
	/* The right number with the wrong size is another command. */
	EXPECT_EQ(-1, ioctl(self->fd, _IOR(VDUSE_BASE, 0x00, __u32), &v32));
	EXPECT_EQ(ENOTTY, errno);
	/* Device node ioctls mean nothing here. */
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_DEV_GET_FEATURES, &v));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_DEV_INJECT_CONFIG_IRQ));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(ctrl, read_write_einval)
{
	char buf[16] = { 0 };

	EXPECT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
}

#define F_QUEUE_READY	BIT_ULL(VDUSE_F_QUEUE_READY)
#define F_SUSPEND	BIT_ULL(VDUSE_F_SUSPEND)
#define F_RESUME	BIT_ULL(VDUSE_F_RESUME)

TEST_F(ctrl, vduse_features_offered)
{
	uint64_t f = 0;

	ASSERT_EQ(0, ioctl(self->fd, VDUSE_GET_FEATURES, &f));
	EXPECT_EQ(F_QUEUE_READY | F_SUSPEND | F_RESUME, f);
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_GET_FEATURES, NULL));
	EXPECT_EQ(EFAULT, errno);
}

/*
 * Resume is this driver's extension: it takes the top feature bit and a
 * message type far above mainline's, so that the numbers mainline hands
 * out next (bit 2, message 6) never mean resume here.
 */
TEST(resume_numbers_out_of_mainlines_way)
{
	EXPECT_EQ(63, VDUSE_F_RESUME);
	EXPECT_EQ(0x8000, VDUSE_RESUME);
	EXPECT_EQ(5, VDUSE_SUSPEND);
}

TEST_F(ctrl, set_features_checks)
{
	static const uint64_t bad[] = {
		BIT_ULL(2), BIT_ULL(3), BIT_ULL(62), F_RESUME,
		F_QUEUE_READY | F_RESUME, F_SUSPEND | BIT_ULL(2), ~0ULL,
	};
	static const uint64_t good[] = {
		0, F_QUEUE_READY, F_SUSPEND, F_SUSPEND | F_RESUME,
		F_QUEUE_READY | F_SUSPEND | F_RESUME,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-1, ioctl(self->fd, VDUSE_SET_FEATURES, &bad[i]));
		EXPECT_EQ(EINVAL, errno);
	}
	for (i = 0; i < ARRAY_SIZE(good); i++)
		EXPECT_EQ(0, ioctl(self->fd, VDUSE_SET_FEATURES, &good[i]));
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_SET_FEATURES, NULL));
	EXPECT_EQ(EFAULT, errno);
}

static int features_of(const char *name, char *buf, size_t size)
{
	char path[128];

	snprintf(path, sizeof(path), VDUSE_SYSFS_CLASS "/%s/vduse_features",
		 name);
	return vduse_sysfs_read(path, buf, size);
}

/*
 * Features belong to the control file and go to the devices created
 * through it afterwards; a daemon that never sets any gets none, and a
 * refused SET_FEATURES changes nothing.
 */
TEST_F(ctrl, features_per_file_for_later_devices)
{
	uint64_t all = F_QUEUE_READY | F_SUSPEND | F_RESUME, none = 0;
	uint64_t bad = BIT_ULL(40);
	struct vduse_test_config c;
	char buf[32];
	int other;

	other = vduse_ctrl_open();
	ASSERT_LE(0, other);
	vduse_test_blk_config(&c, "vduse-feat-old");
	ASSERT_EQ(0, vduse_create_anew(other, &c));
	ASSERT_EQ(0, ioctl(self->fd, VDUSE_SET_FEATURES, &all));
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_SET_FEATURES, &bad));
	vduse_test_blk_config(&c, "vduse-feat-all");
	ASSERT_EQ(0, vduse_create_anew(self->fd, &c));
	ASSERT_EQ(0, ioctl(self->fd, VDUSE_SET_FEATURES, &none));
	vduse_test_blk_config(&c, "vduse-feat-none");
	ASSERT_EQ(0, vduse_create_anew(self->fd, &c));

	ASSERT_LT(0, features_of("vduse-feat-old", buf, sizeof(buf)));
	EXPECT_STREQ("0x0", buf);
	ASSERT_LT(0, features_of("vduse-feat-all", buf, sizeof(buf)));
	EXPECT_STREQ("0x8000000000000003", buf);
	ASSERT_LT(0, features_of("vduse-feat-none", buf, sizeof(buf)));
	EXPECT_STREQ("0x0", buf);

	EXPECT_EQ(0, vduse_destroy(other, "vduse-feat-old"));
	EXPECT_EQ(0, vduse_destroy(self->fd, "vduse-feat-all"));
	EXPECT_EQ(0, vduse_destroy(self->fd, "vduse-feat-none"));
	close(other);
}

TEST_HARNESS_MAIN
