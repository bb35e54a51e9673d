/* SPDX-License-Identifier: GPL-2.0 */
/*
 * faultline harness: threads that fault on purpose, so a case can observe
 * whether the faulting thread is blocked, woken, or got a signal.
 */
#ifndef FAULTLINE_FAULT_H
#define FAULTLINE_FAULT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "thread.h"

enum touch_kind {
	TOUCH_READ,	/* load one byte; the value read is recorded */
	TOUCH_WRITE,	/* store @value into one byte */
};

/* What the last SIGBUS a thread caught said (siginfo). */
struct sigbus_info {
	int code;		/* si_code: BUS_ADRERR, BUS_MCEERR_AR, ... */
	void *addr;		/* si_addr */
	short lsb;		/* si_addr_lsb (BUS_MCEERR_*): log2 of the unit */
};

struct toucher {
	struct fl_thread th;		/* done: the access completed */
	volatile char *addr;
	enum touch_kind kind;
	unsigned char value;		/* written, or read back */
	volatile int got_sigbus;	/* the access raised SIGBUS */
	struct sigbus_info sig;		/* ...and what its siginfo said */
	volatile pid_t tid;		/* gettid() of the thread */
};

/* Start a thread that touches @addr once. 0 or -errno. */
int toucher_start(struct toucher *t, void *addr, enum touch_kind kind,
		  unsigned char value);
/*
 * Wait up to @timeout_ms for the access to finish. Returns true when it did
 * (normally or by SIGBUS); false means the thread is still blocked.
 */
bool toucher_wait(struct toucher *t, int timeout_ms);
/*
 * True when the access is held: not completed, and the thread asleep in
 * it (fl_thread_held(): its state in /proc, no fixed wait). Ask right
 * after what should leave it held (its fault message was read, a DONTWAKE
 * resolution returned): a wake-up makes it runnable before the waker
 * returns, so a wrongly woken thread reads as not held.
 */
bool toucher_blocked(struct toucher *t);
/* Join a finished toucher. Never call on a blocked one. */
void toucher_join(struct toucher *t);
/* Teardown: fl_thread_finish() of the toucher (a zeroed one is fine). */
bool toucher_finish(struct toucher *t);

/*
 * Install a SIGBUS handler that turns a fault in a toucher (or in the
 * calling thread inside sigbus_probe()) into a recorded event.
 */
void sigbus_catch(void);
/*
 * Access @addr from the calling thread; returns 1 if it raised SIGBUS,
 * 0 if the access completed (*value gets the byte read / is written).
 */
int sigbus_probe(volatile char *addr, enum touch_kind kind,
		 unsigned char *value);
/* The siginfo of the last SIGBUS sigbus_probe() caught in this thread. */
void sigbus_last(struct sigbus_info *si);
/*
 * The si_code a poisoned page (UFFDIO_POISON) raises here: BUS_MCEERR_AR
 * where the kernel has memory-failure handling (it then reports the
 * poison like a hardware error; /proc/sys/vm/memory_failure_recovery
 * exists), 0 when it does not say (x86 then sends BUS_ADRERR, other
 * architectures BUS_MCEERR_AR all the same).
 */
int sigbus_poison_code(void);

#endif /* FAULTLINE_FAULT_H */
