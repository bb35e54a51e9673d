// SPDX-License-Identifier: GPL-2.0
/*
 * Non-cooperative events: FORK, REMAP, REMOVE and UNMAP are reported with
 * the right fields, and the thread that caused them (fork, mremap, madvise,
 * munmap) is held until the monitor has read the event.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "ksft_case.h"
#include "bgcall.h"
#include "vmstate.h"

#ifndef MADV_REMOVE
#define MADV_REMOVE 9
#endif

#define NPAGES	4
#define SEED	21

/* resv: the mremap target reservation. */
FIXTURE(events) {
	FL_CASE_HOLDS;
};

FL_MEM_VARIANTS(events, MEM_ALL);

/* Every point compares with the same reference bytes: built once. */
FL_SHARED_PATTERN(NPAGES, 0, SEED)

FIXTURE_SETUP(events)
{
	FL_CASE_SETUP(NPAGES);
	self->src = FL_PATTERN(self->mem.len, SEED);
}

FIXTURE_TEARDOWN(events)
{
	FL_CASE_TEARDOWN();
}

/*
 * The held call's event: @event (REMOVE or UNMAP) for pages [@first,
 * @end) of the area; once it is read, the call returns 0.
 */
static void expect_range_event(struct __test_metadata *_metadata,
			       FIXTURE_DATA(events) *self, __u8 event,
			       size_t first, size_t end)
{
	struct uffd_msg msg;

	ASSERT_EQ(0, uffd_wait_msg(self->uffd, &msg, 2000));
	ASSERT_EQ(event, msg.event);
	EXPECT_EQ((uintptr_t)fl_page(self, first), msg.arg.remove.start);
	EXPECT_EQ((uintptr_t)fl_page(self, end), msg.arg.remove.end);
	FL_THREAD_DONE(&self->bg.th);
	ASSERT_EQ(0, self->bg.ret);
}

/* Wait for @pid to exit within @ms; its exit status, or -1. */
static int wait_child(pid_t pid, int ms)
{
	int status;

	if (fl_child_wait(pid, ms, &status) != 1)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Skip when the helper call @op returned EINVAL: the kernel refuses it. */
static void skip_if_refused(struct __test_metadata *_metadata,
			    FIXTURE_DATA(events) *self,
			    const FIXTURE_VARIANT(events) *variant,
			    const char *op)
{
	fl_thread_join(&self->bg.th);
	/* Only hugetlb had kernels without these; elsewhere it is a failure. */
	if (self->bg.ret == -EINVAL && mem_is_hugetlb(variant->mem))
		FL_SKIP("%s of a %s mapping: EINVAL", op,
			mem_type_name(variant->mem));
}

/*
 * bg_held_by_event() for a call that must raise an event, except that a
 * call the kernel refused with EINVAL (mremap or MADV_DONTNEED of hugetlb
 * on kernels without that support) skips, naming @op: no event can come.
 */
static int held_or_skip(struct __test_metadata *_metadata,
			FIXTURE_DATA(events) *self,
			const FIXTURE_VARIANT(events) *variant, const char *op)
{
	int held = bg_held_by_event(&self->bg, self->uffd, 2000);

	if (held == -ENOMSG)
		skip_if_refused(_metadata, self, variant, op);
	return held;
}

/* --- FORK ------------------------------------------------------------- */

/*
 * Child side: page 0 was filled before the fork, page 1 is a hole that
 * must fault on the child's uffd; with @write the child stores into page 1
 * instead of reading it. Exit status says what went wrong.
 */
static void fork_child(FIXTURE_DATA(events) *self, bool write)
{
	volatile char *p0 = fl_page(self, 0), *p1 = fl_page(self, 1);

	if (*p0 != self->src[0])
		_exit(2);
	if (write) {
		p1[3] = 0x5a;
		if (p1[3] != 0x5a || p1[0] != self->src[self->page])
			_exit(3);
	} else if (p1[3] != self->src[self->page + 3]) {
		_exit(4);
	}
	_exit(0);
}

struct fork_args {
	FIXTURE_DATA(events) *self;
	bool write;
};

static long bg_fork(void *arg)
{
	struct fork_args *a = arg;
	pid_t pid = fork();

	if (pid == 0)
		fork_child(a->self, a->write);
	return pid < 0 ? -errno : pid;
}

/*
 * fork() is held until the FORK event is read; the message carries a new
 * uffd for the child, the registration came along, and the child's fault
 * is delivered there (not on the parent's uffd).
 */
static void fork_event(struct __test_metadata *_metadata,
		       FIXTURE_DATA(events) *self, struct fork_args *fa,
		       struct uffd_msg *fault)
{
	struct uffd_msg msg;

	ASSERT_EQ(0, fl_fill_page(self, self->uffd, 0, 0));
	ASSERT_EQ(0, bg_start(&self->bg, bg_fork, fa));
	EXPECT_EQ(1, bg_held_by_event(&self->bg, self->uffd, 2000)) {
		TH_LOG("fork() not held by the unread FORK event");
	}
	ASSERT_EQ(0, uffd_wait_msg(self->uffd, &msg, 2000));
	ASSERT_EQ(UFFD_EVENT_FORK, msg.event);
	self->child_ufd = (int)msg.arg.fork.ufd;
	ASSERT_GE(self->child_ufd, 0);
	FL_THREAD_DONE(&self->bg.th);
	ASSERT_GT(self->bg.ret, 0);
	self->child = (pid_t)self->bg.ret;

	/* The child faults on page 1: reported on its own uffd. */
	ASSERT_EQ(0, uffd_wait_msg(self->child_ufd, fault, 2000));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, fault->event);
	EXPECT_EQ((uintptr_t)fl_page(self, 1), fault->arg.pagefault.address);
	EXPECT_TRUE(fl_queue_empty(self->uffd));
}

