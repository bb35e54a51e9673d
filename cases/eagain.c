// SPDX-License-Identifier: GPL-2.0
/*
 * mmap_changing: while a non-cooperative event (REMOVE, REMAP, UNMAP, FORK)
 * is unread,
 * the resolving ioctls (COPY, ZEROPAGE, CONTINUE, POISON, MOVE) fail with
 * EAGAIN and do nothing; once the event is read the same call succeeds.
 *
 * The output field in that case is -EAGAIN only since 6.15 (and stable
 * backports); older kernels do not write it, so a caller that zeroed it
 * reads 0. Both are accepted and the one seen is printed as a finding; a
 * byte count (work claimed but not done) fails.
 */
#include <sys/mman.h>
#include <sys/wait.h>

#include "ksft_case.h"
#include "bgcall.h"
#include "vmstate.h"
#include "pagemap.h"

#define NPAGES	4	/* page 0: event, pages 1-2: the op, page 3: MOVE src */
#define SEED	41

FIXTURE(eagain) {
	FL_CASE_HOLDS;
	struct bg_mm_args bg_args;
};

FL_MEM_VARIANTS(eagain, MEM_ALL);

/* Every point compares with the same reference bytes: built once. */
FL_SHARED_PATTERN(NPAGES, 0, SEED)

FIXTURE_SETUP(eagain)
{
	FL_CASE_SETUP(NPAGES);
	self->src = FL_PATTERN(self->mem.len, SEED);
	sigbus_catch();
}

FIXTURE_TEARDOWN(eagain)
{
	FL_CASE_TEARDOWN();
}

/*
 * bg_held_by_event() for the call that raises the event; a call the kernel
 * refused with EINVAL (mremap or MADV_DONTNEED of hugetlb on kernels
 * without that support) skips, naming @op: no event can come.
 */
static int held_or_skip(struct __test_metadata *_metadata,
			FIXTURE_DATA(eagain) *self, const char *op)
{
	int held = bg_held_by_event(&self->bg, self->uffd, 2000);

	if (held == -ENOMSG) {
		fl_thread_join(&self->bg.th);
		/* Only hugetlb had kernels without these calls. */
		if (self->bg.ret == -EINVAL && mem_is_hugetlb(self->mem.type))
			FL_SKIP("%s of a %s mapping: EINVAL", op,
				mem_type_name(self->mem.type));
	}
	return held;
}

/* madvise(DONTNEED) of page 0 on a helper thread, held by its event. */
static void hold_remove(struct __test_metadata *_metadata,
			FIXTURE_DATA(eagain) *self)
{
	self->bg_args = (struct bg_mm_args){ .addr = fl_page(self, 0),
					     .len = self->page,
					     .advice = MADV_DONTNEED };
	ASSERT_EQ(0, bg_start(&self->bg, bg_madvise, &self->bg_args));
	ASSERT_EQ(1, held_or_skip(_metadata, self, "MADV_DONTNEED"));
}

/* Read the held event and let its caller finish. */
static void release(struct __test_metadata *_metadata,
		    FIXTURE_DATA(eagain) *self, __u8 event)
{
	struct uffd_msg msg;

	ASSERT_EQ(0, uffd_wait_msg(self->uffd, &msg, 2000));
	ASSERT_EQ(event, msg.event);
	/* mmap_changing drops when the caller resumes, not at the read. */
	FL_THREAD_DONE(&self->bg.th);
	ASSERT_EQ(0, self->bg.ret);
}

/*
 * Written into an output field before the call, so a field the kernel left
 * alone (pre-6.15) is told apart from one it set to 0 (never valid).
 */
#define SENTINEL	0x5a5a5a5a5a5a5a5aLL

/*
 * The output field of a refused call: -EAGAIN (6.15+) or untouched (still
 * SENTINEL). Report which; anything else (0, a byte count) is wrong.
 */
