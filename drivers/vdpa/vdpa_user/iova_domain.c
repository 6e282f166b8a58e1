// SPDX-License-Identifier: GPL-2.0-only
/*
 * VDUSE: vDPA Device in Userspace - the bounce IOVA domain.
 *
 * IOVA space, as a daemon sees it through the domain's file (file offset
 * == IOVA):
 *
 *   [0, bounce_size)             streaming mappings, bounced through
 *                                pages owned by the domain
 *   [bounce_size, IOVA_LIMIT]    coherent allocations, mapped as they are
 *
 * A streaming mapping never exposes the driver's page: its bytes are
 * copied into bounce pages at map time (or zeroes, for a mapping the
 * device only writes), and copied back at unmap.  No byte an earlier
 * mapping left in a bounce page stays outside a new one: each page
 * remembers the span its last mapping covered, and a map zeroes what of
 * that span the new mapping does not cover.  Only that span can hold
 * bytes the domain put there; zeroing it, rather than the whole rest of
 * the page, spares a virtio-blk request two near page-sized memsets, for
 * its 16-byte header and its status byte.  Coherent allocations are
 * zeroed pages of their own.
 *
 * Bounce pages are allocated on first use (a mapping, or the daemon's
 * fault), so that an idle device costs no memory for its bounce range.
 *
 * Lifetime: the domain's file may outlive the domain's owner (a daemon
 * keeps it open or mapped), so vduse_domain_destroy() only marks the
 * domain dead, zaps the daemon's mappings and gives daemon memory back.
 * Everything a mapping or the file can reach (the structure, the bounce
 * page array and its pages) goes with the file's last reference, which
 * each mapping holds: a fault after destruction finds the domain dead and
 * gets SIGBUS, never freed memory.
 *
 * Daemon memory (umem): VDUSE_IOTLB_REG_UMEM puts the daemon's own pages
 * behind the whole bounce range, so that it serves I/O from its memory
 * with no mapping of the file; the kernel's bounce pages wait aside and
 * come back, with the data of the moment, at deregistration.  Every slot
 * gets a page of the domain's before registration swaps anything, so that
 * deregistration never needs to allocate and cannot fail.
 *
 * Locking: the iova allocators lock themselves.  lock, a spinlock taken
 * in process context, protects the coherent IOTLB and @dead, and is what
 * the fault handler looks pages up under.  bounce_lock, a rwlock taken
 * inside lock where both are held, protects which page backs each bounce
 * slot.  Readers (the copies, the fault handler) may be in any context
 * and leave interrupts as they find them: a qrwlock reader in interrupt
 * context does not wait behind a waiting writer.  The only writer, umem
 * (un)registration, runs in process context and turns interrupts off,
 * so that no reader interrupts it on its own CPU.  Every hold is short:
 * a reader holds it for at most VDUSE_BOUNCE_BATCH pages and the writer
 * for VDUSE_SWAP_BATCH, then lets the other side in.  Either way a page's
 * contents and the slot it backs change together, under the write lock,
 * and readers copy a page at a time: a copy sees each page before a swap
 * or after, with the same bytes.  A bounce page's orig field and dirty
 * span belong to whoever holds the IOVA that covers it, who uses them
 * under bounce_lock (read); umem (un)registration resets each span under
 * it (write).
 */

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/iova.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/vhost_iotlb.h>
#include <linux/vmalloc.h>

#include "iova_domain.h"

/*
 * Pages a bounce copy handles per hold of bounce_lock (read), and pages
 * umem (un)registration swaps per hold (write, interrupts off): 64 KiB of
 * copying, some microseconds on current hardware.
 */
#define VDUSE_BOUNCE_BATCH	16
#define VDUSE_SWAP_BATCH	16

/* Most coherent allocations a domain tracks at once. */
#define VDUSE_DOMAIN_COHERENT_MAX	65536

/**
 * struct vduse_bounce_page - one page of the bounce range
 * @page: the page the daemon sees; allocated with the domain
 * @orig: physical address that the page's offset 0 stands for in the
 *	current mapping
 * @dirty_start: first byte of @page that may not be zero
 * @dirty_end: and the byte past the last; empty when equal.  Bytes the
 *	daemon stores outside any mapping of its own accord are not counted:
 *	they are the daemon's to see.
 */
struct vduse_bounce_page {
	struct page *page;
	phys_addr_t orig;
	u32 dirty_start;
	u32 dirty_end;
};

/**
 * struct vduse_umem - daemon memory behind the bounce range
 * @uaddr: its address in the daemon
 * @npages: pages pinned, the whole bounce range
 * @pages: the daemon's pages, pinned
 * @kpages: the domain's own bounce pages, set aside meanwhile; while the
 *	memory is in a domain, a page for every slot
 * @mm: the daemon's mm, for the locked-memory accounting
 */
struct vduse_umem {
	u64 uaddr;
	unsigned long npages;
	struct page **pages;
	struct page **kpages;
	struct mm_struct *mm;
};

