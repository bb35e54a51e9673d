// SPDX-License-Identifier: GPL-2.0
/*
 * UFFDIO_ZEROPAGE: resolve MISSING faults with zeros. hugetlb has no zero
 * page: there every ZEROPAGE must be refused with EINVAL, map nothing, and
 * REGISTER must not offer the ioctl.
 */
#include <sys/mman.h>

#include "ksft_case.h"
#include "vmstate.h"

#define NPAGES 4

FIXTURE(zeropage) {
	FL_CASE_HOLDS;
};

FL_MEM_VARIANTS(zeropage, MEM_ALL);

/* Every point compares with the same reference bytes: built once. */
FL_SHARED_PATTERN(NPAGES, 0, 5)

FIXTURE_SETUP(zeropage)
{
	FL_CASE_SETUP(NPAGES);
	FL_CASE_REGISTER(0, UFFDIO_REGISTER_MODE_MISSING);
	/* Offered with MISSING on everything but hugetlb since 4.3. */
	EXPECT_EQ(!mem_is_hugetlb(variant->mem),
		  !!(self->ioctls & (1ULL << _UFFDIO_ZEROPAGE)));
	self->src = FL_PATTERN(self->mem.len, 5);
}

FIXTURE_TEARDOWN(zeropage)
{
	FL_CASE_TEARDOWN();
}

static int zeropage(FIXTURE_DATA(zeropage) *self, size_t first, size_t n,
		    int64_t *out)
{
	*out = 0;
	return uffd_range_ioctl(_UFFDIO_ZEROPAGE, self->uffd,
				fl_page(self, first), NULL,
				n * self->mem.page, 0, out);
}

/*
 * hugetlb: ZEROPAGE over [first, first+n) is EINVAL with .zeropage =
 * -EINVAL and leaves the holes as holes.
 */
static void expect_refused(struct __test_metadata *_metadata,
			   FIXTURE_DATA(zeropage) *self, size_t first, size_t n)
{
	int64_t out = 0;
	size_t i;

	EXPECT_EQ(-EINVAL, zeropage(self, first, n, &out));
	EXPECT_EQ(-EINVAL, out);
	for (i = first; i < first + n; i++)
		fl_expect_hole(_metadata, self->uffd, &self->mem, self->src,
			       i);
}

/*
 * A thread reads a hole; ZEROPAGE resolves it: .zeropage = one page, the
 * thread reads 0, the page is all zeros and no further fault is raised.
 */
TEST_F_TIMEOUT(zeropage, fault_round_trip, 5)
{
	size_t page = self->mem.page;
	struct uffd_msg msg;
	struct toucher t;
	int64_t out = 0;
	int ret;

	fl_fault_on(_metadata, self->uffd, &t, fl_page(self, 1), 17);
	ret = zeropage(self, 1, 1, &out);
	if (mem_is_hugetlb(variant->mem)) {
		EXPECT_EQ(-EINVAL, ret);
		EXPECT_EQ(-EINVAL, out);
		/* Nothing was mapped: the thread still waits; COPY frees it. */
		EXPECT_TRUE(toucher_blocked(&t));
		fl_expect_hole(_metadata, self->uffd, &self->mem, self->src,
			       1);
		FL_TOUCHER_DONE(&t);
		EXPECT_EQ((unsigned char)self->src[page + 17], t.value);
		return;
	}
	ASSERT_EQ(0, ret);
	EXPECT_EQ((int64_t)page, out);
	FL_TOUCHER_DONE(&t);
	EXPECT_EQ(0, t.value);
	EXPECT_EQ(-1, mem_check_zero(mem_page(&self->mem, 1), page));
	EXPECT_EQ(-ETIMEDOUT, uffd_wait_msg(self->uffd, &msg, 0));
}

/*
 * One ZEROPAGE over the whole range: .zeropage = len, every page reads
 * zero, and writing one of them (a copy-on-write of the zero page) neither
 * faults to the uffd nor disturbs its neighbours.
 */
TEST_F_TIMEOUT(zeropage, multi_page, 5)
{
	char *p2 = mem_page(&self->mem, 2);
	struct uffd_msg msg;
	struct toucher t;
	int64_t out = 0;

	if (mem_is_hugetlb(variant->mem)) {
		expect_refused(_metadata, self, 0, NPAGES);
		return;
	}
	ASSERT_EQ(0, zeropage(self, 0, NPAGES, &out));
	EXPECT_EQ((int64_t)self->mem.len, out);
	EXPECT_EQ(-1, mem_check_zero(self->mem.addr, self->mem.len));

	ASSERT_EQ(0, toucher_start(&t, p2 + 100, TOUCH_WRITE, 0x42));
	FL_TOUCHER_DONE(&t);
	EXPECT_EQ(0x42, p2[100]);
	p2[100] = 0;
	EXPECT_EQ(-1, mem_check_zero(self->mem.addr, self->mem.len));
	EXPECT_EQ(-ETIMEDOUT, uffd_wait_msg(self->uffd, &msg, 0));
}

