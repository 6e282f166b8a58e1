// SPDX-License-Identifier: GPL-2.0
/*
 * A virtio-net device served from a VDUSE device node and bridged to a
 * TAP interface: what a network daemon does, in the small.  Split rings,
 * direct and indirect descriptors.  The TAP carries a virtio-net header
 * too (IFF_VNET_HDR), so what the driver sends with checksum or
 * segmentation offloads goes out as it is and the TAP finishes it; what
 * the TAP delivers is complete (no offloads are enabled on it), so a
 * plain header goes with it.  The control virtqueue answers the commands
 * virtio_net sends (RX mode, MAC, VLAN, announce, queue pairs) and
 * records the MAC address and the number of queue pairs.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "vduse_lib.h"

#define NET_HDR_LEN	sizeof(struct virtio_net_hdr_mrg_rxbuf)
/* A header and the largest segmentation offload frame, with room. */
#define NET_FRAME_MAX	(65536 + 4096)

struct net_vq {
	uint32_t index;
	uint32_t num;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t last_avail;
	uint16_t *shown;	/* where GET_VQ_STATE reads last_avail */
	int kick;
};

int vduse_tap_open(char *ifname, size_t size)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int fd, hdr_len = NET_HDR_LEN, ret;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "vdtap%%d");
	/* The VERSION_1 header, num_buffers included, both ways. */
	if (ioctl(fd, TUNSETIFF, &ifr) ||
	    ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) ||
	    ioctl(fd, TUNSETOFFLOAD, 0)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	snprintf(ifname, size, "%s", ifr.ifr_name);
	return fd;
}

static void net_fail(struct vduse_net_server *s, int err)
{
	int zero = 0;

	__atomic_compare_exchange_n(&s->error, &zero, err, 0,
				    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/*
 * Walk the chain at head, into one indirect table at most: copy what the
 * driver wrote into out (up to out_size), and note up to max_in writable
 * descriptors.  Returns the bytes read, or -1 for a chain this server
 * cannot follow.
 */
static ssize_t net_chain(struct vduse_net_server *s, struct net_vq *q,
			 uint16_t head, uint8_t *out, size_t out_size,
			 struct vring_desc *in, int *n_in, int max_in)
{
	struct vring_desc *table = q->desc;
	uint32_t size = q->num, left = q->num;
	int indirect = 0;
	uint16_t i = head;
	size_t got = 0;

	*n_in = 0;
	while (left--) {
		struct vring_desc d = table[i];
		void *buf;

		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (indirect || !d.len || d.len % sizeof(d))
				return -1;
			table = vduse_iova_to_va(&s->iova, d.addr, d.len);
			if (!table)
				return -1;
			size = d.len / sizeof(d);
			left = size;
			indirect = 1;
			i = 0;
			continue;
		}
		buf = vduse_iova_to_va(&s->iova, d.addr, d.len);
		if (!buf)
			return -1;
		if (d.flags & VRING_DESC_F_WRITE) {
			if (*n_in < max_in)
				in[(*n_in)++] = d;
		} else if (got + d.len <= out_size) {
			memcpy(out + got, buf, d.len);
			got += d.len;
		} else {
			return -1;
		}
		if (!(d.flags & VRING_DESC_F_NEXT))
			return got;
		i = d.next;
		if (i >= size)
			return -1;
	}
	return -1;
}

static void net_push(struct net_vq *q, uint16_t head, uint32_t len)
{
	uint16_t uidx = q->used->idx;

	q->used->ring[uidx % q->num].id = head;
	q->used->ring[uidx % q->num].len = len;
	__atomic_store_n(&q->used->idx, (uint16_t)(uidx + 1),
			 __ATOMIC_RELEASE);
}

static int net_pop(struct net_vq *q, uint16_t *head)
{
	uint16_t avail_idx = __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE);

	if (avail_idx == q->last_avail)
		return 0;
	*head = q->avail->ring[q->last_avail % q->num];
	q->last_avail++;
	__atomic_store_n(q->shown, q->last_avail, __ATOMIC_RELEASE);
	return 1;
}

static void net_irq(struct vduse_net_server *s, struct net_vq *q)
{
	if (ioctl(s->fd, VDUSE_VQ_INJECT_IRQ, &q->index))
		net_fail(s, -errno);
}

