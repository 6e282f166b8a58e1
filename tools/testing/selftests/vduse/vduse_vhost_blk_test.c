// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-vdpa: this test is both the VMM and the daemon.  As the VMM it
 * drives /dev/vhost-vdpa-N with guest memory in a memfd; as the daemon it
 * serves virtio-blk requests from that memory, which it reaches through
 * VDUSE_IOTLB_GET_FD (the VMM's memfd, not a bounce buffer).
 *
 * Each test runs for a daemon that asked for no VDUSE feature, which must
 * see exactly what it always saw, and for one that asked for queue-ready
 * relay, suspend and resume (what live migration needs).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/vhost.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "../kselftest_harness.h"
#include "vduse_lib.h"

#define NAME		"vduse-vhost-test"
#define CAPACITY	8192
#define MEM_SIZE	(4 << 20)
#define IOVA_BASE	0x10000000ULL
#define QSIZE		32
#define BATCH		8

/* Guest memory layout (offsets in the memfd). */
#define DESC_OFF	0
#define AVAIL_OFF	4096
#define USED_OFF	8192
#define HDR_OFF		16384
#define DATA_OFF	20480
#define STATUS_OFF	24576
/* A batch of requests in flight at once: slot i's own header, data, status. */
#define BHDR_OFF	28672
#define BSTATUS_OFF	32768
#define BDATA_OFF	65536

/* Newer than the build machine's linux-libc-dev (Linux 6.1). */
#ifndef VHOST_VDPA_RESUME
#define VHOST_VDPA_RESUME	_IO(VHOST_VIRTIO, 0x7E)
#define VHOST_BACKEND_F_RESUME	0x5
#endif
#ifndef VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK
#define VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK	0x6
#endif

#define ALL_FEATURES	(BIT_ULL(VDUSE_F_QUEUE_READY) | \
			 BIT_ULL(VDUSE_F_SUSPEND) | BIT_ULL(VDUSE_F_RESUME))

FIXTURE(vhost) {
	int ctrl;
	int fd;
	int vhost;
	int kick, call;
	uint8_t *mem;
	struct vduse_test_config c;
	struct vduse_ctl_daemon ctl;
	struct vduse_blk_server srv;
	int serving;
	uint16_t avail_idx;
	uint16_t used_base;	/* the used index when a batch was queued */
	uint64_t backend;	/* what vhost-vdpa offered */
};

FIXTURE_VARIANT(vhost) {
	uint64_t features;
};

FIXTURE_VARIANT_ADD(vhost, no_features) {
	.features = 0,
};

FIXTURE_VARIANT_ADD(vhost, suspend_resume) {
	.features = ALL_FEATURES,
};

FIXTURE_SETUP(vhost)
{
	struct vduse_vq_config vq = { .index = 0, .max_size = 128 };
	struct {
		struct vduse_config_data d;
		uint64_t capacity;
	} grow = { .d = { .offset = 0, .length = 8 }, .capacity = CAPACITY };
	int i;

	self->serving = 0;
	self->vhost = -1;
	self->kick = -1;
	self->call = -1;
	self->ctrl = vduse_ctrl_open();
	ASSERT_LE(0, self->ctrl);
	ASSERT_EQ(0, ioctl(self->ctrl, VDUSE_SET_FEATURES, &variant->features));
	/* Capacity 0 at first: virtio-blk binds without I/O. */
	vduse_test_blk_config(&self->c, NAME);
	((struct virtio_blk_config *)self->c.cfg.config)->capacity = 0;
	ASSERT_EQ(0, vduse_create(self->ctrl, &self->c));
	self->fd = vduse_dev_open(NAME);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioctl(self->fd, VDUSE_VQ_SETUP, &vq));
	ASSERT_EQ(0, vduse_sysfs_write(VDUSE_SYSFS_CLASS "/" NAME "/msg_timeout",
				       "20"));
	memset(&self->ctl, 0, sizeof(self->ctl));
	ASSERT_EQ(0, vduse_ctl_daemon_start(&self->ctl, self->fd));

	ASSERT_EQ(0, vduse_vdpa_add(NAME, 60));
	/* Hand the device from virtio-vdpa to vhost-vdpa. */
	self->vhost = vduse_vdpa_to_vhost(NAME);
	ASSERT_LE(0, self->vhost);

	/* The daemon grows the disk: a VMM reads it from the config space. */
	ASSERT_EQ(0, ioctl(self->fd, VDUSE_DEV_SET_CONFIG, &grow));

	memset(&self->srv, 0, sizeof(self->srv));
	self->srv.fd = self->fd;
	self->srv.ctl = &self->ctl;
	self->srv.capacity = CAPACITY;
	self->srv.bounce_size = 0;	/* no bounce buffers here */
	self->srv.disk = malloc(CAPACITY * 512);
	ASSERT_NE(NULL, self->srv.disk);
	for (i = 0; i < CAPACITY * 512; i++)
		self->srv.disk[i] = (i >> 9) ^ (i * 3);

	i = memfd_create("guest-memory", MFD_CLOEXEC);
	ASSERT_LE(0, i);
	ASSERT_EQ(0, ftruncate(i, MEM_SIZE));
	self->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 i, 0);
	close(i);
	ASSERT_NE(MAP_FAILED, self->mem);
}

FIXTURE_TEARDOWN(vhost)
{
	if (self->vhost >= 0)
		close(self->vhost);
	if (self->serving)
		vduse_blk_server_stop(&self->srv);
	vduse_vdpa_del(NAME, 30);
	vduse_ctl_daemon_stop(&self->ctl);
	close(self->fd);
	EXPECT_EQ(0, vduse_destroy(self->ctrl, NAME));
	close(self->ctrl);
	if (self->kick >= 0)
		close(self->kick);
	if (self->call >= 0)
		close(self->call);
	munmap(self->mem, MEM_SIZE);
	free(self->srv.disk);
}

static int set_status(int vhost, uint8_t status)
{
	return ioctl(vhost, VHOST_VDPA_SET_STATUS, &status) ? -errno : 0;
}

static int iotlb_msg(int vhost, uint8_t type, uint64_t iova, uint64_t size,
		     void *uaddr)
{
	struct vhost_msg_v2 msg = {
		.type = VHOST_IOTLB_MSG_V2,
		.iotlb = {
			.iova = iova,
			.size = size,
			.uaddr = (uintptr_t)uaddr,
			.perm = VHOST_ACCESS_RW,
			.type = type,
		},
	};

	return write(vhost, &msg, sizeof(msg)) == sizeof(msg) ? 0 : -errno;
}

/*
 * What a VMM does to (re)start the device, the queue starting at avail
 * index @start (what GET_VRING_BASE said, on a migration's destination).
 */
static int vmm_drive(struct _test_data_vhost *self, uint16_t start)
{
	struct vhost_vring_state num = { .index = 0, .num = QSIZE };
	struct vhost_vring_state base = { .index = 0, .num = start };
	struct vhost_vring_state enable = { .index = 0, .num = 1 };
	struct vhost_vring_addr addr = {
		.index = 0,
		.desc_user_addr = IOVA_BASE + DESC_OFF,
		.avail_user_addr = IOVA_BASE + AVAIL_OFF,
		.used_user_addr = IOVA_BASE + USED_OFF,
	};
	struct vhost_vring_file kick = { .index = 0 }, call = { .index = 0 };
	uint64_t features;

	if (set_status(self->vhost, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				    VIRTIO_CONFIG_S_DRIVER))
		return -EIO;
	if (ioctl(self->vhost, VHOST_GET_FEATURES, &features))
		return -errno;
	features &= (1ULL << VIRTIO_F_VERSION_1) |
		    (1ULL << VIRTIO_F_ACCESS_PLATFORM);
	if (ioctl(self->vhost, VHOST_SET_FEATURES, &features))
		return -errno;
	if (set_status(self->vhost, VIRTIO_CONFIG_S_ACKNOWLEDGE |
		       VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK))
		return -EIO;

	if (self->kick < 0)
		self->kick = eventfd(0, EFD_CLOEXEC);
	if (self->call < 0)
		self->call = eventfd(0, EFD_CLOEXEC);
	kick.fd = self->kick;
	call.fd = self->call;
	if (ioctl(self->vhost, VHOST_SET_VRING_NUM, &num) ||
	    ioctl(self->vhost, VHOST_SET_VRING_ADDR, &addr) ||
	    ioctl(self->vhost, VHOST_SET_VRING_BASE, &base) ||
	    ioctl(self->vhost, VHOST_SET_VRING_KICK, &kick) ||
	    ioctl(self->vhost, VHOST_SET_VRING_CALL, &call) ||
	    ioctl(self->vhost, VHOST_VDPA_SET_VRING_ENABLE, &enable))
		return -errno;

	/* The daemon starts serving on the next DRIVER_OK. */
	__atomic_store_n(&self->ctl.statuses, 0, __ATOMIC_RELEASE);
	if (vduse_blk_server_start(&self->srv))
		return -EIO;
	self->serving = 1;
	return set_status(self->vhost, VIRTIO_CONFIG_S_ACKNOWLEDGE |
			  VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
			  VIRTIO_CONFIG_S_DRIVER_OK);
}

