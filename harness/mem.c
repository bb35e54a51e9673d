// SPDX-License-Identifier: GPL-2.0
/* faultline harness: mapping the memory types (huge pages: hugepages.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "mem.h"
#include "uffd.h"
#include "vmstate.h"

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif
#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0x4000
#endif


size_t mem_page_size(enum mem_type type)
{
	if (mem_is_hugetlb(type))
		return mem_huge_page_size();
	return (size_t)sysconf(_SC_PAGESIZE);
}

/* A memfd of @a->type; 0 or -errno with the reason in @why. */
static int make_memfd(struct mem_area *a, char *why, size_t whylen)
{
	bool huge = mem_is_hugetlb(a->type);
	int err;

	a->fd = memfd_create(mem_type_name(a->type),
			     MFD_CLOEXEC | (huge ? MFD_HUGETLB : 0));
	if (a->fd >= 0)
		return 0;
	err = errno;
	snprintf(why, whylen, "memfd_create(%s): %s%s",
		 huge ? "MFD_HUGETLB" : "0", strerror(err),
		 huge ? " (no hugetlbfs or no huge page size)" : "");
	return -err;
}

/* The page size of @a: hugetlbfs reports its own as the block size. */
static size_t area_page_size(const struct mem_area *a)
{
	struct statfs sfs;

	if (mem_is_hugetlb(a->type) && a->fd >= 0 && !fstatfs(a->fd, &sfs))
		return (size_t)sfs.f_bsize;
	return mem_page_size(a->type);
}

/* Whether enough free huge pages are left for the area's mappings. */
static int check_huge_pool(const struct mem_area *a, size_t npages,
			   char *why, size_t whylen)
{
	long free_pages = hugetlb_free_pages();
	/*
	 * The shared alias reserves the file's pages; a private mapping
	 * reserves as many again for its own copies.
	 */
	size_t need = mem_is_shared(a->type) ? npages : 2 * npages;
	/* Raising the pool failed: say why (for a user, it takes root). */
	int raise = hugetlb_reserve_error();

	if (free_pages >= (long)need)
		return 0;
	snprintf(why, whylen,
		 "no hugetlb pages could be reserved (%ld free, %zu needed)%s%s%s",
		 free_pages, need, raise ? "; raising vm.nr_hugepages: " : "",
		 raise ? strerror(-raise) : "",
		 raise == -EACCES || raise == -EPERM ?
		 " (a privilege: it takes root)" : "");
	return -ENOMEM;
}

static int map_area(struct mem_area *a, unsigned int opts, char *why,
		    size_t whylen)
{
	int flags = mem_is_shared(a->type) ? MAP_SHARED : MAP_PRIVATE;
	bool hint = mem_is_hugetlb(a->type) && !(opts & MEM_NORESERVE);
	int err;

	if (!mem_is_file(a->type))
		flags |= MAP_ANONYMOUS;
	if (opts & MEM_NORESERVE)
		flags |= MAP_NORESERVE;
	a->addr = mmap(NULL, a->len, PROT_READ | PROT_WRITE, flags, a->fd, 0);
	if (a->addr == MAP_FAILED) {
		err = errno;
		a->addr = NULL;
		snprintf(why, whylen, "mmap %s: %s%s", mem_type_name(a->type),
			 strerror(err),
			 hint ? " (no hugetlb pages could be reserved)" : "");
		return -err;
	}
	if (!mem_is_file(a->type) || (opts & MEM_NORESERVE))
		return 0;
	a->alias = mmap(NULL, a->len, PROT_READ | PROT_WRITE, MAP_SHARED,
			a->fd, 0);
	if (a->alias == MAP_FAILED) {
		err = errno;
		a->alias = NULL;
		snprintf(why, whylen, "mmap alias %s: %s",
			 mem_type_name(a->type), strerror(err));
		return -err;
	}
	return 0;
}

int mem_map(struct mem_area *a, enum mem_type type, size_t npages,
	    unsigned int opts, char *why, size_t whylen)
{
	int ret = 0;

	memset(a, 0, sizeof(*a));
	a->type = type;
	a->fd = -1;
	if (mem_is_file(type))
		ret = make_memfd(a, why, whylen);
	if (ret)
		return ret;
	a->page = area_page_size(a);
	if (!a->page) {
		snprintf(why, whylen, "kernel has no default huge page size");
		ret = -EOPNOTSUPP;
		goto fail;
	}
	a->len = npages * a->page;
	if (a->fd >= 0 && ftruncate(a->fd, (off_t)a->len)) {
		ret = -errno;
		snprintf(why, whylen, "ftruncate memfd: %s", strerror(-ret));
		goto fail;
	}
	if (mem_is_hugetlb(type) && !(opts & MEM_NORESERVE))
		ret = check_huge_pool(a, npages, why, whylen);
	if (!ret)
		ret = map_area(a, opts, why, whylen);
	if (!ret)
		return 0;
fail:
	mem_free(a);
	return ret;
}

