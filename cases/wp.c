// SPDX-License-Identifier: GPL-2.0
/*
 * UFFDIO_WRITEPROTECT: write-protect faults on every memory type, the
 * wake/DONTWAKE rules, the refusals, protection of never-touched pages
 * (WP_UNPOPULATED, markers), asynchronous WP read back with PAGEMAP_SCAN,
 * and what fork() does to a protected page with and without EVENT_FORK.
 *
 * Reference points covered: uffd-unit-tests wp-fork (fork_without_event,
 * zap_keeps_protection), wp-fork-with-event, wp-fork-pin(-with-event)
 * (fork_pinned_*), wp-unpopulated (unpopulated_*); LTP userfaultfd05
 * (fault_blocks_until_unprotect).
 */
#include <sys/mman.h>
#include <sys/wait.h>

#include "ksft_case.h"
#include "pagemap.h"
#include "vmstate.h"
#include "pin.h"

#define NPAGES	4
#define SEED	11
/* The pattern bytes are odd: an even value always shows a write landed. */
#define WVAL	0x5a

/* What populate() writes and the checks compare against. */
FL_REFERENCE_PATTERN(ref, NPAGES, 0, SEED)

/* Bytes at @p equal the pattern at offset @off of an area. */
static bool pattern_at(const char *p, size_t len, size_t off)
{
	return ref && !memcmp(p, ref + off, len);
}

/* Populate @len bytes of the area (through addr) with the pattern. */
static void populate(struct mem_area *m, size_t len)
{
	memcpy(m->addr, ref, len);
}

FIXTURE(wp) {
	FL_CASE_HOLDS;
};

FL_MEM_VARIANTS(wp, MEM_ALL);

FIXTURE_SETUP(wp)
{
	ASSERT_NE(NULL, ref);
	FL_CASE_SETUP(NPAGES);
}

FIXTURE_TEARDOWN(wp)
{
	FL_CASE_TEARDOWN();
}

/*
 * Open a uffd with the WP features this memory type needs plus @extra, and
 * register the whole area for WP. Skips when the kernel lacks a feature.
 */
static void wp_open(struct __test_metadata *_metadata, FIXTURE_DATA(wp) *self,
		    const FIXTURE_VARIANT(wp) *variant, uint64_t extra)
{
	uint64_t ioctls = 0;

	self->uffd = FL_UFFD_OPEN(fl_wp_features(variant->mem) | extra);
	ASSERT_EQ(0, uffd_register_range(self->uffd, self->mem.addr,
					 self->mem.len,
					 UFFDIO_REGISTER_MODE_WP, &ioctls));
	/* The kernel reported the WP feature: REGISTER must offer the ioctl. */
	ASSERT_TRUE(ioctls & (1ULL << _UFFDIO_WRITEPROTECT)) {
		TH_LOG("REGISTER(WP) ioctls 0x%llx lack WRITEPROTECT",
		       (unsigned long long)ioctls);
	}
}

/*
 * Every page of @m carries the uffd-wp bit, the last one included (a
 * protection that stops short of the range's end shows there), where
 * pagemap exports the bit.
 */
static void expect_all_protected(struct __test_metadata *_metadata,
				 const struct mem_area *m)
{
	size_t n;

	if (!fl_wp_bit_checkable())
		return;
	for (n = 0; n < m->len / m->page; n++)
		EXPECT_EQ(1, pagemap_uffd_wp(mem_page(m, n))) {
			TH_LOG("page %zu of the protected range is not protected",
			       n);
		}
}

/* Populate the whole area, register it for WP and protect all of it. */
static void protect_all(struct __test_metadata *_metadata,
			FIXTURE_DATA(wp) *self,
			const FIXTURE_VARIANT(wp) *variant)
{
	populate(&self->mem, self->mem.len);
	wp_open(_metadata, self, variant, 0);
	ASSERT_EQ(0, uffd_wp_range(self->uffd, self->mem.addr, self->mem.len,
				   true));
	expect_all_protected(_metadata, &self->mem);
}

