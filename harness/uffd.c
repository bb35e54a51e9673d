// SPDX-License-Identifier: GPL-2.0
/* faultline harness: userfaultfd creation, handshake and ioctl wrappers. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "uffd.h"

#ifndef __NR_userfaultfd
#define __NR_userfaultfd 323
#endif

int uffd_syscall(int flags)
{
	long fd = syscall(__NR_userfaultfd, flags);

	return fd < 0 ? -errno : (int)fd;
}

int uffd_dev_open(const char *node, int flags, const char **step)
{
	int dev, fd;

	if (step)
		*step = "open";
	dev = open(node ? node : "/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -errno;
	if (step)
		*step = "ioctl";
	fd = ioctl(dev, USERFAULTFD_IOC_NEW, flags);
	if (fd < 0)
		fd = -errno;
	close(dev);
	return fd;
}

int uffd_create_node(enum uffd_path path, const char *node, int flags)
{
	switch (path) {
	case UFFD_PATH_SYSCALL:
		return uffd_syscall(flags);
	case UFFD_PATH_SYSCALL_USER_ONLY:
		return uffd_syscall(flags | UFFD_USER_MODE_ONLY);
	case UFFD_PATH_DEV:
		return uffd_dev_open(node, flags, NULL);
	default:
		return -EINVAL;
	}
}

int uffd_create_exact(enum uffd_path path, int flags)
{
	return uffd_create_node(path, NULL, flags);
}

int uffd_create(enum uffd_path path, int flags)
{
	return uffd_create_exact(path, flags | O_CLOEXEC);
}

int uffd_create_any(int flags, enum uffd_path *used)
{
	/* Prefer fds that can resolve kernel-mode faults. */
	static const enum uffd_path order[] = {
		UFFD_PATH_SYSCALL, UFFD_PATH_DEV, UFFD_PATH_SYSCALL_USER_ONLY,
	};
	int fd = -ENOSYS;
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		fd = uffd_create(order[i], flags);
		if (fd >= 0) {
			if (used)
				*used = order[i];
			return fd;
		}
	}
	return fd;
}

static int xioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

int uffd_api(int fd, struct uffdio_api *api)
{
	return xioctl(fd, UFFDIO_API, api);
}

int uffd_open(uint64_t features, struct uffdio_api *out)
{
	struct uffdio_api api = { .api = UFFD_API, .features = features };
	int fd, ret;

	fd = uffd_create_any(O_NONBLOCK, NULL);
	if (fd < 0)
		return fd;
	ret = uffd_api(fd, &api);
	if (ret) {
		close(fd);
		return ret;
	}
	if (out)
		*out = api;
	return fd;
}

int uffd_query(uint64_t *features, uint64_t *ioctls)
{
	struct uffdio_api api;
	int fd = uffd_open(0, &api);

	if (fd < 0)
		return fd;
	close(fd);
	if (features)
		*features = api.features;
	if (ioctls)
		*ioctls = api.ioctls;
	return 0;
}

/* The thin wrappers (uffd.h): one ioctl, 0 or -errno, @arg keeps the rest. */
#define UFFD_IOCTL_WRAPPER(name, req, type)				\
	int uffd_##name(int fd, type *arg)				\
	{								\
		return xioctl(fd, req, arg);				\
	}

UFFD_IOCTL_WRAPPER(register, UFFDIO_REGISTER, struct uffdio_register)
UFFD_IOCTL_WRAPPER(unregister, UFFDIO_UNREGISTER, struct uffdio_range)
UFFD_IOCTL_WRAPPER(wake, UFFDIO_WAKE, struct uffdio_range)
UFFD_IOCTL_WRAPPER(copy, UFFDIO_COPY, struct uffdio_copy)
UFFD_IOCTL_WRAPPER(zeropage, UFFDIO_ZEROPAGE, struct uffdio_zeropage)
UFFD_IOCTL_WRAPPER(writeprotect, UFFDIO_WRITEPROTECT,
		   struct uffdio_writeprotect)
UFFD_IOCTL_WRAPPER(continue, UFFDIO_CONTINUE, struct uffdio_continue)
UFFD_IOCTL_WRAPPER(poison, UFFDIO_POISON, struct uffdio_poison)
UFFD_IOCTL_WRAPPER(move, UFFDIO_MOVE, struct uffdio_move)

int uffd_register_range(int fd, void *addr, size_t len, uint64_t mode,
			uint64_t *ioctls)
{
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)addr, .len = len },
		.mode = mode,
	};
	int ret = uffd_register(fd, &reg);

	if (!ret && ioctls)
		*ioctls = reg.ioctls;
	return ret;
}

int uffd_unregister_range(int fd, void *addr, size_t len)
{
	struct uffdio_range r = { .start = (uintptr_t)addr, .len = len };

	return uffd_unregister(fd, &r);
}

int uffd_wake_range(int fd, void *addr, size_t len)
{
	struct uffdio_range r = { .start = (uintptr_t)addr, .len = len };

	return uffd_wake(fd, &r);
}