/* Frames the driver sent go out of the TAP interface. */
static void net_tx(struct vduse_net_server *s, struct net_vq *q,
		   uint8_t *buf)
{
	struct vring_desc in[1];
	uint16_t head;
	int any = 0, n_in;

	while (net_pop(q, &head)) {
		ssize_t len = net_chain(s, q, head, buf, NET_FRAME_MAX, in,
					&n_in, 1);

		if (len < (ssize_t)NET_HDR_LEN)
			net_fail(s, -EINVAL);
		else if (s->tap >= 0 && write(s->tap, buf, len) > 0)
			__atomic_fetch_add(&s->tx_frames, 1, __ATOMIC_RELAXED);
		net_push(q, head, 0);
		any = 1;
	}
	if (any)
		net_irq(s, q);
}

/*
 * One frame from the TAP interface into a receive buffer; returns 0 when
 * the driver has no buffer posted (the frame waits for its next kick).
 */
static int net_rx_one(struct vduse_net_server *s, struct net_vq *q,
		      const uint8_t *frame, size_t len)
{
	struct virtio_net_hdr_mrg_rxbuf hdr = { .num_buffers = 1 };
	struct vring_desc in[16];
	const uint8_t *src = (const uint8_t *)&hdr;
	size_t total = NET_HDR_LEN + len, done = 0;
	uint16_t head;
	int n_in, i;

	if (!net_pop(q, &head))
		return 0;
	if (net_chain(s, q, head, NULL, 0, in, &n_in, ARRAY_SIZE(in)) < 0) {
		net_fail(s, -EINVAL);
		net_push(q, head, 0);
		return 1;
	}
	for (i = 0; i < n_in && done < total; i++) {
		uint8_t *dst = vduse_iova_to_va(&s->iova, in[i].addr,
						in[i].len);
		size_t off = 0;

		while (off < in[i].len && done < total) {
			size_t chunk;

			if (done < NET_HDR_LEN) {
				chunk = NET_HDR_LEN - done;
				src = (const uint8_t *)&hdr + done;
			} else {
				chunk = total - done;
				src = frame + (done - NET_HDR_LEN);
			}
			if (chunk > in[i].len - off)
				chunk = in[i].len - off;
			memcpy(dst + off, src, chunk);
			off += chunk;
			done += chunk;
		}
	}
	/* Too big for the buffer: dropped, as a NIC would. */
	net_push(q, head, done == total ? total : 0);
	if (done == total)
		__atomic_fetch_add(&s->rx_frames, 1, __ATOMIC_RELAXED);
	return 1;
}

static void net_ctrl(struct vduse_net_server *s, struct net_vq *q,
		     uint8_t *buf)
{
	struct vring_desc in[1];
	uint16_t head;
	int any = 0, n_in;

	while (net_pop(q, &head)) {
		ssize_t len = net_chain(s, q, head, buf, 4096, in, &n_in, 1);
		uint8_t ack = VIRTIO_NET_ERR;
		uint8_t *status;

		if (len < 2 || !n_in) {
			net_fail(s, -EINVAL);
			net_push(q, head, 0);
			any = 1;
			continue;
		}
		switch (buf[0]) {
		case VIRTIO_NET_CTRL_RX:
		case VIRTIO_NET_CTRL_VLAN:
		case VIRTIO_NET_CTRL_ANNOUNCE:
			ack = VIRTIO_NET_OK;
			break;
		case VIRTIO_NET_CTRL_MAC:
			if (buf[1] == VIRTIO_NET_CTRL_MAC_TABLE_SET) {
				ack = VIRTIO_NET_OK;
			} else if (buf[1] == VIRTIO_NET_CTRL_MAC_ADDR_SET &&
				   len == 2 + 6) {
				pthread_mutex_lock(&s->lock);
				memcpy(s->mac, buf + 2, 6);
				pthread_mutex_unlock(&s->lock);
				ack = VIRTIO_NET_OK;
			}
			break;
		case VIRTIO_NET_CTRL_MQ:
			if (buf[1] == VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET &&
			    len == 2 + 2) {
				uint16_t pairs = buf[2] | buf[3] << 8;

				if (pairs >= 1 && pairs <= s->max_pairs) {
					__atomic_store_n(&s->pairs, pairs,
							 __ATOMIC_RELEASE);
					ack = VIRTIO_NET_OK;
				}
			}
			break;
		}
		status = vduse_iova_to_va(&s->iova, in[0].addr, 1);
		if (status)
			*status = ack;
		__atomic_fetch_add(&s->ctrl_cmds, 1, __ATOMIC_RELAXED);
		net_push(q, head, 1);
		any = 1;
	}
	if (any)
		net_irq(s, q);
}

/*
 * A hostile device: see vduse_net_server.cvq_loop.  The command's own
 * chain stays as it is: the driver follows it when it takes the buffer
 * back, and trusts the flags it finds there.
 */
