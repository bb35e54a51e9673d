// SPDX-License-Identifier: GPL-2.0
/*
 * UFFDIO_MOVE (UFFD_FEATURE_MOVE, 6.8): pages leave the source and arrive
 * at the registered destination without a copy. Anonymous private memory
 * only: every shared or file-backed type must be refused with EINVAL.
 */
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "ksft_case.h"
#include "bgcall.h"
#include "vmstate.h"
#include "pagemap.h"
#include "pin.h"

#define NPAGES	8	/* anon: pages 0..3 are the source, 4..7 the destination */
#define HALF	(NPAGES / 2)
#define NPAGES_REFUSED 2	/* other types only check the refusal: 0 -> 1 */
#define SEED	11

/* resv: the THP test's own mapping. */
FIXTURE(move) {
	FL_CASE_HOLDS;
};

FL_MEM_VARIANTS(move, MEM_ALL);

/* Every point compares with the same reference bytes: built once. */
FL_SHARED_PATTERN(NPAGES_REFUSED, 0, SEED)

/* UFFDIO_MOVE moves anonymous pages only: on file memory it is refused. */
static bool moves_pages(enum mem_type type)
{
	return !mem_is_file(type);
}

FIXTURE_SETUP(move)
{
	FL_CASE_SETUP(moves_pages(variant->mem) ? NPAGES : NPAGES_REFUSED);
	FL_CASE_REGISTER(UFFD_FEATURE_MOVE, UFFDIO_REGISTER_MODE_MISSING);
	self->src = FL_PATTERN(self->mem.len, SEED);
}

FIXTURE_TEARDOWN(move)
{
	FL_CASE_TEARDOWN();
}

/* Written into .move first: a field the kernel left alone shows. */
#define SENTINEL	0x5a5a5a5a5a5a5a5aLL

static int do_move(int uffd, void *dst, void *src, size_t len, uint64_t mode,
		   int64_t *moved)
{
	*moved = SENTINEL;
	return uffd_range_ioctl(_UFFDIO_MOVE, uffd, dst, src, len, mode, moved);
}

/*
 * Shared memory, file-backed private memory and hugetlb cannot be moved:
 * the kernel refuses with EINVAL and neither page changes.
 */
static void check_refused(struct __test_metadata *_metadata,
			  FIXTURE_DATA(move) *self)
{
	int64_t moved = 0;

	ASSERT_EQ(0, fl_fill_page(self, self->uffd, 0, 0));
	EXPECT_EQ(-EINVAL, do_move(self->uffd, fl_page(self, 1),
				   fl_page(self, 0), self->page, 0, &moved));
	/* The refusal is written to the field: never a byte count. */
	EXPECT_EQ(-EINVAL, moved);
	EXPECT_EQ(1, vm_present(fl_page(self, 0)));
	EXPECT_EQ(-1, mem_check(fl_page(self, 0), self->page, SEED));
	EXPECT_EQ(0, vm_present(fl_page(self, 1)));
}

/* MOVE @len bytes from page 0 (the source) to page HALF (the destination). */
static int move_to_dst(FIXTURE_DATA(move) *self, size_t len, uint64_t mode,
		       int64_t *moved)
{
	return do_move(self->uffd, fl_page(self, HALF), fl_page(self, 0), len,
		       mode, moved);
}

/* MOVE of @len bytes to the destination is refused: @err, and .move = @err. */
static void expect_move_refused(struct __test_metadata *_metadata,
				FIXTURE_DATA(move) *self, size_t len, int err)
{
	int64_t moved = 0;

	EXPECT_EQ(err, move_to_dst(self, len, 0, &moved));
	EXPECT_EQ(err, moved);
}

#define ANON_ONLY() do {						\
	if (!moves_pages(variant->mem)) {				\
		check_refused(_metadata, self);				\
		return;							\
	}								\
	FL_ASSERT_OFFERED(self->ioctls, 1ULL << _UFFDIO_MOVE);		\
} while (0)

