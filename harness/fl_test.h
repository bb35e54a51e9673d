/* SPDX-License-Identifier: GPL-2.0 */
/*
 * faultline harness: glue between the kselftest harness and our library.
 *
 * A case file includes this, declares a FIXTURE, adds the memory-type
 * variants with FL_MEM_VARIANTS() and ends with FL_TEST_MAIN(n_huge).
 * Requirements are declared with FL_REQUIRE_*(): the library decides the
 * skip and names what was missing, from what the kernel reports.
 */
#ifndef FAULTLINE_FL_TEST_H
#define FAULTLINE_FL_TEST_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "uffd.h"
#include "mem.h"
#include "fault.h"
#include "pagemap.h"

/*
 * Skip the current test point with a reason and end it now. Ending the
 * child is what makes a skip in FIXTURE_SETUP work with the 6.1 harness,
 * which would otherwise still run the test body. Newer harnesses (the ones
 * with XFAIL_ADD, 6.9+) read the child's exit code as KSFT_SKIP.
 */
#if defined(XFAIL) || defined(XFAIL_ADD)
#define FL_SKIP_EXIT KSFT_SKIP
#else
#define FL_SKIP_EXIT 255
#endif

#define FL_SKIP(fmt, ...) do {						\
	SKIP(;, fmt, ##__VA_ARGS__);					\
	fflush(NULL);							\
	_exit(FL_SKIP_EXIT);						\
} while (0)

/* Features the kernel offers on a fresh fd (cached per process). */
int fl_kernel_features(uint64_t *features, uint64_t *ioctls);
/* "EVENT_FORK, MOVE" for the bits of @mask; static buffer. */
const char *fl_feature_list(uint64_t mask);
/* Names of the ioctl bits of @mask; static buffer. */
const char *fl_ioctl_list(uint64_t mask);
/* Why no uffd can be had here, for a skip reason. */
const char *fl_no_uffd_reason(int err);
/* Why no UFFD_USER_MODE_ONLY uffd (creation error @err), for a skip reason. */
const char *fl_user_mode_only_reason(int err);

/* Skip unless the kernel reports every feature in @mask. */
#define FL_REQUIRE_FEATURES(mask) do {					\
	uint64_t __have = 0;						\
	int __err = fl_kernel_features(&__have, NULL);			\
	if (__err)							\
		FL_SKIP("%s", fl_no_uffd_reason(__err));		\
	if (((mask) & __have) != (mask))				\
		FL_SKIP("kernel does not report UFFD_FEATURE_%s",	\
			fl_feature_list((mask) & ~__have));		\
} while (0)

/* Skip unless REGISTER returned every ioctl bit of @want in @got. */
#define FL_REQUIRE_IOCTLS(got, want) do {				\
	if (((got) & (want)) != (want))					\
		FL_SKIP("REGISTER did not offer UFFDIO_%s",		\
			fl_ioctl_list((want) & ~(got)));		\
} while (0)

/* Skip unless running with CAP_SYS_ADMIN-level root (sysctl writes...). */
#define FL_REQUIRE_ROOT() do {						\
	if (geteuid() != 0)						\
		FL_SKIP("needs root (euid %d)", (int)geteuid());	\
} while (0)

/*
 * Open a uffd with @features, skipping when none can be created or the
 * kernel lacks a feature. Evaluates to the fd. Once a uffd could be made
 * and every bit is reported, UFFDIO_API refusing them is a failure, not a
 * skip: the one documented refusal is EVENT_FORK without CAP_SYS_PTRACE.
 */
#define FL_UFFD_OPEN(features) ({					\
	uint64_t __f = (features);					\
	int __fd;							\
	FL_REQUIRE_FEATURES(__f);					\
	__fd = uffd_open(__f, NULL);					\
	if (__fd == -EPERM && (__f & UFFD_FEATURE_EVENT_FORK))		\
		FL_SKIP("UFFD_FEATURE_EVENT_FORK refused with EPERM (needs CAP_SYS_PTRACE)"); \
	ASSERT_LE(0, __fd) {						\
		TH_LOG("UFFDIO_API with reported features %s: %s",	\
		       fl_feature_list(__f), strerror(-__fd));		\
	}								\
	__fd;								\
})

/* Map @npages of @type or skip with the reason the kernel gave. */
#define FL_MEM_ALLOC(area, type, npages) do {				\
	char __why[256];						\
	if (mem_alloc((area), (type), (npages), __why, sizeof(__why)))	\
		FL_SKIP("%s", __why);					\
} while (0)

/*
 * The memory-type variants. The fixture's variant struct must have an
 * `enum mem_type mem;` member.
 */
#define FL_MEM_VARIANT(fixture, name, type)				\
	FIXTURE_VARIANT_ADD(fixture, name) { .mem = (type) }

#define FL_MEM_VARIANTS(fixture)					\
	FL_MEM_VARIANT(fixture, anon, MEM_ANON);			\
	FL_MEM_VARIANT(fixture, shmem, MEM_SHMEM);			\
	FL_MEM_VARIANT(fixture, shmem_private, MEM_SHMEM_PRIVATE);	\
	FL_MEM_VARIANT(fixture, hugetlb, MEM_HUGETLB);			\
	FL_MEM_VARIANT(fixture, hugetlb_private, MEM_HUGETLB_PRIVATE)

/* The MISSING-mode feature a memory type needs. */
uint64_t fl_missing_feature(enum mem_type type);
/* The WP feature a memory type needs (PAGEFAULT_FLAG_WP, + HUGETLBFS_SHMEM). */
uint64_t fl_wp_features(enum mem_type type);
/* The MINOR feature a memory type needs (0: MINOR not possible). */
uint64_t fl_minor_feature(enum mem_type type);

/*
 * Whether a check of the pagemap uffd-wp bit (57) means anything here.
 * False only on a kernel where a write to a protected page traps but the
 * bit reads 0 (uffd-wp predates its pagemap export): a finding is printed
 * once and the caller skips just that check, keeping the behavioural ones.
 * When the probe cannot tell, the check stays (true).
 */
static inline bool fl_wp_bit_checkable(void)
{
	static bool told;

	if (pagemap_wp_shown() != 0)
		return true;
	if (!told) {
		ksft_print_msg("finding: pagemap does not expose uffd-wp (bit 57 reads 0 on a protected page whose write traps): pagemap checks skipped\n");
		fflush(stdout);
		told = true;
	}
	return false;
}

/*
 * Only -l (list the points) or -h: nothing will run, so nothing must be
 * reserved (the runner lists every binary before a run with --only).
 */
static inline bool fl_runs_nothing(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-l") || !strcmp(argv[i], "-h"))
			return true;
	return false;
}

/*
 * Reserve @n_huge huge pages in the parent (every test point runs in a
 * forked child, so the reservation and its restore happen once), then run.
 */
#define FL_TEST_MAIN(n_huge)						\
	int main(int argc, char **argv)					\
	{								\
		if (!fl_runs_nothing(argc, argv))			\
			hugetlb_reserve(n_huge);			\
		return test_harness_run(argc, argv);			\
	}

#endif /* FAULTLINE_FL_TEST_H */
