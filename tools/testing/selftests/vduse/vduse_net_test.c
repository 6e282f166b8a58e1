// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net devices: the configuration checks at creation, and the
 * kernel's virtio_net driver on a VDUSE device: the MAC and MTU it takes
 * from the daemon's configuration space, the link state the daemon
 * changes with VDUSE_DEV_SET_CONFIG and VDUSE_DEV_INJECT_CONFIG_IRQ,
 * traffic through a daemon bridging to a TAP interface between two
 * network namespaces, the control virtqueue (MAC address, queue pairs),
 * and a daemon that never answers the control virtqueue.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

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
	ASSERT_EQ(0, vduse_create_anew(ctrl, &c));
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

TEST(control_vq_config_checks)
{
	struct vduse_test_config c;
	int ctrl;

	ctrl = vduse_ctrl_open();
	ASSERT_LE(0, ctrl);

	/* A control feature needs the control virtqueue. */
	vduse_test_net_config(&c, NAME);
	c.cfg.features |= 1ULL << VIRTIO_NET_F_CTRL_RX;
	EXPECT_EQ(-EINVAL, vduse_create(ctrl, &c));
	/* The control virtqueue needs a queue of its own. */
	c.cfg.features |= 1ULL << VIRTIO_NET_F_CTRL_VQ;
	EXPECT_EQ(-EINVAL, vduse_create(ctrl, &c));
	/* Its watchdog reads split rings only. */
	c.cfg.vq_num = 3;
	c.cfg.features |= 1ULL << VIRTIO_F_RING_PACKED;
	EXPECT_EQ(-EINVAL, vduse_create(ctrl, &c));
	c.cfg.features &= ~(1ULL << VIRTIO_F_RING_PACKED);
	EXPECT_EQ(0, vduse_create(ctrl, &c));
	EXPECT_EQ(0, vduse_destroy(ctrl, NAME));

	/* Queue pairs: 1 .. 0x8000, and two queues each plus the cvq. */
	c.cfg.features |= 1ULL << VIRTIO_NET_F_MQ;
	net_space(&c)->max_virtqueue_pairs = 0;
	EXPECT_EQ(-EINVAL, vduse_create(ctrl, &c));
	net_space(&c)->max_virtqueue_pairs = 0x8001;
	c.cfg.vq_num = 256;
	EXPECT_EQ(-EINVAL, vduse_create(ctrl, &c));
	net_space(&c)->max_virtqueue_pairs = 2;
	c.cfg.vq_num = 4;
	EXPECT_EQ(-EINVAL, vduse_create(ctrl, &c));
	c.cfg.vq_num = 5;
	EXPECT_EQ(0, vduse_create(ctrl, &c));
	EXPECT_EQ(0, vduse_destroy(ctrl, NAME));
	close(ctrl);
}

#define NS_DEV	"vduse-ns-dev"
#define NS_TAP	"vduse-ns-tap"
#define IP_DEV	"10.77.0.1"
#define IP_TAP	"10.77.0.2"
#define NEW_MAC	"52:54:00:aa:bb:cc"
#define XFER_BYTES	(4 << 20)
#define XFER_PORT	7777