/*
 * COPY into the child's page 1 through the child's uffd. A private hugetlb
 * child has no reservation of its own: when the huge page pool is empty
 * (other users), the COPY cannot allocate. That is a resource limit, not a
 * uffd failure, and a skip only while the pool really is empty: 6.18 says
 * EEXIST there (the page still a hole) where ENOMEM would be expected, so
 * the errno alone cannot tell a starved COPY from a lying one.
 */
static bool child_copy_starved(FIXTURE_DATA(events) *self,
			       const FIXTURE_VARIANT(events) *variant, int ret)
{
	return (ret == -ENOMEM || ret == -EEXIST) &&
	       mem_cow_takes_huge_page(variant->mem) &&
	       vm_present_pid(self->child, fl_page(self, 1)) == 0;
}

static void child_fill(struct __test_metadata *_metadata,
		       FIXTURE_DATA(events) *self,
		       const FIXTURE_VARIANT(events) *variant, uint64_t mode)
{
	int ret = fl_fill_page(self, self->child_ufd, 1, mode), tries;
	long free_pages = 0;

	/* A pool emptied by someone else may refill: retry for a while. */
	for (tries = 0; tries < 20 && child_copy_starved(self, variant, ret);
	     tries++) {
		usleep(10000);
		ret = fl_fill_page(self, self->child_ufd, 1, mode);
	}
	if (child_copy_starved(self, variant, ret)) {
		free_pages = hugetlb_free_pages();
		ksft_print_msg("finding: UFFDIO_COPY into an unreserved private hugetlb page: %s, page still a hole, %ld huge pages free\n",
			       strerror(-ret), free_pages);
	}
	if (child_copy_starved(self, variant, ret) && free_pages == 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, NULL, 0);
		self->child = 0;
		FL_SKIP("no huge page available for the child's copy (0 free, unreserved)");
	}
	ASSERT_EQ(0, ret) {
		TH_LOG("COPY into the child's hole through its uffd");
	}
}

