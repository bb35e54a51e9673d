// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrency: several threads (readers and writers, meeting at each page)
 * fault on every page of a registered area at once while one monitor
 * resolves the faults, driven once by poll() and once by blocking read().
 * Three resolution modes, as uffd-stress has them: MISSING (COPY), WP
 * (unprotect) and MINOR (CONTINUE). Every page must be resolved, every
 * thread must see the right bytes, every thread must finish and be joined.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>

#include "ksft_case.h"
#include "pagemap.h"

#define NTHREADS	4
#define NPAGES		64
#define NPAGES_HUGE	4
#define SEED		51
#define DEADLINE_MS	5000
#define READ_OFF(i)	(8 + (i))	/* byte a reader checks */
#define WRITE_OFF(i)	(64 + (i))	/* byte a writer stores */
#define MARK(i)		((unsigned char)(0xe0 + (i)))

enum stress_mode { S_MISSING, S_WP, S_MINOR };

struct faulter {
	pthread_t thread;
	struct stress_ctx *ctx;
	int idx;
	bool writer;
	volatile pid_t tid;
	int done;		/* flag (futex): all pages touched */
	size_t bad;		/* reads that did not see the right bytes */
};

struct stress_ctx {
	enum stress_mode mode;
	char *addr;
	const char *src;
	size_t page, npages;
	int uffd;
	bool blocking;
	bool check_tid;
	bool shared;		/* MAP_SHARED memory */
	int started;		/* threads running (futex) */
	int go;			/* flag (futex): start faulting */
	int lead;		/* the thread that faults first, alone */
	int lead_done;		/* flag (futex): its first fault is over */
	volatile int stop;
	int meet;		/* step rendezvous counter (futex) */
	unsigned char *resolved;	/* per page: resolutions that took */
	/* monitor results */
	pthread_t monitor;
	int monitor_done;	/* flag (futex) */
	size_t msgs, resolves, eexist, errors, bad_msgs, bad_flags, batches;
	struct faulter f[NTHREADS];
};

FIXTURE(stress) {
	struct mem_area mem;
	char *src;
	int uffd;
	struct stress_ctx ctx;
};

FL_MEM_VARIANTS(stress, MEM_ALL);

/* Every point compares with the same reference bytes: built once. */
FL_SHARED_PATTERN(NPAGES_HUGE, 0, SEED)

FIXTURE_SETUP(stress)
{
	size_t n = mem_is_hugetlb(variant->mem) ? NPAGES_HUGE : NPAGES;

	self->uffd = -1;
	FL_MEM_ALLOC(&self->mem, variant->mem, n);
	self->src = mem_pattern(self->mem.len, SEED);
	ASSERT_NE(NULL, self->src);
	self->ctx = (struct stress_ctx){
		.addr = self->mem.addr, .src = self->src,
		.page = self->mem.page, .npages = n,
		.shared = mem_is_shared(variant->mem),
	};
	self->ctx.resolved = calloc(n, 1);
	ASSERT_NE(NULL, self->ctx.resolved);
}

FIXTURE_TEARDOWN(stress)
{
	if (self->uffd >= 0)
		close(self->uffd);
	mem_free(&self->mem);
	mem_pattern_free(self->src);
	free(self->ctx.resolved);
}

/* Open the uffd (with THREAD_ID when offered) and register @reg_mode. */
static void setup_uffd(struct __test_metadata *_metadata,
		       FIXTURE_DATA(stress) *self, uint64_t features,
		       uint64_t reg_mode, uint64_t want_ioctl)
{
	uint64_t have = 0, ioctls = 0;

	/* Thread ids in the messages let us check who faulted how. */
	fl_kernel_features(&have, NULL);
	features |= have & UFFD_FEATURE_THREAD_ID;
	self->uffd = FL_UFFD_OPEN(features);
	ASSERT_EQ(0, uffd_register_range(self->uffd, self->mem.addr,
					 self->mem.len, reg_mode, &ioctls));
	FL_ASSERT_OFFERED(ioctls, 1ULL << want_ioctl);
	self->ctx.uffd = self->uffd;
	self->ctx.check_tid = !!(features & UFFD_FEATURE_THREAD_ID);
}

