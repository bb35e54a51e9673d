// SPDX-License-Identifier: GPL-2.0
/*
 * Known userfaultfd / mm-uffd kernel bugs, one reproducer each: does this
 * kernel carry the fix? One fixture variant per bug, so every bug is its
 * own TAP point, bugs.<bug>.check. On a kernel with the fix the point
 * passes; on an affected one it fails with "kernel lacks fix <sha> ...";
 * where the feature involved is absent it skips with the reason the
 * library gives (never by kernel version).
 *
 * Before its result every point prints one diagnostic line with the bug's
 * tags, which the report reads (format: cases/COVERAGE.md):
 *
 *   # faultline-bug {"id":...,"fix":...,"title":...,"introduced":...,
 *                    "cve":...,"symptom":...}
 *
 * Reproducers are deterministic and bounded: a write that should finish
 * is given a second or two, a child that refaults forever is killed, and
 * nothing here needs swap, memory poisoning or a race to show the bug.
 */
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "ksft_case.h"
#include "bgcall.h"
#include "pagemap.h"
#include "priv.h"
#include "vmstate.h"

#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE		0x08
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE		25
#endif
#ifndef __NR_map_shadow_stack
#define __NR_map_shadow_stack	453
#endif

/* An output field the kernel never writes by itself. */
#define UNTOUCHED	0x5eed5eedLL
/* A woken or unblocked access finishes in microseconds. */
#define DONE_MS		1000

struct bug {
	const char *id;		/* the variant name: bugs.<id>.check */
	const char *fix;	/* upstream fixing commit */
	const char *title;	/* its subject line */
	const char *introduced;	/* sha or release, NULL when unknown */
	const char *cve;	/* NULL when none */
	const char *symptom;	/* what a user sees on an affected kernel */
};

FIXTURE(bugs) {
	struct mem_area mem;
	int uffd, uffd2;
	struct toucher t;
	bool t_started;
	struct bg_call bg;
	struct bg_mm_args bg_args;
	bool bg_started;
	void *map;		/* a mapping made outside mem_alloc() */
	size_t map_len;
	int fd, fd2;
	pid_t child;
};

FIXTURE_VARIANT(bugs) {
	const struct bug *bug;
	void (*run)(struct __test_metadata *_metadata, FIXTURE_DATA(bugs) *self,
		    const struct bug *bug);
};

/*
 * A check that fails only when the kernel lacks the fix. Its message
 * comes first, before the harness's "Expected" line, and names the fix,
 * then what was seen: "kernel lacks fix <sha12> ("<title>"): <seen>".
 */
#define BUG_CHECK(bug, cond, fmt, ...) do {				\
	bool kernel_has_fix = (cond);					\
	if (!kernel_has_fix)						\
		TH_LOG("kernel lacks fix %.12s (\"%s\"): " fmt,		\
		       (bug)->fix, (bug)->title, ##__VA_ARGS__);	\
	EXPECT_TRUE(kernel_has_fix);					\
} while (0)

/* Every reproducer has this signature; the variant table points at it. */
#define REPRO(name)							\
	static void name(struct __test_metadata *_metadata,		\
			 FIXTURE_DATA(bugs) *self, const struct bug *bug)

/* @s as a JSON string (or null) appended at @out. */
static size_t json_str(char *out, size_t len, const char *s)
{
	size_t n = 0;

	if (!s)
		return (size_t)snprintf(out, len, "null");
	if (n < len)
		out[n++] = '"';
	for (; *s && n + 3 < len; s++) {
		if (*s == '"' || *s == '\\')
			out[n++] = '\\';
		out[n++] = *s;
	}
	if (n < len)
		out[n++] = '"';
	out[n < len ? n : len - 1] = '\0';
	return n;
}

/* The one tag line of a point, e.g. # faultline-bug {"id":"x",...} */
static void print_bug_line(const struct bug *b)
{
	const char *keys[] = { "id", "fix", "title", "introduced", "cve",
			       "symptom" };
	const char *vals[] = { b->id, b->fix, b->title, b->introduced,
			       b->cve, b->symptom };
	char line[2048];
	size_t n = 0, i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s\"%s\":",
				      i ? "," : "{", keys[i]);
		n += json_str(line + n, sizeof(line) - n, vals[i]);
	}
	snprintf(line + n, sizeof(line) - n, "}");
	ksft_print_msg("faultline-bug %s\n", line);
	fflush(stdout);
}

FIXTURE_SETUP(bugs)
{
	memset(self, 0, sizeof(*self));
	self->uffd = self->uffd2 = self->fd = self->fd2 = -1;
	self->mem.fd = -1;
	print_bug_line(variant->bug);
}

FIXTURE_TEARDOWN(bugs)
{
	int status;

	/* Closing the uffds wakes anything a failed check left blocked. */
	if (self->uffd >= 0)
		close(self->uffd);
	if (self->uffd2 >= 0)
		close(self->uffd2);
	if (self->t_started)
		toucher_finish(&self->t);
	if (self->bg_started)
		fl_thread_finish(&self->bg.th);
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, &status, 0);
	}
	if (self->map)
		munmap(self->map, self->map_len);
	if (self->fd >= 0)
		close(self->fd);
	if (self->fd2 >= 0)
		close(self->fd2);
	mem_free(&self->mem);
}

TEST_F_TIMEOUT(bugs, check, 15)
{
	variant->run(_metadata, self, variant->bug);
}

