// SPDX-License-Identifier: GPL-2.0
/*
 * MINOR faults and UFFDIO_CONTINUE: a page already in the page cache but
 * not mapped at the registered address traps; the monitor may change it
 * through a second mapping, then CONTINUE maps it. Shared and private file
 * mappings (shmem, hugetlb); anon must refuse.
 *
 * Reference points covered: uffd-unit-tests minor (read/write_fault_continue),
 * minor-wp (continue_mode_wp), minor-collapse (collapse), the MINOR rows of
 * register-ioctls (register); LTP userfaultfd07 (read_fault_continue).
 */
#include <fcntl.h>
#include <sys/mman.h>

#include "ksft_case.h"
#include "pagemap.h"
#include "vmstate.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

#define NPAGES	4
#define SEED_A	21	/* page cache contents when the fault happens */
#define SEED_B	22	/* what the monitor writes before CONTINUE */
#define WVAL	0x5a	/* even: never equal to a pattern byte */

/* The SEED_A pattern; the collapse test maps one THP-sized range. */
FL_REFERENCE_PATTERN(ref, NPAGES, vm_thp_size(), SEED_A)

/* Bytes at @p equal the SEED_A pattern at offset @off of an area. */
static bool pattern_at(const char *p, size_t len, size_t off)
{
	return ref && !memcmp(p, ref + off, len);
}

FIXTURE(minor) {
	FL_CASE_HOLDS;
};

FL_MEM_VARIANTS(minor, MEM_ALL);

FIXTURE_SETUP(minor)
{
	ASSERT_NE(NULL, ref);
	FL_CASE_SETUP(NPAGES);
}

FIXTURE_TEARDOWN(minor)
{
	FL_CASE_TEARDOWN();
}

/* The kernel's UFFDIO_API answer has every bit of @f. */
static bool kernel_reports(uint64_t f)
{
	uint64_t have = 0;

	return !fl_kernel_features(&have, NULL) && (have & f) == f;
}

static int do_continue(int fd, void *addr, size_t len, uint64_t mode,
		       int64_t *mapped)
{
	*mapped = 0;
	return uffd_range_ioctl(_UFFDIO_CONTINUE, fd, addr, NULL, len, mode,
				mapped);
}

/*
 * Anon has no page cache: REGISTER with MINOR is EINVAL, and CONTINUE on
 * an anon range (registered MISSING) is EINVAL with .mapped = -EINVAL and
 * maps nothing. The MINOR features are requested when the kernel has
 * them, so the refusal is about the memory type, not a missing feature.
 */
static void expect_minor_refusal(struct __test_metadata *_metadata,
				FIXTURE_DATA(minor) *self)
{
	uint64_t have = 0, want;
	int64_t mapped = 0;

	fl_kernel_features(&have, NULL);
	want = have & (UFFD_FEATURE_MINOR_SHMEM | UFFD_FEATURE_MINOR_HUGETLBFS);
	self->uffd = FL_UFFD_OPEN(want);
	EXPECT_EQ(-EINVAL, uffd_register_range(self->uffd, self->mem.addr,
					       self->mem.len,
					       UFFDIO_REGISTER_MODE_MINOR,
					       NULL));
	EXPECT_EQ(-EINVAL, uffd_register_range(self->uffd, self->mem.addr,
					       self->mem.len,
					       UFFDIO_REGISTER_MODE_MINOR |
					       UFFDIO_REGISTER_MODE_MISSING,
					       NULL));
	ASSERT_EQ(0, uffd_register_range(self->uffd, self->mem.addr,
					 self->mem.len,
					 UFFDIO_REGISTER_MODE_MISSING, NULL));
	EXPECT_EQ(-EINVAL, do_continue(self->uffd, self->mem.addr,
				       self->mem.page, 0, &mapped));
	/* A kernel without MINOR does not know CONTINUE: no output field. */
	if (want)
		EXPECT_EQ(-EINVAL, mapped);
	EXPECT_EQ(0, vm_present(self->mem.addr));
}

