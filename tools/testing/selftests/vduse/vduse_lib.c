// SPDX-License-Identifier: GPL-2.0
/*
 * Device-side helpers shared by the VDUSE selftests.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <endian.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <sys/eventfd.h>
#include <sys/mman.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_fs.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "vduse_lib.h"

static void vduse_test_config_init(struct vduse_test_config *c,
				   const char *name)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->cfg.name, sizeof(c->cfg.name), "%s", name);
	c->cfg.vendor_id = 0x1af4;
	c->cfg.features = VDUSE_TEST_BASE_FEATURES;
	c->cfg.vq_align = 4096;
}

void vduse_test_blk_config(struct vduse_test_config *c, const char *name)
{
	struct virtio_blk_config *blk = (void *)c->cfg.config;

	vduse_test_config_init(c, name);
	c->cfg.device_id = VIRTIO_ID_BLOCK;
	c->cfg.vq_num = 1;
	c->cfg.config_size = sizeof(*blk);
	blk->capacity = (1ULL << 30) / 512;
}

void vduse_test_net_config(struct vduse_test_config *c, const char *name)
{
	struct virtio_net_config *net = (void *)c->cfg.config;
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

	vduse_test_config_init(c, name);
	c->cfg.device_id = VIRTIO_ID_NET;
	c->cfg.vq_num = 2;
	c->cfg.features |= 1ULL << VIRTIO_NET_F_MAC;
	c->cfg.config_size = sizeof(*net);
	memcpy(net->mac, mac, sizeof(mac));
}

void vduse_test_fs_config(struct vduse_test_config *c, const char *name,
			  const char *tag, uint32_t nrq)
{
	struct virtio_fs_config *fs = (void *)c->cfg.config;
	size_t len = strlen(tag);

	vduse_test_config_init(c, name);
	c->cfg.device_id = VIRTIO_ID_FS;
	c->cfg.vq_num = 1 + nrq;
	c->cfg.config_size = sizeof(*fs);
	memcpy(fs->tag, tag, len < sizeof(fs->tag) ? len : sizeof(fs->tag));
	fs->num_request_queues = htole32(nrq);
}

int vduse_create(int ctrl_fd, struct vduse_test_config *c)
{
	return ioctl(ctrl_fd, VDUSE_CREATE_DEV, &c->cfg) ? -errno : 0;
}

int vduse_create_anew(int ctrl_fd, struct vduse_test_config *c)
{
	const char *name = c->cfg.name;
	int r = vduse_create(ctrl_fd, c);

	if (r != -EEXIST)
		return r;
	/*
	 * A test the harness killed (timeout, signal) never ran its
	 * teardown: its failure is already recorded, this test should
	 * not fail again for it.
	 */
	fprintf(stderr, "# %s: removing the device an earlier test left behind\n",
		name);
	vduse_vdpa_del(name, 60);
	vduse_destroy(ctrl_fd, name);
	return vduse_create(ctrl_fd, c);
}

int vduse_destroy(int ctrl_fd, const char *name)
{
	char buf[VDUSE_NAME_MAX] = { 0 };

	snprintf(buf, sizeof(buf), "%s", name);
	return ioctl(ctrl_fd, VDUSE_DESTROY_DEV, buf) ? -errno : 0;
}