static void check_field(struct __test_metadata *_metadata, unsigned int ioctl,
			__u8 event_code, enum mem_type type, int64_t field)
{
	const char *op = uffd_ioctl_name(ioctl);
	const char *event = event_code == UFFD_EVENT_REMOVE ? "REMOVE" :
			    event_code == UFFD_EVENT_REMAP ? "REMAP" :
			    event_code == UFFD_EVENT_UNMAP ? "UNMAP" : "FORK";

	ksft_print_msg("finding: UFFDIO_%s on %s while a %s event is unread: EAGAIN, output field %lld (%s)\n",
		       op, mem_type_name(type), event, (long long)field,
		       field == -EAGAIN ? "-EAGAIN: 6.15+ behaviour" :
		       field == SENTINEL ? "not written: pre-6.15 behaviour" :
		       "neither documented value");
	fflush(stdout);
	EXPECT_TRUE(field == -EAGAIN || field == SENTINEL) {
		TH_LOG("UFFDIO_%s output field %lld", op, (long long)field);
	}
}

/*
 * While @event is unread, @ioctl over [@dst, @dst+@len) is refused with
 * EAGAIN (its output field checked) and maps nothing there; once the event
 * is read, the same call does the whole range.
 */
static void refused_until_read(struct __test_metadata *_metadata,
			       FIXTURE_DATA(eagain) *self,
			       const FIXTURE_VARIANT(eagain) *variant,
			       __u8 event, unsigned int ioctl, char *dst,
			       const char *src, size_t len)
{
	int64_t out = SENTINEL;

	EXPECT_EQ(-EAGAIN, uffd_range_ioctl(ioctl, self->uffd, dst, src, len,
					    0, &out));
	check_field(_metadata, ioctl, event, variant->mem, out);
	EXPECT_EQ(0, vm_present_count(dst, len));
	/* A refused MOVE left its source (filled from self->src) alone. */
	if (ioctl == _UFFDIO_MOVE)
		EXPECT_EQ(0, memcmp(src, self->src, len));
	release(_metadata, self, event);

	out = SENTINEL;
	ASSERT_EQ(0, uffd_range_ioctl(ioctl, self->uffd, dst, src, len, 0,
				      &out));
	EXPECT_EQ((int64_t)len, out);
}

TEST_F_TIMEOUT(eagain, copy, 5)
{
	size_t len = 2 * self->page;

	FL_CASE_REGISTER(UFFD_FEATURE_EVENT_REMOVE,
			 UFFDIO_REGISTER_MODE_MISSING);
	hold_remove(_metadata, self);
	refused_until_read(_metadata, self, variant, UFFD_EVENT_REMOVE,
			   _UFFDIO_COPY, fl_page(self, 1), self->src, len);
	EXPECT_EQ(0, memcmp(fl_page(self, 1), self->src, len));
}

TEST_F_TIMEOUT(eagain, zeropage, 5)
{
	size_t len = 2 * self->page;
	struct uffdio_zeropage z = {
		.range = { (uintptr_t)fl_page(self, 1), len },
	};

	FL_CASE_REGISTER(UFFD_FEATURE_EVENT_REMOVE,
			 UFFDIO_REGISTER_MODE_MISSING);
	if (mem_is_hugetlb(variant->mem)) {
		/* No zero page for hugetlb: the documented refusal. */
		EXPECT_EQ(-EINVAL, uffd_zeropage(self->uffd, &z));
		EXPECT_EQ(-EINVAL, z.zeropage);
		EXPECT_EQ(0, vm_present_count(fl_page(self, 1), len));
		return;
	}
	hold_remove(_metadata, self);
	refused_until_read(_metadata, self, variant, UFFD_EVENT_REMOVE,
			   _UFFDIO_ZEROPAGE, fl_page(self, 1), NULL, len);
	EXPECT_EQ(-1, mem_check_zero(fl_page(self, 1), len));
}

