/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
#ifndef _UAPI_VDUSE_H_
#define _UAPI_VDUSE_H_

#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * DOC: VDUSE userspace ABI
 *
 * VDUSE lets a process ("the daemon") implement a virtio device whose
 * driver runs in the kernel (virtio-vdpa) or in a guest (vhost-vdpa).
 *
 * Two kinds of character device carry the ABI:
 *
 * - ``/dev/vduse/control`` creates and destroys devices, and chooses the
 *   VDUSE features (``VDUSE_F_*``) of the devices it creates.  Its ioctls
 *   use numbers 0x00-0x0f of the ``VDUSE_BASE`` space.
 * - ``/dev/vduse/$NAME`` is the per-device node held by the daemon.  It is
 *   read() for &struct vduse_dev_request messages, written with
 *   &struct vduse_dev_response answers, and takes the ioctls numbered
 *   0x10 and up.
 *
 * Every structure below is part of the ABI: its size and layout never
 * change.  Reserved fields must be zero when passed in and are zero when
 * passed out.
 */

#define VDUSE_BASE	0x81

/**
 * define VDUSE_API_VERSION - the original interface
 *
 * A control file descriptor starts at this version.
 */
#define VDUSE_API_VERSION	0

/**
 * define VDUSE_API_VERSION_1 - adds virtqueue groups and address spaces
 *
 * Devices created after VDUSE_SET_API_VERSION(1) may have several
 * virtqueue groups (&vduse_dev_config.ngroups) mapped onto several address
 * spaces (&vduse_dev_config.nas).
 */
#define VDUSE_API_VERSION_1	1

/*
 * Control node ioctls.
 */

/**
 * define VDUSE_GET_API_VERSION - read the API version of this control fd
 *
 * Argument: pointer to a __u64 that receives the version.
 */
#define VDUSE_GET_API_VERSION	_IOR(VDUSE_BASE, 0x00, __u64)

/**
 * define VDUSE_SET_API_VERSION - choose the API version of this control fd
 *
 * Argument: pointer to a __u64 holding VDUSE_API_VERSION or
 * VDUSE_API_VERSION_1.  Devices created through this fd afterwards use
 * that version.  Any other value fails with -EINVAL.
 */
#define VDUSE_SET_API_VERSION	_IOW(VDUSE_BASE, 0x01, __u64)

/**
 * define VDUSE_NAME_MAX - size of a device name buffer, NUL included
 */
#define VDUSE_NAME_MAX	256

/**
 * struct vduse_dev_config - the device VDUSE_CREATE_DEV creates
 * @name: NUL-terminated device name; becomes /dev/vduse/@name
 * @vendor_id: virtio vendor ID reported to the driver
 * @device_id: virtio device ID (VIRTIO_ID_BLOCK, VIRTIO_ID_NET or VIRTIO_ID_FS)
 * @features: virtio feature bits the device offers
 * @vq_num: number of virtqueues
 * @vq_align: virtqueue alignment in bytes, a power of two
 * @ngroups: number of virtqueue groups (API version 1 only; must be zero
 *	in version 0, where the device has a single group)
 * @nas: number of address spaces (API version 1 only; must be zero in
 *	version 0, where the device has a single address space)
 * @reserved: must be zero
 * @config_size: size of @config in bytes
 * @config: initial contents of the device configuration space
 */
struct vduse_dev_config {
	char name[VDUSE_NAME_MAX];
	__u32 vendor_id;
	__u32 device_id;
	__u64 features;
	__u32 vq_num;
	__u32 vq_align;
	__u32 ngroups;
	__u32 nas;
	__u32 reserved[11];
	__u32 config_size;
	__u8 config[];
};

/**
 * define VDUSE_CREATE_DEV - create a device
 *
 * Argument: pointer to a &struct vduse_dev_config followed by
 * &vduse_dev_config.config_size bytes of configuration space.
 */
#define VDUSE_CREATE_DEV	_IOW(VDUSE_BASE, 0x02, struct vduse_dev_config)

/**
 * define VDUSE_DESTROY_DEV - destroy a device
 *
 * Argument: pointer to a NUL-terminated name of at most VDUSE_NAME_MAX
 * bytes.  Fails with -EBUSY while the device node is open or the device is
 * attached to the vdpa bus.
 */
#define VDUSE_DESTROY_DEV	_IOW(VDUSE_BASE, 0x03, char[VDUSE_NAME_MAX])

/**
 * define VDUSE_F_QUEUE_READY - relay the driver's queue enables
 *
 * Bit number of a VDUSE feature: a device created with it sends
 * VDUSE_SET_VQ_READY whenever the driver enables or disables a virtqueue,
 * and a VMM on vhost-vdpa may enable queues after DRIVER_OK.
 */
