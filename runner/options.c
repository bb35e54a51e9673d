// SPDX-License-Identifier: GPL-2.0
/*
 * faultline runner: one option table, read from argv on the host and from
 * the kernel command line as PID 1.
 *
 * faultline.<name>=<value> on the kernel command line is exactly
 * --<name>=<value> (with '_' for '-' accepted, since module-style
 * parameters are often written that way); an option without a value is
 * faultline.<name> or faultline.<name>=1, and faultline.<name>=0 is its
 * opposite (faultline.kmsg=0 is --no-kmsg). The binaries to run are
 * faultline.cases=P[,P...], as is --cases. Everything else on the command
 * line belongs to the kernel and is left alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"

#define DEFAULT_TIMEOUT_S	60
#define DEFAULT_TERM_GRACE_S	0.5
#define MAX_JOBS		256
#define MAX_HUGEPAGES		(1L << 20)
#define MAX_SECONDS		604800	/* a week */
#define CMDLINE_PREFIX		"faultline."

#define STR_(x) #x
#define STR(x) STR_(x)

/*
 * Store @val into @o; NULL, or what was expected instead (for the message
 * naming the option as the user wrote it).
 */
typedef const char *(*opt_set_fn)(struct opts *o, const char *val);

struct opt_def {
	const char *name;	/* --name, faultline.name */
	char short_name;	/* -x, or 0 */
	const char *arg;	/* the value's name in --help; NULL: a flag */
	opt_set_fn set;		/* an option with a value */
	size_t flag;		/* a flag: offsetof(struct opts, <bool>) ... */
	bool flag_val;		/* ... and what it stores there */
	bool host_only;		/* meaningless on a kernel command line */
	const char *help;	/* lines after the first indented */
};

static const char *parse_seconds(const char *s, double *val, bool zero_ok)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0 ||
	    (!zero_ok && v == 0) || v > MAX_SECONDS)
		return zero_ok ? "seconds >= 0, at most " STR(MAX_SECONDS)
			       : "seconds > 0, at most " STR(MAX_SECONDS);
	*val = v;
	return NULL;
}

static bool parse_count(const char *s, long *val, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*val = v;
	return true;
}

static const char *set_timeout(struct opts *o, const char *val)
{
	return parse_seconds(val, &o->timeout_s, false);
}

static const char *set_term_grace(struct opts *o, const char *val)
{
	return parse_seconds(val, &o->term_grace_s, true);
}

static const char *set_jobs(struct opts *o, const char *val)
{
	long n;

	if (!parse_count(val, &n, 1, MAX_JOBS))
		return "1.." STR(MAX_JOBS);
	o->jobs = (int)n;
	return NULL;
}

static const char *set_hugepages(struct opts *o, const char *val)
{
	if (!parse_count(val, &o->hugepages, 0, MAX_HUGEPAGES))
		return "0..1048576";
	return NULL;
}

static const char *set_probe(struct opts *o, const char *val)
{
	o->no_probe = !strcmp(val, "none");
	o->probe = o->no_probe ? NULL : val;
	return NULL;
}

static const char *set_bench(struct opts *o, const char *val)
{
	o->bench = strcmp(val, "none") ? val : NULL;
	return NULL;
}

static const char *set_output(struct opts *o, const char *val)
{
	o->output = val;
	return NULL;
}

static const char *set_target(struct opts *o, const char *val)
{
	o->target = val;
	return NULL;
}

static const char *add_path(struct opts *o, const char *path)
{
	if (strv_add(&o->paths, &o->npaths, &o->paths_cap, path, strlen(path)))
		return "out of memory";
	return NULL;
}

/* Each of the comma-separated items of @val, in order, to @add. */
static const char *split_commas(struct opts *o, const char *val,
				const char *(*add)(struct opts *o, const char *item))
{
	const char *p = val, *why = NULL;
	char one[PATH_MAX];
	size_t n;

	while (*p && !why) {
		n = strcspn(p, ",");
		if (n >= sizeof(one))
			return "items shorter than PATH_MAX";
		if (n) {
			memcpy(one, p, n);
			one[n] = '\0';
			why = add(o, one);
		}
		p += n + (p[n] == ',');
	}
	return why;
}

static const char *set_cases(struct opts *o, const char *val)
{
	return split_commas(o, val, add_path);
}

/*
 * One glob onto a list: no blanks, a kernel command line word could not
 * carry it.
 */
static const char *glob_add(char ***v, int *n, int *cap, const char *glob)
{
	if (strpbrk(glob, " \t\n"))
		return "a glob without blanks";
	return strv_add(v, n, cap, glob, strlen(glob)) ? "out of memory" : NULL;
}

