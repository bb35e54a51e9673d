/* SPDX-License-Identifier: GPL-2.0 */
/*
 * faultline harness: the glue between a case binary, the kselftest
 * harness and our library. Not a test itself.
 *
 * A case file includes this, declares a FIXTURE, declares the memory types
 * it covers with FL_MEM_VARIANTS(fixture, targets) and ends with
 * FL_TEST_MAIN(n_huge). Requirements are declared with FL_REQUIRE_*(): the
 * library decides the skip and names what was missing, from what the
 * kernel reports (require.h).
 */
#ifndef FAULTLINE_KSFT_CASE_H
#define FAULTLINE_KSFT_CASE_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "require.h"
#include "uffd.h"
#include "mem.h"
#include "bgcall.h"
#include "fault.h"
#include "pagemap.h"

/*
 * Skip the current test point with a reason and end it now. Ending the
 * child is what makes a skip in FIXTURE_SETUP work with the 6.1 harness,
 * which would otherwise still run the test body. Newer harnesses (the ones
 * with XFAIL_ADD, 6.9+) read the child's exit code as KSFT_SKIP.
 */
#if defined(XFAIL) || defined(XFAIL_ADD)
#define FL_SKIP_EXIT KSFT_SKIP
#else
#define FL_SKIP_EXIT 255
#endif

/*
 * Whether the running point has already recorded a failure (an EXPECT
 * that did not hold). The 6.9+ harness keeps it in exit_code, older ones
 * in passed.
 */
#if defined(XFAIL) || defined(XFAIL_ADD)
#define FL_FAILED_SO_FAR()	(_metadata->exit_code == KSFT_FAIL)
#else
#define FL_FAILED_SO_FAR()	(!_metadata->passed)
#endif

/*
 * A skip never hides a failure: when a check of this point already
 * failed, the point ends as failed, with the skip reason logged.
 */
#define FL_SKIP(fmt, ...) do {						\
	if (FL_FAILED_SO_FAR()) {					\
		TH_LOG("would skip (" fmt "), but a check already failed", \
		       ##__VA_ARGS__);					\
		fflush(NULL);						\
		_exit(KSFT_FAIL);					\
	}								\
	SKIP(;, fmt, ##__VA_ARGS__);					\
	fflush(NULL);							\
	_exit(FL_SKIP_EXIT);						\
} while (0)

/* Skip with reason @why unless it is NULL. */
#define FL_SKIP_IF(why) do {						\
	const char *__why = (why);					\
	if (__why)							\
		FL_SKIP("%s", __why);					\
} while (0)

/* Skip unless the feature mask @have (as reported) holds all of @mask. */
#define FL_REQUIRE_REPORTED(have, mask)					\
	FL_SKIP_IF(fl_lack_reason(MASK_FEATURES, (have), (mask)))

/* Skip unless the kernel reports every feature in @mask. */
#define FL_REQUIRE_FEATURES(mask) do {					\
	uint64_t __have = 0;						\
	int __err = fl_kernel_features(&__have, NULL);			\
	if (__err)							\
		FL_SKIP("%s", fl_no_uffd_reason(__err));		\
	FL_REQUIRE_REPORTED(__have, (mask));				\
} while (0)

/*
 * REGISTER returned every ioctl bit of @want in @got. Only for a
 * registration whose features the kernel reported (FL_UFFD_OPEN checked
 * them): a promised ioctl that is not offered is a failure, never a skip.
 */
#define FL_ASSERT_OFFERED(got, want) do {				\
	uint64_t __got = (got), __want = (want);			\
	ASSERT_EQ(__want, __got & __want) {				\
		TH_LOG("%s (offered: %s), although the kernel reports the features",\
		       fl_lack_reason(MASK_IOCTLS, __got, __want),	\
		       fl_ioctl_list(__got));				\
	}								\
} while (0)

/* Skip unless running with CAP_SYS_ADMIN-level root (sysctl writes...). */
#define FL_REQUIRE_ROOT() do {						\
	if (geteuid() != 0)						\
		FL_SKIP("needs root (euid %d)", (int)geteuid());	\
} while (0)

/*
 * Open a uffd with @features, skipping when none can be created or the
 * kernel lacks a feature. Evaluates to the fd. Once a uffd could be made
 * and every bit is reported, UFFDIO_API refusing them is a failure, not a
 * skip: the one documented refusal is EVENT_FORK without CAP_SYS_PTRACE
 * (a skip only when this process really lacks it).
 */
