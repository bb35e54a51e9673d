/* SPDX-License-Identifier: GPL-2.0 */
/*
 * faultline runner: internal interfaces between the files of runner/.
 *
 * The runner executes the probe, then the case binaries (one at a time, or
 * up to N at once in worker processes, par.c) and writes the framed
 * stream described in reports/STREAM.md. It is the same program on the host
 * and, as PID 1, inside a VM.
 */
#ifndef FAULTLINE_RUNNER_H
#define FAULTLINE_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "clock.h"
#include "hugepages.h"
#include "json.h"

/*
 * Longest payload line; longer lines are split (never dropped). Large, so
 * that the probe's one-line JSON (15 KiB on 6.18) stays whole.
 */
#define RUNNER_LINE_MAX (1024 * 1024)

/* ---- stream.c: the line-atomic stream ---- */

struct stream {
	int fd;
	/* Write "\n" before each frame line: the column is unknown (console). */
	bool nl_before_frame;
	/* A write failed for good (reader gone): stop after this binary. */
	bool broken;
	int write_errno;	/* why (EPIPE: the reader went away) */
};

/* "@@faultline <kw>[ <rest>]\n" in one write. */
void stream_frame(struct stream *s, const char *kw, const char *rest);
/* The frame of @j's document (ended here), then json_free(@j). */
void stream_frame_json(struct stream *s, const char *kw, struct json *j);
/* Whole lines already framed (a worker's block): as few writes as can be. */
void stream_write(struct stream *s, const char *buf, size_t len);
/* "<prefix><data>\n" in one write; @prefix may be NULL. */
void stream_line(struct stream *s, const char *prefix, const char *data,
		 size_t len);

/* ---- kmsg.c: kernel log records around each binary ---- */

struct kmsg {
	int fd;			/* -1: not readable */
	int open_errno;
	bool user_alerts;	/* records written by user space may alert */
	bool keep_pos;		/* kmsg_mark() keeps the read position */
	bool alert;		/* an alert record since kmsg_mark() */
	int lines;		/* records since kmsg_mark() */
	struct stream *out;
};

void kmsg_open(struct kmsg *k, struct stream *out, bool user_alerts);
/*
 * Forget what is logged so far: only records after this are reported
 * (unless keep_pos: the reader was placed when the job was started).
 */
void kmsg_mark(struct kmsg *k);
/* Emit a `kmsg` frame for each new record. */
void kmsg_drain(struct kmsg *k);
/* true if @msg looks like a kernel splat (WARNING:, BUG:, Oops, ...). */
bool kmsg_is_alert(const char *msg);

/* ---- exec.c: run one program in its own process group ---- */

typedef void (*line_fn)(void *ctx, const char *line, size_t len);
/* Before the lines of one read(2): when it returned (now_us()). */
typedef void (*stamp_fn)(void *ctx, uint64_t time_us);

struct spawn_req {
	const char *path;
	char *const *argv;
	double timeout_s;
	double term_grace_s;	/* SIGTERM first, SIGKILL after this */
	line_fn out_line, err_line;
	stamp_fn stamp;		/* may be NULL: lines are not stamped */
	void *ctx;
	struct kmsg *kmsg;	/* drained while the program runs; may be NULL */
};

struct spawn_res {
	int exec_errno;		/* the program could not be started */
	int exit_code;		/* -1 unless it exited */
	int signal;		/* 0 unless killed by a signal */
	bool core;
	bool timed_out;
	bool unkillable;	/* still there after SIGKILL + grace */
	int interrupted;	/* the runner got this signal meanwhile */
	int leaked;		/* other processes killed/reaped after it */
	long long duration_ms;
};

/*
 * Once per runner: block SIGCHLD/SIGINT/SIGTERM/SIGHUP into a signalfd,
 * become a child subreaper (so escaped grandchildren come back to us).
 * @pid1: inside a VM, where kill(-1) may sweep every other process.
 */
int spawn_init(bool pid1);
/*
 * In a worker (par.c): become the child subreaper of this subtree
 * and sweep only our own children, never kill(-1) (other workers run).
 */