static size_t base_page(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/* @len bytes of private anonymous memory beside self->mem (teardown unmaps). */
static char *map_private_anon(struct __test_metadata *_metadata,
			      FIXTURE_DATA(bugs) *self, size_t len)
{
	self->map_len = len;
	self->map = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->map) {
		self->map = NULL;
	}
	return self->map;
}

/*
 * The exit code of self->child, waiting at most @ms: -ETIMEDOUT (the child
 * is killed) when it does not finish, 128 + signal when a signal ended it.
 */
static int reap_child(FIXTURE_DATA(bugs) *self, int ms)
{
	long long faults;
	int status = 0, ret = fl_child_wait_refaulting(self->child, ms,
						       &status, &faults);

	if (ret == 0) {
		ksft_print_msg("child still running after %lld page faults (at most %d ms): killed\n",
			       faults, ms);
		kill(self->child, SIGKILL);
		waitpid(self->child, &status, 0);
		self->child = 0;
		return -ETIMEDOUT;
	}
	self->child = 0;
	if (ret < 0)
		return ret;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/*
 * Join the toucher once its access has completed, within @ms; false (the
 * thread is left running, teardown handles it) when it has not.
 */
static bool toucher_done(FIXTURE_DATA(bugs) *self, int ms)
{
	if (!toucher_wait(&self->t, ms))
		return false;
	toucher_join(&self->t);
	self->t_started = false;
	return true;
}

/*
 * Write one byte at @addr from a helper thread and report whether the
 * write was trapped: 1 when a WP fault for it arrived on @uffd (the
 * protection is lifted again so the writer finishes), 0 when the write
 * completed on its own, -errno when neither happened.
 */
static int write_trapped(struct __test_metadata *_metadata,
			 FIXTURE_DATA(bugs) *self, int uffd, char *addr,
			 size_t page)
{
	struct uffd_msg msg;
	int ret;

	ASSERT_EQ(0, toucher_start(&self->t, addr, TOUCH_WRITE, 0x5a));
	self->t_started = true;
	/* Whichever comes first: the write finishing or its fault. */
	ret = fl_thread_or_readable(&self->t.th, uffd, DONE_MS);
	if (ret == -ETIMEDOUT)
		return ret;
	if (ret == 0) {
		ASSERT_TRUE(toucher_done(self, DONE_MS));
		/* A write that finished must not have queued a fault either. */
		EXPECT_EQ(-EAGAIN, uffd_read_msg(uffd, &msg));
		return 0;
	}
	ASSERT_EQ(1, ret);
	ASSERT_EQ(0, uffd_read_msg(uffd, &msg));
	EXPECT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	EXPECT_TRUE(msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP);
	EXPECT_TRUE(toucher_blocked(&self->t));
	ASSERT_EQ(0, uffd_wp_range(uffd, (char *)((uintptr_t)addr & ~(page - 1)),
				   page, false));
	ASSERT_TRUE(toucher_done(self, DONE_MS));
	return 1;
}

/* ---- uffd-wp across fork() on private hugetlb ---------------------- */

/*
 * Without EVENT_FORK the child's VMA is not registered, so the copy of a
 * protected private hugetlb pte must lose the uffd-wp bit. Kernels
 * without the fix keep it: hugetlb never CoWs a uffd-wp pte, so the
 * child's write refaults forever.
 */
REPRO(hugetlb_private_wp_fork)
{
	bool bit;
	char *p;
	int st;

	self->uffd = FL_UFFD_OPEN(fl_wp_features(MEM_HUGETLB_PRIVATE));
	FL_MEM_ALLOC(&self->mem, MEM_HUGETLB_PRIVATE, 1);
	p = self->mem.addr;
	memset(p, 0x11, self->mem.page);
	ASSERT_EQ(0, uffd_register_range(self->uffd, p, self->mem.page,
					 UFFDIO_REGISTER_MODE_WP, NULL));
	ASSERT_EQ(0, uffd_wp_range(self->uffd, p, self->mem.page, true));
	/* The child's write copies the page from the free pool. */
	if (hugetlb_free_pages() < 1)
		FL_SKIP("the child's copy of a private hugetlb page needs a free huge page (%ld free)",
			hugetlb_free_pages());
	bit = fl_wp_bit_checkable();

	self->child = fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		int wp = bit ? pagemap_uffd_wp(p) : 0;

		p[1] = 0x22;
		_exit(wp == 1 ? 1 : wp < 0 ? 2 : 0);
	}
	st = reap_child(self, 2000);
	BUG_CHECK(bug, st != -ETIMEDOUT,
		  "the child's write to its copy of a protected private hugetlb page never completed (it refaulted, killed): the copied pte kept the uffd-wp bit");
	BUG_CHECK(bug, st != 1,
		  "the child's copy of the page carries the uffd-wp bit (pagemap bit 57) although its VMA is not registered");
	EXPECT_TRUE(st == 0 || st == 1 || st == -ETIMEDOUT) {
		TH_LOG("child ended with status %d", st);
	}
	/* The parent's page is private: untouched and still protected. */
	EXPECT_EQ(0x11, p[1]);
	if (bit)
		EXPECT_EQ(1, pagemap_uffd_wp(p));
}

/*
 * A protected, never-touched page of a private hugetlb mapping whose file
 * page exists: the first write goes through hugetlb's "CoW without a
 * second fault" path, which must honour the uffd-wp marker and trap.
 */
