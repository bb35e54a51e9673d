// SPDX-License-Identifier: GPL-2.0
/*
 * child-wait MODE: harness/thread.c's fl_child_wait_refaulting() on a
 * child that behaves as MODE says, for the project's tests:
 *
 *   exits     touches a few pages, then exits 7
 *   refaults  faults on one page again and again and never exits (what a
 *             write the kernel never lets complete looks like from outside)
 *   sleeps    sleeps without faulting (only the timeout may end the wait)
 *
 * The wait's limit is 10 s. Prints "ended <exit code>", or "running after
 * <faults> faults, <ms> ms" (the child is then killed). Exit 0, 2 on bad
 * usage.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "thread.h"

#define LIMIT_MS	10000
#define SLEEPS_MS	300

static void child(const char *mode)
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
	/* sleeps: ended by the parent's SIGKILL, or by itself after SLEEPS_MS. */
	usleep(SLEEPS_MS * 1000);
	_exit(8);
}

int main(int argc, char **argv)
{
	long long faults;
	uint64_t start;
	int status, ret;
	pid_t pid;

	if (argc != 2 || (strcmp(argv[1], "exits") && strcmp(argv[1], "refaults") &&
			  strcmp(argv[1], "sleeps"))) {
		fprintf(stderr, "usage: child-wait exits|refaults|sleeps\n");
		return 2;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0)
		child(argv[1]);
	start = now_ms();
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
