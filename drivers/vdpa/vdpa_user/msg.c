// SPDX-License-Identifier: GPL-2.0-only
/*
 * VDUSE: vDPA Device in Userspace - the message relay.
 *
 * The kernel asks, the daemon answers: a request is queued on send_list,
 * moves to recv_list when the daemon read()s it, and leaves that list
 * when the daemon write()s the answer with its request_id.  The sender
 * waits at most msg_timeout seconds, killably.  A timeout breaks the
 * device when the daemon holding the request read it, or had the node
 * open for the whole wait: every request in flight and every later one
 * fails at once.  When the daemon closes
 * its node, requests it read but never answered go back to the head of
 * send_list, in order, for the next daemon; notifications meant for it
 * alone (vduse_msg_notify()) are dropped.
 *
 * A broken device is reported once to each daemon: poll() shows EPOLLERR
 * and read() fails with EIO until a read() has said so; from then on
 * they behave as for an empty queue, so an event loop that reads on
 * EPOLLERR neither spins nor blocks in read() for good.
 *
 * This is the only file that sleeps on the daemon.
 *
 * Locking (see "DOC: Locking" in vduse.h): vduse_dev.msg_lock, a
 * spinlock, protects both lists, next_request_id, broken and
 * broken_told.  Nothing copies to or from userspace under it.  A message lives on its sender's
 * stack: every path that ends the sender's wait unlinks it under
 * msg_lock first, so no one touches it after the sender returns.
 */

#include <linux/completion.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/list.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/timekeeping.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "vduse.h"
#include "trace.h"

/**
 * struct vduse_msg - a request in flight
 * @req: what the daemon reads
 * @resp: what it answered, valid once @done completed with @answered
 * @node: on send_list or recv_list, under msg_lock
 * @done: completed when the message leaves the lists for good
 * @answered: the daemon answered (else the device broke, or @notify)
 * @read: on recv_list: a daemon read it
 * @notify: only for the daemon connected now (vduse_msg_notify()): it
 *	is dropped rather than handed to the next daemon
 * @dropped: dropped because its daemon went away
 */
struct vduse_msg {
	struct vduse_dev_request req;
	struct vduse_dev_response resp;
	struct list_head node;
	struct completion done;
	bool answered;
	bool read;
	bool notify;
	bool dropped;
};

/**
 * vduse_msg_init() - set up a device's relay
 * @vdev: the device
 */
void vduse_msg_init(struct vduse_dev *vdev)
{
	spin_lock_init(&vdev->msg_lock);
	INIT_LIST_HEAD(&vdev->send_list);
	INIT_LIST_HEAD(&vdev->recv_list);
	init_waitqueue_head(&vdev->waitq);
	vdev->msg_timeout = VDUSE_MSG_TIMEOUT_DEFAULT;
}

/*
 * Fail one list's messages, under msg_lock: their senders see the device
 * broken.
 */
static void vduse_msg_fail_list(struct list_head *list)
{
	struct vduse_msg *msg, *tmp;

	list_for_each_entry_safe(msg, tmp, list, node) {
		list_del_init(&msg->node);
		complete(&msg->done);
	}
}

static void vduse_msg_break_locked(struct vduse_dev *vdev)
{
	lockdep_assert_held(&vdev->msg_lock);

	if (vdev->broken)
		return;
	WRITE_ONCE(vdev->broken, true);
	vduse_msg_fail_list(&vdev->send_list);
	vduse_msg_fail_list(&vdev->recv_list);
	wake_up_all(&vdev->waitq);
	trace_vduse_broken(vdev);
	dev_warn(&vdev->dev, "the daemon did not answer in time: device broken\n");
}

/**
 * vduse_msg_break() - mark the device broken, as a timeout does
 * @vdev: the device
 *
 * For a failure to answer that is not a request: the control virtqueue
 * (cvq.c).  Pending requests fail, and no later one waits.
 */
void vduse_msg_break(struct vduse_dev *vdev)
{
	spin_lock(&vdev->msg_lock);
	vduse_msg_break_locked(vdev);
	spin_unlock(&vdev->msg_lock);
}

/**
 * vduse_msg_broken() - whether the device's relay is broken
 * @vdev: the device
 *
 * Return: true once a request timed out.
 */
bool vduse_msg_broken(struct vduse_dev *vdev)
{
	return READ_ONCE(vdev->broken);
}

