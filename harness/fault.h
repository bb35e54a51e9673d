/* SPDX-License-Identifier: GPL-2.0 */
/*
 * faultline harness: threads that fault on purpose, so a case can observe
 * whether the faulting thread is blocked, woken, or got a signal.
 */
#ifndef FAULTLINE_FAULT_H
#define FAULTLINE_FAULT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum touch_kind {
	TOUCH_READ,	/* load one byte; the value read is recorded */
	TOUCH_WRITE,	/* store @value into one byte */
};

struct toucher {
	pthread_t thread;
	volatile char *addr;
	enum touch_kind kind;
	unsigned char value;		/* written, or read back */
	volatile int started;		/* thread is about to touch */
	volatile int done;		/* the access completed */
	volatile int got_sigbus;	/* the access raised SIGBUS */
	volatile pid_t tid;		/* gettid() of the thread */
	bool joined;
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
 * True when, after @settle_ms, the access has still not completed and the
 * thread is asleep (state S or D in /proc): it is blocked in the fault, not
 * merely slow to be scheduled. Cheaper and more telling than a long wait.
 */
bool toucher_blocked(struct toucher *t, int settle_ms);
/* Join a finished toucher. Never call on a blocked one. */
void toucher_join(struct toucher *t);
/*
 * Teardown: join a started toucher once it finishes (within a second);
 * false when it is still blocked and was left alone. A toucher that was
 * never started (zeroed) is fine.
 */
bool toucher_finish(struct toucher *t);

/*
 * Start @fn(@arg) on @thread and return once it has set *@started (so a
 * caller's next step races nothing). 0 or -errno.
 */
int fl_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg,
		    volatile int *started);
/* Wait up to @timeout_ms for *@flag to be set by another thread. */
bool fl_flag_wait(volatile int *flag, int timeout_ms);

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

/*
 * The state letter (R, S, D, ...) in a /proc/.../stat file, '?' when it
 * cannot be read. Raw open/read only: safe while glibc's fork() holds the
 * malloc and stdio locks (a FORK event is unread).
 */
char proc_stat_state(const char *path);

/* Monotonic milliseconds. */
uint64_t now_ms(void);
pid_t fl_gettid(void);

#endif /* FAULTLINE_FAULT_H */
