// SPDX-License-Identifier: GPL-2.0
/* faultline harness: helper threads, their flags and whether they are held. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "thread.h"

/* How long a thread may stay runnable before it counts as not held. */
#define HELD_WAIT_MS	2000
/* The longest pause between two looks at a runnable thread's state. */
#define HELD_PAUSE_MAX_US	1000

pid_t fl_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

void fl_futex_wait(int *word, int val, long long timeout_us)
{
	struct timespec ts = {
		.tv_sec = (time_t)(timeout_us / 1000000),
		.tv_nsec = (long)(timeout_us % 1000000) * 1000,
	};

	syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val,
		timeout_us < 0 ? NULL : &ts, NULL, 0);
}

void fl_futex_wake(int *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

void fl_flag_raise(int *word)
{
	__atomic_store_n(word, 1, __ATOMIC_SEQ_CST);
	fl_futex_wake(word);
}

static bool flag_is_set(int *flag)
{
	return __atomic_load_n(flag, __ATOMIC_SEQ_CST) != 0;
}

bool fl_flag_wait(int *word, long long timeout_us)
{
	uint64_t end = now_us() + (uint64_t)(timeout_us < 0 ? 0 : timeout_us);

	while (!flag_is_set(word)) {
		uint64_t now = now_us();

		if (timeout_us >= 0 && now >= end)
			return false;
		fl_futex_wait(word, 0, timeout_us < 0 ? -1 :
			      (long long)(end - now));
	}
	return true;
}

int fl_pthread_create(pthread_t *id, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	int ret = pthread_attr_init(&attr);

	if (ret)
		return ret;
	ret = pthread_attr_setstacksize(&attr, FL_THREAD_STACK);
	if (!ret)
		ret = pthread_create(id, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return ret;
}

int fl_thread_start(struct fl_thread *t, void *(*fn)(void *), void *arg)
{
	int ret;

	memset(t, 0, sizeof(*t));
	ret = fl_pthread_create(&t->id, fn, arg);
	if (ret)
		return -ret;
	fl_flag_wait(&t->started, -1);
	return 0;
}

void fl_thread_started(struct fl_thread *t)
{
	t->tid = fl_gettid();
	fl_flag_raise(&t->started);
}

void fl_thread_done(struct fl_thread *t)
{
	fl_flag_raise(&t->done);
}

bool fl_thread_is_done(struct fl_thread *t)
{
	return flag_is_set(&t->done);
}

bool fl_thread_wait(struct fl_thread *t, int timeout_ms)
{
	return fl_flag_wait(&t->done, (long long)timeout_ms * 1000);
}

int fl_thread_or_readable(struct fl_thread *t, int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	int ret;

	/*
	 * Poll in 1 ms slices: the step finishing has no fd to poll, and ends
	 * the wait within a slice.
	 */
	for (;;) {
		ret = poll(&pfd, 1, 1);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0)
			return -errno;
		if (ret > 0)
			return 1;
		if (fl_thread_is_done(t)) {
			/* It may have made @fd readable just before finishing. */
			return poll(&pfd, 1, 0) > 0;
		}
		if (now_ms() >= end)
			return -ETIMEDOUT;
	}
}

/*
 * The fields of a /proc/.../stat file after the parenthesised command name
 * (which may hold anything), starting with the state; NULL when it cannot
 * be read. Raw open/read only.
 */
static const char *stat_fields(const char *path, char *buf, size_t len)
{
	ssize_t n;
	char *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] ? p + 2 : NULL;
}

char proc_stat_state(const char *path)
{
	char buf[512];
	const char *f = stat_fields(path, buf, sizeof(buf));

	return f ? f[0] : '?';
}

/*
 * @pre<id>/stat into @path (64 bytes); false when it does not fit. No
 * snprintf: a FORK event may hold glibc's locks meanwhile.
 */
static bool stat_path(char path[64], const char *pre, pid_t id)
{
	static const char post[] = "/stat";
	char digits[12];
	size_t n = strlen(pre);
	int i = 0;

	if (id <= 0 || n + sizeof(digits) + sizeof(post) > 64)
		return false;
	memcpy(path, pre, n);
	do {
		digits[i++] = (char)('0' + id % 10);
		id /= 10;
	} while (id);
	while (i)
		path[n++] = digits[--i];
	memcpy(path + n, post, sizeof(post));
	return true;
}

/* The state in @pre<id>/stat. */
static char stat_state_of(const char *pre, pid_t id)
{
	char path[64];

	return stat_path(path, pre, id) ? proc_stat_state(path) : '?';
}

long long proc_faults(pid_t pid)
{
	char path[64], buf[512];
	const char *f;
	long long n[10] = { 0 };
	int i;

	if (!stat_path(path, "/proc/", pid))
		return -1;
	f = stat_fields(path, buf, sizeof(buf));
	if (!f)
		return -1;
	/* state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt */
	for (i = 0; i < 10; i++) {
		f = strchr(f, ' ');
		if (!f)
			return -1;
		n[i] = strtoll(++f, NULL, 10);
	}
	return n[6] + n[8];
}

char task_state(pid_t tid)
{
	return stat_state_of("/proc/self/task/", tid);
}