/*
 * Open a uffd with the MINOR feature of this type plus @extra and register
 * the area MINOR | @mode. Returns false for anon, after checking that anon
 * refuses (the caller then has nothing more to do).
 */
static bool minor_open(struct __test_metadata *_metadata,
		       FIXTURE_DATA(minor) *self,
		       const FIXTURE_VARIANT(minor) *variant, uint64_t extra,
		       uint64_t mode)
{
	uint64_t ioctls = 0;

	if (!mem_mode_applies(variant->mem, UFFDIO_REGISTER_MODE_MINOR)) {
		expect_minor_refusal(_metadata, self);
		return false;
	}
	self->uffd = FL_UFFD_OPEN(fl_minor_feature(variant->mem) | extra);
	ASSERT_EQ(0, uffd_register_range(self->uffd, self->mem.addr,
					 self->mem.len,
					 UFFDIO_REGISTER_MODE_MINOR | mode,
					 &ioctls));
	/* The kernel reported the MINOR feature: CONTINUE must be offered. */
	EXPECT_TRUE(ioctls & (1ULL << _UFFDIO_CONTINUE)) {
		TH_LOG("REGISTER(MINOR) ioctls 0x%llx lack CONTINUE",
		       (unsigned long long)ioctls);
	}
	return true;
}

/*
 * minor_open() with no extra feature or mode, then the whole page cache
 * filled from ref through the alias: nothing is mapped at the registered
 * range yet, every page is cached. False where MINOR is not defined.
 */
static bool minor_open_cached(struct __test_metadata *_metadata,
			      FIXTURE_DATA(minor) *self,
			      const FIXTURE_VARIANT(minor) *variant)
{
	if (!minor_open(_metadata, self, variant, 0, 0))
		return false;
	memcpy(self->mem.alias, ref, self->mem.len);
	return true;
}

/*
 * With the page cache filled from ref (through the alias), toucher t
 * accesses @p + @off (@kind, @val) and waits in the MINOR fault it raised
 * on @p (a write's carries WRITE too). False, after checking the refusal,
 * where MINOR is not defined.
 */
static bool minor_fault(struct __test_metadata *_metadata,
			FIXTURE_DATA(minor) *self,
			const FIXTURE_VARIANT(minor) *variant, char *p,
			size_t off, enum touch_kind kind, unsigned char val)
{
	if (!minor_open_cached(_metadata, self, variant))
		return false;
	ASSERT_EQ(0, toucher_start(&self->t, p + off, kind, val));
	fl_expect_fault(_metadata, self->uffd, p, UFFD_PAGEFAULT_FLAG_MINOR |
			(kind == TOUCH_WRITE ? UFFD_PAGEFAULT_FLAG_WRITE : 0));
	return true;
}

/* CONTINUE page @p in @mode: it maps the whole page. */
static void continue_page(struct __test_metadata *_metadata,
			  FIXTURE_DATA(minor) *self, char *p, uint64_t mode)
{
	int64_t mapped = 0;

	ASSERT_EQ(0, do_continue(self->uffd, p, self->page, mode, &mapped));
	EXPECT_EQ((int64_t)self->page, mapped);
}

/* REGISTER(MINOR) works on file memory and offers CONTINUE; anon refuses. */
TEST_F(minor, register)
{
	if (!minor_open(_metadata, self, variant, 0, 0))
		return;
	/* Registering MINOR does not map or fault anything by itself... */
	EXPECT_EQ(0, vm_present(self->mem.addr));
	fl_expect_no_msg(_metadata, self->uffd);
	/* ...but it is in force: a read of a cached page traps. */
	memcpy(self->mem.alias, ref, self->mem.page);
	ASSERT_EQ(0, toucher_start(&self->t, self->mem.addr + 1, TOUCH_READ,
				   0));
	fl_expect_fault(_metadata, self->uffd, self->mem.addr,
			UFFD_PAGEFAULT_FLAG_MINOR);
	EXPECT_TRUE(toucher_blocked(&self->t));
	continue_page(_metadata, self, self->mem.addr, 0);
	FL_TOUCHER_DONE(&self->t);
	EXPECT_EQ((unsigned char)ref[1], self->t.value);
}