#define VDUSE_F_QUEUE_READY	0

/**
 * define VDUSE_F_SUSPEND - relay VHOST_VDPA_SUSPEND
 *
 * Bit number of a VDUSE feature: a device created with it offers suspend
 * to vhost-vdpa and sends VDUSE_SUSPEND.
 */
#define VDUSE_F_SUSPEND		1

/**
 * define VDUSE_F_RESUME - relay VHOST_VDPA_RESUME (this driver's extension)
 *
 * Bit number of a VDUSE feature, valid only together with
 * VDUSE_F_SUSPEND: a device created with it also offers resume and sends
 * VDUSE_RESUME.  Mainline VDUSE does not define this bit; it numbers its
 * features upwards from 0, so this one takes the top bit, which mainline
 * would hand out last.
 */
#define VDUSE_F_RESUME		63

/**
 * define VDUSE_GET_FEATURES - read the VDUSE features this kernel offers
 *
 * Argument: pointer to a __u64 that receives a mask of
 * ``1ULL << VDUSE_F_*`` bits.  These are features of the VDUSE interface,
 * not virtio feature bits.
 */
#define VDUSE_GET_FEATURES	_IOR(VDUSE_BASE, 0x04, __u64)

/**
 * define VDUSE_SET_FEATURES - choose the VDUSE features of new devices
 *
 * Argument: pointer to a __u64 mask of ``1ULL << VDUSE_F_*`` bits.
 * Devices created through this control fd afterwards get exactly these
 * features; devices created before keep theirs.  A bit this kernel does
 * not offer, or VDUSE_F_RESUME without VDUSE_F_SUSPEND, fails with
 * -EINVAL.  A daemon that never calls it gets no features.
 */
#define VDUSE_SET_FEATURES	_IOW(VDUSE_BASE, 0x05, __u64)

/*
 * Device node ioctls.
 */

/* Access rights of an IOVA range, as seen by the device. */
#define VDUSE_ACCESS_RO	0x1
#define VDUSE_ACCESS_WO	0x2
#define VDUSE_ACCESS_RW	0x3

/**
 * struct vduse_iotlb_entry - an IOVA range and what backs it
 * @offset: out: offset into the returned file at which @start is mapped
 * @start: in: first IOVA looked at; out: first IOVA of the range found
 * @last: in: last IOVA looked at, not below @start; out: last IOVA of the
 *	range found (inclusive)
 * @perm: out: VDUSE_ACCESS_RO, VDUSE_ACCESS_WO or VDUSE_ACCESS_RW
 *
 * The structure has 7 bytes of implicit tail padding: its size is 32.
 */
struct vduse_iotlb_entry {
	__u64 offset;
	__u64 start;
	__u64 last;
	__u8 perm;
};

/**
 * define VDUSE_IOTLB_GET_FD - get a file to mmap for an IOVA range
 *
 * Argument: pointer to a &struct vduse_iotlb_entry whose start and last
 * are IOVAs of address space 0.  The first mapped range that overlaps
 * [start, last] is described, and a new file descriptor (O_CLOEXEC is not
 * set) returned that can be mmapped at &vduse_iotlb_entry.offset with the
 * rights in &vduse_iotlb_entry.perm.
 */
#define VDUSE_IOTLB_GET_FD	_IOWR(VDUSE_BASE, 0x10, struct vduse_iotlb_entry)

/**
 * struct vduse_iotlb_entry_v2 - an IOVA range of an address space
 * @offset: out: offset into the returned file at which @start is mapped
 * @start: in: first IOVA looked at; out: first IOVA of the range found
 * @last: in: last IOVA looked at, not below @start; out: last IOVA of the
 *	range found (inclusive)
 * @perm: out: VDUSE_ACCESS_RO, VDUSE_ACCESS_WO or VDUSE_ACCESS_RW
 * @padding: must be zero
 * @asid: in: the address space, below &vduse_dev_config.nas
 * @reserved: must be zero
 */
struct vduse_iotlb_entry_v2 {
	__u64 offset;
	__u64 start;
	__u64 last;
	__u8 perm;
	__u8 padding[7];
	__u32 asid;
	__u32 reserved[11];
};

/**
 * define VDUSE_IOTLB_GET_FD2 - VDUSE_IOTLB_GET_FD for any address space
 *
 * Argument: pointer to a &struct vduse_iotlb_entry_v2.  API version 1
 * devices only; others fail with -ENOTTY.
 */
