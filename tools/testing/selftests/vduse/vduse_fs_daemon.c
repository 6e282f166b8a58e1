// SPDX-License-Identifier: GPL-2.0
/*
 * vduse_fs_daemon NAME TAG DIR [NRQ]: create the virtio-fs VDUSE device
 * NAME with TAG and NRQ request queues (default 2), serve DIR through it,
 * print "ready" once serving, and serve until SIGTERM or SIGINT; then
 * destroy the device.  Exits 0 only if it served without a ring error and
 * destroyed the device.  For the shell tests: the server of vduse_fs.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vduse_fs.h"

int main(int argc, char **argv)
{
	static struct vduse_fs_server srv;
	unsigned int nrq = 2;
	int ctrl, fd, sig, ret = 1, err;
	sigset_t stop;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: %s NAME TAG DIR [NRQ]\n", argv[0]);
		return 2;
	}
	if (argc == 5)
		nrq = strtoul(argv[4], NULL, 0);
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
	err = vduse_fs_create(ctrl, argv[1], argv[2], nrq);
	if (err) {
		fprintf(stderr, "create: %s\n", strerror(-err));
		goto out_ctrl;
	}
	fd = vduse_dev_open(argv[1]);
	if (fd < 0)
		goto out_destroy;
	err = vduse_fs_server_start(&srv, fd, argv[3], nrq);
	if (err) {
		fprintf(stderr, "serve %s: %s\n", argv[3], strerror(-err));
		goto out_close;
	}

	printf("ready\n");
	fflush(stdout);
	sigwait(&stop, &sig);

	vduse_fs_server_stop(&srv);
	fprintf(stderr, "sessions %u requests %u refused %u error %d\n",
		srv.sessions, srv.requests, srv.escapes, srv.error);
	ret = srv.error ? 1 : 0;
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