/*
 * A read of a page that is in the page cache but not mapped raises a
 * MINOR fault (no WRITE flag); the bytes changed through the alias before
 * CONTINUE are what the reader sees, and only that page gets mapped.
 */
TEST_F_TIMEOUT(minor, read_fault_continue, 5)
{
	size_t page = self->mem.page;
	char *p = mem_page(&self->mem, 1);

	if (!minor_fault(_metadata, self, variant, p, 5, TOUCH_READ, 0))
		return;
	EXPECT_TRUE(toucher_blocked(&self->t));

	mem_fill(self->mem.alias + page, page, SEED_B);
	continue_page(_metadata, self, p, 0);
	FL_TOUCHER_DONE(&self->t);
	EXPECT_FALSE(self->t.got_sigbus);
	EXPECT_EQ((unsigned char)self->mem.alias[page + 5], self->t.value);
	EXPECT_EQ(-1, mem_check(p, page, SEED_B));
	EXPECT_EQ(1, vm_present(p));
	EXPECT_EQ(0, vm_present(mem_page(&self->mem, 2)));
	fl_expect_no_msg(_metadata, self->uffd);
}

/*
 * A write raises MINOR|WRITE; after CONTINUE the write lands. A shared
 * mapping writes the page cache (the alias sees it); a private one gets
 * its own copy and leaves the page cache alone.
 */
TEST_F_TIMEOUT(minor, write_fault_continue, 5)
{
	size_t page = self->mem.page;
	char *p = mem_page(&self->mem, 2);
	char *a = self->mem.alias + 2 * page;

	if (!minor_fault(_metadata, self, variant, p, 9, TOUCH_WRITE, WVAL))
		return;
	EXPECT_TRUE(toucher_blocked(&self->t));
	EXPECT_TRUE(pattern_at(self->mem.alias, self->mem.len, 0));

	continue_page(_metadata, self, p, 0);
	FL_TOUCHER_DONE(&self->t);
	EXPECT_EQ(WVAL, (unsigned char)p[9]);
	EXPECT_EQ(0, memcmp(p, a, 9));
	EXPECT_EQ(0, memcmp(p + 10, a + 10, page - 10));
	if (mem_is_shared(variant->mem)) {
		EXPECT_EQ(WVAL, (unsigned char)a[9]);
	} else {
		/* Private: CONTINUE mapped the cache page read-only; COW. */
		EXPECT_TRUE(pattern_at(self->mem.alias, self->mem.len, 0));
	}
	fl_expect_no_msg(_metadata, self->uffd);
}

/*
 * CONTINUE with DONTWAKE maps the page but leaves the reader asleep until
 * UFFDIO_WAKE; then it reads the mapped bytes.
 */
TEST_F_TIMEOUT(minor, continue_dontwake, 5)
{
	size_t page = self->mem.page;
	char *p = mem_page(&self->mem, 3);

	if (!minor_fault(_metadata, self, variant, p, 4, TOUCH_READ, 0))
		return;
	continue_page(_metadata, self, p, UFFDIO_CONTINUE_MODE_DONTWAKE);
	EXPECT_EQ(1, vm_present(p));
	EXPECT_TRUE(toucher_blocked(&self->t)) {
		TH_LOG("CONTINUE with DONTWAKE woke the reader");
	}
	ASSERT_EQ(0, uffd_wake_range(self->uffd, p, page));
	FL_TOUCHER_DONE(&self->t);
	EXPECT_EQ((unsigned char)ref[3 * page + 4], self->t.value);
}

/*
 * MINOR alone does not trap holes: a page that is not in the page cache
 * is allocated as usual (zeros) without a message.
 */
TEST_F_TIMEOUT(minor, hole_not_trapped, 5)
{
	size_t page = self->mem.page;
	char *hole = mem_page(&self->mem, 2);

	if (!minor_open(_metadata, self, variant, 0, 0))
		return;
	ASSERT_EQ(0, toucher_start(&self->t, hole + 1, TOUCH_READ, 0xff));
	ASSERT_TRUE(toucher_wait(&self->t, 2000)) {
		TH_LOG("a read of a hole blocked under MINOR-only registration");
	}
	toucher_join(&self->t);
	EXPECT_EQ(0, self->t.value);
	EXPECT_EQ(-1, mem_check_zero(hole, page));
	fl_expect_no_msg(_metadata, self->uffd);
}

