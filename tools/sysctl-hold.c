// SPDX-License-Identifier: GPL-2.0
/*
 * sysctl-hold PATH VALUE: set a sysctl the way the case binaries do
 * (harness/sysctl.c: the machine-wide lock, the record of the original,
 * the restore) and hold it until stdin ends or a signal comes; then put
 * the original back. The project's Python tests change sysctls through it,
 * so that they and the cases never record each other's temporary values.
 *
 * Prints "held <original>" once the value is set. Exit 0, 1 if it could
 * not be set (the message says why), 2 on bad usage.
 *
 * sysctl-hold --repair PATH: change nothing, only put back what a holder
 * that died (SIGKILL) left changed, if the lock is free (make mutants
 * after its units). Prints "value <now>". Exit 0, 1 if the lock is held
 * (its holder restores its own change) or PATH cannot be read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sysctl.h"

static int repair(const char *path)
{
	int err = sysctl_guard_repair(path);
	long now = err ? 0 : sysctl_read(path);

	if (err == -EBUSY) {
		fprintf(stderr, "sysctl-hold: %s is held by another process, which puts its original back itself\n",
			path);
		return 1;
	}
	if (err || now < 0) {
		fprintf(stderr, "sysctl-hold: %s: %s\n", path,
			strerror(err ? -err : (int)-now));
		return 1;
	}
	printf("value %ld\n", now);
	return 0;
}

int main(int argc, char **argv)
{
	char buf[64];
	char *end;
	long val;
	int err;

	if (argc == 3 && !strcmp(argv[1], "--repair"))
		return repair(argv[2]);
	if (argc != 3) {
		fprintf(stderr, "usage: sysctl-hold PATH VALUE | --repair PATH\n");
		return 2;
	}
	val = strtol(argv[2], &end, 10);
	if (*end || end == argv[2]) {
		fprintf(stderr, "sysctl-hold: bad value %s\n", argv[2]);
		return 2;
	}
	err = sysctl_guard_init(argv[1]);
	if (!err)
		err = sysctl_guard_set(val);
	if (err) {
		fprintf(stderr, "sysctl-hold: %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	printf("held %ld\n", sysctl_guard_original());
	fflush(stdout);
	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		;
	err = sysctl_guard_restore();
	if (err)
		fprintf(stderr, "sysctl-hold: restoring %s: %s\n", argv[1],
			strerror(-err));
	return err ? 1 : 0;
}