int vduse_dev_open(const char *name)
{
	char path[VDUSE_NAME_MAX + 16];
	int fd;

	snprintf(path, sizeof(path), "/dev/vduse/%s", name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int vduse_ctrl_open(void)
{
	int fd = open(VDUSE_CONTROL_PATH, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int vduse_ctrl_get_api(int ctrl_fd, uint64_t *version)
{
	return ioctl(ctrl_fd, VDUSE_GET_API_VERSION, version) ? -errno : 0;
}

int vduse_ctrl_set_api(int ctrl_fd, uint64_t version)
{
	return ioctl(ctrl_fd, VDUSE_SET_API_VERSION, &version) ? -errno : 0;
}

int vduse_sysfs_read(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return n;
}

static void *vduse_ctl_daemon_main(void *data)
{
	struct vduse_ctl_daemon *d = data;
	struct vduse_dev_request req;
	struct vduse_dev_response resp;
	struct pollfd pfd = { .fd = d->fd, .events = POLLIN };

	while (!__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE)) {
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		if (pfd.revents & POLLERR)
			break;
		if (read(d->fd, &req, sizeof(req)) != sizeof(req))
			continue;
		if (req.type < VDUSE_SEEN_RESUME)
			__atomic_fetch_add(&d->seen[req.type], 1,
					   __ATOMIC_RELAXED);
		else if (req.type == VDUSE_RESUME)
			__atomic_fetch_add(&d->seen[VDUSE_SEEN_RESUME], 1,
					   __ATOMIC_RELAXED);
		if (req.type == VDUSE_SET_STATUS) {
			__atomic_fetch_or(&d->statuses, req.s.status,
					  __ATOMIC_RELEASE);
			__atomic_store_n(&d->status, req.s.status,
					 __ATOMIC_RELEASE);
		}
		if (req.type == VDUSE_UPDATE_IOTLB)
			d->last_iova = req.iova;
		if (req.type == VDUSE_SET_VQ_READY)
			d->last_ready = req.vq_ready;
		if (req.type == VDUSE_SET_STATUS && !req.s.status &&
		    d->on_reset)
			d->on_reset(d->reset_arg);
		memset(&resp, 0, sizeof(resp));
		resp.request_id = req.request_id;
		resp.result = d->policy ? d->policy(&req, d->arg) :
			      VDUSE_REQ_RESULT_OK;
		if ((req.type == VDUSE_SUSPEND || req.type == VDUSE_RESUME) &&
		    d->on_suspend && resp.result == VDUSE_REQ_RESULT_OK)
			resp.result = d->on_suspend(d->reset_arg,
						    req.type == VDUSE_SUSPEND);
		if (req.type == VDUSE_GET_VQ_STATE) {
			resp.vq_state.index = req.vq_state.index;
			if (d->vq_avail)
				resp.vq_state.split.avail_index =
					d->vq_avail(d->reset_arg,
						    req.vq_state.index);
		}
		if (write(d->fd, &resp, sizeof(resp)) != sizeof(resp))
			continue;
	}
	return NULL;
}

int vduse_ctl_daemon_start(struct vduse_ctl_daemon *d, int fd)
{
	d->fd = fd;
	__atomic_store_n(&d->stop, 0, __ATOMIC_RELEASE);
	return -pthread_create(&d->thread, NULL, vduse_ctl_daemon_main, d);
}

void vduse_ctl_daemon_stop(struct vduse_ctl_daemon *d)
{
	__atomic_store_n(&d->stop, 1, __ATOMIC_RELEASE);
	pthread_join(d->thread, NULL);
}

pid_t vduse_spawn(const char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execvp(argv[0], (char *const *)argv);
		_exit(126);
	}
	return pid;
}

int vduse_run(int timeout_s, const char *const argv[])
{
	struct timespec start, now;
	int status;
	pid_t pid;

	pid = vduse_spawn(argv);
	if (pid < 0)
		return 126;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= timeout_s) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return 124;
		}
		usleep(20000);
	}
}

int vduse_vdpa_add(const char *name, int timeout_s)
{
	const char *const argv[] = { "vdpa", "dev", "add", "name", name,
				     "mgmtdev", "vduse", NULL };

	return vduse_run(timeout_s, argv);
}

int vduse_vdpa_del(const char *name, int timeout_s)
{
	const char *const argv[] = { "vdpa", "dev", "del", name, NULL };

	return vduse_run(timeout_s, argv);
}

int vduse_dev_path(const char *pattern, char *path, size_t size)
{
	glob_t g;
	int ret = -1;

	if (glob(pattern, 0, NULL, &g))
		return -1;
	if (g.gl_pathc) {
		snprintf(path, size, "/dev/%s", strrchr(g.gl_pathv[0], '/') + 1);
		ret = 0;
	}
	globfree(&g);
	return ret;
}