static const char *add_only(struct opts *o, const char *glob)
{
	return glob_add(&o->only, &o->nonly, &o->only_cap, glob);
}

static const char *add_skip(struct opts *o, const char *glob)
{
	return glob_add(&o->skip, &o->nskip, &o->skip_cap, glob);
}

/* GLOB[,GLOB...] through @add; at least one glob, counted by @count. */
static const char *set_globs(struct opts *o, const char *val, int *count,
			     const char *(*add)(struct opts *o, const char *glob))
{
	int before = *count;
	const char *why = split_commas(o, val, add);

	return why ? why : *count == before ? "a glob" : NULL;
}

static const char *set_only(struct opts *o, const char *val)
{
	return set_globs(o, val, &o->nonly, add_only);
}

static const char *set_skip(struct opts *o, const char *val)
{
	return set_globs(o, val, &o->nskip, add_skip);
}

#define FLAG(field, val) .flag = offsetof(struct opts, field), .flag_val = val

static const struct opt_def options[] = {
	{ "jobs", 'j', "N", set_jobs, .help =
	  "run up to N binaries at once (default: the number\n"
	  "of online CPUs; PID 1: 1); blocks stay whole and\n"
	  "in order" },
	{ "hugepages", 0, "N", set_hugepages, .help =
	  "hold N free huge pages for the whole run, raising\n"
	  "vm.nr_hugepages and restoring it after (default\n"
	  "32 per job, at most 1/16 of RAM; PID 1 with one\n"
	  "job: 0; 0: leave it alone)" },
	{ "timeout", 't', "SECONDS", set_timeout, .help =
	  "per-binary limit (default " STR(DEFAULT_TIMEOUT_S) ")" },
	{ "term-grace", 0, "SECONDS", set_term_grace, .help =
	  "SIGTERM first, SIGKILL after this (default "
	  STR(DEFAULT_TERM_GRACE_S) ";\n0: SIGKILL at once)" },
	{ "probe", 0, "PATH", set_probe, .help =
	  "the probe (default: uffd-probe next to the\n"
	  "runner; none: no probe)" },
	{ "no-probe", 0, NULL, FLAG(no_probe, true), .help =
	  "do not run the probe" },
	{ "bench", 0, "PATH", set_bench, .help =
	  "after the binaries, run the benchmark (uffd-bench)\n"
	  "as: PATH --quick --json --budget 2, within the\n"
	  "per-binary limit; a PATH without '/' is next to the\n"
	  "runner (PID 1: in /); none: no benchmark (default).\n"
	  "It never changes the exit status" },
	{ "cases", 0, "P[,P...]", set_cases, .help =
	  "binaries or directories to run (as BINARY|DIR)" },
	{ "only", 0, "GLOB", set_only, .help =
	  "run only the test points whose id (fixture.variant.\n"
	  "test, as in TAP) matches a glob (fnmatch: '*' also\n"
	  "matches dots); repeatable, or GLOB,GLOB. Each binary\n"
	  "lists its points (-l) and gets -r for each one\n"
	  "chosen; one with none is not run" },
	{ "skip", 0, "GLOB", set_skip, .help =
	  "never run the test points whose id matches a glob\n"
	  "(as --only; a point both name is skipped);\n"
	  "repeatable, or GLOB,GLOB" },
	{ "output", 'o', "FILE", set_output, .help =
	  "write the stream here (default: stdout)" },
	{ "kmsg", 0, NULL, FLAG(kmsg, true), .help =
	  "report kernel log records (default)" },
	{ "no-kmsg", 0, NULL, FLAG(kmsg, false), .help =
	  "do not read /dev/kmsg" },
	{ "kmsg-user-alerts", 0, NULL, FLAG(kmsg_user_alerts, true), .help =
	  "records written by user space may alert too" },
	{ "target", 0, "NAME", set_target, .help =
	  "the run frame's target (default: host; PID 1: vm)" },
	{ "list", 0, NULL, FLAG(list, true), .host_only = true, .help =
	  "print \"<binary> <point id>\" for each point (the\n"
	  "ones of --only, if given) and exit; nothing runs" },
	{ "help", 'h', NULL, FLAG(help, true), .host_only = true, .help =
	  "this text" },
	{ "version", 0, NULL, FLAG(version, true), .host_only = true, .help =
	  "the version" },
};

#define NR_OPTIONS (sizeof(options) / sizeof(options[0]))

static void set_flag(struct opts *o, const struct opt_def *d, bool on)
{
	*(bool *)((char *)o + d->flag) = on ? d->flag_val : !d->flag_val;
}

