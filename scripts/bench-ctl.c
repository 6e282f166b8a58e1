// SPDX-License-Identifier: GPL-2.0-only
/*
 * Control-path figures for `make bench`, run inside the bench VM against
 * whichever vduse module is loaded (ours or the distribution's):
 *
 *   bench-ctl cycles N	create, attach, detach and destroy a virtio-blk
 *			device N times; prints cycles/s and the mean time
 *			of each step
 *   bench-ctl cleanup	detach and destroy what a failed run left behind
 *   bench-ctl status N	attach a device to vhost-vdpa and issue N
 *			VHOST_VDPA_SET_STATUS ioctls, each of which the
 *			module relays to this program as VDUSE_SET_STATUS;
 *			prints the round trip (mean, p50, p99, min)
 *
 * Both print one JSON object on stdout.  The device is a virtio-blk of
 * capacity 0, so virtio-blk binds without any I/O; a thread answers every
 * message with VDUSE_REQ_RESULT_OK.  Attach and detach talk to the vdpa
 * generic netlink family directly (what `vdpa dev add/del` sends), so the
 * figures are the kernel's and not a fork and exec of iproute2.
 *
 * The program and its answering thread stay on CPU 0: a round trip is
 * then the module's relay and two context switches, not the wakeup of
 * another vCPU, which under TCG on a busy host costs anything from
 * microseconds to a host timeslice.
 *
 * Only the mainline ABI is used (API version 0, no VDUSE_SET_FEATURES),
 * so the same binary runs on either module.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/vdpa.h>
#include <linux/vduse.h>
#include <linux/vhost.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>

#define NAME		"bench-ctl"
#define VQ_SIZE		128

static void die(const char *what, int err)
{
	fprintf(stderr, "bench-ctl: %s: %s\n", what, strerror(err));
	exit(1);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* --- the vdpa generic netlink family ------------------------------- */

struct nl_req {
	struct nlmsghdr n;
	struct genlmsghdr g;
	char attrs[256];
};

static int nl_fd = -1;
static uint16_t vdpa_family;
static uint32_t nl_seq;

