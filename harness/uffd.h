/* SPDX-License-Identifier: GPL-2.0 */
/*
 * faultline harness: userfaultfd creation, handshake and thin ioctl
 * wrappers. Every wrapper returns 0 or -errno and leaves the kernel's
 * output field (.copy, .zeropage, .mapped, .move, .updated, .ioctls) in the
 * caller's struct, so a case can check errno and output separately.
 */
#ifndef FAULTLINE_UFFD_H
#define FAULTLINE_UFFD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "uffd_compat.h"
#include "domain.h"

/* Raw syscall; returns the fd or -errno. */
int uffd_syscall(int flags);
/*
 * Open @node (NULL: /dev/userfaultfd) and ask it for a uffd with @flags;
 * fd or -errno. @step (if not NULL) names the step that failed: "open"
 * (the node) or "ioctl" (USERFAULTFD_IOC_NEW).
 */
int uffd_dev_open(const char *node, int flags, const char **step);
/* Create through @path with O_CLOEXEC | @flags; fd or -errno. */
int uffd_create(enum uffd_path path, int flags);
/* The same with exactly @flags (for tests of the flags themselves). */
int uffd_create_exact(enum uffd_path path, int flags);
/* uffd_create_exact() with @node as the device (NULL: /dev/userfaultfd). */
int uffd_create_node(enum uffd_path path, const char *node, int flags);
/* Create through the first path that works (syscall, dev, user-mode-only). */
int uffd_create_any(int flags, enum uffd_path *used);

/* UFFDIO_API handshake; @api is in/out. 0 or -errno. */
int uffd_api(int fd, struct uffdio_api *api);
/* Create + handshake requesting @features; fills @out if not NULL. */
int uffd_open(uint64_t features, struct uffdio_api *out);
/* Features and ioctls the kernel offers (throwaway fd). 0 or -errno. */
int uffd_query(uint64_t *features, uint64_t *ioctls);

/* Thin ioctl wrappers: 0 or -errno, output fields kept in the struct. */
int uffd_register(int fd, struct uffdio_register *reg);
int uffd_unregister(int fd, struct uffdio_range *range);
int uffd_wake(int fd, struct uffdio_range *range);
int uffd_copy(int fd, struct uffdio_copy *copy);
int uffd_zeropage(int fd, struct uffdio_zeropage *zp);
int uffd_writeprotect(int fd, struct uffdio_writeprotect *wp);
int uffd_continue(int fd, struct uffdio_continue *cont);
int uffd_poison(int fd, struct uffdio_poison *poison);
int uffd_move(int fd, struct uffdio_move *move);

/*
 * The range ioctl @ioctl (_UFFDIO_COPY, _ZEROPAGE, _CONTINUE, _POISON or
 * _MOVE) over [@dst, @dst+@len) (from @src for COPY and MOVE) in @mode.
 * The output field starts as *@out (0, or a sentinel that shows whether
 * the kernel wrote it) and ends up in *@out. 0 or -errno (-EINVAL for
 * another @ioctl).
 */
int uffd_range_ioctl(unsigned int ioctl, int fd, void *dst, const void *src,
		     size_t len, uint64_t mode, int64_t *out);

/* Convenience forms for the common argument shapes. */
int uffd_register_range(int fd, void *addr, size_t len, uint64_t mode,
			uint64_t *ioctls);
int uffd_unregister_range(int fd, void *addr, size_t len);
int uffd_wake_range(int fd, void *addr, size_t len);
int uffd_wp_range(int fd, void *addr, size_t len, bool protect);

/*
 * Resume-after-partial helpers. A COPY/ZEROPAGE/CONTINUE that stops early
 * reports how many bytes it did in the output field and fails (usually
 * EAGAIN); resume from there until the whole range is done, the kernel makes
 * no progress, or a real error occurs. *@done gets the total bytes done.
 * Every answer's output field is checked against its errno: a success
 * must report exactly the bytes asked for, a failure -errno (or leave the
 * field alone) or, with EAGAIN, the bytes done. A contradiction prints a
 * "# " line and returns -EPROTO. Returns 0 or the -errno that stopped
 * progress.
 */
int uffd_copy_all(int fd, void *dst, const void *src, size_t len,
		  uint64_t mode, size_t *done);
int uffd_zeropage_all(int fd, void *dst, size_t len, uint64_t mode,
		      size_t *done);
int uffd_continue_all(int fd, void *dst, size_t len, uint64_t mode,
		      size_t *done);

/* Read one message; 0, -EAGAIN when none is queued, or -errno. */
int uffd_read_msg(int fd, struct uffd_msg *msg);
/* Wait up to @timeout_ms for a message; 0, -ETIMEDOUT or -errno. */
int uffd_wait_msg(int fd, struct uffd_msg *msg, int timeout_ms);

#endif /* FAULTLINE_UFFD_H */
