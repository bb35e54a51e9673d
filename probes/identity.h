/* SPDX-License-Identifier: GPL-2.0 */
/*
 * uffd-probe --as-user UID[:GID]: probe what a workload of another user
 * gets. The caller forks; the child takes on that user's identity for
 * good (groups from the group database, the gid, the uid, no capability
 * in any set, no_new_privs) and runs the probe and its renderer there.
 */
#ifndef FAULTLINE_PROBE_IDENTITY_H
#define FAULTLINE_PROBE_IDENTITY_H

#include <stddef.h>
#include <sys/types.h>

#include "probe.h"

struct identity {
	char spec[64];		/* as given: "nobody", "1000:1000" */
	uid_t uid;
	gid_t gid;
	int ngroups;		/* supplementary groups to set */
	gid_t groups[PROBE_GROUPS_MAX];
};

/*
 * Parse "USER[:GROUP]", each a number or a name. Without GROUP the gid is
 * the user's primary group, which needs a passwd entry. The supplementary
 * groups are the user's in the group database (none without a passwd
 * entry). 0, or -1 with the reason in @err.
 */
int identity_parse(const char *spec, struct identity *id, char *err,
		   size_t len);

/*
 * Become @id, irreversibly, in this process: no_new_privs, groups, gid,
 * an empty bounding and ambient set, uid, empty permitted, effective and
 * inheritable sets; then check that all of it holds. 0, or -errno with
 * the failed step in @err.
 */
int identity_assume(const struct identity *id, char *err, size_t len);

/*
 * Fork; the child assumes @id and exits with @fn(@arg). Returns the
 * child's exit status, or 2 (with a message) when it could not become
 * @id or died.
 */
int identity_run(const struct identity *id, int (*fn)(void *), void *arg);

#endif /* FAULTLINE_PROBE_IDENTITY_H */
