// SPDX-License-Identifier: GPL-2.0
/*
 * UFFDIO_REGISTER / UFFDIO_UNREGISTER: which modes each memory type accepts
 * (consistent with the features the kernel reports), the ioctl mask a
 * registration returns, the documented refusals, sub-range bookkeeping and
 * the wake-up of MISSING waiters on unregister.
 */
#include <fcntl.h>
#include <sys/mman.h>

#include "ksft_case.h"
#include "vmstate.h"

#define NPAGES 4

#define MODE_M	UFFDIO_REGISTER_MODE_MISSING
#define MODE_W	UFFDIO_REGISTER_MODE_WP
#define MODE_N	UFFDIO_REGISTER_MODE_MINOR

#define BIT(n)			(1ULL << (n))

FIXTURE(register) {
	FL_CASE_HOLDS;
	uint64_t features;	/* what the kernel reports */
};

FL_MEM_VARIANTS(register, MEM_ALL);

/* Every point compares with the same reference bytes: built once. */
FL_SHARED_PATTERN(1, 0, 3)

FIXTURE_SETUP(register)
{
	int err = fl_kernel_features(&self->features, NULL);

	if (err)
		FL_SKIP("%s", fl_no_uffd_reason(err));
	FL_CASE_SETUP(NPAGES);
	self->src = FL_PATTERN(self->mem.page, 3);
}

FIXTURE_TEARDOWN(register)
{
	FL_CASE_TEARDOWN();
}

/* The features a monitor of this memory type would ask for, if reported. */
static uint64_t wanted_features(enum mem_type type, uint64_t have)
{
	return have & mem_mode_needs(type, uffd_known_modes());
}

/* Open a uffd with every reported feature this memory type can use. */
static int open_uffd(struct __test_metadata *_metadata, enum mem_type type,
		     uint64_t have)
{
	int fd = uffd_open(wanted_features(type, have), NULL);

	/* The features are the reported ones: a refusal is a failure. */
	EXPECT_LE(0, fd) {
		TH_LOG("UFFDIO_API with reported features %s: %s",
		       fl_feature_list(wanted_features(type, have)),
		       strerror(-fd));
	}
	return fd;
}

/*
 * Whether the kernel promises @mode on @type, judged only from the features
 * it reports (domain table). MINOR never applies to anonymous memory.
 */
static bool mode_promised(enum mem_type type, uint64_t mode, uint64_t have)
{
	uint64_t need = mem_mode_needs(type, mode);

	return mem_mode_applies(type, mode) && (have & need) == need;
}

/* The ioctls a registration in @mode must offer on @type. */
static uint64_t ioctls_promised(enum mem_type type, uint64_t mode)
{
	uint64_t want = BIT(_UFFDIO_WAKE);

	if (mode & MODE_M) {
		want |= BIT(_UFFDIO_COPY);
		if (!mem_is_hugetlb(type))
			want |= BIT(_UFFDIO_ZEROPAGE);
	}
	if (mode & MODE_W)
		want |= BIT(_UFFDIO_WRITEPROTECT);
	if (mode & MODE_N)
		want |= BIT(_UFFDIO_CONTINUE);
	return want;
}