int spawn_worker_init(void);
/* The signalfd of spawn_init(): SIGCHLD, SIGINT, SIGTERM, SIGHUP. */
int spawn_sigfd(void);
int spawn_run(const struct spawn_req *req, struct spawn_res *res);
/*
 * Hand everything non-blocking @fd has now to @fn, chunk by chunk. true
 * when it would block, false at EOF or on an error (the caller closes).
 */
bool read_ready(int fd, void (*fn)(void *ctx, const char *buf, size_t len),
		void *ctx);
/* Kill and reap every child still there (no program is running). */
void spawn_reap_strays(void);

/* ---- par.c: up to N binaries at once, blocks in order ---- */

struct par_ops {
	/*
	 * In the runner, just before job @i's worker is forked: an fd the
	 * worker inherits (the runner closes its copy after the fork), or -1.
	 */
	int (*prepare)(void *ctx, int i);
	/*
	 * In a forked worker: run job @i, writing its whole block (frames
	 * and payload) to @out_fd, the result to @res.
	 */
	void (*run)(void *ctx, int i, int out_fd, struct spawn_res *res);
	/*
	 * In the runner: job @i's worker could not be forked or died before
	 * it finished; write what its block lacks to @out (@begun: the
	 * worker wrote something already, i.e. its binary-begin). @res has
	 * exec_errno set for a fork failure.
	 */
	void (*lost)(void *ctx, int i, struct stream *out, bool begun,
		     const char *why, const struct spawn_res *res);
};

/*
 * Run jobs 0..@n-1, at most @jobs at once, each in its own worker. Blocks
 * reach @out whole and in job order; the first unfinished job streams
 * live, the others are held in memory until their turn. SIGINT/SIGTERM/
 * SIGHUP stop the start of new jobs and are passed on to the running
 * workers. Fills @res[0..started-1]; returns how many were started, and
 * the signal that interrupted the run in @interrupted.
 */
int par_run(int n, int jobs, struct stream *out, const struct par_ops *ops,
	    void *ctx, struct spawn_res *res, int *interrupted);

/* ---- pool.c: the huge page pool for the whole run ---- */

/* What this run did for a run that died holding the pool (pid 0: none). */
struct pool_repair {
	long pid;		/* the dead run */
	long owed;		/* pages it had added */
	long found;		/* vm.nr_hugepages found */
	long left;		/* vm.nr_hugepages after giving back */
	int err;		/* errno of a failed give-back, or 0 */
};

struct pool {
	long wanted;		/* free pages asked for; 0: do not raise */
	struct hugetlb_raise raise;
	long nr_at_start;	/* vm.nr_hugepages once ours, before raising */
	long free_after;	/* free pages once raised, -1 unknown */
	const char *error;	/* why nothing could be raised, or NULL */
	int restore_err;	/* -errno of a failed give-back */
	int record_err;		/* errno of writing the record, or 0 */
	int lock_fd;		/* POOL_LOCK, held while we own the pool, or -1 */
	bool recorded;		/* our record is in the lock file */
	bool waited;		/* another run held the lock first */
	long waited_for;	/* its pid (0: unknown) */
	int interrupted;	/* the signal that ended the wait, or 0 */
	struct pool_repair repair;
};

/* Default free pages for @jobs binaries at once, within a share of RAM. */
long pool_default(int jobs);
/*
 * Own the pool: take the lock (waiting for another run, as long as no
 * SIGINT/SIGTERM/SIGHUP comes: returns that signal, nothing changed), give
 * back what a dead owner left, raise nr_hugepages until @p->wanted pages
 * are free. With @p->wanted 0 only the repair, and only if the lock is
 * free at once. 0 or the signal.
 */
int pool_take(struct pool *p);
/* Give back what pool_take() raised and let the pool go. 0 or -errno. */
int pool_give_back(struct pool *p);
/* "hugepages":{...} and "hugepages_repair":{...} into the run frame. */
void pool_json(const struct pool *p, struct json *b);