int vduse_vdpa_to_vhost(const char *name)
{
	char path[256], pattern[256];
	int i, fd = -1;

	snprintf(path, sizeof(path), "/sys/bus/vdpa/devices/%s/driver_override",
		 name);
	if (vduse_sysfs_write("/sys/bus/vdpa/drivers/virtio_vdpa/unbind", name) ||
	    vduse_sysfs_write(path, "vhost_vdpa") ||
	    vduse_sysfs_write("/sys/bus/vdpa/drivers/vhost_vdpa/bind", name))
		return -1;

	/* udev is not there: devtmpfs makes the node, soon. */
	snprintf(pattern, sizeof(pattern),
		 "/sys/bus/vdpa/devices/%s/vhost-vdpa-*", name);
	for (i = 0; i < 100 && fd < 0; i++) {
		if (!vduse_dev_path(pattern, path, sizeof(path)))
			fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			usleep(50000);
	}
	return fd;
}

int vduse_sysfs_write(const char *path, const char *val)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
}

void *vduse_iova_to_va(struct vduse_iova_cache *c, uint64_t iova, size_t len)
{
	struct vduse_iotlb_entry entry = { .start = iova, .last = iova };
	uint8_t *umem = __atomic_load_n(&c->umem, __ATOMIC_ACQUIRE);
	struct vduse_iova_map *m;
	void *addr;
	int i, fd;

	if (umem && iova + len <= c->umem_size && iova + len >= iova) {
		__atomic_fetch_add(&c->umem_hits, 1, __ATOMIC_RELAXED);
		return umem + iova;
	}
	for (i = 0; i < c->nr; i++) {
		m = &c->maps[i];
		if (iova >= m->start && iova + len - 1 <= m->last)
			return (char *)m->addr + (iova - m->start);
	}
	if (c->nr == (int)ARRAY_SIZE(c->maps))
		return NULL;

	fd = ioctl(c->fd, VDUSE_IOTLB_GET_FD, &entry);
	if (fd < 0)
		return NULL;
	addr = mmap(NULL, entry.last - entry.start + 1,
		    PROT_READ | PROT_WRITE, MAP_SHARED, fd, entry.offset);
	close(fd);
	if (addr == MAP_FAILED)
		return NULL;
	m = &c->maps[c->nr++];
	m->start = entry.start;
	m->last = entry.last;
	m->addr = addr;
	if (iova + len - 1 > m->last)
		return NULL;
	return (char *)addr + (iova - m->start);
}

void vduse_iova_cache_drop(struct vduse_iova_cache *c)
{
	int i;

	for (i = 0; i < c->nr; i++)
		munmap(c->maps[i].addr, c->maps[i].last - c->maps[i].start + 1);
	c->nr = 0;
}