#define VDUSE_IOTLB_GET_FD2	_IOWR(VDUSE_BASE, 0x1b, struct vduse_iotlb_entry_v2)

/**
 * define VDUSE_DEV_GET_FEATURES - read the features the driver accepted
 *
 * Argument: pointer to a __u64 that receives the feature bits.
 */
#define VDUSE_DEV_GET_FEATURES	_IOR(VDUSE_BASE, 0x11, __u64)

/**
 * struct vduse_config_data - a write into the configuration space
 * @offset: byte offset into the configuration space
 * @length: number of bytes in @buffer
 * @buffer: the bytes to write
 */
struct vduse_config_data {
	__u32 offset;
	__u32 length;
	__u8 buffer[];
};

/**
 * define VDUSE_DEV_SET_CONFIG - update the configuration space
 *
 * Argument: pointer to a &struct vduse_config_data followed by its buffer.
 */
#define VDUSE_DEV_SET_CONFIG	_IOW(VDUSE_BASE, 0x12, struct vduse_config_data)

/**
 * define VDUSE_DEV_INJECT_CONFIG_IRQ - signal a configuration change
 *
 * No argument.
 */
#define VDUSE_DEV_INJECT_CONFIG_IRQ	_IO(VDUSE_BASE, 0x13)

/**
 * struct vduse_vq_config - virtqueue properties set by the daemon
 * @index: virtqueue index
 * @max_size: largest queue size the device supports
 * @reserved1: must be zero
 * @group: virtqueue group (API version 1 only; must be zero in version 0)
 * @reserved2: must be zero
 */
struct vduse_vq_config {
	__u32 index;
	__u16 max_size;
	__u16 reserved1;
	__u32 group;
	__u16 reserved2[10];
};

/**
 * define VDUSE_VQ_SETUP - set up a virtqueue before the device is attached
 *
 * Argument: pointer to a &struct vduse_vq_config.
 */
#define VDUSE_VQ_SETUP	_IOW(VDUSE_BASE, 0x14, struct vduse_vq_config)

/**
 * struct vduse_vq_state_split - state of a split virtqueue
 * @avail_index: index of the next available descriptor the device reads
 */
struct vduse_vq_state_split {
	__u16 avail_index;
};

/**
 * struct vduse_vq_state_packed - state of a packed virtqueue
 * @last_avail_counter: wrap counter of the last available descriptor
 * @last_avail_idx: index of the next available descriptor the device reads
 * @last_used_counter: wrap counter of the last used descriptor
 * @last_used_idx: index of the next used descriptor the device writes
 */
struct vduse_vq_state_packed {
	__u16 last_avail_counter;
	__u16 last_avail_idx;
	__u16 last_used_counter;
	__u16 last_used_idx;
};

/**
 * struct vduse_vq_info - a virtqueue as the driver set it up
 * @index: in: virtqueue index
 * @num: queue size
 * @desc_addr: IOVA of the descriptor area
 * @driver_addr: IOVA of the driver area
 * @device_addr: IOVA of the device area
 * @split: state, for a split virtqueue
 * @packed: state, for a packed virtqueue
 * @ready: non-zero once the driver enabled the virtqueue
 * @flags: in: VDUSE_VQ_INFO_F_QUERY asks for @asid and the device's
 *	state; out: VDUSE_VQ_INFO_F_* (this driver's extension)
 * @asid: out, with VDUSE_VQ_INFO_F_FILLED: the address space the
 *	virtqueue's group is bound to (this driver's extension)
 *
 * Its size is mainline's: 48 bytes, or 44 where __u64 is 4-byte aligned
 * (32-bit x86), so that VDUSE_VQ_GET_INFO keeps its number there too.
 * @flags and @asid are implicit tail padding in mainline, whose kernels
 * leave them as they were passed in: only a daemon that asks, and sees
 * VDUSE_VQ_INFO_F_FILLED, may use them.  When not asked, they read as
 * zero; on input, all but VDUSE_VQ_INFO_F_QUERY is ignored.
 */
struct vduse_vq_info {
	__u32 index;
	__u32 num;
	__u64 desc_addr;
	__u64 driver_addr;
	__u64 device_addr;
	union {
		struct vduse_vq_state_split split;
		struct vduse_vq_state_packed packed;
	};
	__u8 ready;
	__u8 flags;
	__u16 asid;
};

/* &vduse_vq_info.flags: the daemon asks for the extension (in). */
#define VDUSE_VQ_INFO_F_QUERY		(1 << 0)
/* &vduse_vq_info.flags: the kernel filled the extension in (out). */
#define VDUSE_VQ_INFO_F_FILLED		(1 << 1)
/*
 * &vduse_vq_info.flags: the device is suspended: the daemon accepted
 * VDUSE_SUSPEND and no VDUSE_RESUME since, nor a reset (out).
 */