/* ZEROPAGE onto a populated page: EEXIST, .zeropage = -EEXIST, bytes kept. */
TEST_F(zeropage, eexist)
{
	size_t page = self->mem.page;
	struct uffdio_copy c = { .dst = (uintptr_t)self->mem.addr,
				 .src = (uintptr_t)self->src, .len = page };
	int64_t out = 0;

	ASSERT_EQ(0, uffd_copy(self->uffd, &c));
	if (mem_is_hugetlb(variant->mem)) {
		/* The memory type is checked first: still EINVAL. */
		EXPECT_EQ(-EINVAL, zeropage(self, 0, 1, &out));
		EXPECT_EQ(-EINVAL, out);
	} else {
		EXPECT_EQ(-EEXIST, zeropage(self, 0, 1, &out));
		EXPECT_EQ(-EEXIST, out);
	}
	EXPECT_EQ(-1, mem_check(self->mem.addr, page, 5));
}

/* ZEROPAGE into a range no uffd registered: ENOENT, nothing mapped. */
TEST_F(zeropage, enoent)
{
	size_t page = self->mem.page;
	char *last = mem_page(&self->mem, NPAGES - 1);
	int64_t out = 0;

	ASSERT_EQ(0, uffd_unregister_range(self->uffd, last, page));
	EXPECT_EQ(-ENOENT, zeropage(self, NPAGES - 1, 1, &out));
	EXPECT_EQ(-ENOENT, out);
	/* Nothing mapped here, nor put in the page cache behind it. */
	EXPECT_EQ(0, vm_present(last));
	if (self->mem.alias) {
		/* mincore() reports the page cache, one byte per base page. */
		unsigned char *vec = calloc(page / getpagesize(), 1);

		ASSERT_NE(NULL, vec);
		ASSERT_EQ(0, mincore(self->mem.alias + (NPAGES - 1) * page,
				     page, vec));
		EXPECT_EQ(0, vec[0] & 1);
		free(vec);
	}
	/* Its registered neighbour is still a hole that traps. */
	fl_expect_hole(_metadata, self->uffd, &self->mem, self->src,
		       NPAGES - 2);
}

/*
 * Partial ZEROPAGE: page 0 a hole, page 1 populated. One call over pages
 * 0-3 zeroes page 0 and stops: EAGAIN with .zeropage = one page (the bytes
 * done), waking the waiter on page 0. Resuming at page 1 stops at once
 * (EEXIST, nothing done); resuming past it completes.
 */
TEST_F_TIMEOUT(zeropage, partial, 5)
{
	size_t page = self->mem.page, done = 99;
	char *p1 = mem_page(&self->mem, 1);
	struct uffdio_copy c = { .dst = (uintptr_t)p1,
				 .src = (uintptr_t)self->src, .len = page };
	struct toucher t;
	int64_t out = 0;
	int ret;

	ASSERT_EQ(0, uffd_copy(self->uffd, &c));
	if (mem_is_hugetlb(variant->mem)) {
		expect_refused(_metadata, self, 2, 2);
		EXPECT_EQ(-EINVAL, uffd_zeropage_all(self->uffd,
						     self->mem.addr,
						     self->mem.len, 0, &done));
		EXPECT_EQ(0, done);
		fl_expect_hole(_metadata, self->uffd, &self->mem, self->src, 0);
		return;
	}
	fl_fault_on(_metadata, self->uffd, &t, fl_page(self, 0), 0);
	ret = zeropage(self, 0, NPAGES, &out);
	TH_LOG("ZEROPAGE over hole+present: %s, .zeropage = %lld",
	       strerror(-ret), (long long)out);
	EXPECT_EQ(-EAGAIN, ret);
	EXPECT_EQ((int64_t)page, out);
	FL_TOUCHER_DONE(&t);
	EXPECT_EQ(0, t.value);
	EXPECT_EQ(-1, mem_check_zero(self->mem.addr, page));
	EXPECT_EQ(-1, mem_check(p1, page, 5));

	EXPECT_EQ(-EEXIST, uffd_zeropage_all(self->uffd, p1, 3 * page, 0,
					     &done));
	EXPECT_EQ(0, done);
	EXPECT_EQ(0, uffd_zeropage_all(self->uffd, mem_page(&self->mem, 2),
				       2 * page, 0, &done));
	EXPECT_EQ(2 * page, done);
	EXPECT_EQ(-1, mem_check_zero(mem_page(&self->mem, 2), 2 * page));
	EXPECT_EQ(-1, mem_check(p1, page, 5));
}

FL_TEST_MAIN(8)