TEST_F_TIMEOUT(events, fork, 5)
{
	struct fork_args fa = { .self = self, .write = false };
	struct uffd_msg msg;

	FL_CASE_REGISTER(UFFD_FEATURE_EVENT_FORK, UFFDIO_REGISTER_MODE_MISSING);
	fork_event(_metadata, self, &fa, &msg);
	EXPECT_EQ(0, msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE);
	child_fill(_metadata, self, variant, 0);
	EXPECT_EQ(0, wait_child(self->child, 2000));
	self->child = 0;
	/* The child's COPY went into the child's page tables, not ours. */
	EXPECT_EQ(0, vm_present(fl_page(self, 1)));
	EXPECT_TRUE(fl_queue_empty(self->uffd));
}

/*
 * events-wp: registered MISSING|WP, the child writes a hole; after a COPY
 * with MODE_WP through the child's uffd its write takes a WP fault there,
 * and unprotecting lets it finish.
 */
TEST_F_TIMEOUT(events, fork_wp, 5)
{
	struct fork_args fa = { .self = self, .write = true };
	struct uffd_msg msg;

	FL_CASE_REGISTER(UFFD_FEATURE_EVENT_FORK |
			 fl_wp_features(variant->mem),
			 UFFDIO_REGISTER_MODE_MISSING |
			 UFFDIO_REGISTER_MODE_WP);
	FL_ASSERT_OFFERED(self->ioctls, 1ULL << _UFFDIO_WRITEPROTECT);
	fork_event(_metadata, self, &fa, &msg);
	EXPECT_EQ(UFFD_PAGEFAULT_FLAG_WRITE, msg.arg.pagefault.flags &
		  (UFFD_PAGEFAULT_FLAG_WRITE | UFFD_PAGEFAULT_FLAG_WP));
	child_fill(_metadata, self, variant, UFFDIO_COPY_MODE_WP);
	ASSERT_EQ(0, uffd_wait_msg(self->child_ufd, &msg, 2000));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	EXPECT_EQ((uintptr_t)fl_page(self, 1), msg.arg.pagefault.address);
	EXPECT_EQ(UFFD_PAGEFAULT_FLAG_WRITE | UFFD_PAGEFAULT_FLAG_WP,
		  msg.arg.pagefault.flags);
	/* Still held by the write protection. */
	EXPECT_TRUE(fl_child_held(self->child));
	ASSERT_EQ(0, uffd_wp_range(self->child_ufd, fl_page(self, 1),
				   self->page, false));
	EXPECT_EQ(0, wait_child(self->child, 2000));
	self->child = 0;
	EXPECT_TRUE(fl_queue_empty(self->uffd));
}

/*
 * Without EVENT_FORK the child's mapping loses the registration: its hole
 * reads zero at once and nothing is reported anywhere.
 */
TEST_F_TIMEOUT(events, fork_without_event, 5)
{
	volatile char *p1 = fl_page(self, 1);
	pid_t pid;

	unsigned char v = 1;
	int status;

	FL_CASE_REGISTER(0, UFFDIO_REGISTER_MODE_MISSING);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		sigbus_catch();
		if (sigbus_probe(p1 + 3, TOUCH_READ, &v))
			_exit(3);
		_exit(v == 0 ? 0 : 1);
	}
	self->child = pid;
	status = wait_child(pid, 2000);
	self->child = 0;
	/*
	 * A private hugetlb child owns no reservation: with no free huge
	 * page its fault is SIGBUS, a hugetlb matter and not a uffd one.
	 */
	if (status == 3 && mem_cow_takes_huge_page(variant->mem) &&
	    hugetlb_free_pages() == 0)
		FL_SKIP("no huge page available for the child's fault (0 free, unreserved)");
	EXPECT_EQ(0, status);
	EXPECT_TRUE(fl_queue_empty(self->uffd));
}

/* --- REMAP ------------------------------------------------------------ */

/* mremap to a fresh address: held until read, from/to/len reported, and the
 * registration moves with the mapping. */