REPRO(hugetlb_private_wp_cow)
{
	size_t page;
	char *p;
	int trapped;

	self->uffd = FL_UFFD_OPEN(fl_wp_features(MEM_HUGETLB_PRIVATE));
	FL_MEM_ALLOC(&self->mem, MEM_HUGETLB_PRIVATE, 1);
	page = self->mem.page;
	p = self->mem.addr;
	/* The file page, through the shared view only. */
	memset(self->mem.alias, 0x11, page);
	ASSERT_EQ(0, uffd_register_range(self->uffd, p, page,
					 UFFDIO_REGISTER_MODE_WP, NULL));
	ASSERT_EQ(0, uffd_wp_range(self->uffd, p, page, true));
	if (hugetlb_free_pages() < 1)
		FL_SKIP("the private copy of the page needs a free huge page (%ld free)",
			hugetlb_free_pages());

	trapped = write_trapped(_metadata, self, self->uffd, p + 3, page);
	ASSERT_LE(0, trapped) {
		TH_LOG("the write neither trapped nor completed within %d ms",
		       DONE_MS);
	}
	BUG_CHECK(bug, trapped == 1,
		  "a write to a protected, never-touched private hugetlb page (file page present) completed without a WP fault");
	/* The write went to a private copy, never into the file. */
	EXPECT_EQ(0x5a, (unsigned char)p[3]);
	EXPECT_EQ(0x11, self->mem.alias[3]);
}

/* ---- uffd-wp markers across fork() on private shmem ---------------- */

/*
 * fork() without EVENT_FORK copies the page table of a private shmem
 * mapping that has anon pages; a uffd-wp pte marker of a never-touched
 * page must not be copied into the child's unregistered VMA.
 */
REPRO(shmem_private_wp_marker_fork)
{
	char *p0, *p1;
	int st;

	self->uffd = FL_UFFD_OPEN(fl_wp_features(MEM_SHMEM_PRIVATE));
	FL_MEM_ALLOC(&self->mem, MEM_SHMEM_PRIVATE, 2);
	if (!fl_wp_bit_checkable())
		FL_SKIP("pagemap does not expose the uffd-wp bit: a pte marker cannot be seen");
	p0 = mem_page(&self->mem, 0);
	p1 = mem_page(&self->mem, 1);
	/* An anon CoW page gives the VMA an anon_vma: fork copies its ptes. */
	p0[0] = 1;
	ASSERT_EQ(0, uffd_register_range(self->uffd, self->mem.addr,
					 self->mem.len,
					 UFFDIO_REGISTER_MODE_WP, NULL));
	ASSERT_EQ(0, uffd_wp_range(self->uffd, self->mem.addr, self->mem.len,
				   true));
	ASSERT_EQ(0, vm_present(p1));
	ASSERT_EQ(1, pagemap_uffd_wp(p1)) {
		TH_LOG("no uffd-wp marker on a protected never-touched shmem page");
	}

	self->child = fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		int wp = pagemap_uffd_wp(p1);

		_exit(wp == 1 ? 1 : wp < 0 ? 2 : 0);
	}
	st = reap_child(self, 2000);
	BUG_CHECK(bug, st != 1,
		  "the child, forked without EVENT_FORK, inherited the uffd-wp marker of a never-touched page (pagemap bit 57 set in an unregistered VMA)");
	EXPECT_TRUE(st == 0 || st == 1) {
		TH_LOG("child ended with status %d", st);
	}
	EXPECT_EQ(1, pagemap_uffd_wp(p1));
}

/* ---- protection left behind by UNREGISTER and close() -------------- */

/*
 * Protect a populated anon page, then drop the registration (@by_close:
 * close the uffd; else UFFDIO_UNREGISTER), and register the page for WP
 * again without protecting it: a write must not trap.
 */
static void wp_leftover(struct __test_metadata *_metadata,
			FIXTURE_DATA(bugs) *self, const struct bug *bug,
			bool by_close)
{
	const char *how = by_close ? "close() of the uffd" : "UFFDIO_UNREGISTER";
	size_t page;
	char *p;
	int again, trapped;

	self->uffd = FL_UFFD_OPEN(UFFD_FEATURE_PAGEFAULT_FLAG_WP);
	FL_MEM_ALLOC(&self->mem, MEM_ANON, 1);
	page = self->mem.page;
	p = self->mem.addr;
	memset(p, 0x11, page);
	ASSERT_EQ(0, uffd_register_range(self->uffd, p, page,
					 UFFDIO_REGISTER_MODE_WP, NULL));
	ASSERT_EQ(0, uffd_wp_range(self->uffd, p, page, true));
	if (by_close) {
		close(self->uffd);
		self->uffd = FL_UFFD_OPEN(UFFD_FEATURE_PAGEFAULT_FLAG_WP);
	} else {
		ASSERT_EQ(0, uffd_unregister_range(self->uffd, p, page));
	}
	if (fl_wp_bit_checkable())
		BUG_CHECK(bug, pagemap_uffd_wp(p) == 0,
			  "the page still carries the uffd-wp bit (pagemap bit 57) after %s",
			  how);

	again = uffd_register_range(self->uffd, p, page,
				    UFFDIO_REGISTER_MODE_WP, NULL);
	ASSERT_EQ(0, again);
	trapped = write_trapped(_metadata, self, self->uffd, p, page);
	ASSERT_LE(0, trapped);
	BUG_CHECK(bug, trapped == 0,
		  "a write after %s and a fresh REGISTER(WP) without UFFDIO_WRITEPROTECT was trapped: the old protection survived",
		  how);
	EXPECT_EQ(0x5a, (unsigned char)p[0]);
}