/*
 * A rendezvous per step: every thread arrives before any touches the page.
 * Bounded, so a thread stuck in a fault cannot hang the others.
 */
static void step_barrier(struct stress_ctx *c, size_t step)
{
	uint64_t end = now_us() + 20000;
	int want = NTHREADS * (int)(step + 1), met;

	met = __atomic_add_fetch(&c->meet, 1, __ATOMIC_SEQ_CST);
	if (met >= want) {
		fl_futex_wake(&c->meet);	/* the last one lets all go */
		return;
	}
	while ((met = __atomic_load_n(&c->meet, __ATOMIC_SEQ_CST)) < want) {
		uint64_t now = now_us();

		if (now >= end)
			break;
		fl_futex_wait(&c->meet, met, (long long)(end - now));
	}
}

/* @f's access to page @p: a writer stores its mark, a reader checks a byte. */
static void touch_page(struct stress_ctx *c, struct faulter *f, size_t p)
{
	volatile char *pp = c->addr + p * c->page;

	if (f->writer)
		pp[WRITE_OFF(f->idx)] = MARK(f->idx);
	else if (pp[READ_OFF(f->idx)] != c->src[p * c->page + READ_OFF(f->idx)])
		f->bad++;
}

static void *faulter_main(void *arg)
{
	struct faulter *f = arg;
	struct stress_ctx *c = f->ctx;
	size_t p;

	f->tid = fl_gettid();
	__atomic_add_fetch(&c->started, 1, __ATOMIC_SEQ_CST);
	fl_futex_wake(&c->started);
	fl_flag_wait(&c->go, -1);
	/*
	 * The first fault comes alone: nobody else's fault on that page can
	 * get it resolved, so a monitor that lost this message (the kernel
	 * drops a queued one only when its page is resolved) leaves the
	 * lead blocked and the run fails.
	 */
	if (f->idx == c->lead) {
		touch_page(c, f, 0);
		fl_flag_raise(&c->lead_done);
	}
	fl_flag_wait(&c->lead_done, -1);
	/* All threads meet at each page, so it often has several faults. */
	for (p = 0; p < c->npages; p++) {

		step_barrier(c, p);
		touch_page(c, f, p);
	}
	fl_flag_raise(&f->done);
	return NULL;
}

static struct faulter *faulter_by_tid(struct stress_ctx *c, pid_t tid)
{
	int i;

	for (i = 0; i < NTHREADS; i++)
		if (c->f[i].tid == tid)
			return &c->f[i];
	return NULL;
}

/* The flags a fault of this mode must carry, WRITE aside. */
static uint64_t mode_flag(enum stress_mode mode)
{
	switch (mode) {
	case S_WP:	return UFFD_PAGEFAULT_FLAG_WP;
	case S_MINOR:	return UFFD_PAGEFAULT_FLAG_MINOR;
	default:	return 0;
	}
}

/* Resolve page @a; 0, -EEXIST (someone was first) or -errno. */
static int resolve(struct stress_ctx *c, uintptr_t a)
{
	uintptr_t off = a - (uintptr_t)c->addr;
	struct uffdio_continue cont = { .range = { a, c->page } };
	struct uffdio_copy cp = { .dst = a, .src = (uintptr_t)c->src + off,
				  .len = c->page };
	int ret;

	switch (c->mode) {
	case S_MISSING:
		ret = uffd_copy(c->uffd, &cp);
		return ret ? ret : cp.copy == (int64_t)c->page ? 0 : -EIO;
	case S_WP:
		/* Unprotecting twice is not an error: count pages instead. */
		return uffd_wp_range(c->uffd, (void *)a, c->page, false);
	case S_MINOR:
		ret = uffd_continue(c->uffd, &cont);
		return ret ? ret : cont.mapped == (int64_t)c->page ? 0 : -EIO;
	}
	return -EINVAL;
}