/* The kernel reports a MINOR feature (and so knows UFFDIO_CONTINUE). */
static bool kernel_has_minor(void)
{
	uint64_t have = 0;

	return !fl_kernel_features(&have, NULL) &&
	       (have & (UFFD_FEATURE_MINOR_SHMEM |
			UFFD_FEATURE_MINOR_HUGETLBFS));
}

TEST_F_TIMEOUT(eagain, continue, 5)
{
	size_t len = 2 * self->page;
	struct uffdio_continue c = {
		.range = { (uintptr_t)fl_page(self, 1), len },
	};
	uint64_t minor = fl_minor_feature(variant->mem);

	if (!mem_mode_applies(variant->mem, UFFDIO_REGISTER_MODE_MINOR)) {
		/* Anon has no page cache: MINOR and CONTINUE are refused. */
		FL_CASE_REGISTER(UFFD_FEATURE_EVENT_REMOVE,
				 UFFDIO_REGISTER_MODE_MISSING);
		EXPECT_EQ(-EINVAL, uffd_register_range(self->uffd,
				fl_page(self, 1), len,
				UFFDIO_REGISTER_MODE_MINOR, NULL));
		EXPECT_EQ(-EINVAL, uffd_continue(self->uffd, &c));
		/* Only a kernel that knows CONTINUE writes the field. */
		if (kernel_has_minor())
			EXPECT_EQ(-EINVAL, c.mapped);
		EXPECT_EQ(0, vm_present_count(fl_page(self, 1), len));
		return;
	}
	FL_CASE_REGISTER(UFFD_FEATURE_EVENT_REMOVE | minor,
			 UFFDIO_REGISTER_MODE_MINOR);
	FL_ASSERT_OFFERED(self->ioctls, 1ULL << _UFFDIO_CONTINUE);
	/* The page cache has the data; our mapping does not map it yet. */
	memcpy(self->mem.alias + self->page, self->src, len);
	hold_remove(_metadata, self);
	refused_until_read(_metadata, self, variant, UFFD_EVENT_REMOVE,
			   _UFFDIO_CONTINUE, fl_page(self, 1), NULL, len);
	EXPECT_EQ(0, memcmp(fl_page(self, 1), self->src, len));
}

TEST_F_TIMEOUT(eagain, poison, 5)
{
	size_t len = 2 * self->page;

	FL_CASE_REGISTER(UFFD_FEATURE_POISON | UFFD_FEATURE_EVENT_REMOVE,
			 UFFDIO_REGISTER_MODE_MISSING);
	FL_ASSERT_OFFERED(self->ioctls, 1ULL << _UFFDIO_POISON);
	/* Had the refused call poisoned anything, the next would be EEXIST. */
	hold_remove(_metadata, self);
	refused_until_read(_metadata, self, variant, UFFD_EVENT_REMOVE,
			   _UFFDIO_POISON, fl_page(self, 1), NULL, len);
	fl_expect_sigbus(_metadata, fl_page(self, 2), TOUCH_READ,
			 sigbus_poison_code(), self->page);
}

TEST_F_TIMEOUT(eagain, move, 5)
{
	size_t page = self->page;
	struct uffdio_move m = { .dst = (uintptr_t)fl_page(self, 1),
				 .src = (uintptr_t)fl_page(self, 3),
				 .len = page, .move = SENTINEL };

	FL_CASE_REGISTER(UFFD_FEATURE_MOVE | UFFD_FEATURE_EVENT_REMOVE,
			 UFFDIO_REGISTER_MODE_MISSING);
	ASSERT_EQ(0, uffd_copy_all(self->uffd, fl_page(self, 3), self->src,
				   page, 0, NULL));
	if (mem_is_file(variant->mem)) {
		/* MOVE is for anonymous private memory only. */
		EXPECT_EQ(-EINVAL, uffd_move(self->uffd, &m));
		EXPECT_EQ(-EINVAL, m.move);
		EXPECT_EQ(0, vm_present(fl_page(self, 1)));
		EXPECT_EQ(0, memcmp(fl_page(self, 3), self->src, page));
		return;
	}
	FL_ASSERT_OFFERED(self->ioctls, 1ULL << _UFFDIO_MOVE);
	hold_remove(_metadata, self);
	refused_until_read(_metadata, self, variant, UFFD_EVENT_REMOVE,
			   _UFFDIO_MOVE, fl_page(self, 1), fl_page(self, 3),
			   page);
	EXPECT_EQ(0, memcmp(fl_page(self, 1), self->src, page));
	EXPECT_EQ(0, vm_present(fl_page(self, 3)));
}