#define FL_UFFD_OPEN(features) ({					\
	uint64_t __f = (features);					\
	int __fd;							\
	FL_REQUIRE_FEATURES(__f);					\
	__fd = uffd_open(__f, NULL);					\
	FL_SKIP_IF(fl_api_refusal_reason(__f, __fd));			\
	ASSERT_LE(0, __fd) {						\
		TH_LOG("UFFDIO_API with reported features %s: %s",	\
		       fl_feature_list(__f), strerror(-__fd));		\
	}								\
	__fd;								\
})

/* Map @npages of @type or skip with the reason the kernel gave. */
#define FL_MEM_ALLOC(area, type, npages) do {				\
	char __why[256];						\
	if (mem_alloc((area), (type), (npages), __why, sizeof(__why)))	\
		FL_SKIP("%s", __why);					\
} while (0)

/*
 * The memory-type variants of @fixture: one for each type in @targets
 * (MEM_ALL, or MEM_BIT(MEM_ANON) | ...), named and ordered as the domain
 * table lists them. This also defines the fixture's variant struct: the
 * type is `variant->mem`. Which types a case covers is data here, so a
 * new memory type reaches every case that lists it and no other.
 */
#define FL_MEM_VARIANTS(fixture, targets)				\
	FIXTURE_VARIANT(fixture) {					\
		enum mem_type mem;					\
	};								\
	static FIXTURE_VARIANT(fixture) _fl_##fixture##_mem[MEM_TYPE_NR]; \
	static struct __fixture_variant_metadata			\
		_fl_##fixture##_meta[MEM_TYPE_NR];			\
	static void __attribute__((constructor))			\
	_fl_register_##fixture##_mem(void)				\
	{								\
		int t;							\
									\
		for (t = 0; t < MEM_TYPE_NR; t++) {			\
			if (!((targets) & MEM_BIT(t)))			\
				continue;				\
			_fl_##fixture##_mem[t].mem = t;			\
			fl_variant_append(&_##fixture##_fixture_object,	\
					  &_fl_##fixture##_meta[t],	\
					  mem_type_name(t),		\
					  &_fl_##fixture##_mem[t]);	\
		}							\
	}

/*
 * Append a variant to a fixture in the harness's own list shape (next
 * links forward, the head's prev is the tail), so the variants run in
 * table order whatever order the constructors ran in.
 */
static inline void fl_variant_append(struct __fixture_metadata *f,
				     struct __fixture_variant_metadata *v,
				     const char *name, const void *data)
{
	v->name = name;
	v->data = data;
	v->next = NULL;
	if (!f->variant) {
		v->prev = v;
		f->variant = v;
		return;
	}
	v->prev = f->variant->prev;
	v->prev->next = v;
	f->variant->prev = v;
}

/*
 * What a memory-type test point may hold, declared once for every fixture:
 * FIXTURE(x) { FL_CASE_HOLDS; ...its own members... }. FL_CASE_SETUP()
 * maps the variant's memory; FL_CASE_TEARDOWN() releases whatever a test
 * point left set. Members a case does not use stay zero (or -1) and cost
 * nothing at teardown.
 */
#define FL_CASE_HOLDS							\
	struct mem_area mem;	/* the memory under test */		\
	size_t page;		/* its page size */			\
	char *src;		/* reference bytes (FL_PATTERN), or NULL */\
	int uffd;		/* the uffd under test, or -1 */	\
	uint64_t ioctls;	/* what REGISTER offered it */		\
	int child_ufd;		/* a forked child's uffd, or -1 */	\
	pid_t child;		/* a child, killed at teardown */	\
	struct bg_call bg;	/* a call held on a helper thread */	\
	struct toucher t;	/* a thread that faults */		\
	void *resv;		/* an extra mapping of resv_len bytes */\
	size_t resv_len

/* Map @npages of the variant's memory type (or skip, saying why). */
#define FL_CASE_SETUP(npages) do {					\
	self->uffd = -1;						\
	self->child_ufd = -1;						\
	FL_MEM_ALLOC(&self->mem, variant->mem, (npages));		\
	self->page = self->mem.page;					\
} while (0)

/*
 * The mem_fill() pattern of @seed, @len bytes long (mem_pattern(): the
 * binary's FL_REFERENCE_PATTERN of that seed when there is one, else a
 * malloc'd copy). FL_CASE_TEARDOWN() releases self->src.
 */
#define FL_PATTERN(len, seed) ({					\
	char *__p = mem_pattern((len), (seed));				\
	ASSERT_NE(NULL, __p);						\
	__p;								\
})

/*
 * Open the uffd under test with @features plus MISSING on the variant's
 * memory type (every such case resolves its faults with COPY), and
 * register the whole area in @mode.
 */