/* Everything a VMM does before the guest's first request. */
static int vmm_start(struct _test_data_vhost *self)
{
	uint64_t ours = (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2) |
			(1ULL << VHOST_BACKEND_F_SUSPEND) |
			(1ULL << VHOST_BACKEND_F_RESUME) |
			(1ULL << VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK);
	uint64_t backend;

	if (ioctl(self->vhost, VHOST_SET_OWNER))
		return -errno;
	if (ioctl(self->vhost, VHOST_GET_BACKEND_FEATURES, &self->backend))
		return -errno;
	backend = self->backend & ours;
	if (ioctl(self->vhost, VHOST_SET_BACKEND_FEATURES, &backend))
		return -errno;
	if (iotlb_msg(self->vhost, VHOST_IOTLB_UPDATE, IOVA_BASE, MEM_SIZE,
		      self->mem))
		return -errno;
	return vmm_drive(self, 0);
}

/* A range of guest memory the VMM maps read-only. */
static int iotlb_map_ro(int vhost, uint64_t iova, uint64_t size, void *uaddr)
{
	struct vhost_msg_v2 msg = {
		.type = VHOST_IOTLB_MSG_V2,
		.iotlb = {
			.iova = iova,
			.size = size,
			.uaddr = (uintptr_t)uaddr,
			.perm = VHOST_ACCESS_RO,
			.type = VHOST_IOTLB_UPDATE,
		},
	};

	return write(vhost, &msg, sizeof(msg)) == sizeof(msg) ? 0 : -errno;
}

/* GET_INFO as a daemon taking over asks it; the flags, or -1. */
static int vq_query(int fd, uint32_t index, uint32_t *asid)
{
	struct vduse_vq_info info = {
		.index = index,
		.flags = VDUSE_VQ_INFO_F_QUERY,
		.asid = 0xdead,
	};

	*asid = UINT32_MAX;
	if (ioctl(fd, VDUSE_VQ_GET_INFO, &info))
		return -1;
	*asid = info.asid;
	return info.flags;
}

/* One request, as a guest driver would queue it; the status byte or -1. */
static int vmm_request(struct _test_data_vhost *self, uint32_t type,
		       uint64_t sector, uint32_t len)
{
	struct vring_desc *desc = (void *)(self->mem + DESC_OFF);
	struct vring_avail *avail = (void *)(self->mem + AVAIL_OFF);
	struct vring_used *used = (void *)(self->mem + USED_OFF);
	struct virtio_blk_outhdr *hdr = (void *)(self->mem + HDR_OFF);
	struct pollfd pfd = { .fd = self->call, .events = POLLIN };
	uint16_t used_before = __atomic_load_n(&used->idx, __ATOMIC_ACQUIRE);
	uint64_t one = 1, cnt;
	int i;

	/* Interrupts of earlier requests are not this one's. */
	while (poll(&pfd, 1, 0) == 1 && read(self->call, &cnt, 8) == 8)
		;
	hdr->type = type;
	hdr->ioprio = 0;
	hdr->sector = sector;
	self->mem[STATUS_OFF] = 0xff;
	desc[0] = (struct vring_desc){ IOVA_BASE + HDR_OFF, sizeof(*hdr),
				       VRING_DESC_F_NEXT, 1 };
	desc[1] = (struct vring_desc){ IOVA_BASE + DATA_OFF, len,
				       VRING_DESC_F_NEXT |
				       (type == VIRTIO_BLK_T_IN ?
					VRING_DESC_F_WRITE : 0), 2 };
	desc[2] = (struct vring_desc){ IOVA_BASE + STATUS_OFF, 1,
				       VRING_DESC_F_WRITE, 0 };
	avail->ring[self->avail_idx % QSIZE] = 0;
	self->avail_idx++;
	__atomic_store_n(&avail->idx, self->avail_idx, __ATOMIC_RELEASE);
	if (write(self->kick, &one, sizeof(one)) != sizeof(one))
		return -1;
	/* The daemon's VDUSE_VQ_INJECT_IRQ reaches the VMM's call eventfd. */
	if (poll(&pfd, 1, 10000) != 1 || read(self->call, &cnt, 8) != 8)
		return -1;
	for (i = 0; i < 1000; i++) {
		if (__atomic_load_n(&used->idx, __ATOMIC_ACQUIRE) ==
		    (uint16_t)(used_before + 1))
			break;
		usleep(1000);
	}
	if (i == 1000)
		return -1;
	return self->mem[STATUS_OFF];
}

TEST_F(vhost, guest_memory_through_the_vmm_file)
{
	struct vduse_iotlb_entry e = { .start = IOVA_BASE + DATA_OFF,
				       .last = IOVA_BASE + DATA_OFF };
	uint64_t i;
	int fd;

	ASSERT_EQ(0, vmm_start(self));

	/* The daemon maps the VMM's memory itself, not a bounce buffer. */
	fd = ioctl(self->fd, VDUSE_IOTLB_GET_FD, &e);
	ASSERT_LE(0, fd);
	EXPECT_EQ(IOVA_BASE, e.start);
	EXPECT_EQ(IOVA_BASE + MEM_SIZE - 1, e.last);
	EXPECT_EQ(0ULL, e.offset);
	EXPECT_EQ(VDUSE_ACCESS_RW, e.perm);
	close(fd);

	/* Device -> guest. */
	ASSERT_EQ(VIRTIO_BLK_S_OK, vmm_request(self, VIRTIO_BLK_T_IN, 8, 4096));
	for (i = 0; i < 4096; i++)
		if (self->mem[DATA_OFF + i] != self->srv.disk[8 * 512 + i])
			break;
	EXPECT_EQ(4096U, i);

	/* Guest -> device. */
	memset(self->mem + DATA_OFF, 0xa5, 4096);
	ASSERT_EQ(VIRTIO_BLK_S_OK, vmm_request(self, VIRTIO_BLK_T_OUT, 16, 4096));
	EXPECT_EQ(0xa5, self->srv.disk[16 * 512]);
	EXPECT_EQ(0xa5, self->srv.disk[16 * 512 + 4095]);
	EXPECT_EQ(0, __atomic_load_n(&self->srv.error, __ATOMIC_RELAXED));

	/* Nothing is mapped outside what the VMM mapped. */
	e.start = IOVA_BASE + MEM_SIZE;
	e.last = e.start;
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_IOTLB_GET_FD, &e));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(vhost, unmap_is_announced_and_gone)
{
	struct vduse_iotlb_entry e = { .start = IOVA_BASE, .last = IOVA_BASE };
	unsigned int before;

	ASSERT_EQ(0, vmm_start(self));
	before = __atomic_load_n(&self->ctl.seen[VDUSE_UPDATE_IOTLB],
				 __ATOMIC_RELAXED);
	ASSERT_EQ(0, iotlb_msg(self->vhost, VHOST_IOTLB_INVALIDATE, IOVA_BASE,
			       MEM_SIZE, NULL));
	EXPECT_LT(before, __atomic_load_n(&self->ctl.seen[VDUSE_UPDATE_IOTLB],
					  __ATOMIC_RELAXED));
	EXPECT_EQ(IOVA_BASE, self->ctl.last_iova.start);
	EXPECT_EQ(IOVA_BASE + MEM_SIZE - 1, self->ctl.last_iova.last);
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_IOTLB_GET_FD, &e));
	EXPECT_EQ(EINVAL, errno);
}

/*
 * Under vhost-vdpa address space 0 is the VMM's alone: an IOVA it did not
 * map is not mapped, even where virtio-vdpa's bounce range would be, so
 * a daemon never caches bounce pages for guest memory mapped there later.
 */