static void start_writer(struct __test_metadata *_metadata,
			 FIXTURE_DATA(wp) *self, char *addr)
{
	ASSERT_EQ(0, toucher_start(&self->t, addr, TOUCH_WRITE, WVAL));
}

/*
 * The pagemap uffd-wp bit of @addr is @want, where the kernel exports the
 * bit at all (fl_wp_bit_checkable): a secondary check, the behavioural
 * ones around it stand on their own.
 */
#define EXPECT_WP_BIT(want, addr) do {					\
	if ((want) == 0 || fl_wp_bit_checkable())			\
		EXPECT_EQ((want), pagemap_uffd_wp(addr));		\
} while (0)

/* A write that must not trap: it completes on its own and queues nothing. */
static void expect_write_passes(struct __test_metadata *_metadata,
				FIXTURE_DATA(wp) *self, char *addr)
{
	start_writer(_metadata, self, addr);
	ASSERT_TRUE(toucher_wait(&self->t, 2000)) {
		TH_LOG("write to an unprotected page is blocked");
	}
	toucher_join(&self->t);
	EXPECT_FALSE(self->t.got_sigbus);
	EXPECT_EQ(WVAL, (unsigned char)*addr);
	fl_expect_no_msg(_metadata, self->uffd);
}

/* The old contents are still there, seen through every view we have. */
static void expect_old_bytes(struct __test_metadata *_metadata,
			     const struct mem_area *m)
{
	EXPECT_TRUE(pattern_at(m->addr, m->len, 0));
	if (mem_is_shared(m->type))
		EXPECT_TRUE(pattern_at(m->alias, m->len, 0));
}

/*
 * A write to a protected page raises a WRITE|WP fault; the writer stays
 * blocked and memory keeps the old bytes until the page is unprotected,
 * which wakes it.
 */
TEST_F_TIMEOUT(wp, fault_blocks_until_unprotect, 5)
{
	size_t page = self->mem.page;
	char *p = mem_page(&self->mem, 1);

	protect_all(_metadata, self, variant);
	EXPECT_WP_BIT(1, p);

	start_writer(_metadata, self, p + 5);
	fl_expect_fault(_metadata, self->uffd, p, FL_WP_WRITE_FAULT);
	EXPECT_TRUE(toucher_blocked(&self->t));
	expect_old_bytes(_metadata, &self->mem);

	/* Unprotect only the faulting page: that alone resolves the fault. */
	ASSERT_EQ(0, uffd_wp_range(self->uffd, p, page, false));
	FL_TOUCHER_DONE(&self->t);
	EXPECT_EQ(WVAL, (unsigned char)p[5]);
	if (mem_is_shared(variant->mem))
		EXPECT_EQ(WVAL, (unsigned char)self->mem.alias[page + 5]);
	EXPECT_WP_BIT(0, p);
	EXPECT_WP_BIT(1, mem_page(&self->mem, 0));
	EXPECT_WP_BIT(1, mem_page(&self->mem, 2));
	fl_expect_no_msg(_metadata, self->uffd);
}

/*
 * Unprotect with DONTWAKE lifts the protection but leaves the writer
 * asleep; only UFFDIO_WAKE lets the write happen.
 */
TEST_F_TIMEOUT(wp, unprotect_dontwake, 5)
{
	size_t page = self->mem.page;
	char *p = mem_page(&self->mem, 2);
	struct uffdio_writeprotect wp = {
		.range = { (uintptr_t)p, page },
		.mode = UFFDIO_WRITEPROTECT_MODE_DONTWAKE,
	};

	protect_all(_metadata, self, variant);
	start_writer(_metadata, self, p);
	fl_expect_fault(_metadata, self->uffd, p, FL_WP_WRITE_FAULT);

	ASSERT_EQ(0, uffd_writeprotect(self->uffd, &wp));
	EXPECT_EQ(0, pagemap_uffd_wp(p));
	EXPECT_TRUE(toucher_blocked(&self->t)) {
		TH_LOG("unprotect with DONTWAKE woke the writer");
	}
	expect_old_bytes(_metadata, &self->mem);

	ASSERT_EQ(0, uffd_wake_range(self->uffd, p, page));
	FL_TOUCHER_DONE(&self->t);
	EXPECT_EQ(WVAL, (unsigned char)*p);
}

