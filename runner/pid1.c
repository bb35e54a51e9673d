// SPDX-License-Identifier: GPL-2.0
/* faultline runner: PID 1 duties inside a VM. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "pid1.h"

/*
 * x86 VMs have QEMU's isa-debug-exit port, which carries our exit code. The
 * arm64 and riscv64 `virt` machines have no such port: reboot(RB_POWER_OFF)
 * goes through PSCI SYSTEM_OFF / SBI system reset, QEMU exits 0 and the
 * status is read from the stream's run-end frame.
 */
#if defined(__x86_64__) || defined(__i386__)
#include <sys/io.h>
#define HAVE_DEBUG_EXIT 1
#else
#define HAVE_DEBUG_EXIT 0
#endif

#define DEBUG_EXIT_PORT 0xf4
/* The initial PID namespace's inode number (PROC_PID_INIT_INO). */
#define INIT_PID_NS_INO 0xeffffffcUL

struct fs_mount {
	const char *src, *dir, *type;
	bool needed;	/* the run is incomplete without it */
};

int pid1_setup(void)
{
	static const struct fs_mount mounts[] = {
		{ "proc", "/proc", "proc", true },
		{ "sysfs", "/sys", "sysfs", true },
		{ "devtmpfs", "/dev", "devtmpfs", true },
		{ "tmpfs", "/tmp", "tmpfs", true },
		{ "tmpfs", "/dev/shm", "tmpfs", false },
		/* Absent when the kernel has no HUGETLBFS: cases skip. */
		{ "hugetlbfs", "/dev/hugepages", "hugetlbfs", false },
	};
	int ret = 0;
	size_t i;

	umask(022);
	for (i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++) {
		mkdir(mounts[i].dir, 0755);
		/* devtmpfs may be auto-mounted already (EBUSY). */
		if (mount(mounts[i].src, mounts[i].dir, mounts[i].type, 0, NULL) &&
		    errno != EBUSY && mounts[i].needed && !ret)
			ret = -errno;
	}
	return ret;
}

int pid1_console(void)
{
	int fd, i;

	for (i = 0; i <= 2; i++)
		if (fcntl(i, F_GETFD) < 0)
			break;
	if (i > 2)
		return 0;
	/* No initial console (no /dev/console in the initramfs): open it. */
	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		return -errno;
	for (i = 0; i <= 2; i++)
		if (fcntl(i, F_GETFD) < 0)
			dup2(fd, i);
	if (fd > 2)
		close(fd);
	return 0;
}

/*
 * PID 1 of a child PID namespace (a test on the host, a container) rather
 * than of a machine: leaving is just exiting, and port I/O would reach the
 * host's hardware.
 */
static bool in_child_pid_ns(void)
{
	struct stat st;

	return !stat("/proc/self/ns/pid", &st) && st.st_ino != INIT_PID_NS_INO;
}

void pid1_shutdown(int code)
{
	fflush(NULL);
	/*
	 * write() to a serial console returns once the bytes are queued;
	 * wait until they left the UART, or the exit below cuts the tail.
	 */
	tcdrain(STDOUT_FILENO);
	tcdrain(STDERR_FILENO);
	sync();
	if (in_child_pid_ns())
		_exit(code);
#if HAVE_DEBUG_EXIT
	if (!ioperm(DEBUG_EXIT_PORT, 1, 1)) {
		struct timespec grace = { .tv_sec = 3 };

		outb((unsigned char)code, DEBUG_EXIT_PORT);
		/*
		 * QEMU may act on the port write a little later; give it
		 * time, so the guest does not print its own halt messages
		 * after our stream ended.
		 */
		nanosleep(&grace, NULL);
	}
#endif
	/* No debug-exit device (or it did not stop us): power off. */
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}