static void handle_msg(struct stress_ctx *c, const struct uffd_msg *msg)
{
	uintptr_t base = (uintptr_t)c->addr, a;
	uint64_t flags;
	int ret;

	c->msgs++;
	a = msg->arg.pagefault.address;
	flags = msg->arg.pagefault.flags;
	if (msg->event != UFFD_EVENT_PAGEFAULT || a < base ||
	    a >= base + c->npages * c->page || (a - base) % c->page) {
		c->bad_msgs++;
		return;
	}
	if ((flags & (UFFD_PAGEFAULT_FLAG_WP | UFFD_PAGEFAULT_FLAG_MINOR)) !=
	    mode_flag(c->mode))
		c->bad_flags++;
	if (c->check_tid) {
		struct faulter *f = faulter_by_tid(c, msg->arg.pagefault.feat.ptid);
		bool wr = flags & UFFD_PAGEFAULT_FLAG_WRITE;

		if (!f || f->writer != wr)
			c->bad_flags++;
	}
	ret = resolve(c, a);
	if (!ret) {
		c->resolves++;
		c->resolved[(a - base) / c->page]++;
	} else if (ret == -EEXIST) {
		/* Another thread's fault on this page was resolved first. */
		c->eexist++;
		uffd_wake_range(c->uffd, (void *)a, c->page);
	} else {
		c->errors++;
	}
}

static size_t pages_resolved(struct stress_ctx *c)
{
	size_t p, n = 0;

	for (p = 0; p < c->npages; p++)
		n += !!c->resolved[p];
	return n;
}

/*
 * The monitor reads several messages per read(), as real ones do: faults
 * of several threads on one page then arrive together, and all but the
 * first resolution see EEXIST. (A message still queued when its page is
 * resolved is dropped by the kernel's wake, so one-at-a-time reading would
 * hardly ever see a duplicate.)
 */
static void *monitor_main(void *arg)
{
	struct stress_ctx *c = arg;
	struct pollfd pfd = { .fd = c->uffd, .events = POLLIN };
	struct uffd_msg msg[NTHREADS];

	/*
	 * Serve until told to stop, not until every page is resolved: a
	 * thread may still fault on a resolved page (see run_stress()).
	 */
	while (!__atomic_load_n(&c->stop, __ATOMIC_SEQ_CST)) {
		ssize_t n;
		size_t i;

		if (!c->blocking && poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(c->uffd, msg, sizeof(msg));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0 || n % sizeof(msg[0])) {
			/* Only whole messages may be returned. */
			c->errors++;
			break;
		}
		for (i = 0; i < (size_t)n / sizeof(msg[0]); i++)
			handle_msg(c, &msg[i]);
		if ((size_t)n > sizeof(msg[0]))
			c->batches++;
	}
	fl_flag_raise(&c->monitor_done);
	return NULL;
}

static void on_sigusr1(int sig)
{
	(void)sig;	/* only here to interrupt a blocking read() */
}

static bool all_done(struct stress_ctx *c)
{
	int i;

	for (i = 0; i < NTHREADS; i++)
		if (!__atomic_load_n(&c->f[i].done, __ATOMIC_SEQ_CST))
			return false;
	return true;
}

static void start_threads(struct __test_metadata *_metadata,
			  struct stress_ctx *c)
{
	int i;

	ASSERT_EQ(0, fl_pthread_create(&c->monitor, monitor_main, c));
	for (i = 0; i < NTHREADS; i++) {
		c->f[i] = (struct faulter){ .ctx = c, .idx = i,
					    .writer = i & 1 };
		ASSERT_EQ(0, fl_pthread_create(&c->f[i].thread,
					    faulter_main, &c->f[i]));
	}
	for (;;) {
		int n = __atomic_load_n(&c->started, __ATOMIC_SEQ_CST);

		if (n == NTHREADS)
			break;
		fl_futex_wait(&c->started, n, -1);
	}
	fl_flag_raise(&c->go);
}

