// SPDX-License-Identifier: GPL-2.0
/*
 * faultline harness: requirement gates (see require.h). This file does not
 * include the kselftest harness (it defines globals), so it can live in
 * the shared library.
 */
#include <errno.h>
#include <sys/capability.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "priv.h"
#include "require.h"
#include "uffd.h"

int fl_kernel_features(uint64_t *features, uint64_t *ioctls)
{
	static int err = 1;
	static uint64_t f, i;

	if (err == 1)
		err = uffd_query(&f, &i);
	if (features)
		*features = f;
	if (ioctls)
		*ioctls = i;
	return err;
}

const char *fl_feature_list(uint64_t mask)
{
	static char buf[512];

	return uffd_mask_join(MASK_FEATURES, mask, ", ", buf, sizeof(buf));
}

const char *fl_ioctl_list(uint64_t mask)
{
	static char buf[512];

	return uffd_mask_join(MASK_IOCTLS, mask, ", ", buf, sizeof(buf));
}

const char *fl_lack_reason(enum uffd_mask_kind kind, uint64_t have,
			   uint64_t want)
{
	static char buf[600];
	char names[512];

	if ((have & want) == want)
		return NULL;
	uffd_mask_join(kind, want & ~have, ", ", names, sizeof(names));
	snprintf(buf, sizeof(buf), kind == MASK_IOCTLS ?
		 "REGISTER did not offer UFFDIO_%s" :
		 "kernel does not report UFFD_FEATURE_%s", names);
	return buf;
}

/* The Seccomp: field of /proc/self/status (0 none, 1 strict, 2 filter). */
static int seccomp_mode(void)
{
	char line[128];
	int mode = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Seccomp: %d", &mode) == 1)
			break;
	fclose(f);
	return mode;
}

/*
 * What the userfaultfd syscall answers to flags it must refuse. The
 * UFFD_USER_MODE_ONLY bit (in -1) passes the privilege gate on 5.11+, so a
 * kernel that sees the call says EINVAL and creates nothing; a seccomp
 * filter answers with its own errno before the kernel looks.
 */
static int bad_flags_answer(void)
{
	int fd = uffd_syscall(-1);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return fd;
}

const char *fl_no_uffd_reason(int err)
{
	static char buf[200];
	int mode;

	if (err == -EPERM || err == -ENOSYS) {
		mode = seccomp_mode();
		/* Filtered, and the kernel never saw the call. */
		if (mode && bad_flags_answer() == err) {
			snprintf(buf, sizeof(buf),
				 "userfaultfd blocked by seccomp (%s from the syscall, /proc/self/status Seccomp: %d)",
				 err == -EPERM ? "EPERM" : "ENOSYS", mode);
			return buf;
		}
	}
	switch (-err) {
	case ENOSYS:
		return "userfaultfd is not available (ENOSYS: no CONFIG_USERFAULTFD)";
	case EPERM:
		return "userfaultfd blocked (EPERM: vm.unprivileged_userfaultfd=0 without CAP_SYS_PTRACE)";
	default:
		snprintf(buf, sizeof(buf), "no userfaultfd could be created: %s",
			 strerror(-err));
		return buf;
	}
}

/*
 * Why a user-mode-only uffd could not be made. EINVAL while the same call
 * without UFFD_USER_MODE_ONLY succeeds: the kernel does not know the flag
 * (it came in 5.11); otherwise the general reason.
 */
const char *fl_user_mode_only_reason(int err)
{
	int fd;

	if (err != -EINVAL)
		return fl_no_uffd_reason(err);
	fd = uffd_syscall(O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return fl_no_uffd_reason(err);
	close(fd);
	return "kernel rejects UFFD_USER_MODE_ONLY (userfaultfd with it: EINVAL, without it: ok)";
}

/*
 * Whether this process holds CAP_SYS_PTRACE where the kernel looks for it
 * for EVENT_FORK: effective, in the initial user namespace (capable()).
 */
static bool has_init_ns_ptrace(void)
{
	char map[128] = "";
	unsigned long inside, outside, count;
	FILE *f;

	if (!priv_has_cap(CAP_SYS_PTRACE))
		return false;
	f = fopen("/proc/self/uid_map", "re");
	if (!f)
		return true;	/* no user namespaces at all */
	if (!fgets(map, sizeof(map), f))
		map[0] = 0;
	fclose(f);
	/* The initial namespace maps every uid to itself. */
	return sscanf(map, "%lu %lu %lu", &inside, &outside, &count) == 3 &&
	       inside == 0 && outside == 0 && count == 4294967295UL;
}

const char *fl_api_refusal_reason(uint64_t features, int err)
{
	static char buf[200];

	if (err != -EPERM || !(features & UFFD_FEATURE_EVENT_FORK))
		return NULL;
	/* With the capability the refusal is the kernel's fault. */
	if (has_init_ns_ptrace())
		return NULL;
	snprintf(buf, sizeof(buf),
		 "UFFD_FEATURE_%s refused with EPERM: this process lacks CAP_SYS_PTRACE (in the initial user namespace)",
		 UFFD_FEATURE_NAME(UFFD_FEATURE_EVENT_FORK));
	return buf;
}
