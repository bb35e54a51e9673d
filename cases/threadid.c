// SPDX-License-Identifier: GPL-2.0
/*
 * What a page-fault message says about who faulted where:
 * UFFD_FEATURE_THREAD_ID fills .feat.ptid with the faulting thread's id
 * (0 without it); UFFD_FEATURE_EXACT_ADDRESS reports the faulting address
 * itself instead of the start of its page (the huge page for hugetlb).
 */
#include "ksft_case.h"

#define NPAGES 4
#define NTOUCH 2

FIXTURE(threadid) {
	FL_CASE_HOLDS;
};

FL_MEM_VARIANTS(threadid, MEM_ALL);

/* Every point compares with the same reference bytes: built once. */
FL_SHARED_PATTERN(1, 0, 13)

FIXTURE_SETUP(threadid)
{
	FL_CASE_SETUP(NPAGES);
	self->src = FL_PATTERN(self->mem.page, 13);
}

FIXTURE_TEARDOWN(threadid)
{
	FL_CASE_TEARDOWN();
}

/* One faulting access and what it must produce. */
struct probe {
	size_t page;		/* page index in the area */
	size_t off;		/* byte offset inside that page */
	enum touch_kind kind;
	struct toucher t;
	struct uffd_msg msg;
	bool seen;
};

/* Open a uffd with the memory type's MISSING feature + @extra, register. */
static void setup_uffd(struct __test_metadata *_metadata,
		       FIXTURE_DATA(threadid) *self, enum mem_type type,
		       uint64_t extra)
{
	self->uffd = FL_UFFD_OPEN(fl_missing_feature(type) | extra);
	ASSERT_EQ(0, uffd_register_range(self->uffd, self->mem.addr,
					 self->mem.len,
					 UFFDIO_REGISTER_MODE_MISSING,
					 &self->ioctls));
}

/*
 * Start every probe's thread, collect one message per probe (matched by
 * page), then resolve the pages with COPY and let the threads finish.
 */
static void run_probes(struct __test_metadata *_metadata,
		       FIXTURE_DATA(threadid) *self, struct probe *p, int n)
{
	size_t page = self->mem.page;
	int i, j;

	for (i = 0; i < n; i++)
		ASSERT_EQ(0, toucher_start(&p[i].t,
					   mem_page(&self->mem, p[i].page) +
					   p[i].off, p[i].kind, 0x3c));
	for (i = 0; i < n; i++) {
		struct uffd_msg msg;
		uintptr_t base;

		ASSERT_EQ(0, uffd_wait_msg(self->uffd, &msg, 2000));
		ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
		base = msg.arg.pagefault.address & ~(uintptr_t)(page - 1);
		for (j = 0; j < n; j++)
			if (base == (uintptr_t)mem_page(&self->mem, p[j].page))
				break;
		ASSERT_LT(j, n) {
			TH_LOG("fault at 0x%llx matches no probe",
			       (unsigned long long)msg.arg.pagefault.address);
		}
		EXPECT_FALSE(p[j].seen);
		p[j].msg = msg;
		p[j].seen = true;
	}
	for (i = 0; i < n; i++) {
		struct uffdio_copy c = {
			.dst = (uintptr_t)mem_page(&self->mem, p[i].page),
			.src = (uintptr_t)self->src, .len = page,
		};

		ASSERT_EQ(0, uffd_copy(self->uffd, &c));
		FL_TOUCHER_DONE(&p[i].t);
	}
}

static uint64_t expected_flags(const struct probe *p)
{
	return p->kind == TOUCH_WRITE ? UFFD_PAGEFAULT_FLAG_WRITE : 0;
}

/* Two threads fault; each message names its own thread. */
TEST_F_TIMEOUT(threadid, ptid, 5)
{
	struct probe p[NTOUCH] = {
		{ .page = 1, .off = 8, .kind = TOUCH_READ },
		{ .page = 2, .off = 16, .kind = TOUCH_WRITE },
	};
	int i;

	setup_uffd(_metadata, self, variant->mem, UFFD_FEATURE_THREAD_ID);
	run_probes(_metadata, self, p, NTOUCH);
	EXPECT_NE(p[0].t.tid, p[1].t.tid);
	for (i = 0; i < NTOUCH; i++) {
		TH_LOG("thread %d: ptid %u", (int)p[i].t.tid,
		       p[i].msg.arg.pagefault.feat.ptid);
		EXPECT_NE(getpid(), p[i].t.tid);
		EXPECT_EQ((uint32_t)p[i].t.tid,
			  p[i].msg.arg.pagefault.feat.ptid);
		EXPECT_EQ(expected_flags(&p[i]), p[i].msg.arg.pagefault.flags);
	}
}

