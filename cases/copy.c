// SPDX-License-Identifier: GPL-2.0
/*
 * UFFDIO_COPY: resolve MISSING faults by copying bytes in, on every memory
 * type, and the documented refusals.
 */
#include <sys/mman.h>

#include "ksft_case.h"

#define NPAGES 4

FIXTURE(copy) {
	FL_CASE_HOLDS;
};

FL_MEM_VARIANTS(copy, MEM_ALL);

/* Every point compares with the same reference bytes: built once. */
FL_SHARED_PATTERN(NPAGES, 0, 7)

FIXTURE_SETUP(copy)
{
	FL_CASE_SETUP(NPAGES);
	FL_CASE_REGISTER(0, UFFDIO_REGISTER_MODE_MISSING);
	FL_ASSERT_OFFERED(self->ioctls, 1ULL << _UFFDIO_COPY);
	self->src = FL_PATTERN(self->mem.len, 7);
}

FIXTURE_TEARDOWN(copy)
{
	FL_CASE_TEARDOWN();
}

/* A thread reads a hole; the monitor sees the fault and resolves it. */
TEST_F(copy, fault_round_trip)
{
	size_t page = self->mem.page;
	char *dst = mem_page(&self->mem, 1);
	struct uffdio_copy c;
	struct uffd_msg msg;
	struct toucher t;

	ASSERT_EQ(0, toucher_start(&t, dst + 5, TOUCH_READ, 0));
	ASSERT_EQ(0, uffd_wait_msg(self->uffd, &msg, 2000));
	EXPECT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	/* A read fault: no WRITE, WP or MINOR flag; page-aligned address. */
	EXPECT_EQ(0, msg.arg.pagefault.flags);
	EXPECT_EQ((uintptr_t)dst & ~(page - 1), msg.arg.pagefault.address);
	/* Still blocked while unresolved. */
	EXPECT_TRUE(toucher_blocked(&t));

	c = (struct uffdio_copy){ .dst = (uintptr_t)dst,
				  .src = (uintptr_t)self->src, .len = page };
	ASSERT_EQ(0, uffd_copy(self->uffd, &c));
	EXPECT_EQ((int64_t)page, c.copy);
	FL_TOUCHER_DONE(&t);
	EXPECT_EQ((unsigned char)self->src[5], t.value);
	EXPECT_EQ(-1, mem_check(dst, page, 7));
}

/* COPY onto a present page: EEXIST and .copy = -EEXIST. */
TEST_F(copy, eexist)
{
	size_t page = self->mem.page;
	struct uffdio_copy c = { .dst = (uintptr_t)self->mem.addr,
				 .src = (uintptr_t)self->src, .len = page };

	ASSERT_EQ(0, uffd_copy(self->uffd, &c));
	ASSERT_EQ((int64_t)page, c.copy);
	/* Other bytes this time: a refused COPY must not write them. */
	c.src = (uintptr_t)self->src + page;
	c.copy = 0;
	EXPECT_EQ(-EEXIST, uffd_copy(self->uffd, &c));
	EXPECT_EQ(-EEXIST, c.copy);
	EXPECT_EQ(0, memcmp(self->mem.addr, self->src, page));
}

/* Page @n of the area holds page @n of @src (memcmp, no fault possible). */
static bool same_page(FIXTURE_DATA(copy) *self, size_t n, const char *src)
{
	size_t page = self->mem.page;

	return !memcmp(mem_page(&self->mem, n), src + n * page, page);
}

/*
 * One COPY of the whole range: .copy is the full length, every page holds
 * its bytes, and a thread waiting on a page in the middle is woken.
 */
TEST_F_TIMEOUT(copy, multi_page, 5)
{
	struct uffdio_copy c = { .dst = (uintptr_t)self->mem.addr,
				 .src = (uintptr_t)self->src,
				 .len = self->mem.len };
	struct toucher t;
	size_t n;

	fl_fault_on(_metadata, self->uffd, &t, fl_page(self, 2), 0);
	ASSERT_EQ(0, uffd_copy(self->uffd, &c));
	EXPECT_EQ((int64_t)self->mem.len, c.copy);
	FL_TOUCHER_DONE(&t);
	EXPECT_EQ((unsigned char)self->src[2 * self->mem.page], t.value);
	for (n = 0; n < NPAGES; n++)
		EXPECT_TRUE(same_page(self, n, self->src)) {
			TH_LOG("page %zu differs", n);
		}
}