/* Wait for everyone within the deadline; release and join them anyway. */
static void join_threads(struct __test_metadata *_metadata,
			 FIXTURE_DATA(stress) *self)
{
	struct stress_ctx *c = &self->ctx;
	uint64_t end = now_us() + DEADLINE_MS * 1000;
	int i;

	for (i = 0; i < NTHREADS; i++) {
		uint64_t now = now_us();

		fl_flag_wait(&c->f[i].done, now < end ? (long long)(end - now) : 0);
	}
	EXPECT_TRUE(all_done(c)) {
		TH_LOG("faulting threads still blocked after %d ms", DEADLINE_MS);
		/* Releasing the uffd wakes them, so they can be joined. */
		close(self->uffd);
		self->uffd = -1;
	}
	for (i = 0; i < NTHREADS; i++)
		pthread_join(c->f[i].thread, NULL);
	/* The signal ends a read() blocked with nothing left to read. */
	__atomic_store_n(&c->stop, 1, __ATOMIC_SEQ_CST);
	do
		pthread_kill(c->monitor, SIGUSR1);
	while (!fl_flag_wait(&c->monitor_done, 1000));
	pthread_join(c->monitor, NULL);
}

/* Every byte: the source pattern, plus each writer's mark. */
static void check_memory(struct __test_metadata *_metadata,
			 struct stress_ctx *c)
{
	size_t p, bad = 0;
	int i;

	for (p = 0; p < c->npages; p++) {
		char *pp = c->addr + p * c->page;

		for (i = 0; i < NTHREADS; i++) {
			if (!c->f[i].writer)
				continue;
			bad += (unsigned char)pp[WRITE_OFF(i)] != MARK(i);
			pp[WRITE_OFF(i)] = c->src[p * c->page + WRITE_OFF(i)];
		}
	}
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, memcmp(c->addr, c->src, c->npages * c->page));
}

static void run_stress(struct __test_metadata *_metadata,
		       FIXTURE_DATA(stress) *self, enum stress_mode mode,
		       bool blocking)
{
	struct stress_ctx *c = &self->ctx;
	struct sigaction sa = { .sa_handler = on_sigusr1 };
	/* Readers fault only where the page is missing from the mapping. */
	size_t faulters = mode == S_WP ? NTHREADS / 2 : NTHREADS;
	/*
	 * MINOR on a private mapping: CONTINUE maps the page cache page
	 * read-only, a writer's COW then replaces that pte (clear, flush,
	 * set), and a reader racing with it can see the pte empty and take
	 * a fresh MINOR fault on a page already resolved. Such a fault is
	 * legitimate (the monitor answers EEXIST + WAKE), so the per-thread
	 * bound on messages does not hold there.
	 */
	bool refaults = mode == S_MINOR && !c->shared;
	int i;

	c->mode = mode;
	c->blocking = blocking;
	/* Only writers fault on a write-protected page. */
	c->lead = mode == S_WP ? 1 : 0;
	/* No SA_RESTART: the signal must end a blocked read(). */
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	if (blocking) {
		int fl = fcntl(c->uffd, F_GETFL);

		ASSERT_EQ(0, fcntl(c->uffd, F_SETFL, fl & ~O_NONBLOCK));
	}
	start_threads(_metadata, c);
	join_threads(_metadata, self);

	/* Every page resolved; COPY/CONTINUE exactly once per page. */
	EXPECT_EQ(c->npages, pages_resolved(c));
	if (mode != S_WP)
		EXPECT_EQ(c->npages, c->resolves);
	EXPECT_EQ(0, c->errors);
	EXPECT_EQ(0, c->bad_msgs);
	EXPECT_EQ(0, c->bad_flags);
	EXPECT_GE(c->msgs, c->npages);
	if (!refaults)
		EXPECT_LE(c->msgs, c->npages * faulters);
	EXPECT_EQ(c->msgs - c->resolves - c->bad_msgs - c->errors, c->eexist);
	for (i = 0; i < NTHREADS; i++)
		EXPECT_EQ(0, c->f[i].bad);
	check_memory(_metadata, c);
	TH_LOG("%zu pages, %zu fault messages, %zu duplicates, %zu multi-message reads",
	       c->npages, c->msgs, c->msgs - pages_resolved(c), c->batches);
}