static int shell(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* Enter a network namespace: this thread only. */
static int enter_netns(const char *ns)
{
	char path[128];
	int fd, ret;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = setns(fd, CLONE_NEWNET);
	close(fd);
	return ret;
}

static uint8_t xfer_byte(size_t i)
{
	return (uint8_t)(i * 2654435761u >> 13);
}

struct xfer {
	int ready;		/* __atomic: the server listens */
	size_t received;
	int mismatches;
	int error;
};

/* In the TAP's namespace: receive and check XFER_BYTES. */
static void *xfer_server(void *arg)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(XFER_PORT),
	};
	struct timeval tv = { .tv_sec = 10 };
	struct xfer *x = arg;
	static uint8_t buf[65536];
	int one = 1, ls, s;
	ssize_t n, i;

	if (enter_netns(NS_TAP)) {
		x->error = errno;
		__atomic_store_n(&x->ready, -1, __ATOMIC_RELEASE);
		return NULL;
	}
	inet_pton(AF_INET, IP_TAP, &sa.sin_addr);
	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ls < 0 || bind(ls, (void *)&sa, sizeof(sa)) || listen(ls, 1)) {
		x->error = errno;
		__atomic_store_n(&x->ready, -1, __ATOMIC_RELEASE);
		return NULL;
	}
	setsockopt(ls, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	__atomic_store_n(&x->ready, 1, __ATOMIC_RELEASE);
	s = accept(ls, NULL, NULL);
	close(ls);
	if (s < 0) {
		x->error = errno;
		return NULL;
	}
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while ((n = read(s, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++)
			if (buf[i] != xfer_byte(x->received + i))
				x->mismatches++;
		x->received += n;
	}
	if (n < 0)
		x->error = errno;
	close(s);
	return NULL;
}

struct xfer_client {
	size_t sent;
};

/* In the device's namespace: send XFER_BYTES. */
static void *xfer_client(void *arg)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(XFER_PORT),
	};
	struct timeval tv = { .tv_sec = 10 };
	struct xfer_client *c = arg;
	static uint8_t buf[65536];
	size_t i;
	int s;

	if (enter_netns(NS_DEV))
		return NULL;
	inet_pton(AF_INET, IP_TAP, &sa.sin_addr);
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return NULL;
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (!connect(s, (void *)&sa, sizeof(sa))) {
		while (c->sent < XFER_BYTES) {
			ssize_t n;

			for (i = 0; i < sizeof(buf); i++)
				buf[i] = xfer_byte(c->sent + i);
			n = write(s, buf, sizeof(buf));
			if (n <= 0)
				break;
			c->sent += n;
		}
	}
	close(s);
	return NULL;
}

/*
 * From the VDUSE device's namespace to the TAP's, through the daemon;
 * returns the bytes that arrived intact, or -1.  Both ends are threads
 * of their own: setns() changes the calling thread only.
 */
static ssize_t tcp_transfer(void)
{
	struct xfer x = { 0 };
	struct xfer_client c = { 0 };
	pthread_t server, client;
	int ready;

	if (pthread_create(&server, NULL, xfer_server, &x))
		return -1;
	while (!(ready = __atomic_load_n(&x.ready, __ATOMIC_ACQUIRE)))
		usleep(1000);
	if (ready > 0 && !pthread_create(&client, NULL, xfer_client, &c))
		pthread_join(client, NULL);
	pthread_join(server, NULL);
	if (ready < 0 || x.error || x.mismatches || x.received != c.sent)
		return -1;
	return x.received;
}

/* ethtool -L combined N, in the device's namespace. */
static int ns_set_channels(const char *ifname, unsigned int n)
{
	return shell("ip netns exec %s ethtool -L %s combined %u 2>/dev/null",
		     NS_DEV, ifname, n);
}

static int ping_tap(void)
{
	return shell("ip netns exec %s busybox ping -c 3 -w 20 %s >/dev/null",
		     NS_DEV, IP_TAP);
}

/* A net device with the control virtqueue, two pairs, a TAP daemon. */
struct net_fixture {
	int ctrl, fd;
	struct vduse_ctl_daemon ctl;
	struct vduse_net_server srv;
	char ifname[64], tapname[IFNAMSIZ];
};

/*
 * What DPDK's vhost library (lib/vhost/vduse.c) offers on every VDUSE
 * net device it creates, up to 23.07; 23.11 adds the control virtqueue
 * and MQ when it has more than one queue pair.  Its configuration space
 * is a zeroed struct virtio_net_config but for max_virtqueue_pairs, its
 * alignment the page size.
 */
