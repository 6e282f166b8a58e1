// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile virtio-fs daemons.  A tiny FUSE responder (a child process, so
 * that it can die) answers INIT and the root's GETATTR so that the kernel's
 * virtiofs mounts the device through virtio-vdpa, then misbehaves on the
 * LOOKUP of one name: late, never, dead, a reply that is short, has a
 * used length or a header length past its buffer, or the wrong unique.
 * Others serve a symlink and the root directory, then give READLINK and
 * READDIR, whose replies have a variable length, a header length below
 * the header's own or past the reply's buffers, or LOOKUP an error FUSE
 * does not allow: the kernel's check of reply headers (fsreply.c) turns
 * each into EIO and counts it in stats/fs_bad_replies.  One clears NEXT
 * on a READLINK chain's head, so the driver never copies its reply
 * header back: it reads the EIO the kernel put there at mapping.  Each time the
 * caller gets an answer or an error, the mount goes,
 * `vdpa dev del` and VDUSE_DESTROY_DEV finish, and the kernel stays
 * healthy (the runner fails the test on any kernel report).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/fuse.h>
#include <linux/virtio_config.h>
#include <linux/virtio_fs.h>
#include <linux/virtio_ring.h>

#include "../kselftest_harness.h"
#include "vduse_lib.h"

#define NAME		"vduse-fsh"
#define TAG		"vduse-fsh"
#define VICTIM		"victim"
#define LINK		"link"
#define LINK_INO	2
#define FS_ID		26	/* VIRTIO_ID_FS */
#define NVQS		2	/* hiprio, one request queue */
#define QSIZE		64
#define FUSECTL		"/sys/fs/fuse/connections"

enum fs_mode {
	FS_GOOD,	/* LOOKUP: ENOENT */
	FS_LATE,	/* ENOENT after 3 s */
	FS_NEVER,	/* keep the request */
	FS_DIE,		/* exit with the request in hand */
	FS_SHORT,	/* header only (len 16, error 0): the entry is zeros */
	FS_USED_LEN,	/* ENOENT, used length 1 MiB past the buffer */
	FS_HDR_LEN,	/* ENOENT, fuse_out_header.len 3 */
	FS_UNIQUE,	/* ENOENT for another unique */
	FS_ABORT,	/* answers; fusectl and umount -f are tried */
	FS_LINK_LEN_3,	/* READLINK of LINK: header len 3 */
	FS_LINK_LEN_LONG, /* READLINK: len one page past its buffer */
	FS_DIR_LEN_LONG, /* READDIR of the root: len 1 MiB past its buffer */
	FS_ERR_POSITIVE, /* LOOKUP of VICTIM: error +5 */
	FS_ERR_WITH_DATA, /* LOOKUP of VICTIM: -ENOENT and a 128-byte body */
	FS_DIE_QUIET,	/* FS_DIE, having asked the driver not to kick */
	FS_LINK_NO_NEXT, /* READLINK: NEXT cleared on the chain's head */
};

struct fs_queue {
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint32_t num;
	uint16_t last;
	int efd;
};

struct fs_daemon {
	int fd;
	enum fs_mode mode;
	struct vduse_ctl_daemon ctl;
	struct vduse_iova_cache iova;
	struct fs_queue q[NVQS];
	int stop;		/* __atomic: a reset: let go of the rings */
	int serving;		/* __atomic */
	int exited;		/* __atomic */
};

struct fs_seg {
	uint8_t *va;
	uint32_t len;
};

/* Copy @len bytes of @buf over the writable segments; bytes written. */
static uint32_t fs_scatter(struct fs_seg *w, int nw, const void *buf,
			   uint32_t len)
{
	const uint8_t *p = buf;
	uint32_t done = 0;
	int i;

	for (i = 0; i < nw && done < len; i++) {
		uint32_t n = w[i].len < len - done ? w[i].len : len - done;

		memcpy(w[i].va, p + done, n);
		done += n;
	}
	return done;
}

