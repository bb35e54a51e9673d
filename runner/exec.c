// SPDX-License-Identifier: GPL-2.0
/*
 * faultline runner: run one program with a deadline and take everything
 * it leaves behind down with it.
 *
 * The program gets its own process group. When it exits, the group is
 * killed while the program's zombie still pins the group id (so the id
 * cannot have been reused), then every other child of ours is killed and
 * reaped: we are a child subreaper on the host and PID 1 in a VM, so
 * processes that left the group (the kselftest harness puts each test in
 * its own group) are reparented to us once their parent dies.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner.h"

/* After the program exits: how long leftovers may keep its pipes open. */
#define DRAIN_MS	300
/* After SIGKILL: how long before we call it unkillable and move on. */
#define UNKILLABLE_MS	5000
/* Sweeping leftovers after the program is gone. */
#define SWEEP_MS	2000

static int sig_fd = -1;
static bool sweep_everything;	/* PID 1: kill(-1) reaches all but us */

/* One pipe's partial line; grows up to RUNNER_LINE_MAX. */
struct lbuf {
	int fd;
	size_t len, cap;
	line_fn fn;
	stamp_fn stamp;
	/* The last read's time, until a line it completed has gone out. */
	uint64_t read_us;
	void *ctx;
	char *buf;
	char small[4096];
};

struct supervise {
	const struct spawn_req *req;
	struct spawn_res *res;
	pid_t pid;
	uint64_t start, deadline;	/* now_ms() */
	bool main_done, term_sent, kill_sent;
	struct lbuf out, err;
};

int spawn_init(bool pid1)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sig_fd < 0)
		return -errno;
	/* A vanished reader shows up as EPIPE from write(), not a death. */
	signal(SIGPIPE, SIG_IGN);
	sweep_everything = pid1;
	if (!pid1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
		return -errno;
	return 0;
}

int spawn_worker_init(void)
{
	sweep_everything = false;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
		return -errno;
	return 0;
}

int spawn_sigfd(void)
{
	return sig_fd;
}

static void lb_init(struct lbuf *l, int fd, line_fn fn, stamp_fn stamp,
		    void *ctx)
{
	l->fd = fd;
	l->len = 0;
	l->fn = fn;
	l->stamp = stamp;
	l->read_us = 0;
	l->ctx = ctx;
	l->buf = l->small;
	l->cap = sizeof(l->small);
}

/* Room for a longer line, if allowed and memory permits. */
static void lb_grow(struct lbuf *l)
{
	size_t cap = l->cap * 2 > RUNNER_LINE_MAX ? RUNNER_LINE_MAX : l->cap * 2;
	char *p;

	if (cap <= l->cap)
		return;
	p = l->buf == l->small ? malloc(cap) : realloc(l->buf, cap);
	if (!p)
		return;
	if (l->buf == l->small)
		memcpy(p, l->small, l->len);
	l->buf = p;
	l->cap = cap;
}

/*
 * One whole line out, after the time of the read that completed it when
 * that read has not been stamped yet: a stamp goes before the first line
 * of each read, and a line always follows its read's stamp.
 */
static void lb_emit(struct lbuf *l)
{
	if (l->read_us && l->stamp)
		l->stamp(l->ctx, l->read_us);
	l->read_us = 0;
	l->fn(l->ctx, l->buf, l->len);
	l->len = 0;
}

static void lb_flush(struct lbuf *l)
{
	if (l->len)
		lb_emit(l);
}

static void lb_feed(struct lbuf *l, const char *p, size_t n)
{
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;
		size_t room;

		if (l->len + take > l->cap)
			lb_grow(l);
		room = l->cap - l->len;
		if (take > room)
			take = room;
		memcpy(l->buf + l->len, p, take);
		l->len += take;
		p += take;
		n -= take;
		if (nl && p == nl) {
			lb_emit(l);
			p++;
			n--;
		} else if (l->len == l->cap) {
			lb_grow(l);
			if (l->len == l->cap)
				lb_flush(l);	/* over-long: split it */
		}
	}
}

static void lb_close(struct lbuf *l)
{
	lb_flush(l);
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	if (l->buf != l->small)
		free(l->buf);
	l->buf = l->small;
	l->cap = sizeof(l->small);
}

bool read_ready(int fd, void (*fn)(void *ctx, const char *buf, size_t len),
		void *ctx)
{
	char tmp[65536];
	ssize_t n;

	for (;;) {
		n = read(fd, tmp, sizeof(tmp));
		if (n > 0)
			fn(ctx, tmp, (size_t)n);
		else if (n < 0 && errno == EAGAIN)
			return true;
		else if (n == 0 || errno != EINTR)
			return false;
	}
}

