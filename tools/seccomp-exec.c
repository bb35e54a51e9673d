// SPDX-License-Identifier: GPL-2.0
/*
 * seccomp-exec: run a command under a seccomp filter that makes one
 * syscall (default userfaultfd) fail with a chosen errno, the way a
 * container runtime's profile does. Used by the tests to check that
 * uffd-probe diagnoses seccomp for real.
 *
 *   seccomp-exec [--errno EPERM|ENOSYS|<n>] [--syscall NAME] -- CMD [ARG...]
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wrapper_args.h"

static const struct {
	const char *name;
	int value;
} errnos[] = {
	{ "EPERM", EPERM }, { "ENOSYS", ENOSYS }, { "EACCES", EACCES },
	{ "EINVAL", EINVAL }, { "ENOMEM", ENOMEM },
};

static int usage(void)
{
	fprintf(stderr, "usage: seccomp-exec [--errno EPERM|ENOSYS|EACCES|EINVAL|ENOMEM|<n>] [--syscall NAME] -- CMD [ARG...]\n");
	return 2;
}

static int parse_errno(const char *s)
{
	char *end;
	size_t i;
	long v;

	for (i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (!strcmp(s, errnos[i].name))
			return errnos[i].value;
	v = strtol(s, &end, 10);
	return *s && !*end && v > 0 && v < 4096 ? (int)v : -1;
}

struct options {
	const char *sys_name;
	int err;
};

static int option(const char *name, const char *value, void *ctx)
{
	struct options *o = ctx;

	if (!strcmp(name, "--errno"))
		o->err = parse_errno(value);
	else if (!strcmp(name, "--syscall"))
		o->sys_name = value;
	else
		return -1;
	return o->err < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct options o = { .sys_name = "userfaultfd", .err = EPERM };
	const char *sys_name;
	int i, nr, ret;
	scmp_filter_ctx ctx;

	i = wrapper_args(argc, argv, option, &o);
	if (i < 0)
		return usage();
	sys_name = o.sys_name;
	nr = seccomp_syscall_resolve_name(sys_name);
	if (nr == __NR_SCMP_ERROR) {
		fprintf(stderr, "seccomp-exec: unknown syscall '%s'\n", sys_name);
		return 2;
	}
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		fprintf(stderr, "seccomp-exec: seccomp_init failed\n");
		return 1;
	}
	/* libseccomp sets no_new_privs itself, so no privilege is needed. */
	ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(o.err), nr, 0);
	if (!ret)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	if (ret) {
		fprintf(stderr, "seccomp-exec: loading the filter: %s\n",
			strerror(-ret));
		return 1;
	}
	execvp(argv[i], argv + i);
	fprintf(stderr, "seccomp-exec: %s: %s\n", argv[i], strerror(errno));
	return 127;
}
