// SPDX-License-Identifier: GPL-2.0
/*
 * A daemon without root: a privileged helper creates the device, opens
 * its node and passes the descriptor over a UNIX socket to a process that
 * has dropped to another uid with no capabilities.  That process serves
 * the disk (messages, kick eventfd, VDUSE_IOTLB_GET_FD and mmap, daemon
 * memory within its RLIMIT_MEMLOCK) while the helper attaches it and
 * checks the data both ways; what it must not do fails with the errno
 * vduse.rst documents ("Running a daemon without root").
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/virtio_blk.h>

#include "../kselftest_harness.h"
#include "vduse_lib.h"

#define NAME		"vduse-unpriv-test"
#define SYSFS		VDUSE_SYSFS_CLASS "/" NAME
#define CAPACITY	8192		/* sectors: 4 MiB */
#define BOUNCE		(4 << 20)	/* the smallest bounce range */
#define NOBODY		65534
#define MEMLOCK		(BOUNCE + (1 << 20))

/* What the helper asks of the daemon; each answer is an int, 0 or errno. */
enum {
	CMD_UMEM_OVER_LIMIT = 1,	/* REG_UMEM with the limit lowered */
	CMD_UMEM_REG,			/* REG_UMEM within the limit */
	CMD_UMEM_DEREG,
	CMD_CHECK,			/* is the disk at 2 MiB all 0xa5? */
	CMD_SERVED,			/* requests served so far */
	CMD_QUIT,
};

static uint8_t pattern(uint64_t off)
{
	return (off >> 9) * 37 + (off & 511) * 3;
}

static int send_fd(int sock, int fd)
{
	char data = 'F';
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);

	memset(u.buf, 0, sizeof(u.buf));
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char data;
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cmsg;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	cmsg = CMSG_FIRSTHDR(&msg);
	if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	return fd;
}

/* The effective capability set, from /proc/self/status; -1 if unknown. */
static long long cap_eff(void)
{
	char line[256];
	long long caps = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return caps;
}

static void pause_server(struct vduse_blk_server *srv)
{
	unsigned int p;

	__atomic_store_n(&srv->paused, 1, __ATOMIC_RELEASE);
	p = __atomic_load_n(&srv->passes, __ATOMIC_ACQUIRE);
	while (__atomic_load_n(&srv->passes, __ATOMIC_ACQUIRE) - p < 2)
		usleep(1000);
}

static int umem(struct vduse_blk_server *srv, int fd, void *mem, int reg)
{
	struct vduse_iova_umem u = {
		.uaddr = (uintptr_t)mem, .iova = 0, .size = BOUNCE,
	};
	int ret;

	pause_server(srv);
	if (!reg)
		__atomic_store_n(&srv->iova.umem, NULL, __ATOMIC_RELEASE);
	ret = ioctl(fd, reg ? VDUSE_IOTLB_REG_UMEM : VDUSE_IOTLB_DEREG_UMEM,
		    &u) ? errno : 0;
	if (reg && !ret)
		__atomic_store_n(&srv->iova.umem, mem, __ATOMIC_RELEASE);
	__atomic_store_n(&srv->paused, 0, __ATOMIC_RELEASE);
	return ret;
}

/*
 * The unprivileged side: checks that it has no way in of its own, takes
 * the descriptor, serves, and answers the helper's commands.  Its exit
 * status is the number of the first step that went wrong, 0 if none.
 */
