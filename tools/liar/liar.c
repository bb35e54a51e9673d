// SPDX-License-Identifier: GPL-2.0
/*
 * faultline liar: the interposed entry points and the descriptor table.
 *
 * Only uffd descriptors are touched: one is a uffd when userfaultfd(2) or
 * USERFAULTFD_IOC_NEW made it, when a FORK event delivered it, or when a
 * UFFDIO_* ioctl arrives on a descriptor /proc says is a uffd (one received
 * over SCM_RIGHTS). Everything else goes straight to libc.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "liar.h"

#ifndef __NR_userfaultfd
#define __NR_userfaultfd 323
#endif

/* Descriptors above this are never uffds to us (the suite uses few). */
#define LIAR_MAX_FD 1024
#define LOG_LINES 8

const struct lie *liar_lie;

static int (*real_ioctl)(int, unsigned long, ...);
static long (*real_syscall)(long, ...);
static ssize_t (*real_read)(int, void *, size_t);
static int (*real_poll)(struct pollfd *, nfds_t, int);
static int (*real_close)(int);

static struct fd_state states[LIAR_MAX_FD];
static pthread_mutex_t stash_lock = PTHREAD_MUTEX_INITIALIZER;
static int stashed;		/* messages held in any stash */
static int log_fd = -1;
static int logged;

static void resolve(void)
{
	real_ioctl = dlsym(RTLD_NEXT, "ioctl");
	real_syscall = dlsym(RTLD_NEXT, "syscall");
	real_read = dlsym(RTLD_NEXT, "read");
	real_poll = dlsym(RTLD_NEXT, "poll");
	real_close = dlsym(RTLD_NEXT, "close");
}

static void list_lies(void)
{
	char line[256];
	size_t i;
	int n;

	for (i = 0; i < liar_nlies; i++) {
		n = snprintf(line, sizeof(line), "%s\t%s\n", liar_lies[i].name,
			     liar_lies[i].what);
		if (write(STDOUT_FILENO, line, (size_t)n) < 0)
			break;
	}
}

/* FAULTLINE_LIE picks the lie; a name we do not know is a usage error. */
__attribute__((constructor)) static void liar_init(void)
{
	const char *name = getenv("FAULTLINE_LIE");
	const char *log = getenv("FAULTLINE_LIE_LOG");
	size_t i;

	resolve();
	if (!name || !*name || !strcmp(name, "none"))
		return;
	if (!strcmp(name, "list")) {
		list_lies();
		return;
	}
	for (i = 0; i < liar_nlies; i++)
		if (!strcmp(liar_lies[i].name, name))
			liar_lie = &liar_lies[i];
	if (!liar_lie) {
		fprintf(stderr, "faultline liar: unknown lie '%s' (FAULTLINE_LIE=list names them)\n",
			name);
		_exit(2);
	}
	if (log && *log)
		log_fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			      0644);
}

/*
 * Say once per process, on stdout, that the lie changed something. In a
 * kselftest child that is the test's own TAP stream, so the line lands
 * between its "#  RUN" and its result: the driver knows in which test
 * point the lie fired, not just in which binary.
 */
static void announce(const struct lie *l, const char *detail)
{
	static bool told;
	char line[160];
	int n;

	if (__atomic_exchange_n(&told, true, __ATOMIC_RELAXED))
		return;
	n = snprintf(line, sizeof(line), "# " LIAR_FIRED "%s (%s)\n", l->name,
		     detail);
	if (n > 0 && write(STDOUT_FILENO, line, (size_t)n) < 0)
		return;
}

void liar_fired(const struct lie *l, const char *detail, uint64_t value)
{
	char line[256];
	int n;

	announce(l, detail);
	if (log_fd < 0 || __atomic_fetch_add(&logged, 1, __ATOMIC_RELAXED) >=
	    LOG_LINES)
		return;
	n = snprintf(line, sizeof(line), "%s\t%s\t%d\t%s\t0x%llx\n", l->name,
		     program_invocation_short_name, (int)getpid(), detail,
		     (unsigned long long)value);
	if (n > 0 && write(log_fd, line, (size_t)n) < 0)
		log_fd = -1;
}

/* --- descriptor table ------------------------------------------------ */

struct fd_state *liar_state(int fd)
{
	if (fd < 0 || fd >= LIAR_MAX_FD)
		return NULL;
	return __atomic_load_n(&states[fd].kind, __ATOMIC_ACQUIRE) ?
	       &states[fd] : NULL;
}

