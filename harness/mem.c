// SPDX-License-Identifier: GPL-2.0
/* faultline harness: memory types and huge page reservation. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mem.h"
#include "sysctl.h"

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif
#ifndef MADV_REMOVE
#define MADV_REMOVE 9
#endif

#define NR_HUGEPAGES "/proc/sys/vm/nr_hugepages"

static const char *const type_names[MEM_TYPE_NR] = {
	[MEM_ANON]		= "anon",
	[MEM_SHMEM]		= "shmem",
	[MEM_SHMEM_PRIVATE]	= "shmem_private",
	[MEM_HUGETLB]		= "hugetlb",
	[MEM_HUGETLB_PRIVATE]	= "hugetlb_private",
};

const char *mem_type_name(enum mem_type type)
{
	return type < MEM_TYPE_NR ? type_names[type] : "?";
}

bool mem_type_by_name(const char *name, enum mem_type *type)
{
	int t;

	for (t = 0; t < MEM_TYPE_NR; t++) {
		if (!strcmp(name, type_names[t])) {
			*type = t;
			return true;
		}
	}
	return false;
}

bool mem_is_hugetlb(enum mem_type type)
{
	return type == MEM_HUGETLB || type == MEM_HUGETLB_PRIVATE;
}

bool mem_is_shared(enum mem_type type)
{
	return type == MEM_SHMEM || type == MEM_HUGETLB;
}

bool mem_is_file(enum mem_type type)
{
	return type != MEM_ANON;
}

size_t mem_huge_page_size(void)
{
	static size_t cached = (size_t)-1;
	char line[128];
	FILE *f;

	if (cached != (size_t)-1)
		return cached;
	cached = 0;
	f = fopen("/proc/meminfo", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long kb;

		if (sscanf(line, "Hugepagesize: %lu kB", &kb) == 1) {
			cached = kb * 1024;
			break;
		}
	}
	fclose(f);
	return cached;
}

size_t mem_page_size(enum mem_type type)
{
	if (mem_is_hugetlb(type))
		return mem_huge_page_size();
	return (size_t)sysconf(_SC_PAGESIZE);
}

/*
 * HugePages_<field> from /proc/meminfo, or HUGETLB_UNKNOWN. The kernel
 * prints unsigned values: an underflowed counter comes back negative.
 */
static long long meminfo_huge(const char *field)
{
	char line[128], want[64];
	unsigned long long val;
	long long ret = HUGETLB_UNKNOWN;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -1;
	snprintf(want, sizeof(want), "HugePages_%s: %%llu", field);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, want, &val) == 1) {
			ret = (long long)val;
			break;
		}
	fclose(f);
	return ret;
}

long long hugetlb_rsvd_pages(void)
{
	return meminfo_huge("Rsvd");
}

long hugetlb_free_pages(void)
{
	long long free_pages = meminfo_huge("Free");
	long long rsvd = meminfo_huge("Rsvd");

	if (free_pages < 0)
		return -1;
	if (rsvd == HUGETLB_UNKNOWN)
		rsvd = 0;
	/*
	 * Reserved pages are free but promised to existing mappings. A
	 * counter that has underflowed (seen as a huge or negative value)
	 * cannot be trusted: fall back to the free count.
	 */
	if (rsvd < 0 || rsvd > free_pages)
		return (long)free_pages;
	return (long)(free_pages - rsvd);
}

static long long rsvd_at_start = -2;

/*
 * Huge page reservations are the kernel's to balance: once every mapping
 * of this binary is gone, HugePages_Rsvd must be back where it started.
 * Other processes can move it too, so this is reported, never failed.
 */
static void hugetlb_check_accounting(void)
{
	long long now = meminfo_huge("Rsvd");
	const char *jobs = getenv("FAULTLINE_JOBS");

	/* Binaries running beside this one move the counter too. */
	if (jobs && atoi(jobs) > 1)
		return;
	if (rsvd_at_start < 0 || now == HUGETLB_UNKNOWN || now == rsvd_at_start)
		return;
	printf("# finding: HugePages_Rsvd was %lld before this binary and is %lld after it%s\n",
	       rsvd_at_start, now,
	       (unsigned long long)now > (1ULL << 62) ?
	       " (the kernel's reservation counter underflowed)" : "");
	fflush(stdout);
}

static long saved_nr_hugepages = -1;

void hugetlb_restore(void)
{
	if (saved_nr_hugepages < 0)
		return;
	sysctl_write(NR_HUGEPAGES, saved_nr_hugepages);
	saved_nr_hugepages = -1;
}

