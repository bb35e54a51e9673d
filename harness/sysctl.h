/* SPDX-License-Identifier: GPL-2.0 */
/*
 * faultline harness: change a sysctl for a test and put it back.
 *
 * sysctl_guard_init() runs once in the top-level process, before any test
 * forks: it names the sysctl, reads its value (under the lock, below) and
 * arms the restore at exit and on fatal signals. A test process then calls
 * sysctl_guard_set() and sysctl_guard_restore().
 *
 * Machine-wide, one process changes a guarded sysctl at a time:
 * sysctl_guard_set() takes /run/faultline-sysctl-<name>.lock (waiting for
 * another holder up to 20 s, then -EBUSY), records the value it found there
 * as the original (also in the lock file) and keeps the lock until it
 * exits. The restore writes that recorded value, never one read later, so
 * neither a test killed half-way nor another run's temporary value can
 * make anyone "restore" the wrong one; a holder that was SIGKILLed is
 * repaired from its record by the next process that takes the lock.
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

/* Name @path, read its value and arm the restore (exit, signals). 0 or -errno. */
int sysctl_guard_init(const char *path);
/* The value to restore: found by the last sysctl_guard_set(), else at init. */
long sysctl_guard_original(void);
/*
 * Set the guarded sysctl, holding its lock (arms the restore in this
 * process too). 0, -EBUSY (another process held the lock too long) or
 * -errno.
 */
int sysctl_guard_set(long val);
/*
 * Put the original value back (idempotent); in a process that changed
 * nothing, repair what a dead holder left, if the lock is free. 0 or -errno.
 */
int sysctl_guard_restore(void);
/*
 * For a process that changes nothing itself (make mutants, after its
 * units): if @path's lock is free, take it and put back what a holder
 * that died left changed. 0 (repaired, or nothing to repair), -EBUSY (a
 * live process holds it: its own restore puts the original back), or
 * -errno.
 */
int sysctl_guard_repair(const char *path);

#endif /* FAULTLINE_SYSCTL_H */