REPRO(anon_wp_unregister_leftover)
{
	wp_leftover(_metadata, self, bug, false);
}

REPRO(anon_wp_close_leftover)
{
	wp_leftover(_metadata, self, bug, true);
}

/* ---- PAGEMAP_SCAN with WP_ASYNC -------------------------------------- */

/* Bytes of [start, start+len) PAGEMAP_SCAN reports, or -errno. */
static long scan_bytes(void *start, size_t len, uint64_t all_of,
		       uint64_t any_of)
{
	struct page_region vec[16];
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.start = (uintptr_t)start,
		.end = (uintptr_t)start + len,
		.vec = (uintptr_t)vec,
		.vec_len = 16,
		.category_mask = all_of,
		.category_anyof_mask = any_of,
		.return_mask = PAGE_IS_WRITTEN,
	};
	long total = 0;
	int fd, n, i;

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = ioctl(fd, PAGEMAP_SCAN, &arg);
	if (n < 0)
		n = -errno;
	close(fd);
	for (i = 0; i < n; i++)
		total += (long)(vec[i].end - vec[i].start);
	return n < 0 ? n : total;
}

/* A uffd with WP_ASYNC and @len bytes at @addr registered and protected. */
static void async_protect(struct __test_metadata *_metadata,
			  FIXTURE_DATA(bugs) *self, void *addr, size_t len)
{
	ASSERT_EQ(0, uffd_register_range(self->uffd, addr, len,
					 UFFDIO_REGISTER_MODE_WP, NULL));
	ASSERT_EQ(0, uffd_wp_range(self->uffd, addr, len, true));
	/* Freshly protected: nothing reads as written yet. */
	ASSERT_EQ(0, scan_bytes(addr, len, PAGE_IS_WRITTEN, 0));
}

/*
 * Zap two protected anon pages (MADV_DONTNEED leaves pte_none, no
 * marker): both scan paths must call them written, the PAGE_IS_WRITTEN
 * fast path and the generic one a category_anyof_mask query takes.
 */
REPRO(anon_pagemap_scan_zapped_pte)
{
	long fast, generic;
	size_t page;

	self->uffd = FL_UFFD_OPEN(UFFD_FEATURE_PAGEFAULT_FLAG_WP |
				  UFFD_FEATURE_WP_ASYNC);
	FL_MEM_ALLOC(&self->mem, MEM_ANON, 4);
	page = self->mem.page;
	memset(self->mem.addr, 0x11, self->mem.len);
	async_protect(_metadata, self, self->mem.addr, self->mem.len);
	ASSERT_EQ(0, madvise(mem_page(&self->mem, 1), 2 * page, MADV_DONTNEED));

	fast = scan_bytes(self->mem.addr, self->mem.len, PAGE_IS_WRITTEN, 0);
	generic = scan_bytes(self->mem.addr, self->mem.len, 0, PAGE_IS_WRITTEN);
	ASSERT_LE(0, fast);
	ASSERT_LE(0, generic);
	EXPECT_EQ((long)(2 * page), fast);
	BUG_CHECK(bug, generic == fast,
		  "PAGEMAP_SCAN calls the zapped range %ld bytes written through the PAGE_IS_WRITTEN fast path but %ld through the generic path (category_anyof_mask)",
		  fast, generic);
}

/* Bytes of anon THP mapped at @addr's mapping, per smaps. */
static long thp_kb(void *addr)
{
	return vm_smaps_kb(addr, "AnonHugePages");
}

/*
 * A protected anon THP dropped whole with MADV_DONTNEED leaves a PMD
 * hole (no page table): PAGEMAP_SCAN must report it written like an
 * unpopulated pte, or a WP_ASYNC user (CRIU) misses the 2 MiB change.
 */
REPRO(anon_pagemap_scan_pmd_hole)
{
	size_t thp = vm_thp_size();
	const char *why = vm_thp_unavailable();
	long written;
	char *base;

	self->uffd = FL_UFFD_OPEN(UFFD_FEATURE_PAGEFAULT_FLAG_WP |
				  UFFD_FEATURE_WP_ASYNC);
	if (!thp || why)
		FL_SKIP("%s", why ? why : "kernel has no transparent huge pages");
	base = map_private_anon(_metadata, self, 2 * thp);
	base = (char *)(((uintptr_t)base + thp - 1) & ~(uintptr_t)(thp - 1));
	ASSERT_EQ(0, madvise(base, thp, MADV_HUGEPAGE));
	memset(base, 0x11, thp);
	if (thp_kb(base) < (long)(thp >> 10))
		madvise(base, thp, MADV_COLLAPSE);
	if (thp_kb(base) < (long)(thp >> 10))
		FL_SKIP("no transparent huge page could be formed (AnonHugePages %ld kB)",
			thp_kb(base));

	async_protect(_metadata, self, base, thp);
	/* Protection keeps an anon THP mapped by its PMD. */
	if (thp_kb(base) < (long)(thp >> 10))
		FL_SKIP("write protection split the transparent huge page");
	ASSERT_EQ(0, madvise(base, thp, MADV_DONTNEED));
	ASSERT_EQ(0, vm_present(base));

	written = scan_bytes(base, thp, PAGE_IS_WRITTEN, 0);
	ASSERT_LE(0, written);
	BUG_CHECK(bug, written == (long)thp,
		  "PAGEMAP_SCAN reports %ld of the %zu bytes of a protected anon THP dropped with MADV_DONTNEED as written (a PMD hole)",
		  written, thp);
}