TEST_F(vhost, unmapped_low_iova_is_not_the_bounce_range)
{
	struct vduse_iotlb_entry e = { .start = 0x1000, .last = 0x1000 };
	struct stat vmm, got;
	int fd;

	ASSERT_EQ(0, vmm_start(self));
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_IOTLB_GET_FD, &e));
	EXPECT_EQ(EINVAL, errno);
	e.start = 0;
	e.last = e.start;
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_IOTLB_GET_FD, &e));
	EXPECT_EQ(EINVAL, errno);

	/* Mapped there later, it is the VMM's memory. */
	ASSERT_EQ(0, iotlb_msg(self->vhost, VHOST_IOTLB_UPDATE, 0, 65536,
			       self->mem + BDATA_OFF));
	e.start = 0x1000;
	e.last = e.start;
	fd = ioctl(self->fd, VDUSE_IOTLB_GET_FD, &e);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0ULL, e.start);
	EXPECT_EQ(65535ULL, e.last);
	EXPECT_EQ((uint64_t)BDATA_OFF, e.offset);
	ASSERT_EQ(0, fstat(fd, &got));
	close(fd);
	e.start = IOVA_BASE;
	e.last = e.start;
	fd = ioctl(self->fd, VDUSE_IOTLB_GET_FD, &e);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &vmm));
	close(fd);
	EXPECT_EQ(vmm.st_ino, got.st_ino);
	EXPECT_EQ(vmm.st_dev, got.st_dev);
	EXPECT_EQ(VIRTIO_BLK_S_OK, vmm_request(self, VIRTIO_BLK_T_IN, 8, 512));
}

/*
 * A range the VMM mapped read-only comes as a read-only file: no writable
 * shared mapping, no truncation.  Read-write ranges get the VMM's file.
 */
TEST_F(vhost, read_only_range_gets_a_read_only_file)
{
	struct vduse_iotlb_entry e = {
		.start = IOVA_BASE + MEM_SIZE + 4096,
		.last = IOVA_BASE + MEM_SIZE + 4096,
	};
	const uint64_t ro_off = MEM_SIZE - 65536;
	struct stat st;
	uint8_t *p;
	int fd;

	ASSERT_EQ(0, vmm_start(self));
	memset(self->mem + ro_off, 0x3c, 65536);
	ASSERT_EQ(0, iotlb_map_ro(self->vhost, IOVA_BASE + MEM_SIZE, 65536,
				  self->mem + ro_off));
	fd = ioctl(self->fd, VDUSE_IOTLB_GET_FD, &e);
	ASSERT_LE(0, fd);
	EXPECT_EQ(IOVA_BASE + MEM_SIZE, e.start);
	EXPECT_EQ(ro_off, e.offset);
	EXPECT_EQ(VDUSE_ACCESS_RO, e.perm);
	EXPECT_EQ(O_RDONLY, fcntl(fd, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 65536, PROT_READ | PROT_WRITE,
				   MAP_SHARED, fd, ro_off));
	EXPECT_EQ(EACCES, errno);
	/* Not even to the size it has: nothing changes should it succeed. */
	EXPECT_EQ(-1, ftruncate(fd, MEM_SIZE));
	/* What the daemon maps with the rights it was given works. */
	p = mmap(NULL, 65536, PROT_READ, MAP_SHARED, fd, ro_off);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0x3c, p[0]);
	EXPECT_EQ(0x3c, p[65535]);
	munmap(p, 65536);
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(MEM_SIZE, st.st_size);
	close(fd);

	/* A read-write range is the VMM's file, as in mainline. */
	e.start = IOVA_BASE;
	e.last = e.start;
	fd = ioctl(self->fd, VDUSE_IOTLB_GET_FD, &e);
	ASSERT_LE(0, fd);
	EXPECT_EQ(VDUSE_ACCESS_RW, e.perm);
	EXPECT_EQ(O_RDWR, fcntl(fd, F_GETFL) & O_ACCMODE);
	close(fd);
	EXPECT_EQ(VIRTIO_BLK_S_OK, vmm_request(self, VIRTIO_BLK_T_IN, 8, 512));
}

TEST_F(vhost, vring_base_and_config)
{
	struct vhost_vring_state base = { .index = 0 };
	struct {
		struct vhost_vdpa_config c;
		uint8_t buf[8];
	} cfg = { .c = { .off = 0, .len = 8 } };
	unsigned int before;

	ASSERT_EQ(0, vmm_start(self));
	/* GET_VRING_BASE asks the daemon (VDUSE_GET_VQ_STATE). */
	before = self->ctl.seen[VDUSE_GET_VQ_STATE];
	EXPECT_EQ(0, ioctl(self->vhost, VHOST_GET_VRING_BASE, &base));
	EXPECT_EQ(before + 1, self->ctl.seen[VDUSE_GET_VQ_STATE]);

	/* The config space is the daemon's, as it last set it. */
	ASSERT_EQ(0, ioctl(self->vhost, VHOST_VDPA_GET_CONFIG, &cfg));
	EXPECT_EQ((uint64_t)CAPACITY, *(uint64_t *)cfg.buf);
}

/*
 * The VMM's GET_CONFIG at and past config_size: vhost-vdpa checks the
 * range against our get_config_size, and what it lets through reads the
 * daemon's bytes, zero-filled where a field is not there.
 */
TEST_F(vhost, get_config_bounds)
{
	uint32_t size = self->c.cfg.config_size;
	const struct {
		uint32_t off, len;
	} bad[] = {
		{ size - 1, 2 }, { size + 1, 1 }, { 0xffffffff, 2 },
		{ 8, 0xfffffffc }, { 0, 0 },
	};
	struct {
		struct vhost_vdpa_config c;
		uint8_t buf[8192];
	} cfg;
	uint32_t i, sz = 0;

	ASSERT_EQ(0, ioctl(self->vhost, VHOST_VDPA_GET_CONFIG_SIZE, &sz));
	EXPECT_EQ(size, sz);

	cfg.c.off = 0;
	cfg.c.len = size;
	memset(cfg.buf, 0xee, sizeof(cfg.buf));
	ASSERT_EQ(0, ioctl(self->vhost, VHOST_VDPA_GET_CONFIG, &cfg));
	EXPECT_EQ((uint64_t)CAPACITY, *(uint64_t *)cfg.buf);
	for (i = 8; i < size; i++)
		if (cfg.buf[i] != self->c.cfg.config[i])
			break;
	EXPECT_EQ(size, i);

	/* The last byte, alone. */
	cfg.c.off = size - 1;
	cfg.c.len = 1;
	EXPECT_EQ(0, ioctl(self->vhost, VHOST_VDPA_GET_CONFIG, &cfg));
	EXPECT_EQ(self->c.cfg.config[size - 1], cfg.buf[0]);

	/*
	 * One byte too far, an offset past the end, overflow, and nothing:
	 * vhost-vdpa refuses each with EINVAL before asking us.
	 */
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		cfg.c.off = bad[i].off;
		cfg.c.len = bad[i].len;
		EXPECT_EQ(-1, ioctl(self->vhost, VHOST_VDPA_GET_CONFIG, &cfg))
			TH_LOG("off %u len %u", bad[i].off, bad[i].len);
		EXPECT_EQ(EINVAL, errno);
	}
}

/* Batch requests: slots below BATCH / 2 write, the others read. */
static uint64_t batch_sector(int i)
{
	return 64 + 16 * i;
}

static uint8_t batch_byte(int i, int j)
{
	return (uint8_t)(0x40 + 7 * i + j);
}

/* Queue BATCH requests at once, as a guest with I/O in flight would. */
static int vmm_queue_batch(struct _test_data_vhost *self)
{
	struct vring_desc *desc = (void *)(self->mem + DESC_OFF);
	struct vring_avail *avail = (void *)(self->mem + AVAIL_OFF);
	struct vring_used *used = (void *)(self->mem + USED_OFF);
	uint64_t one = 1;
	int i, j;

	self->used_base = __atomic_load_n(&used->idx, __ATOMIC_ACQUIRE);
	for (i = 0; i < BATCH; i++) {
		struct virtio_blk_outhdr *hdr =
			(void *)(self->mem + BHDR_OFF + 16 * i);
		uint8_t *data = self->mem + BDATA_OFF + 4096 * i;
		int in = i >= BATCH / 2;

		hdr->type = in ? VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT;
		hdr->ioprio = 0;
		hdr->sector = batch_sector(i);
		for (j = 0; j < 4096; j++)
			data[j] = in ? 0 : batch_byte(i, j);
		self->mem[BSTATUS_OFF + i] = 0xff;
		desc[3 * i] = (struct vring_desc){
			IOVA_BASE + BHDR_OFF + 16 * i, sizeof(*hdr),
			VRING_DESC_F_NEXT, 3 * i + 1 };
		desc[3 * i + 1] = (struct vring_desc){
			IOVA_BASE + BDATA_OFF + 4096 * i, 4096,
			VRING_DESC_F_NEXT | (in ? VRING_DESC_F_WRITE : 0),
			3 * i + 2 };
		desc[3 * i + 2] = (struct vring_desc){
			IOVA_BASE + BSTATUS_OFF + i, 1, VRING_DESC_F_WRITE, 0 };
		avail->ring[(self->avail_idx + i) % QSIZE] = 3 * i;
	}
	self->avail_idx += BATCH;
	__atomic_store_n(&avail->idx, self->avail_idx, __ATOMIC_RELEASE);
	return write(self->kick, &one, sizeof(one)) == sizeof(one) ? 0 : -1;
}

