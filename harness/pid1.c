// SPDX-License-Identifier: GPL-2.0
/* faultline harness: PID 1 duties inside a VM. */
#include <errno.h>
#include <stdio.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pid1.h"

#define DEBUG_EXIT_PORT 0xf4

struct fs_mount {
	const char *src, *dir, *type;
};

int pid1_setup(void)
{
	static const struct fs_mount mounts[] = {
		{ "proc", "/proc", "proc" },
		{ "sysfs", "/sys", "sysfs" },
		{ "devtmpfs", "/dev", "devtmpfs" },
		{ "tmpfs", "/tmp", "tmpfs" },
		{ "hugetlbfs", "/dev/hugepages", "hugetlbfs" },
	};
	int ret = 0;
	size_t i;

	for (i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++) {
		mkdir(mounts[i].dir, 0755);
		/* devtmpfs may be auto-mounted already; hugetlbfs may be absent. */
		if (mount(mounts[i].src, mounts[i].dir, mounts[i].type, 0, NULL) &&
		    errno != EBUSY && !ret && i < 4)
			ret = -errno;
	}
	return ret;
}

void pid1_shutdown(int code)
{
	fflush(NULL);
	sync();
	if (!ioperm(DEBUG_EXIT_PORT, 1, 1))
		outb((unsigned char)code, DEBUG_EXIT_PORT);
	/* No debug-exit device (or it did not stop us): power off. */
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}