int uffd_wp_range(int fd, void *addr, size_t len, bool protect)
{
	struct uffdio_writeprotect wp = {
		.range = { .start = (uintptr_t)addr, .len = len },
		.mode = protect ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	return uffd_writeprotect(fd, &wp);
}

/*
 * The range ioctls take one of two argument layouts, each ending with the
 * output field: (dst, src, len, mode, out) for COPY and MOVE, (start, len,
 * mode, out) for the others. The asserts pin the UAPI structs to them.
 */
struct arg_from_src {
	__u64 dst, src, len, mode;
	__s64 out;
};

struct arg_in_place {
	__u64 start, len, mode;
	__s64 out;
};

_Static_assert(offsetof(struct uffdio_copy, copy) ==
	       offsetof(struct arg_from_src, out), "uffdio_copy layout");
_Static_assert(offsetof(struct uffdio_move, move) ==
	       offsetof(struct arg_from_src, out), "uffdio_move layout");
_Static_assert(offsetof(struct uffdio_zeropage, zeropage) ==
	       offsetof(struct arg_in_place, out), "uffdio_zeropage layout");
_Static_assert(offsetof(struct uffdio_continue, mapped) ==
	       offsetof(struct arg_in_place, out), "uffdio_continue layout");
_Static_assert(offsetof(struct uffdio_poison, updated) ==
	       offsetof(struct arg_in_place, out), "uffdio_poison layout");

static const struct {
	unsigned int nr;	/* the ioctl bit, _UFFDIO_* */
	unsigned long req;	/* the request, UFFDIO_* */
	bool from_src;		/* struct arg_from_src, else arg_in_place */
} range_ioctls[] = {
	{ _UFFDIO_COPY, UFFDIO_COPY, true },
	{ _UFFDIO_ZEROPAGE, UFFDIO_ZEROPAGE, false },
	{ _UFFDIO_MOVE, UFFDIO_MOVE, true },
	{ _UFFDIO_CONTINUE, UFFDIO_CONTINUE, false },
	{ _UFFDIO_POISON, UFFDIO_POISON, false },
};

int uffd_range_ioctl(unsigned int ioctl, int fd, void *dst, const void *src,
		     size_t len, uint64_t mode, int64_t *out)
{
	struct arg_from_src a = { (uintptr_t)dst, (uintptr_t)src, len, mode,
				  *out };
	struct arg_in_place b = { (uintptr_t)dst, len, mode, *out };
	size_t i;
	int ret;

	for (i = 0; i < sizeof(range_ioctls) / sizeof(range_ioctls[0]); i++) {
		if (range_ioctls[i].nr != ioctl)
			continue;
		if (range_ioctls[i].from_src) {
			ret = xioctl(fd, range_ioctls[i].req, &a);
			*out = a.out;
		} else {
			ret = xioctl(fd, range_ioctls[i].req, &b);
			*out = b.out;
		}
		return ret;
	}
	return -EINVAL;
}

/*
 * What an answer of a range ioctl says about the bytes done, judged with
 * its output field (@out; RESUME_UNWRITTEN when the kernel left it):
 * -1 when field and errno contradict each other (a success that claims
 * other than @want bytes; a failure that claims 0, @want or more, or a
 * byte count with another errno than EAGAIN), else the bytes done.
 */
#define RESUME_UNWRITTEN INT64_MIN

static int64_t bytes_done(int ret, int64_t out, size_t want)
{
	if (!ret)
		return out == (int64_t)want ? out : -1;
	/* A refusal: -errno in the field, or (early refusals) untouched. */
	if (out == ret || out == RESUME_UNWRITTEN)
		return 0;
	/* Partial progress comes with EAGAIN, never 0 bytes, never all. */
	if (ret == -EAGAIN && out > 0 && out < (int64_t)want)
		return out;
	return -1;
}

/*
 * The kernel reports bytes done (> 0) in the output field even when it
 * then fails, so progress decides whether to go on, not the errno. The
 * field is checked on every answer, success included: a helper that
 * counted a success as "all done" whatever the field says would let a
 * caller compare a length with itself.
 */
static int resume_loop(unsigned int ioctl, int fd, char *dst, const char *src,
		       size_t len, uint64_t mode, size_t *done)
{
	size_t total = 0;
	int ret = 0;

	while (total < len) {
		size_t want = len - total;
		int64_t out = RESUME_UNWRITTEN, progress;

		ret = uffd_range_ioctl(ioctl, fd, dst + total,
				       src ? src + total : NULL, want, mode,
				       &out);
		progress = bytes_done(ret, out, want);
		if (progress < 0) {
			printf("# UFFDIO_%s of %zu bytes answered %s with output field %lld: contradictory\n",
			       uffd_ioctl_name(ioctl), want,
			       ret ? strerror(-ret) : "success",
			       (long long)out);
			fflush(stdout);
			ret = -EPROTO;
			break;
		}
		total += (size_t)progress;
		if (!ret || progress > 0)
			continue;
		break;
	}
	if (done)
		*done = total;
	return total == len ? 0 : ret;
}

int uffd_copy_all(int fd, void *dst, const void *src, size_t len,
		  uint64_t mode, size_t *done)
{
	return resume_loop(_UFFDIO_COPY, fd, dst, src, len, mode, done);
}

int uffd_zeropage_all(int fd, void *dst, size_t len, uint64_t mode,
		      size_t *done)
{
	return resume_loop(_UFFDIO_ZEROPAGE, fd, dst, NULL, len, mode, done);
}

int uffd_continue_all(int fd, void *dst, size_t len, uint64_t mode,
		      size_t *done)
{
	return resume_loop(_UFFDIO_CONTINUE, fd, dst, NULL, len, mode, done);
}

int uffd_read_msg(int fd, struct uffd_msg *msg)
{
	ssize_t n = read(fd, msg, sizeof(*msg));

	if (n < 0)
		return -errno;
	return n == sizeof(*msg) ? 0 : -EIO;
}

int uffd_wait_msg(int fd, struct uffd_msg *msg, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int ret;

	for (;;) {
		ret = poll(&pfd, 1, timeout_ms);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0)
			return -errno;
		if (ret == 0)
			return -ETIMEDOUT;
		ret = uffd_read_msg(fd, msg);
		/* A blocking fd's message may be taken by another reader. */
		if (ret == -EAGAIN)
			continue;
		return ret;
	}
}
