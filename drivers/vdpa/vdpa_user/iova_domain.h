/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * VDUSE: vDPA Device in Userspace - the bounce IOVA domain.
 *
 * The domain knows nothing of VDUSE devices: it turns kernel DMA into
 * IOVAs backed by pages a daemon may map, and nothing else.
 */
#ifndef _VDUSE_IOVA_DOMAIN_H
#define _VDUSE_IOVA_DOMAIN_H

#include <linux/dma-direction.h>
#include <linux/types.h>

struct file;
struct page;
struct vduse_domain;
struct vduse_umem;

/* Coherent allocations live above the bounce range, up to this IOVA. */
#define VDUSE_DOMAIN_IOVA_LIMIT	((1ULL << 36) - 1)

/**
 * struct vduse_domain_stats - what a domain did since it was created
 * @maps: streaming mappings made (each bounced through the range)
 * @bytes_to_device: bytes copied into bounce pages for the device
 * @bytes_from_device: bytes copied back out of them
 */
struct vduse_domain_stats {
	u64 maps;
	u64 bytes_to_device;
	u64 bytes_from_device;
};

struct vduse_domain *vduse_domain_create(u64 bounce_size);
void vduse_domain_destroy(struct vduse_domain *domain);
u64 vduse_domain_bounce_size(struct vduse_domain *domain);

dma_addr_t vduse_domain_map_page(struct vduse_domain *domain,
				 struct page *page, unsigned long offset,
				 size_t size, enum dma_data_direction dir,
				 bool skip_sync);
void vduse_domain_unmap_page(struct vduse_domain *domain, dma_addr_t iova,
			     size_t size, enum dma_data_direction dir,
			     bool skip_sync);
void vduse_domain_sync(struct vduse_domain *domain, dma_addr_t iova,
		       size_t size, enum dma_data_direction dir,
		       bool for_cpu);

int vduse_domain_orig_rw(struct vduse_domain *domain, dma_addr_t iova,
			 void *buf, size_t len, bool write);

void *vduse_domain_alloc_coherent(struct vduse_domain *domain, size_t size,
				  dma_addr_t *iova, gfp_t gfp);
void vduse_domain_free_coherent(struct vduse_domain *domain, size_t size,
				void *vaddr, dma_addr_t iova);

size_t vduse_domain_max_mapping_size(struct vduse_domain *domain);

int vduse_domain_lookup(struct vduse_domain *domain, u64 iova, u64 iova_last,
			u64 *start, u64 *last, u64 *offset, u8 *perm);
int vduse_domain_rw(struct vduse_domain *domain, u64 iova, void *buf,
		    size_t len, bool write);
bool vduse_domain_is_coherent(struct vduse_domain *domain, u64 iova);
struct vduse_umem *vduse_umem_pin(u64 uaddr, u64 size);
void vduse_umem_unpin(struct vduse_umem *umem);
int vduse_domain_umem_check(struct vduse_domain *domain, u64 size);
int vduse_domain_set_umem(struct vduse_domain *domain,
			  struct vduse_umem *umem);
struct vduse_umem *vduse_domain_clear_umem(struct vduse_domain *domain,
					   u64 uaddr, u64 size);
struct vduse_umem *vduse_domain_drop_umem(struct vduse_domain *domain);
int vduse_domain_iova_info(struct vduse_domain *domain, u64 iova,
			   u64 iova_last, u64 *start, u64 *last, bool *umem);
struct file *vduse_domain_file(struct vduse_domain *domain);
void vduse_domain_stats_get(struct vduse_domain *domain,
			    struct vduse_domain_stats *st);

#endif /* _VDUSE_IOVA_DOMAIN_H */