/* ---- options.c: one option table for argv and the kernel command line ---- */

struct opts {
	double timeout_s, term_grace_s;
	const char *probe;		/* NULL: no probe */
	bool no_probe;
	const char *bench;		/* after the binaries; NULL: none */
	const char *output;		/* NULL or "-": stdout */
	const char *target;
	bool kmsg, kmsg_user_alerts;
	int jobs;			/* binaries at once */
	long hugepages;			/* free huge pages to hold; -1: default */
	char **paths;			/* BINARY|DIR, --cases, faultline.cases */
	int npaths, paths_cap;
	char **only;			/* --only globs; none: every point */
	int nonly, only_cap;
	char **skip;			/* --skip globs: points never run */
	int nskip, skip_cap;
	bool help, version, list;	/* host only */
	bool pid1;
	const char *setup_error;	/* PID 1: what did not mount */
};

/* Defaults of the mode (@pid1: inside a VM). */
void opts_defaults(struct opts *o, bool pid1);
/* --help */
void opts_usage(FILE *f);
/*
 * Options from argv (host). -1 to go on, else the exit code: 0 after
 * --help or --version, 2 after a usage error (the message is printed).
 */
int opts_from_argv(struct opts *o, int argc, char **argv);
/*
 * faultline.<option>[=<value>] words of a kernel command line. 0, or -1
 * with a message naming the word in @why.
 */
int opts_from_cmdline(struct opts *o, const char *cmdline, char *why,
		      size_t len);
/* Fill in what was not given (probe, cases, PID 1 huge pages). 0 or -1. */
int opts_finish(struct opts *o, char *why, size_t len);

struct runner;

/* ---- select.c: --only, the points each binary runs ---- */

/*
 * Is point @id chosen: matched by a glob of --only (every id is without
 * one) and by none of --skip?
 */
bool select_matches(const struct opts *o, const char *id);
/* Do --only or --skip choose points (each binary is then asked for its)? */
bool selecting(const struct opts *o);
/*
 * Ask each binary of @r for its points (-l) and keep those with a point
 * --only selects, each told which to run. 0, or the signal that
 * interrupted the runner meanwhile.
 */
int select_points(struct runner *r);
/* --list: "<binary> <point id>" lines on stdout. The exit code. */
int select_list(struct runner *r);

/* ---- run.c: one run, host or PID 1 ---- */

#define PROBE_STDERR_MAX	4096

/* What --only and --skip left of one binary (select.c). */
struct bin_select {
	char **args;		/* "-r", <id>, ...; NULL: run it whole */
	int points;		/* how many of its points run; -1: unknown */
	char *error;		/* why it could not list them (it runs whole) */
};

struct binlist {
	char **path;
	struct bin_select *sel;	/* with --only: one per binary, else NULL */
	int n, cap;
};

struct runner {
	struct opts *o;
	struct stream out;
	struct kmsg kmsg;
	struct binlist bins;
	struct pool pool;
	long nr_hugepages;		/* at start, -1 if unknown */
	int job_kmsg;			/* the next worker's kmsg reader */
	/* per program */
	char probe_err[PROBE_STDERR_MAX];
	size_t probe_err_len;
};

/* Small text file, trailing blanks and newlines removed; NULL if unreadable. */
char *read_text(const char *path, char *buf, size_t size);
/* Append a copy of @s (@len bytes) to the growing array *@v. 0 or -ENOMEM. */
int strv_add(char ***v, int *n, int *cap, const char *s, size_t len);
/* Resolve BINARY|DIR arguments into @l; on error say which path in @why. */
int run_collect(struct binlist *l, char **paths, int n, char *why,
		size_t whylen);
/*
 * The whole run: the stream from its first frame to run-end. The exit
 * code: 0 all binaries ran, 1 some could not be started (or the output
 * broke), 2 nothing could be run, 128+N interrupted by signal N.
 */
int run_all(struct runner *r);
/* A run that cannot happen: the stream's first frames and run-end error. */
void run_fatal(struct runner *r, const char *why);

#endif /* FAULTLINE_RUNNER_H */