#define DPDK_NET_FEATURES						\
	(BIT_ULL(VIRTIO_NET_F_MRG_RXBUF) | BIT_ULL(VIRTIO_F_ANY_LAYOUT) |	\
	 BIT_ULL(VIRTIO_F_VERSION_1) | BIT_ULL(VIRTIO_NET_F_GSO) |		\
	 BIT_ULL(VIRTIO_NET_F_HOST_TSO4) | BIT_ULL(VIRTIO_NET_F_HOST_TSO6) |	\
	 BIT_ULL(VIRTIO_NET_F_HOST_UFO) | BIT_ULL(VIRTIO_NET_F_HOST_ECN) |	\
	 BIT_ULL(VIRTIO_NET_F_CSUM) | BIT_ULL(VIRTIO_NET_F_GUEST_CSUM) |	\
	 BIT_ULL(VIRTIO_NET_F_GUEST_TSO4) | BIT_ULL(VIRTIO_NET_F_GUEST_TSO6) |	\
	 BIT_ULL(VIRTIO_NET_F_GUEST_UFO) | BIT_ULL(VIRTIO_NET_F_GUEST_ECN) |	\
	 BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC) | BIT_ULL(VIRTIO_F_IN_ORDER) |	\
	 BIT_ULL(VIRTIO_F_ACCESS_PLATFORM))
#define DPDK_2311_NET_FEATURES						\
	(DPDK_NET_FEATURES | BIT_ULL(VIRTIO_NET_F_CTRL_VQ) |		\
	 BIT_ULL(VIRTIO_NET_F_MQ))

static void dpdk_net_config(struct vduse_test_config *c, uint64_t features,
			    uint16_t pairs)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->cfg.name, sizeof(c->cfg.name), "%s", NAME);
	c->cfg.device_id = VIRTIO_ID_NET;
	c->cfg.features = features;
	c->cfg.vq_num = 2 * pairs + (pairs > 1);
	c->cfg.vq_align = getpagesize();
	c->cfg.config_size = sizeof(struct virtio_net_config);
	net_space(c)->max_virtqueue_pairs = pairs;
}

/* A daemon that never answers the control virtqueue, or makes it loop. */
#define CVQ_SILENT	1
#define CVQ_LOOP	2

/*
 * The fixture's device: control queue and two pairs; a control queue
 * that is never answered, or that the daemon makes loop; DPDK's set.
 */
enum net_mode { NET_CVQ_MQ, NET_SILENT_CVQ, NET_LOOP_CVQ, NET_DPDK,
		NET_SILENT_NO_KICKS };