/**
 * struct vduse_domain - a bounce IOVA domain
 * @stream: allocator for the bounce range
 * @coherent: allocator for coherent allocations
 * @bounce_size: size of the bounce range
 * @nr_bounce: pages in it
 * @bounce: its pages
 * @lock: protects @coherent_map and @dead
 * @coherent_map: coherent allocations: IOVA range -> physical address
 * @dead: vduse_domain_destroy() ran; only the file keeps the structure
 * @file: what the daemon mmaps; its offsets are IOVAs
 * @bounce_lock: protects the page of each entry of @bounce
 * @umem: daemon memory behind the bounce range, or NULL; changed under
 *	the owner's lock (vduse_dev.lock) and @bounce_lock.  While set, the
 *	file maps nothing in the bounce range (a fault there is SIGBUS)
 * @stats: per-CPU counters, summed by vduse_domain_stats_get()
 */
struct vduse_domain {
	struct iova_domain stream;
	struct iova_domain coherent;
	u64 bounce_size;
	unsigned long nr_bounce;
	struct vduse_bounce_page *bounce;
	spinlock_t lock; /* @coherent_map, @dead */
	struct vhost_iotlb *coherent_map;
	bool dead;
	struct file *file;
	rwlock_t bounce_lock; /* @bounce[].page */
	struct vduse_umem *umem;
	struct vduse_domain_stats __percpu *stats;
};

/*
 * The page behind an IOVA, or NULL; under the domain's lock, and for the
 * bounce range under bounce_lock too (read).
 */
static struct page *vduse_domain_page_locked(struct vduse_domain *domain,
					     u64 iova)
{
	struct vhost_iotlb_map *map;

	lockdep_assert_held(&domain->lock);

	if (domain->dead)
		return NULL;
	if (iova < domain->bounce_size) {
		lockdep_assert_held_read(&domain->bounce_lock);
		return domain->bounce[iova >> PAGE_SHIFT].page;
	}
	map = vhost_iotlb_itree_first(domain->coherent_map, iova, iova);
	if (!map)
		return NULL;

	return pfn_to_page(PHYS_PFN(map->addr + (iova - map->start)));
}

/*
 * Give bounce slot idx a page if it has none.  @spare, if given, is used
 * instead of allocating (with @gfp) and is consumed either way.  Under
 * bounce_lock (read) or with the slot owned by the caller's IOVA.
 *
 * Return: false when no page could be had.
 */
static bool vduse_domain_fill_slot(struct vduse_domain *domain,
				   unsigned long idx, struct page *spare,
				   gfp_t gfp)
{
	struct vduse_bounce_page *bp = &domain->bounce[idx];

	if (READ_ONCE(bp->page)) {
		if (spare)
			__free_page(spare);
		return true;
	}
	if (!spare)
		spare = alloc_page(gfp | __GFP_ZERO | __GFP_NOWARN);
	if (!spare)
		return false;
	if (cmpxchg(&bp->page, NULL, spare))
		__free_page(spare);

	return true;
}

/* The page behind an IOVA, with a reference, or NULL. */
static struct page *vduse_domain_get_page(struct vduse_domain *domain,
					  u64 iova)
{
	struct page *spare = NULL;
	struct page *page;

	/*
	 * A bounce page nobody used yet: the daemon gets a zeroed one.  The
	 * array lives as long as the file, which the faulting mapping holds;
	 * the look is only a hint, checked again under the locks.
	 */
	if (iova < domain->bounce_size && !READ_ONCE(domain->dead) &&
	    !READ_ONCE(domain->bounce[iova >> PAGE_SHIFT].page))
		spare = alloc_page(GFP_KERNEL | __GFP_ZERO);

	spin_lock(&domain->lock);
	read_lock(&domain->bounce_lock);
	/* With daemon memory registered the daemon uses that instead. */
	if (iova < domain->bounce_size && domain->umem) {
		page = NULL;
	} else {
		if (iova < domain->bounce_size && !domain->dead)
			vduse_domain_fill_slot(domain, iova >> PAGE_SHIFT,
					       spare, GFP_ATOMIC);
		else if (spare)
			__free_page(spare);
		spare = NULL;
		page = vduse_domain_page_locked(domain, iova);
	}
	if (spare)
		__free_page(spare);
	if (page)
		get_page(page);
	read_unlock(&domain->bounce_lock);
	spin_unlock(&domain->lock);

	return page;
}

static vm_fault_t vduse_domain_fault(struct vm_fault *vmf)
{
	struct vduse_domain *domain = vmf->vma->vm_file->private_data;
	/* pgoff counts from the file's start: file offsets are IOVAs. */
	u64 iova = (u64)vmf->pgoff << PAGE_SHIFT;

	vmf->page = vduse_domain_get_page(domain, iova);

	return vmf->page ? 0 : VM_FAULT_SIGBUS;
}

static const struct vm_operations_struct vduse_domain_vm_ops = {
	.fault = vduse_domain_fault,
};

static int vduse_domain_mmap(struct file *file, struct vm_area_struct *vma)
{
	/* A private mapping would hide the daemon's writes from the driver. */
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;

	vm_flags_set(vma, VM_DONTDUMP | VM_DONTEXPAND);
	vma->vm_ops = &vduse_domain_vm_ops;

	return 0;
}

