// SPDX-License-Identifier: GPL-2.0
/* faultline harness: long-term page pins through io_uring fixed buffers. */
#include <errno.h>
#include <linux/io_uring.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "pin.h"

int pin_range(void *addr, size_t len, char *why, size_t whylen)
{
	struct io_uring_params p;
	struct iovec iov = { .iov_base = addr, .iov_len = len };
	int fd, err;

	/* The ring is never used for I/O: it only owns the pinned buffer. */
	memset(&p, 0, sizeof(p));
	fd = (int)syscall(__NR_io_uring_setup, 1, &p);
	if (fd < 0) {
		err = errno;
		snprintf(why, whylen, "io_uring_setup: %s (needed to pin pages)",
			 strerror(err));
		return -err;
	}
	if (syscall(__NR_io_uring_register, fd, IORING_REGISTER_BUFFERS,
		    &iov, 1)) {
		err = errno;
		snprintf(why, whylen,
			 "io_uring buffer registration could not pin the pages: %s",
			 strerror(err));
		close(fd);
		return -err;
	}
	return fd;
}

void unpin_range(int handle)
{
	if (handle < 0)
		return;
	/*
	 * Unregistering drops the pins now on kernels that free an idle
	 * buffer table at once; tearing the ring down releases them too,
	 * but from a work item, a little later.
	 */
	syscall(__NR_io_uring_register, handle, IORING_UNREGISTER_BUFFERS,
		NULL, 0);
	close(handle);
}