TEST_F_TIMEOUT(events, remap, 5)
{
	size_t len = self->mem.len, page = self->page;
	struct bg_mm_args a = { .addr = self->mem.addr, .len = len };
	struct uffd_msg msg;
	struct toucher t;
	char *to;

	FL_CASE_REGISTER(UFFD_FEATURE_EVENT_REMAP,
			 UFFDIO_REGISTER_MODE_MISSING);
	to = FL_MREMAP_TARGET();
	a.new_addr = to;

	ASSERT_EQ(0, bg_start(&self->bg, bg_mremap_fixed, &a));
	EXPECT_EQ(1, held_or_skip(_metadata, self, variant, "mremap")) {
		TH_LOG("mremap() not held by the unread REMAP event");
	}
	ASSERT_EQ(0, uffd_wait_msg(self->uffd, &msg, 2000));
	ASSERT_EQ(UFFD_EVENT_REMAP, msg.event);
	EXPECT_EQ((uintptr_t)self->mem.addr, msg.arg.remap.from);
	EXPECT_EQ((uintptr_t)to, msg.arg.remap.to);
	EXPECT_EQ(len, msg.arg.remap.len);
	FL_THREAD_DONE(&self->bg.th);
	ASSERT_EQ(0, self->bg.ret);
	ASSERT_EQ(to, a.result);
	self->mem.addr = to;

	/* The moved mapping is still registered: its hole faults. */
	ASSERT_EQ(0, toucher_start(&t, to + page + 3, TOUCH_READ, 0));
	ASSERT_EQ(0, uffd_wait_msg(self->uffd, &msg, 2000));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	EXPECT_EQ((uintptr_t)(to + page), msg.arg.pagefault.address);
	ASSERT_EQ(0, fl_fill_page(self, self->uffd, 1, 0));
	FL_TOUCHER_DONE(&t);
	EXPECT_EQ((unsigned char)self->src[page + 3], t.value);
}

/*
 * Without EVENT_REMAP the moved mapping loses its registration: mremap is
 * not held, nothing is reported, and a hole at the new place just fills.
 */
TEST_F_TIMEOUT(events, remap_without_feature, 5)
{
	size_t len = self->mem.len, page = self->page;
	struct bg_mm_args a = { .addr = self->mem.addr, .len = len };
	struct toucher t;
	char *to;

	FL_CASE_REGISTER(0, UFFDIO_REGISTER_MODE_MISSING);
	to = FL_MREMAP_TARGET();
	a.new_addr = to;
	ASSERT_EQ(0, bg_start(&self->bg, bg_mremap_fixed, &a));
	ASSERT_TRUE(fl_thread_wait(&self->bg.th, 1000));
	skip_if_refused(_metadata, self, variant, "mremap");
	ASSERT_EQ(0, self->bg.ret);
	self->mem.addr = to;
	EXPECT_TRUE(fl_queue_empty(self->uffd));

	ASSERT_EQ(0, toucher_start(&t, to + page + 3, TOUCH_READ, 1));
	ASSERT_TRUE(toucher_wait(&t, 1000));
	toucher_join(&t);
	EXPECT_FALSE(t.got_sigbus);
	EXPECT_EQ(0, t.value);
	EXPECT_TRUE(fl_queue_empty(self->uffd));
}

/*
 * mremap with MREMAP_DONTUNMAP: held until the REMAP event is read, with
 * from/to/len; the pages (and the registration, with EVENT_REMAP) move to
 * the new place, and the old range stays mapped and registered. Private
 * memory leaves it empty: a read there traps as a MISSING fault. Shared
 * memory still maps the file there: the data reads back, nothing traps.
 */
