/* SPDX-License-Identifier: GPL-2.0 */
/*
 * faultline harness: huge pages, for the case binaries and the runner.
 *
 * One reader of the kernel's huge page counters, one place that spells
 * vm.nr_hugepages, and one policy for raising it and giving back what was
 * raised. A case binary run alone raises it for itself (hugetlb_reserve);
 * the runner raises it once for a whole run (runner/pool.c). Both give
 * back the same way: see hugetlb_give_back().
 */
#ifndef FAULTLINE_HUGEPAGES_H
#define FAULTLINE_HUGEPAGES_H

#include <limits.h>
#include <stddef.h>

#define HUGETLB_NR_PATH	"/proc/sys/vm/nr_hugepages"

/* The default huge page size in bytes (0: the kernel has none). */
size_t mem_huge_page_size(void);

/* Free default-size huge pages not promised to a mapping, or -1. */
long hugetlb_free_pages(void);
/*
 * HugePages_Rsvd as the kernel keeps it (an underflow reads as negative),
 * or HUGETLB_UNKNOWN when /proc/meminfo cannot be read or has no such line.
 */
#define HUGETLB_UNKNOWN LLONG_MIN
long long hugetlb_rsvd_pages(void);

/* What one raise of vm.nr_hugepages did, so it can be given back. */
struct hugetlb_raise {
	long before;	/* nr_hugepages before, -1: unknown */
	long set;	/* what it read after our write, -1: not written */
	long added;	/* pages we added and owe back (set - before) */
};

/*
 * Raise vm.nr_hugepages until @want free pages exist (nothing if they
 * do). The kernel may give fewer than asked: @r says what it did. 0 or
 * -errno of reading or writing the sysctl (-ENODATA: /proc/meminfo has
 * no huge page counters).
 */
int hugetlb_raise(struct hugetlb_raise *r, long want);
/*
 * Give back @r->added pages: write @r->before if nr_hugepages still reads
 * @r->set, else (someone else moved it meanwhile) take our share off the
 * current value, so their change stays. 0 (then @r->added is 0) or
 * -errno. Async-signal-safe.
 */
int hugetlb_give_back(struct hugetlb_raise *r);

/*
 * For a case binary: make sure @npages free huge pages exist, raising
 * vm.nr_hugepages if needed; what was added is given back at exit and on
 * fatal signals, by this process only (not by forked test children).
 * Returns the number of free pages now. Also checks, at exit, that the
 * kernel's reservations balance (a "# finding:" line when not).
 */
long hugetlb_reserve(long npages);
/*
 * Why hugetlb_reserve() could not raise the pool (-errno of writing the
 * sysctl: -EACCES for a user that may not), 0 when it did or did not try.
 */
int hugetlb_reserve_error(void);
/* Give back what hugetlb_reserve() added, now (idempotent). */
void hugetlb_restore(void);

#endif /* FAULTLINE_HUGEPAGES_H */