/*
 * A thread faults on a destination hole; MOVE of the whole source resolves
 * it: the bytes arrive, .move is the length, the thread is woken, and the
 * source becomes a hole that faults again (it is registered MISSING).
 */
TEST_F_TIMEOUT(move, pages, 5)
{
	size_t page = self->page, len = HALF * page, i;
	struct uffd_msg msg;
	struct toucher t;
	int64_t moved = 0;

	ANON_ONLY();
	for (i = 0; i < HALF; i++)
		ASSERT_EQ(0, fl_fill_page(self, self->uffd, i, 0));

	ASSERT_EQ(0, toucher_start(&t, fl_page(self, HALF + 1) + 9, TOUCH_READ,
				   0));
	ASSERT_EQ(0, uffd_wait_msg(self->uffd, &msg, 2000));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	EXPECT_EQ((uintptr_t)fl_page(self, HALF + 1),
		  msg.arg.pagefault.address);
	EXPECT_TRUE(toucher_blocked(&t));

	ASSERT_EQ(0, do_move(self->uffd, fl_page(self, HALF), fl_page(self, 0),
			     len, 0, &moved));
	EXPECT_EQ((int64_t)len, moved);
	FL_TOUCHER_DONE(&t);
	EXPECT_FALSE(t.got_sigbus);
	EXPECT_EQ((unsigned char)self->src[page + 9], t.value);
	/* The destination holds what the source held, page for page. */
	EXPECT_EQ(0, memcmp(fl_page(self, HALF), self->src, len));
	/* The source is empty now: nothing mapped there any more. */
	EXPECT_EQ(0, vm_present_count(fl_page(self, 0), len));

	/* Touching the old source is a fresh MISSING fault, not old data. */
	/* 0xff: a read that never happened (SIGBUS) cannot look like 0. */
	ASSERT_EQ(0, toucher_start(&t, fl_page(self, 2), TOUCH_READ, 0xff));
	ASSERT_EQ(0, uffd_wait_msg(self->uffd, &msg, 2000));
	EXPECT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	EXPECT_EQ((uintptr_t)fl_page(self, 2), msg.arg.pagefault.address);
	ASSERT_EQ(0, uffd_zeropage_all(self->uffd, fl_page(self, 2), page, 0,
				       NULL));
	FL_TOUCHER_DONE(&t);
	EXPECT_FALSE(t.got_sigbus);
	EXPECT_EQ(0, t.value);
}

/* MODE_DONTWAKE: the page arrives but the faulting thread sleeps on. */
TEST_F_TIMEOUT(move, dontwake, 5)
{
	size_t page = self->page;
	struct uffd_msg msg;
	struct toucher t;
	int64_t moved = 0;

	ANON_ONLY();
	ASSERT_EQ(0, fl_fill_page(self, self->uffd, 0, 0));
	ASSERT_EQ(0, toucher_start(&t, fl_page(self, HALF) + 1, TOUCH_READ, 0));
	ASSERT_EQ(0, uffd_wait_msg(self->uffd, &msg, 2000));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	ASSERT_EQ(0, do_move(self->uffd, fl_page(self, HALF), fl_page(self, 0),
			     page, UFFDIO_MOVE_MODE_DONTWAKE, &moved));
	EXPECT_EQ((int64_t)page, moved);
	EXPECT_EQ(0, memcmp(fl_page(self, HALF), self->src, page));
	EXPECT_TRUE(toucher_blocked(&t));
	ASSERT_EQ(0, uffd_wake_range(self->uffd, fl_page(self, HALF), page));
	FL_TOUCHER_DONE(&t);
	EXPECT_EQ((unsigned char)self->src[1], t.value);
}