/*
 * Protection can be taken back and given again: after a write trapped and
 * the page was unprotected, protecting it again makes the next write trap
 * again (and hold the writer) instead of passing.
 */
TEST_F_TIMEOUT(wp, reprotect_traps, 5)
{
	size_t page = self->mem.page;
	char *p = mem_page(&self->mem, 3);
	const unsigned char second = 0x3c;	/* even: not a pattern byte */

	protect_all(_metadata, self, variant);
	start_writer(_metadata, self, p + 1);
	fl_expect_fault(_metadata, self->uffd, p, FL_WP_WRITE_FAULT);
	ASSERT_EQ(0, uffd_wp_range(self->uffd, p, page, false));
	FL_TOUCHER_DONE(&self->t);
	EXPECT_EQ(WVAL, (unsigned char)p[1]);
	EXPECT_WP_BIT(0, p);

	ASSERT_EQ(0, uffd_wp_range(self->uffd, p, page, true));
	EXPECT_WP_BIT(1, p);
	ASSERT_EQ(0, toucher_start(&self->t, p + 9, TOUCH_WRITE, second));
	fl_expect_fault(_metadata, self->uffd, p, FL_WP_WRITE_FAULT);
	EXPECT_TRUE(toucher_blocked(&self->t)) {
		TH_LOG("the re-protected page took the write");
	}
	EXPECT_TRUE(pattern_at(p + 9, 1, 3 * page + 9));
	ASSERT_EQ(0, uffd_wp_range(self->uffd, p, page, false));
	FL_TOUCHER_DONE(&self->t);
	EXPECT_EQ(second, (unsigned char)p[9]);
	EXPECT_EQ(WVAL, (unsigned char)p[1]);
	fl_expect_no_msg(_metadata, self->uffd);
}

/*
 * WRITEPROTECT on a range not registered for WP (not registered at all,
 * then registered MISSING only) is ENOENT and protects nothing.
 */
TEST_F_TIMEOUT(wp, unregistered_enoent, 5)
{
	uint64_t missing = fl_missing_feature(variant->mem);
	char *p = mem_page(&self->mem, 1);

	populate(&self->mem, self->mem.len);
	/* Only a kernel that has uffd-wp gives WRITEPROTECT a meaning. */
	FL_REQUIRE_FEATURES(UFFD_FEATURE_PAGEFAULT_FLAG_WP);
	self->uffd = FL_UFFD_OPEN(missing);
	EXPECT_EQ(-ENOENT, uffd_wp_range(self->uffd, self->mem.addr,
					 self->mem.len, true));
	ASSERT_EQ(0, uffd_register_range(self->uffd, self->mem.addr,
					 self->mem.len,
					 UFFDIO_REGISTER_MODE_MISSING, NULL));
	EXPECT_EQ(-ENOENT, uffd_wp_range(self->uffd, self->mem.addr,
					 self->mem.len, true));
	EXPECT_EQ(0, pagemap_uffd_wp(p));
	expect_write_passes(_metadata, self, p);
}

/*
 * A range that is not page aligned (for hugetlb: huge page aligned), or
 * empty, is EINVAL and protects nothing.
 */
TEST_F_TIMEOUT(wp, unaligned_einval, 5)
{
	size_t page = self->mem.page;
	/* A base page into a huge page, one byte into a base page. */
	size_t bad = mem_is_hugetlb(variant->mem) ?
		     (size_t)sysconf(_SC_PAGESIZE) : 1;
	char *p = mem_page(&self->mem, 1);

	populate(&self->mem, self->mem.len);
	wp_open(_metadata, self, variant, 0);
	EXPECT_EQ(-EINVAL, uffd_wp_range(self->uffd, p + bad, page, true));
	EXPECT_EQ(-EINVAL, uffd_wp_range(self->uffd, p, bad, true));
	EXPECT_EQ(-EINVAL, uffd_wp_range(self->uffd, p, 0, true));
	EXPECT_EQ(0, pagemap_uffd_wp(p));
	EXPECT_EQ(0, pagemap_uffd_wp(p + page - 1));
	expect_write_passes(_metadata, self, p);
}