int mem_alloc(struct mem_area *a, enum mem_type type, size_t npages,
	      char *why, size_t whylen)
{
	return mem_map(a, type, npages, 0, why, whylen);
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

int mem_remap(struct mem_area *a, int uffd, uint64_t mode)
{
	int flags = (mem_is_shared(a->type) ? MAP_SHARED : MAP_PRIVATE) |
		    MAP_FIXED;
	void *p = mmap(a->addr, a->len, PROT_READ | PROT_WRITE, flags, a->fd,
		       0);

	if (p == MAP_FAILED)
		return -errno;
	/* A new vma: the registration went with the old one. */
	return uffd >= 0 ? uffd_register_range(uffd, a->addr, a->len, mode,
					       NULL) : 0;
}

int mem_drop(struct mem_area *a, bool punch, int uffd, uint64_t mode)
{
	int ret = 0;

	/* Zap our ptes first, then (@punch) the page cache behind a file. */
	if (madvise(a->addr, a->len, MADV_DONTNEED)) {
		ret = -errno;
		if (ret == -EINVAL && mem_is_hugetlb(a->type) && a->fd >= 0)
			ret = mem_remap(a, uffd, mode);
	}
	if (!ret && punch && a->fd >= 0 &&
	    fallocate(a->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
		      a->len))
		ret = -errno;
	return ret;
}

/* The references mem_pattern_largest() built: a few per case binary. */
static struct reference {
	char *buf;
	size_t len;
	unsigned int seed;
} references[8];

/*
 * Room for a reference of @len bytes, never freed. The harness forks twice
 * per point from the process that holds the references, and fork copies
 * the page table of a private mapping: 512 entries (and as many page
 * references) per 2 MiB of 4 KiB pages, a single one per transparent huge
 * page. So a reference is THP-aligned and asks for huge pages
 * (MADV_HUGEPAGE); where THP is off or none is free it gets 4 KiB pages,
 * which is only slower. Its bytes and where the children see them are the
 * same either way.
 */
static char *reference_map(size_t len)
{
	size_t thp = vm_thp_size(), span, head;
	char *p;

	if (!thp)
		return malloc(len);
	len = (len + thp - 1) / thp * thp;
	span = len + thp;
	p = mmap(NULL, span, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	head = (thp - (uintptr_t)p % thp) % thp;
	if (head)
		munmap(p, head);
	munmap(p + head + len, span - head - len);
	p += head;
	madvise(p, len, MADV_HUGEPAGE);
	return p;
}

char *mem_pattern_largest(size_t npages, size_t at_least, unsigned int seed)
{
	size_t base = (size_t)sysconf(_SC_PAGESIZE);
	size_t huge = mem_huge_page_size();
	size_t len = npages * (huge > base ? huge : base), i;
	char *buf;

	if (len < at_least)
		len = at_least;
	buf = reference_map(len);
	if (!buf)
		return NULL;
	mem_fill(buf, len, seed);
	for (i = 0; i < sizeof(references) / sizeof(references[0]); i++) {
		if (!references[i].buf) {
			references[i] = (struct reference){ buf, len, seed };
			break;
		}
	}
	return buf;
}

static const struct reference *reference_of(const char *p)
{
	size_t i;

	for (i = 0; i < sizeof(references) / sizeof(references[0]); i++)
		if (p && references[i].buf == p)
			return &references[i];
	return NULL;
}

char *mem_pattern(size_t len, unsigned int seed)
{
	char *buf;
	size_t i;

	for (i = 0; i < sizeof(references) / sizeof(references[0]); i++)
		if (references[i].buf && references[i].seed == seed &&
		    references[i].len >= len)
			return references[i].buf;
	buf = malloc(len ? len : 1);
	if (buf)
		mem_fill(buf, len, seed);
	return buf;
}

void mem_pattern_free(char *p)
{
	if (!reference_of(p))
		free(p);
}

/*
 * The reference pattern: every 8-byte word is a hash of the seed and the
 * word's index in the buffer, so no two pages of any area (4 KiB or huge)
 * hold the same bytes, and a byte landing at another offset, page or seed
 * shows. Every byte is odd: never zero (a hole, a zero page) and never an
 * even marker a case writes.
 */
static uint64_t pattern_word(unsigned int seed, uint64_t index)
{
	uint64_t x = index * 0x9e3779b97f4a7c15ULL +
		     (seed + 1) * 0xd1b54a32d192ed03ULL;

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x | 0x0101010101010101ULL;
}

/* Byte @i of the @seed pattern, laid out as mem_fill() stores words. */
static unsigned char pattern_byte(unsigned int seed, size_t i)
{
	uint64_t w = pattern_word(seed, i / 8);
	unsigned char b[8];

	memcpy(b, &w, sizeof(b));
	return b[i % 8];
}

void mem_fill(void *buf, size_t len, unsigned int seed)
{
	unsigned char *p = buf;
	size_t i, words = len / 8;

	for (i = 0; i < words; i++) {
		uint64_t w = pattern_word(seed, i);

		memcpy(p + 8 * i, &w, 8);
	}
	for (i = 8 * words; i < len; i++)
		p[i] = pattern_byte(seed, i);
}

long mem_check(const void *buf, size_t len, unsigned int seed)
{
	const unsigned char *p = buf;
	size_t i, words = len / 8;

	for (i = 0; i < words; i++) {
		uint64_t w = pattern_word(seed, i);

		if (memcmp(p + 8 * i, &w, 8))
			break;
	}
	for (i *= 8; i < len; i++)
		if (p[i] != pattern_byte(seed, i))
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