/* The source need not be registered; once moved it reads as zeros. */
TEST_F_TIMEOUT(move, unregistered_source_reads_zero, 5)
{
	size_t len = HALF * self->page;
	int64_t moved = 0;

	ANON_ONLY();
	ASSERT_EQ(0, uffd_unregister_range(self->uffd, fl_page(self, 0), len));
	memcpy(fl_page(self, 0), self->src, len);
	ASSERT_EQ(0, do_move(self->uffd, fl_page(self, HALF), fl_page(self, 0),
			     len, 0, &moved));
	EXPECT_EQ((int64_t)len, moved);
	EXPECT_EQ(0, memcmp(fl_page(self, HALF), self->src, len));
	EXPECT_EQ(0, vm_present_count(fl_page(self, 0), len));
	EXPECT_EQ(-1, mem_check_zero(fl_page(self, 0), len));
}

/* ALLOW_SRC_HOLES: holes are skipped but counted in .move. */
TEST_F_TIMEOUT(move, allow_src_holes, 5)
{
	size_t page = self->page, len = HALF * page;
	int64_t moved = 0;

	ANON_ONLY();
	ASSERT_EQ(0, fl_fill_page(self, self->uffd, 0, 0));
	ASSERT_EQ(0, fl_fill_page(self, self->uffd, 2, 0));
	ASSERT_EQ(0, do_move(self->uffd, fl_page(self, HALF), fl_page(self, 0),
			     len, UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES, &moved));
	EXPECT_EQ((int64_t)len, moved);
	EXPECT_EQ(0, memcmp(fl_page(self, HALF), self->src, page));
	EXPECT_EQ(0, memcmp(fl_page(self, HALF + 2), self->src + 2 * page,
			    page));
	/* Holes stay holes at the destination, nothing is left at the source. */
	EXPECT_EQ(0, vm_present(fl_page(self, HALF + 1)));
	EXPECT_EQ(0, vm_present(fl_page(self, HALF + 3)));
	EXPECT_EQ(0, vm_present_count(fl_page(self, 0), len));
}

/* A source hole without ALLOW_SRC_HOLES: ENOENT, .move = -ENOENT. */
TEST_F_TIMEOUT(move, src_hole_enoent, 5)
{
	ANON_ONLY();
	expect_move_refused(_metadata, self, self->page, -ENOENT);
	EXPECT_EQ(0, vm_present(fl_page(self, HALF)));
}

/*
 * Page 0 present, page 1 a hole: the kernel moves one page, stops, and
 * reports it (.move = one page, EAGAIN) so the caller can resume.
 */
TEST_F_TIMEOUT(move, partial_stops_at_hole, 5)
{
	size_t page = self->page;
	int64_t moved = 0;

	ANON_ONLY();
	ASSERT_EQ(0, fl_fill_page(self, self->uffd, 0, 0));
	EXPECT_EQ(-EAGAIN, move_to_dst(self, 2 * page, 0, &moved));
	EXPECT_EQ((int64_t)page, moved);
	EXPECT_EQ(0, memcmp(fl_page(self, HALF), self->src, page));
	EXPECT_EQ(0, vm_present(fl_page(self, HALF + 1)));
	EXPECT_EQ(0, vm_present(fl_page(self, 0)));
}

/* A populated destination: EEXIST, .move = -EEXIST, both pages intact. */
TEST_F_TIMEOUT(move, dst_populated_eexist, 5)
{
	size_t page = self->page;

	ANON_ONLY();
	ASSERT_EQ(0, fl_fill_page(self, self->uffd, 0, 0));
	ASSERT_EQ(0, fl_fill_page(self, self->uffd, HALF, 0));
	expect_move_refused(_metadata, self, page, -EEXIST);
	EXPECT_EQ(0, memcmp(fl_page(self, 0), self->src, page));
	EXPECT_EQ(0, memcmp(fl_page(self, HALF), self->src + HALF * page,
			    page));
}