#define FL_CASE_REGISTER(features, mode) do {				\
	self->uffd = FL_UFFD_OPEN((features) |				\
				  fl_missing_feature(variant->mem));	\
	ASSERT_EQ(0, uffd_register_range(self->uffd, self->mem.addr,	\
					 self->mem.len, (mode),		\
					 &self->ioctls));		\
} while (0)

/*
 * static char *@name: the @seed pattern of the largest area of @npages
 * pages (and at least @at_least bytes), built once in the parent before
 * any test point forks, so points copy and compare it instead of
 * regenerating megabytes of hugetlb pattern each.
 */
#define FL_REFERENCE_PATTERN(name, npages, at_least, seed)		\
	static char *name;						\
	__attribute__((constructor)) static void name##_init(void)	\
	{								\
		name = mem_pattern_largest((npages), (at_least), (seed)); \
	}

/*
 * The same without a name: FL_PATTERN(len, @seed) in a point then hands
 * out this one (mem_pattern()) instead of building its own.
 */
#define FL_SHARED_PATTERN(npages, at_least, seed)			\
	FL_REFERENCE_PATTERN(fl_shared_pattern, (npages), (at_least), (seed))

/*
 * Where the area can be mremap()ed to: an address aligned to its page
 * size, inside a PROT_NONE reservation held in resv.
 */
#define FL_MREMAP_TARGET() ({						\
	self->resv_len = self->mem.len + self->page;			\
	self->resv = mmap(NULL, self->resv_len, PROT_NONE,		\
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);		\
	ASSERT_NE(MAP_FAILED, self->resv);				\
	(char *)(((uintptr_t)self->resv + self->page - 1) &		\
		 ~(self->page - 1));					\
})

/* Page @n of the memory under test of fixture data @self. */
#define fl_page(self, n)	mem_page(&(self)->mem, (n))

/* COPY page @n of @self's reference bytes into place through @uffd. */
#define fl_fill_page(self, uffd, n, mode)				\
	uffd_copy_all((uffd), fl_page(self, n),				\
		      (self)->src + (n) * (self)->page, (self)->page,	\
		      (mode), NULL)

/* True when no message is queued on @uffd (a non-blocking read: EAGAIN). */
static inline bool fl_queue_empty(int uffd)
{
	struct uffd_msg msg;

	return uffd_read_msg(uffd, &msg) == -EAGAIN;
}

/* No message may be queued on @uffd; one that is gets logged. */
static inline void fl_expect_no_msg(struct __test_metadata *_metadata,
				    int uffd)
{
	struct uffd_msg msg;
	int ret = uffd_read_msg(uffd, &msg);

	EXPECT_EQ(-EAGAIN, ret) {
		if (!ret)
			TH_LOG("unexpected message: event 0x%x flags 0x%llx addr 0x%llx",
			       msg.event,
			       (unsigned long long)msg.arg.pagefault.flags,
			       (unsigned long long)msg.arg.pagefault.address);
	}
}

/* The flags of the fault a write to a write-protected page raises. */
#define FL_WP_WRITE_FAULT (UFFD_PAGEFAULT_FLAG_WRITE | UFFD_PAGEFAULT_FLAG_WP)

/*
 * The next message on @uffd (within 2 s) is a page fault on the page at
 * @page_addr with exactly @flags (UFFD_PAGEFAULT_FLAG_*).
 */
static inline void fl_expect_fault(struct __test_metadata *_metadata,
				   int uffd, void *page_addr, uint64_t flags)
{
	struct uffd_msg msg;

	ASSERT_EQ(0, uffd_wait_msg(uffd, &msg, 2000)) {
		TH_LOG("no fault message (want flags 0x%llx)",
		       (unsigned long long)flags);
	}
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	EXPECT_EQ(flags, msg.arg.pagefault.flags);
	EXPECT_EQ((uintptr_t)page_addr, msg.arg.pagefault.address);
}

/*
 * Start @t reading @page_addr + @off (in a MISSING-registered hole) and
 * return once its read fault on that page is queued on @uffd.
 */
static inline void fl_fault_on(struct __test_metadata *_metadata, int uffd,
			       struct toucher *t, char *page_addr, size_t off)
{
	ASSERT_EQ(0, toucher_start(t, page_addr + off, TOUCH_READ, 0xff));
	fl_expect_fault(_metadata, uffd, page_addr, 0);
}

/*
 * Page @n of @m is a hole: a COPY of its reference bytes (@src, laid out
 * like the area) fills the whole page there.
 */
static inline void fl_expect_hole(struct __test_metadata *_metadata, int uffd,
				  const struct mem_area *m, const char *src,
				  size_t n)
{
	struct uffdio_copy c = { .dst = (uintptr_t)mem_page(m, n),
				 .src = (uintptr_t)src + n * m->page,
				 .len = m->page };

	EXPECT_EQ(0, uffd_copy(uffd, &c)) {
		TH_LOG("page %zu is not a hole", n);
	}
	EXPECT_EQ((int64_t)m->page, c.copy);
}