static uint16_t vmm_used(struct _test_data_vhost *self)
{
	struct vring_used *used = (void *)(self->mem + USED_OFF);

	return __atomic_load_n(&used->idx, __ATOMIC_ACQUIRE) - self->used_base;
}

/* Wait for the batch to be used; the number of requests used. */
static int vmm_wait_batch(struct _test_data_vhost *self, int timeout_ms)
{
	while (vmm_used(self) < BATCH && timeout_ms-- > 0)
		usleep(1000);
	return vmm_used(self);
}

/*
 * Every request of the batch was used exactly once, OK, with the right
 * data in both directions.  Returns the number of problems found.
 */
static int vmm_check_batch(struct _test_data_vhost *self)
{
	struct vring_used *used = (void *)(self->mem + USED_OFF);
	int seen[BATCH] = { 0 }, bad = 0, i, j;

	for (i = 0; i < BATCH; i++) {
		uint32_t id = used->ring[(uint16_t)(self->used_base + i) %
					 QSIZE].id;

		if (id % 3 || id / 3 >= BATCH || seen[id / 3]++)
			bad++;
	}
	for (i = 0; i < BATCH; i++) {
		const uint8_t *disk = self->srv.disk + batch_sector(i) * 512;
		const uint8_t *data = self->mem + BDATA_OFF + 4096 * i;

		if (self->mem[BSTATUS_OFF + i] != VIRTIO_BLK_S_OK)
			bad++;
		for (j = 0; j < 4096; j++) {
			uint8_t want = i < BATCH / 2 ? batch_byte(i, j) :
				       (uint8_t)(((batch_sector(i) * 512 + j) >> 9) ^
						 ((batch_sector(i) * 512 + j) * 3));

			if (disk[j] != want || (i >= BATCH / 2 && data[j] != want)) {
				bad++;
				break;
			}
		}
	}
	return bad;
}

/*
 * Suspend with requests in flight: the daemon stops between two of them
 * and says so; from then on nothing is used, a kick is held rather than
 * lost, an interrupt is refused and the vring base does not move.
 */
static void suspend_mid_batch(struct __test_metadata *_metadata,
			      struct _test_data_vhost *self,
			      struct vhost_vring_state *base)
{
	struct vhost_vring_state again = { .index = 0 };
	uint32_t vq = 0;
	uint64_t one = 1;
	uint16_t done;

	__atomic_store_n(&self->srv.delay_ms, 150, __ATOMIC_RELAXED);
	ASSERT_EQ(0, vmm_queue_batch(self));
	usleep(200 * 1000);
	ASSERT_EQ(0, ioctl(self->vhost, VHOST_VDPA_SUSPEND));
	EXPECT_EQ(1U, self->ctl.seen[VDUSE_SUSPEND]);
	done = vmm_used(self);
	/* 8 requests of 150 ms each: the suspend lands in the middle. */
	ASSERT_GT(BATCH, done);
	TH_LOG("suspended with %u of %d requests used", done, BATCH);

	base->index = 0;
	ASSERT_EQ(0, ioctl(self->vhost, VHOST_GET_VRING_BASE, base));
	/* This daemon completes in order: what it took, it used. */
	EXPECT_EQ((uint16_t)(self->used_base + done), base->num);

	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_VQ_INJECT_IRQ, &vq));
	EXPECT_EQ(EBUSY, errno);

	ASSERT_EQ(sizeof(one), write(self->kick, &one, sizeof(one)));
	usleep(300 * 1000);
	EXPECT_EQ(done, vmm_used(self));
	EXPECT_EQ(0U, __atomic_load_n(&self->srv.kicks_while_paused,
				      __ATOMIC_ACQUIRE));
	ASSERT_EQ(0, ioctl(self->vhost, VHOST_GET_VRING_BASE, &again));
	EXPECT_EQ(base->num, again.num);
	/* Suspending a suspended device is nothing new. */
	EXPECT_EQ(0, ioctl(self->vhost, VHOST_VDPA_SUSPEND));
	EXPECT_EQ(1U, self->ctl.seen[VDUSE_SUSPEND]);
}

/* A daemon that asked for nothing: nothing changes for it. */
static void expect_no_features(struct __test_metadata *_metadata,
			       struct _test_data_vhost *self)
{
	EXPECT_EQ(0ULL, self->backend & ((1ULL << VHOST_BACKEND_F_SUSPEND) |
			(1ULL << VHOST_BACKEND_F_RESUME) |
			(1ULL << VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK)));
	EXPECT_EQ(-1, ioctl(self->vhost, VHOST_VDPA_SUSPEND));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(-1, ioctl(self->vhost, VHOST_VDPA_RESUME));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(0U, self->ctl.seen[VDUSE_SET_VQ_READY]);
	EXPECT_EQ(0U, self->ctl.seen[VDUSE_SUSPEND]);
	EXPECT_EQ(0U, self->ctl.seen[VDUSE_SEEN_RESUME]);
}

/* A cancelled migration: suspend, then resume without a reset. */
TEST_F(vhost, suspend_then_resume_mid_io)
{
	struct vhost_vring_state base;
	unsigned int served, wakeups;
	uint32_t vq = 0;

	ASSERT_EQ(0, vmm_start(self));
	if (!variant->features) {
		expect_no_features(_metadata, self);
		return;
	}
	EXPECT_NE(0ULL, self->backend & (1ULL << VHOST_BACKEND_F_SUSPEND));
	EXPECT_NE(0ULL, self->backend & (1ULL << VHOST_BACKEND_F_RESUME));
	served = self->srv.served;

	suspend_mid_batch(_metadata, self, &base);
	wakeups = __atomic_load_n(&self->srv.wakeups, __ATOMIC_ACQUIRE);

	ASSERT_EQ(0, ioctl(self->vhost, VHOST_VDPA_RESUME));
	EXPECT_EQ(1U, self->ctl.seen[VDUSE_SEEN_RESUME]);
	EXPECT_EQ(BATCH, vmm_wait_batch(self, 20000));
	/* The kick held while suspended reached the daemon on resume. */
	EXPECT_LT(wakeups, __atomic_load_n(&self->srv.wakeups,
					   __ATOMIC_ACQUIRE));
	EXPECT_EQ(0, vmm_check_batch(self));
	EXPECT_EQ(served + BATCH, self->srv.served);
	EXPECT_EQ(0, __atomic_load_n(&self->srv.error, __ATOMIC_RELAXED));
	EXPECT_EQ(0, ioctl(self->fd, VDUSE_VQ_INJECT_IRQ, &vq));
	/* Resuming a running device is nothing new either. */
	EXPECT_EQ(0, ioctl(self->vhost, VHOST_VDPA_RESUME));
	EXPECT_EQ(1U, self->ctl.seen[VDUSE_SEEN_RESUME]);

	/* And it goes on serving. */
	memset(self->mem + DATA_OFF, 0x5a, 4096);
	EXPECT_EQ(VIRTIO_BLK_S_OK, vmm_request(self, VIRTIO_BLK_T_OUT, 8, 4096));
	EXPECT_EQ(0x5a, self->srv.disk[8 * 512 + 4095]);
}

/*
 * A migration: suspend, read the vring base, reset, and start again from
 * that base as a destination would; the rest of the batch completes there.
 */
TEST_F(vhost, suspend_then_restart_from_vring_base)
{
	struct vhost_vring_state base;
	unsigned int served;
	uint16_t done;

	ASSERT_EQ(0, vmm_start(self));
	if (!variant->features) {
		expect_no_features(_metadata, self);
		return;
	}
	served = self->srv.served;
	suspend_mid_batch(_metadata, self, &base);
	done = vmm_used(self);

	ASSERT_EQ(0, set_status(self->vhost, 0));
	vduse_blk_server_stop(&self->srv);
	self->serving = 0;
	EXPECT_EQ(0U, self->ctl.seen[VDUSE_SEEN_RESUME]);
	/* The reset ended the suspension: interrupts go through again. */
	__atomic_store_n(&self->srv.delay_ms, 0, __ATOMIC_RELAXED);
	ASSERT_EQ(0, vmm_drive(self, base.num));
	EXPECT_EQ(BATCH, vmm_wait_batch(self, 20000));
	EXPECT_EQ(0, vmm_check_batch(self));
	/* Each request served once: none of the first ones twice. */
	EXPECT_EQ(served + BATCH, self->srv.served);
	TH_LOG("%u used before the suspend, %u after the restart", done,
	       BATCH - done);
	EXPECT_EQ(0, __atomic_load_n(&self->srv.error, __ATOMIC_RELAXED));
}