/* 0, or which step failed, negated. */
static int net_fixture_up(struct net_fixture *f, enum net_mode mode)
{
	struct vduse_vq_config vq = { .max_size = 256 };
	int silent = mode == NET_SILENT_CVQ || mode == NET_SILENT_NO_KICKS ?
		     CVQ_SILENT : mode == NET_LOOP_CVQ ? CVQ_LOOP : 0;
	struct vduse_test_config c;
	char path[128];
	int i;

	memset(f, 0, sizeof(*f));
	f->ctrl = vduse_ctrl_open();
	vduse_test_net_config(&c, NAME);
	c.cfg.features |= (1ULL << VIRTIO_NET_F_STATUS) |
			  (1ULL << VIRTIO_NET_F_CTRL_VQ) |
			  (1ULL << VIRTIO_NET_F_CTRL_RX) |
			  (1ULL << VIRTIO_NET_F_CTRL_MAC_ADDR);
	net_space(&c)->status = VIRTIO_NET_S_LINK_UP;
	if (mode == NET_DPDK) {
		dpdk_net_config(&c, DPDK_NET_FEATURES, 1);
	} else if (!silent) {
		c.cfg.features |= 1ULL << VIRTIO_NET_F_MQ;
		net_space(&c)->max_virtqueue_pairs = 2;
		c.cfg.vq_num = 5;
	} else {
		/* Nothing on the control queue until the test asks. */
		c.cfg.features &= ~(1ULL << VIRTIO_NET_F_CTRL_RX);
		c.cfg.vq_num = 3;
	}
	if (f->ctrl < 0 || vduse_create(f->ctrl, &c))
		return -1;
	f->fd = vduse_dev_open(NAME);
	if (f->fd < 0)
		return -2;
	for (i = 0; i < (int)c.cfg.vq_num; i++) {
		vq.index = i;
		/* The largest control queue a daemon may ask for. */
		if (silent == CVQ_LOOP && i == (int)c.cfg.vq_num - 1)
			vq.max_size = 32768;
		if (ioctl(f->fd, VDUSE_VQ_SETUP, &vq))
			return -3;
	}
	if (silent) {
		snprintf(path, sizeof(path), VDUSE_SYSFS_CLASS "/%s/msg_timeout",
			 NAME);
		/* Looping: the watchdog's own limit must end the wait. */
		if (vduse_sysfs_write(path, silent == CVQ_LOOP ? "3600" : "2"))
			return -4;
	}
	f->srv.tap = vduse_tap_open(f->tapname, sizeof(f->tapname));
	if (f->srv.tap < 0)
		return -5;
	f->srv.fd = f->fd;
	f->srv.ctl = &f->ctl;
	f->srv.nvqs = c.cfg.vq_num;
	f->srv.cvq = mode == NET_DPDK ? -1 : (int)c.cfg.vq_num - 1;
	f->srv.max_pairs = silent ? 1 : 2;
	f->srv.cvq_silent = silent == CVQ_SILENT;
	f->srv.cvq_no_kicks = mode == NET_SILENT_NO_KICKS;
	f->srv.cvq_loop = silent == CVQ_LOOP;
	if (vduse_ctl_daemon_start(&f->ctl, f->fd) ||
	    vduse_net_server_start(&f->srv))
		return -6;
	if (vduse_vdpa_add(NAME, 60))
		return -7;
	return netdev(f->ifname, sizeof(f->ifname));
}

/* 0, or which step failed, negated. */
static int net_fixture_down(struct net_fixture *f)
{
	int ret = 0;

	/*
	 * The server first: on a broken device the control daemon is gone
	 * and nobody tells it that the rings are.
	 */
	vduse_net_server_stop(&f->srv);
	if (vduse_vdpa_del(NAME, 60))
		ret = -1;
	vduse_ctl_daemon_stop(&f->ctl);
	close(f->srv.tap);
	close(f->fd);
	if (!ret && vduse_destroy(f->ctrl, NAME))
		ret = -2;
	close(f->ctrl);
	shell("ip netns del " NS_DEV " 2>/dev/null");
	shell("ip netns del " NS_TAP " 2>/dev/null");
	return ret;
}

/* Both namespaces, the device's interface and the TAP in them, up. */
static int netns_up(struct net_fixture *f)
{
	shell("ip netns del " NS_DEV " 2>/dev/null");
	shell("ip netns del " NS_TAP " 2>/dev/null");
	if (shell("ip netns add " NS_DEV " && ip netns add " NS_TAP) ||
	    shell("ip link set %s netns " NS_DEV, f->ifname) ||
	    shell("ip link set %s netns " NS_TAP, f->tapname))
		return -1;
	if (shell("ip -n %s addr add %s/24 dev %s && ip -n %s link set %s up",
		  NS_DEV, IP_DEV, f->ifname, NS_DEV, f->ifname) ||
	    shell("ip -n %s addr add %s/24 dev %s && ip -n %s link set %s up",
		  NS_TAP, IP_TAP, f->tapname, NS_TAP, f->tapname))
		return -2;
	return 0;
}

