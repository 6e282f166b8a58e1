// SPDX-License-Identifier: GPL-2.0-only
/*
 * VDUSE: vDPA Device in Userspace - DMA for the kernel's virtio drivers.
 *
 * The vdpa device is its own DMA device; these dma_map_ops route every
 * mapping through the device's bounce domain (iova_domain.c), so the
 * driver's memory never becomes the daemon's.
 *
 * Locking: none here; the domain locks itself, and fsreply.c its own.
 */

#include <linux/dma-map-ops.h>
#include <linux/scatterlist.h>

#include "iova_domain.h"
#include "vduse.h"

/* The vdpa device is its own DMA device. */
static struct vduse_vdpa *vduse_dma_vv(struct device *dev)
{
	return vdpa_to_vduse(container_of(dev, struct vdpa_device, dev));
}

static struct vduse_domain *vduse_dma_domain(struct device *dev)
{
	return vduse_dma_vv(dev)->domain;
}

/*
 * One streaming mapping, bounced; those of a virtio-fs device are placed
 * in their request too (fsreply.c).
 */
static dma_addr_t vduse_dma_map_page(struct device *dev, struct page *page,
				     unsigned long offset, size_t size,
				     enum dma_data_direction dir,
				     unsigned long attrs)
{
	struct vduse_vdpa *vv = vduse_dma_vv(dev);
	dma_addr_t iova;

	/* GET_FD may hand out the bounce range from now on. */
	if (unlikely(!READ_ONCE(vv->bounce_used)))
		WRITE_ONCE(vv->bounce_used, true);

	iova = vduse_domain_map_page(vv->domain, page, offset, size, dir,
				     attrs & DMA_ATTR_SKIP_CPU_SYNC);
	if (vv->fs_cursor && iova != DMA_MAPPING_ERROR &&
	    vduse_fs_reply_mapped(vv, iova, size, dir)) {
		vduse_domain_unmap_page(vv->domain, iova, size, dir, true);
		return DMA_MAPPING_ERROR;
	}
	return iova;
}

static void vduse_dma_unmap_page(struct device *dev, dma_addr_t iova,
				 size_t size, enum dma_data_direction dir,
				 unsigned long attrs)
{
	struct vduse_vdpa *vv = vduse_dma_vv(dev);
	bool skip_sync = attrs & DMA_ATTR_SKIP_CPU_SYNC;

	if (vv->fs_cursor && dir != DMA_TO_DEVICE)
		vduse_fs_reply_unmap(vv, iova, size, dir, skip_sync);
	else
		vduse_domain_unmap_page(vv->domain, iova, size, dir,
					skip_sync);
}

static void vduse_dma_unmap_sg(struct device *dev, struct scatterlist *sgl,
			       int nents, enum dma_data_direction dir,
			       unsigned long attrs)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i)
		vduse_dma_unmap_page(dev, sg_dma_address(sg), sg_dma_len(sg),
				     dir, attrs);
}

static int vduse_dma_map_sg(struct device *dev, struct scatterlist *sgl,
			    int nents, enum dma_data_direction dir,
			    unsigned long attrs)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i) {
		sg->dma_address = vduse_dma_map_page(dev, sg_page(sg),
						     sg->offset, sg->length,
						     dir, attrs);
		if (sg->dma_address == DMA_MAPPING_ERROR)
			goto out_unmap;
		sg_dma_len(sg) = sg->length;
	}

	return nents;

out_unmap:
	/* The first i entries were mapped. */
	vduse_dma_unmap_sg(dev, sgl, i, dir, attrs);
	return -ENOMEM;
}

static void vduse_dma_sync_single_for_cpu(struct device *dev, dma_addr_t addr,
					  size_t size,
					  enum dma_data_direction dir)
{
	struct vduse_vdpa *vv = vduse_dma_vv(dev);

	vduse_domain_sync(vv->domain, addr, size, dir, true);
	if (vv->fs_cursor && dir != DMA_TO_DEVICE)
		vduse_fs_reply_synced(vv, addr);
}

static void vduse_dma_sync_single_for_device(struct device *dev,
					     dma_addr_t addr, size_t size,
					     enum dma_data_direction dir)
{
	vduse_domain_sync(vduse_dma_domain(dev), addr, size, dir, false);
}

static void vduse_dma_sync_sg_for_cpu(struct device *dev,
				      struct scatterlist *sgl, int nents,
				      enum dma_data_direction dir)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i)
		vduse_dma_sync_single_for_cpu(dev, sg_dma_address(sg),
					      sg_dma_len(sg), dir);
}

static void vduse_dma_sync_sg_for_device(struct device *dev,
					 struct scatterlist *sgl, int nents,
					 enum dma_data_direction dir)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i)
		vduse_dma_sync_single_for_device(dev, sg_dma_address(sg),
						 sg_dma_len(sg), dir);
}

static void *vduse_dma_alloc(struct device *dev, size_t size,
			     dma_addr_t *dma_addr, gfp_t gfp,
			     unsigned long attrs)
{
	return vduse_domain_alloc_coherent(vduse_dma_domain(dev), size,
					   dma_addr, gfp);
}

static void vduse_dma_free(struct device *dev, size_t size, void *vaddr,
			   dma_addr_t dma_addr, unsigned long attrs)
{
	vduse_domain_free_coherent(vduse_dma_domain(dev), size, vaddr,
				   dma_addr);
}

static size_t vduse_dma_max_mapping_size(struct device *dev)
{
	return vduse_domain_max_mapping_size(vduse_dma_domain(dev));
}

static u64 vduse_dma_get_required_mask(struct device *dev)
{
	return VDUSE_DOMAIN_IOVA_LIMIT;
}

/* Installed on every attached vdpa device by mgmt.c. */
const struct dma_map_ops vduse_dma_ops = {
	.alloc			= vduse_dma_alloc,
	.free			= vduse_dma_free,
	.map_page		= vduse_dma_map_page,
	.unmap_page		= vduse_dma_unmap_page,
	.map_sg			= vduse_dma_map_sg,
	.unmap_sg		= vduse_dma_unmap_sg,
	.sync_single_for_cpu	= vduse_dma_sync_single_for_cpu,
	.sync_single_for_device	= vduse_dma_sync_single_for_device,
	.sync_sg_for_cpu	= vduse_dma_sync_sg_for_cpu,
	.sync_sg_for_device	= vduse_dma_sync_sg_for_device,
	.max_mapping_size	= vduse_dma_max_mapping_size,
	.get_required_mask	= vduse_dma_get_required_mask,
};