static void net_ctrl_loop(struct net_vq *q)
{
	uint16_t avail = __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE);
	uint16_t head, used, slot, i, n, other = 0;
	uint8_t *mine;

	if (avail == q->last_avail)
		return;
	mine = calloc(q->num, 1);
	if (!mine)
		return;
	slot = q->last_avail % q->num;
	head = q->avail->ring[slot];
	for (i = head, n = 0; i < q->num && !mine[i] && n < q->num; n++) {
		mine[i] = 1;
		if (!(q->desc[i].flags & VRING_DESC_F_NEXT))
			break;
		i = q->desc[i].next;
	}
	for (i = 0; i < q->num; i++) {
		if (mine[i])
			continue;
		other = i;
		q->desc[i].addr = 0;
		q->desc[i].len = 0;
		q->desc[i].flags = VRING_DESC_F_NEXT;
		q->desc[i].next = i;
	}
	for (i = 0; i < q->num; i++)
		if (i != slot)
			q->avail->ring[i] = other;
	free(mine);
	used = __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
	q->last_avail = used + q->num;
	__atomic_store_n(&q->avail->idx, q->last_avail, __ATOMIC_RELEASE);
}

static int net_setup_vq(struct vduse_net_server *s, struct net_vq *q,
			uint32_t index)
{
	struct vduse_vq_info info = { .index = index };
	struct vduse_vq_eventfd kick = { .index = index };

	q->index = index;
	q->kick = -1;
	if (ioctl(s->fd, VDUSE_VQ_GET_INFO, &info))
		return -errno;
	if (!info.ready)
		return 0;
	q->num = info.num;
	q->desc = vduse_iova_to_va(&s->iova, info.desc_addr,
				   sizeof(*q->desc) * info.num);
	q->avail = vduse_iova_to_va(&s->iova, info.driver_addr,
				    sizeof(*q->avail) + 2 * info.num);
	q->used = vduse_iova_to_va(&s->iova, info.device_addr,
				   sizeof(*q->used) + 8 * info.num);
	if (!q->desc || !q->avail || !q->used)
		return -EFAULT;
	q->last_avail = info.split.avail_index;
	q->shown = &s->last_avail[index];
	__atomic_store_n(q->shown, q->last_avail, __ATOMIC_RELEASE);
	q->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	kick.fd = q->kick;
	if (q->kick < 0 || ioctl(s->fd, VDUSE_VQ_SETUP_KICKFD, &kick))
		return -errno;
	return 0;
}

static int net_should_drop(struct vduse_net_server *s)
{
	return __atomic_load_n(&s->stop, __ATOMIC_ACQUIRE) ||
	       __atomic_load_n(&s->reset, __ATOMIC_ACQUIRE);
}

/* From DRIVER_OK to the reset: the rings are valid in between. */
static void net_session(struct vduse_net_server *s, uint8_t *buf,
			uint8_t *frame)
{
	struct net_vq q[VDUSE_NET_MAX_VQS];
	struct pollfd pfd[VDUSE_NET_MAX_VQS + 1];
	ssize_t pending = 0;
	int i, n = s->nvqs, ret;

	for (i = 0; i < n; i++)
		q[i].kick = -1;
	for (i = 0; i <= n; i++)
		pfd[i].events = POLLIN;

	while (!net_should_drop(s)) {
		uint64_t cnt;

		/* Suspended: touch no ring until resumed or reset. */
		if (__atomic_load_n(&s->suspended, __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&s->quiet, 1, __ATOMIC_RELEASE);
			usleep(1000);
			continue;
		}

		/* A VMM may enable queues after DRIVER_OK. */
		for (i = 0; i < n; i++) {
			if (q[i].kick < 0) {
				ret = net_setup_vq(s, &q[i], i);
				if (ret) {
					net_fail(s, ret);
					goto out_kicks;
				}
			}
			pfd[i].fd = q[i].kick;
		}
		/* A frame waiting for a receive buffer stops the reading. */
		pfd[n].fd = pending ? -1 : s->tap;
		if (poll(pfd, n + 1, 50) < 0)
			continue;
		for (i = 0; i < n; i++) {
			if (q[i].kick < 0)
				continue;
			/* Every ring is looked at: a kick only wakes us. */
			if (read(q[i].kick, &cnt, sizeof(cnt)) < 0)
				cnt = 0;
			if (i == s->cvq) {
				if (s->cvq_no_kicks)
					vduse_vring_no_kicks(q[i].used,
							     q[i].num,
							     q[i].last_avail);
				if (__atomic_load_n(&s->cvq_loop,
						    __ATOMIC_ACQUIRE))
					net_ctrl_loop(&q[i]);
				else if (!__atomic_load_n(&s->cvq_silent,
							  __ATOMIC_ACQUIRE))
					net_ctrl(s, &q[i], buf);
			} else if (i & 1) {
				net_tx(s, &q[i], buf);
			}
		}
		if (q[0].kick < 0)
			continue;
		for (;;) {
			/* The TAP's header says nothing the driver needs. */
			if (!pending && s->tap >= 0)
				pending = read(s->tap, frame, NET_FRAME_MAX);
			if (pending <= (ssize_t)NET_HDR_LEN) {
				pending = 0;
				break;
			}
			if (!net_rx_one(s, &q[0], frame + NET_HDR_LEN,
					pending - NET_HDR_LEN))
				break;
			pending = 0;
			net_irq(s, &q[0]);
		}
	}
out_kicks:
	for (i = 0; i < n; i++) {
		struct vduse_vq_eventfd kick = {
			.index = i,
			.fd = VDUSE_EVENTFD_DEASSIGN,
		};

		if (q[i].kick >= 0) {
			ioctl(s->fd, VDUSE_VQ_SETUP_KICKFD, &kick);
			close(q[i].kick);
		}
	}
	/* The next session may see other mappings. */
	vduse_iova_cache_drop(&s->iova);
}

