// SPDX-License-Identifier: GPL-2.0
/*
 * child-wait [--readable] MODE: harness/thread.c's
 * fl_child_wait_refaulting() (with --readable: fl_child_or_readable() on
 * a pipe the child may write) on a child that behaves as MODE says, for
 * the project's tests:
 *
 *   exits     touches a few pages, then exits 7
 *   refaults  faults on one page again and again and never exits (what a
 *             write the kernel never lets complete looks like from outside)
 *   sleeps    sleeps 300 ms without faulting, then exits 8
 *   writes    writes the pipe, then sleeps as above
 *
 * The wait's limit is 10 s. Prints "ended <exit code>", or "running after
 * <faults> faults, <ms> ms" (the child is then killed); with --readable
 * "readable", "no message" or "timed out". Exit 0, 2 on bad usage.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "thread.h"

#define LIMIT_MS	10000
#define SLEEPS_MS	300

static void child(const char *mode, int wfd)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int i;

	if (p == MAP_FAILED)
		_exit(1);
	if (!strcmp(mode, "exits")) {
		for (i = 0; i < 4; i++)
			p[(size_t)i * page] = 1;
		_exit(7);
	}
	if (!strcmp(mode, "refaults")) {
		/* Each round drops the page: the next write faults again. */
		for (;;) {
			*(volatile char *)p = 1;
			madvise(p, page, MADV_DONTNEED);
		}
	}
	if (!strcmp(mode, "writes") && write(wfd, "m", 1) != 1)
		_exit(1);
	/* Ended by the parent's SIGKILL, or by itself after SLEEPS_MS. */
	usleep(SLEEPS_MS * 1000);
	_exit(8);
}

static const char *const modes[] = { "exits", "refaults", "sleeps", "writes" };

static bool known(const char *mode)
{
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(mode, modes[i]))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	bool readable = argc == 3 && !strcmp(argv[1], "--readable");
	const char *mode = argv[argc - 1];
	long long faults;
	uint64_t start;
	int status, ret, pipefd[2];
	pid_t pid;

	if ((argc != 2 && !readable) || !known(mode)) {
		fprintf(stderr, "usage: child-wait [--readable] exits|refaults|sleeps|writes\n");
		return 2;
	}
	if (pipe(pipefd)) {
		perror("pipe");
		return 1;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0)
		child(mode, pipefd[1]);
	/* Our write end stays open: the child's exit is no end of file. */
	start = now_ms();
	if (readable) {
		ret = fl_child_or_readable(pid, pipefd[0], LIMIT_MS);
		printf("%s\n", ret == 1 ? "readable" : ret == 0 ? "no message" :
		       ret == -ETIMEDOUT ? "timed out" : strerror(-ret));
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return 0;
	}
	ret = fl_child_wait_refaulting(pid, LIMIT_MS, &status, &faults);
	if (ret == 1) {
		printf("ended %d\n", WIFEXITED(status) ? WEXITSTATUS(status) :
		       128 + WTERMSIG(status));
		return 0;
	}
	printf("running after %lld faults, %llu ms\n", faults,
	       (unsigned long long)(now_ms() - start));
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return ret < 0 ? 1 : 0;
}
