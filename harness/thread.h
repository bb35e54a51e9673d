/* SPDX-License-Identifier: GPL-2.0 */
/*
 * faultline harness: helper threads that run one step (a fault, a blocking
 * call), and the two questions a case asks about them: has the step
 * finished, and is the thread held asleep inside it. The same two for a
 * child process.
 *
 * Waiting is event driven (a futex on each flag): a finished step ends a
 * wait at once, and "held" is read from the thread's state in /proc, so
 * no answer costs a fixed sleep.
 */
#ifndef FAULTLINE_THREAD_H
#define FAULTLINE_THREAD_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "clock.h"

/*
 * A helper thread that runs one step: it says when it is about to run it
 * (started) and when it has finished (done). Zeroed, it was never started.
 */
struct fl_thread {
	pthread_t id;
	int started;		/* futex word: about to run the step */
	int done;		/* futex word: the step has finished */
	pid_t tid;		/* gettid() of the thread, set before started */
	bool joined;
};

/*
 * A futex word of this process's threads: wait while *@word == @val, at
 * most @timeout_us (< 0: no limit; a wake, a signal or a changed word end
 * it early, so callers look again); wake every waiter. Raw syscalls only.
 */
void fl_futex_wait(int *word, int val, long long timeout_us);
void fl_futex_wake(int *word);
/* Set the flag *@word to 1 and wake its waiters. */
void fl_flag_raise(int *word);
/* Wait up to @timeout_us (< 0: no limit) for the flag; true once set. */
bool fl_flag_wait(int *word, long long timeout_us);

/*
 * pthread_create() with a stack of FL_THREAD_STACK: a helper thread runs
 * one small step. glibc's default (8 MiB) is big enough to be backed by a
 * transparent huge page where THP is "always" (Debian's kernels) before
 * 6.7 (which maps MAP_STACK without THP): 2 MiB cleared at the thread's
 * first touch, in every test point. 0 or an errno value, as
 * pthread_create().
 */
int fl_pthread_create(pthread_t *id, void *(*fn)(void *), void *arg);
#define FL_THREAD_STACK	(256 * 1024)

/*
 * Start @fn(@arg) on @t and return once the thread has called
 * fl_thread_started() (so the caller's next step races nothing). 0/-errno.
 */
int fl_thread_start(struct fl_thread *t, void *(*fn)(void *), void *arg);
/* In the thread: about to run the step / the step is done. */
void fl_thread_started(struct fl_thread *t);
void fl_thread_done(struct fl_thread *t);
/* True once the step has finished (no waiting). */
bool fl_thread_is_done(struct fl_thread *t);
/* Wait up to @timeout_ms; true when the step has finished. */
bool fl_thread_wait(struct fl_thread *t, int timeout_ms);
/*
 * Wait up to @timeout_ms for whichever comes first: @fd readable (1) or
 * the step finished with @fd still not readable (0); -ETIMEDOUT when
 * neither, -errno from poll().
 */
int fl_thread_or_readable(struct fl_thread *t, int fd, int timeout_ms);
/*
 * True when @t is held inside its step: the step has not finished and the
 * thread sleeps (state S or D in /proc/self/task/<tid>/stat). A thread
 * that is still runnable (not there yet, or woken and about to finish) is
 * waited for, up to 2 s, and a finished step answers false at once: a
 * wake-up, which makes the thread runnable before the waker returns,
 * reads as not held. Without procfs the thread must stay unfinished for
 * FL_SETTLE_MS instead.
 */
bool fl_thread_held(struct fl_thread *t);
#define FL_SETTLE_MS	30
/* Join a finished thread (once). Never call on one that is still blocked. */
void fl_thread_join(struct fl_thread *t);
/*
 * Teardown: join a started thread once it finishes (within a second);
 * false when it is still blocked and was left alone.
 */
bool fl_thread_finish(struct fl_thread *t);

/*
 * The state letter (R, S, D, ...) in a /proc/.../stat file, '?' when it
 * cannot be read. Raw open/read only: safe while glibc's fork() holds the
 * malloc and stdio locks (a FORK event is unread).
 */
char proc_stat_state(const char *path);
/* The state letter of thread @tid of this process, the same way. */
char task_state(pid_t tid);
/* Whether a state letter says the task sleeps ('?': cannot tell). */
static inline bool state_asleep(char st)
{
	return st == 'S' || st == 'D';
}

pid_t fl_gettid(void);

/*
 * Wait up to @timeout_ms for child @pid to end (a pidfd: no polling loop):
 * 1 with its wait status in *@status (reaped), 0 while it still runs,
 * -errno when it cannot be waited for.
 */
int fl_child_wait(pid_t pid, int timeout_ms, int *status);
/*
 * The same for a child that takes a bounded few steps (a write, then
 * _exit): 0 also as soon as it is shown to refault forever, i.e. it took
 * FL_REFAULTS_STUCK page faults during the wait and still runs (a few
 * steps take a few faults; a write the kernel never lets complete faults
 * again each time it is retried). *@faults: the faults it took during
 * the wait. Without procfs only the timeout ends the wait.
 */
int fl_child_wait_refaulting(pid_t pid, int timeout_ms, int *status,
			     long long *faults);
#define FL_REFAULTS_STUCK	1000
/*
 * Wait up to @timeout_ms for @fd to become readable (1) while child @pid
 * of a few steps runs: 0 as soon as the child has ended, or refaults
 * forever as above, with @fd still not readable (what it was to raise will
 * not come); -ETIMEDOUT, -errno. Never reaps it.
 */
int fl_child_or_readable(pid_t pid, int fd, int timeout_ms);
/* Page faults (minor + major) of process @pid so far; -1 unreadable. */
long long proc_faults(pid_t pid);
/*
 * Child @pid is held: alive and asleep (state S or D in /proc/<pid>/stat),
 * waited for up to 2 s while it is runnable. Without procfs it must still
 * be running after FL_SETTLE_MS instead. Never reaps it.
 */
bool fl_child_held(pid_t pid);

#endif /* FAULTLINE_THREAD_H */