TEST_F_TIMEOUT(events, remap_dontunmap, 5)
{
	size_t len = self->mem.len, page = self->page, n;
	char *from = self->mem.addr, *to;
	struct bg_mm_args a = { .addr = from, .len = len };
	struct uffd_msg msg;
	struct toucher t;
	int held;

	FL_CASE_REGISTER(UFFD_FEATURE_EVENT_REMAP,
			 UFFDIO_REGISTER_MODE_MISSING);
	for (n = 0; n < NPAGES; n++)
		ASSERT_EQ(0, fl_fill_page(self, self->uffd, n, 0));
	to = FL_MREMAP_TARGET();
	a.new_addr = to;

	ASSERT_EQ(0, bg_start(&self->bg, bg_mremap_dontunmap, &a));
	held = bg_held_by_event(&self->bg, self->uffd, 2000);
	if (held == -ENOMSG && mem_is_hugetlb(variant->mem)) {
		/*
		 * hugetlb mappings cannot stay behind (VM_DONTEXPAND): a
		 * refusal must change nothing and report nothing.
		 */
		fl_thread_join(&self->bg.th);
		ksft_print_msg("finding: mremap(MREMAP_DONTUNMAP) of a %s mapping: %s\n",
			       mem_type_name(variant->mem),
			       self->bg.ret ? strerror((int)-self->bg.ret) :
			       "accepted");
		EXPECT_EQ(-EINVAL, self->bg.ret);
		EXPECT_EQ(0, memcmp(from, self->src, len));
		EXPECT_TRUE(fl_queue_empty(self->uffd));
		return;
	}
	EXPECT_EQ(1, held) {
		TH_LOG("mremap(MREMAP_DONTUNMAP) not held by the unread REMAP event");
	}
	/* A call that returned with nothing queued queues nothing later. */
	ASSERT_EQ(0, uffd_wait_msg(self->uffd, &msg,
				   held == -ENOMSG ? 0 : 2000));
	ASSERT_EQ(UFFD_EVENT_REMAP, msg.event);
	EXPECT_EQ((uintptr_t)from, msg.arg.remap.from);
	EXPECT_EQ((uintptr_t)to, msg.arg.remap.to);
	EXPECT_EQ(len, msg.arg.remap.len);
	FL_THREAD_DONE(&self->bg.th);
	ASSERT_EQ(0, self->bg.ret);
	ASSERT_EQ(to, a.result);
	EXPECT_EQ(0, memcmp(to, self->src, len));

	/* The old range: still a mapping, still registered. */
	ASSERT_EQ(0, toucher_start(&t, from + page + 3, TOUCH_READ, 0));
	if (mem_is_shared(variant->mem)) {
		FL_TOUCHER_DONE(&t);
		EXPECT_EQ((unsigned char)self->src[page + 3], t.value);
	} else {
		fl_expect_fault(_metadata, self->uffd, from + page, 0);
		EXPECT_TRUE(toucher_blocked(&t));
		ASSERT_EQ(0, uffd_copy_all(self->uffd, from + page,
					   self->src + 2 * page, page, 0,
					   NULL));
		FL_TOUCHER_DONE(&t);
		EXPECT_EQ((unsigned char)self->src[2 * page + 3], t.value);
	}
	EXPECT_TRUE(fl_queue_empty(self->uffd));
	/* The old mapping is still there: unmap it along with the new. */
	munmap(from, len);
	self->mem.addr = to;
}

/* --- REMOVE ----------------------------------------------------------- */

/*
 * After the pages are gone: shared memory still has them in the page
 * cache (reads back the data, no fault); private memory lost them and
 * faults again.
 */
static void check_after_remove(struct __test_metadata *_metadata,
			       FIXTURE_DATA(events) *self, bool cache_kept)
{
	size_t page = self->page;
	struct uffd_msg msg;
	struct toucher t;

	ASSERT_EQ(0, toucher_start(&t, fl_page(self, 1) + 5, TOUCH_READ, 0));
	if (cache_kept) {
		ASSERT_TRUE(toucher_wait(&t, 1000));
		EXPECT_TRUE(fl_queue_empty(self->uffd));
	} else {
		ASSERT_EQ(0, uffd_wait_msg(self->uffd, &msg, 2000));
		ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
		EXPECT_EQ((uintptr_t)fl_page(self, 1),
			  msg.arg.pagefault.address);
		EXPECT_TRUE(toucher_blocked(&t));
		ASSERT_EQ(0, fl_fill_page(self, self->uffd, 1, 0));
		ASSERT_TRUE(toucher_wait(&t, 2000));
	}
	toucher_join(&t);
	EXPECT_EQ((unsigned char)self->src[page + 5], t.value);
}