#define VDUSE_VQ_INFO_F_SUSPENDED	(1 << 2)

/**
 * define VDUSE_VQ_GET_INFO - read a virtqueue's addresses and state
 *
 * Argument: pointer to a &struct vduse_vq_info with its index set.
 */
#define VDUSE_VQ_GET_INFO	_IOWR(VDUSE_BASE, 0x15, struct vduse_vq_info)

/**
 * define VDUSE_EVENTFD_DEASSIGN - &vduse_vq_eventfd.fd value that removes
 * the eventfd
 */
#define VDUSE_EVENTFD_DEASSIGN	-1

/**
 * struct vduse_vq_eventfd - the eventfd signalled on a virtqueue kick
 * @index: virtqueue index
 * @fd: an eventfd, or VDUSE_EVENTFD_DEASSIGN
 */
struct vduse_vq_eventfd {
	__u32 index;
	int fd;
};

/**
 * define VDUSE_VQ_SETUP_KICKFD - set or clear a virtqueue's kick eventfd
 *
 * Argument: pointer to a &struct vduse_vq_eventfd.
 */
#define VDUSE_VQ_SETUP_KICKFD	_IOW(VDUSE_BASE, 0x16, struct vduse_vq_eventfd)

/**
 * define VDUSE_VQ_INJECT_IRQ - signal used buffers on a virtqueue
 *
 * Argument: pointer to a __u32 virtqueue index.
 */
#define VDUSE_VQ_INJECT_IRQ	_IOW(VDUSE_BASE, 0x17, __u32)

/**
 * struct vduse_iova_umem - daemon memory placed behind the bounce range
 * @uaddr: page-aligned address of the memory in the daemon
 * @iova: first IOVA of the bounce range
 * @size: size of the bounce range in bytes
 * @asid: address space (API version 1; zero in version 0)
 * @reserved: must be zero
 */
struct vduse_iova_umem {
	__u64 uaddr;
	__u64 iova;
	__u64 size;
	__u32 asid;
	__u32 reserved[5];
};

/**
 * define VDUSE_IOTLB_REG_UMEM - register daemon memory as bounce pages
 *
 * Argument: pointer to a &struct vduse_iova_umem.
 */
#define VDUSE_IOTLB_REG_UMEM	_IOW(VDUSE_BASE, 0x18, struct vduse_iova_umem)

/**
 * define VDUSE_IOTLB_DEREG_UMEM - give registered memory back
 *
 * Argument: pointer to the &struct vduse_iova_umem used to register it.
 */
#define VDUSE_IOTLB_DEREG_UMEM	_IOW(VDUSE_BASE, 0x19, struct vduse_iova_umem)

/* The range can be backed by daemon memory with VDUSE_IOTLB_REG_UMEM. */
#define VDUSE_IOVA_CAP_UMEM	(1 << 0)

/**
 * struct vduse_iova_info - what an IOVA range can do
 * @start: in: first IOVA looked at; out: first IOVA of the range found
 * @last: in: last IOVA looked at, not below @start; out: last IOVA of the
 *	range found (inclusive)
 * @capability: out: VDUSE_IOVA_CAP_* bits
 * @asid: in: address space (API version 1; zero in version 0)
 * @reserved: must be zero
 */
struct vduse_iova_info {
	__u64 start;
	__u64 last;
	__u64 capability;
	__u32 asid;
	__u32 reserved[5];
};

/**
 * define VDUSE_IOTLB_GET_INFO - describe the first range overlapping IOVAs
 *
 * Argument: pointer to a &struct vduse_iova_info: the first range of the
 * bounce domain that overlaps [start, last] is described.
 */
#define VDUSE_IOTLB_GET_INFO	_IOWR(VDUSE_BASE, 0x1a, struct vduse_iova_info)

/*
 * Messages read from and written to the device node.
 */

