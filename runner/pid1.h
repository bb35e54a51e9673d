/* SPDX-License-Identifier: GPL-2.0 */
/*
 * faultline runner: what it does when it is PID 1 inside a VM:
 * mount the pseudo file systems, and leave the VM when done.
 */
#ifndef FAULTLINE_PID1_H
#define FAULTLINE_PID1_H

#include <stdbool.h>

/*
 * Mount proc, sys, devtmpfs, tmpfs on /tmp and /dev/shm, hugetlbfs on
 * /dev/hugepages. 0 or the -errno of the first needed one that failed
 * (/dev/shm and hugetlbfs are optional).
 */
int pid1_setup(void);
/* Make sure fds 0-2 are open (on /dev/console). 0 or -errno. */
int pid1_console(void);
/*
 * Flush, drain the console and leave the VM: isa-debug-exit (port 0xf4)
 * when present, else power off. @code is reported by QEMU as
 * (code << 1) | 1. PID 1 of a child PID namespace just exits with @code.
 * Never returns.
 */
void pid1_shutdown(int code) __attribute__((noreturn));

#endif /* FAULTLINE_PID1_H */
