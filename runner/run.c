// SPDX-License-Identifier: GPL-2.0
/*
 * faultline runner: one run, the same on the host and as PID 1. Resolve
 * the binaries, own the huge page pool, run the probe and the binaries
 * (one at a time, or par.c's workers), and frame it all as the stream of
 * reports/STREAM.md.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "hugepages.h"
#include "runenv.h"
#include "runner.h"
#include "sysctl.h"

/* Small text file, trailing newlines removed; NULL if unreadable. */
char *read_text(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return NULL;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return buf;
}

int strv_add(char ***v, int *n, int *cap, const char *s, size_t len)
{
	char **p;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		p = realloc(*v, sizeof(*p) * (size_t)*cap);
		if (!p)
			return -ENOMEM;
		*v = p;
	}
	(*v)[*n] = strndup(s, len);
	if (!(*v)[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

static int bin_add(struct binlist *l, const char *path)
{
	return strv_add(&l->path, &l->n, &l->cap, path, strlen(path));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every executable regular file in @dir (not dot files), sorted by name. */
static int add_dir(struct binlist *l, const char *dir)
{
	struct dirent *d;
	struct stat st;
	char path[PATH_MAX];
	int first = l->n, ret = 0;
	DIR *dh = opendir(dir);

	if (!dh)
		return -errno;
	while (!ret && (d = readdir(dh))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s%s%s", dir,
			 dir[strlen(dir) - 1] == '/' ? "" : "/", d->d_name);
		if (stat(path, &st) || !S_ISREG(st.st_mode) ||
		    access(path, X_OK))
			continue;
		ret = bin_add(l, path);
	}
	closedir(dh);
	qsort(l->path + first, (size_t)(l->n - first), sizeof(char *), cmp_str);
	return ret;
}

/* Resolve BINARY|DIR arguments; on error say which path in @why. */
int run_collect(struct binlist *l, char **paths, int n, char *why,
		size_t whylen)
{
	struct stat st;
	int i, ret;

	for (i = 0; i < n; i++) {
		if (stat(paths[i], &st))
			ret = -errno;
		else if (S_ISDIR(st.st_mode))
			ret = add_dir(l, paths[i]);
		else
			ret = bin_add(l, paths[i]);
		if (ret) {
			snprintf(why, whylen, "%s: %s", paths[i], strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* ---- payload lines ---- */

static void on_stdout(void *ctx, const char *line, size_t len)
{
	struct runner *r = ctx;

	/* A program must not be able to forge a frame. */
	if (len >= 11 && !memcmp(line, "@@faultline", 11))
		stream_line(&r->out, "# stdout: ", line, len);
	else
		stream_line(&r->out, NULL, line, len);
}

static void on_stderr(void *ctx, const char *line, size_t len)
{
	struct runner *r = ctx;
	bool diag = (len >= 2 && line[0] == '#' && line[1] == ' ') ||
		    (len == 1 && line[0] == '#');

	stream_line(&r->out, diag ? NULL : "# stderr: ", line, len);
}

/* `at`: the read time of the payload lines that follow (STREAM.md). */
static void on_read_time(void *ctx, uint64_t time_us)
{
	struct runner *r = ctx;
	char json[48];

	snprintf(json, sizeof(json), "{\"time_us\":%llu}",
		 (unsigned long long)time_us);
	stream_frame(&r->out, "at", json);
}

static void on_probe_stderr(void *ctx, const char *line, size_t len)
{
	struct runner *r = ctx;
	size_t room = sizeof(r->probe_err) - 1 - r->probe_err_len;

	if (len + 1 > room)
		len = room ? room - 1 : 0;
	memcpy(r->probe_err + r->probe_err_len, line, len);
	r->probe_err_len += len;
	if (room)
		r->probe_err[r->probe_err_len++] = '\n';
	r->probe_err[r->probe_err_len] = '\0';
}

/* ---- frames ---- */

static void put_result(struct json *b, const struct spawn_res *res)
{
	if (res->exit_code >= 0)
		json_int(b, "exit", res->exit_code);
	else
		json_null(b, "exit");
	if (res->signal)
		json_int(b, "signal", res->signal);
	else
		json_null(b, "signal");
	json_bool(b, "timed_out", res->timed_out);
	json_int(b, "duration_ms", res->duration_ms);
	if (res->core)
		json_bool(b, "core_dumped", true);
	if (res->unkillable)
		json_bool(b, "unkillable", true);
	if (res->leaked)
		json_int(b, "leaked", res->leaked);
	if (res->interrupted)
		json_int(b, "interrupted", res->interrupted);
	if (res->exec_errno) {
		char why[PATH_MAX + 64];

		snprintf(why, sizeof(why), "cannot execute: %s",
			 strerror(res->exec_errno));
		json_str(b, "error", why);
	}
}

/*
 * The names of every binary this run will execute, up front: a stream cut
 * by a panic then still says which binaries never got to run.
 */
static void binary_names(struct runner *r, struct json *b)
{
	const char **names = calloc((size_t)r->bins.n + 1, sizeof(*names));
	int i;

	if (!names)
		return;
	for (i = 0; i < r->bins.n; i++)
		names[i] = base_name(r->bins.path[i]);
	json_str_array(b, "binary_names", names, r->bins.n);
	free(names);
}

static void frame_run(struct runner *r)
{
	char cmdline[4096], started[32];
	struct utsname u;
	struct json b;
	struct tm tm;
	time_t t = time(NULL);

	memset(&u, 0, sizeof(u));
	uname(&u);
	gmtime_r(&t, &tm);
	strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ", &tm);

	json_object(&b);
	json_str(&b, "release", u.release);
	json_str(&b, "version", u.version);
	json_str(&b, "machine", u.machine);
	json_str(&b, "hostname", u.nodename);
	json_str(&b, "target", r->o->target);
	json_str(&b, "started", started);
	json_str(&b, "faultline_version", FAULTLINE_VERSION);
	json_str(&b, "cmdline", read_text("/proc/cmdline", cmdline,
					 sizeof(cmdline)));
	if (r->nr_hugepages >= 0)
		json_int(&b, "nr_hugepages", r->nr_hugepages);
	else
		json_null(&b, "nr_hugepages");
	json_bool(&b, "pid1", r->o->pid1);
	json_int(&b, "uid", (long long)geteuid());
	json_num(&b, "timeout_s", r->o->timeout_s);
	json_int(&b, "binaries", r->bins.n);
	binary_names(r, &b);
	json_int(&b, "jobs", r->o->jobs);
	if (r->o->nonly)
		json_str_array(&b, "selection", (const char *const *)r->o->only,
			     r->o->nonly);
	if (r->o->nskip)
		json_str_array(&b, "skip", (const char *const *)r->o->skip,
			     r->o->nskip);
	pool_json(&r->pool, &b);
	json_bool(&b, "kmsg", r->kmsg.fd >= 0);
	if (r->o->kmsg && r->kmsg.fd < 0 && r->kmsg.open_errno)
		json_str(&b, "kmsg_error", strerror(r->kmsg.open_errno));
	if (r->o->setup_error)
		json_str(&b, "setup_error", r->o->setup_error);
	if (r->o->bench)
		json_str(&b, "bench", r->o->bench);
	stream_frame_json(&r->out, "run", &b);
}

/* The probe's (then the benchmark's) stderr tail starts empty. */
static void stderr_tail_reset(struct runner *r)
{
	r->probe_err_len = 0;
	r->probe_err[0] = '\0';
}

/* How the probe or the benchmark ended: result keys, path, stderr tail. */
static void put_program_end(struct runner *r, struct json *b,
			    const struct spawn_res *res, const char *path)
{
	put_result(b, res);
	json_str(b, "path", path);
	if (r->probe_err_len)
		json_str(b, "stderr", r->probe_err);
}

/* Returns the signal that interrupted the runner meanwhile, or 0. */
static int run_probe(struct runner *r)
{
	char *argv[] = { (char *)r->o->probe, "--json", NULL };
	struct spawn_req req = {
		.path = r->o->probe, .argv = argv,
		.timeout_s = r->o->timeout_s,
		.term_grace_s = r->o->term_grace_s,
		.out_line = on_stdout, .err_line = on_probe_stderr, .ctx = r,
	};
	struct spawn_res res;
	struct json b;

	stderr_tail_reset(r);
	stream_frame(&r->out, "probe-begin", NULL);
	spawn_run(&req, &res);
	json_object(&b);
	put_program_end(r, &b, &res, r->o->probe);
	stream_frame_json(&r->out, "probe-end", &b);
	return res.interrupted;
}

/*
 * The benchmark after the binaries (STREAM.md, bench-begin/bench-end): its
 * JSON is the payload, its stderr (tail) and kernel log records are kept
 * apart. A hang is the per-binary limit's to end, like a binary's; nothing
 * it does changes the exit code. The signal that interrupted the runner
 * meanwhile, or 0.
 */
static int run_bench(struct runner *r)
{
	static const char *const args[] = { "--quick", "--json", "--budget",
					    "2" };
	char *argv[] = { (char *)r->o->bench, (char *)args[0],
			 (char *)args[1], (char *)args[2], (char *)args[3],
			 NULL };
	struct spawn_req req = {
		.path = r->o->bench, .argv = argv,
		.timeout_s = r->o->timeout_s,
		.term_grace_s = r->o->term_grace_s,
		.out_line = on_stdout, .err_line = on_probe_stderr, .ctx = r,
		.kmsg = r->kmsg.fd >= 0 ? &r->kmsg : NULL,
	};
	struct spawn_res res;
	struct json b;

	/* The probe's stderr buffer is free again: the probe ran long ago. */
	stderr_tail_reset(r);
	json_object(&b);
	json_str(&b, "path", r->o->bench);
	json_str_array(&b, "args", args, 4);
	json_num(&b, "timeout_s", r->o->timeout_s);
	json_int(&b, "time_us", (long long)now_us());
	stream_frame_json(&r->out, "bench-begin", &b);
	kmsg_mark(&r->kmsg);
	spawn_run(&req, &res);
	json_object(&b);
	put_program_end(r, &b, &res, r->o->bench);
	json_bool(&b, "kmsg_alert", r->kmsg.alert);
	if (r->kmsg.lines)
		json_int(&b, "kmsg_lines", r->kmsg.lines);
	stream_frame_json(&r->out, "bench-end", &b);
	return res.interrupted;
}

static void frame_binary_begin(struct runner *r, struct stream *out, int i)
{
	const char *path = r->bins.path[i];
	struct json b;

	json_object(&b);
	json_str(&b, "name", base_name(path));
	json_str(&b, "path", path);
	json_num(&b, "timeout_s", r->o->timeout_s);
	json_int(&b, "index", i + 1);
	json_int(&b, "of", r->bins.n);
	if (r->bins.sel && r->bins.sel[i].points >= 0)
		json_int(&b, "selected", r->bins.sel[i].points);
	if (r->bins.sel && r->bins.sel[i].error)
		json_str(&b, "selection_error", r->bins.sel[i].error);
	/* On /dev/kmsg's clock: records and points share one time line. */
	json_int(&b, "time_us", (long long)now_us());
	stream_frame_json(out, "binary-begin", &b);
}

/*
 * The binary's argv: its path, then the points --only chose ("-r <id>"
 * each), if not all. NULL without memory for it.
 */
static char **binary_argv(const struct runner *r, int i)
{
	char **args = r->bins.sel ? r->bins.sel[i].args : NULL;
	size_t n = 0;
	char **argv;

	while (args && args[n])
		n++;
	argv = calloc(n + 2, sizeof(*argv));
	if (!argv)
		return NULL;
	argv[0] = r->bins.path[i];
	if (n)
		memcpy(&argv[1], args, n * sizeof(*argv));
	return argv;
}

static void run_binary(struct runner *r, int i, struct spawn_res *res)
{
	const char *path = r->bins.path[i];
	char *whole[] = { (char *)path, NULL };
	char **argv = binary_argv(r, i);
	struct spawn_req req = {
		.path = path, .argv = argv ? argv : whole,
		.timeout_s = r->o->timeout_s,
		.term_grace_s = r->o->term_grace_s,
		.out_line = on_stdout, .err_line = on_stderr,
		.stamp = on_read_time, .ctx = r,
		.kmsg = r->kmsg.fd >= 0 ? &r->kmsg : NULL,
	};
	struct json b;

	frame_binary_begin(r, &r->out, i);

	kmsg_mark(&r->kmsg);
	spawn_run(&req, res);
	free(argv);

	json_object(&b);
	json_str(&b, "name", base_name(path));
	put_result(&b, res);
	json_bool(&b, "kmsg_alert", r->kmsg.alert);
	if (r->kmsg.lines)
		json_int(&b, "kmsg_lines", r->kmsg.lines);
	stream_frame_json(&r->out, "binary-end", &b);
}

/*
 * Before job @i's worker is forked: a kmsg reader of its own (the runner's
 * shares its read position with every fork), at the end of the log now,
 * so the job sees every record from the moment it was started.
 */
static int job_prepare(void *ctx, int i)
{
	struct runner *r = ctx;

	(void)i;
	r->job_kmsg = -1;
	if (r->kmsg.fd < 0)
		return -1;
	r->job_kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (r->job_kmsg >= 0)
		lseek(r->job_kmsg, 0, SEEK_END);
	return r->job_kmsg;
}

/* In a worker: job @i's block goes to @out_fd, kmsg from its own reader. */
static void job_run(void *ctx, int i, int out_fd, struct spawn_res *res)
{
	struct runner *r = ctx;

	r->out.fd = out_fd;
	r->out.broken = false;
	if (r->kmsg.fd >= 0) {
		close(r->kmsg.fd);
		r->kmsg.fd = r->job_kmsg;
		r->kmsg.keep_pos = true;
	}
	run_binary(r, i, res);
}

/* A worker that could not start or died: end its block all the same. */
static void job_lost(void *ctx, int i, struct stream *out, bool begun,
		     const char *why, const struct spawn_res *res)
{
	struct runner *r = ctx;
	const char *path = r->bins.path[i];
	struct json b;

	if (!begun)
		frame_binary_begin(r, out, i);
	json_object(&b);
	json_str(&b, "name", base_name(path));
	json_null(&b, "exit");
	json_null(&b, "signal");
	json_bool(&b, "timed_out", false);
	json_int(&b, "duration_ms", res->duration_ms);
	json_bool(&b, "kmsg_alert", false);
	json_str(&b, "error", why);
	stream_frame_json(out, "binary-end", &b);
}

/* Each binary in turn; returns how many were run (results in @res). */
static int run_sequential(struct runner *r, struct spawn_res *res,
			  int *interrupted)
{
	int i;

	for (i = 0; i < r->bins.n && !*interrupted && !r->out.broken; i++) {
		run_binary(r, i, &res[i]);
		*interrupted = res[i].interrupted;
	}
	return i;
}

/*
 * On the host every binary runs in a worker (par.c), also one at a time:
 * if the runner is SIGKILLed, the worker outlives it long enough to stop
 * the binary and kill and reap what it forked (kselftest's test children,
 * in groups of their own). Run by the runner itself, the binary would die
 * of its parent-death signal and leave those running, parented to init.
 * PID 1 has nothing to outlive (the VM ends with it): one at a time, it
 * runs them itself.
 */
static int run_binaries(struct runner *r, struct spawn_res *res,
			int *interrupted)
{
	static const struct par_ops ops = {
		.prepare = job_prepare, .run = job_run, .lost = job_lost,
	};
	int n;

	if (!r->o->pid1 || (r->o->jobs > 1 && r->bins.n > 1)) {
		n = par_run(r->bins.n, r->o->jobs, &r->out, &ops, r, res,
			    interrupted);
		if (n >= 0)
			return n;
		/* No memory for the bookkeeping: one at a time then. */
	}
	return run_sequential(r, res, interrupted);
}

/* What the run-end frame and the exit code are made of. */
struct tally {
	uint64_t t0;			/* now_ms() at the start */
	long long rsvd_before;		/* HugePages_Rsvd before any binary */
	int started, failed, timed_out;
	int interrupted;		/* the signal that stopped the run */
};

static void count_results(struct tally *t, const struct spawn_res *res,
			  int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (res[i].exec_errno)
			t->failed++;
		else
			t->started++;
		t->timed_out += res[i].timed_out;
	}
}

static void frame_run_end(struct runner *r, const struct tally *t)
{
	long long rsvd_after = hugetlb_rsvd_pages();
	const char *status = "complete";
	struct json b;

	if (t->interrupted)
		status = "interrupted";
	else if (!r->bins.n)
		status = "empty";
	json_object(&b);
	json_int(&b, "duration_ms", (long long)(now_ms() - t->t0));
	json_int(&b, "binaries", t->started);
	json_str(&b, "status", status);
	if (!t->interrupted && !r->bins.n && r->o->nonly)
		json_str(&b, "error", "no test point matches --only");
	else if (!t->interrupted && !r->bins.n && r->o->nskip)
		json_str(&b, "error", "--skip leaves no test point");
	json_int(&b, "failed_to_start", t->failed);
	json_int(&b, "timed_out", t->timed_out);
	if (r->pool.restore_err)
		json_str(&b, "hugepages_error", strerror(-r->pool.restore_err));
	/*
	 * Every mapping of every binary is gone now: the kernel's huge page
	 * reservations must be back where they were (reports show a finding
	 * when not). A binary run alone checks this itself
	 * (harness/hugepages.c); side by side the binaries cannot tell, so
	 * the runner does.
	 */
	if (r->o->jobs > 1 && r->bins.n > 1 &&
	    t->rsvd_before != HUGETLB_UNKNOWN &&
	    rsvd_after != HUGETLB_UNKNOWN && mem_huge_page_size()) {
		json_int(&b, "hugepages_rsvd_before", t->rsvd_before);
		json_int(&b, "hugepages_rsvd_after", rsvd_after);
	}
	stream_frame_json(&r->out, "run-end", &b);
}

static int exit_code(const struct runner *r, const struct tally *t)
{
	if (t->interrupted)
		return 128 + t->interrupted;
	if (r->out.broken)
		return 1;	/* whenever the reader went away */
	if (!t->started)
		return 2;
	return t->failed ? 1 : 0;
}

/* The stream's reader and the pool, before the first frame. */
static void run_prepare(struct runner *r, struct tally *t)
{
	struct opts *o = r->o;

	kmsg_open(&r->kmsg, &r->out, o->kmsg_user_alerts);
	if (!o->kmsg && r->kmsg.fd >= 0) {
		close(r->kmsg.fd);
		r->kmsg.fd = -1;
	}
	r->pool.wanted = o->hugepages < 0 ? pool_default(o->jobs) : o->hugepages;
	r->pool.lock_fd = -1;
	r->nr_hugepages = sysctl_read(HUGETLB_NR_PATH);
	if (r->bins.n && !t->interrupted) {
		t->interrupted = pool_take(&r->pool);
		if (!t->interrupted)
			r->nr_hugepages = r->pool.nr_at_start;
	}
	t->rsvd_before = hugetlb_rsvd_pages();
}

int run_all(struct runner *r)
{
	struct spawn_res *res = calloc((size_t)r->bins.n + 1, sizeof(*res));
	struct tally t = { .t0 = now_ms() };
	char num[16];
	int n = 0;

	/* Before the run frame: it names the binaries that will run. */
	if (selecting(r->o))
		t.interrupted = select_points(r);
	run_prepare(r, &t);
	stream_frame(&r->out, "stream", "1");
	frame_run(r);
	if (r->o->probe && !t.interrupted)
		t.interrupted = run_probe(r);
	if (!res) {
		t.failed = r->bins.n;	/* no memory: none can be run */
	} else if (!t.interrupted) {
		/* Tell the binaries whether siblings may run beside them. */
		snprintf(num, sizeof(num), "%d",
			 r->o->jobs < r->bins.n ? r->o->jobs : r->bins.n);
		setenv(RUNENV_JOBS, num, 1);
		n = run_binaries(r, res, &t.interrupted);
	}
	count_results(&t, res, n);
	free(res);
	/* Before the pool goes back: hugetlb figures find its pages free. */
	if (r->o->bench && !t.interrupted && !r->out.broken)
		t.interrupted = run_bench(r);
	/* After the last binary, also when interrupted: signals only queue. */
	pool_give_back(&r->pool);
	frame_run_end(r, &t);
	return exit_code(r, &t);
}

/* A run that could not happen: still a well-formed stream saying why. */
void run_fatal(struct runner *r, const char *why)
{
	struct json b;

	stream_frame(&r->out, "stream", "1");
	frame_run(r);
	json_object(&b);
	json_int(&b, "duration_ms", 0);
	json_int(&b, "binaries", 0);
	json_str(&b, "status", "error");
	json_str(&b, "error", why);
	stream_frame_json(&r->out, "run-end", &b);
}