/* WP together with DONTWAKE is EINVAL and protects nothing. */
TEST_F_TIMEOUT(wp, wp_dontwake_einval, 5)
{
	char *p = mem_page(&self->mem, 0);
	struct uffdio_writeprotect wp = {
		.range = { (uintptr_t)self->mem.addr, self->mem.len },
		.mode = UFFDIO_WRITEPROTECT_MODE_WP |
			UFFDIO_WRITEPROTECT_MODE_DONTWAKE,
	};

	populate(&self->mem, self->mem.len);
	wp_open(_metadata, self, variant, 0);
	EXPECT_EQ(-EINVAL, uffd_writeprotect(self->uffd, &wp));
	EXPECT_EQ(0, pagemap_uffd_wp(p));
	expect_write_passes(_metadata, self, p);
}

/*
 * Protect a never-touched page, then write it: the write must trap (a
 * uffd-wp marker stands in for the missing pte) and land after unprotect
 * on a zero page.
 */
static void expect_unpopulated_trap(struct __test_metadata *_metadata,
				    FIXTURE_DATA(wp) *self)
{
	size_t page = self->mem.page;
	char *p = mem_page(&self->mem, 3);

	ASSERT_EQ(0, uffd_wp_range(self->uffd, self->mem.addr, self->mem.len,
				   true));
	EXPECT_EQ(1, pagemap_uffd_wp(p)) {
		TH_LOG("no uffd-wp marker on a protected never-touched page");
	}
	start_writer(_metadata, self, p + 7);
	fl_expect_fault(_metadata, self->uffd, p, FL_WP_WRITE_FAULT);
	/* A message alone is not protection: the write must be held. */
	EXPECT_TRUE(toucher_blocked(&self->t));
	if (mem_is_shared(self->mem.type))
		EXPECT_EQ(-1, mem_check_zero(self->mem.alias + 3 * page, page));
	ASSERT_EQ(0, uffd_wp_range(self->uffd, p, page, false));
	FL_TOUCHER_DONE(&self->t);
	EXPECT_EQ(WVAL, (unsigned char)p[7]);
	EXPECT_EQ(-1, mem_check_zero(p, 7));
	EXPECT_EQ(-1, mem_check_zero(p + 8, page - 8));
}

/* With WP_UNPOPULATED, never-touched pages of every type are protected. */
TEST_F_TIMEOUT(wp, unpopulated_with_feature, 5)
{
	wp_open(_metadata, self, variant, UFFD_FEATURE_WP_UNPOPULATED);
	expect_unpopulated_trap(_metadata, self);
}

/*
 * Without WP_UNPOPULATED, protecting never-touched anon pages does
 * nothing (no marker, the write does not trap); file-backed memory always
 * uses markers, so there the write traps anyway.
 */
TEST_F_TIMEOUT(wp, unpopulated_without_feature, 5)
{
	char *p = mem_page(&self->mem, 3);

	wp_open(_metadata, self, variant, 0);
	if (mem_is_file(variant->mem)) {
		expect_unpopulated_trap(_metadata, self);
		return;
	}
	ASSERT_EQ(0, uffd_wp_range(self->uffd, self->mem.addr, self->mem.len,
				   true));
	EXPECT_EQ(0, pagemap_uffd_wp(p));
	expect_write_passes(_metadata, self, p);
}

/* PAGEMAP_SCAN for PAGE_IS_WRITTEN over the area; returns regions found. */
static int scan_written(struct __test_metadata *_metadata,
			const struct mem_area *m, uint64_t flags,
			struct page_region *vec, size_t nvec)
{
	int n = pagemap_scan(m->addr, m->len, flags, PAGE_IS_WRITTEN,
			     PAGE_IS_WRITTEN, vec, nvec, NULL);

	EXPECT_LE(0, n) {
		TH_LOG("PAGEMAP_SCAN: %s", strerror(-n));
	}
	return n;
}