/* The last reference to the file: no mapping or owner can reach it. */
static int vduse_domain_release(struct inode *inode, struct file *file)
{
	struct vduse_domain *domain = file->private_data;
	unsigned long i;

	put_iova_domain(&domain->coherent);
	put_iova_domain(&domain->stream);
	vhost_iotlb_free(domain->coherent_map);
	for (i = 0; i < domain->nr_bounce; i++)
		if (domain->bounce[i].page)
			__free_page(domain->bounce[i].page);
	vfree(domain->bounce);
	free_percpu(domain->stats);
	kfree(domain);
	iova_cache_put();

	return 0;
}

static const struct file_operations vduse_domain_fops = {
	.owner		= THIS_MODULE,
	.mmap		= vduse_domain_mmap,
	.release	= vduse_domain_release,
};

/**
 * vduse_domain_create() - create a bounce domain
 * @bounce_size: size of the bounce range, page aligned
 *
 * Return: the domain, or an ERR_PTR().
 */
struct vduse_domain *vduse_domain_create(u64 bounce_size)
{
	struct vduse_domain *domain;
	int ret;

	ret = iova_cache_get();
	if (ret)
		return ERR_PTR(ret);

	ret = -ENOMEM;
	domain = kzalloc(sizeof(*domain), GFP_KERNEL);
	if (!domain)
		goto out_put_cache;

	domain->bounce_size = bounce_size;
	domain->nr_bounce = bounce_size >> PAGE_SHIFT;
	spin_lock_init(&domain->lock);
	rwlock_init(&domain->bounce_lock);

	domain->stats = alloc_percpu(struct vduse_domain_stats);
	if (!domain->stats)
		goto out_free_domain;

	/* The pages themselves come on first use. */
	domain->bounce = vcalloc(domain->nr_bounce, sizeof(*domain->bounce));
	if (!domain->bounce)
		goto out_free_stats;

	domain->coherent_map = vhost_iotlb_alloc(VDUSE_DOMAIN_COHERENT_MAX, 0);
	if (!domain->coherent_map)
		goto out_free_pages;

	/* IOVA 0 stays unused: a zero DMA address confuses some drivers. */
	init_iova_domain(&domain->stream, PAGE_SIZE, 1);
	ret = iova_domain_init_rcaches(&domain->stream);
	if (ret)
		goto out_free_iotlb;
	init_iova_domain(&domain->coherent, PAGE_SIZE,
			 bounce_size >> PAGE_SHIFT);
	ret = iova_domain_init_rcaches(&domain->coherent);
	if (ret)
		goto out_put_stream;

	domain->file = anon_inode_create_getfile("[vduse-domain]",
						 &vduse_domain_fops, domain,
						 O_RDWR, NULL);
	if (IS_ERR(domain->file)) {
		ret = PTR_ERR(domain->file);
		goto out_put_coherent;
	}

	return domain;

out_put_coherent:
	put_iova_domain(&domain->coherent);
out_put_stream:
	put_iova_domain(&domain->stream);
out_free_iotlb:
	vhost_iotlb_free(domain->coherent_map);
out_free_pages:
	vfree(domain->bounce);
out_free_stats:
	free_percpu(domain->stats);
out_free_domain:
	kfree(domain);
out_put_cache:
	iova_cache_put();
	return ERR_PTR(ret);
}

/**
 * vduse_domain_destroy() - the owner lets go of a domain with no DMA
 * mappings left
 * @domain: the domain
 *
 * The daemon's mappings are zapped and later faults get SIGBUS; daemon
 * memory still registered is unpinned, so the caller holds no lock the
 * daemon's mmap lock nests in.  The memory goes with the file's last
 * reference.  A page a racing fault still took stays alive until its
 * mapping goes: each mapped page holds a reference.
 */
void vduse_domain_destroy(struct vduse_domain *domain)
{
	spin_lock(&domain->lock);
	WRITE_ONCE(domain->dead, true);
	spin_unlock(&domain->lock);
	unmap_mapping_range(domain->file->f_mapping, 0, 0, 1);
	if (domain->umem)
		vduse_umem_unpin(vduse_domain_drop_umem(domain));

	fput(domain->file);
}

/**
 * vduse_domain_bounce_size() - the size of a domain's bounce range
 * @domain: the domain
 *
 * Return: the size, in bytes.
 */
u64 vduse_domain_bounce_size(struct vduse_domain *domain)
{
	return domain->bounce_size;
}

/**
 * vduse_domain_stats_get() - what a domain has done so far
 * @domain: the domain
 * @st: filled with the sums over all CPUs
 *
 * Each CPU's counters are read without a lock: a figure may miss the
 * copies in flight, never goes back.  Any context.
 */
void vduse_domain_stats_get(struct vduse_domain *domain,
			    struct vduse_domain_stats *st)
{
	int cpu;

	memset(st, 0, sizeof(*st));
	for_each_possible_cpu(cpu) {
		const struct vduse_domain_stats *c =
			per_cpu_ptr(domain->stats, cpu);

		st->maps += READ_ONCE(c->maps);
		st->bytes_to_device += READ_ONCE(c->bytes_to_device);
		st->bytes_from_device += READ_ONCE(c->bytes_from_device);
	}
}

