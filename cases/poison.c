// SPDX-License-Identifier: GPL-2.0
/*
 * UFFDIO_POISON: mark pages of a registered range poisoned, so an access
 * raises SIGBUS instead of a fault message, on every memory type. The
 * poison lives in this mapping's page table: neighbours and other views
 * of the same file are untouched.
 *
 * Reference points covered: uffd-unit-tests poison (sigbus_neighbours,
 * wakes_with_sigbus); LTP userfaultfd06 (wakes_with_sigbus).
 */
#include <sys/mman.h>
#include <sys/wait.h>

#include "ksft_case.h"
#include "pagemap.h"
#include "vmstate.h"

#define NPAGES	4
#define SEED	31
#define WVAL	0x5a

/* The source bytes for COPY. */
FL_REFERENCE_PATTERN(ref, NPAGES, 0, SEED)

FIXTURE(poison) {
	FL_CASE_HOLDS;
};

FL_MEM_VARIANTS(poison, MEM_ALL);

FIXTURE_SETUP(poison)
{
	ASSERT_NE(NULL, ref);
	FL_CASE_SETUP(NPAGES);
	sigbus_catch();
}

FIXTURE_TEARDOWN(poison)
{
	FL_CASE_TEARDOWN();
}

/*
 * Open a uffd with POISON and this type's MISSING feature and register the
 * area MISSING. Skips when the kernel does not report POISON.
 */
static void poison_open(struct __test_metadata *_metadata,
			FIXTURE_DATA(poison) *self,
			const FIXTURE_VARIANT(poison) *variant)
{
	uint64_t ioctls = 0;

	self->uffd = FL_UFFD_OPEN(UFFD_FEATURE_POISON |
				  fl_missing_feature(variant->mem));
	ASSERT_EQ(0, uffd_register_range(self->uffd, self->mem.addr,
					 self->mem.len,
					 UFFDIO_REGISTER_MODE_MISSING,
					 &ioctls));
	ASSERT_TRUE(ioctls & (1ULL << _UFFDIO_POISON)) {
		TH_LOG("REGISTER ioctls 0x%llx lack %s",
		       (unsigned long long)ioctls,
		       uffd_ioctl_name(_UFFDIO_POISON));
	}
}

static int do_poison(int fd, void *addr, size_t len, uint64_t mode,
		     int64_t *updated)
{
	*updated = 0;
	return uffd_range_ioctl(_UFFDIO_POISON, fd, addr, NULL, len, mode,
				updated);
}

/*
 * POISON [@addr, @addr+@len) in @mode: the ioctl returns @want and the
 * output field says @updated. A POISON that must work ends the test if
 * it does not.
 */
static void expect_poison(struct __test_metadata *_metadata, int uffd,
			  void *addr, size_t len, uint64_t mode, int want,
			  int64_t updated)
{
	int64_t out = 0;
	int ret = do_poison(uffd, addr, len, mode, &out);

	if (!want)
		ASSERT_EQ(0, ret);
	EXPECT_EQ(want, ret);
	EXPECT_EQ(updated, out);
}

/* Fill page @n with the source bytes through COPY. */
static void copy_page(struct __test_metadata *_metadata,
		      FIXTURE_DATA(poison) *self, size_t n)
{
	size_t page = self->mem.page;
	struct uffdio_copy c = {
		.dst = (uintptr_t)fl_page(self, n),
		.src = (uintptr_t)ref + n * page,
		.len = page,
	};

	ASSERT_EQ(0, uffd_copy(self->uffd, &c));
	ASSERT_EQ((int64_t)page, c.copy);
}

/* Page @n reads and writes without SIGBUS and holds the source bytes. */
static void expect_page_ok(struct __test_metadata *_metadata,
			   FIXTURE_DATA(poison) *self, size_t n)
{
	size_t page = self->mem.page;
	char *p = fl_page(self, n);
	unsigned char v = 0;

	ASSERT_EQ(0, sigbus_probe(p, TOUCH_READ, &v)) {
		TH_LOG("SIGBUS reading page %zu, a neighbour of the poison", n);
	}
	EXPECT_EQ(0, memcmp(p, ref + n * page, page));
	v = (unsigned char)p[page - 1];
	EXPECT_EQ(0, sigbus_probe(p + page - 1, TOUCH_WRITE, &v));
}

/*
 * The siginfo a poisoned page's SIGBUS carries: the byte accessed, and
 * si_code BUS_MCEERR_AR (naming the page) where the kernel handles memory
 * failures, which it reports like a hardware error; where it does not say,
 * BUS_ADRERR is accepted too. The code seen is a finding, once.
 */
