// SPDX-License-Identifier: GPL-2.0
/*
 * Stress: 64 devices created, attached, detached and destroyed by four
 * threads at once; 10,000 create/destroy cycles with slab and vmalloc
 * usage flat at the end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/virtio_blk.h>

#include "../kselftest_harness.h"
#include "vduse_lib.h"

#define THREADS		4
#define PER_THREAD	16

struct worker {
	int id;
	int failures;
	char what[128];		/* the first failure */
};

static void fail(struct worker *w, const char *what, int i, int ret)
{
	if (!w->failures++)
		snprintf(w->what, sizeof(w->what), "%s of device %d: %d",
			 what, i, ret);
}

static void *worker_main(void *arg)
{
	struct vduse_vq_config vq = { .index = 0, .max_size = 64 };
	struct vduse_ctl_daemon d[PER_THREAD];
	struct worker *w = arg;
	struct vduse_test_config c;
	int fd[PER_THREAD];
	char name[32];
	int ctrl, i, ret, tries;

	ctrl = vduse_ctrl_open();
	if (ctrl < 0) {
		fail(w, "open control", 0, ctrl);
		return NULL;
	}
	memset(d, 0, sizeof(d));
	for (i = 0; i < PER_THREAD; i++) {
		fd[i] = -1;
		snprintf(name, sizeof(name), "stress-%d-%d", w->id, i);
		vduse_test_blk_config(&c, name);
		/* No sector to read: attaching runs the control path only. */
		((struct virtio_blk_config *)c.cfg.config)->capacity = 0;
		ret = vduse_create(ctrl, &c);
		if (ret) {
			fail(w, "create", i, ret);
			continue;
		}
		fd[i] = vduse_dev_open(name);
		if (fd[i] < 0 || ioctl(fd[i], VDUSE_VQ_SETUP, &vq) ||
		    vduse_ctl_daemon_start(&d[i], fd[i])) {
			fail(w, "set up", i, fd[i]);
			continue;
		}
		ret = vduse_vdpa_add(name, 120);
		if (ret)
			fail(w, "vdpa dev add", i, ret);
	}
	for (i = 0; i < PER_THREAD; i++) {
		snprintf(name, sizeof(name), "stress-%d-%d", w->id, i);
		ret = vduse_vdpa_del(name, 120);
		if (ret)
			fail(w, "vdpa dev del", i, ret);
		if (fd[i] >= 0) {
			vduse_ctl_daemon_stop(&d[i]);
			close(fd[i]);
		}
		/*
		 * Another thread's fork() may hold a copy of the node's file
		 * until its child execs (O_CLOEXEC): EBUSY for that moment,
		 * which on a debug kernel under load lasts seconds.
		 */
		for (tries = 0; tries < 3000; tries++) {
			ret = vduse_destroy(ctrl, name);
			if (ret != -EBUSY)
				break;
			usleep(10000);
		}
		if (ret)
			fail(w, "destroy", i, ret);
	}
	close(ctrl);
	return NULL;
}

FIXTURE(stress) {
	int unused;
};

FIXTURE_SETUP(stress)
{
}

FIXTURE_TEARDOWN(stress)
{
}

/* Minutes on a KASAN kernel under TCG, not the harness's 30 s. */
TEST_F_TIMEOUT(stress, many_devices_from_several_threads, 900)
{
	struct worker w[THREADS];
	pthread_t t[THREADS];
	int i;

	for (i = 0; i < THREADS; i++) {
		w[i].id = i;
		w[i].failures = 0;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, worker_main, &w[i]));
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, w[i].failures)
			TH_LOG("thread %d: %s", i, w[i].what);
	}
	EXPECT_NE(0, access("/dev/vduse/stress-0-0", F_OK));
}