/**
 * vduse_domain_file() - the file whose offsets are the domain's IOVAs
 * @domain: the domain
 *
 * Return: the file; the caller takes its own reference to keep it.
 */
struct file *vduse_domain_file(struct vduse_domain *domain)
{
	return domain->file;
}

/* What vduse_domain_bounce() does to each page of a mapping. */
enum vduse_bounce_op {
	VDUSE_BOUNCE_MAP_COPY,	/* map: the data in, what was around it 0 */
	VDUSE_BOUNCE_MAP_ZERO,	/* map: 0 in, and what was around it */
	VDUSE_BOUNCE_IN,	/* sync for the device: the data in only */
	VDUSE_BOUNCE_OUT,	/* unmap, sync for the CPU: the data back */
};

/*
 * A new mapping covers [off, off + len) of bounce page @bp, mapped at
 * @base: zero what the last one left outside that, and remember the new
 * span.  The caller owns the IOVA that covers the page.
 */
static void vduse_bounce_scrub(struct vduse_bounce_page *bp, void *base,
			       size_t off, size_t len)
{
	size_t start = bp->dirty_start, end = bp->dirty_end;

	if (start < off)
		memset(base + start, 0, min(off, end) - start);
	if (end > off + len) {
		start = max(start, off + len);
		memset(base + start, 0, end - start);
	}
	bp->dirty_start = off;
	bp->dirty_end = off + len;
}

/* Copy between a mapping's bounce pages and the memory it stands for. */
static void vduse_domain_bounce(struct vduse_domain *domain, u64 iova,
				size_t size, enum vduse_bounce_op op)
{
	bool map = op == VDUSE_BOUNCE_MAP_COPY || op == VDUSE_BOUNCE_MAP_ZERO;
	size_t off = offset_in_page(iova);
	unsigned long idx = iova >> PAGE_SHIFT;
	unsigned int done = 0;

	if (op == VDUSE_BOUNCE_OUT)
		this_cpu_add(domain->stats->bytes_from_device, size);
	else if (op != VDUSE_BOUNCE_MAP_ZERO)
		this_cpu_add(domain->stats->bytes_to_device, size);

	read_lock(&domain->bounce_lock);
	while (size) {
		struct vduse_bounce_page *bp = &domain->bounce[idx++];
		size_t len = min_t(size_t, PAGE_SIZE - off, size);
		void *base = kmap_local_page(bp->page);
		void *bounce = base + off;
		phys_addr_t orig = bp->orig + off;
		void *addr;

		if (map)
			vduse_bounce_scrub(bp, base, off, len);

		if (op == VDUSE_BOUNCE_MAP_ZERO) {
			memset(bounce, 0, len);
		} else {
			addr = kmap_local_page(pfn_to_page(PHYS_PFN(orig)));
			addr += offset_in_page(orig);
			if (op == VDUSE_BOUNCE_OUT)
				memcpy(addr, bounce, len);
			else
				memcpy(bounce, addr, len);
			kunmap_local(addr);
		}
		kunmap_local(base);

		size -= len;
		off = 0;
		/* Let a waiting writer in: the next page may be swapped. */
		if (size && ++done % VDUSE_BOUNCE_BATCH == 0) {
			read_unlock(&domain->bounce_lock);
			read_lock(&domain->bounce_lock);
		}
	}
	read_unlock(&domain->bounce_lock);
}

/**
 * vduse_domain_map_page() - map memory for streaming DMA, bounced
 * @domain: the domain
 * @page: first page of the memory
 * @offset: offset of the memory in @page
 * @size: its size
 * @dir: DMA direction
 * @skip_sync: DMA_ATTR_SKIP_CPU_SYNC: the driver syncs later; the pages
 *	are zeroed now, its data goes in then
 *
 * May be called in atomic context.
 *
 * Return: the IOVA, or DMA_MAPPING_ERROR when the bounce range is full.
 */
dma_addr_t vduse_domain_map_page(struct vduse_domain *domain,
				 struct page *page, unsigned long offset,
				 size_t size, enum dma_data_direction dir,
				 bool skip_sync)
{
	phys_addr_t phys = page_to_phys(page) + offset;
	size_t off = offset_in_page(phys);
	unsigned long npages = PAGE_ALIGN(off + size) >> PAGE_SHIFT;
	unsigned long pfn, i;
	u64 iova;

	if (!size)
		return DMA_MAPPING_ERROR;

	pfn = alloc_iova_fast(&domain->stream, npages,
			      domain->nr_bounce - 1, true);
	if (!pfn)
		return DMA_MAPPING_ERROR;

	/* A page for each slot; none to be had is a mapping error. */
	read_lock(&domain->bounce_lock);
	for (i = 0; i < npages; i++)
		if (!vduse_domain_fill_slot(domain, pfn + i, NULL,
					    GFP_ATOMIC))
			break;
	read_unlock(&domain->bounce_lock);
	if (i < npages) {
		free_iova_fast(&domain->stream, pfn, npages);
		return DMA_MAPPING_ERROR;
	}

	for (i = 0; i < npages; i++)
		domain->bounce[pfn + i].orig = (phys & PAGE_MASK) +
					       i * PAGE_SIZE;
	this_cpu_inc(domain->stats->maps);

	iova = ((u64)pfn << PAGE_SHIFT) + off;
	vduse_domain_bounce(domain, iova, size,
			    dir == DMA_FROM_DEVICE || skip_sync ?
			    VDUSE_BOUNCE_MAP_ZERO : VDUSE_BOUNCE_MAP_COPY);

	return iova;
}