static void expect_poison_siginfo(struct __test_metadata *_metadata,
				  const struct sigbus_info *si,
				  const void *addr, size_t page)
{
	static bool told;

	if (!told) {
		ksft_print_msg("finding: a poisoned page raises SIGBUS with si_code %s\n",
			       si->code == BUS_MCEERR_AR ? "BUS_MCEERR_AR" :
			       si->code == BUS_ADRERR ? "BUS_ADRERR" : "(other)");
		fflush(stdout);
		told = true;
	}
	fl_expect_siginfo(_metadata, si, addr, sigbus_poison_code(), page);
}

/* Page @n raises SIGBUS on read and on write, at the byte accessed. */
static void expect_page_poisoned(struct __test_metadata *_metadata,
				 FIXTURE_DATA(poison) *self, size_t n)
{
	char *p = fl_page(self, n);
	size_t offs[2] = { 1, self->mem.page - 1 };
	struct sigbus_info si;
	int i;

	for (i = 0; i < 2; i++) {
		unsigned char v = WVAL;

		EXPECT_EQ(1, sigbus_probe(p + offs[i], i ? TOUCH_WRITE :
					  TOUCH_READ, &v)) {
			TH_LOG("page %zu is not poisoned", n);
			return;
		}
		sigbus_last(&si);
		expect_poison_siginfo(_metadata, &si, p + offs[i],
				      self->mem.page);
	}
}

/* REGISTER offers POISON exactly when the kernel reports the feature. */
TEST_F(poison, register_mask)
{
	uint64_t have = 0, ioctls = 0;
	uint64_t bit = 1ULL << _UFFDIO_POISON;

	self->uffd = FL_UFFD_OPEN(fl_missing_feature(variant->mem));
	fl_kernel_features(&have, NULL);
	ASSERT_EQ(0, uffd_register_range(self->uffd, self->mem.addr,
					 self->mem.len,
					 UFFDIO_REGISTER_MODE_MISSING,
					 &ioctls));
	if (have & UFFD_FEATURE_POISON) {
		EXPECT_EQ(bit, ioctls & bit);
	} else {
		EXPECT_EQ(0, ioctls & bit);
	}
}

/*
 * A poisoned page raises SIGBUS on any access and queues no message; its
 * populated neighbours keep their bytes, a hole next to it still faults
 * normally, and another mapping of the same file is not poisoned.
 */
TEST_F_TIMEOUT(poison, sigbus_neighbours, 5)
{
	size_t page = self->mem.page;
	char *hole = fl_page(self, 3);
	struct uffd_msg msg;
	unsigned char v = WVAL;

	poison_open(_metadata, self, variant);
	copy_page(_metadata, self, 0);
	copy_page(_metadata, self, 2);
	expect_poison(_metadata, self->uffd, fl_page(self, 1), page, 0, 0,
		      (int64_t)page);

	expect_page_poisoned(_metadata, self, 1);
	fl_expect_no_msg(_metadata, self->uffd);
	expect_page_ok(_metadata, self, 0);
	expect_page_ok(_metadata, self, 2);

	ASSERT_EQ(0, toucher_start(&self->t, hole, TOUCH_READ, 0));
	ASSERT_EQ(0, uffd_wait_msg(self->uffd, &msg, 2000));
	EXPECT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	EXPECT_EQ((uintptr_t)hole, msg.arg.pagefault.address);
	copy_page(_metadata, self, 3);
	FL_TOUCHER_DONE(&self->t);
	EXPECT_FALSE(self->t.got_sigbus);
	EXPECT_EQ((unsigned char)ref[3 * page], self->t.value);

	if (mem_is_file(variant->mem)) {
		/* The alias has no marker: its page 1 is an ordinary hole. */
		EXPECT_EQ(0, sigbus_probe(self->mem.alias + page, TOUCH_READ,
					  &v));
		EXPECT_EQ(0, v);
	}
	/* Still poisoned after all that. */
	expect_page_poisoned(_metadata, self, 1);
}

/*
 * POISON over a present pte is EEXIST (.updated = -EEXIST) and leaves
 * the page usable; over an already poisoned page it is EEXIST too.
 */