static void restore_on_signal(int sig)
{
	hugetlb_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

long hugetlb_reserve(long npages)
{
	static const int fatal[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	long free_pages = hugetlb_free_pages();
	long cur;
	size_t i;

	if (!mem_huge_page_size() || free_pages < 0)
		return 0;
	if (rsvd_at_start == -2) {
		rsvd_at_start = meminfo_huge("Rsvd");
		atexit(hugetlb_check_accounting);
	}
	if (free_pages >= npages)
		return free_pages;
	cur = sysctl_read(NR_HUGEPAGES);
	if (cur < 0)
		return free_pages;
	if (saved_nr_hugepages < 0) {
		saved_nr_hugepages = cur;
		atexit(hugetlb_restore);
		for (i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
			signal(fatal[i], restore_on_signal);
	}
	if (sysctl_write(NR_HUGEPAGES, cur + (npages - free_pages)))
		return free_pages;
	return hugetlb_free_pages();
}

static int map_file(struct mem_area *a, int prot, char *why, size_t whylen)
{
	bool huge = mem_is_hugetlb(a->type);
	int flags = mem_is_shared(a->type) ? MAP_SHARED : MAP_PRIVATE;

	a->fd = memfd_create(mem_type_name(a->type),
			     MFD_CLOEXEC | (huge ? MFD_HUGETLB : 0));
	if (a->fd < 0) {
		snprintf(why, whylen, "memfd_create(%s): %s",
			 huge ? "MFD_HUGETLB" : "0", strerror(errno));
		return -errno;
	}
	if (ftruncate(a->fd, a->len)) {
		snprintf(why, whylen, "ftruncate memfd: %s", strerror(errno));
		return -errno;
	}
	a->addr = mmap(NULL, a->len, prot, flags, a->fd, 0);
	if (a->addr == MAP_FAILED) {
		a->addr = NULL;
		snprintf(why, whylen, "mmap %s: %s%s", mem_type_name(a->type),
			 strerror(errno),
			 huge ? " (no hugetlb pages could be reserved)" : "");
		return -ENOMEM;
	}
	a->alias = mmap(NULL, a->len, PROT_READ | PROT_WRITE, MAP_SHARED,
			a->fd, 0);
	if (a->alias == MAP_FAILED) {
		a->alias = NULL;
		snprintf(why, whylen, "mmap alias %s: %s",
			 mem_type_name(a->type), strerror(errno));
		return -ENOMEM;
	}
	return 0;
}

int mem_alloc(struct mem_area *a, enum mem_type type, size_t npages,
	      char *why, size_t whylen)
{
	int prot = PROT_READ | PROT_WRITE;
	int ret;

	memset(a, 0, sizeof(*a));
	a->type = type;
	a->fd = -1;
	a->page = mem_page_size(type);
	if (!a->page) {
		snprintf(why, whylen, "kernel has no default huge page size");
		return -EOPNOTSUPP;
	}
	a->len = npages * a->page;
	if (mem_is_hugetlb(type)) {
		long free_pages = hugetlb_free_pages();
		/*
		 * The shared alias reserves the file's pages; a private
		 * mapping reserves as many again for its own copies.
		 */
		size_t need = mem_is_shared(type) ? npages : 2 * npages;

		if (free_pages < (long)need) {
			snprintf(why, whylen,
				 "no hugetlb pages could be reserved (%ld free, %zu needed)",
				 free_pages, need);
			return -ENOMEM;
		}
	}
	if (type == MEM_ANON) {
		a->addr = mmap(NULL, a->len, prot,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (a->addr == MAP_FAILED) {
			a->addr = NULL;
			snprintf(why, whylen, "mmap anon: %s", strerror(errno));
			return -ENOMEM;
		}
		return 0;
	}
	ret = map_file(a, prot, why, whylen);
	if (ret)
		mem_free(a);
	return ret;
}

void mem_free(struct mem_area *a)
{
	if (a->addr)
		munmap(a->addr, a->len);
	if (a->alias)
		munmap(a->alias, a->len);
	if (a->fd >= 0)
		close(a->fd);
	a->addr = a->alias = NULL;
	a->fd = -1;
}

char *mem_page(const struct mem_area *a, size_t n)
{
	return a->addr + n * a->page;
}

int mem_drop(struct mem_area *a, size_t off, size_t len)
{
	/* Zap our ptes first, then the page cache behind a file mapping. */
	if (madvise(a->addr + off, len, MADV_DONTNEED))
		return -errno;
	if (a->fd >= 0 &&
	    fallocate(a->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      off, len))
		return -errno;
	return 0;
}

void mem_fill(void *buf, size_t len, unsigned int seed)
{
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)((i * 31 + seed * 131 + (i >> 12)) | 1);
}

long mem_check(const void *buf, size_t len, unsigned int seed)
{
	const unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != (unsigned char)((i * 31 + seed * 131 + (i >> 12)) | 1))
			return (long)i;
	return -1;
}

long mem_check_zero(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return (long)i;
	return -1;
}
