// SPDX-License-Identifier: GPL-2.0-only
/*
 * A ublk null target for `make bench`: the peer VDUSE is compared with,
 * with no qemu-storage-daemon on either side.
 *
 *   bench-ublk-null [-q QUEUES] [-d DEPTH] [-s BYTES]
 *
 * Adds a ublk device (/dev/ublkbN) of BYTES (1 GiB), QUEUES hardware
 * queues (1) of DEPTH tags (128), prints "ublkbN" on stdout once the disk
 * exists, and completes every request as done, without looking at its
 * data: ublk_drv still copies a read's buffer into the request's pages and
 * a write's the other way, as it does for any target without
 * UBLK_F_USER_COPY; the daemon never touches them.  SIGTERM or SIGINT
 * stops and deletes the device; SIGUSR1 prints the counters as one JSON
 * object: requests completed, and the waits in io_uring_enter() that
 * returned them (a wakeup of the daemon each).
 *
 * One thread per queue, each with its own io_uring: every tag's
 * UBLK_IO_FETCH_REQ first, then UBLK_IO_COMMIT_AND_FETCH_REQ for each
 * request that completes, all of a wakeup's commits in one submission.
 * The control commands use the legacy opcodes (Debian's 6.12 has
 * CONFIG_BLKDEV_UBLK_LEGACY_OPCODES) on a ring of 128-byte entries.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <linux/ublk_cmd.h>

#define MAX_QUEUES	16
#define IO_BUF_BYTES	(128 << 10)

struct queue {
	int id;
	int depth;
	int cdev;
	struct io_uring ring;
	const struct ublksrv_io_desc *desc;
	size_t desc_size;
	char *bufs;
	int ready;		/* __atomic: every tag fetched */
	int error;
	unsigned int served;	/* __atomic */
	unsigned int wakeups;	/* __atomic */
	pthread_t thread;
};

static int ctrl_fd = -1;
static struct io_uring ctrl_ring;

static void die(const char *what, int err)
{
	fprintf(stderr, "bench-ublk-null: %s: %s\n", what, strerror(err));
	exit(1);
}

/* One control command; returns the completion's result (-errno). */
static int ctrl_cmd(unsigned int op, unsigned int dev_id, void *buf, uint16_t len,
		    uint64_t data0)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ctrl_ring);
	struct ublksrv_ctrl_cmd *c;
	struct io_uring_cqe *cqe;
	int ret;

	if (!sqe)
		return -EBUSY;
	memset(sqe, 0, 2 * sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = ctrl_fd;
	sqe->cmd_op = op;
	c = (struct ublksrv_ctrl_cmd *)sqe->cmd;
	c->dev_id = dev_id;
	c->queue_id = (uint16_t)-1;
	c->addr = (uintptr_t)buf;
	c->len = len;
	c->data[0] = data0;
	ret = io_uring_submit(&ctrl_ring);
	if (ret < 0)
		return ret;
	do {
		ret = io_uring_wait_cqe(&ctrl_ring, &cqe);
	} while (ret == -EINTR);
	if (ret)
		return ret;
	ret = cqe->res;
	io_uring_cqe_seen(&ctrl_ring, cqe);
	return ret;
}

static void io_cmd(struct queue *q, uint32_t op, int tag, int result)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);
	struct ublksrv_io_cmd *c;

	/* One SQE per tag in flight, and the ring holds depth of them. */
	if (!sqe)
		abort();
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = q->cdev;
	sqe->cmd_op = op;
	sqe->user_data = tag;
	c = (struct ublksrv_io_cmd *)sqe->cmd;
	c->q_id = q->id;
	c->tag = tag;
	c->result = result;
	c->addr = (uintptr_t)(q->bufs + (size_t)tag * IO_BUF_BYTES);
}

