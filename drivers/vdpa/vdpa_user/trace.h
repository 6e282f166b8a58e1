/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * VDUSE tracepoints: what the kernel asked the daemon and what came of
 * it, and what happened on each queue.  Each event names the device.
 * Disabled events cost a patched-out branch.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vduse

#if !defined(_VDUSE_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _VDUSE_TRACE_H

#include <linux/tracepoint.h>

#include "vduse.h"

#define vduse_show_msg_type(t)						\
	__print_symbolic(t,						\
			 { VDUSE_GET_VQ_STATE, "GET_VQ_STATE" },	\
			 { VDUSE_SET_STATUS, "SET_STATUS" },		\
			 { VDUSE_UPDATE_IOTLB, "UPDATE_IOTLB" },	\
			 { VDUSE_SET_VQ_GROUP_ASID, "SET_VQ_GROUP_ASID" }, \
			 { VDUSE_SET_VQ_READY, "SET_VQ_READY" },	\
			 { VDUSE_SUSPEND, "SUSPEND" },			\
			 { VDUSE_RESUME, "RESUME" })

/* A request was queued for the daemon to read. */
TRACE_EVENT(vduse_msg_send,
	TP_PROTO(struct vduse_dev *vdev, const struct vduse_dev_request *req),
	TP_ARGS(vdev, req),
	TP_STRUCT__entry(
		__string(dev, dev_name(&vdev->dev))
		__field(u32, type)
		__field(u32, request_id)
	),
	TP_fast_assign(
		__assign_str(dev);
		__entry->type = req->type;
		__entry->request_id = req->request_id;
	),
	TP_printk("%s %s request_id=%u", __get_str(dev),
		  vduse_show_msg_type(__entry->type), __entry->request_id)
);

/*
 * The sender's wait ended: ret 0 (answered OK), -EIO (answered FAILED),
 * -ETIMEDOUT (no answer in msg_timeout; vduse_broken follows when a
 * daemon was there to answer), -EINTR (fatal signal), -ENOTCONN (a
 * notification the daemon left without reading) or -ENODEV (broken
 * before or meanwhile).
 */
TRACE_EVENT(vduse_msg_done,
	TP_PROTO(struct vduse_dev *vdev, const struct vduse_dev_request *req,
		 int ret, u64 waited_ns),
	TP_ARGS(vdev, req, ret, waited_ns),
	TP_STRUCT__entry(
		__string(dev, dev_name(&vdev->dev))
		__field(u32, type)
		__field(u32, request_id)
		__field(int, ret)
		__field(u64, waited_us)
	),
	TP_fast_assign(
		__assign_str(dev);
		__entry->type = req->type;
		__entry->request_id = req->request_id;
		__entry->ret = ret;
		__entry->waited_us = div_u64(waited_ns, NSEC_PER_USEC);
	),
	TP_printk("%s %s request_id=%u ret=%d waited_us=%llu", __get_str(dev),
		  vduse_show_msg_type(__entry->type), __entry->request_id,
		  __entry->ret, __entry->waited_us)
);

/* The device broke: every request fails from now on. */
TRACE_EVENT(vduse_broken,
	TP_PROTO(struct vduse_dev *vdev),
	TP_ARGS(vdev),
	TP_STRUCT__entry(
		__string(dev, dev_name(&vdev->dev))
	),
	TP_fast_assign(
		__assign_str(dev);
	),
	TP_printk("%s", __get_str(dev))
);

/* The driver wrote the status; ret is what relaying it gave. */
TRACE_EVENT(vduse_set_status,
	TP_PROTO(struct vduse_dev *vdev, u8 old, u8 status, int ret),
	TP_ARGS(vdev, old, status, ret),
	TP_STRUCT__entry(
		__string(dev, dev_name(&vdev->dev))
		__field(u8, old)
		__field(u8, status)
		__field(int, ret)
	),
	TP_fast_assign(
		__assign_str(dev);
		__entry->old = old;
		__entry->status = status;
		__entry->ret = ret;
	),
	TP_printk("%s 0x%02x -> 0x%02x ret=%d", __get_str(dev), __entry->old,
		  __entry->status, __entry->ret)
);

/* A queue was enabled or disabled (ready is what the queue is now). */
TRACE_EVENT(vduse_vq_ready,
	TP_PROTO(struct vduse_dev *vdev, u32 index, bool ready),
	TP_ARGS(vdev, index, ready),
	TP_STRUCT__entry(
		__string(dev, dev_name(&vdev->dev))
		__field(u32, index)
		__field(bool, ready)
	),
	TP_fast_assign(
		__assign_str(dev);
		__entry->index = index;
		__entry->ready = ready;
	),
	TP_printk("%s vq%u ready=%d", __get_str(dev), __entry->index,
		  __entry->ready)
);

/* Suspend or resume: the run state went from old to state. */
TRACE_EVENT(vduse_run_state,
	TP_PROTO(struct vduse_dev *vdev, u8 old, u8 state),
	TP_ARGS(vdev, old, state),
	TP_STRUCT__entry(
		__string(dev, dev_name(&vdev->dev))
		__field(u8, old)
		__field(u8, state)
	),
	TP_fast_assign(
		__assign_str(dev);
		__entry->old = old;
		__entry->state = state;
	),
	TP_printk("%s %u -> %u", __get_str(dev), __entry->old, __entry->state)
);

/* The driver kicked a queue (vqN/stats says how many were held). */
TRACE_EVENT(vduse_vq_kick,
	TP_PROTO(struct vduse_dev *vdev, u32 index),
	TP_ARGS(vdev, index),
	TP_STRUCT__entry(
		__string(dev, dev_name(&vdev->dev))
		__field(u32, index)
	),
	TP_fast_assign(
		__assign_str(dev);
		__entry->index = index;
	),
	TP_printk("%s vq%u", __get_str(dev), __entry->index)
);

/* The daemon injected a queue's interrupt; cpu runs the callback. */
TRACE_EVENT(vduse_vq_inject,
	TP_PROTO(struct vduse_dev *vdev, u32 index, int cpu),
	TP_ARGS(vdev, index, cpu),
	TP_STRUCT__entry(
		__string(dev, dev_name(&vdev->dev))
		__field(u32, index)
		__field(int, cpu)
	),
	TP_fast_assign(
		__assign_str(dev);
		__entry->index = index;
		__entry->cpu = cpu;
	),
	TP_printk("%s vq%u cpu=%d", __get_str(dev), __entry->index,
		  __entry->cpu)
);

/* Mappings in [start, last] of an address space changed. */
TRACE_EVENT(vduse_iotlb_update,
	TP_PROTO(struct vduse_dev *vdev, u32 asid, u64 start, u64 last),
	TP_ARGS(vdev, asid, start, last),
	TP_STRUCT__entry(
		__string(dev, dev_name(&vdev->dev))
		__field(u32, asid)
		__field(u64, start)
		__field(u64, last)
	),
	TP_fast_assign(
		__assign_str(dev);
		__entry->asid = asid;
		__entry->start = start;
		__entry->last = last;
	),
	TP_printk("%s asid=%u [0x%llx, 0x%llx]", __get_str(dev),
		  __entry->asid, __entry->start, __entry->last)
);

#endif /* _VDUSE_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