/*
 * madvise(@advice) over pages 1..2: held until the REMOVE event is read,
 * and the pages stay mapped until then (the event comes before the zap).
 */
static void remove_event(struct __test_metadata *_metadata,
			 FIXTURE_DATA(events) *self,
			 const FIXTURE_VARIANT(events) *variant, int advice)
{
	size_t page = self->page;
	struct bg_mm_args a = { .addr = fl_page(self, 1), .len = 2 * page,
				.advice = advice };

	ASSERT_EQ(0, fl_fill_page(self, self->uffd, 1, 0));
	ASSERT_EQ(0, fl_fill_page(self, self->uffd, 2, 0));
	ASSERT_EQ(0, bg_start(&self->bg, bg_madvise, &a));
	EXPECT_EQ(1, held_or_skip(_metadata, self, variant,
				  advice == MADV_REMOVE ? "MADV_REMOVE" :
				  "MADV_DONTNEED")) {
		TH_LOG("madvise() not held by the unread REMOVE event");
	}
	EXPECT_EQ(2 * (page / getpagesize()),
		  vm_present_count(fl_page(self, 1), 2 * page));
	expect_range_event(_metadata, self, UFFD_EVENT_REMOVE, 1, 3);
	EXPECT_EQ(0, vm_present_count(fl_page(self, 1), 2 * page));
}

TEST_F_TIMEOUT(events, remove_dontneed, 5)
{
	FL_CASE_REGISTER(UFFD_FEATURE_EVENT_REMOVE,
			 UFFDIO_REGISTER_MODE_MISSING);
	remove_event(_metadata, self, variant, MADV_DONTNEED);
	check_after_remove(_metadata, self, mem_is_shared(variant->mem));
}

/*
 * MADV_REMOVE punches the shared file: REMOVE event, then the page faults
 * again. Anon (no file: EINVAL) and private file mappings (EACCES) refuse
 * it without an event.
 */
TEST_F_TIMEOUT(events, remove_madv_remove, 5)
{
	FL_CASE_REGISTER(UFFD_FEATURE_EVENT_REMOVE,
			 UFFDIO_REGISTER_MODE_MISSING);
	if (!mem_is_shared(variant->mem)) {
		int want = mem_is_file(variant->mem) ? EACCES : EINVAL;

		ASSERT_EQ(0, fl_fill_page(self, self->uffd, 1, 0));
		errno = 0;
		EXPECT_EQ(-1, madvise(fl_page(self, 1), self->page,
				      MADV_REMOVE));
		EXPECT_EQ(want, errno);
		EXPECT_TRUE(fl_queue_empty(self->uffd));
		EXPECT_EQ(1, vm_present(fl_page(self, 1)));
		return;
	}
	remove_event(_metadata, self, variant, MADV_REMOVE);
	check_after_remove(_metadata, self, false);
}

/* Without EVENT_REMOVE, madvise is not held and nothing is reported. */
TEST_F_TIMEOUT(events, remove_without_feature, 5)
{
	struct bg_mm_args a = { .addr = fl_page(self, 1), .len = self->page,
				.advice = MADV_DONTNEED };

	FL_CASE_REGISTER(0, UFFDIO_REGISTER_MODE_MISSING);
	ASSERT_EQ(0, fl_fill_page(self, self->uffd, 1, 0));
	ASSERT_EQ(0, bg_start(&self->bg, bg_madvise, &a));
	ASSERT_TRUE(fl_thread_wait(&self->bg.th, 1000));
	skip_if_refused(_metadata, self, variant, "MADV_DONTNEED");
	EXPECT_EQ(0, self->bg.ret);
	EXPECT_TRUE(fl_queue_empty(self->uffd));
	EXPECT_EQ(0, vm_present(fl_page(self, 1)));
}

/* --- UNMAP ------------------------------------------------------------ */

