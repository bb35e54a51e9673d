// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-probe: can this process get a userfaultfd, and if not, why.
 *
 * EPERM and ENOSYS alone say little: a seccomp filter can return either,
 * the unprivileged_userfaultfd rule returns EPERM, a kernel without
 * CONFIG_USERFAULTFD returns ENOSYS. The diagnosis compares the paths
 * (the user-mode-only flag bypasses the sysctl rule but not seccomp) and
 * uses side evidence (seccomp mode, the device node, the kernel config).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/stat.h>
#include <unistd.h>

#include "priv.h"
#include "probe.h"

/* Read a small file into @buf (NUL-terminated); bytes or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	else
		buf[n] = 0;
	close(fd);
	return n;
}

const char *const cap_set_names[CAP_SET_NR] = {
	"inheritable", "permitted", "effective", "bounding", "ambient",
};

/* The value after "\n<key>:" in a /proc status text, NULL if none. */
static const char *status_field(const char *buf, const char *key)
{
	char pat[32];
	const char *s;

	snprintf(pat, sizeof(pat), "\n%s:", key);
	s = strstr(buf, pat);
	return s ? s + strlen(pat) : NULL;
}

/* Seccomp, no_new_privs and the capability sets of this process. */
static void read_status(struct probe *p)
{
	static const char *const cap_keys[CAP_SET_NR] = {
		"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
	};
	char buf[4096];
	const char *s;
	int i;

	p->seccomp_mode = -1;
	p->seccomp_filters = -1;
	p->no_new_privs = -1;
	if (read_small("/proc/self/status", buf, sizeof(buf)) <= 0)
		return;
	if ((s = status_field(buf, "Seccomp")))
		p->seccomp_mode = atoi(s);
	if ((s = status_field(buf, "Seccomp_filters")))
		p->seccomp_filters = atoi(s);
	if ((s = status_field(buf, "NoNewPrivs")))
		p->no_new_privs = atoi(s);
	p->caps_known = true;
	for (i = 0; i < CAP_SET_NR; i++) {
		s = status_field(buf, cap_keys[i]);
		if (s)
			p->cap_sets[i] = strtoull(s, NULL, 16);
		else
			p->caps_known = false;
	}
}

static enum tri read_cap_ptrace(void)
{
	cap_flag_value_t val = CAP_CLEAR;
	cap_t caps = cap_get_proc();
	enum tri t = TRI_UNKNOWN;

	if (!caps)
		return t;
	if (!cap_get_flag(caps, CAP_SYS_PTRACE, CAP_EFFECTIVE, &val))
		t = val == CAP_SET ? TRI_YES : TRI_NO;
	cap_free(caps);
	return t;
}

int probe_drop_ptrace(struct probe *p)
{
	int ret = priv_drop_cap(CAP_SYS_PTRACE, false);

	if (ret)
		verdict_set(&p->unpriv_drop, TRI_NO, -ret, "error",
			    "could not drop CAP_SYS_PTRACE: %s",
			    strerror(-ret));
	else
		verdict_set(&p->unpriv_drop, TRI_YES, 0, "ok",
			    "CAP_SYS_PTRACE dropped from all sets before probing");
	p->unprivileged = !ret;
	return ret;
}

void probe_env(struct probe *p)
{
	char buf[32];
	ssize_t n;

	uname(&p->uts);
	p->uid = getuid();
	p->euid = geteuid();
	p->gid = getgid();
	p->egid = getegid();
	p->ngroups = getgroups(PROBE_GROUPS_MAX, p->groups);
	n = read_small("/proc/sys/vm/unprivileged_userfaultfd", buf,
		       sizeof(buf));
	p->sysctl = n > 0 ? atoi(buf) : -1;
	p->sysctl_err = n < 0 ? (int)-n : 0;
	p->cap_ptrace = read_cap_ptrace();
	read_status(p);
	p->dev_stat_err = stat(p->dev_node, &p->dev_st) ? errno : 0;
}

static bool has_filter(const struct probe *p)
{
	return p->seccomp_mode == 2 || p->seccomp_filters > 0;
}

/*
 * Evidence that the kernel has userfaultfd although the syscall said
 * ENOSYS: the device node, or the config. NULL if there is none.
 */
static const char *kernel_has_uffd(const struct probe *p)
{
	if (!p->dev_stat_err && S_ISCHR(p->dev_st.st_mode))
		return "the device node exists";
	if (config_enabled(p, "CONFIG_USERFAULTFD") == 1)
		return "the kernel config has CONFIG_USERFAULTFD=y";
	return NULL;
}

/*
 * The syscall with an invalid flag next to UFFD_USER_MODE_ONLY: since 5.11
 * this is EINVAL whatever the privilege (the flag passes the sysctl rule,
 * the extra bit fails validation), before 5.11 the flag itself is invalid.
 * No fd is ever created. ENOSYS means not implemented (or seccomp).
 */
