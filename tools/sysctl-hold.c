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
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sysctl.h"

int main(int argc, char **argv)
{
	char buf[64];
	char *end;
	long val;
	int err;

	if (argc != 3) {
		fprintf(stderr, "usage: sysctl-hold PATH VALUE\n");
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