/**
 * vduse_domain_unmap_page() - end a streaming mapping
 * @domain: the domain
 * @iova: what vduse_domain_map_page() returned
 * @size: the size mapped
 * @dir: DMA direction
 * @skip_sync: DMA_ATTR_SKIP_CPU_SYNC: the driver synced already
 */
void vduse_domain_unmap_page(struct vduse_domain *domain, dma_addr_t iova,
			     size_t size, enum dma_data_direction dir,
			     bool skip_sync)
{
	unsigned long npages = PAGE_ALIGN(offset_in_page(iova) + size) >>
			       PAGE_SHIFT;

	if (!skip_sync &&
	    (dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL))
		vduse_domain_bounce(domain, iova, size, VDUSE_BOUNCE_OUT);

	free_iova_fast(&domain->stream, iova >> PAGE_SHIFT, npages);
}

/**
 * vduse_domain_sync() - hand part of a streaming mapping over
 * @domain: the domain
 * @iova: start of the part
 * @size: its size
 * @dir: DMA direction of the mapping
 * @for_cpu: to the CPU (copy back) or to the device (copy in)
 */
void vduse_domain_sync(struct vduse_domain *domain, dma_addr_t iova,
		       size_t size, enum dma_data_direction dir, bool for_cpu)
{
	if (iova >= domain->bounce_size ||
	    size > domain->bounce_size - iova)
		return;

	if (for_cpu && (dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL))
		vduse_domain_bounce(domain, iova, size, VDUSE_BOUNCE_OUT);
	else if (!for_cpu && dir != DMA_FROM_DEVICE)
		vduse_domain_bounce(domain, iova, size, VDUSE_BOUNCE_IN);
}

/**
 * vduse_domain_orig_rw() - access the memory a streaming mapping stands for
 * @domain: the domain
 * @iova: within a mapping the caller owns, which stays mapped meanwhile
 * @buf: kernel buffer
 * @len: bytes to copy, within the same mapping
 * @write: copy @buf to that memory, rather than the other way
 *
 * The driver's memory, not the bounce pages: what the daemon cannot
 * change.  Any context.
 *
 * Return: 0, or -EINVAL when the range is not in the bounce range.
 */
int vduse_domain_orig_rw(struct vduse_domain *domain, dma_addr_t iova,
			 void *buf, size_t len, bool write)
{
	if (iova >= domain->bounce_size || len > domain->bounce_size - iova)
		return -EINVAL;

	while (len) {
		size_t off = offset_in_page(iova);
		size_t n = min_t(size_t, len, PAGE_SIZE - off);
		phys_addr_t orig = domain->bounce[iova >> PAGE_SHIFT].orig + off;
		void *addr = kmap_local_page(pfn_to_page(PHYS_PFN(orig)));

		addr += offset_in_page(orig);
		if (write)
			memcpy(addr, buf, n);
		else
			memcpy(buf, addr, n);
		kunmap_local(addr);

		iova += n;
		buf += n;
		len -= n;
	}

	return 0;
}

/**
 * vduse_domain_alloc_coherent() - allocate zeroed memory shared with the
 * device
 * @domain: the domain
 * @size: bytes wanted
 * @iova: the IOVA is stored here
 * @gfp: allocation flags
 *
 * Return: the kernel address, or NULL.
 */
void *vduse_domain_alloc_coherent(struct vduse_domain *domain, size_t size,
				  dma_addr_t *iova, gfp_t gfp)
{
	unsigned long npages = PAGE_ALIGN(size) >> PAGE_SHIFT;
	unsigned long pfn;
	void *vaddr;
	u64 start;
	int ret;

	vaddr = alloc_pages_exact(npages << PAGE_SHIFT, gfp | __GFP_ZERO);
	if (!vaddr)
		return NULL;

	pfn = alloc_iova_fast(&domain->coherent, npages,
			      VDUSE_DOMAIN_IOVA_LIMIT >> PAGE_SHIFT, true);
	if (!pfn)
		goto out_free_pages;
	start = (u64)pfn << PAGE_SHIFT;

	spin_lock(&domain->lock);
	ret = vhost_iotlb_add_range(domain->coherent_map, start,
				    start + (npages << PAGE_SHIFT) - 1,
				    virt_to_phys(vaddr), VHOST_MAP_RW);
	spin_unlock(&domain->lock);
	if (ret)
		goto out_free_iova;

	*iova = start;
	return vaddr;

out_free_iova:
	free_iova_fast(&domain->coherent, pfn, npages);
out_free_pages:
	free_pages_exact(vaddr, npages << PAGE_SHIFT);
	return NULL;
}