static void probe_implemented(struct probe *p)
{
	int ret = uffd_syscall(UFFD_USER_MODE_ONLY | 0x2);
	int err = ret < 0 ? -ret : 0;
	const char *ev;

	if (ret >= 0) {
		close(ret);
		verdict_set(&p->implemented, TRI_YES, 0, "ok",
			    "invalid flags were accepted (fd closed)");
	} else if (err == EINVAL) {
		verdict_set(&p->implemented, TRI_YES, err, "ok",
			    "invalid flags rejected with EINVAL");
	} else if (has_filter(p) && (ev = kernel_has_uffd(p))) {
		verdict_set(&p->implemented, TRI_YES, err, "seccomp",
			    "%s comes from the seccomp filter: %s",
			    errno_name(err), ev);
	} else if (has_filter(p)) {
		verdict_set(&p->implemented, TRI_UNKNOWN, err, "seccomp",
			    "%s from a process with a seccomp filter: the filter may answer for the kernel",
			    errno_name(err));
	} else if (err == ENOSYS) {
		verdict_set(&p->implemented, TRI_NO, err, "no_kernel_support",
			    "ENOSYS without any seccomp filter: the kernel does not implement userfaultfd");
	} else if (err == EPERM) {
		verdict_set(&p->implemented, TRI_YES, err, "sysctl",
			    "EPERM before flag validation (kernel 5.2-5.10 privilege rule)");
	} else {
		verdict_set(&p->implemented, TRI_UNKNOWN, err, "unknown",
			    "unexpected %s", errno_name(err));
	}
}

static void describe_node(const struct probe *p, char *buf, size_t len)
{
	const struct stat *st = &p->dev_st;

	snprintf(buf, len, "%s is mode %04o owner %u:%u; this process is uid %u gid %u",
		 p->dev_node, st->st_mode & 07777, st->st_uid, st->st_gid,
		 p->euid, p->egid);
}

/* Diagnosis shared by both syscall paths. */
static void diagnose_syscall(struct probe *p, struct verdict *v, int err,
			     int other_err, bool user_only)
{
	const char *ev;

	if (err == ENOSYS) {
		if (!has_filter(p)) {
			if (config_enabled(p, "CONFIG_USERFAULTFD") == 0)
				verdict_set(v, TRI_NO, err, "no_kernel_support",
					    "kernel built without CONFIG_USERFAULTFD");
			else
				verdict_set(v, TRI_NO, err, "no_kernel_support",
					    "the running kernel does not implement userfaultfd (CONFIG_USERFAULTFD off, or a sandbox kernel such as gVisor)");
		} else if ((ev = kernel_has_uffd(p))) {
			verdict_set(v, TRI_NO, err, "seccomp",
				    "a seccomp filter fakes ENOSYS: %s", ev);
		} else if (config_enabled(p, "CONFIG_USERFAULTFD") == 0) {
			verdict_set(v, TRI_NO, err, "no_kernel_support",
				    "kernel built without CONFIG_USERFAULTFD");
		} else {
			verdict_set(v, TRI_NO, err, "unknown",
				    "ENOSYS with a seccomp filter active: either the filter or a kernel without CONFIG_USERFAULTFD");
		}
		return;
	}
	if (user_only && err == EINVAL) {
		verdict_set(v, TRI_NO, err, "unsupported",
			    "kernel predates UFFD_USER_MODE_ONLY (Linux 5.11)");
		return;
	}
	/* Seccomp matches the syscall whatever its flags. */
	if (has_filter(p) && (other_err == err || p->implemented.err == err)) {
		verdict_set(v, TRI_NO, err, "seccomp",
			    "a seccomp filter denies the syscall (%s whatever the flags; Seccomp: %d, %d filter(s))",
			    errno_name(err), p->seccomp_mode, p->seccomp_filters);
		return;
	}
	/* The privilege rule: the user-mode-only flag passes it (5.11+). */
	if (err == EPERM && !user_only && other_err == 0) {
		verdict_set(v, TRI_NO, err, "sysctl",
			    "vm.unprivileged_userfaultfd=%d and no CAP_SYS_PTRACE: only UFFD_USER_MODE_ONLY fds are allowed",
			    p->sysctl);
		return;
	}
	/* Before 5.11 the rule came first, whatever the flags. */
	if (err == EPERM && !has_filter(p) && p->sysctl == 0 &&
	    p->cap_ptrace != TRI_YES) {
		verdict_set(v, TRI_NO, err, "sysctl",
			    user_only ?
			    "this kernel applies vm.unprivileged_userfaultfd=0 to user-mode-only fds too (Linux < 5.11)" :
			    "vm.unprivileged_userfaultfd=0 and no CAP_SYS_PTRACE");
		return;
	}
	if (err == EPERM && has_filter(p)) {
		verdict_set(v, TRI_NO, err, "seccomp",
			    "EPERM although the privilege rule allows it (sysctl=%d, CAP_SYS_PTRACE %s) and a seccomp filter is active",
			    p->sysctl, tri_name(p->cap_ptrace));
		return;
	}
	if (err == EACCES || err == EPERM) {
		verdict_set(v, TRI_NO, err, "lsm",
			    "%s with no seccomp filter and the privilege rule satisfied: a security module (SELinux, AppArmor) denies it",
			    errno_name(err));
		return;
	}
	if (err == EMFILE || err == ENFILE || err == ENOMEM) {
		verdict_set(v, TRI_NO, err, "resources", "%s", strerror(err));
		return;
	}
	verdict_set(v, TRI_NO, err, "unknown", "unexpected %s: %s",
		    errno_name(err), strerror(err));
}