TEST_F(poison, eexist)
{
	size_t page = self->mem.page;

	poison_open(_metadata, self, variant);
	copy_page(_metadata, self, 0);
	expect_poison(_metadata, self->uffd, self->mem.addr, page, 0, -EEXIST,
		      -EEXIST);
	expect_page_ok(_metadata, self, 0);

	expect_poison(_metadata, self->uffd, fl_page(self, 1), page, 0, 0,
		      (int64_t)page);
	expect_poison(_metadata, self->uffd, fl_page(self, 1), page, 0,
		      -EEXIST, -EEXIST);
	expect_page_poisoned(_metadata, self, 1);
}

/*
 * Only the pte matters: data that exists but is not mapped here (in the
 * page cache, or zapped from an anon range) is poisoned like a hole, and
 * the file's other mapping still reads it.
 */
TEST_F(poison, unmapped_data)
{
	size_t page = self->mem.page;
	char *p = fl_page(self, 2);

	poison_open(_metadata, self, variant);
	if (mem_is_file(variant->mem)) {
		memcpy(self->mem.alias + 2 * page, ref + 2 * page, page);
	} else {
		copy_page(_metadata, self, 2);
		ASSERT_EQ(0, madvise(p, page, MADV_DONTNEED));
	}
	EXPECT_EQ(0, vm_present(p));
	expect_poison(_metadata, self->uffd, p, page, 0, 0, (int64_t)page);
	expect_page_poisoned(_metadata, self, 2);
	if (mem_is_file(variant->mem))
		EXPECT_EQ(0, memcmp(self->mem.alias + 2 * page,
				    ref + 2 * page, page));
}

/*
 * POISON over [hole, present page] poisons the hole, then stops: EAGAIN
 * with .updated = one page; the present page is untouched.
 */
TEST_F(poison, partial_eagain)
{
	size_t page = self->mem.page;

	poison_open(_metadata, self, variant);
	copy_page(_metadata, self, 2);
	expect_poison(_metadata, self->uffd, fl_page(self, 1), 2 * page, 0,
		      -EAGAIN, (int64_t)page);
	expect_page_poisoned(_metadata, self, 1);
	expect_page_ok(_metadata, self, 2);
}

/*
 * A range that is not page aligned (for hugetlb: huge page aligned), or
 * empty, is EINVAL and poisons nothing: COPY still fills the page.
 */
TEST_F(poison, unaligned_einval)
{
	size_t page = self->mem.page;
	size_t bad = mem_is_hugetlb(variant->mem) ?
		     (size_t)sysconf(_SC_PAGESIZE) : 1;
	char *p = fl_page(self, 1);
	int64_t updated = 0;

	poison_open(_metadata, self, variant);
	EXPECT_EQ(-EINVAL, do_poison(self->uffd, p + bad, page, 0, &updated));
	EXPECT_EQ(-EINVAL, do_poison(self->uffd, p, bad, 0, &updated));
	EXPECT_EQ(-EINVAL, do_poison(self->uffd, p, 0, 0, &updated));
	copy_page(_metadata, self, 1);
	expect_page_ok(_metadata, self, 1);
}

/*
 * POISON outside any registration is ENOENT (.updated = -ENOENT) and the
 * page stays usable.
 */
TEST_F(poison, unregistered_enoent)
{
	size_t page = self->mem.page;
	char *p = fl_page(self, 2);

	poison_open(_metadata, self, variant);
	ASSERT_EQ(0, uffd_unregister_range(self->uffd, p, page));
	expect_poison(_metadata, self->uffd, p, page, 0, -ENOENT, -ENOENT);
	/* Unregistered: the access just faults the page in. */
	memcpy(p, ref + 2 * page, page);
	expect_page_ok(_metadata, self, 2);
}

/* A thread blocked on a MISSING fault is woken by POISON into SIGBUS. */
TEST_F_TIMEOUT(poison, wakes_with_sigbus, 5)
{
	size_t page = self->mem.page;
	char *p = fl_page(self, 1);
	struct uffd_msg msg;

	poison_open(_metadata, self, variant);
	ASSERT_EQ(0, toucher_start(&self->t, p + 2, TOUCH_READ, 0));
	ASSERT_EQ(0, uffd_wait_msg(self->uffd, &msg, 2000));
	EXPECT_EQ((uintptr_t)p, msg.arg.pagefault.address);
	expect_poison(_metadata, self->uffd, p, page, 0, 0, (int64_t)page);
	FL_TOUCHER_DONE(&self->t);
	ASSERT_TRUE(self->t.got_sigbus);
	expect_poison_siginfo(_metadata, &self->t.sig, p + 2, page);
}

