/* SPDX-License-Identifier: GPL-2.0 */
/*
 * faultline harness: what the runner does when it is PID 1 inside a VM:
 * mount the pseudo file systems, and leave the VM when done.
 */
#ifndef FAULTLINE_PID1_H
#define FAULTLINE_PID1_H

/* Mount proc, sys, devtmpfs, tmpfs on /tmp, hugetlbfs. 0 or -errno. */
int pid1_setup(void);
/*
 * Flush and leave the VM: isa-debug-exit (port 0xf4) when present, else
 * power off. @code is reported by QEMU as (code << 1) | 1. Never returns.
 */
void pid1_shutdown(int code) __attribute__((noreturn));

#endif /* FAULTLINE_PID1_H */
