// SPDX-License-Identifier: GPL-2.0-only
/*
 * The API version 1 additions, checked against the values of mainline
 * Linux's header (x86-64): no older header to compare with is installed
 * here, so the expected numbers are written down once, in this file.
 */
#include <stddef.h>
#include <sys/ioctl.h>
#include <linux/vduse.h>

#define OFF(t, f, v)	_Static_assert(offsetof(struct t, f) == (v), #t "." #f)
#define SIZE(t, v)	_Static_assert(sizeof(struct t) == (v), "sizeof " #t)

_Static_assert(VDUSE_API_VERSION_1 == 1, "VDUSE_API_VERSION_1");
_Static_assert(VDUSE_SET_VQ_GROUP_ASID == 3, "VDUSE_SET_VQ_GROUP_ASID");
_Static_assert(VDUSE_IOTLB_GET_FD2 == 0xc050811bU, "VDUSE_IOTLB_GET_FD2");
_Static_assert(VDUSE_CREATE_DEV == 0x41508102U, "VDUSE_CREATE_DEV");
_Static_assert(VDUSE_VQ_SETUP == 0x40208114U, "VDUSE_VQ_SETUP");
_Static_assert(VDUSE_IOTLB_REG_UMEM == 0x40308118U, "VDUSE_IOTLB_REG_UMEM");
_Static_assert(VDUSE_IOTLB_GET_INFO == 0xc030811aU, "VDUSE_IOTLB_GET_INFO");

/* The queue-ready and suspend features mainline is adding. */
_Static_assert(VDUSE_GET_FEATURES == 0x80088104U, "VDUSE_GET_FEATURES");
_Static_assert(VDUSE_SET_FEATURES == 0x40088105U, "VDUSE_SET_FEATURES");
_Static_assert(VDUSE_F_QUEUE_READY == 0, "VDUSE_F_QUEUE_READY");
_Static_assert(VDUSE_F_SUSPEND == 1, "VDUSE_F_SUSPEND");
_Static_assert(VDUSE_SET_VQ_READY == 4, "VDUSE_SET_VQ_READY");
_Static_assert(VDUSE_SUSPEND == 5, "VDUSE_SUSPEND");
/* This driver's extension: numbers mainline will not reach. */
_Static_assert(VDUSE_F_RESUME == 63, "VDUSE_F_RESUME");
_Static_assert(VDUSE_RESUME == 0x8000, "VDUSE_RESUME");
SIZE(vduse_vq_ready, 8);
OFF(vduse_dev_request, vq_ready.num, 24);
OFF(vduse_dev_request, vq_ready.ready, 28);

OFF(vduse_dev_config, ngroups, 280);
OFF(vduse_dev_config, nas, 284);
OFF(vduse_dev_config, reserved, 288);
OFF(vduse_dev_config, config_size, 332);
OFF(vduse_vq_config, reserved1, 6);
OFF(vduse_vq_config, group, 8);
OFF(vduse_vq_config, reserved2, 12);
SIZE(vduse_vq_config, 32);
SIZE(vduse_iotlb_entry_v2, 80);
OFF(vduse_iotlb_entry_v2, perm, 24);
OFF(vduse_iotlb_entry_v2, asid, 32);
OFF(vduse_iotlb_entry_v2, reserved, 36);
OFF(vduse_iova_umem, asid, 24);
OFF(vduse_iova_info, asid, 24);
SIZE(vduse_iova_range_v2, 24);
OFF(vduse_dev_request, iova_v2.asid, 40);
OFF(vduse_dev_request, vq_group_asid.group, 24);
OFF(vduse_dev_request, vq_group_asid.asid, 28);
SIZE(vduse_dev_request, 152);
SIZE(vduse_dev_response, 152);

int main(void)
{
	return 0;
}
