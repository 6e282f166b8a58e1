/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A virtio-fs device served from a VDUSE device node: FUSE over
 * virtqueues, passing one host directory through (vduse_fs.c).
 */
#ifndef __VDUSE_FS_H
#define __VDUSE_FS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "vduse_lib.h"

/* The high-priority queue and at most this many request queues. */
#define VDUSE_FS_MAX_RQ		8

struct vduse_fs_server;
struct fuse_in_header;

/*
 * A hook that sees each request before it is handled (may be NULL): it
 * returns 0 to handle it normally, or anything else to have the request
 * dropped (the chain is neither answered nor completed), as a daemon that
 * never answers would.
 */
typedef int (*vduse_fs_hook_t)(void *arg, unsigned int vq,
			       const struct fuse_in_header *in);

struct vduse_fs_queue {
	struct vduse_fs_server *s;
	unsigned int index;
	pthread_t thread;
	int started;
	int active;			/* __atomic: the rings are in use */
	struct vduse_iova_cache iova;
	uint8_t *in;			/* the request, gathered */
	uint8_t *out;			/* the reply, before it is scattered */
};

struct vduse_fs_server {
	int fd;				/* the device node */
	int root;			/* O_PATH fd of the shared directory */
	unsigned int nrq;		/* request queues */
	vduse_fs_hook_t hook;
	void *hook_arg;
	struct vduse_ctl_daemon ctl;
	int ctl_started;
	int stop;			/* __atomic */
	int quiesce;			/* __atomic: a reset is under way */
	unsigned int sessions;		/* __atomic: FUSE_INITs answered */
	unsigned int requests;		/* __atomic: requests handled */
	unsigned int escapes;		/* __atomic: paths refused */
	int error;			/* __atomic: first ring error, -errno */
	struct vduse_fs_queue q[1 + VDUSE_FS_MAX_RQ];
	struct vduse_fs_tables *t;	/* inodes and open files */
};

/*
 * Serve the device open at FD (created with nrq request queues) from the
 * directory DIR: a control thread answers the device's messages, and one
 * thread per queue serves FUSE once the driver sets DRIVER_OK, again
 * after each reset.  Raises the process's RLIMIT_NOFILE as far as it
 * goes (an inode the client holds is a descriptor) and sets its umask to
 * 0 (the client masks modes).  0 or -errno.
 */
int vduse_fs_server_start(struct vduse_fs_server *s, int fd, const char *dir,
			  unsigned int nrq);
void vduse_fs_server_stop(struct vduse_fs_server *s);

/*
 * The same file system without a device, for tests that play a hostile
 * client: local_start() opens DIR; handle() answers one request (a
 * fuse_in_header and its arguments, LEN bytes) in REPLY, at most ROOM
 * bytes, and returns the reply's length, 0 when none is due, or -EINVAL
 * for a request it cannot read.
 */
int vduse_fs_local_start(struct vduse_fs_server *s, const char *dir);
void vduse_fs_local_stop(struct vduse_fs_server *s);
int vduse_fs_handle(struct vduse_fs_server *s, const void *req, size_t len,
		    void *reply, size_t room);

/* Create a virtio-fs device NAME with TAG and NRQ request queues. */
int vduse_fs_create(int ctrl, const char *name, const char *tag,
		    unsigned int nrq);

#endif /* __VDUSE_FS_H */