void liar_track(int fd, int kind, const struct fd_state *from)
{
	struct fd_state *st;

	if (fd < 0 || fd >= LIAR_MAX_FD)
		return;
	st = &states[fd];
	pthread_mutex_lock(&stash_lock);
	stashed -= st->nstash;
	memset(st, 0, sizeof(*st));
	if (from) {
		st->api_done = from->api_done;
		st->features = from->features;
		memcpy(st->api_reply, from->api_reply, sizeof(st->api_reply));
	}
	pthread_mutex_unlock(&stash_lock);
	__atomic_store_n(&st->kind, kind, __ATOMIC_RELEASE);
}

void liar_untrack(int fd)
{
	if (liar_state(fd))
		liar_track(fd, FD_NONE, NULL);
}

/* /proc says @fd is a userfaultfd (used for descriptors we did not see made). */
static bool proc_says_uffd(int fd)
{
	static const char want[] = "anon_inode:[userfaultfd]";
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link));
	return n == (ssize_t)sizeof(want) - 1 && !memcmp(link, want, n);
}

/* --- the real calls -------------------------------------------------- */

int liar_real_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret = real_ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

int liar_real_create(int flags, int devfd)
{
	long ret;

	if (devfd >= 0)
		return liar_real_ioctl(devfd, USERFAULTFD_IOC_NEW,
				       (void *)(long)flags);
	ret = real_syscall(__NR_userfaultfd, (long)flags);
	return ret < 0 ? -errno : (int)ret;
}

int liar_real_close(int fd)
{
	return real_close(fd) ? -errno : 0;
}

int liar_real_dup(int fd)
{
	int ret = fcntl(fd, F_DUPFD_CLOEXEC, 0);

	return ret < 0 ? -errno : ret;
}

/* --- ioctl ------------------------------------------------------------ */

static int create(int flags, int devfd)
{
	const struct lie *l = liar_lie;
	int fd;

	if (l && l->create)
		fd = l->create(l, flags, devfd);
	else
		fd = liar_real_create(flags, devfd);
	if (fd >= 0)
		liar_track(fd, FD_UFFD, NULL);
	return fd;
}

static int uffd_ioctl(struct fd_state *st, int fd, unsigned long cmd,
		      void *arg)
{
	const struct lie *l = liar_lie;
	uint64_t asked = 0;
	int ret;

	if (cmd == UFFDIO_API && arg)
		asked = ((struct uffdio_api *)arg)->features;
	if (l && l->ioctl && (!l->cmd || l->cmd == cmd))
		ret = l->ioctl(l, st, fd, cmd, arg);
	else
		ret = liar_real_ioctl(fd, cmd, arg);
	if (cmd == UFFDIO_API && !ret && !st->api_done) {
		const struct uffdio_api *api = arg;

		st->api_done = true;
		st->features = asked;
		st->api_reply[0] = api->features;
		st->api_reply[1] = api->ioctls;
	}
	return ret;
}