/* The destination must be registered on this uffd: EINVAL otherwise. */
TEST_F_TIMEOUT(move, dst_unregistered_einval, 5)
{
	ANON_ONLY();
	ASSERT_EQ(0, fl_fill_page(self, self->uffd, 0, 0));
	ASSERT_EQ(0, uffd_unregister_range(self->uffd, fl_page(self, HALF),
					   HALF * self->page));
	expect_move_refused(_metadata, self, self->page, -EINVAL);
	EXPECT_EQ(1, vm_present(fl_page(self, 0)));
	EXPECT_EQ(0, vm_present(fl_page(self, HALF)));
}

/* Unaligned length, unknown mode bit: EINVAL, nothing moves. */
TEST_F_TIMEOUT(move, bad_args_einval, 5)
{
	size_t page = self->page;
	int64_t moved = 0;

	ANON_ONLY();
	ASSERT_EQ(0, fl_fill_page(self, self->uffd, 0, 0));
	EXPECT_EQ(-EINVAL, move_to_dst(self, page / 2, 0, &moved));
	EXPECT_EQ(-EINVAL, move_to_dst(self, page, 1ULL << 40, &moved));
	EXPECT_EQ(0, memcmp(fl_page(self, 0), self->src, page));
	EXPECT_EQ(0, vm_present(fl_page(self, HALF)));
}

/*
 * Overlapping ranges (dst = src + one page, two pages, only src page 0
 * populated). Not documented either way: report what the kernel does. It
 * may refuse (EINVAL, nothing moved) or move page by page; either way the
 * one page must end up exactly once, intact, never duplicated or lost.
 */
TEST_F_TIMEOUT(move, overlap, 5)
{
	size_t page = self->page, i;
	int64_t moved = 0;
	long present;
	int ret;

	ANON_ONLY();
	ASSERT_EQ(0, fl_fill_page(self, self->uffd, 0, 0));
	ret = do_move(self->uffd, fl_page(self, 1), fl_page(self, 0), 2 * page,
		      0, &moved);
	present = vm_present_count(fl_page(self, 0), 3 * page);
	ksft_print_msg("finding: UFFDIO_MOVE with overlapping ranges: %s, .move %lld, populated pages %ld\n",
		       ret ? strerror(-ret) : "accepted", (long long)moved,
		       present);
	fflush(stdout);
	EXPECT_EQ(1, present);
	if (ret) {
		EXPECT_EQ(-EINVAL, ret);
		EXPECT_EQ(0, memcmp(fl_page(self, 0), self->src, page));
		return;
	}
	EXPECT_EQ((int64_t)(2 * page), moved);
	for (i = 0; i < 3; i++)
		if (vm_present(fl_page(self, i)) == 1)
			EXPECT_EQ(0, memcmp(fl_page(self, i), self->src, page));
}

/*
 * A page shared with a fork child (no longer exclusive to us) cannot be
 * moved: EBUSY. Once the child is gone and we write to the page, it is
 * exclusive again and moves.
 */
TEST_F_TIMEOUT(move, shared_page_ebusy, 5)
{
	size_t page = self->page;
	int64_t moved = 0;
	pid_t pid;

	ANON_ONLY();
	ASSERT_EQ(0, fl_fill_page(self, self->uffd, 0, 0));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	expect_move_refused(_metadata, self, page, -EBUSY);
	EXPECT_EQ(0, vm_present(fl_page(self, HALF)));
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));

	fl_page(self, 0)[0] = self->src[0];
	ASSERT_EQ(0, do_move(self->uffd, fl_page(self, HALF), fl_page(self, 0),
			     page, 0, &moved));
	EXPECT_EQ((int64_t)page, moved);
	EXPECT_EQ(0, memcmp(fl_page(self, HALF), self->src, page));
}

/* The page frame behind @addr (0 when pagemap hides it, or no page). */
static uint64_t pfn_of(const void *addr)
{
	uint64_t e = 0;

	if (pagemap_entry(addr, &e) || !(e & PM_PRESENT))
		return 0;
	return e & ((1ULL << 55) - 1);
}

