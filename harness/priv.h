/* SPDX-License-Identifier: GPL-2.0 */
/*
 * faultline harness: run a probe in a forked child with less privilege
 * than the caller. The caller (usually root) is never weakened: every drop
 * happens in the child, which reports one int and a short note back.
 */
#ifndef FAULTLINE_PRIV_H
#define FAULTLINE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Debian's nobody / nogroup. */
#define FL_NOBODY_UID	65534
#define FL_NOBODY_GID	65534

enum priv_level {
	PRIV_KEEP,		/* the caller's credentials */
	PRIV_NOBODY,		/* uid/gid nobody, no groups, no capabilities */
	PRIV_NOBODY_PTRACE,	/* uid nobody with CAP_SYS_PTRACE only */
	PRIV_ROOT_NO_PTRACE,	/* uid 0 with every capability but SYS_PTRACE */
	PRIV_LEVEL_NR,
};

const char *priv_level_name(enum priv_level level);

#define PRIV_NOTE_LEN 240

/*
 * The probe run in the child: returns an int for the parent (often 0 or
 * -errno) and may write a line of text into @note.
 */
typedef int (*priv_fn)(void *arg, char *note, size_t len);

struct priv_result {
	int value;			/* what the probe returned */
	char note[PRIV_NOTE_LEN];	/* what the probe wrote */
};

/*
 * Fork, drop to @level in the child, run @fn(@arg) there and collect its
 * result. Returns 0 when the probe ran, -EPERM when the caller cannot
 * drop to @level (not root), -ECHILD when the child died without a result
 * (note says how), or another -errno from the drop itself.
 * @timeout_ms bounds the wait; a child that overstays is killed.
 */
int priv_run(enum priv_level level, priv_fn fn, void *arg,
	     struct priv_result *res, int timeout_ms);

/* Drop the calling process to @level now (for children of children). */
int priv_drop(enum priv_level level);

/*
 * Clear @cap from this process's permitted, effective and inheritable
 * sets, and with @bounding from its bounding set too (that needs
 * CAP_SETPCAP). 0 or -errno.
 */
int priv_drop_cap(int cap, bool bounding);

/* Whether the calling process has @cap (a CAP_* value) effective. */
bool priv_has_cap(int cap);

#endif /* FAULTLINE_PRIV_H */