/*
 * A SIGBUS came for @addr itself (si_addr: the faulting byte, not its
 * page) with si_code @code, or with BUS_ADRERR or BUS_MCEERR_AR when @code
 * is 0 (the kernel does not say which to expect). A BUS_MCEERR_* signal
 * names the poisoned unit: a page of @page bytes.
 */
static inline void fl_expect_siginfo(struct __test_metadata *_metadata,
				     const struct sigbus_info *si,
				     const void *addr, int code, size_t page)
{
	EXPECT_EQ((uintptr_t)addr, (uintptr_t)si->addr) {
		TH_LOG("SIGBUS si_addr %p for an access at %p", si->addr, addr);
	}
	if (code) {
		EXPECT_EQ(code, si->code);
	} else {
		EXPECT_TRUE(si->code == BUS_ADRERR || si->code == BUS_MCEERR_AR) {
			TH_LOG("SIGBUS si_code %d", si->code);
		}
	}
	if (si->code == BUS_MCEERR_AR)
		EXPECT_EQ(__builtin_ctzl(page), si->lsb);
}

/*
 * An access of @kind to @addr from this thread raises SIGBUS, with the
 * siginfo fl_expect_siginfo() wants.
 */
static inline void fl_expect_sigbus(struct __test_metadata *_metadata,
				    volatile char *addr, enum touch_kind kind,
				    int code, size_t page)
{
	unsigned char v = 0x3c;
	struct sigbus_info si;

	EXPECT_EQ(1, sigbus_probe(addr, kind, &v)) {
		TH_LOG("no SIGBUS for a %s at %p", kind == TOUCH_READ ?
		       "read" : "write", (void *)addr);
		return;
	}
	sigbus_last(&si);
	fl_expect_siginfo(_metadata, &si, (const void *)addr, code, page);
}

/* Helper thread @th finishes its step within 2 s (it was let go); join it. */
#define FL_THREAD_DONE(th) do {						\
	ASSERT_TRUE(fl_thread_wait((th), 2000));			\
	fl_thread_join(th);						\
} while (0)

/* The same for toucher @t: its access completes (it was woken). */
#define FL_TOUCHER_DONE(t)	FL_THREAD_DONE(&(t)->th)

/* Close *@fd when it is open, and mark it closed. */
static inline void fl_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Kill and reap the child *@pid when there is one. */
static inline void fl_reap(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
	}
	*pid = 0;
}

/*
 * Release what FL_CASE_HOLDS holds. The uffds go first: closing them
 * wakes a thread that a failed check left blocked in a fault or held by an
 * event, so the threads can then be joined.
 */
#define FL_CASE_TEARDOWN() do {						\
	fl_close(&self->uffd);						\
	fl_close(&self->child_ufd);					\
	fl_thread_finish(&self->bg.th);					\
	toucher_finish(&self->t);					\
	fl_reap(&self->child);						\
	mem_free(&self->mem);						\
	if (self->resv)							\
		munmap(self->resv, self->resv_len);			\
	mem_pattern_free(self->src);					\
} while (0)

/*
 * Whether a check of the pagemap uffd-wp bit (57) means anything here.
 * False only on a kernel where a write to a protected page traps but the
 * bit reads 0 (uffd-wp predates its pagemap export): a finding is printed
 * once and the caller skips just that check, keeping the behavioural ones.
 * When the probe cannot tell, the check stays (true).
 */
static inline bool fl_wp_bit_checkable(void)
{
	static bool told;

	if (pagemap_wp_shown() != 0)
		return true;
	if (!told) {
		ksft_print_msg("finding: pagemap does not expose uffd-wp (bit 57 reads 0 on a protected page whose write traps): pagemap checks skipped\n");
		fflush(stdout);
		told = true;
	}
	return false;
}

/*
 * Only -l (list the points) or -h: nothing will run, so nothing must be
 * reserved (the runner lists every binary before a run with --only).
 */
static inline bool fl_runs_nothing(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-l") || !strcmp(argv[i], "-h"))
			return true;
	return false;
}

/*
 * Reserve @n_huge huge pages in the parent (every test point runs in a
 * forked child, so the reservation and its restore happen once), then run.
 */
#define FL_TEST_MAIN(n_huge)						\
	int main(int argc, char **argv)					\
	{								\
		if (!fl_runs_nothing(argc, argv))			\
			hugetlb_reserve(n_huge);			\
		return test_harness_run(argc, argv);			\
	}

#endif /* FAULTLINE_KSFT_CASE_H */
