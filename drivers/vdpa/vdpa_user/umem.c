// SPDX-License-Identifier: GPL-2.0-only
/*
 * VDUSE: vDPA Device in Userspace - the bounce domain's ioctls: daemon
 * memory behind the bounce range (VDUSE_IOTLB_REG_UMEM, _DEREG_UMEM) and
 * what the domain holds (VDUSE_IOTLB_GET_INFO).
 *
 * Locking (see "DOC: Locking" in vduse.h): vduse_dev.lock guards the
 * domain pointer; pages are pinned and unpinned without it.
 */

#include <linux/mm.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "iova_domain.h"
#include "vduse.h"

/**
 * vduse_umem_ioctl() - VDUSE_IOTLB_REG_UMEM and VDUSE_IOTLB_DEREG_UMEM
 * @vdev: the device
 * @argp: the daemon's struct vduse_iova_umem
 * @reg: register, rather than deregister
 *
 * The memory goes behind the bounce range of the device's bounce domain,
 * which lives from the first attachment on; the range is exact: IOVA 0
 * and the bounce range's size.  Everything is checked before anything
 * is allocated or pinned.  Pages are pinned without vduse_dev.lock,
 * since pinning takes the mmap lock, which vhost-vdpa holds around
 * dma_map; the checks are made again once it is taken.
 *
 * Return: 0; -EFAULT; -EINVAL for a reserved field, an address space
 * other than 0, an IOVA other than 0, a size other than the bounce
 * range's, a misaligned address or, deregistering, arguments that are not
 * what was registered; -ENODEV before the first attachment; -EEXIST
 * when memory is registered already; -ENOMEM past RLIMIT_MEMLOCK or out
 * of memory; -EINTR when killed meanwhile.
 */
long vduse_umem_ioctl(struct vduse_dev *vdev, void __user *argp, bool reg)
{
	struct vduse_umem *umem = NULL;
	struct vduse_iova_umem arg;
	long ret;

	if (copy_from_user(&arg, argp, sizeof(arg)))
		return -EFAULT;
	if (memchr_inv(arg.reserved, 0, sizeof(arg.reserved)) || arg.asid ||
	    arg.iova)
		return -EINVAL;

	if (reg) {
		if (!PAGE_ALIGNED(arg.uaddr))
			return -EINVAL;
		mutex_lock(&vdev->lock);
		ret = vdev->domain ?
		      vduse_domain_umem_check(vdev->domain, arg.size) : -ENODEV;
		mutex_unlock(&vdev->lock);
		if (ret)
			return ret;
		umem = vduse_umem_pin(arg.uaddr, arg.size);
		if (IS_ERR(umem))
			return PTR_ERR(umem);
	}

	mutex_lock(&vdev->lock);
	if (!vdev->domain) {
		ret = -ENODEV;
	} else if (reg) {
		ret = vduse_domain_set_umem(vdev->domain, umem);
		if (!ret)
			umem = NULL;
	} else {
		umem = vduse_domain_clear_umem(vdev->domain, arg.uaddr,
					       arg.size);
		ret = PTR_ERR_OR_ZERO(umem);
		if (ret)
			umem = NULL;
	}
	mutex_unlock(&vdev->lock);

	if (umem)
		vduse_umem_unpin(umem);

	return ret;
}

/**
 * vduse_umem_drop() - the daemon goes: its memory leaves the domain
 * @vdev: the device
 *
 * Must be called without vduse_dev.lock held.
 */
void vduse_umem_drop(struct vduse_dev *vdev)
{
	struct vduse_umem *umem = NULL;

	mutex_lock(&vdev->lock);
	if (vdev->domain)
		umem = vduse_domain_drop_umem(vdev->domain);
	mutex_unlock(&vdev->lock);

	if (umem)
		vduse_umem_unpin(umem);
}

/**
 * vduse_umem_iova_info() - VDUSE_IOTLB_GET_INFO
 * @vdev: the device
 * @argp: the daemon's struct vduse_iova_info
 *
 * Describes the first of the bounce domain's ranges that overlaps
 * [start, last]: the bounce range, which daemon memory can back
 * (VDUSE_IOVA_CAP_UMEM), or a coherent allocation.
 *
 * Return: 0; -EFAULT; -EINVAL for a reserved field, an address space
 * other than 0, start above last, or nothing in [start, last]; -ENODEV
 * before the first attachment.
 */
long vduse_umem_iova_info(struct vduse_dev *vdev, void __user *argp)
{
	struct vduse_iova_info info;
	bool umem;
	long ret;

	if (copy_from_user(&info, argp, sizeof(info)))
		return -EFAULT;
	if (memchr_inv(info.reserved, 0, sizeof(info.reserved)) || info.asid ||
	    info.start > info.last)
		return -EINVAL;

	mutex_lock(&vdev->lock);
	if (vdev->domain)
		ret = vduse_domain_iova_info(vdev->domain, info.start,
					     info.last, &info.start,
					     &info.last, &umem);
	else
		ret = -ENODEV;
	mutex_unlock(&vdev->lock);
	if (ret)
		return ret;

	info.capability = umem ? VDUSE_IOVA_CAP_UMEM : 0;

	return copy_to_user(argp, &info, sizeof(info)) ? -EFAULT : 0;
}