static void fs_attr_dir(struct fuse_attr *a, uint64_t ino)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->mode = S_IFDIR | 0755;
	a->nlink = 2;
	a->blksize = 4096;
}

/*
 * Serve the chain at @head; returns the used length, or -1 to keep the
 * request unanswered.
 */
static int64_t fs_serve(struct fs_daemon *d, struct fs_queue *q,
			uint16_t head)
{
	uint8_t in[4096], out[4096];
	struct fuse_in_header *ih = (void *)in;
	struct fuse_out_header *oh = (void *)out;
	struct fs_seg w[8];
	uint32_t inlen = 0, outlen = sizeof(*oh), wlen = 0;
	int nw = 0, victim = 0;
	uint16_t i = head;
	unsigned int n;

	memset(in, 0, sizeof(in));
	for (n = 0; n < q->num; n++) {
		struct vring_desc *ds = &q->desc[i];
		uint8_t *va = vduse_iova_to_va(&d->iova, ds->addr, ds->len);

		if (!va)
			return 0;
		if (ds->flags & VRING_DESC_F_WRITE) {
			if (nw < (int)ARRAY_SIZE(w)) {
				w[nw].va = va;
				w[nw++].len = ds->len;
				wlen += ds->len;
			}
		} else if (inlen < sizeof(in)) {
			uint32_t c = ds->len < sizeof(in) - inlen ?
				     ds->len : sizeof(in) - inlen;

			memcpy(in + inlen, va, c);
			inlen += c;
		}
		if (!(ds->flags & VRING_DESC_F_NEXT))
			break;
		i = ds->next;
		if (i >= q->num)
			return 0;
	}
	/* FORGET and BATCH_FORGET have no reply. */
	if (!nw || inlen < sizeof(*ih))
		return 0;

	memset(out, 0, sizeof(out));
	oh->unique = ih->unique;
	switch (ih->opcode) {
	case FUSE_INIT: {
		struct fuse_init_in *ii = (void *)(ih + 1);
		struct fuse_init_out *io = (void *)(oh + 1);

		io->major = FUSE_KERNEL_VERSION;
		io->minor = FUSE_KERNEL_MINOR_VERSION;
		io->max_readahead = ii->max_readahead;
		io->max_write = 4096;
		outlen += sizeof(*io);
		break;
	}
	case FUSE_GETATTR: {
		struct fuse_attr_out *ao = (void *)(oh + 1);

		if (ih->nodeid != FUSE_ROOT_ID) {
			oh->error = -ENOENT;
			break;
		}
		ao->attr_valid = 3600;
		fs_attr_dir(&ao->attr, FUSE_ROOT_ID);
		outlen += sizeof(*ao);
		break;
	}
	case FUSE_LOOKUP: {
		struct fuse_entry_out *eo = (void *)(oh + 1);

		oh->error = -ENOENT;
		victim = !strncmp((char *)(ih + 1), VICTIM, sizeof(VICTIM));
		if (strncmp((char *)(ih + 1), LINK, sizeof(LINK)))
			break;
		oh->error = 0;
		eo->nodeid = LINK_INO;
		eo->attr.ino = LINK_INO;
		eo->attr.mode = S_IFLNK | 0777;
		eo->attr.nlink = 1;
		eo->attr.size = 6;
		outlen += sizeof(*eo);
		break;
	}
	case FUSE_OPENDIR:
		outlen += sizeof(struct fuse_open_out);
		break;
	case FUSE_RELEASEDIR:
		break;
	case FUSE_READLINK:
		/*
		 * The driver then unmaps the head alone: the reply header
		 * is never copied back.
		 */
		if (d->mode == FS_LINK_NO_NEXT)
			q->desc[head].flags &= ~VRING_DESC_F_NEXT;
		/* "target", and a header len as the mode says. */
		memcpy(oh + 1, "target", 6);
		outlen += 6;
		oh->len = d->mode == FS_LINK_LEN_3 ? 3 :
			  outlen + (d->mode == FS_LINK_LEN_LONG ? 4096 : 0);
		fs_scatter(w, nw, out, outlen);
		return outlen;
	case FUSE_READDIR: {
		struct fuse_read_in *ri = (void *)(ih + 1);
		struct fuse_dirent *de = (void *)(oh + 1);

		if (ri->offset)
			break;	/* the end */
		de->ino = FUSE_ROOT_ID;
		de->off = 1;
		de->namelen = 1;
		de->type = S_IFDIR >> 12;
		de->name[0] = '.';
		outlen += FUSE_DIRENT_SIZE(de);
		if (d->mode == FS_DIR_LEN_LONG) {
			oh->len = outlen + (1 << 20);
			fs_scatter(w, nw, out, outlen);
			return outlen;
		}
		break;
	}
	case FUSE_DESTROY:
		break;
	default:
		oh->error = -EOPNOTSUPP;
	}

	if (victim) {
		switch (d->mode) {
		case FS_GOOD:
		case FS_ABORT:
			break;
		case FS_LATE:
			sleep(3);
			break;
		case FS_NEVER:
			return -1;
		case FS_DIE:
		case FS_DIE_QUIET:
			_exit(0);
		case FS_SHORT:
			oh->error = 0;
			/* What follows the header is the entry: zeros. */
			memset(out + sizeof(*oh), 0, sizeof(out) - sizeof(*oh));
			fs_scatter(w, nw, out, wlen < sizeof(out) ?
				   wlen : sizeof(out));
			oh->len = sizeof(*oh);
			fs_scatter(w, nw, out, sizeof(*oh));
			return sizeof(*oh);
		case FS_USED_LEN:
			oh->len = outlen;
			fs_scatter(w, nw, out, outlen);
			return wlen + (1 << 20);
		case FS_HDR_LEN:
			oh->len = 3;
			fs_scatter(w, nw, out, outlen);
			return outlen;
		case FS_UNIQUE:
			oh->unique += 12345;
			break;
		case FS_ERR_POSITIVE:
			oh->error = 5;
			break;
		case FS_ERR_WITH_DATA:
			outlen += 128;
			break;
		default:
			break;
		}
	}
	oh->len = outlen;
	return fs_scatter(w, nw, out, outlen);
}