/* ---- mmap_changing: the output field of a refused call --------------- */

/*
 * While a REMOVE event is unread, COPY and ZEROPAGE fail with EAGAIN and
 * must say so in their output field too: callers that resume from the
 * field (it holds the bytes done) would otherwise loop or skip.
 */
REPRO(anon_mmap_changing_output)
{
	struct uffdio_copy copy;
	struct uffdio_zeropage zp;
	struct uffd_msg msg;
	size_t page;
	int held;

	self->uffd = FL_UFFD_OPEN(UFFD_FEATURE_EVENT_REMOVE);
	FL_MEM_ALLOC(&self->mem, MEM_ANON, 3);
	page = self->mem.page;
	memset(mem_page(&self->mem, 2), 0x11, page);
	ASSERT_EQ(0, uffd_register_range(self->uffd, self->mem.addr,
					 2 * page, UFFDIO_REGISTER_MODE_MISSING,
					 NULL));
	self->bg_args = (struct bg_mm_args){ .addr = mem_page(&self->mem, 1),
					     .len = page,
					     .advice = MADV_DONTNEED };
	ASSERT_EQ(0, bg_start(&self->bg, bg_madvise, &self->bg_args));
	self->bg_started = true;
	held = bg_held_by_event(&self->bg, self->uffd, 2000);
	ASSERT_EQ(1, held) {
		TH_LOG("MADV_DONTNEED was not held by an unread REMOVE event (%d)",
		       held);
	}

	copy = (struct uffdio_copy){ .dst = (uintptr_t)self->mem.addr,
				     .src = (uintptr_t)mem_page(&self->mem, 2),
				     .len = page, .copy = UNTOUCHED };
	ASSERT_EQ(-EAGAIN, uffd_copy(self->uffd, &copy));
	BUG_CHECK(bug, copy.copy == -EAGAIN,
		  "UFFDIO_COPY refused with EAGAIN while a REMOVE event was unread but left .copy at %lld (caller's value %lld), not -EAGAIN",
		  (long long)copy.copy, UNTOUCHED);
	zp = (struct uffdio_zeropage){
		.range = { (uintptr_t)self->mem.addr, page },
		.zeropage = UNTOUCHED };
	ASSERT_EQ(-EAGAIN, uffd_zeropage(self->uffd, &zp));
	BUG_CHECK(bug, zp.zeropage == -EAGAIN,
		  "UFFDIO_ZEROPAGE refused with EAGAIN while a REMOVE event was unread but left .zeropage at %lld, not -EAGAIN",
		  (long long)zp.zeropage);

	/* Reading the event lets MADV_DONTNEED return. */
	ASSERT_EQ(0, uffd_read_msg(self->uffd, &msg));
	EXPECT_EQ(UFFD_EVENT_REMOVE, msg.event);
	ASSERT_TRUE(fl_thread_wait(&self->bg.th, 2000));
	fl_thread_join(&self->bg.th);
	self->bg_started = false;
	EXPECT_EQ(0, self->bg.ret);
}

/* ---- registration ownership and refusals ------------------------------ */

/*
 * A second uffd of the same process must not unregister a range another
 * uffd owns: the owner would silently stop receiving its faults.
 */
REPRO(anon_unregister_foreign)
{
	struct uffdio_zeropage zp;
	struct uffd_msg msg;
	int ret, got;

	self->uffd = FL_UFFD_OPEN(0);
	self->uffd2 = FL_UFFD_OPEN(0);
	FL_MEM_ALLOC(&self->mem, MEM_ANON, 1);
	ASSERT_EQ(0, uffd_register_range(self->uffd, self->mem.addr,
					 self->mem.page,
					 UFFDIO_REGISTER_MODE_MISSING, NULL));

	ret = uffd_unregister_range(self->uffd2, self->mem.addr,
				    self->mem.page);
	BUG_CHECK(bug, ret == -EINVAL,
		  "UFFDIO_UNREGISTER through a uffd that does not own the range returned %s, not EINVAL",
		  ret ? strerror(-ret) : "success");

	/*
	 * The owner must still get the fault of a read of the hole. A read
	 * that completes first has raised none: its fault would have held
	 * it until resolved.
	 */
	ASSERT_EQ(0, toucher_start(&self->t, self->mem.addr, TOUCH_READ, 0));
	self->t_started = true;
	got = fl_thread_or_readable(&self->t.th, self->uffd, DONE_MS);
	if (got == 1)
		got = uffd_read_msg(self->uffd, &msg);
	else if (got == 0)
		got = -ENOMSG;
	BUG_CHECK(bug, got == 0,
		  "after the foreign UNREGISTER a read of the registered hole raised no fault on the owning uffd (%s): its registration was dropped",
		  got == -ENOMSG ? "the read completed without one" :
		  strerror(-got));
	if (!got) {
		EXPECT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
		zp = (struct uffdio_zeropage){
			.range = { (uintptr_t)self->mem.addr, self->mem.page } };
		ASSERT_EQ(0, uffd_zeropage(self->uffd, &zp));
	}
	ASSERT_TRUE(toucher_done(self, DONE_MS));
	EXPECT_EQ(0, self->t.value);
}

