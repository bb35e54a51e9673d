// SPDX-License-Identifier: GPL-2.0
/*
 * Who wakes a thread blocked in a MISSING fault, and who must not:
 * COPY/ZEROPAGE with MODE_DONTWAKE resolve without waking, UFFDIO_WAKE
 * wakes exactly the waiters inside its range, a WAKE without resolving
 * makes the fault come back, and close() of the uffd wakes everyone.
 */
#include "ksft_case.h"

#define NPAGES 4

FIXTURE(wake) {
	FL_CASE_HOLDS;
};

FL_MEM_VARIANTS(wake, MEM_ALL);

/* Every point compares with the same reference bytes: built once. */
FL_SHARED_PATTERN(NPAGES, 0, 9)

FIXTURE_SETUP(wake)
{
	FL_CASE_SETUP(NPAGES);
	FL_CASE_REGISTER(0, UFFDIO_REGISTER_MODE_MISSING);
	FL_ASSERT_OFFERED(self->ioctls,
			  1ULL << _UFFDIO_WAKE | 1ULL << _UFFDIO_COPY);
	/* Distinct bytes on every page and at every offset. */
	self->src = FL_PATTERN(self->mem.len, 9);
}

FIXTURE_TEARDOWN(wake)
{
	FL_CASE_TEARDOWN();
}

/* COPY page @n from src with @mode; .copy must be one page. */
static void copy_page(struct __test_metadata *_metadata,
		      FIXTURE_DATA(wake) *self, size_t n, uint64_t mode)
{
	size_t page = self->mem.page;
	struct uffdio_copy c = { .dst = (uintptr_t)mem_page(&self->mem, n),
				 .src = (uintptr_t)self->src + n * page,
				 .len = page, .mode = mode };

	ASSERT_EQ(0, uffd_copy(self->uffd, &c));
	ASSERT_EQ((int64_t)page, c.copy);
	EXPECT_EQ(0, memcmp(mem_page(&self->mem, n), self->src + n * page,
			    page));
}

static int wake_pages(FIXTURE_DATA(wake) *self, size_t first, size_t n)
{
	return uffd_wake_range(self->uffd, mem_page(&self->mem, first),
			       n * self->mem.page);
}

/* The toucher finished and read byte @off of page @n of src. */
static void expect_done(struct __test_metadata *_metadata,
			FIXTURE_DATA(wake) *self, struct toucher *t, size_t n,
			size_t off)
{
	FL_TOUCHER_DONE(t);
	EXPECT_FALSE(t->got_sigbus);
	EXPECT_EQ((unsigned char)self->src[n * self->mem.page + off],
		  t->value);
}

/*
 * COPY with DONTWAKE maps the page but leaves the faulting thread asleep
 * until UFFDIO_WAKE covers its address.
 */
TEST_F_TIMEOUT(wake, copy_dontwake, 5)
{
	struct toucher t;

	fl_fault_on(_metadata, self->uffd, &t, fl_page(self, 1), 5);
	copy_page(_metadata, self, 1, UFFDIO_COPY_MODE_DONTWAKE);
	EXPECT_TRUE(toucher_blocked(&t));
	/* The page is there already, only the thread was not told. */
	EXPECT_EQ(self->src[self->mem.page + 5], mem_page(&self->mem, 1)[5]);
	ASSERT_EQ(0, wake_pages(self, 1, 1));
	expect_done(_metadata, self, &t, 1, 5);
}

/*
 * ZEROPAGE with DONTWAKE: same contract. hugetlb refuses ZEROPAGE (EINVAL)
 * whatever the mode, and the thread stays blocked until a COPY.
 */
TEST_F_TIMEOUT(wake, zeropage_dontwake, 5)
{
	size_t page = self->mem.page;
	struct uffdio_zeropage z = {
		.range = { .start = (uintptr_t)mem_page(&self->mem, 2),
			   .len = page },
		.mode = UFFDIO_ZEROPAGE_MODE_DONTWAKE,
	};
	struct toucher t;
	int ret;

	fl_fault_on(_metadata, self->uffd, &t, fl_page(self, 2), 7);
	ret = uffd_zeropage(self->uffd, &z);
	if (mem_is_hugetlb(variant->mem)) {
		EXPECT_EQ(-EINVAL, ret);
		EXPECT_EQ(-EINVAL, z.zeropage);
		EXPECT_TRUE(toucher_blocked(&t));
		copy_page(_metadata, self, 2, 0);
		expect_done(_metadata, self, &t, 2, 7);
		return;
	}
	ASSERT_EQ(0, ret);
	EXPECT_EQ((int64_t)page, z.zeropage);
	EXPECT_TRUE(toucher_blocked(&t));
	ASSERT_EQ(0, wake_pages(self, 2, 1));
	FL_TOUCHER_DONE(&t);
	EXPECT_EQ(0, t.value);
}

