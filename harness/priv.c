// SPDX-License-Identifier: GPL-2.0
/* faultline harness: privilege dropping in forked children (libcap). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "priv.h"
#include "fault.h"

static const char *const level_names[PRIV_LEVEL_NR] = {
	[PRIV_KEEP]		= "caller",
	[PRIV_NOBODY]		= "nobody",
	[PRIV_NOBODY_PTRACE]	= "nobody+CAP_SYS_PTRACE",
	[PRIV_ROOT_NO_PTRACE]	= "root-CAP_SYS_PTRACE",
};

const char *priv_level_name(enum priv_level level)
{
	return level < PRIV_LEVEL_NR ? level_names[level] : "?";
}

bool priv_has_cap(int cap)
{
	cap_flag_value_t v = CAP_CLEAR;
	cap_t c = cap_get_proc();

	if (!c)
		return false;
	if (cap_get_flag(c, cap, CAP_EFFECTIVE, &v))
		v = CAP_CLEAR;
	cap_free(c);
	return v == CAP_SET;
}

static int become_nobody(void)
{
	if (setgroups(0, NULL) || setresgid(FL_NOBODY_GID, FL_NOBODY_GID,
					     FL_NOBODY_GID))
		return -errno;
	if (setresuid(FL_NOBODY_UID, FL_NOBODY_UID, FL_NOBODY_UID))
		return -errno;
	return 0;
}

/*
 * Set @cap to @value in the sets of @c (@nsets of permitted, effective,
 * inheritable), apply @c to this process and free it. 0 or -errno.
 */
static int apply_caps(cap_t c, int cap, int nsets, cap_flag_value_t value)
{
	static const cap_flag_t sets[] = {
		CAP_PERMITTED, CAP_EFFECTIVE, CAP_INHERITABLE,
	};
	cap_value_t v = cap;
	int i, ret = 0;

	if (!c)
		return -errno;
	for (i = 0; cap >= 0 && i < nsets && !ret; i++)
		if (cap_set_flag(c, sets[i], 1, &v, value))
			ret = -errno;
	if (!ret && cap_set_proc(c))
		ret = -errno;
	cap_free(c);
	return ret;
}

/* Keep exactly @cap (or nothing when @cap < 0) in permitted+effective. */
static int set_only_cap(int cap)
{
	return apply_caps(cap_init(), cap, 2, CAP_SET);
}

int priv_drop_cap(int cap, bool bounding)
{
	int ret = apply_caps(cap_get_proc(), cap, 3, CAP_CLEAR);

	/* Also from the bounding set, so no exec can bring it back. */
	if (!ret && bounding && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0))
		ret = -errno;
	return ret;
}

int priv_drop(enum priv_level level)
{
	int ret;

	switch (level) {
	case PRIV_KEEP:
		return 0;
	case PRIV_NOBODY:
		/* Already unprivileged: nothing left to drop but capabilities. */
		if (geteuid() != 0)
			return set_only_cap(-1);
		ret = become_nobody();
		if (!ret && (geteuid() == 0 || priv_has_cap(CAP_SYS_PTRACE)))
			ret = -EPERM;
		return ret;
	case PRIV_NOBODY_PTRACE:
		if (geteuid() != 0)
			return -EPERM;
		/* Keep the permitted set across the uid change, then trim it. */
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0))
			return -errno;
		ret = become_nobody();
		if (!ret)
			ret = set_only_cap(CAP_SYS_PTRACE);
		if (!ret && (!priv_has_cap(CAP_SYS_PTRACE) ||
			     priv_has_cap(CAP_SYS_ADMIN) || geteuid() == 0))
			ret = -EPERM;
		return ret;
	case PRIV_ROOT_NO_PTRACE:
		if (geteuid() != 0)
			return -EPERM;
		ret = priv_drop_cap(CAP_SYS_PTRACE, true);
		if (!ret && priv_has_cap(CAP_SYS_PTRACE))
			ret = -EPERM;
		return ret;
	default:
		return -EINVAL;
	}
}

/* What the child sends: whether the drop worked, then the probe's answer. */
struct wire {
	int drop_err;
	struct priv_result res;
};

static int read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	size_t got = 0;

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = (int64_t)(deadline - now_ms());
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ECHILD;
		got += n;
	}
	return 0;
}

int priv_run(enum priv_level level, priv_fn fn, void *arg,
	     struct priv_result *res, int timeout_ms)
{
	struct wire w;
	int pipefd[2], status, ret;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	if (level != PRIV_KEEP && level != PRIV_NOBODY && geteuid() != 0)
		return -EPERM;
	if (pipe2(pipefd, O_CLOEXEC))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return ret;
	}
	if (pid == 0) {
		close(pipefd[0]);
		memset(&w, 0, sizeof(w));
		w.drop_err = priv_drop(level);
		if (!w.drop_err)
			w.res.value = fn(arg, w.res.note, sizeof(w.res.note));
		w.res.note[sizeof(w.res.note) - 1] = 0;
		if (write(pipefd[1], &w, sizeof(w)) != sizeof(w))
			_exit(2);
		_exit(0);
	}
	close(pipefd[1]);
	ret = read_full(pipefd[0], &w, sizeof(w), timeout_ms);
	close(pipefd[0]);
	if (ret == -ETIMEDOUT)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (ret) {
		if (WIFSIGNALED(status))
			snprintf(res->note, sizeof(res->note),
				 "probe child killed by signal %d%s",
				 WTERMSIG(status),
				 ret == -ETIMEDOUT ? " (timeout)" : "");
		else
			snprintf(res->note, sizeof(res->note),
				 "probe child exited %d without a result",
				 WEXITSTATUS(status));
		return -ECHILD;
	}
	if (w.drop_err) {
		snprintf(res->note, sizeof(res->note),
			 "cannot drop to %s: %s", priv_level_name(level),
			 strerror(-w.drop_err));
		return w.drop_err;
	}
	*res = w.res;
	return 0;
}
