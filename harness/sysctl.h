/* SPDX-License-Identifier: GPL-2.0 */
/*
 * faultline harness: change a sysctl for a test and put it back.
 *
 * sysctl_guard_init() runs once in the top-level process, before any test
 * forks: it records the original value and restores it at exit and on
 * fatal signals. A test process then calls sysctl_guard_set() and
 * sysctl_guard_restore(); the restore writes the value recorded at init,
 * never a value read later, so a test killed half-way (timeout) cannot make
 * the next one "restore" the wrong value.
 */
#ifndef FAULTLINE_SYSCTL_H
#define FAULTLINE_SYSCTL_H

/* The sysctl the access cases change. */
#define FL_SYSCTL_UNPRIV_UFFD "/proc/sys/vm/unprivileged_userfaultfd"

/* Read a numeric sysctl file; the value, or -errno. */
long sysctl_read(const char *path);
/*
 * Write a numeric sysctl file; 0 or -errno. Async-signal-safe (no stdio,
 * errno kept): restore handlers call it from signal handlers.
 */
int sysctl_write(const char *path, long val);

/* Record @path's value and arm the restore (exit, signals). 0 or -errno. */
int sysctl_guard_init(const char *path);
/* The value recorded by sysctl_guard_init(), or -errno. */
long sysctl_guard_original(void);
/* Set the guarded sysctl (arms the restore in this process too). */
int sysctl_guard_set(long val);
/* Put the original value back (idempotent). 0 or -errno. */
int sysctl_guard_restore(void);

#endif /* FAULTLINE_SYSCTL_H */