static enum vduse_msg_stat vduse_msg_stat_of(u32 type)
{
	switch (type) {
	case VDUSE_GET_VQ_STATE:
		return VDUSE_MSG_STAT_GET_VQ_STATE;
	case VDUSE_SET_STATUS:
		return VDUSE_MSG_STAT_SET_STATUS;
	case VDUSE_UPDATE_IOTLB:
		return VDUSE_MSG_STAT_UPDATE_IOTLB;
	case VDUSE_SET_VQ_GROUP_ASID:
		return VDUSE_MSG_STAT_SET_VQ_GROUP_ASID;
	case VDUSE_SET_VQ_READY:
		return VDUSE_MSG_STAT_SET_VQ_READY;
	case VDUSE_SUSPEND:
		return VDUSE_MSG_STAT_SUSPEND;
	case VDUSE_RESUME:
		return VDUSE_MSG_STAT_RESUME;
	default:
		return VDUSE_MSG_STAT_OTHER;
	}
}

/**
 * vduse_msg_stats_get() - a snapshot of a device's message counters
 * @vdev: the device
 * @st: where to put them
 */
void vduse_msg_stats_get(struct vduse_dev *vdev, struct vduse_msg_stats *st)
{
	spin_lock(&vdev->msg_lock);
	*st = vdev->msg_stats;
	spin_unlock(&vdev->msg_lock);
}

static int vduse_msg_do_send(struct vduse_dev *vdev,
			     struct vduse_dev_request *req,
			     struct vduse_dev_response *resp, bool notify)
{
	unsigned int timeout_s = READ_ONCE(vdev->msg_timeout);
	long timeout = timeout_s ? (long)timeout_s * HZ : MAX_SCHEDULE_TIMEOUT;
	struct vduse_msg msg = {};
	u64 start, waited;
	long left;
	int ret;

	might_sleep();
	lockdep_assert_not_held(&vdev->lock);

	init_completion(&msg.done);
	INIT_LIST_HEAD(&msg.node);
	msg.req = *req;
	msg.notify = notify;

	spin_lock(&vdev->msg_lock);
	if (vdev->broken) {
		spin_unlock(&vdev->msg_lock);
		return -ENODEV;
	}
	if (notify && !vdev->reader) {
		spin_unlock(&vdev->msg_lock);
		return -ENOTCONN;
	}
	msg.req.request_id = vdev->next_request_id++;
	list_add_tail(&msg.node, &vdev->send_list);
	vdev->msg_stats.sent[vduse_msg_stat_of(msg.req.type)]++;
	spin_unlock(&vdev->msg_lock);
	trace_vduse_msg_send(vdev, &msg.req);
	wake_up(&vdev->waitq);

	start = ktime_get_ns();
	left = wait_for_completion_killable_timeout(&msg.done, timeout);
	waited = ktime_get_ns() - start;

	spin_lock(&vdev->msg_lock);
	if (msg.answered) {
		ret = msg.resp.result == VDUSE_REQ_RESULT_OK ? 0 : -EIO;
	} else if (!list_empty(&msg.node)) {
		/* Still queued or read: this wait ended first. */
		list_del_init(&msg.node);
		if (left != 0) {
			ret = -EINTR;
		} else {
			/*
			 * A daemon that holds the request, or had the node
			 * open all along and did not read it, failed to
			 * answer.  With no daemon, or one that connected
			 * during the wait (a restart), nobody is to blame.
			 */
			if (msg.read ||
			    (vdev->reader && vdev->connected_ns <= start))
				vduse_msg_break_locked(vdev);
			ret = -ETIMEDOUT;
		}
	} else if (msg.dropped) {
		ret = -ENOTCONN;
	} else {
		/* Failed by vduse_msg_break_locked(). */
		ret = -ENODEV;
	}
	if (ret == -EIO)
		vdev->msg_stats.failed++;
	else if (ret == -ETIMEDOUT)
		vdev->msg_stats.timed_out++;
	vdev->msg_stats.wait_max_ns = max(vdev->msg_stats.wait_max_ns, waited);
	spin_unlock(&vdev->msg_lock);
	trace_vduse_msg_done(vdev, &msg.req, ret, waited);

	*req = msg.req;
	if (resp && msg.answered)
		*resp = msg.resp;

	return ret;
}