/*
 * Threads @ta and @tb read pages @a and @b (at @off) and wait in their
 * faults; both pages are then filled with DONTWAKE, so both stay asleep.
 */
static void filled_sleepers(struct __test_metadata *_metadata,
			    FIXTURE_DATA(wake) *self, struct toucher *ta,
			    size_t a, struct toucher *tb, size_t b, size_t off)
{
	fl_fault_on(_metadata, self->uffd, ta, fl_page(self, a), off);
	fl_fault_on(_metadata, self->uffd, tb, fl_page(self, b), off);
	copy_page(_metadata, self, a, UFFDIO_COPY_MODE_DONTWAKE);
	copy_page(_metadata, self, b, UFFDIO_COPY_MODE_DONTWAKE);
}

/*
 * WAKE wakes only the waiters inside its range: a neighbouring page's
 * WAKE wakes nobody, waking page 3 leaves page 1's thread asleep.
 */
TEST_F_TIMEOUT(wake, wake_unrelated, 5)
{
	struct toucher t1, t3;

	filled_sleepers(_metadata, self, &t1, 1, &t3, 3, 0);

	ASSERT_EQ(0, wake_pages(self, 2, 1));
	ASSERT_EQ(0, wake_pages(self, 0, 1));
	EXPECT_TRUE(toucher_blocked(&t1));
	EXPECT_TRUE(toucher_blocked(&t3));

	ASSERT_EQ(0, wake_pages(self, 3, 1));
	expect_done(_metadata, self, &t3, 3, 0);
	/* A wrongly woken thread would be runnable or done by now. */
	EXPECT_TRUE(toucher_blocked(&t1));
	ASSERT_EQ(0, wake_pages(self, 1, 1));
	expect_done(_metadata, self, &t1, 1, 0);
}

/* One WAKE over the whole range wakes every waiter in it. */
TEST_F_TIMEOUT(wake, wake_range, 5)
{
	struct toucher t0, t2;

	filled_sleepers(_metadata, self, &t0, 0, &t2, 2, 1);
	ASSERT_EQ(0, wake_pages(self, 0, NPAGES));
	expect_done(_metadata, self, &t0, 0, 1);
	expect_done(_metadata, self, &t2, 2, 1);
}

/*
 * WAKE without resolving: the thread retries, finds the hole again and the
 * same fault is delivered a second time; it stays blocked until COPY.
 */
TEST_F_TIMEOUT(wake, wake_refaults, 5)
{
	char *p1 = mem_page(&self->mem, 1);
	struct uffd_msg msg;
	struct toucher t;

	fl_fault_on(_metadata, self->uffd, &t, fl_page(self, 1), 3);
	ASSERT_EQ(0, wake_pages(self, 1, 1));
	ASSERT_EQ(0, uffd_wait_msg(self->uffd, &msg, 2000));
	EXPECT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	EXPECT_EQ((uintptr_t)p1, msg.arg.pagefault.address);
	EXPECT_TRUE(toucher_blocked(&t));
	copy_page(_metadata, self, 1, 0);
	expect_done(_metadata, self, &t, 1, 3);
}

/* WAKE needs a page-aligned, non-empty range. */
TEST_F(wake, einval)
{
	char *a = self->mem.addr;

	EXPECT_EQ(-EINVAL, uffd_wake_range(self->uffd, a, 0));
	EXPECT_EQ(-EINVAL, uffd_wake_range(self->uffd, a + 1, 4096));
	EXPECT_EQ(-EINVAL, uffd_wake_range(self->uffd, a, 4095));
}

/*
 * close() of the uffd wakes every waiter: the registration is gone, so the
 * retried faults are served by the kernel and read zeros.
 */
TEST_F_TIMEOUT(wake, close_wakes, 5)
{
	struct toucher t1, t2;

	fl_fault_on(_metadata, self->uffd, &t1, fl_page(self, 1), 0);
	fl_fault_on(_metadata, self->uffd, &t2, fl_page(self, 2), 9);
	EXPECT_TRUE(toucher_blocked(&t1));
	ASSERT_EQ(0, close(self->uffd));
	self->uffd = -1;
	ASSERT_TRUE(toucher_wait(&t1, 2000));
	ASSERT_TRUE(toucher_wait(&t2, 2000));
	toucher_join(&t1);
	toucher_join(&t2);
	EXPECT_FALSE(t1.got_sigbus || t2.got_sigbus);
	EXPECT_EQ(0, t1.value);
	EXPECT_EQ(0, t2.value);
	EXPECT_EQ(-1, mem_check_zero(mem_page(&self->mem, 1),
				     2 * self->mem.page));
}

FL_TEST_MAIN(8)
