/* SPDX-License-Identifier: GPL-2.0 */
/*
 * faultline harness: the five memory types userfaultfd is tested on. The
 * huge page reservation they need (restored on exit) is in hugepages.h.
 */
#ifndef FAULTLINE_MEM_H
#define FAULTLINE_MEM_H

#include <stdbool.h>
#include <stddef.h>

#include "hugepages.h"

enum mem_type {
	MEM_ANON,		/* MAP_PRIVATE | MAP_ANONYMOUS */
	MEM_SHMEM,		/* MAP_SHARED of a memfd */
	MEM_SHMEM_PRIVATE,	/* MAP_PRIVATE of a memfd */
	MEM_HUGETLB,		/* MAP_SHARED of a MFD_HUGETLB memfd */
	MEM_HUGETLB_PRIVATE,	/* MAP_PRIVATE of a MFD_HUGETLB memfd */
	MEM_TYPE_NR,
};

struct mem_area {
	enum mem_type type;
	char *addr;	/* the mapping under test */
	char *alias;	/* a second MAP_SHARED view of the file, or NULL */
	size_t len;
	size_t page;	/* page size of this memory type */
	int fd;		/* backing memfd, or -1 for anon */
};

const char *mem_type_name(enum mem_type type);
bool mem_type_by_name(const char *name, enum mem_type *type);
bool mem_is_hugetlb(enum mem_type type);
bool mem_is_shared(enum mem_type type);
bool mem_is_file(enum mem_type type);

/* Base page size, or the default huge page size (0 if none). */
size_t mem_page_size(enum mem_type type);

/*
 * Map @npages pages of @type. Returns 0, or -errno with a human reason in
 * @why (e.g. "no free hugetlb pages").
 */
int mem_alloc(struct mem_area *area, enum mem_type type, size_t npages,
	      char *why, size_t whylen);
void mem_free(struct mem_area *area);
/* Pointer to page @n of the area. */
char *mem_page(const struct mem_area *area, size_t n);
/*
 * Drop the contents of [off, off+len): zap the ptes and, for file types,
 * punch the page cache so the next access is a MISSING fault again.
 */
int mem_drop(struct mem_area *area, size_t off, size_t len);

/* Fill/verify a recognizable per-page pattern derived from @seed. */
void mem_fill(void *buf, size_t len, unsigned int seed);
/* Returns the offset of the first mismatch, or -1 if all bytes match. */
long mem_check(const void *buf, size_t len, unsigned int seed);
/* Returns the offset of the first non-zero byte, or -1. */
long mem_check_zero(const void *buf, size_t len);

#endif /* FAULTLINE_MEM_H */
