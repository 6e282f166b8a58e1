// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net devices: the configuration checks at creation, and the
 * kernel's virtio_net driver on a VDUSE device: the MAC and MTU it takes
 * from the daemon's configuration space, and the link state the daemon
 * changes with VDUSE_DEV_SET_CONFIG and VDUSE_DEV_INJECT_CONFIG_IRQ.
 * Only the control path runs: no packet is sent.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/virtio_net.h>

#include "../kselftest_harness.h"
#include "vduse_lib.h"

#define NAME	"vduse-net-test"

static struct virtio_net_config *net_space(struct vduse_test_config *c)
{
	return (struct virtio_net_config *)c->cfg.config;
}

TEST(config_checks)
{
	static const uint8_t multicast[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
	static const uint8_t zero[6];
	struct vduse_test_config c;
	int ctrl;

	ctrl = vduse_ctrl_open();
	ASSERT_LE(0, ctrl);

	vduse_test_net_config(&c, NAME);
	memcpy(net_space(&c)->mac, multicast, 6);
	EXPECT_EQ(-EINVAL, vduse_create(ctrl, &c));
	memcpy(net_space(&c)->mac, zero, 6);
	EXPECT_EQ(-EINVAL, vduse_create(ctrl, &c));

	vduse_test_net_config(&c, NAME);
	c.cfg.features |= 1ULL << VIRTIO_NET_F_MTU;
	net_space(&c)->mtu = 67;
	EXPECT_EQ(-EINVAL, vduse_create(ctrl, &c));
	net_space(&c)->mtu = 68;
	EXPECT_EQ(0, vduse_create(ctrl, &c));
	EXPECT_EQ(0, vduse_destroy(ctrl, NAME));

	/* Without VIRTIO_NET_F_MAC the MAC field is not the driver's. */
	vduse_test_net_config(&c, NAME);
	c.cfg.features &= ~(1ULL << VIRTIO_NET_F_MAC);
	memcpy(net_space(&c)->mac, multicast, 6);
	EXPECT_EQ(0, vduse_create(ctrl, &c));
	EXPECT_EQ(0, vduse_destroy(ctrl, NAME));
	close(ctrl);
}

static int netdev(char *ifname, size_t size)
{
	char path[256];

	if (vduse_dev_path("/sys/bus/vdpa/devices/" NAME "/virtio*/net/*",
			   path, sizeof(path)))
		return -1;
	/* "/dev/<name>": the interface is <name>. */
	if (strlen(path + 5) >= size)
		return -1;
	memcpy(ifname, path + 5, strlen(path + 5) + 1);
	return 0;
}

static int carrier_is(const char *ifname, const char *want)
{
	char path[128], buf[16];
	int i;

	snprintf(path, sizeof(path), "/sys/class/net/%s/carrier", ifname);
	for (i = 0; i < 100; i++) {
		if (vduse_sysfs_read(path, buf, sizeof(buf)) > 0 &&
		    !strcmp(buf, want))
			return 1;
		usleep(20000);
	}
	return 0;
}

static int set_link(int fd, uint16_t status)
{
	struct {
		struct vduse_config_data d;
		uint16_t status;
	} arg = {
		.d = {
			.offset = offsetof(struct virtio_net_config, status),
			.length = 2,
		},
		.status = status,
	};

	if (ioctl(fd, VDUSE_DEV_SET_CONFIG, &arg))
		return -errno;
	return ioctl(fd, VDUSE_DEV_INJECT_CONFIG_IRQ) ? -errno : 0;
}

TEST(driver_takes_mac_mtu_and_link)
{
	struct vduse_vq_config vq = { .max_size = 256 };
	struct vduse_ctl_daemon ctl = { 0 };
	struct vduse_test_config c;
	char ifname[64], path[128], buf[64], cmd[160];
	int ctrl, fd;

	ctrl = vduse_ctrl_open();
	ASSERT_LE(0, ctrl);
	vduse_test_net_config(&c, NAME);
	c.cfg.features |= (1ULL << VIRTIO_NET_F_MTU) |
			  (1ULL << VIRTIO_NET_F_STATUS);
	net_space(&c)->mtu = 1400;
	net_space(&c)->status = VIRTIO_NET_S_LINK_UP;
	ASSERT_EQ(0, vduse_create(ctrl, &c));
	fd = vduse_dev_open(NAME);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, VDUSE_VQ_SETUP, &vq));
	vq.index = 1;
	ASSERT_EQ(0, ioctl(fd, VDUSE_VQ_SETUP, &vq));
	ASSERT_EQ(0, vduse_ctl_daemon_start(&ctl, fd));

	ASSERT_EQ(0, vduse_vdpa_add(NAME, 60));
	ASSERT_EQ(0, netdev(ifname, sizeof(ifname)));

	snprintf(path, sizeof(path), "/sys/class/net/%s/address", ifname);
	ASSERT_LT(0, vduse_sysfs_read(path, buf, sizeof(buf)));
	EXPECT_STREQ("52:54:00:12:34:56", buf);
	snprintf(path, sizeof(path), "/sys/class/net/%s/mtu", ifname);
	ASSERT_LT(0, vduse_sysfs_read(path, buf, sizeof(buf)));
	EXPECT_STREQ("1400", buf);

	snprintf(cmd, sizeof(cmd), "ip link set %s up", ifname);
	ASSERT_EQ(0, system(cmd));
	EXPECT_TRUE(carrier_is(ifname, "1"));
	/* The daemon takes the link down, and up again. */
	ASSERT_EQ(0, set_link(fd, 0));
	EXPECT_TRUE(carrier_is(ifname, "0"));
	ASSERT_EQ(0, set_link(fd, VIRTIO_NET_S_LINK_UP));
	EXPECT_TRUE(carrier_is(ifname, "1"));

	EXPECT_EQ(0, vduse_vdpa_del(NAME, 60));
	vduse_ctl_daemon_stop(&ctl);
	close(fd);
	EXPECT_EQ(0, vduse_destroy(ctrl, NAME));
	close(ctrl);
}

TEST_HARNESS_MAIN