/* With DONTWAKE the faulting thread sleeps on until UFFDIO_WAKE. */
TEST_F_TIMEOUT(poison, dontwake, 5)
{
	size_t page = self->mem.page;
	char *p = fl_page(self, 1);
	struct uffd_msg msg;

	poison_open(_metadata, self, variant);
	ASSERT_EQ(0, toucher_start(&self->t, p, TOUCH_WRITE, WVAL));
	ASSERT_EQ(0, uffd_wait_msg(self->uffd, &msg, 2000));
	expect_poison(_metadata, self->uffd, p, page,
		      UFFDIO_POISON_MODE_DONTWAKE, 0, (int64_t)page);
	EXPECT_TRUE(toucher_blocked(&self->t));
	ASSERT_EQ(0, uffd_wake_range(self->uffd, p, page));
	FL_TOUCHER_DONE(&self->t);
	ASSERT_TRUE(self->t.got_sigbus);
	expect_poison_siginfo(_metadata, &self->t.sig, p, page);
}

/*
 * Child side of fork_keeps_marker: what an access to the poisoned page
 * @p does. Exit 0: SIGBUS at @p itself; 1: it read @v's byte without a
 * signal; 2: SIGBUS elsewhere; 3: it read anything else.
 */
static void poison_child(char *p, unsigned char want)
{
	struct sigbus_info si;
	unsigned char v = 0;

	if (sigbus_probe(p + 5, TOUCH_READ, &v)) {
		sigbus_last(&si);
		_exit(si.addr == p + 5 ? 0 : 2);
	}
	_exit(v == want ? 1 : 3);
}

/*
 * fork() without EVENT_FORK: the marker lives in the page table, so the
 * child keeps it where fork copies page tables (private mappings, which
 * POISON gave an anon_vma) and reads the file behind it where fork does
 * not (shared mappings: the page cache, a hole here). The parent keeps
 * its marker either way.
 */
TEST_F_TIMEOUT(poison, fork_keeps_marker, 5)
{
	size_t page = self->mem.page;
	char *p = fl_page(self, 1);
	bool shared = mem_is_shared(variant->mem);
	int status = -1;
	pid_t pid;

	poison_open(_metadata, self, variant);
	copy_page(_metadata, self, 0);
	expect_poison(_metadata, self->uffd, p, page, 0, 0, (int64_t)page);
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		poison_child(p, 0);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status)) {
		TH_LOG("child died by signal %d", WTERMSIG(status));
	}
	ksft_print_msg("finding: a %s child's access to a poisoned page: %s\n",
		       mem_type_name(variant->mem),
		       WEXITSTATUS(status) == 0 ? "SIGBUS (marker copied)" :
		       WEXITSTATUS(status) == 1 ? "the file's bytes (no marker)" :
		       "neither");
	EXPECT_EQ(shared ? 1 : 0, WEXITSTATUS(status));
	expect_page_poisoned(_metadata, self, 1);
	expect_page_ok(_metadata, self, 0);
	fl_expect_no_msg(_metadata, self->uffd);
}

/*
 * MADV_DONTNEED zaps the marker with the page table entry: the page is a
 * hole again, a read of it traps as a MISSING fault (no SIGBUS), and COPY
 * resolves it; its populated neighbour keeps its bytes.
 */
TEST_F_TIMEOUT(poison, dontneed_drops_marker, 5)
{
	size_t page = self->mem.page;
	char *p = fl_page(self, 1);
	int ret;

	poison_open(_metadata, self, variant);
	copy_page(_metadata, self, 0);
	expect_poison(_metadata, self->uffd, p, page, 0, 0, (int64_t)page);
	expect_page_poisoned(_metadata, self, 1);
	ret = madvise(p, page, MADV_DONTNEED);
	/* hugetlb learnt MADV_DONTNEED late: without it there is no zap. */
	if (ret && errno == EINVAL && mem_is_hugetlb(variant->mem))
		FL_SKIP("madvise(MADV_DONTNEED) of a %s mapping: EINVAL",
			mem_type_name(variant->mem));
	ASSERT_EQ(0, ret);

	ASSERT_EQ(0, toucher_start(&self->t, p + 4, TOUCH_READ, 0));
	fl_expect_fault(_metadata, self->uffd, p, 0);
	EXPECT_TRUE(toucher_blocked(&self->t));
	copy_page(_metadata, self, 1);
	FL_TOUCHER_DONE(&self->t);
	EXPECT_FALSE(self->t.got_sigbus);
	EXPECT_EQ((unsigned char)ref[page + 4], self->t.value);
	expect_page_ok(_metadata, self, 1);
	expect_page_ok(_metadata, self, 0);
}

FL_TEST_MAIN(16)