static int daemon_main(int sock)
{
	struct vduse_ctl_daemon ctl = { 0 };
	struct vduse_blk_server srv = { 0 };
	struct rlimit lim;
	uint8_t *mem;
	uint64_t i;
	int fd, cmd, ret;

	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return 1;
	if (cap_eff() != 0 || getuid() != NOBODY)
		return 2;
	/* No way in but the helper's descriptor. */
	if (open("/dev/vduse/control", O_RDWR) >= 0 || errno != EACCES)
		return 3;
	if (open("/dev/vduse/" NAME, O_RDWR) >= 0 || errno != EACCES)
		return 4;
	if (open(SYSFS "/msg_timeout", O_WRONLY) >= 0 || errno != EACCES)
		return 5;

	fd = recv_fd(sock);
	if (fd < 0)
		return 6;
	mem = mmap(NULL, BOUNCE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	srv.disk = malloc(CAPACITY * 512);
	if (mem == MAP_FAILED || !srv.disk)
		return 7;
	for (i = 0; i < CAPACITY * 512; i++)
		srv.disk[i] = pattern(i);
	srv.fd = fd;
	srv.ctl = &ctl;
	srv.capacity = CAPACITY;
	srv.bounce_size = BOUNCE;
	srv.iova.umem_size = BOUNCE;
	if (vduse_ctl_daemon_start(&ctl, fd) || vduse_blk_server_start(&srv))
		return 8;
	if (write(sock, &(int){ 0 }, sizeof(int)) != sizeof(int))
		return 9;

	while (read(sock, &cmd, sizeof(cmd)) == sizeof(cmd)) {
		switch (cmd) {
		case CMD_UMEM_OVER_LIMIT:
			getrlimit(RLIMIT_MEMLOCK, &lim);
			lim.rlim_cur = BOUNCE / 2;
			setrlimit(RLIMIT_MEMLOCK, &lim);
			ret = umem(&srv, fd, mem, 1);
			lim.rlim_cur = lim.rlim_max;
			if (setrlimit(RLIMIT_MEMLOCK, &lim))
				ret = -1;
			break;
		case CMD_UMEM_REG:
			ret = umem(&srv, fd, mem, 1);
			break;
		case CMD_UMEM_DEREG:
			ret = umem(&srv, fd, mem, 0);
			break;
		case CMD_CHECK:
			for (i = 0; i < 65536; i++)
				if (srv.disk[(2 << 20) + i] != 0xa5)
					break;
			ret = i != 65536;
			break;
		case CMD_SERVED:
			ret = __atomic_load_n(&srv.served, __ATOMIC_ACQUIRE);
			break;
		default:
			ret = 0;
			break;
		}
		if (write(sock, &ret, sizeof(ret)) != sizeof(ret))
			return 10;
		if (cmd == CMD_QUIT)
			break;
	}
	vduse_blk_server_stop(&srv);
	vduse_ctl_daemon_stop(&ctl);
	if (__atomic_load_n(&srv.error, __ATOMIC_ACQUIRE))
		return 11;
	close(fd);
	return 0;
}

static int ask(int sock, int cmd)
{
	int ret;

	if (write(sock, &cmd, sizeof(cmd)) != sizeof(cmd) ||
	    read(sock, &ret, sizeof(ret)) != sizeof(ret))
		return -1000;
	return ret;
}

/* Reads the disk at @off and compares it with pattern(); 0 if equal. */
static int read_check(int dev, off_t off, size_t len)
{
	uint8_t *buf;
	size_t i;
	int bad = 0;

	if (posix_memalign((void **)&buf, 4096, len))
		return -1;
	if (pread(dev, buf, len, off) != (ssize_t)len)
		bad = -1;
	for (i = 0; !bad && i < len; i++)
		bad = buf[i] != pattern(off + i);
	free(buf);
	return bad;
}

TEST(daemon_without_root_serves_a_passed_descriptor)
{
	struct vduse_test_config c;
	struct virtio_blk_config *blk;
	struct vduse_vq_config vq = { .index = 0, .max_size = 128 };
	struct rlimit lim = { MEMLOCK, MEMLOCK };
	int ctrl, fd, sv[2], dev, status, ready = -1;
	char path[64];
	uint8_t *buf;
	struct stat st;
	pid_t pid;

	ctrl = vduse_ctrl_open();
	ASSERT_LE(0, ctrl);
	vduse_test_blk_config(&c, NAME);
	blk = (void *)c.cfg.config;
	blk->capacity = CAPACITY;
	ASSERT_EQ(0, vduse_create_anew(ctrl, &c));
	/* The node stays root's: the descriptor is the only way in. */
	ASSERT_EQ(0, stat("/dev/vduse/" NAME, &st));
	EXPECT_EQ(0, st.st_uid);
	EXPECT_EQ(0600, st.st_mode & 0777);
	fd = vduse_dev_open(NAME);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, VDUSE_VQ_SETUP, &vq));
	ASSERT_EQ(0, vduse_sysfs_write(SYSFS "/msg_timeout", "20"));
	ASSERT_EQ(0, vduse_sysfs_write(SYSFS "/bounce_size", "4194304"));

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(sv[0]);
		close(fd);
		close(ctrl);
		if (setrlimit(RLIMIT_MEMLOCK, &lim))
			_exit(100);
		_exit(daemon_main(sv[1]));
	}
	close(sv[1]);
	ASSERT_EQ(0, send_fd(sv[0], fd));
	/* The helper keeps no copy: the daemon's is the only open file. */
	close(fd);
	EXPECT_EQ(sizeof(int), read(sv[0], &ready, sizeof(int)));
	EXPECT_EQ(0, ready);
	if (ready)
		goto out_wait;

	ASSERT_EQ(0, vduse_vdpa_add(NAME, 60));
	ASSERT_EQ(0, vduse_dev_path("/sys/bus/vdpa/devices/" NAME
				    "/virtio*/block/vd*", path, sizeof(path)));
	dev = open(path, O_RDWR | O_DIRECT);
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, posix_memalign((void **)&buf, 4096, 65536));

	/* Served through the bounce pages the daemon mapped with GET_FD. */
	EXPECT_EQ(0, read_check(dev, 1 << 20, 131072));
	memset(buf, 0xa5, 65536);
	EXPECT_EQ(65536, pwrite(dev, buf, 65536, 2 << 20));
	EXPECT_EQ(0, fsync(dev));
	EXPECT_EQ(0, ask(sv[0], CMD_CHECK));

	/* Daemon memory: refused past RLIMIT_MEMLOCK, served within it. */
	EXPECT_EQ(ENOMEM, ask(sv[0], CMD_UMEM_OVER_LIMIT));
	EXPECT_EQ(0, ask(sv[0], CMD_UMEM_REG));
	EXPECT_EQ(0, read_check(dev, 3 << 20, 131072));
	memset(buf, 0xa5, 65536);
	EXPECT_EQ(65536, pwrite(dev, buf, 65536, 2 << 20));
	EXPECT_EQ(0, fsync(dev));
	EXPECT_EQ(0, ask(sv[0], CMD_CHECK));
	EXPECT_EQ(0, ask(sv[0], CMD_UMEM_DEREG));
	EXPECT_EQ(0, read_check(dev, 1 << 20, 65536));
	EXPECT_LT(4, ask(sv[0], CMD_SERVED));
	close(dev);
	free(buf);

	EXPECT_EQ(0, vduse_vdpa_del(NAME, 30));
	EXPECT_EQ(0, ask(sv[0], CMD_QUIT));
out_wait:
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	/* A non-zero status is the daemon's first failed step. */
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(sv[0]);
	EXPECT_EQ(0, vduse_destroy(ctrl, NAME));
	close(ctrl);
}

TEST_HARNESS_MAIN