/*
 * A daemon taking over a suspended device learns it from GET_INFO when it
 * asks, and nothing changes for one that does not ask.
 */
TEST_F(vhost, takeover_sees_suspended)
{
	struct vduse_vq_info info;
	struct vhost_vring_state base;
	uint32_t asid = 7;

	ASSERT_EQ(0, vmm_start(self));
	EXPECT_EQ(VDUSE_VQ_INFO_F_QUERY | VDUSE_VQ_INFO_F_FILLED,
		  vq_query(self->fd, 0, &asid));
	EXPECT_EQ(0U, asid);
	/* Not asked: the padding mainline has there reads as zero. */
	memset(&info, 0xff, sizeof(info));
	info.index = 0;
	info.flags = (uint8_t)~VDUSE_VQ_INFO_F_QUERY;
	ASSERT_EQ(0, ioctl(self->fd, VDUSE_VQ_GET_INFO, &info));
	EXPECT_EQ(0, info.flags);
	EXPECT_EQ(0U, info.asid);
	EXPECT_EQ(1, info.ready);
	if (!variant->features) {
		expect_no_features(_metadata, self);
		return;
	}
	suspend_mid_batch(_metadata, self, &base);

	/* The daemon goes; another one opens the node. */
	vduse_blk_server_stop(&self->srv);
	self->serving = 0;
	vduse_ctl_daemon_stop(&self->ctl);
	close(self->fd);
	self->fd = vduse_dev_open(NAME);
	ASSERT_LE(0, self->fd);
	self->srv.fd = self->fd;
	ASSERT_EQ(0, vduse_ctl_daemon_start(&self->ctl, self->fd));
	EXPECT_EQ(VDUSE_VQ_INFO_F_QUERY | VDUSE_VQ_INFO_F_FILLED |
		  VDUSE_VQ_INFO_F_SUSPENDED, vq_query(self->fd, 0, &asid));
	EXPECT_EQ(0U, asid);

	ASSERT_EQ(0, ioctl(self->vhost, VHOST_VDPA_RESUME));
	EXPECT_EQ(VDUSE_VQ_INFO_F_QUERY | VDUSE_VQ_INFO_F_FILLED,
		  vq_query(self->fd, 0, &asid));
}

/* The device is deleted while suspended: it goes, and can be destroyed. */
TEST_F(vhost, vdpa_dev_del_while_suspended)
{
	const char *const argv[] = { "vdpa", "dev", "del", NAME, NULL };
	struct vhost_vring_state base;
	int status, i;
	pid_t pid;

	ASSERT_EQ(0, vmm_start(self));
	if (!variant->features) {
		expect_no_features(_metadata, self);
		return;
	}
	suspend_mid_batch(_metadata, self, &base);

	/* vhost-vdpa waits for its file to close before the device goes. */
	pid = vduse_spawn(argv);
	ASSERT_LT(0, pid);
	usleep(300 * 1000);
	close(self->vhost);
	self->vhost = -1;
	for (i = 0; i < 3000 && waitpid(pid, &status, WNOHANG) != pid; i++)
		usleep(10000);
	if (i == 3000) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	ASSERT_GT(3000, i);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_NE(0, access("/sys/bus/vdpa/devices/" NAME, F_OK));
	/* The teardown destroys the device, which must succeed. */
}

static int readable(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t cnt;

	if (poll(&pfd, 1, ms) != 1)
		return 0;
	return read(fd, &cnt, sizeof(cnt)) == sizeof(cnt);
}

/*
 * As in mainline, a reset drops the daemon's kick eventfds (it sets new
 * ones after the next DRIVER_OK), and a kick of a queue that is not
 * ready reaches nobody.
 */
TEST_F(vhost, reset_drops_the_kick_eventfd)
{
	struct vduse_vq_eventfd ev = { .index = 0 };
	uint64_t one = 1;
	int efd;

	ASSERT_EQ(0, vmm_start(self));
	EXPECT_EQ(VIRTIO_BLK_S_OK, vmm_request(self, VIRTIO_BLK_T_IN, 8, 512));
	vduse_blk_server_stop(&self->srv);
	self->serving = 0;

	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	ev.fd = efd;
	ASSERT_EQ(0, ioctl(self->fd, VDUSE_VQ_SETUP_KICKFD, &ev));
	ASSERT_EQ(sizeof(one), write(self->kick, &one, sizeof(one)));
	EXPECT_TRUE(readable(efd, 5000));

	ASSERT_EQ(0, set_status(self->vhost, 0));
	ASSERT_EQ(sizeof(one), write(self->kick, &one, sizeof(one)));
	EXPECT_FALSE(readable(efd, 500));

	/* The next DRIVER_OK's daemon sets its own, and serves. */
	ASSERT_EQ(0, vmm_drive(self, self->avail_idx));
	EXPECT_EQ(VIRTIO_BLK_S_OK, vmm_request(self, VIRTIO_BLK_T_IN, 8, 512));
	EXPECT_FALSE(readable(efd, 0));
	close(efd);
	EXPECT_EQ(0, __atomic_load_n(&self->srv.error, __ATOMIC_RELAXED));
}

/* vq0/stats: irqs injected, callbacks run (on any CPU), irqfd signals. */
static int irq_stats(unsigned long long *irqs, unsigned long long *cbs,
		     unsigned long long *irqfd)
{
	unsigned long long kicks, held, local, remote;
	char buf[256];

	if (vduse_sysfs_read(VDUSE_SYSFS_CLASS "/" NAME "/vq0/stats", buf,
			     sizeof(buf)) <= 0)
		return -1;
	if (sscanf(buf, "%llu %llu %llu %llu %llu %llu", &kicks, &held, irqs,
		   &local, &remote, irqfd) != 6)
		return -1;
	*cbs = local + remote;
	return 0;
}

/*
 * vhost-vdpa gives the queue the VMM's call eventfd as the callback's
 * trigger: VDUSE_VQ_INJECT_IRQ signals it directly, as hardware signals
 * a VMM's irqfd, and runs no callback.  Unbound, nothing is signalled;
 * a new one gets the next.  The round trip a guest request takes (kick,
 * the daemon serves 4 KiB, injects, the call eventfd fires) is printed,
 * not checked.
 */
TEST_F(vhost, call_eventfd_is_signalled_directly)
{
	struct vhost_vring_file call = { .index = 0, .fd = VHOST_FILE_UNBIND };
	unsigned long long irqs0, cbs0, fd0, irqs1, cbs1, fd1;
	struct timespec t0, t1;
	int i, efd, n = 200;
	uint32_t vq = 0;
	double us;

	ASSERT_EQ(0, vmm_start(self));
	ASSERT_EQ(0, irq_stats(&irqs0, &cbs0, &fd0));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++)
		ASSERT_EQ(VIRTIO_BLK_S_OK,
			  vmm_request(self, VIRTIO_BLK_T_IN, 8, 4096));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ASSERT_EQ(0, irq_stats(&irqs1, &cbs1, &fd1));
	us = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) /
	     1e3 / n;
	TH_LOG("vhost-vdpa round trip, 4 KiB read through the irqfd: %.1f us (%d requests)",
	       us, n);
	EXPECT_LE(n, irqs1 - irqs0);
	EXPECT_LE(n, fd1 - fd0);
	EXPECT_EQ(0, cbs1 - cbs0);

	ASSERT_EQ(0, ioctl(self->vhost, VHOST_SET_VRING_CALL, &call));
	ASSERT_EQ(0, irq_stats(&irqs0, &cbs0, &fd0));
	ASSERT_EQ(0, ioctl(self->fd, VDUSE_VQ_INJECT_IRQ, &vq));
	EXPECT_FALSE(readable(self->call, 200));
	ASSERT_EQ(0, irq_stats(&irqs1, &cbs1, &fd1));
	EXPECT_EQ(1, irqs1 - irqs0);
	EXPECT_EQ(0, fd1 - fd0);
	EXPECT_EQ(0, cbs1 - cbs0);

	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	call.fd = efd;
	ASSERT_EQ(0, ioctl(self->vhost, VHOST_SET_VRING_CALL, &call));
	ASSERT_EQ(0, ioctl(self->fd, VDUSE_VQ_INJECT_IRQ, &vq));
	EXPECT_TRUE(readable(efd, 5000));
	EXPECT_FALSE(readable(self->call, 0));
	close(efd);
	EXPECT_EQ(0, __atomic_load_n(&self->srv.error, __ATOMIC_RELAXED));
}

