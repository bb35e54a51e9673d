// SPDX-License-Identifier: GPL-2.0
/*
 * UFFDIO_COPY: resolve MISSING faults by copying bytes in, on every memory
 * type, and the documented refusals.
 */
#include "fl_test.h"

#define NPAGES 4

FIXTURE(copy) {
	struct mem_area mem;
	char *src;
	int uffd;
	uint64_t ioctls;
};

FIXTURE_VARIANT(copy) {
	enum mem_type mem;
};

FL_MEM_VARIANTS(copy);

FIXTURE_SETUP(copy)
{
	self->uffd = FL_UFFD_OPEN(fl_missing_feature(variant->mem));
	FL_MEM_ALLOC(&self->mem, variant->mem, NPAGES);
	ASSERT_EQ(0, uffd_register_range(self->uffd, self->mem.addr,
					 self->mem.len,
					 UFFDIO_REGISTER_MODE_MISSING,
					 &self->ioctls));
	FL_REQUIRE_IOCTLS(self->ioctls, 1ULL << _UFFDIO_COPY);
	self->src = malloc(self->mem.len);
	ASSERT_NE(NULL, self->src);
	mem_fill(self->src, self->mem.len, 7);
}

FIXTURE_TEARDOWN(copy)
{
	if (self->uffd > 0)
		close(self->uffd);
	mem_free(&self->mem);
	free(self->src);
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
	EXPECT_FALSE(toucher_wait(&t, 50));

	c = (struct uffdio_copy){ .dst = (uintptr_t)dst,
				  .src = (uintptr_t)self->src, .len = page };
	ASSERT_EQ(0, uffd_copy(self->uffd, &c));
	EXPECT_EQ((int64_t)page, c.copy);
	ASSERT_TRUE(toucher_wait(&t, 2000));
	toucher_join(&t);
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
	c.copy = 0;
	EXPECT_EQ(-EEXIST, uffd_copy(self->uffd, &c));
	EXPECT_EQ(-EEXIST, c.copy);
}

FL_TEST_MAIN(16)