/*
 * @call (named @what) over pages 1-2, on a helper thread, unmaps them:
 * it is held until the UNMAP event for exactly those pages is read.
 */
static void unmap_event(struct __test_metadata *_metadata,
			FIXTURE_DATA(events) *self,
			const FIXTURE_VARIANT(events) *variant,
			struct bg_mm_args *a, long (*call)(void *),
			const char *what)
{
	*a = (struct bg_mm_args){ .addr = fl_page(self, 1),
				  .len = 2 * self->page };
	FL_CASE_REGISTER(UFFD_FEATURE_EVENT_UNMAP,
			 UFFDIO_REGISTER_MODE_MISSING);
	ASSERT_EQ(0, bg_start(&self->bg, call, a));
	EXPECT_EQ(1, bg_held_by_event(&self->bg, self->uffd, 2000)) {
		TH_LOG("%s not held by the unread UNMAP event", what);
	}
	expect_range_event(_metadata, self, UFFD_EVENT_UNMAP, 1, 3);
}

TEST_F_TIMEOUT(events, unmap, 5)
{
	struct bg_mm_args a;
	unsigned char vec[1];

	unmap_event(_metadata, self, variant, &a, bg_munmap, "munmap()");
	/* The range is really gone; its neighbours are not. */
	EXPECT_EQ(-1, mincore(fl_page(self, 1), getpagesize(), vec));
	EXPECT_EQ(ENOMEM, errno);
	EXPECT_EQ(0, mincore(fl_page(self, 3), getpagesize(), vec));
	EXPECT_TRUE(fl_queue_empty(self->uffd));
}

/*
 * An mmap(MAP_FIXED) over pages 1-2 unmaps them first: held until the
 * UNMAP event (start, end of the replaced range) is read. The new mapping
 * is not registered; its neighbours still are.
 */
TEST_F_TIMEOUT(events, unmap_map_fixed, 5)
{
	struct bg_mm_args a;
	struct toucher t;

	unmap_event(_metadata, self, variant, &a, bg_mmap_fixed,
		    "mmap(MAP_FIXED)");
	ASSERT_EQ(fl_page(self, 1), a.result);

	/* The fresh mapping reads zero at once, without a fault. */
	ASSERT_EQ(0, toucher_start(&t, fl_page(self, 2) + 5, TOUCH_READ, 0xff));
	FL_TOUCHER_DONE(&t);
	EXPECT_EQ(0, t.value);
	EXPECT_TRUE(fl_queue_empty(self->uffd));
	fl_expect_hole(_metadata, self->uffd, &self->mem, self->src, 3);
	fl_expect_hole(_metadata, self->uffd, &self->mem, self->src, 0);
}

/*
 * mremap shrinking the area in place unmaps its tail: held until the
 * UNMAP event for pages 2-3 is read; the head stays registered.
 */
TEST_F_TIMEOUT(events, unmap_mremap_shrink, 5)
{
	size_t page = self->page;
	struct bg_mm_args a = { .addr = self->mem.addr, .len = self->mem.len,
				.new_len = 2 * page };
	unsigned char vec[1];
	int held;

	FL_CASE_REGISTER(UFFD_FEATURE_EVENT_UNMAP,
			 UFFDIO_REGISTER_MODE_MISSING);
	ASSERT_EQ(0, bg_start(&self->bg, bg_mremap_shrink, &a));
	held = held_or_skip(_metadata, self, variant, "mremap");
	EXPECT_EQ(1, held) {
		TH_LOG("a shrinking mremap() not held by the unread UNMAP event");
	}
	expect_range_event(_metadata, self, UFFD_EVENT_UNMAP, 2, 4);
	ASSERT_EQ(self->mem.addr, a.result);
	EXPECT_EQ(-1, mincore(fl_page(self, 2), getpagesize(), vec));
	EXPECT_EQ(ENOMEM, errno);
	fl_expect_hole(_metadata, self->uffd, &self->mem, self->src, 1);
	EXPECT_TRUE(fl_queue_empty(self->uffd));
}

FL_TEST_MAIN(16)