TEST(traffic_mac_and_queue_pairs)
{
	static const uint8_t new_mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };
	struct net_fixture f;
	uint8_t mac[6];
	ssize_t moved;

	shell("ip netns del " NS_DEV " 2>/dev/null");
	shell("ip netns del " NS_TAP " 2>/dev/null");
	ASSERT_EQ(0, net_fixture_up(&f, NET_CVQ_MQ));
	ASSERT_EQ(0, netns_up(&f));

	EXPECT_EQ(0, ping_tap());
	moved = tcp_transfer();
	EXPECT_EQ(XFER_BYTES, moved);
	EXPECT_LT(0, __atomic_load_n(&f.srv.rx_frames, __ATOMIC_RELAXED));
	EXPECT_LT(0, __atomic_load_n(&f.srv.tx_frames, __ATOMIC_RELAXED));
	/* Bringing the link up set the RX mode through the cvq. */
	EXPECT_LT(0, __atomic_load_n(&f.srv.ctrl_cmds, __ATOMIC_RELAXED));

	/* The MAC address goes to the daemon through the control queue. */
	EXPECT_EQ(0, shell("ip -n %s link set %s address %s", NS_DEV,
			   f.ifname, NEW_MAC));
	vduse_net_server_mac(&f.srv, mac);
	EXPECT_EQ(0, memcmp(mac, new_mac, 6));
	/* So does the number of queue pairs; traffic goes on. */
	EXPECT_EQ(0, ns_set_channels(f.ifname, 2));
	EXPECT_EQ(2, __atomic_load_n(&f.srv.pairs, __ATOMIC_ACQUIRE));
	EXPECT_EQ(0, ns_set_channels(f.ifname, 1));
	EXPECT_EQ(1, __atomic_load_n(&f.srv.pairs, __ATOMIC_ACQUIRE));
	/* More than the device has is refused by the driver. */
	EXPECT_NE(0, ns_set_channels(f.ifname, 3));
	EXPECT_EQ(0, ns_set_channels(f.ifname, 2));
	shell("ip -n " NS_TAP " neigh flush all");
	EXPECT_EQ(0, ping_tap());
	EXPECT_EQ(XFER_BYTES, tcp_transfer());
	EXPECT_EQ(0, __atomic_load_n(&f.srv.error, __ATOMIC_RELAXED));

	EXPECT_EQ(0, net_fixture_down(&f));
}

/*
 * DPDK's vhost library offers its own feature set on every device; both
 * the 23.07 set and the 23.11 one (with the control virtqueue and MQ)
 * are accepted.  The 23.07 one runs under virtio_net: the driver takes
 * the checksum and segmentation offloads and indirect descriptors, and
 * ping and TCP pass through a daemon that hands the virtio-net header to
 * a TAP interface.
 */
TEST(dpdk_feature_sets)
{
	const uint64_t want = BIT_ULL(VIRTIO_NET_F_CSUM) |
			      BIT_ULL(VIRTIO_NET_F_HOST_TSO4) |
			      BIT_ULL(VIRTIO_NET_F_GUEST_CSUM) |
			      BIT_ULL(VIRTIO_NET_F_MRG_RXBUF) |
			      BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC);
	struct vduse_test_config c;
	struct net_fixture f;
	uint64_t driver = 0;
	int ctrl;

	ctrl = vduse_ctrl_open();
	ASSERT_LE(0, ctrl);
	dpdk_net_config(&c, DPDK_2311_NET_FEATURES, 4);
	EXPECT_EQ(0, vduse_create(ctrl, &c));
	EXPECT_EQ(0, vduse_destroy(ctrl, NAME));
	dpdk_net_config(&c, DPDK_NET_FEATURES, 1);
	EXPECT_EQ(0, vduse_create(ctrl, &c));
	EXPECT_EQ(0, vduse_destroy(ctrl, NAME));
	close(ctrl);

	ASSERT_EQ(0, net_fixture_up(&f, NET_DPDK));
	ASSERT_EQ(0, ioctl(f.fd, VDUSE_DEV_GET_FEATURES, &driver));
	EXPECT_EQ(want, driver & want);
	ASSERT_EQ(0, netns_up(&f));
	EXPECT_EQ(0, ping_tap());
	EXPECT_EQ(XFER_BYTES, tcp_transfer());
	EXPECT_LT(0, __atomic_load_n(&f.srv.rx_frames, __ATOMIC_RELAXED));
	EXPECT_LT(0, __atomic_load_n(&f.srv.tx_frames, __ATOMIC_RELAXED));
	EXPECT_EQ(0, __atomic_load_n(&f.srv.error, __ATOMIC_RELAXED));
	EXPECT_EQ(0, net_fixture_down(&f));
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * The daemon serves packets but never answers the control virtqueue:
 * virtio_net spins for the answer holding RTNL.  The watchdog breaks the
 * device after msg_timeout (2 s here) and fails the command; the next
 * one fails too, answered by the kernel; the device can be detached and
 * destroyed.  Without the watchdog the first command never returns.
 */