static void lb_chunk(void *ctx, const char *buf, size_t len)
{
	struct lbuf *l = ctx;

	l->read_us = now_us();	/* read(2) has just returned this chunk */
	lb_feed(l, buf, len);
}

/* Read what is there; at EOF (or on error) flush the partial line. */
static void lb_read(struct lbuf *l)
{
	if (!read_ready(l->fd, lb_chunk, l))
		lb_close(l);
}

/* Pids of our children, from /proc (CONFIG_PROC_CHILDREN). */
static int read_children(pid_t *pids, int max)
{
	char path[64], buf[4096];
	int fd, n = 0;
	ssize_t len;
	char *p, *end;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children",
		 (int)getpid());
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return 0;
	buf[len] = '\0';
	for (p = buf; n < max; p = end) {
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		if (v > 0)
			pids[n++] = (pid_t)v;
	}
	return n;
}

/* SIGKILL every process we are responsible for (and their groups). */
static void sweep(void)
{
	pid_t pids[512];
	int i, n;

	if (sweep_everything) {
		kill(-1, SIGKILL);
		return;
	}
	n = read_children(pids, 512);
	for (i = 0; i < n; i++) {
		kill(pids[i], SIGKILL);
		/* Its group too, if it leads one (kselftest's test children). */
		kill(-pids[i], SIGKILL);
	}
}

/*
 * Stop the program: SIGTERM to its group first when there is a grace (so
 * it can restore what it changed, e.g. nr_hugepages), SIGKILL to the group
 * and every leftover after that. false once there is nothing left to try.
 */
static bool escalate(struct supervise *s)
{
	uint64_t now = now_ms();

	if (!s->term_sent && !s->kill_sent) {
		s->term_sent = true;
		if (s->req->term_grace_s > 0) {
			kill(-s->pid, SIGTERM);
			s->deadline = now + (uint64_t)(s->req->term_grace_s * 1000);
			return true;
		}
	}
	if (!s->kill_sent) {
		kill(-s->pid, SIGKILL);
		sweep();
		s->kill_sent = true;
		s->deadline = now + UNKILLABLE_MS;
		return true;
	}
	/* In D state for good (a kernel bug?): leave it behind. */
	s->res->unkillable = true;
	s->res->duration_ms = (long long)(now - s->start);
	return false;
}

/* The runner was asked to stop: stop the program the same way. */
static void drain_signals(struct supervise *s)
{
	struct signalfd_siginfo si;

	while (read(sig_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			continue;
		if (!s->res->interrupted)
			s->res->interrupted = (int)si.ssi_signo;
		if (!s->main_done && !s->term_sent && !s->kill_sent)
			escalate(s);
	}
}

/* Has the program exited? Reap it, after killing its group. */
static void check_main(struct supervise *s)
{
	siginfo_t si;
	int status;

	if (s->main_done)
		return;
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)s->pid, &si, WEXITED | WNOHANG | WNOWAIT) ||
	    si.si_pid != s->pid)
		return;
	s->res->duration_ms = (long long)(now_ms() - s->start);
	/* The zombie pins the group id: nothing else can own it now. */
	kill(-s->pid, SIGKILL);
	sweep();
	if (waitpid(s->pid, &status, 0) != s->pid)
		return;
	s->main_done = true;
	if (WIFEXITED(status)) {
		s->res->exit_code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		s->res->signal = WTERMSIG(status);
		s->res->core = WCOREDUMP(status);
	}
	s->deadline = now_ms() + DRAIN_MS;
}

/* The deadline passed: time is up, or the next step of stopping it. */
static bool on_deadline(struct supervise *s)
{
	if (s->main_done)
		return false;	/* drain time is over */
	if (!s->term_sent && !s->kill_sent)
		s->res->timed_out = true;
	return escalate(s);
}