/*
 * REGISTER on a MAP_SHARED mapping of a file opened read-only (no
 * VM_MAYWRITE) must be EPERM: UFFDIO_COPY would fill the file's holes.
 */
REPRO(shmem_register_no_maywrite)
{
	size_t page = base_page();
	char path[64];
	int ret;

	self->uffd = FL_UFFD_OPEN(UFFD_FEATURE_MISSING_SHMEM);
	self->fd = memfd_create("bugs-rdonly", MFD_CLOEXEC);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ftruncate(self->fd, (off_t)page));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", self->fd);
	self->fd2 = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->fd2);
	self->map_len = page;
	self->map = mmap(NULL, page, PROT_READ, MAP_SHARED, self->fd2, 0);
	ASSERT_NE(MAP_FAILED, self->map) {
		self->map = NULL;
	}

	ret = uffd_register_range(self->uffd, self->map, page,
				  UFFDIO_REGISTER_MODE_MISSING, NULL);
	BUG_CHECK(bug, ret == -EPERM,
		  "REGISTER on a MAP_SHARED mapping of a file opened O_RDONLY returned %s, not EPERM: UFFDIO_COPY could write the file",
		  ret ? strerror(-ret) : "success");
	if (!ret)
		uffd_unregister_range(self->uffd, self->map, page);
}

/* A special mapping (@map, @what) must be refused by REGISTER. */
static void expect_register_refused(struct __test_metadata *_metadata,
				    FIXTURE_DATA(bugs) *self,
				    const struct bug *bug, const char *what)
{
	int ret;

	self->uffd = FL_UFFD_OPEN(0);
	ret = uffd_register_range(self->uffd, self->map, self->map_len,
				  UFFDIO_REGISTER_MODE_MISSING, NULL);
	BUG_CHECK(bug, ret == -EINVAL,
		  "REGISTER(MISSING) on a %s mapping returned %s, not EINVAL",
		  what, ret ? strerror(-ret) : "success");
	if (!ret)
		uffd_unregister_range(self->uffd, self->map, self->map_len);
}

/* MAP_DROPPABLE pages may vanish at any time: no uffd on them. */
REPRO(anon_register_droppable)
{
	self->map_len = base_page();
	self->map = mmap(NULL, self->map_len, PROT_READ | PROT_WRITE,
			 MAP_DROPPABLE | MAP_ANONYMOUS, -1, 0);
	if (self->map == MAP_FAILED) {
		self->map = NULL;
		FL_SKIP("mmap(MAP_DROPPABLE): %s (the kernel has no droppable mappings)",
			strerror(errno));
	}
	expect_register_refused(_metadata, self, bug, "MAP_DROPPABLE");
}

/* A shadow stack holds return addresses: UFFDIO_COPY must not fill it. */
REPRO(shadow_stack_register)
{
	long addr;

	self->map_len = base_page();
	addr = syscall(__NR_map_shadow_stack, 0, self->map_len, 0);
	if (addr == -1)
		FL_SKIP("map_shadow_stack: %s (no user shadow stack here)",
			strerror(errno));
	self->map = (void *)addr;
	expect_register_refused(_metadata, self, bug, "shadow stack");
}

/* The probe run without CAP_SYS_PTRACE: UFFDIO_API on the inherited fd. */
static int api_without_ptrace(void *arg, char *note, size_t len)
{
	const int *fds = arg;
	struct uffdio_api fork_api = { .api = UFFD_API,
				       .features = UFFD_FEATURE_EVENT_FORK };
	struct uffdio_api plain = { .api = UFFD_API };
	int ret;

	if (priv_has_cap(CAP_SYS_PTRACE)) {
		snprintf(note, len, "CAP_SYS_PTRACE still effective");
		return -EINVAL;
	}
	ret = uffd_api(fds[1], &plain);
	if (ret) {
		snprintf(note, len, "UFFDIO_API without features: %s",
			 strerror(-ret));
		return -EINVAL;
	}
	return uffd_api(fds[0], &fork_api);
}

/*
 * EVENT_FORK hands the monitor a uffd into every child: asking for it
 * needs CAP_SYS_PTRACE (checked at UFFDIO_API time).
 */
REPRO(api_event_fork_needs_ptrace)
{
	struct priv_result res;
	int fds[2], ret;

	FL_REQUIRE_FEATURES(UFFD_FEATURE_EVENT_FORK);
	FL_REQUIRE_ROOT();
	/* Created with privilege; the handshake happens after the drop. */
	self->uffd = uffd_create_any(0, NULL);
	self->uffd2 = uffd_create_any(0, NULL);
	ASSERT_LE(0, self->uffd);
	ASSERT_LE(0, self->uffd2);
	fds[0] = self->uffd;
	fds[1] = self->uffd2;
	ret = priv_run(PRIV_ROOT_NO_PTRACE, api_without_ptrace, fds, &res,
		       2000);
	if (ret == -EPERM)
		FL_SKIP("cannot drop CAP_SYS_PTRACE here");
	ASSERT_EQ(0, ret) {
		TH_LOG("probe without CAP_SYS_PTRACE did not run: %s (%s)",
		       strerror(-ret), res.note);
	}
	ASSERT_NE(-EINVAL, res.value) {
		TH_LOG("probe: %s", res.note);
	}
	BUG_CHECK(bug, res.value == -EPERM,
		  "UFFDIO_API with UFFD_FEATURE_EVENT_FORK from a process without CAP_SYS_PTRACE returned %s, not EPERM",
		  res.value ? strerror(-res.value) : "success");
}