/*
 * WP_ASYNC: writes to protected pages do not trap or queue messages; the
 * kernel just drops the protection, and PAGEMAP_SCAN reports exactly the
 * written pages. PM_SCAN_WP_MATCHING re-arms them.
 */
TEST_F_TIMEOUT(wp, async_pagemap_scan, 5)
{
	size_t page = self->mem.page;
	struct page_region vec[NPAGES];
	int n, i;

	/* Pages 0 and 1 populated, 2 and 3 never touched. */
	populate(&self->mem, 2 * page);
	wp_open(_metadata, self, variant, UFFD_FEATURE_WP_ASYNC);
	ASSERT_EQ(0, uffd_wp_range(self->uffd, self->mem.addr, self->mem.len,
				   true));
	n = scan_written(_metadata, &self->mem, PM_SCAN_CHECK_WPASYNC, vec,
			 NPAGES);
	ASSERT_EQ(0, n) {
		TH_LOG("%d region(s) written before any write, first 0x%llx-0x%llx",
		       n, (unsigned long long)vec[0].start,
		       (unsigned long long)vec[0].end);
	}

	for (i = 1; i < NPAGES; i += 2) {
		/* A populated and a never-touched page. */
		start_writer(_metadata, self, mem_page(&self->mem, i));
		ASSERT_TRUE(toucher_wait(&self->t, 2000)) {
			TH_LOG("async WP blocked a write to page %d", i);
		}
		toucher_join(&self->t);
	}
	fl_expect_no_msg(_metadata, self->uffd);
	EXPECT_EQ(WVAL, (unsigned char)*mem_page(&self->mem, 1));
	EXPECT_EQ(WVAL, (unsigned char)*mem_page(&self->mem, 3));
	EXPECT_TRUE(pattern_at(self->mem.addr, page, 0));

	n = scan_written(_metadata, &self->mem,
			 PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC, vec,
			 NPAGES);
	ASSERT_EQ(2, n);
	for (i = 0; i < n; i++) {
		char *want = mem_page(&self->mem, 1 + 2 * i);

		EXPECT_EQ((uintptr_t)want, vec[i].start);
		EXPECT_EQ((uintptr_t)want + page, vec[i].end);
		EXPECT_EQ(PAGE_IS_WRITTEN, vec[i].categories);
	}
	/* WP_MATCHING protected them again: nothing is written now. */
	EXPECT_EQ(0, scan_written(_metadata, &self->mem, 0, vec, NPAGES));
	EXPECT_EQ(1, pagemap_uffd_wp(mem_page(&self->mem, 1)));
}

/* Write page @n of @m once from a helper thread; it must not block. */
static void async_write(struct __test_metadata *_metadata,
			FIXTURE_DATA(wp) *self, size_t n, unsigned char v)
{
	ASSERT_EQ(0, toucher_start(&self->t, mem_page(&self->mem, n) + n, TOUCH_WRITE,
				   v));
	ASSERT_TRUE(toucher_wait(&self->t, 2000)) {
		TH_LOG("async WP blocked a write to page %zu", n);
	}
	toucher_join(&self->t);
}

/*
 * The pages PAGEMAP_SCAN finds written since the last re-arm, re-arming
 * them (PM_SCAN_WP_MATCHING): exactly the pages of @want (a bit mask of
 * page indexes), each its own region.
 */
static void expect_written(struct __test_metadata *_metadata,
			   FIXTURE_DATA(wp) *self, unsigned int want)
{
	size_t page = self->mem.page;
	struct page_region vec[NPAGES];
	unsigned int got = 0;
	int n, i;

	n = scan_written(_metadata, &self->mem,
			 PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC, vec,
			 NPAGES);
	for (i = 0; i < n; i++) {
		uintptr_t a;

		for (a = vec[i].start; a < vec[i].end; a += page)
			got |= 1u << ((a - (uintptr_t)self->mem.addr) / page);
		EXPECT_EQ(PAGE_IS_WRITTEN, vec[i].categories);
	}
	EXPECT_EQ(want, got) {
		TH_LOG("written pages 0x%x, expected 0x%x", got, want);
	}
}

