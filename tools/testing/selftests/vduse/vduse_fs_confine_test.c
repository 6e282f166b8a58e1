// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-fs server of vduse_fs.c against a hostile client (a guest
 * through vhost-vdpa can send anything): requests handed to it directly,
 * no device.  Names that leave the shared directory, symlinks pointing
 * out of it, node IDs and file handles it never gave, unterminated
 * names, device nodes: each refused, and nothing outside the directory
 * read or changed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/fuse.h>

#include "../kselftest_harness.h"
#include "vduse_fs.h"

#define SECRET	"not for the guest\n"

FIXTURE(confine) {
	char top[64];
	char share[96];
	struct vduse_fs_server srv;
	uint64_t unique;
	uint8_t out[8192];
};

/*
 * One request: the header, ARG (ARGLEN bytes), then the strings S1 and
 * S2 (with their NULs) if given.  Returns the payload's length or the
 * negative errno the server answered; the payload is in self->out.
 */
static int fs_req(struct _test_data_confine *self, uint32_t op, uint64_t node,
		  const void *arg, size_t arglen, const char *s1,
		  const char *s2)
{
	uint8_t buf[4096] = { 0 };
	struct fuse_in_header *ih = (void *)buf;
	struct fuse_out_header *oh;
	size_t len = sizeof(*ih);
	uint8_t reply[sizeof(self->out) + sizeof(*oh)];
	int n;

	memcpy(buf + len, arg, arglen);
	len += arglen;
	if (s1) {
		memcpy(buf + len, s1, strlen(s1) + 1);
		len += strlen(s1) + 1;
	}
	if (s2) {
		memcpy(buf + len, s2, strlen(s2) + 1);
		len += strlen(s2) + 1;
	}
	ih->len = len;
	ih->opcode = op;
	ih->unique = ++self->unique;
	ih->nodeid = node;
	n = vduse_fs_handle(&self->srv, buf, len, reply, sizeof(reply));
	if (n <= 0)
		return n;
	oh = (void *)reply;
	if (oh->unique != ih->unique || oh->len != (uint32_t)n)
		return -EPROTO;
	if (oh->error)
		return oh->error;
	memcpy(self->out, reply + sizeof(*oh), n - sizeof(*oh));
	return n - sizeof(*oh);
}

static int lookup(struct _test_data_confine *self, uint64_t dir,
		  const char *name, struct fuse_entry_out *e)
{
	int n = fs_req(self, FUSE_LOOKUP, dir, NULL, 0, name, NULL);

	if (n >= (int)sizeof(*e))
		memcpy(e, self->out, sizeof(*e));
	return n < 0 ? n : 0;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int ret;

	if (fd < 0)
		return -1;
	ret = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
	close(fd);
	return ret;
}

static int secret_intact(struct _test_data_confine *self)
{
	char path[128], buf[64] = { 0 };
	int fd, n;

	snprintf(path, sizeof(path), "%s/secret", self->top);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n == (int)strlen(SECRET) && !strcmp(buf, SECRET);
}

FIXTURE_SETUP(confine)
{
	struct fuse_init_in init = {
		.major = FUSE_KERNEL_VERSION,
		.minor = FUSE_KERNEL_MINOR_VERSION,
	};
	char path[160];

	snprintf(self->top, sizeof(self->top), "/tmp/vduse-fs-confine-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->top));
	snprintf(self->share, sizeof(self->share), "%s/share", self->top);
	ASSERT_EQ(0, mkdir(self->share, 0755));
	snprintf(path, sizeof(path), "%s/secret", self->top);
	ASSERT_EQ(0, write_file(path, SECRET));
	snprintf(path, sizeof(path), "%s/file", self->share);
	ASSERT_EQ(0, write_file(path, "inside\n"));
	snprintf(path, sizeof(path), "%s/sub", self->share);
	ASSERT_EQ(0, mkdir(path, 0755));
	snprintf(path, sizeof(path), "%s/out", self->share);
	ASSERT_EQ(0, symlink("../secret", path));
	snprintf(path, sizeof(path), "%s/etc", self->share);
	ASSERT_EQ(0, symlink("/etc", path));

	memset(&self->srv, 0, sizeof(self->srv));
	ASSERT_EQ(0, vduse_fs_local_start(&self->srv, self->share));
	ASSERT_LT(0, fs_req(self, FUSE_INIT, 0, &init, sizeof(init), NULL,
			    NULL));
}

FIXTURE_TEARDOWN(confine)
{
	char cmd[96];

	vduse_fs_local_stop(&self->srv);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->top);
	if (system(cmd))
		TH_LOG("cannot remove %s", self->top);
}

