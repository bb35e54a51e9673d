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

int sysctl_write(const char *path, long val)
{
	char buf[32];
	int fd, len, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%ld\n", val);
	if (write(fd, buf, len) != len)
		ret = -errno ? -errno : -EIO;
	close(fd);
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
	int saved = errno;

	/* open/read/write/close are async-signal-safe; snprintf is not used. */
	if (guard_orig >= 0 && guard_path[0]) {
		char buf[24];
		int i = sizeof(buf) - 1, fd;
		long v = guard_orig;

		buf[i] = '\n';
		do {
			buf[--i] = '0' + v % 10;
			v /= 10;
		} while (v && i > 0);
		fd = open(guard_path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (write(fd, buf + i, sizeof(buf) - i) < 0)
				(void)0;
			close(fd);
		}
	}
	errno = saved;
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