/**
 * enum vduse_req_type - the kinds of request the kernel sends
 * @VDUSE_GET_VQ_STATE: report a virtqueue's state (&vduse_dev_request.vq_state)
 * @VDUSE_SET_STATUS: the driver writes the device status (&vduse_dev_request.s)
 * @VDUSE_UPDATE_IOTLB: mappings in an IOVA range changed; drop what the
 *	daemon mapped there (&vduse_dev_request.iova, or
 *	&vduse_dev_request.iova_v2 in API version 1)
 * @VDUSE_SET_VQ_GROUP_ASID: the driver binds a virtqueue group to an
 *	address space (&vduse_dev_request.vq_group_asid; API version 1)
 * @VDUSE_SET_VQ_READY: the driver enables or disables a virtqueue
 *	(&vduse_dev_request.vq_ready; VDUSE_F_QUEUE_READY)
 * @VDUSE_SUSPEND: stop processing buffers and answer once stopped; no
 *	payload (VDUSE_F_SUSPEND)
 * @VDUSE_RESUME: process buffers again, from where the queues stand; no
 *	payload (VDUSE_F_RESUME, this driver's extension: numbered far
 *	above the types mainline hands out upwards from 0)
 */
enum vduse_req_type {
	VDUSE_GET_VQ_STATE,
	VDUSE_SET_STATUS,
	VDUSE_UPDATE_IOTLB,
	VDUSE_SET_VQ_GROUP_ASID,
	VDUSE_SET_VQ_READY,
	VDUSE_SUSPEND,
	VDUSE_RESUME = 0x8000,
};

/**
 * struct vduse_vq_state - a virtqueue's state
 * @index: virtqueue index
 * @split: state, for a split virtqueue
 * @packed: state, for a packed virtqueue
 */
struct vduse_vq_state {
	__u32 index;
	union {
		struct vduse_vq_state_split split;
		struct vduse_vq_state_packed packed;
	};
};

/**
 * struct vduse_dev_status - a device status byte
 * @status: VIRTIO_CONFIG_S_* bits
 */
struct vduse_dev_status {
	__u8 status;
};

/**
 * struct vduse_iova_range - a range of IOVAs
 * @start: first IOVA
 * @last: last IOVA (inclusive)
 */
struct vduse_iova_range {
	__u64 start;
	__u64 last;
};

/**
 * struct vduse_iova_range_v2 - a range of IOVAs in an address space
 * @start: first IOVA
 * @last: last IOVA (inclusive)
 * @asid: the address space
 * @padding: zero
 */
struct vduse_iova_range_v2 {
	__u64 start;
	__u64 last;
	__u32 asid;
	__u32 padding;
};

/**
 * struct vduse_vq_group_asid - a virtqueue group and its address space
 * @group: virtqueue group, below &vduse_dev_config.ngroups
 * @asid: address space, below &vduse_dev_config.nas
 */
struct vduse_vq_group_asid {
	__u32 group;
	__u32 asid;
};

/**
 * struct vduse_vq_ready - a virtqueue enabled or disabled
 * @num: virtqueue index
 * @ready: 1 enabled, 0 disabled
 */
struct vduse_vq_ready {
	__u32 num;
	__u32 ready;
};

/**
 * struct vduse_dev_request - a request read from the device node
 * @type: an &enum vduse_req_type
 * @request_id: identifies the request; echoed in the response
 * @reserved: zero
 * @vq_state: payload of VDUSE_GET_VQ_STATE
 * @s: payload of VDUSE_SET_STATUS
 * @iova: payload of VDUSE_UPDATE_IOTLB in API version 0
 * @iova_v2: payload of VDUSE_UPDATE_IOTLB in API version 1
 * @vq_group_asid: payload of VDUSE_SET_VQ_GROUP_ASID
 * @vq_ready: payload of VDUSE_SET_VQ_READY
 * @padding: size of the payload area
 */
struct vduse_dev_request {
	__u32 type;
	__u32 request_id;
	__u32 reserved[4];
	union {
		struct vduse_vq_state vq_state;
		struct vduse_dev_status s;
		struct vduse_iova_range iova;
		struct vduse_iova_range_v2 iova_v2;
		struct vduse_vq_group_asid vq_group_asid;
		struct vduse_vq_ready vq_ready;
		__u32 padding[32];
	};
};

/* &vduse_dev_response.result values. */
#define VDUSE_REQ_RESULT_OK	0x00
#define VDUSE_REQ_RESULT_FAILED	0x01

/**
 * struct vduse_dev_response - the answer written to the device node
 * @request_id: &vduse_dev_request.request_id of the request answered
 * @result: VDUSE_REQ_RESULT_OK or VDUSE_REQ_RESULT_FAILED
 * @reserved: must be zero
 * @vq_state: for VDUSE_GET_VQ_STATE: the state
 * @padding: size of the payload area
 */
struct vduse_dev_response {
	__u32 request_id;
	__u32 result;
	__u32 reserved[4];
	union {
		struct vduse_vq_state vq_state;
		__u32 padding[32];
	};
};

#endif /* _UAPI_VDUSE_H_ */
