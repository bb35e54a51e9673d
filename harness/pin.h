/* SPDX-License-Identifier: GPL-2.0 */
/*
 * faultline harness: long-term pin of user pages, the way a DMA user holds
 * them (io_uring fixed buffers, FOLL_LONGTERM). fork() treats a pinned
 * private page specially (early COW), which uffd-wp must survive.
 */
#ifndef FAULTLINE_PIN_H
#define FAULTLINE_PIN_H

#include <stddef.h>

/*
 * Pin [addr, addr+len). Returns a handle (>= 0) to pass to unpin_range(),
 * or -errno: ENOSYS/EPERM when io_uring is unavailable, what the kernel's
 * pin refused with otherwise. @why gets a human reason on failure.
 */
int pin_range(void *addr, size_t len, char *why, size_t whylen);
void unpin_range(int handle);

#endif /* FAULTLINE_PIN_H */
