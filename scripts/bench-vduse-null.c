// SPDX-License-Identifier: GPL-2.0-only
/*
 * A VDUSE null daemon for `make bench`: virtio-blk with one queue, served
 * by the selftests' block server (vduse_lib.c) with no disk behind it, so
 * that every request completes at once and its data is never touched.
 * The counterpart of scripts/bench-ublk-null.c, with no
 * qemu-storage-daemon in the way.
 *
 *   bench-vduse-null NAME [QUEUE_SIZE]
 *
 * Creates the device NAME (1 GiB, one queue of QUEUE_SIZE, 128 by
 * default), prints "ready" once the daemon answers, and serves until
 * SIGTERM or SIGINT; attach and detach it with `vdpa dev add/del` in
 * between.  SIGUSR1 prints the server's counters as one JSON object:
 * requests served, kick eventfd wakeups, VDUSE_VQ_INJECT_IRQ calls.
 * Only the mainline ABI is used, so it runs on either module.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/virtio_blk.h>

#include "../tools/testing/selftests/vduse/vduse_lib.h"

static void die(const char *what, int err)
{
	fprintf(stderr, "bench-vduse-null: %s: %s\n", what, strerror(err));
	exit(1);
}

static unsigned int get(unsigned int *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

int main(int argc, char **argv)
{
	static struct vduse_test_config c;
	struct vduse_vq_config vq = { .index = 0, .max_size = 128 };
	struct vduse_ctl_daemon ctl;
	struct vduse_blk_server srv;
	struct virtio_blk_config *blk;
	int ctrl, fd, ret, sig;
	sigset_t set;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s NAME [QUEUE_SIZE]\n", argv[0]);
		return 2;
	}
	if (argc == 3)
		vq.max_size = atoi(argv[2]);
	if (!vq.max_size || vq.max_size > 32768 ||
	    (vq.max_size & (vq.max_size - 1)))
		die("queue size", EINVAL);

	/* Every thread inherits the mask: only sigwait() below takes them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	ctrl = vduse_ctrl_open();
	if (ctrl < 0)
		die(VDUSE_CONTROL_PATH, -ctrl);
	vduse_test_blk_config(&c, argv[1]);
	blk = (void *)c.cfg.config;
	ret = vduse_create(ctrl, &c);
	if (ret)
		die("VDUSE_CREATE_DEV", -ret);
	fd = vduse_dev_open(argv[1]);
	if (fd < 0)
		die("the device node", -fd);
	if (ioctl(fd, VDUSE_VQ_SETUP, &vq))
		die("VDUSE_VQ_SETUP", errno);

	memset(&ctl, 0, sizeof(ctl));
	memset(&srv, 0, sizeof(srv));
	srv.fd = fd;
	srv.ctl = &ctl;
	srv.capacity = blk->capacity;
	ret = vduse_ctl_daemon_start(&ctl, fd);
	if (ret)
		die("the control thread", -ret);
	ret = vduse_blk_server_start(&srv);
	if (ret)
		die("the serving thread", -ret);
	printf("ready\n");
	fflush(stdout);

	for (;;) {
		if (sigwait(&set, &sig))
			continue;
		if (sig != SIGUSR1)
			break;
		printf("{\"served\": %u, \"wakeups\": %u, \"injects\": %u, \"error\": %d}\n",
		       get(&srv.served), get(&srv.wakeups), get(&srv.injects),
		       __atomic_load_n(&srv.error, __ATOMIC_ACQUIRE));
		fflush(stdout);
	}

	vduse_blk_server_stop(&srv);
	vduse_ctl_daemon_stop(&ctl);
	close(fd);
	ret = vduse_destroy(ctrl, argv[1]);
	if (ret)
		die("VDUSE_DESTROY_DEV", -ret);
	return 0;
}
