// SPDX-License-Identifier: GPL-2.0-only
/*
 * Print the layout of the VDUSE API version 0 ABI: every ioctl number,
 * every structure's size and every field's offset.  abi-check.sh builds
 * this against our include/uapi/linux/vduse.h and against the vduse.h of
 * Debian's linux-libc-dev, and compares the two outputs.
 */
#include <stddef.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <linux/vduse.h>

#define SIZE(t)		printf("sizeof(struct %s) = %zu\n", #t, sizeof(struct t))
#define OFF(t, f)	printf("offsetof(struct %s, %s) = %zu\n", #t, #f, \
			       offsetof(struct t, f))
#define NUM(x)		printf("%s = %#lx\n", #x, (unsigned long)(x))

int main(void)
{
	NUM(VDUSE_BASE); NUM(VDUSE_API_VERSION); NUM(VDUSE_NAME_MAX);
	NUM(VDUSE_GET_API_VERSION); NUM(VDUSE_SET_API_VERSION);
	NUM(VDUSE_CREATE_DEV); NUM(VDUSE_DESTROY_DEV);
	NUM(VDUSE_IOTLB_GET_FD); NUM(VDUSE_DEV_GET_FEATURES);
	NUM(VDUSE_DEV_SET_CONFIG); NUM(VDUSE_DEV_INJECT_CONFIG_IRQ);
	NUM(VDUSE_VQ_SETUP); NUM(VDUSE_VQ_GET_INFO);
	NUM(VDUSE_VQ_SETUP_KICKFD); NUM(VDUSE_VQ_INJECT_IRQ);
	NUM(VDUSE_IOTLB_REG_UMEM); NUM(VDUSE_IOTLB_DEREG_UMEM);
	NUM(VDUSE_IOTLB_GET_INFO); NUM(VDUSE_IOVA_CAP_UMEM);
	NUM(VDUSE_ACCESS_RO); NUM(VDUSE_ACCESS_WO); NUM(VDUSE_ACCESS_RW);
	NUM(VDUSE_EVENTFD_DEASSIGN);
	NUM(VDUSE_GET_VQ_STATE); NUM(VDUSE_SET_STATUS); NUM(VDUSE_UPDATE_IOTLB);
	NUM(VDUSE_REQ_RESULT_OK); NUM(VDUSE_REQ_RESULT_FAILED);

	SIZE(vduse_dev_config);
	OFF(vduse_dev_config, name); OFF(vduse_dev_config, vendor_id);
	OFF(vduse_dev_config, device_id); OFF(vduse_dev_config, features);
	OFF(vduse_dev_config, vq_num); OFF(vduse_dev_config, vq_align);
	OFF(vduse_dev_config, config_size); OFF(vduse_dev_config, config);
	SIZE(vduse_iotlb_entry);
	OFF(vduse_iotlb_entry, offset); OFF(vduse_iotlb_entry, start);
	OFF(vduse_iotlb_entry, last); OFF(vduse_iotlb_entry, perm);
	SIZE(vduse_config_data);
	OFF(vduse_config_data, offset); OFF(vduse_config_data, length);
	OFF(vduse_config_data, buffer);
	SIZE(vduse_vq_config);
	OFF(vduse_vq_config, index); OFF(vduse_vq_config, max_size);
	SIZE(vduse_vq_state_split); OFF(vduse_vq_state_split, avail_index);
	SIZE(vduse_vq_state_packed);
	OFF(vduse_vq_state_packed, last_avail_counter);
	OFF(vduse_vq_state_packed, last_avail_idx);
	OFF(vduse_vq_state_packed, last_used_counter);
	OFF(vduse_vq_state_packed, last_used_idx);
	SIZE(vduse_vq_info);
	OFF(vduse_vq_info, index); OFF(vduse_vq_info, num);
	OFF(vduse_vq_info, desc_addr); OFF(vduse_vq_info, driver_addr);
	OFF(vduse_vq_info, device_addr); OFF(vduse_vq_info, split);
	OFF(vduse_vq_info, packed); OFF(vduse_vq_info, ready);
	SIZE(vduse_vq_eventfd);
	OFF(vduse_vq_eventfd, index); OFF(vduse_vq_eventfd, fd);
	SIZE(vduse_iova_umem);
	OFF(vduse_iova_umem, uaddr); OFF(vduse_iova_umem, iova);
	OFF(vduse_iova_umem, size);
	SIZE(vduse_iova_info);
	OFF(vduse_iova_info, start); OFF(vduse_iova_info, last);
	OFF(vduse_iova_info, capability);
	SIZE(vduse_vq_state);
	OFF(vduse_vq_state, index); OFF(vduse_vq_state, split);
	OFF(vduse_vq_state, packed);
	SIZE(vduse_dev_status); OFF(vduse_dev_status, status);
	SIZE(vduse_iova_range);
	OFF(vduse_iova_range, start); OFF(vduse_iova_range, last);
	SIZE(vduse_dev_request);
	OFF(vduse_dev_request, type); OFF(vduse_dev_request, request_id);
	OFF(vduse_dev_request, reserved); OFF(vduse_dev_request, vq_state);
	OFF(vduse_dev_request, s); OFF(vduse_dev_request, iova);
	OFF(vduse_dev_request, padding);
	SIZE(vduse_dev_response);
	OFF(vduse_dev_response, request_id); OFF(vduse_dev_response, result);
	OFF(vduse_dev_response, reserved); OFF(vduse_dev_response, vq_state);
	OFF(vduse_dev_response, padding);
	return 0;
}