/*
 * MINOR and MISSING together: a hole raises a MISSING fault (no MINOR
 * flag, resolved by COPY), a cached page a MINOR one (resolved by
 * CONTINUE).
 */
TEST_F_TIMEOUT(minor, with_missing, 5)
{
	size_t page = self->mem.page;
	char *hole = mem_page(&self->mem, 3), *cached = mem_page(&self->mem, 1);
	struct uffdio_copy c = { .dst = (uintptr_t)hole,
				 .src = (uintptr_t)ref + 3 * page, .len = page };

	if (!minor_open(_metadata, self, variant,
			fl_missing_feature(variant->mem),
			UFFDIO_REGISTER_MODE_MISSING))
		return;
	memcpy(self->mem.alias, ref, 2 * page);

	ASSERT_EQ(0, toucher_start(&self->t, hole, TOUCH_READ, 0));
	fl_expect_fault(_metadata, self->uffd, hole, 0);
	ASSERT_EQ(0, uffd_copy(self->uffd, &c));
	EXPECT_EQ((int64_t)page, c.copy);
	FL_TOUCHER_DONE(&self->t);
	EXPECT_TRUE(pattern_at(hole, page, 3 * page));

	ASSERT_EQ(0, toucher_start(&self->t, cached, TOUCH_READ, 0));
	fl_expect_fault(_metadata, self->uffd, cached,
			UFFD_PAGEFAULT_FLAG_MINOR);
	continue_page(_metadata, self, cached, 0);
	FL_TOUCHER_DONE(&self->t);
	EXPECT_TRUE(pattern_at(cached, page, page));
	fl_expect_no_msg(_metadata, self->uffd);
}

/*
 * CONTINUE without a fault maps the page; a second CONTINUE of the same
 * page is EEXIST with .mapped = -EEXIST.
 */
TEST_F(minor, continue_eexist)
{
	size_t page = self->mem.page;
	int64_t mapped = 0;

	if (!minor_open_cached(_metadata, self, variant))
		return;
	ASSERT_EQ(0, do_continue(self->uffd, self->mem.addr, page, 0,
				 &mapped));
	EXPECT_EQ((int64_t)page, mapped);
	EXPECT_EQ(1, vm_present(self->mem.addr));
	/* Mapped now: reading it raises no fault. */
	EXPECT_TRUE(pattern_at(self->mem.addr, page, 0));
	fl_expect_no_msg(_metadata, self->uffd);

	mapped = 0;
	EXPECT_EQ(-EEXIST, do_continue(self->uffd, self->mem.addr, page, 0,
				       &mapped));
	EXPECT_EQ(-EEXIST, mapped);
}

/*
 * Partial CONTINUE: pages 1-3 cached, page 2 already mapped. One CONTINUE
 * over pages 1-3 maps page 1, stops at page 2 and says so: EAGAIN with
 * .mapped = one page, waking the reader waiting on page 1. Resuming at
 * page 2 meets the mapped page (EEXIST, nothing done); past it completes.
 */