/*
 * MOVE is zero-copy: the destination maps the very page frame the source
 * had (pagemap shows frame numbers to CAP_SYS_ADMIN), nothing is copied.
 */
TEST_F_TIMEOUT(move, zero_copy, 5)
{
	size_t page = self->page;
	uint64_t before, after;
	int64_t moved = 0;

	ANON_ONLY();
	ASSERT_EQ(0, fl_fill_page(self, self->uffd, 0, 0));
	before = pfn_of(fl_page(self, 0));
	if (!before)
		FL_SKIP("pagemap shows no page frame numbers to this process (they need CAP_SYS_ADMIN)");
	ASSERT_EQ(0, move_to_dst(self, page, 0, &moved));
	EXPECT_EQ((int64_t)page, moved);
	after = pfn_of(fl_page(self, HALF));
	EXPECT_EQ(before, after) {
		TH_LOG("page frame 0x%llx at the source, 0x%llx at the destination: copied, not moved",
		       (unsigned long long)before, (unsigned long long)after);
	}
	EXPECT_EQ(0, memcmp(fl_page(self, HALF), self->src, page));
	EXPECT_EQ(0, vm_present(fl_page(self, 0)));
}

/*
 * A page pinned long-term (DMA, io_uring fixed buffers) cannot move:
 * EBUSY, .move = -EBUSY, both sides as they were. Once the pin is gone
 * (the ring's teardown drops it a little later) the page moves.
 */
TEST_F_TIMEOUT(move, pinned_ebusy, 5)
{
	size_t page = self->page;
	int64_t moved = 0;
	char why[256];
	int pin, ret, tries;
	useconds_t pause_us = 100;
	uint64_t end;

	ANON_ONLY();
	ASSERT_EQ(0, fl_fill_page(self, self->uffd, 0, 0));
	pin = pin_range(fl_page(self, 0), page, why, sizeof(why));
	if (pin < 0)
		FL_SKIP("%s", why);
	expect_move_refused(_metadata, self, page, -EBUSY);
	EXPECT_EQ(0, vm_present(fl_page(self, HALF)));
	EXPECT_EQ(0, memcmp(fl_page(self, 0), self->src, page));
	unpin_range(pin);

	/* Within 2 s: look again soon, then less and less often. */
	for (tries = 0, end = now_ms() + 2000; ; tries++) {
		ret = move_to_dst(self, page, 0, &moved);
		if (ret != -EBUSY || now_ms() >= end)
			break;
		usleep(pause_us);
		if (pause_us < 10000)
			pause_us *= 2;
	}
	ASSERT_EQ(0, ret) {
		TH_LOG("MOVE after the pin was dropped: %s (%d tries)",
		       strerror(-ret), tries);
	}
	EXPECT_EQ((int64_t)page, moved);
	EXPECT_EQ(0, memcmp(fl_page(self, HALF), self->src, page));
}

static long bg_fork_pause(void *arg)
{
	pid_t pid = fork();

	(void)arg;
	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid < 0 ? -errno : pid;
}

/*
 * MOVE works within one mm only: through the uffd of a fork child (its
 * registration came along with EVENT_FORK) the parent gets EINVAL.
 */
