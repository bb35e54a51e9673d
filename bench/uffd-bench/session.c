// SPDX-License-Identifier: GPL-2.0
/* uffd-bench: the fault-servicing thread, the vCPU thread, the watchdog. */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "session.h"

bool bench_abandoned;
int bench_stall_timeout_ms = 2000;
static int vcpu_cpu = -1, servicer_cpu = -1;

/* After the uffd is closed, a woken vCPU has this long to finish its job. */
#define FREE_TIMEOUT_MS 5000

static void session_fail(struct session *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void session_fail(struct session *s, int err, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&s->lock);
	if (!s->error) {
		s->error = err ? err : -EPROTO;
		va_start(ap, fmt);
		vsnprintf(s->why, sizeof(s->why), fmt, ap);
		va_end(ap);
	}
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* Handle one message; false when the servicer must stop. */
static bool service_one(struct session *s)
{
	struct uffd_msg msg;
	resolve_fn fn;
	char why[160];
	int ret = uffd_read_msg(s->uffd, &msg);

	if (ret == -EAGAIN)
		return true;
	if (ret) {
		session_fail(s, ret, "read(uffd): %s", strerror(-ret));
		return false;
	}
	if (msg.event != UFFD_EVENT_PAGEFAULT) {
		session_fail(s, -EPROTO, "unexpected uffd event %u", msg.event);
		return false;
	}
	fn = __atomic_load_n(&s->resolve, __ATOMIC_ACQUIRE);
	if (!fn) {
		session_fail(s, -EPROTO,
			     "a fault at 0x%llx (flags 0x%llx) where none should happen",
			     (unsigned long long)msg.arg.pagefault.address,
			     (unsigned long long)msg.arg.pagefault.flags);
		return false;
	}
	/*
	 * Count before resolving: the resolution wakes the vCPU, whose job
	 * may end (and be checked) before this thread runs again.
	 */
	__atomic_add_fetch(&s->faults, 1, __ATOMIC_RELEASE);
	why[0] = 0;
	ret = fn(__atomic_load_n(&s->resolve_arg, __ATOMIC_ACQUIRE), &msg, why,
		 sizeof(why));
	if (ret) {
		session_fail(s, ret, "%s", why[0] ? why : strerror(-ret));
		return false;
	}
	return true;
}

/* QEMU's postcopy fault thread shape: poll the uffd and a quit fd, read. */
static void *servicer_main(void *arg)
{
	struct session *s = arg;
	struct pollfd pfd[2] = {
		{ .fd = s->uffd, .events = POLLIN },
		{ .fd = s->stop_fd, .events = POLLIN },
	};

	for (;;) {
		int n = poll(pfd, 2, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			session_fail(s, -errno, "poll: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents)
			break;
		if (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			session_fail(s, -EIO, "poll(uffd) revents 0x%x",
				     pfd[0].revents);
			break;
		}
		if ((pfd[0].revents & POLLIN) && !service_one(s))
			break;
	}
	return NULL;
}

/* Pin @t to @cpu (-1: leave it). 0 or -errno. */
static int pin(pthread_t t, int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(t, sizeof(set), &set);
}

int session_placement(int vcpu, int servicer)
{
	vcpu_cpu = vcpu;
	servicer_cpu = servicer;
	return pin(pthread_self(), vcpu);
}

struct session *session_new(int uffd)
{
	struct session *s = calloc(1, sizeof(*s));
	pthread_condattr_t ca;
	int ret;

	if (!s)
		goto fail;
	s->uffd = uffd;
	s->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (s->stop_fd < 0)
		goto fail;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	ret = pthread_create(&s->servicer, NULL, servicer_main, s);
	if (ret) {
		errno = ret;
		goto fail;
	}
	s->servicer_running = true;
	/* Not fatal: the figures are still right, only placed elsewhere. */
	pin(s->servicer, servicer_cpu);
	return s;
fail:
	close(uffd);
	if (s && s->stop_fd > 0)
		close(s->stop_fd);
	free(s);
	return NULL;
}

void session_resolver(struct session *s, resolve_fn fn, void *arg)
{
	__atomic_store_n(&s->resolve_arg, arg, __ATOMIC_RELEASE);
	__atomic_store_n(&s->resolve, fn, __ATOMIC_RELEASE);
}

uint64_t session_faults(struct session *s)
{
	return __atomic_load_n(&s->faults, __ATOMIC_ACQUIRE);
}

static void *vcpu_main(void *arg)
{
	struct session *s = arg;

	/* Pinned like its creator, the controller (session_placement). */
	s->job(s->job_arg);
	pthread_mutex_lock(&s->lock);
	s->vcpu_done = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* Wait for the vCPU (or a servicer error) until @ms from now; done? */
static bool wait_vcpu(struct session *s, int ms, bool stop_on_error)
{
	struct timespec dl;
	bool done;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += ms / 1000;
	dl.tv_nsec += (long)(ms % 1000) * 1000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&s->lock);
	while (!s->vcpu_done && !(stop_on_error && s->error))
		if (pthread_cond_timedwait(&s->cond, &s->lock, &dl) == ETIMEDOUT)
			break;
	done = s->vcpu_done;
	pthread_mutex_unlock(&s->lock);
	return done;
}

/*
 * Wait for the job while it makes progress: a stall, not a slow job,
 * is what a fault that nobody resolves looks like (a pass under TCG may
 * take seconds; no single fault does).
 */
static bool wait_progress(struct session *s, const size_t *progress)
{
	uint64_t last = bench_now_ns();
	size_t seen = progress ? __atomic_load_n(progress, __ATOMIC_RELAXED) : 0;

	for (;;) {
		size_t now_seen;

		if (wait_vcpu(s, 100, true) || s->error)
			return s->vcpu_done;
		now_seen = progress ? __atomic_load_n(progress, __ATOMIC_RELAXED) : 0;
		if (now_seen != seen) {
			seen = now_seen;
			last = bench_now_ns();
		} else if (bench_now_ns() - last >
			   (uint64_t)bench_stall_timeout_ms * 1000000) {
			return false;
		}
	}
}

int session_run(struct session *s, job_fn job, void *arg,
		const size_t *progress, char *why, size_t whylen)
{
	bool done;
	int ret;

	if (s->uffd < 0 || s->error) {
		snprintf(why, whylen, "session already stopped");
		return -EIO;
	}
	s->job = job;
	s->job_arg = arg;
	s->vcpu_done = false;
	ret = pthread_create(&s->vcpu, NULL, vcpu_main, s);
	if (ret) {
		snprintf(why, whylen, "pthread_create: %s", strerror(ret));
		return -ret;
	}
	s->vcpu_running = true;
	done = wait_progress(s, progress);
	if (done && !s->error) {
		pthread_join(s->vcpu, NULL);
		s->vcpu_running = false;
		return 0;
	}
	if (s->error) {
		snprintf(why, whylen, "%s", s->why);
		ret = s->error;
	} else {
		snprintf(why, whylen,
			 "a faulting thread made no progress for %d ms: a fault was never resolved",
			 bench_stall_timeout_ms);
		ret = -ETIMEDOUT;
	}
	session_stop(s);
	return ret;
}

void session_stop(struct session *s)
{
	uint64_t one = 1;

	if (s->servicer_running) {
		if (write(s->stop_fd, &one, sizeof(one)) != sizeof(one))
			pthread_cancel(s->servicer);
		pthread_join(s->servicer, NULL);
		s->servicer_running = false;
	}
	/* Closing the uffd wakes every fault still waiting on it. */
	if (s->uffd >= 0) {
		close(s->uffd);
		s->uffd = -1;
	}
	if (s->vcpu_running) {
		if (wait_vcpu(s, FREE_TIMEOUT_MS, false)) {
			pthread_join(s->vcpu, NULL);
		} else {
			pthread_detach(s->vcpu);
			s->hung = true;
			bench_abandoned = true;
		}
		s->vcpu_running = false;
	}
}

bool session_free(struct session *s)
{
	if (!s)
		return true;
	session_stop(s);
	if (s->hung)
		return false;
	close(s->stop_fd);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
	return true;
}

long fault_index(const struct uffd_msg *msg, const char *base, size_t page,
		 size_t npages)
{
	uintptr_t addr = (uintptr_t)msg->arg.pagefault.address;
	uintptr_t start = (uintptr_t)base;

	if (addr < start || addr >= start + npages * page)
		return -1;
	return (long)((addr - start) / page);
}