static void nl_put(struct nl_req *r, uint16_t type, const void *data,
		   uint16_t len)
{
	struct nlattr *a = (void *)((char *)r + NLMSG_ALIGN(r->n.nlmsg_len));

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	r->n.nlmsg_len = NLMSG_ALIGN(r->n.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

static void nl_init(struct nl_req *r, uint16_t family, uint8_t cmd,
		    uint8_t version)
{
	memset(r, 0, sizeof(*r));
	r->n.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	r->n.nlmsg_type = family;
	r->n.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	r->n.nlmsg_seq = ++nl_seq;
	r->g.cmd = cmd;
	r->g.version = version;
}

/*
 * Send a request and read until its ack; a reply before the ack is
 * handed to @reply.  Returns 0 or -errno from the kernel.
 */
static int nl_talk(struct nl_req *r,
		   void (*reply)(struct nlmsghdr *n, void *arg), void *arg)
{
	char buf[8192];
	ssize_t len;

	if (send(nl_fd, r, r->n.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		struct nlmsghdr *n;

		len = recv(nl_fd, buf, sizeof(buf), 0);
		if (len < 0)
			return -errno;
		for (n = (void *)buf; NLMSG_OK(n, len); n = NLMSG_NEXT(n, len)) {
			if (n->nlmsg_seq != r->n.nlmsg_seq)
				continue;
			if (n->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)NLMSG_DATA(n))->error;
			if (reply)
				reply(n, arg);
		}
	}
}

static void family_reply(struct nlmsghdr *n, void *arg)
{
	struct nlattr *a = (void *)((char *)NLMSG_DATA(n) + GENL_HDRLEN);
	int len = n->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);

	while (len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
	       a->nla_len <= len) {
		if ((a->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_FAMILY_ID)
			memcpy(arg, (char *)a + NLA_HDRLEN, sizeof(uint16_t));
		len -= NLA_ALIGN(a->nla_len);
		a = (void *)((char *)a + NLA_ALIGN(a->nla_len));
	}
}

static void nl_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct nl_req r;
	int ret;

	nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (nl_fd < 0 || bind(nl_fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("netlink socket", errno);
	nl_init(&r, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1);
	nl_put(&r, CTRL_ATTR_FAMILY_NAME, VDPA_GENL_NAME,
	       sizeof(VDPA_GENL_NAME));
	ret = nl_talk(&r, family_reply, &vdpa_family);
	if (ret || !vdpa_family)
		die("the vdpa netlink family", ret ? -ret : ENOENT);
}

/* vdpa dev add name NAME mgmtdev vduse */
static int vdpa_add(void)
{
	struct nl_req r;

	nl_init(&r, vdpa_family, VDPA_CMD_DEV_NEW, VDPA_GENL_VERSION);
	nl_put(&r, VDPA_ATTR_MGMTDEV_DEV_NAME, "vduse", sizeof("vduse"));
	nl_put(&r, VDPA_ATTR_DEV_NAME, NAME, sizeof(NAME));
	return nl_talk(&r, NULL, NULL);
}

/* vdpa dev del NAME */
static int vdpa_del(void)
{
	struct nl_req r;

	nl_init(&r, vdpa_family, VDPA_CMD_DEV_DEL, VDPA_GENL_VERSION);
	nl_put(&r, VDPA_ATTR_DEV_NAME, NAME, sizeof(NAME));
	return nl_talk(&r, NULL, NULL);
}

/* --- the device and the thread that answers it --------------------- */

struct dev {
	int ctrl;
	int fd;
	int stop_efd;
	pthread_t thread;
	unsigned long statuses;	/* VDUSE_SET_STATUS messages answered */
	unsigned long msgs;	/* every message answered */
};

static void *answer(void *arg)
{
	struct dev *d = arg;
	struct pollfd pfd[2] = {
		{ .fd = d->fd, .events = POLLIN },
		{ .fd = d->stop_efd, .events = POLLIN },
	};
	struct vduse_dev_request req;
	struct vduse_dev_response resp;

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			break;
		if (pfd[0].revents & (POLLERR | POLLHUP))
			break;
		if (read(d->fd, &req, sizeof(req)) != sizeof(req))
			continue;
		memset(&resp, 0, sizeof(resp));
		resp.request_id = req.request_id;
		resp.result = VDUSE_REQ_RESULT_OK;
		if (req.type == VDUSE_GET_VQ_STATE)
			resp.vq_state.index = req.vq_state.index;
		/* Counted first: the answer lets the caller go on. */
		__atomic_fetch_add(&d->msgs, 1, __ATOMIC_RELAXED);
		if (req.type == VDUSE_SET_STATUS)
			__atomic_fetch_add(&d->statuses, 1, __ATOMIC_RELAXED);
		if (write(d->fd, &resp, sizeof(resp)) != sizeof(resp))
			continue;
	}
	return NULL;
}

/* VDUSE_CREATE_DEV, open the node, VDUSE_VQ_SETUP, start answering. */
static int dev_create(struct dev *d)
{
	struct {
		struct vduse_dev_config cfg;
		struct virtio_blk_config blk;
	} c;
	struct vduse_vq_config vq = { .index = 0, .max_size = VQ_SIZE };
	char path[64];
	int err;

	memset(&c, 0, sizeof(c));
	snprintf(c.cfg.name, sizeof(c.cfg.name), "%s", NAME);
	c.cfg.vendor_id = 0x1af4;
	c.cfg.device_id = VIRTIO_ID_BLOCK;
	c.cfg.features = (1ULL << VIRTIO_F_VERSION_1) |
			 (1ULL << VIRTIO_F_ACCESS_PLATFORM);
	c.cfg.vq_num = 1;
	c.cfg.vq_align = 4096;
	c.cfg.config_size = sizeof(c.blk);
	/* Capacity 0: virtio-blk binds and reads nothing. */
	if (ioctl(d->ctrl, VDUSE_CREATE_DEV, &c.cfg))
		return -errno;
	snprintf(path, sizeof(path), "/dev/vduse/%s", NAME);
	d->fd = open(path, O_RDWR | O_CLOEXEC);
	if (d->fd < 0)
		return -errno;
	if (ioctl(d->fd, VDUSE_VQ_SETUP, &vq))
		return -errno;
	d->stop_efd = eventfd(0, EFD_CLOEXEC);
	if (d->stop_efd < 0)
		return -errno;
	err = pthread_create(&d->thread, NULL, answer, d);
	return -err;
}

/* Stop answering, close the node, VDUSE_DESTROY_DEV. */
static int dev_destroy(struct dev *d)
{
	char name[VDUSE_NAME_MAX] = NAME;
	uint64_t one = 1;

	if (write(d->stop_efd, &one, sizeof(one)) != sizeof(one))
		return -errno;
	pthread_join(d->thread, NULL);
	close(d->stop_efd);
	close(d->fd);
	return ioctl(d->ctrl, VDUSE_DESTROY_DEV, name) ? -errno : 0;
}

static void check(const char *what, int ret)
{
	if (ret)
		die(what, -ret);
}

static void cycles(struct dev *d, int n)
{
	double t[5], sum[4] = { 0 }, start, total;
	int i, j;

	start = now_us();
	for (i = 0; i < n; i++) {
		t[0] = now_us();
		check("create", dev_create(d));
		t[1] = now_us();
		check("vdpa dev add", vdpa_add());
		t[2] = now_us();
		check("vdpa dev del", vdpa_del());
		t[3] = now_us();
		check("destroy", dev_destroy(d));
		t[4] = now_us();
		for (j = 0; j < 4; j++)
			sum[j] += t[j + 1] - t[j];
	}
	total = now_us() - start;
	printf("{\"cycles\": %d, \"seconds\": %.3f, \"cycles_per_s\": %.2f, "
	       "\"create_us\": %.1f, \"attach_us\": %.1f, "
	       "\"detach_us\": %.1f, \"destroy_us\": %.1f}\n",
	       n, total / 1e6, n / (total / 1e6), sum[0] / n, sum[1] / n,
	       sum[2] / n, sum[3] / n);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The /dev/vhost-vdpa-N of our device, once devtmpfs made it; or -1. */
static int vhost_open(void)
{
	char pattern[128], path[160];
	glob_t g;
	int i, fd = -1;

	snprintf(pattern, sizeof(pattern),
		 "/sys/bus/vdpa/devices/%s/vhost-vdpa-*", NAME);
	for (i = 0; i < 200 && fd < 0; i++) {
		if (!glob(pattern, 0, NULL, &g) && g.gl_pathc) {
			snprintf(path, sizeof(path), "/dev/%s",
				 strrchr(g.gl_pathv[0], '/') + 1);
			fd = open(path, O_RDWR | O_CLOEXEC);
		}
		globfree(&g);
		if (fd < 0)
			usleep(50000);
	}
	return fd;
}

static int sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static void status(struct dev *d, int n)
{
	uint8_t ack = VIRTIO_CONFIG_S_ACKNOWLEDGE;
	unsigned long before;
	double *lat, sum = 0, t0;
	int vhost, i;

	lat = calloc(n, sizeof(*lat));
	if (!lat)
		die("calloc", ENOMEM);
	check("create", dev_create(d));
	check("vdpa dev add", vdpa_add());
	/* From virtio-vdpa to vhost-vdpa, as a VMM's host would. */
	check("unbind virtio_vdpa",
	      sysfs_write("/sys/bus/vdpa/drivers/virtio_vdpa/unbind", NAME));
	check("driver_override", sysfs_write("/sys/bus/vdpa/devices/" NAME
					     "/driver_override", "vhost_vdpa"));
	check("bind vhost_vdpa",
	      sysfs_write("/sys/bus/vdpa/drivers/vhost_vdpa/bind", NAME));
	vhost = vhost_open();
	if (vhost < 0)
		die("open /dev/vhost-vdpa-N", ENOENT);
	if (ioctl(vhost, VHOST_SET_OWNER))
		die("VHOST_SET_OWNER", errno);

	/*
	 * ACKNOWLEDGE again and again: no bit is cleared, so vhost-vdpa
	 * passes each one to the module, which relays it to the daemon.
	 */
	before = __atomic_load_n(&d->statuses, __ATOMIC_RELAXED);
	for (i = 0; i < n; i++) {
		t0 = now_us();
		if (ioctl(vhost, VHOST_VDPA_SET_STATUS, &ack))
			die("VHOST_VDPA_SET_STATUS", errno);
		lat[i] = now_us() - t0;
		sum += lat[i];
	}
	before = __atomic_load_n(&d->statuses, __ATOMIC_RELAXED) - before;

	close(vhost);
	check("vdpa dev del", vdpa_del());
	check("destroy", dev_destroy(d));

	qsort(lat, n, sizeof(*lat), cmp_double);
	printf("{\"iters\": %d, \"relayed\": %lu, \"mean_us\": %.2f, "
	       "\"p50_us\": %.2f, \"p99_us\": %.2f, \"min_us\": %.2f}\n",
	       n, before, sum / n, lat[n / 2], lat[(int)(n * 0.99)], lat[0]);
	free(lat);
}

int main(int argc, char **argv)
{
	struct dev d = { .fd = -1 };
	cpu_set_t cpus;
	int n;

	if (argc == 2 && !strcmp(argv[1], "cleanup"))
		n = 0;
	else if (argc != 3 || (n = atoi(argv[2])) <= 0 ||
		 (strcmp(argv[1], "cycles") && strcmp(argv[1], "status"))) {
		fprintf(stderr, "usage: bench-ctl cycles|status N, bench-ctl cleanup\n");
		return 2;
	}
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus))
		die("sched_setaffinity", errno);
	d.ctrl = open("/dev/vduse/control", O_RDWR | O_CLOEXEC);
	if (d.ctrl < 0)
		die("/dev/vduse/control", errno);
	nl_open();
	if (!n) {
		char name[VDUSE_NAME_MAX] = NAME;

		vdpa_del();
		return ioctl(d.ctrl, VDUSE_DESTROY_DEV, name) && errno != EINVAL;
	}
	if (!strcmp(argv[1], "cycles"))
		cycles(&d, n);
	else
		status(&d, n);
	return 0;
}