/* Without THREAD_ID the field stays zero. */
TEST_F_TIMEOUT(threadid, no_ptid, 5)
{
	struct probe p[NTOUCH] = {
		{ .page = 1, .off = 8, .kind = TOUCH_READ },
		{ .page = 2, .off = 16, .kind = TOUCH_WRITE },
	};
	int i;

	setup_uffd(_metadata, self, variant->mem, 0);
	run_probes(_metadata, self, p, NTOUCH);
	for (i = 0; i < NTOUCH; i++)
		EXPECT_EQ(0, p[i].msg.arg.pagefault.feat.ptid);
}

/*
 * Accesses at odd offsets (one in the middle, one on the last byte of the
 * page): with EXACT_ADDRESS (@exact) each message carries the exact
 * address, without it the page start.
 */
static void check_addresses(struct __test_metadata *_metadata,
			    FIXTURE_DATA(threadid) *self, bool exact)
{
	size_t page = self->mem.page;
	struct probe p[NTOUCH] = {
		{ .page = 1, .off = 0x123, .kind = TOUCH_READ },
		{ .page = 3, .off = page - 1, .kind = TOUCH_WRITE },
	};
	int i;

	setup_uffd(_metadata, self, self->mem.type,
		   exact ? UFFD_FEATURE_EXACT_ADDRESS : 0);
	run_probes(_metadata, self, p, NTOUCH);
	for (i = 0; i < NTOUCH; i++) {
		EXPECT_EQ((uintptr_t)fl_page(self, p[i].page) +
			  (exact ? p[i].off : 0),
			  p[i].msg.arg.pagefault.address);
		EXPECT_EQ(expected_flags(&p[i]), p[i].msg.arg.pagefault.flags);
	}
}

TEST_F_TIMEOUT(threadid, exact_address, 5)
{
	check_addresses(_metadata, self, true);
}

/* The same accesses without EXACT_ADDRESS: the page start is reported. */
TEST_F_TIMEOUT(threadid, masked_address, 5)
{
	check_addresses(_metadata, self, false);
}

/* Both features at once: both fields right in the same message. */
TEST_F_TIMEOUT(threadid, ptid_exact_address, 5)
{
	struct probe p[1] = { { .page = 2, .off = 0x777, .kind = TOUCH_WRITE } };

	setup_uffd(_metadata, self, variant->mem,
		   UFFD_FEATURE_THREAD_ID | UFFD_FEATURE_EXACT_ADDRESS);
	run_probes(_metadata, self, p, 1);
	EXPECT_EQ((uint32_t)p[0].t.tid, p[0].msg.arg.pagefault.feat.ptid);
	EXPECT_EQ((uintptr_t)mem_page(&self->mem, 2) + 0x777,
		  p[0].msg.arg.pagefault.address);
	EXPECT_EQ(UFFD_PAGEFAULT_FLAG_WRITE, p[0].msg.arg.pagefault.flags);
}

/*
 * A uffd with the WP features of the memory type plus @extra, the area
 * registered MISSING|WP, and page 1 filled write-protected: returns it.
 */
static char *protected_page(struct __test_metadata *_metadata,
			    FIXTURE_DATA(threadid) *self,
			    const FIXTURE_VARIANT(threadid) *variant,
			    uint64_t extra)
{
	char *p1 = mem_page(&self->mem, 1);
	struct uffdio_copy c = { .dst = (uintptr_t)p1,
				 .src = (uintptr_t)self->src,
				 .len = self->mem.page,
				 .mode = UFFDIO_COPY_MODE_WP };

	self->uffd = FL_UFFD_OPEN(fl_missing_feature(variant->mem) |
				  fl_wp_features(variant->mem) | extra);
	ASSERT_EQ(0, uffd_register_range(self->uffd, self->mem.addr,
					 self->mem.len,
					 UFFDIO_REGISTER_MODE_MISSING |
					 UFFDIO_REGISTER_MODE_WP,
					 &self->ioctls)) {
		return NULL;
	}
	FL_ASSERT_OFFERED(self->ioctls, 1ULL << _UFFDIO_WRITEPROTECT);
	ASSERT_EQ(0, uffd_copy(self->uffd, &c)) {
		return NULL;
	}
	return p1;
}