static void check_mask(struct __test_metadata *_metadata, enum mem_type type,
		       uint64_t mode, uint64_t have, uint64_t got)
{
	uint64_t want = ioctls_promised(type, mode);

	TH_LOG("mode 0x%llx offered: %s", (unsigned long long)mode,
	       fl_ioctl_list(got));
	/* Everything the mode promises is offered. */
	EXPECT_EQ(want, got & want);
	/* Only range ioctls, never REGISTER/UNREGISTER/API. */
	EXPECT_EQ(0, got & uffd_ioctl_mask(false));
	/*
	 * A bit the domain table does not know is a newer kernel's ioctl
	 * (POISON and MOVE each arrived in the answer for existing modes):
	 * a finding, not a failure.
	 */
	if (got & ~uffd_known_mask(MASK_IOCTLS)) {
		ksft_print_msg("finding: REGISTER mode 0x%llx on %s offers unknown ioctl bits 0x%llx\n",
			       (unsigned long long)mode, mem_type_name(type),
			       (unsigned long long)(got & ~uffd_known_mask(MASK_IOCTLS)));
		fflush(stdout);
	}
	/* CONTINUE only on MINOR ranges (it exists only since MINOR did). */
	if (!(mode & MODE_N))
		EXPECT_EQ(0, got & BIT(_UFFDIO_CONTINUE));
	/* hugetlb has no zero page and cannot MOVE. */
	if (mem_is_hugetlb(type))
		EXPECT_EQ(0, got & (BIT(_UFFDIO_ZEROPAGE) | BIT(_UFFDIO_MOVE)));
	/* POISON and MOVE are offered exactly when the feature is reported. */
	EXPECT_EQ(!!(have & UFFD_FEATURE_POISON),
		  !!(got & BIT(_UFFDIO_POISON)));
	if (got & BIT(_UFFDIO_MOVE))
		EXPECT_TRUE(have & UFFD_FEATURE_MOVE);
	if (!mem_is_file(type) && (have & UFFD_FEATURE_MOVE))
		EXPECT_TRUE(got & BIT(_UFFDIO_MOVE));
	/* MOVE only works on anonymous memory, yet may be offered more widely. */
	if (mem_is_file(type) && (got & BIT(_UFFDIO_MOVE)) && mode == MODE_M) {
		const char *move = uffd_ioctl_name(_UFFDIO_MOVE);

		ksft_print_msg("finding: REGISTER offers UFFDIO_%s on %s, where %s is refused\n",
			       move, mem_type_name(type), move);
		fflush(stdout);
	}
	if (!(mode & MODE_W) && (got & BIT(_UFFDIO_WRITEPROTECT))) {
		ksft_print_msg("finding: REGISTER without MODE_WP still offers UFFDIO_WRITEPROTECT (%s)\n",
			       mem_type_name(type));
		fflush(stdout);
	}
}

static void expect_fault(struct __test_metadata *_metadata, int fd,
			 char *addr, size_t page, const char *src);

/* True when the range is not registered: COPY there finds no uffd range. */
static void expect_unregistered(struct __test_metadata *_metadata, int fd,
				void *dst, const void *src, size_t len)
{
	struct uffdio_copy c = { .dst = (uintptr_t)dst,
				 .src = (uintptr_t)src, .len = len };

	EXPECT_EQ(-ENOENT, uffd_copy(fd, &c));
	EXPECT_EQ(-ENOENT, c.copy);
}

/*
 * Before registering @mode: page 0 written (WP protects it), page 1 put in
 * the page cache through the alias only (MINOR traps it), page 2 left a
 * hole (MISSING traps it); page 3 is never touched.
 */
static void prepare_pages(FIXTURE_DATA(register) *self, uint64_t mode)
{
	size_t page = self->mem.page;

	if (mode & MODE_W)
		memcpy(mem_page(&self->mem, 0), self->src, page);
	if (mode & MODE_N)
		memcpy(self->mem.alias + page, self->src, page);
}

/*
 * Page @p (holding src) protected, a write at @off traps and is held,
 * leaving the old byte, until the page is unprotected.
 */
static void expect_wp_trap(struct __test_metadata *_metadata,
			   FIXTURE_DATA(register) *self, char *p, size_t off)
{
	size_t page = self->mem.page;
	struct toucher t;

	ASSERT_EQ(0, uffd_wp_range(self->uffd, p, page, true));
	ASSERT_EQ(0, toucher_start(&t, p + off, TOUCH_WRITE, 0x42));
	fl_expect_fault(_metadata, self->uffd, p, FL_WP_WRITE_FAULT);
	EXPECT_TRUE(toucher_blocked(&t));
	EXPECT_EQ(self->src[off], p[off]);
	ASSERT_EQ(0, uffd_wp_range(self->uffd, p, page, false));
	FL_TOUCHER_DONE(&t);
	EXPECT_EQ(0x42, (unsigned char)p[off]);
}