/*
 * WP_ASYNC after a re-arm: PM_SCAN_WP_MATCHING protects the written pages
 * again, so a second write to the same page is recorded again (still
 * without a trap or a message), and a page left alone since stays clean.
 */
TEST_F_TIMEOUT(wp, async_rearm, 5)
{
	populate(&self->mem, self->mem.len);
	wp_open(_metadata, self, variant, UFFD_FEATURE_WP_ASYNC);
	ASSERT_EQ(0, uffd_wp_range(self->uffd, self->mem.addr, self->mem.len,
				   true));
	expect_written(_metadata, self, 0);

	async_write(_metadata, self, 1, WVAL);
	async_write(_metadata, self, 2, WVAL);
	expect_written(_metadata, self, 1u << 1 | 1u << 2);
	EXPECT_WP_BIT(1, mem_page(&self->mem, 1));

	/* Re-armed: the same page written again shows again, alone. */
	async_write(_metadata, self, 1, WVAL ^ 0x0e);
	expect_written(_metadata, self, 1u << 1);
	expect_written(_metadata, self, 0);
	fl_expect_no_msg(_metadata, self->uffd);
	EXPECT_EQ(WVAL ^ 0x0e, (unsigned char)mem_page(&self->mem, 1)[1]);
	EXPECT_EQ(WVAL, (unsigned char)mem_page(&self->mem, 2)[2]);
	EXPECT_TRUE(pattern_at(self->mem.addr, self->mem.page, 0));
}

/*
 * Zapping a protected page (MADV_DONTNEED): anon drops the page and its
 * protection with it; file-backed memory keeps the protection in a marker,
 * so the next write still traps, and then lands on the file's data.
 */
TEST_F_TIMEOUT(wp, zap_keeps_protection, 5)
{
	size_t page = self->mem.page;
	char *p = mem_page(&self->mem, 1);

	protect_all(_metadata, self, variant);
	ASSERT_EQ(0, madvise(p, page, MADV_DONTNEED));
	EXPECT_EQ(0, vm_present(p));
	if (!mem_is_file(variant->mem)) {
		EXPECT_EQ(0, pagemap_uffd_wp(p));
		EXPECT_EQ(-1, mem_check_zero(p, page));
		expect_write_passes(_metadata, self, p);
		return;
	}
	EXPECT_EQ(1, pagemap_uffd_wp(p)) {
		TH_LOG("zap dropped the uffd-wp protection of a file page");
	}
	start_writer(_metadata, self, p + 5);
	fl_expect_fault(_metadata, self->uffd, p, FL_WP_WRITE_FAULT);
	EXPECT_TRUE(toucher_blocked(&self->t));
	if (mem_is_shared(variant->mem))
		EXPECT_TRUE(pattern_at(self->mem.alias + page, page, page));
	ASSERT_EQ(0, uffd_wp_range(self->uffd, p, page, false));
	FL_TOUCHER_DONE(&self->t);
	EXPECT_EQ(WVAL, (unsigned char)p[5]);
	if (mem_is_shared(variant->mem)) {
		/* The page cache kept the data the zap took off our pte. */
		EXPECT_TRUE(pattern_at(p, 5, page));
		EXPECT_TRUE(pattern_at(p + 6, page - 6, page + 6));
	} else {
		/* Our private copy is gone; the file behind it is a hole. */
		EXPECT_EQ(-1, mem_check_zero(p, 5));
		EXPECT_EQ(-1, mem_check_zero(p + 6, page - 6));
	}
}

struct forker {
	char *page;		/* the protected page */
	pid_t pid;		/* child, or -errno */
};

/*
 * Child: report whether its copy of the page is uffd-wp protected, then
 * write it (with EVENT_FORK the write traps on the child's uffd and the
 * parent resolves it). Exit code: 0 not protected, 1 protected, 2+ error.
 */
static void fork_child(char *page)
{
	int wp = pagemap_uffd_wp(page);

	if (wp < 0)
		_exit(2);
	*(volatile char *)page = WVAL;
	_exit(*(volatile char *)page == WVAL ? wp : 3);
}

