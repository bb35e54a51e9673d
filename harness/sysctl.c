// SPDX-License-Identifier: GPL-2.0
/*
 * faultline harness: guarded sysctl changes, restored on every exit path.
 *
 * Two processes changing one sysctl at once (two runs on one host, a test
 * beside a case binary) would each record the other's temporary value as
 * the one to restore, and the last one out would leave it changed. So, as
 * with the huge page pool (runner/pool.c), a change is made holding a lock,
 * /run/faultline-sysctl-<name>.lock (flock), and the lock file records the
 * original value before the sysctl is touched:
 *
 *	faultline-sysctl 1 pid=<pid> original=<value>
 *
 * It is emptied once the value is back. The lock is kept until the holder
 * exits (a kselftest test runs in a child of its own), so the value it
 * checks after restoring is not someone else's yet. A holder that died
 * without restoring (SIGKILL) leaves its record: whoever takes the lock
 * next puts the original back first and says so on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "clock.h"
#include "lockfile.h"
#include "sysctl.h"

#define RECORD_MAGIC	"faultline-sysctl 1"
/* Another holder is waited for this long, then the change is refused. */
#define LOCK_WAIT_MS	20000
#define LOCK_POLL_MS	50

static char guard_path[128];
static char lock_path[192];
static long guard_orig = -ENOENT;
/* The lock file while this process holds it (and may hold a record). */
static int lock_fd = -1;
static bool recorded;
/* This process changed the sysctl and owes guard_orig back. */
static bool held;
/* Which processes armed the handlers: only they restore on exit. */
static pid_t armed_pid;
/* The process that called sysctl_guard_init() (kselftest's top process). */
static pid_t init_pid;

long sysctl_read(const char *path)
{
	char buf[32];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	return strtol(buf, NULL, 10);
}

/* "<val>\n" at the end of @buf, without stdio (signal handlers use it). */
static const char *format_long(char *buf, size_t size, long val)
{
	unsigned long v = val < 0 ? 0UL - (unsigned long)val : (unsigned long)val;
	char *p = buf + size;

	*--p = '\n';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v && p > buf + 1);
	if (val < 0)
		*--p = '-';
	return p;
}

int sysctl_write(const char *path, long val)
{
	char buf[24];
	const char *text = format_long(buf, sizeof(buf), val);
	ssize_t len = buf + sizeof(buf) - text;
	int fd, ret = 0, saved = errno;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
	} else {
		if (write(fd, text, (size_t)len) != len)
			ret = errno ? -errno : -EIO;
		close(fd);
	}
	errno = saved;
	return ret;
}

/* /run/faultline-sysctl-vm.unprivileged_userfaultfd.lock for @path. */
static void name_lock(const char *path)
{
	const char *name = path;
	char *p;

	if (!strncmp(name, "/proc/sys/", 10))
		name += 10;
	snprintf(lock_path, sizeof(lock_path), "/run/faultline-sysctl-%s.lock",
		 name);
	for (p = lock_path + strlen("/run/"); *p; p++)
		if (*p == '/')
			*p = '.';
}

/* What a holder that died left: its original value, or -1. */
/* The decimal number @p starts with, or -1. Async-signal-safe. */
static long digits(const char *p)
{
	long val = -1;

	for (; *p >= '0' && *p <= '9'; p++)
		val = (val < 0 ? 0 : val * 10) + (*p - '0');
	return val;
}

/* The number after @key in @text, or -1. Async-signal-safe. */
static long field_after(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	return p ? digits(p + strlen(key)) : -1;
}

/* Async-signal-safe (the top process's handler reads it). */
static long record_read(int fd, long *pid)
{
	char buf[128];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (strncmp(buf, RECORD_MAGIC " ", strlen(RECORD_MAGIC) + 1))
		return -1;
	*pid = field_after(buf, " pid=");
	return *pid > 0 ? field_after(buf, " original=") : -1;
}

/* The parent of @pid, from /proc/<pid>/stat; -1. Async-signal-safe. */
static long parent_of(long pid)
{
	char path[40] = "/proc/", num[24], buf[256];
	const char *p = format_long(num, sizeof(num), pid);
	size_t len = strlen("/proc/");
	ssize_t n;
	int fd;

	memcpy(path + len, p, (size_t)(num + sizeof(num) - 1 - p));
	len += (size_t)(num + sizeof(num) - 1 - p);	/* without its \n */
	memcpy(path + len, "/stat", 6);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "pid (comm) S ppid ...": after the last ')' comes the state. */
	p = strrchr(buf, ')');
	return p && p[1] && p[2] && p[3] ? digits(p + 4) : -1;
}

static void record_write(long orig)
{
	char buf[128];
	int n = snprintf(buf, sizeof(buf), RECORD_MAGIC " pid=%ld original=%ld\n",
			 (long)getpid(), orig);

	recorded = lock_fd >= 0 && pwrite(lock_fd, buf, (size_t)n, 0) == n &&
		   !ftruncate(lock_fd, n);
}

/* Empty a lock file (no record): true if done. Async-signal-safe. */
static bool emptied(int fd)
{
	return ftruncate(fd, 0) == 0;
}

/* Async-signal-safe: the signal handler clears the record too. */
static void record_clear(void)
{
	if (lock_fd >= 0 && recorded && emptied(lock_fd))
		recorded = false;
}

