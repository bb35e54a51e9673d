// SPDX-License-Identifier: GPL-2.0
/* uffd-bench: verification of what each measured operation did. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mem.h"
#include "pagemap.h"
#include "vmstate.h"
#include "verify.h"

static inline uint64_t pattern_word(size_t word, unsigned int seed)
{
	/* Odd multipliers: distinct words, and a seed changes every word. */
	return ((uint64_t)word + 1) * 0x9e3779b97f4a7c15ull ^
		((uint64_t)seed + 1) * 0xd1b54a32d192ed03ull;
}

void pattern_fill(void *buf, size_t len, unsigned int seed)
{
	uint64_t *w = buf;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = pattern_word(i, seed);
}

/* The first differing byte within word @i of @buf. */
static long first_byte(const void *buf, size_t i, uint64_t want)
{
	const unsigned char *got = (const unsigned char *)buf + i * 8;
	const unsigned char *exp = (const unsigned char *)&want;
	size_t b;

	for (b = 0; b < 8 && got[b] == exp[b]; b++)
		;
	return (long)(i * 8 + b);
}

long pattern_check(const void *buf, size_t len, unsigned int seed)
{
	const uint64_t *w = buf;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i] != pattern_word(i, seed))
			return first_byte(buf, i, pattern_word(i, seed));
	return -1;
}

long zero_check(const void *buf, size_t len)
{
	const uint64_t *w = buf;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i])
			return first_byte(buf, i, 0);
	return -1;
}

bool verify_present(const void *addr, size_t len, size_t want, char *why,
		    size_t whylen)
{
	long got = vm_present_count(addr, len);

	if (got < 0) {
		snprintf(why, whylen, "pagemap: %s", strerror((int)-got));
		return false;
	}
	if ((size_t)got == want)
		return true;
	snprintf(why, whylen, "%ld of %zu base pages mapped, expected %zu",
		 got, len / (size_t)sysconf(_SC_PAGESIZE), want);
	return false;
}

static void mismatch(const char *addr, long off, size_t page, const char *what,
		     char *why, size_t whylen)
{
	snprintf(why, whylen, "page %zu byte %zu is 0x%02x, expected %s",
		 (size_t)off / page, (size_t)off % page,
		 (unsigned char)addr[off], what);
}

bool verify_pattern(const char *addr, size_t page, size_t npages,
		    unsigned int seed, char *why, size_t whylen)
{
	long off = pattern_check(addr, page * npages, seed);

	if (off < 0)
		return true;
	mismatch(addr, off, page, "the source pattern", why, whylen);
	return false;
}

bool verify_zero(const char *addr, size_t page, size_t npages, char *why,
		 size_t whylen)
{
	long off = zero_check(addr, page * npages);

	if (off < 0)
		return true;
	mismatch(addr, off, page, "0", why, whylen);
	return false;
}

bool verify_first_bytes(const char *addr, size_t page, size_t npages,
			unsigned char value, char *why, size_t whylen)
{
	size_t i;

	for (i = 0; i < npages; i++) {
		if ((unsigned char)addr[i * page] != value) {
			snprintf(why, whylen,
				 "page %zu byte 0 is 0x%02x, expected the written 0x%02x",
				 i, (unsigned char)addr[i * page], value);
			return false;
		}
	}
	return true;
}

bool verify_count(const char *what, uint64_t got, uint64_t want, char *why,
		  size_t whylen)
{
	if (got == want)
		return true;
	snprintf(why, whylen, "%s: %llu, expected %llu", what,
		 (unsigned long long)got, (unsigned long long)want);
	return false;
}

bool verify_wp_bits(const char *addr, size_t page, size_t npages, bool want,
		    char *why, size_t whylen)
{
	size_t base = (size_t)sysconf(_SC_PAGESIZE), step = page / base;
	size_t nent = npages * step, i;
	uint64_t *ent = malloc(nent * sizeof(*ent));
	bool ok = false;
	int ret;

	if (!ent) {
		snprintf(why, whylen, "pagemap: %s", strerror(ENOMEM));
		goto out;
	}
	ret = pagemap_entries(addr, nent, ent);
	if (ret) {
		snprintf(why, whylen, "pagemap read: %s",
			 ret == -EIO ? "short" : strerror(-ret));
		goto out;
	}
	for (i = 0; i < npages; i++) {
		if (!!(ent[i * step] & PM_UFFD_WP) != want) {
			snprintf(why, whylen,
				 "page %zu is %swrite-protected in pagemap, expected %s",
				 i, want ? "not " : "",
				 want ? "protected" : "not");
			goto out;
		}
	}
	ok = true;
out:
	free(ent);
	return ok;
}

bool verify_scan(const struct page_region *vec, long nvec, uintptr_t base,
		 size_t page, size_t npages, unsigned int parity, char *why,
		 size_t whylen)
{
	size_t want = (npages + (parity ? 0 : 1)) / 2;
	long i;

	if (nvec < 0) {
		snprintf(why, whylen, "PAGEMAP_SCAN: %s", strerror((int)-nvec));
		return false;
	}
	if ((size_t)nvec != want) {
		snprintf(why, whylen,
			 "PAGEMAP_SCAN found %ld written regions, expected %zu (every other page)",
			 nvec, want);
		return false;
	}
	for (i = 0; i < nvec; i++) {
		uintptr_t start = base + (2 * (size_t)i + parity) * page;

		if (vec[i].start != start || vec[i].end != start + page ||
		    vec[i].categories != PAGE_IS_WRITTEN) {
			snprintf(why, whylen,
				 "PAGEMAP_SCAN region %ld is +0x%llx-+0x%llx categories 0x%llx, expected +0x%llx-+0x%llx written",
				 i, (unsigned long long)(vec[i].start - base),
				 (unsigned long long)(vec[i].end - base),
				 (unsigned long long)vec[i].categories,
				 (unsigned long long)(start - base),
				 (unsigned long long)(start + page - base));
			return false;
		}
	}
	return true;
}