/* With EVENT_FORK the forking thread sleeps until the event is read. */
static void *fork_thread(void *arg)
{
	struct forker *f = arg;

	f->pid = fork();
	if (f->pid == 0)
		fork_child(f->page);
	if (f->pid < 0)
		f->pid = -errno;
	return NULL;
}

/*
 * The child's exit status: a child whose write never completes (it
 * refaults forever, e.g. on a pte that kept the uffd-wp bit without a uffd
 * to resolve it) is killed and reported as -ETIMEDOUT, once it has shown
 * it (FL_REFAULTS_STUCK faults) or after 2 s.
 */
static int child_status(pid_t pid)
{
	long long faults;
	int status, ret = fl_child_wait_refaulting(pid, 2000, &status, &faults);

	if (ret == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		ksft_print_msg("child did not finish its write (%lld page faults meanwhile, at most 2 s): killed\n",
			       faults);
		return -ETIMEDOUT;
	}
	if (ret < 0)
		return ret;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS)
		ksft_print_msg("child killed by SIGBUS (%ld free hugetlb pages: a private hugetlb copy needs one)\n",
			       hugetlb_free_pages());
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/*
 * fork() of a private hugetlb mapping may need a free huge page (the early
 * copy of a pinned page): ENOMEM while the pool is empty is the pool
 * running dry, not the kernel misbehaving. Anywhere else it is a failure.
 */
static void fork_failed(struct __test_metadata *_metadata,
			const FIXTURE_VARIANT(wp) *variant, pid_t err)
{
	if (err == -ENOMEM && mem_cow_takes_huge_page(variant->mem) &&
	    hugetlb_free_pages() == 0)
		FL_SKIP("fork: ENOMEM (0 free hugetlb pages for the early copy of a pinned private page)");
	ASSERT_LT(0, err) {
		TH_LOG("fork: %s (%ld free hugetlb pages)", strerror(-err),
		       hugetlb_free_pages());
	}
}

/*
 * With EVENT_FORK: the parent reads the FORK event (which lets fork()
 * return), gets the child's uffd from it, and resolves through it the WP
 * fault of the child's write; our own uffd sees nothing.
 */
static void fork_with_event(struct __test_metadata *_metadata,
			    FIXTURE_DATA(wp) *self,
			    const FIXTURE_VARIANT(wp) *variant, struct forker *f,
			    int want_excl, int want_child)
{
	struct uffd_msg msg;
	pthread_t thr;
	int cfd;

	ASSERT_EQ(0, fl_pthread_create(&thr, fork_thread, f));
	if (uffd_wait_msg(self->uffd, &msg, 2000)) {
		struct timespec ts;

		/* No event: fork() failed, or is stuck (a failure). */
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		if (!pthread_timedjoin_np(thr, NULL, &ts))
			fork_failed(_metadata, variant, f->pid);
		ASSERT_TRUE(false) {
			TH_LOG("no FORK event, and fork() does not return");
		}
	}
	ASSERT_EQ(UFFD_EVENT_FORK, msg.event);
	cfd = (int)msg.arg.fork.ufd;
	ASSERT_LE(0, cfd);
	pthread_join(thr, NULL);
	ASSERT_LT(0, f->pid);

	/* A child that ended or refaults without it raises no fault later. */
	ASSERT_EQ(1, fl_child_or_readable(f->pid, cfd, 2000)) {
		TH_LOG("no fault message from the child's write (want flags 0x%x)",
		       FL_WP_WRITE_FAULT);
	}
	fl_expect_fault(_metadata, cfd, f->page, FL_WP_WRITE_FAULT);
	fl_expect_no_msg(_metadata, self->uffd);
	/*
	 * The child is alive and blocked: a private page it shares with us
	 * is not exclusively ours, unless the pin made fork() copy it.
	 */
	if (want_excl >= 0)
		EXPECT_EQ(want_excl, pagemap_exclusive(f->page));
	ASSERT_EQ(0, uffd_wp_range(cfd, f->page, self->mem.page, false));
	EXPECT_EQ(want_child, child_status(f->pid)) {
		TH_LOG("child exit 0: its page lost the protection; 2+: error");
	}
	close(cfd);
}

