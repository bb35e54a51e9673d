// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-fake-api: run a command and add bits to what every successful
 * UFFDIO_API returns to it, as a future kernel with new features would.
 * The tests use it to check that uffd-probe reports unknown feature bits
 * as "bit N" and never fails on them.
 *
 *   uffd-fake-api [--features MASK] [--ioctls MASK] -- CMD [ARG...]
 *
 * Works with ptrace syscall stops (single-threaded tracees): at the exit
 * of ioctl(fd, UFFDIO_API, p) with a 0 result, p->features and p->ioctls
 * are OR-ed with the masks in the tracee's memory.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "uffd_compat.h"
#include "wrapper_args.h"

static int usage(void)
{
	fprintf(stderr, "usage: uffd-fake-api [--features MASK] [--ioctls MASK] -- CMD [ARG...]\n");
	return 2;
}

static int parse_mask(const char *s, uint64_t *mask)
{
	char *end;

	errno = 0;
	*mask = strtoull(s, &end, 0);
	return errno || !*s || *end ? -1 : 0;
}

/* OR @add into the u64 at @addr in @pid. */
static int or_word(pid_t pid, uint64_t addr, uint64_t add)
{
	long word;

	errno = 0;
	word = ptrace(PTRACE_PEEKDATA, pid, (void *)addr, NULL);
	if (errno)
		return -errno;
	word |= (long)add;
	return ptrace(PTRACE_POKEDATA, pid, (void *)addr, (void *)word) ?
		-errno : 0;
}

static int trace(pid_t pid, uint64_t features, uint64_t ioctls)
{
	struct __ptrace_syscall_info info;
	uint64_t api_arg = 0;
	int status, sig = 0;

	ptrace(PTRACE_SETOPTIONS, pid, NULL,
	       (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL));
	for (;;) {
		if (ptrace(PTRACE_SYSCALL, pid, NULL, (void *)(long)sig))
			return 1;
		sig = 0;
		if (waitpid(pid, &status, 0) < 0)
			return 1;
		if (WIFEXITED(status))
			return WEXITSTATUS(status);
		if (WIFSIGNALED(status))
			return 128 + WTERMSIG(status);
		if (WSTOPSIG(status) != (SIGTRAP | 0x80)) {
			/* The SIGTRAP after execve is ours, not the tracee's. */
			sig = WSTOPSIG(status) == SIGTRAP ? 0 : WSTOPSIG(status);
			continue;
		}
		if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof(info),
			   &info) <= 0)
			continue;
		if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
			api_arg = info.entry.nr == __NR_ioctl &&
				  (unsigned long)info.entry.args[1] == UFFDIO_API ?
				  info.entry.args[2] : 0;
		} else if (info.op == PTRACE_SYSCALL_INFO_EXIT && api_arg) {
			if (!info.exit.is_error && info.exit.rval == 0) {
				or_word(pid, api_arg + offsetof(struct uffdio_api,
						features), features);
				or_word(pid, api_arg + offsetof(struct uffdio_api,
						ioctls), ioctls);
			}
			api_arg = 0;
		}
	}
}

/* The bits to add: [0] features, [1] ioctls. */
static int option(const char *name, const char *value, void *ctx)
{
	uint64_t *masks = ctx;

	if (!strcmp(name, "--features"))
		return parse_mask(value, &masks[0]);
	if (!strcmp(name, "--ioctls"))
		return parse_mask(value, &masks[1]);
	return -1;
}

int main(int argc, char **argv)
{
	uint64_t masks[2] = { 0, 0 };
	pid_t pid;
	int i = wrapper_args(argc, argv, option, masks);

	if (i < 0)
		return usage();
	pid = fork();
	if (pid < 0) {
		perror("uffd-fake-api: fork");
		return 1;
	}
	if (!pid) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
			_exit(126);
		raise(SIGSTOP);
		execvp(argv[i], argv + i);
		fprintf(stderr, "uffd-fake-api: %s: %s\n", argv[i],
			strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, NULL, 0) < 0)
		return 1;
	return trace(pid, masks[0], masks[1]);
}
