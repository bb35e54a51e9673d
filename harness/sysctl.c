// SPDX-License-Identifier: GPL-2.0
/* faultline harness: guarded sysctl changes, restored on every exit path. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sysctl.h"

static char guard_path[128];
static long guard_orig = -ENOENT;
/* Which processes armed the handlers: only they restore on exit. */
static pid_t armed_pid;

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

int sysctl_guard_restore(void)
{
	long now;

	if (guard_orig < 0 || !guard_path[0])
		return guard_orig < 0 ? (int)guard_orig : -EINVAL;
	now = sysctl_read(guard_path);
	if (now == guard_orig)
		return 0;
	return sysctl_write(guard_path, guard_orig);
}

static void restore_at_exit(void)
{
	/* Forked children inherit atexit handlers; only the armer restores. */
	if (getpid() == armed_pid)
		sysctl_guard_restore();
}

static void restore_on_signal(int sig)
{
	/* sysctl_write() is async-signal-safe. */
	if (guard_orig >= 0 && guard_path[0])
		sysctl_write(guard_path, guard_orig);
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
	guard_orig = sysctl_read(path);
	if (guard_orig < 0)
		return (int)guard_orig;
	arm();
	return 0;
}

long sysctl_guard_original(void)
{
	return guard_orig;
}

int sysctl_guard_set(long val)
{
	if (guard_orig < 0)
		return guard_orig == -ENOENT ? -EINVAL : (int)guard_orig;
	arm();
	return sysctl_write(guard_path, val);
}