static int fs_setup_queue(struct fs_daemon *d, uint32_t index)
{
	struct vduse_vq_info info = { .index = index };
	struct vduse_vq_eventfd kick = { .index = index };
	struct fs_queue *q = &d->q[index];

	if (ioctl(d->fd, VDUSE_VQ_GET_INFO, &info))
		return -1;
	q->num = info.num;
	q->last = info.split.avail_index;
	q->desc = vduse_iova_to_va(&d->iova, info.desc_addr,
				   sizeof(*q->desc) * info.num);
	q->avail = vduse_iova_to_va(&d->iova, info.driver_addr,
				    sizeof(*q->avail) + 2 * info.num);
	q->used = vduse_iova_to_va(&d->iova, info.device_addr,
				   sizeof(*q->used) + 8 * info.num);
	if (!info.ready || !q->desc || !q->avail || !q->used)
		return -1;
	q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	kick.fd = q->efd;
	return q->efd < 0 || ioctl(d->fd, VDUSE_VQ_SETUP_KICKFD, &kick);
}

/* In-order service of both queues, one request at a time. */
static void fs_serve_loop(struct fs_daemon *d)
{
	struct pollfd pfd[NVQS];
	uint32_t i;

	while (!(__atomic_load_n(&d->ctl.statuses, __ATOMIC_ACQUIRE) &
		 VIRTIO_CONFIG_S_DRIVER_OK))
		usleep(10000);
	for (i = 0; i < NVQS; i++) {
		if (fs_setup_queue(d, i))
			_exit(2);
		pfd[i].fd = d->q[i].efd;
		pfd[i].events = POLLIN;
		if (d->mode != FS_DIE_QUIET)
			continue;
		/* No kicks wanted: it polls. */
		vduse_vring_no_kicks(d->q[i].used, d->q[i].num, d->q[i].last);
	}
	__atomic_store_n(&d->serving, 1, __ATOMIC_RELEASE);

	while (!__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE)) {
		uint64_t cnt;

		poll(pfd, NVQS, 50);
		for (i = 0; i < NVQS; i++) {
			struct fs_queue *q = &d->q[i];
			int any = 0;

			if (read(q->efd, &cnt, sizeof(cnt)) < 0)
				cnt = 0;
			while (__atomic_load_n(&q->avail->idx,
					       __ATOMIC_ACQUIRE) != q->last) {
				uint16_t head = q->avail->ring[q->last %
							       q->num];
				uint16_t u = q->used->idx;
				int64_t len = fs_serve(d, q, head);

				q->last++;
				if (len < 0)
					continue;
				q->used->ring[u % q->num].id = head;
				q->used->ring[u % q->num].len = len;
				__atomic_store_n(&q->used->idx, (uint16_t)(u + 1),
						 __ATOMIC_RELEASE);
				any = 1;
			}
			if (any)
				ioctl(d->fd, VDUSE_VQ_INJECT_IRQ, &i);
		}
	}
	__atomic_store_n(&d->exited, 1, __ATOMIC_RELEASE);
}

