// SPDX-License-Identifier: GPL-2.0
/* faultline harness: who holds a lock file (see lockfile.h). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "lockfile.h"

long lockfile_holder(int fd)
{
	char line[256], type[16];
	unsigned int maj, min;
	unsigned long ino;
	struct stat st;
	long pid = 0, p;
	FILE *f;

	if (fstat(fd, &st))
		return 0;
	f = fopen("/proc/locks", "re");
	if (!f)
		return 0;
	/* "1: FLOCK  ADVISORY  WRITE 1234 00:19:567 0 EOF"; "->" waits. */
	while (!pid && fgets(line, sizeof(line), f)) {
		if (strstr(line, "->"))
			continue;
		if (sscanf(line, "%*d: %15s %*s %*s %ld %x:%x:%lu", type, &p,
			   &maj, &min, &ino) == 5 && !strcmp(type, "FLOCK") &&
		    ino == st.st_ino && maj == major(st.st_dev) &&
		    min == minor(st.st_dev))
			pid = p;
	}
	fclose(f);
	return pid;
}
