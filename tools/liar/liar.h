/* SPDX-License-Identifier: GPL-2.0 */
/*
 * faultline liar: an LD_PRELOAD library that makes the userfaultfd API lie
 * in exactly one named way (FAULTLINE_LIE=<name>), so that the suite can
 * show that its points fail on a kernel that behaves like that.
 *
 * liar.c interposes ioctl(), syscall(), read(), poll() and close(), knows
 * which descriptors are uffds and hands each uffd operation to the lie in
 * force; lies.c is the table of lies; peek.c looks at our own memory
 * (which pages are safe to touch from inside a hook).
 *
 * Hooks run inside the caller's ioctl/read, possibly while a FORK event
 * holds glibc's malloc and stdio locks in another thread: no malloc, no
 * stdio in anything a hook calls.
 */
#ifndef FAULTLINE_LIAR_H
#define FAULTLINE_LIAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "uffd_compat.h"

/* What the liar knows about one descriptor. */
enum fd_kind {
	FD_NONE,
	FD_UFFD,	/* made by userfaultfd(2) or USERFAULTFD_IOC_NEW */
	FD_FORKED,	/* received in a FORK event: the child's uffd */
};

#define LIAR_STASH 64

struct fd_state {
	int kind;
	bool api_done;		/* a UFFDIO_API succeeded on it */
	bool dropped;		/* read_drop_first: its first message is gone */
	uint64_t features;	/* what the caller asked UFFDIO_API for */
	uint64_t api_reply[2];	/* features, ioctls of that answer */
	int nstash;		/* messages held back for the next read() */
	struct uffd_msg stash[LIAR_STASH];
};

struct lie;

/* A uffd ioctl: return 0 or -errno, as the caller will see it. */
typedef int (*ioctl_hook)(const struct lie *l, struct fd_state *st, int fd,
			  unsigned long cmd, void *arg);
/* Creation (@devfd: the /dev/userfaultfd fd, or -1 for the syscall). */
typedef int (*create_hook)(const struct lie *l, int flags, int devfd);
/* One delivered message: return how many copies to deliver (0, 1, 2). */
typedef int (*msg_hook)(const struct lie *l, struct fd_state *st, int fd,
			struct uffd_msg *msg);

struct lie {
	const char *name;
	const char *what;	/* one line, for FAULTLINE_LIE=list */
	unsigned long cmd;	/* the ioctl it concerns; 0: every uffd ioctl */
	ioctl_hook ioctl;
	create_hook create;
	msg_hook msg;
	uint64_t a, b;		/* parameters of a generic hook */
	int64_t c;
};

/* The lie table (lies.c) and the one in force (NULL: pass through). */
extern const struct lie liar_lies[];
extern const size_t liar_nlies;
extern const struct lie *liar_lie;

/* The real calls, and state (liar.c). 0/fd or -errno. */
int liar_real_ioctl(int fd, unsigned long cmd, void *arg);
int liar_real_create(int flags, int devfd);
int liar_real_close(int fd);
int liar_real_dup(int fd);
struct fd_state *liar_state(int fd);
void liar_track(int fd, int kind, const struct fd_state *from);
void liar_untrack(int fd);
/* What liar_fired() writes on stdout once per process, before the name. */
#define LIAR_FIRED "liar fired: "
/* Record that the lie changed something (first few per process logged). */
void liar_fired(const struct lie *l, const char *detail, uint64_t value);

/* Our own memory (peek.c). */
struct vma_view {
	uintptr_t start, end;
	size_t page;		/* KernelPageSize */
	bool readable, writable;
	bool uffd_armed;	/* VmFlags um, uw or ui */
};
/* The VMA holding @addr: 0, or -ENOENT when there is none. */
int vma_view(uintptr_t addr, struct vma_view *v);
/* Page size of the VMA holding @addr (base page size when unknown). */
size_t vma_page(uintptr_t addr);
/*
 * Whether the caller's thread may read (or write) [addr, addr+len) without
 * a fault that userfaultfd could hold: either no uffd watches the VMA, or
 * every base page is mapped (and, to write, not uffd-wp protected).
 */
bool safe_to_touch(uintptr_t addr, size_t len, bool write);
/* Copy @len bytes (or @fill when @src is NULL) where safe_to_touch(). */
size_t touch_write(uintptr_t dst, const void *src, int fill, size_t len);
/* Read one byte of every base page where safe; pages touched. */
size_t touch_read(uintptr_t addr, size_t len);

#endif /* FAULTLINE_LIAR_H */