TEST_F_TIMEOUT(minor, continue_partial, 5)
{
	size_t page = self->mem.page, done = 99;
	char *p1 = mem_page(&self->mem, 1), *p2 = mem_page(&self->mem, 2);
	int64_t mapped = 0;
	int ret;

	if (!minor_fault(_metadata, self, variant, p1, 7, TOUCH_READ, 0))
		return;
	continue_page(_metadata, self, p2, 0);

	ret = do_continue(self->uffd, p1, 3 * page, 0, &mapped);
	TH_LOG("CONTINUE over unmapped+mapped: %s, .mapped = %lld",
	       strerror(-ret), (long long)mapped);
	EXPECT_EQ(-EAGAIN, ret);
	EXPECT_EQ((int64_t)page, mapped);
	FL_TOUCHER_DONE(&self->t);
	EXPECT_EQ((unsigned char)ref[page + 7], self->t.value);
	EXPECT_EQ(1, vm_present(p1));
	EXPECT_EQ(0, vm_present(mem_page(&self->mem, 3)));

	/* The resume helper stops at the real error, without progress. */
	EXPECT_EQ(-EEXIST, uffd_continue_all(self->uffd, p2, 2 * page, 0,
					     &done));
	EXPECT_EQ(0, done);
	EXPECT_EQ(0, uffd_continue_all(self->uffd, mem_page(&self->mem, 3),
				       page, 0, &done));
	EXPECT_EQ(page, done);
	EXPECT_TRUE(pattern_at(p1, 3 * page, page));
	EXPECT_EQ(0, vm_present(self->mem.addr));
	fl_expect_no_msg(_metadata, self->uffd);
}

/*
 * CONTINUE needs the page in the page cache: over a hole it fails with
 * EFAULT (.mapped = -EFAULT) and maps nothing.
 */
TEST_F(minor, continue_hole_efault)
{
	size_t page = self->mem.page;
	char *hole = mem_page(&self->mem, NPAGES - 1);
	int64_t mapped = 0;

	if (!minor_open(_metadata, self, variant, 0, 0))
		return;
	memcpy(self->mem.alias, ref, (NPAGES - 1) * page);
	EXPECT_EQ(-EFAULT, do_continue(self->uffd, hole, page, 0, &mapped));
	EXPECT_EQ(-EFAULT, mapped);
	EXPECT_EQ(0, vm_present(hole));
}

/*
 * A range that is not page aligned (for hugetlb: huge page aligned), or
 * empty, is EINVAL and maps nothing.
 */
TEST_F(minor, unaligned_einval)
{
	size_t page = self->mem.page;
	size_t bad = mem_is_hugetlb(variant->mem) ?
		     (size_t)sysconf(_SC_PAGESIZE) : 1;
	char *p = mem_page(&self->mem, 1);
	int64_t mapped = 0;

	if (!minor_open_cached(_metadata, self, variant))
		return;
	EXPECT_EQ(-EINVAL, do_continue(self->uffd, p + bad, page, 0, &mapped));
	EXPECT_EQ(-EINVAL, do_continue(self->uffd, p, bad, 0, &mapped));
	EXPECT_EQ(-EINVAL, do_continue(self->uffd, p, 0, 0, &mapped));
	EXPECT_EQ(0, vm_present(p));
	EXPECT_EQ(0, vm_present(p + page - 1));
}

/*
 * CONTINUE outside any registration (the alias maps the same file but is
 * not registered) is ENOENT with .mapped = -ENOENT.
 */
TEST_F(minor, unregistered_enoent)
{
	size_t page = self->mem.page;
	int64_t mapped = 0;

	if (!minor_open_cached(_metadata, self, variant))
		return;
	ASSERT_EQ(0, madvise(self->mem.alias, page, MADV_DONTNEED));
	EXPECT_EQ(-ENOENT, do_continue(self->uffd, self->mem.alias, page, 0,
				       &mapped));
	EXPECT_EQ(-ENOENT, mapped);
	EXPECT_EQ(0, vm_present(self->mem.alias));
}

/*
 * CONTINUE with MODE_WP maps the page write-protected: reads pass, a
 * write raises a WP fault and lands only after unprotect.
 */
