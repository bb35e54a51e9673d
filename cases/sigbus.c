// SPDX-License-Identifier: GPL-2.0
/*
 * UFFD_FEATURE_SIGBUS: a fault in a registered range raises SIGBUS in the
 * faulting thread instead of queueing a message; resolving the range
 * (COPY, ZEROPAGE, unprotect) makes the same access succeed.
 */
#include <signal.h>
#include <sys/wait.h>

#include "ksft_case.h"
#include "bgcall.h"
#include "vmstate.h"

#define NPAGES	4
#define SEED	31

FIXTURE(sigbus) {
	FL_CASE_HOLDS;
};

FL_MEM_VARIANTS(sigbus, MEM_ALL);

/* Every point compares with the same reference bytes: built once. */
FL_SHARED_PATTERN(NPAGES, 0, SEED)

FIXTURE_SETUP(sigbus)
{
	FL_CASE_SETUP(NPAGES);
	self->src = FL_PATTERN(self->mem.len, SEED);
	sigbus_catch();
}

FIXTURE_TEARDOWN(sigbus)
{
	FL_CASE_TEARDOWN();
}

/* Every uffd here has SIGBUS: a fault is a signal, never a message. */
#define SIGBUS_REGISTER(features, mode)					\
	FL_CASE_REGISTER(UFFD_FEATURE_SIGBUS | (features), (mode))

/* The access (@kind) at @p raises SIGBUS for its page; no message is queued. */
static void expect_sigbus_only(struct __test_metadata *_metadata,
			       FIXTURE_DATA(sigbus) *self, char *p,
			       enum touch_kind kind)
{
	fl_expect_sigbus(_metadata, p, kind, BUS_ADRERR, self->page);
	EXPECT_TRUE(fl_queue_empty(self->uffd));
}

/* Read a hole: SIGBUS, no message, still a hole; after COPY the bytes. */
TEST_F_TIMEOUT(sigbus, read_hole, 5)
{
	unsigned char v = 0;

	SIGBUS_REGISTER(0, UFFDIO_REGISTER_MODE_MISSING);
	expect_sigbus_only(_metadata, self, fl_page(self, 1) + 7, TOUCH_READ);
	EXPECT_EQ(0, vm_present(fl_page(self, 1)));
	/* Every attempt is refused the same way, not just the first. */
	expect_sigbus_only(_metadata, self, fl_page(self, 1), TOUCH_READ);

	ASSERT_EQ(0, fl_fill_page(self, self->uffd, 1, 0));
	EXPECT_EQ(0, sigbus_probe(fl_page(self, 1) + 7, TOUCH_READ, &v));
	EXPECT_EQ((unsigned char)self->src[self->page + 7], v);
	EXPECT_EQ(0, memcmp(fl_page(self, 1), self->src + self->page,
			    self->page));
	/* Only the resolved page changed. */
	fl_expect_sigbus(_metadata, fl_page(self, 2), TOUCH_READ,
			 BUS_ADRERR, self->page);
}

/* Write a hole: SIGBUS, nothing stored; after COPY the write lands. */
TEST_F_TIMEOUT(sigbus, write_hole, 5)
{
	size_t page = self->page;
	unsigned char v = 0xa5;

	SIGBUS_REGISTER(0, UFFDIO_REGISTER_MODE_MISSING);
	expect_sigbus_only(_metadata, self, fl_page(self, 2) + 1, TOUCH_WRITE);
	EXPECT_EQ(0, vm_present(fl_page(self, 2)));

	ASSERT_EQ(0, fl_fill_page(self, self->uffd, 2, 0));
	EXPECT_EQ(0, sigbus_probe(fl_page(self, 2) + 1, TOUCH_WRITE, &v));
	EXPECT_EQ(0xa5, (unsigned char)fl_page(self, 2)[1]);
	EXPECT_EQ(0, memcmp(fl_page(self, 2) + 2, self->src + 2 * page + 2,
			    page - 2));
}