/*
 * Protect the area, optionally pin page 0 long-term (fork then copies it
 * eagerly for a private mapping), fork, and check what the child got:
 * without EVENT_FORK its page is not protected, with it the protection
 * and the registration are inherited.
 */
static void fork_check(struct __test_metadata *_metadata,
		       FIXTURE_DATA(wp) *self,
		       const FIXTURE_VARIANT(wp) *variant, bool event, bool pin)
{
	uint64_t features = fl_wp_features(variant->mem) |
			    (event ? UFFD_FEATURE_EVENT_FORK : 0);
	struct forker f = { .page = mem_page(&self->mem, 0) };
	char why[256];
	int pinned = -1;
	/* Without the pagemap bit the child cannot see its protection. */
	bool bit = fl_wp_bit_checkable();

	populate(&self->mem, self->mem.len);
	self->uffd = FL_UFFD_OPEN(features);
	/* Pin before protecting: a write pin of a protected page would trap. */
	if (pin) {
		pinned = pin_range(f.page, self->mem.page, why, sizeof(why));
		if (pinned < 0)
			FL_SKIP("%s", why);
	}
	ASSERT_EQ(0, uffd_register_range(self->uffd, self->mem.addr,
					 self->mem.len,
					 UFFDIO_REGISTER_MODE_WP, NULL));
	ASSERT_EQ(0, uffd_wp_range(self->uffd, self->mem.addr, self->mem.len,
				   true));
	expect_all_protected(_metadata, &self->mem);
	/* The child's write copies a private huge page from the free pool. */
	if (mem_cow_takes_huge_page(variant->mem) &&
	    hugetlb_free_pages() < 2)
		FL_SKIP("the child's copy of a private hugetlb page needs free huge pages (%ld free)",
			hugetlb_free_pages());

	if (event) {
		fork_with_event(_metadata, self, variant, &f,
				mem_is_shared(variant->mem) ? -1 : pin, bit);
	} else {
		fork_thread(&f);
		fork_failed(_metadata, variant, f.pid);
		EXPECT_EQ(0, child_status(f.pid)) {
			TH_LOG("child exit 1 or stuck (-110): protection leaked into the child; 2+: error");
		}
	}
	unpin_range(pinned);

	/* The parent's page stays protected, and no fault reached us. */
	if (bit)
		EXPECT_EQ(1, pagemap_uffd_wp(f.page));
	fl_expect_no_msg(_metadata, self->uffd);
	/* The child's write reaches us only through shared memory. */
	if (mem_is_shared(variant->mem)) {
		EXPECT_EQ(WVAL, (unsigned char)*f.page);
	} else {
		EXPECT_TRUE(pattern_at(f.page, 1, 0));
	}
	EXPECT_TRUE(pattern_at(f.page + 1, self->mem.len - 1, 1));
	/* No bit to read: show the parent's protection by a trapping write. */
	if (!bit) {
		start_writer(_metadata, self, f.page);
		fl_expect_fault(_metadata, self->uffd, f.page,
				FL_WP_WRITE_FAULT);
		ASSERT_EQ(0, uffd_wp_range(self->uffd, f.page, self->mem.page,
					   false));
		FL_TOUCHER_DONE(&self->t);
		EXPECT_EQ(WVAL, (unsigned char)*f.page);
	}
}

TEST_F_TIMEOUT(wp, fork_without_event, 5)
{
	fork_check(_metadata, self, variant, false, false);
}

TEST_F_TIMEOUT(wp, fork_with_event, 5)
{
	fork_check(_metadata, self, variant, true, false);
}

TEST_F_TIMEOUT(wp, fork_pinned_without_event, 5)
{
	fork_check(_metadata, self, variant, false, true);
}

TEST_F_TIMEOUT(wp, fork_pinned_with_event, 5)
{
	fork_check(_metadata, self, variant, true, true);
}

FL_TEST_MAIN(16)