/*
 * The registration is real, mode by mode: a MISSING range traps a read of
 * a hole (COPY resolves it), a MINOR one a read of a cached page (CONTINUE
 * resolves it), a WP one a write to a protected page (unprotect resolves
 * it). Each fault carries its mode's flags, and holds the thread.
 */
static void expect_mode_traps(struct __test_metadata *_metadata,
			      FIXTURE_DATA(register) *self, uint64_t mode)
{
	size_t page = self->mem.page;
	char *p0 = mem_page(&self->mem, 0), *p1 = mem_page(&self->mem, 1);
	int64_t mapped = 0;
	struct toucher t;

	if (mode & MODE_M)
		expect_fault(_metadata, self->uffd, mem_page(&self->mem, 2),
			     page, self->src);
	if (mode & MODE_N) {
		ASSERT_EQ(0, toucher_start(&t, p1 + 1, TOUCH_READ, 0));
		fl_expect_fault(_metadata, self->uffd, p1,
				UFFD_PAGEFAULT_FLAG_MINOR);
		EXPECT_TRUE(toucher_blocked(&t));
		ASSERT_EQ(0, uffd_range_ioctl(_UFFDIO_CONTINUE, self->uffd, p1,
					      NULL, page, 0, &mapped));
		EXPECT_EQ((int64_t)page, mapped);
		FL_TOUCHER_DONE(&t);
		EXPECT_EQ((unsigned char)self->src[1], t.value);
	}
	if (mode & MODE_W)
		expect_wp_trap(_metadata, self, p0, 2);
}

/*
 * Register @mode on a fresh uffd: it must succeed exactly when the reported
 * features promise it, offer the right ioctls, trap what the mode traps,
 * and a refusal must be EINVAL and leave nothing registered.
 */
static void check_mode(struct __test_metadata *_metadata,
		       FIXTURE_DATA(register) *self, enum mem_type type,
		       uint64_t mode)
{
	bool promised = mode_promised(type, mode, self->features);
	char *p3 = mem_page(&self->mem, 3);
	uint64_t ioctls = 0;
	int ret;

	if (promised)
		prepare_pages(self, mode);
	self->uffd = open_uffd(_metadata, type, self->features);
	ret = uffd_register_range(self->uffd, self->mem.addr, self->mem.len,
				  mode, &ioctls);
	TH_LOG("%s mode 0x%llx: %s (promised by features: %s)",
	       mem_type_name(type), (unsigned long long)mode,
	       ret ? strerror(-ret) : "ok", promised ? "yes" : "no");
	if (!promised) {
		EXPECT_EQ(-EINVAL, ret);
		expect_unregistered(_metadata, self->uffd, p3, self->src,
				    self->mem.page);
		return;
	}
	ASSERT_EQ(0, ret);
	check_mask(_metadata, type, mode, self->features, ioctls);
	expect_mode_traps(_metadata, self, mode);
	/* UNREGISTER removes it again. */
	EXPECT_EQ(0, uffd_unregister_range(self->uffd, self->mem.addr,
					   self->mem.len));
	expect_unregistered(_metadata, self->uffd, p3, self->src,
			    self->mem.page);
}