/*
 * A write of @v at byte @off of the protected page @p: a WRITE|WP fault
 * reported at @want_addr, its thread held until unprotect. Returns the
 * message.
 */
static struct uffd_msg write_fault(struct __test_metadata *_metadata,
				   FIXTURE_DATA(threadid) *self, char *p,
				   size_t off, unsigned char v,
				   char *want_addr, struct toucher *t)
{
	struct uffd_msg msg = { 0 };

	ASSERT_EQ(0, toucher_start(t, p + off, TOUCH_WRITE, v)) {
		return msg;
	}
	ASSERT_EQ(0, uffd_wait_msg(self->uffd, &msg, 2000)) {
		return msg;
	}
	EXPECT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	EXPECT_EQ(FL_WP_WRITE_FAULT, msg.arg.pagefault.flags);
	EXPECT_EQ((uintptr_t)want_addr, msg.arg.pagefault.address);
	EXPECT_TRUE(toucher_blocked(t));
	ASSERT_EQ(0, uffd_wp_range(self->uffd, p, self->mem.page, false)) {
		return msg;
	}
	FL_TOUCHER_DONE(t);
	EXPECT_EQ(v, (unsigned char)p[off]);
	return msg;
}

/* THREAD_ID also names the thread behind a write-protect fault. */
TEST_F_TIMEOUT(threadid, ptid_wp, 5)
{
	char *p1 = protected_page(_metadata, self, variant,
				  UFFD_FEATURE_THREAD_ID);
	struct uffd_msg msg;
	struct toucher t;

	ASSERT_NE(NULL, p1);
	msg = write_fault(_metadata, self, p1, 40, 0x11, p1, &t);
	EXPECT_EQ((uint32_t)t.tid, msg.arg.pagefault.feat.ptid);
}

/* Offsets into a page that no masking keeps (below 4 KiB, not 0). */
#define OFF_WP		0x321
#define OFF_MINOR	0x456

/*
 * EXACT_ADDRESS on a write-protect fault: the message carries the byte
 * written, not its page, with the WRITE and WP flags.
 */
TEST_F_TIMEOUT(threadid, exact_address_wp, 5)
{
	char *p1 = protected_page(_metadata, self, variant,
				  UFFD_FEATURE_EXACT_ADDRESS);
	struct toucher t;

	ASSERT_NE(NULL, p1);
	write_fault(_metadata, self, p1, OFF_WP, 0x12, p1 + OFF_WP, &t);
}

/*
 * EXACT_ADDRESS on a MINOR fault (file memory: a page in the page cache,
 * not mapped here): the message carries the byte read, with the MINOR
 * flag. Anon has no MINOR faults: REGISTER refuses the mode.
 */
TEST_F_TIMEOUT(threadid, exact_address_minor, 5)
{
	size_t page = self->mem.page;
	char *p1 = mem_page(&self->mem, 1);
	int64_t mapped = 0;
	struct toucher t;

	self->uffd = FL_UFFD_OPEN(fl_minor_feature(variant->mem) |
				  UFFD_FEATURE_EXACT_ADDRESS);
	if (!mem_mode_applies(variant->mem, UFFDIO_REGISTER_MODE_MINOR)) {
		EXPECT_EQ(-EINVAL, uffd_register_range(self->uffd,
				self->mem.addr, self->mem.len,
				UFFDIO_REGISTER_MODE_MINOR, NULL));
		return;
	}
	ASSERT_EQ(0, uffd_register_range(self->uffd, self->mem.addr,
					 self->mem.len,
					 UFFDIO_REGISTER_MODE_MINOR,
					 &self->ioctls));
	FL_ASSERT_OFFERED(self->ioctls, 1ULL << _UFFDIO_CONTINUE);
	memcpy(self->mem.alias + page, self->src, page);

	ASSERT_EQ(0, toucher_start(&t, p1 + OFF_MINOR, TOUCH_READ, 0));
	fl_expect_fault(_metadata, self->uffd, p1 + OFF_MINOR,
			UFFD_PAGEFAULT_FLAG_MINOR);
	EXPECT_TRUE(toucher_blocked(&t));
	ASSERT_EQ(0, uffd_range_ioctl(_UFFDIO_CONTINUE, self->uffd, p1, NULL,
				      page, 0, &mapped));
	EXPECT_EQ((int64_t)page, mapped);
	FL_TOUCHER_DONE(&t);
	EXPECT_EQ((unsigned char)self->src[OFF_MINOR], t.value);
}

FL_TEST_MAIN(8)
