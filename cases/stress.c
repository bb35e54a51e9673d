// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrency: several threads fault on every page of a registered area at
 * once (readers and writers, meeting at each page) while one
 * monitor resolves the faults with COPY, once driven by poll() and once by
 * blocking read(). Every page must be resolved exactly once, every thread
 * must see the copied bytes, and every thread must finish and be joined.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>

#include "fl_test.h"

#define NTHREADS	4
#define NPAGES		64
#define NPAGES_HUGE	4
#define SEED		51
#define DEADLINE_MS	2000
#define READ_OFF(i)	(8 + (i))	/* byte a reader checks */
#define WRITE_OFF(i)	(64 + (i))	/* byte a writer stores */
#define MARK(i)		((unsigned char)(0xe0 + (i)))

struct faulter {
	pthread_t thread;
	struct stress_ctx *ctx;
	int idx;
	bool writer;
	volatile pid_t tid;
	volatile int done;
	size_t bad;		/* reads that did not see the copied bytes */
};

struct stress_ctx {
	char *addr;
	const char *src;
	size_t page, npages;
	int uffd;
	bool blocking;
	volatile int go;
	volatile int stop;
	volatile int meet;	/* step rendezvous counter */
	/* monitor results */
	pthread_t monitor;
	volatile int monitor_done;
	size_t msgs, copies, eexist, errors, bad_msgs, bad_flags, batches;
	bool check_tid;
	struct faulter f[NTHREADS];
};

FIXTURE(stress) {
	struct mem_area mem;
	char *src;
	int uffd;
	struct stress_ctx ctx;
};

FIXTURE_VARIANT(stress) {
	enum mem_type mem;
};

FL_MEM_VARIANTS(stress);

FIXTURE_SETUP(stress)
{
	size_t n = mem_is_hugetlb(variant->mem) ? NPAGES_HUGE : NPAGES;
	uint64_t have = 0, f = fl_missing_feature(variant->mem);

	/* Thread ids in the messages let us check who faulted how. */
	fl_kernel_features(&have, NULL);
	f |= have & UFFD_FEATURE_THREAD_ID;
	self->uffd = FL_UFFD_OPEN(f);
	FL_MEM_ALLOC(&self->mem, variant->mem, n);
	ASSERT_EQ(0, uffd_register_range(self->uffd, self->mem.addr,
					 self->mem.len,
					 UFFDIO_REGISTER_MODE_MISSING, NULL));
	self->src = malloc(self->mem.len);
	ASSERT_NE(NULL, self->src);
	mem_fill(self->src, self->mem.len, SEED);
	self->ctx = (struct stress_ctx){
		.addr = self->mem.addr, .src = self->src,
		.page = self->mem.page, .npages = n, .uffd = self->uffd,
		.check_tid = !!(f & UFFD_FEATURE_THREAD_ID),
	};
}

FIXTURE_TEARDOWN(stress)
{
	if (self->uffd > 0)
		close(self->uffd);
	mem_free(&self->mem);
	free(self->src);
}

/*
 * A rendezvous per step: every thread arrives before any touches the page.
 * Bounded, so a thread stuck in a fault cannot hang the others.
 */
static void step_barrier(struct stress_ctx *c, size_t step)
{
	uint64_t end = now_ms() + 50;

	__atomic_add_fetch(&c->meet, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&c->meet, __ATOMIC_SEQ_CST) <
	       NTHREADS * (int)(step + 1) && now_ms() < end)
		sched_yield();
}