/* Another thread's access is not held waiting for a monitor. */
TEST_F_TIMEOUT(sigbus, thread_not_blocked, 5)
{
	struct toucher t;

	SIGBUS_REGISTER(0, UFFDIO_REGISTER_MODE_MISSING);
	ASSERT_EQ(0, toucher_start(&t, fl_page(self, 3) + 5, TOUCH_READ, 0));
	FL_TOUCHER_DONE(&t);
	EXPECT_TRUE(t.got_sigbus);
	fl_expect_siginfo(_metadata, &t.sig, fl_page(self, 3) + 5, BUS_ADRERR,
			  self->page);
	EXPECT_TRUE(fl_queue_empty(self->uffd));
}

/*
 * A kernel-mode access (read(2) into the hole) cannot take a signal: it
 * fails with EFAULT, and nothing is queued either.
 */
TEST_F_TIMEOUT(sigbus, kernel_access_efault, 5)
{
	int pfd[2];

	SIGBUS_REGISTER(0, UFFDIO_REGISTER_MODE_MISSING);
	ASSERT_EQ(0, pipe(pfd));
	ASSERT_EQ(4, write(pfd[1], "data", 4));
	errno = 0;
	EXPECT_EQ(-1, read(pfd[0], fl_page(self, 1), 4));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_TRUE(fl_queue_empty(self->uffd));
	close(pfd[0]);
	close(pfd[1]);
}

/*
 * ZEROPAGE resolves too (reads zero). hugetlb has no zero page: the
 * documented EINVAL, and the hole keeps raising SIGBUS.
 */
TEST_F_TIMEOUT(sigbus, resolve_zeropage, 5)
{
	size_t page = self->page;
	struct uffdio_zeropage z = {
		.range = { (uintptr_t)fl_page(self, 1), page },
	};
	unsigned char v = 1;

	SIGBUS_REGISTER(0, UFFDIO_REGISTER_MODE_MISSING);
	if (mem_is_hugetlb(variant->mem)) {
		EXPECT_EQ(-EINVAL, uffd_zeropage(self->uffd, &z));
		EXPECT_EQ(-EINVAL, z.zeropage);
		fl_expect_sigbus(_metadata, fl_page(self, 1), TOUCH_READ,
			 BUS_ADRERR, self->page);
		return;
	}
	ASSERT_EQ(0, uffd_zeropage(self->uffd, &z));
	EXPECT_EQ((int64_t)page, z.zeropage);
	EXPECT_EQ(0, sigbus_probe(fl_page(self, 1) + 9, TOUCH_READ, &v));
	EXPECT_EQ(0, v);
	EXPECT_EQ(-1, mem_check_zero(fl_page(self, 1), page));
}

/*
 * sigbus-wp: a write to a write-protected page raises SIGBUS instead of a
 * WP message and stores nothing; reads work; unprotecting lets it through.
 */
TEST_F_TIMEOUT(sigbus, wp, 5)
{
	size_t page = self->page;
	unsigned char v = 0x3c;

	SIGBUS_REGISTER(fl_wp_features(variant->mem),
			UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP);
	FL_ASSERT_OFFERED(self->ioctls, 1ULL << _UFFDIO_WRITEPROTECT);
	ASSERT_EQ(0, fl_fill_page(self, self->uffd, 1, UFFDIO_COPY_MODE_WP));

	EXPECT_EQ(0, sigbus_probe(fl_page(self, 1) + 4, TOUCH_READ, &v));
	EXPECT_EQ((unsigned char)self->src[page + 4], v);
	v = 0x3c;
	expect_sigbus_only(_metadata, self, fl_page(self, 1) + 4, TOUCH_WRITE);
	EXPECT_EQ(0, memcmp(fl_page(self, 1), self->src + page, page));

	ASSERT_EQ(0, uffd_wp_range(self->uffd, fl_page(self, 1), page, false));
	EXPECT_EQ(0, sigbus_probe(fl_page(self, 1) + 4, TOUCH_WRITE, &v));
	EXPECT_EQ(0x3c, (unsigned char)fl_page(self, 1)[4]);
	/* The hole next to it still raises SIGBUS on write. */
	expect_sigbus_only(_metadata, self, fl_page(self, 2), TOUCH_WRITE);
}

