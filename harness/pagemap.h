/* SPDX-License-Identifier: GPL-2.0 */
/*
 * faultline harness: what /proc/self/pagemap says about our own pages (the
 * per-page entry and its uffd-wp bit) and the PAGEMAP_SCAN ioctl that
 * UFFD_FEATURE_WP_ASYNC users read dirty pages with.
 */
#ifndef FAULTLINE_PAGEMAP_H
#define FAULTLINE_PAGEMAP_H

#include <stddef.h>
#include <stdint.h>
#include "uffd_compat.h"

/* Bits of a /proc/pid/pagemap entry (Documentation/admin-guide/mm/pagemap.rst). */
#define PM_SOFT_DIRTY		(1ULL << 55)
#define PM_MMAP_EXCLUSIVE	(1ULL << 56)
#define PM_UFFD_WP		(1ULL << 57)
#define PM_FILE			(1ULL << 61)
#define PM_SWAP			(1ULL << 62)
#define PM_PRESENT		(1ULL << 63)

/*
 * This process's /proc/self/pagemap, kept open (never close it): the
 * descriptor or -errno.
 */
int pagemap_fd(void);
/* The pagemap entry of the base page holding @addr. 0 or -errno. */
int pagemap_entry(const void *addr, uint64_t *entry);
/*
 * The entries of the @n base pages from the one holding @addr, in one
 * read. 0, or -errno (-EIO: a short read).
 */
int pagemap_entries(const void *addr, size_t n, uint64_t *entries);
/* 1 if the page holding @addr is uffd-wp protected, 0 if not, or -errno. */
int pagemap_uffd_wp(const void *addr);
/* Whether a page is present: vm_present() in vmstate.h. */
/* 1 if the page holding @addr is mapped only by us (once), 0, or -errno. */
int pagemap_exclusive(const void *addr);

/*
 * Whether pagemap shows the uffd-wp bit at all (probed once per process on
 * a protected anon page): 1 yes; 0 no, though a write to that page trapped
 * (the kernel has uffd-wp but does not export it in pagemap); -errno when
 * the probe could not tell (no uffd, no WP feature, the write did not trap).
 */
int pagemap_wp_shown(void);

/*
 * PAGEMAP_SCAN over [start, start+len) of our own address space: pages whose
 * categories match @mask (all of them) are reported with @ret_mask, merged
 * into at most @nvec regions in @vec. @flags: PM_SCAN_WP_MATCHING,
 * PM_SCAN_CHECK_WPASYNC. Returns the number of regions filled or -errno;
 * *@walk_end (if not NULL) gets where the walk stopped.
 */
int pagemap_scan(void *start, size_t len, uint64_t flags, uint64_t mask,
		 uint64_t ret_mask, struct page_region *vec, size_t nvec,
		 uint64_t *walk_end);

#endif /* FAULTLINE_PAGEMAP_H */