/* COPY into a range no uffd registered: ENOENT, and nothing is written. */
TEST_F(copy, enoent)
{
	size_t page = self->mem.page;
	char *last = mem_page(&self->mem, NPAGES - 1);
	struct uffdio_copy c = { .dst = (uintptr_t)last,
				 .src = (uintptr_t)self->src, .len = page };

	ASSERT_EQ(0, uffd_unregister_range(self->uffd, last, page));
	EXPECT_EQ(-ENOENT, uffd_copy(self->uffd, &c));
	EXPECT_EQ(-ENOENT, c.copy);
	/* Unregistered now, so reading cannot block: still all zeros. */
	EXPECT_EQ(-1, mem_check_zero(last, page));
}

/* An unmapped source: EFAULT, .copy = -EFAULT, the destination stays a hole. */
TEST_F(copy, efault_source)
{
	size_t page = self->mem.page;
	struct uffdio_copy c;
	char *bad;

	bad = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, bad);
	ASSERT_EQ(0, munmap(bad, page));
	c = (struct uffdio_copy){ .dst = (uintptr_t)self->mem.addr,
				  .src = (uintptr_t)bad, .len = page };
	EXPECT_EQ(-EFAULT, uffd_copy(self->uffd, &c));
	EXPECT_EQ(-EFAULT, c.copy);
	fl_expect_hole(_metadata, self->uffd, &self->mem, self->src, 0);
	EXPECT_TRUE(same_page(self, 0, self->src));
}

/*
 * COPY with MODE_WP maps the page write-protected: reads pass, a write
 * raises a WRITE|WP fault and stays invisible until the page is
 * unprotected; a page copied without the flag is writable at once.
 */
TEST_F_TIMEOUT(copy, mode_wp, 5)
{
	size_t page = self->mem.page;
	char *p1 = mem_page(&self->mem, 1), *p2 = mem_page(&self->mem, 2);
	unsigned char old = (unsigned char)self->src[page + 3];
	unsigned char v = old ^ 0x80;
	struct uffdio_copy c;
	struct uffd_msg msg;
	struct toucher t;
	uint64_t ioctls = 0;

	/* A fresh uffd that asks for the WP features of this memory type. */
	close(self->uffd);
	self->uffd = -1;
	self->uffd = FL_UFFD_OPEN(fl_missing_feature(variant->mem) |
				  fl_wp_features(variant->mem));
	ASSERT_EQ(0, uffd_register_range(self->uffd, self->mem.addr,
					 self->mem.len,
					 UFFDIO_REGISTER_MODE_MISSING |
					 UFFDIO_REGISTER_MODE_WP, &ioctls));
	FL_ASSERT_OFFERED(ioctls, 1ULL << _UFFDIO_WRITEPROTECT);

	c = (struct uffdio_copy){ .dst = (uintptr_t)p1,
				  .src = (uintptr_t)self->src + page,
				  .len = page, .mode = UFFDIO_COPY_MODE_WP };
	ASSERT_EQ(0, uffd_copy(self->uffd, &c));
	EXPECT_EQ((int64_t)page, c.copy);
	c = (struct uffdio_copy){ .dst = (uintptr_t)p2,
				  .src = (uintptr_t)self->src + 2 * page,
				  .len = page };
	ASSERT_EQ(0, uffd_copy(self->uffd, &c));

	/* Unprotected neighbour: the write just happens. */
	ASSERT_EQ(0, toucher_start(&t, p2, TOUCH_WRITE, v));
	FL_TOUCHER_DONE(&t);
	EXPECT_EQ(v, (unsigned char)p2[0]);
	EXPECT_EQ(-ETIMEDOUT, uffd_wait_msg(self->uffd, &msg, 0));

	/* Protected page: readable, the write faults. */
	EXPECT_TRUE(same_page(self, 1, self->src));
	ASSERT_EQ(0, toucher_start(&t, p1 + 3, TOUCH_WRITE, v));
	fl_expect_fault(_metadata, self->uffd, p1, FL_WP_WRITE_FAULT);
	EXPECT_TRUE(toucher_blocked(&t));
	EXPECT_EQ(old, (unsigned char)p1[3]);

	ASSERT_EQ(0, uffd_wp_range(self->uffd, p1, page, false));
	FL_TOUCHER_DONE(&t);
	EXPECT_EQ(v, (unsigned char)p1[3]);
}

