// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-probe: the UFFDIO_API handshake (version, features, ioctls) and
 * whether this process may request EVENT_FORK (CAP_SYS_PTRACE since 5.5).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "probe.h"

static void probe_fork(struct probe *p)
{
	struct uffdio_api api = {
		.api = UFFD_API, .features = UFFD_FEATURE_EVENT_FORK,
	};
	const char *fork_name = UFFD_FEATURE_NAME(UFFD_FEATURE_EVENT_FORK);
	int fd, ret;

	if (!(p->features & UFFD_FEATURE_EVENT_FORK)) {
		verdict_set(&p->fork_allowed, TRI_NO, 0, "no_feature",
			    "the kernel does not offer %s", fork_name);
		return;
	}
	/* A handshake is once per fd: use a throwaway one. */
	fd = uffd_create_node(p->work_path, p->dev_node,
			      O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		verdict_set(&p->fork_allowed, TRI_UNKNOWN, -fd, "error",
			    "second fd for the %s handshake: %s", fork_name,
			    strerror(-fd));
		return;
	}
	ret = uffd_api(fd, &api);
	close(fd);
	if (!ret)
		verdict_set(&p->fork_allowed, TRI_YES, 0, "ok",
			    "UFFDIO_API accepted %s", fork_name);
	else if (ret == -EPERM)
		verdict_set(&p->fork_allowed, TRI_NO, EPERM, "no_cap_sys_ptrace",
			    "%s needs CAP_SYS_PTRACE (this process: %s)",
			    fork_name, tri_name(p->cap_ptrace));
	else
		verdict_set(&p->fork_allowed, TRI_NO, -ret, "error",
			    "UFFDIO_API with %s: %s", fork_name,
			    strerror(-ret));
}

void probe_api(struct probe *p)
{
	struct uffdio_api api = { .api = UFFD_API, .features = 0 };
	int ret;

	if (p->work_fd < 0) {
		verdict_set(&p->api_v, TRI_UNKNOWN, p->access[0].err, "no_fd",
			    "no creation path works (%s)",
			    p->access[0].reason);
		verdict_set(&p->fork_allowed, TRI_UNKNOWN, 0, "no_fd",
			    "no userfaultfd can be created");
		return;
	}
	ret = uffd_api(p->work_fd, &api);
	if (ret) {
		verdict_set(&p->api_v, TRI_NO, -ret, "error",
			    "UFFDIO_API (api 0x%x) failed: %s", (unsigned int)UFFD_API,
			    strerror(-ret));
		close(p->work_fd);
		p->work_fd = -1;
		verdict_set(&p->fork_allowed, TRI_UNKNOWN, 0, "no_api",
			    "the API handshake failed");
		return;
	}
	p->api = api.api;
	p->features = api.features;
	p->ioctls = api.ioctls;
	verdict_set(&p->api_v, TRI_YES, 0, "ok", "handshake on a %s fd",
		    uffd_path_name(p->work_path));
	probe_fork(p);
}