TEST_F(confine, dot_and_dotdot_refused)
{
	static const char * const bad[] = {
		"..", ".", "../secret", "sub/../../secret", "/etc", "",
	};
	struct fuse_entry_out e = { 0 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_GT(0, lookup(self, FUSE_ROOT_ID, bad[i], &e));
	EXPECT_LE(ARRAY_SIZE(bad), self->srv.escapes);
	/* Below a subdirectory too. */
	ASSERT_EQ(0, lookup(self, FUSE_ROOT_ID, "sub", &e));
	EXPECT_GT(0, lookup(self, e.nodeid, "..", &e));
}

TEST_F(confine, unterminated_name_refused)
{
	struct fuse_entry_out e = { 0 };

	EXPECT_GT(0, fs_req(self, FUSE_LOOKUP, FUSE_ROOT_ID, "file", 4, NULL,
			    NULL));
	/* The same name, terminated, is found. */
	EXPECT_EQ(0, lookup(self, FUSE_ROOT_ID, "file", &e));
	EXPECT_TRUE(S_ISREG(e.attr.mode));
}

TEST_F(confine, symlinks_never_followed)
{
	struct fuse_open_in oi = { .flags = O_RDWR | O_TRUNC };
	struct fuse_setattr_in sa = { .valid = FATTR_SIZE | FATTR_MODE,
				      .mode = 0777 };
	struct fuse_entry_out out = { 0 }, etc = { 0 }, e = { 0 };

	ASSERT_EQ(0, lookup(self, FUSE_ROOT_ID, "out", &out));
	EXPECT_TRUE(S_ISLNK(out.attr.mode));
	EXPECT_EQ(-ELOOP, fs_req(self, FUSE_OPEN, out.nodeid, &oi, sizeof(oi),
				 NULL, NULL));
	EXPECT_GT(0, fs_req(self, FUSE_SETATTR, out.nodeid, &sa, sizeof(sa),
			    NULL, NULL));
	EXPECT_EQ((int)strlen("../secret"),
		  fs_req(self, FUSE_READLINK, out.nodeid, NULL, 0, NULL, NULL));
	EXPECT_EQ(0, memcmp(self->out, "../secret", 9));

	ASSERT_EQ(0, lookup(self, FUSE_ROOT_ID, "etc", &etc));
	EXPECT_TRUE(S_ISLNK(etc.attr.mode));
	EXPECT_EQ(-ENOTDIR, lookup(self, etc.nodeid, "passwd", &e));
	EXPECT_EQ(-ENOTDIR, fs_req(self, FUSE_OPENDIR, etc.nodeid, &oi,
				   sizeof(oi), NULL, NULL));
	EXPECT_GT(0, fs_req(self, FUSE_MKDIR, etc.nodeid,
			    &(struct fuse_mkdir_in){ .mode = 0755 },
			    sizeof(struct fuse_mkdir_in), "made", NULL));
	EXPECT_TRUE(secret_intact(self));
}

TEST_F(confine, foreign_ids_and_handles_refused)
{
	static const uint64_t ids[] = { 0, 2, 63, 64, 12345, ~0ULL };
	struct fuse_read_in ri = { .size = 16 };
	struct fuse_release_in rel = { 0 };
	struct fuse_open_in oi = { .flags = O_RDONLY };
	struct fuse_getattr_in ga = { 0 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ids); i++)
		EXPECT_EQ(-ENOENT, fs_req(self, FUSE_GETATTR, ids[i], &ga,
					  sizeof(ga), NULL, NULL))
			TH_LOG("node %llu", (unsigned long long)ids[i]);
	for (i = 0; i < ARRAY_SIZE(ids); i++) {
		ri.fh = ids[i];
		EXPECT_EQ(-EBADF, fs_req(self, FUSE_READ, FUSE_ROOT_ID, &ri,
					 sizeof(ri), NULL, NULL));
		rel.fh = ids[i];
		EXPECT_EQ(-EBADF, fs_req(self, FUSE_RELEASE, FUSE_ROOT_ID,
					 &rel, sizeof(rel), NULL, NULL));
	}
	/* A directory's handle is not a file's. */
	ASSERT_EQ((int)sizeof(struct fuse_open_out),
		  fs_req(self, FUSE_OPENDIR, FUSE_ROOT_ID, &oi, sizeof(oi),
			 NULL, NULL));
	ri.fh = ((struct fuse_open_out *)self->out)->fh;
	EXPECT_EQ(-EBADF, fs_req(self, FUSE_READ, FUSE_ROOT_ID, &ri,
				 sizeof(ri), NULL, NULL));
	rel.fh = ri.fh;
	EXPECT_EQ(0, fs_req(self, FUSE_RELEASEDIR, FUSE_ROOT_ID, &rel,
			    sizeof(rel), NULL, NULL));
	EXPECT_EQ(-EBADF, fs_req(self, FUSE_RELEASEDIR, FUSE_ROOT_ID, &rel,
				 sizeof(rel), NULL, NULL));
}

