/* SPDX-License-Identifier: GPL-2.0 */
/*
 * faultline harness: mapping the memory types userfaultfd is tested on
 * (what they are: domain.h). The huge page reservation they need
 * (restored on exit) is in hugepages.h.
 */
#ifndef FAULTLINE_MEM_H
#define FAULTLINE_MEM_H

#include <stdbool.h>
#include <stddef.h>

#include "domain.h"
#include "hugepages.h"

struct mem_area {
	enum mem_type type;
	char *addr;	/* the mapping under test */
	char *alias;	/* a second MAP_SHARED view of the file, or NULL */
	size_t len;
	size_t page;	/* page size of this memory type */
	int fd;		/* backing memfd, or -1 for anon */
};

/* Base page size, or the default huge page size (0 if none). */
size_t mem_page_size(enum mem_type type);

/*
 * Map @npages pages of @type, with a second MAP_SHARED view of a file
 * type's memfd in ->alias. Returns 0, or -errno with a human reason in
 * @why (e.g. "no free hugetlb pages").
 */
int mem_alloc(struct mem_area *area, enum mem_type type, size_t npages,
	      char *why, size_t whylen);

/*
 * mem_alloc() with options. MEM_NORESERVE: for looking at a registration
 * only (nothing will be populated): MAP_NORESERVE, no alias, and no huge
 * page needs to be free, none is reserved.
 */
#define MEM_NORESERVE	0x1
int mem_map(struct mem_area *area, enum mem_type type, size_t npages,
	    unsigned int opts, char *why, size_t whylen);
void mem_free(struct mem_area *area);
/* Pointer to page @n of the area. */
char *mem_page(const struct mem_area *area, size_t n);
/*
 * Make the whole area fault again: zap our ptes and, with @punch, for
 * file types the page cache too (the next access is a MISSING fault;
 * without @punch the page cache stays: a MINOR fault). Before 5.18
 * hugetlb refuses MADV_DONTNEED (EINVAL): the view is then mapped afresh
 * at the same address (mem_remap()). 0 or -errno.
 */
int mem_drop(struct mem_area *area, bool punch, int uffd, uint64_t mode);
/*
 * Map the file view of @area afresh at its address (its ptes gone), and,
 * when @uffd >= 0, register it again with @mode: a new vma loses the
 * registration. 0 or -errno.
 */
int mem_remap(struct mem_area *area, int uffd, uint64_t mode);

/*
 * A buffer (never freed) with the @seed pattern for the largest area of
 * @npages pages of any memory type, and at least @at_least bytes long;
 * NULL when out of memory. It is also kept as a reference that
 * mem_pattern() hands out: built once in a case binary's parent, before
 * the points fork, no point regenerates megabytes of hugetlb pattern.
 */
char *mem_pattern_largest(size_t npages, size_t at_least, unsigned int seed);
/*
 * The @seed pattern, at least @len bytes: a reference of that seed that
 * is long enough (the pattern of a shorter area is a prefix of a longer
 * one), else a malloc'd copy; NULL without memory. A point writing into it
 * writes into its own copy-on-write copy. Release with mem_pattern_free().
 */
char *mem_pattern(size_t len, unsigned int seed);
/* Free a mem_pattern() buffer; references stay (NULL is fine). */
void mem_pattern_free(char *p);

/*
 * Fill/verify the reference pattern of @seed: a hash of the seed and each
 * word's offset, so every page of every area differs from every other
 * and from every other seed; all bytes odd (never 0, never an even mark).
 */
void mem_fill(void *buf, size_t len, unsigned int seed);
/* Returns the offset of the first mismatch, or -1 if all bytes match. */
long mem_check(const void *buf, size_t len, unsigned int seed);
/* Returns the offset of the first non-zero byte, or -1. */
long mem_check_zero(const void *buf, size_t len);

#endif /* FAULTLINE_MEM_H */