/* The driver resets the device: let go of the rings before answering. */
static void fs_on_reset(void *arg)
{
	struct fs_daemon *d = arg;

	if (!__atomic_load_n(&d->serving, __ATOMIC_ACQUIRE))
		return;
	__atomic_store_n(&d->stop, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&d->exited, __ATOMIC_ACQUIRE))
		usleep(1000);
}

/* The daemon process: writes one byte to @ready once it has the node. */
static void fs_daemon_main(enum fs_mode mode, int ready)
{
	static struct fs_daemon d;
	struct vduse_vq_config vq = { .max_size = QSIZE };
	uint32_t i;

	d.mode = mode;
	d.fd = vduse_dev_open(NAME);
	if (d.fd < 0)
		_exit(1);
	for (i = 0; i < NVQS; i++) {
		vq.index = i;
		if (ioctl(d.fd, VDUSE_VQ_SETUP, &vq))
			_exit(1);
	}
	d.iova.fd = d.fd;
	d.ctl.reset_arg = &d;
	d.ctl.on_reset = fs_on_reset;
	if (vduse_ctl_daemon_start(&d.ctl, d.fd))
		_exit(1);
	if (write(ready, "1", 1) != 1)
		_exit(1);
	close(ready);
	fs_serve_loop(&d);
	/* A reset came: keep answering the control path until killed. */
	for (;;)
		pause();
}

/* Wait up to @ms for @pid; its wait status, or -1 if it is still there. */
static int wait_ms(pid_t pid, int ms)
{
	int status;

	for (; ms >= 0; ms -= 20) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(20000);
	}
	return -1;
}

/* stat() in a child; exits with its errno (0: success). */
static pid_t spawn_stat(const char *path)
{
	pid_t pid = fork();
	struct stat st;

	if (!pid)
		_exit(stat(path, &st) ? errno : 0);
	return pid;
}

/*
 * What a child that exits with an errno said, within @ms: the errno, -1
 * if it is still there (then killed), -2 if it died of a signal.
 */