/*
 * A write of @v to byte @off of page @p traps as a WP fault; unprotecting
 * the page lets it land.
 */
static void expect_write_traps(struct __test_metadata *_metadata,
			       FIXTURE_DATA(eagain) *self, char *p, size_t off,
			       unsigned char v)
{
	ASSERT_EQ(0, toucher_start(&self->t, p + off, TOUCH_WRITE, v));
	fl_expect_fault(_metadata, self->uffd, p, FL_WP_WRITE_FAULT);
	EXPECT_TRUE(toucher_blocked(&self->t));
	ASSERT_EQ(0, uffd_wp_range(self->uffd, p, self->page, false));
	FL_TOUCHER_DONE(&self->t);
	EXPECT_EQ(v, (unsigned char)p[off]);
}

/*
 * WRITEPROTECT while a REMOVE event is unread: EAGAIN, and nothing gets
 * protected (a write still passes); once the event is read the same call
 * protects the whole range (a write to its last page traps).
 */
TEST_F_TIMEOUT(eagain, writeprotect, 5)
{
	size_t page = self->page;
	char *p1 = fl_page(self, 1), *p2 = fl_page(self, 2);
	bool bit;

	FL_CASE_REGISTER(UFFD_FEATURE_EVENT_REMOVE |
			 fl_wp_features(variant->mem),
			 UFFDIO_REGISTER_MODE_MISSING |
			 UFFDIO_REGISTER_MODE_WP);
	FL_ASSERT_OFFERED(self->ioctls, 1ULL << _UFFDIO_WRITEPROTECT);
	ASSERT_EQ(0, uffd_copy_all(self->uffd, p1, self->src + page, 2 * page,
				   0, NULL));
	bit = fl_wp_bit_checkable();
	hold_remove(_metadata, self);
	EXPECT_EQ(-EAGAIN, uffd_wp_range(self->uffd, p1, 2 * page, true));
	if (bit) {
		EXPECT_EQ(0, pagemap_uffd_wp(p1));
		EXPECT_EQ(0, pagemap_uffd_wp(p2));
	}
	release(_metadata, self, UFFD_EVENT_REMOVE);

	/* The refused call protected nothing: the write just happens. */
	ASSERT_EQ(0, toucher_start(&self->t, p2 + 1, TOUCH_WRITE, 0x42));
	FL_TOUCHER_DONE(&self->t);
	EXPECT_EQ(0x42, (unsigned char)p2[1]);
	EXPECT_TRUE(fl_queue_empty(self->uffd));

	ASSERT_EQ(0, uffd_wp_range(self->uffd, p1, 2 * page, true));
	if (bit) {
		EXPECT_EQ(1, pagemap_uffd_wp(p1));
		EXPECT_EQ(1, pagemap_uffd_wp(p2));
	}
	expect_write_traps(_metadata, self, p2, 3, 0x24);
	EXPECT_EQ(0, memcmp(p1, self->src + page, page));
}

/*
 * Not just REMOVE: while a REMAP is unread, COPY into the area at its new
 * address is refused too, and works once the event is read.
 */
