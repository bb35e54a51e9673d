/* SPDX-License-Identifier: GPL-2.0 */
/*
 * faultline harness: the lock files that guard machine-wide state (the
 * huge page pool, a sysctl a case flips). One process holds a lock at a
 * time (flock); the file itself is the record of what the holder changed,
 * so that the next holder can put back what a SIGKILLed one could not.
 */
#ifndef FAULTLINE_LOCKFILE_H
#define FAULTLINE_LOCKFILE_H

/* The pid holding a flock on @fd's file (from /proc/locks), or 0. */
long lockfile_holder(int fd);

#endif /* FAULTLINE_LOCKFILE_H */
