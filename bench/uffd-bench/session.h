/* SPDX-License-Identifier: GPL-2.0 */
/*
 * uffd-bench: one measurement's threads, as a VMM runs them.
 *
 * - the fault-servicing thread polls the uffd (and a stop eventfd), reads
 *   each message and resolves it with a callback, as QEMU's postcopy fault
 *   thread does;
 * - a "vCPU" thread runs a job that touches memory (and times each touch);
 * - the controller (the caller) waits for the job with a deadline. A job
 *   that never finishes means a fault was never resolved: the controller
 *   stops the servicer and closes the uffd, which wakes every blocked fault,
 *   and reports the measurement as failed instead of hanging.
 */
#ifndef UFFD_BENCH_SESSION_H
#define UFFD_BENCH_SESSION_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "uffd.h"

struct session;

/*
 * Resolve one page fault. 0 when resolved; otherwise -errno and a reason
 * in @why. A NULL resolver means no fault is expected: any fault is an
 * error (used while verifying that an operation left nothing to fault).
 */
typedef int (*resolve_fn)(void *arg, const struct uffd_msg *msg,
			  char *why, size_t whylen);
typedef void (*job_fn)(void *arg);

struct session {
	int uffd;
	int stop_fd;
	pthread_t servicer, vcpu;
	bool servicer_running, vcpu_running;
	bool hung;			/* a vCPU could not be freed: keep its memory */
	resolve_fn resolve;
	void *resolve_arg;
	uint64_t faults;		/* fault messages read so far */
	int error;			/* first servicer error, -errno */
	char why[200];
	bool vcpu_done;
	job_fn job;
	void *job_arg;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

/*
 * A session with its servicer running on @uffd (the session owns the fd
 * from now on), or NULL (errno set; @uffd is closed).
 */
struct session *session_new(int uffd);
/* Change the resolver; only while no job runs. */
void session_resolver(struct session *s, resolve_fn fn, void *arg);
/*
 * Run @job on the vCPU thread and wait for it while *@progress (which the
 * job advances; NULL: none) keeps moving: bench_stall_timeout_ms without
 * a change means a fault nobody resolves. 0 when the job finished and the
 * servicer saw no error. Otherwise -errno with the reason in @why; the
 * session is then torn down (the uffd closed).
 */
int session_run(struct session *s, job_fn job, void *arg,
		const size_t *progress, char *why, size_t whylen);
/* Fault messages read so far (each was resolved, or the session failed). */
uint64_t session_faults(struct session *s);
/* Stop the servicer, close the uffd, free a blocked vCPU. Idempotent. */
void session_stop(struct session *s);
/*
 * Stop and free. Returns false when a vCPU thread stayed blocked even
 * after the uffd was closed (it should not happen: closing a uffd wakes
 * every fault). The session is leaked then, and the caller must leak the
 * memory and job arguments that thread may still touch.
 */
bool session_free(struct session *s);

/* Set once any session was abandoned: the run stops measuring. */
extern bool bench_abandoned;

/*
 * Where the threads run. The caller (controller, floors, throughput) and
 * every vCPU thread on @vcpu_cpu; the servicer on @servicer_cpu: the same
 * CPU measures the kernel's own path, another CPU adds the cross-CPU
 * wake-up a VMM's fault thread pays. -1: wherever the scheduler likes.
 * Pins the calling thread. 0 or -errno.
 */
int session_placement(int vcpu_cpu, int servicer_cpu);

/*
 * Fault address of @msg, aligned down to @page, as an index into
 * [base, base + npages * page); -1 when outside.
 */
long fault_index(const struct uffd_msg *msg, const char *base, size_t page,
		 size_t npages);

#endif /* UFFD_BENCH_SESSION_H */