static void silent_cvq(struct __test_metadata *_metadata,
		       enum net_mode mode)
{
	struct net_fixture f;
	char path[128], buf[16];
	double t;

	ASSERT_EQ(0, net_fixture_up(&f, mode));

	/* Not before the daemon had msg_timeout to answer. */
	t = now_s();
	EXPECT_NE(0, shell("ip link set %s address %s 2>/dev/null", f.ifname,
			   NEW_MAC));
	EXPECT_LE(1.5, now_s() - t);
	snprintf(path, sizeof(path), VDUSE_SYSFS_CLASS "/%s/broken", NAME);
	ASSERT_LT(0, vduse_sysfs_read(path, buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);

	/* Broken: answered by the kernel, with an error. */
	EXPECT_NE(0, shell("ip link set %s address %s 2>/dev/null", f.ifname,
			   NEW_MAC));
	/* The stack is not stuck: RTNL is free. */
	EXPECT_EQ(0, shell("ip link show %s >/dev/null", f.ifname));

	EXPECT_EQ(0, net_fixture_down(&f));
	EXPECT_NE(0, access("/dev/vduse/" NAME, F_OK));
}

TEST(silent_control_vq_does_not_wedge_the_driver)
{
	silent_cvq(_metadata, NET_SILENT_CVQ);
}

/*
 * The same daemon also asks the driver not to kick the control queue
 * (the used ring's flag, the avail event): the command comes without a
 * kick, and the watchdog, which looks at an idle queue every 2 s, finds
 * it anyway.  Without that look the first command never returns.
 */
TEST(silent_control_vq_without_kicks_does_not_wedge_the_driver)
{
	silent_cvq(_metadata, NET_SILENT_NO_KICKS);
}

/* One counter of `vdpa dev vstats show NAME qidx Q`; -1 if not there. */
static long long vstat(int q, const char *name)
{
	char cmd[128], out[2048], key[64], *p;
	long long v = -1;
	size_t n;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "vdpa dev vstats show %s qidx %d 2>&1",
		 NAME, q);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = 0;
	/* "DEV: queue_type tx kicks 2 kicks_held 0 ..." */
	snprintf(key, sizeof(key), " %s ", name);
	p = strstr(out, key);
	if (pclose(f) || !p)
		fprintf(stderr, "# %s: %s\n", cmd, out);
	else
		v = atoll(p + strlen(key));
	return v;
}

/* sysfs vqN/stats: the five counters; 0 if read. */
static int vq_stats(int q, unsigned long long st[5])
{
	char path[128], buf[256];

	snprintf(path, sizeof(path), VDUSE_SYSFS_CLASS "/%s/vq%d/stats",
		 NAME, q);
	if (vduse_sysfs_read(path, buf, sizeof(buf)) <= 0)
		return -1;
	return sscanf(buf, "%llu %llu %llu %llu %llu", &st[0], &st[1], &st[2],
		      &st[3], &st[4]) == 5 ? 0 : -1;
}

