// SPDX-License-Identifier: GPL-2.0
/*
 * A virtio-fs device served from a VDUSE device node: a FUSE file system
 * that passes one host directory through, spoken over virtqueues.
 *
 * Every inode the client knows is an O_PATH descriptor opened without
 * following symlinks, one name below its parent's, so nothing the client
 * sends can name a file outside the shared directory: names are single
 * components (no '/', never "." or ".."), and symlinks are read, never
 * followed.  Files are reopened through /proc/self/fd only when they are
 * regular files or directories.  Node IDs and file handles are indexes
 * into tables checked on every use, with a reference held while a request
 * uses an entry, so a FORGET or RELEASE racing with a request cannot make
 * it use a descriptor that was closed and reused.
 *
 * Queue 0 is the high-priority queue (FORGET, BATCH_FORGET, INTERRUPT:
 * no reply), the others carry requests; each queue has its own thread.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/fuse.h>
#include <linux/openat2.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "vduse_fs.h"

/* The largest write the client may send, and the buffers around it. */
#define FS_MAX_WRITE	(1024 * 1024)
#define FS_BUF_SIZE	(FS_MAX_WRITE + 64 * 1024)
#define FS_MAX_BUFS	1024
#define FS_HASH		4096
/* Cache timeouts given to the client, in seconds. */
#define FS_TIMEOUT	1

struct fs_inode {
	uint64_t id;			/* node ID */
	uint64_t gen;
	int fd;				/* O_PATH | O_NOFOLLOW */
	dev_t dev;
	ino_t ino;
	mode_t type;			/* S_IFMT bits */
	uint64_t nlookup;		/* the client's references */
	unsigned int refs;		/* requests using it */
	struct fs_inode *hnext;
};

struct fs_handle {
	int fd;
	DIR *dir;
	long pos;			/* where the next readdir starts */
	int closed;			/* released, closed when refs drop */
	unsigned int refs;
	pthread_mutex_t lock;		/* dir, pos */
};

struct vduse_fs_tables {
	pthread_mutex_t lock;		/* everything below */
	struct fs_inode **nodes;	/* by node ID; 1 is the root */
	uint64_t nnodes;
	struct fs_inode *hash[FS_HASH];
	struct fs_handle **handles;	/* by file handle */
	uint64_t nhandles;
	uint64_t gen;
};

struct fs_req {
	struct vduse_fs_server *s;
	const struct fuse_in_header *h;
	const uint8_t *arg;
	uint32_t arglen;
	uint8_t *out;			/* the reply's payload */
	uint32_t outmax;		/* room for it */
};