#define MODE_TEST(name, mode)						\
	TEST_F(register, mode_##name)					\
	{								\
		check_mode(_metadata, self, variant->mem, (mode));	\
	}

MODE_TEST(missing, MODE_M)
MODE_TEST(wp, MODE_W)
MODE_TEST(minor, MODE_N)
MODE_TEST(missing_wp, MODE_M | MODE_W)
MODE_TEST(missing_minor, MODE_M | MODE_N)
MODE_TEST(wp_minor, MODE_W | MODE_N)
MODE_TEST(missing_wp_minor, MODE_M | MODE_W | MODE_N)

/* Mode 0 and mode bits the ABI does not define: EINVAL, nothing registered. */
TEST_F(register, einval_mode)
{
	static const uint64_t bad[] = { 0, BIT(3), MODE_M | BIT(3),
					MODE_M | BIT(63) };
	size_t i;

	self->uffd = open_uffd(_metadata, variant->mem, self->features);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t ioctls = 0;

		TH_LOG("mode 0x%llx", (unsigned long long)bad[i]);
		EXPECT_EQ(-EINVAL, uffd_register_range(self->uffd,
						       self->mem.addr,
						       self->mem.len, bad[i],
						       &ioctls));
	}
	expect_unregistered(_metadata, self->uffd, self->mem.addr, self->src,
			    self->mem.page);
}

/*
 * Start or length not aligned to the memory type's page: EINVAL. For
 * hugetlb a base-page-aligned range is still misaligned.
 */
TEST_F(register, einval_unaligned)
{
	size_t base = (size_t)sysconf(_SC_PAGESIZE);
	size_t step = mem_is_hugetlb(variant->mem) ? base : 1;
	char *a = self->mem.addr;
	size_t len = self->mem.len;

	self->uffd = open_uffd(_metadata, variant->mem, self->features);
	EXPECT_EQ(-EINVAL, uffd_register_range(self->uffd, a + step,
					       len - self->mem.page, MODE_M,
					       NULL));
	EXPECT_EQ(-EINVAL, uffd_register_range(self->uffd, a, len - step,
					       MODE_M, NULL));
	EXPECT_EQ(-EINVAL, uffd_register_range(self->uffd, a, step, MODE_M,
					       NULL));
	EXPECT_EQ(-EINVAL, uffd_register_range(self->uffd, a, 0, MODE_M,
					       NULL));
	expect_unregistered(_metadata, self->uffd, a, self->src,
			    self->mem.page);

	/* UNREGISTER checks alignment the same way and changes nothing. */
	ASSERT_EQ(0, uffd_register_range(self->uffd, a, len, MODE_M, NULL));
	EXPECT_EQ(-EINVAL, uffd_unregister_range(self->uffd, a + step,
						 self->mem.page));
	EXPECT_EQ(-EINVAL, uffd_unregister_range(self->uffd, a, step));
	ASSERT_EQ(0, uffd_copy_all(self->uffd, a, self->src, self->mem.page, 0,
				   NULL));
}

/* A range with no mapping at all: EINVAL. */
TEST_F(register, einval_no_vma)
{
	size_t len = self->mem.len;
	char *hole;

	self->uffd = open_uffd(_metadata, variant->mem, self->features);
	hole = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hole);
	ASSERT_EQ(0, munmap(hole, len));
	EXPECT_EQ(-EINVAL, uffd_register_range(self->uffd, hole, len, MODE_M,
					       NULL));
}

/* Map the area's first page read-only, through a read-only fd for files. */
static char *map_readonly(struct __test_metadata *_metadata,
			  FIXTURE_DATA(register) *self, enum mem_type type)
{
	size_t len = self->mem.page;
	char path[64];
	char *p;
	int fd;

	if (!mem_is_file(type)) {
		p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
		EXPECT_NE(MAP_FAILED, p);
		return p == MAP_FAILED ? NULL : p;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", self->mem.fd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		FL_SKIP("cannot reopen the memfd read-only: %s",
			strerror(errno));
	p = mmap(NULL, len, PROT_READ,
		 mem_is_shared(type) ? MAP_SHARED : MAP_PRIVATE, fd, 0);
	close(fd);
	/* A private hugetlb mapping reserves its huge page at mmap time. */
	if (p == MAP_FAILED && errno == ENOMEM && mem_is_hugetlb(type))
		FL_SKIP("mmap of the read-only fd: ENOMEM (%ld huge pages unreserved)",
			hugetlb_free_pages());
	if (p == MAP_FAILED)
		FL_SKIP("mmap of the read-only fd: %s", strerror(errno));
	return p;
}