/*
 * The per-queue counters have two views: iproute2's vstats (net devices
 * only, through the vdpa core) and sysfs vqN/stats.  After traffic both
 * show the transmit queue's kicks and the receive queue's injections,
 * the same figures; an index past the device's queues is refused.
 */
TEST(vstats_and_sysfs_show_the_same_counters)
{
	unsigned long long before[5], after[5];
	struct net_fixture f;
	long long kicks, irqs;

	shell("ip netns del " NS_DEV " 2>/dev/null");
	shell("ip netns del " NS_TAP " 2>/dev/null");
	ASSERT_EQ(0, net_fixture_up(&f, NET_CVQ_MQ));
	ASSERT_EQ(0, netns_up(&f));
	EXPECT_EQ(0, ping_tap());

	ASSERT_EQ(0, vq_stats(1, before));
	kicks = vstat(1, "kicks");
	ASSERT_EQ(0, vq_stats(1, after));
	/* The pings went out on queue 1: kicked, nothing held. */
	EXPECT_LT(0, before[0]);
	EXPECT_LE(before[0], kicks);
	EXPECT_GE(after[0], kicks);
	EXPECT_EQ(0, vstat(1, "kicks_held"));

	/* Their answers came in on queue 0: injected, callbacks ran. */
	ASSERT_EQ(0, vq_stats(0, before));
	irqs = vstat(0, "irqs_injected");
	EXPECT_LT(0, before[2]);
	EXPECT_LE(before[2], irqs);
	EXPECT_LE(1, vstat(0, "callbacks_local") + vstat(0, "callbacks_remote"));

	/* Five queues: 0..4. */
	EXPECT_EQ(-1, vstat(5, "kicks"));
	EXPECT_EQ(0, net_fixture_down(&f));
}

/*
 * A hostile daemon: a 32768-entry control queue whose every descriptor
 * but the command's own loops on itself, every other slot of the
 * available ring names one, the index is a full ring ahead, and
 * msg_timeout is an hour.  The watchdog gives up after its own limit
 * (10 s), not msg_timeout, and its walk is bounded by the queue size:
 * the command fails, RTNL is free again, the kernel stays healthy (no
 * soft lockup, no RCU stall), and the device goes.  Without the bound
 * the walk reads about 10^9 descriptors in one work item.
 */
FIXTURE(cvq_loop) {
	int unused;
};

FIXTURE_SETUP(cvq_loop)
{
}

FIXTURE_TEARDOWN(cvq_loop)
{
}

TEST_F(cvq_loop, walked_boundedly)
{
	struct net_fixture f;
	/* f.ifname is filled in by net_fixture_up(). */
	const char *const argv[] = { "ip", "link", "set", f.ifname, "address",
				     NEW_MAC, NULL };
	char path[128], buf[16];
	struct vduse_vq_info info;
	int status, i;
	pid_t pid;

	ASSERT_EQ(0, net_fixture_up(&f, NET_LOOP_CVQ));

	pid = vduse_spawn(argv);
	ASSERT_LT(0, pid);
	/* Generous: this is about not hanging, not about speed. */
	for (i = 0; i < 1200 && waitpid(pid, &status, WNOHANG) != pid; i++)
		usleep(100000);
	ASSERT_GT(1200, i) TH_LOG("ip link set still waits after 120 s");
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0);
	info.index = f.srv.cvq;
	ASSERT_EQ(0, ioctl(f.fd, VDUSE_VQ_GET_INFO, &info));
	EXPECT_EQ(32768, info.num);
	snprintf(path, sizeof(path), VDUSE_SYSFS_CLASS "/%s/broken", NAME);
	ASSERT_LT(0, vduse_sysfs_read(path, buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);
	EXPECT_EQ(0, shell("ip link show %s >/dev/null", f.ifname));

	EXPECT_EQ(0, net_fixture_down(&f));
	EXPECT_NE(0, access("/dev/vduse/" NAME, F_OK));
}

TEST_HARNESS_MAIN
