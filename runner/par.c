// SPDX-License-Identifier: GPL-2.0
/*
 * faultline runner: several case binaries at once.
 *
 * Most of a case binary's time is spent sleeping (bounded waits showing
 * that a thread stays blocked, per-test fork and hugetlb setup), so two
 * or more at once on a small machine finish the suite sooner.
 *
 * Each binary runs in a worker: a fork of the runner that supervises it
 * exactly as the sequential runner does (spawn_run) and writes its whole
 * block to a pipe. A worker is the child subreaper of its own subtree, so
 * the leftovers of its binary come back to it, not to the runner, and its
 * sweep cannot touch another worker's binary. It also reads /dev/kmsg
 * through its own file description, placed at the end of the log when the
 * runner starts the job: a kernel record logged while several binaries run
 * goes to each of them.
 *
 * The runner writes the blocks in job order, each one whole: the first
 * unfinished job streams as its lines arrive, the others are held in
 * memory until it is their turn.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner.h"

/* Filled by the worker, read by the runner once the worker is reaped. */
struct slot {
	struct spawn_res res;
	int done;
};

struct job {
	pid_t pid;		/* worker; 0 once reaped (or never forked) */
	int fd;			/* its pipe; -1 at EOF */
	int wstatus;
	bool finished;		/* reaped and EOF */
	bool any;		/* the worker wrote something */
	int fork_errno;
	char *buf;		/* not yet written to the stream */
	size_t len, cap;
};

struct par {
	int n, jobs, next, head, running, interrupted;
	bool stop;
	struct job *job;
	struct slot *slot;
	struct stream *out;
	const struct par_ops *ops;
	void *ctx;
};

/*
 * If the runner dies (SIGKILL: an orchestrator's limit, a CI), its workers
 * get SIGTERM: it arrives on the signalfd like a forwarded one, so the
 * worker stops its binary the ordinary way (SIGTERM to its group, SIGKILL
 * after the grace) and, as the subreaper of its subtree, kills and reaps
 * whatever the binary left (kselftest's test children in groups of their
 * own). A SIGKILL instead would leave those running, parented to init.
 * A worker whose runner is already gone starts nothing.
 */
static void worker(struct par *p, int i, int fd, pid_t runner)
{
	prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
	if (getppid() != runner)
		_exit(1);
	if (spawn_worker_init())
		_exit(1);
	p->ops->run(p->ctx, i, fd, &p->slot[i].res);
	p->slot[i].done = 1;
	_exit(0);
}

static void start_job(struct par *p)
{
	int i = p->next++, fds[2], extra;
	struct job *j = &p->job[i];
	pid_t self = getpid();

	j->fd = -1;
	if (pipe2(fds, O_CLOEXEC)) {
		j->fork_errno = errno;
		j->finished = true;
		return;
	}
	extra = p->ops->prepare ? p->ops->prepare(p->ctx, i) : -1;
	j->pid = fork();
	if (j->pid == 0) {
		close(fds[0]);
		worker(p, i, fds[1], self);
	}
	close(fds[1]);
	if (extra >= 0)
		close(extra);
	if (j->pid < 0) {
		j->fork_errno = errno;
		j->pid = 0;
		j->finished = true;
		close(fds[0]);
		return;
	}
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	j->fd = fds[0];
	p->running++;
}

/* Keep what a worker wrote until it is its turn. */
static void job_append(struct job *j, const char *data, size_t n)
{
	size_t cap = j->cap ? j->cap : 65536;
	char *b;

	while (cap < j->len + n)
		cap *= 2;
	if (cap != j->cap) {
		b = realloc(j->buf, cap);
		if (!b)
			return;	/* out of memory: lines are lost, not garbled */
		j->buf = b;
		j->cap = cap;
	}
	memcpy(j->buf + j->len, data, n);
	j->len += n;
}

static void job_chunk(void *ctx, const char *buf, size_t len)
{
	struct job *j = ctx;

	j->any = true;
	job_append(j, buf, len);
}

static void job_read(struct job *j)
{
	if (read_ready(j->fd, job_chunk, j))
		return;
	close(j->fd);
	j->fd = -1;
}

static void job_check_finished(struct par *p, struct job *j)
{
	if (!j->finished && j->pid == 0 && j->fd < 0) {
		j->finished = true;
		p->running--;
	}
}

static void reap_workers(struct par *p)
{
	int status, i;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		/* Not a worker: something a dead worker left to us. */
		for (i = p->head; i < p->next; i++) {
			if (p->job[i].pid != pid)
				continue;
			p->job[i].pid = 0;
			p->job[i].wstatus = status;
			job_check_finished(p, &p->job[i]);
			break;
		}
	}
}