TEST_F_TIMEOUT(minor, continue_mode_wp, 5)
{
	size_t page = self->mem.page;
	char *p = mem_page(&self->mem, 1);
	char *a = self->mem.alias + page;
	int64_t mapped = 0;
	int ret;

	if (!minor_open(_metadata, self, variant, fl_wp_features(variant->mem),
			UFFDIO_REGISTER_MODE_WP))
		return;
	memcpy(self->mem.alias, ref, self->mem.len);
	ret = do_continue(self->uffd, p, page, UFFDIO_CONTINUE_MODE_WP,
			  &mapped);
	/*
	 * CONTINUE_MODE_WP has no feature bit of its own; it predates
	 * WP_UNPOPULATED, so a kernel reporting that must accept it.
	 */
	if (ret == -EINVAL && !vm_present(p) &&
	    !kernel_reports(UFFD_FEATURE_WP_UNPOPULATED))
		FL_SKIP("kernel refuses UFFDIO_CONTINUE_MODE_WP (EINVAL) and does not report UFFD_FEATURE_%s",
			UFFD_FEATURE_NAME(UFFD_FEATURE_WP_UNPOPULATED));
	ASSERT_EQ(0, ret);
	EXPECT_EQ((int64_t)page, mapped);
	EXPECT_EQ(1, pagemap_uffd_wp(p));
	EXPECT_TRUE(pattern_at(p, page, page));

	ASSERT_EQ(0, toucher_start(&self->t, p + 3, TOUCH_WRITE, WVAL));
	fl_expect_fault(_metadata, self->uffd, p,
		     UFFD_PAGEFAULT_FLAG_WP | UFFD_PAGEFAULT_FLAG_WRITE);
	EXPECT_TRUE(toucher_blocked(&self->t));
	EXPECT_TRUE(pattern_at(p, page, page));

	ASSERT_EQ(0, uffd_wp_range(self->uffd, p, page, false));
	FL_TOUCHER_DONE(&self->t);
	EXPECT_EQ(WVAL, (unsigned char)p[3]);
	if (mem_is_shared(variant->mem)) {
		EXPECT_EQ(WVAL, (unsigned char)a[3]);
	} else {
		EXPECT_TRUE(pattern_at(a, page, page));
	}
}