TEST_F(confine, made_names_stay_inside)
{
	struct fuse_create_in ci = { .flags = O_RDWR, .mode = 0644 };
	struct fuse_mknod_in mi = { .mode = S_IFCHR | 0600,
				    .rdev = makedev(1, 3) };
	struct fuse_rename_in ri = { .newdir = FUSE_ROOT_ID };
	struct fuse_link_in li = { 0 };
	struct fuse_entry_out e = { 0 };
	char path[160];

	EXPECT_GT(0, fs_req(self, FUSE_CREATE, FUSE_ROOT_ID, &ci, sizeof(ci),
			    "../created", NULL));
	EXPECT_GT(0, fs_req(self, FUSE_MKDIR, FUSE_ROOT_ID,
			    &(struct fuse_mkdir_in){ .mode = 0755 },
			    sizeof(struct fuse_mkdir_in), "..", NULL));
	EXPECT_GT(0, fs_req(self, FUSE_RENAME, FUSE_ROOT_ID, &ri, sizeof(ri),
			    "file", "../renamed"));
	EXPECT_GT(0, fs_req(self, FUSE_SYMLINK, FUSE_ROOT_ID, NULL, 0,
			    "../linked", "/etc/passwd"));
	ASSERT_EQ(0, lookup(self, FUSE_ROOT_ID, "file", &e));
	li.oldnodeid = e.nodeid;
	EXPECT_GT(0, fs_req(self, FUSE_LINK, FUSE_ROOT_ID, &li, sizeof(li),
			    "../hardlinked", NULL));
	EXPECT_GT(0, fs_req(self, FUSE_UNLINK, FUSE_ROOT_ID, NULL, 0,
			    "../secret", NULL));
	/* No device nodes: they would open the host's devices. */
	EXPECT_EQ(-EPERM, fs_req(self, FUSE_MKNOD, FUSE_ROOT_ID, &mi,
				 sizeof(mi), "null", NULL));
	mi.mode = S_IFBLK | 0600;
	EXPECT_EQ(-EPERM, fs_req(self, FUSE_MKNOD, FUSE_ROOT_ID, &mi,
				 sizeof(mi), "blk", NULL));

	EXPECT_TRUE(secret_intact(self));
	snprintf(path, sizeof(path), "%s/created", self->top);
	EXPECT_NE(0, access(path, F_OK));
	snprintf(path, sizeof(path), "%s/renamed", self->top);
	EXPECT_NE(0, access(path, F_OK));
	snprintf(path, sizeof(path), "%s/linked", self->top);
	EXPECT_NE(0, access(path, F_OK));
	snprintf(path, sizeof(path), "%s/hardlinked", self->top);
	EXPECT_NE(0, access(path, F_OK));
	snprintf(path, sizeof(path), "%s/null", self->share);
	EXPECT_NE(0, access(path, F_OK));
}