static void fs_fail(struct vduse_fs_server *s, int err)
{
	int zero = 0;

	__atomic_compare_exchange_n(&s->error, &zero, err, 0,
				    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

static unsigned int fs_hash(dev_t dev, ino_t ino)
{
	return (unsigned int)((ino * 0x9e3779b97f4a7c15ULL) >> 40 ^ dev) %
	       FS_HASH;
}

static void fs_inode_free(struct vduse_fs_tables *t, uint64_t id)
{
	struct fs_inode *n = t->nodes[id], **p;

	for (p = &t->hash[fs_hash(n->dev, n->ino)]; *p; p = &(*p)->hnext)
		if (*p == n) {
			*p = n->hnext;
			break;
		}
	close(n->fd);
	free(n);
	t->nodes[id] = NULL;
}

/* The inode of node ID, with a reference; NULL if there is none. */
static struct fs_inode *fs_get(struct vduse_fs_server *s, uint64_t id)
{
	struct vduse_fs_tables *t = s->t;
	struct fs_inode *n = NULL;

	pthread_mutex_lock(&t->lock);
	if (id && id < t->nnodes && t->nodes[id]) {
		n = t->nodes[id];
		n->refs++;
	}
	pthread_mutex_unlock(&t->lock);
	return n;
}

static void fs_put_locked(struct vduse_fs_tables *t, uint64_t id)
{
	struct fs_inode *n = t->nodes[id];

	if (!--n->refs && !n->nlookup && id != FUSE_ROOT_ID)
		fs_inode_free(t, id);
}

static void fs_put(struct vduse_fs_server *s, uint64_t id)
{
	pthread_mutex_lock(&s->t->lock);
	fs_put_locked(s->t, id);
	pthread_mutex_unlock(&s->t->lock);
}

/* The client forgets NLOOKUP references to node ID. */
static void fs_forget(struct vduse_fs_server *s, uint64_t id, uint64_t nlookup)
{
	struct vduse_fs_tables *t = s->t;
	struct fs_inode *n;

	pthread_mutex_lock(&t->lock);
	if (id != FUSE_ROOT_ID && id < t->nnodes && t->nodes[id]) {
		n = t->nodes[id];
		n->nlookup -= nlookup < n->nlookup ? nlookup : n->nlookup;
		if (!n->nlookup && !n->refs)
			fs_inode_free(t, id);
	}
	pthread_mutex_unlock(&t->lock);
}

static void fs_fill_attr(struct fuse_attr *a, const struct stat *st)
{
	memset(a, 0, sizeof(*a));
	a->ino = st->st_ino;
	a->size = st->st_size;
	a->blocks = st->st_blocks;
	a->atime = st->st_atim.tv_sec;
	a->atimensec = st->st_atim.tv_nsec;
	a->mtime = st->st_mtim.tv_sec;
	a->mtimensec = st->st_mtim.tv_nsec;
	a->ctime = st->st_ctim.tv_sec;
	a->ctimensec = st->st_ctim.tv_nsec;
	a->mode = st->st_mode;
	a->nlink = st->st_nlink;
	a->uid = st->st_uid;
	a->gid = st->st_gid;
	a->rdev = st->st_rdev;
	a->blksize = st->st_blksize;
}

/*
 * Take FD (O_PATH, of the file STAT describes) as an inode the client
 * looked up once more: an inode already known gets the reference and FD
 * is closed.  Fills E.
 */
static int fs_remember(struct vduse_fs_server *s, int fd, const struct stat *st,
		       struct fuse_entry_out *e)
{
	struct vduse_fs_tables *t = s->t;
	unsigned int h = fs_hash(st->st_dev, st->st_ino);
	struct fs_inode *n;
	uint64_t id;

	pthread_mutex_lock(&t->lock);
	for (n = t->hash[h]; n; n = n->hnext)
		if (n->dev == st->st_dev && n->ino == st->st_ino)
			break;
	if (n) {
		close(fd);
		id = n->id;
		n->nlookup++;
	} else {
		for (id = 2; id < t->nnodes && t->nodes[id]; id++)
			;
		if (id == t->nnodes) {
			uint64_t nr = t->nnodes * 2;
			struct fs_inode **nodes = realloc(t->nodes,
							  nr * sizeof(*nodes));

			if (!nodes)
				goto nomem;
			memset(nodes + t->nnodes, 0,
			       (nr - t->nnodes) * sizeof(*nodes));
			t->nodes = nodes;
			t->nnodes = nr;
		}
		n = calloc(1, sizeof(*n));
		if (!n)
			goto nomem;
		n->id = id;
		n->gen = ++t->gen;
		n->fd = fd;
		n->dev = st->st_dev;
		n->ino = st->st_ino;
		n->type = st->st_mode & S_IFMT;
		n->nlookup = 1;
		n->hnext = t->hash[h];
		t->hash[h] = n;
		t->nodes[id] = n;
	}
	memset(e, 0, sizeof(*e));
	e->nodeid = id;
	e->generation = n->gen;
	e->entry_valid = FS_TIMEOUT;
	e->attr_valid = FS_TIMEOUT;
	fs_fill_attr(&e->attr, st);
	pthread_mutex_unlock(&t->lock);
	return 0;

nomem:
	pthread_mutex_unlock(&t->lock);
	close(fd);
	return -ENOMEM;
}

/*
 * NAME of directory DIR, looked up: one component, never "." or "..",
 * never through a symlink.  Fills E and takes a reference for the client.
 */
static int fs_lookup_name(struct vduse_fs_server *s, struct fs_inode *dir,
			  const char *name, struct fuse_entry_out *e)
{
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS,
	};
	struct stat st;
	int fd;

	if (dir->type != S_IFDIR)
		return -ENOTDIR;
	fd = syscall(SYS_openat2, dir->fd, name, &how, sizeof(how));
	if (fd < 0)
		return -errno;
	if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fs_remember(s, fd, &st, e);
}

/*
 * The next NUL-terminated string of the arguments, from *OFF: a name
 * (one component) when NAME is set, else any string.  NULL if it is not
 * terminated within the arguments or is not a valid name.
 */
static const char *fs_str(struct fs_req *r, uint32_t *off, int name)
{
	const char *p = (const char *)r->arg + *off;
	const char *end;

	if (*off >= r->arglen)
		return NULL;
	end = memchr(p, '\0', r->arglen - *off);
	if (!end)
		return NULL;
	*off += end - p + 1;
	if (name && (!*p || strchr(p, '/') || !strcmp(p, ".") ||
		     !strcmp(p, ".."))) {
		__atomic_fetch_add(&r->s->escapes, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	return p;
}

static int fs_proc_path(const struct fs_inode *n, char *buf, size_t size)
{
	if (n->type != S_IFREG && n->type != S_IFDIR)
		return -ELOOP;
	snprintf(buf, size, "/proc/self/fd/%d", n->fd);
	return 0;
}

static int fs_reopen(const struct fs_inode *n, int flags)
{
	char path[64];
	int fd, ret;

	ret = fs_proc_path(n, path, sizeof(path));
	if (ret)
		return ret;
	flags &= O_ACCMODE | O_APPEND | O_TRUNC | O_SYNC | O_DSYNC |
		 O_NONBLOCK | O_DIRECTORY | O_NOATIME;
	fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* A new file handle for FD or DIR; its number or -errno. */
static int64_t fs_handle_new(struct vduse_fs_server *s, int fd, DIR *dir)
{
	struct vduse_fs_tables *t = s->t;
	struct fs_handle *h = calloc(1, sizeof(*h));
	uint64_t fh;

	if (!h)
		return -ENOMEM;
	h->fd = fd;
	h->dir = dir;
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_lock(&t->lock);
	for (fh = 1; fh < t->nhandles && t->handles[fh]; fh++)
		;
	if (fh == t->nhandles) {
		uint64_t nr = t->nhandles * 2;
		struct fs_handle **hs = realloc(t->handles, nr * sizeof(*hs));

		if (!hs) {
			pthread_mutex_unlock(&t->lock);
			free(h);
			return -ENOMEM;
		}
		memset(hs + t->nhandles, 0, (nr - t->nhandles) * sizeof(*hs));
		t->handles = hs;
		t->nhandles = nr;
	}
	t->handles[fh] = h;
	pthread_mutex_unlock(&t->lock);
	return fh;
}

static void fs_handle_close(struct fs_handle *h)
{
	if (h->dir)
		closedir(h->dir);
	else
		close(h->fd);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

static struct fs_handle *fs_handle_get(struct vduse_fs_server *s, uint64_t fh,
				       int dir)
{
	struct vduse_fs_tables *t = s->t;
	struct fs_handle *h = NULL;

	pthread_mutex_lock(&t->lock);
	if (fh && fh < t->nhandles && t->handles[fh] &&
	    !t->handles[fh]->closed && !!t->handles[fh]->dir == !!dir) {
		h = t->handles[fh];
		h->refs++;
	}
	pthread_mutex_unlock(&t->lock);
	return h;
}

static void fs_handle_put(struct vduse_fs_server *s, struct fs_handle *h)
{
	int last;

	pthread_mutex_lock(&s->t->lock);
	last = !--h->refs && h->closed;
	pthread_mutex_unlock(&s->t->lock);
	if (last)
		fs_handle_close(h);
}

static int fs_handle_release(struct vduse_fs_server *s, uint64_t fh, int dir)
{
	struct vduse_fs_tables *t = s->t;
	struct fs_handle *h = NULL;

	pthread_mutex_lock(&t->lock);
	if (fh && fh < t->nhandles && t->handles[fh] &&
	    !!t->handles[fh]->dir == !!dir) {
		h = t->handles[fh];
		t->handles[fh] = NULL;
		h->closed = 1;
		if (h->refs)
			h = NULL;
	} else {
		fh = 0;
	}
	pthread_mutex_unlock(&t->lock);
	if (h)
		fs_handle_close(h);
	return fh ? 0 : -EBADF;
}

/* A new session (FUSE_INIT, FUSE_DESTROY): the client knows nothing. */
static void fs_tables_reset(struct vduse_fs_server *s)
{
	struct vduse_fs_tables *t = s->t;
	uint64_t i;

	pthread_mutex_lock(&t->lock);
	for (i = 2; i < t->nnodes; i++) {
		if (!t->nodes[i])
			continue;
		t->nodes[i]->nlookup = 0;
		if (!t->nodes[i]->refs)
			fs_inode_free(t, i);
	}
	for (i = 1; i < t->nhandles; i++) {
		struct fs_handle *h = t->handles[i];

		if (!h)
			continue;
		t->handles[i] = NULL;
		h->closed = 1;
		if (!h->refs)
			fs_handle_close(h);
	}
	pthread_mutex_unlock(&t->lock);
}

/* The request's fixed arguments, if it is at least SIZE long. */
static const void *fs_arg(const struct fs_req *r, size_t size)
{
	return r->arglen >= size ? r->arg : NULL;
}

#define FS_ARG(r, type)	((const type *)fs_arg(r, sizeof(type)))

static int fs_init(struct fs_req *r)
{
	struct fuse_init_out *out = (void *)r->out;
	struct fuse_init_in init = { 0 }, *in = &init;
	uint32_t want = FUSE_ASYNC_READ | FUSE_BIG_WRITES |
			FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO |
			FUSE_PARALLEL_DIROPS | FUSE_MAX_PAGES |
			FUSE_ATOMIC_O_TRUNC;

	/* Clients before 7.36 send the first four words only. */
	if (r->arglen < 16 || r->outmax < sizeof(*out))
		return -EINVAL;
	memcpy(&init, r->arg, r->arglen < sizeof(init) ? r->arglen :
							 sizeof(init));
	if (in->major != FUSE_KERNEL_VERSION)
		return -EPROTO;
	fs_tables_reset(r->s);
	memset(out, 0, sizeof(*out));
	out->major = FUSE_KERNEL_VERSION;
	out->minor = in->minor < FUSE_KERNEL_MINOR_VERSION ?
		     in->minor : FUSE_KERNEL_MINOR_VERSION;
	out->max_readahead = in->max_readahead;
	out->flags = in->flags & want;
	out->max_background = 64;
	out->congestion_threshold = 48;
	out->max_write = FS_MAX_WRITE;
	out->time_gran = 1;
	out->max_pages = FS_MAX_WRITE / 4096;
	__atomic_fetch_add(&r->s->sessions, 1, __ATOMIC_RELAXED);
	return sizeof(*out);
}

static int fs_lookup(struct fs_req *r, struct fs_inode *n)
{
	uint32_t off = 0;
	const char *name = fs_str(r, &off, 1);

	if (!name)
		return -ENOENT;
	if (r->outmax < sizeof(struct fuse_entry_out))
		return -EINVAL;
	return fs_lookup_name(r->s, n, name, (void *)r->out) ?:
	       (int)sizeof(struct fuse_entry_out);
}

static int fs_stat_reply(struct fs_req *r, struct fs_inode *n)
{
	struct fuse_attr_out *out = (void *)r->out;
	struct stat st;

	if (r->outmax < sizeof(*out))
		return -EINVAL;
	if (fstatat(n->fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -errno;
	memset(out, 0, sizeof(*out));
	out->attr_valid = FS_TIMEOUT;
	fs_fill_attr(&out->attr, &st);
	return sizeof(*out);
}

static int fs_setattr(struct fs_req *r, struct fs_inode *n)
{
	const struct fuse_setattr_in *in = FS_ARG(r, struct fuse_setattr_in);
	struct fs_handle *h = NULL;
	char path[64];
	int ret = 0;

	if (!in)
		return -EINVAL;
	if (in->valid & FATTR_FH) {
		h = fs_handle_get(r->s, in->fh, 0);
		if (!h)
			return -EBADF;
	}
	/* Symlinks: only the owner; the rest would follow them. */
	if ((in->valid & (FATTR_MODE | FATTR_SIZE | FATTR_ATIME |
			  FATTR_MTIME)) && !h) {
		ret = fs_proc_path(n, path, sizeof(path));
		if (ret)
			goto out;
	}
	if (in->valid & FATTR_MODE) {
		ret = h ? fchmod(h->fd, in->mode & 07777) :
			  chmod(path, in->mode & 07777);
		if (ret)
			goto err;
	}
	if (in->valid & (FATTR_UID | FATTR_GID)) {
		uid_t uid = in->valid & FATTR_UID ? in->uid : (uid_t)-1;
		gid_t gid = in->valid & FATTR_GID ? in->gid : (gid_t)-1;

		if (fchownat(n->fd, "", uid, gid,
			     AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
			goto err;
	}
	if (in->valid & FATTR_SIZE) {
		if (n->type != S_IFREG) {
			ret = -EINVAL;
			goto out;
		}
		ret = h ? ftruncate(h->fd, in->size) : truncate(path, in->size);
		if (ret)
			goto err;
	}
	if (in->valid & (FATTR_ATIME | FATTR_MTIME)) {
		struct timespec ts[2] = {
			{ .tv_nsec = UTIME_OMIT }, { .tv_nsec = UTIME_OMIT },
		};

		if (in->valid & FATTR_ATIME_NOW)
			ts[0].tv_nsec = UTIME_NOW;
		else if (in->valid & FATTR_ATIME)
			ts[0] = (struct timespec){ in->atime, in->atimensec };
		if (in->valid & FATTR_MTIME_NOW)
			ts[1].tv_nsec = UTIME_NOW;
		else if (in->valid & FATTR_MTIME)
			ts[1] = (struct timespec){ in->mtime, in->mtimensec };
		if (h ? futimens(h->fd, ts) : utimensat(AT_FDCWD, path, ts, 0))
			goto err;
	}
	ret = fs_stat_reply(r, n);
	goto out;
err:
	ret = -errno;
out:
	if (h)
		fs_handle_put(r->s, h);
	return ret;
}

static int fs_open(struct fs_req *r, struct fs_inode *n, int dir)
{
	const struct fuse_open_in *in = FS_ARG(r, struct fuse_open_in);
	struct fuse_open_out *out = (void *)r->out;
	DIR *d = NULL;
	int64_t fh;
	int fd;

	if (!in || r->outmax < sizeof(*out))
		return -EINVAL;
	if (dir != (int)(n->type == S_IFDIR))
		return dir ? -ENOTDIR : -EISDIR;
	fd = fs_reopen(n, dir ? O_RDONLY | O_DIRECTORY : in->flags);
	if (fd < 0)
		return fd;
	if (dir) {
		d = fdopendir(fd);
		if (!d) {
			close(fd);
			return -errno;
		}
	}
	fh = fs_handle_new(r->s, fd, d);
	if (fh < 0) {
		if (d)
			closedir(d);
		else
			close(fd);
		return fh;
	}
	memset(out, 0, sizeof(*out));
	out->fh = fh;
	return sizeof(*out);
}

static int fs_release(struct fs_req *r, int dir)
{
	const struct fuse_release_in *in = FS_ARG(r, struct fuse_release_in);

	return in ? fs_handle_release(r->s, in->fh, dir) : -EINVAL;
}

static int fs_read(struct fs_req *r)
{
	const struct fuse_read_in *in = FS_ARG(r, struct fuse_read_in);
	struct fs_handle *h;
	uint32_t size;
	ssize_t n;

	if (!in)
		return -EINVAL;
	h = fs_handle_get(r->s, in->fh, 0);
	if (!h)
		return -EBADF;
	size = in->size < r->outmax ? in->size : r->outmax;
	n = pread(h->fd, r->out, size, in->offset);
	fs_handle_put(r->s, h);
	return n < 0 ? -errno : n;
}

static int fs_write(struct fs_req *r)
{
	const struct fuse_write_in *in = FS_ARG(r, struct fuse_write_in);
	struct fuse_write_out *out = (void *)r->out;
	struct fs_handle *h;
	ssize_t n;

	if (!in || r->outmax < sizeof(*out) ||
	    in->size > r->arglen - sizeof(*in))
		return -EINVAL;
	h = fs_handle_get(r->s, in->fh, 0);
	if (!h)
		return -EBADF;
	n = pwrite(h->fd, r->arg + sizeof(*in), in->size, in->offset);
	fs_handle_put(r->s, h);
	if (n < 0)
		return -errno;
	memset(out, 0, sizeof(*out));
	out->size = n;
	return sizeof(*out);
}

static int fs_readdir(struct fs_req *r, struct fs_inode *dn, int plus)
{
	const struct fuse_read_in *in = FS_ARG(r, struct fuse_read_in);
	uint32_t size, used = 0;
	struct fs_handle *h;
	int ret = 0;

	if (!in)
		return -EINVAL;
	h = fs_handle_get(r->s, in->fh, 1);
	if (!h)
		return -EBADF;
	size = in->size < r->outmax ? in->size : r->outmax;
	pthread_mutex_lock(&h->lock);
	if ((long)in->offset != h->pos) {
		if (in->offset)
			seekdir(h->dir, in->offset);
		else
			rewinddir(h->dir);
	}
	for (;;) {
		long before = telldir(h->dir);
		struct fuse_dirent *de;
		struct dirent *e;
		size_t namelen, rec;

		errno = 0;
		e = readdir(h->dir);
		if (!e) {
			ret = errno ? -errno : 0;
			break;
		}
		namelen = strlen(e->d_name);
		rec = FUSE_DIRENT_ALIGN((plus ? FUSE_NAME_OFFSET_DIRENTPLUS :
					 FUSE_NAME_OFFSET) + namelen);
		if (used + rec > size) {
			seekdir(h->dir, before);
			break;
		}
		if (plus) {
			struct fuse_direntplus *dp = (void *)(r->out + used);

			memset(&dp->entry_out, 0, sizeof(dp->entry_out));
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				/* Vanished since: a plain entry. */
				fs_lookup_name(r->s, dn, e->d_name,
					       &dp->entry_out);
			de = &dp->dirent;
		} else {
			de = (void *)(r->out + used);
		}
		de->ino = e->d_ino;
		de->off = telldir(h->dir);
		de->namelen = namelen;
		de->type = e->d_type;
		memcpy(de->name, e->d_name, namelen);
		memset(de->name + namelen, 0,
		       rec - namelen - (plus ? FUSE_NAME_OFFSET_DIRENTPLUS :
					FUSE_NAME_OFFSET));
		used += rec;
	}
	h->pos = telldir(h->dir);
	pthread_mutex_unlock(&h->lock);
	fs_handle_put(r->s, h);
	return used ? (int)used : ret;
}

/* Reply with the entry of NAME in DIR, just made. */
static int fs_entry_reply(struct fs_req *r, struct fs_inode *dir,
			  const char *name)
{
	if (r->outmax < sizeof(struct fuse_entry_out))
		return -EINVAL;
	return fs_lookup_name(r->s, dir, name, (void *)r->out) ?:
	       (int)sizeof(struct fuse_entry_out);
}

static int fs_create(struct fs_req *r, struct fs_inode *dir)
{
	const struct fuse_create_in *in = FS_ARG(r, struct fuse_create_in);
	struct fuse_open_out *oo;
	uint32_t off = sizeof(*in);
	const char *name;
	int64_t fh;
	int fd, ret;

	if (!in || r->outmax < sizeof(struct fuse_entry_out) + sizeof(*oo))
		return -EINVAL;
	name = fs_str(r, &off, 1);
	if (!name)
		return -EINVAL;
	if (dir->type != S_IFDIR)
		return -ENOTDIR;
	fd = openat(dir->fd, name,
		    (in->flags & (O_ACCMODE | O_APPEND | O_TRUNC | O_EXCL |
				  O_SYNC | O_DSYNC | O_NONBLOCK)) |
		    O_CREAT | O_NOFOLLOW | O_CLOEXEC, in->mode & 07777);
	if (fd < 0)
		return -errno;
	ret = fs_entry_reply(r, dir, name);
	if (ret < 0) {
		close(fd);
		return ret;
	}
	fh = fs_handle_new(r->s, fd, NULL);
	if (fh < 0) {
		close(fd);
		fs_forget(r->s, ((struct fuse_entry_out *)r->out)->nodeid, 1);
		return fh;
	}
	oo = (void *)(r->out + sizeof(struct fuse_entry_out));
	memset(oo, 0, sizeof(*oo));
	oo->fh = fh;
	return sizeof(struct fuse_entry_out) + sizeof(*oo);
}

static int fs_mknod(struct fs_req *r, struct fs_inode *dir)
{
	const struct fuse_mknod_in *in = FS_ARG(r, struct fuse_mknod_in);
	uint32_t off = sizeof(*in);
	const char *name;
	mode_t type;

	if (!in)
		return -EINVAL;
	name = fs_str(r, &off, 1);
	if (!name)
		return -EINVAL;
	type = in->mode & S_IFMT;
	/* No device nodes: they would reach the host's devices. */
	if (type != S_IFREG && type != S_IFIFO && type != S_IFSOCK)
		return -EPERM;
	if (mknodat(dir->fd, name, in->mode & (S_IFMT | 07777), 0))
		return -errno;
	return fs_entry_reply(r, dir, name);
}

static int fs_mkdir(struct fs_req *r, struct fs_inode *dir)
{
	const struct fuse_mkdir_in *in = FS_ARG(r, struct fuse_mkdir_in);
	uint32_t off = sizeof(*in);
	const char *name;

	if (!in)
		return -EINVAL;
	name = fs_str(r, &off, 1);
	if (!name)
		return -EINVAL;
	if (mkdirat(dir->fd, name, in->mode & 07777))
		return -errno;
	return fs_entry_reply(r, dir, name);
}

static int fs_symlink(struct fs_req *r, struct fs_inode *dir)
{
	uint32_t off = 0;
	const char *name = fs_str(r, &off, 1);
	const char *target = name ? fs_str(r, &off, 0) : NULL;

	if (!target)
		return -EINVAL;
	if (symlinkat(target, dir->fd, name))
		return -errno;
	return fs_entry_reply(r, dir, name);
}

static int fs_link(struct fs_req *r, struct fs_inode *dir)
{
	const struct fuse_link_in *in = FS_ARG(r, struct fuse_link_in);
	uint32_t off = sizeof(*in);
	struct fs_inode *old;
	const char *name;
	int ret;

	if (!in)
		return -EINVAL;
	name = fs_str(r, &off, 1);
	if (!name)
		return -EINVAL;
	old = fs_get(r->s, in->oldnodeid);
	if (!old)
		return -ENOENT;
	ret = linkat(old->fd, "", dir->fd, name, AT_EMPTY_PATH) ? -errno : 0;
	fs_put(r->s, in->oldnodeid);
	return ret ?: fs_entry_reply(r, dir, name);
}

static int fs_unlink(struct fs_req *r, struct fs_inode *dir, int flags)
{
	uint32_t off = 0;
	const char *name = fs_str(r, &off, 1);

	if (!name)
		return -EINVAL;
	return unlinkat(dir->fd, name, flags) ? -errno : 0;
}

static int fs_rename(struct fs_req *r, struct fs_inode *dir, int two)
{
	const struct fuse_rename2_in *in2 = FS_ARG(r, struct fuse_rename2_in);
	const struct fuse_rename_in *in = FS_ARG(r, struct fuse_rename_in);
	uint32_t off = two ? sizeof(*in2) : sizeof(*in);
	const char *oldname, *newname;
	unsigned int flags = 0;
	struct fs_inode *nd;
	uint64_t newdir;
	int ret;

	if (two ? !in2 : !in)
		return -EINVAL;
	newdir = two ? in2->newdir : in->newdir;
	if (two)
		flags = in2->flags;
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	oldname = fs_str(r, &off, 1);
	newname = oldname ? fs_str(r, &off, 1) : NULL;
	if (!newname)
		return -EINVAL;
	nd = fs_get(r->s, newdir);
	if (!nd)
		return -ENOENT;
	ret = renameat2(dir->fd, oldname, nd->fd, newname, flags) ? -errno : 0;
	fs_put(r->s, newdir);
	return ret;
}

static int fs_readlink(struct fs_req *r, struct fs_inode *n)
{
	ssize_t len;

	if (n->type != S_IFLNK)
		return -EINVAL;
	len = readlinkat(n->fd, "", (char *)r->out, r->outmax);
	if (len < 0)
		return -errno;
	return len;
}

static int fs_statfs(struct fs_req *r, struct fs_inode *n)
{
	struct fuse_statfs_out *out = (void *)r->out;
	struct statfs st;

	if (r->outmax < sizeof(*out))
		return -EINVAL;
	if (fstatfs(n->fd, &st))
		return -errno;
	memset(out, 0, sizeof(*out));
	out->st.blocks = st.f_blocks;
	out->st.bfree = st.f_bfree;
	out->st.bavail = st.f_bavail;
	out->st.files = st.f_files;
	out->st.ffree = st.f_ffree;
	out->st.bsize = st.f_bsize;
	out->st.namelen = st.f_namelen;
	out->st.frsize = st.f_frsize;
	return sizeof(*out);
}

static int fs_fsync(struct fs_req *r, int dir)
{
	const struct fuse_fsync_in *in = FS_ARG(r, struct fuse_fsync_in);
	struct fs_handle *h;
	int fd, ret;

	if (!in)
		return -EINVAL;
	h = fs_handle_get(r->s, in->fh, dir);
	if (!h)
		return -EBADF;
	fd = dir ? dirfd(h->dir) : h->fd;
	ret = (in->fsync_flags & 1) ? fdatasync(fd) : fsync(fd);
	fs_handle_put(r->s, h);
	return ret ? -errno : 0;
}

static int fs_access(struct fs_req *r, struct fs_inode *n)
{
	const struct fuse_access_in *in = FS_ARG(r, struct fuse_access_in);

	if (!in)
		return -EINVAL;
	return faccessat(n->fd, "", in->mask & 7,
			 AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) ? -errno : 0;
}

static void fs_batch_forget(struct fs_req *r)
{
	const struct fuse_batch_forget_in *in =
		FS_ARG(r, struct fuse_batch_forget_in);
	const struct fuse_forget_one *one;
	uint32_t i, count;

	if (!in)
		return;
	one = (const void *)(r->arg + sizeof(*in));
	count = (r->arglen - sizeof(*in)) / sizeof(*one);
	if (in->count < count)
		count = in->count;
	for (i = 0; i < count; i++)
		fs_forget(r->s, one[i].nodeid, one[i].nlookup);
}

/*
 * Handle one request; the payload's length, -errno, or 1 << 30 when no
 * reply is due.
 */
#define FS_NO_REPLY	0x40000000

static int fs_dispatch(struct fs_req *r)
{
	uint32_t op = r->h->opcode;
	struct fs_inode *n = NULL;
	int ret;

	switch (op) {
	case FUSE_INIT:
		return fs_init(r);
	case FUSE_DESTROY:
		fs_tables_reset(r->s);
		return 0;
	case FUSE_FORGET: {
		const struct fuse_forget_in *in =
			FS_ARG(r, struct fuse_forget_in);

		if (in)
			fs_forget(r->s, r->h->nodeid, in->nlookup);
		return FS_NO_REPLY;
	}
	case FUSE_BATCH_FORGET:
		fs_batch_forget(r);
		return FS_NO_REPLY;
	case FUSE_INTERRUPT:
		return FS_NO_REPLY;
	case FUSE_READ:
		return fs_read(r);
	case FUSE_WRITE:
		return fs_write(r);
	case FUSE_RELEASE:
		return fs_release(r, 0);
	case FUSE_RELEASEDIR:
		return fs_release(r, 1);
	case FUSE_FLUSH:
		return 0;
	case FUSE_FSYNC:
		return fs_fsync(r, 0);
	case FUSE_FSYNCDIR:
		return fs_fsync(r, 1);
	case FUSE_LOOKUP:
	case FUSE_GETATTR:
	case FUSE_SETATTR:
	case FUSE_OPEN:
	case FUSE_OPENDIR:
	case FUSE_READDIR:
	case FUSE_READDIRPLUS:
	case FUSE_CREATE:
	case FUSE_MKNOD:
	case FUSE_MKDIR:
	case FUSE_UNLINK:
	case FUSE_RMDIR:
	case FUSE_RENAME:
	case FUSE_RENAME2:
	case FUSE_LINK:
	case FUSE_SYMLINK:
	case FUSE_READLINK:
	case FUSE_STATFS:
	case FUSE_ACCESS:
		break;
	default:
		/* Extended attributes, locks, ...: the client falls back. */
		return -ENOSYS;
	}

	n = fs_get(r->s, r->h->nodeid);
	if (!n)
		return -ENOENT;
	switch (op) {
	case FUSE_LOOKUP:
		ret = fs_lookup(r, n);
		break;
	case FUSE_GETATTR:
		ret = fs_stat_reply(r, n);
		break;
	case FUSE_SETATTR:
		ret = fs_setattr(r, n);
		break;
	case FUSE_OPEN:
		ret = fs_open(r, n, 0);
		break;
	case FUSE_OPENDIR:
		ret = fs_open(r, n, 1);
		break;
	case FUSE_READDIR:
		ret = fs_readdir(r, n, 0);
		break;
	case FUSE_READDIRPLUS:
		ret = fs_readdir(r, n, 1);
		break;
	case FUSE_CREATE:
		ret = fs_create(r, n);
		break;
	case FUSE_MKNOD:
		ret = fs_mknod(r, n);
		break;
	case FUSE_MKDIR:
		ret = fs_mkdir(r, n);
		break;
	case FUSE_UNLINK:
		ret = fs_unlink(r, n, 0);
		break;
	case FUSE_RMDIR:
		ret = fs_unlink(r, n, AT_REMOVEDIR);
		break;
	case FUSE_RENAME:
		ret = fs_rename(r, n, 0);
		break;
	case FUSE_RENAME2:
		ret = fs_rename(r, n, 1);
		break;
	case FUSE_LINK:
		ret = fs_link(r, n);
		break;
	case FUSE_SYMLINK:
		ret = fs_symlink(r, n);
		break;
	case FUSE_READLINK:
		ret = fs_readlink(r, n);
		break;
	case FUSE_STATFS:
		ret = fs_statfs(r, n);
		break;
	default:
		ret = fs_access(r, n);
		break;
	}
	fs_put(r->s, r->h->nodeid);
	return ret;
}

/*
 * Serve the chain at HEAD: gather what the driver wrote, handle it,
 * scatter the reply; returns the bytes written to the driver, or -1 when
 * the hook drops the request.
 */
static int64_t fs_serve_chain(struct vduse_fs_queue *q, struct vduse_vring *vr,
			      uint16_t head, struct vduse_vbuf *bufs)
{
	struct vduse_fs_server *s = q->s;
	struct fuse_out_header *oh = (void *)q->out;
	const struct fuse_in_header *ih = (void *)q->in;
	uint64_t inlen = 0, room = 0, len, done;
	struct fs_req r = { .s = s, .h = ih };
	int i, n, ret;

	n = vduse_vring_chain(vr, &q->iova, head, bufs, FS_MAX_BUFS);
	if (n < 0) {
		fs_fail(s, n);
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (bufs[i].write) {
			room += bufs[i].len;
			continue;
		}
		/* The device-readable part comes first. */
		if (room || inlen + bufs[i].len > FS_BUF_SIZE)
			return 0;
		memcpy(q->in + inlen, bufs[i].addr, bufs[i].len);
		inlen += bufs[i].len;
	}
	if (inlen < sizeof(*ih) || ih->len > inlen ||
	    ih->len < sizeof(*ih) + ih->total_extlen * 8)
		return 0;
	if (s->hook && s->hook(s->hook_arg, q->index, ih))
		return -1;
	__atomic_fetch_add(&s->requests, 1, __ATOMIC_RELAXED);

	r.arg = q->in + sizeof(*ih);
	r.arglen = ih->len - sizeof(*ih) - ih->total_extlen * 8;
	r.out = q->out + sizeof(*oh);
	r.outmax = room < sizeof(*oh) ? 0 : room - sizeof(*oh);
	if (r.outmax > FS_BUF_SIZE - sizeof(*oh))
		r.outmax = FS_BUF_SIZE - sizeof(*oh);
	ret = fs_dispatch(&r);
	if (ret == FS_NO_REPLY || room < sizeof(*oh))
		return 0;
	oh->unique = ih->unique;
	oh->error = ret < 0 ? ret : 0;
	oh->len = sizeof(*oh) + (ret < 0 ? 0 : ret);

	for (i = 0, done = 0; i < n && done < oh->len; i++) {
		if (!bufs[i].write)
			continue;
		len = oh->len - done < bufs[i].len ? oh->len - done :
						     bufs[i].len;
		memcpy(bufs[i].addr, q->out + done, len);
		done += len;
	}
	return done;
}

static int fs_driver_ok(struct vduse_fs_server *s)
{
	return (__atomic_load_n(&s->ctl.status, __ATOMIC_SEQ_CST) &
		VIRTIO_CONFIG_S_DRIVER_OK) &&
	       !__atomic_load_n(&s->quiesce, __ATOMIC_SEQ_CST);
}

/* One DRIVER_OK to reset of one queue. */
static void fs_queue_session(struct vduse_fs_queue *q, struct vduse_vbuf *bufs)
{
	struct vduse_fs_server *s = q->s;
	struct vduse_vq_eventfd kick = { .index = q->index };
	struct vduse_vring vr;
	struct pollfd pfd;
	uint32_t vq = q->index;
	int efd;

	/* A queue the driver does not use (fewer CPUs) stays idle. */
	if (vduse_vring_map(&q->iova, q->index, &vr)) {
		while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE) &&
		       fs_driver_ok(s))
			usleep(10000);
		return;
	}
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	kick.fd = efd;
	if (efd < 0 || ioctl(s->fd, VDUSE_VQ_SETUP_KICKFD, &kick)) {
		fs_fail(s, -errno);
		if (efd >= 0)
			close(efd);
		return;
	}
	pfd.fd = efd;
	pfd.events = POLLIN;
	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE) &&
	       fs_driver_ok(s)) {
		uint16_t head;
		uint64_t cnt;
		int any = 0;

		if (poll(&pfd, 1, 50) > 0 && read(efd, &cnt, sizeof(cnt)) < 0)
			continue;
		while (vduse_vring_pop(&vr, &head)) {
			int64_t len = fs_serve_chain(q, &vr, head, bufs);

			if (len < 0)
				continue;
			vduse_vring_push(&vr, head, len);
			any = 1;
		}
		if (any && ioctl(s->fd, VDUSE_VQ_INJECT_IRQ, &vq))
			fs_fail(s, -errno);
	}
	kick.fd = VDUSE_EVENTFD_DEASSIGN;
	ioctl(s->fd, VDUSE_VQ_SETUP_KICKFD, &kick);
	close(efd);
}

static void *fs_queue_main(void *data)
{
	struct vduse_fs_queue *q = data;
	struct vduse_fs_server *s = q->s;
	struct vduse_vbuf *bufs = calloc(FS_MAX_BUFS, sizeof(*bufs));

	if (!bufs) {
		fs_fail(s, -ENOMEM);
		return NULL;
	}
	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		if (!fs_driver_ok(s)) {
			usleep(10000);
			continue;
		}
		/* Checked again once active: a reset waits for !active. */
		__atomic_store_n(&q->active, 1, __ATOMIC_SEQ_CST);
		if (fs_driver_ok(s))
			fs_queue_session(q, bufs);
		vduse_iova_cache_drop(&q->iova);
		__atomic_store_n(&q->active, 0, __ATOMIC_SEQ_CST);
	}
	free(bufs);
	return NULL;
}

/* The driver resets the device: every queue lets go of its rings first. */
static void fs_on_reset(void *arg)
{
	struct vduse_fs_server *s = arg;
	unsigned int i;

	__atomic_store_n(&s->quiesce, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i <= s->nrq; i++)
		while (__atomic_load_n(&s->q[i].active, __ATOMIC_SEQ_CST))
			usleep(1000);
	__atomic_store_n(&s->quiesce, 0, __ATOMIC_SEQ_CST);
}

static void fs_tables_free(struct vduse_fs_server *s)
{
	struct vduse_fs_tables *t = s->t;
	uint64_t i;

	if (!t)
		return;
	fs_tables_reset(s);
	for (i = 1; i < t->nnodes; i++)
		if (t->nodes[i])
			fs_inode_free(t, i);
	free(t->nodes);
	free(t->handles);
	pthread_mutex_destroy(&t->lock);
	free(t);
	s->t = NULL;
}

static int fs_tables_init(struct vduse_fs_server *s, const char *dir)
{
	struct vduse_fs_tables *t = calloc(1, sizeof(*t));
	struct stat st;
	int fd;

	if (!t)
		return -ENOMEM;
	s->t = t;
	pthread_mutex_init(&t->lock, NULL);
	t->nnodes = 64;
	t->nhandles = 64;
	t->nodes = calloc(t->nnodes, sizeof(*t->nodes));
	t->handles = calloc(t->nhandles, sizeof(*t->handles));
	if (!t->nodes || !t->handles)
		goto nomem;
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		int err = -errno;

		if (fd >= 0)
			close(fd);
		fs_tables_free(s);
		return err;
	}
	/* The root takes node ID 1, which fs_remember never hands out. */
	t->nodes[FUSE_ROOT_ID] = calloc(1, sizeof(struct fs_inode));
	if (!t->nodes[FUSE_ROOT_ID]) {
		close(fd);
		goto nomem;
	}
	t->nodes[FUSE_ROOT_ID]->fd = fd;
	t->nodes[FUSE_ROOT_ID]->dev = st.st_dev;
	t->nodes[FUSE_ROOT_ID]->ino = st.st_ino;
	t->nodes[FUSE_ROOT_ID]->type = S_IFDIR;
	t->nodes[FUSE_ROOT_ID]->nlookup = 1;
	t->hash[fs_hash(st.st_dev, st.st_ino)] = t->nodes[FUSE_ROOT_ID];
	t->nodes[FUSE_ROOT_ID]->id = FUSE_ROOT_ID;
	s->root = fd;
	return 0;

nomem:
	fs_tables_free(s);
	return -ENOMEM;
}

/*
 * Every inode the client holds is a descriptor: take as many as the
 * system lets a process have, not the 1024 of the default soft limit.
 */
static void fs_raise_nofile(void)
{
	struct rlimit rl = { 0 };
	unsigned long nr_open = 0;
	FILE *f = fopen("/proc/sys/fs/nr_open", "r");

	if (f) {
		if (fscanf(f, "%lu", &nr_open) != 1)
			nr_open = 0;
		fclose(f);
	}
	if (nr_open) {
		rl.rlim_cur = nr_open;
		rl.rlim_max = nr_open;
		if (!setrlimit(RLIMIT_NOFILE, &rl))
			return;
	}
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int vduse_fs_create(int ctrl, const char *name, const char *tag,
		    unsigned int nrq)
{
	struct vduse_test_config c;

	vduse_test_fs_config(&c, name, tag, nrq);
	c.cfg.features |= 1ULL << VIRTIO_RING_F_INDIRECT_DESC;
	return vduse_create(ctrl, &c);
}

int vduse_fs_server_start(struct vduse_fs_server *s, int fd, const char *dir,
			  unsigned int nrq)
{
	struct vduse_vq_config vq = { .max_size = 256 };
	unsigned int i;
	int ret;

	if (!nrq || nrq > VDUSE_FS_MAX_RQ)
		return -EINVAL;
	s->fd = fd;
	s->nrq = nrq;
	s->stop = 0;
	s->quiesce = 0;
	for (vq.index = 0; vq.index <= nrq; vq.index++)
		if (ioctl(fd, VDUSE_VQ_SETUP, &vq))
			return -errno;
	fs_raise_nofile();
	ret = fs_tables_init(s, dir);
	if (ret)
		return ret;
	/* Modes come masked by the client. */
	umask(0);
	for (i = 0; i <= nrq; i++) {
		struct vduse_fs_queue *q = &s->q[i];

		q->s = s;
		q->index = i;
		q->active = 0;
		q->iova.fd = fd;
		q->iova.nr = 0;
		q->iova.umem = NULL;
		q->in = malloc(FS_BUF_SIZE);
		q->out = malloc(FS_BUF_SIZE);
		if (!q->in || !q->out) {
			ret = -ENOMEM;
			goto err;
		}
		ret = -pthread_create(&q->thread, NULL, fs_queue_main, q);
		if (ret)
			goto err;
		q->started = 1;
	}
	s->ctl.reset_arg = s;
	s->ctl.on_reset = fs_on_reset;
	ret = vduse_ctl_daemon_start(&s->ctl, fd);
	if (ret)
		goto err;
	s->ctl_started = 1;
	return 0;
err:
	vduse_fs_server_stop(s);
	return ret;
}

void vduse_fs_server_stop(struct vduse_fs_server *s)
{
	unsigned int i;

	if (s->ctl_started) {
		vduse_ctl_daemon_stop(&s->ctl);
		s->ctl_started = 0;
	}
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i <= s->nrq; i++) {
		struct vduse_fs_queue *q = &s->q[i];

		if (q->started)
			pthread_join(q->thread, NULL);
		q->started = 0;
		free(q->in);
		free(q->out);
		q->in = NULL;
		q->out = NULL;
	}
	fs_tables_free(s);
}

int vduse_fs_local_start(struct vduse_fs_server *s, const char *dir)
{
	s->nrq = 0;
	return fs_tables_init(s, dir);
}

void vduse_fs_local_stop(struct vduse_fs_server *s)
{
	fs_tables_free(s);
}

int vduse_fs_handle(struct vduse_fs_server *s, const void *req, size_t len,
		    void *reply, size_t room)
{
	const struct fuse_in_header *ih = req;
	struct fuse_out_header *oh = reply;
	struct fs_req r = { .s = s, .h = ih };
	int ret;

	if (len < sizeof(*ih) || ih->len != len || room < sizeof(*oh) ||
	    len - sizeof(*ih) < ih->total_extlen * 8)
		return -EINVAL;
	r.arg = (const uint8_t *)req + sizeof(*ih);
	r.arglen = len - sizeof(*ih) - ih->total_extlen * 8;
	r.out = (uint8_t *)reply + sizeof(*oh);
	r.outmax = room - sizeof(*oh);
	ret = fs_dispatch(&r);
	if (ret == FS_NO_REPLY)
		return 0;
	oh->unique = ih->unique;
	oh->error = ret < 0 ? ret : 0;
	oh->len = sizeof(*oh) + (ret < 0 ? 0 : ret);
	return oh->len;
}