/* Map @fd at an address aligned to @len, so a PMD could map it. */
static char *map_aligned(int fd, size_t len, int flags)
{
	char *base = mmap(NULL, 2 * len, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p;

	if (base == MAP_FAILED)
		return NULL;
	p = (char *)(((uintptr_t)base + len - 1) & ~(uintptr_t)(len - 1));
	if (p > base)
		munmap(base, p - base);
	munmap(p + len, base + len - p);
	p = mmap(p, len, PROT_READ | PROT_WRITE, flags | MAP_FIXED, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* The shmem_enabled setting in force ("never", "deny", ...), or "". */
static const char *shmem_thp_setting(char *buf, size_t len)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/shmem_enabled",
			"re");
	char *open, *close;

	buf[0] = 0;
	if (!f)
		return buf;
	if (!fgets(buf, (int)len, f))
		buf[0] = 0;
	fclose(f);
	open = strchr(buf, '[');
	close = open ? strchr(open, ']') : NULL;
	if (!open || !close)
		return "";
	*close = 0;
	return open + 1;
}

/*
 * MADV_COLLAPSE of the shmem range [@p, @p+@len), retried while the
 * kernel says its resources are busy (EAGAIN). A skip names what the
 * kernel said: the advice unknown (EINVAL), shmem huge pages denied by
 * the administrator, no huge page to allocate (ENOMEM), resources still
 * busy. Any other answer is a failure.
 */
static void collapse_or_skip(struct __test_metadata *_metadata, char *p,
			     size_t len)
{
	char buf[128];
	const char *setting = shmem_thp_setting(buf, sizeof(buf));
	int tries = 0, err;

	while (madvise(p, len, MADV_COLLAPSE)) {
		err = errno;
		if (err == EAGAIN && ++tries < 5) {
			usleep(10000);
			continue;
		}
		if (err == EINVAL && !strcmp(setting, "deny"))
			FL_SKIP("MADV_COLLAPSE on shmem: EINVAL, shmem huge pages are denied (shmem_enabled [deny])");
		if (err == EINVAL)
			FL_SKIP("MADV_COLLAPSE on shmem: EINVAL (the kernel does not know the advice or cannot collapse shmem; shmem_enabled [%s])",
				setting);
		if (err == ENOMEM)
			FL_SKIP("MADV_COLLAPSE on shmem: ENOMEM (no huge page could be allocated)");
		if (err == EAGAIN)
			FL_SKIP("MADV_COLLAPSE on shmem: EAGAIN %d times (resources busy)",
				tries);
		ASSERT_EQ(0, err) {
			TH_LOG("MADV_COLLAPSE on shmem: %s", strerror(err));
		}
	}
}

/*
 * Collapsing the page cache into a huge page (MADV_COLLAPSE through the
 * unregistered alias) must not bypass the MINOR registration: the
 * registered mapping still traps, page by page, and is not PMD-mapped.
 */
static void shmem_collapse(struct __test_metadata *_metadata,
			   FIXTURE_DATA(minor) *self,
			   const FIXTURE_VARIANT(minor) *variant)
{
	size_t hp = vm_thp_size(), page = self->mem.page;
	char *alias, *reg, *p;
	int fd;

	if (!hp)
		FL_SKIP("no transparent huge pages (hpage_pmd_size missing)");
	fd = memfd_create("minor-collapse", MFD_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, hp));
	alias = map_aligned(fd, hp, MAP_SHARED);
	reg = map_aligned(fd, hp, mem_is_shared(variant->mem) ?
			  MAP_SHARED : MAP_PRIVATE);
	ASSERT_NE(NULL, alias);
	ASSERT_NE(NULL, reg);
	memcpy(alias, ref, hp);

	self->uffd = FL_UFFD_OPEN(UFFD_FEATURE_MINOR_SHMEM);
	ASSERT_EQ(0, uffd_register_range(self->uffd, reg, hp,
					 UFFDIO_REGISTER_MODE_MINOR, NULL));
	collapse_or_skip(_metadata, alias, hp);
	/* The collapse happened: the alias maps one huge page by its PMD. */
	EXPECT_EQ((long)(hp / 1024), vm_smaps_kb(alias, "ShmemPmdMapped")) {
		TH_LOG("MADV_COLLAPSE succeeded but the alias is not PMD-mapped");
	}
	EXPECT_TRUE(pattern_at(alias, hp, 0));

	p = reg + 3 * page;
	ASSERT_EQ(0, toucher_start(&self->t, p + 1, TOUCH_READ, 0));
	fl_expect_fault(_metadata, self->uffd, p, UFFD_PAGEFAULT_FLAG_MINOR);
	continue_page(_metadata, self, p, 0);
	FL_TOUCHER_DONE(&self->t);
	EXPECT_EQ((unsigned char)alias[3 * page + 1], self->t.value);
	/* Only the continued page is mapped, not the whole huge page. */
	EXPECT_EQ(0, vm_present(reg));
	EXPECT_EQ(0, vm_present(reg + hp - page));
	EXPECT_EQ(0, vm_smaps_kb(reg, "ShmemPmdMapped"));
	fl_expect_no_msg(_metadata, self->uffd);
	munmap(alias, hp);
	munmap(reg, hp);
	close(fd);
}

/*
 * MADV_COLLAPSE vs MINOR. shmem: see shmem_collapse(). hugetlb: already
 * huge, MADV_COLLAPSE is EINVAL there and the registration still traps.
 */
TEST_F_TIMEOUT(minor, collapse, 5)
{
	size_t page = self->mem.page;
	int64_t mapped = 0;

	if (!mem_mode_applies(variant->mem, UFFDIO_REGISTER_MODE_MINOR)) {
		expect_minor_refusal(_metadata, self);
		return;
	}
	if (!mem_is_hugetlb(variant->mem)) {
		shmem_collapse(_metadata, self, variant);
		return;
	}
	if (!minor_open_cached(_metadata, self, variant))
		return;
	EXPECT_EQ(-1, madvise(self->mem.alias, self->mem.len, MADV_COLLAPSE));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, toucher_start(&self->t, self->mem.addr, TOUCH_READ, 0));
	fl_expect_fault(_metadata, self->uffd, self->mem.addr,
		     UFFD_PAGEFAULT_FLAG_MINOR);
	ASSERT_EQ(0, do_continue(self->uffd, self->mem.addr, page, 0,
				 &mapped));
	EXPECT_EQ((int64_t)page, mapped);
	FL_TOUCHER_DONE(&self->t);
	EXPECT_EQ((unsigned char)self->mem.alias[0], self->t.value);
}

FL_TEST_MAIN(16)