/* ---- UFFDIO_COPY into private shmem, UFFDIO_MOVE of the zero page ----- */

/*
 * UFFDIO_COPY into a MAP_PRIVATE shmem mapping must fill a private anon
 * page: the file (seen through a MAP_SHARED view) keeps its hole.
 */
REPRO(shmem_private_copy)
{
	struct uffdio_copy copy;
	uint64_t entry = 0;
	size_t page;
	char *src;

	self->uffd = FL_UFFD_OPEN(UFFD_FEATURE_MISSING_SHMEM);
	FL_MEM_ALLOC(&self->mem, MEM_SHMEM_PRIVATE, 1);
	page = self->mem.page;
	src = map_private_anon(_metadata, self, page);
	mem_fill(src, page, 7);
	ASSERT_EQ(0, uffd_register_range(self->uffd, self->mem.addr, page,
					 UFFDIO_REGISTER_MODE_MISSING, NULL));
	copy = (struct uffdio_copy){ .dst = (uintptr_t)self->mem.addr,
				     .src = (uintptr_t)src, .len = page };
	ASSERT_EQ(0, uffd_copy(self->uffd, &copy));
	ASSERT_EQ((long long)page, copy.copy);
	EXPECT_EQ(-1, mem_check(self->mem.addr, page, 7));

	BUG_CHECK(bug, mem_check_zero(self->mem.alias, page) == -1,
		  "UFFDIO_COPY into a MAP_PRIVATE shmem mapping wrote the file: its MAP_SHARED view reads the copied bytes");
	ASSERT_EQ(0, pagemap_entry(self->mem.addr, &entry));
	BUG_CHECK(bug, !(entry & PM_FILE),
		  "the page UFFDIO_COPY placed in a MAP_PRIVATE shmem mapping is a file page, not a private anon page (pagemap 0x%llx)",
		  (unsigned long long)entry);
}

/*
 * UFFDIO_MOVE of a source page that maps the shared zero page (read but
 * never written) must move it like any other page.
 */
REPRO(anon_move_zeropage)
{
	struct uffdio_move mv;
	volatile char *src;
	char *dst;
	size_t page;
	int ret;

	self->uffd = FL_UFFD_OPEN(UFFD_FEATURE_MOVE);
	FL_MEM_ALLOC(&self->mem, MEM_ANON, 1);
	page = self->mem.page;
	dst = self->mem.addr;
	/* The source is outside the registered range: reading it maps zero. */
	src = map_private_anon(_metadata, self, page);
	ASSERT_EQ(0, src[0]);
	ASSERT_EQ(1, vm_present((void *)src));
	ASSERT_EQ(0, uffd_register_range(self->uffd, dst, page,
					 UFFDIO_REGISTER_MODE_MISSING, NULL));

	mv = (struct uffdio_move){ .dst = (uintptr_t)dst,
				   .src = (uintptr_t)src, .len = page };
	ret = uffd_move(self->uffd, &mv);
	BUG_CHECK(bug, ret == 0,
		  "UFFDIO_MOVE of a page mapping the shared zero page failed with %s (.move %lld)",
		  strerror(-ret), (long long)mv.move);
	if (ret)
		return;
	EXPECT_EQ((long long)page, mv.move);
	EXPECT_EQ(0, vm_present((void *)src));
	/* Only a present destination can be read without a fault. */
	ASSERT_EQ(1, vm_present(dst));
	EXPECT_EQ(-1, mem_check_zero(dst, page));
}

/* ---- the table -------------------------------------------------------- */

