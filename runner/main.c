// SPDX-License-Identifier: GPL-2.0
/*
 * faultline-runner: run the probe and every case binary, one at a time or
 * several at once (--jobs), each with a deadline, and write the framed
 * stream of reports/STREAM.md.
 *
 * On the host it is an ordinary command. As PID 1 inside a VM it mounts
 * what the cases need, takes the same options from the kernel command
 * line, writes the stream to the console and leaves the VM; it never
 * exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pid1.h"
#include "runner.h"

/* The runner's own complaints, the stream's error frames. */
#define WHY_MAX		(PATH_MAX + 256)

/* FAULTLINE_CMDLINE stands in for the kernel's (tests, containers). */
#define CMDLINE_ENV	"FAULTLINE_CMDLINE"

/* Where the stream goes: stdout, or a file (host) or device (PID 1). */
static int open_output(struct runner *r)
{
	const char *path = r->o->output;

	r->out.fd = STDOUT_FILENO;
	if (!path || !strcmp(path, "-"))
		return 0;
	r->out.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY |
			 O_CLOEXEC, 0644);
	if (r->out.fd >= 0)
		return 0;
	r->out.fd = STDOUT_FILENO;
	return -errno;
}

/* Exit 1 on the host: which of the two reasons, said plainly. */
static void explain_failure(const struct runner *r)
{
	if (r->out.broken)
		fprintf(stderr, "faultline-runner: cannot write the stream (%s: %s): the reader went away; stopped there\n",
			r->o->output && strcmp(r->o->output, "-") ?
			r->o->output : "stdout",
			strerror(r->out.write_errno));
	else
		fprintf(stderr, "faultline-runner: some binaries could not be started (see the stream)\n");
}

static int host_main(int argc, char **argv)
{
	static struct runner r;
	static struct opts o;
	char why[WHY_MAX];
	int rc, err;

	opts_defaults(&o, false);
	rc = opts_from_argv(&o, argc, argv);
	if (rc >= 0)
		return rc;
	if (opts_finish(&o, why, sizeof(why))) {
		fprintf(stderr, "faultline-runner: %s\n", why);
		return 2;
	}
	r.o = &o;
	r.kmsg.fd = -1;
	r.pool.lock_fd = -1;
	if (run_collect(&r.bins, o.paths, o.npaths, why, sizeof(why))) {
		fprintf(stderr, "faultline-runner: %s\n", why);
		return 2;
	}
	if (!o.list) {
		err = open_output(&r);
		if (err) {
			fprintf(stderr, "faultline-runner: %s: %s\n", o.output,
				strerror(-err));
			return 2;
		}
	}
	err = spawn_init(false);
	if (err) {
		fprintf(stderr, "faultline-runner: setup: %s\n", strerror(-err));
		return 2;
	}
	if (o.list)
		return select_list(&r);
	rc = run_all(&r);
	if (!r.bins.n && o.nonly)
		fprintf(stderr, "faultline-runner: no test point matches --only\n");
	else if (!r.bins.n && o.nskip)
		fprintf(stderr, "faultline-runner: --skip leaves no test point\n");
	else if (!r.bins.n)
		fprintf(stderr, "faultline-runner: no case binaries in %s\n",
			o.npaths == 1 ? o.paths[0] : "the given paths");
	else if (rc == 1)
		explain_failure(&r);
	return rc;
}

/* ---- PID 1 mode ---- */

static void pid1_crash(int sig)
{
	static const char msg[] =
		"\n@@faultline run-end {\"duration_ms\":0,\"binaries\":0,"
		"\"status\":\"error\",\"error\":\"runner crashed\"}\n";
	ssize_t n;

	(void)sig;
	n = write(STDOUT_FILENO, msg, sizeof(msg) - 1);
	(void)n;
	pid1_shutdown(1);
}

/* The options of this boot: 0, or -1 with @why (the stream says it). */
static int pid1_options(struct runner *r, char *why, size_t len)
{
	static char cmdline[4096];
	const char *text = getenv(CMDLINE_ENV);
	int err;

	if (!text)
		text = read_text("/proc/cmdline", cmdline, sizeof(cmdline));
	if (text && opts_from_cmdline(r->o, text, why, len))
		return -1;
	if (opts_finish(r->o, why, len))
		return -1;
	err = open_output(r);
	if (err)
		snprintf(why, len, "kernel command line: faultline.output=%s: %s",
			 r->o->output, strerror(-err));
	return err ? -1 : 0;
}

static void pid1_main(void)
{
	static const int crash_sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE,
					  SIGABRT };
	static char setup[128];
	static struct runner r;
	static struct opts o;
	char why[WHY_MAX];
	size_t i;
	int err;

	for (i = 0; i < sizeof(crash_sigs) / sizeof(crash_sigs[0]); i++)
		signal(crash_sigs[i], pid1_crash);
	err = pid1_setup();
	pid1_console();
	opts_defaults(&o, true);
	if (err) {
		snprintf(setup, sizeof(setup), "mount: %s", strerror(-err));
		o.setup_error = setup;
	}
	if (!getenv("PATH"))
		setenv("PATH", "/bin:/sbin:/usr/bin:/usr/sbin", 1);

	r.o = &o;
	r.kmsg.fd = -1;
	r.pool.lock_fd = -1;
	r.out.fd = STDOUT_FILENO;
	/* The kernel shares the console: start every frame on a new line. */
	r.out.nl_before_frame = true;

	if (pid1_options(&r, why, sizeof(why))) {
		run_fatal(&r, why);
		pid1_shutdown(1);
	}
	err = spawn_init(true);
	if (err || run_collect(&r.bins, o.paths, o.npaths, why, sizeof(why))) {
		if (err)
			snprintf(why, sizeof(why), "runner setup: %s",
				 strerror(-err));
		run_fatal(&r, why);
		pid1_shutdown(1);
	}
	pid1_shutdown(run_all(&r) ? 1 : 0);
}

int main(int argc, char **argv)
{
	if (getpid() == 1)
		pid1_main();	/* never returns */
	return host_main(argc, argv);
}
