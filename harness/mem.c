// SPDX-License-Identifier: GPL-2.0
/* faultline harness: memory types (huge pages: hugepages.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mem.h"

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif
#ifndef MADV_REMOVE
#define MADV_REMOVE 9
#endif

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

size_t mem_page_size(enum mem_type type)
{
	if (mem_is_hugetlb(type))
		return mem_huge_page_size();
	return (size_t)sysconf(_SC_PAGESIZE);
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