static int child_errno(pid_t pid, int ms)
{
	int status = wait_ms(pid, ms);

	if (status == -1) {
		kill(pid, SIGKILL);
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
}

static int stat_errno(const char *path, int ms)
{
	return child_errno(spawn_stat(path), ms);
}

FIXTURE(fsh) {
	int ctrl;
	pid_t daemon;
	char mnt[64];
	char victim[96];
	int mounted;
	int attached;
};

/* The daemon dies now, if it has not already: what it held is answered. */
static void kill_daemon(struct __test_metadata *_metadata,
			struct _test_data_fsh *self)
{
	int status;

	if (self->daemon <= 0)
		return;
	kill(self->daemon, SIGKILL);
	EXPECT_EQ(self->daemon, waitpid(self->daemon, &status, 0));
	self->daemon = 0;
}

FIXTURE_VARIANT(fsh) {
	enum fs_mode mode;
	uint64_t features;	/* more than VDUSE_TEST_BASE_FEATURES */
};

FIXTURE_VARIANT_ADD(fsh, good) { .mode = FS_GOOD };
FIXTURE_VARIANT_ADD(fsh, late) { .mode = FS_LATE };
FIXTURE_VARIANT_ADD(fsh, never) { .mode = FS_NEVER };
FIXTURE_VARIANT_ADD(fsh, dies) { .mode = FS_DIE };
/* The kernel asks for kicks again, or what comes after the death waits. */
FIXTURE_VARIANT_ADD(fsh, dies_with_kicks_off) { .mode = FS_DIE_QUIET };
FIXTURE_VARIANT_ADD(fsh, dies_with_kicks_off_event_idx) {
	.mode = FS_DIE_QUIET, .features = 1ULL << VIRTIO_RING_F_EVENT_IDX };
FIXTURE_VARIANT_ADD(fsh, short_reply) { .mode = FS_SHORT };
FIXTURE_VARIANT_ADD(fsh, used_len_past_buffer) { .mode = FS_USED_LEN };
FIXTURE_VARIANT_ADD(fsh, header_len_bad) { .mode = FS_HDR_LEN };
FIXTURE_VARIANT_ADD(fsh, wrong_unique) { .mode = FS_UNIQUE };
FIXTURE_VARIANT_ADD(fsh, no_fusectl_abort) { .mode = FS_ABORT };
FIXTURE_VARIANT_ADD(fsh, readlink_header_len_3) { .mode = FS_LINK_LEN_3 };
FIXTURE_VARIANT_ADD(fsh, readlink_len_past_buffer) { .mode = FS_LINK_LEN_LONG };
FIXTURE_VARIANT_ADD(fsh, readdir_len_past_buffer) { .mode = FS_DIR_LEN_LONG };
FIXTURE_VARIANT_ADD(fsh, readlink_head_next_cleared) { .mode = FS_LINK_NO_NEXT };
FIXTURE_VARIANT_ADD(fsh, lookup_error_positive) { .mode = FS_ERR_POSITIVE };
FIXTURE_VARIANT_ADD(fsh, lookup_error_with_body) { .mode = FS_ERR_WITH_DATA };

FIXTURE_SETUP(fsh)
{
	struct vduse_test_config c;
	struct virtio_fs_config *fc = (void *)c.cfg.config;
	char other[96];
	int ready[2];
	char b;

	memset(&c, 0, sizeof(c));
	snprintf(c.cfg.name, sizeof(c.cfg.name), "%s", NAME);
	c.cfg.vendor_id = 0x1af4;
	c.cfg.device_id = FS_ID;
	c.cfg.features = VDUSE_TEST_BASE_FEATURES | variant->features;
	c.cfg.vq_num = NVQS;
	c.cfg.vq_align = 4096;
	c.cfg.config_size = sizeof(*fc);
	snprintf((char *)fc->tag, sizeof(fc->tag), "%s", TAG);
	fc->num_request_queues = 1;

	self->ctrl = vduse_ctrl_open();
	ASSERT_LE(0, self->ctrl);
	ASSERT_EQ(0, vduse_create(self->ctrl, &c));
	/* A detach without a daemon waits this long for the reset's answer. */
	ASSERT_EQ(0, vduse_sysfs_write(VDUSE_SYSFS_CLASS "/" NAME "/msg_timeout",
				       "2"));

	ASSERT_EQ(0, pipe(ready));
	self->daemon = fork();
	ASSERT_LE(0, self->daemon);
	if (!self->daemon) {
		close(ready[0]);
		fs_daemon_main(variant->mode, ready[1]);
	}
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &b, 1));
	close(ready[0]);

	ASSERT_EQ(0, vduse_vdpa_add(NAME, 30));
	self->attached = 1;
	snprintf(self->mnt, sizeof(self->mnt), "/tmp/vduse-fsh.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->mnt));
	snprintf(self->victim, sizeof(self->victim), "%s/" VICTIM, self->mnt);
	ASSERT_EQ(0, mount(TAG, self->mnt, "virtiofs", 0, NULL))
		TH_LOG("mount: %s", strerror(errno));
	self->mounted = 1;
	/* INIT answered: another name is simply not there. */
	snprintf(other, sizeof(other), "%s/other", self->mnt);
	ASSERT_EQ(ENOENT, stat_errno(other, 10000));
}

