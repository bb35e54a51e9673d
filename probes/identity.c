// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-probe: --as-user (see identity.h). Everything that could weaken
 * the caller happens in a forked child, which never gets its privileges
 * back: the probe there sees exactly what a process started as that user
 * without capabilities would see (device node modes, the sysctl rule,
 * EVENT_FORK's CAP_SYS_PTRACE).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "identity.h"

/* A uid or gid as a decimal number; false if @s is not one. */
static bool parse_id(const char *s, unsigned int *out)
{
	unsigned long v;
	char *end;

	if (!*s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	/* (uid_t)-1 means "unchanged" to the set*id calls: not an id. */
	if (errno || *end || v >= (unsigned int)-1)
		return false;
	*out = (unsigned int)v;
	return true;
}

static int parse_group(const char *s, gid_t *gid, char *err, size_t len)
{
	struct group *gr;
	unsigned int n;

	if (parse_id(s, &n)) {
		*gid = n;
		return 0;
	}
	gr = getgrnam(s);
	if (!gr) {
		strfmt(err, len, "no group named '%s'", s);
		return -1;
	}
	*gid = gr->gr_gid;
	return 0;
}

int identity_parse(const char *spec, struct identity *id, char *err,
		   size_t len)
{
	char user[64], *colon;
	struct passwd *pw;
	unsigned int n;

	memset(id, 0, sizeof(*id));
	if (strlen(spec) >= sizeof(id->spec) || !*spec) {
		strfmt(err, len, "expected USER[:GROUP], a number or a name each");
		return -1;
	}
	snprintf(id->spec, sizeof(id->spec), "%s", spec);
	snprintf(user, sizeof(user), "%s", spec);
	colon = strchr(user, ':');
	if (colon)
		*colon = 0;
	if (parse_id(user, &n)) {
		id->uid = n;
		pw = getpwuid(n);
	} else {
		pw = *user ? getpwnam(user) : NULL;
		if (!pw) {
			strfmt(err, len, "no user named '%s'", user);
			return -1;
		}
		id->uid = pw->pw_uid;
	}
	if (colon && parse_group(colon + 1, &id->gid, err, len))
		return -1;
	if (!colon && !pw) {
		strfmt(err, len, "uid %u has no passwd entry, so no primary group: give one (--as-user %u:GID)",
		       id->uid, id->uid);
		return -1;
	}
	if (!colon)
		id->gid = pw->pw_gid;
	if (!pw)
		return 0;	/* not in the group database: no groups */
	id->ngroups = PROBE_GROUPS_MAX;
	if (getgrouplist(pw->pw_name, pw->pw_gid, id->groups,
			 &id->ngroups) < 0) {
		strfmt(err, len, "user '%s' is in more than %d groups",
		       pw->pw_name, PROBE_GROUPS_MAX);
		return -1;
	}
	return 0;
}

static int step_failed(const char *step, char *err, size_t len)
{
	int e = errno ? errno : EPERM;

	strfmt(err, len, "%s: %s%s", step, strerror(e),
	       e == EPERM ? " (--as-user needs root: CAP_SETUID, CAP_SETGID, CAP_SETPCAP)" : "");
	return -e;
}

/* Empty the bounding set (needs CAP_SETPCAP, so before the uid changes). */
static int drop_bounding(void)
{
	cap_value_t cap, last = cap_max_bits();

	for (cap = 0; cap < last; cap++)
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) > 0 &&
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0))
			return -1;
	return 0;
}

/* Whether this process holds no capability in any set. */
static bool no_capabilities(void)
{
	cap_value_t cap, last = cap_max_bits();
	cap_t now = cap_get_proc(), none = cap_init();
	bool empty = now && none && !cap_compare(now, none);

	cap_free(now);
	cap_free(none);
	for (cap = 0; empty && cap < last; cap++)
		empty = prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 0 &&
			prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0,
			      0) <= 0;
	return empty;
}

static bool is_identity(const struct identity *id)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;

	return !getresuid(&r, &e, &s) && !getresgid(&rg, &eg, &sg) &&
	       r == id->uid && e == id->uid && s == id->uid &&
	       rg == id->gid && eg == id->gid && sg == id->gid;
}

int identity_assume(const struct identity *id, char *err, size_t len)
{
	cap_t none;
	int ret;

	errno = 0;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return step_failed("no_new_privs", err, len);
	if (setgroups((size_t)id->ngroups, id->groups))
		return step_failed("setgroups", err, len);
	if (setresgid(id->gid, id->gid, id->gid))
		return step_failed("setresgid", err, len);
	if (drop_bounding())
		return step_failed("dropping the bounding set", err, len);
	/* Ambient capabilities exist since 4.3: EINVAL before, none to drop. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) &&
	    errno != EINVAL)
		return step_failed("clearing the ambient set", err, len);
	if (setresuid(id->uid, id->uid, id->uid))
		return step_failed("setresuid", err, len);
	none = cap_init();
	ret = none ? cap_set_proc(none) : -1;
	cap_free(none);
	if (ret)
		return step_failed("clearing the capability sets", err, len);
	if (!is_identity(id) || !no_capabilities()) {
		errno = EPERM;
		strfmt(err, len, "the identity did not stick (ids or capabilities left)");
		return -EPERM;
	}
	return 0;
}

int identity_run(const struct identity *id, int (*fn)(void *), void *arg)
{
	char err[REASON_LEN];
	int status, code;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "uffd-probe: --as-user: fork: %s\n",
			strerror(errno));
		return 2;
	}
	if (pid == 0) {
		if (identity_assume(id, err, sizeof(err))) {
			fprintf(stderr, "uffd-probe: --as-user %s: %s\n",
				id->spec, err);
			fflush(NULL);
			_exit(2);
		}
		code = fn(arg);
		fflush(NULL);
		_exit(code);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "uffd-probe: --as-user: waitpid: %s\n",
				strerror(errno));
			return 2;
		}
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	fprintf(stderr, "uffd-probe: --as-user %s: the probe died (signal %d)\n",
		id->spec, WTERMSIG(status));
	return 2;
}