static void on_signals(struct par *p)
{
	struct signalfd_siginfo si;
	int i;

	while (read(spawn_sigfd(), &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			continue;
		if (!p->interrupted)
			p->interrupted = (int)si.ssi_signo;
		p->stop = true;
		/* Each worker stops its binary as the sequential runner does. */
		for (i = p->head; i < p->next; i++)
			if (p->job[i].pid > 0)
				kill(p->job[i].pid, (int)si.ssi_signo);
	}
	reap_workers(p);
}

/* Write the whole lines a job has; all of it once it has finished. */
static void job_flush(struct par *p, struct job *j)
{
	char *nl;
	size_t n;

	if (!j->len)
		return;
	if (j->finished) {
		if (j->buf[j->len - 1] != '\n')
			job_append(j, "\n", 1);	/* a worker died mid-line */
		n = j->len;
	} else {
		nl = memrchr(j->buf, '\n', j->len);
		if (!nl)
			return;
		n = (size_t)(nl - j->buf) + 1;
	}
	stream_write(p->out, j->buf, n);
	memmove(j->buf, j->buf + n, j->len - n);
	j->len -= n;
}

static void job_close(struct par *p, int i, struct spawn_res *res)
{
	struct job *j = &p->job[i];
	char why[128];

	job_flush(p, j);
	res[i] = p->slot[i].res;
	if (!p->slot[i].done) {
		memset(&res[i], 0, sizeof(res[i]));
		res[i].exit_code = -1;
		if (j->fork_errno) {
			res[i].exec_errno = j->fork_errno;
			snprintf(why, sizeof(why), "runner: cannot start a worker: %s",
				 strerror(j->fork_errno));
		} else {
			/* Counted as not started: the run is not whole. */
			res[i].exec_errno = ECHILD;
			if (WIFSIGNALED(j->wstatus))
				snprintf(why, sizeof(why), "runner: worker died of signal %d",
					 WTERMSIG(j->wstatus));
			else
				snprintf(why, sizeof(why), "runner: worker exited %d before the end",
					 WEXITSTATUS(j->wstatus));
		}
		p->ops->lost(p->ctx, i, p->out, j->any, why, &res[i]);
	}
	free(j->buf);
	j->buf = NULL;
	j->len = j->cap = 0;
}

/* Blocks in order: finished ones whole, then the current one so far. */
static void flush_in_order(struct par *p, struct spawn_res *res)
{
	while (p->head < p->next) {
		struct job *j = &p->job[p->head];

		if (!j->finished) {
			job_flush(p, j);
			return;
		}
		job_close(p, p->head, res);
		p->head++;
	}
}

static void wait_events(struct par *p)
{
	struct pollfd *pfd = calloc((size_t)p->jobs + 1, sizeof(*pfd));
	int *idx = calloc((size_t)p->jobs + 1, sizeof(*idx));
	int i, n = 0;

	if (!pfd || !idx) {
		free(pfd);
		free(idx);
		/* No memory for a poll set: look again shortly. */
		poll(NULL, 0, 20);
		on_signals(p);
		return;
	}
	pfd[n++] = (struct pollfd){ .fd = spawn_sigfd(), .events = POLLIN };
	for (i = p->head; i < p->next && n <= p->jobs; i++) {
		if (p->job[i].fd < 0)
			continue;
		idx[n] = i;
		pfd[n++] = (struct pollfd){ .fd = p->job[i].fd, .events = POLLIN };
	}
	/* Workers keep their own deadlines: wake up just in case. */
	if (poll(pfd, (nfds_t)n, 1000) > 0) {
		for (i = 1; i < n; i++)
			if (pfd[i].revents)
				job_read(&p->job[idx[i]]);
	}
	on_signals(p);
	for (i = 1; i < n; i++)
		job_check_finished(p, &p->job[idx[i]]);
	free(pfd);
	free(idx);
}

int par_run(int n, int jobs, struct stream *out, const struct par_ops *ops,
	    void *ctx, struct spawn_res *res, int *interrupted)
{
	struct par p = {
		.n = n, .jobs = jobs, .out = out, .ops = ops, .ctx = ctx,
	};
	size_t size = sizeof(struct slot) * (size_t)(n ? n : 1);

	p.job = calloc((size_t)(n ? n : 1), sizeof(*p.job));
	p.slot = mmap(NULL, size, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!p.job || p.slot == MAP_FAILED) {
		free(p.job);
		if (p.slot != MAP_FAILED)
			munmap(p.slot, size);
		return -ENOMEM;
	}
	for (;;) {
		while (!p.stop && !out->broken && p.next < n &&
		       p.running < jobs)
			start_job(&p);
		flush_in_order(&p, res);
		/* Every started block is out: done unless more may start. */
		if (p.head == p.next && (p.stop || out->broken || p.next == n))
			break;
		wait_events(&p);
	}
	/* Whatever dead workers left to us (nothing, normally). */
	spawn_reap_strays();
	free(p.job);
	munmap(p.slot, size);
	*interrupted = p.interrupted;
	return p.next;
}