/*
 * A shared mapping that can never become writable (read-only fd): EPERM,
 * since resolving faults would write to the file. Private mappings of the
 * same fd, and read-only anonymous memory, register and deliver faults.
 */
TEST_F_TIMEOUT(register, readonly_mapping, 5)
{
	char *p = map_readonly(_metadata, self, variant->mem);
	int ret;

	ASSERT_NE(NULL, p);
	self->uffd = open_uffd(_metadata, variant->mem, self->features);
	ret = uffd_register_range(self->uffd, p, self->mem.page, MODE_M, NULL);
	if (mem_is_shared(variant->mem)) {
		EXPECT_EQ(-EPERM, ret);
		expect_unregistered(_metadata, self->uffd, p, self->src,
				    self->mem.page);
	} else {
		ASSERT_EQ(0, ret);
		expect_fault(_metadata, self->uffd, p, self->mem.page,
			     self->src);
	}
	munmap(p, self->mem.page);
}

/*
 * A range owned by another uffd: EBUSY, also for a partial overlap, and the
 * owner keeps receiving the faults.
 */
TEST_F_TIMEOUT(register, ebusy, 5)
{
	size_t page = self->mem.page;
	char *p1 = mem_page(&self->mem, 1);
	struct uffdio_copy c;
	struct uffd_msg msg;
	struct toucher t;
	int other, ret;

	self->uffd = open_uffd(_metadata, variant->mem, self->features);
	other = open_uffd(_metadata, variant->mem, self->features);
	ASSERT_EQ(0, uffd_register_range(self->uffd, self->mem.addr, 2 * page,
					 MODE_M, NULL));
	EXPECT_EQ(-EBUSY, uffd_register_range(other, self->mem.addr, 2 * page,
					      MODE_M, NULL));
	EXPECT_EQ(-EBUSY, uffd_register_range(other, p1, 2 * page, MODE_M,
					      NULL));

	ASSERT_EQ(0, toucher_start(&t, p1, TOUCH_READ, 0));
	ASSERT_EQ(0, uffd_wait_msg(self->uffd, &msg, 2000));
	EXPECT_EQ((uintptr_t)p1, msg.arg.pagefault.address);
	EXPECT_EQ(-ETIMEDOUT, uffd_wait_msg(other, &msg, 0));
	/*
	 * COPY through the refused uffd: kernels only check that the range is
	 * registered with some uffd of this mm, so it may resolve the fault.
	 * Either way the bytes come from exactly one successful COPY.
	 */
	c = (struct uffdio_copy){ .dst = (uintptr_t)p1,
				  .src = (uintptr_t)self->src, .len = page };
	ret = uffd_copy(other, &c);
	if (ret == 0) {
		EXPECT_EQ((int64_t)page, c.copy);
		ksft_print_msg("finding: COPY through a uffd that does not own the range succeeds (%s)\n",
			       mem_type_name(variant->mem));
		fflush(stdout);
		c.copy = 0;
		EXPECT_EQ(-EEXIST, uffd_copy(self->uffd, &c));
		EXPECT_EQ(-EEXIST, c.copy);
		/* Its wake-up went to the other uffd's (empty) wait queue. */
		if (toucher_blocked(&t)) {
			ksft_print_msg("finding: ... and does not wake the owner's waiter; the owner must UFFDIO_WAKE\n");
			fflush(stdout);
			EXPECT_EQ(0, uffd_wake_range(self->uffd, p1, page));
		}
	} else {
		EXPECT_EQ(-ENOENT, ret);
		c.copy = 0;
		ASSERT_EQ(0, uffd_copy(self->uffd, &c));
		EXPECT_EQ((int64_t)page, c.copy);
	}
	FL_TOUCHER_DONE(&t);
	EXPECT_EQ((unsigned char)self->src[0], t.value);
	close(other);
}

