// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-probe: the UFFDIO_API handshake (version, features, ioctls) and
 * whether this process may request EVENT_FORK (CAP_SYS_PTRACE since 5.5).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "probe.h"

/* A fresh fd through the same path as the working fd. */
static int create_like_work(const struct probe *p)
{
	int dev, fd;

	if (p->work_path != UFFD_PATH_DEV)
		return uffd_create(p->work_path, O_NONBLOCK);
	dev = open(p->dev_node, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -errno;
	fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
	fd = fd < 0 ? -errno : fd;
	close(dev);
	return fd;
}

static void probe_fork(struct probe *p)
{
	struct uffdio_api api = {
		.api = UFFD_API, .features = UFFD_FEATURE_EVENT_FORK,
	};
	int fd, ret;

	if (!(p->features & UFFD_FEATURE_EVENT_FORK)) {
		verdict_set(&p->fork_allowed, TRI_NO, 0, "no_feature",
			    "the kernel does not offer EVENT_FORK");
		return;
	}
	/* A handshake is once per fd: use a throwaway one. */
	fd = create_like_work(p);
	if (fd < 0) {
		verdict_set(&p->fork_allowed, TRI_UNKNOWN, -fd, "error",
			    "second fd for the EVENT_FORK handshake: %s",
			    strerror(-fd));
		return;
	}
	ret = uffd_api(fd, &api);
	close(fd);
	if (!ret)
		verdict_set(&p->fork_allowed, TRI_YES, 0, "ok",
			    "UFFDIO_API accepted EVENT_FORK");
	else if (ret == -EPERM)
		verdict_set(&p->fork_allowed, TRI_NO, EPERM, "no_cap_sys_ptrace",
			    "EVENT_FORK needs CAP_SYS_PTRACE (this process: %s)",
			    tri_name(p->cap_ptrace));
	else
		verdict_set(&p->fork_allowed, TRI_NO, -ret, "error",
			    "UFFDIO_API with EVENT_FORK: %s", strerror(-ret));
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