static void *net_server_main(void *data)
{
	struct vduse_net_server *s = data;
	uint8_t *buf = malloc(NET_FRAME_MAX), *frame = malloc(NET_FRAME_MAX);

	if (!buf || !frame) {
		net_fail(s, -ENOMEM);
		goto out;
	}
	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(&s->reset, __ATOMIC_ACQUIRE) ||
		    !(__atomic_load_n(&s->ctl->status, __ATOMIC_ACQUIRE) &
		      VIRTIO_CONFIG_S_DRIVER_OK)) {
			usleep(10000);
			continue;
		}
		__atomic_fetch_add(&s->sessions, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&s->serving, 1, __ATOMIC_RELEASE);
		net_session(s, buf, frame);
		__atomic_store_n(&s->serving, 0, __ATOMIC_RELEASE);
	}
out:
	free(buf);
	free(frame);
	__atomic_store_n(&s->exited, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* The driver resets the device: let go of the rings, then wait again. */
static void net_server_on_reset(void *arg)
{
	struct vduse_net_server *s = arg;

	__atomic_store_n(&s->reset, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&s->serving, __ATOMIC_ACQUIRE) &&
	       !__atomic_load_n(&s->exited, __ATOMIC_ACQUIRE))
		usleep(1000);
	/* A reset also ends a suspension. */
	__atomic_store_n(&s->suspended, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&s->reset, 0, __ATOMIC_RELEASE);
}

/* VDUSE_SUSPEND: answer once the session touches no ring; RESUME: go on. */
static int net_server_on_suspend(void *arg, int suspend)
{
	struct vduse_net_server *s = arg;

	__atomic_store_n(&s->quiet, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&s->suspended, suspend, __ATOMIC_RELEASE);
	if (!suspend)
		return VDUSE_REQ_RESULT_OK;
	__atomic_fetch_add(&s->suspends, 1, __ATOMIC_RELAXED);
	while (__atomic_load_n(&s->serving, __ATOMIC_ACQUIRE) &&
	       !__atomic_load_n(&s->quiet, __ATOMIC_ACQUIRE))
		usleep(1000);
	return VDUSE_REQ_RESULT_OK;
}

static uint16_t net_server_vq_avail(void *arg, uint32_t index)
{
	struct vduse_net_server *s = arg;

	if (index >= VDUSE_NET_MAX_VQS)
		return 0;
	return __atomic_load_n(&s->last_avail[index], __ATOMIC_ACQUIRE);
}

int vduse_net_server_start(struct vduse_net_server *s)
{
	if (s->nvqs < 2 || s->nvqs > VDUSE_NET_MAX_VQS)
		return -EINVAL;
	s->iova.fd = s->fd;
	s->iova.nr = 0;
	pthread_mutex_init(&s->lock, NULL);
	__atomic_store_n(&s->stop, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&s->exited, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&s->serving, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&s->reset, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&s->suspended, 0, __ATOMIC_RELEASE);
	s->ctl->reset_arg = s;
	s->ctl->on_reset = net_server_on_reset;
	s->ctl->on_suspend = net_server_on_suspend;
	s->ctl->vq_avail = net_server_vq_avail;
	return -pthread_create(&s->thread, NULL, net_server_main, s);
}

void vduse_net_server_stop(struct vduse_net_server *s)
{
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	pthread_join(s->thread, NULL);
}

void vduse_net_server_mac(struct vduse_net_server *s, uint8_t mac[6])
{
	pthread_mutex_lock(&s->lock);
	memcpy(mac, s->mac, 6);
	pthread_mutex_unlock(&s->lock);
}
