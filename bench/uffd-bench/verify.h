/* SPDX-License-Identifier: GPL-2.0 */
/*
 * uffd-bench: the checks that stand between an ioctl's return code and a
 * reported number. Each returns true when the memory (or the kernel's
 * answer) is what the operation should have left, else false with a
 * reason. They take plain inputs, so the self-test can feed them crafted
 * memory and answers.
 */
#ifndef UFFD_BENCH_VERIFY_H
#define UFFD_BENCH_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uffd_compat.h"

/*
 * A pattern unique to each 8-byte word of a range and to @seed, written
 * and checked a word at a time (the library's byte-wise mem_fill() costs
 * ~3 ns a byte: too slow to refill 64 MiB every repeat). @len is a
 * multiple of 8; offsets count from @buf.
 */
void pattern_fill(void *buf, size_t len, unsigned int seed);
/* Byte offset of the first difference from the pattern, or -1. */
long pattern_check(const void *buf, size_t len, unsigned int seed);
/* Byte offset of the first non-zero byte, or -1. */
long zero_check(const void *buf, size_t len);

/* Exactly @want base pages of [addr, addr+len) are mapped (pagemap). */
bool verify_present(const void *addr, size_t len, size_t want, char *why,
		    size_t whylen);
/* @npages pages of @page bytes hold pattern_fill(@seed) of the whole range. */
bool verify_pattern(const char *addr, size_t page, size_t npages,
		    unsigned int seed, char *why, size_t whylen);
/* Every byte of @npages pages is zero. */
bool verify_zero(const char *addr, size_t page, size_t npages, char *why,
		 size_t whylen);
/* The first byte of each of @npages pages is @value. */
bool verify_first_bytes(const char *addr, size_t page, size_t npages,
			unsigned char value, char *why, size_t whylen);
/* A counter has the value the operation implies. */
bool verify_count(const char *what, uint64_t got, uint64_t want, char *why,
		  size_t whylen);
/*
 * The uffd-wp bit (pagemap bit 57) of the first base page of each of
 * @npages pages is @want. Needs a kernel that shows the bit.
 */
bool verify_wp_bits(const char *addr, size_t page, size_t npages, bool want,
		    char *why, size_t whylen);
/*
 * PAGEMAP_SCAN returned exactly the pages i of [base, base+npages*page)
 * with i % 2 == @parity, one region each, category PAGE_IS_WRITTEN.
 */
bool verify_scan(const struct page_region *vec, long nvec, uintptr_t base,
		 size_t page, size_t npages, unsigned int parity, char *why,
		 size_t whylen);

#endif /* UFFD_BENCH_VERIFY_H */