/**
 * vduse_msg_send() - send a request to the daemon and wait for its answer
 * @vdev: the device
 * @req: the request; its request_id is filled in
 * @resp: where the answer goes, or NULL
 *
 * Sleeps up to the device's msg_timeout (forever if 0), or until a fatal
 * signal.  A request sent while no daemon has the node open waits for
 * the next one.  Must not be called under a spinlock or vduse_dev.lock,
 * which the daemon's ioctls take.
 *
 * Return: 0 when the daemon answered VDUSE_REQ_RESULT_OK, -EIO when it
 * answered anything else, -ETIMEDOUT when the wait timed out (the device
 * is broken from then on if the daemon holding it read it, or had the
 * node open for the whole wait), -ENODEV when it was broken already, -EINTR on
 * a fatal signal.
 */
int vduse_msg_send(struct vduse_dev *vdev, struct vduse_dev_request *req,
		   struct vduse_dev_response *resp)
{
	return vduse_msg_do_send(vdev, req, resp, false);
}

/**
 * vduse_msg_notify() - tell the daemon connected now, if any
 * @vdev: the device
 * @req: the request; its request_id is filled in
 *
 * vduse_msg_send() for news that only the daemon connected now can act
 * on (what it mapped): with no daemon it returns at once, and if the
 * daemon goes away before answering, the request is dropped rather than
 * handed to the next one.  Same context as vduse_msg_send().
 *
 * Return: as vduse_msg_send(), or -ENOTCONN when no daemon has the node
 * open, or it closed the node before answering.
 */
int vduse_msg_notify(struct vduse_dev *vdev, struct vduse_dev_request *req)
{
	return vduse_msg_do_send(vdev, req, NULL, true);
}

/**
 * vduse_msg_connect() - a daemon opened the node
 * @vdev: the device
 */
void vduse_msg_connect(struct vduse_dev *vdev)
{
	spin_lock(&vdev->msg_lock);
	vdev->reader = true;
	vdev->connected_ns = ktime_get_ns();
	spin_unlock(&vdev->msg_lock);
}

/* Drop a list's notifications, under msg_lock; their senders go on. */
static void vduse_msg_drop_notify(struct list_head *list)
{
	struct vduse_msg *msg, *tmp;

	list_for_each_entry_safe(msg, tmp, list, node) {
		msg->read = false;
		if (!msg->notify)
			continue;
		msg->dropped = true;
		list_del_init(&msg->node);
		complete(&msg->done);
	}
}

/**
 * vduse_msg_requeue() - the daemon closed its node: give requests read
 * but not answered back, for the next daemon
 * @vdev: the device
 *
 * Notifications (vduse_msg_notify()) were for that daemon only: they are
 * dropped.
 */
void vduse_msg_requeue(struct vduse_dev *vdev)
{
	spin_lock(&vdev->msg_lock);
	vdev->reader = false;
	vduse_msg_drop_notify(&vdev->recv_list);
	vduse_msg_drop_notify(&vdev->send_list);
	list_splice_init(&vdev->recv_list, &vdev->send_list);
	/* The next daemon is told of a break too. */
	vdev->broken_told = false;
	spin_unlock(&vdev->msg_lock);
}

/* A break read() has yet to report; lockless in the wait condition. */
static bool vduse_msg_break_untold(struct vduse_dev *vdev)
{
	return READ_ONCE(vdev->broken) && !READ_ONCE(vdev->broken_told);
}

static bool vduse_msg_has_work(struct vduse_dev *vdev)
{
	return vduse_msg_break_untold(vdev) ||
	       !list_empty_careful(&vdev->send_list);
}

/**
 * vduse_msg_read() - read() on the device node: the next request
 * @vdev: the device
 * @buf: the daemon's buffer
 * @count: its size; at least sizeof(struct vduse_dev_request)
 * @nonblock: O_NONBLOCK
 *
 * Return: the size of a request, -EINVAL for a short buffer, -EAGAIN
 * when nothing is queued and @nonblock, -ERESTARTSYS on a signal, -EIO
 * the first time after the device broke, -EFAULT when @buf faults (the
 * request stays first in line, and another reader is woken for it).
 */