/*
 * MINOR mode: the page is in the page cache but not mapped here; with
 * SIGBUS the minor fault is a signal too, and CONTINUE then maps it. Anon
 * has no page cache: MINOR registration is refused (EINVAL).
 */
TEST_F_TIMEOUT(sigbus, minor, 5)
{
	uint64_t minor = fl_minor_feature(variant->mem);
	size_t page = self->page;
	struct uffdio_continue c = {
		.range = { (uintptr_t)fl_page(self, 1), page },
	};
	unsigned char v = 0;

	if (!mem_mode_applies(variant->mem, UFFDIO_REGISTER_MODE_MINOR)) {
		SIGBUS_REGISTER(0, UFFDIO_REGISTER_MODE_MISSING);
		EXPECT_EQ(-EINVAL, uffd_register_range(self->uffd,
				self->mem.addr, self->mem.len,
				UFFDIO_REGISTER_MODE_MINOR, NULL));
		return;
	}
	SIGBUS_REGISTER(minor, UFFDIO_REGISTER_MODE_MINOR);
	FL_ASSERT_OFFERED(self->ioctls, 1ULL << _UFFDIO_CONTINUE);
	memcpy(self->mem.alias + page, self->src + page, page);
	expect_sigbus_only(_metadata, self, fl_page(self, 1) + 2, TOUCH_READ);
	ASSERT_EQ(0, uffd_continue(self->uffd, &c));
	EXPECT_EQ((int64_t)page, c.mapped);
	EXPECT_EQ(0, sigbus_probe(fl_page(self, 1) + 2, TOUCH_READ, &v));
	EXPECT_EQ((unsigned char)self->src[page + 2], v);
}

static long bg_fork_probe(void *arg)
{
	FIXTURE_DATA(sigbus) *self = arg;
	pid_t pid = fork();

	if (pid == 0) {
		unsigned char v = 0;

		struct sigbus_info si;

		/* The child's uffd inherits SIGBUS: its hole raises it too. */
		if (sigbus_probe(fl_page(self, 1) + 3, TOUCH_READ, &v) != 1)
			_exit(1);
		sigbus_last(&si);
		if (si.code != BUS_ADRERR || si.addr != fl_page(self, 1) + 3)
			_exit(3);
		if (sigbus_probe(fl_page(self, 0), TOUCH_READ, &v) != 0 ||
		    v != (unsigned char)self->src[0])
			_exit(2);
		_exit(0);
	}
	return pid < 0 ? -errno : pid;
}

/* With EVENT_FORK, the child's registration keeps the SIGBUS behaviour. */
TEST_F_TIMEOUT(sigbus, fork_child_sigbus, 5)
{
	struct uffd_msg msg;
	int status = 0;

	SIGBUS_REGISTER(UFFD_FEATURE_EVENT_FORK, UFFDIO_REGISTER_MODE_MISSING);
	ASSERT_EQ(0, fl_fill_page(self, self->uffd, 0, 0));
	ASSERT_EQ(0, bg_start(&self->bg, bg_fork_probe, self));
	ASSERT_EQ(0, uffd_wait_msg(self->uffd, &msg, 2000));
	ASSERT_EQ(UFFD_EVENT_FORK, msg.event);
	self->child_ufd = (int)msg.arg.fork.ufd;
	FL_THREAD_DONE(&self->bg.th);
	ASSERT_GT(self->bg.ret, 0);
	self->child = (pid_t)self->bg.ret;
	ASSERT_EQ(self->child, waitpid(self->child, &status, 0));
	self->child = 0;
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_TRUE(fl_queue_empty(self->child_ufd));
	EXPECT_TRUE(fl_queue_empty(self->uffd));
}

FL_TEST_MAIN(16)
