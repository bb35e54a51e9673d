// SPDX-License-Identifier: GPL-2.0
/* faultline harness: a blocking call on a helper thread. */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "bgcall.h"
#include "fault.h"

static void *bg_main(void *arg)
{
	struct bg_call *c = arg;

	fl_thread_started(&c->th);
	errno = 0;
	c->ret = c->fn(c->arg);
	c->err = errno;
	fl_thread_done(&c->th);
	return NULL;
}

int bg_start(struct bg_call *c, long (*fn)(void *), void *arg)
{
	memset(c, 0, sizeof(*c));
	c->fn = fn;
	c->arg = arg;
	return fl_thread_start(&c->th, bg_main, c);
}

int bg_held_by_event(struct bg_call *c, int uffd, int timeout_ms,
		     int settle_ms)
{
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };
	uint64_t end = now_ms() + timeout_ms;
	int ret;

	/*
	 * Poll in slices: a call that returns with nothing queued (the
	 * operation was refused, or raised no event) ends the wait at once.
	 */
	for (;;) {
		ret = poll(&pfd, 1, 5);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0)
			return -errno;
		if (ret > 0)
			break;
		if (__atomic_load_n(&c->th.done, __ATOMIC_SEQ_CST)) {
			/* It may have queued its message just before returning. */
			ret = poll(&pfd, 1, 0);
			return ret > 0 ? 0 : -ENOMSG;
		}
		if (now_ms() >= end)
			return -ETIMEDOUT;
	}
	/* The event is queued: a call not held by it returns right away. */
	return fl_thread_wait(&c->th, settle_ms) ? 0 : 1;
}

long bg_madvise(void *arg)
{
	struct bg_mm_args *a = arg;

	return madvise(a->addr, a->len, a->advice) ? -errno : 0;
}

long bg_munmap(void *arg)
{
	struct bg_mm_args *a = arg;

	return munmap(a->addr, a->len) ? -errno : 0;
}

long bg_mremap_fixed(void *arg)
{
	struct bg_mm_args *a = arg;

	a->result = mremap(a->addr, a->len, a->len,
			   MREMAP_MAYMOVE | MREMAP_FIXED, a->new_addr);
	return a->result == MAP_FAILED ? -errno : 0;
}

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

long bg_mremap_dontunmap(void *arg)
{
	struct bg_mm_args *a = arg;

	a->result = mremap(a->addr, a->len, a->len, MREMAP_MAYMOVE |
			   MREMAP_FIXED | MREMAP_DONTUNMAP, a->new_addr);
	return a->result == MAP_FAILED ? -errno : 0;
}

long bg_mremap_shrink(void *arg)
{
	struct bg_mm_args *a = arg;

	a->result = mremap(a->addr, a->len, a->new_len, 0);
	return a->result == MAP_FAILED ? -errno : 0;
}

long bg_mmap_fixed(void *arg)
{
	struct bg_mm_args *a = arg;

	a->result = mmap(a->addr, a->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	return a->result == MAP_FAILED ? -errno : 0;
}
