// SPDX-License-Identifier: GPL-2.0
/* faultline harness: faulting threads and SIGBUS capture. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"

pid_t fl_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* Each thread that may take a SIGBUS has its own landing pad. */
static __thread sigjmp_buf *sigbus_pad;
/* ...and keeps what the last one it caught said. */
static __thread struct sigbus_info sigbus_seen;

static void sigbus_handler(int sig, siginfo_t *info, void *uctx)
{
	(void)sig;
	(void)uctx;
	if (sigbus_pad) {
		sigbus_seen.code = info->si_code;
		sigbus_seen.addr = info->si_addr;
		sigbus_seen.lsb = info->si_code == BUS_MCEERR_AR ||
				  info->si_code == BUS_MCEERR_AO ?
				  info->si_addr_lsb : 0;
		siglongjmp(*sigbus_pad, 1);
	}
	/* Not expected here: die the default way so the harness sees it. */
	signal(SIGBUS, SIG_DFL);
	raise(SIGBUS);
}

void sigbus_catch(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigbus_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NODEFER | SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);
}

int sigbus_probe(volatile char *addr, enum touch_kind kind,
		 unsigned char *value)
{
	sigjmp_buf pad;

	if (sigsetjmp(pad, 1)) {
		sigbus_pad = NULL;
		return 1;
	}
	memset(&sigbus_seen, 0, sizeof(sigbus_seen));
	sigbus_pad = &pad;
	if (kind == TOUCH_READ)
		*value = *addr;
	else
		*addr = *value;
	sigbus_pad = NULL;
	return 0;
}

void sigbus_last(struct sigbus_info *si)
{
	*si = sigbus_seen;
}

int sigbus_poison_code(void)
{
	return access("/proc/sys/vm/memory_failure_recovery", F_OK) ? 0 :
	       BUS_MCEERR_AR;
}

static void *toucher_main(void *arg)
{
	struct toucher *t = arg;
	unsigned char v = t->value;

	t->tid = fl_gettid();
	fl_thread_started(&t->th);
	if (sigbus_probe(t->addr, t->kind, &v)) {
		sigbus_last(&t->sig);
		__atomic_store_n(&t->got_sigbus, 1, __ATOMIC_SEQ_CST);
	} else
		t->value = v;
	fl_thread_done(&t->th);
	return NULL;
}

int fl_thread_start(struct fl_thread *t, void *(*fn)(void *), void *arg)
{
	int ret;

	memset(t, 0, sizeof(*t));
	ret = pthread_create(&t->id, NULL, fn, arg);
	if (ret)
		return -ret;
	while (!__atomic_load_n(&t->started, __ATOMIC_SEQ_CST))
		sched_yield();
	return 0;
}

void fl_thread_started(struct fl_thread *t)
{
	__atomic_store_n(&t->started, 1, __ATOMIC_SEQ_CST);
}

void fl_thread_done(struct fl_thread *t)
{
	__atomic_store_n(&t->done, 1, __ATOMIC_SEQ_CST);
}

bool fl_thread_wait(struct fl_thread *t, int timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;
	struct timespec ts = { 0, 1000000 };

	for (;;) {
		if (__atomic_load_n(&t->done, __ATOMIC_SEQ_CST))
			return true;
		if (now_ms() >= end)
			return false;
		nanosleep(&ts, NULL);
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
	if (!t->started || t->joined)
		return true;
	if (!fl_thread_wait(t, 1000))
		return false;
	fl_thread_join(t);
	return true;
}

int toucher_start(struct toucher *t, void *addr, enum touch_kind kind,
		  unsigned char value)
{
	memset(t, 0, sizeof(*t));
	t->addr = addr;
	t->kind = kind;
	t->value = value;
	return fl_thread_start(&t->th, toucher_main, t);
}

bool toucher_wait(struct toucher *t, int timeout_ms)
{
	return fl_thread_wait(&t->th, timeout_ms);
}

bool toucher_finish(struct toucher *t)
{
	return fl_thread_finish(&t->th);
}

char proc_stat_state(const char *path)
{
	char buf[512], *p;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = 0;
	/* The state follows the parenthesised command name. */
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

static char task_state(pid_t tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	return proc_stat_state(path);
}

bool toucher_blocked(struct toucher *t, int settle_ms)
{
	char state;

	if (toucher_wait(t, settle_ms))
		return false;
	state = task_state(t->tid);
	/* '?' (no procfs) cannot tell; the bounded wait alone decides then. */
	return state == 'S' || state == 'D' || state == '?';
}

void toucher_join(struct toucher *t)
{
	fl_thread_join(&t->th);
}
