// SPDX-License-Identifier: GPL-2.0
/*
 * A stand-in case binary for the runner's tests. What it does is chosen by
 * the name it is run under (the tests make symlinks to it):
 *
 *   pass          a short, complete TAP stream
 *   hang          TAP header, then hangs with two children: one in its
 *                 process group, one in a group of its own (as kselftest's
 *                 test children are); prints "# pids: main a b"
 *   hang-noterm   the same, but ignores SIGTERM
 *   crash         one result, then SIGSEGV
 *   trunc         plan of 3, one result, a cut line, exit 1
 *   stderr        lines on stderr with and without "# ", last one unended
 *   kmsg          writes "faultline-test: WARNING: injected <token>" to
 *                 /dev/kmsg (<token>: $FAULTLINE_FAKE_TOKEN)
 *   leak          exits 0 at once, leaving a child in its group and one in
 *                 a new session; prints "# pids: main a b"
 *   flood         many lines and one 2.5 MiB line
 *   forge         prints a line that looks like a frame
 *
 * Every process it leaves behind dies by itself after 30 s (alarm), so a
 * runner bug cannot litter a shared host for long.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define LIFETIME_S 30

static pid_t sleeper(bool own_group, bool new_session)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	if (new_session)
		setsid();
	else if (own_group)
		setpgid(0, 0);
	alarm(LIFETIME_S);
	for (;;)
		pause();
}

static int hang(bool ignore_term)
{
	pid_t a, b;

	if (ignore_term)
		signal(SIGTERM, SIG_IGN);
	alarm(LIFETIME_S);
	a = sleeper(false, false);
	b = sleeper(true, false);
	printf("TAP version 13\n1..1\n# pids: %d %d %d\n", (int)getpid(),
	       (int)a, (int)b);
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}

static int leak(void)
{
	pid_t a = sleeper(false, false), b = sleeper(false, true);

	printf("TAP version 13\n1..1\n# pids: %d %d %d\nok 1 leak\n",
	       (int)getpid(), (int)a, (int)b);
	return 0;
}

static int crash(void)
{
	struct rlimit none = { 0, 0 };

	/* No core file on the host for a deliberate crash. */
	setrlimit(RLIMIT_CORE, &none);
	printf("TAP version 13\n1..2\nok 1 before_crash\n");
	fflush(stdout);
	raise(SIGSEGV);
	return 0;
}

static int inject_kmsg(void)
{
	const char *token = getenv("FAULTLINE_FAKE_TOKEN");
	char line[256];
	int fd = open("/dev/kmsg", O_WRONLY);
	int n;

	printf("TAP version 13\n1..1\n");
	if (fd < 0) {
		printf("not ok 1 kmsg # cannot open /dev/kmsg\n");
		return 1;
	}
	n = snprintf(line, sizeof(line), "faultline-test: WARNING: injected %s\n",
		     token ? token : "");
	if (write(fd, line, (size_t)n) != n) {
		printf("not ok 1 kmsg # write failed\n");
		return 1;
	}
	close(fd);
	printf("ok 1 kmsg\n");
	return 0;
}

static int flood(void)
{
	int i;

	printf("TAP version 13\n1..1\n");
	for (i = 0; i < 20000; i++)
		printf("# line %d\n", i);
	/* 2.5 MiB on one line: longer than the runner's limit (1 MiB). */
	for (i = 0; i < 5 * 512 * 1024; i++)
		putchar('x');
	printf("\nok 1 flood\n");
	return 0;
}

int main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/');

	(void)argc;
	name = name ? name + 1 : argv[0];
	if (!strcmp(name, "pass")) {
		printf("TAP version 13\n1..2\nok 1 fake.one\nok 2 fake.two # SKIP no reason\n");
		return 0;
	}
	if (!strcmp(name, "hang"))
		return hang(false);
	if (!strcmp(name, "hang-noterm"))
		return hang(true);
	if (!strcmp(name, "crash"))
		return crash();
	if (!strcmp(name, "trunc")) {
		printf("TAP version 13\n1..3\nok 1 first\nok 2 seco");
		return 1;
	}
	if (!strcmp(name, "stderr")) {
		printf("TAP version 13\n1..1\nok 1 stderr\n");
		fflush(stdout);
		fprintf(stderr, "plain complaint\n# already a diagnostic\nlast words");
		return 0;
	}
	if (!strcmp(name, "kmsg"))
		return inject_kmsg();
	if (!strcmp(name, "leak"))
		return leak();
	if (!strcmp(name, "flood"))
		return flood();
	if (!strcmp(name, "forge")) {
		printf("TAP version 13\n@@faultline binary-end {\"name\":\"forged\"}\n1..0\n");
		return 0;
	}
	fprintf(stderr, "fake_case: unknown mode '%s'\n", name);
	return 64;
}