static void diagnose_dev(struct probe *p, int err, const char *stage)
{
	struct verdict *v = &p->access[UFFD_PATH_DEV];
	char node[160];

	if (!strcmp(stage, "ioctl")) {
		if (err == ENOTTY || err == EINVAL)
			verdict_set(v, TRI_NO, err, "unsupported",
				    "%s does not know USERFAULTFD_IOC_NEW (kernel < 6.1)",
				    p->dev_node);
		else
			verdict_set(v, TRI_NO, err, "unknown",
				    "USERFAULTFD_IOC_NEW failed: %s", strerror(err));
		return;
	}
	if (err == ENOENT) {
		verdict_set(v, TRI_NO, err, "no_device",
			    "%s does not exist (kernel < 6.1, CONFIG_USERFAULTFD off, or not created in this container)",
			    p->dev_node);
	} else if (err == EACCES) {
		describe_node(p, node, sizeof(node));
		verdict_set(v, TRI_NO, err, "device_mode",
			    "%s: no read/write access", node);
	} else if (err == EPERM) {
		verdict_set(v, TRI_NO, err, "device_denied",
			    "open denied with EPERM (device cgroup, LSM or seccomp)");
	} else if (err == ENXIO || err == ENODEV) {
		verdict_set(v, TRI_NO, err, "no_kernel_support",
			    "%s exists but no driver answers (kernel without userfaultfd)",
			    p->dev_node);
	} else {
		verdict_set(v, TRI_NO, err, "unknown", "open %s: %s",
			    p->dev_node, strerror(err));
	}
}

static void keep_fd(struct probe *p, int fd, enum uffd_path path)
{
	/* Prefer an fd that can resolve kernel-mode faults. */
	if (p->work_fd < 0 || p->work_path == UFFD_PATH_SYSCALL_USER_ONLY) {
		if (p->work_fd >= 0)
			close(p->work_fd);
		p->work_fd = fd;
		p->work_path = path;
	} else {
		close(fd);
	}
}

void probe_access(struct probe *p)
{
	int sys, umo, dev;
	const char *stage;

	probe_implemented(p);
	sys = uffd_create(UFFD_PATH_SYSCALL, O_NONBLOCK);
	umo = uffd_create(UFFD_PATH_SYSCALL_USER_ONLY, O_NONBLOCK);
	dev = uffd_dev_open(p->dev_node, O_CLOEXEC | O_NONBLOCK, &stage);

	if (sys >= 0)
		verdict_set(&p->access[UFFD_PATH_SYSCALL], TRI_YES, 0, "ok",
			    "fd created; resolves kernel-mode faults too");
	else
		diagnose_syscall(p, &p->access[UFFD_PATH_SYSCALL], -sys,
				 umo < 0 ? -umo : 0, false);
	if (umo >= 0)
		verdict_set(&p->access[UFFD_PATH_SYSCALL_USER_ONLY], TRI_YES,
			    0, "ok", "fd created; user-mode faults only");
	else
		diagnose_syscall(p, &p->access[UFFD_PATH_SYSCALL_USER_ONLY],
				 -umo, sys < 0 ? -sys : 0, true);
	if (dev >= 0)
		verdict_set(&p->access[UFFD_PATH_DEV], TRI_YES, 0, "ok",
			    "fd created through %s; resolves kernel-mode faults too",
			    p->dev_node);
	else
		diagnose_dev(p, -dev, stage);

	p->work_fd = -1;
	if (sys >= 0)
		keep_fd(p, sys, UFFD_PATH_SYSCALL);
	if (dev >= 0)
		keep_fd(p, dev, UFFD_PATH_DEV);
	if (umo >= 0)
		keep_fd(p, umo, UFFD_PATH_SYSCALL_USER_ONLY);

	if (sys >= 0 || dev >= 0)
		verdict_set(&p->kernel_faults, TRI_YES, 0, "ok",
			    "a full fd is available (%s)",
			    sys >= 0 ? "syscall" : p->dev_node);
	else if (umo >= 0)
		verdict_set(&p->kernel_faults, TRI_NO, -sys, "user_mode_only",
			    "only UFFD_USER_MODE_ONLY fds: faults taken in kernel mode (read(2), KVM, vhost, O_DIRECT) fail with EFAULT");
	else
		verdict_set(&p->kernel_faults, TRI_NO, -sys, "no_fd",
			    "no userfaultfd can be created");
}