/* VDUSE_F_QUEUE_READY: enables go to the daemon, which may refuse them. */
static int refuse_ready(const struct vduse_dev_request *req, void *arg)
{
	return req->type == VDUSE_SET_VQ_READY ? VDUSE_REQ_RESULT_FAILED :
						 VDUSE_REQ_RESULT_OK;
}

TEST_F(vhost, queue_ready_relay)
{
	struct vhost_vring_state enable = { .index = 0 };
	struct vduse_vq_info info = { .index = 0 };
	uint8_t status;

	unsigned int seen;

	/* virtio_blk's probe, before vhost-vdpa took the device. */
	seen = self->ctl.seen[VDUSE_SET_VQ_READY];
	ASSERT_EQ(0, vmm_start(self));
	if (!variant->features) {
		expect_no_features(_metadata, self);
		return;
	}
	EXPECT_NE(0ULL, self->backend &
		  (1ULL << VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK));
	EXPECT_EQ(seen + 1, self->ctl.seen[VDUSE_SET_VQ_READY]);
	EXPECT_EQ(0U, self->ctl.last_ready.num);
	EXPECT_EQ(1U, self->ctl.last_ready.ready);
	ASSERT_EQ(0, ioctl(self->fd, VDUSE_VQ_GET_INFO, &info));
	EXPECT_EQ(1, info.ready);

	/* Enabling an enabled queue tells nothing new. */
	enable.num = 1;
	ASSERT_EQ(0, ioctl(self->vhost, VHOST_VDPA_SET_VRING_ENABLE, &enable));
	EXPECT_EQ(seen + 1, self->ctl.seen[VDUSE_SET_VQ_READY]);

	/* A disable is relayed and takes effect, even when refused. */
	self->ctl.policy = refuse_ready;
	enable.num = 0;
	ASSERT_EQ(0, ioctl(self->vhost, VHOST_VDPA_SET_VRING_ENABLE, &enable));
	EXPECT_EQ(seen + 2, self->ctl.seen[VDUSE_SET_VQ_READY]);
	EXPECT_EQ(0U, self->ctl.last_ready.ready);
	ASSERT_EQ(0, ioctl(self->fd, VDUSE_VQ_GET_INFO, &info));
	EXPECT_EQ(0, info.ready);
	/* The refusal asks for a reset. */
	ASSERT_EQ(0, ioctl(self->vhost, VHOST_VDPA_GET_STATUS, &status));
	EXPECT_NE(0, status & VIRTIO_CONFIG_S_NEEDS_RESET);

	/* A refused enable leaves the queue disabled on both sides. */
	enable.num = 1;
	ASSERT_EQ(0, ioctl(self->vhost, VHOST_VDPA_SET_VRING_ENABLE, &enable));
	EXPECT_EQ(seen + 3, self->ctl.seen[VDUSE_SET_VQ_READY]);
	ASSERT_EQ(0, ioctl(self->fd, VDUSE_VQ_GET_INFO, &info));
	EXPECT_EQ(0, info.ready);

	/* After a reset the device starts clean, and enables work again. */
	self->ctl.policy = NULL;
	ASSERT_EQ(0, set_status(self->vhost, 0));
	ASSERT_EQ(0, ioctl(self->vhost, VHOST_VDPA_GET_STATUS, &status));
	EXPECT_EQ(0, status);
	vduse_blk_server_stop(&self->srv);
	self->serving = 0;
	ASSERT_EQ(0, vmm_drive(self, self->avail_idx));
	ASSERT_EQ(0, ioctl(self->fd, VDUSE_VQ_GET_INFO, &info));
	EXPECT_EQ(1, info.ready);
	EXPECT_EQ(VIRTIO_BLK_S_OK, vmm_request(self, VIRTIO_BLK_T_IN, 8, 512));
}

/* API version 1: two groups, two address spaces. */
TEST(v1_group_asid_and_get_fd2)
{
	struct vduse_vq_config vq = { .max_size = 64 };
	struct vduse_iotlb_entry_v2 e2 = { .start = IOVA_BASE,
					   .last = IOVA_BASE, .asid = 1 };
	struct vduse_iotlb_entry e = { .start = IOVA_BASE, .last = IOVA_BASE };
	struct vhost_vring_state st = { .index = 1 };
	uint64_t backend = (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2) |
			   (1ULL << VHOST_BACKEND_F_IOTLB_ASID);
	struct vduse_ctl_daemon ctl = { 0 };
	struct vduse_test_config c;
	struct vhost_msg_v2 msg = {
		.type = VHOST_IOTLB_MSG_V2,
		.asid = 1,
		.iotlb = { .iova = IOVA_BASE, .size = MEM_SIZE,
			   .perm = VHOST_ACCESS_RW, .type = VHOST_IOTLB_UPDATE },
	};
	unsigned int groups = 0, spaces = 0;
	struct vduse_vq_info info = { 0 };
	int ctrl, fd, vhost, mfd, i;
	uint32_t asid;
	void *mem;

	ctrl = vduse_ctrl_open();
	ASSERT_LE(0, ctrl);
	ASSERT_EQ(0, vduse_ctrl_set_api(ctrl, VDUSE_API_VERSION_1));
	vduse_test_blk_config(&c, NAME);
	((struct virtio_blk_config *)c.cfg.config)->capacity = 0;
	c.cfg.vq_num = 2;
	c.cfg.ngroups = 2;
	c.cfg.nas = 2;
	ASSERT_EQ(0, vduse_create(ctrl, &c));
	fd = vduse_dev_open(NAME);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, VDUSE_VQ_SETUP, &vq));
	vq.index = 1;
	vq.group = 1;
	ASSERT_EQ(0, ioctl(fd, VDUSE_VQ_SETUP, &vq));
	ASSERT_EQ(0, vduse_ctl_daemon_start(&ctl, fd));

	/* GET_FD2's own rules, before anything is mapped. */
	EXPECT_EQ(-1, ioctl(fd, VDUSE_IOTLB_GET_FD2, &e2));
	EXPECT_EQ(EINVAL, errno);
	e2.asid = 2;
	EXPECT_EQ(-1, ioctl(fd, VDUSE_IOTLB_GET_FD2, &e2));
	EXPECT_EQ(EINVAL, errno);
	e2.asid = 1;
	e2.reserved[10] = 1;
	EXPECT_EQ(-1, ioctl(fd, VDUSE_IOTLB_GET_FD2, &e2));
	EXPECT_EQ(EINVAL, errno);
	e2.reserved[10] = 0;
	e2.padding[6] = 1;
	EXPECT_EQ(-1, ioctl(fd, VDUSE_IOTLB_GET_FD2, &e2));
	EXPECT_EQ(EINVAL, errno);
	e2.padding[6] = 0;

	ASSERT_EQ(0, vduse_vdpa_add(NAME, 60));
	vhost = vduse_vdpa_to_vhost(NAME);
	ASSERT_LE(0, vhost);
	ASSERT_EQ(0, ioctl(vhost, VHOST_SET_OWNER));
	ASSERT_EQ(0, ioctl(vhost, VHOST_SET_BACKEND_FEATURES, &backend));

	ASSERT_EQ(0, ioctl(vhost, VHOST_VDPA_GET_GROUP_NUM, &groups));
	EXPECT_EQ(2U, groups);
	ASSERT_EQ(0, ioctl(vhost, VHOST_VDPA_GET_AS_NUM, &spaces));
	EXPECT_EQ(2U, spaces);
	ASSERT_EQ(0, ioctl(vhost, VHOST_VDPA_GET_VRING_GROUP, &st));
	EXPECT_EQ(1U, st.num);

	/* Binding group 1 to space 1 asks the daemon. */
	st.index = 1;
	st.num = 1;
	ASSERT_EQ(0, ioctl(vhost, VHOST_VDPA_SET_GROUP_ASID, &st));
	EXPECT_EQ(1U, ctl.seen[VDUSE_SET_VQ_GROUP_ASID]);

	/* A daemon taking over learns the binding; one that does not ask, not. */
	EXPECT_EQ(VDUSE_VQ_INFO_F_QUERY | VDUSE_VQ_INFO_F_FILLED,
		  vq_query(fd, 1, &asid));
	EXPECT_EQ(1U, asid);
	EXPECT_EQ(VDUSE_VQ_INFO_F_QUERY | VDUSE_VQ_INFO_F_FILLED,
		  vq_query(fd, 0, &asid));
	EXPECT_EQ(0U, asid);
	info.index = 1;
	ASSERT_EQ(0, ioctl(fd, VDUSE_VQ_GET_INFO, &info));
	EXPECT_EQ(0, info.flags);
	EXPECT_EQ(0U, info.asid);
	vduse_ctl_daemon_stop(&ctl);
	close(fd);
	fd = vduse_dev_open(NAME);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vduse_ctl_daemon_start(&ctl, fd));
	EXPECT_EQ(VDUSE_VQ_INFO_F_QUERY | VDUSE_VQ_INFO_F_FILLED,
		  vq_query(fd, 1, &asid));
	EXPECT_EQ(1U, asid);

	/* A range of space 1: GET_FD2 finds it, GET_FD (space 0) does not. */
	mfd = memfd_create("as1", MFD_CLOEXEC);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, MEM_SIZE));
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, mem);
	msg.iotlb.uaddr = (uintptr_t)mem;
	ASSERT_EQ(sizeof(msg), write(vhost, &msg, sizeof(msg)));
	i = ioctl(fd, VDUSE_IOTLB_GET_FD2, &e2);
	EXPECT_LE(0, i);
	EXPECT_EQ(IOVA_BASE + MEM_SIZE - 1, e2.last);
	close(i);
	EXPECT_EQ(-1, ioctl(fd, VDUSE_IOTLB_GET_FD, &e));
	EXPECT_EQ(EINVAL, errno);

	/* Unmapping it is announced with its space. */
	msg.iotlb.type = VHOST_IOTLB_INVALIDATE;
	ASSERT_EQ(sizeof(msg), write(vhost, &msg, sizeof(msg)));
	EXPECT_EQ(1U, ctl.seen[VDUSE_UPDATE_IOTLB]);

	close(vhost);
	munmap(mem, MEM_SIZE);
	close(mfd);
	EXPECT_EQ(0, vduse_vdpa_del(NAME, 30));
	vduse_ctl_daemon_stop(&ctl);
	close(fd);
	EXPECT_EQ(0, vduse_destroy(ctrl, NAME));
	close(ctrl);
}