bool fl_thread_held(struct fl_thread *t)
{
	uint64_t end = now_us() + (uint64_t)HELD_WAIT_MS * 1000;
	long long pause_us = 10;
	char st;

	for (;;) {
		if (fl_thread_is_done(t))
			return false;
		st = task_state(t->tid);
		/* No procfs: the bounded wait alone decides. */
		if (st == '?')
			return !fl_thread_wait(t, FL_SETTLE_MS);
		/* Asleep, and (read after the state) still not finished. */
		if (state_asleep(st))
			return !fl_thread_is_done(t);
		if (now_us() >= end)
			return false;
		/* Runnable: leave it the CPU; finishing ends the pause. */
		fl_flag_wait(&t->done, pause_us);
		if (pause_us < HELD_PAUSE_MAX_US)
			pause_us *= 2;
	}
}

void fl_thread_join(struct fl_thread *t)
{
	if (!t->joined) {
		pthread_join(t->id, NULL);
		t->joined = true;
	}
}

bool fl_thread_finish(struct fl_thread *t)
{
	if (!flag_is_set(&t->started) || t->joined)
		return true;
	if (!fl_thread_wait(t, 1000))
		return false;
	fl_thread_join(t);
	return true;
}

/* The wait status of @pid if it has ended (1), 0 if not, -errno. */
static int reap_now(pid_t pid, int *status)
{
	pid_t r = waitpid(pid, status, WNOHANG);

	if (r < 0)
		return -errno;
	return r == pid;
}

int fl_child_wait(pid_t pid, int timeout_ms, int *status)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	long pidfd = syscall(SYS_pidfd_open, pid, 0);
	struct timespec pause = { 0, 50000 };
	int ret;

	if (pidfd >= 0) {
		struct pollfd pfd = { .fd = (int)pidfd, .events = POLLIN };

		/* Readable once the child has ended. */
		do {
			uint64_t now = now_ms();

			ret = poll(&pfd, 1, now < end ? (int)(end - now) : 0);
		} while (ret < 0 && errno == EINTR);
		close((int)pidfd);
		return reap_now(pid, status);
	}
	/* No pidfd (before 5.3): look again, less and less often. */
	while (!(ret = reap_now(pid, status)) && now_ms() < end) {
		nanosleep(&pause, NULL);
		if (pause.tv_nsec < 1000000)
			pause.tv_nsec *= 2;
	}
	return ret;
}

int fl_child_wait_refaulting(pid_t pid, int timeout_ms, int *status,
			     long long *faults)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	long long first = proc_faults(pid), now;
	int slice_ms = 1, ret;

	*faults = 0;
	for (;;) {
		ret = fl_child_wait(pid, slice_ms, status);
		if (ret)
			return ret;
		now = proc_faults(pid);
		if (first >= 0 && now >= first) {
			*faults = now - first;
			if (*faults >= FL_REFAULTS_STUCK)
				return 0;
		}
		if (now_ms() >= end)
			return 0;
		if (slice_ms < 16)
			slice_ms *= 2;
	}
}

int fl_child_or_readable(pid_t pid, int fd, int timeout_ms)
{
	struct pollfd pfd[2] = { { .fd = fd, .events = POLLIN },
				 { .fd = -1, .events = POLLIN } };
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	long pidfd = syscall(SYS_pidfd_open, pid, 0);
	long long first = proc_faults(pid), faults;
	int slice_ms = 1, ret;

	pfd[1].fd = (int)pidfd;		/* -1 (before 5.3): ignored by poll */
	for (;;) {
		uint64_t now = now_ms();
		int left = now < end ? (int)(end - now) : 0;

		ret = poll(pfd, 2, left < slice_ms ? left : slice_ms);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0) {
			ret = -errno;
			break;
		}
		/* A message queued before the child ended still counts. */
		if (pfd[0].revents) {
			ret = 1;
			break;
		}
		faults = proc_faults(pid);
		ret = 0;
		if (pfd[1].revents ||
		    (first >= 0 && faults - first >= FL_REFAULTS_STUCK))
			break;
		if (now_ms() >= end) {
			ret = -ETIMEDOUT;
			break;
		}
		if (slice_ms < 16)
			slice_ms *= 2;
	}
	if (pidfd >= 0)
		close((int)pidfd);
	return ret;
}

bool fl_child_held(pid_t pid)
{
	uint64_t end = now_ms() + HELD_WAIT_MS;
	struct timespec pause = { 0, 10000 };
	struct timespec settle = { 0, FL_SETTLE_MS * 1000000L };
	siginfo_t info;
	char st;

	for (;;) {
		st = stat_state_of("/proc/", pid);
		/* No procfs: still running after the settle time (not reaped). */
		if (st == '?') {
			nanosleep(&settle, NULL);
			memset(&info, 0, sizeof(info));
			return !waitid(P_PID, (id_t)pid, &info,
				       WEXITED | WNOHANG | WNOWAIT) &&
			       !info.si_pid;
		}
		if (state_asleep(st))
			return true;
		/* Ended (a zombie), stopped, or runnable for too long. */
		if (st != 'R' || now_ms() >= end)
			return false;
		nanosleep(&pause, NULL);
		if (pause.tv_nsec < HELD_PAUSE_MAX_US * 1000)
			pause.tv_nsec *= 2;
	}
}