ssize_t vduse_msg_read(struct vduse_dev *vdev, char __user *buf, size_t count,
		       bool nonblock)
{
	struct vduse_dev_request req;
	struct vduse_msg *msg;
	bool awaited;
	int ret;

	if (count < sizeof(req))
		return -EINVAL;

	spin_lock(&vdev->msg_lock);
	for (;;) {
		if (vduse_msg_break_untold(vdev)) {
			WRITE_ONCE(vdev->broken_told, true);
			ret = -EIO;
			goto out_unlock;
		}
		msg = list_first_entry_or_null(&vdev->send_list,
					       struct vduse_msg, node);
		if (msg)
			break;
		if (nonblock) {
			ret = -EAGAIN;
			goto out_unlock;
		}
		spin_unlock(&vdev->msg_lock);
		ret = wait_event_interruptible_exclusive(vdev->waitq,
							 vduse_msg_has_work(vdev));
		if (ret)
			return ret;
		spin_lock(&vdev->msg_lock);
	}
	/*
	 * Move it along before copying: the copy may fault and sleep, and
	 * the sender may give up meanwhile.  Only the copy of the request
	 * is used outside the lock.
	 */
	req = msg->req;
	awaited = !list_empty(&vdev->recv_list);
	msg->read = true;
	list_move_tail(&msg->node, &vdev->recv_list);
	spin_unlock(&vdev->msg_lock);
	/* A reply is awaited now: pollers for EPOLLOUT may write. */
	if (!awaited)
		wake_up_poll(&vdev->waitq, EPOLLOUT | EPOLLWRNORM);

	if (!copy_to_user(buf, &req, sizeof(req)))
		return sizeof(req);

	/* Put it back first in line, if its sender still waits. */
	spin_lock(&vdev->msg_lock);
	list_for_each_entry(msg, &vdev->recv_list, node) {
		if (msg->req.request_id == req.request_id) {
			msg->read = false;
			list_move(&msg->node, &vdev->send_list);
			break;
		}
	}
	spin_unlock(&vdev->msg_lock);
	/*
	 * Readers wait exclusively: this one was woken for the request, so
	 * another one may sleep on with it queued.
	 */
	wake_up(&vdev->waitq);
	return -EFAULT;

out_unlock:
	spin_unlock(&vdev->msg_lock);
	return ret;
}

/**
 * vduse_msg_write() - write() on the device node: an answer
 * @vdev: the device
 * @buf: the daemon's struct vduse_dev_response
 * @count: exactly sizeof(struct vduse_dev_response)
 *
 * Return: @count, -EINVAL for a wrong size, an unknown result or
 * non-zero reserved fields, -EFAULT, -ENOENT when no request read and
 * unanswered has that request_id, -EIO when the device is broken.
 */
ssize_t vduse_msg_write(struct vduse_dev *vdev, const char __user *buf,
			size_t count)
{
	struct vduse_dev_response resp;
	struct vduse_msg *msg;
	unsigned int i;
	ssize_t ret = -ENOENT;

	if (count != sizeof(resp))
		return -EINVAL;
	if (copy_from_user(&resp, buf, sizeof(resp)))
		return -EFAULT;
	if (resp.result != VDUSE_REQ_RESULT_OK &&
	    resp.result != VDUSE_REQ_RESULT_FAILED)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(resp.reserved); i++)
		if (resp.reserved[i])
			return -EINVAL;

	spin_lock(&vdev->msg_lock);
	if (vdev->broken) {
		ret = -EIO;
		goto out_unlock;
	}
	list_for_each_entry(msg, &vdev->recv_list, node) {
		if (msg->req.request_id != resp.request_id)
			continue;
		msg->resp = resp;
		msg->answered = true;
		list_del_init(&msg->node);
		complete(&msg->done);
		ret = count;
		break;
	}
out_unlock:
	spin_unlock(&vdev->msg_lock);
	return ret;
}

/**
 * vduse_msg_poll() - poll() on the device node
 * @vdev: the device
 * @file: the daemon's file
 * @wait: the poll table
 *
 * Return: EPOLLIN when a request is queued, EPOLLOUT while one was read
 * and awaits its answer, EPOLLERR when the device broke and no read()
 * reported it yet.
 */
__poll_t vduse_msg_poll(struct vduse_dev *vdev, struct file *file,
			poll_table *wait)
{
	__poll_t mask = 0;

	poll_wait(file, &vdev->waitq, wait);

	spin_lock(&vdev->msg_lock);
	if (vduse_msg_break_untold(vdev))
		mask |= EPOLLERR;
	if (!list_empty(&vdev->send_list))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (!list_empty(&vdev->recv_list))
		mask |= EPOLLOUT | EPOLLWRNORM;
	spin_unlock(&vdev->msg_lock);

	return mask;
}
