// SPDX-License-Identifier: GPL-2.0
/* faultline harness: a blocking call on a helper thread. */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

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

int bg_held_by_event(struct bg_call *c, int uffd, int timeout_ms)
{
	int ret = fl_thread_or_readable(&c->th, uffd, timeout_ms);

	/* Returned with nothing queued: refused, or it raised no event. */
	if (ret == 0)
		return -ENOMSG;
	if (ret < 0)
		return ret;
	/*
	 * The event is queued: a call it holds sleeps until it is read (one
	 * that returned right after queueing it reads as not held).
	 */
	return fl_thread_held(&c->th) ? 1 : 0;
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

long bg_read(void *arg)
{
	struct bg_read_args *a = arg;
	ssize_t n = read(a->fd, a->buf, a->len);

	return n < 0 ? -errno : n;
}