/* What a null device answers: the whole transfer, or nothing to do. */
static int null_result(const struct ublksrv_io_desc *iod)
{
	switch (ublksrv_get_op(iod)) {
	case UBLK_IO_OP_READ:
	case UBLK_IO_OP_WRITE:
		return iod->nr_sectors << 9;
	case UBLK_IO_OP_FLUSH:
	case UBLK_IO_OP_DISCARD:
	case UBLK_IO_OP_WRITE_ZEROES:
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

static void *queue_main(void *arg)
{
	struct queue *q = arg;
	int tag, live = q->depth, ret;

	ret = io_uring_queue_init(q->depth, &q->ring, 0);
	if (ret) {
		q->error = ret;
		__atomic_store_n(&q->ready, -1, __ATOMIC_RELEASE);
		return NULL;
	}
	for (tag = 0; tag < q->depth; tag++)
		io_cmd(q, UBLK_IO_FETCH_REQ, tag, 0);
	ret = io_uring_submit(&q->ring);
	if (ret != q->depth) {
		q->error = ret < 0 ? ret : -EIO;
		__atomic_store_n(&q->ready, -1, __ATOMIC_RELEASE);
		return NULL;
	}
	__atomic_store_n(&q->ready, 1, __ATOMIC_RELEASE);

	/* STOP_DEV aborts every fetch: the loop ends when none is left. */
	while (live > 0) {
		struct io_uring_cqe *cqe;
		unsigned int head, seen = 0;

		ret = io_uring_submit_and_wait(&q->ring, 1);
		if (ret < 0 && ret != -EINTR) {
			q->error = ret;
			break;
		}
		io_uring_for_each_cqe(&q->ring, head, cqe) {
			tag = cqe->user_data;
			seen++;
			if (cqe->res != UBLK_IO_RES_OK) {
				live--;
				continue;
			}
			io_cmd(q, UBLK_IO_COMMIT_AND_FETCH_REQ, tag,
			       null_result(&q->desc[tag]));
		}
		io_uring_cq_advance(&q->ring, seen);
		__atomic_fetch_add(&q->served, seen, __ATOMIC_RELAXED);
		__atomic_fetch_add(&q->wakeups, 1, __ATOMIC_RELAXED);
	}
	io_uring_queue_exit(&q->ring);
	return NULL;
}

int main(int argc, char **argv)
{
	struct ublksrv_ctrl_dev_info info = { 0 };
	struct ublk_params params = { 0 };
	static struct queue queues[MAX_QUEUES];
	int nq = 1, depth = 128, opt, i, ret, cdev, sig;
	unsigned long long size = 1ULL << 30;
	size_t max_desc;
	char path[64];
	sigset_t set;

	while ((opt = getopt(argc, argv, "q:d:s:")) != -1) {
		switch (opt) {
		case 'q':
			nq = atoi(optarg);
			break;
		case 'd':
			depth = atoi(optarg);
			break;
		case 's':
			size = strtoull(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: %s [-q QUEUES] [-d DEPTH] [-s BYTES]\n",
				argv[0]);
			return 2;
		}
	}
	if (nq < 1 || nq > MAX_QUEUES || depth < 1 || depth > 1024 ||
	    size < 4096 || size % 4096)
		die("arguments", EINVAL);

	ctrl_fd = open("/dev/ublk-control", O_RDWR | O_CLOEXEC);
	if (ctrl_fd < 0)
		die("/dev/ublk-control", errno);
	ret = io_uring_queue_init(4, &ctrl_ring, IORING_SETUP_SQE128);
	if (ret)
		die("io_uring (control)", -ret);

	info.nr_hw_queues = nq;
	info.queue_depth = depth;
	info.max_io_buf_bytes = IO_BUF_BYTES;
	info.dev_id = (uint32_t)-1;
	ret = ctrl_cmd(UBLK_CMD_ADD_DEV, info.dev_id, &info, sizeof(info), 0);
	if (ret)
		die("UBLK_CMD_ADD_DEV", -ret);

	params.len = sizeof(params);
	params.types = UBLK_PARAM_TYPE_BASIC;
	params.basic.logical_bs_shift = 9;
	params.basic.physical_bs_shift = 12;
	params.basic.io_min_shift = 9;
	params.basic.io_opt_shift = 12;
	params.basic.max_sectors = IO_BUF_BYTES >> 9;
	params.basic.dev_sectors = size >> 9;
	ret = ctrl_cmd(UBLK_CMD_SET_PARAMS, info.dev_id, &params,
		       sizeof(params), 0);
	if (ret)
		die("UBLK_CMD_SET_PARAMS", -ret);

	snprintf(path, sizeof(path), "/dev/ublkc%u", info.dev_id);
	for (i = 0; i < 200; i++) {
		cdev = open(path, O_RDWR | O_CLOEXEC);
		if (cdev >= 0 || errno != ENOENT)
			break;
		usleep(10000);
	}
	if (cdev < 0)
		die(path, errno);

	/* Each queue's descriptors sit at a fixed stride in the char dev. */
	max_desc = (UBLK_MAX_QUEUE_DEPTH * sizeof(struct ublksrv_io_desc) +
		    4095) & ~4095UL;
	for (i = 0; i < nq; i++) {
		struct queue *q = &queues[i];
		void *p;

		q->id = i;
		q->depth = depth;
		q->cdev = cdev;
		q->desc_size = (depth * sizeof(struct ublksrv_io_desc) + 4095) &
			       ~4095UL;
		p = mmap(NULL, q->desc_size, PROT_READ, MAP_SHARED | MAP_POPULATE,
			 cdev, UBLKSRV_CMD_BUF_OFFSET + i * max_desc);
		if (p == MAP_FAILED)
			die("mmap of the descriptors", errno);
		q->desc = p;
		q->bufs = mmap(NULL, (size_t)depth * IO_BUF_BYTES,
			       PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (q->bufs == MAP_FAILED)
			die("mmap of the buffers", errno);
	}

	/* Every thread inherits the mask: only sigwait() below takes them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < nq; i++) {
		ret = pthread_create(&queues[i].thread, NULL, queue_main,
				     &queues[i]);
		if (ret)
			die("pthread_create", ret);
	}
	for (i = 0; i < nq; i++) {
		while (!__atomic_load_n(&queues[i].ready, __ATOMIC_ACQUIRE))
			usleep(1000);
		if (queues[i].ready < 0)
			die("fetching the tags", -queues[i].error);
	}

	ret = ctrl_cmd(UBLK_CMD_START_DEV, info.dev_id, NULL, 0, getpid());
	if (ret)
		die("UBLK_CMD_START_DEV", -ret);
	printf("ublkb%u\n", info.dev_id);
	fflush(stdout);

	for (;;) {
		unsigned int served = 0, wakeups = 0;

		if (sigwait(&set, &sig))
			continue;
		if (sig != SIGUSR1)
			break;
		/* Aborted fetches count too; they come only at the end. */
		for (i = 0; i < nq; i++) {
			served += __atomic_load_n(&queues[i].served,
						  __ATOMIC_RELAXED);
			wakeups += __atomic_load_n(&queues[i].wakeups,
						   __ATOMIC_RELAXED);
		}
		printf("{\"served\": %u, \"wakeups\": %u}\n", served, wakeups);
		fflush(stdout);
	}

	ret = ctrl_cmd(UBLK_CMD_STOP_DEV, info.dev_id, NULL, 0, 0);
	if (ret)
		fprintf(stderr, "bench-ublk-null: UBLK_CMD_STOP_DEV: %s\n",
			strerror(-ret));
	for (i = 0; i < nq; i++) {
		pthread_join(queues[i].thread, NULL);
		if (queues[i].error)
			fprintf(stderr, "bench-ublk-null: queue %d: %s\n", i,
				strerror(-queues[i].error));
		munmap((void *)queues[i].desc, queues[i].desc_size);
	}
	close(cdev);
	ret = ctrl_cmd(UBLK_CMD_DEL_DEV, info.dev_id, NULL, 0, 0);
	if (ret)
		die("UBLK_CMD_DEL_DEV", -ret);
	return 0;
}