/**
 * vduse_domain_free_coherent() - free a coherent allocation
 * @domain: the domain
 * @size: its size
 * @vaddr: its kernel address
 * @iova: its IOVA
 *
 * The daemon's mappings of it are zapped first; the pages go back once
 * no mapping holds them.
 */
void vduse_domain_free_coherent(struct vduse_domain *domain, size_t size,
				void *vaddr, dma_addr_t iova)
{
	unsigned long npages = PAGE_ALIGN(size) >> PAGE_SHIFT;

	spin_lock(&domain->lock);
	vhost_iotlb_del_range(domain->coherent_map, iova,
			      iova + (npages << PAGE_SHIFT) - 1);
	spin_unlock(&domain->lock);

	unmap_mapping_range(domain->file->f_mapping, iova,
			    npages << PAGE_SHIFT, 1);
	free_iova_fast(&domain->coherent, iova >> PAGE_SHIFT, npages);
	free_pages_exact(vaddr, npages << PAGE_SHIFT);
}

/**
 * vduse_domain_max_mapping_size() - the largest streaming mapping
 * @domain: the domain
 *
 * A sixteenth of the bounce range, so that one request cannot take it
 * all.  Below 4 MiB, a page: virtio-blk's largest request (1280 KiB, or
 * 126 segments of this size) must fit in the range, or it is retried
 * for ever.
 *
 * Return: a size in bytes.
 */
size_t vduse_domain_max_mapping_size(struct vduse_domain *domain)
{
	if (domain->bounce_size < SZ_4M)
		return PAGE_SIZE;
	return domain->bounce_size >> 4;
}

/**
 * vduse_domain_lookup() - the first mappable range that overlaps IOVAs
 * @domain: the domain
 * @iova: first IOVA of the span looked at
 * @iova_last: its last IOVA, not below @iova
 * @start: first IOVA of the range found
 * @last: last IOVA of the range found
 * @offset: offset of @start in the domain's file
 * @perm: VDUSE_ACCESS_* rights
 *
 * Return: 0, or -EINVAL when nothing in [@iova, @iova_last] is mapped.
 */
int vduse_domain_lookup(struct vduse_domain *domain, u64 iova, u64 iova_last,
			u64 *start, u64 *last, u64 *offset, u8 *perm)
{
	struct vhost_iotlb_map *map;
	int ret = 0;

	/* The bounce range starts at 0: it comes first when it overlaps. */
	if (iova < domain->bounce_size) {
		*start = 0;
		*last = domain->bounce_size - 1;
		*offset = 0;
		*perm = VHOST_MAP_RW;
		return 0;
	}

	spin_lock(&domain->lock);
	map = vhost_iotlb_itree_first(domain->coherent_map, iova, iova_last);
	if (map) {
		*start = map->start;
		*last = map->last;
		*offset = map->start;
		*perm = map->perm;
	} else {
		ret = -EINVAL;
	}
	spin_unlock(&domain->lock);

	return ret;
}

/**
 * vduse_domain_rw() - copy to or from the memory behind IOVAs
 * @domain: the domain
 * @iova: first IOVA
 * @buf: kernel buffer
 * @len: bytes to copy
 * @write: copy @buf to the IOVAs, rather than the other way
 *
 * For the kernel's own look at what it shares with a daemon, such as a
 * ring the daemon may rewrite at any time: the bytes are copied, never
 * referenced.  Takes the domain's spinlock; may be called in any context
 * that is not a hardware interrupt.
 *
 * Return: 0, or -EFAULT when part of the range has nothing behind it.
 */
int vduse_domain_rw(struct vduse_domain *domain, u64 iova, void *buf,
		    size_t len, bool write)
{
	if (!len)
		return 0;
	if (iova + len - 1 < iova)
		return -EFAULT;

	while (len) {
		size_t off = offset_in_page(iova);
		size_t n = min_t(size_t, len, PAGE_SIZE - off);
		struct page *page;
		void *addr;

		/* Both locks across the copy: the page may not change under it. */
		spin_lock(&domain->lock);
		read_lock(&domain->bounce_lock);
		page = vduse_domain_page_locked(domain, iova);
		if (page) {
			addr = kmap_local_page(page);
			if (write)
				memcpy(addr + off, buf, n);
			else
				memcpy(buf, addr + off, n);
			kunmap_local(addr);
		}
		read_unlock(&domain->bounce_lock);
		spin_unlock(&domain->lock);
		if (!page)
			return -EFAULT;

		iova += n;
		buf += n;
		len -= n;
	}

	return 0;
}

/**
 * vduse_domain_is_coherent() - whether an IOVA is a coherent allocation
 * @domain: the domain
 * @iova: an IOVA
 *
 * Return: true if the kernel allocated what is at @iova coherently, as
 * it allocates rings.
 */
bool vduse_domain_is_coherent(struct vduse_domain *domain, u64 iova)
{
	bool ret;

	if (iova < domain->bounce_size)
		return false;

	spin_lock(&domain->lock);
	ret = vduse_domain_page_locked(domain, iova);
	spin_unlock(&domain->lock);

	return ret;
}