static long meminfo_kb(const char *key)
{
	char line[256];
	size_t n = strlen(key);
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':') {
			kb = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

static int cycle(int ctrl, struct vduse_test_config *c)
{
	return vduse_create(ctrl, c) || vduse_destroy(ctrl, c->cfg.name);
}

#define CYCLES		10000
#define MAX_CACHES	1024

/* One line of /proc/slabinfo: the cache and its objects in use. */
struct slab_cache {
	char name[64];
	long active;
	long size;
};

/*
 * The objects in use in every slab cache, into c[max]; how many caches,
 * or -1.  Each cache is shrunk first: SLUB counts the free objects of
 * per-CPU slabs as in use, and which slabs those are changes with every
 * allocation, here or elsewhere.  Shrinking puts them back on the node's
 * lists, where they count as free, so what remains is what is in use.
 */
static int slab_read(struct slab_cache *c, int max)
{
	char line[512], path[128];
	FILE *f;
	int n = 0;

	f = fopen("/proc/slabinfo", "r");
	if (!f)
		return -1;
	while (n < max && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %ld %*d %ld", c[n].name, &c[n].active,
			   &c[n].size) != 3 || c[n].name[0] == '#')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink",
			 c[n].name);
		/* A cache merged into another has no directory of its own. */
		vduse_sysfs_write(path, "1");
		n++;
	}
	fclose(f);
	if (n == 0)
		return -1;

	/* Read again, now that the per-CPU slabs are flushed. */
	f = fopen("/proc/slabinfo", "r");
	if (!f)
		return -1;
	n = 0;
	while (n < max && fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %ld %*d %ld", c[n].name, &c[n].active,
			   &c[n].size) == 3 && c[n].name[0] != '#')
			n++;
	fclose(f);
	return n;
}

/*
 * The cache that grew most from before[] to after[], in objects, into
 * *worst (NULL if none grew); returns the growth.
 */
static long slab_worst(const struct slab_cache *before, int nb,
		       const struct slab_cache *after, int na,
		       const struct slab_cache **worst)
{
	long grew, most = 0;
	int i, j;

	*worst = NULL;
	for (i = 0; i < na; i++) {
		grew = after[i].active;
		for (j = 0; j < nb; j++)
			if (!strcmp(before[j].name, after[i].name)) {
				grew -= before[j].active;
				break;
			}
		if (grew > most) {
			most = grew;
			*worst = &after[i];
		}
	}
	return most;
}

/*
 * Nothing a create/destroy cycle allocates outlives it.  Slab caches are
 * shared with the rest of the kernel, so each is counted on its own,
 * after a warm-up and with per-CPU slabs flushed: a leak of one object
 * every ten cycles, of any size, is 1,000 objects in one cache, far
 * above what an idle guest's caches move by.  What RCU or a work item
 * frees late gets a few seconds to go before the verdict.  kmalloc()s
 * too large for a cache come from the page allocator but count in
 * Slab: within 2 MiB, less than one page a cycle.  vmalloc within 1 MiB.
 */
TEST_F_TIMEOUT(stress, ten_thousand_create_destroy_cycles, 900)
{
	static struct slab_cache before[MAX_CACHES], after[MAX_CACHES];
	const struct slab_cache *worst;
	struct vduse_test_config c;
	long slab, vmalloc, grew = 0;
	int ctrl, i, nb, na, bad = 0;

	ctrl = vduse_ctrl_open();
	ASSERT_LE(0, ctrl);
	vduse_test_blk_config(&c, "stress-cycle");
	c.cfg.vq_num = 8;
	for (i = 0; i < 200; i++)
		bad += cycle(ctrl, &c);
	nb = slab_read(before, MAX_CACHES);
	ASSERT_LT(0, nb);
	slab = meminfo_kb("Slab");
	vmalloc = meminfo_kb("VmallocUsed");
	for (i = 0; i < CYCLES; i++)
		bad += cycle(ctrl, &c);
	EXPECT_EQ(0, bad);
	for (i = 0; i < 10; i++) {
		na = slab_read(after, MAX_CACHES);
		ASSERT_LT(0, na);
		grew = slab_worst(before, nb, after, na, &worst);
		if (grew < CYCLES / 10)
			break;
		sleep(1);
	}
	TH_LOG("%d cycles: %s grew most, by %ld objects of %ld bytes",
	       CYCLES, worst ? worst->name : "no cache", grew,
	       worst ? worst->size : 0L);
	EXPECT_GT(CYCLES / 10, grew);
	TH_LOG("slab %ld -> %ld kB, vmalloc %ld -> %ld kB", slab,
	       meminfo_kb("Slab"), vmalloc, meminfo_kb("VmallocUsed"));
	EXPECT_GT(slab + 2048, meminfo_kb("Slab"));
	EXPECT_GT(vmalloc + 1024, meminfo_kb("VmallocUsed"));
	close(ctrl);
}

TEST_HARNESS_MAIN
