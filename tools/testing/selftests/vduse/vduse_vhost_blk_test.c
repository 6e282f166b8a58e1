// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-vdpa: this test is both the VMM and the daemon.  As the VMM it
 * drives /dev/vhost-vdpa-N with guest memory in a memfd; as the daemon it
 * serves virtio-blk requests from that memory, which it reaches through
 * VDUSE_IOTLB_GET_FD (the VMM's memfd, not a bounce buffer).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
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
#define QSIZE		8

/* Guest memory layout (offsets in the memfd). */
#define DESC_OFF	0
#define AVAIL_OFF	4096
#define USED_OFF	8192
#define HDR_OFF		16384
#define DATA_OFF	20480
#define STATUS_OFF	24576

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
	self->ctrl = vduse_ctrl_open();
	ASSERT_LE(0, self->ctrl);
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

/* Everything a VMM does before the guest's first request. */
static int vmm_start(struct _test_data_vhost *self)
{
	uint64_t features, backend = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2;
	struct vhost_vring_state num = { .index = 0, .num = QSIZE };
	struct vhost_vring_state base = { .index = 0, .num = 0 };
	struct vhost_vring_state enable = { .index = 0, .num = 1 };
	struct vhost_vring_addr addr = {
		.index = 0,
		.desc_user_addr = IOVA_BASE + DESC_OFF,
		.avail_user_addr = IOVA_BASE + AVAIL_OFF,
		.used_user_addr = IOVA_BASE + USED_OFF,
	};
	struct vhost_vring_file kick = { .index = 0 }, call = { .index = 0 };

	if (ioctl(self->vhost, VHOST_SET_OWNER))
		return -errno;
	if (ioctl(self->vhost, VHOST_SET_BACKEND_FEATURES, &backend))
		return -errno;
	if (iotlb_msg(self->vhost, VHOST_IOTLB_UPDATE, IOVA_BASE, MEM_SIZE,
		      self->mem))
		return -errno;
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

	self->kick = eventfd(0, EFD_CLOEXEC);
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
	if (__atomic_load_n(&used->idx, __ATOMIC_ACQUIRE) != used_before + 1)
		return -1;
	return self->mem[STATUS_OFF];
}

TEST_F(vhost, guest_memory_through_the_vmm_file)
{
	struct vduse_iotlb_entry e = { .start = IOVA_BASE + DATA_OFF };
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
	EXPECT_EQ(-1, ioctl(self->fd, VDUSE_IOTLB_GET_FD, &e));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(vhost, unmap_is_announced_and_gone)
{
	struct vduse_iotlb_entry e = { .start = IOVA_BASE };
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

/* API version 1: two groups, two address spaces. */
TEST(v1_group_asid_and_get_fd2)
{
	struct vduse_vq_config vq = { .max_size = 64 };
	struct vduse_iotlb_entry_v2 e2 = { .start = IOVA_BASE, .asid = 1 };
	struct vduse_iotlb_entry e = { .start = IOVA_BASE };
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
	int ctrl, fd, vhost, mfd, i;
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
	struct vduse_iotlb_entry_v2 e2 = { .start = IOVA_BASE };
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

TEST_HARNESS_MAIN