/* Version 0 devices know nothing of GET_FD2. */
TEST(v0_has_no_get_fd2)
{
	struct vduse_iotlb_entry_v2 e2 = { .start = IOVA_BASE,
					   .last = IOVA_BASE };
	struct vduse_test_config c;
	int ctrl, fd;

	ctrl = vduse_ctrl_open();
	ASSERT_LE(0, ctrl);
	vduse_test_blk_config(&c, NAME);
	ASSERT_EQ(0, vduse_create(ctrl, &c));
	fd = vduse_dev_open(NAME);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, ioctl(fd, VDUSE_IOTLB_GET_FD2, &e2));
	EXPECT_EQ(ENOTTY, errno);
	close(fd);
	EXPECT_EQ(0, vduse_destroy(ctrl, NAME));
	close(ctrl);
}

/*
 * vhost-vdpa checks a ring size against the largest queue's only: a VMM
 * can ask queue 0 (max_size 64) for 256, which queue 1 allows.  The
 * size is refused: the daemon never sees it, the queue cannot be
 * enabled, the device asks for a reset; a size that fits works after it.
 */
TEST(vq_num_above_the_queue_max_is_refused)
{
	struct vduse_vq_config vq = { .max_size = 64 };
	struct vhost_vring_state st = { .index = 0, .num = 256 };
	struct vduse_vq_info info = { .index = 0 };
	struct vduse_ctl_daemon ctl = { 0 };
	struct vduse_test_config c;
	uint8_t status = 0;
	int ctrl, fd, vhost;

	ctrl = vduse_ctrl_open();
	ASSERT_LE(0, ctrl);
	vduse_test_blk_config(&c, NAME);
	((struct virtio_blk_config *)c.cfg.config)->capacity = 0;
	c.cfg.vq_num = 2;
	ASSERT_EQ(0, vduse_create(ctrl, &c));
	fd = vduse_dev_open(NAME);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, VDUSE_VQ_SETUP, &vq));
	vq.index = 1;
	vq.max_size = 256;
	ASSERT_EQ(0, ioctl(fd, VDUSE_VQ_SETUP, &vq));
	ASSERT_EQ(0, vduse_ctl_daemon_start(&ctl, fd));
	ASSERT_EQ(0, vduse_vdpa_add(NAME, 60));
	vhost = vduse_vdpa_to_vhost(NAME);
	ASSERT_LE(0, vhost);
	ASSERT_EQ(0, ioctl(vhost, VHOST_SET_OWNER));

	ASSERT_EQ(0, set_status(vhost, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				       VIRTIO_CONFIG_S_DRIVER));
	/* vhost-vdpa takes it: it knows the largest queue only. */
	ASSERT_EQ(0, ioctl(vhost, VHOST_SET_VRING_NUM, &st));
	ASSERT_EQ(0, ioctl(fd, VDUSE_VQ_GET_INFO, &info));
	EXPECT_EQ(0, info.num);
	st.num = 1;
	ASSERT_EQ(0, ioctl(vhost, VHOST_VDPA_SET_VRING_ENABLE, &st));
	ASSERT_EQ(0, ioctl(fd, VDUSE_VQ_GET_INFO, &info));
	EXPECT_EQ(0, info.ready);
	ASSERT_EQ(0, ioctl(vhost, VHOST_VDPA_GET_STATUS, &status));
	EXPECT_TRUE(status & VIRTIO_CONFIG_S_NEEDS_RESET);

	/* After a reset, a size the queue allows is taken. */
	ASSERT_EQ(0, set_status(vhost, 0));
	st.num = 64;
	ASSERT_EQ(0, ioctl(vhost, VHOST_SET_VRING_NUM, &st));
	ASSERT_EQ(0, ioctl(fd, VDUSE_VQ_GET_INFO, &info));
	EXPECT_EQ(64, info.num);
	st.num = 1;
	ASSERT_EQ(0, ioctl(vhost, VHOST_VDPA_SET_VRING_ENABLE, &st));
	ASSERT_EQ(0, ioctl(fd, VDUSE_VQ_GET_INFO, &info));
	EXPECT_EQ(1, info.ready);
	ASSERT_EQ(0, ioctl(vhost, VHOST_VDPA_GET_STATUS, &status));
	EXPECT_FALSE(status & VIRTIO_CONFIG_S_NEEDS_RESET);

	close(vhost);
	EXPECT_EQ(0, vduse_vdpa_del(NAME, 30));
	vduse_ctl_daemon_stop(&ctl);
	close(fd);
	EXPECT_EQ(0, vduse_destroy(ctrl, NAME));
	close(ctrl);
}

/*
 * A daemon that answers and at once acts on what it accepted, before the
 * VMM's thread (which sent the request) runs again: that thread is
 * pinned to CPU 1, and the daemon keeps CPU 1 busy with a SCHED_FIFO
 * spinner from before its answer until it has checked.  Its interrupt
 * after DRIVER_OK must be taken, and after a queue enable the queue must
 * read ready and the VMM's call eventfd must fire.  Last, the driver
 * writes FAILED: the callbacks must be gone.
 */
struct eager {
	int fd, call;
	int stop;		/* __atomic */
	int spin;		/* __atomic: the spinner runs while set */
	int spinning;		/* __atomic */
	int ok_inject;		/* VQ_INJECT_IRQ after DRIVER_OK: -errno */
	int ready;		/* GET_INFO after the enable */
	int fired;		/* the call eventfd after that injection */
	int done;		/* __atomic: both were checked */
	int error;
};

static void *fifo_spinner(void *arg)
{
	struct eager *e = arg;

	__atomic_store_n(&e->spinning, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&e->spin, __ATOMIC_ACQUIRE))
		;
	__atomic_store_n(&e->spinning, 0, __ATOMIC_RELEASE);
	return NULL;
}

static int start_spinner(struct eager *e, pthread_t *t)
{
	struct sched_param sp = { .sched_priority = 1 };
	pthread_attr_t attr;
	cpu_set_t one;
	int ret;

	CPU_ZERO(&one);
	CPU_SET(1, &one);
	pthread_attr_init(&attr);
	pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
	pthread_attr_setschedparam(&attr, &sp);
	pthread_attr_setaffinity_np(&attr, sizeof(one), &one);
	__atomic_store_n(&e->spin, 1, __ATOMIC_RELEASE);
	ret = pthread_create(t, &attr, fifo_spinner, e);
	pthread_attr_destroy(&attr);
	if (ret)
		return -ret;
	while (!__atomic_load_n(&e->spinning, __ATOMIC_ACQUIRE))
		;
	return 0;
}