/*
 * Partial COPY, destination side: page 0 is a hole, page 1 already holds
 * other bytes. One COPY over pages 0-3 fills page 0, stops at page 1 and
 * returns EAGAIN with .copy = one page (the bytes done), waking the thread
 * that waited on page 0. Resuming at .copy meets the present page (EEXIST,
 * nothing done); resuming past it completes the range.
 */
TEST_F_TIMEOUT(copy, partial_dst_present, 5)
{
	size_t page = self->mem.page, done = 99;
	char *other = malloc(page);
	struct uffdio_copy c;
	struct toucher t;
	int ret;

	ASSERT_NE(NULL, other);
	mem_fill(other, page, 11);
	ASSERT_EQ(0, uffd_copy_all(self->uffd, mem_page(&self->mem, 1), other,
				   page, 0, &done));
	fl_fault_on(_metadata, self->uffd, &t, fl_page(self, 0), 0);

	c = (struct uffdio_copy){ .dst = (uintptr_t)self->mem.addr,
				  .src = (uintptr_t)self->src,
				  .len = self->mem.len };
	ret = uffd_copy(self->uffd, &c);
	TH_LOG("COPY over hole+present: %s, .copy = %lld", strerror(-ret),
	       (long long)c.copy);
	EXPECT_EQ(-EAGAIN, ret);
	EXPECT_EQ((int64_t)page, c.copy);
	FL_TOUCHER_DONE(&t);
	EXPECT_EQ((unsigned char)self->src[0], t.value);
	EXPECT_TRUE(same_page(self, 0, self->src));
	EXPECT_EQ(-1, mem_check(mem_page(&self->mem, 1), page, 11));

	/* The resume helper stops at the real error, without progress. */
	EXPECT_EQ(-EEXIST, uffd_copy_all(self->uffd, mem_page(&self->mem, 1),
					 self->src + page, 3 * page, 0,
					 &done));
	EXPECT_EQ(0, done);
	EXPECT_EQ(0, uffd_copy_all(self->uffd, mem_page(&self->mem, 2),
				   self->src + 2 * page, 2 * page, 0, &done));
	EXPECT_EQ(2 * page, done);
	EXPECT_TRUE(same_page(self, 2, self->src));
	EXPECT_TRUE(same_page(self, 3, self->src));
	EXPECT_EQ(-1, mem_check(mem_page(&self->mem, 1), page, 11));
	free(other);
}

/*
 * Partial COPY, source side: the source's second page is unmapped. The
 * first page is filled and the call returns EAGAIN with .copy = one page;
 * once the source page exists again, resuming from .copy completes.
 */
TEST_F_TIMEOUT(copy, partial_src_hole, 5)
{
	size_t page = self->mem.page, done = 0;
	struct uffdio_copy c;
	char *src, *again;
	int ret;

	src = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, src);
	memcpy(src, self->src, page);
	ASSERT_EQ(0, munmap(src + page, page));

	c = (struct uffdio_copy){ .dst = (uintptr_t)self->mem.addr,
				  .src = (uintptr_t)src, .len = 2 * page };
	ret = uffd_copy(self->uffd, &c);
	TH_LOG("COPY with a source hole: %s, .copy = %lld", strerror(-ret),
	       (long long)c.copy);
	EXPECT_EQ(-EAGAIN, ret);
	ASSERT_EQ((int64_t)page, c.copy);
	EXPECT_TRUE(same_page(self, 0, self->src));

	again = mmap(src + page, page, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ(src + page, again);
	memcpy(again, self->src + page, page);
	EXPECT_EQ(0, uffd_copy_all(self->uffd, mem_page(&self->mem, 1),
				   src + c.copy, 2 * page - c.copy, 0, &done));
	EXPECT_EQ(page, done);
	EXPECT_TRUE(same_page(self, 1, self->src));
	munmap(src, 2 * page);
}

FL_TEST_MAIN(16)