static int do_ioctl(int fd, unsigned long cmd, void *arg)
{
	struct fd_state *st;
	int ret;

	if (cmd == USERFAULTFD_IOC_NEW)
		ret = create((int)(long)arg, fd);
	else if (_IOC_TYPE(cmd) != UFFDIO)
		return real_ioctl(fd, cmd, arg);
	else if ((st = liar_state(fd)))
		ret = uffd_ioctl(st, fd, cmd, arg);
	else if (fd >= 0 && fd < LIAR_MAX_FD && proc_says_uffd(fd)) {
		liar_track(fd, FD_UFFD, NULL);
		ret = uffd_ioctl(liar_state(fd), fd, cmd, arg);
	} else
		return real_ioctl(fd, cmd, arg);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

int ioctl(int fd, unsigned long cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return do_ioctl(fd, cmd, arg);
}

/* --- read ------------------------------------------------------------- */

/* Hand out held-back messages first: they were due before newer ones. */
static size_t take_stash(struct fd_state *st, struct uffd_msg *out,
			 size_t cap)
{
	size_t n;

	pthread_mutex_lock(&stash_lock);
	n = (size_t)st->nstash < cap ? (size_t)st->nstash : cap;
	memcpy(out, st->stash, n * sizeof(*out));
	memmove(st->stash, st->stash + n, (st->nstash - n) * sizeof(*out));
	st->nstash -= (int)n;
	stashed -= (int)n;
	pthread_mutex_unlock(&stash_lock);
	return n;
}

static void put_stash(struct fd_state *st, const struct uffd_msg *m)
{
	pthread_mutex_lock(&stash_lock);
	if (st->nstash < LIAR_STASH) {
		st->stash[st->nstash++] = *m;
		stashed++;
	}
	pthread_mutex_unlock(&stash_lock);
}

/*
 * A FORK event installs the child's uffd in our table: track it, with the
 * parent's handshake (the child's context inherits the features).
 */
static void note_fork(struct fd_state *st, const struct uffd_msg *m)
{
	if (m->event == UFFD_EVENT_FORK)
		liar_track((int)m->arg.fork.ufd, FD_FORKED, st);
}

/*
 * Pass @k messages of @in through the lie: what fits in @cap goes to
 * @out, the rest waits in the stash. Returns the number placed.
 */
static size_t filter(const struct lie *l, struct fd_state *st, int fd,
		     struct uffd_msg *in, size_t k, struct uffd_msg *out,
		     size_t cap)
{
	size_t i, placed = 0;
	int copies, c;

	for (i = 0; i < k; i++) {
		copies = l && l->msg ? l->msg(l, st, fd, &in[i]) : 1;
		for (c = 0; c < copies; c++) {
			if (placed < cap)
				out[placed++] = in[i];
			else
				put_stash(st, &in[i]);
		}
	}
	return placed;
}

static ssize_t uffd_read(struct fd_state *st, int fd, void *buf, size_t len)
{
	struct uffd_msg in[LIAR_STASH / 2];
	size_t cap = len / sizeof(struct uffd_msg), k, placed;
	/* Fewer messages than asked for is always a legal answer. */
	size_t want = (cap < LIAR_STASH / 2 ? cap : LIAR_STASH / 2) *
		      sizeof(struct uffd_msg);
	ssize_t n;

	if (cap && st->nstash)
		return (ssize_t)(take_stash(st, buf, cap) *
				 sizeof(struct uffd_msg));
	for (;;) {
		n = real_read(fd, cap ? (void *)in : buf, cap ? want : len);
		if (n <= 0 || !cap || n % sizeof(struct uffd_msg))
			return n;
		k = (size_t)n / sizeof(struct uffd_msg);
		for (size_t i = 0; i < k; i++)
			note_fork(st, &in[i]);
		placed = filter(liar_lie, st, fd, in, k, buf, cap);
		if (placed)
			return (ssize_t)(placed * sizeof(struct uffd_msg));
		/* Everything was dropped: read on (non-blocking: EAGAIN). */
	}
}

ssize_t read(int fd, void *buf, size_t len)
{
	struct fd_state *st = liar_state(fd);

	if (!st)
		return real_read(fd, buf, len);
	/* A number reused without our close() (dup2 onto it...): not ours. */
	if (!proc_says_uffd(fd)) {
		liar_untrack(fd);
		return real_read(fd, buf, len);
	}
	return uffd_read(st, fd, buf, len);
}

/* --- poll, close -------------------------------------------------------- */

/* Held-back messages must make the descriptor readable, as queued ones do. */
int poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	int ready = 0, ret;
	nfds_t i;

	if (!__atomic_load_n(&stashed, __ATOMIC_RELAXED))
		return real_poll(fds, nfds, timeout);
	for (i = 0; i < nfds; i++) {
		struct fd_state *st = liar_state(fds[i].fd);

		if (st && st->nstash && (fds[i].events & POLLIN))
			ready++;
	}
	if (!ready)
		return real_poll(fds, nfds, timeout);
	ret = real_poll(fds, nfds, 0);
	if (ret < 0)
		return ret;
	ready = 0;
	for (i = 0; i < nfds; i++) {
		struct fd_state *st = liar_state(fds[i].fd);

		if (st && st->nstash && (fds[i].events & POLLIN))
			fds[i].revents |= POLLIN;
		ready += fds[i].revents != 0;
	}
	return ready;
}

int close(int fd)
{
	liar_untrack(fd);
	return real_close(fd);
}

/* --- syscall ------------------------------------------------------------ */

long syscall(long nr, ...)
{
	long a[6];
	va_list ap;
	int i, ret;

	/* Like libc: always six argument words, whatever the call uses. */
	va_start(ap, nr);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	switch (nr) {
	case __NR_userfaultfd:
		ret = create((int)a[0], -1);
		break;
	case __NR_ioctl:
		return do_ioctl((int)a[0], (unsigned long)a[1], (void *)a[2]);
	case __NR_read:
		return read((int)a[0], (void *)a[1], (size_t)a[2]);
	case __NR_close:
		return close((int)a[0]);
	default:
		return real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	}
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}