/* MISSING: holes, resolved by COPY. */
static void missing_setup(struct __test_metadata *_metadata,
			  FIXTURE_DATA(stress) *self, enum mem_type type)
{
	setup_uffd(_metadata, self, fl_missing_feature(type),
		   UFFDIO_REGISTER_MODE_MISSING, _UFFDIO_COPY);
}

/* WP: populated and write-protected; writers fault, readers do not. */
static void wp_setup(struct __test_metadata *_metadata,
		     FIXTURE_DATA(stress) *self, enum mem_type type)
{
	size_t p;

	memcpy(self->mem.addr, self->src, self->mem.len);
	setup_uffd(_metadata, self, fl_wp_features(type),
		   UFFDIO_REGISTER_MODE_WP, _UFFDIO_WRITEPROTECT);
	ASSERT_EQ(0, uffd_wp_range(self->uffd, self->mem.addr, self->mem.len,
				   true));
	/* Where pagemap shows the bit: every page really is protected. */
	if (!fl_wp_bit_checkable())
		return;
	for (p = 0; p < self->ctx.npages; p++)
		ASSERT_EQ(1, pagemap_uffd_wp(mem_page(&self->mem, p)));
}

/*
 * MINOR: the page cache is filled through the second mapping, ours maps
 * nothing; resolved by CONTINUE. Anon has no page cache: the documented
 * EINVAL, and nothing to stress.
 */
static bool minor_setup(struct __test_metadata *_metadata,
			FIXTURE_DATA(stress) *self, enum mem_type type)
{
	uint64_t minor = fl_minor_feature(type);

	if (!mem_mode_applies(type, UFFDIO_REGISTER_MODE_MINOR)) {
		self->uffd = FL_UFFD_OPEN(0);
		EXPECT_EQ(-EINVAL, uffd_register_range(self->uffd,
				self->mem.addr, self->mem.len,
				UFFDIO_REGISTER_MODE_MINOR, NULL));
		return false;
	}
	memcpy(self->mem.alias, self->src, self->mem.len);
	setup_uffd(_metadata, self, minor, UFFDIO_REGISTER_MODE_MINOR,
		   _UFFDIO_CONTINUE);
	return true;
}

TEST_F_TIMEOUT(stress, missing_poll, 10)
{
	missing_setup(_metadata, self, variant->mem);
	run_stress(_metadata, self, S_MISSING, false);
}

TEST_F_TIMEOUT(stress, missing_blocking_read, 10)
{
	missing_setup(_metadata, self, variant->mem);
	run_stress(_metadata, self, S_MISSING, true);
}

TEST_F_TIMEOUT(stress, wp_poll, 10)
{
	size_t p;

	wp_setup(_metadata, self, variant->mem);
	run_stress(_metadata, self, S_WP, false);
	for (p = 0; p < self->ctx.npages; p++)
		EXPECT_EQ(0, pagemap_uffd_wp(mem_page(&self->mem, p)));
}

TEST_F_TIMEOUT(stress, wp_blocking_read, 10)
{
	wp_setup(_metadata, self, variant->mem);
	run_stress(_metadata, self, S_WP, true);
}

TEST_F_TIMEOUT(stress, minor_poll, 10)
{
	if (minor_setup(_metadata, self, variant->mem))
		run_stress(_metadata, self, S_MINOR, false);
}

TEST_F_TIMEOUT(stress, minor_blocking_read, 10)
{
	if (minor_setup(_metadata, self, variant->mem))
		run_stress(_metadata, self, S_MINOR, true);
}

FL_TEST_MAIN(16)