FIXTURE_TEARDOWN(fsh)
{
	if (self->mounted)
		EXPECT_EQ(0, umount2(self->mnt, MNT_DETACH));
	if (self->attached)
		EXPECT_EQ(0, vduse_vdpa_del(NAME, 60));
	kill_daemon(_metadata, self);
	EXPECT_EQ(0, vduse_destroy(self->ctrl, NAME));
	rmdir(self->mnt);
	close(self->ctrl);
}

/*
 * The LOOKUP comes back, or the request fails; the connection goes on,
 * and the mount and the device go while the daemon is still there.
 */
static void answered(struct __test_metadata *_metadata,
		     struct _test_data_fsh *self)
{
	/* A short reply is an entry of zeros: node 0, a negative entry. */
	EXPECT_EQ(ENOENT, stat_errno(self->victim, 20000));
	EXPECT_EQ(ENOENT, stat_errno(self->victim, 20000));
	EXPECT_EQ(0, umount(self->mnt));
	self->mounted = 0;
	EXPECT_EQ(0, vduse_vdpa_del(NAME, 60));
	self->attached = 0;
}

/*
 * The daemon takes the LOOKUP and never answers, or dies with it.  The
 * caller waits, killed or not (6.12's virtiofs waits uninterruptibly for
 * a request the device has), until the daemon is gone; then the kernel
 * answers ENOTCONN in its place, the caller goes, `umount -l` and
 * `vdpa dev del` finish.
 */
static void gone(struct __test_metadata *_metadata, struct _test_data_fsh *self,
		 int dies)
{
	pid_t caller;
	int status;

	caller = spawn_stat(self->victim);
	ASSERT_LT(0, caller);
	status = wait_ms(caller, 1500);
	if (!dies) {
		EXPECT_EQ(-1, status);
		/* Lazily unmounted with the caller inside. */
		EXPECT_EQ(0, umount2(self->mnt, MNT_DETACH));
		self->mounted = 0;
		kill(caller, SIGKILL);
		status = wait_ms(caller, 1000);
		TH_LOG("SIGKILL with the daemon alive: the caller %s",
		       status == -1 ? "still waits" : "went");
		kill_daemon(_metadata, self);
	}
	if (status == -1)
		status = wait_ms(caller, 20000);
	if (status == -1)
		kill(caller, SIGKILL);
	ASSERT_NE(-1, status);
	/* ENOTCONN, or the SIGKILL it was sent. */
	status = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
	EXPECT_TRUE(status == ENOTCONN || status == -SIGKILL)
		TH_LOG("caller: %d", status);

	/* Later requests fail at once: nobody serves them. */
	if (self->mounted)
		EXPECT_EQ(ENOTCONN, stat_errno(self->victim, 20000));
	/* Detached with the file system still mounted, then unmounted. */
	EXPECT_EQ(0, vduse_vdpa_del(NAME, 60));
	self->attached = 0;
	if (self->mounted) {
		EXPECT_EQ(0, umount(self->mnt));
		self->mounted = 0;
	}
}

/*
 * 6.12's virtiofs gives its connections no fusectl directory (no abort
 * file) and ignores `umount -f`: nothing aborts a virtiofs connection
 * from outside, which is why the kernel answers for a departed daemon.
 * The forced unmount of an idle mount is an unmount.
 */
static void no_abort(struct __test_metadata *_metadata,
		     struct _test_data_fsh *self)
{
	char path[128];
	struct stat st;