TEST_F_TIMEOUT(move, cross_mm_einval, 5)
{
	uint64_t f = UFFD_FEATURE_MOVE | UFFD_FEATURE_EVENT_FORK;
	struct bg_call bg;
	struct uffd_msg msg;
	int64_t moved = 0;
	int fd, child_fd = -1, ret = 0;
	pid_t pid;

	ANON_ONLY();
	fd = FL_UFFD_OPEN(f);
	ASSERT_EQ(0, uffd_unregister_range(self->uffd, self->mem.addr,
					   self->mem.len));
	ASSERT_EQ(0, uffd_register_range(fd, self->mem.addr, self->mem.len,
					 UFFDIO_REGISTER_MODE_MISSING, NULL));
	ASSERT_EQ(0, uffd_copy_all(fd, fl_page(self, 0), self->src, self->page,
				   0, NULL));
	/* fork() is held until the event is read: no stdio/malloc here. */
	ASSERT_EQ(0, bg_start(&bg, bg_fork_pause, NULL));
	if (uffd_wait_msg(fd, &msg, 2000) == 0 && msg.event == UFFD_EVENT_FORK)
		child_fd = (int)msg.arg.fork.ufd;
	FL_THREAD_DONE(&bg.th);
	pid = (pid_t)bg.ret;
	ASSERT_GT(pid, 0);
	if (child_fd >= 0)
		ret = do_move(child_fd, fl_page(self, HALF), fl_page(self, 0),
			      self->page, 0, &moved);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ASSERT_GE(child_fd, 0);
	EXPECT_EQ(-EINVAL, ret);
	/* Refused before any work: the kernel leaves .move alone. */
	EXPECT_EQ(SENTINEL, moved);
	/* Our page did not go anywhere. */
	EXPECT_EQ(0, memcmp(fl_page(self, 0), self->src, self->page));
	close(child_fd);
	close(fd);
}

/*
 * Two THP-sized, THP-aligned anon ranges: the source populated (and backed
 * by a transparent huge page), the destination registered and empty.
 */
static char *thp_pair(struct __test_metadata *_metadata,
		      FIXTURE_DATA(move) *self, size_t thp)
{
	const char *why = vm_thp_unavailable();
	uintptr_t base;
	char *r;
	long kb;

	if (why)
		FL_SKIP("%s", why);
	self->resv_len = 3 * thp;
	self->resv = mmap(NULL, self->resv_len, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (self->resv == MAP_FAILED) {
		self->resv = NULL;
		FL_SKIP("mmap of %zu bytes: %s", self->resv_len,
			strerror(errno));
	}
	base = ((uintptr_t)self->resv + thp - 1) & ~(uintptr_t)(thp - 1);
	r = (char *)base;
	if (madvise(r, 2 * thp, MADV_HUGEPAGE))
		FL_SKIP("madvise(MADV_HUGEPAGE): %s", strerror(errno));
	mem_fill(r, thp, SEED);
	kb = vm_smaps_kb(r, "AnonHugePages");
	if (kb < (long)(thp / 1024))
		FL_SKIP("kernel did not back the source with a THP (AnonHugePages %ld kB)",
			kb);
	/*
	 * Keep khugepaged away from both halves: it could collapse a
	 * partly moved range (filling its holes) while we look at it. This
	 * neither splits the THP we have nor matters to MOVE.
	 */
	if (madvise(r, 2 * thp, MADV_NOHUGEPAGE))
		return NULL;
	/* Registering the destination splits off its own VMA. */
	if (uffd_register_range(self->uffd, r + thp, thp,
				UFFDIO_REGISTER_MODE_MISSING, NULL))
		return NULL;
	return r;
}

/*
 * Consecutive answers without progress move_all() puts up with: splitting
 * the source THP may fail for a moment (EAGAIN, or EBUSY while another
 * reference to the folio is dropped); a kernel that keeps saying so is
 * not making progress, and that is a failure.
 */
#define MOVE_STALLS	5

/*
 * Move in steps: a partial answer (EAGAIN with .move bytes) resumes where
 * it stopped, a success must report exactly the rest, and at most
 * MOVE_STALLS answers in a row may make no progress. 0 or the last -errno
 * (-EPROTO for a success whose .move is not the rest).
 */
static int move_all(int uffd, char *dst, char *src, size_t len,
		    size_t *done)
{
	int stalls = 0, ret = 0;

	*done = 0;
	while (*done < len) {
		size_t rest = len - *done;
		int64_t moved;

		ret = do_move(uffd, dst + *done, src + *done, rest, 0, &moved);
		if (!ret && moved != (int64_t)rest)
			return -EPROTO;
		if (!ret || (ret == -EAGAIN && moved > 0 &&
			     moved < (int64_t)rest)) {
			*done += !ret ? rest : (size_t)moved;
			stalls = 0;
			continue;
		}
		if ((ret != -EAGAIN && ret != -EBUSY) || ++stalls > MOVE_STALLS)
			break;
		ksft_print_msg("MOVE at offset %zu: %s without progress (.move %lld), retrying\n",
			       *done, strerror(-ret), (long long)moved);
		usleep(1000);
	}
	return *done == len ? 0 : ret;
}

/*
 * A whole, aligned THP: the PMD itself moves. Bytes arrive, the source is
 * empty, and the destination is still mapped by a huge page.
 */
TEST_F_TIMEOUT(move, pmd, 5)
{
	size_t thp = vm_thp_size();
	char *r;
	int64_t moved = 0;

	ANON_ONLY();
	r = thp_pair(_metadata, self, thp);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, do_move(self->uffd, r + thp, r, thp, 0, &moved));
	EXPECT_EQ((int64_t)thp, moved);
	EXPECT_EQ(-1, mem_check(r + thp, thp, SEED));
	EXPECT_EQ(0, vm_present_count(r, thp));
	/* Moved as one PMD, not split into small pages on the way. */
	EXPECT_EQ((long)(thp / 1024), vm_smaps_kb(r + thp, "AnonHugePages"));
}

