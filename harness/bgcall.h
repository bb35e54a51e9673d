/* SPDX-License-Identifier: GPL-2.0 */
/*
 * faultline harness: run one blocking call (madvise, mremap, munmap, fork,
 * read, ...) on a helper thread, so a case can show that a non-cooperative
 * userfaultfd event holds the caller until the monitor reads the event.
 */
#ifndef FAULTLINE_BGCALL_H
#define FAULTLINE_BGCALL_H

#include <stdbool.h>

#include "fault.h"

/*
 * Wait for, join and finish the call with fl_thread_wait(&c->th, ...),
 * fl_thread_join() and fl_thread_finish().
 */
struct bg_call {
	struct fl_thread th;	/* done: the call has returned */
	long (*fn)(void *arg);	/* the call; returns its result */
	void *arg;
	long ret;		/* fn's return value, valid once done */
	int err;		/* errno right after fn returned */
};

/* Start @fn(@arg) on a new thread. 0 or -errno. */
int bg_start(struct bg_call *c, long (*fn)(void *), void *arg);

/*
 * Wait up to @timeout_ms for a message to become readable on @uffd (without
 * reading it). Returns 1 if the call is then held by the unread event
 * (fl_thread_held(): unfinished and asleep), 0 if it returned, -ETIMEDOUT
 * if no message showed up, -ENOMSG if the call returned with no message
 * queued (see c->ret: the operation itself may have been refused), or
 * -errno from poll().
 */
int bg_held_by_event(struct bg_call *c, int uffd, int timeout_ms);

/* Ready-made calls: struct bg_mm_args describes the range. */
struct bg_mm_args {
	void *addr;
	size_t len;
	int advice;		/* for bg_madvise */
	void *new_addr;		/* for bg_mremap_fixed/_dontunmap: the target */
	size_t new_len;		/* for bg_mremap_shrink */
	void *result;		/* mmap's or mremap's return value */
};

long bg_madvise(void *arg);	/* madvise(addr, len, advice): 0 or -errno */
long bg_munmap(void *arg);	/* munmap(addr, len): 0 or -errno */
long bg_mremap_fixed(void *arg);/* mremap to new_addr: 0 or -errno */
/* mremap to new_addr keeping the old range (MREMAP_DONTUNMAP). */
long bg_mremap_dontunmap(void *arg);
/* mremap in place to new_len (< len: the tail is unmapped). */
long bg_mremap_shrink(void *arg);
/* A fresh anonymous mapping MAP_FIXED over [addr, addr+len). */
long bg_mmap_fixed(void *arg);

/* A read(2) that may block: of a uffd, or of a pipe into a registered hole. */
struct bg_read_args {
	int fd;
	void *buf;
	size_t len;
};
/* read(fd, buf, len): the byte count or -errno. */
long bg_read(void *arg);

#endif /* FAULTLINE_BGCALL_H */