static void supervise(struct supervise *s)
{
	for (;;) {
		struct pollfd pfd[4];
		int n = 0, i_out = -1, i_err = -1, i_kmsg = -1;
		long long wait;

		if (s->main_done && s->out.fd < 0 && s->err.fd < 0)
			break;
		wait = (long long)(s->deadline - now_ms());
		if (wait <= 0) {
			if (!on_deadline(s))
				break;
			continue;
		}
		pfd[n++] = (struct pollfd){ .fd = sig_fd, .events = POLLIN };
		if (s->out.fd >= 0) {
			i_out = n;
			pfd[n++] = (struct pollfd){ .fd = s->out.fd, .events = POLLIN };
		}
		if (s->err.fd >= 0) {
			i_err = n;
			pfd[n++] = (struct pollfd){ .fd = s->err.fd, .events = POLLIN };
		}
		if (s->req->kmsg && s->req->kmsg->fd >= 0) {
			i_kmsg = n;
			pfd[n++] = (struct pollfd){ .fd = s->req->kmsg->fd, .events = POLLIN };
		}
		if (poll(pfd, (nfds_t)n, (int)(wait > 60000 ? 60000 : wait)) < 0 &&
		    errno != EINTR)
			break;
		if (i_out >= 0 && pfd[i_out].revents)
			lb_read(&s->out);
		if (i_err >= 0 && pfd[i_err].revents)
			lb_read(&s->err);
		if (i_kmsg >= 0 && pfd[i_kmsg].revents)
			kmsg_drain(s->req->kmsg);
		if (pfd[0].revents)
			drain_signals(s);
		check_main(s);
	}
	lb_close(&s->out);
	lb_close(&s->err);
}

/* Kill and reap whatever is left; count it. */
static void reap_leftovers(struct spawn_res *res, pid_t skip)
{
	uint64_t end = now_ms() + SWEEP_MS;
	struct pollfd pfd = { .fd = sig_fd, .events = POLLIN };
	struct signalfd_siginfo si;
	int status;
	pid_t p;

	for (;;) {
		sweep();
		while ((p = waitpid(-1, &status, WNOHANG)) > 0)
			if (p != skip)
				res->leaked++;
		if (p < 0 || now_ms() >= end)
			return;	/* ECHILD: all gone */
		poll(&pfd, 1, 20);
		while (read(sig_fd, &si, sizeof(si)) == sizeof(si))
			if (si.ssi_signo != SIGCHLD && !res->interrupted)
				res->interrupted = (int)si.ssi_signo;
	}
}

void spawn_reap_strays(void)
{
	struct spawn_res res;

	memset(&res, 0, sizeof(res));
	reap_leftovers(&res, 0);
}

static void child_exec(const struct spawn_req *req, int out_w, int err_w,
		       int report_w, pid_t runner)
{
	sigset_t none;
	int fd, e, sig;

	setpgid(0, 0);
	/*
	 * If the runner itself is SIGKILLed (an orchestrator's overall
	 * limit), the program must not outlive it.
	 */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != runner)
		_exit(127);
	/*
	 * Dispositions set to "ignore" survive exec: give the program the
	 * defaults whatever the runner inherited (nohup, a shell's `&`).
	 */
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
	dup2(out_w, 1);
	dup2(err_w, 2);
	execv(req->path, req->argv);
	e = errno;
	if (write(report_w, &e, sizeof(e)) < 0)
		_exit(126);
	_exit(127);
}

int spawn_run(const struct spawn_req *req, struct spawn_res *res)
{
	int out[2], err[2], rep[2], e = 0;
	struct supervise s;
	pid_t self;
	ssize_t n;

	memset(res, 0, sizeof(*res));
	res->exit_code = -1;
	if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) ||
	    pipe2(rep, O_CLOEXEC)) {
		res->exec_errno = errno;
		return -1;
	}
	memset(&s, 0, sizeof(s));
	s.req = req;
	s.res = res;
	s.start = now_ms();
	self = getpid();
	s.pid = fork();
	if (s.pid == 0)
		child_exec(req, out[1], err[1], rep[1], self);
	close(out[1]);
	close(err[1]);
	close(rep[1]);
	if (s.pid < 0) {
		res->exec_errno = errno;
		close(out[0]);
		close(err[0]);
		close(rep[0]);
		return -1;
	}
	/* Also here, so the group exists before we could signal it. */
	setpgid(s.pid, s.pid);
	do {
		n = read(rep[0], &e, sizeof(e));
	} while (n < 0 && errno == EINTR);
	close(rep[0]);
	if (n == sizeof(e)) {
		res->exec_errno = e;
		close(out[0]);
		close(err[0]);
		waitpid(s.pid, NULL, 0);
		return -1;
	}
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	lb_init(&s.out, out[0], req->out_line, req->stamp, req->ctx);
	lb_init(&s.err, err[0], req->err_line, req->stamp, req->ctx);
	s.deadline = s.start + (uint64_t)(req->timeout_s * 1000);
	supervise(&s);
	if (req->kmsg)
		kmsg_drain(req->kmsg);
	if (!res->unkillable)
		reap_leftovers(res, s.pid);
	return 0;
}