/*
 * Moves that do not cover a whole aligned PMD force the kernel to split the
 * source THP first; every byte must still land where it belongs and the
 * pages outside the range must stay put.
 */
static void pmd_split_case(struct __test_metadata *_metadata,
			   FIXTURE_DATA(move) *self, size_t src_off,
			   size_t dst_off, size_t len)
{
	size_t thp = vm_thp_size(), done = 0;
	char *expect, *r;

	r = thp_pair(_metadata, self, thp);
	ASSERT_NE(NULL, r);
	expect = malloc(thp);
	ASSERT_NE(NULL, expect);
	memcpy(expect, r, thp);

	ASSERT_EQ(0, move_all(self->uffd, r + thp + dst_off, r + src_off, len,
			      &done));
	EXPECT_EQ(len, done);
	EXPECT_EQ(0, memcmp(r + thp + dst_off, expect + src_off, len));
	EXPECT_EQ(0, vm_present_count(r + src_off, len));
	/* What was outside the range is still at the source... */
	EXPECT_EQ(0, memcmp(r, expect, src_off));
	EXPECT_EQ(0, memcmp(r + src_off + len, expect + src_off + len,
			    thp - src_off - len));
	/* ...and nothing appeared at the destination outside it. */
	if (dst_off)
		EXPECT_EQ(0, vm_present_count(r + thp, dst_off));
	EXPECT_EQ(0, vm_present_count(r + thp + dst_off + len,
				      thp - dst_off - len));
	/* The source huge page could not stay PMD-mapped. */
	EXPECT_EQ(0, vm_smaps_kb(r, "AnonHugePages"));
	free(expect);
}

/* Aligned start, half a PMD: the tail of the THP stays at the source. */
TEST_F_TIMEOUT(move, pmd_split_partial, 5)
{
	ANON_ONLY();
	pmd_split_case(_metadata, self, 0, 0, vm_thp_size() / 2);
}

/* Source and destination one page off the PMD boundary. */
TEST_F_TIMEOUT(move, pmd_split_unaligned, 5)
{
	size_t page = self->page;

	ANON_ONLY();
	pmd_split_case(_metadata, self, page, 2 * page,
		       vm_thp_size() - 3 * page);
}

FL_TEST_MAIN(16)