TEST_F(confine, unsupported_is_enosys)
{
	static const uint32_t ops[] = { FUSE_GETXATTR, FUSE_SETXATTR,
		FUSE_LISTXATTR, FUSE_GETLK, FUSE_SETLK, FUSE_BMAP, 9999 };
	uint8_t zero[64] = { 0 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ops); i++)
		EXPECT_EQ(-ENOSYS, fs_req(self, ops[i], FUSE_ROOT_ID, zero,
					  sizeof(zero), NULL, NULL))
			TH_LOG("opcode %u", ops[i]);
}

TEST_F(confine, forgotten_nodes_are_gone)
{
	struct fuse_forget_in fi = { .nlookup = 2 };
	struct fuse_getattr_in ga = { 0 };
	struct fuse_entry_out e = { 0 }, e2 = { 0 };

	ASSERT_EQ(0, lookup(self, FUSE_ROOT_ID, "file", &e));
	ASSERT_EQ(0, lookup(self, FUSE_ROOT_ID, "file", &e2));
	EXPECT_EQ(e.nodeid, e2.nodeid);
	EXPECT_LT(0, fs_req(self, FUSE_GETATTR, e.nodeid, &ga, sizeof(ga),
			    NULL, NULL));
	/* No reply to a FORGET. */
	EXPECT_EQ(0, fs_req(self, FUSE_FORGET, e.nodeid, &fi, sizeof(fi),
			    NULL, NULL));
	EXPECT_EQ(-ENOENT, fs_req(self, FUSE_GETATTR, e.nodeid, &ga,
				  sizeof(ga), NULL, NULL));
	/* The root is never forgotten. */
	EXPECT_EQ(0, fs_req(self, FUSE_FORGET, FUSE_ROOT_ID, &fi, sizeof(fi),
			    NULL, NULL));
	EXPECT_LT(0, fs_req(self, FUSE_GETATTR, FUSE_ROOT_ID, &ga, sizeof(ga),
			    NULL, NULL));
}

TEST_F(confine, write_and_read_inside)
{
	struct fuse_create_in ci = { .flags = O_RDWR, .mode = 0644 };
	struct {
		struct fuse_write_in w;
		char data[5];
	} wr = { .w = { .size = 5 }, .data = "hello" };
	struct fuse_read_in ri = { .size = 64 };
	struct fuse_open_out *oo;
	char path[160], buf[16] = { 0 };
	int fd;

	ASSERT_EQ((int)(sizeof(struct fuse_entry_out) + sizeof(*oo)),
		  fs_req(self, FUSE_CREATE, FUSE_ROOT_ID, &ci, sizeof(ci),
			 "new", NULL));
	oo = (void *)(self->out + sizeof(struct fuse_entry_out));
	wr.w.fh = oo->fh;
	ri.fh = oo->fh;
	EXPECT_EQ((int)sizeof(struct fuse_write_out),
		  fs_req(self, FUSE_WRITE, FUSE_ROOT_ID, &wr, sizeof(wr), NULL,
			 NULL));
	/* A write longer than what was sent is refused. */
	wr.w.size = 4000;
	EXPECT_EQ(-EINVAL, fs_req(self, FUSE_WRITE, FUSE_ROOT_ID, &wr,
				  sizeof(wr), NULL, NULL));
	EXPECT_EQ(5, fs_req(self, FUSE_READ, FUSE_ROOT_ID, &ri, sizeof(ri),
			    NULL, NULL));
	EXPECT_EQ(0, memcmp(self->out, "hello", 5));
	snprintf(path, sizeof(path), "%s/new", self->share);
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(5, read(fd, buf, sizeof(buf)));
	close(fd);
	EXPECT_STREQ("hello", buf);
}

TEST_HARNESS_MAIN