static void *eager_daemon(void *arg)
{
	struct eager *e = arg;
	struct pollfd pfd = { .fd = e->fd, .events = POLLIN };
	struct vduse_dev_request req;
	cpu_set_t zero;
	uint32_t vq = 0;

	CPU_ZERO(&zero);
	CPU_SET(0, &zero);
	sched_setaffinity(0, sizeof(zero), &zero);
	while (!__atomic_load_n(&e->stop, __ATOMIC_ACQUIRE)) {
		struct vduse_dev_response resp = { .result = VDUSE_REQ_RESULT_OK };
		struct vduse_vq_info info = { .index = 0 };
		struct pollfd cfd = { .fd = e->call, .events = POLLIN };
		int acts = 0, ok_status;
		pthread_t t;

		if (poll(&pfd, 1, 100) != 1 ||
		    read(e->fd, &req, sizeof(req)) != sizeof(req))
			continue;
		resp.request_id = req.request_id;
		ok_status = req.type == VDUSE_SET_STATUS &&
			    (req.s.status & VIRTIO_CONFIG_S_DRIVER_OK) &&
			    !(req.s.status & VIRTIO_CONFIG_S_FAILED);
		if (ok_status || (req.type == VDUSE_SET_VQ_READY &&
				  req.vq_ready.ready))
			acts = !start_spinner(e, &t);
		if (write(e->fd, &resp, sizeof(resp)) != sizeof(resp))
			e->error = -errno;
		if (acts && ok_status) {
			e->ok_inject = ioctl(e->fd, VDUSE_VQ_INJECT_IRQ, &vq) ?
				       -errno : 0;
		} else if (acts) {
			if (!ioctl(e->fd, VDUSE_VQ_GET_INFO, &info))
				e->ready = info.ready;
			if (ioctl(e->fd, VDUSE_VQ_INJECT_IRQ, &vq))
				e->error = -errno;
			e->fired = poll(&cfd, 1, 0) == 1;
			__atomic_store_n(&e->done, 1, __ATOMIC_RELEASE);
		}
		if (acts) {
			__atomic_store_n(&e->spin, 0, __ATOMIC_RELEASE);
			pthread_join(t, NULL);
		}
	}
	return NULL;
}

TEST(accepted_state_applies_before_the_sender_runs)
{
	uint64_t features = BIT_ULL(VDUSE_F_QUEUE_READY);
	uint64_t backend = (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2) |
			   (1ULL << VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK);
	struct vduse_vq_config vq = { .index = 0, .max_size = QSIZE };
	struct vhost_vring_state num = { .index = 0, .num = QSIZE };
	struct vhost_vring_state enable = { .index = 0, .num = 1 };
	struct vhost_vring_addr addr = {
		.index = 0,
		.desc_user_addr = IOVA_BASE + DESC_OFF,
		.avail_user_addr = IOVA_BASE + AVAIL_OFF,
		.used_user_addr = IOVA_BASE + USED_OFF,
	};
	struct vhost_vring_file call = { .index = 0 };
	struct vduse_ctl_daemon ctl = { 0 };
	struct vduse_test_config c;
	struct eager e = { 0 };
	uint64_t vfeatures, cnt;
	uint32_t index = 0;
	pthread_t daemon;
	cpu_set_t one;
	int ctrl, mfd, vhost;
	void *mem;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs two CPUs");
	ctrl = vduse_ctrl_open();
	ASSERT_LE(0, ctrl);
	ASSERT_EQ(0, ioctl(ctrl, VDUSE_SET_FEATURES, &features));
	vduse_test_blk_config(&c, NAME);
	((struct virtio_blk_config *)c.cfg.config)->capacity = 0;
	ASSERT_EQ(0, vduse_create(ctrl, &c));
	e.fd = vduse_dev_open(NAME);
	ASSERT_LE(0, e.fd);
	ASSERT_EQ(0, ioctl(e.fd, VDUSE_VQ_SETUP, &vq));
	/* The callback runs where the daemon injects: CPU 0. */
	ASSERT_EQ(0, vduse_sysfs_write(VDUSE_SYSFS_CLASS "/" NAME
				       "/vq0/irq_cb_affinity", "1"));
	ASSERT_EQ(0, vduse_ctl_daemon_start(&ctl, e.fd));
	ASSERT_EQ(0, vduse_vdpa_add(NAME, 60));
	e.call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, e.call);
	call.fd = e.call;
	mfd = memfd_create("guest-memory", MFD_CLOEXEC);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, MEM_SIZE));
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, mem);
	close(mfd);

	/* vhost-vdpa resets the device as it opens: the daemon answers. */
	vhost = vduse_vdpa_to_vhost(NAME);
	ASSERT_LE(0, vhost);
	vduse_ctl_daemon_stop(&ctl);
	ASSERT_EQ(0, pthread_create(&daemon, NULL, eager_daemon, &e));

	/* The VMM, the sender of every request, runs on CPU 1 only. */
	CPU_ZERO(&one);
	CPU_SET(1, &one);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(one), &one));
	ASSERT_EQ(0, ioctl(vhost, VHOST_SET_OWNER));
	ASSERT_EQ(0, ioctl(vhost, VHOST_SET_BACKEND_FEATURES, &backend));
	ASSERT_EQ(0, iotlb_msg(vhost, VHOST_IOTLB_UPDATE, IOVA_BASE, MEM_SIZE,
			       mem));
	ASSERT_EQ(0, set_status(vhost, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				       VIRTIO_CONFIG_S_DRIVER));
	ASSERT_EQ(0, ioctl(vhost, VHOST_GET_FEATURES, &vfeatures));
	vfeatures &= (1ULL << VIRTIO_F_VERSION_1) |
		     (1ULL << VIRTIO_F_ACCESS_PLATFORM);
	ASSERT_EQ(0, ioctl(vhost, VHOST_SET_FEATURES, &vfeatures));
	ASSERT_EQ(0, set_status(vhost, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				VIRTIO_CONFIG_S_DRIVER |
				VIRTIO_CONFIG_S_FEATURES_OK));
	ASSERT_EQ(0, ioctl(vhost, VHOST_SET_VRING_NUM, &num));
	ASSERT_EQ(0, ioctl(vhost, VHOST_SET_VRING_ADDR, &addr));
	ASSERT_EQ(0, ioctl(vhost, VHOST_SET_VRING_CALL, &call));
	/* As QEMU does with VDUSE_F_QUEUE_READY: enable after DRIVER_OK. */
	e.ok_inject = 1;
	ASSERT_EQ(0, set_status(vhost, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				VIRTIO_CONFIG_S_DRIVER |
				VIRTIO_CONFIG_S_FEATURES_OK |
				VIRTIO_CONFIG_S_DRIVER_OK));
	ASSERT_EQ(0, ioctl(vhost, VHOST_VDPA_SET_VRING_ENABLE, &enable));
	while (!__atomic_load_n(&e.done, __ATOMIC_ACQUIRE))
		usleep(10000);

	EXPECT_EQ(0, e.ok_inject);
	EXPECT_EQ(1, e.ready);
	EXPECT_EQ(1, e.fired);
	EXPECT_EQ(0, e.error);

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	CPU_SET(1, &one);
	sched_setaffinity(0, sizeof(one), &one);

	/*
	 * The driver gives up (FAILED, with DRIVER_OK still set, and no
	 * reset): its callbacks are dropped, and an interrupt the daemon
	 * may still inject reaches nothing.
	 */
	ASSERT_EQ(sizeof(cnt), read(e.call, &cnt, sizeof(cnt)));
	ASSERT_EQ(0, set_status(vhost, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				VIRTIO_CONFIG_S_DRIVER |
				VIRTIO_CONFIG_S_FEATURES_OK |
				VIRTIO_CONFIG_S_DRIVER_OK |
				VIRTIO_CONFIG_S_FAILED));
	EXPECT_EQ(0, ioctl(e.fd, VDUSE_VQ_INJECT_IRQ, &index));
	usleep(200000);	/* a callback run on CPU 0 from here would be seen */
	EXPECT_EQ(-1, read(e.call, &cnt, sizeof(cnt)));
	EXPECT_EQ(0, set_status(vhost, 0));
	close(vhost);
	EXPECT_EQ(0, vduse_vdpa_del(NAME, 30));
	__atomic_store_n(&e.stop, 1, __ATOMIC_RELEASE);
	pthread_join(daemon, NULL);
	close(e.fd);
	close(e.call);
	munmap(mem, MEM_SIZE);
	EXPECT_EQ(0, vduse_destroy(ctrl, NAME));
	close(ctrl);
}

TEST_HARNESS_MAIN