	ASSERT_EQ(0, stat(self->mnt, &st));
	if (access(FUSECTL "/", F_OK) || mount("fusectl", FUSECTL, "fusectl",
					       0, NULL))
		ASSERT_EQ(EBUSY, errno) TH_LOG("fusectl: %s", strerror(errno));
	snprintf(path, sizeof(path), FUSECTL "/%u", minor(st.st_dev));
	EXPECT_NE(0, access(path, F_OK));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(0, umount2(self->mnt, MNT_FORCE));
	self->mounted = 0;
	EXPECT_EQ(0, vduse_vdpa_del(NAME, 60));
	self->attached = 0;
}

static long long bad_replies(void)
{
	char buf[32];

	if (vduse_sysfs_read(VDUSE_SYSFS_CLASS "/" NAME "/stats/fs_bad_replies",
			     buf, sizeof(buf)) < 0)
		return -1;
	return atoll(buf);
}

/* readlink() in a child; exits with its errno, 0 if it read "target". */
static int readlink_errno(const char *path, int ms)
{
	pid_t pid = fork();

	if (!pid) {
		char buf[64];
		ssize_t n = readlink(path, buf, sizeof(buf));

		_exit(n < 0 ? errno : n == 6 && !memcmp(buf, "target", 6) ?
		      0 : 255);
	}
	return child_errno(pid, ms);
}

/* The entries of @path read in a child; its errno, 0 if "." came. */
static int readdir_errno(const char *path, int ms)
{
	pid_t pid = fork();

	if (!pid) {
		DIR *dir = opendir(path);
		struct dirent *de;
		int dot = 0;

		if (!dir)
			_exit(errno);
		errno = 0;
		while ((de = readdir(dir)))
			dot |= !strcmp(de->d_name, ".");
		_exit(errno ? errno : dot ? 0 : 255);
	}
	return child_errno(pid, ms);
}

/*
 * A reply header FUSE would not take from /dev/fuse: the caller gets EIO,
 * each time, the count goes up, and the mount and the device go as usual.
 */
static void bad_header(struct __test_metadata *_metadata,
		       struct _test_data_fsh *self, enum fs_mode mode)
{
	long long before = bad_replies(), after;
	char link[96];
	int i;

	snprintf(link, sizeof(link), "%s/" LINK, self->mnt);
	ASSERT_LE(0, before);
	for (i = 0; i < 2; i++) {
		switch (mode) {
		case FS_LINK_LEN_3:
		case FS_LINK_LEN_LONG:
		case FS_LINK_NO_NEXT:
			EXPECT_EQ(EIO, readlink_errno(link, 20000));
			break;
		case FS_DIR_LEN_LONG:
			EXPECT_EQ(EIO, readdir_errno(self->mnt, 20000));
			break;
		default:
			EXPECT_EQ(EIO, stat_errno(self->victim, 20000));
		}
	}
	/* NO_NEXT: the header never came back, nothing was checked. */
	after = bad_replies();
	EXPECT_TRUE(mode == FS_LINK_NO_NEXT ? after == before :
		    after >= before + 2)
		TH_LOG("fs_bad_replies: %lld, then %lld", before, after);
	EXPECT_EQ(0, umount(self->mnt));
	self->mounted = 0;
	EXPECT_EQ(0, vduse_vdpa_del(NAME, 60));
	self->attached = 0;
}

TEST_F(fsh, hostile)
{
	switch (variant->mode) {
	case FS_HDR_LEN:
	case FS_LINK_LEN_3:
	case FS_LINK_LEN_LONG:
	case FS_LINK_NO_NEXT:
	case FS_DIR_LEN_LONG:
	case FS_ERR_POSITIVE:
	case FS_ERR_WITH_DATA:
		bad_header(_metadata, self, variant->mode);
		break;
	case FS_NEVER:
		gone(_metadata, self, 0);
		break;
	case FS_DIE:
	case FS_DIE_QUIET:
		gone(_metadata, self, 1);
		break;
	case FS_ABORT:
		no_abort(_metadata, self);
		break;
	default:
		answered(_metadata, self);
	}
}

TEST_HARNESS_MAIN