static void blk_fail(struct vduse_blk_server *s, int err)
{
	int zero = 0;

	__atomic_compare_exchange_n(&s->error, &zero, err, 0,
				    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/*
 * A streaming buffer sits alone in its bounce pages: every byte of them
 * outside the buffer must be zero, and a buffer the device only writes
 * must arrive zeroed.
 */
static void blk_check_bounce(struct vduse_blk_server *s, uint64_t iova,
			     uint32_t len, int device_writes)
{
	uint64_t page = iova & ~4095ULL;
	uint64_t end = (iova + len + 4095) & ~4095ULL;
	uint8_t *p = vduse_iova_to_va(&s->iova, page, end - page);
	uint64_t i;

	if (!p || end > s->bounce_size)
		return;
	for (i = 0; i < end - page; i++) {
		int inside = page + i >= iova && page + i < iova + len;

		if (p[i] && (!inside || device_writes)) {
			__atomic_fetch_add(&s->stale, 1, __ATOMIC_RELAXED);
			return;
		}
	}
}

/* Serve one descriptor chain; returns the bytes written to the driver. */
static uint32_t blk_serve_chain(struct vduse_blk_server *s,
				struct vring_desc *desc, uint32_t num,
				uint16_t head)
{
	struct virtio_blk_outhdr *hdr = NULL;
	uint64_t off = 0;
	uint32_t written = 0;
	uint8_t *status = NULL;
	uint16_t i = head;
	unsigned int n;

	for (n = 0; n < num; n++) {
		struct vring_desc *d = &desc[i];
		void *buf = vduse_iova_to_va(&s->iova, d->addr, d->len);

		if (!buf) {
			blk_fail(s, -EFAULT);
			return 0;
		}
		blk_check_bounce(s, d->addr, d->len,
				 !!(d->flags & VRING_DESC_F_WRITE));
		if (!hdr) {
			if (d->len < sizeof(*hdr)) {
				blk_fail(s, -EINVAL);
				return 0;
			}
			hdr = buf;
			off = hdr->sector * 512;
		} else if (!(d->flags & VRING_DESC_F_NEXT)) {
			status = buf;
		} else if (hdr->type == VIRTIO_BLK_T_IN) {
			if (off + d->len > s->capacity * 512) {
				blk_fail(s, -ERANGE);
				return 0;
			}
			if (s->disk)
				memcpy(buf, s->disk + off, d->len);
			off += d->len;
			written += d->len;
		} else if (hdr->type == VIRTIO_BLK_T_OUT) {
			if (off + d->len > s->capacity * 512) {
				blk_fail(s, -ERANGE);
				return 0;
			}
			if (s->disk)
				memcpy(s->disk + off, buf, d->len);
			off += d->len;
		} else if (hdr->type == VIRTIO_BLK_T_GET_ID) {
			memset(buf, 0, d->len);
			snprintf(buf, d->len, "vduse-selftest");
			written += d->len;
		}
		if (!(d->flags & VRING_DESC_F_NEXT))
			break;
		i = d->next;
		if (i >= num) {
			blk_fail(s, -EINVAL);
			return 0;
		}
	}
	if (!status) {
		blk_fail(s, -EINVAL);
		return 0;
	}
	switch (hdr->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
	case VIRTIO_BLK_T_FLUSH:
	case VIRTIO_BLK_T_GET_ID:
		*status = VIRTIO_BLK_S_OK;
		break;
	default:
		*status = VIRTIO_BLK_S_UNSUPP;
	}
	return written + 1;
}

static void *blk_server_main(void *data)
{
	struct vduse_blk_server *s = data;
	struct vduse_vq_info info = { .index = 0 };
	struct vduse_vq_eventfd kick = { .index = 0 };
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t last_avail = 0;
	struct pollfd pfd;
	uint32_t vq = 0;
	int efd;

	while (!s->resume &&
	       !(__atomic_load_n(&s->ctl->statuses, __ATOMIC_ACQUIRE) &
		 VIRTIO_CONFIG_S_DRIVER_OK)) {
		if (__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE))
			goto out;
		usleep(10000);
	}
	if (s->kick_delay_ms)
		usleep(s->kick_delay_ms * 1000);

	if (ioctl(s->fd, VDUSE_VQ_GET_INFO, &info)) {
		blk_fail(s, -errno);
		goto out;
	}
	desc = vduse_iova_to_va(&s->iova, info.desc_addr,
				sizeof(*desc) * info.num);
	avail = vduse_iova_to_va(&s->iova, info.driver_addr,
				 sizeof(*avail) + 2 * info.num);
	used = vduse_iova_to_va(&s->iova, info.device_addr,
				sizeof(*used) + 8 * info.num);
	if (!desc || !avail || !used) {
		blk_fail(s, -EFAULT);
		goto out;
	}
	last_avail = s->resume ? used->idx : info.split.avail_index;
	__atomic_store_n(&s->last_avail, last_avail, __ATOMIC_RELEASE);

	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->kick_efd = efd;
	kick.fd = efd;
	if (efd < 0 || ioctl(s->fd, VDUSE_VQ_SETUP_KICKFD, &kick)) {
		blk_fail(s, -errno);
		goto out;
	}
	pfd.fd = efd;
	pfd.events = POLLIN;
	__atomic_store_n(&s->serving, 1, __ATOMIC_RELEASE);

	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		uint64_t cnt;
		int any = 0;

		if (__atomic_load_n(&s->paused, __ATOMIC_ACQUIRE)) {
			if (poll(&pfd, 1, 0) > 0)
				__atomic_store_n(&s->kicks_while_paused, 1,
						 __ATOMIC_RELEASE);
			__atomic_fetch_add(&s->passes, 1, __ATOMIC_RELEASE);
			usleep(1000);
			continue;
		}

		if (poll(&pfd, 1, __atomic_load_n(&s->spin, __ATOMIC_RELAXED) ?
			 0 : 50) > 0) {
			if (read(efd, &cnt, sizeof(cnt)) < 0)
				continue;
			__atomic_fetch_add(&s->wakeups, 1, __ATOMIC_RELEASE);
		}
		for (;;) {
			uint16_t avail_idx = __atomic_load_n(&avail->idx,
							     __ATOMIC_ACQUIRE);
			uint16_t head, uidx;
			int delay_ms;

			if (avail_idx == last_avail ||
			    __atomic_load_n(&s->paused, __ATOMIC_ACQUIRE))
				break;
			delay_ms = __atomic_load_n(&s->delay_ms,
						   __ATOMIC_RELAXED);
			if (delay_ms)
				usleep(delay_ms * 1000);
			head = avail->ring[last_avail % info.num];
			uidx = used->idx;
			used->ring[uidx % info.num].id = head;
			used->ring[uidx % info.num].len =
				blk_serve_chain(s, desc, info.num, head);
			__atomic_store_n(&used->idx, (uint16_t)(uidx + 1),
					 __ATOMIC_RELEASE);
			last_avail++;
			__atomic_store_n(&s->last_avail, last_avail,
					 __ATOMIC_RELEASE);
			any = 1;
			__atomic_fetch_add(&s->served, 1, __ATOMIC_RELAXED);
		}
		if (any && ioctl(s->fd, VDUSE_VQ_INJECT_IRQ, &vq))
			blk_fail(s, -errno);
		else if (any)
			__atomic_fetch_add(&s->injects, 1, __ATOMIC_RELEASE);
		__atomic_fetch_add(&s->passes, 1, __ATOMIC_RELEASE);
	}
	kick.fd = VDUSE_EVENTFD_DEASSIGN;
	ioctl(s->fd, VDUSE_VQ_SETUP_KICKFD, &kick);
	close(efd);
out:
	__atomic_store_n(&s->exited, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* The driver resets the device: let go of the rings first. */
static void blk_server_on_reset(void *arg)
{
	struct vduse_blk_server *s = arg;

	/* The reset before DRIVER_OK is not ours to act on. */
	if (!__atomic_load_n(&s->serving, __ATOMIC_ACQUIRE))
		return;
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&s->exited, __ATOMIC_ACQUIRE))
		usleep(1000);
}