/* Touch @addr; it must complete on its own, without any uffd message. */
static void expect_no_fault(struct __test_metadata *_metadata, int fd,
			    void *addr, unsigned char expect)
{
	struct uffd_msg msg;
	struct toucher t;

	/* Start from ~expect: only a completed read can produce @expect. */
	ASSERT_EQ(0, toucher_start(&t, addr, TOUCH_READ,
				   (unsigned char)~expect));
	FL_TOUCHER_DONE(&t);
	EXPECT_FALSE(t.got_sigbus);
	EXPECT_EQ(expect, t.value);
	EXPECT_EQ(-ETIMEDOUT, uffd_wait_msg(fd, &msg, 0));
}

/* Touch @addr; the fault must be delivered, then resolve it with COPY. */
static void expect_fault(struct __test_metadata *_metadata, int fd,
			 char *addr, size_t page, const char *src)
{
	struct uffdio_copy c = { .dst = (uintptr_t)addr,
				 .src = (uintptr_t)src, .len = page };
	struct uffd_msg msg;
	struct toucher t;

	ASSERT_EQ(0, toucher_start(&t, addr, TOUCH_READ, 0));
	ASSERT_EQ(0, uffd_wait_msg(fd, &msg, 2000));
	EXPECT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	EXPECT_EQ((uintptr_t)addr, msg.arg.pagefault.address);
	ASSERT_EQ(0, uffd_copy(fd, &c));
	EXPECT_EQ((int64_t)page, c.copy);
	FL_TOUCHER_DONE(&t);
	EXPECT_EQ((unsigned char)src[0], t.value);
}

/*
 * Unregister the upper half: faults there are no longer delivered (the
 * page just appears, zero-filled), faults in the lower half still are, and
 * COPY into the upper half finds no registered range.
 */
TEST_F_TIMEOUT(register, unregister_subrange, 5)
{
	size_t page = self->mem.page;

	self->uffd = open_uffd(_metadata, variant->mem, self->features);
	ASSERT_EQ(0, uffd_register_range(self->uffd, self->mem.addr,
					 self->mem.len, MODE_M, NULL));
	ASSERT_EQ(0, uffd_unregister_range(self->uffd, mem_page(&self->mem, 2),
					   2 * page));
	expect_no_fault(_metadata, self->uffd, mem_page(&self->mem, 3), 0);
	expect_unregistered(_metadata, self->uffd, mem_page(&self->mem, 2),
			    self->src, page);
	expect_fault(_metadata, self->uffd, mem_page(&self->mem, 1), page,
		     self->src);
	expect_fault(_metadata, self->uffd, mem_page(&self->mem, 0), page,
		     self->src);
}

/*
 * Registering an already registered sub-range again is accepted; after
 * unregistering everything, registering a single page makes only that page
 * deliver faults again.
 */
TEST_F_TIMEOUT(register, reregister_subrange, 5)
{
	size_t page = self->mem.page;
	uint64_t ioctls = 0;

	self->uffd = open_uffd(_metadata, variant->mem, self->features);
	ASSERT_EQ(0, uffd_register_range(self->uffd, self->mem.addr,
					 self->mem.len, MODE_M, NULL));
	EXPECT_EQ(0, uffd_register_range(self->uffd, mem_page(&self->mem, 1),
					 page, MODE_M, &ioctls));
	EXPECT_TRUE(ioctls & BIT(_UFFDIO_COPY));
	ASSERT_EQ(0, uffd_unregister_range(self->uffd, self->mem.addr,
					   self->mem.len));
	ASSERT_EQ(0, uffd_register_range(self->uffd, mem_page(&self->mem, 2),
					 page, MODE_M, NULL));
	expect_no_fault(_metadata, self->uffd, mem_page(&self->mem, 1), 0);
	expect_no_fault(_metadata, self->uffd, mem_page(&self->mem, 3), 0);
	expect_fault(_metadata, self->uffd, mem_page(&self->mem, 2), page,
		     self->src);
}