/*
 * Swap the pages behind the bounce range, carrying their contents over,
 * VDUSE_SWAP_BATCH slots per hold of bounce_lock: DMA to the range goes
 * on between batches, on pages already swapped or not yet, each with the
 * bytes it must have.  Every slot has a page: vduse_domain_fill_all()
 * ran before the swap in, and the swap out puts back what that left.
 * Process context; the caller serializes the umem calls.
 */
static void vduse_domain_swap_bounce(struct vduse_domain *domain,
				     struct page **to, struct page **save)
{
	unsigned long i = 0, end;

	while (i < domain->nr_bounce) {
		end = min(i + VDUSE_SWAP_BATCH, domain->nr_bounce);
		write_lock_irq(&domain->bounce_lock);
		for (; i < end; i++) {
			struct vduse_bounce_page *bp = &domain->bounce[i];

			copy_highpage(to[i], bp->page);
			save[i] = bp->page;
			bp->page = to[i];
			/* The daemon had the whole page to write to. */
			bp->dirty_start = 0;
			bp->dirty_end = PAGE_SIZE;
		}
		write_unlock_irq(&domain->bounce_lock);
		cond_resched();
	}
}

/**
 * vduse_umem_pin() - pin daemon memory for a bounce range
 * @uaddr: page-aligned address in the current process
 * @size: bytes, a multiple of the page size
 *
 * Accounted against the caller's RLIMIT_MEMLOCK (unless it has
 * CAP_IPC_LOCK).  Takes the caller's mmap lock: call it with no lock of
 * the owner held.
 *
 * Return: the pinned memory, or an ERR_PTR(): -EINVAL for a misaligned
 * range, -ENOMEM past the locked-memory limit or out of memory, -EFAULT
 * if the range is not writable memory.
 */
struct vduse_umem *vduse_umem_pin(u64 uaddr, u64 size)
{
	unsigned long npages = size >> PAGE_SHIFT;
	struct vduse_umem *umem;
	long pinned = 0;
	int ret;

	if (!npages || !PAGE_ALIGNED(uaddr) || !PAGE_ALIGNED(size) ||
	    uaddr + size < uaddr || uaddr + size > TASK_SIZE)
		return ERR_PTR(-EINVAL);

	umem = kzalloc(sizeof(*umem), GFP_KERNEL);
	if (!umem)
		return ERR_PTR(-ENOMEM);
	umem->uaddr = uaddr;
	umem->npages = npages;
	umem->mm = current->mm;
	mmgrab(umem->mm);
	/* The limit first: it bounds the arrays below. */
	ret = account_locked_vm(umem->mm, npages, true);
	if (ret)
		goto out_drop_mm;

	umem->pages = kvcalloc(npages, sizeof(*umem->pages),
			       GFP_KERNEL | __GFP_NOWARN);
	umem->kpages = kvcalloc(npages, sizeof(*umem->kpages),
				GFP_KERNEL | __GFP_NOWARN);
	ret = -ENOMEM;
	if (!umem->pages || !umem->kpages)
		goto out_unaccount;

	while (pinned < npages) {
		long n = pin_user_pages_fast(uaddr + pinned * PAGE_SIZE,
					     npages - pinned,
					     FOLL_WRITE | FOLL_LONGTERM,
					     umem->pages + pinned);

		if (n <= 0) {
			ret = n ? n : -EFAULT;
			goto out_unpin;
		}
		pinned += n;
	}

	return umem;

out_unpin:
	unpin_user_pages(umem->pages, pinned);
out_unaccount:
	kvfree(umem->kpages);
	kvfree(umem->pages);
	account_locked_vm(umem->mm, npages, false);
out_drop_mm:
	mmdrop(umem->mm);
	kfree(umem);
	return ERR_PTR(ret);
}

/**
 * vduse_umem_unpin() - give pinned daemon memory back
 * @umem: what vduse_umem_pin() returned, not in a domain
 *
 * Takes the daemon's mmap lock: call it with no lock of the owner held.
 */
void vduse_umem_unpin(struct vduse_umem *umem)
{
	unpin_user_pages_dirty_lock(umem->pages, umem->npages, true);
	account_locked_vm(umem->mm, umem->npages, false);
	mmdrop(umem->mm);
	kvfree(umem->kpages);
	kvfree(umem->pages);
	kfree(umem);
}

/*
 * A page of the domain's in every bounce slot that has none, so that the
 * pages set aside under daemon memory cover the whole range and taking
 * the memory out again needs no allocation.  Up to bounce_size of them,
 * at the daemon's request: charged to its memory cgroup, and given up
 * on when it is killed.  The caller serializes the umem calls, the only
 * ones that change a slot's page once it has one.
 */
static int vduse_domain_fill_all(struct vduse_domain *domain)
{
	struct page *spare;
	unsigned long i;

	for (i = 0; i < domain->nr_bounce; i++) {
		if (READ_ONCE(domain->bounce[i].page))
			continue;
		if (fatal_signal_pending(current))
			return -EINTR;
		spare = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
		if (!spare)
			return -ENOMEM;
		read_lock(&domain->bounce_lock);
		vduse_domain_fill_slot(domain, i, spare, 0);
		read_unlock(&domain->bounce_lock);
		cond_resched();
	}

	return 0;
}

