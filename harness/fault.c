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

bool toucher_blocked(struct toucher *t)
{
	return fl_thread_held(&t->th);
}

void toucher_join(struct toucher *t)
{
	fl_thread_join(&t->th);
}