static void *faulter_main(void *arg)
{
	struct faulter *f = arg;
	struct stress_ctx *c = f->ctx;
	size_t k;

	f->tid = fl_gettid();
	while (!__atomic_load_n(&c->go, __ATOMIC_SEQ_CST))
		sched_yield();
	/*
	 * All threads touch the same page at the same time (they meet
	 * before each one), so one page often has several faults pending.
	 */
	for (k = 0; k < c->npages; k++) {
		volatile char *pp = c->addr + k * c->page;
		size_t p = k;

		step_barrier(c, k);

		if (f->writer) {
			pp[WRITE_OFF(f->idx)] = MARK(f->idx);
		} else if (pp[READ_OFF(f->idx)] !=
			   c->src[p * c->page + READ_OFF(f->idx)]) {
			f->bad++;
		}
	}
	__atomic_store_n(&f->done, 1, __ATOMIC_SEQ_CST);
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

/* Resolve one fault message. */
static void handle_msg(struct stress_ctx *c, const struct uffd_msg *msg)
{
	uintptr_t base = (uintptr_t)c->addr, a;
	struct uffdio_copy cp;
	int ret;

	c->msgs++;
	a = msg->arg.pagefault.address;
	if (msg->event != UFFD_EVENT_PAGEFAULT || a < base ||
	    a >= base + c->npages * c->page || (a - base) % c->page) {
		c->bad_msgs++;
		return;
	}
	if (c->check_tid) {
		struct faulter *f = faulter_by_tid(c, msg->arg.pagefault.feat.ptid);
		bool wr = msg->arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE;

		if (!f || f->writer != wr)
			c->bad_flags++;
	}
	cp = (struct uffdio_copy){ .dst = a, .src = (uintptr_t)c->src + (a - base),
				   .len = c->page };
	ret = uffd_copy(c->uffd, &cp);
	if (!ret && cp.copy == (int64_t)c->page) {
		c->copies++;
	} else if (ret == -EEXIST) {
		/* Another thread's fault on this page was resolved first. */
		c->eexist++;
		uffd_wake_range(c->uffd, (void *)a, c->page);
	} else {
		c->errors++;
	}
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

	while (c->copies < c->npages &&
	       !__atomic_load_n(&c->stop, __ATOMIC_SEQ_CST)) {
		ssize_t n;
		size_t i;
		int ret;

		if (!c->blocking) {
			ret = poll(&pfd, 1, 100);
			if (ret <= 0)
				continue;
		}
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
	__atomic_store_n(&c->monitor_done, 1, __ATOMIC_SEQ_CST);
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

static void run_stress(struct __test_metadata *_metadata,
		       FIXTURE_DATA(stress) *self, bool blocking)
{
	struct stress_ctx *c = &self->ctx;
	struct sigaction sa = { .sa_handler = on_sigusr1 };
	uint64_t end;
	size_t p, bad = 0;
	int i;

	c->blocking = blocking;
	if (blocking) {
		int fl = fcntl(c->uffd, F_GETFL);

		ASSERT_EQ(0, fcntl(c->uffd, F_SETFL, fl & ~O_NONBLOCK));
		/* No SA_RESTART: the signal must end a blocked read(). */
		sigemptyset(&sa.sa_mask);
		ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	}
	ASSERT_EQ(0, pthread_create(&c->monitor, NULL, monitor_main, c));
	for (i = 0; i < NTHREADS; i++) {
		c->f[i] = (struct faulter){ .ctx = c, .idx = i,
					    .writer = i & 1 };
		ASSERT_EQ(0, pthread_create(&c->f[i].thread, NULL,
					    faulter_main, &c->f[i]));
	}
	for (i = 0; i < NTHREADS; i++)
		while (!c->f[i].tid)
			sched_yield();
	__atomic_store_n(&c->go, 1, __ATOMIC_SEQ_CST);

	end = now_ms() + DEADLINE_MS;
	while (!all_done(c) && now_ms() < end)
		usleep(1000);
	EXPECT_TRUE(all_done(c)) {
		TH_LOG("faulting threads still blocked after %d ms", DEADLINE_MS);
		/* Releasing the uffd wakes them, so they can be joined. */
		close(self->uffd);
		self->uffd = -1;
	}
	for (i = 0; i < NTHREADS; i++)
		pthread_join(c->f[i].thread, NULL);

	while (!c->monitor_done && now_ms() < end + 500)
		usleep(1000);
	if (!c->monitor_done) {
		__atomic_store_n(&c->stop, 1, __ATOMIC_SEQ_CST);
		while (!c->monitor_done) {
			pthread_kill(c->monitor, SIGUSR1);
			usleep(1000);
		}
	}
	pthread_join(c->monitor, NULL);

	/* Each page resolved exactly once; duplicates were EEXIST + WAKE. */
	EXPECT_EQ(c->npages, c->copies);
	EXPECT_EQ(0, c->errors);
	EXPECT_EQ(0, c->bad_msgs);
	EXPECT_EQ(0, c->bad_flags);
	EXPECT_GE(c->msgs, c->npages);
	EXPECT_LE(c->msgs, c->npages * NTHREADS);
	EXPECT_EQ(c->msgs - c->copies - c->bad_msgs - c->errors, c->eexist);
	for (i = 0; i < NTHREADS; i++)
		EXPECT_EQ(0, c->f[i].bad);

	/* Every byte: the copied pattern, plus each writer's mark. */
	for (p = 0; p < c->npages; p++) {
		char *pp = c->addr + p * c->page;

		for (i = 0; i < NTHREADS; i++)
			if (c->f[i].writer) {
				bad += (unsigned char)pp[WRITE_OFF(i)] != MARK(i);
				pp[WRITE_OFF(i)] = c->src[p * c->page + WRITE_OFF(i)];
			}
	}
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, memcmp(c->addr, c->src, c->npages * c->page));
	TH_LOG("%zu pages, %zu fault messages, %zu duplicates, %zu multi-message reads",
	       c->npages, c->msgs, c->eexist, c->batches);
}

TEST_F_TIMEOUT(stress, poll, 10)
{
	run_stress(_metadata, self, false);
}

TEST_F_TIMEOUT(stress, blocking_read, 10)
{
	run_stress(_metadata, self, true);
}

FL_TEST_MAIN(16)