/*
 * VDUSE_SUSPEND: stop between two requests and answer once stopped; a
 * kick still pending from before the suspend is dropped here, so that any
 * seen while paused came through a suspended device.  VDUSE_RESUME: go on.
 */
static int blk_server_on_suspend(void *arg, int suspend)
{
	struct vduse_blk_server *s = arg;
	unsigned int passes;
	uint64_t cnt;

	if (!suspend) {
		__atomic_store_n(&s->paused, 0, __ATOMIC_RELEASE);
		return VDUSE_REQ_RESULT_OK;
	}
	passes = __atomic_load_n(&s->passes, __ATOMIC_ACQUIRE);
	__atomic_store_n(&s->paused, 1, __ATOMIC_RELEASE);
	/* Two turns: the one under way ends, the next one sees paused. */
	while (__atomic_load_n(&s->serving, __ATOMIC_ACQUIRE) &&
	       !__atomic_load_n(&s->exited, __ATOMIC_ACQUIRE) &&
	       __atomic_load_n(&s->passes, __ATOMIC_ACQUIRE) - passes < 2)
		usleep(1000);
	if (read(s->kick_efd, &cnt, sizeof(cnt)) < 0)
		cnt = 0;
	__atomic_store_n(&s->kicks_while_paused, 0, __ATOMIC_RELEASE);
	return VDUSE_REQ_RESULT_OK;
}

static uint16_t blk_server_vq_avail(void *arg, uint32_t index)
{
	struct vduse_blk_server *s = arg;

	return index ? 0 : __atomic_load_n(&s->last_avail, __ATOMIC_ACQUIRE);
}

