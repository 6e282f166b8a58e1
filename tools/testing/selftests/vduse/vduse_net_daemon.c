// SPDX-License-Identifier: GPL-2.0
/*
 * vduse_net_daemon NAME: create the virtio-net VDUSE device NAME (one
 * queue pair, MAC 52:54:00:12:34:56, link up), bridge it to a new TAP
 * interface, print "tap IFNAME" once serving, and serve until SIGTERM or
 * SIGINT; then destroy the device.  Exits 0 only if it served without
 * an error and destroyed the device.  For the shell tests (a QEMU guest on
 * vhost-vdpa): the same server vduse_net_test uses.  It asks for every
 * VDUSE feature (queue-ready relay, suspend, resume), so that a VMM can
 * suspend it before reading the vring bases.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/virtio_net.h>

#include "vduse_lib.h"

int main(int argc, char **argv)
{
	struct vduse_vq_config vq = { .max_size = 256 };
	struct vduse_ctl_daemon ctl = { 0 };
	struct vduse_net_server srv = { 0 };
	struct virtio_net_config *net;
	struct vduse_test_config c;
	char tap[64];
	uint64_t features = BIT_ULL(VDUSE_F_QUEUE_READY) |
			    BIT_ULL(VDUSE_F_SUSPEND) | BIT_ULL(VDUSE_F_RESUME);
	int ctrl, fd, sig, ret = 1;
	sigset_t stop;

	if (argc != 2) {
		fprintf(stderr, "usage: %s NAME\n", argv[0]);
		return 2;
	}
	/* Blocked in every thread; main waits for them with sigwait(). */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);

	ctrl = vduse_ctrl_open();
	if (ctrl < 0) {
		fprintf(stderr, "open control: %s\n", strerror(-ctrl));
		return 1;
	}
	if (ioctl(ctrl, VDUSE_SET_FEATURES, &features)) {
		perror("VDUSE_SET_FEATURES");
		goto out_ctrl;
	}
	vduse_test_net_config(&c, argv[1]);
	net = (struct virtio_net_config *)c.cfg.config;
	c.cfg.features |= 1ULL << VIRTIO_NET_F_STATUS;
	net->status = VIRTIO_NET_S_LINK_UP;
	if (vduse_create(ctrl, &c)) {
		perror("create");
		goto out_ctrl;
	}
	fd = vduse_dev_open(argv[1]);
	if (fd < 0)
		goto out_destroy;
	for (vq.index = 0; vq.index < 2; vq.index++)
		if (ioctl(fd, VDUSE_VQ_SETUP, &vq))
			goto out_close;
	srv.tap = vduse_tap_open(tap, sizeof(tap));
	if (srv.tap < 0)
		goto out_close;
	srv.fd = fd;
	srv.ctl = &ctl;
	srv.nvqs = 2;
	srv.cvq = -1;
	if (vduse_ctl_daemon_start(&ctl, fd))
		goto out_tap;
	if (vduse_net_server_start(&srv))
		goto out_ctl;

	printf("tap %s\n", tap);
	fflush(stdout);
	sigwait(&stop, &sig);

	vduse_net_server_stop(&srv);
	fprintf(stderr, "sessions %u suspends %u rx %u tx %u error %d\n",
		srv.sessions, srv.suspends, srv.rx_frames, srv.tx_frames,
		srv.error);
	/* The tests read the exit status: an error served is a failure. */
	ret = srv.error ? 1 : 0;
out_ctl:
	vduse_ctl_daemon_stop(&ctl);
out_tap:
	close(srv.tap);
out_close:
	close(fd);
out_destroy:
	if (vduse_destroy(ctrl, argv[1])) {
		fprintf(stderr, "destroy %s failed\n", argv[1]);
		ret = 1;
	}
out_ctrl:
	close(ctrl);
	return ret;
}