#define BUG(name, ...)							\
	static const struct bug bug_##name = { .id = #name, __VA_ARGS__ }; \
	FIXTURE_VARIANT_ADD(bugs, name) { .bug = &bug_##name, .run = name }

BUG(hugetlb_private_wp_fork,
    .fix = "5a2f8d22ace4c8ac8798fab836dca7350fa710b1",
    .title = "mm/hugetlb: fix uffd-wp during fork()",
    .introduced = "bc70fbf269fd",
    .symptom = "without EVENT_FORK a forked child's copy of a write-protected private hugetlb page keeps the uffd-wp bit; the child's write to it refaults forever (the child hangs)");

BUG(hugetlb_private_wp_cow,
    .fix = "f042ee354c827bf4946cf3113a3b5eaa030c6ea4",
    .title = "mm/hugetlb: fix uffd wr-protection for CoW optimization path",
    .introduced = "5.19",
    .symptom = "the first write to a write-protected, never-touched page of a private hugetlb mapping whose file page exists is not trapped: uffd-wp protection is silently lost");

BUG(shmem_private_wp_marker_fork,
    .fix = "49d6d7fb631345b0f2957a7c4be24ad63903150f",
    .title = "mm/uffd: fix pte marker when fork() without fork event",
    .introduced = "5.19",
    .symptom = "fork() without EVENT_FORK copies uffd-wp pte markers into the child's unregistered VMA (pagemap shows uffd-wp there) and warns in the kernel log");

BUG(anon_wp_unregister_leftover,
    .fix = "f369b07c861435bd812a9d14493f71b34132ed6f",
    .title = "mm/uffd: reset write protection when unregister with wp-mode",
    .introduced = "63b2d4174c4a",
    .symptom = "UFFDIO_UNREGISTER leaves the uffd-wp bit on protected pages: registering the range for WP again traps writes nobody protected");

BUG(anon_wp_close_leftover,
    .fix = "c88033efe9a391e72ba6b5df4b01d6e628f4e734",
    .title = "mm/userfaultfd: reset ptes when close() for wr-protected ones",
    .introduced = "f369b07c8614",
    .cve = "CVE-2024-36881",
    .symptom = "closing a uffd leaves the uffd-wp bit on the pages it protected: a later uffd registering the range for WP traps writes nobody protected");

BUG(anon_pagemap_scan_zapped_pte,
    .fix = "07b4377bdbe74a3ec0c8da5849d014f70e003384",
    .title = "fs/proc/task_mmu: fix PAGEMAP_SCAN written state for unpopulated ptes",
    .introduced = "12f6b01a0bcb",
    .symptom = "PAGEMAP_SCAN reports a zapped (MADV_DONTNEED) page of a WP_ASYNC range as clean when asked with anyof/inverted masks and does not re-arm it: incremental dumps (CRIU) miss the change");

BUG(anon_pagemap_scan_pmd_hole,
    .fix = "40de8160ca7f67d14619ee0351ce5d68fc4a237a",
    .title = "fs/proc/task_mmu: fix PAGEMAP_SCAN written state for PMD holes",
    .introduced = "2bad466cc9d9",
    .symptom = "a write-protected anon THP dropped with MADV_DONTNEED is not reported written by PAGEMAP_SCAN: a WP_ASYNC user (CRIU) keeps stale data for the 2 MiB range");

BUG(anon_mmap_changing_output,
    .fix = "95567729173e62e0e60a1f8ad9eb2e1320a8ccac",
    .title = "mm/userfaultfd: fix uninitialized output field for -EAGAIN race",
    .introduced = "df2cc96e7701",
    .symptom = "COPY/ZEROPAGE/CONTINUE/POISON/MOVE refused with EAGAIN while a non-cooperative event is unread leave their output field untouched: a caller resuming from it loops or skips pages");

BUG(anon_unregister_foreign,
    .fix = "23ec90eb122faaf0468f450c5d5857a794956c75",
    .title = "userfaultfd: prevent unregistering VMAs through a different userfaultfd",
    .introduced = "86039bd3b4e6",
    .symptom = "any uffd of the process can UFFDIO_UNREGISTER a range another uffd owns: the owner silently stops getting its faults (holes read as zeros)");

BUG(anon_register_droppable,
    .fix = "7208cc6497c2615ed5a334b52c92ae98bda91198",
    .title = "userfaultfd: correctly prevent registering VM_DROPPABLE regions",
    .introduced = "6.11",
    .symptom = "UFFDIO_REGISTER accepts MAP_DROPPABLE mappings, whose pages the kernel may drop at any time");

BUG(shadow_stack_register,
    .fix = "3c58f641e813c3c71039f8fd4d4e2a3aab713288",
    .title = "userfaultfd: prevent registration of special VMAs",
    .introduced = "54007f818206",
    .cve = "CVE-2026-68166",
    .symptom = "UFFDIO_REGISTER accepts a shadow stack: a page of it can be dropped and refilled with chosen return addresses through UFFDIO_COPY");

BUG(shmem_register_no_maywrite,
    .fix = "29ec90660d68bbdd69507c1c8b4e33aa299278b1",
    .title = "userfaultfd: shmem/hugetlbfs: only allow to register VM_MAYWRITE vmas",
    .introduced = "4c27fe4c4c84",
    .cve = "CVE-2018-18397",
    .symptom = "a process with read-only access to a tmpfs/hugetlbfs file can register a MAP_SHARED mapping of it and fill the file's holes with UFFDIO_COPY");

BUG(shmem_private_copy,
    .fix = "5b51072e97d587186c2f5390c8c9c1fb7e179505",
    .title = "userfaultfd: shmem: allocate anonymous memory for MAP_PRIVATE shmem",
    .introduced = "4c27fe4c4c84",
    .symptom = "UFFDIO_COPY into a MAP_PRIVATE shmem mapping puts the page into the shared file: other mappings of the file see the private data");

BUG(api_event_fork_needs_ptrace,
    .fix = "3c1c24d91ffd",
    .title = "userfaultfd: require CAP_SYS_PTRACE for UFFD_FEATURE_EVENT_FORK",
    .introduced = "4.11",
    .symptom = "a process without CAP_SYS_PTRACE can ask for EVENT_FORK and receive a uffd into the address space of every child it forks, including set-uid ones");

BUG(anon_move_zeropage,
    .fix = "ea4df6a5ea81105879ca5549555e231c4596fbc4",
    .title = "userfaultfd: handle zeropage moves by UFFDIO_MOVE",
    .introduced = "adef440691ba",
    .symptom = "UFFDIO_MOVE of a page that was only read (it maps the shared zero page) fails with EBUSY");

/* The pool for the two private hugetlb points and their copies. */
FL_TEST_MAIN(8)