/*
 * Re-registering a sub-range with a wider mode splits the registration:
 * only that page gains WP (WRITEPROTECT elsewhere is ENOENT), the rest
 * keeps delivering MISSING faults. Where the features do not promise WP
 * the re-registration is EINVAL and the old registration stays intact.
 */
TEST_F_TIMEOUT(register, reregister_mode, 5)
{
	size_t page = self->mem.page;
	char *p1 = mem_page(&self->mem, 1);
	struct uffdio_copy c = { .dst = (uintptr_t)p1,
				 .src = (uintptr_t)self->src, .len = page };
	uint64_t ioctls = 0;
	int ret;

	self->uffd = open_uffd(_metadata, variant->mem, self->features);
	ASSERT_EQ(0, uffd_register_range(self->uffd, self->mem.addr,
					 self->mem.len, MODE_M, &ioctls));
	ret = uffd_register_range(self->uffd, p1, page, MODE_M | MODE_W,
				  &ioctls);
	if (!mode_promised(variant->mem, MODE_M | MODE_W, self->features)) {
		EXPECT_EQ(-EINVAL, ret);
	} else {
		ASSERT_EQ(0, ret);
		EXPECT_TRUE(ioctls & BIT(_UFFDIO_WRITEPROTECT));
		ASSERT_EQ(0, uffd_copy(self->uffd, &c));
		EXPECT_EQ((int64_t)page, c.copy);
		/* The protection is real: a write traps until unprotect. */
		expect_wp_trap(_metadata, self, p1, 1);
		EXPECT_EQ(-ENOENT, uffd_wp_range(self->uffd,
						 mem_page(&self->mem, 2),
						 page, true));
	}
	expect_fault(_metadata, self->uffd, mem_page(&self->mem, 2), page,
		     self->src);
	expect_fault(_metadata, self->uffd, mem_page(&self->mem, 0), page,
		     self->src);
}

/*
 * UNREGISTER wakes the threads blocked in MISSING faults of the range: they
 * retry, find no uffd, and the kernel fills the page (zeros).
 */
TEST_F_TIMEOUT(register, unregister_wakes, 5)
{
	char *p1 = mem_page(&self->mem, 1);
	struct uffd_msg msg;
	struct toucher t;

	self->uffd = open_uffd(_metadata, variant->mem, self->features);
	ASSERT_EQ(0, uffd_register_range(self->uffd, self->mem.addr,
					 self->mem.len, MODE_M, NULL));
	ASSERT_EQ(0, toucher_start(&t, p1 + 9, TOUCH_READ, 0xff));
	ASSERT_EQ(0, uffd_wait_msg(self->uffd, &msg, 2000));
	EXPECT_EQ((uintptr_t)p1, msg.arg.pagefault.address);
	ASSERT_TRUE(toucher_blocked(&t));
	ASSERT_EQ(0, uffd_unregister_range(self->uffd, self->mem.addr,
					   self->mem.len));
	FL_TOUCHER_DONE(&t);
	EXPECT_FALSE(t.got_sigbus);
	EXPECT_EQ(0, t.value);
	EXPECT_EQ(-1, mem_check_zero(p1, self->mem.page));
	/* The fault was not re-delivered. */
	EXPECT_EQ(-ETIMEDOUT, uffd_wait_msg(self->uffd, &msg, 0));
}

/*
 * A private hugetlb area holds 2 * NPAGES reservations (the shared alias
 * and its own copies); readonly_mapping maps one more private page.
 */
FL_TEST_MAIN(2 * NPAGES + 2)