/**
 * vduse_domain_umem_check() - whether daemon memory may go behind the
 * bounce range
 * @domain: the domain
 * @size: the memory's size
 *
 * For a check before anything is allocated or pinned.  The caller
 * serializes the umem calls.
 *
 * Return: 0, -EINVAL if @size is not the bounce range's, -EEXIST if
 * memory is registered already.
 */
int vduse_domain_umem_check(struct vduse_domain *domain, u64 size)
{
	if (size != domain->bounce_size)
		return -EINVAL;
	if (domain->umem)
		return -EEXIST;

	return 0;
}

/**
 * vduse_domain_set_umem() - put pinned daemon memory behind the bounce range
 * @domain: the domain
 * @umem: pinned memory the size of the bounce range
 *
 * The bounce pages' contents move to the daemon's pages; mappings in
 * flight keep their bytes.  Slots that never had a page get one first,
 * to hold their zeroes while the daemon's memory stands in: taking the
 * memory out again cannot fail.  The caller serializes the umem calls.
 *
 * Return: 0, -EINVAL if the size is not the bounce range's, -EEXIST if
 * memory is registered already, -ENOMEM if the pages for the slots
 * cannot be had, -EINTR if the caller was killed meanwhile; nothing
 * changed then.
 */
int vduse_domain_set_umem(struct vduse_domain *domain,
			  struct vduse_umem *umem)
{
	int ret;

	ret = vduse_domain_umem_check(domain,
				      (u64)umem->npages << PAGE_SHIFT);
	if (ret)
		return ret;
	ret = vduse_domain_fill_all(domain);
	if (ret)
		return ret;

	/*
	 * From here on the file maps nothing in the bounce range: the daemon
	 * uses its own memory.  Its mappings go before the contents move, so
	 * nothing it writes through them is lost.
	 */
	write_lock_irq(&domain->bounce_lock);
	domain->umem = umem;
	write_unlock_irq(&domain->bounce_lock);
	unmap_mapping_range(domain->file->f_mapping, 0, domain->bounce_size, 1);

	vduse_domain_swap_bounce(domain, umem->pages, umem->kpages);

	return 0;
}

/**
 * vduse_domain_clear_umem() - take daemon memory out of the bounce range
 * @domain: the domain
 * @uaddr: what it was registered with, or 0: mainline's uapi has the
 *	caller pass only the IOVA and the size
 * @size: what it was registered with
 *
 * The domain's own pages come back with the data of the moment: mappings
 * in flight keep their bytes.  Whatever the daemon writes to its memory
 * afterwards is its own.  The caller serializes the umem calls.
 *
 * Return: the memory, to unpin with vduse_umem_unpin(), or an ERR_PTR():
 * -EINVAL when nothing is registered or @uaddr and @size are not what
 * was.
 */
struct vduse_umem *vduse_domain_clear_umem(struct vduse_domain *domain,
					   u64 uaddr, u64 size)
{
	struct vduse_umem *umem = domain->umem;

	if (!umem || (uaddr && umem->uaddr != uaddr) ||
	    size != domain->bounce_size)
		return ERR_PTR(-EINVAL);

	/* A page for every slot was set aside at registration. */
	vduse_domain_swap_bounce(domain, umem->kpages, umem->pages);
	write_lock_irq(&domain->bounce_lock);
	domain->umem = NULL;
	write_unlock_irq(&domain->bounce_lock);

	return umem;
}

/**
 * vduse_domain_iova_info() - the first range that overlaps IOVAs, and
 * what it can do
 * @domain: the domain
 * @iova: first IOVA of the span looked at
 * @iova_last: its last IOVA, not below @iova
 * @start: first IOVA of the range found
 * @last: last IOVA of the range found
 * @umem: whether daemon memory can back the range (the bounce range)
 *
 * Return: 0, or -EINVAL when nothing in [@iova, @iova_last] is mapped.
 */
int vduse_domain_iova_info(struct vduse_domain *domain, u64 iova,
			   u64 iova_last, u64 *start, u64 *last, bool *umem)
{
	u64 offset;
	u8 perm;

	*umem = iova < domain->bounce_size;
	return vduse_domain_lookup(domain, iova, iova_last, start, last,
				   &offset, &perm);
}

/**
 * vduse_domain_drop_umem() - take whatever daemon memory is registered out
 * @domain: the domain
 *
 * For the daemon's going away.  The caller serializes the umem calls.
 *
 * Return: the memory, to unpin with vduse_umem_unpin(), or NULL.
 */
struct vduse_umem *vduse_domain_drop_umem(struct vduse_domain *domain)
{
	struct vduse_umem *umem = domain->umem;

	if (!umem)
		return NULL;

	/* Cannot fail: the arguments are what was registered. */
	return vduse_domain_clear_umem(domain, umem->uaddr,
				       domain->bounce_size);
}