/* We hold the lock: put back what a dead holder left changed. */
static void repair(void)
{
	long pid, orig = record_read(lock_fd, &pid), now;

	if (orig < 0)
		return;
	now = sysctl_read(guard_path);
	if (now != orig && sysctl_write(guard_path, orig) == 0)
		fprintf(stderr, "# faultline: PID %ld ended without restoring %s: %ld -> %ld\n",
			pid, guard_path, now, orig);
	emptied(lock_fd);
}

/*
 * Take the lock, waiting up to @wait_ms for another holder (saying for
 * whom, once). 0 (also when there is no lock to take: no /run, not root:
 * nothing can race then), or -EBUSY.
 */
static int lock_take(int wait_ms)
{
	uint64_t end = now_ms() + (uint64_t)wait_ms;
	bool said = false;

	if (lock_fd >= 0)
		return 0;
	lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lock_fd < 0)
		return 0;
	while (flock(lock_fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			return 0;	/* no locking here: go on without */
		if (now_ms() >= end) {
			close(lock_fd);
			lock_fd = -1;
			return -EBUSY;
		}
		if (!said && wait_ms) {
			fprintf(stderr, "# waiting for PID %ld, which holds %s (%s)\n",
				lockfile_holder(lock_fd), guard_path, lock_path);
			said = true;
		}
		usleep(LOCK_POLL_MS * 1000);
	}
	repair();
	return 0;
}

static void lock_drop(void)
{
	if (lock_fd >= 0)
		close(lock_fd);
	lock_fd = -1;
}

int sysctl_guard_restore(void)
{
	int ret = 0;

	if (guard_orig < 0 || !guard_path[0])
		return guard_orig < 0 ? (int)guard_orig : -EINVAL;
	if (!held) {
		/* Not ours to restore; put back what a dead holder left. */
		if (lock_fd < 0 && lock_take(0) == 0)
			lock_drop();
		return 0;
	}
	if (sysctl_read(guard_path) != guard_orig)
		ret = sysctl_write(guard_path, guard_orig);
	if (!ret) {
		record_clear();
		held = false;
	}
	return ret;
}

static void restore_at_exit(void)
{
	/* Forked children inherit atexit handlers; only the armer restores. */
	if (getpid() == armed_pid)
		sysctl_guard_restore();
}

/*
 * The top process is killed while a test below it holds the change (the
 * harness may run a test two forks down): the holder would go on, then
 * restore, after we are gone; put its original back now. Only a record of
 * one of our descendants: another run's change is not ours to undo.
 * Async-signal-safe.
 */
static void restore_descendant(void)
{
	long pid, orig, up;
	int fd = open(lock_path, O_RDWR | O_CLOEXEC), depth;

	if (fd < 0)
		return;
	orig = record_read(fd, &pid);
	for (up = pid, depth = 0; orig >= 0 && up > 1 && depth < 16; depth++) {
		up = parent_of(up);
		if (up == (long)getpid()) {
			if (sysctl_write(guard_path, orig) == 0)
				emptied(fd);
			break;
		}
	}
	close(fd);
}

static void restore_on_signal(int sig)
{
	/* sysctl_write(), open() and ftruncate() are async-signal-safe. */
	if (held && sysctl_write(guard_path, guard_orig) == 0)
		record_clear();
	else if (!held && getpid() == init_pid)
		restore_descendant();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void arm(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT,
				    SIGALRM, SIGABRT, SIGSEGV, SIGBUS };
	static pid_t atexit_pid;
	size_t i;

	if (armed_pid == getpid())
		return;
	armed_pid = getpid();
	if (!atexit_pid) {
		atexit_pid = armed_pid;
		atexit(restore_at_exit);
	}
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction sa = { .sa_handler = restore_on_signal };
		struct sigaction old;

		/* Leave handlers someone else installed (the harness) alone. */
		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler != SIG_DFL)
			continue;
		sigemptyset(&sa.sa_mask);
		sigaction(sigs[i], &sa, NULL);
	}
}

int sysctl_guard_init(const char *path)
{
	snprintf(guard_path, sizeof(guard_path), "%s", path);
	name_lock(path);
	init_pid = getpid();
	/* Read under the lock: not another holder's temporary value. */
	if (lock_take(LOCK_WAIT_MS) == 0) {
		guard_orig = sysctl_read(path);
		lock_drop();
	} else {
		guard_orig = sysctl_read(path);
	}
	if (guard_orig < 0)
		return (int)guard_orig;
	arm();
	return 0;
}

int sysctl_guard_repair(const char *path)
{
	int err;

	snprintf(guard_path, sizeof(guard_path), "%s", path);
	name_lock(path);
	/* Not waiting: a live holder restores its change itself. */
	err = lock_take(0);
	lock_drop();
	return err;
}

long sysctl_guard_original(void)
{
	return guard_orig;
}

int sysctl_guard_set(long val)
{
	long now;
	int err;

	if (guard_orig < 0 && !guard_path[0])
		return -EINVAL;
	err = lock_take(LOCK_WAIT_MS);
	if (err)
		return err;
	arm();
	now = sysctl_read(guard_path);
	if (now < 0)
		return (int)now;
	/*
	 * A test child holding the change: if the test process above it is
	 * killed, the child gets SIGTERM and its handler restores at once
	 * (the top no longer knows the original: only the holder does).
	 */
	if (getpid() != init_pid)
		prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
	/* The first change since the last restore: this is the original. */
	if (!held) {
		guard_orig = now;
		held = true;
		record_write(now);
	}
	return now == val ? 0 : sysctl_write(guard_path, val);
}