void opts_usage(FILE *f)
{
	char left[48];
	const char *h, *nl;
	size_t i;

	fprintf(f,
"usage: faultline-runner [options] [BINARY|DIR ...]\n"
"Run uffd-probe --json, then each case binary (sorted), and write the\n"
"faultline stream (reports/STREAM.md).\n");
	for (i = 0; i < NR_OPTIONS; i++) {
		const struct opt_def *d = &options[i];

		snprintf(left, sizeof(left), "%c%c%c --%s%s%s",
			 d->short_name ? '-' : ' ',
			 d->short_name ? d->short_name : ' ',
			 d->short_name ? ',' : ' ', d->name,
			 d->arg ? " " : "", d->arg ? d->arg : "");
		for (h = d->help; h; h = nl ? nl + 1 : NULL) {
			nl = strchr(h, '\n');
			fprintf(f, "  %-24s %.*s\n", h == d->help ? left : "",
				(int)(nl ? nl - h : (long)strlen(h)), h);
		}
	}
	fprintf(f,
"As PID 1 (in a VM) the same options come from the kernel command line:\n"
"faultline.<option>=<value> (or faultline.<option> for one without a\n"
"value; =0 is its opposite), '_' for '-' accepted.\n"
"Without BINARY|DIR or --cases: <runner dir>/cases/*. Exit: 0 all binaries\n"
"ran, 1 some could not be started or the stream's reader went away, 2 usage\n"
"error or nothing could be run, 128+N interrupted by signal N.\n");
}

void opts_defaults(struct opts *o, bool pid1)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	memset(o, 0, sizeof(*o));
	o->timeout_s = DEFAULT_TIMEOUT_S;
	o->term_grace_s = DEFAULT_TERM_GRACE_S;
	o->kmsg = true;
	o->hugepages = -1;
	o->pid1 = pid1;
	o->target = pid1 ? "vm" : "host";
	o->jobs = 1;
	/* A VM runs one binary at a time unless told: its CPUs are few. */
	if (!pid1 && cpus > 1)
		o->jobs = cpus > MAX_JOBS ? MAX_JOBS : (int)cpus;
}

/* ---- argv ---- */

/* getopt_long()'s view of the table: long option i returns 256 + i. */
static void getopt_tables(struct option *lopts, char *shorts)
{
	const struct opt_def *d;
	size_t i;

	for (i = 0; i < NR_OPTIONS; i++) {
		d = &options[i];
		lopts[i] = (struct option){ d->name,
			d->arg ? required_argument : no_argument, NULL,
			256 + (int)i };
		if (d->short_name) {
			*shorts++ = d->short_name;
			if (d->arg)
				*shorts++ = ':';
		}
	}
	memset(&lopts[NR_OPTIONS], 0, sizeof(lopts[0]));
	*shorts = '\0';
}

int opts_from_argv(struct opts *o, int argc, char **argv)
{
	struct option lopts[NR_OPTIONS + 1];
	char shorts[2 * NR_OPTIONS + 1];
	const struct opt_def *d;
	const char *why;
	size_t i;
	int c;

	getopt_tables(lopts, shorts);
	while ((c = getopt_long(argc, argv, shorts, lopts, NULL)) != -1) {
		d = NULL;
		if (c >= 256)
			d = &options[c - 256];
		for (i = 0; !d && c != '?' && i < NR_OPTIONS; i++)
			if (options[i].short_name == c)
				d = &options[i];
		if (!d) {
			fprintf(stderr, "Try 'faultline-runner --help'.\n");
			return 2;
		}
		if (!d->arg) {
			set_flag(o, d, true);
			continue;
		}
		why = d->set(o, optarg);
		if (why) {
			fprintf(stderr, "faultline-runner: bad --%s '%s' (%s)\n",
				d->name, optarg, why);
			return 2;
		}
	}
	if (o->help) {
		opts_usage(stdout);
		return 0;
	}
	if (o->version) {
		printf("faultline-runner %s\n", FAULTLINE_VERSION);
		return 0;
	}
	for (c = optind; c < argc; c++) {
		why = add_path(o, argv[c]);
		if (why) {
			fprintf(stderr, "faultline-runner: %s\n", why);
			return 2;
		}
	}
	return -1;
}

/* ---- the kernel command line ---- */

/*
 * The next word of @p into @word (room for strlen(@p) + 1), as the kernel
 * splits its command line: at blanks, except inside double quotes (which
 * are dropped). NULL at the end.
 */