TEST_F_TIMEOUT(eagain, copy_during_remap, 5)
{
	size_t len = self->mem.len, page = self->page;
	char *to;

	FL_CASE_REGISTER(UFFD_FEATURE_EVENT_REMAP,
			 UFFDIO_REGISTER_MODE_MISSING);
	to = FL_MREMAP_TARGET();
	self->bg_args = (struct bg_mm_args){ .addr = self->mem.addr,
					     .len = len, .new_addr = to };
	ASSERT_EQ(0, bg_start(&self->bg, bg_mremap_fixed, &self->bg_args));
	ASSERT_EQ(1, held_or_skip(_metadata, self, "mremap"));
	self->mem.addr = to;
	refused_until_read(_metadata, self, variant, UFFD_EVENT_REMAP,
			   _UFFDIO_COPY, fl_page(self, 1), self->src, page);
	EXPECT_EQ(0, memcmp(fl_page(self, 1), self->src, page));
}

/* While an UNMAP of another part of the area is unread: the same. */
TEST_F_TIMEOUT(eagain, copy_during_unmap, 5)
{
	size_t page = self->page;

	FL_CASE_REGISTER(UFFD_FEATURE_EVENT_UNMAP,
			 UFFDIO_REGISTER_MODE_MISSING);
	self->bg_args = (struct bg_mm_args){ .addr = fl_page(self, 3),
					     .len = page };
	ASSERT_EQ(0, bg_start(&self->bg, bg_munmap, &self->bg_args));
	ASSERT_EQ(1, bg_held_by_event(&self->bg, self->uffd, 2000));
	refused_until_read(_metadata, self, variant, UFFD_EVENT_UNMAP,
			   _UFFDIO_COPY, fl_page(self, 1), self->src, page);
	EXPECT_EQ(0, memcmp(fl_page(self, 1), self->src, page));
}

static long bg_fork_exit(void *arg)
{
	pid_t pid = fork();

	(void)arg;
	if (pid == 0)
		_exit(0);
	return pid < 0 ? -errno : pid;
}

/* While a FORK is unread, the parent's uffd refuses COPY too. */
TEST_F_TIMEOUT(eagain, copy_during_fork, 5)
{
	uint64_t f = UFFD_FEATURE_EVENT_FORK;
	size_t page = self->page;
	struct uffdio_copy c = { .dst = (uintptr_t)fl_page(self, 1),
				 .src = (uintptr_t)self->src, .len = page,
				 .copy = SENTINEL };
	struct uffd_msg msg;
	int status = -1, held, ret, present;

	FL_CASE_REGISTER(f, UFFDIO_REGISTER_MODE_MISSING);
	/*
	 * glibc's fork() holds the malloc and stdio locks while the kernel
	 * holds it for the FORK event: until the event is read, this thread
	 * may only make syscalls (no printing, no asserts that print).
	 */
	ASSERT_EQ(0, bg_start(&self->bg, bg_fork_exit, NULL));
	held = bg_held_by_event(&self->bg, self->uffd, 2000);
	ret = uffd_copy(self->uffd, &c);
	present = vm_present(fl_page(self, 1));
	if (uffd_wait_msg(self->uffd, &msg, 2000) == 0 &&
	    msg.event == UFFD_EVENT_FORK)
		close((int)msg.arg.fork.ufd);
	else
		msg.event = 0;

	ASSERT_EQ(1, held);
	EXPECT_EQ(-EAGAIN, ret);
	check_field(_metadata, _UFFDIO_COPY, UFFD_EVENT_FORK, variant->mem,
		    c.copy);
	EXPECT_EQ(0, present);
	ASSERT_EQ(UFFD_EVENT_FORK, msg.event);
	FL_THREAD_DONE(&self->bg.th);
	ASSERT_GT(self->bg.ret, 0);
	EXPECT_EQ(self->bg.ret, waitpid((pid_t)self->bg.ret, &status, 0));
	EXPECT_EQ(0, status);

	c.copy = SENTINEL;
	ASSERT_EQ(0, uffd_copy(self->uffd, &c));
	EXPECT_EQ((int64_t)page, c.copy);
	EXPECT_EQ(0, memcmp(fl_page(self, 1), self->src, page));
}

FL_TEST_MAIN(16)