int vduse_blk_server_start(struct vduse_blk_server *s)
{
	s->iova.fd = s->fd;
	s->iova.nr = 0;
	s->iova.umem = NULL;
	__atomic_store_n(&s->stop, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&s->exited, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&s->serving, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&s->paused, 0, __ATOMIC_RELEASE);
	s->kick_efd = -1;
	s->ctl->reset_arg = s;
	s->ctl->on_reset = blk_server_on_reset;
	s->ctl->on_suspend = blk_server_on_suspend;
	s->ctl->vq_avail = blk_server_vq_avail;
	return -pthread_create(&s->thread, NULL, blk_server_main, s);
}

void vduse_blk_server_stop(struct vduse_blk_server *s)
{
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	pthread_join(s->thread, NULL);
	vduse_iova_cache_drop(&s->iova);
}

int vduse_vring_map(struct vduse_iova_cache *iova, uint32_t index,
		    struct vduse_vring *vr)
{
	struct vduse_vq_info info = { .index = index };

	if (ioctl(iova->fd, VDUSE_VQ_GET_INFO, &info))
		return -errno;
	if (!info.ready || !info.num || (info.num & (info.num - 1)))
		return -EINVAL;
	vr->index = index;
	vr->num = info.num;
	vr->desc = vduse_iova_to_va(iova, info.desc_addr,
				    sizeof(*vr->desc) * info.num);
	vr->avail = vduse_iova_to_va(iova, info.driver_addr,
				     sizeof(*vr->avail) + 2 * info.num);
	vr->used = vduse_iova_to_va(iova, info.device_addr,
				    sizeof(*vr->used) + 8 * info.num);
	if (!vr->desc || !vr->avail || !vr->used)
		return -EFAULT;
	vr->last_avail = info.split.avail_index;
	return 0;
}

int vduse_vring_pop(struct vduse_vring *vr, uint16_t *head)
{
	uint16_t idx = __atomic_load_n(&vr->avail->idx, __ATOMIC_ACQUIRE);

	if (idx == vr->last_avail)
		return 0;
	*head = vr->avail->ring[vr->last_avail % vr->num];
	vr->last_avail++;
	return 1;
}

void vduse_vring_push(struct vduse_vring *vr, uint16_t head, uint32_t len)
{
	uint16_t uidx = vr->used->idx;

	vr->used->ring[uidx % vr->num].id = head;
	vr->used->ring[uidx % vr->num].len = len;
	__atomic_store_n(&vr->used->idx, (uint16_t)(uidx + 1),
			 __ATOMIC_RELEASE);
}

void vduse_vring_no_kicks(struct vring_used *used, uint32_t num,
			  uint16_t last_avail)
{
	uint16_t ev = last_avail + 0x8000;

	__atomic_store_n(&used->flags, VRING_USED_F_NO_NOTIFY,
			 __ATOMIC_RELEASE);
	memcpy(&used->ring[num], &ev, sizeof(ev));
}

int vduse_vring_chain(struct vduse_vring *vr, struct vduse_iova_cache *iova,
		      uint16_t head, struct vduse_vbuf *bufs, int max)
{
	struct vring_desc *table = vr->desc;
	uint32_t size = vr->num, i = head, seen = 0;
	int n = 0, indirect = 0;

	if (head >= vr->num)
		return -EINVAL;
	for (;;) {
		struct vring_desc d = table[i];

		if (++seen > size)
			return -ELOOP;
		if (d.flags & VRING_DESC_F_INDIRECT) {
			/* One table, in place of the whole chain. */
			if (indirect || seen > 1 || (d.flags & VRING_DESC_F_NEXT) ||
			    !d.len || d.len % sizeof(*table) ||
			    d.len / sizeof(*table) > 65536)
				return -EINVAL;
			table = vduse_iova_to_va(iova, d.addr, d.len);
			if (!table)
				return -EFAULT;
			size = d.len / sizeof(*table);
			indirect = 1;
			i = 0;
			seen = 0;
			continue;
		}
		if (n == max)
			return -E2BIG;
		bufs[n].addr = d.len ? vduse_iova_to_va(iova, d.addr, d.len) :
				       NULL;
		if (d.len && !bufs[n].addr)
			return -EFAULT;
		bufs[n].len = d.len;
		bufs[n].write = !!(d.flags & VRING_DESC_F_WRITE);
		n++;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return n;
		i = d.next;
		if (i >= size)
			return -EINVAL;
	}
}