static const char *next_word(const char *p, char *word)
{
	bool quoted = false;
	size_t n = 0;

	word[0] = '\0';
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (!*p)
		return NULL;
	for (; *p && (quoted || (*p != ' ' && *p != '\t' && *p != '\n')); p++) {
		if (*p == '"') {
			quoted = !quoted;
			continue;
		}
		word[n++] = *p;
	}
	word[n] = '\0';
	return p;
}

static const struct opt_def *find_option(const char *name, size_t len)
{
	size_t i, k;

	for (i = 0; i < NR_OPTIONS; i++) {
		const char *want = options[i].name;

		if (strlen(want) != len)
			continue;
		for (k = 0; k < len; k++)
			if (want[k] != (name[k] == '_' ? '-' : name[k]))
				break;
		if (k == len)
			return &options[i];
	}
	return NULL;
}

/* One faultline.<name>[=<value>] word. 0, or -1 with @why. */
static int cmdline_word(struct opts *o, char *word, char *why, size_t len)
{
	char *name = word + strlen(CMDLINE_PREFIX);
	char *eq = strchr(name, '=');
	const struct opt_def *d;
	const char *bad;
	size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
	char *val = eq ? eq + 1 : NULL;

	d = find_option(name, nlen);
	if (!d || d->host_only) {
		snprintf(why, len, "kernel command line: %s: %s", word,
			 d ? "not an option for the kernel command line"
			   : "unknown option (faultline-runner --help lists them)");
		return -1;
	}
	if (!d->arg) {
		if (val && strcmp(val, "0") && strcmp(val, "1")) {
			snprintf(why, len, "kernel command line: %s: 0 or 1 (or no value) expected",
				 word);
			return -1;
		}
		set_flag(o, d, !val || !strcmp(val, "1"));
		return 0;
	}
	if (!val) {
		snprintf(why, len, "kernel command line: %s: a value is needed (%s=%s)",
			 word, word, d->arg);
		return -1;
	}
	/* The option keeps pointing into @word: it must outlive the run. */
	bad = d->set(o, val);
	if (bad) {
		snprintf(why, len, "kernel command line: bad %s (%s)", word, bad);
		return -1;
	}
	return 0;
}

int opts_from_cmdline(struct opts *o, const char *cmdline, char *why,
		      size_t len)
{
	const char *p = cmdline;
	char *word;

	/* Values stay referenced by @o: each word gets its own copy. */
	while (p) {
		word = malloc(strlen(p) + 1);
		if (!word) {
			snprintf(why, len, "kernel command line: out of memory");
			return -1;
		}
		p = next_word(p, word);
		if (!p || strncmp(word, CMDLINE_PREFIX, strlen(CMDLINE_PREFIX))) {
			free(word);
			continue;
		}
		if (cmdline_word(o, word, why, len))
			return -1;
	}
	return 0;
}

/* ---- what was not given ---- */

static const char *runner_dir(void)
{
	static char dir[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	dir[n] = '\0';
	slash = strrchr(dir, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	return dir;
}

int opts_finish(struct opts *o, char *why, size_t len)
{
	static char probe_path[PATH_MAX + 16], cases_path[PATH_MAX + 16];
	static char bench_path[PATH_MAX + 16];
	const char *dir = o->pid1 ? "" : runner_dir();
	const char *err;

	if (o->no_probe) {
		o->probe = NULL;
	} else if (!o->probe) {
		if (!dir) {
			snprintf(why, len, "cannot find my directory; use --probe or --no-probe");
			return -1;
		}
		snprintf(probe_path, sizeof(probe_path), "%s/uffd-probe", dir);
		o->probe = probe_path;
	}
	/* A bare name: the benchmark built and shipped beside the runner. */
	if (o->bench && !strchr(o->bench, '/')) {
		if (!dir) {
			snprintf(why, len, "cannot find my directory; give --bench a path");
			return -1;
		}
		snprintf(bench_path, sizeof(bench_path), "%s/%s", dir, o->bench);
		o->bench = bench_path;
	}
	if (!o->npaths) {
		if (!dir) {
			snprintf(why, len, "cannot find my directory; name the binaries");
			return -1;
		}
		snprintf(cases_path, sizeof(cases_path), "%s/cases/", dir);
		err = add_path(o, cases_path);
		if (err) {
			snprintf(why, len, "%s", err);
			return -1;
		}
	}
	/*
	 * One binary at a time in a throw-away VM: nothing races, the cases
	 * reserve their own pages as they always did.
	 */
	if (o->pid1 && o->hugepages < 0 && o->jobs == 1)
		o->hugepages = 0;
	return 0;
}
